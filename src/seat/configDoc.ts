// CONFIG.md, generated from the schema so the documented defaults and reasons cannot drift from the
// code (a unit test compares the file with this function's output).
import { SCHEMA, PRESETS, PRETRAINED_PRESETS, PRETRAINED_MIN_PARAMS, METHODS, SETTING_TO_CONFIG } from "./configSchema";

const cell = (s: string) => s.replace(/\|/g, "\\|");

/** Config path -> the VS Code setting that sets it (only the mapped ones). */
const SETTING_OF = new Map(Object.entries(SETTING_TO_CONFIG).map(([setting, path]) => [path, `seatTuner.${setting}`]));

function settingsTable(): string {
  const rows = ["| key | flag | VS Code setting | default | why |", "|---|---|---|---|---|"];
  for (const s of SCHEMA) {
    const setting = SETTING_OF.get(s.path);
    rows.push(
      `| \`${s.path}\` | ${s.flag ? `\`--${s.flag}\`` : ""} | ${setting ? `\`${setting}\`` : ""} | \`${JSON.stringify(s.default) ?? "unset"}\` | ${cell(s.reason)} |`,
    );
  }
  return rows.join("\n");
}

function presetTable(presets = PRESETS): string {
  return [
    "| method | overrides | why |",
    "|---|---|---|",
    ...METHODS.map(
      (m) =>
        `| \`${m}\` | ${
          Object.entries(presets[m].values)
            .map(([k, v]) => `\`${k}=${v}\``)
            .join(", ") || "none"
        } | ${cell(presets[m].reason)} |`,
    ),
  ].join("\n");
}

export function configDocMarkdown(): string {
  return `# Training configuration

One schema (\`src/seat/configSchema.ts\`) serves the CLI flags, config files, \`seat\` tasks in tasks.json
(\`{"type": "seat", "dataset", "model", "method", "config", "settings": {...}}\`) and the VS Code
settings in the table's setting column (only those keys have one; set the others in a config file or
a task's \`settings\`). Layers, later wins: defaults < method preset < config file < settings < task
definition < CLI flags < \`--set KEY=VALUE\`. Every error names the key, where the value came from and
what was expected. Generated from the schema; a unit test keeps this file in step with it.

## Settings

${settingsTable()}

## Method presets

${presetTable()}

These were measured on the embedded model (\`src/seat/SWEEP.md\`).

## Presets for pretrained models

For a model folder above ${PRETRAINED_MIN_PARAMS / 1e6}M parameters (any real LLM; the embedded model is 0.92M) these
replace the values above, taken from published recipes: PISTOL (the SEAT authors' earlier benchmark
code, \`config/config.yaml\`, fine-tuning section) and TOFU's fine-tuning recipe (\`config/finetune.yaml\`).
They are not yet measured on real weights here (the real-shape fixtures have random weights).

${presetTable(PRETRAINED_PRESETS)}

## Notes

- \`train.gradAccum\` N > 1 runs each optimizer step as N micro-batches of \`train.batchSize\`
  examples, one graph run each, that add their gradients into accumulators; a small separate graph then
  clips the sums and applies AdamW. Each micro-batch's CE and KL means count with its share of the
  step's answer tokens and KL positions, so the update is that of one batch of batchSize x N (to
  float32 rounding). Activation memory is one micro-batch's; the sums add two gradient-sized buffers
  per trainable tensor, so it pays where activations dominate (SEAT, LoRA, long sequences) and can
  cost memory in a full fine-tune of short sequences (measured on a 100M model, 8 x 64 tokens a step:
  SEAT peak RSS 4.0 GB fused vs 3.0 GB as 4 x 2; full 4.2 GB vs 4.9 GB). gradAccum 1 keeps the single
  fused graph. Steps, \`train.maxSteps\` and checkpoints count optimizer steps; a cancel between
  micro-batches drops the partial sums and checkpoints the last finished step.
- \`mask.type random-per-step\` redraws the entries every step: the eligible tensors are dense graph
  inputs and after each step every entry outside that step's draw gets its weight and AdamW moments
  back, so it does not move (bias correction uses the global step). It costs dense moments for the
  eligible tensors and two host copies of them per step.
- Training a base model from scratch: write a randomly initialised model folder, then train it with
  \`method full\` (\`full.modules ["*"]\`), \`lossOn answer\` (chat QA) or \`all\` (plain text).
`;
}
