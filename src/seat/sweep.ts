// The measurement behind the SEAT defaults: a grid over mask ratio and KL lambda (and the mask variant)
// on the embedded world, each point trained and probed exactly as `seat demo` does, written as the
// markdown table in src/seat/SWEEP.md. A standalone script (not part of the library API):
//   node --import tsx src/seat/sweep.ts [--ratios 0.01,0.05,0.2] [--lambdas 0,1,3] [--epochs N] [--out DIR]
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runDemo, type DemoMethodRow } from "../world/demo";
import { EMBEDDED_MODEL_DIR, EXAMPLES_DIR } from "../world/paths";
import type { ConfigLayer, Method } from "./config";

interface Point { label: string; method: Method; layer: ConfigLayer; row?: DemoMethodRow }

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ratios: { type: "string", default: "0.01,0.05,0.2" },
      lambdas: { type: "string", default: "0,1,3" },
      variants: { type: "string", default: "random-per-step" },
      // METHOD@LR entries, e.g. full@0.0001,full@0.001: learning-rate checks for the method presets.
      lrs: { type: "string", default: "" },
      epochs: { type: "string", default: "12" },
      dataset: { type: "string", default: "new-people" },
      out: { type: "string", default: "runs/sweep" },
      threads: { type: "string", default: "2" },
      model: { type: "string", default: EMBEDDED_MODEL_DIR },
    },
  });
  const nums = (s: string) => s.split(",").filter(Boolean).map(Number);
  const points: Point[] = [];
  for (const ratio of nums(values.ratios!)) for (const lambda of nums(values.lambdas!)) {
    points.push({ label: `seat: ratio ${ratio}, lambda ${lambda}`, method: "seat", layer: { mask: { ratio }, kl: { lambda } } });
  }
  const bestRatio = nums(values.ratios!)[1] ?? nums(values.ratios!)[0] ?? 0.05;
  for (const v of values.variants!.split(",").filter(Boolean)) {
    points.push({ label: `seat: ratio ${bestRatio}, lambda 1, mask ${v}`, method: "seat", layer: { mask: { ratio: bestRatio, type: v }, kl: { lambda: 1 } } });
  }
  for (const e of values.lrs!.split(",").filter(Boolean)) {
    const [method, lr] = e.split("@");
    points.push({ label: `${method}: lr ${lr}${method === "seat" ? ` (ratio ${bestRatio}, lambda 1)` : ""}`, method: method as Method, layer: { optim: { lr: Number(lr) }, ...(method === "seat" ? { mask: { ratio: bestRatio }, kl: { lambda: 1 } } : {}) } });
  }
  const data = join(EXAMPLES_DIR, values.dataset!, "train.jsonl");
  const unknown = join(EXAMPLES_DIR, values.dataset!, "unknown.jsonl");
  const started = Date.now();
  let base: DemoMethodRow | undefined;
  for (const [i, p] of points.entries()) {
    const demo = await runDemo({
      model: values.model!, data, unknown, methods: [p.method], outDir: join(values.out!, `p${i}`),
      common: { ...p.layer, train: { epochs: Number(values.epochs) } }, threads: Number(values.threads),
      log: (l) => { if (!l.includes("step")) process.stderr.write(`[${i + 1}/${points.length}] ${l}\n`); },
    });
    p.row = demo.methods[p.method];
    base ??= demo.methods.base;
    process.stderr.write(`[${i + 1}/${points.length}] ${p.label}: FT ${p.row.ftScore.toFixed(3)} neighbour IDK ${p.row.neighbourIdkSM?.toFixed(3)} IDK-SM ${p.row.idkSM?.toFixed(3)}\n`);
  }
  const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? "-" : x.toFixed(d));
  const rows = points.map((p) => `| ${p.label} | ${f(p.row!.ftScore)} | ${f(p.row!.exactMatch)} | ${f(p.row!.neighbourIdkSM)} | ${f(p.row!.idkSM)} | ${f(p.row!.idkGrounded)} | ${f(p.row!.abstentionProb)} | ${f(p.row!.overRefusal)} | ${f(p.row!.displacement)} | ${p.row!.trainSeconds.toFixed(0)} |`);
  const table = [
    "| setting | FT score | exact | neighbour IDK-SM | IDK-SM | IDK-grounded | P(abstain) | over-refusal | displacement | train s |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...(base ? [`| base model (no tuning) | ${f(base.ftScore)} | ${f(base.exactMatch)} | ${f(base.neighbourIdkSM)} | ${f(base.idkSM)} | ${f(base.idkGrounded)} | ${f(base.abstentionProb)} | ${f(base.overRefusal)} | - | - |`] : []),
    ...rows,
  ].join("\n");
  const out = join(values.out!, "sweep.md");
  writeFileSync(out, `${table}\n\nDataset examples/${values.dataset}, ${values.epochs} epochs, ${((Date.now() - started) / 60000).toFixed(1)} min in all.\n`);
  process.stdout.write(table + "\n");
}

main().catch((e) => { process.stderr.write(`${(e as Error).stack ?? e}\n`); process.exitCode = 1; });
