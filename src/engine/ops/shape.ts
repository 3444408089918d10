// Shape primitives: Reshape, Transpose, Slice, Pad, Concat, Expand, and the shape-only helpers
// ExpandLike / ZerosLike / Shape that backward rules use. Static shape data (target shapes, axes,
// pads) lives in node attributes and is emitted as int64 constants (ONNX takes them as inputs).
import { ONNX_DTYPE, type DType } from "../dtype";
import { Attrs, defineOp, Dim, dimAdd, normAxis, Shape, Tensor } from "../graph";

const ap1 = (op: ReturnType<typeof defineOp>, xs: Tensor[], attrs: Attrs = {}) => xs[0]!.graph.apply(op, xs, attrs)[0]!;

/** Reshape target as ONNX wants it: 0 = copy the input dim at that index, -1 = infer (at most once). */
function reshapeSpec(from: Shape, to: Shape): number[] {
  let inferred = false;
  return to.map((d, i) => {
    if (typeof d === "number") return d;
    if (from[i] === d) return 0;
    if (inferred)
      throw new Error(`reshape [${from.join(",")}] -> [${to.join(",")}]: more than one symbolic dim cannot be derived`);
    inferred = true;
    return -1;
  });
}

// Reshape target shapes are stored as a JSON attribute so symbolic dims survive until emission.
export const ReshapeOp = defineOp({
  name: "Reshape",
  infer: ([x], a) => {
    const to = JSON.parse(a.shape as string) as Dim[];
    reshapeSpec(x!.shape, to);
    return [{ dtype: x!.dtype, shape: to }];
  },
  emit: (ctx, n, outs) => {
    const x = n.inputs[0]!;
    ctx.node("Reshape", [ctx.name(x), ctx.ints(reshapeSpec(x.shape, n.outputs[0]!.shape))], {}, outs);
  },
  vjp: ([g], n) => [reshape(g!, n.inputs[0]!.shape)], // reshape is a permutation-free relabelling
});

export const TransposeOp = defineOp({
  name: "Transpose",
  infer: ([x], a) => {
    const perm = a.perm as number[];
    if (perm.length !== x!.rank || [...perm].sort().some((p, i) => p !== i))
      throw new Error(`bad perm [${perm}] for rank ${x!.rank}`);
    return [{ dtype: x!.dtype, shape: perm.map((p) => x!.shape[p]!) }];
  },
  vjp: ([g], n) => {
    // the inverse permutation undoes it
    const perm = n.attrs.perm as number[];
    const inv: number[] = [];
    perm.forEach((p, i) => {
      inv[p] = i;
    });
    return [transpose(g!, inv)];
  },
});

const BIG = 2 ** 62; // "to the end" for Slice ends

function sliceDim(d: Dim, start: number, end: number): { len: Dim; s: number; e: number } {
  if (typeof d === "string") {
    if (start === 0 && end >= BIG) return { len: d, s: 0, e: BIG };
    if (start < 0 && end >= BIG) return { len: -start, s: start, e: BIG };
    throw new Error(`slice [${start}:${end}] of symbolic dim ${d} is not static`);
  }
  const s = Math.min(Math.max(start < 0 ? start + d : start, 0), d);
  const e = Math.min(Math.max(end < 0 ? end + d : end, 0), d);
  return { len: Math.max(e - s, 0), s, e };
}

export const SliceOp = defineOp({
  name: "Slice",
  infer: ([x], a) => {
    const shape = [...x!.shape];
    const axes = (a.axes as number[]).map((ax) => normAxis(ax, x!.rank));
    axes.forEach((ax, i) => {
      shape[ax] = sliceDim(shape[ax]!, (a.starts as number[])[i]!, (a.ends as number[])[i]!).len;
    });
    return [{ dtype: x!.dtype, shape }];
  },
  emit: (ctx, n, outs) => {
    const a = n.attrs;
    ctx.node(
      "Slice",
      [
        ctx.name(n.inputs[0]!),
        ctx.ints(a.starts as number[]),
        ctx.ints(a.ends as number[]),
        ctx.ints(a.axes as number[]),
      ],
      {},
      outs,
    );
  },
  // the gradient of a window is the window's gradient zero-padded back to the full extent (Pad)
  vjp: ([g], n) => {
    const x = n.inputs[0]!;
    const pads = new Array<number>(2 * x.rank).fill(0);
    (n.attrs.axes as number[]).forEach((ax0, i) => {
      const ax = normAxis(ax0, x.rank);
      const d = x.shape[ax]!;
      if (typeof d !== "number") throw new Error(`Slice backward needs a static dim on axis ${ax} of ${x}`);
      const { s, e } = sliceDim(d, (n.attrs.starts as number[])[i]!, (n.attrs.ends as number[])[i]!);
      pads[ax] = s;
      pads[ax + x.rank] = d - e;
    });
    return [pad(g!, pads)];
  },
});

export const PadOp = defineOp({
  name: "Pad",
  infer: ([x], a) => {
    const p = a.pads as number[];
    if (p.length !== 2 * x!.rank) throw new Error(`pads needs ${2 * x!.rank} entries`);
    return [{ dtype: x!.dtype, shape: x!.shape.map((d, i) => dimAdd(dimAdd(d, p[i]!), p[i + x!.rank]!)) }];
  },
  emit: (ctx, n, outs) => {
    ctx.node("Pad", [ctx.name(n.inputs[0]!), ctx.ints(n.attrs.pads as number[])], { mode: "constant" }, outs);
  },
  vjp: ([g], n) => {
    // zero padding's gradient is the unpadded window
    const x = n.inputs[0]!;
    const p = n.attrs.pads as number[];
    const axes = x.shape.map((_, i) => i);
    return [
      slice(
        g!,
        axes.map((i) => p[i]!),
        axes.map((i) => (p[i + x.rank]! === 0 ? BIG : -p[i + x.rank]!)),
        axes,
      ),
    ];
  },
});

export const ConcatOp = defineOp({
  name: "Concat",
  infer: (xs, a) => {
    const r = xs[0]!.rank;
    const ax = normAxis(a.axis as number, r);
    const shape = [...xs[0]!.shape];
    for (const x of xs.slice(1)) {
      if (x.rank !== r || x.dtype !== xs[0]!.dtype) throw new Error(`concat inputs differ: ${xs.join(", ")}`);
      x.shape.forEach((d, i) => {
        if (i !== ax && d !== shape[i]) throw new Error(`concat dim ${i} differs: ${xs.join(", ")}`);
      });
      shape[ax] = dimAdd(shape[ax]!, x.shape[ax]!);
    }
    return [{ dtype: xs[0]!.dtype, shape }];
  },
  vjp: ([g], n) => {
    // each input's gradient is its slice of the output gradient
    const ax = normAxis(n.attrs.axis as number, n.inputs[0]!.rank);
    let off = 0;
    return n.inputs.map((x) => {
      const d = x.shape[ax]!;
      if (typeof d !== "number") throw new Error(`Concat backward needs static sizes on axis ${ax}: ${x}`);
      const r = slice(g!, [off], [off + d], [ax]);
      off += d;
      return r;
    });
  },
});

/** Expand to a target shape; symbolic target dims must already be present in x (broadcast = 1). */
export const ExpandOp = defineOp({
  name: "Expand",
  infer: ([x], a) => {
    const to = JSON.parse(a.shape as string) as Dim[];
    const off = to.length - x!.rank;
    if (off < 0) throw new Error("expand cannot drop dims");
    x!.shape.forEach((d, i) => {
      if (d !== 1 && d !== to[i + off]) throw new Error(`cannot expand [${x!.shape}] to [${to}]`);
    });
    return [{ dtype: x!.dtype, shape: to }];
  },
  emit: (ctx, n, outs) => {
    const x = n.inputs[0]!;
    const to = n.outputs[0]!.shape;
    const off = to.length - x.rank;
    const spec = to.map((d, i) => {
      if (typeof d === "number") return d;
      if (x.shape[i - off] === d) return 1;
      throw new Error(`Expand: symbolic target dim ${d} is not in the input; use expandLike`);
    });
    ctx.node("Expand", [ctx.name(x), ctx.ints(spec)], {}, outs);
  },
  vjp: ([g]) => [g!], // summed back over the broadcast axes by autodiff's unbroadcast
});

/** Expand x to like's shape (like's values are not read; its run-time shape is, when symbolic). */
export const ExpandLikeOp = defineOp({
  name: "ExpandLike",
  infer: ([x, like]) => {
    const off = like!.rank - x!.rank;
    x!.shape.forEach((d, i) => {
      if (d !== 1 && d !== like!.shape[i + off]) throw new Error(`cannot expand ${x} to ${like}`);
    });
    return [{ dtype: x!.dtype, shape: [...like!.shape] }];
  },
  emit: (ctx, n, outs) => {
    const [x, like] = n.inputs as [Tensor, Tensor];
    const shape = like.shape.every((d) => typeof d === "number")
      ? ctx.ints(like.shape as number[])
      : ctx.node("Shape", [ctx.name(like)])[0]!;
    ctx.node("Expand", [ctx.name(x), shape], {}, outs);
  },
  vjp: ([g]) => [g!, null], // like contributes only its shape
});

export const ZerosLikeOp = defineOp({
  name: "ZerosLike",
  infer: ([x], a) => [{ dtype: (a.dtype as DType | undefined) ?? x!.dtype, shape: [...x!.shape] }],
  emit: (ctx, n, outs) => {
    const x = n.inputs[0]!;
    const dt = n.outputs[0]!.dtype;
    const shape = x.shape.every((d) => typeof d === "number")
      ? ctx.ints(x.shape as number[])
      : ctx.node("Shape", [ctx.name(x)])[0]!;
    ctx.node("ConstantOfShape", [shape], { value: { dtype: dt, dims: [1], data: zeroData(dt) } }, outs);
  },
  vjp: () => [null], // constant in x's values
});

function zeroData(d: keyof typeof ONNX_DTYPE) {
  switch (d) {
    case "float64":
      return new Float64Array(1);
    case "float32":
      return new Float32Array(1);
    case "int64":
      return new BigInt64Array(1);
    case "int32":
      return new Int32Array(1);
    case "float16":
    case "bfloat16":
      return new Uint16Array(1);
    default:
      return new Uint8Array(1);
  }
}

// ---- builders ----
export const reshape = (x: Tensor, shape: Shape) =>
  x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])
    ? x
    : ap1(ReshapeOp, [x], { shape: JSON.stringify(shape) });
export const transpose = (x: Tensor, perm: number[]) =>
  perm.every((p, i) => p === i) ? x : ap1(TransposeOp, [x], { perm });
/** x[..., starts:ends, ...] on the given axes (ends may be Infinity for "to the end"). */
export const slice = (x: Tensor, starts: number[], ends: number[], axes: number[]) =>
  ap1(SliceOp, [x], { starts, ends: ends.map((e) => (e >= BIG ? BIG : e)), axes });
export const pad = (x: Tensor, pads: number[]) => (pads.every((p) => p === 0) ? x : ap1(PadOp, [x], { pads }));
export const concat = (xs: Tensor[], axis: number) =>
  xs.length === 1 ? xs[0]! : xs[0]!.graph.apply(ConcatOp, xs, { axis })[0]!;
export const expand = (x: Tensor, shape: Shape) => ap1(ExpandOp, [x], { shape: JSON.stringify(shape) });
export const expandLike = (x: Tensor, like: Tensor) =>
  x.shape.length === like.rank && x.shape.every((d, i) => d === like.shape[i]) ? x : ap1(ExpandLikeOp, [x, like]);
/** Zeros of x's shape, in x's dtype or the one given. */
export const zerosLike = (x: Tensor, dtype?: DType) =>
  ap1(ZerosLikeOp, [x], dtype && dtype !== x.dtype ? { dtype } : {});
/** Inserts size-1 axes (positions in the output). */
export function unsqueeze(x: Tensor, axes: number[]): Tensor {
  const r = x.rank + axes.length;
  const set = new Set(axes.map((a) => normAxis(a, r)));
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) out.push(set.has(i) ? 1 : x.shape[j++]!);
  return reshape(x, out);
}
/** Removes size-1 axes. */
export function squeeze(x: Tensor, axes: number[]): Tensor {
  const set = new Set(axes.map((a) => normAxis(a, x.rank)));
  for (const a of set) if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${a} of ${x} is not 1`);
  return reshape(
    x,
    x.shape.filter((_, i) => !set.has(i)),
  );
}
export { BIG as SLICE_END };
