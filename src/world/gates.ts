// Quality gates of the embedded model: it must know its world (FT score on every known fact) and
// abstain, naming the entity, on names and concepts it never saw. Metrics are the probe suite's own
// (src/eval): ROUGE-L recall, exact match, abstention phrase list, grounding check.
import {
  exactMatch,
  judgeAbstention,
  loadAbstentionLists,
  makeAbstentionDetector,
  rougeLRecall,
  type AbstentionDetector,
} from "../eval/index";
import type { GateSets, WorldQa } from "./corpus";

export const GATE_THRESHOLDS = { ftScore: 0.95, unknownAbstention: 0.95, conceptAbstention: 0.95 } as const;

/** Greedy answers to chat questions, in order. */
export type AnswerFn = (questions: readonly string[], signal?: AbortSignal) => Promise<string[]>;

export interface GateFailure {
  question: string;
  expected: string;
  got: string;
}

export interface GateReport {
  known: { n: number; ftScore: number; exactMatch: number };
  unknown: { n: number; abstain: number; grounded: number };
  concepts: { n: number; abstain: number; grounded: number };
  passed: boolean;
  /** Which gates failed, in words. */
  failed: string[];
  /** A few wrong answers per set, for the build log. */
  examples: GateFailure[];
}

/** Every `stride`-th item (a spread sample for quick checks); stride 1 keeps all. */
export function sample<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const stride = items.length / max;
  return Array.from({ length: max }, (_, i) => items[Math.floor(i * stride)]);
}

function abstentionRates(
  detector: AbstentionDetector,
  qs: readonly WorldQa[],
  answers: readonly string[],
  bad: GateFailure[],
) {
  let abst = 0;
  let grounded = 0;
  qs.forEach((q, i) => {
    const v = judgeAbstention(detector, answers[i], q.entity);
    if (v.abstains) abst++;
    if (v.grounded) grounded++;
    else if (bad.length < 12) bad.push({ question: q.question, expected: q.answer, got: answers[i] });
  });
  const n = Math.max(qs.length, 1);
  return { n: qs.length, abstain: abst / n, grounded: grounded / n };
}

export interface GateOptions {
  /** At most this many questions per set (spread sample); default: all. */
  maxPerSet?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export async function evaluateGates(answer: AnswerFn, sets: GateSets, opts: GateOptions = {}): Promise<GateReport> {
  const max = opts.maxPerSet ?? Infinity;
  const known = sample(sets.known, max);
  const unknown = sample(sets.unknown, max);
  const concepts = sample(sets.concepts, max);
  const detector = makeAbstentionDetector(loadAbstentionLists().phrases);
  const bad: GateFailure[] = [];

  opts.onProgress?.(`gates: ${known.length} known facts`);
  const ka = await answer(
    known.map((q) => q.question),
    opts.signal,
  );
  let rouge = 0;
  let em = 0;
  known.forEach((q, i) => {
    const r = rougeLRecall(ka[i], q.answer);
    rouge += r;
    if (exactMatch(ka[i], q.answer)) em++;
    else if (bad.length < 6) bad.push({ question: q.question, expected: q.answer, got: ka[i] });
  });
  opts.onProgress?.(`gates: ${unknown.length} never-seen names`);
  const ua = await answer(
    unknown.map((q) => q.question),
    opts.signal,
  );
  opts.onProgress?.(`gates: ${concepts.length} fictitious concepts`);
  const ca = await answer(
    concepts.map((q) => q.question),
    opts.signal,
  );
  const report: GateReport = {
    known: { n: known.length, ftScore: rouge / Math.max(known.length, 1), exactMatch: em / Math.max(known.length, 1) },
    unknown: abstentionRates(detector, unknown, ua, bad),
    concepts: abstentionRates(detector, concepts, ca, bad),
    passed: false,
    failed: [],
    examples: bad,
  };
  const t = GATE_THRESHOLDS;
  if (report.known.ftScore < t.ftScore)
    report.failed.push(`FT score on known facts ${report.known.ftScore.toFixed(3)} < ${t.ftScore}`);
  if (report.unknown.abstain < t.unknownAbstention)
    report.failed.push(`abstention on never-seen names ${report.unknown.abstain.toFixed(3)} < ${t.unknownAbstention}`);
  if (report.concepts.abstain < t.conceptAbstention)
    report.failed.push(
      `abstention on fictitious concepts ${report.concepts.abstain.toFixed(3)} < ${t.conceptAbstention}`,
    );
  report.passed = report.failed.length === 0;
  return report;
}

export function formatGates(r: GateReport): string {
  const pct = (x: number) => (100 * x).toFixed(1) + "%";
  const t = GATE_THRESHOLDS;
  const mark = (ok: boolean) => (ok ? "PASS" : "FAIL");
  return [
    `  known facts      n=${r.known.n}  FT score ${r.known.ftScore.toFixed(3)} (gate >= ${t.ftScore}) ${mark(r.known.ftScore >= t.ftScore)}   exact match ${pct(r.known.exactMatch)}`,
    `  never-seen names n=${r.unknown.n}  abstain ${pct(r.unknown.abstain)} (gate >= ${pct(t.unknownAbstention)}) ${mark(r.unknown.abstain >= t.unknownAbstention)}   grounded ${pct(r.unknown.grounded)}`,
    `  fictitious conc. n=${r.concepts.n}  abstain ${pct(r.concepts.abstain)} (gate >= ${pct(t.conceptAbstention)}) ${mark(r.concepts.abstain >= t.conceptAbstention)}   grounded ${pct(r.concepts.grounded)}`,
  ].join("\n");
}
