import { resolveConfig, train } from "/work/main/src/seat/index";
const epochs = Number(process.argv[2] ?? 40);
const lr = Number(process.argv[3] ?? 3e-3);
const out = process.argv[4];
const { config, warnings } = resolveConfig([{ source: "t", layer: {
  method: "full", model: "/tmp/tinyinit", dataset: "/tmp/wb/corpus.jsonl", outDir: out, lossOn: "answer",
  optim: { lr, warmupSteps: 30, schedule: "cosine", weightDecay: 0, clipNorm: 1 },
  train: { epochs, batchSize: 32, maxSeqLen: 48, seed: 1 },
  checkpoint: { everySteps: 500, keep: 2 },
  eval: { everySteps: 250, samples: 32 },
  device: { provider: "cpu", threads: 2 },
} }]);
const t0 = Date.now();
const r = await train(config, { warnings, onEvent: (e) => { const x = e as any; if (x.type !== "step" || x.step % 25 === 0) console.log(((Date.now()-t0)/1000).toFixed(0), JSON.stringify(e).slice(0, 260)); } });
console.log(JSON.stringify(r), (Date.now() - t0) / 1000);
