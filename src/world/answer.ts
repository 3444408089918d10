// Greedy chat answers from a model folder, for the gates (and quick looks at what a model says).
import { LlamaModel } from "../model/index";
import type { AnswerFn } from "./gates";

export interface AnswererOptions {
  threads?: number;
  /** Rows per batch (default 32: the world's prompts are short). */
  batchSize?: number;
  maxNewTokens?: number;
}

/** Loads the model once; the returned function answers batches of questions until the process ends. */
export async function answererFor(dir: string, opts: AnswererOptions = {}): Promise<AnswerFn> {
  const model = await LlamaModel.load(dir, {
    provider: "cpu",
    intraOpThreads: opts.threads,
    batchSize: opts.batchSize ?? 32,
  });
  return async (questions, signal) => {
    const res = await model.generateText(questions, { maxNewTokens: opts.maxNewTokens ?? 32, signal });
    return res.map((r) => r.text.trim());
  };
}
