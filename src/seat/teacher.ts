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

/** Activation memory the teacher's batched decoding may use (beside its weights). */
const TEACHER_ACTIVATION_BYTES = 256 * 2 ** 20;
/**
 * Measured bytes per row over the MLP-activation estimate below: the Qwen2.5-0.5B shape (random
 * weights, 53-token rows, 2 threads) peaked at 3.20 GB decoding 8 rows at once and 4.61 GB at 33, about
 * 56 MB per extra row, 7x the estimate (the KV cache, attention and onnxruntime's arena come on top).
 */
const TEACHER_ROW_FACTOR = 8;

/**
 * Rows the teacher decodes at once: 64 where that many rows fit in 256 MiB by the measured per-row
 * cost (the estimate: three intermediate-wide fp32 MLP tensors per token and a logits row, times
 * TEACHER_ROW_FACTOR), fewer for wider models, at least 8 (the inference default). Wider batches
 * decode faster per reply (the demo's teacher: 64 rows vs 8, ~30% less time; the 0.5B shape: 33 vs 8,
 * 22% less at +1.4 GB, which is why real shapes stay near 8); rows are padded and masked, so a reply
 * does not depend on its batch beyond float rounding (the demo's 4,552 replies, both example sets,
 * came out identical).
 */
export function teacherBatchRows(cfg: LlamaConfig, maxSeqLen: number): number {
  const perRow = TEACHER_ROW_FACTOR * 4 * (3 * maxSeqLen * cfg.intermediateSize + cfg.vocabSize);
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
