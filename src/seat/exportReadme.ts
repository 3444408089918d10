// The README of an exported model: what it is (base model, method, run, step), how it was tuned (the
// settings that shape the result), the run's last evaluation when there is one, and how to use the
// files of the format written.
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { SeatConfig } from "./config";
import { RUN_FILES } from "./runFolder";
import { autoEpochsLine } from "./stopRule";
import { calibrationCostText, candidateSecondsText } from "./calibrationText";
import type { RunSummary } from "../protocol/events";

export interface ReadmeInput {
  runDir: string;
  config: SeatConfig;
  step: number;
  format: "hf" | "gguf" | "adapter" | "onnx";
  base: string;
  quant?: string;
}

function summaryLines(runDir: string): string[] {
  const f = join(runDir, RUN_FILES.summary);
  if (!existsSync(f)) return [];
  try {
    const s = JSON.parse(readFileSync(f, "utf8")) as Record<string, unknown>;
    const flat = Object.entries(s)
      .filter(([, v]) => typeof v === "number" || typeof v === "string")
      .slice(0, 16);
    const extra: string[] = [];
    const auto = s["epochsAuto"] as RunSummary["epochsAuto"];
    if (auto) extra.push(`- ${autoEpochsLine(auto)}`);
    const cal = s["calibration"] as RunSummary["calibration"];
    if (cal) {
      extra.push(
        "",
        "## Calibration",
        "",
        `Chosen: KL lambda ${cal.chosen.lambda}, mask ratio ${cal.chosen.ratio} (${cal.reason}); ${calibrationCostText(cal)}.`,
        "",
        "| lambda | mask ratio | answer accuracy | held-out abstention | seconds (steps) |",
        "|---|---|---|---|---|",
        ...cal.points.map(
          (p) =>
            `| ${p.lambda} | ${p.ratio} | ${p.answerAccuracy.toFixed(3)} | ${p.abstentionProb.toFixed(3)} | ${candidateSecondsText(p)} |`,
        ),
      );
    }
    return flat.length || extra.length
      ? [
          "",
          "## Run summary",
          "",
          ...flat.map(([k, v]) => `- ${k}: ${typeof v === "number" ? Number(v.toPrecision(4)) : v}`),
          ...extra,
        ]
      : [];
  } catch {
    return [];
  }
}

const USAGE: Record<ReadmeInput["format"], (q?: string) => string[]> = {
  hf: () => [
    "Load it like the base model: `AutoModelForCausalLM.from_pretrained(<this folder>)`, or point SEAT Tuner at it.",
  ],
  gguf: (q) => [
    `\`model-${q ?? "f16"}.gguf\` loads in llama.cpp and LM Studio; for Ollama: \`ollama create my-model -f Modelfile\` in this folder.`,
  ],
  adapter: () => [
    "A PEFT LoRA adapter: `PeftModel.from_pretrained(base, <this folder>)` on the base model named in adapter_config.json.",
  ],
  onnx: () => [
    "`model.onnx` is the inference graph SEAT Tuner runs (inputs and outputs in model.onnx.json); weights are in model.onnx.data.",
  ],
};

export function runReadme(r: ReadmeInput): string {
  const c = r.config;
  const method =
    c.method === "lora"
      ? `LoRA (r ${c.lora.r}, alpha ${c.lora.alpha})`
      : c.method === "seat" || c.method === "sparse"
        ? `${c.method} (${c.mask.type} mask, ratio ${c.mask.ratio}${c.method === "seat" ? `, KL lambda ${c.kl.lambda}` : ""})`
        : c.method;
  return [
    `# ${basename(r.base)}, tuned with SEAT Tuner (${c.method})`,
    "",
    `Fine-tuned from \`${r.base}\` on \`${c.dataset}\`. Exported from the run \`${r.runDir}\` at step ${r.step}${r.quant ? ` as ${r.quant}` : ""}.`,
    "",
    "## Training",
    "",
    `- method: ${method}`,
    `- learning rate ${c.optim.lr}, ${c.optim.schedule} schedule, batch ${c.train.batchSize} x ${c.train.gradAccum}, ${c.train.epochs === "auto" ? `epochs auto (at most ${c.train.maxEpochs})` : `up to ${c.train.epochs} epochs`}, seed ${c.train.seed}`,
    `- loss on: ${c.lossOn}`,
    ...summaryLines(r.runDir),
    "",
    "## Use",
    "",
    ...USAGE[r.format](r.quant),
    "",
    "The base model's license applies to this model.",
    "",
  ].join("\n");
}
