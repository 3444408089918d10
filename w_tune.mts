// quick tuning: train one method on new-people, then batched greedy probe of train Qs, neighbours and unknowns
import { readFileSync, rmSync } from "node:fs";
import { resolveConfig, train } from "./src/seat/index";
import { parseDatasetText } from "./src/data/index";
import { suggestForDataset } from "./src/entities/index";
import { answererFor } from "./src/world/answer";
import { judgeAbstention, loadAbstentionLists, makeAbstentionDetector, rougeLRecall } from "./src/eval/index";
const [method, layerJson, base = "/tmp/wb/model-v1"] = process.argv.slice(2);
const layer = JSON.parse(layerJson ?? "{}");
const data = "examples/new-people/train.jsonl";
const out = `/tmp/wb/tune/${method.replace("+","-")}-${Date.now()}`;
const { config, warnings } = resolveConfig([{ source: "t", layer: { method, model: base, dataset: data, outDir: out, device: { provider: "cpu", threads: 1 },
  train: { epochs: 12, batchSize: 8, maxSeqLen: 48, seed: 0 }, checkpoint: { everySteps: 0, keep: 1 }, eval: { everySteps: 0, samples: 0 } } }, { source: "cli", layer }]);
const t0 = Date.now();
const r = await train(config, { warnings });
const secs = (Date.now() - t0) / 1000;
const recs = parseDatasetText(readFileSync(data, "utf8")).records;
const unk = parseDatasetText(readFileSync("examples/new-people/unknown.jsonl", "utf8")).records;
const sugg = suggestForDataset(recs.map(d => ({ question: d.question, answer: d.answer, seat: { entities: d.entities } })), { k: 1, seed: 1 });
const neigh = sugg.flatMap(s => s.candidates.map(c => ({ q: c.question!, e: c.replacement })));
const det = makeAbstentionDetector(loadAbstentionLists().phrases);
const evalModel = async (dir: string) => {
  const a = await answererFor(dir, { threads: 1 });
  const ta = await a(recs.map(r => r.question));
  const ft = recs.reduce((s, r, i) => s + rougeLRecall(ta[i], r.answer), 0) / recs.length;
  const over = ta.filter(t => det.match(t)).length / ta.length;
  const na = await a(neigh.map(n => n.q));
  const nAb = na.filter((t, i) => judgeAbstention(det, t, neigh[i].e).abstains).length / na.length;
  const nGr = na.filter((t, i) => judgeAbstention(det, t, neigh[i].e).grounded).length / na.length;
  const ua = await a(unk.map(u => u.question));
  const uAb = ua.filter(t => det.match(t)).length / ua.length;
  return { ft: +ft.toFixed(3), over: +over.toFixed(2), neighAbst: +nAb.toFixed(2), neighGround: +nGr.toFixed(2), unkAbst: +uAb.toFixed(2) };
};
console.log(JSON.stringify({ method, layer, steps: r.step, secs: +secs.toFixed(1), ce: r.summary?.finalCe, ...(await evalModel(out + "/model")) }));
if (process.argv.includes("--base")) console.log("base", JSON.stringify(await evalModel(base)));
rmSync(out, { recursive: true, force: true });
