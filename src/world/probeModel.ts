// The probe suite's model interface (src/eval ProbeModel) on an onnxruntime session through the model
// layer's LlamaModel: KV-cached greedy generation, batched continuation scoring, hidden states. The
// suite's own loader runs the float64 reference forward, which is exact but far too slow for a demo
// that probes seven models.
import { LlamaModel } from "../model/index";
import type { ModelRef, ProbeModel, ProbeModelLoader } from "../eval/index";

export async function onnxProbeModel(ref: ModelRef, opts: { threads?: number } = {}): Promise<ProbeModel & { dispose(): Promise<void> }> {
  const model = await LlamaModel.load(ref.dir, { provider: "cpu", intraOpThreads: opts.threads, batchSize: 16 });
  const tok = model.tokenizer;
  const L = model.config.numLayers;
  return {
    ref,
    encodePrompt: (question) => tok.encodePrompt(question),
    encodeContinuation: (text) => tok.encode(text),
    async generate(prompt, maxNewTokens, signal) {
      const [r] = await model.generate([prompt], { maxNewTokens, signal });
      return r.text.trim();
    },
    async scoreContinuations(prompt, continuations) {
      const [r] = await model.score([{ prompt, continuations }]);
      return r.total;
    },
    async lastTokenHiddenStates(prompt) {
      const layers = Array.from({ length: L }, (_, i) => i + 1);
      const [h] = await model.hiddenStates([{ ids: prompt, positions: [-1], layers }]);
      return h.map((perPos) => perPos[0]);
    },
    dispose: () => model.dispose(),
  };
}

export function onnxProbeLoader(threads?: number): ProbeModelLoader {
  return (ref) => onnxProbeModel(ref, { threads });
}
