// Reductions. Axes are node attributes (ONNX >= 18 takes them as an int64 input: emitted as a constant).
import { Attrs, defineOp, Dim, InferredOutput, normAxis, Node, Tensor } from "../graph";
import { cast, div, equal, mul } from "./elementwise";
import { expandLike, reshape } from "./shape";

const ap1 = (op: ReturnType<typeof defineOp>, xs: Tensor[], attrs: Attrs = {}) => xs[0]!.graph.apply(op, xs, attrs)[0]!;

function reduceInfer([x]: readonly Tensor[], a: Attrs): InferredOutput[] {
  const axes = new Set((a.axes as number[]).map((ax) => normAxis(ax, x!.rank)));
  const shape: Dim[] = [];
  x!.shape.forEach((d, i) => {
    if (!axes.has(i)) shape.push(d);
    else if (a.keepdims) shape.push(1);
  });
  return [{ dtype: x!.dtype, shape }];
}
function reduceEmit(onnx: string) {
  return (ctx: Parameters<NonNullable<Parameters<typeof defineOp>[0]["emit"]>>[0], n: Node, outs: string[]) => {
    ctx.node(
      onnx,
      [ctx.name(n.inputs[0]!), ctx.ints(n.attrs.axes as number[])],
      { keepdims: n.attrs.keepdims ? 1 : 0 },
      outs,
    );
  };
}
/** The output gradient with the reduced axes restored as size 1 (ready to broadcast over x). */
function keepShape(g: Tensor, n: Node): Tensor {
  const x = n.inputs[0]!;
  const axes = new Set((n.attrs.axes as number[]).map((ax) => normAxis(ax, x.rank)));
  return reshape(
    g,
    x.shape.map((d, i) => (axes.has(i) ? 1 : d)),
  );
}
function reducedCount(n: Node): number {
  const x = n.inputs[0]!;
  let c = 1;
  for (const ax of n.attrs.axes as number[]) {
    const d = x.shape[normAxis(ax, x.rank)]!;
    if (typeof d !== "number") throw new Error(`mean over symbolic axis ${ax} of ${x}: use sum / count`);
    c *= d;
  }
  return c;
}

export const ReduceSumOp = defineOp({
  name: "ReduceSum",
  infer: reduceInfer,
  emit: reduceEmit("ReduceSum"),
  vjp: ([g], n) => [expandLike(keepShape(g!, n), n.inputs[0]!)], // every summand gets the sum's gradient
});
export const ReduceMeanOp = defineOp({
  name: "ReduceMean",
  infer: (xs, a) => {
    reducedCount({ inputs: xs, attrs: a } as unknown as Node);
    return reduceInfer(xs, a);
  },
  emit: reduceEmit("ReduceMean"),
  vjp: ([g], n) => [expandLike(div(keepShape(g!, n), reducedCount(n)), n.inputs[0]!)], // d mean = d sum / n
});
export const ReduceMaxOp = defineOp({
  name: "ReduceMax",
  infer: reduceInfer,
  emit: reduceEmit("ReduceMax"),
  // the gradient goes to the arg-max entries (all of them on ties, as a subgradient)
  vjp: ([g], n) => {
    const x = n.inputs[0]!;
    const hit = cast(equal(x, keepShape(n.outputs[0]!, n)), x.dtype);
    return [mul(hit, keepShape(g!, n))];
  },
});

export const ReduceSumSquareOp = defineOp({
  name: "ReduceSumSquare",
  infer: reduceInfer,
  emit: reduceEmit("ReduceSumSquare"),
  vjp: ([g], n) => [mul(mul(n.inputs[0]!, 2), keepShape(g!, n))], // d sum(x^2) = 2x dx
});

export const reduceSum = (x: Tensor, axes: number[], keepdims = false) =>
  ap1(ReduceSumOp, [x], { axes, keepdims: keepdims ? 1 : 0 });
export const reduceMean = (x: Tensor, axes: number[], keepdims = false) =>
  ap1(ReduceMeanOp, [x], { axes, keepdims: keepdims ? 1 : 0 });
export const reduceMax = (x: Tensor, axes: number[], keepdims = false) =>
  ap1(ReduceMaxOp, [x], { axes, keepdims: keepdims ? 1 : 0 });
export const reduceSumSquare = (x: Tensor, axes: number[], keepdims = false) =>
  ap1(ReduceSumSquareOp, [x], { axes, keepdims: keepdims ? 1 : 0 });
/** Sum over every axis to a scalar. */
export const sumAll = (x: Tensor) =>
  x.rank === 0
    ? x
    : reduceSum(
        x,
        x.shape.map((_, i) => i),
      );
