// The quick eval a run reports every epoch (or every eval.everySteps): the held-out abstention
// probability from the tuned weights as they are in the training session, without generation. Each
// held-out prompt is one prefix-packed row with every abstention opening (model/prefixPack.ts), so the
// prompt runs once, and logits exist only at the read positions: 8 prompts x 23 openings on a
// 151,936-token vocabulary read ~60 positions per row instead of [184 x T x V] (about 12 GB at T 30).
import { toOnnx, type HostTensor } from "../engine/index";
import {
  openModelSession,
  packPrefix,
  packedScoreFeeds,
  type ModelFolder,
  type PackedRow,
  type WeightSpecs,
} from "../model/index";
import { abstentionProbabilityFromLogProbs, loadAbstentionLists, prefixFree } from "../eval/index";
import type { Session } from "../runtime/index";
import type { SeatConfig } from "./config";
import { buildScoreGraph } from "./graphs";

export interface QuickEval {
  abstentionProb: number;
  answerAccuracy: number;
  abstentionSamples: number;
  accuracySamples: number;
}

/** The quick eval's session over held-out prompts; scores the tuned weights it is handed. */
export class QuickEvalScorer {
  private session: Session | undefined;
  private readonly rows: PackedRow[];
  private readonly conts: number[][][];
  private readonly T: number;
  private readonly S: number;

  private constructor(
    private readonly folder: ModelFolder,
    private readonly specs: WeightSpecs,
    readonly prompts: readonly number[][],
    openings: number[][],
    private readonly padId: number,
  ) {
    this.rows = prompts.map((p) => packPrefix(p, openings));
    this.conts = prompts.map(() => openings);
    this.T = Math.max(1, ...this.rows.map((r) => r.ids.length));
    this.S = Math.max(1, ...this.rows.map((r) => r.reads.flat().length));
  }

  /** Openings are tokenized as they follow the generation prompt (no BOS), as the probe suite does. */
  static create(
    folder: ModelFolder,
    specs: WeightSpecs,
    prompts: readonly number[][],
    padId: number,
  ): QuickEvalScorer | undefined {
    if (prompts.length === 0) return undefined;
    const tok = folder.tokenizer;
    const openings = prefixFree(
      loadAbstentionLists()
        .openings.map((o) => tok.encode(o))
        .filter((o) => o.length > 0),
    );
    if (openings.length === 0) return undefined;
    return new QuickEvalScorer(folder, specs, prompts, openings, padId);
  }

  /** `log` receives the session's provider choice and, on a GPU, where its nodes ran. */
  async open(config: SeatConfig, log?: (message: string) => void): Promise<void> {
    if (this.session) return;
    const g = buildScoreGraph(this.folder, this.specs, this.rows.length, this.T, this.S);
    this.session = await openModelSession(toOnnx(g.graph, { externalThreshold: 1 << 20 }), this.folder.weights, {
      provider: config.device.provider,
      ...(config.device.threads ? { intraOpThreads: config.device.threads } : {}),
      label: "quick-eval graph",
      ...(log ? { log } : {}),
    });
  }

  /** Mean abstention probability over the prompts, for the given trainable values. */
  async abstention(values: Record<string, HostTensor>, config: SeatConfig): Promise<number> {
    await this.open(config);
    const { feeds, slots } = packedScoreFeeds(
      this.folder.config,
      this.rows,
      this.conts,
      this.rows.length,
      this.T,
      this.S,
      this.padId,
    );
    const out = await this.session!.run({ ...values, ...feeds }, ["token_logprob"]);
    const lp = out.token_logprob.data as Float32Array;
    let sum = 0;
    slots.forEach((row, n) => {
      const perOpening = row.map((s) => s.reduce((a, slot) => a + lp[n * this.S + slot], 0));
      sum += abstentionProbabilityFromLogProbs(perOpening);
    });
    return sum / this.rows.length;
  }

  async release(): Promise<void> {
    await this.session?.release();
    this.session = undefined;
  }
}
