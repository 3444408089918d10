// How one optimizer step runs on the training session(s), and where the trainable state lives.
//   gradAccum 1: one run of the fused training graph (forward, objective, backward, AdamW); weights and
//     AdamW moments are carried session-side from step to step.
//   gradAccum N: per micro-batch one run of the gradient graph, which adds the micro-batch's weighted
//     gradients into accumulators carried session-side, then one run of the apply graph (clipping +
//     AdamW on the sums), which holds no model weights, so the frozen model is loaded once. The apply
//     session carries the trainable weights and moments as the fused session does; the gradient
//     session carries the accumulators and reads the weights, and each session reads the other's
//     tensors as views, never copies (measured on a 100M full fine-tune, 4 micro-batches of 2x64:
//     copying them each step raised peak RSS from 4.9 to 5.6 GB).
// On WebGPU the carried tensors (weights, moments, accumulators) stay on the device: only the scalars
// and answer_ok come back each step, and getState (checkpoints, export, quick eval) reads the state back
// through the runtime's one read-back path; the two accumulation sessions hand each other device
// tensors directly (shareStateWith) instead of host views.
// Carried state is written over its own input buffer (StepOptions.inPlace) wherever the graph makes
// that safe: every reader of the old value runs before the node writing the new one. The moments, the
// accumulators and everything in the apply graph are read only by their own update; the fused graph's
// weights are read by the forward and backward passes too, and are written in place only with gradient
// clipping (the update then waits for the global norm, i.e. for every pass). One copy of the state
// instead of two: measured on the 135M shape's full fine-tune (see README).
// Activations are those of one micro-batch; the accumulators add one gradient-sized buffer. A cancel between micro-batches leaves weights and moments untouched (the partial
// sums are restarted by the next step).
import type { HostTensor } from "../engine/index";
import { initialOptimizerState, LossScaler, toOnnx } from "../engine/index";
import { openModelSession, type ModelFolder, type ModelGraph, type WeightSpecs } from "../model/index";
import { halfPrecisionProblem, LocalSession, type Provider, type Session } from "../runtime/index";
import type { SeatConfig } from "./config";
import type { LossShare } from "./data";
import { buildApplyGraph, buildGradGraph, buildTrainGraph, hostScalar, type TrainGraphSpec } from "./graphs";
import { resolvePrecision } from "./precision";

export interface StepOutputs {
  loss: number;
  ce: number;
  kl?: number;
  ewc?: number;
  gradNorm: number;
  /** Mixed precision: the loss scale the applied update ran at. */
  lossScale?: number;
  /** Per batch row: 1 answered exactly (greedy), 0 not, -1 filler. */
  answerOk: Float32Array;
}

/** One graph run's worth of the step's examples. */
export interface MicroBatch {
  /** ids, labels (+ kl_ids, kl_mask), shaped for one micro-batch. */
  feeds: Record<string, HostTensor>;
  /** Its share of the step's loss terms (lossShares); the fused step has one micro-batch and ignores it. */
  share: LossShare;
}

/**
 * Runs right before the weights change (after the last micro-batch); the function it resolves to runs
 * right after. random-per-step masks use it, so a cancelled step draws nothing.
 */
export type UpdateHook = () => Promise<() => Promise<void>>;

export interface Stepper {
  readonly model: ModelGraph;
  readonly provider: string;
  /** What a checkpoint holds: every trainable input X and its moments X.m, X.v. */
  readonly stateNames: readonly string[];
  /**
   * Mixed precision with loss scaling: the dynamic loss scaler (its scale and count of good steps go
   * into checkpoints, CheckpointState.lossScaler); undefined when the run trains without one.
   */
  readonly lossScaler?: LossScaler;
  /** Trainable inputs at their initial values and zero moments (a fresh run), as new arrays. */
  initialState(): Record<string, HostTensor>;
  getState(names: readonly string[]): Promise<Record<string, HostTensor>>;
  /** With `adopt` the arrays are handed over: later steps are written into them (the caller drops them). */
  setState(values: Record<string, HostTensor>, opts?: { adopt?: boolean }): Promise<void>;
  /** Resolves undefined when `signal` aborted between micro-batches: nothing was updated. */
  step(
    batches: readonly MicroBatch[],
    lr: number,
    step: number,
    signal: AbortSignal,
    hook?: UpdateHook,
  ): Promise<StepOutputs | undefined>;
  release(): Promise<void>;
}

export interface StepperOptions {
  provider: SeatConfig["device"]["provider"];
  threads?: number;
  log: (message: string) => void;
  /** Mixed precision: the loss scaler's settings (default: LossScaler's, i.e. PyTorch's). */
  lossScaler?: ConstructorParameters<typeof LossScaler>[0];
  /**
   * Tests only: build the half-precision graphs for the CPU provider, whose float16 kernels check them
   * numerically on a machine without a GPU. Training itself refuses fp16 on the CPU (precision.ts).
   */
  halfOnCpu?: boolean;
}

/**
 * Host constants of 1 MiB or more (EWC's Fisher, sparse indices, RoPE tables) go to an external file
 * beside the written model, never into the protobuf: its messages are capped at 2 GiB, which EWC's
 * Fisher (one float per weight) passes at about 0.5B parameters.
 */
const EXTERNAL = { externalThreshold: 1 << 20, externalFile: "constants.data" };

const num = (out: Record<string, HostTensor>, n: string) => (out[n] ? Number(out[n].data[0]) : undefined);

/** Once, after the first step on a GPU: where the carried state lives (the run log shows residency). */
function residencyReporter(session: Session, names: readonly string[], log: (m: string) => void): () => Promise<void> {
  let done = session.provider === "cpu";
  return async () => {
    if (done) return;
    done = true;
    const at = await session.stateLocations();
    const onDevice = names.filter((n) => at[n] === "gpu-buffer").length;
    log(
      `training state on ${session.provider}: ${onDevice} of ${names.length} carried tensors on the device, ${names.length - onDevice} on the host`,
    );
  };
}

export async function openStepper(
  folder: ModelFolder,
  specs: WeightSpecs,
  spec: TrainGraphSpec,
  config: SeatConfig,
  opts: StepperOptions,
): Promise<Stepper> {
  const sessionOpts = { ...(opts.threads ? { intraOpThreads: opts.threads } : {}) };
  const precision = resolvePrecision(config.device.precision, opts.halfOnCpu ? "webgpu" : opts.provider);
  if (precision.compute !== "float32" && !opts.halfOnCpu) {
    const problem = await halfPrecisionProblem(opts.provider as Provider, precision.compute);
    if (problem) throw new Error(`--precision ${config.device.precision}: ${problem}; use --precision fp32`);
  }
  if (precision.compute !== "float32") {
    spec = { ...spec, precision };
    opts.log(`precision: ${precision.description}`);
  }
  const onGpu = (s: Session) => {
    if (precision.compute !== "float32" && s.provider === "cpu" && !opts.halfOnCpu)
      throw new Error(
        `--precision ${config.device.precision} needs a GPU, but the session fell back to cpu (${s.fallbackReason ?? "unknown reason"}); use --precision fp32`,
      );
  };
  // Mixed precision: an update whose gradients overflowed was skipped in the graph; the scale is halved
  // and the same batch runs again (at most until the scale reaches its minimum).
  const scaler = precision.lossScale ? new LossScaler(opts.lossScaler) : undefined;
  const scaleFeed = (): Record<string, HostTensor> => (scaler ? { loss_scale: hostScalar(scaler.scale) } : {});
  /** After a run: true when it must be repeated at the (now lower) scale. */
  const overflowed = (gradNorm: number, loss: number, step: number): boolean => {
    if (!scaler) return false;
    const used = scaler.scale;
    if (scaler.update(gradNorm) || !Number.isFinite(loss) || used <= scaler.min) return false;
    opts.log(
      `fp16: gradients overflowed at loss scale ${used} (step ${step}): update skipped, rerun at ${scaler.scale}`,
    );
    return true;
  };
  if (config.train.gradAccum === 1) {
    const tg = buildTrainGraph(folder, specs, spec, config);
    const session = await openModelSession(toOnnx(tg.model.graph, EXTERNAL), folder.weights, {
      ...sessionOpts,
      provider: opts.provider,
      label: "training graph",
      log: opts.log,
      keepOnDevice: Object.keys(tg.step.carry),
    });
    try {
      onGpu(session);
    } catch (e) {
      await session.release();
      throw e;
    }
    const residency = residencyReporter(session, Object.values(tg.step.carry), opts.log);
    // Written over their inputs (one copy of the state, see the header): the moments always (each is read
    // only by its own update); the weights when clipping is on, which makes every weight's update wait
    // for the global gradient norm, i.e. for every pass that reads any weight.
    const moments = new Set(tg.step.stateInputs.map((i) => i.name));
    const inPlace = Object.entries(tg.step.carry)
      .filter(([, i]) => moments.has(i) || config.optim.clipNorm > 0)
      .map(([o]) => o);
    return {
      model: tg.model,
      provider: session.provider,
      stateNames: Object.values(tg.step.carry),
      lossScaler: scaler,
      initialState: () => ({ ...tg.model.initialState(), ...initialOptimizerState(tg.step) }),
      getState: (names) => session.getState([...names]),
      setState: (values, o) => session.setState(values, o),
      async step(batches, lr, step, _signal, hook) {
        const after = hook ? await hook() : undefined;
        let out: Record<string, HostTensor>;
        let scale: number | undefined;
        do {
          scale = scaler?.scale;
          out = await session.step(
            { ...batches[0]!.feeds, lr: hostScalar(lr), step: hostScalar(step), ...scaleFeed() },
            { carry: tg.step.carry, fetch: tg.fetch, inPlace },
          );
        } while (overflowed(num(out, "grad_norm")!, num(out, "loss")!, step));
        await after?.();
        await residency();
        return {
          loss: num(out, "loss")!,
          ce: num(out, "term_ce")!,
          kl: num(out, "term_kl"),
          ewc: num(out, "term_ewc"),
          gradNorm: num(out, "grad_norm")!,
          ...(scale !== undefined ? { lossScale: scale } : {}),
          answerOk: out.answer_ok!.data as Float32Array,
        };
      },
      release: () => session.release(),
    };
  }

  const gg = buildGradGraph(folder, specs, spec, config);
  const ag = buildApplyGraph(gg.model.params, gg, config, spec);
  const grad = await openModelSession(toOnnx(gg.model.graph, EXTERNAL), folder.weights, {
    ...sessionOpts,
    provider: opts.provider,
    label: "gradient graph",
    log: opts.log,
    keepOnDevice: Object.keys(gg.acc.carry),
  });
  let apply: Session;
  try {
    // On the provider the gradient graph got, so a fallback is decided (and reported) once.
    apply = await openModelSession(toOnnx(ag.graph, EXTERNAL), folder.weights, {
      ...sessionOpts,
      provider: grad.provider,
      label: "optimizer graph",
      log: opts.log,
      keepOnDevice: Object.keys(ag.update.carry),
    });
    onGpu(grad);
  } catch (e) {
    await grad.release();
    throw e;
  }
  const paramNames = gg.model.params.map((p) => p.input.name!);
  const accNames = gg.acc.accInputs.map((a) => a.name);
  const isParam = new Set(paramNames);
  // The gradient session reads the weights as views of the apply session's buffers (no copies): the
  // apply session writes each update into its other (recycled) buffer, and the views are renewed
  // after every update, before that buffer's turn comes again.
  // On the device the same tensors are handed over (no host round trip).
  const device =
    grad.provider === "webgpu" && grad instanceof LocalSession && apply instanceof LocalSession
      ? { grad, apply }
      : undefined;
  const shareWeights = async () =>
    device
      ? device.apply.shareStateWith(device.grad, paramNames)
      : grad.setState(await apply.getState(paramNames, { view: true }));
  await grad.setState(initialOptimizerState({ stateInputs: gg.acc.accInputs }));
  const residency = residencyReporter(apply, Object.values(ag.update.carry), opts.log);
  return {
    model: gg.model,
    provider: grad.provider,
    stateNames: Object.values(ag.update.carry),
    lossScaler: scaler,
    initialState: () => ({ ...gg.model.initialState(), ...initialOptimizerState(ag.update) }),
    getState: (names) => apply.getState([...names]),
    async setState(values, o) {
      await apply.setState(values, o);
      if (Object.keys(values).some((n) => isParam.has(n))) await shareWeights();
    },
    async step(batches, lr, step, signal, hook) {
      let loss = 0,
        ce = 0,
        kl = 0,
        ewc = 0,
        rows: Float32Array[] = [];
      let after: (() => Promise<void>) | undefined;
      let out: Record<string, HostTensor>;
      let scale: number | undefined;
      do {
        loss = ce = kl = ewc = 0;
        rows = [];
        scale = scaler?.scale;
        for (const [k, b] of batches.entries()) {
          if (signal.aborted) return undefined;
          const s = gg.shareInputs;
          const mb = await grad.step(
            {
              ...b.feeds,
              acc_keep: hostScalar(k === 0 ? 0 : 1),
              [s.ce]: hostScalar(b.share.ce),
              ...(s.kl ? { [s.kl]: hostScalar(b.share.kl) } : {}),
              ...(s.ewc ? { [s.ewc]: hostScalar(b.share.ewc) } : {}),
              ...scaleFeed(),
            },
            { carry: gg.acc.carry, fetch: gg.fetch, inPlace: Object.keys(gg.acc.carry) },
          );
          // The step's terms are the micro-batches' means weighted as in the loss (a NaN stays NaN).
          loss += num(mb, gg.acc.lossOutput)!;
          ce += b.share.ce * num(mb, "term_ce")!;
          kl += b.share.kl * (num(mb, "term_kl") ?? 0);
          ewc += b.share.ewc * (num(mb, "term_ewc") ?? 0);
          rows.push(mb.answer_ok!.data as Float32Array);
        }
        if (hook && !after) after = await hook();
        if (device) device.grad.shareStateWith(device.apply, accNames);
        const sums = device ? {} : await grad.getState(accNames, { view: true });
        out = await apply.step(
          { ...sums, lr: hostScalar(lr), step: hostScalar(step), ...scaleFeed() },
          { carry: ag.update.carry, fetch: [ag.update.gradNormOutput], inPlace: Object.keys(ag.update.carry) },
        );
        await shareWeights();
      } while (overflowed(num(out, ag.update.gradNormOutput)!, loss, step));
      await after?.();
      await residency();
      const answerOk = new Float32Array(rows.reduce((a, r) => a + r.length, 0));
      let at = 0;
      for (const r of rows) {
        answerOk.set(r, at);
        at += r.length;
      }
      return {
        loss,
        ce,
        ...(gg.shareInputs.kl ? { kl } : {}),
        ...(gg.shareInputs.ewc ? { ewc } : {}),
        gradNorm: num(out, ag.update.gradNormOutput)!,
        ...(scale !== undefined ? { lossScale: scale } : {}),
        answerOk,
      };
    },
    async release() {
      await grad.release();
      await apply.release();
    },
  };
}
