// The README's example, run as written (so the published API guide cannot drift from the code).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as E from "../../../src/engine";
import { createSession } from "../../../src/runtime";

test("the README example trains and its loss falls", async () => {
  const md = readFileSync(join(__dirname, "../../../src/engine/README.md"), "utf8");
  const code = /```ts\n([\s\S]*?)```/
    .exec(md)![1]!
    .replace(/^import .*$/gm, "")
    .replace("console.log(out.loss.data[0]);", "losses.push(out.loss.data[0]);");
  const losses: number[] = [];
  const run = new Function("E", "createSession", "losses", `return (async () => { ${code}; return trained; })();`);
  const trained = await run(E, createSession, losses);
  assert.equal(losses.length, 10);
  assert.ok(losses[9]! < losses[0]!, `loss did not fall: ${losses}`);
  assert.deepEqual(trained.dims, [5, 3]);
});
