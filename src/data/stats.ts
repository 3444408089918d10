// Dataset statistics: what the Datasets view and `seat stats` show. One streaming pass (the validator's)
// with per-record accumulation; memory grows only with the number of distinct entities (capped).
import { validateFile, type StreamOptions } from "./stream";
import type { DatasetRecord, DatasetSummary, RecordFormat, TokenCounter } from "./types";

export interface LengthStats {
  min: number;
  max: number;
  mean: number;
}

export interface DatasetStats {
  summary: DatasetSummary;
  formats: Partial<Record<RecordFormat, number>>;
  /** Characters of the prompt and answer. */
  questionChars: LengthStats;
  answerChars: LengthStats;
  /** Token counts of the whole record, when a tokenizer was given. */
  tokens?: LengthStats & { total: number };
  turns: LengthStats;
  withEntities: number;
  withPerturbations: number;
  perturbations: number;
  distinctEntities: number;
  /** Most frequent subject entities, [name, records]. */
  topEntities: Array<[string, number]>;
  duplicates: number;
}

const MAX_TRACKED_ENTITIES = 100_000;

class Acc {
  n = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  add(v: number) {
    this.n++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
  get(): LengthStats {
    return this.n ? { min: this.min, max: this.max, mean: this.sum / this.n } : { min: 0, max: 0, mean: 0 };
  }
}

/** Accumulates statistics record by record (usable on any record stream). */
export class StatsBuilder {
  private readonly q = new Acc();
  private readonly a = new Acc();
  private readonly t = new Acc();
  private readonly turns = new Acc();
  private readonly entities = new Map<string, number>();
  private withEntities = 0;
  private withPerturbations = 0;
  private perturbations = 0;
  constructor(private readonly countTokens?: TokenCounter) {}
  add(r: DatasetRecord) {
    this.q.add(r.question.length);
    this.a.add(r.answer.length);
    this.turns.add(r.messages.length);
    if (this.countTokens) this.t.add(this.countTokens(r.messages.map((m) => m.content).join("\n")));
    if (r.entities.length) this.withEntities++;
    if (r.perturbations.length) this.withPerturbations++;
    this.perturbations += r.perturbations.length;
    for (const e of new Set(r.entities)) {
      const c = this.entities.get(e);
      if (c !== undefined) this.entities.set(e, c + 1);
      else if (this.entities.size < MAX_TRACKED_ENTITIES) this.entities.set(e, 1);
    }
  }
  finish(summary: DatasetSummary, topN = 10): DatasetStats {
    const top = [...this.entities].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).slice(0, topN);
    const tokens = this.countTokens ? { ...this.t.get(), total: this.t.sum } : undefined;
    return {
      summary,
      formats: summary.formats,
      questionChars: this.q.get(),
      answerChars: this.a.get(),
      ...(tokens ? { tokens } : {}),
      turns: this.turns.get(),
      withEntities: this.withEntities,
      withPerturbations: this.withPerturbations,
      perturbations: this.perturbations,
      distinctEntities: this.entities.size,
      topEntities: top,
      duplicates: summary.duplicates,
    };
  }
}

/** Statistics of a dataset file (validating it on the way). */
export async function datasetStats(
  path: string,
  options: StreamOptions & { topEntities?: number } = {},
): Promise<DatasetStats & { problems: number }> {
  const b = new StatsBuilder(options.countTokens);
  const v = await validateFile(path, {
    ...options,
    countTokens: options.maxTokens ? options.countTokens : undefined,
    onRecord: (r) => b.add(r),
  });
  return { ...b.finish(v.summary, options.topEntities), problems: v.problems.length };
}
