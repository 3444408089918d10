// Resumable checkpoints. A checkpoint is a directory `checkpoints/step-<N>/` holding `state.json`
// (step, epoch, position in the data order, RNG states, the fp16 loss scaler's state, the config) and
// `tensors.safetensors` (trainable values, AdamW moments, mask indices). It is written under a temporary
// name, fsynced and renamed into place, so a directory named step-<N> is always complete: a kill
// mid-write leaves only a `.tmp-*` directory that readers ignore and the next write removes.
// The tensor file uses the safetensors layout (u64 header length, JSON header, raw little-endian bytes)
// so checkpoints can be inspected with ordinary tools.
import {
  mkdirSync,
  openSync,
  closeSync,
  renameSync,
  readdirSync,
  rmSync,
  readFileSync,
  existsSync,
  fstatSync,
  readSync,
} from "node:fs";
import { join } from "node:path";
import { syncFolder, writeChunks } from "../util/files";
import type { PrngState } from "../util/rng";
import type { LossScalerState } from "../engine/index";

/** A checkpoint that cannot be used (unreadable, truncated, not what the trainer wrote), naming the file. */
export class CheckpointError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = "CheckpointError";
  }
}

export type CkptArray = Float32Array | Float64Array | Int32Array;

export interface CkptTensor {
  shape: number[];
  data: CkptArray;
}

export interface CheckpointState {
  version: 1;
  /** Optimizer steps completed. */
  step: number;
  /** 0-based epoch the next batch belongs to, and the index of that batch within the epoch. */
  epoch: number;
  batchInEpoch: number;
  /** Example order of the current epoch (indices into the training examples). */
  dataOrder: number[];
  rng: Record<string, PrngState>;
  /** Seconds of training and tokens processed so far, so that throughput and the summary continue. */
  trainSeconds: number;
  tokens: number;
  /** Anything else the trainer needs to restore (e.g. perturbation choices of a fixed schedule). */
  extra: Record<string, unknown>;
  /**
   * Mixed precision with loss scaling (fp16): the dynamic loss scaler's state after `step`. Absent in
   * fp32 runs and in checkpoints written before it was kept (those resume at the initial scale).
   */
  lossScaler?: LossScalerState;
}

const DTYPES: Record<
  string,
  { name: string; ctor: Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor }
> = {
  Float32Array: { name: "F32", ctor: Float32Array },
  Float64Array: { name: "F64", ctor: Float64Array },
  Int32Array: { name: "I32", ctor: Int32Array },
};
const BY_ST_NAME = new Map(Object.values(DTYPES).map((d) => [d.name, d.ctor]));

export function encodeSafetensors(tensors: Map<string, CkptTensor>): Buffer[] {
  const header: Record<string, unknown> = {};
  let offset = 0;
  const names = [...tensors.keys()].sort();
  for (const name of names) {
    const t = tensors.get(name)!;
    const d = DTYPES[t.data.constructor.name];
    if (!d) throw new Error(`checkpoint tensor ${name}: unsupported array type ${t.data.constructor.name}`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new Error(`checkpoint tensor ${name}: shape [${t.shape}] holds ${n} values, data has ${t.data.length}`);
    header[name] = { dtype: d.name, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header so tensor data starts 8-byte aligned (safetensors allows trailing spaces).
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return [
    len,
    Buffer.from(json),
    ...names.map((n) => {
      const d = tensors.get(n)!.data;
      return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    }),
  ];
}

/**
 * Reads a checkpoint's tensor file by ranges: the header, then each tensor straight into its own typed
 * array (a full fine-tune of a 0.5B model writes 5.9 GB of values and moments; Node cannot read a file
 * over 2 GiB in one call, and one buffer would double the memory).
 */
export function readSafetensorsFile(file: string): Map<string, CkptTensor> {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    throw new CheckpointError(
      `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      file,
    );
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 8) throw new CheckpointError(`${file}: truncated (no header length)`, file);
    const lenBuf = Buffer.alloc(8);
    readRange(fd, lenBuf, 0, file);
    const hlen = Number(lenBuf.readBigUInt64LE(0));
    if (8 + hlen > size) throw new CheckpointError(`${file}: header length ${hlen} exceeds file size ${size}`, file);
    const hbuf = Buffer.alloc(hlen);
    readRange(fd, hbuf, 8, file);
    let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    try {
      header = JSON.parse(hbuf.toString("utf8"));
    } catch (e) {
      throw new CheckpointError(`${file}: header is not JSON (${(e as Error).message})`, file);
    }
    const base = 8 + hlen;
    const out = new Map<string, CkptTensor>();
    for (const [name, h] of Object.entries(header)) {
      if (name === "__metadata__") continue;
      if (typeof h !== "object" || h === null)
        throw new CheckpointError(`${file}: header entry for ${name} is not an object`, file);
      const ctor = BY_ST_NAME.get(h.dtype);
      if (!ctor)
        throw new CheckpointError(
          `${file}: tensor ${name} has dtype ${h.dtype}; checkpoints hold F32, F64 or I32`,
          file,
        );
      const [a, b] = Array.isArray(h.data_offsets) ? h.data_offsets : [NaN, NaN];
      const n = Array.isArray(h.shape) ? h.shape.reduce((x, y) => x * y, 1) : NaN;
      if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b - a !== n * ctor.BYTES_PER_ELEMENT) {
        throw new CheckpointError(
          `${file}: tensor ${name}: data_offsets ${JSON.stringify(h.data_offsets)} do not hold shape ${JSON.stringify(h.shape)} of ${h.dtype}`,
          file,
        );
      }
      if (base + b > size)
        throw new CheckpointError(
          `${file}: tensor ${name} runs past the end of the file (truncated: ${size} bytes, needs ${base + b})`,
          file,
        );
      const data = new ctor(n);
      readRange(fd, new Uint8Array(data.buffer), base + a, file);
      out.set(name, { shape: h.shape, data });
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Fills `into` from `position` on, in reads of at most 1 GiB (a single read is capped near 2 GiB). */
function readRange(fd: number, into: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < into.byteLength) {
    const n = readSync(fd, into, done, Math.min(into.byteLength - done, 2 ** 30), position + done);
    if (n === 0) throw new CheckpointError(`${file}: truncated at byte ${position + done}`, file);
    done += n;
  }
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(7, "0")}`;
}

/** Writes checkpoint `step` under `dir` atomically and prunes all but the newest `keep`. Returns its path. */
export function writeCheckpoint(
  dir: string,
  state: CheckpointState,
  tensors: Map<string, CkptTensor>,
  keep: number,
): string {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir))
    if (name.startsWith(".tmp-")) rmSync(join(dir, name), { recursive: true, force: true });
  const final = join(dir, checkpointName(state.step));
  const tmp = join(dir, `.tmp-${checkpointName(state.step)}-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  writeChunks(join(tmp, "tensors.safetensors"), encodeSafetensors(tensors));
  writeChunks(join(tmp, "state.json"), [JSON.stringify(state)]);
  if (existsSync(final)) rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  syncFolder(dir);
  const all = listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep)))
    rmSync(join(dir, checkpointName(old)), { recursive: true, force: true });
  return final;
}

/** Completed checkpoint steps under `dir`, ascending. */
export function listCheckpoints(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((n) => /^step-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/**
 * Reads and checks a checkpoint directory. Every way it can be unusable (missing or unreadable file,
 * state.json that is not the trainer's, a truncated tensor file) is a CheckpointError naming the file.
 */
export function readCheckpoint(path: string): { state: CheckpointState; tensors: Map<string, CkptTensor> } {
  const statePath = join(path, "state.json");
  if (!existsSync(statePath)) throw new CheckpointError(`${path}: not a checkpoint (no state.json)`, statePath);
  let state: CheckpointState;
  try {
    state = JSON.parse(readFileSync(statePath, "utf8"));
  } catch (e) {
    throw new CheckpointError(`${statePath}: not valid JSON (${(e as Error).message})`, statePath);
  }
  const bad = stateProblem(state, path);
  if (bad) throw new CheckpointError(`${statePath}: ${bad}`, statePath);
  return { state, tensors: readSafetensorsFile(join(path, "tensors.safetensors")) };
}

/** What is wrong with a parsed state.json, if anything (the fields the trainer restores from). */
function stateProblem(s: unknown, dir: string): string | undefined {
  if (typeof s !== "object" || s === null || Array.isArray(s)) return "expected a JSON object";
  const st = s as Record<string, unknown>;
  if (st.version !== 1) return `unsupported checkpoint version ${JSON.stringify(st.version)}`;
  for (const k of ["step", "epoch", "batchInEpoch", "tokens"] as const) {
    if (!Number.isInteger(st[k]) || (st[k] as number) < 0)
      return `"${k}" must be a non-negative integer, got ${JSON.stringify(st[k])}`;
  }
  if (typeof st.trainSeconds !== "number") return `"trainSeconds" must be a number`;
  if (!Array.isArray(st.dataOrder) || !st.dataOrder.every((i) => Number.isInteger(i) && i >= 0))
    return `"dataOrder" must be an array of example indices`;
  if (typeof st.rng !== "object" || st.rng === null) return `"rng" must be an object of generator states`;
  if (typeof st.extra !== "object" || st.extra === null) return `"extra" must be an object`;
  if (st.lossScaler !== undefined) {
    const ls = st.lossScaler as Record<string, unknown> | null;
    if (
      typeof ls !== "object" ||
      ls === null ||
      typeof ls.scale !== "number" ||
      !(Number.isFinite(ls.scale) && ls.scale > 0) ||
      !Number.isInteger(ls.goodSteps) ||
      (ls.goodSteps as number) < 0
    )
      return `"lossScaler" must be {"scale": a positive number, "goodSteps": a non-negative integer}, got ${JSON.stringify(st.lossScaler)}`;
  }
  const m = /step-(\d+)$/.exec(dir);
  if (m && Number(m[1]) !== st.step) return `"step" is ${st.step} but the directory is ${checkpointName(Number(m[1]))}`;
  return undefined;
}
