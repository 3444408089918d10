// Talking to a tuned model next to its base: the same question to both, answers streamed token by
// token, and each answer's P(abstain) (the model's probability that its answer opens with an abstention,
// src/eval/abstentionProbability.ts), which is what SEAT is meant to keep for unknown entities.
// Used by `seat chat` and by the editor's chat child process; nothing here touches the editor.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { LlamaModel, type LoadOptions, type SamplingOptions } from "../model/index";
import { abstentionProbability, loadAbstentionLists, prefixFree } from "../eval/index";
import { RUN_FILES } from "./runFolder";
import { runBaseModel, runTunedWeights } from "./exportRun";

export interface ChatSettings {
  maxNewTokens: number;
  /** Greedy when temperature is 0. */
  sampling: SamplingOptions;
}

/** A folder that holds a training run (config.json + checkpoints/) rather than a model. */
export function isRunFolder(dir: string): boolean {
  return (
    existsSync(join(dir, RUN_FILES.config)) &&
    existsSync(join(dir, RUN_FILES.checkpoints)) &&
    statSync(join(dir, RUN_FILES.checkpoints)).isDirectory()
  );
}

/** generation_config.json's sampling defaults (greedy unless it samples), overridden by explicit options. */
export function chatSettings(
  modelDir: string,
  explicit: Partial<SamplingOptions> & { maxNewTokens?: number } = {},
): ChatSettings {
  let g: Record<string, unknown> = {};
  try {
    g = JSON.parse(readFileSync(join(modelDir, "generation_config.json"), "utf8")) as Record<string, unknown>;
  } catch {
    /* no file: plain defaults */
  }
  const num = (k: string) => (typeof g[k] === "number" ? (g[k] as number) : undefined);
  const samples = g["do_sample"] === true;
  return {
    maxNewTokens: explicit.maxNewTokens ?? num("max_new_tokens") ?? 128,
    sampling: {
      temperature: explicit.temperature ?? (samples ? (num("temperature") ?? 1) : 0),
      topP: explicit.topP ?? (samples ? num("top_p") : undefined) ?? 1,
      topK: explicit.topK ?? (samples ? num("top_k") : undefined) ?? 0,
      ...(explicit.seed !== undefined ? { seed: explicit.seed } : {}),
    },
  };
}

export interface ChatModel {
  label: string;
  /** The folder whose config/tokenizer it uses (a run's base folder for a run). */
  dir: string;
  model: LlamaModel;
  openings: number[][];
}

/** Loads a model folder, or a run folder's newest checkpoint merged onto its base (nothing written). */
export async function openChatModel(
  dirOrRun: string,
  label: string,
  opts: LoadOptions & { openings?: readonly string[] } = {},
): Promise<ChatModel> {
  const dir = resolve(dirOrRun);
  let model: LlamaModel;
  let folderDir = dir;
  if (isRunFolder(dir)) {
    const t = runTunedWeights(dir);
    model = await LlamaModel.load(t.folder, { ...opts, overrides: t.merged });
    folderDir = t.folder.dir;
  } else {
    model = await LlamaModel.load(dir, opts);
  }
  const texts = opts.openings ?? loadAbstentionLists().openings;
  const openings = prefixFree(texts.map((o) => model.tokenizer.encode(o)).filter((ids) => ids.length > 0));
  return { label, dir: folderDir, model, openings };
}

/** The base a tuned model is compared with: --base when given, else a run's base model. */
export function defaultBase(dirOrRun: string): string | undefined {
  return isRunFolder(resolve(dirOrRun)) ? runBaseModel(dirOrRun) : undefined;
}

export interface ChatAnswer {
  text: string;
  tokens: number;
  finish: string;
  pAbstain: number;
}

export async function answer(
  m: ChatModel,
  question: string,
  settings: ChatSettings,
  opts: { system?: string; signal?: AbortSignal; onText?: (text: string) => void } = {},
): Promise<ChatAnswer> {
  const prompt = m.model.tokenizer.encodePrompt(question, opts.system);
  const [r] = await m.model.generate([prompt], {
    maxNewTokens: settings.maxNewTokens,
    sampling: settings.sampling,
    signal: opts.signal,
    onToken: (_row, _id, text) => opts.onText?.(text),
  });
  const score = async (p: readonly number[], conts: readonly (readonly number[])[]) =>
    (await m.model.score([{ prompt: p, continuations: conts }]))[0]!.total;
  const pAbstain = await abstentionProbability(score, prompt, m.openings, opts.signal);
  return { text: r!.text, tokens: r!.ids.length, finish: r!.finish, pAbstain };
}
