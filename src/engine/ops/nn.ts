// Contractions, softmax and indexing primitives.
// MatMul/Gemm backward follows the validated form: weights stay 2-D and the activation is flattened to
// [rows, K], so no [B, K, N] intermediates appear and Gemm's trans flags avoid Transpose copies.
import { ONNX_DTYPE } from "../dtype";
import { Attrs, defineOp, Dim, dimMul, type EmitCtx, InferredOutput, normAxis, sameDtype, Tensor } from "../graph";
import { add, cast, equal, exp, mul, neg, not, sub, where } from "./elementwise";
import { reduceSum } from "./reduce";
import { expand, reshape, transpose, unsqueeze, zerosLike } from "./shape";

const ap1 = (op: ReturnType<typeof defineOp>, xs: Tensor[], attrs: Attrs = {}) => xs[0]!.graph.apply(op, xs, attrs)[0]!;

export const MatMulOp = defineOp({
  name: "MatMul",
  infer: ([a, b]) => {
    if (a!.rank < 2 || b!.rank < 2) throw new Error("matmul needs rank >= 2 operands");
    const K = a!.shape[a!.rank - 1]!;
    if (K !== b!.shape[b!.rank - 2]) throw new Error(`inner dims differ: ${a} x ${b}`);
    const ba = a!.shape.slice(0, -2),
      bb = b!.shape.slice(0, -2);
    const r = Math.max(ba.length, bb.length);
    const batch: Dim[] = [];
    for (let i = 0; i < r; i++) {
      const x = ba[ba.length - r + i] ?? 1,
        y = bb[bb.length - r + i] ?? 1;
      if (x === y || y === 1) batch.push(x);
      else if (x === 1) batch.push(y);
      else throw new Error(`batch dims do not broadcast: ${a} x ${b}`);
    }
    return [{ dtype: sameDtype([a!, b!]), shape: [...batch, a!.shape[a!.rank - 2]!, b!.shape[b!.rank - 1]!] }];
  },
  vjp: ([g], n) => {
    const [a, b] = n.inputs as [Tensor, Tensor];
    if (b.rank === 2) {
      // y = a b with b shared over all rows: flatten rows, dB = a2^T g2, dA = g2 b^T
      const K = a.shape[a.rank - 1]!,
        N = b.shape[1]!;
      const rows = a.shape.slice(0, -1).reduce<Dim>((p, d) => dimMul(p, d), 1);
      const a2 = reshape(a, [rows, K]);
      const g2 = reshape(g!, [rows, N]);
      return [reshapeLike(gemm(g2, b, { transB: true }), a), gemm(a2, g2, { transA: true })];
    }
    // batched (attention): dA = g b^T, dB = a^T g; broadcast batch axes are summed by autodiff
    return [matMul(g!, swapLast(b)), matMul(swapLast(a), g!)];
  },
});

/** 2-D matrix product with optional transposes (no bias: C is not used). */
export const GemmOp = defineOp({
  name: "Gemm",
  infer: ([a, b], t) => {
    if (a!.rank !== 2 || b!.rank !== 2) throw new Error("gemm needs 2-D operands");
    const [M, K] = t.transA ? [a!.shape[1]!, a!.shape[0]!] : [a!.shape[0]!, a!.shape[1]!];
    const [K2, N] = t.transB ? [b!.shape[1]!, b!.shape[0]!] : [b!.shape[0]!, b!.shape[1]!];
    if (K !== K2) throw new Error(`inner dims differ: ${a} x ${b} (transA=${t.transA}, transB=${t.transB})`);
    return [{ dtype: sameDtype([a!, b!]), shape: [M, N] }];
  },
  vjp: ([g], n) => {
    const [a, b] = n.inputs as [Tensor, Tensor];
    const tA = !!n.attrs.transA,
      tB = !!n.attrs.transB;
    // y = op(a) op(b): d op(a) = g op(b)^T, d op(b) = op(a)^T g, then undo each op()
    if (!tA && !tB) return [gemm(g!, b, { transB: true }), gemm(a, g!, { transA: true })];
    if (!tA && tB) return [gemm(g!, b), gemm(g!, a, { transA: true })];
    if (tA && !tB) return [gemm(b, g!, { transB: true }), gemm(a, g!)];
    return [gemm(b, g!, { transA: true, transB: true }), gemm(g!, a, { transA: true, transB: true })];
  },
});

/** Reshape to another tensor's shape (read at run time when symbolic). */
export const ReshapeLikeOp = defineOp({
  name: "ReshapeLike",
  infer: ([x, like]) => [{ dtype: x!.dtype, shape: [...like!.shape] }],
  emit: (ctx, n, outs) => {
    const [x, like] = n.inputs as [Tensor, Tensor];
    const shape = like.shape.every((d) => typeof d === "number")
      ? ctx.ints(like.shape as number[])
      : ctx.node("Shape", [ctx.name(like)])[0]!;
    ctx.node("Reshape", [ctx.name(x), shape], {}, outs);
  },
  vjp: ([g], n) => [reshapeLike(g!, n.inputs[0]!), null],
});

/**
 * Un-flattens rows: y [rows, ...tail] -> [...like.shape[:-1], ...tail] where rows = prod(like.shape[:-1]).
 * Lets a symbolic-shape linear layer run as one 2-D Gemm (x flattened with a single -1) and get its
 * leading dims back from x's run-time shape, instead of MatMul against a transposed weight copy.
 */
export const RestoreLeadingOp = defineOp({
  name: "RestoreLeading",
  infer: ([y, like]) => {
    const lead = like!.shape.slice(0, -1);
    const rows = lead.reduce<Dim>((p, d) => dimMul(p, d), 1);
    if (y!.shape[0] !== rows) throw new Error(`rows of ${y} do not match the leading dims of ${like}`);
    return [{ dtype: y!.dtype, shape: [...lead, ...y!.shape.slice(1)] }];
  },
  emit: (ctx, n, outs) => {
    const [y, like] = n.inputs as [Tensor, Tensor];
    const out = n.outputs[0]!.shape;
    let shape: string;
    if (out.every((d) => typeof d === "number")) shape = ctx.ints(out as number[]);
    else {
      const tail = y.shape.slice(1);
      if (tail.some((d) => typeof d !== "number"))
        throw new Error(`RestoreLeading: trailing dims of ${y} must be static`);
      const [sh] = ctx.node("Shape", [ctx.name(like)]);
      const [lead] = ctx.node("Slice", [sh!, ctx.ints([0]), ctx.ints([-1]), ctx.ints([0])]);
      [shape] = ctx.node("Concat", [lead!, ctx.ints(tail as number[])], { axis: 0 }) as [string];
    }
    ctx.node("Reshape", [ctx.name(y), shape], {}, outs);
  },
  vjp: ([g], n) => [reshape(g!, n.inputs[0]!.shape), null], // a pure relabelling of the rows
});

export const SoftmaxOp = defineOp({
  name: "Softmax",
  infer: ([x]) => [{ dtype: x!.dtype, shape: [...x!.shape] }],
  vjp: ([g], n) => {
    // dx = y * (g - sum(g*y))
    const y = n.outputs[0]!;
    return [mul(y, sub(g!, reduceSum(mul(g!, y), [n.attrs.axis as number], true)))];
  },
});
/**
 * log softmax as x - max - log(sum(exp(x - max))), in primitive ops: onnxruntime's WebGPU provider has
 * no LogSoftmax kernel (measured with 1.30: every LogSoftmax of a training graph ran on the CPU, with a
 * copy of the logits each way); the primitive ops run on every provider. On the CPU the logits this
 * runs over are only those at labelled positions, so the fused kernel's speed no longer matters.
 */
function emitLogSoftmax(ctx: EmitCtx, x: string, axis: number, out: string): void {
  const axes = ctx.ints([axis]);
  const [m] = ctx.node("ReduceMax", [x, axes], { keepdims: 1 });
  const [z] = ctx.node("Sub", [x, m!]);
  const [s] = ctx.node("ReduceSum", [ctx.node("Exp", [z!])[0]!, axes], { keepdims: 1 });
  ctx.node("Sub", [z!, ctx.node("Log", [s!])[0]!], {}, [out]);
}

export const LogSoftmaxOp = defineOp({
  name: "LogSoftmax",
  infer: ([x]) => [{ dtype: x!.dtype, shape: [...x!.shape] }],
  emit: (ctx, n, [out]) => emitLogSoftmax(ctx, ctx.name(n.inputs[0]!), n.attrs.axis as number, out!),
  vjp: ([g], n) => {
    // dx = g - softmax(x) * sum(g)
    const y = n.outputs[0]!;
    return [sub(g!, mul(exp(y), reduceSum(g!, [n.attrs.axis as number], true)))];
  },
});

/**
 * ONNX allows int32 indices for Gather, GatherElements and ScatterElements (int64 only for ScatterND and
 * GatherND): int32 keeps index tensors on GPU providers that lack int64 kernels (WebGPU runs Equal, Where,
 * Reshape on int64 tensors on the CPU).
 */
function idx(t: Tensor, int32 = false): void {
  if (t.dtype !== "int64" && !(int32 && t.dtype === "int32"))
    throw new Error(`indices must be int64${int32 ? " or int32" : ""}, got ${t}`);
}

/** Row lookup: data[V, ...] at int64 or int32 ids -> ids.shape ++ data.shape[1:] (ONNX Gather, axis 0). */
export const GatherOp = defineOp({
  name: "Gather",
  infer: ([d, i]) => {
    idx(i!, true);
    return [{ dtype: d!.dtype, shape: [...i!.shape, ...d!.shape.slice(1)] }];
  },
  emit: (ctx, n, outs) => {
    ctx.node(
      "Gather",
      n.inputs.map((t) => ctx.name(t)),
      { axis: 0 },
      outs,
    );
  },
  // embedding gradient: scatter-add rows of g into zeros (duplicate ids accumulate)
  vjp: ([g], n) => [gatherGrad(n.inputs[0]!, n.inputs[1]!, g!), null],
});

/**
 * d data of Gather(data [V, ...rest], ids [S...]) for g [S..., ...rest]. int64 ids: ScatterND add.
 * int32 ids: ONNX's ScatterND takes int64 indices only, so the rows are scattered with ScatterElements
 * (int32 allowed) on data viewed as [V, R], R = prod(rest), the ids repeated along R: the same sums
 * (duplicates accumulate), and no int64 tensor on a GPU provider that has few int64 kernels.
 */
function gatherGrad(data: Tensor, ids: Tensor, g: Tensor): Tensor {
  // Scatter-add has no float16 kernel on the CPU and float atomics on GPUs are 32-bit: half-precision
  // gradients are summed in float32.
  const half = g.dtype === "float16" || g.dtype === "bfloat16";
  const g32 = half ? cast(g, "float32") : g;
  const zeros = (t: Tensor) => zerosLike(t, g32.dtype);
  let d: Tensor;
  if (ids.dtype === "int64") d = scatterND(zeros(data), unsqueeze(ids, [-1]), g32, "add");
  else {
    const [V, ...rest] = data.shape;
    const R = rest.reduce<Dim>((a, x) => dimMul(a, x), 1);
    const n = ids.shape.reduce<Dim>((a, x) => dimMul(a, x), 1);
    const rows = expand(reshape(ids, [n, 1]), [n, R]);
    d = reshape(scatterElements(zeros(reshape(data, [V!, R])), rows, reshape(g32, [n, R]), 0, "add"), data.shape);
  }
  return half ? cast(d, g.dtype) : d;
}

export const GatherElementsOp = defineOp({
  name: "GatherElements",
  infer: ([d, i], a) => {
    idx(i!, true);
    if (d!.rank !== i!.rank) throw new Error("data and indices need the same rank");
    normAxis(a.axis as number, d!.rank);
    return [{ dtype: d!.dtype, shape: [...i!.shape] }];
  },
  vjp: ([g], n) => [scatterElements(zerosLike(n.inputs[0]!), n.inputs[1]!, g!, n.attrs.axis as number, "add"), null],
});

export const GatherNDOp = defineOp({
  name: "GatherND",
  infer: ([d, i]) => {
    idx(i!);
    const k = i!.shape[i!.rank - 1];
    if (typeof k !== "number" || k > d!.rank) throw new Error(`last index dim must be static and <= rank: ${i}`);
    return [{ dtype: d!.dtype, shape: [...i!.shape.slice(0, -1), ...d!.shape.slice(k)] }];
  },
  vjp: ([g], n) => [scatterND(zerosLike(n.inputs[0]!), n.inputs[1]!, g!, "add"), null],
});

function scatterInfer([d, i, u]: readonly Tensor[], int32 = false): InferredOutput[] {
  idx(i!, int32);
  sameDtype([d!, u!]);
  return [{ dtype: d!.dtype, shape: [...d!.shape] }];
}

export const ScatterNDOp = defineOp({
  name: "ScatterND",
  infer: (xs) => {
    const [d, i, u] = xs as [Tensor, Tensor, Tensor];
    const k = i.shape[i.rank - 1] as number;
    const want = [...i.shape.slice(0, -1), ...d.shape.slice(k)];
    if (want.length !== u.rank || want.some((w, j) => w !== u.shape[j]))
      throw new Error(`updates must be [${want}], got ${u}`);
    return scatterInfer(xs);
  },
  // overwritten entries take no gradient from data; updates read theirs back with GatherND
  vjp: ([g], n) => {
    const [, i, u] = n.inputs as [Tensor, Tensor, Tensor];
    const gd = n.attrs.reduction === "add" ? g! : scatterND(g!, i, zerosLike(u));
    return [gd, null, gatherND(g!, i)];
  },
});

export const ScatterElementsOp = defineOp({
  name: "ScatterElements",
  infer: (xs) => scatterInfer(xs, true),
  vjp: ([g], n) => {
    const [, i, u] = n.inputs as [Tensor, Tensor, Tensor];
    const ax = n.attrs.axis as number;
    const gd = n.attrs.reduction === "add" ? g! : scatterElements(g!, i, zerosLike(u), ax);
    return [gd, null, gatherElements(g!, i, ax)];
  },
});

/**
 * Cross-entropy on rows: scores [N, C], int64 or int32 labels [N] -> (nll [N], log_prob [N, C]); rows whose label
 * is ignore_index get nll 0. Lowered to LogSoftmax + GatherElements (ONNX's SoftmaxCrossEntropyLoss was
 * measured slower on ORT CPU: it is expanded as a function with a slower LogSoftmax). Its own gradient
 * rule: d scores = (softmax - onehot) * g_nll (+ the log_prob path) — three passes over [N, C] instead of
 * six for LogSoftmax + GatherElements differentiated separately (measured 45 -> ~25 ms at [256, 32000]);
 * the vocabulary-sized tensors are the largest activations of an LLM step.
 */
export const SoftmaxCrossEntropyOp = defineOp({
  name: "CrossEntropyRows",
  infer: ([x, y]) => {
    if (x!.rank !== 2 || y!.rank !== 1 || x!.shape[0] !== y!.shape[0])
      throw new Error(`expects scores [N, C] and labels [N], got ${x}, ${y}`);
    idx(y!, true);
    return [
      { dtype: x!.dtype, shape: [x!.shape[0]!] },
      { dtype: x!.dtype, shape: [...x!.shape] },
    ];
  },
  emit: (ctx, n, [nll, lp]) => {
    const [x, y] = n.inputs.map((t) => ctx.name(t)) as [string, string];
    emitLogSoftmax(ctx, x, 1, lp!);
    const it = n.inputs[1]!.dtype;
    const [valid] = ctx.node("Not", ctx.node("Equal", [y, ctx.scalar(n.attrs.ignore_index as number, it)]));
    const [safe] = ctx.node("Where", [valid!, y, ctx.scalar(0, it)]);
    const [col] = ctx.node("Unsqueeze", [safe!, ctx.ints([1])]);
    const [picked] = ctx.node("Squeeze", [ctx.node("GatherElements", [lp!, col!], { axis: 1 })[0]!, ctx.ints([1])]);
    const [w] = ctx.node("Cast", [valid!], { to: ONNX_DTYPE[n.inputs[0]!.dtype] });
    ctx.node("Neg", ctx.node("Mul", [picked!, w!]), {}, [nll!]);
  },
  vjp: ([gNll, gLp], n) => {
    const [, y] = n.inputs as [Tensor, Tensor];
    const lp = n.outputs[1]!;
    const p = exp(lp); // softmax(scores)
    let gx: Tensor | null = null;
    if (gNll) {
      const valid = cast(not(equal(y, n.attrs.ignore_index as number)), gNll.dtype);
      const gv = unsqueeze(mul(gNll, valid), [-1]); // (N, 1), zero on ignored rows
      const safe = unsqueeze(where(not(equal(y, n.attrs.ignore_index as number)), y, 0), [-1]);
      gx = scatterElements(mul(p, gv), safe, neg(gv), 1, "add"); // softmax * g - onehot * g
    }
    if (gLp) {
      const t = sub(gLp, mul(p, reduceSum(gLp, [1], true))); // log-softmax backward
      gx = gx ? add(gx, t) : t;
    }
    return [gx, null];
  },
});

/**
 * KL(P || Q) per row from logits, P = softmax(a), Q = softmax(b) over the last axis:
 * outputs (kl [...], log P, log Q). A fused rule (the vocabulary axis makes these the largest tensors of
 * a SEAT step): d b = g (Q - P); d a = g P ((log P - log Q) - kl). Differentiating LogSoftmax + the KL
 * sum separately costs seven passes over [..., V] for d b; this costs three.
 */
export const KLDivLogitsOp = defineOp({
  name: "KLDivLogits",
  infer: ([a, b]) => {
    if (a!.rank !== b!.rank || a!.shape.some((d, i) => d !== b!.shape[i]))
      throw new Error(`logits differ in shape: ${a}, ${b}`);
    sameDtype([a!, b!]);
    return [
      { dtype: a!.dtype, shape: a!.shape.slice(0, -1) },
      { dtype: a!.dtype, shape: [...a!.shape] },
      { dtype: a!.dtype, shape: [...a!.shape] },
    ];
  },
  emit: (ctx, n, [kl, lp, lq]) => {
    const ax = n.inputs[0]!.rank - 1;
    emitLogSoftmax(ctx, ctx.name(n.inputs[0]!), ax, lp!);
    emitLogSoftmax(ctx, ctx.name(n.inputs[1]!), ax, lq!);
    const [p] = ctx.node("Exp", [lp!]);
    const [d] = ctx.node("Sub", [lp!, lq!]);
    const [pd] = ctx.node("Mul", [p!, d!]);
    ctx.node("ReduceSum", [pd!, ctx.ints([-1])], { keepdims: 0 }, [kl!]);
  },
  vjp: ([gKl, gLp, gLq], n) => {
    const [kl, lp, lq] = n.outputs as [Tensor, Tensor, Tensor];
    const p = exp(lp),
      q = exp(lq);
    let ga: Tensor | null = null,
      gb: Tensor | null = null;
    if (gKl) {
      const g = unsqueeze(gKl, [-1]);
      ga = mul(mul(p, sub(sub(lp, lq), unsqueeze(kl, [-1]))), g);
      gb = mul(sub(q, p), g);
    }
    const ax = lp.rank - 1;
    // the log-prob outputs, when used downstream, backpropagate as LogSoftmax does
    if (gLp) {
      const t = sub(gLp, mul(p, reduceSum(gLp, [ax], true)));
      ga = ga ? add(ga, t) : t;
    }
    if (gLq) {
      const t = sub(gLq, mul(q, reduceSum(gLq, [ax], true)));
      gb = gb ? add(gb, t) : t;
    }
    return [ga, gb];
  },
});

// ---- builders ----
/** Per-row NLL and log-probs: scores [N, C], labels [N] (ignoreIndex rows -> 0). */
export function softmaxCrossEntropy(
  scores: Tensor,
  labels: Tensor,
  ignoreIndex = -100,
): { nll: Tensor; logProb: Tensor } {
  const [nll, logProb] = scores.graph.apply(SoftmaxCrossEntropyOp, [scores, labels], { ignore_index: ignoreIndex });
  return { nll: nll!, logProb: logProb! };
}
/** KL(softmax(a) || softmax(b)) over the last axis, per position, from logits (fused backward). */
export function klLogits(a: Tensor, b: Tensor): { kl: Tensor; logP: Tensor; logQ: Tensor } {
  const [kl, logP, logQ] = a.graph.apply(KLDivLogitsOp, [a, b]);
  return { kl: kl!, logP: logP!, logQ: logQ! };
}
export const matMul = (a: Tensor, b: Tensor) => ap1(MatMulOp, [a, b]);
export const gemm = (a: Tensor, b: Tensor, t: { transA?: boolean; transB?: boolean } = {}) =>
  ap1(GemmOp, [a, b], { ...(t.transA ? { transA: 1 } : {}), ...(t.transB ? { transB: 1 } : {}) });
export const reshapeLike = (x: Tensor, like: Tensor) =>
  x.rank === like.rank && x.shape.every((d, i) => d === like.shape[i]) ? x : ap1(ReshapeLikeOp, [x, like]);
export const restoreLeading = (y: Tensor, like: Tensor) => ap1(RestoreLeadingOp, [y, like]);
export const softmax = (x: Tensor, axis = -1) => ap1(SoftmaxOp, [x], { axis: normAxis(axis, x.rank) });
export const logSoftmax = (x: Tensor, axis = -1) => ap1(LogSoftmaxOp, [x], { axis: normAxis(axis, x.rank) });
export const gather = (data: Tensor, ids: Tensor) => ap1(GatherOp, [data, ids]);
export const gatherElements = (data: Tensor, ids: Tensor, axis: number) =>
  ap1(GatherElementsOp, [data, ids], { axis: normAxis(axis, data.rank) });
export const gatherND = (data: Tensor, ids: Tensor) => ap1(GatherNDOp, [data, ids]);
export const scatterND = (data: Tensor, ids: Tensor, updates: Tensor, reduction: "none" | "add" = "none") =>
  ap1(ScatterNDOp, [data, ids, updates], { reduction });
export const scatterElements = (
  data: Tensor,
  ids: Tensor,
  updates: Tensor,
  axis: number,
  reduction: "none" | "add" = "none",
) => ap1(ScatterElementsOp, [data, ids, updates], { axis: normAxis(axis, data.rank), reduction });
/** Swaps the last two axes. */
export const swapLast = (x: Tensor) =>
  transpose(
    x,
    [...x.shape.keys()].map((i) => (i === x.rank - 2 ? x.rank - 1 : i === x.rank - 1 ? x.rank - 2 : i)),
  );
