// The one ProbeModel on a real model: the model layer's LlamaModel (one onnxruntime session, batched
// greedy decoding with a KV cache, batched continuation scoring and hidden-state extraction). Used by
// `seat probe`, the editor's probe panel and the demo. Replies come back trimmed.
import { LlamaModel, type LoadOptions } from "../model/index";
import type { ProbeModel } from "./suite";
import type { ModelRef } from "./types";

export async function runtimeProbeModel(
  ref: ModelRef,
  opts: LoadOptions = {},
): Promise<ProbeModel & { dispose(): Promise<void>; provider: string }> {
  const m = await LlamaModel.load(ref.dir, opts);
  const L = m.config.numLayers;
  // Hidden-state entries 1..L of the HF convention: the output of each decoder layer (the last after the final norm).
  const layers = Array.from({ length: L }, (_, i) => i + 1);
  const generateMany = async (prompts: readonly (readonly number[])[], maxNewTokens: number, signal?: AbortSignal) =>
    (await m.generate(prompts, { maxNewTokens, ...(signal ? { signal } : {}) })).map((r) => r.text.trim());
  const scoreMany = async (
    prompts: readonly (readonly number[])[],
    continuations: readonly (readonly number[])[],
    signal?: AbortSignal,
  ) => {
    signal?.throwIfAborted();
    return (await m.score(prompts.map((prompt) => ({ prompt, continuations })))).map((r) => r.total);
  };
  const hiddenMany = async (prompts: readonly (readonly number[])[], signal?: AbortSignal) => {
    signal?.throwIfAborted();
    const hs = await m.hiddenStates(prompts.map((ids) => ({ ids, positions: [-1], layers })));
    return hs.map((perLayer) => perLayer.map((positions) => positions[0]));
  };
  return {
    ref,
    provider: m.provider,
    batchSize: opts.batchSize ?? 8,
    encodePrompt: (p) =>
      m.tokenizer.encodePrompt(typeof p === "string" ? p : p.map((x) => ({ role: x.role, content: x.content }))),
    encodeContinuation: (text) => m.tokenizer.encode(text),
    generateMany,
    scoreMany,
    hiddenMany,
    generate: async (prompt, maxNewTokens, signal) => (await generateMany([prompt], maxNewTokens, signal))[0],
    scoreContinuations: async (prompt, continuations, signal) => (await scoreMany([prompt], continuations, signal))[0],
    lastTokenHiddenStates: async (prompt, signal) => (await hiddenMany([prompt], signal))[0],
    dispose: () => m.dispose(),
  };
}

/** A loader of runtimeProbeModel with fixed load options (e.g. the demo's CPU threads). */
export function runtimeProbeLoader(opts: LoadOptions = {}): (ref: ModelRef) => ReturnType<typeof runtimeProbeModel> {
  return (ref) => runtimeProbeModel(ref, opts);
}
