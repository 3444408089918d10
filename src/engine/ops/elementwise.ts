// Elementwise primitives (ONNX broadcasting ops). Each op: shape rule, then its vjp right below.
// Rules return gradients in the broadcast output shape; autodiff.ts sums them back to each input's
// shape centrally ("unbroadcast"), so no rule here reduces.
import { DType, isFloat, ONNX_DTYPE } from "../dtype";
import { Attrs, broadcastShapes, defineOp, InferredOutput, sameDtype, Tensor } from "../graph";

export type TensorLike = Tensor | number;

/** Numbers become shared scalar constants of the partner tensor's dtype. */
export function lift(ref: Tensor, v: TensorLike): Tensor {
  return typeof v === "number" ? ref.graph.scalar(v, ref.dtype) : v;
}

function binaryInfer(ins: readonly Tensor[]): InferredOutput[] {
  return [{ dtype: sameDtype(ins), shape: broadcastShapes(ins[0]!.shape, ins[1]!.shape) }];
}
function unaryInfer(ins: readonly Tensor[]): InferredOutput[] {
  if (!isFloat(ins[0]!.dtype)) throw new Error(`expects a float tensor, got ${ins[0]}`);
  return [{ dtype: ins[0]!.dtype, shape: [...ins[0]!.shape] }];
}
function compareInfer(ins: readonly Tensor[]): InferredOutput[] {
  sameDtype(ins);
  return [{ dtype: "bool", shape: broadcastShapes(ins[0]!.shape, ins[1]!.shape) }];
}

const ap1 = (op: ReturnType<typeof defineOp>, xs: Tensor[], attrs: Attrs = {}) => xs[0]!.graph.apply(op, xs, attrs)[0]!;
const pair = (a: TensorLike, b: TensorLike): [Tensor, Tensor] => {
  if (typeof a === "number" && typeof b === "number") throw new Error("at least one operand must be a tensor");
  const ta = typeof a === "number" ? lift(b as Tensor, a) : a;
  const tb = typeof b === "number" ? lift(ta, b) : b;
  return [ta, tb];
};

export const AddOp = defineOp({ name: "Add", infer: binaryInfer, vjp: ([g]) => [g!, g!] }); // d(a+b) = da + db
export const SubOp = defineOp({ name: "Sub", infer: binaryInfer, vjp: ([g]) => [g!, neg(g!)] }); // d(a-b) = da - db
export const MulOp = defineOp({
  name: "Mul",
  infer: binaryInfer,
  vjp: ([g], n) => [mul(g!, n.inputs[1]!), mul(g!, n.inputs[0]!)], // d(ab) = b da + a db
});
export const DivOp = defineOp({
  name: "Div",
  infer: binaryInfer,
  // d(a/b) = da/b - a/b^2 db = (da - y db)/b
  vjp: ([g], n) => {
    const gb = div(g!, n.inputs[1]!);
    return [gb, neg(mul(gb, n.outputs[0]!))];
  },
});
export const PowOp = defineOp({
  name: "Pow",
  infer: binaryInfer,
  // d(a^b) = b a^(b-1) da + ln(a) a^b db
  vjp: ([g], n) => {
    const [a, b] = n.inputs as [Tensor, Tensor];
    const y = n.outputs[0]!;
    const ga = mul(g!, mul(b, pow(a, sub(b, 1))));
    const gb = b.kind === "const" ? null : mul(g!, mul(log(a), y));
    return [ga, gb];
  },
});
export const MinOp = defineOp({
  name: "Min",
  infer: binaryInfer,
  // the gradient goes to the smaller operand (ties to the first)
  vjp: ([g], n) => {
    const pick = lessOrEqual(n.inputs[0]!, n.inputs[1]!);
    const z = lift(g!, 0);
    return [where(pick, g!, z), where(pick, z, g!)];
  },
});
export const MaxOp = defineOp({
  name: "Max",
  infer: binaryInfer,
  vjp: ([g], n) => {
    const pick = greaterOrEqual(n.inputs[0]!, n.inputs[1]!);
    const z = lift(g!, 0);
    return [where(pick, g!, z), where(pick, z, g!)];
  },
});

export const NegOp = defineOp({ name: "Neg", infer: unaryInfer, vjp: ([g]) => [neg(g!)] });
export const ExpOp = defineOp({ name: "Exp", infer: unaryInfer, vjp: ([g], n) => [mul(g!, n.outputs[0]!)] }); // d e^x = e^x dx
export const LogOp = defineOp({ name: "Log", infer: unaryInfer, vjp: ([g], n) => [div(g!, n.inputs[0]!)] }); // d ln x = dx/x
export const SqrtOp = defineOp({
  name: "Sqrt",
  infer: unaryInfer,
  vjp: ([g], n) => [div(mul(g!, 0.5), n.outputs[0]!)], // d sqrt(x) = dx / (2 sqrt x)
});
export const ReciprocalOp = defineOp({
  name: "Reciprocal",
  infer: unaryInfer,
  vjp: ([g], n) => {
    const y = n.outputs[0]!;
    return [neg(mul(g!, mul(y, y)))];
  }, // d(1/x) = -dx/x^2
});
export const SigmoidOp = defineOp({
  name: "Sigmoid",
  infer: unaryInfer,
  vjp: ([g], n) => {
    const y = n.outputs[0]!;
    return [mul(g!, mul(y, sub(1, y)))];
  }, // s' = s(1-s)
});
export const TanhOp = defineOp({
  name: "Tanh",
  infer: unaryInfer,
  vjp: ([g], n) => {
    const y = n.outputs[0]!;
    return [mul(g!, sub(1, mul(y, y)))];
  }, // tanh' = 1 - tanh^2
});
export const AbsOp = defineOp({
  name: "Abs",
  infer: unaryInfer,
  vjp: ([g], n) => [mul(g!, sign(n.inputs[0]!))], // |x|' = sign(x) (0 at 0)
});
export const SignOp = defineOp({ name: "Sign", infer: unaryInfer, nonDifferentiable: true });
export const IdentityOp = defineOp({
  name: "Identity",
  infer: (i) => [{ dtype: i[0]!.dtype, shape: [...i[0]!.shape] }],
  vjp: ([g]) => [g!],
});

export const WhereOp = defineOp({
  name: "Where",
  infer: ([c, a, b]) => {
    if (c!.dtype !== "bool") throw new Error(`condition must be bool, got ${c}`);
    return [{ dtype: sameDtype([a!, b!]), shape: broadcastShapes(c!.shape, broadcastShapes(a!.shape, b!.shape)) }];
  },
  // the gradient follows the branch that was selected
  vjp: ([g], n) => {
    const c = n.inputs[0]!;
    const z = lift(g!, 0);
    return [null, where(c, g!, z), where(c, z, g!)];
  },
});

export const CastOp = defineOp({
  name: "Cast",
  infer: ([x], a) => [{ dtype: a.to as DType, shape: [...x!.shape] }],
  emit: (ctx, n, outs) => {
    ctx.node("Cast", [ctx.name(n.inputs[0]!)], { to: onnxDtype(n.attrs.to as DType) }, outs);
  },
  // casting is linear: cast the gradient back; integer/bool sources get none
  vjp: ([g], n) => [isFloat(n.inputs[0]!.dtype) && isFloat(n.outputs[0]!.dtype) ? cast(g!, n.inputs[0]!.dtype) : null],
});

export const EqualOp = defineOp({ name: "Equal", infer: compareInfer, nonDifferentiable: true });
export const LessOp = defineOp({ name: "Less", infer: compareInfer, nonDifferentiable: true });
export const LessOrEqualOp = defineOp({ name: "LessOrEqual", infer: compareInfer, nonDifferentiable: true });
export const GreaterOp = defineOp({ name: "Greater", infer: compareInfer, nonDifferentiable: true });
export const GreaterOrEqualOp = defineOp({ name: "GreaterOrEqual", infer: compareInfer, nonDifferentiable: true });
export const NotOp = defineOp({
  name: "Not",
  nonDifferentiable: true,
  infer: ([x]) => {
    if (x!.dtype !== "bool") throw new Error("Not expects bool");
    return [{ dtype: "bool", shape: [...x!.shape] }];
  },
});
export const AndOp = defineOp({
  name: "And",
  nonDifferentiable: true,
  infer: (i) => {
    if (i.some((t) => t.dtype !== "bool")) throw new Error("And expects bool");
    return [{ dtype: "bool", shape: broadcastShapes(i[0]!.shape, i[1]!.shape) }];
  },
});

function onnxDtype(d: DType): number {
  return ONNX_DTYPE[d];
}

// ---- builders ----
export const add = (a: TensorLike, b: TensorLike) => ap1(AddOp, pair(a, b));
export const sub = (a: TensorLike, b: TensorLike) => ap1(SubOp, pair(a, b));
export const mul = (a: TensorLike, b: TensorLike) => ap1(MulOp, pair(a, b));
export const div = (a: TensorLike, b: TensorLike) => ap1(DivOp, pair(a, b));
export const pow = (a: TensorLike, b: TensorLike) => ap1(PowOp, pair(a, b));
export const minimum = (a: TensorLike, b: TensorLike) => ap1(MinOp, pair(a, b));
export const maximum = (a: TensorLike, b: TensorLike) => ap1(MaxOp, pair(a, b));
export const neg = (x: Tensor) => ap1(NegOp, [x]);
export const exp = (x: Tensor) => ap1(ExpOp, [x]);
export const log = (x: Tensor) => ap1(LogOp, [x]);
export const sqrt = (x: Tensor) => ap1(SqrtOp, [x]);
export const reciprocal = (x: Tensor) => ap1(ReciprocalOp, [x]);
export const sigmoid = (x: Tensor) => ap1(SigmoidOp, [x]);
export const tanh = (x: Tensor) => ap1(TanhOp, [x]);
export const abs = (x: Tensor) => ap1(AbsOp, [x]);
export const sign = (x: Tensor) => ap1(SignOp, [x]);
export const identity = (x: Tensor) => ap1(IdentityOp, [x]);
export const where = (c: Tensor, a: TensorLike, b: TensorLike) => {
  const [ta, tb] = pair(a, b);
  return ap1(WhereOp, [c, ta, tb]);
};
export const cast = (x: Tensor, to: DType) => (x.dtype === to ? x : ap1(CastOp, [x], { to }));
export const equal = (a: TensorLike, b: TensorLike) => ap1(EqualOp, pair(a, b));
export const less = (a: TensorLike, b: TensorLike) => ap1(LessOp, pair(a, b));
export const lessOrEqual = (a: TensorLike, b: TensorLike) => ap1(LessOrEqualOp, pair(a, b));
export const greater = (a: TensorLike, b: TensorLike) => ap1(GreaterOp, pair(a, b));
export const greaterOrEqual = (a: TensorLike, b: TensorLike) => ap1(GreaterOrEqualOp, pair(a, b));
export const not = (x: Tensor) => ap1(NotOp, [x]);
export const and = (a: Tensor, b: Tensor) => ap1(AndOp, [a, b]);
