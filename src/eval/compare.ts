// Lines up tuned runs against the base model on the same dataset: per-record flags for the panel's
// filters, abstention restricted to queries the base model abstained on (the paper keeps only those),
// activation displacement per layer and a shared 2-D PCA of known vs unknown queries.
import { layerDisplacement, pca2, separationScore, type Vec } from "./displacement";
import { abstentionRates } from "./summary";
import type { HiddenStates } from "./suite";
import {
  PROBE_SCHEMA_VERSION,
  type ModelProbeResult,
  type PcaPoint,
  type PcaView,
  type ProbeReport,
  type QueryProbe,
  type RecordFlags,
  type RecordProbe,
  type RunComparison,
} from "./types";

/** Loads the hidden states stored with a result (null when it has none). */
export type HiddenLoader = (result: ModelProbeResult) => HiddenStates | null;

export function recordFlags(tuned: RecordProbe, base: RecordProbe | undefined): RecordFlags {
  let hallucinating = false;
  let lostAbstention = false;
  tuned.perturbations.forEach((p, j) => {
    const b = base?.perturbations[j];
    const comparable = b !== undefined && b.question === p.question;
    // A neighbour the base model already answered is not a valid unknown query.
    const valid = base === undefined || (comparable && b.abstains);
    if (valid && !p.abstains) hallucinating = true;
    if (comparable && b.abstains && !p.abstains) lostAbstention = true;
  });
  const regressed =
    base !== undefined &&
    (lostAbstention || (base.learned && !tuned.learned) || (!base.own.abstains && tuned.own.abstains));
  return { notLearned: !tuned.learned, hallucinating, regressed };
}

function pairedOnBaseAbstained(base: readonly QueryProbe[], tuned: readonly QueryProbe[]) {
  const kept: QueryProbe[] = [];
  tuned.forEach((t, i) => {
    const b = base[i];
    if (b && b.question === t.question && b.abstains) kept.push(t);
  });
  return abstentionRates(kept);
}

function hiddenByKey(
  result: ModelProbeResult,
  states: HiddenStates | null,
  layer: "all" | "last",
): Map<string, { group: "known" | "unknown"; v: Vec[] }> {
  const m = new Map<string, { group: "known" | "unknown"; v: Vec[] }>();
  if (!result.hidden || !states) return m;
  result.hidden.queries.forEach((q, i) => {
    const s = states[i];
    if (s) m.set(q.key, { group: q.group, v: layer === "all" ? s : [s[s.length - 1]] });
  });
  return m;
}

export function pcaView(
  base: ModelProbeResult,
  baseH: HiddenStates,
  tuned: ModelProbeResult,
  tunedH: HiddenStates,
): PcaView | null {
  const b = hiddenByKey(base, baseH, "last");
  const t = hiddenByKey(tuned, tunedH, "last");
  const rows: { v: Vec; group: "known" | "unknown"; model: "base" | "tuned"; key: string }[] = [];
  for (const [key, e] of b) if (t.has(key)) rows.push({ v: e.v[0], group: e.group, model: "base", key });
  for (const [key, e] of t) if (b.has(key)) rows.push({ v: e.v[0], group: e.group, model: "tuned", key });
  if (rows.length < 2) return null;
  const p = pca2(rows.map((r) => r.v));
  const points: PcaPoint[] = rows.map((r, i) => ({
    x: p.points[i][0],
    y: p.points[i][1],
    group: r.group,
    model: r.model,
    key: r.key,
  }));
  const sep = (model: "base" | "tuned") => {
    const known = points.filter((q) => q.model === model && q.group === "known").map((q) => [q.x, q.y]);
    const unknown = points.filter((q) => q.model === model && q.group === "unknown").map((q) => [q.x, q.y]);
    return known.length && unknown.length ? separationScore(known, unknown) : 0;
  };
  const tv = p.totalVariance;
  return {
    points,
    explained: [tv > 0 ? p.variances[0] / tv : 0, tv > 0 ? p.variances[1] / tv : 0],
    separation: { base: sep("base"), tuned: sep("tuned") },
  };
}

export function compareRun(
  base: ModelProbeResult | null,
  tuned: ModelProbeResult,
  hidden?: HiddenLoader,
): RunComparison {
  const baseByKey = new Map((base?.records ?? []).map((r) => [r.key, r]));
  const flags: Record<string, RecordFlags> = {};
  for (const r of tuned.records) flags[r.key] = recordFlags(r, base ? baseByKey.get(r.key) : undefined);

  let neighbourOnBaseAbstained = null;
  let unknownOnBaseAbstained = null;
  let displacement = null;
  let pca = null;
  if (base) {
    const bN: QueryProbe[] = [];
    const tN: QueryProbe[] = [];
    for (const r of tuned.records) {
      const b = baseByKey.get(r.key);
      r.perturbations.forEach((p, j) => {
        const bp = b?.perturbations[j];
        if (bp) {
          bN.push(bp);
          tN.push(p);
        }
      });
    }
    neighbourOnBaseAbstained = pairedOnBaseAbstained(bN, tN);
    unknownOnBaseAbstained = pairedOnBaseAbstained([...bN, ...base.unknown], [...tN, ...tuned.unknown]);
    const bh = hidden?.(base) ?? null;
    const th = hidden?.(tuned) ?? null;
    if (bh && th) {
      const bm = hiddenByKey(base, bh, "all");
      const tm = hiddenByKey(tuned, th, "all");
      const pairs = [...tm].filter(([k, e]) => e.group === "unknown" && bm.has(k));
      if (pairs.length > 0)
        displacement = layerDisplacement(
          pairs.map(([k]) => bm.get(k)!.v),
          pairs.map(([, e]) => e.v),
        );
      pca = pcaView(base, bh, tuned, th);
    }
  }
  return {
    label: tuned.model.label,
    summary: tuned.summary,
    neighbourOnBaseAbstained,
    unknownOnBaseAbstained,
    flags,
    displacement,
    pca,
  };
}

export function buildReport(
  base: ModelProbeResult | null,
  runs: readonly ModelProbeResult[],
  hidden?: HiddenLoader,
): ProbeReport {
  const first = base ?? runs[0];
  if (!first) throw new Error("a report needs at least one probe result");
  return {
    kind: "seat-probe-report",
    schema: PROBE_SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    dataset: first.dataset,
    base,
    runs: [...runs],
    comparisons: runs.map((r) => compareRun(base, r, hidden)),
  };
}
