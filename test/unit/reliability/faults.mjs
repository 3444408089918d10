// Fault injection for the reliability suite's training cases, preloaded into a child `seat` process with
// `--import`. It wraps the fs calls the trainer's checkpoint writer makes (the transpiled sources call
// them through the fs module object, so replacing the properties reaches them) and, when the write of
// checkpoint step N begins, does one of (SEAT_FAULT=<mode>:<N>):
//   kill-mid-checkpoint  writes half of tensors.safetensors, then SIGKILLs its own process (a real
//                        kill -9 in the middle of the write)
//   disk-full            writes half, then that write and every later write, append or mkdir under
//                        the run folder fails with ENOSPC (a disk that filled up, and stays full)
//   read-only-after      after checkpoint N is complete, chmods checkpoints/ to 0555 (the child runs
//                        as an unprivileged user, so the next checkpoint write gets a real EACCES)
// Test-only: nothing in the product loads this file.
// The default export of node:fs is the mutable module object the transpiled (CommonJS) sources use.
import fs from "node:fs";
import path from "node:path";
import { syncBuiltinESMExports } from "node:module";

const spec = process.env.SEAT_FAULT || "";
const [mode, stepText] = spec.split(":");
const step = Number(stepText);
const tag = `step-${String(step).padStart(7, "0")}`;
const fdPath = new Map();
let full = false;
let fullRoot = "";

function enospc(syscall, p) {
  const e = new Error(`ENOSPC: no space left on device, ${syscall}${p ? ` '${p}'` : ""}`);
  return Object.assign(e, { code: "ENOSPC", errno: -28, syscall, ...(p ? { path: p } : {}) });
}

const isTarget = (p) => typeof p === "string" && p.includes(`.tmp-${tag}-`) && p.endsWith("tensors.safetensors");
const underFull = (p) => full && typeof p === "string" && path.resolve(p).startsWith(fullRoot);

const orig = {
  openSync: fs.openSync,
  closeSync: fs.closeSync,
  writeSync: fs.writeSync,
  appendFileSync: fs.appendFileSync,
  writeFileSync: fs.writeFileSync,
  mkdirSync: fs.mkdirSync,
  renameSync: fs.renameSync,
};

fs.openSync = function (p, ...rest) {
  const fd = orig.openSync.call(this, p, ...rest);
  if (typeof p === "string") fdPath.set(fd, p);
  return fd;
};
fs.closeSync = function (fd) {
  fdPath.delete(fd);
  return orig.closeSync.call(this, fd);
};
fs.writeSync = function (fd, buf, off, len, ...rest) {
  const p = fdPath.get(fd);
  if (underFull(p)) throw enospc("write");
  if (
    isTarget(p) &&
    Buffer.isBuffer(buf) &&
    buf.length > 64 &&
    (mode === "kill-mid-checkpoint" || mode === "disk-full")
  ) {
    const half = Math.floor((len ?? buf.length - (off ?? 0)) / 2);
    orig.writeSync.call(this, fd, buf, off ?? 0, half);
    fs.fsyncSync(fd);
    if (mode === "kill-mid-checkpoint") process.kill(process.pid, "SIGKILL");
    full = true;
    fullRoot = path.resolve(p, "../../..");
    throw enospc("write");
  }
  return orig.writeSync.call(this, fd, buf, off, len, ...rest);
};
fs.appendFileSync = function (p, ...rest) {
  if (underFull(p)) throw enospc("write");
  return orig.appendFileSync.call(this, p, ...rest);
};
fs.writeFileSync = function (p, ...rest) {
  if (underFull(p)) throw enospc("write");
  return orig.writeFileSync.call(this, p, ...rest);
};
fs.mkdirSync = function (p, ...rest) {
  if (underFull(p) && !fs.existsSync(p)) throw enospc("mkdir", p);
  return orig.mkdirSync.call(this, p, ...rest);
};
fs.renameSync = function (from, to) {
  const r = orig.renameSync.call(this, from, to);
  if (mode === "read-only-after" && typeof to === "string" && path.basename(to) === tag)
    fs.chmodSync(path.dirname(to), 0o555);
  return r;
};
syncBuiltinESMExports();
