// Knob calibration (`calibrate.enabled`): before a SEAT run, short runs on a held-out split of the
// user's own data choose the KL weight λ and the mask ratio. The split is by entity: a few entities'
// records are trained on (do the facts get learned?), a few other entities' questions are never trained
// on and stand in for unseen entities of the same kind (does the model still abstain on them?). The
// candidates walk the grid (more KL weight after one that learned the facts, a larger mask after one
// that did not) until the time budget is spent; the choice is the point with the highest abstention
// among those that learned the facts.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Prng } from "../util/rng";
import type { SeatConfig } from "./config";

export interface CalibrationPoint {
  lambda: number;
  ratio: number;
  /** Teacher-forced answer accuracy over the calibration-train records at the end of the short run. */
  answerAccuracy: number;
  /** Mean abstention probability on the held-out entities' questions. */
  abstentionProb: number;
  /** How many held-out questions that mean is over (absent in calibrations recorded before it was). */
  abstentionSamples?: number;
  /** The candidate's optimizer steps. */
  seconds: number;
  /**
   * The candidate's whole run, wall time: preparing, the teacher's replies (the first candidate asks
   * them for all), graphs, steps and the held-out score (absent in calibrations recorded before).
   */
  wallSeconds?: number;
}

/**
 * How much more held-out abstention a candidate needs to displace an earlier one (closer to the
 * defaults): the largest standard error of a difference of two means of values in [0, 1] over n1 and
 * n2 questions, 0.5 * sqrt(1/n1 + 1/n2). Short runs on a few entities are noisy: on new-people (2
 * held-out entities, 8 questions) the defaults' candidate read 0.83, 0.62 and 1.00 at seeds 0-2, and a
 * choice made on a 0.001 difference is a coin toss.
 */
export function abstentionMargin(n1?: number, n2?: number): number {
  if (!n1 || !n2) return 0;
  return 0.5 * Math.sqrt(1 / n1 + 1 / n2);
}

export interface CalibrationResult {
  points: CalibrationPoint[];
  chosen: { lambda: number; ratio: number };
  /** Why these values: met the accuracy floor with the most abstention, or none met it. */
  reason: string;
  budgetSeconds: number;
  /** The candidates' wall time, all of it (what the calibration adds to the run). */
  usedSeconds: number;
  /** The accuracy floor the choice applied (calibrate.minAccuracy). */
  minAccuracy: number;
  trainEntities: number;
  heldoutEntities: number;
  /** Candidates not run because the budget was spent. */
  skipped: number;
  /** What the calibration said while it ran (written to the run's event log). */
  log?: string[];
}

/**
 * The choice: among points whose answer accuracy reaches `minAccuracy`, in grid order (the defaults
 * first), a later candidate replaces the one held only when its held-out abstention is higher by more
 * than abstentionMargin (noise); if none learned the facts, the most accurate one (learning the facts is
 * what the user asked for).
 */
export function chooseKnobs(
  points: readonly CalibrationPoint[],
  minAccuracy: number,
): { point: CalibrationPoint; reason: string } {
  if (points.length === 0) throw new Error("calibration ran no candidate");
  const ok = points.filter((p) => p.answerAccuracy >= minAccuracy);
  if (ok.length > 0) {
    let best = ok[0];
    let within = 0;
    for (const b of ok.slice(1)) {
      if (b.abstentionProb > best.abstentionProb + abstentionMargin(best.abstentionSamples, b.abstentionSamples))
        best = b;
      else if (b.abstentionProb > best.abstentionProb) within++;
    }
    return {
      point: best,
      reason:
        `highest held-out abstention (${best.abstentionProb.toFixed(3)}) among ${ok.length} of ${points.length} candidates with answer accuracy >= ${minAccuracy}` +
        (within ? `; ${within} higher by less than the noise margin kept the candidate closer to the defaults` : ""),
    };
  }
  const best = points.reduce((a, b) => (b.answerAccuracy > a.answerAccuracy ? b : a));
  return {
    point: best,
    reason: `no candidate reached answer accuracy ${minAccuracy}; the most accurate one (${best.answerAccuracy.toFixed(3)})`,
  };
}

/** Candidate grid: the defaults first, then their neighbours (the order nextCandidate falls back to). */
export function calibrationGrid(lambda: number, ratio: number): { lambda: number; ratio: number }[] {
  const pts = [
    { lambda, ratio },
    { lambda: lambda * 3, ratio },
    { lambda, ratio: Math.min(1, ratio * 4) },
    { lambda: lambda * 3, ratio: Math.min(1, ratio * 4) },
    { lambda: lambda / 3, ratio },
  ];
  const seen = new Set<string>();
  return pts.filter((p) => {
    const k = `${p.lambda}/${p.ratio}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Splits JSONL records by entity (seat.entities[0]): `trainShare` of the entities (at least 2) to train
 * on (a tenth: one candidate then costs about a tenth of the main run, so a 0.3 budget holds three),
 * `heldoutShare` (a quarter, at least 2) whose questions are only asked: asking costs a forward pass
 * each, and more of them shrink the noise margin the choice applies (abstentionMargin). Deterministic
 * for a seed. Undefined when the data cannot be split (not JSONL records with entities, or fewer than 4
 * entities).
 */
export function calibrationSplit(
  lines: readonly string[],
  seed: number,
  trainShare = 0.1,
  heldoutShare = 0.25,
): { train: string[]; heldout: string[]; trainEntities: number; heldoutEntities: number } | undefined {
  const byEntity = new Map<string, Record<string, unknown>[]>();
  for (const line of lines) {
    if (line.trim() === "") continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const seat = r["seat"] as { entities?: unknown; split?: unknown } | undefined;
    if (seat?.split !== undefined && seat.split !== "train") continue;
    const e = Array.isArray(seat?.entities) && typeof seat.entities[0] === "string" ? seat.entities[0] : undefined;
    if (e === undefined || typeof r["question"] !== "string") return undefined;
    if (!byEntity.has(e)) byEntity.set(e, []);
    byEntity.get(e)!.push(r);
  }
  const entities = new Prng(seed, 7).shuffle([...byEntity.keys()]);
  if (entities.length < 4) return undefined;
  const nTrain = Math.max(2, Math.round(entities.length * trainShare));
  const nHeld = Math.max(2, Math.min(entities.length - nTrain, Math.round(entities.length * heldoutShare)));
  const train = entities.slice(0, nTrain).flatMap((e) => byEntity.get(e)!.map((r) => JSON.stringify(r)));
  const heldout = entities.slice(nTrain, nTrain + nHeld).flatMap((e) =>
    byEntity.get(e)!.map((r) => {
      const seat = { ...(r["seat"] as Record<string, unknown>), split: "heldout" };
      return JSON.stringify({ ...r, seat });
    }),
  );
  return { train, heldout, trainEntities: nTrain, heldoutEntities: nHeld };
}

/**
 * Whether a run calibrates before it trains: SEAT with calibrate.enabled, not capped by train.maxSteps
 * (a capped run is a smoke test; short runs on a split say nothing about a handful of steps). The data
 * may still turn out too small to split (calibrate() then says so).
 */
export function calibrationApplies(config: SeatConfig): boolean {
  return config.method === "seat" && config.calibrate.enabled && config.train.maxSteps === 0;
}

export interface CalibrateDeps {
  /** One short training run of `config`; returns its last quick eval and training seconds. */
  run(
    config: SeatConfig,
  ): Promise<{ answerAccuracy: number; abstentionProb: number; abstentionSamples?: number; seconds: number }>;
  log(message: string): void;
  /** Seconds on a monotonic clock (default performance.now); tests script it. */
  now?(): number;
}

const sameKnob = (a: { lambda: number; ratio: number }, b: { lambda: number; ratio: number }) =>
  Math.abs(a.lambda - b.lambda) <= 1e-9 * Math.max(a.lambda, b.lambda) &&
  Math.abs(a.ratio - b.ratio) <= 1e-9 * Math.max(a.ratio, b.ratio);

/**
 * The next candidate to run: a walk over the grid led by the constraint that binds. After a candidate
 * that learned the facts (answer accuracy >= minAccuracy), three times the KL weight at its ratio:
 * held-out abstention is what is being maximised. After one that did not, four times the mask ratio at
 * its λ (more weights to hold the facts), else a third of the KL weight (a weaker pull back to the
 * base); more KL weight only makes learning harder. A step that leaves the grid or repeats a candidate
 * falls back to the first grid point not yet run. Undefined when every point has run.
 */
export function nextCandidate(
  grid: readonly { lambda: number; ratio: number }[],
  points: readonly Pick<CalibrationPoint, "lambda" | "ratio" | "answerAccuracy">[],
  minAccuracy: number,
): { lambda: number; ratio: number } | undefined {
  const open = (k: { lambda: number; ratio: number }) => !points.some((p) => sameKnob(p, k));
  const last = points[points.length - 1];
  if (last) {
    const steps =
      last.answerAccuracy >= minAccuracy
        ? [{ lambda: last.lambda * 3, ratio: last.ratio }]
        : [
            { lambda: last.lambda, ratio: Math.min(1, last.ratio * 4) },
            { lambda: last.lambda / 3, ratio: last.ratio },
          ];
    for (const step of steps) {
      const g = grid.find((k) => sameKnob(k, step));
      if (g && open(g)) return g;
    }
  }
  return grid.find(open);
}

/**
 * Runs the candidates on the split and chooses. The budget is `calibrate.budget` times the main run's
 * training steps, estimated from the first candidate's (the same epochs on a known share of the
 * records); what it holds is the candidates' wall time, all of it (preparing, the teacher's replies,
 * graphs, steps, held-out scoring). The main run's whole wall time is larger than its steps, so the
 * calibration's share of it comes out below the budget unless `epochs auto` ends the main run well
 * before its cap (measured: +20-24% at 0.3, SWEEP.md). The first candidate always runs, each further one
 * (nextCandidate) only if the budget still holds the costliest candidate so far.
 */
export async function calibrate(
  config: SeatConfig,
  dir: string,
  deps: CalibrateDeps,
): Promise<CalibrationResult | undefined> {
  const lines = readFileSync(config.dataset, "utf8").split(/\r?\n/);
  const split = calibrationSplit(lines, config.train.seed);
  if (!split) {
    deps.log(
      `calibration skipped: it splits the dataset by entity and needs JSONL records with seat.entities and at least 4 entities; the run trains with kl.lambda ${config.kl.lambda} and mask.ratio ${config.mask.ratio}`,
    );
    return undefined;
  }
  deps.log("calibrating kl.lambda and mask.ratio on a held-out entity split");
  mkdirSync(dir, { recursive: true });
  const data = join(dir, "calibration.jsonl");
  writeFileSync(data, [...split.train, ...split.heldout].join("\n") + "\n");
  const grid = calibrationGrid(config.kl.lambda, config.mask.ratio);
  const points: CalibrationPoint[] = [];
  const records = lines.filter((l) => l.trim() !== "").length;
  let used = 0;
  let budgetSeconds = Infinity;
  let costliest = 0;
  const now = deps.now ?? (() => performance.now() / 1000);
  for (let i = 0; i < grid.length; i++) {
    if (i > 0 && used + costliest > budgetSeconds) break;
    const knob = nextCandidate(grid, points, config.calibrate.minAccuracy);
    if (!knob) break;
    const c: SeatConfig = {
      ...config,
      dataset: data,
      outDir: join(dir, `candidate-${i + 1}`),
      kl: { ...config.kl, lambda: knob.lambda },
      mask: { ...config.mask, ratio: knob.ratio },
      eval: { everySteps: 0, samples: split.heldout.length },
      earlyStop: { ...config.earlyStop, enabled: false },
      checkpoint: { everySteps: 0, keep: 1 },
      calibrate: { ...config.calibrate, enabled: false },
    };
    const t0 = now();
    const r = await deps.run(c);
    const wall = now() - t0;
    used += wall;
    costliest = Math.max(costliest, wall);
    if (i === 0) budgetSeconds = config.calibrate.budget * r.seconds * (records / Math.max(1, split.train.length));
    points.push({
      ...knob,
      answerAccuracy: r.answerAccuracy,
      abstentionProb: r.abstentionProb,
      ...(r.abstentionSamples !== undefined ? { abstentionSamples: r.abstentionSamples } : {}),
      seconds: r.seconds,
      wallSeconds: wall,
    });
    deps.log(
      `calibration ${i + 1}/${grid.length}: lambda ${knob.lambda}, ratio ${knob.ratio}: answer accuracy ${r.answerAccuracy.toFixed(3)}, held-out abstention ${r.abstentionProb.toFixed(3)} (${wall.toFixed(0)} s, ${r.seconds.toFixed(0)} s of steps)`,
    );
  }
  const { point, reason } = chooseKnobs(points, config.calibrate.minAccuracy);
  return {
    points,
    chosen: { lambda: point.lambda, ratio: point.ratio },
    reason,
    budgetSeconds,
    usedSeconds: used,
    minAccuracy: config.calibrate.minAccuracy,
    trainEntities: split.trainEntities,
    heldoutEntities: split.heldoutEntities,
    skipped: grid.length - points.length,
  };
}
