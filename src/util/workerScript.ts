// Where a worker thread's code is: `<name>.js` beside the bundle that starts it (dist/), or `<name>.ts`
// beside its source when run from source (tests). A .ts worker is started through a one-line CommonJS
// bootstrap that registers tsx's require hook, because `--import tsx` in a worker's execArgv does not
// install loader hooks in the worker on Node 20. Shared by the runtime's, the validator's and the
// extension's dataset workers; pure Node (no vscode, no onnxruntime).
import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * `dir`: the caller's `__dirname`; `what`: the worker's name for the error when neither file exists;
 * `sourceDir`: where `<name>.ts` is when it is not beside the caller's source.
 */
export function workerScript(
  dir: string,
  name: string,
  what: string,
  sourceDir = dir,
): { code: string; eval: boolean } {
  const js = join(dir, `${name}.js`);
  if (existsSync(js)) return { code: js, eval: false };
  const ts = join(sourceDir, `${name}.ts`);
  if (existsSync(ts)) return { code: `require("tsx/cjs"); require(${JSON.stringify(ts)});`, eval: true };
  throw new Error(`${what} not found (expected ${js} or ${ts})`);
}
