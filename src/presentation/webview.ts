// The one message protocol between the extension host and the probes panel webview. Both sides import
// these types; everything the webview sends is untrusted (it renders model output and dataset text) and
// goes through validateWebviewMessage before the extension acts on it. Pure TypeScript, no node/vscode:
// the webview bundle imports this file too.
import type { ProbeReport } from "../eval/types";
import type { EarlyStopReason, RunSummary, TrainEvent } from "../protocol/events";

export const WEBVIEW_PROTOCOL_VERSION = 1;

/** The filters offered by the per-example table. */
export type RecordFilter = "all" | "regressed" | "not-learned" | "hallucinating";
export const RECORD_FILTERS: readonly RecordFilter[] = ["all", "regressed", "not-learned", "hallucinating"];
export type SortKey = "line" | "rouge" | "abstention" | "abstention-prob";
export const SORT_KEYS: readonly SortKey[] = ["line", "rouge", "abstention", "abstention-prob"];
export type PanelTab = "examples" | "summary" | "training" | "activations" | "chat";
export const PANEL_TABS: readonly PanelTab[] = ["examples", "summary", "training", "activations", "chat"];

/** One streamed piece of a chat answer: the text so far, and when done its P(abstain). */
export interface ChatToken {
  id: string;
  who: "tuned" | "base";
  text: string;
  done?: boolean;
  pAbstain?: number;
  finish?: string;
  error?: string;
}
export type ExportFormat = "html" | "json" | "csv";
export const EXPORT_FORMATS: readonly ExportFormat[] = ["html", "json", "csv"];

/** What the panel shows, so the extension can rebuild it after a reload (paths re-checked on restore). */
export interface PanelSession {
  /** Absolute dataset path. */
  dataset: string;
  /** Base model folder, when probed. */
  base?: string;
  /** Tuned model folders (run model dirs), in column order. */
  runs: string[];
}

/** The webview's own state (vscode.setState); also what the serializer hands back after a reload. */
export interface PanelViewState {
  v: typeof WEBVIEW_PROTOCOL_VERSION;
  session?: PanelSession;
  filter: RecordFilter;
  sort: SortKey;
  descending: boolean;
  /** Which tuned run the flags/filters refer to (index into report.runs). */
  run: number;
  selectedKey?: string;
  /** Free-text search over question/answers. */
  search: string;
  tab: PanelTab;
}

export interface CurvePoint {
  step: number;
  loss: number;
  ce: number;
  kl: number;
}
export interface QuickEvalPoint {
  step: number;
  abstentionProb: number;
  answerAccuracy: number;
}
/**
 * How a run ended and what it chose before it started, from its `early-stop` and `done` events: which
 * rule ended an `epochs auto` run (and when), and the calibration's candidates and choice.
 */
export interface RunOutcome {
  earlyStop?: { reason: EarlyStopReason; step: number; detail: string };
  epochsAuto?: RunSummary["epochsAuto"];
  calibration?: RunSummary["calibration"];
  steps?: number;
  epochs?: number;
  trainSeconds?: number;
}
/** Training curves of one run. */
export interface CurveSeries {
  runDir: string;
  label: string;
  state: "running" | "finished" | "failed" | "cancelled";
  totalSteps: number;
  steps: CurvePoint[];
  quickEval: QuickEvalPoint[];
  outcome?: RunOutcome;
}

export type HostMessage =
  | { type: "report"; report: ProbeReport; datasetLabel: string; session: PanelSession; focusKey?: string }
  | {
      type: "probe-status";
      status: "running" | "done" | "failed" | "cancelled";
      message: string;
      done?: number;
      total?: number;
    }
  /** All known curves (sent on open/restore). */
  | { type: "curves"; series: CurveSeries[] }
  /** One live training event for a run (appended to that run's curve). */
  | { type: "train-event"; runDir: string; label: string; event: TrainEvent }
  | { type: "focus"; key: string }
  | { type: "trust"; trusted: boolean }
  | {
      type: "chat-status";
      status: "loading" | "ready" | "failed" | "closed";
      message: string;
      tuned?: string;
      base?: string;
    }
  | ({ type: "chat-token" } & ChatToken)
  | { type: "chat-added"; line: number; dataset: string }
  | { type: "show-tab"; tab: PanelTab };

export type WebviewMessage =
  /** The page loaded (first open or reload) and wants its data. */
  | { type: "ready" }
  /** Reveal a 1-based line of the panel's dataset in the editor (the extension knows which file). */
  | { type: "reveal"; line: number }
  | { type: "run-probes" }
  | { type: "cancel-probes" }
  | { type: "compare" }
  /** Export the report; without a format the extension asks which. */
  | { type: "export"; format?: ExportFormat }
  | { type: "log"; level: "error" | "info"; message: string }
  | { type: "chat-ask"; id: string; prompt: string }
  | { type: "chat-stop"; id: string }
  | { type: "chat-add"; question: string; answer: string };

export type Validation<T> = { ok: true; value: T } | { ok: false; error: string };

const MAX_TEXT = 4096;
const MAX_PATH = 4096;
const MAX_RUNS = 64;
const MAX_LINE = 100_000_000;

type Check = (v: unknown, where: string) => string | null;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str =
  (max: number): Check =>
  (v, w) =>
    typeof v === "string" && v.length <= max ? null : `${w} must be a string of at most ${max} characters`;
const nonEmpty =
  (max: number): Check =>
  (v, w) =>
    typeof v === "string" && v.trim().length > 0 && v.length <= max
      ? null
      : `${w} must be a non-empty string of at most ${max} characters`;
const oneOf =
  (xs: readonly string[]): Check =>
  (v, w) =>
    typeof v === "string" && xs.includes(v) ? null : `${w} must be one of ${xs.join(", ")}`;
const int =
  (lo: number, hi: number): Check =>
  (v, w) =>
    typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi
      ? null
      : `${w} must be an integer in [${lo}, ${hi}]`;
const bool: Check = (v, w) => (typeof v === "boolean" ? null : `${w} must be true or false`);
const literal =
  (x: unknown): Check =>
  (v, w) =>
    v === x ? null : `${w} must be ${JSON.stringify(x)}`;
const absPath: Check = (v, w) => {
  if (typeof v !== "string" || v.length === 0 || v.length > MAX_PATH)
    return `${w} must be a non-empty path of at most ${MAX_PATH} characters`;
  if (v.includes("\0")) return `${w} contains a NUL character`;
  if (!(v.startsWith("/") || /^[A-Za-z]:[\\/]/.test(v))) return `${w} must be an absolute path`;
  return null;
};

/** Checks an object's keys: required/optional fields, and no others (unknown keys are refused, not ignored). */
function shape(fields: Record<string, Check>, optional: Record<string, Check> = {}): Check {
  return (v, w) => {
    if (!isObj(v)) return `${w} must be an object`;
    // Own keys only: `in` would also see Object.prototype, letting "__proto__"/"constructor" fields
    // through (found by test/unit/reliability/webview.test.ts).
    const known = (k: string) =>
      Object.prototype.hasOwnProperty.call(fields, k) || Object.prototype.hasOwnProperty.call(optional, k);
    for (const k of Object.keys(v)) if (!known(k)) return `${w} has unexpected field '${k}'`;
    for (const [k, c] of Object.entries(fields)) {
      if (!(k in v)) return `${w} lacks '${k}'`;
      const e = c(v[k], `${w}.${k}`);
      if (e) return e;
    }
    for (const [k, c] of Object.entries(optional)) {
      if (v[k] === undefined) continue;
      const e = c(v[k], `${w}.${k}`);
      if (e) return e;
    }
    return null;
  };
}

const sessionCheck = shape(
  {
    dataset: absPath,
    runs: (v, w) => {
      if (!Array.isArray(v) || v.length > MAX_RUNS) return `${w} must be an array of at most ${MAX_RUNS} paths`;
      for (const [i, p] of v.entries()) {
        const e = absPath(p, `${w}[${i}]`);
        if (e) return e;
      }
      return null;
    },
  },
  { base: absPath },
);

const viewStateCheck = shape(
  {
    v: literal(WEBVIEW_PROTOCOL_VERSION),
    filter: oneOf(RECORD_FILTERS),
    sort: oneOf(SORT_KEYS),
    descending: bool,
    run: int(0, MAX_RUNS),
    search: str(MAX_TEXT),
    tab: oneOf(PANEL_TABS),
  },
  { session: sessionCheck, selectedKey: str(MAX_TEXT) },
);

const MESSAGE_CHECKS: Record<WebviewMessage["type"], Check> = {
  ready: shape({ type: literal("ready") }),
  reveal: shape({ type: literal("reveal"), line: int(1, MAX_LINE) }),
  "run-probes": shape({ type: literal("run-probes") }),
  "cancel-probes": shape({ type: literal("cancel-probes") }),
  compare: shape({ type: literal("compare") }),
  export: shape({ type: literal("export") }, { format: oneOf(EXPORT_FORMATS) }),
  log: shape({ type: literal("log"), level: oneOf(["error", "info"]), message: str(MAX_TEXT) }),
  "chat-ask": shape({ type: literal("chat-ask"), id: nonEmpty(64), prompt: nonEmpty(MAX_TEXT) }),
  "chat-stop": shape({ type: literal("chat-stop"), id: nonEmpty(64) }),
  "chat-add": shape({ type: literal("chat-add"), question: nonEmpty(MAX_TEXT), answer: nonEmpty(MAX_TEXT) }),
};

/** Validates a message received from the webview. Anything malformed is refused with the reason. */
export function validateWebviewMessage(raw: unknown): Validation<WebviewMessage> {
  if (!isObj(raw)) return { ok: false, error: "message must be an object" };
  const t = raw.type;
  if (typeof t !== "string" || !Object.prototype.hasOwnProperty.call(MESSAGE_CHECKS, t)) {
    return { ok: false, error: `unknown message type ${JSON.stringify(t)?.slice(0, 80)}` };
  }
  const e = MESSAGE_CHECKS[t as WebviewMessage["type"]](raw, t);
  return e ? { ok: false, error: e } : { ok: true, value: raw as unknown as WebviewMessage };
}

/** Validates a persisted view state (the serializer's input after a reload is as untrusted as a message). */
export function validatePanelViewState(raw: unknown): Validation<PanelViewState> {
  const e = viewStateCheck(raw, "state");
  return e ? { ok: false, error: e } : { ok: true, value: raw as PanelViewState };
}

export const DEFAULT_VIEW_STATE: PanelViewState = {
  v: WEBVIEW_PROTOCOL_VERSION,
  filter: "all",
  sort: "line",
  descending: false,
  run: 0,
  search: "",
  tab: "examples",
};
