// Per-GPU memory of a torchrun job, estimated from the config and the model's shape, so a user can
// pick the node before sending the job. The model: weights (bf16 under DDP, except dense methods, which
// keep float32 masters; float32 under FSDP, whose units hold one dtype), trainable state (float32 value + gradient + two AdamW moments = 16 bytes a
// trainable scalar), both sharded over the GPUs under FSDP, plus one micro-batch of activations that
// backward keeps (about 34 * D bytes per token per layer in bf16, Korthikanti et al. 2022, table 2,
// without recomputation) and the float32 logits of the CE and KL passes (tuned, base and their
// log-softmax: 4 vocab-sized float32 rows per KL token, 2 per training token).
import type { LlamaConfig } from "../model/index";
import type { SeatConfig } from "../seat/index";

export interface MemoryEstimate {
  gpus: number;
  strategy: "ddp" | "fsdp";
  weightsGiB: number;
  trainableStateGiB: number;
  activationsGiB: number;
  totalGiB: number;
}

const GIB = 1024 ** 3;

export function estimateMemory(
  c: LlamaConfig,
  config: SeatConfig,
  totalParams: number,
  trainableParams: number,
  shape: { T: number; Tk: number; K: number },
  gpus: number,
  strategy: "ddp" | "fsdp",
): MemoryEstimate {
  const dense = ["full", "full+kl", "ewc", "replay"].includes(config.method);
  const shard = strategy === "fsdp" ? gpus : 1;
  // full+kl keeps a frozen bf16 copy of the base for the teacher; ewc a float32 copy of the base values and the Fisher.
  const extra = config.method === "full+kl" ? 2 * totalParams : config.method === "ewc" ? 8 * trainableParams : 0;
  const weights = ((dense || strategy === "fsdp" ? 4 : 2) * totalParams + extra) / shard;
  const state = ((dense ? 12 : 16) * trainableParams) / shard;
  const rows = config.train.batchSize;
  const tokens = rows * shape.T + shape.K * shape.Tk;
  const acts =
    34 * c.hiddenSize * c.numLayers * tokens + 4 * c.vocabSize * (2 * rows * shape.T + 4 * shape.K * shape.Tk);
  const total = weights + state + acts;
  // One decimal for real models, two for small ones (the embedded model's whole job is ~0.01 GiB).
  const g = (x: number) => (x >= GIB ? Math.round((x / GIB) * 10) / 10 : Math.round((x / GIB) * 100) / 100);
  return {
    gpus,
    strategy,
    weightsGiB: g(weights),
    trainableStateGiB: g(state),
    activationsGiB: g(acts),
    totalGiB: g(total),
  };
}

export function formatEstimate(e: MemoryEstimate): string {
  return `${e.strategy.toUpperCase()} on ${e.gpus} GPU(s): ~${e.totalGiB} GiB per GPU (weights ${e.weightsGiB}, trainable state ${e.trainableStateGiB}, activations ${e.activationsGiB})`;
}
