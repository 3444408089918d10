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
import { initialOptimizerState, toOnnx } from "../engine/index";
import { openModelSession, type ModelFolder, type ModelGraph, type WeightSpecs } from "../model/index";
import { LocalSession, type Session } from "../runtime/index";
import type { SeatConfig } from "./config";
import type { LossShare } from "./data";
import { buildApplyGraph, buildGradGraph, buildTrainGraph, hostScalar, type TrainGraphSpec } from "./graphs";

export interface StepOutputs {
  loss: number;
  ce: number;
  kl?: number;
  ewc?: number;
  gradNorm: number;
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
  if (config.train.gradAccum === 1) {
    const tg = buildTrainGraph(folder, specs, spec, config);
    const session = await openModelSession(toOnnx(tg.model.graph, EXTERNAL), folder.weights, {
      ...sessionOpts,
      provider: opts.provider,
      label: "training graph",
      log: opts.log,
      keepOnDevice: Object.keys(tg.step.carry),
    });
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
      initialState: () => ({ ...tg.model.initialState(), ...initialOptimizerState(tg.step) }),
      getState: (names) => session.getState([...names]),
      setState: (values, o) => session.setState(values, o),
      async step(batches, lr, step, _signal, hook) {
        const after = hook ? await hook() : undefined;
        const out = await session.step(
          { ...batches[0]!.feeds, lr: hostScalar(lr), step: hostScalar(step) },
          { carry: tg.step.carry, fetch: tg.fetch, inPlace },
        );
        await after?.();
        await residency();
        return {
          loss: num(out, "loss")!,
          ce: num(out, "term_ce")!,
          kl: num(out, "term_kl"),
          ewc: num(out, "term_ewc"),
          gradNorm: num(out, "grad_norm")!,
          answerOk: out.answer_ok.data as Float32Array,
        };
      },
      release: () => session.release(),
    };
  }

  const gg = buildGradGraph(folder, specs, spec, config);
  const ag = buildApplyGraph(gg.model.params, gg, config);
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
        ewc = 0;
      const rows: Float32Array[] = [];
      for (const [k, b] of batches.entries()) {
        if (signal.aborted) return undefined;
        const s = gg.shareInputs;
        const out = await grad.step(
          {
            ...b.feeds,
            acc_keep: hostScalar(k === 0 ? 0 : 1),
            [s.ce]: hostScalar(b.share.ce),
            ...(s.kl ? { [s.kl]: hostScalar(b.share.kl) } : {}),
            ...(s.ewc ? { [s.ewc]: hostScalar(b.share.ewc) } : {}),
          },
          { carry: gg.acc.carry, fetch: gg.fetch, inPlace: Object.keys(gg.acc.carry) },
        );
        // The step's terms are the micro-batches' means weighted as in the loss (a NaN stays NaN).
        loss += num(out, gg.acc.lossOutput)!;
        ce += b.share.ce * num(out, "term_ce")!;
        kl += b.share.kl * (num(out, "term_kl") ?? 0);
        ewc += b.share.ewc * (num(out, "term_ewc") ?? 0);
        rows.push(out.answer_ok.data as Float32Array);
      }
      const after = hook ? await hook() : undefined;
      if (device) device.grad.shareStateWith(device.apply, accNames);
      const sums = device ? {} : await grad.getState(accNames, { view: true });
      const out = await apply.step(
        { ...sums, lr: hostScalar(lr), step: hostScalar(step) },
        { carry: ag.update.carry, fetch: [ag.update.gradNormOutput], inPlace: Object.keys(ag.update.carry) },
      );
      await shareWeights();
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
        answerOk,
      };
    },
    async release() {
      await grad.release();
      await apply.release();
    },
  };
}
