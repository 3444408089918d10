// Optimizer update emitted in-graph (AdamW, global-norm clipping) and sparse parameters.
// A training graph takes parameters + optimizer state as inputs and returns their next values as
// outputs; `carry` maps each output back to the input it replaces for the next step, so a stateful
// session can keep them on its side (worker thread / GPU) and only the loss crosses back.
// Gradient accumulation splits that graph in two: micro-batch graphs that add their gradients into
// carried sums (accumulateGrad) and a small graph that clips and applies the sums (applyGradients).
import { DType, HostTensor } from "./dtype";
import { ExternalRef, Graph, staticNumel, Tensor } from "./graph";
import { grad } from "./autodiff";
import { add, cast, div, equal, lift, minimum, mul, pow, reciprocal, sqrt, sub, where } from "./ops/elementwise";
import { scatterND } from "./ops/nn";
import { reduceSumSquare } from "./ops/reduce";
import { reshape } from "./ops/shape";

export interface SparseParam {
  /** Graph input [k] holding the trainable entries (feed it, and carry its update). */
  values: Tensor;
  /** The full weight (frozen constant with the values scattered in), in the frozen weight's shape. */
  weight: Tensor;
  /** The int64 [k, 1] flat positions (a constant). */
  indices: Tensor;
}

/** Validates flat positions (unique, in range) and returns them as an int64 [k, 1] host tensor. */
export function sparseIndices(name: string, positions: ArrayLike<number> | BigInt64Array, size: number): HostTensor {
  const k = positions.length;
  const out = new BigInt64Array(k);
  const seen = new Uint8Array(Math.ceil(size / 8));
  for (let i = 0; i < k; i++) {
    const p = Number(positions[i]);
    if (!Number.isInteger(p) || p < 0 || p >= size)
      throw new Error(`sparse ${name}: index ${i} = ${p} is outside [0, ${size})`);
    if (seen[p >> 3]! & (1 << (p & 7))) throw new Error(`sparse ${name}: position ${p} appears twice`);
    seen[p >> 3]! |= 1 << (p & 7);
    out[i] = BigInt(p);
  }
  return { dtype: "int64", dims: [k, 1], data: out };
}

/**
 * A weight whose entries at `positions` (flat, row-major) are trainable and all others frozen.
 * The frozen weight becomes a constant initializer named `name` (host data or an external ref, e.g.
 * into a .safetensors file); the trainable entries are the graph input `<name>.values` [k].
 * Frozen entries are never written by the optimizer, so they stay bit-identical by construction.
 */
export function sparseParam(
  g: Graph,
  name: string,
  frozen: HostTensor | { dtype: DType; dims: number[]; external: ExternalRef },
  positions: ArrayLike<number> | BigInt64Array,
): SparseParam {
  const base = g.constant(name, frozen as HostTensor);
  const n = staticNumel(base.shape, `sparse ${name}`);
  const indices = g.constant(`${name}.indices`, sparseIndices(name, positions, n));
  const values = g.input(`${name}.values`, frozen.dtype, [positions.length]);
  const weight = reshape(scatterND(reshape(base, [n]), indices, values), base.shape);
  return { values, weight, indices };
}

/** Host-side initial values of a sparse parameter: frozen[positions]. */
export function gatherHost(frozen: HostTensor, positions: ArrayLike<number> | BigInt64Array): HostTensor {
  const src = frozen.data;
  const k = positions.length;
  if (!(src instanceof Float32Array || src instanceof Float64Array || src instanceof Uint16Array))
    throw new Error(`gatherHost: ${frozen.dtype} unsupported`);
  const out = new (src.constructor as Float32ArrayConstructor)(k);
  for (let i = 0; i < k; i++) out[i] = src[Number(positions[i])]!;
  return { dtype: frozen.dtype, dims: [k], data: out as HostTensor["data"] };
}

export interface AdamWConfig {
  beta1?: number; // 0.9
  beta2?: number; // 0.999
  eps?: number; // 1e-8
  /** Decoupled weight decay (Loshchilov & Hutter 2019), applied as p *= 1 - lr*wd. Default 0. */
  weightDecay?: number;
  /** Clip gradients to this global L2 norm (PyTorch clip_grad_norm_ semantics). */
  maxGradNorm?: number;
  /**
   * Dynamic loss scaling (mixed precision): a float32 scalar input `loss_scale`. trainStep and
   * accumulateGrad differentiate loss * loss_scale (so small half-precision gradients do not flush to
   * zero); the update divides the gradients by it in float32, and a step whose gradients are not all
   * finite (an overflow: grad_norm is inf or nan) leaves every parameter and moment unchanged. The host
   * reads grad_norm, lowers the scale after such a step and raises it after a run of good ones
   * (LossScaler).
   */
  lossScale?: boolean;
  /** Activation recompute in the backward pass (GradOptions.recompute). */
  recompute?: boolean;
}

export interface TrainableParam {
  /** A graph input (dense weight, sparse `.values`, LoRA factor...). */
  value: Tensor;
  /** Exclude from weight decay (norms, biases). */
  noDecay?: boolean;
}

/** What an optimizer update adds to a graph (see trainStep, applyGradients). */
export interface OptimizerUpdate {
  /** Output -> input it replaces on the next step (params and optimizer state). */
  carry: Record<string, string>;
  /** Names of the optimizer-state inputs to initialise with zeros (see initialOptimizerState). */
  stateInputs: { name: string; dtype: DType; dims: number[] }[];
  /** Scalar inputs: learning rate (schedule computed on the host) and 1-based step count. */
  lrInput: string;
  stepInput: string;
  /** Scalar output: global gradient norm before clipping. */
  gradNormOutput: string;
  /** With AdamWConfig.lossScale: the float32 scalar input of the loss scale. */
  lossScaleInput?: string;
}

export interface TrainStep extends OptimizerUpdate {
  /** Scalar output. */
  lossOutput: string;
}

/**
 * Appends backward + AdamW (PyTorch semantics, bias-corrected) to the graph and declares outputs:
 * `loss`, `grad_norm` (before clipping) and for each trainable input X: `X:next`, `X.m:next`, `X.v:next`
 * with inputs `X.m`, `X.v` (zeros at step 1). Inputs `lr` and `step` are float32 scalars.
 */
export function trainStep(loss: Tensor, params: TrainableParam[], cfg: AdamWConfig = {}): TrainStep {
  const g = loss.graph;
  checkTrainable(params);
  const lr = g.input("lr", "float32", []);
  const step = g.input("step", "float32", []);
  const scale = cfg.lossScale ? g.input(LOSS_SCALE, "float32", []) : undefined;
  const grads = grad(
    scale ? mul(loss, castTo(scale, loss.dtype)) : loss,
    params.map((p) => p.value),
    { recompute: cfg.recompute ?? false },
  );
  const { carry, stateInputs, norm } = adamW(params, grads, lr, step, cfg, scale);
  g.output("loss", loss);
  g.output("grad_norm", norm);
  return {
    carry,
    stateInputs,
    lrInput: "lr",
    stepInput: "step",
    lossOutput: "loss",
    gradNormOutput: "grad_norm",
    ...(scale ? { lossScaleInput: LOSS_SCALE } : {}),
  };
}

const LOSS_SCALE = "loss_scale";

/** Gradient accumulation over micro-batches (see accumulateGrad). */
export interface GradAccumulation {
  /** `X.acc:next` -> `X.acc`: the running sums stay session-side between micro-batches. */
  carry: Record<string, string>;
  /** The accumulator inputs `X.acc`, in the order of the params (feed zeros once, then carry). */
  accInputs: { name: string; dtype: DType; dims: number[] }[];
  /** Float32 scalar input multiplying the previous sums: 0 on a step's first micro-batch, 1 after. */
  keepInput: string;
  lossOutput: string;
  /** With loss scaling: the float32 scalar input of the loss scale. */
  lossScaleInput?: string;
}

/**
 * Appends the backward pass of `loss` and, for each trainable input X, an accumulator input `X.acc`
 * and output `X.acc:next = keep * X.acc + dloss/dX`. Summing micro-batch gradients this way and then
 * running `applyGradients` on the sums is one optimizer step over all the micro-batches, with the
 * memory of one; weighting each micro-batch's loss so the sums equal the whole batch's gradient is
 * the caller's part. `keep` = 0 starts a new sum without a separate zeroing pass (0 * finite = 0).
 */
export function accumulateGrad(
  loss: Tensor,
  params: TrainableParam[],
  opts: { lossScale?: boolean; recompute?: boolean } = {},
): GradAccumulation {
  const g = loss.graph;
  checkTrainable(params);
  const keep = g.input("acc_keep", "float32", []);
  // with loss scaling the sums are of scaled gradients: applyGradients({lossScale}) divides them
  const scale = opts.lossScale ? g.input(LOSS_SCALE, "float32", []) : undefined;
  const grads = grad(
    scale ? mul(loss, castTo(scale, loss.dtype)) : loss,
    params.map((p) => p.value),
    { recompute: opts.recompute ?? false },
  );
  const carry: Record<string, string> = {};
  const accInputs: GradAccumulation["accInputs"] = [];
  params.forEach((p, i) => {
    const x = p.value,
      dims = staticDims(x);
    const acc = g.input(`${x.name}.acc`, x.dtype, dims);
    accInputs.push({ name: acc.name!, dtype: x.dtype, dims });
    // With loss scaling a sum may hold inf/nan from an overflowed micro-batch, and 0 * inf is nan: a
    // new sum then starts by selection instead of the multiply.
    const next = scale
      ? where(equal(keep, 0), grads[i]!, add(acc, grads[i]!))
      : add(mul(acc, castTo(keep, x.dtype)), grads[i]!);
    g.output(`${acc.name}:next`, next);
    carry[`${acc.name}:next`] = acc.name!;
  });
  g.output("loss", loss);
  return {
    carry,
    accInputs,
    keepInput: "acc_keep",
    lossOutput: "loss",
    ...(scale ? { lossScaleInput: LOSS_SCALE } : {}),
  };
}

/**
 * Clipping + AdamW exactly as trainStep appends them, on gradients given by the caller (e.g. the sums
 * of accumulateGrad, fed as inputs of a graph of their own). Same inputs and outputs as trainStep
 * except `loss`.
 */
export function applyGradients(params: (TrainableParam & { grad: Tensor })[], cfg: AdamWConfig = {}): OptimizerUpdate {
  if (params.length === 0) throw new Error("applyGradients: no parameters");
  const g = params[0]!.value.graph;
  checkTrainable(params);
  const lr = g.input("lr", "float32", []);
  const step = g.input("step", "float32", []);
  const scale = cfg.lossScale ? g.input(LOSS_SCALE, "float32", []) : undefined;
  const { carry, stateInputs, norm } = adamW(
    params,
    params.map((p) => p.grad),
    lr,
    step,
    cfg,
    scale,
  );
  g.output("grad_norm", norm);
  return {
    carry,
    stateInputs,
    lrInput: "lr",
    stepInput: "step",
    gradNormOutput: "grad_norm",
    ...(scale ? { lossScaleInput: LOSS_SCALE } : {}),
  };
}

function checkTrainable(params: TrainableParam[]): void {
  for (const p of params) if (p.value.kind !== "input") throw new Error(`trainable ${p.value} must be a graph input`);
}

function staticDims(x: Tensor): number[] {
  return x.shape.map((d) => {
    if (typeof d !== "number") throw new Error(`trainable ${x} needs a static shape`);
    return d;
  });
}

/** Global-norm clipping and the AdamW update of every param from its gradient; declares the outputs. */
function adamW(
  params: TrainableParam[],
  grads: Tensor[],
  lr: Tensor,
  step: Tensor,
  cfg: AdamWConfig,
  lossScale?: Tensor,
): { carry: Record<string, string>; stateInputs: OptimizerUpdate["stateInputs"]; norm: Tensor } {
  const g = lr.graph;
  const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, maxGradNorm } = cfg;
  if (lossScale) {
    const inv = reciprocal(lossScale);
    grads = grads.map((gr) => mul(gr, castTo(inv, gr.dtype)));
  }

  // Global norm over all gradients (one ReduceSumSquare pass each), accumulated in float32.
  const norm = sqrt(
    grads
      .map((gr) =>
        castF32(
          reduceSumSquare(
            gr,
            gr.shape.map((_, i) => i),
          ),
        ),
      )
      .reduce((a, b) => add(a, b)),
  );
  // Clipping scale s = min(1, maxNorm / (norm + 1e-6)) is folded into the moment coefficients below.
  const clip = maxGradNorm === undefined ? null : minimum(div(lift(norm, maxGradNorm), add(norm, 1e-6)), 1);

  // Bias corrections (PyTorch AdamW): p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps).
  // Rewritten as p -= (lr*sqrt(bc2)/bc1) * m / (sqrt(v) + eps*sqrt(bc2)) so that every tensor-sized
  // pass is a single op with scalar operands: elementwise passes over all parameters dominate the
  // optimizer's cost on CPU (onnxruntime does not fuse them).
  const bc1 = sub(1, pow(lift(step, beta1), step));
  const sqrtBc2 = sqrt(sub(1, pow(lift(step, beta2), step)));
  const stepSize = div(mul(lr, sqrtBc2), bc1);
  const epsHat = mul(sqrtBc2, eps);
  const c1 = clip ? mul(clip, 1 - beta1) : lift(lr, 1 - beta1);
  const c2 = clip ? mul(mul(clip, clip), 1 - beta2) : lift(lr, 1 - beta2);
  const decay = weightDecay ? sub(1, mul(lr, weightDecay)) : null;
  // Loss scaling: an overflowed step (norm inf or nan, so norm - norm is nan) keeps the old values.
  const finite = lossScale ? equal(sub(norm, norm), 0) : null;
  const keepIfBad = (next: Tensor, old: Tensor) => (finite ? where(finite, next, old) : next);

  const carry: Record<string, string> = {};
  const stateInputs: OptimizerUpdate["stateInputs"] = [];
  params.forEach((p, i) => {
    const x = p.value,
      name = x.name!;
    const dims = staticDims(x);
    const m = g.input(`${name}.m`, x.dtype, dims);
    const v = g.input(`${name}.v`, x.dtype, dims);
    stateInputs.push({ name: m.name!, dtype: x.dtype, dims }, { name: v.name!, dtype: x.dtype, dims });
    const gr = grads[i]!;
    const k = (t: Tensor) => castTo(t, x.dtype);
    const m2 = add(mul(m, beta1), mul(gr, k(c1))); // beta1 m + (1-beta1) s g
    const v2 = add(mul(v, beta2), mul(mul(gr, k(c2)), gr)); // beta2 v + (1-beta2) s^2 g^2
    const upd = mul(div(m2, add(sqrt(v2), k(epsHat))), k(stepSize));
    const x2 = sub(decay && !p.noDecay ? mul(x, k(decay)) : x, upd);
    g.output(`${name}:next`, keepIfBad(x2, x));
    carry[`${name}:next`] = name;
    g.output(`${m.name}:next`, keepIfBad(m2, m));
    carry[`${m.name}:next`] = m.name!;
    g.output(`${v.name}:next`, keepIfBad(v2, v));
    carry[`${v.name}:next`] = v.name!;
  });
  return { carry, stateInputs, norm };
}

const castF32 = (t: Tensor) => (t.dtype === "float64" ? t : cast(t, "float32"));
const castTo = (t: Tensor, d: DType) => cast(t, d);

/** Zero-filled optimizer state feeds for a TrainStep (or any update's state inputs). */
export function initialOptimizerState(s: Pick<OptimizerUpdate, "stateInputs">): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const i of s.stateInputs) {
    const n = i.dims.reduce((a, b) => a * b, 1);
    const data =
      i.dtype === "float64" ? new Float64Array(n) : i.dtype === "float32" ? new Float32Array(n) : new Uint16Array(n);
    out[i.name] = { dtype: i.dtype, dims: i.dims, data };
  }
  return out;
}

/**
 * Dynamic loss scale for mixed-precision training (the host side of AdamWConfig.lossScale), PyTorch
 * GradScaler's rule: start at `initial`; after a step whose gradients overflowed (grad_norm not finite;
 * the graph then left the state unchanged) halve the scale; after `growthInterval` good steps in a row
 * double it. The scale stays within [min, max]. `state()`/`restore()` carry the scale and the count of
 * good steps across a checkpoint (the settings are the run's own).
 */
export interface LossScalerState {
  scale: number;
  goodSteps: number;
}

export class LossScaler {
  readonly initial: number;
  readonly growthInterval: number;
  readonly min: number;
  readonly max: number;
  scale: number;
  /** Good steps since the last change of scale. */
  goodSteps = 0;
  constructor(opts: { initial?: number; growthInterval?: number; min?: number; max?: number } = {}) {
    this.initial = opts.initial ?? 2 ** 16;
    this.growthInterval = opts.growthInterval ?? 2000;
    this.min = opts.min ?? 1;
    this.max = opts.max ?? 2 ** 24;
    if (!(this.min > 0 && this.min <= this.initial && this.initial <= this.max && this.growthInterval >= 1))
      throw new Error(
        `LossScaler: needs 0 < min <= initial <= max and growthInterval >= 1 (got ${JSON.stringify(opts)})`,
      );
    this.scale = this.initial;
  }
  state(): LossScalerState {
    return { scale: this.scale, goodSteps: this.goodSteps };
  }
  /** A state from `state()` (e.g. a checkpoint's); a scale outside [min, max] or a bad count is refused. */
  restore(s: LossScalerState): void {
    if (!(Number.isFinite(s.scale) && s.scale >= this.min && s.scale <= this.max))
      throw new Error(`loss scale ${s.scale} is outside the scaler's range [${this.min}, ${this.max}]`);
    if (!(Number.isInteger(s.goodSteps) && s.goodSteps >= 0))
      throw new Error(`loss scaler's good-step count must be a non-negative integer, got ${s.goodSteps}`);
    this.scale = s.scale;
    this.goodSteps = s.goodSteps;
  }
  /** After a run at `scale`: its grad_norm. True when the update was applied (gradients finite). */
  update(gradNorm: number): boolean {
    if (!Number.isFinite(gradNorm)) {
      this.scale = Math.max(this.min, this.scale / 2);
      this.goodSteps = 0;
      return false;
    }
    if (++this.goodSteps >= this.growthInterval) {
      this.scale = Math.min(this.max, this.scale * 2);
      this.goodSteps = 0;
    }
    return true;
  }
}
