// Seeds behind SWEEP.md's method comparison on both example sets: each seed trains the given methods
// with the demo's recipe for that set (src/world/demo.ts DEMO_DATASETS) and probes them as `seat demo`
// does; prints one markdown row per method and seed, then the mean over seeds. A standalone script:
//   node --import tsx scripts/seeds.ts --dataset contract-register --methods sparse,full+kl,seat --seeds 0,1,2
//     [--epochs N] [--set KEY=VALUE ...] [--out DIR]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEMO_DATASETS, runDemo, type DemoMethodRow } from "../src/world/demo";
import { EMBEDDED_MODEL_DIR, EXAMPLES_DIR } from "../src/world/paths";
import { layerFromFlags, mergeLayers, type ConfigLayer, type Method } from "../src/seat/config";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dataset: { type: "string", default: "new-people" },
      methods: { type: "string", default: "sparse,full+kl,seat" },
      seeds: { type: "string", default: "0,1,2" },
      epochs: { type: "string" },
      set: { type: "string", multiple: true, default: [] },
      out: { type: "string", default: "runs/seeds" },
      threads: { type: "string", default: "2" },
    },
  });
  const set = DEMO_DATASETS.find((d) => d.name === values.dataset);
  if (!set) throw new Error(`--dataset: one of ${DEMO_DATASETS.map((d) => d.name).join(", ")}`);
  const methods = values.methods!.split(",") as Method[];
  const extra = layerFromFlags({ set: values.set! }).map((l) => l.layer);
  const rows: { seed: number; method: string; r: DemoMethodRow }[] = [];
  const out = join(values.out!, values.dataset!);
  mkdirSync(out, { recursive: true });
  const started = Date.now();
  for (const seed of values.seeds!.split(",").map(Number)) {
    const common: ConfigLayer = { train: { seed, ...(values.epochs ? { epochs: Number(values.epochs) } : {}) } };
    const demo = await runDemo({
      model: EMBEDDED_MODEL_DIR,
      data: join(EXAMPLES_DIR, set.name, "train.jsonl"),
      unknown: join(EXAMPLES_DIR, set.name, "unknown.jsonl"),
      methods,
      outDir: join(out, `seed-${seed}`),
      training: set.training,
      probeEvery: set.probeEvery,
      common: mergeLayers([common, ...extra]),
      threads: Number(values.threads),
      log: (l) => {
        if (!l.includes(" step ")) process.stderr.write(`[seed ${seed}] ${l}\n`);
      },
    });
    for (const m of methods) rows.push({ seed, method: m, r: demo.methods[m] });
    if (seed === Number(values.seeds!.split(",")[0])) rows.unshift({ seed, method: "base", r: demo.methods.base });
    const md = table(rows, methods);
    writeFileSync(join(out, "seeds.md"), `${md}\n\n${((Date.now() - started) / 60000).toFixed(1)} min\n`);
    process.stderr.write(md + "\n");
  }
}

function table(rows: { seed: number; method: string; r: DemoMethodRow }[], methods: readonly string[]): string {
  const f = (x: number | null | undefined) => (x === null || x === undefined ? "-" : x.toFixed(3));
  const cols = (r: DemoMethodRow) => [
    r.ftScore,
    r.exactMatch,
    r.idkSM,
    r.neighbourIdkSM,
    r.heldOutAbstain,
    r.idkGrounded,
    r.idkMisnamed,
    r.overRefusal,
  ];
  const lines = [
    "| method | seed | FT score | exact | IDK-SM | neighbour IDK | unseen IDK | IDK-grounded | misnamed | over-refusal | train s |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (x) => `| ${x.method} | ${x.seed} | ${cols(x.r).map(f).join(" | ")} | ${x.r.trainSeconds.toFixed(0)} |`,
    ),
  ];
  for (const m of methods) {
    const rs = rows.filter((x) => x.method === m).map((x) => x.r);
    if (rs.length < 2) continue;
    const mean = cols(rs[0]).map((_, i) => {
      const v = rs.map((r) => cols(r)[i]).filter((x): x is number => typeof x === "number");
      return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
    });
    lines.push(`| **${m} mean** | ${rs.length} seeds | ${mean.map(f).join(" | ")} | - |`);
  }
  return lines.join("\n");
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
