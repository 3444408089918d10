// The KL teacher's continuations: the frozen base model's own greedy replies to perturbed prompts (its
// abstentions). Generated with the model layer's KV-cache generation, on a separate inference session
// that is loaded on first use and released once the run's targets exist; the replies are cached in the run folder so a resumed run reuses exactly
// the same targets instead of regenerating them.
import { LlamaModel } from "../model/llamaModel";
import type { LlamaConfig, ModelFolder } from "../model/index";
import type { SeatConfig } from "./config";
import type { EventSink } from "./runFolder";

/** Greedy replies (token ids, stop token excluded) to each prompt. */
export interface Generator {
  /** Loads the inference session now (see prepare.ts for why the moment matters). */
  load(): Promise<void>;
  /**
   * `quiet`: the caller reports progress itself (a prefetch of many epochs says so in a few lines
   * instead of one per call).
   */
  generate(prompts: number[][], maxNewTokens: number, signal: AbortSignal, quiet?: boolean): Promise<number[][]>;
  dispose(): Promise<void>;
}

/** Activation memory the teacher's batched prefill may use (beside its weights). */
const TEACHER_ACTIVATION_BYTES = 256 * 2 ** 20;

/**
 * Rows the teacher decodes at once: 64 where the prefill's largest activations (the MLP's, three
 * intermediate-wide fp32 tensors per token) and the rows' last-token logits fit in 256 MiB, fewer for
 * wide models (at least 8, the inference default). Wider batches decode faster per reply (the demo's
 * teacher: 64 rows vs 8, ~30% less time); rows are padded and masked, so a reply does not depend on its
 * batch beyond float rounding (the demo's 4,552 replies, both example sets, came out identical).
 */
export function teacherBatchRows(cfg: LlamaConfig, maxSeqLen: number): number {
  const perRow = 4 * (3 * maxSeqLen * cfg.intermediateSize + cfg.vocabSize);
  return Math.max(8, Math.min(64, Math.floor(TEACHER_ACTIVATION_BYTES / perRow)));
}

export function baseGenerator(folder: ModelFolder, config: SeatConfig, sink: EventSink): Generator {
  let model: LlamaModel | undefined;
  const load = async () => {
    // Folded: a private fp32 copy of bf16 weights decodes ~2.8x faster (measured on the 135M shape);
    // the teacher is released before the training session opens (prepare.ts), so the copy never
    // shares the memory with training.
    model ??= await LlamaModel.load(folder, {
      foldWeights: true,
      batchSize: teacherBatchRows(folder.config, config.train.maxSeqLen),
      provider: config.device.provider,
      ...(config.device.threads ? { intraOpThreads: config.device.threads } : {}),
      log: (m) => sink.emit({ type: "log", level: "info", message: `teacher: ${m}` }),
    });
  };
  const generate = async (prompts: number[][], maxNewTokens: number, signal: AbortSignal, quiet = false) => {
    await load();
    if (!model) throw new Error("teacher model failed to load");
    if (!quiet)
      sink.emit({
        type: "phase",
        phase: "teacher",
        message: `base model replies to ${prompts.length} perturbed prompt(s)`,
      });
    const res = await model.generate(prompts, { maxNewTokens, signal });
    signal.throwIfAborted();
    return res.map((r) => r.ids);
  };
  return {
    load,
    generate,
    dispose: async () => {
      await model?.dispose();
      model = undefined;
    },
  };
}
