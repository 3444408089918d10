// Extension activation time: loads the built bundle (dist/extension.js) in a fresh Node process with a
// permissive stand-in for the `vscode` module and times require() + activate(). This measures our own
// start-up work (module evaluation, registrations, anything activate() does eagerly); the editor's own
// extension-host overhead is not included, which the README states next to the figure.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runJsonChild, median } from "./stats";

/** The child script: everything inline so it runs with plain `node -e`. */
const CHILD = String.raw`
const Module = require("module");
const nodePath = require("path");
const bundle = process.argv[1];
const root = nodePath.dirname(nodePath.dirname(bundle));
// What an editor window with no folder open answers; everything else is a permissive stub.
const uri = (p) => ({ scheme: "file", fsPath: p, path: p, toString: () => "file://" + p, with: () => uri(p) });
const memento = () => { const m = new Map(); return { get: (k, d) => (m.has(k) ? m.get(k) : d), update: async (k, v) => { m.set(k, v); }, keys: () => [...m.keys()], setKeysForSync() {} }; };
const SPECIAL = new Map([
  ["vscode.workspace.workspaceFolders", undefined],
  ["vscode.workspace.isTrusted", true],
  ["vscode.workspace.getConfiguration", () => ({ get: (_k, d) => d, has: () => false, inspect: () => undefined, update: async () => {} })],
  ["vscode.Uri.file", uri],
  ["vscode.Uri.joinPath", (u, ...ps) => uri(nodePath.join(u.fsPath, ...ps))],
  ["vscode.env.language", "en"],
  ["context.subscriptions", []],
  ["context.extensionUri", uri(root)],
  ["context.extensionPath", root],
  ["context.globalStorageUri", uri(nodePath.join(require("os").tmpdir(), "seat-bench-activation"))],
  ["context.storageUri", undefined],
  ["context.workspaceState", memento()],
  ["context.globalState", memento()],
  ["context.asAbsolutePath", (p) => nodePath.join(root, p)],
  ["context.extensionMode", 1],
]);
function stub(name) {
  const fn = function () { return stub(name + "()"); };
  const assigned = new Map();
  return new Proxy(fn, {
    set(_t, key, value) { assigned.set(key, value); return true; },
    defineProperty(_t, key, d) { assigned.set(key, d.value); return true; },
    get(_t, key) {
      if (assigned.has(key)) return assigned.get(key);
      const child = name + "." + String(key);
      if (SPECIAL.has(child)) return SPECIAL.get(child);
      if (key === Symbol.iterator) return function* () {};
      if (key === Symbol.toPrimitive) return () => "";
      if (key === "then") return undefined;
      if (key === "length") return 0;
      return stub(child);
    },
    construct() { return stub("new " + name); },
    apply() { return stub(name + "()"); },
  });
}
// esbuild's ESM interop copies the module's own enumerable keys, so the module itself must be a plain
// object holding every name the bundle reads from it.
const source = require("fs").readFileSync(bundle, "utf8");
const vscode = {};
for (const m of source.matchAll(/\bvscode\d*\.([A-Za-z_$][\w$]*)/g)) vscode[m[1]] = stub("vscode." + m[1]);
const load = Module._load;
Module._load = function (request, ...rest) { return request === "vscode" ? vscode : load.call(this, request, ...rest); };
const t0 = process.hrtime.bigint();
const ext = require(bundle);
const t1 = process.hrtime.bigint();
const context = stub("context");
Promise.resolve(ext.activate(context)).then(() => {
  const t2 = process.hrtime.bigint();
  console.log(JSON.stringify({ requireMs: Number(t1 - t0) / 1e6, activateMs: Number(t2 - t1) / 1e6 }));
  process.exit(0);
}, (e) => { console.error(e && e.stack || String(e)); process.exit(1); });
`;

export interface ActivationResult {
  medianMs: number;
  requireMs: number;
  activateMs: number;
  reps: number;
}

export async function activationTime(root: string, reps: number): Promise<ActivationResult> {
  const bundle = join(root, "dist", "extension.js");
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first`);
  const runs: { requireMs: number; activateMs: number }[] = [];
  for (let i = 0; i < reps; i++) runs.push(await runJsonChild(process.execPath, ["-e", CHILD, bundle], {}));
  const total = runs.map((r) => r.requireMs + r.activateMs);
  return {
    medianMs: median(total),
    requireMs: median(runs.map((r) => r.requireMs)),
    activateMs: median(runs.map((r) => r.activateMs)),
    reps,
  };
}
