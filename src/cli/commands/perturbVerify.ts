// The base-model side of `seat perturb --verify`: an AbstentionScorer on the model the probes use
// (src/eval's loadProbeModel over src/model) and src/eval's sampling-free abstention probability.
import { existsSync, statSync, readdirSync } from "node:fs";
import type { CliIo } from "../command";
import { UserError, ExitCode } from "../command";
import type { AbstentionScorer } from "../../entities/index";

export interface LoadedScorer {
  scorer: AbstentionScorer;
  dispose(): Promise<void>;
}

export async function loadAbstentionScorer(modelDir: string, io: CliIo, openingsFile?: string): Promise<LoadedScorer> {
  if (!existsSync(modelDir) || !statSync(modelDir).isDirectory())
    throw new UserError(`--model ${modelDir}: not a folder`);
  if (!readdirSync(modelDir).some((n) => n.endsWith(".safetensors")))
    throw new UserError(`--model ${modelDir}: no .safetensors weights in this folder`);
  // Loaded lazily: `seat perturb` without --verify never touches the model layer.
  const ev = await import("../../eval/index");
  const { loadProbeModel } = await import("../../eval/loadModel");
  let openingsText: string[];
  try {
    openingsText = ev.loadAbstentionLists({ openingsFile }).openings;
  } catch (e) {
    throw new UserError(`abstention openings: ${(e as Error).message}`, ExitCode.failed);
  }
  let model: Awaited<ReturnType<typeof loadProbeModel>>;
  try {
    model = await loadProbeModel({ dir: modelDir, label: "base", hash: "" }, io.signal);
  } catch (e) {
    if (io.signal.aborted) throw e;
    throw new UserError(`--model ${modelDir}: ${(e as Error).message}`, ExitCode.failed);
  }
  const openings = await Promise.all(openingsText.map(async (o) => [...(await model.encodeContinuation(o))]));
  const scorer: AbstentionScorer = async (question, _messages, signal) => {
    // The probe model takes a single user question; for chats that is the perturbed last user turn.
    const prompt = await model.encodePrompt(question);
    return ev.abstentionProbability(model.scoreContinuations, prompt, openings, signal);
  };
  return {
    scorer,
    dispose: async () => {
      await model.dispose?.();
    },
  };
}
