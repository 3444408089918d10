import { resolveConfig, train } from "./src/seat/index";
const { config, warnings } = resolveConfig([{ source: "t", layer: {
  method: "full", model: "/tmp/tinyinit", dataset: "/tmp/wb/corpus.jsonl", outDir: "/tmp/wb/run" + Date.now(), lossOn: "answer",
  optim: { lr: 3e-3, warmupSteps: 30, schedule: "cosine", weightDecay: 0, clipNorm: 1 },
  train: { epochs: 1, batchSize: 32, maxSeqLen: 48, seed: 1, maxSteps: 20 },
  device: { provider: "cpu", threads: 2 },
} }]);
console.log(warnings);
const t0 = Date.now();
const r = await train(config, { warnings, onEvent: (e) => { if (e.type !== "step" || (e as any).step % 5 === 0) console.log((Date.now()-t0), JSON.stringify(e).slice(0, 300)); } });
console.log(r, Date.now() - t0);
