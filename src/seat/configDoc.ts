// CONFIG.md, generated from the schema so the documented defaults and reasons cannot drift from the
// code (a unit test compares the file with this function's output).
import { SCHEMA, PRESETS, METHODS } from "./configSchema";

const cell = (s: string) => s.replace(/\|/g, "\\|");

function settingsTable(): string {
  const rows = ["| key | flag | default | why |", "|---|---|---|---|"];
  for (const s of SCHEMA) rows.push(`| \`${s.path}\` | ${s.flag ? `\`--${s.flag}\`` : ""} | \`${JSON.stringify(s.default) ?? "unset"}\` | ${cell(s.reason)} |`);
  return rows.join("\n");
}

function presetTable(): string {
  return ["| method | overrides | why |", "|---|---|---|", ...METHODS.map((m) => `| \`${m}\` | ${Object.entries(PRESETS[m].values).map(([k, v]) => `\`${k}=${v}\``).join(", ") || "none"} | ${cell(PRESETS[m].reason)} |`)].join("\n");
}

export function configDocMarkdown(): string {
  return `# Training configuration

One schema (\`src/seat/configSchema.ts\`) serves the CLI flags, config files, \`seat\` tasks in tasks.json
(\`{"type": "seat", "dataset", "model", "method", "config", "settings": {...}}\`) and VS Code settings
(\`seat.train.<key>\`). Layers, later wins: defaults < method preset < config file < settings < task
definition < CLI flags < \`--set KEY=VALUE\`. Every error names the key, where the value came from and
what was expected. Generated from the schema; a unit test keeps this file in step with it.

## Settings

${settingsTable()}

## Method presets

${presetTable()}

## Notes

- \`train.gradAccum\` multiplies the batch that one optimizer step sees; this build runs the whole
  effective batch in one graph run (memory grows with it) rather than accumulating across runs.
- \`mask.type random-per-step\` redraws the entries every step: the eligible tensors are dense graph
  inputs and after each step every entry outside that step's draw gets its weight and AdamW moments
  back, so it does not move (bias correction uses the global step). It costs dense moments for the
  eligible tensors and two host copies of them per step.
- Training a base model from scratch: write a randomly initialised model folder, then train it with
  \`method full\` (\`full.modules ["*"]\`), \`lossOn answer\` (chat QA) or \`all\` (plain text).
`;
}
