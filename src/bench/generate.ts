// Greedy decoding with the KV cache: our LlamaModel (prefill + decode through onnxruntime) against the
// PyTorch eager peer's cached decoding loop, same config, batch, prompt length and new-token count.
// A row that hits EOS keeps running (padded) until the batch finishes, so the work is B x decode
// steps: tokens/s counts exactly that, and the peer is then asked for the same number of new tokens.
import { LlamaModel } from "../model";
import { median } from "./stats";

export interface GenerateBenchResult {
  seconds: number;
  /** Decode steps of the batch (the longest row, its stop token included): the peer runs as many. */
  newTokens: number;
  tokensPerSec: number;
  /** Median CPU seconds per generate() (all threads), and the tokens per CPU-second. */
  cpuSeconds: number;
  tokensPerCpuSec: number;
  peakRssMb: number;
}

export async function benchOurGeneration(opts: {
  modelDir: string;
  B: number;
  promptLen: number;
  newTokens: number;
  reps: number;
  threads: number;
}): Promise<GenerateBenchResult> {
  const model = await LlamaModel.load(opts.modelDir, {
    provider: "cpu",
    intraOpThreads: opts.threads,
    batchSize: opts.B,
  });
  try {
    const special = new Set(model.tokenizer.stopIds);
    const vocab = model.config.vocabSize;
    const prompts = Array.from({ length: opts.B }, (_, b) => {
      const ids: number[] = [];
      for (let i = 0; ids.length < opts.promptLen; i++) {
        const id = (b * 7919 + i * 104729) % Math.min(vocab, 1000);
        if (!special.has(id)) ids.push(id);
      }
      return ids;
    });
    const secs: number[] = [];
    const cpus: number[] = [];
    let steps = 0;
    for (let r = 0; r < opts.reps + 1; r++) {
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      const out = await model.generate(prompts, { maxNewTokens: opts.newTokens });
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      const c = process.cpuUsage(c0);
      if (r === 0) continue; // first run pays session warm-up (arena growth)
      steps = Math.max(...out.map((o) => o.ids.length + (o.finish === "eos" ? 1 : 0)));
      secs.push(s);
      cpus.push((c.user + c.system) / 1e6);
    }
    const tokens = opts.B * steps;
    return {
      seconds: median(secs),
      newTokens: steps,
      tokensPerSec: tokens / median(secs),
      cpuSeconds: median(cpus),
      tokensPerCpuSec: tokens / median(cpus),
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await model.dispose();
  }
}
