// A LoRA run's adapter in PEFT's layout, so it loads with peft's PeftModel.from_pretrained on the base
// model (and in tools that read that layout): adapter_config.json plus adapter_model.safetensors with
// `base_model.model.<module>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r]. PEFT merges
// W + (lora_alpha / r) * B A, the same scale our LoRA uses (no rsLoRA), so merging the adapter onto the
// base gives the weights of the merged export.
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import type { HostTensor } from "../engine/index";
import { writeSafetensors, type ModelFolder, type ModelParam, type TensorToWrite } from "../model/index";
import type { SeatConfig } from "./config";

export function exportPeftAdapter(
  folder: ModelFolder,
  params: readonly ModelParam[],
  values: Readonly<Record<string, HostTensor>>,
  out: string,
  config: SeatConfig,
): string[] {
  const tensors: TensorToWrite[] = [];
  const modules: string[] = [];
  for (const p of params) {
    if (p.role !== "lora-A" && p.role !== "lora-B")
      throw new Error(`adapter export: "${p.weightName}" is trained as ${p.role}, which a LoRA adapter cannot hold`);
    const module = p.weightName.replace(/\.weight$/, "");
    if (p.role === "lora-A") modules.push(module);
    const v = values[p.input.name!]!;
    const data = v.data as Float32Array;
    tensors.push({
      name: `base_model.model.${module}.${p.role === "lora-A" ? "lora_A" : "lora_B"}.weight`,
      dtype: "F32",
      shape: [...v.dims],
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
  }
  const adapterConfig = {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    base_model_name_or_path: folder.dir,
    r: config.lora.r,
    lora_alpha: config.lora.alpha,
    lora_dropout: 0,
    bias: "none",
    fan_in_fan_out: false,
    use_rslora: false,
    use_dora: false,
    inference_mode: true,
    // Full module paths: PEFT matches a target by name suffix, so these pick exactly the trained modules.
    target_modules: modules,
    modules_to_save: null,
  };
  const cfgFile = join(out, "adapter_config.json");
  writeFileSync(cfgFile, JSON.stringify(adapterConfig, null, 2) + "\n");
  const weights = join(out, "adapter_model.safetensors");
  writeSafetensors(weights, tensors, { format: "pt" });
  return [cfgFile, weights];
}
