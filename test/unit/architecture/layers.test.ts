// The layer order in eslint.config.mjs refuses an upward import with a message that names both layers,
// allows imports from lower layers and within a layer, and keeps vscode/onnxruntime-node at the edges.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ESLint } from "eslint";

const REPO = join(__dirname, "../../..");

async function importErrors(file: string, source: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: REPO });
  const [r] = await eslint.lintText(`${source}\nexport const used = x;\n`, { filePath: join(REPO, file) });
  return r.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

test("an upward import is refused with both layers named; lower and same-layer imports pass", async () => {
  const up = await importErrors("src/data/probe.ts", `import { train as x } from "../seat/index";`);
  assert.equal(up.length, 1);
  assert.match(
    up[0],
    /src\/data \(dataset records.*\) sits below src\/seat \(training and probing\) in the layer order util\/platform < engine < /,
  );
  const deep = await importErrors("src/engine/ops/probe.ts", `import * as x from "../../model/index";`);
  assert.match(deep[0] ?? "", /src\/engine .* sits below src\/model/);
  assert.match(
    (await importErrors("src/data/probe.ts", `import * as x from "../entities/index";`))[0] ?? "",
    /sits below src\/entities/,
  );
  assert.deepEqual(await importErrors("src/seat/probe.ts", `import * as x from "../eval/index";`), [], "same layer");
  assert.deepEqual(await importErrors("src/seat/probe.ts", `import * as x from "../util/rng";`), [], "lower layer");
  assert.deepEqual(
    await importErrors("src/extension/probe.ts", `import * as x from "../world/demo";`),
    [],
    "the edges import anything",
  );
});

test("vscode and onnxruntime-node stay at the edges", async () => {
  assert.match(
    (await importErrors("src/util/probe.ts", `import * as x from "vscode";`))[0] ?? "",
    /Only src\/extension\/ may import 'vscode'/,
  );
  assert.match(
    (await importErrors("src/extension/probe.ts", `import * as x from "onnxruntime-node";`))[0] ?? "",
    /Only src\/runtime\/ may import 'onnxruntime-node'/,
  );
  assert.deepEqual(await importErrors("src/runtime/probe.ts", `import * as x from "onnxruntime-node";`), []);
});
