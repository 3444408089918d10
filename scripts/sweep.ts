// The measurement behind the SEAT defaults: a grid over mask ratio and KL lambda (and the mask variant),
// learning-rate checks, and one-knob-at-a-time points on top of the SEAT defaults, on the embedded world,
// each point trained and probed exactly as `seat demo` does, written as the markdown table in
// src/seat/SWEEP.md. A standalone script (not part of the library API):
//   node --import tsx scripts/sweep.ts [--ratios 0.01,0.05,0.2] [--lambdas 0,1,3] [--variants V,..]
//     [--lrs METHOD@LR,..] [--defaults] [--set "KEY=VALUE [KEY=VALUE..]"]... [--epochs N] [--out DIR]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runDemo, type DemoMethodRow } from "../src/world/demo";
import { EMBEDDED_MODEL_DIR, EXAMPLES_DIR } from "../src/world/paths";
import { layerFromFlags, mergeLayers, resolveConfig, type ConfigLayer, type Method } from "../src/seat/config";

interface Point {
  label: string;
  method: Method;
  layer: ConfigLayer;
  row?: DemoMethodRow;
}

/**
 * One `--set` point: whitespace-separated KEY=VALUE settings (parsed exactly like `seat train --set`)
 * applied on top of the SEAT defaults, e.g. "kl.direction=reverse" or "kl.k=2 kl.resample=fixed".
 */
function setPoint(spec: string): Point {
  const settings = spec.trim().split(/\s+/).filter(Boolean);
  if (!settings.length) throw new Error("--set: expected KEY=VALUE settings, got an empty point");
  const layer = mergeLayers(layerFromFlags({ set: settings }).map((l) => l.layer));
  return { label: `seat: ${settings.join(", ")}`, method: "seat", layer };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ratios: { type: "string", default: "0.01,0.05,0.2" },
      lambdas: { type: "string", default: "0,1,3" },
      variants: { type: "string", default: "random-per-step" },
      // METHOD@LR entries, e.g. full@0.0001,full@0.001: learning-rate checks for the method presets.
      lrs: { type: "string", default: "" },
      // A row for the SEAT defaults as they are, the reference for the --set points.
      defaults: { type: "boolean", default: false },
      // Repeatable; each occurrence is one point on top of the SEAT defaults (see setPoint).
      set: { type: "string", multiple: true, default: [] },
      epochs: { type: "string", default: "12" },
      dataset: { type: "string", default: "new-people" },
      out: { type: "string", default: "runs/sweep" },
      threads: { type: "string", default: "2" },
      model: { type: "string", default: EMBEDDED_MODEL_DIR },
    },
  });
  const nums = (s: string) => s.split(",").filter(Boolean).map(Number);
  const points: Point[] = [];
  for (const ratio of nums(values.ratios!))
    for (const lambda of nums(values.lambdas!)) {
      points.push({
        label: `seat: ratio ${ratio}, lambda ${lambda}`,
        method: "seat",
        layer: { mask: { ratio }, kl: { lambda } },
      });
    }
  const bestRatio = nums(values.ratios!)[1] ?? nums(values.ratios!)[0] ?? 0.05;
  for (const v of values.variants!.split(",").filter(Boolean)) {
    points.push({
      label: `seat: ratio ${bestRatio}, lambda 1, mask ${v}`,
      method: "seat",
      layer: { mask: { ratio: bestRatio, type: v }, kl: { lambda: 1 } },
    });
  }
  for (const e of values.lrs!.split(",").filter(Boolean)) {
    const [method, lr] = e.split("@");
    points.push({
      label: `${method}: lr ${lr}${method === "seat" ? ` (ratio ${bestRatio}, lambda 1)` : ""}`,
      method: method as Method,
      layer: {
        optim: { lr: Number(lr) },
        ...(method === "seat" ? { mask: { ratio: bestRatio }, kl: { lambda: 1 } } : {}),
      },
    });
  }
  if (values.defaults) points.push({ label: "seat: defaults", method: "seat", layer: {} });
  for (const spec of values.set!) points.push(setPoint(spec));
  const data = join(EXAMPLES_DIR, values.dataset!, "train.jsonl");
  const unknown = join(EXAMPLES_DIR, values.dataset!, "unknown.jsonl");
  const layerOf = (p: Point) => mergeLayers([{ train: { epochs: Number(values.epochs) } }, p.layer]);
  // A misspelt key or value fails here, naming it, rather than after the points before it have trained.
  for (const p of points) {
    resolveConfig([
      { source: "sweep", layer: { method: p.method, model: values.model!, dataset: data } },
      { source: p.label, layer: layerOf(p) },
    ]);
  }
  if (!points.length)
    throw new Error("no points to run: give --ratios/--lambdas, --variants, --lrs, --defaults or --set");
  mkdirSync(values.out!, { recursive: true });
  const started = Date.now();
  let base: DemoMethodRow | undefined;
  // Rewritten after every point, so a long sweep that is stopped keeps the rows it has measured.
  const save = (done: number) => {
    const when = done === points.length ? "" : ` (stopped early or still running: ${done} of ${points.length} points)`;
    const note = `Dataset examples/${values.dataset}, ${values.epochs} epochs, ${((Date.now() - started) / 60000).toFixed(1)} min in all${when}.`;
    writeFileSync(join(values.out!, "sweep.md"), `${markdownTable(base, points.slice(0, done))}\n\n${note}\n`);
    writeFileSync(
      join(values.out!, "sweep.json"),
      JSON.stringify({ note, base, points: points.slice(0, done) }, null, 2) + "\n",
    );
  };
  for (const [i, p] of points.entries()) {
    const demo = await runDemo({
      model: values.model!,
      data,
      unknown,
      methods: [p.method],
      outDir: join(values.out!, `p${i}`),
      common: layerOf(p),
      threads: Number(values.threads),
      log: (l) => {
        if (!l.includes("step")) process.stderr.write(`[${i + 1}/${points.length}] ${l}\n`);
      },
    });
    p.row = demo.methods[p.method];
    base ??= demo.methods.base;
    process.stderr.write(
      `[${i + 1}/${points.length}] ${p.label}: FT ${p.row.ftScore.toFixed(3)} neighbour IDK ${p.row.neighbourIdkSM?.toFixed(3)} IDK-SM ${p.row.idkSM?.toFixed(3)}\n`,
    );
    save(i + 1);
  }
  process.stdout.write(markdownTable(base, points) + "\n");
}

/** The table as it appears in SWEEP.md: the base model's row, then one row per measured point. */
function markdownTable(base: DemoMethodRow | undefined, points: readonly Point[]): string {
  const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? "-" : x.toFixed(d));
  const cells = (r: DemoMethodRow) =>
    [r.ftScore, r.exactMatch, r.neighbourIdkSM, r.idkSM, r.idkGrounded, r.abstentionProb, r.overRefusal].map((x) =>
      f(x),
    );
  return [
    "| setting | FT score | exact | neighbour IDK-SM | IDK-SM | IDK-grounded | P(abstain) | over-refusal | displacement | train s |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...(base ? [`| base model (no tuning) | ${cells(base).join(" | ")} | - | - |`] : []),
    ...points.map(
      (p) =>
        `| ${p.label} | ${cells(p.row!).join(" | ")} | ${f(p.row!.displacement)} | ${p.row!.trainSeconds.toFixed(0)} |`,
    ),
  ].join("\n");
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
