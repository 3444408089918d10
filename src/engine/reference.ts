// A float64 reference interpreter for the IR, written against the ONNX operator definitions and
// independently of onnx/emit.ts: it evaluates graph nodes directly in JS so forward parity tests compare
// two implementations. Integers and booleans are carried as float64 numbers. Meant for tiny graphs.
import { HostTensor } from "./dtype";
import { Dim, Graph, Node, Tensor } from "./graph";

export interface NDArray {
  shape: number[];
  data: Float64Array;
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const strides = (s: readonly number[]) => {
  const r = new Array<number>(s.length);
  let k = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    r[i] = k;
    k *= s[i]!;
  }
  return r;
};
const nd = (shape: number[], data?: Float64Array): NDArray => ({ shape, data: data ?? new Float64Array(size(shape)) });

function toND(t: HostTensor): NDArray {
  const d = t.data;
  const out = new Float64Array(d.length);
  if (d instanceof BigInt64Array) for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  else if (t.dtype === "float16" || t.dtype === "bfloat16")
    throw new Error(`reference: ${t.dtype} constants unsupported`);
  else out.set(d as Float64Array);
  return nd([...t.dims], out);
}

function bshape(a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, i) => {
    const x = a[a.length - r + i] ?? 1,
      y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`reference: cannot broadcast [${a}] and [${b}]`);
    return x === 1 ? y : x;
  });
}
/** Maps each flat index of `out` to the flat index in `a` under broadcasting. */
function bindex(a: number[], out: number[]): Int32Array {
  const n = size(out),
    r = out.length,
    off = r - a.length,
    sa = strides(a);
  const idx = new Int32Array(n);
  const so = strides(out);
  for (let i = 0; i < n; i++) {
    let rem = i,
      j = 0;
    for (let k = 0; k < r; k++) {
      const c = Math.floor(rem / so[k]!);
      rem -= c * so[k]!;
      if (k >= off && a[k - off] !== 1) j += c * sa[k - off]!;
    }
    idx[i] = j;
  }
  return idx;
}
function broadcastTo(x: NDArray, shape: number[]): NDArray {
  const m = bindex(x.shape, shape);
  const o = nd(shape);
  for (let i = 0; i < m.length; i++) o.data[i] = x.data[m[i]!]!;
  return o;
}
function binary(a: NDArray, b: NDArray, f: (x: number, y: number) => number): NDArray {
  const s = bshape(a.shape, b.shape);
  const ia = bindex(a.shape, s),
    ib = bindex(b.shape, s);
  const o = nd(s);
  for (let i = 0; i < o.data.length; i++) o.data[i] = f(a.data[ia[i]!]!, b.data[ib[i]!]!);
  return o;
}
const unary = (a: NDArray, f: (x: number) => number) => nd([...a.shape], a.data.map(f));

function transposeND(x: NDArray, perm: number[]): NDArray {
  const s = perm.map((p) => x.shape[p]!);
  const sx = strides(x.shape),
    so = strides(s);
  const o = nd(s);
  for (let i = 0; i < o.data.length; i++) {
    let rem = i,
      j = 0;
    for (let k = 0; k < s.length; k++) {
      const c = Math.floor(rem / so[k]!);
      rem -= c * so[k]!;
      j += c * sx[perm[k]!]!;
    }
    o.data[i] = x.data[j]!;
  }
  return o;
}

/** Reduces along `axes` (normalised) with keepdims. */
function reduce(x: NDArray, axes: number[], init: number, f: (acc: number, v: number) => number): NDArray {
  const ax = new Set(axes.map((a) => (a < 0 ? a + x.shape.length : a)));
  const ks = x.shape.map((d, i) => (ax.has(i) ? 1 : d));
  const o = nd(ks, new Float64Array(size(ks)).fill(init));
  const m = bindex(ks, x.shape);
  for (let i = 0; i < x.data.length; i++) o.data[m[i]!] = f(o.data[m[i]!]!, x.data[i]!);
  return o;
}

function matmul(a: NDArray, b: NDArray): NDArray {
  const M = a.shape[a.shape.length - 2]!,
    K = a.shape[a.shape.length - 1]!,
    N = b.shape[b.shape.length - 1]!;
  const batch = bshape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const ia = bindex(a.shape.slice(0, -2), batch),
    ib = bindex(b.shape.slice(0, -2), batch);
  const o = nd([...batch, M, N]);
  for (let p = 0; p < size(batch); p++) {
    const ao = ia[p]! * M * K,
      bo = ib[p]! * K * N,
      oo = p * M * N;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a.data[ao + i * K + k]! * b.data[bo + k * N + j]!;
        o.data[oo + i * N + j] = s;
      }
  }
  return o;
}

function softmaxND(x: NDArray, axis: number, log: boolean): NDArray {
  const mx = broadcastTo(reduce(x, [axis], -Infinity, Math.max), x.shape);
  const e = nd(
    [...x.shape],
    x.data.map((v, i) => Math.exp(v - mx.data[i]!)),
  );
  const s = broadcastTo(
    reduce(e, [axis], 0, (a, v) => a + v),
    x.shape,
  );
  return nd(
    [...x.shape],
    log ? x.data.map((v, i) => v - mx.data[i]! - Math.log(s.data[i]!)) : e.data.map((v, i) => v / s.data[i]!),
  );
}

/** Symbolic target dims: copied from the same position of the input when it has that symbol, else inferred. */
function resolveShape(target: Dim[], fromSym: readonly Dim[], from: number[], n: number): number[] {
  let infer = -1;
  const out = target.map((d, i) => {
    if (typeof d === "number") return d;
    if (fromSym[i] === d) return from[i]!;
    if (infer < 0) {
      infer = i;
      return -1;
    }
    throw new Error(`reference: cannot resolve shape [${target}]`);
  });
  if (infer >= 0) out[infer] = n / size(out.filter((d) => d >= 0));
  return out;
}

function unravel(i: number, s: number[]): number[] {
  const st = strides(s);
  return s.map((_, k) => Math.floor(i / st[k]!) % s[k]!);
}
const ravel = (c: number[], s: number[]) => {
  const st = strides(s);
  return c.reduce((a, v, k) => a + v * st[k]!, 0);
};

function scatterND(data: NDArray, idx: NDArray, upd: NDArray, add: boolean): NDArray {
  const o = nd([...data.shape], data.data.slice());
  const k = idx.shape[idx.shape.length - 1]!;
  const rows = size(idx.shape.slice(0, -1));
  const inner = size(data.shape.slice(k));
  const st = strides(data.shape);
  for (let r = 0; r < rows; r++) {
    let base = 0;
    for (let j = 0; j < k; j++) {
      let v = idx.data[r * k + j]!;
      if (v < 0) v += data.shape[j]!;
      base += v * st[j]!;
    }
    for (let q = 0; q < inner; q++) o.data[base + q] = (add ? o.data[base + q]! : 0) + upd.data[r * inner + q]!;
  }
  return o;
}

type Impl = (x: NDArray[], n: Node) => NDArray | NDArray[];
const axisOf = (n: Node, r: number) => {
  const a = n.attrs.axis as number;
  return a < 0 ? a + r : a;
};

const IMPLS: Record<string, Impl> = {
  Add: ([a, b]) => binary(a!, b!, (x, y) => x + y),
  Sub: ([a, b]) => binary(a!, b!, (x, y) => x - y),
  Mul: ([a, b]) => binary(a!, b!, (x, y) => x * y),
  Div: ([a, b]) => binary(a!, b!, (x, y) => x / y),
  Pow: ([a, b]) => binary(a!, b!, Math.pow),
  Min: ([a, b]) => binary(a!, b!, Math.min),
  Max: ([a, b]) => binary(a!, b!, Math.max),
  Neg: ([a]) => unary(a!, (x) => -x),
  Exp: ([a]) => unary(a!, Math.exp),
  Log: ([a]) => unary(a!, Math.log),
  Sqrt: ([a]) => unary(a!, Math.sqrt),
  Reciprocal: ([a]) => unary(a!, (x) => 1 / x),
  Sigmoid: ([a]) => unary(a!, (x) => 1 / (1 + Math.exp(-x))),
  Tanh: ([a]) => unary(a!, Math.tanh),
  Abs: ([a]) => unary(a!, Math.abs),
  Sign: ([a]) => unary(a!, Math.sign),
  Identity: ([a]) => a!,
  Where: ([c, a, b]) => {
    const s = bshape(c!.shape, bshape(a!.shape, b!.shape));
    const C = broadcastTo(c!, s),
      A = broadcastTo(a!, s),
      B = broadcastTo(b!, s);
    return nd(
      s,
      C.data.map((v, i) => (v ? A.data[i]! : B.data[i]!)),
    );
  },
  Cast: ([a], n) => {
    const to = n.attrs.to as string;
    if (to === "bool") return unary(a!, (x) => (x !== 0 ? 1 : 0));
    if (to.startsWith("int") || to === "uint8") return unary(a!, Math.trunc);
    if (to === "float32") return unary(a!, Math.fround);
    return a!;
  },
  Equal: ([a, b]) => binary(a!, b!, (x, y) => +(x === y)),
  Less: ([a, b]) => binary(a!, b!, (x, y) => +(x < y)),
  LessOrEqual: ([a, b]) => binary(a!, b!, (x, y) => +(x <= y)),
  Greater: ([a, b]) => binary(a!, b!, (x, y) => +(x > y)),
  GreaterOrEqual: ([a, b]) => binary(a!, b!, (x, y) => +(x >= y)),
  Not: ([a]) => unary(a!, (x) => +!x),
  And: ([a, b]) => binary(a!, b!, (x, y) => +(!!x && !!y)),
  Reshape: ([a], n) =>
    nd(
      resolveShape(JSON.parse(n.attrs.shape as string) as Dim[], n.inputs[0]!.shape, a!.shape, a!.data.length),
      a!.data,
    ),
  ReshapeLike: ([a, like]) => nd([...like!.shape], a!.data),
  RestoreLeading: ([y, like]) => nd([...like!.shape.slice(0, -1), ...y!.shape.slice(1)], y!.data),
  Transpose: ([a], n) => transposeND(a!, n.attrs.perm as number[]),
  Slice: ([a], n) => {
    const shape = [...a!.shape];
    const lo = shape.map(() => 0),
      hi = [...shape];
    (n.attrs.axes as number[]).forEach((ax0, i) => {
      const ax = ax0 < 0 ? ax0 + shape.length : ax0,
        d = shape[ax]!;
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      lo[ax] = clamp((n.attrs.starts as number[])[i]!);
      hi[ax] = Math.max(lo[ax]!, clamp((n.attrs.ends as number[])[i]!));
    });
    const os = hi.map((h, i) => h - lo[i]!);
    const o = nd(os);
    for (let i = 0; i < o.data.length; i++)
      o.data[i] =
        a!.data[
          ravel(
            unravel(i, os).map((c, k) => c + lo[k]!),
            shape,
          )
        ]!;
    return o;
  },
  Pad: ([a], n) => {
    const p = n.attrs.pads as number[],
      r = a!.shape.length;
    const os = a!.shape.map((d, i) => d + p[i]! + p[i + r]!);
    const o = nd(os);
    for (let i = 0; i < a!.data.length; i++)
      o.data[
        ravel(
          unravel(i, a!.shape).map((c, k) => c + p[k]!),
          os,
        )
      ] = a!.data[i]!;
    return o;
  },
  Concat: (xs, n) => {
    const ax = axisOf(n, xs[0]!.shape.length);
    const os = [...xs[0]!.shape];
    os[ax] = xs.reduce((s, x) => s + x.shape[ax]!, 0);
    const o = nd(os);
    let off = 0;
    for (const x of xs) {
      for (let i = 0; i < x.data.length; i++) {
        const c = unravel(i, x.shape);
        c[ax]! += off;
        o.data[ravel(c, os)] = x.data[i]!;
      }
      off += x.shape[ax]!;
    }
    return o;
  },
  Expand: ([a], n) => {
    const to = JSON.parse(n.attrs.shape as string) as Dim[];
    const off = to.length - a!.shape.length;
    return broadcastTo(
      a!,
      to.map((d, i) => (typeof d === "number" ? d : a!.shape[i - off]!)),
    );
  },
  ExpandLike: ([a, like]) => broadcastTo(a!, like!.shape),
  ZerosLike: ([a]) => nd([...a!.shape]),
  ReduceSum: ([a], n) =>
    squeezeAxes(
      reduce(a!, n.attrs.axes as number[], 0, (s, v) => s + v),
      n,
      a!,
    ),
  ReduceMean: ([a], n) => {
    const s = reduce(a!, n.attrs.axes as number[], 0, (t, v) => t + v);
    const c = a!.data.length / s.data.length;
    return squeezeAxes(
      nd(
        s.shape,
        s.data.map((v) => v / c),
      ),
      n,
      a!,
    );
  },
  ReduceSumSquare: ([a], n) =>
    squeezeAxes(
      reduce(a!, n.attrs.axes as number[], 0, (s, v) => s + v * v),
      n,
      a!,
    ),
  ReduceMax: ([a], n) => squeezeAxes(reduce(a!, n.attrs.axes as number[], -Infinity, Math.max), n, a!),
  MatMul: ([a, b]) => matmul(a!, b!),
  Gemm: ([a, b], n) =>
    matmul(n.attrs.transA ? transposeND(a!, [1, 0]) : a!, n.attrs.transB ? transposeND(b!, [1, 0]) : b!),
  Softmax: ([a], n) => softmaxND(a!, axisOf(n, a!.shape.length), false),
  LogSoftmax: ([a], n) => softmaxND(a!, axisOf(n, a!.shape.length), true),
  Gather: ([d, i]) => {
    const inner = size(d!.shape.slice(1));
    const o = nd([...i!.shape, ...d!.shape.slice(1)]);
    for (let r = 0; r < i!.data.length; r++) {
      let v = i!.data[r]!;
      if (v < 0) v += d!.shape[0]!;
      o.data.set(d!.data.subarray(v * inner, (v + 1) * inner), r * inner);
    }
    return o;
  },
  GatherElements: ([d, i], n) => {
    const ax = axisOf(n, d!.shape.length);
    const o = nd([...i!.shape]);
    for (let r = 0; r < o.data.length; r++) {
      const c = unravel(r, i!.shape);
      let v = i!.data[r]!;
      if (v < 0) v += d!.shape[ax]!;
      c[ax] = v;
      o.data[r] = d!.data[ravel(c, d!.shape)]!;
    }
    return o;
  },
  GatherND: ([d, i]) => {
    const k = i!.shape[i!.shape.length - 1]!;
    const rows = size(i!.shape.slice(0, -1)),
      inner = size(d!.shape.slice(k)),
      st = strides(d!.shape);
    const o = nd([...i!.shape.slice(0, -1), ...d!.shape.slice(k)]);
    for (let r = 0; r < rows; r++) {
      let base = 0;
      for (let j = 0; j < k; j++) {
        let v = i!.data[r * k + j]!;
        if (v < 0) v += d!.shape[j]!;
        base += v * st[j]!;
      }
      o.data.set(d!.data.subarray(base, base + inner), r * inner);
    }
    return o;
  },
  KLDivLogits: ([a, b]) => {
    const ax = a!.shape.length - 1;
    const lp = softmaxND(a!, ax, true),
      lq = softmaxND(b!, ax, true);
    const V = a!.shape[ax]!;
    const kl = nd(a!.shape.slice(0, -1));
    for (let r = 0; r < kl.data.length; r++) {
      let s = 0;
      for (let v = 0; v < V; v++) {
        const i = r * V + v;
        s += Math.exp(lp.data[i]!) * (lp.data[i]! - lq.data[i]!);
      }
      kl.data[r] = s;
    }
    return [kl, lp, lq];
  },
  CrossEntropyRows: ([x, y], n) => {
    const lp = softmaxND(x!, 1, true);
    const [N, C] = x!.shape as [number, number];
    const nll = nd([N]);
    for (let r = 0; r < N; r++) {
      const lab = y!.data[r]!;
      nll.data[r] = lab === n.attrs.ignore_index ? 0 : -lp.data[r * C + (lab < 0 ? lab + C : lab)]!;
    }
    return [nll, lp];
  },
  ScatterND: ([d, i, u], n) => scatterND(d!, i!, u!, n.attrs.reduction === "add"),
  ScatterElements: ([d, i, u], n) => {
    const ax = axisOf(n, d!.shape.length);
    const o = nd([...d!.shape], d!.data.slice());
    for (let r = 0; r < u!.data.length; r++) {
      const c = unravel(r, i!.shape);
      let v = i!.data[r]!;
      if (v < 0) v += d!.shape[ax]!;
      c[ax] = v;
      const j = ravel(c, d!.shape);
      o.data[j] = (n.attrs.reduction === "add" ? o.data[j]! : 0) + u!.data[r]!;
    }
    return o;
  },
};

function squeezeAxes(r: NDArray, n: Node, x: NDArray): NDArray {
  if (n.attrs.keepdims) return r;
  const ax = new Set((n.attrs.axes as number[]).map((a) => (a < 0 ? a + x.shape.length : a)));
  return nd(
    r.shape.filter((_, i) => !ax.has(i)),
    r.data,
  );
}

/** Op names the interpreter implements (the completeness test checks every registered op is here). */
export const REFERENCE_OPS: readonly string[] = Object.keys(IMPLS);

/**
 * Evaluates the graph's outputs (or the given tensors) from feeds by input name, in float64.
 * Constants with external data are not supported.
 */
export function evaluate(g: Graph, feeds: Record<string, HostTensor>, want?: Tensor[]): NDArray[] {
  const vals = new Map<Tensor, NDArray>();
  for (const t of g.inputs) {
    const f = feeds[t.name!];
    if (f) vals.set(t, toND(f));
  }
  const targets = want ?? g.outputs.map((o) => o.tensor);
  const need = new Set<Node>();
  const stack = [...targets];
  while (stack.length) {
    const t = stack.pop()!;
    if (t.producer && !need.has(t.producer)) {
      need.add(t.producer);
      stack.push(...t.producer.inputs);
    }
  }
  const get = (t: Tensor): NDArray => {
    const v = vals.get(t);
    if (v) return v;
    if (t.kind === "input") throw new Error(`reference: no feed for input ${t.name}`);
    if (t.kind === "const") {
      if (t.constData!.kind !== "host") throw new Error(`reference: constant ${t.name} has external data`);
      const c = toND(t.constData!.value);
      vals.set(t, c);
      return c;
    }
    throw new Error(`reference: ${t} used before it was computed`);
  };
  // graph.nodes is in creation order, which is topological: inputs are always ready
  for (const n of g.nodes) {
    if (!need.has(n)) continue;
    const impl = IMPLS[n.op.name];
    if (!impl) throw new Error(`reference: op ${n.op.name} is not implemented`);
    const r = impl(n.inputs.map(get), n);
    (Array.isArray(r) ? r : [r]).forEach((v, i) => vals.set(n.outputs[i]!, v));
  }
  return targets.map(get);
}
