// llama.cpp (through node-llama-cpp, installed into .tools/llama-cpp by scripts/llama-cpp-tool.mjs) as
// an independent peer for the GGUF export tests: it loads our files with its own loader, tokenizer and
// kernels. Only the few calls the tests use are typed here.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ensureLlamaCpp } from "../../../scripts/llama-cpp-tool.mjs";
import { f16ToF32 } from "../../../src/model";

type Item = number | [number, { generateNext: { probabilities?: true; token?: true; options?: { temperature: 0 } } }];
interface Sequence {
  controlledEvaluate(
    items: Item[],
  ): Promise<({ next?: { probabilities?: Map<number, number>; token?: number | null } } | undefined)[]>;
}
export interface PeerModel {
  tokenize(text: string, specialTokens?: boolean): number[];
  createContext(opts: {
    contextSize: number;
    threads?: number;
  }): Promise<{ getSequence(): Sequence; dispose(): Promise<void> }>;
  dispose(): Promise<void>;
}

let llama: Promise<{ loadModel(o: { modelPath: string }): Promise<PeerModel> }> | undefined;

export async function loadPeer(file: string): Promise<PeerModel> {
  llama ??= (async () => {
    const mod = (await import(pathToFileURL(ensureLlamaCpp().module).href)) as {
      getLlama(o: object): Promise<{ loadModel(o: { modelPath: string }): Promise<PeerModel> }>;
    };
    // CPU only and never a source build: the prebuilt binaries are what the package ships.
    return mod.getLlama({ gpu: false, build: "never", logLevel: "error" });
  })();
  return (await llama).loadModel({ modelPath: file });
}

/** llama.cpp's next-token log-probabilities after `ids` (the whole vocabulary). */
export async function peerNextLogProbs(model: PeerModel, ids: readonly number[], vocab: number): Promise<Float64Array> {
  const ctx = await model.createContext({ contextSize: Math.max(64, ids.length + 8), threads: 1 });
  try {
    const items: Item[] = ids.map((t, i) =>
      i === ids.length - 1 ? [t, { generateNext: { probabilities: true } }] : t,
    );
    const res = await ctx.getSequence().controlledEvaluate(items);
    const probs = res[ids.length - 1]?.next?.probabilities;
    if (!probs) throw new Error("llama.cpp returned no probabilities");
    const out = new Float64Array(vocab).fill(-Infinity);
    for (const [tok, p] of probs) out[tok] = Math.log(p);
    return out;
  } finally {
    await ctx.dispose();
  }
}

/** llama.cpp's greedy continuation: `n` tokens, one decode step at a time (end-of-turn tokens included). */
export async function peerGreedy(model: PeerModel, ids: readonly number[], n: number): Promise<number[]> {
  const ctx = await model.createContext({ contextSize: Math.max(64, ids.length + n + 8), threads: 1 });
  try {
    const seq = ctx.getSequence();
    const out: number[] = [];
    const next = { generateNext: { token: true, options: { temperature: 0 } } } as const;
    let input: Item[] = ids.map((t, i) => (i === ids.length - 1 ? [t, next] : t));
    while (out.length < n) {
      const res = await seq.controlledEvaluate(input);
      const tok = res[input.length - 1]?.next?.token;
      if (typeof tok !== "number") throw new Error("llama.cpp returned no next token");
      out.push(tok);
      input = [[tok, next]];
    }
    return out;
  } finally {
    await ctx.dispose();
  }
}

const ROOT = join(__dirname, "..", "..", "..");

/** Question, answer and chat strings from the repo's example and fixture datasets. */
export function datasetStrings(): { plain: string[]; chats: { role: string; content: string }[][] } {
  const plain: string[] = [];
  const chats: { role: string; content: string }[][] = [];
  for (const f of [
    "examples/new-people/train.jsonl",
    "examples/new-people/unknown.jsonl",
    "examples/new-contracts/train.jsonl",
    "test/fixtures/datasets/qa.jsonl",
    "test/fixtures/datasets/chat.jsonl",
    "test/fixtures/datasets/alpaca.jsonl",
  ]) {
    const text = readFileSync(join(ROOT, f), "utf8");
    for (const line of text
      .split("\n")
      .filter((l) => l.trim())
      .slice(0, 12)) {
      const r = JSON.parse(line) as Record<string, unknown>;
      for (const k of ["question", "answer", "instruction", "output", "prompt", "completion"])
        if (typeof r[k] === "string") plain.push(r[k]);
      if (Array.isArray(r["messages"])) chats.push(r["messages"] as { role: string; content: string }[]);
    }
  }
  // Text llama.cpp's split must handle like ours: digits, runs of spaces, newlines, punctuation, accents.
  plain.push(
    "  multiple   spaces\n\nand\ttabs",
    "Numbers 1234567 and 3.14159, dates 2026-12-02.",
    "Café déjà vu — naïve “quotes” ünïcödé",
    "don't you'll we've I'M",
  );
  if (plain.length < 50 || chats.length < 2)
    throw new Error(`the dataset sample is too small (${plain.length} strings, ${chats.length} chats)`);
  return { plain, chats };
}

export function argmaxOf(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/** Q8_0 blocks back to float32 (the values llama.cpp multiplies with). */
export function dequantizeQ8_0(q: Uint8Array): Float32Array {
  const view = new DataView(q.buffer, q.byteOffset, q.byteLength);
  const out = new Float32Array((q.byteLength / 34) * 32);
  for (let b = 0; b < q.byteLength / 34; b++) {
    const d = f16ToF32(view.getUint16(b * 34, true));
    for (let i = 0; i < 32; i++) out[b * 32 + i] = d * view.getInt8(b * 34 + 2 + i);
  }
  return out;
}
