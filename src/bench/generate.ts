// Greedy decoding with the KV cache: our LlamaModel (prefill + decode through onnxruntime) against the
// PyTorch eager peer's cached decoding loop, same config, batch, prompt length and new-token count.
// Random weights can hit EOS early, so tokens/s counts the tokens actually generated.
import { LlamaModel } from "../model";
import { median } from "./stats";

export interface GenerateBenchResult {
  seconds: number;
  tokensPerSec: number;
  peakRssMb: number;
}

export async function benchOurGeneration(opts: {
  modelDir: string; B: number; promptLen: number; newTokens: number; reps: number; threads: number;
}): Promise<GenerateBenchResult> {
  const model = await LlamaModel.load(opts.modelDir, { provider: "cpu", intraOpThreads: opts.threads, batchSize: opts.B });
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
    const rates: number[] = [];
    const secs: number[] = [];
    for (let r = 0; r < opts.reps + 1; r++) {
      const t0 = process.hrtime.bigint();
      const out = await model.generate(prompts, { maxNewTokens: opts.newTokens });
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (r === 0) continue; // first run pays session warm-up (arena growth)
      const tokens = out.reduce((a, o) => a + o.ids.length + (o.finish === "eos" ? 1 : 0), 0);
      rates.push(tokens / s);
      secs.push(s);
    }
    return { seconds: median(secs), tokensPerSec: median(rates), peakRssMb: process.resourceUsage().maxRSS / 1024 };
  } finally {
    await model.dispose();
  }
}
