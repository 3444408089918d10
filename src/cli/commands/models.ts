// `seat models [DIR...] [--json]`: the bundled model and any given local folders, with what the
// product needs to know before using one: architecture, size, dtype, tokenizer, context, and which
// execution provider would run it.
import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { type Command, ExitCode, UserError } from "../command";

export interface ModelListing {
  dir: string;
  bundled: boolean;
  ok: boolean;
  error?: string;
  architecture?: string;
  parameters?: number;
  dtypes?: string[];
  bytes?: number;
  tokenizer?: string;
  vocabSize?: number;
  context?: number;
  layers?: number;
  hiddenSize?: number;
  chatTemplate?: "own" | "fallback";
  executionProvider?: string;
  /** With --placement: where onnxruntime ran the inference graph's nodes (GPU providers only). */
  placement?: string;
}

/**
 * Opens the model's inference graph on `device`, runs one token through it and reports which nodes
 * onnxruntime ran on the CPU (a GPU session learns this from its first run).
 */
async function placementOf(dir: string, device: string): Promise<string> {
  const { LlamaModel } = await import("../../model/index");
  const { describePlacement } = await import("../../runtime/index");
  const m = await LlamaModel.load(dir, { provider: device as never });
  try {
    if (m.provider === "cpu") return `cpu${m.fallbackReason ? ` (${m.fallbackReason})` : ""}: every node on the CPU`;
    await m.nextTokenLogProbs([[m.tokenizer.bosId ?? 0]]);
    const p = await m.placement();
    return p ? `${m.provider}: ${describePlacement(m.provider, p)}` : `${m.provider}: placement unknown`;
  } finally {
    await m.dispose();
  }
}

export async function describeModel(dir: string, bundled: boolean): Promise<ModelListing> {
  const abs = resolve(dir);
  const { loadModelFolder, numel } = await import("../../model/index");
  try {
    const f = loadModelFolder(abs);
    const tensors = f.weights.entries;
    const dtypes = [...new Set([...tensors.values()].map((t) => t.dtype))].sort();
    const parameters = [...tensors.values()].reduce((n, t) => n + numel(t.shape), 0);
    const bytes = f.weights.shards.reduce((n, s) => n + statSync(resolve(abs, s.file)).size, 0);
    const tj = f.tokenizer;
    return {
      dir: abs,
      bundled,
      ok: true,
      architecture: f.config.architecture,
      parameters,
      dtypes,
      bytes,
      tokenizer: tokenizerType(abs),
      vocabSize: f.config.vocabSize,
      context: f.config.maxPositions,
      layers: f.config.numLayers,
      hiddenSize: f.config.hiddenSize,
      chatTemplate: tj.templateIsFallback ? "fallback" : "own",
      executionProvider: await providerFor(),
    };
  } catch (e) {
    return { dir: abs, bundled, ok: false, error: (e as Error).message };
  }
}

function tokenizerType(dir: string): string {
  try {
    const j = JSON.parse(readFileSync(resolve(dir, "tokenizer.json"), "utf8")) as {
      model?: { type?: string };
      pre_tokenizer?: { type?: string } | null;
    };
    const model = j.model?.type ?? "?";
    const pre = j.pre_tokenizer?.type;
    return pre === "ByteLevel" ? `byte-level ${model}` : pre ? `${model} (${pre})` : model;
  } catch {
    return "?";
  }
}

/** The runtime's choice when it exposes one; CPU otherwise (always available in onnxruntime-node). */
async function providerFor(): Promise<string> {
  try {
    const rt = (await import("../../runtime/index")) as Record<string, unknown>;
    const pick = rt["describeExecutionProvider"] ?? rt["preferredExecutionProvider"];
    if (typeof pick === "function") return String(await (pick as () => unknown)());
  } catch {
    // runtime not available (e.g. a pure-core build): fall through
  }
  return "cpu";
}

function human(n: number): string {
  if (n >= 1e9) return (n / 1e9).toFixed(2) + "B";
  if (n >= 1e6) return (n / 1e6).toFixed(2) + "M";
  if (n >= 1e3) return (n / 1e3).toFixed(1) + "k";
  return String(n);
}

function bytesHuman(n: number): string {
  if (n >= 1 << 30) return (n / (1 << 30)).toFixed(2) + " GiB";
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + " MiB";
  return (n / 1024).toFixed(0) + " KiB";
}

const command: Command = {
  name: "models",
  summary: "List the bundled model and local model folders (architecture, size, tokenizer, provider)",
  usage: "[DIR...] [--json]",
  options: {
    json: { type: "boolean", help: "Print JSON instead of a table" },
    placement: {
      type: "boolean",
      help: "Load each model on its execution provider and list the nodes onnxruntime runs on the CPU",
    },
    device: {
      type: "string",
      arg: "PROVIDER",
      help: "With --placement: the execution provider to load on (default auto)",
    },
  },
  details:
    "Without DIR, lists the bundled model (models/seat-tiny-world). Each DIR is a Hugging Face\nmodel folder: config.json, *.safetensors, tokenizer.json (+ tokenizer_config.json).",
  async run(args, io) {
    const { EMBEDDED_MODEL_DIR } = await import("../../world/paths");
    const dirs = args.positionals.map((d) => resolve(io.cwd, d));
    for (const d of dirs) {
      if (!existsSync(d)) throw new UserError(`${d}: no such folder`);
    }
    const listings: ModelListing[] = [];
    if (existsSync(EMBEDDED_MODEL_DIR)) listings.push(await describeModel(EMBEDDED_MODEL_DIR, true));
    for (const d of dirs) if (resolve(d) !== EMBEDDED_MODEL_DIR) listings.push(await describeModel(d, false));
    if (args.values["placement"]) {
      const device = (args.values["device"] as string | undefined) ?? "auto";
      for (const m of listings)
        if (m.ok)
          m.placement = await placementOf(m.dir, device).catch(
            (e: Error) => `could not run it: ${e.message.split("\n")[0]}`,
          );
    }
    if (args.values["json"]) {
      io.out(JSON.stringify(listings, null, 2) + "\n");
    } else {
      for (const m of listings) {
        io.out(`${m.dir}${m.bundled ? "  (bundled)" : ""}\n`);
        if (!m.ok) {
          io.out(`  error: ${m.error}\n`);
          continue;
        }
        io.out(
          `  ${m.architecture}, ${human(m.parameters ?? 0)} parameters (${m.dtypes?.join("/")}, ${bytesHuman(m.bytes ?? 0)}), ` +
            `${m.layers} layers x ${m.hiddenSize}\n`,
        );
        io.out(
          `  tokenizer: ${m.tokenizer}, vocab ${m.vocabSize}, chat template: ${m.chatTemplate}; context ${m.context} tokens\n`,
        );
        io.out(`  execution provider: ${m.executionProvider}\n`);
        if (m.placement) io.out(`  node placement: ${m.placement}\n`);
      }
      if (listings.length === 0) io.out("No models found. Pass a model folder: seat models DIR\n");
    }
    return listings.every((m) => m.ok) ? ExitCode.ok : ExitCode.problems;
  },
};
export default command;
