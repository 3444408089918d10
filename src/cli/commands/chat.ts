// `seat chat --model DIR [--base DIR] [--prompt TEXT]`: ask a tuned model (a model folder, or a run
// folder: its newest checkpoint merged onto its base) and its base the same question. With --prompt the
// tuned answer alone goes to stdout (scripts), or both answers with P(abstain) as JSON with --json;
// without it, a REPL that streams both answers. Progress and model loading go to stderr.
import { createInterface } from "node:readline";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { type Command, type CliIo, ExitCode, UserError } from "../command";

function numberFlag(v: unknown, name: string, ok: (n: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !ok(n)) throw new UserError(`--${name} must be ${what}, got '${String(v)}'`);
  return n;
}

const command: Command = {
  name: "chat",
  summary: "Ask a tuned model and its base the same question (answers and P(abstain) side by side)",
  usage:
    "--model DIR|RUN_DIR [--base DIR] [--prompt TEXT] [--json] [--temperature T] [--top-p P] [--top-k K] [--max-tokens N] [--seed S]",
  options: {
    model: {
      type: "string",
      arg: "DIR",
      help: "Tuned model folder, or a run folder (its newest checkpoint, unexported)",
    },
    base: { type: "string", arg: "DIR", help: "Base model to compare with (default for a run: the run's base model)" },
    prompt: { type: "string", arg: "TEXT", help: "Ask once and exit (default: an interactive session)" },
    system: { type: "string", arg: "TEXT", help: "System prompt" },
    json: { type: "boolean", help: "With --prompt: print {tuned, base} answers with P(abstain) as JSON" },
    temperature: {
      type: "string",
      arg: "T",
      help: "Sampling temperature (default: generation_config.json, else 0 = greedy)",
    },
    "top-p": { type: "string", arg: "P", help: "Nucleus sampling mass (0 < P <= 1)" },
    "top-k": { type: "string", arg: "K", help: "Sample from the K most likely tokens (0 = all)" },
    "max-tokens": {
      type: "string",
      arg: "N",
      help: "Longest answer in tokens (default: generation_config.json max_new_tokens, else 128)",
    },
    seed: { type: "string", arg: "S", help: "Sampler seed (same seed, same answer)" },
    serve: {
      type: "boolean",
      help: "For the editor: read {id, prompt, system?} / {stop: id} JSON lines on stdin, stream JSON events on stdout",
    },
  },
  details: "Exit codes: 0 answered, 2 bad arguments or model folder, 3 generation failed, 130 cancelled.",
  async run(args, io) {
    if (typeof args.values.model !== "string")
      throw new UserError("--model DIR is required (a model folder or a run folder)");
    const modelDir = resolve(io.cwd, args.values.model);
    if (!existsSync(modelDir)) throw new UserError(`--model ${args.values.model}: no such folder`);
    const explicit = {
      temperature: numberFlag(args.values.temperature, "temperature", (n) => n >= 0, "a number >= 0"),
      topP: numberFlag(args.values["top-p"], "top-p", (n) => n > 0 && n <= 1, "in (0, 1]"),
      topK: numberFlag(args.values["top-k"], "top-k", (n) => Number.isInteger(n) && n >= 0, "an integer >= 0"),
      maxNewTokens: numberFlag(
        args.values["max-tokens"],
        "max-tokens",
        (n) => Number.isInteger(n) && n > 0,
        "a positive integer",
      ),
      seed: numberFlag(args.values.seed, "seed", (n) => Number.isInteger(n) && n >= 0, "a non-negative integer"),
    };
    const clean = Object.fromEntries(Object.entries(explicit).filter(([, v]) => v !== undefined));
    if (args.values.json && typeof args.values.prompt !== "string") throw new UserError("--json needs --prompt");
    const chat = await import("../../seat/chat");
    let baseDir: string | undefined;
    try {
      baseDir = typeof args.values.base === "string" ? resolve(io.cwd, args.values.base) : chat.defaultBase(modelDir);
    } catch (e) {
      throw new UserError(`--model ${args.values.model}: ${(e as Error).message}`);
    }
    const load = async (dir: string, label: string) => {
      io.err(`seat chat: loading ${label} ${dir}\n`);
      try {
        return await chat.openChatModel(dir, label, { provider: "auto", log: (m) => io.err(`seat chat: ${m}\n`) });
      } catch (e) {
        throw new UserError(`--${label === "tuned" ? "model" : "base"} ${dir}: ${(e as Error).message}`);
      }
    };
    const tuned = await load(modelDir, "tuned");
    const base = baseDir ? await load(baseDir, "base") : undefined;
    const settings = chat.chatSettings(tuned.dir, clean);
    const system = typeof args.values.system === "string" ? args.values.system : undefined;
    try {
      if (typeof args.values.prompt === "string") {
        const q = args.values.prompt;
        const t = await chat.answer(tuned, q, settings, { system, signal: io.signal });
        const b = base ? await chat.answer(base, q, settings, { system, signal: io.signal }) : undefined;
        if (io.signal.aborted) return ExitCode.cancelled;
        if (args.values.json)
          io.out(JSON.stringify({ prompt: q, settings, tuned: t, ...(b ? { base: b } : {}) }) + "\n");
        else io.out(t.text + "\n");
        io.err(
          `seat chat: tuned P(abstain) ${t.pAbstain.toFixed(3)}${b ? `, base P(abstain) ${b.pAbstain.toFixed(3)}` : ""}\n`,
        );
        return ExitCode.ok;
      }
      if (args.values.serve) return await serve(io, chat, tuned, base, settings);
      return await repl(io, chat, tuned, base, settings, system);
    } catch (e) {
      if (io.signal.aborted) return ExitCode.cancelled;
      throw new UserError((e as Error).message, ExitCode.failed);
    } finally {
      await tuned.model.dispose();
      await base?.model.dispose();
    }
  },
};

async function repl(
  io: CliIo,
  chat: ChatModule,
  tuned: ChatModel,
  base: ChatModel | undefined,
  settings: import("../../seat/chat").ChatSettings,
  system?: string,
): Promise<number> {
  io.err(
    `seat chat: ${base ? "tuned and base" : "tuned"} ready (${settings.sampling.temperature === 0 ? "greedy" : `temperature ${settings.sampling.temperature}`}, up to ${settings.maxNewTokens} tokens). Empty line or Ctrl-D to quit.\n`,
  );
  const rl = createInterface({ input: process.stdin, terminal: false });
  io.signal.addEventListener("abort", () => rl.close(), { once: true });
  io.err("> ");
  for await (const line of rl) {
    const q = line.trim();
    if (!q) break;
    for (const m of base ? [tuned, base] : [tuned]) {
      io.out(`[${m.label}] `);
      let shown = 0;
      const a = await chat.answer(m, q, settings, {
        system,
        signal: io.signal,
        onText: (text) => {
          io.out(text.slice(shown));
          shown = text.length;
        },
      });
      io.out(`${a.text.slice(shown)}\n`);
      io.err(`  (P(abstain) ${a.pAbstain.toFixed(3)}, ${a.tokens} tokens, ${a.finish})\n`);
    }
    io.err("> ");
  }
  rl.close();
  return ExitCode.ok;
}

type ChatModule = typeof import("../../seat/chat");
type ChatModel = import("../../seat/chat").ChatModel;

/**
 * The editor's chat backend (one process per tuned/base pair, so generation never runs on the extension
 * host): each request streams `{id, who, text}` as tokens arrive, for tuned and base at once, then
 * `{id, who, done: true, text, pAbstain, finish}`; `{stop: id}` cancels a request; errors are
 * `{id, error}`. The first line out is `{ready: true, settings}`.
 */
async function serve(
  io: CliIo,
  chat: ChatModule,
  tuned: ChatModel,
  base: ChatModel | undefined,
  settings: import("../../seat/chat").ChatSettings,
): Promise<number> {
  const send = (m: unknown) => io.out(JSON.stringify(m) + "\n");
  send({ ready: true, settings, tuned: tuned.dir, ...(base ? { base: base.dir } : {}) });
  const running = new Map<string, AbortController>();
  const rl = createInterface({ input: process.stdin, terminal: false });
  io.signal.addEventListener("abort", () => rl.close(), { once: true });
  const work: Promise<void>[] = [];
  for await (const line of rl) {
    if (!line.trim()) continue;
    let msg: { id?: unknown; prompt?: unknown; system?: unknown; stop?: unknown };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      send({ error: `not a JSON line: ${line.slice(0, 80)}` });
      continue;
    }
    if (typeof msg.stop === "string") {
      running.get(msg.stop)?.abort();
      continue;
    }
    if (typeof msg.id !== "string" || typeof msg.prompt !== "string" || !msg.prompt.trim()) {
      send({ error: "a request needs a string id and a non-empty prompt" });
      continue;
    }
    const id = msg.id,
      prompt = msg.prompt,
      system = typeof msg.system === "string" && msg.system ? msg.system : undefined;
    const ac = new AbortController();
    running.set(id, ac);
    const one = async (m: ChatModel) => {
      try {
        const a = await chat.answer(m, prompt, settings, {
          system,
          signal: ac.signal,
          onText: (text) => send({ id, who: m.label, text }),
        });
        send({ id, who: m.label, done: true, ...a });
      } catch (e) {
        send({ id, who: m.label, error: (e as Error).message });
      }
    };
    work.push(
      Promise.all((base ? [tuned, base] : [tuned]).map(one)).then(() => {
        running.delete(id);
      }),
    );
  }
  for (const ac of running.values()) ac.abort();
  await Promise.all(work);
  return ExitCode.ok;
}

export default command;
