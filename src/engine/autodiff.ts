// Reverse-mode autodiff over the IR: appends the backward pass to the same graph as ordinary ops, so
// it is emitted to ONNX like the forward. Only nodes on a path from a chosen input to the loss are
// differentiated (frozen branches cost nothing), and broadcasting is undone here, once, for all ops.
import { isFloat } from "./dtype";
import { Node, Segment, Tensor } from "./graph";
import { add, cast, mul } from "./ops/elementwise";
import { reduceSum } from "./ops/reduce";
import { reshape, slice, zerosLike } from "./ops/shape";

/** Sums a gradient computed in a broadcast shape back to the shape of the value it belongs to. */
export function unbroadcast(g: Tensor, x: Tensor): Tensor {
  if (g.rank === x.rank && g.shape.every((d, i) => d === x.shape[i])) return g;
  const lead = g.rank - x.rank;
  if (lead < 0) throw new Error(`gradient ${g} has lower rank than its value ${x}`);
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead) axes.push(i);
    else if (x.shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
    else if (x.shape[i - lead] !== g.shape[i]) throw new Error(`gradient ${g} does not broadcast to ${x}`);
  }
  const s = axes.length ? reduceSum(g, axes, true) : g;
  return reshape(s, x.shape);
}

export interface GradOptions {
  /** Gradient of the output (defaults to 1 for a scalar loss). */
  seed?: Tensor;
  /**
   * Activation recompute (gradient checkpointing): the backward pass of each of the graph's segments
   * (Graph.segment, one per decoder layer) reads a second copy of the segment's forward nodes, run from
   * the segment's input once the gradient of its output exists, so the forward intermediates die in the
   * forward pass and only the segment inputs are kept. Same values bit for bit, ~1/3 more compute.
   */
  recompute?: boolean;
}

/**
 * The recomputed copy of a segment: its nodes that depend on the segment input, applied again to
 * `input + 0 * after[0]`. The zero term is a data dependency on `after` (a gradient reaching the
 * segment), so the copy cannot run before the backward pass gets there, and no optimizer can merge it
 * with the original (its input differs). x + 0 * s == x exactly for finite s; a non-finite gradient
 * (an fp16 overflow) makes the copy non-finite too, and that step is skipped anyway.
 * Returns original tensor -> recomputed tensor.
 */
function recomputeSegment(seg: Segment, after: Tensor): Map<Tensor, Tensor> {
  const graph = seg.input.graph;
  if (!isFloat(after.dtype)) throw new Error(`recompute: segment ${seg.label} reached by a non-float ${after}`);
  const first = slice(after, new Array(after.rank).fill(0), new Array(after.rank).fill(1), [...after.shape.keys()]);
  const scalar = reshape(first, []);
  const zero = mul(cast(scalar, seg.input.dtype), 0);
  const map = new Map<Tensor, Tensor>([[seg.input, add(seg.input, zero)]]);
  const inRange = graph.nodes.filter((n) => n.id >= seg.firstId && n.id < seg.endId);
  for (const n of inRange) {
    if (!n.inputs.some((x) => map.has(x))) continue;
    const outs = graph.apply(
      n.op,
      n.inputs.map((x) => map.get(x) ?? x),
      n.attrs,
    );
    n.outputs.forEach((o, i) => map.set(o, outs[i]!));
  }
  map.delete(seg.input); // the backward pass reads the kept input itself
  return map;
}

/**
 * Gradients of `loss` with respect to each tensor in `wrt` (graph inputs or any intermediate).
 * A tensor the loss does not depend on gets zeros. Throws `no gradient rule for <op> (node <name>)`
 * when a differentiable path crosses an op without a rule.
 */
export function grad(loss: Tensor, wrt: Tensor[], opts: GradOptions = {}): Tensor[] {
  const graph = loss.graph;
  if (!opts.seed && loss.rank !== 0) throw new Error(`grad: loss ${loss} is not a scalar; pass a seed`);
  for (const w of wrt) {
    if (w.graph !== graph) throw new Error(`grad: ${w} belongs to another graph`);
    if (!isFloat(w.dtype)) throw new Error(`grad: ${w} is not a float tensor`);
  }
  // forward sweep: which values depend on a chosen input
  const live = new Set<Tensor>(wrt);
  const nodes: Node[] = graph.nodes.slice();
  const active: Node[] = [];
  for (const n of nodes) {
    if (n.op.nonDifferentiable) continue;
    if (n.inputs.some((x) => live.has(x))) {
      active.push(n);
      for (const o of n.outputs) if (isFloat(o.dtype)) live.add(o);
    }
  }
  if (!live.has(loss)) return wrt.map((w) => zerosLike(w));

  const grads = new Map<Tensor, Tensor>();
  const accumulate = (x: Tensor, g: Tensor) => {
    const prev = grads.get(x);
    grads.set(x, prev ? add(prev, g) : g);
  };
  grads.set(loss, opts.seed ?? graph.scalar(1, loss.dtype));

  // Recompute: the closed segments, and per segment the recomputed copy once the backward pass reaches it.
  const segments = opts.recompute ? graph.segments.filter((s) => s.endId >= 0) : [];
  const segmentOf = (n: Node) => segments.find((s) => n.id >= s.firstId && n.id < s.endId);
  const copies = new Map<Segment, Map<Tensor, Tensor>>();
  const view = (n: Node, gout: (Tensor | null)[]): Node => {
    const seg = segments.length ? segmentOf(n) : undefined;
    if (!seg) return n;
    let m = copies.get(seg);
    if (!m) {
      m = recomputeSegment(
        seg,
        gout.find((g) => g !== null)!,
      );
      copies.set(seg, m);
    }
    return { ...n, inputs: n.inputs.map((x) => m.get(x) ?? x), outputs: n.outputs.map((o) => m.get(o) ?? o) };
  };

  for (let k = active.length - 1; k >= 0; k--) {
    const n = active[k]!;
    const gout = n.outputs.map((o) => grads.get(o) ?? null);
    if (gout.every((g) => g === null)) continue;
    if (!n.op.vjp) throw new Error(`no gradient rule for ${n.op.name} (node ${n.label ?? `${n.op.name}#${n.id}`})`);
    const gin = n.op.vjp(gout, view(n, gout));
    if (gin.length !== n.inputs.length) {
      throw new Error(`gradient rule for ${n.op.name} returned ${gin.length} entries for ${n.inputs.length} inputs`);
    }
    n.inputs.forEach((x, i) => {
      const g = gin[i];
      if (!g || !live.has(x)) return;
      accumulate(x, unbroadcast(g, x));
    });
    // free the bookkeeping of consumed outputs (the graph keeps the nodes)
    for (const o of n.outputs) if (!wrt.includes(o)) grads.delete(o);
  }
  return wrt.map((w) => grads.get(w) ?? zerosLike(w));
}
