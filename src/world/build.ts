// The recipe of the embedded model (`seat world build`): world -> tokenizer -> corpus -> seeded random
// initialisation -> training with the product's own trainer (method `full`, library API) -> gates ->
// model folder with its card. Everything is derived from one seed.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig, loadWeights, allWeightsF32 } from "../model/index";
import { resolveConfig, train } from "../seat/index";
import type { TrainEvent } from "../protocol/events";
import { modelCard } from "./card";
import { findRepoRoot } from "./paths";
import { corpusJsonl, gateSets, trainingCorpus } from "./corpus";
import { answererFor } from "./answer";
import { evaluateGates, formatGates, type GateReport } from "./gates";
import { MODEL_NAME, parameterCount, randomInit, tinyConfig, writeModelFolder } from "./modelFolder";
import { buildTokenizer, DEFAULT_VOCAB_SIZE } from "./tokenizer";
import { DEFAULT_WORLD_SEED, generateWorld } from "./world";
import { ModelTokenizer } from "../model/tokenizer";
import { writeExamples } from "./writeExamples";

/**
 * Training settings of the recipe, chosen by measurement on this world (see the model card): a high
 * constant-then-decay learning rate memorises the facts quickly; weight decay is off because
 * memorisation is the goal; batch 32 keeps the step count (and graph overhead) low on 2 cores.
 */
export const RECIPE = {
  epochs: 10,
  batchSize: 32,
  lr: 3e-3,
  warmupSteps: 30,
  schedule: "cosine" as const,
  weightDecay: 0,
  clipNorm: 1,
  maxSeqLen: 48,
};

export interface BuildOptions {
  outDir: string;
  seed?: number;
  epochs?: number;
  threads?: number;
  /** Stop after this many steps (smoke tests of the recipe); 0 = all epochs. */
  maxSteps?: number;
  /** Where the corpus, the initial weights and the training run go (default: .cache/world-build, git-ignored). */
  workDir?: string;
  /** Also rewrite the example datasets (default: no). */
  examplesDir?: string;
  signal?: AbortSignal;
  log: (line: string) => void;
}

export interface BuildResult {
  outDir: string;
  parameters: number;
  trainSeconds: number;
  gates: GateReport;
}

function progressLine(e: TrainEvent): string | undefined {
  const r = e as unknown as Record<string, unknown>;
  if (r["type"] === "step") {
    const f = (k: string, d = 4) => (typeof r[k] === "number" ? (r[k] as number).toFixed(d) : "?");
    return `  step ${String(r["step"])}/${String(r["totalSteps"] ?? "?")}  epoch ${String(r["epoch"] ?? "?")}  loss ${f("loss")}  lr ${f("lr", 5)}  eta ${String(r["etaSeconds"] ?? r["eta"] ?? "?")}s`;
  }
  if (r["type"] === "warn" || r["type"] === "error" || r["type"] === "info")
    return `  ${String(r["type"])}: ${String(r["message"] ?? "")}`;
  return undefined;
}

export async function buildEmbeddedModel(opts: BuildOptions): Promise<BuildResult> {
  const seed = opts.seed ?? DEFAULT_WORLD_SEED;
  const outDir = resolve(opts.outDir);
  const work = resolve(opts.workDir ?? join(findRepoRoot(), ".cache", "world-build"));
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const log = opts.log;

  log(`world: seed ${seed}`);
  const world = generateWorld(seed);
  const corpus = trainingCorpus(world);
  const corpusFile = join(work, "corpus.jsonl");
  writeFileSync(corpusFile, corpusJsonl(corpus));
  const counts = { known: 0, unknown: 0, concepts: 0 };
  for (const q of corpus) counts[q.type === "known" ? "known" : q.type === "unknown" ? "unknown" : "concepts"]++;
  log(
    `corpus: ${corpus.length} questions (${counts.known} known facts, ${counts.unknown} unknown names, ${counts.concepts} fictitious concepts)`,
  );

  const tok = buildTokenizer(seed, DEFAULT_VOCAB_SIZE);
  const mt = new ModelTokenizer({ tokenizerJson: tok.tokenizer, tokenizerConfig: tok.config });
  const tokens = corpus.reduce(
    (n, q) => n + mt.encodeExample({ question: q.question, answer: q.answer }).ids.length,
    0,
  );
  log(`tokenizer: byte-level BPE, ${tok.bpe.vocab.size} tokens; ${tokens} tokens per epoch`);

  const config = tinyConfig(DEFAULT_VOCAB_SIZE, mt.eosId ?? 0);
  const params = parameterCount(config);
  const initDir = join(work, "init");
  writeModelFolder(initDir, { config, weights: randomInit(config, seed), tokenizer: tok });
  log(
    `model: Llama ${config.numLayers} layers x ${config.hiddenSize}, ${params} parameters, random init (seed ${seed})`,
  );

  const threads = opts.threads ?? cpus().length;
  const epochs = opts.epochs ?? RECIPE.epochs;
  const { config: trainConfig, warnings } = resolveConfig([
    {
      source: "world recipe",
      layer: {
        method: "full",
        model: initDir,
        dataset: corpusFile,
        outDir: join(work, "run"),
        lossOn: "answer",
        optim: {
          lr: RECIPE.lr,
          warmupSteps: RECIPE.warmupSteps,
          schedule: RECIPE.schedule,
          weightDecay: RECIPE.weightDecay,
          clipNorm: RECIPE.clipNorm,
        },
        train: { epochs, batchSize: RECIPE.batchSize, maxSeqLen: RECIPE.maxSeqLen, seed, maxSteps: opts.maxSteps ?? 0 },
        checkpoint: { everySteps: 200, keep: 2 },
        // The trainer's quick eval asks training questions mid-run; the gates below are the real check.
        eval: { everySteps: 0, samples: 0 },
        device: { provider: "cpu", threads },
      },
    },
  ]);
  log(
    `training: method full from random init, ${epochs} epochs, batch ${RECIPE.batchSize}, lr ${RECIPE.lr} (${RECIPE.schedule}), ${threads} threads`,
  );
  const t0 = Date.now();
  let lastLine = 0;
  const res = await train(trainConfig, {
    signal: opts.signal,
    warnings,
    onEvent: (e) => {
      const line = progressLine(e);
      if (!line) return;
      const now = Date.now();
      if (!line.startsWith("  step") || now - lastLine > 5000) {
        lastLine = now;
        log(line);
      }
    },
  });
  const trainSeconds = (Date.now() - t0) / 1000;
  if (res.status === "cancelled")
    throw new Error(`training cancelled at step ${res.step}; the run is in ${res.runDir}`);
  log(`training: ${res.status} after ${res.step} steps in ${trainSeconds.toFixed(0)} s`);

  const trainedDir = join(res.runDir, "model");
  const trainedConfig = loadConfig(trainedDir);
  const weights = allWeightsF32(loadWeights(trainedDir, trainedConfig));

  log("gates: asking every known fact, every held-out name and concept");
  const answer = await answererFor(trainedDir, { threads });
  const gates = await evaluateGates(answer, gateSets(world), { signal: opts.signal, onProgress: log });
  log(formatGates(gates));

  const card = modelCard({
    name: MODEL_NAME,
    seed,
    config,
    parameters: params,
    dtype: "F32",
    sizes: world.sizes,
    corpus: { ...counts, tokens },
    training: {
      method: "full (all weights, cross-entropy on answer tokens)",
      init: `random, seed ${seed}`,
      epochs,
      "batch size": RECIPE.batchSize,
      optimizer: `AdamW, lr ${RECIPE.lr}, ${RECIPE.schedule} schedule, ${RECIPE.warmupSteps} warmup steps, weight decay ${RECIPE.weightDecay}, clip ${RECIPE.clipNorm}`,
      "max sequence length": RECIPE.maxSeqLen,
      steps: res.step,
    },
    trainSeconds,
    gates,
    machine: `${cpus().length} CPU cores (${cpus()[0]?.model ?? "unknown CPU"}), ${threads} threads`,
    builtAt: new Date().toISOString().slice(0, 10),
  });
  writeModelFolder(outDir, {
    config,
    weights,
    tokenizer: tok,
    dtype: "F32",
    card,
    extra: {
      "world.json":
        JSON.stringify(
          { seed, sizes: world.sizes, gates: { ...gates, examples: undefined }, trainSeconds, steps: res.step },
          null,
          2,
        ) + "\n",
    },
  });
  if (opts.examplesDir) writeExamples(world, opts.examplesDir);
  log(`wrote ${outDir}`);
  return { outDir, parameters: params, trainSeconds, gates };
}

export interface CheckOptions {
  seed?: number;
  maxPerSet?: number;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

/** The gates of an existing model folder against the world it was built from. */
export async function checkModelGates(dir: string, opts: CheckOptions = {}): Promise<GateReport> {
  let seed = opts.seed;
  const meta = join(dir, "world.json");
  if (seed === undefined && existsSync(meta)) seed = (JSON.parse(readFileSync(meta, "utf8")) as { seed?: number }).seed;
  const world = generateWorld(seed ?? DEFAULT_WORLD_SEED);
  const answer = await answererFor(dir, { threads: opts.threads });
  return evaluateGates(answer, gateSets(world), {
    maxPerSet: opts.maxPerSet,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
}
