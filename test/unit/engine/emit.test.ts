// ONNX emission details: pruning, SSA output names, opset/IR header, and builder errors that name the op.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as E from "../../../src/engine";
import { session } from "./helpers";

test("only nodes that reach an output are emitted; an input passed through gets an Identity", async () => {
  const g = new E.Graph("prune");
  const x = g.input("x", "float32", [3]);
  const unused = E.exp(E.log(x)); // never an output
  void unused;
  g.output("y", E.add(x, 1));
  g.output("x_again", x);
  const m = E.toOnnx(g);
  assert.equal(m.nodeCount, 2); // Add + Identity
  assert.deepEqual(
    m.outputs.map((o) => o.name),
    ["y", "x_again"],
  );
  const s = await session(g);
  const out = await s.run({ x: E.hostTensor("float32", [3], [1, 2, 3]) });
  assert.deepEqual(Array.from(out.x_again!.data as Float32Array), [1, 2, 3]);
  await s.release();
});

test("the model header records IR version and opset; opsets outside 17..26 are refused", () => {
  const g = new E.Graph("hdr");
  g.output("y", E.neg(g.input("x", "float32", [1])));
  const m = E.toOnnx(g);
  assert.deepEqual([m.model[0], m.model[1]], [0x08, 10]); // field 1 (ir_version) varint = 10 for opset 21
  assert.throws(() => E.toOnnx(g, { opset: 27 }), /opset 27 unsupported/);
});

test("shape errors name the op and the operands", () => {
  const g = new E.Graph("bad");
  const a = g.input("a", "float32", [2, 3]);
  const b = g.input("b", "float32", [4, 5]);
  assert.throws(() => E.matMul(a, b), /MatMul\(a:float32\[2,3\], b:float32\[4,5\]\): inner dims differ/);
  assert.throws(
    () => E.add(a, b),
    /Add\(a:float32\[2,3\], b:float32\[4,5\]\): shapes \[2,3\] and \[4,5\] do not broadcast/,
  );
  assert.throws(() => g.input("a", "float32", [1]), /name 'a' is used twice/);
  assert.throws(() => E.trainStep(E.sumAll(E.exp(a)), [{ value: E.exp(a) }]), /must be a graph input/);
});
