// Which weights a method trains and how (the model layer's WeightSpec per tensor). Shared by the
// trainer and by `seat export`, which rebuilds the same parametrisation to merge a checkpoint.
import type { ModelFolder, WeightSpec } from "../model/index";
import type { CkptTensor } from "./checkpoint";
import { methodParts, type SeatConfig } from "./config";
import { selectTensors, type Mask } from "./masks";

/**
 * The weight matrices among the tensors `patterns` select (mask.modules, lora.targets): masks and LoRA
 * adapt linear projections, never their biases (Qwen2's q/k/v have one) or norms.
 */
export function trainableMatrices(folder: ModelFolder, patterns: readonly string[], what: string): string[] {
  return selectTensors([...folder.weights.entries.keys()], patterns, what).filter(
    (n) => folder.weights.entries.get(n)!.shape.length === 2,
  );
}

export function weightSpecs(config: SeatConfig, folder: ModelFolder, mask: Mask | undefined): Map<string, WeightSpec> {
  const names = [...folder.weights.entries.keys()];
  const parts = methodParts(config.method);
  const specs = new Map<string, WeightSpec>();
  if (parts.params === "masked" && config.mask.type === "random-per-step") {
    // Redrawn every step: the eligible tensors are dense inputs; the trainer keeps each step's update
    // only at that step's draw.
    for (const n of trainableMatrices(folder, config.mask.modules, "mask.modules")) specs.set(n, { kind: "dense" });
  } else if (parts.params === "masked") {
    if (!mask) throw new Error(`method ${config.method} needs a mask`);
    // In the model's tensor order, never the mask's own order: a mask restored from a checkpoint comes
    // back in the file's (sorted) order, and the order of the trainable inputs decides the order in
    // which the optimizer sums the per-tensor squared gradient norms. A resumed run built its graph
    // with the tensors permuted, so its float32 global norm differed in the last bit, and with
    // clipping on the update did too (measured: 14 per-tensor sums identical, permuted).
    for (const n of mask.keys())
      if (!folder.weights.entries.has(n))
        throw new Error(`the mask names tensor "${n}", which the model does not have`);
    for (const n of names) {
      const idx = mask.get(n);
      if (idx) specs.set(n, { kind: "sparse", indices: idx });
    }
  } else if (parts.params === "dense") {
    for (const n of selectTensors(names, config.full.modules, "full.modules")) specs.set(n, { kind: "dense" });
  } else {
    for (const n of trainableMatrices(folder, config.lora.targets, "lora.targets"))
      specs.set(n, { kind: "lora", rank: config.lora.r, alpha: config.lora.alpha });
  }
  return specs;
}

/** Checkpoints store each mask as `mask/<tensor name>` (int32 flat positions). */
export function maskFromCheckpoint(tensors: ReadonlyMap<string, CkptTensor>): Mask {
  const mask: Mask = new Map();
  for (const [k, t] of tensors) if (k.startsWith("mask/")) mask.set(k.slice(5), t.data as Int32Array);
  return mask;
}
