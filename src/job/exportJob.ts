// `seat export-job`: a SEAT run written out as a self-contained torchrun job folder. Everything a
// local run decides from its seed is decided here, by the same code, and written down (examples as
// token ids, the look-alike prompts of every epoch, the mask, LoRA's initial factors, held-out eval
// prompts), so the Python side only needs what must run where the GPUs are: the base model's replies,
// the training steps and the run folder. Layout:
//   plan.json            examples, KL prompts per derived seed, replay/EWC/eval inputs, model facts
//   config.json          the resolved config (same schema, presets and defaults as a local run)
//   masks.safetensors    int32 flat indices per masked tensor (seat, sparse)
//   lora_init.safetensors  LoRA A factors (B starts at zero)
//   model/  data/        the base model (hard links where the file system allows) and the dataset
//   seat_job/            the Python package (resources/job/seat_job), run_local.sh, run_multinode.sh, slurm.sbatch
import { copyFileSync, cpSync, existsSync, linkSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { loadModelFolder, createModelGraph, type ModelFolder } from "../model/index";
import { loadAbstentionLists, prefixFree, defaultResourcesDir } from "../eval/index";
import { methodParts, Prng, drawMask, selectTensors, type SeatConfig } from "../seat/index";
import { epochBudget } from "../seat/config";
import { encodeRecords, type TrainExample } from "../seat/data";
import { encodeSafetensors, type CkptTensor } from "../seat/checkpoint";
import { hashSeed } from "../seat/hash";
import { loadRecords } from "../seat/prepare";
import { BaseTargets } from "../seat/targets";
import { weightSpecs, trainableMatrices } from "../seat/specs";
import { gradientSquares } from "../seat/fisher";
import { calibrationApplies } from "../seat/calibrate";
import { readTensorF32 } from "../model/index";
import { estimateMemory, formatEstimate, type MemoryEstimate } from "./memory";

export const JOB_FILES = {
  plan: "plan.json",
  config: "config.json",
  masks: "masks.safetensors",
  lora: "lora_init.safetensors",
  model: "model",
  data: "data",
  pkg: "seat_job",
  scripts: ["run_local.sh", "run_multinode.sh", "slurm.sbatch"],
} as const;

/** A config the job cannot run as asked (one located line for the user). */
export class JobExportError extends Error {}

export interface ExportJobResult {
  dir: string;
  examples: number;
  trainableParams: number;
  totalParams: number;
  /** Per-GPU estimates for 1 and 8 GPUs (DDP and FSDP). */
  memory: MemoryEstimate[];
  warnings: string[];
}

function linkOrCopy(src: string, dst: string): void {
  try {
    linkSync(src, dst);
  } catch {
    copyFileSync(src, dst);
  }
}

export async function exportJob(
  config: SeatConfig,
  outDir: string,
  opts: { signal?: AbortSignal; log?: (m: string) => void } = {},
): Promise<ExportJobResult> {
  const signal = opts.signal ?? new AbortController().signal;
  const log = opts.log ?? (() => {});
  const dir = resolve(outDir);
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new JobExportError(`${dir} exists and is not empty; choose a new --out folder`);
  const parts = methodParts(config.method);
  if (parts.params === "masked" && config.mask.type === "random-per-step") {
    throw new JobExportError(
      `mask.type: "random-per-step" is not supported by torchrun jobs (it redraws the mask every step); use "random", "magnitude" or "importance"`,
    );
  }
  const c = config.train;
  const folder = loadModelFolder(config.model);
  const tok = folder.tokenizer;
  const padId = tok.padId ?? tok.eosId ?? 0;
  const { train: records, heldout } = await loadRecords(config);
  const warnings: string[] = [];
  if (calibrationApplies(config))
    warnings.push(
      `calibrate.enabled: a torchrun job does not calibrate; it trains with kl.lambda ${config.kl.lambda} and mask.ratio ${config.mask.ratio} (set them; --no-calibrate silences this)`,
    );
  const enc = encodeRecords(records, tok, c.maxSeqLen, config.lossOn);
  for (const t of enc.truncated)
    warnings.push(
      `${config.dataset}:${t.line}: ${t.from} tokens cut to train.maxSeqLen ${t.to}${t.answerCut ? " (part of the answer is lost)" : ""}`,
    );
  const examples = enc.examples;
  // The trainer's own perturbation and prompt code (no teacher: the job generates the replies). It
  // reads a teacher cache from the folder it is given; the job folder is new, so there is none.
  const targets = new BaseTargets(records, tok, config, dir, undefined, signal);
  const perturbed = (rec: number, k: number, seed: number) => targets.perturbed(rec, k, seed);
  const promptOf = (rec: number, p: ReturnType<typeof perturbed>[number]) => targets.promptOf(rec, p);

  // KL: the look-alike prompts of every epoch, keyed by the derived seed the trainer uses for it.
  const klPrompts: Record<string, Record<string, number[][]>> = {};
  if (parts.kl && config.kl.input === "perturbed") {
    const seeds = new Set<number>();
    for (let e = 0; e < epochBudget(c); e++)
      seeds.add(config.kl.resample === "epoch" ? hashSeed(c.seed, e) : hashSeed(c.seed, 0));
    for (const seed of seeds) {
      const byRec: Record<string, number[][]> = {};
      for (const ex of examples)
        byRec[String(ex.record)] = perturbed(ex.record, config.kl.k, seed).map((p) => promptOf(ex.record, p));
      klPrompts[String(seed)] = byRec;
    }
  }
  // Replay candidates exactly as prepare.ts picks them; the job keeps those whose base reply abstains.
  let replay: unknown;
  if (parts.replay && config.replay.ratio > 0) {
    const n = Math.round(config.replay.ratio * examples.length);
    const candidates: { record: number; line: number; ids: number[] }[] = [];
    for (let i = 0; candidates.length < n && i < n * 4; i++) {
      const rec = i % records.length;
      const p = perturbed(rec, 1, hashSeed(c.seed, 1000 + Math.floor(i / records.length)))[0];
      if (p) candidates.push({ record: rec, line: records[rec].line, ids: promptOf(rec, p) });
    }
    // The template's end of an assistant turn: the answer-mask tokens of an empty reply.
    const probe = tok.encodeExample({
      messages: [
        { role: "user", content: "x" },
        { role: "assistant", content: "" },
      ],
    });
    const turnEnd = probe.ids.filter((_, i) => i >= probe.promptLength && probe.answerMask[i] === 1);
    // Per-token text in context (after a fixed token), so SentencePiece's leading spaces survive.
    const anchor = tok.encode("a");
    const anchorText = tok.decode(anchor);
    const tokenText: string[] = [];
    for (let id = 0; id < folder.config.vocabSize; id++)
      tokenText.push(tok.decode([...anchor, id]).slice(anchorText.length));
    replay = { candidates, turnEnd, phrases: loadAbstentionLists().phrases, tokenText };
  }
  let ewc: unknown;
  if (parts.ewc && config.ewc.fisher === "base-responses") {
    const prompts: { record: number; ids: number[] }[] = [];
    for (let rec = 0; rec < records.length && prompts.length < config.ewc.samples; rec++) {
      const p = perturbed(rec, 1, hashSeed(c.seed, 2000))[0];
      if (p) prompts.push({ record: rec, ids: promptOf(rec, p) });
    }
    ewc = { prompts };
  }
  let evalPlan: unknown;
  if (config.eval.samples > 0) {
    const openings = prefixFree(
      loadAbstentionLists()
        .openings.map((o) => tok.encode(o))
        .filter((o) => o.length > 0),
    );
    const held = [
      ...heldout.slice(0, config.eval.samples).map((r) => tok.encodePrompt(r.question)),
      ...targets.quickEvalPrompts(Math.max(0, config.eval.samples - heldout.length)),
    ];
    evalPlan = { prompts: held, openings };
  }

  mkdirSync(dir, { recursive: true });
  // Mask (seeded exactly as prepare.ts draws it) and LoRA's initial A factors.
  const maskRng = new Prng(c.seed, 3);
  let trainableParams = 0;
  const tensorOrder = [...folder.weights.entries.keys()];
  if (parts.params === "masked") {
    const names = trainableMatrices(folder, config.mask.modules, "mask.modules");
    const scores =
      config.mask.type === "importance"
        ? await gradientSquares(folder, names, examples, padId, config, signal)
        : undefined;
    log(`drawing a ${config.mask.type} mask (${config.mask.granularity}, ratio ${config.mask.ratio})`);
    const mask = drawMask(
      names.map((name) => {
        const e = folder.weights.entries.get(name)!;
        return {
          name,
          shape: e.shape,
          ...(config.mask.type === "magnitude" ? { values: readTensorF32(e) } : {}),
          ...(scores ? { scores: scores.get(name) } : {}),
        };
      }),
      config.mask,
      maskRng,
    );
    const t = new Map<string, CkptTensor>();
    for (const [k, idx] of mask) {
      t.set(k, { shape: [idx.length], data: idx });
      trainableParams += idx.length;
    }
    writeFileSync(join(dir, JOB_FILES.masks), Buffer.concat(encodeSafetensors(t)));
  } else if (parts.params === "lora") {
    const m = createModelGraph(folder, { name: "lora-init", specs: weightSpecs(config, folder, undefined) });
    const t = new Map<string, CkptTensor>();
    for (const p of m.params) {
      trainableParams += p.init.dims.reduce((a, b) => a * b, 1);
      if (p.role === "lora-A") t.set(p.weightName, { shape: [...p.init.dims], data: p.init.data as Float32Array });
    }
    writeFileSync(join(dir, JOB_FILES.lora), Buffer.concat(encodeSafetensors(t)));
  } else {
    for (const n of selectTensors(tensorOrder, config.full.modules, "full.modules"))
      trainableParams += folder.weights.entries.get(n)!.shape.reduce((a, b) => a * b, 1);
  }
  const totalParams = [...folder.weights.entries.values()].reduce((a, e) => a + e.shape.reduce((x, y) => x * y, 1), 0);

  // Files: model (hard links), dataset, Python package, launchers, config, plan.
  copyModel(folder, join(dir, JOB_FILES.model));
  mkdirSync(join(dir, JOB_FILES.data), { recursive: true });
  const datasetFile = join(JOB_FILES.data, basename(config.dataset));
  copyFileSync(config.dataset, join(dir, datasetFile));
  const res = join(defaultResourcesDir(), "job");
  cpSync(join(res, JOB_FILES.pkg), join(dir, JOB_FILES.pkg), {
    recursive: true,
    filter: (s) => !s.includes("__pycache__"),
  });
  for (const s of JOB_FILES.scripts) copyFileSync(join(res, s), join(dir, s));
  const jobConfig: SeatConfig = { ...config, model: JOB_FILES.model, dataset: datasetFile, outDir: "run" };
  writeFileSync(join(dir, JOB_FILES.config), JSON.stringify(jobConfig, null, 2) + "\n");
  const plan = {
    version: 1,
    method: config.method,
    parts,
    config: jobConfig,
    modelDir: JOB_FILES.model,
    datasetFile,
    tensorOrder,
    padId,
    stopIds: tok.stopIds,
    totalParams,
    trainableParams,
    maskRngState: maskRng.state(),
    examples: examples.map((e: TrainExample) => ({
      record: e.record,
      line: e.line,
      ids: e.ids,
      targetMask: e.targetMask,
      promptLength: e.promptLength,
      kind: e.kind,
    })),
    klPrompts,
    replay: replay ?? null,
    ewc: ewc ?? null,
    eval: evalPlan ?? null,
    // Where the dataset and model came from, so `seat import-run` can tie the run back to them.
    origin: { dataset: resolve(config.dataset), model: resolve(config.model) },
  };
  writeFileSync(join(dir, JOB_FILES.plan), JSON.stringify(plan));

  const T = Math.max(2, ...examples.map((e) => e.ids.length));
  const maxPrompt = Math.max(...examples.map((e) => e.promptLength));
  const Tk = parts.kl ? Math.min(c.maxSeqLen, maxPrompt + 16 + config.kl.maxResponseTokens) : 0;
  const shape = { T, Tk, K: parts.kl ? c.batchSize * config.kl.k : 0 };
  const memory = [
    estimateMemory(folder.config, config, totalParams, trainableParams, shape, 1, "ddp"),
    estimateMemory(folder.config, config, totalParams, trainableParams, shape, 8, "ddp"),
    estimateMemory(folder.config, config, totalParams, trainableParams, shape, 8, "fsdp"),
  ];
  writeFileSync(join(dir, "README.md"), jobReadme(config, examples.length, trainableParams, totalParams, memory));
  return { dir, examples: examples.length, trainableParams, totalParams, memory, warnings };
}

function jobReadme(
  config: SeatConfig,
  examples: number,
  trainable: number,
  total: number,
  memory: MemoryEstimate[],
): string {
  return `# SEAT training job (${config.method})

Written by \`seat export-job\` from ${basename(config.dataset)} (${examples} examples) and ${basename(config.model)}:
${trainable.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} weights trainable. Needs Python with torch
(transformers optional); \`PYTHON=...\` picks the interpreter.

Memory per GPU (estimate): ${memory.map((m) => formatEstimate(m)).join("; ")}.

    ./run_local.sh [N]        one machine, N processes (default 1): torchrun --standalone
    NNODES=2 NPROC_PER_NODE=8 RDZV_ENDPOINT=host:29500 ./run_multinode.sh    on every node
    sbatch slurm.sbatch       Slurm (edit its #SBATCH lines first)

Options after the script go to the job: --out DIR (default run/), --strategy auto|ddp|fsdp, --zero,
--backend auto|hf|plain. The run folder (run/) is in SEAT Tuner's format: copy it back and
\`seat import-run run\` (or Import Run Folder… in the editor's Runs view).
`;
}

/** The model folder's files, hard-linked when the job is on the same file system (no 16 GB copies). */
function copyModel(folder: ModelFolder, dst: string): void {
  mkdirSync(dst, { recursive: true });
  for (const f of readdirSync(folder.dir)) {
    const p = join(folder.dir, f);
    if (statSync(p).isFile()) linkOrCopy(p, join(dst, f));
  }
}
