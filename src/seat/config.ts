// The validated training configuration. Layers (defaults < method preset < config file < VS Code
// settings < task definition < CLI flags) are merged as plain objects, then validated once against
// SCHEMA; every error names the key, the layer it came from and what was expected.
import { resolvePrecision } from "./precision";
import {
  SCHEMA,
  PRESETS,
  PRETRAINED_PRESETS,
  PRETRAINED_MIN_PARAMS,
  METHODS,
  SETTING_TO_CONFIG,
  type LeafSpec,
  type LeafValue,
  type Method,
} from "./configSchema";
// Direct modules, not ../model/index: the editor host reads configs through this file (seat import-run)
// and must never load the runtime layer that model/index pulls in.
import { loadConfig } from "../model/config";
import { expectedTensors } from "../model/weights";
import { flattenDotted, nestDotted, setDotted } from "../util/dotted";

export {
  METHODS,
  SCHEMA,
  PRESETS,
  PRETRAINED_PRESETS,
  PRETRAINED_MIN_PARAMS,
  LINEAR_MODULES,
  type Method,
  type LeafSpec,
} from "./configSchema";

export type MaskType = "random" | "random-per-step" | "magnitude" | "importance";

export interface SeatConfig {
  method: Method;
  model: string;
  dataset: string;
  outDir?: string;
  lossOn: "answer" | "all";
  mask: { type: MaskType; ratio: number; granularity: "element" | "row"; modules: string[] };
  kl: {
    lambda: number;
    direction: "forward" | "reverse";
    positions: "base-response" | "answer";
    includePrompt: boolean;
    input: "perturbed" | "original";
    k: number;
    resample: "epoch" | "fixed";
    names: "dataset" | "generic";
    maxResponseTokens: number;
  };
  lora: { r: number; alpha: number; targets: string[] };
  ewc: { lambda: number; fisher: "base-responses" | "train"; samples: number };
  replay: { ratio: number };
  full: { modules: string[] };
  optim: {
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    weightDecay: number;
    warmupSteps: number;
    schedule: "constant" | "linear" | "cosine";
    clipNorm: number;
  };
  train: {
    /** A fixed epoch count, or "auto" (see epochBudget and the trainer's stopping rule). */
    epochs: number | "auto";
    /** The cap of "auto". */
    maxEpochs: number;
    batchSize: number;
    gradAccum: number;
    maxSeqLen: number;
    recompute: "auto" | "on" | "off";
    seed: number;
    maxSteps: number;
  };
  checkpoint: { everySteps: number; keep: number };
  eval: { everySteps: number; samples: number };
  earlyStop: {
    enabled: boolean;
    accuracy: number;
    abstentionFloor: number;
    patience: number;
    floorAfterAccuracy: number;
  };
  calibrate: { enabled: boolean; budget: number; minAccuracy: number };
  device: {
    provider: "auto" | "cpu" | "webgpu" | "cuda" | "dml" | "coreml";
    /** Compute precision of the training graphs (resolved against the provider in src/seat/precision.ts). */
    precision: "auto" | "fp32" | "fp16" | "bf16";
    threads: number;
  };
}

/** What each method switches on; settings of components a method does not use are ignored (with a warning). */
export interface MethodParts {
  params: "masked" | "dense" | "lora";
  kl: boolean;
  ewc: boolean;
  replay: boolean;
}
export function methodParts(method: Method): MethodParts {
  switch (method) {
    case "seat":
      return { params: "masked", kl: true, ewc: false, replay: false };
    case "sparse":
      return { params: "masked", kl: false, ewc: false, replay: false };
    case "full":
      return { params: "dense", kl: false, ewc: false, replay: false };
    case "full+kl":
      return { params: "dense", kl: true, ewc: false, replay: false };
    case "ewc":
      return { params: "dense", kl: false, ewc: true, replay: false };
    case "replay":
      return { params: "dense", kl: false, ewc: false, replay: true };
    case "lora":
      return { params: "lora", kl: false, ewc: false, replay: false };
  }
}

/** A partial, unvalidated config layer as read from JSON, flags or settings (nested objects). */
export type ConfigLayer = Record<string, unknown>;

export interface ConfigProblem {
  /** Dotted key, e.g. "mask.ratio". */
  key: string;
  /** Where the value came from, e.g. "config file run.json", "--mask-ratio", "task definition". */
  source: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map((p) => `${p.source}: ${p.key}: ${p.message}`).join("\n"));
    this.name = "ConfigError";
  }
}

const BY_PATH = new Map(SCHEMA.map((s) => [s.path, s]));

const isLayer = (x: unknown): x is ConfigLayer => typeof x === "object" && x !== null && !Array.isArray(x);

/** Later layers win key by key, into one layer (a spread would drop `train.seed` under a `train.epochs` layer). */
export function mergeLayers(layers: readonly ConfigLayer[]): ConfigLayer {
  const out: ConfigLayer = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      const cur = out[k];
      out[k] = isLayer(v) && isLayer(cur) ? mergeLayers([cur, v]) : v;
    }
  }
  return out;
}

/** Flattens a nested layer to dotted keys (arrays and the schema's own keys are leaves). */
export function flattenLayer(layer: ConfigLayer): Map<string, unknown> {
  return flattenDotted(layer, (key) => BY_PATH.has(key));
}

function describe(spec: LeafSpec): string {
  const t = spec.type;
  switch (t.kind) {
    case "number": {
      const lo = t.min === undefined ? "" : `${t.minExclusive ? ">" : ">="} ${t.min}`;
      const hi = t.max === undefined ? "" : `${t.maxExclusive ? "<" : "<="} ${t.max}`;
      return `a number${lo || hi ? " " + [lo, hi].filter(Boolean).join(" and ") : ""}`;
    }
    case "int": {
      const parts = [t.min === undefined ? "" : `>= ${t.min}`, t.max === undefined ? "" : `<= ${t.max}`].filter(
        Boolean,
      );
      return `an integer${parts.length ? " " + parts.join(" and ") : ""}${t.auto ? ' or "auto"' : ""}`;
    }
    case "enum":
      return `one of ${t.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "bool":
      return "true or false";
    case "string":
      return "a string";
    case "strings":
      return "a list of strings";
  }
}

/** Checks one value against its spec; returns an error message or undefined. */
export function checkLeaf(spec: LeafSpec, v: unknown): string | undefined {
  const t = spec.type;
  const bad = () => `expected ${describe(spec)}, got ${JSON.stringify(v)}`;
  switch (t.kind) {
    case "number":
    case "int": {
      if (t.kind === "int" && t.auto && v === "auto") return undefined;
      if (typeof v !== "number" || !Number.isFinite(v)) return bad();
      if (t.kind === "int" && !Number.isInteger(v)) return bad();
      if (t.min !== undefined && (v < t.min || (t.kind === "number" && t.minExclusive && v === t.min))) return bad();
      if (t.max !== undefined && (v > t.max || (t.kind === "number" && t.maxExclusive && v === t.max))) return bad();
      return undefined;
    }
    case "enum":
      return typeof v === "string" && t.values.includes(v) ? undefined : bad();
    case "bool":
      return typeof v === "boolean" ? undefined : bad();
    case "string":
      return typeof v === "string" || (t.optional && v === undefined) ? undefined : bad();
    case "strings":
      return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string" && x.length > 0)
        ? undefined
        : `expected a non-empty list of strings, got ${JSON.stringify(v)}`;
  }
}

/** Did-you-mean for unknown keys: the known key with the smallest edit distance. */
function closestKey(key: string): string | undefined {
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length][b.length];
  };
  let best: string | undefined;
  let bestD = Infinity;
  for (const s of SCHEMA) {
    const dd = Math.min(dist(key, s.path), dist(key, s.path.split(".").pop()!) + 1);
    if (dd < bestD) {
      bestD = dd;
      best = s.path;
    }
  }
  return bestD <= Math.max(2, key.length / 3) ? best : undefined;
}

export interface SourcedLayer {
  source: string;
  layer: ConfigLayer;
}

export interface ResolvedConfig {
  config: SeatConfig;
  /** Settings given for components the method does not use, and similar non-fatal remarks. */
  warnings: string[];
}

/**
 * Merges the layers (later wins) over the defaults and the method's preset, validates every key and
 * throws ConfigError listing all problems at once.
 */
export function resolveConfig(layers: SourcedLayer[]): ResolvedConfig {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const given = new Map<string, { value: unknown; source: string }>();
  for (const { source, layer } of layers) {
    for (const [key, value] of flattenLayer(layer)) {
      if (!BY_PATH.has(key)) {
        const near = closestKey(key);
        problems.push({ key, source, message: `unknown setting${near ? ` (did you mean '${near}'?)` : ""}` });
        continue;
      }
      if (value === undefined) continue;
      given.set(key, { value, source });
    }
  }
  const methodGiven = given.get("method");
  let method: Method = "seat";
  if (methodGiven) {
    if (typeof methodGiven.value === "string" && (METHODS as readonly string[]).includes(methodGiven.value))
      method = methodGiven.value as Method;
    else
      problems.push({
        key: "method",
        source: methodGiven.source,
        message: `expected one of ${METHODS.join(", ")}, got ${JSON.stringify(methodGiven.value)}`,
      });
  }
  const modelGiven = given.get("model")?.value;
  const pretrained = typeof modelGiven === "string" && isPretrainedSize(modelGiven);
  const preset = { ...PRESETS[method].values, ...(pretrained ? PRETRAINED_PRESETS[method].values : {}) };
  const presetName = pretrained ? `preset '${method}' for pretrained models` : `preset '${method}'`;
  const out: Record<string, unknown> = {};
  for (const spec of SCHEMA) {
    const g = given.get(spec.path);
    const value = g ? g.value : spec.path in preset ? preset[spec.path] : spec.default;
    const source = g ? g.source : spec.path in preset ? presetName : "default";
    const err = checkLeaf(spec, value);
    if (err) problems.push({ key: spec.path, source, message: err });
    if (g && spec.methods && !spec.methods.includes(method)) {
      warnings.push(`${g.source}: ${spec.path} is ignored by method '${method}' (used by ${spec.methods.join(", ")})`);
    }
    setDotted(out, spec.path, Array.isArray(value) ? [...value] : value);
  }
  if (!out.model)
    problems.push({
      key: "model",
      source: given.get("model")?.source ?? "default",
      message: "required: a local Hugging Face model folder",
    });
  if (!out.dataset)
    problems.push({
      key: "dataset",
      source: given.get("dataset")?.source ?? "default",
      message: "required: a JSONL dataset file",
    });
  const device = out.device as SeatConfig["device"];
  try {
    resolvePrecision(device.precision, device.provider);
  } catch (e) {
    problems.push({
      key: "device.precision",
      source: given.get("device.precision")?.source ?? "default",
      message: (e as Error).message,
    });
  }
  if (problems.length) throw new ConfigError(problems);
  return { config: out as unknown as SeatConfig, warnings };
}

/**
 * Whether the folder's config.json describes a model above PRETRAINED_MIN_PARAMS (a real LLM, not the
 * embedded toy). Unreadable folders count as not (loading reports them properly later).
 */
export function isPretrainedSize(modelDir: string): boolean {
  try {
    const c = loadConfig(modelDir);
    return expectedTensors(c).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0) > PRETRAINED_MIN_PARAMS;
  } catch {
    return false;
  }
}

/** The epochs a run plans for: the fixed count, or the cap of "auto". */
export function epochBudget(c: Pick<SeatConfig["train"], "epochs" | "maxEpochs">): number {
  return c.epochs === "auto" ? c.maxEpochs : c.epochs;
}

/** The defaults merged with a method's preset, without model/dataset checks (for docs and UIs). */
export function defaultsFor(method: Method): Record<string, LeafValue> {
  const out: Record<string, LeafValue> = {};
  for (const s of SCHEMA) out[s.path] = s.path in PRESETS[method].values ? PRESETS[method].values[s.path] : s.default;
  return out;
}

// ---- Mapping from the edges onto the schema -------------------------------------------------------

/** Parses a command-line string into the leaf's type (numbers, booleans, comma lists). */
export function parseLeafString(spec: LeafSpec, raw: string): unknown {
  switch (spec.type.kind) {
    case "number":
    case "int": {
      const n = raw.trim() === "" ? NaN : Number(raw);
      return Number.isNaN(n) ? raw : n;
    }
    case "bool":
      return raw === "true" ? true : raw === "false" ? false : raw;
    case "strings":
      return raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

/**
 * CLI flags derived from the schema (string-typed for parseArgs; booleans accept --flag too). A boolean
 * that defaults to on also gets `--no-FLAG` (negate: the flag sets it false).
 */
export function configFlagSpecs(): Record<
  string,
  { type: "string" | "boolean"; help: string; arg?: string; path: string; negate?: boolean }
> {
  const out: Record<
    string,
    { type: "string" | "boolean"; help: string; arg?: string; path: string; negate?: boolean }
  > = {};
  for (const s of SCHEMA) {
    if (!s.flag) continue;
    const arg =
      s.type.kind === "enum"
        ? s.type.values.join("|")
        : s.type.kind === "strings"
          ? "A,B"
          : s.type.kind === "string"
            ? "PATH"
            : s.type.kind === "bool"
              ? undefined
              : "N";
    out[s.flag] = {
      type: s.type.kind === "bool" ? "boolean" : "string",
      help: `${s.path}: ${s.reason}`,
      arg,
      path: s.path,
    };
    if (s.type.kind === "bool" && s.default === true)
      out[`no-${s.flag}`] = { type: "boolean", help: `${s.path} off (on by default)`, path: s.path, negate: true };
  }
  return out;
}

/**
 * Turns parsed CLI flag values (node:util parseArgs output) into a layer. `--set key=value` (repeatable)
 * reaches settings without a flag of their own.
 */
export function layerFromFlags(values: Record<string, unknown>): SourcedLayer[] {
  const layers: SourcedLayer[] = [];
  const specs = configFlagSpecs();
  for (const [flag, { path, negate }] of Object.entries(specs)) {
    const v = values[flag];
    if (v === undefined) continue;
    const spec = BY_PATH.get(path)!;
    const value = typeof v === "string" ? parseLeafString(spec, v) : negate ? !v : v;
    layers.push({ source: `--${flag}`, layer: nest(path, value) });
  }
  const sets = values.set;
  for (const raw of Array.isArray(sets) ? sets : sets === undefined ? [] : [sets]) {
    const s = String(raw);
    const eq = s.indexOf("=");
    if (eq <= 0) {
      throw new ConfigError([{ key: s, source: "--set", message: "expected KEY=VALUE, e.g. --set optim.eps=1e-6" }]);
    }
    const key = s.slice(0, eq);
    const spec = BY_PATH.get(key);
    layers.push({
      source: `--set ${key}`,
      layer: nest(key, spec ? parseLeafString(spec, s.slice(eq + 1)) : s.slice(eq + 1)),
    });
  }
  return layers;
}

function nest(path: string, value: unknown): ConfigLayer {
  return nestDotted([[path, value]]);
}

/**
 * The `seat` task type of tasks.json: `{type: "seat", dataset, model, method, config?, settings?}`.
 * `config` is a config file path (resolved by the caller); `settings` holds further keys in nested or
 * dotted form. Returns the config-file path separately so the caller can read it as its own layer.
 */
export interface SeatTaskDefinition {
  type: "seat";
  dataset?: string;
  model?: string;
  method?: string;
  config?: string;
  outDir?: string;
  settings?: Record<string, unknown>;
}

export function layerFromTask(def: SeatTaskDefinition): { configFile?: string; layer: SourcedLayer } {
  const layer: ConfigLayer = {};
  if (def.dataset !== undefined) layer.dataset = def.dataset;
  if (def.model !== undefined) layer.model = def.model;
  if (def.method !== undefined) layer.method = def.method;
  if (def.outDir !== undefined) layer.outDir = def.outDir;
  for (const [k, v] of Object.entries(def.settings ?? {})) {
    if (typeof v === "object" && v !== null && !Array.isArray(v))
      Object.assign(layer, { [k]: { ...(layer[k] as object), ...v } });
    else setDotted(layer, k, v);
  }
  return { configFile: def.config, layer: { source: "task definition", layer } };
}

/**
 * VS Code settings: the `seatTuner.<key>` settings of SETTING_TO_CONFIG, and only those. `get` returns
 * undefined for settings the user has not set (use `inspect()` on the editor side so that contributed
 * defaults do not shadow method presets).
 */
export const SETTINGS_PREFIX = "seatTuner.";
export function layerFromSettings(get: (key: string) => unknown): SourcedLayer {
  const layer: ConfigLayer = {};
  for (const [setting, path] of Object.entries(SETTING_TO_CONFIG)) {
    const v = get(SETTINGS_PREFIX + setting);
    if (v !== undefined) setDotted(layer, path, v);
  }
  return { source: "settings", layer };
}

/** Reads a JSON config file's text as a layer; JSON errors are reported with the file name. */
export function layerFromConfigText(text: string, file: string): SourcedLayer {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([
      { key: "(file)", source: `config file ${file}`, message: `not valid JSON: ${(e as Error).message}` },
    ]);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new ConfigError([
      { key: "(file)", source: `config file ${file}`, message: "expected a JSON object of settings" },
    ]);
  }
  return { source: `config file ${file}`, layer: v as ConfigLayer };
}
