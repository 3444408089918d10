// Training progress as typed JSON lines. The trainer writes one event per line to `events.jsonl` in the
// run folder (and to stdout with `seat train --events-json`); the CLI progress bar, the VS Code task's
// pseudoterminal, the Runs tree and the probes panel all read the same lines through `parseEvent`.
// Versioned: a reader refuses a line whose `v` it does not know instead of guessing at its fields.

export const EVENTS_VERSION = 1;

/** Which loss term produced a non-finite value (NaN/Inf detection names it). */
export type LossTerm = "ce" | "kl" | "ewc" | "total";

export type EarlyStopReason =
  /** The quick eval says the training facts are learned (answer accuracy reached its target). */
  | "facts-learned"
  /** Held-out abstention probability fell below the configured floor. */
  | "abstention-floor";

interface EventBase {
  v: typeof EVENTS_VERSION;
  /** ISO-8601 wall-clock time the event was written. */
  time: string;
}

export interface RunStartEvent extends EventBase {
  type: "run-start";
  runDir: string;
  method: string;
  model: string;
  dataset: string;
  totalSteps: number;
  stepsPerEpoch: number;
  epochs: number;
  /** Number of trainable scalars and of all model scalars (trainable / total = effective sparsity). */
  trainableParams: number;
  totalParams: number;
  /** Execution provider actually used (after any fallback). */
  provider: string;
  /** Step the run resumed from, absent for a fresh run. */
  resumedFromStep?: number;
}

export interface PhaseEvent extends EventBase {
  type: "phase";
  /** Long preparatory work before the first step: loading, base responses for the KL teacher, masks... */
  phase: "load" | "perturb" | "teacher" | "fisher" | "mask" | "compile" | "train" | "export";
  message: string;
  /** 0..1 when the phase knows how far it is. */
  progress?: number;
}

export interface StepEvent extends EventBase {
  type: "step";
  /** 1-based optimizer step (after gradient accumulation). */
  step: number;
  totalSteps: number;
  /** 1-based epoch the step belongs to. */
  epoch: number;
  loss: number;
  ce: number;
  /** lambda-free KL value (the loss adds lambda * kl); 0 when the method has no KL term. */
  kl: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Mixed precision with loss scaling (fp16): the loss scale the step's applied update ran at. */
  lossScale?: number;
  /** Tokens (prompt + answer + perturbed copies) processed per second, averaged over recent steps. */
  tokensPerSec: number;
  etaSeconds: number;
}

export interface QuickEvalEvent extends EventBase {
  type: "quick-eval";
  step: number;
  epoch: number;
  /** Mean probability mass of abstaining on held-out perturbed prompts (0..1). */
  abstentionProb: number;
  /**
   * Share of training answers greedy decoding reproduces exactly (0..1): every answer token is the
   * argmax given the reference prefix, read off the training forward pass as each example goes by
   * (the most recent epoch's worth of examples), so it costs no generation.
   */
  answerAccuracy: number;
  /** How many prompts each number is computed over. */
  abstentionSamples: number;
  accuracySamples: number;
}

export interface CheckpointEvent extends EventBase {
  type: "checkpoint";
  step: number;
  /** Checkpoint directory, relative to the run folder. */
  path: string;
}

export interface EarlyStopEvent extends EventBase {
  type: "early-stop";
  step: number;
  reason: EarlyStopReason;
  detail: string;
}

export interface RunSummary {
  method: string;
  steps: number;
  epochs: number;
  trainSeconds: number;
  finalLoss: number;
  finalCe: number;
  finalKl: number;
  meanTokensPerSec: number;
  meanStepSeconds: number;
  trainableParams: number;
  totalParams: number;
  earlyStop?: { reason: EarlyStopReason; step: number };
  lastQuickEval?: {
    abstentionProb: number;
    answerAccuracy: number;
    step: number;
    abstentionSamples?: number;
    accuracySamples?: number;
  };
  /** Runs with `calibrate.enabled`: the candidates tried on the held-out split and the values chosen. */
  calibration?: {
    chosen: { lambda: number; ratio: number };
    reason: string;
    points: {
      lambda: number;
      ratio: number;
      answerAccuracy: number;
      abstentionProb: number;
      abstentionSamples?: number;
      seconds: number;
      /** The candidate's wall time (absent in runs recorded before it was). */
      wallSeconds?: number;
    }[];
    /** The candidates' wall time (before 2026-12-08: their optimizer steps only). */
    usedSeconds: number;
    budgetSeconds: number;
    /**
     * The run's own wall time after the calibration (preparing, teacher replies, training, evals, the
     * exported model): what usedSeconds adds to. Absent in runs recorded before it was.
     */
    runSeconds?: number;
    /** The accuracy floor of the choice; absent in runs made before it was recorded. */
    minAccuracy?: number;
    /** Candidates the budget left out. */
    skipped?: number;
    /** Entities the candidates trained on, and entities whose questions were only asked. */
    trainEntities?: number;
    heldoutEntities?: number;
  };
  /** Runs with `train.epochs auto`: which rule ended the run and when ("max-epochs": neither did). */
  epochsAuto?: { outcome: EarlyStopReason | "max-epochs"; step: number; epoch: number; detail: string };
  /** Final merged model folder (Hugging Face layout), relative to the run folder. */
  modelDir: string;
}

export interface DoneEvent extends EventBase {
  type: "done";
  summary: RunSummary;
}

export interface ErrorEvent extends EventBase {
  type: "error";
  message: string;
  /** Step at which the error happened, absent when it happened before training started. */
  step?: number;
  /** Set for non-finite losses: which term went bad. */
  term?: LossTerm;
}

export interface CancelledEvent extends EventBase {
  type: "cancelled";
  step: number;
  /** Checkpoint to resume from (relative to the run folder), absent when none could be written. */
  checkpoint?: string;
}

export interface LogEvent extends EventBase {
  type: "log";
  level: "info" | "warn";
  message: string;
}

export type TrainEvent =
  | RunStartEvent
  | PhaseEvent
  | StepEvent
  | QuickEvalEvent
  | CheckpointEvent
  | EarlyStopEvent
  | DoneEvent
  | ErrorEvent
  | CancelledEvent
  | LogEvent;

export type TrainEventType = TrainEvent["type"];

/** Distributes Omit over the union so each variant keeps its own fields. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type TrainEventInit = DistributiveOmit<TrainEvent, "v" | "time">;

export function makeEvent(init: TrainEventInit, now: Date = new Date()): TrainEvent {
  return { v: EVENTS_VERSION, time: now.toISOString(), ...init } as TrainEvent;
}

/** One line of JSON, no trailing newline. Non-finite numbers are written as strings so the line parses. */
export function formatEvent(event: TrainEvent): string {
  return JSON.stringify(event, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v));
}

// Field checks per event type. `n` number, `i` non-negative integer, `s` string, `o` object;
// a trailing `?` marks an optional field.
const FIELDS: Record<TrainEventType, Record<string, string>> = {
  "run-start": {
    runDir: "s",
    method: "s",
    model: "s",
    dataset: "s",
    totalSteps: "i",
    stepsPerEpoch: "i",
    epochs: "i",
    trainableParams: "i",
    totalParams: "i",
    provider: "s",
    resumedFromStep: "i?",
  },
  phase: { phase: "s", message: "s", progress: "n?" },
  step: {
    step: "i",
    totalSteps: "i",
    epoch: "i",
    loss: "n",
    ce: "n",
    kl: "n",
    lr: "n",
    gradNorm: "n",
    lossScale: "n?",
    tokensPerSec: "n",
    etaSeconds: "n",
  },
  "quick-eval": {
    step: "i",
    epoch: "i",
    abstentionProb: "n",
    answerAccuracy: "n",
    abstentionSamples: "i",
    accuracySamples: "i",
  },
  checkpoint: { step: "i", path: "s" },
  "early-stop": { step: "i", reason: "s", detail: "s" },
  done: { summary: "o" },
  error: { message: "s", step: "i?", term: "s?" },
  cancelled: { step: "i", checkpoint: "s?" },
  log: { level: "s", message: "s" },
};

const ENUMS: Record<string, readonly string[]> = {
  "phase.phase": ["load", "perturb", "teacher", "fisher", "mask", "compile", "train", "export"],
  "early-stop.reason": ["facts-learned", "abstention-floor"],
  "error.term": ["ce", "kl", "ewc", "total"],
  "log.level": ["info", "warn"],
};

export type ParseResult = { ok: true; event: TrainEvent } | { ok: false; error: string };

function numberLike(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return undefined;
}

/**
 * Parses and validates one events line. `where` (e.g. "events.jsonl:12") prefixes error messages so a
 * reader can say which line is bad.
 */
export function parseEvent(line: string, where = "event"): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    return { ok: false, error: `${where}: not JSON (${(e as Error).message})` };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    return { ok: false, error: `${where}: expected a JSON object` };
  const o = raw as Record<string, unknown>;
  if (o.v !== EVENTS_VERSION)
    return {
      ok: false,
      error: `${where}: unsupported events version ${JSON.stringify(o.v)} (this reader knows ${EVENTS_VERSION})`,
    };
  if (typeof o.time !== "string") return { ok: false, error: `${where}: 'time' must be an ISO date string` };
  const type = o.type;
  if (typeof type !== "string" || !(type in FIELDS)) {
    return {
      ok: false,
      error: `${where}: unknown event type ${JSON.stringify(type)}; expected one of ${Object.keys(FIELDS).join(", ")}`,
    };
  }
  const out: Record<string, unknown> = { ...o };
  for (const [field, spec] of Object.entries(FIELDS[type as TrainEventType])) {
    const optional = spec.endsWith("?");
    const kind = spec.replace("?", "");
    const v = o[field];
    if (v === undefined) {
      if (optional) continue;
      return { ok: false, error: `${where}: ${type} event lacks '${field}'` };
    }
    if (kind === "n" || kind === "i") {
      const n = numberLike(v);
      if (n === undefined || (kind === "i" && !(Number.isInteger(n) && n >= 0))) {
        return {
          ok: false,
          error: `${where}: ${type}.${field} must be ${kind === "i" ? "a non-negative integer" : "a number"}, got ${JSON.stringify(v)}`,
        };
      }
      out[field] = n;
    } else if (kind === "s" && typeof v !== "string") {
      return { ok: false, error: `${where}: ${type}.${field} must be a string, got ${JSON.stringify(v)}` };
    } else if (kind === "o" && (typeof v !== "object" || v === null)) {
      return { ok: false, error: `${where}: ${type}.${field} must be an object` };
    }
    const allowed = ENUMS[`${type}.${field}`];
    if (allowed && !allowed.includes(v as string)) {
      return {
        ok: false,
        error: `${where}: ${type}.${field} must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`,
      };
    }
  }
  return { ok: true, event: out as unknown as TrainEvent };
}

/** Parses a whole events.jsonl text; blank lines are skipped, bad lines reported with their number. */
export function parseEventLog(text: string, file = "events.jsonl"): { events: TrainEvent[]; errors: string[] } {
  const events: TrainEvent[] = [];
  const errors: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    const r = parseEvent(line, `${file}:${i + 1}`);
    if (r.ok) events.push(r.event);
    else errors.push(r.error);
  });
  return { events, errors };
}
