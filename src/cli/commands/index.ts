// The command table of the `seat` CLI. Each entry loads its module lazily so `seat validate` does not
// pay for onnxruntime. Keep this list and docs in README in step.
import type { Command } from "../command";

export const commandLoaders: Record<string, () => Promise<Command>> = {
  train: async () => (await import("./train")).default,
  resume: async () => (await import("./resume")).default,
  eval: async () => (await import("./eval")).default,
  probe: async () => (await import("./probe")).default,
  export: async () => (await import("./export")).default,
  chat: async () => (await import("./chat")).default,
  validate: async () => (await import("./validate")).default,
  convert: async () => (await import("./convert")).default,
  "import-csv": async () => (await import("./import-csv")).default,
  "export-csv": async () => (await import("./export-csv")).default,
  stats: async () => (await import("./stats")).default,
  perturb: async () => (await import("./perturb")).default,
  world: async () => (await import("./world")).default,
  demo: async () => (await import("./demo")).default,
  models: async () => (await import("./models")).default,
  bench: async () => (await import("./bench")).default,
  "export-job": async () => (await import("./export-job")).default,
  "import-run": async () => (await import("./import-run")).default,
};
