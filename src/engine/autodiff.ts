// Reverse-mode autodiff over the IR: appends the backward pass to the same graph as ordinary ops, so
// it is emitted to ONNX like the forward. Only nodes on a path from a chosen input to the loss are
// differentiated (frozen branches cost nothing), and broadcasting is undone here, once, for all ops.
import { isFloat } from "./dtype";
import { Node, Tensor } from "./graph";
import { add } from "./ops/elementwise";
import { reduceSum } from "./ops/reduce";
import { reshape, zerosLike } from "./ops/shape";

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

  for (let k = active.length - 1; k >= 0; k--) {
    const n = active[k]!;
    const gout = n.outputs.map((o) => grads.get(o) ?? null);
    if (gout.every((g) => g === null)) continue;
    if (!n.op.vjp) throw new Error(`no gradient rule for ${n.op.name} (node ${n.label ?? `${n.op.name}#${n.id}`})`);
    const gin = n.op.vjp(gout, n);
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
