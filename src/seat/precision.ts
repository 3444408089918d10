// Compute precision of the training graphs (setting device.precision, flag --precision), resolved
// against the execution provider before any graph is built:
//   fp32: everything float32 (the CPU always; `auto` everywhere until fp16 is measured on a hardware GPU).
//   fp16: the forward and backward pass in float16 (norms, softmax, logits and the loss in float32),
//         float32 master copies of the trainable entries with their AdamW moments, gradients cast to
//         float32 before the update, dynamic loss scaling (engine AdamWConfig.lossScale + LossScaler).
//         Frozen weights are held in float16 (a float16 file as is, others converted once at load).
//   bf16: as fp16 without loss scaling (bfloat16 has float32's range); cuda only: the webgpu provider
//         has no bfloat16 kernels (WGSL has no such type) and the CPU trains in float32.
// Pure (config validation uses it); the run-time check that float16 executes is runtime/halfProbe.ts.
import type { SeatConfig } from "./config";

export type Precision = SeatConfig["device"]["precision"];
export type ComputeDtype = "float32" | "float16" | "bfloat16";

export interface ResolvedPrecision {
  compute: ComputeDtype;
  lossScale: boolean;
  /** For the run log. */
  description: string;
}

const FP32: ResolvedPrecision = { compute: "float32", lossScale: false, description: "fp32" };

/** The graphs' precision for a requested provider; one line naming the fix for combinations that cannot work. */
export function resolvePrecision(precision: Precision, provider: SeatConfig["device"]["provider"]): ResolvedPrecision {
  if (precision === "auto" || precision === "fp32") return FP32;
  if (provider === "cpu")
    throw new Error(
      `--precision ${precision} needs a GPU provider (--device ${precision === "bf16" ? "cuda" : "webgpu or cuda"}): the CPU trains in fp32 (--precision auto or fp32)`,
    );
  if (precision === "bf16") {
    if (provider !== "cuda")
      throw new Error(
        `--precision bf16 needs --device cuda: onnxruntime's ${provider === "auto" ? "webgpu (auto's first choice)" : provider} provider has no bf16 kernels; use --precision fp16 there`,
      );
    return { compute: "bfloat16", lossScale: false, description: "bf16 compute, fp32 master weights and AdamW state" };
  }
  if (provider !== "auto" && provider !== "webgpu" && provider !== "cuda")
    throw new Error(`--precision fp16 is implemented for --device webgpu and cuda, not ${provider}`);
  return {
    compute: "float16",
    lossScale: true,
    description: "fp16 compute, fp32 master weights and AdamW state, dynamic loss scaling",
  };
}
