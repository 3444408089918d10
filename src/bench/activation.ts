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
const path = process.argv[1];
function stub(name) {
  const fn = function () { return stub(name + "()"); };
  return new Proxy(fn, {
    get(_t, key) {
      if (key === Symbol.iterator) return function* () {};
      if (key === Symbol.toPrimitive) return () => "";
      if (key === "then") return undefined;
      if (key === "length") return 0;
      return stub(name + "." + String(key));
    },
    construct() { return stub("new " + name); },
    apply() { return stub(name + "()"); },
  });
}
const vscode = stub("vscode");
const load = Module._load;
Module._load = function (request, ...rest) { return request === "vscode" ? vscode : load.call(this, request, ...rest); };
const t0 = process.hrtime.bigint();
const ext = require(path);
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
