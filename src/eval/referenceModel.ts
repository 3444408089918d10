// A ProbeModel on the model layer's plain float64 reference forward pass: no onnxruntime, no KV cache
// (every step re-runs the whole sequence). Exact and dependency-free, so the probe suite's tests run on
// the committed tiny fixtures; far too slow for real models, which go through LlamaModel (runtimeModel.ts).
import { allWeightsF32, loadModelFolder, logSoftmaxRows, referenceForward } from "../model/index";
import type { ProbeModel } from "./suite";
import type { ModelRef } from "./types";

export function referenceProbeModel(ref: ModelRef): ProbeModel {
  const folder = loadModelFolder(ref.dir);
  const c = folder.config;
  const weights = allWeightsF32(folder.weights);
  const w = (name: string) => {
    const t = weights.get(name);
    if (!t) throw new Error(`${ref.dir}: no weight "${name}"`);
    return t;
  };
  const tok = folder.tokenizer;
  const stop = new Set(tok.stopIds);
  const V = c.vocabSize;
  const checkLength = (n: number) => {
    if (n > c.maxPositions)
      throw new Error(`${ref.dir}: sequence of ${n} tokens exceeds max_position_embeddings ${c.maxPositions}`);
  };

  const greedy = (prompt: readonly number[], maxNewTokens: number, signal?: AbortSignal): string => {
    checkLength(prompt.length);
    const ids = [...prompt];
    const out: number[] = [];
    const budget = Math.min(maxNewTokens, c.maxPositions - prompt.length);
    for (let i = 0; i < budget; i++) {
      signal?.throwIfAborted();
      const { logits } = referenceForward(c, w, ids);
      const row = (ids.length - 1) * V;
      let best = 0;
      for (let j = 1; j < V; j++) if (logits[row + j] > logits[row + best]) best = j;
      if (stop.has(best)) break;
      ids.push(best);
      out.push(best);
    }
    return tok.decode(out);
  };

  const score = (prompt: readonly number[], cont: readonly number[]): number => {
    const ids = [...prompt, ...cont];
    checkLength(ids.length);
    const lp = logSoftmaxRows(referenceForward(c, w, ids).logits, V);
    let s = 0;
    // Row t predicts token t+1: the continuation's tokens are predicted from rows prompt.length-1 on.
    for (let j = 0; j < cont.length; j++) s += lp[(prompt.length - 1 + j) * V + cont[j]];
    return s;
  };

  return {
    ref,
    batchSize: 4,
    encodePrompt: (p) =>
      tok.encodePrompt(typeof p === "string" ? p : p.map((m) => ({ role: m.role, content: m.content }))),
    encodeContinuation: (text) => tok.encode(text),
    generate: async (prompt, maxNewTokens, signal) => greedy(prompt, maxNewTokens, signal),
    scoreContinuations: async (prompt, conts, signal) => {
      signal?.throwIfAborted();
      return conts.map((cnt) => score(prompt, cnt));
    },
    lastTokenHiddenStates: async (prompt) => {
      checkLength(prompt.length);
      const { hiddenStates } = referenceForward(c, w, prompt);
      const D = c.hiddenSize;
      const t = prompt.length - 1;
      // Entries 1..L: the output of each decoder layer (the last one after the final norm, HF convention).
      return hiddenStates.slice(1).map((h) => Float32Array.from(h.subarray(t * D, (t + 1) * D)));
    },
  };
}
