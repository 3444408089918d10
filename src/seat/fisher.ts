// Squared gradients of the answer log-likelihood, one example at a time: the diagonal empirical Fisher
// F_i = E_x[(d log p(y|x) / d theta_i)^2]. Used by EWC (Kirkpatrick et al. 2017) as the per-weight
// importance of the base behaviour, and by importance masks (Sung et al. 2021, "Training neural
// networks with fixed sparse masks") to pick the weights that matter most for the new facts.
// Batch size 1 on purpose: squaring a batch-mean gradient is not the mean of squared per-example ones.
import { grad, toOnnx, crossEntropy, type HostTensor } from "../engine/index";
import { createModelGraph, llamaForward, openModelSession, type ModelFolder, type WeightSpec } from "../model/index";
import type { SeatConfig } from "./config";
import { batchFeeds, makeBatch, maxTargets, type TrainExample } from "./data";

/** Sum over `examples` of squared per-example gradients for each named tensor. */
export async function gradientSquares(
  folder: ModelFolder,
  names: string[],
  examples: readonly TrainExample[],
  padId: number,
  config: SeatConfig,
  signal: AbortSignal,
): Promise<Map<string, Float32Array>> {
  const T = Math.max(2, ...examples.map((e) => e.ids.length));
  const A = maxTargets(examples);
  const specs = new Map<string, WeightSpec>(names.map((n) => [n, { kind: "dense" }]));
  const m = createModelGraph(folder, { name: "seat-fisher", specs });
  const g = m.graph;
  const ids = g.input("ids", "int32", [1, T]);
  const labelPos = g.input("label_pos", "int32", [1, A]);
  const labels = g.input("labels", "int32", [1, A]);
  const { loss } = crossEntropy(llamaForward(m.tuned, ids, { select: labelPos }).logits, labels);
  const inputs = m.params.map((p) => p.input);
  const grads = grad(loss, inputs);
  grads.forEach((gr, i) => g.output(`grad/${m.params[i].weightName}`, gr));
  const session = await openModelSession(toOnnx(g, { externalThreshold: 1 << 20 }), folder.weights, {
    provider: config.device.provider,
    label: "gradient pass",
  });
  try {
    await session.setState(m.initialState());
    const acc = new Map<string, Float32Array>(
      m.params.map((p) => [p.weightName, new Float32Array((p.input.shape as number[]).reduce((a, b) => a * b, 1))]),
    );
    for (const ex of examples) {
      signal.throwIfAborted();
      const feeds: Record<string, HostTensor> = batchFeeds(makeBatch([ex], 1, T, A, padId), 1, T, A);
      const out = await session.run(
        feeds,
        [...acc.keys()].map((n) => `grad/${n}`),
      );
      for (const [n, a] of acc) {
        const gd = out[`grad/${n}`].data as Float32Array;
        for (let i = 0; i < a.length; i++) a[i] += gd[i] * gd[i];
      }
    }
    return acc;
  } finally {
    await session.release();
  }
}
