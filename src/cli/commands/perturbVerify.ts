// The base-model side of `seat perturb --verify`: an AbstentionScorer built from the model layer
// (src/model) and the abstention probability of src/eval.
import type { CliIo } from "../command";
import { UserError, ExitCode } from "../command";
import type { AbstentionScorer } from "../../entities/index";

export async function loadAbstentionScorer(modelDir: string, _io: CliIo): Promise<AbstentionScorer> {
  throw new UserError(`--verify is not available yet: the model runtime for scoring prompts (${modelDir}) is not wired in this build`, ExitCode.failed);
}
