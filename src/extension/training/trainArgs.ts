// Builds the trainer's command line from a `seat` task definition and the user's settings, keeping the
// trainer's layer order (defaults < method preset < config file < settings < task definition): the
// extension merges settings and the task definition itself and passes the result as `--set` values,
// so the trainer sees one flags layer above the config file. No vscode import: unit-tested.
import { flattenDotted } from "../../util/dotted";
import { SETTING_TO_CONFIG } from "../../seat/configSchema";

export { SETTING_TO_CONFIG };

export interface SeatTaskDefinitionLike {
  dataset?: string;
  model?: string;
  method?: string;
  config?: string;
  outDir?: string;
  resume?: string;
  settings?: Record<string, unknown>;
}

export interface TrainInvocation {
  /** Arguments after the CLI script. */
  args: string[];
  /** Human-readable summary for the terminal header. */
  summary: string;
}

/**
 * @param def the task definition; relative paths must already be resolved by the caller.
 * @param userSettings `seatTuner.*` settings the user set explicitly (key without the prefix), so that
 *   contributed defaults never shadow a method's preset.
 */
export function buildTrainInvocation(
  def: SeatTaskDefinitionLike,
  userSettings: Record<string, unknown>,
): TrainInvocation {
  // --quiet: the terminal shows the events; the trainer's own stderr progress would repeat them.
  if (def.resume) return { args: ["resume", def.resume, "--events-json", "--quiet"], summary: `resume ${def.resume}` };
  if (!def.dataset) throw new Error("the seat task needs a 'dataset'");
  if (!def.model)
    throw new Error("the seat task needs a 'model' (or the seatTuner.modelPath setting, or the embedded model)");
  const merged = new Map<string, unknown>();
  for (const [setting, value] of Object.entries(userSettings)) {
    const path = SETTING_TO_CONFIG[setting];
    if (path && value !== undefined) merged.set(path, value);
  }
  if (def.method) merged.set("method", def.method);
  for (const [k, v] of flattenDotted(def.settings ?? {})) merged.set(k, v);
  const method = merged.get("method");
  merged.delete("method");

  const args = ["train", "--data", def.dataset, "--model", def.model];
  if (typeof method === "string") args.push("--method", method);
  if (def.config) args.push("--config", def.config);
  if (def.outDir) args.push("--out", def.outDir);
  for (const [k, v] of [...merged.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    args.push("--set", `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`);
  }
  args.push("--events-json", "--quiet");
  const summary = `train ${typeof method === "string" ? method : "(method from config/defaults)"} on ${def.dataset} with ${def.model}`;
  return { args, summary };
}

/** e.g. 20261125-150312-seat: sorts by time, says the method, safe on every file system. */
export function newRunName(method: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `${stamp}-${method.replace(/[^\w-]+/g, "_")}`;
}

/**
 * The same run as `buildTrainInvocation`, written out as a torchrun job folder instead of trained here
 * (`seat export-job`): the same layers and `--set` values, so the job resolves the same config.
 */
export function buildExportJobInvocation(
  def: SeatTaskDefinitionLike,
  userSettings: Record<string, unknown>,
  jobDir: string,
): TrainInvocation {
  if (def.resume) throw new Error("a resumed run cannot be exported as a job; export the run's config instead");
  const train = buildTrainInvocation({ ...def, outDir: undefined }, userSettings);
  const args = [
    "export-job",
    ...train.args.slice(1).filter((a) => a !== "--events-json" && a !== "--quiet"),
    "--target",
    "torchrun",
    "--out",
    jobDir,
  ];
  return { args, summary: train.summary.replace(/^train/, "torchrun job for") };
}
