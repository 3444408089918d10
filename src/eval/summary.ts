// Aggregates per-query verdicts into the summary numbers of the paper's tables.
import type { AbstentionRates, ModelProbeSummary, QueryProbe, RecordProbe, UnknownProbe } from "./types";

const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

export function abstentionRates(queries: readonly QueryProbe[]): AbstentionRates {
  const withEntity = queries.filter((q) => q.grounded !== null);
  const probs = queries.map((q) => q.abstentionProb).filter((p): p is number => p !== null);
  return {
    n: queries.length,
    abstain: mean(queries.map((q) => (q.abstains ? 1 : 0))),
    grounded: withEntity.length === 0 ? null : mean(withEntity.map((q) => (q.grounded ? 1 : 0))),
    misnamed: withEntity.length === 0 ? null : mean(withEntity.map((q) => (q.naming === "misnamed" ? 1 : 0))),
    meanAbstentionProb: probs.length === 0 || probs.length !== queries.length ? null : mean(probs),
  };
}

export function summarize(records: readonly RecordProbe[], unknown: readonly UnknownProbe[]): ModelProbeSummary {
  const neighbours = records.flatMap((r) => r.perturbations);
  const heldOut = unknown.filter((u) => u.kind === "held-out");
  const fictitious = unknown.filter((u) => u.kind === "fictitious-concept");
  return {
    records: records.length,
    ftScore: mean(records.map((r) => r.rougeLRecall)),
    exactMatch: mean(records.map((r) => (r.exactMatch ? 1 : 0))),
    learned: mean(records.map((r) => (r.learned ? 1 : 0))),
    overRefusal: mean(records.map((r) => (r.own.abstains ? 1 : 0))),
    neighbour: abstentionRates(neighbours),
    heldOut: abstentionRates(heldOut),
    fictitious: abstentionRates(fictitious),
    unknown: abstentionRates([...neighbours, ...unknown]),
  };
}
