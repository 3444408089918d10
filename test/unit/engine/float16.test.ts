// float16: scalar encoding and a small float16 graph (forward + gradient) through onnxruntime.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as E from "../../../src/engine";
import { session } from "./helpers";

test("binary16 encoding round-trips representative values", () => {
  const cases: [number, number][] = [
    [0, 0],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [1e6, 0x7c00],
    [2 ** -24, 0x0001],
    [0.1, 0x2e66],
    [1 + 2 ** -11, 0x3c00],
  ];
  for (const [v, bits] of cases) assert.equal(E.toHalfBits(v), bits, `toHalfBits(${v})`);
  for (const h of [0x3c00, 0xc000, 0x2e66, 0x0001, 0x7bff]) assert.equal(E.toHalfBits(E.fromHalfBits(h)), h);
});

test("a float16 graph with number operands runs and differentiates", async () => {
  const g = new E.Graph("half");
  const x = g.input("x", "float16", [4]);
  const y = E.mul(E.add(x, 0.5), 2); // 2 (x + 0.5)
  const loss = E.sumAll(E.mul(y, y));
  const [gx] = E.grad(loss, [x]); // 8 (x + 0.5)
  g.output("y", y);
  g.output("gx", gx!);
  const s = await session(g);
  const xs = [0, 1, -0.5, 2];
  const out = await s.run({ x: { dtype: "float16", dims: [4], data: Uint16Array.from(xs.map(E.toHalfBits)) } });
  assert.deepEqual(
    Array.from(out.y!.data as Uint16Array, E.fromHalfBits),
    xs.map((v) => 2 * (v + 0.5)),
  );
  assert.deepEqual(
    Array.from(out.gx!.data as Uint16Array, E.fromHalfBits),
    xs.map((v) => 8 * (v + 0.5)),
  );
  await s.release();
});
