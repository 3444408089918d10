// A model folder's byte-level BPE tokenizer as GGUF metadata (the `tokenizer.ggml.*` keys llama.cpp
// reads): the vocabulary in id order with a type per token, the merges, the special ids, and the name of
// the pre-tokenizer (the regex split before BPE), which llama.cpp does not read from the file but picks
// from a fixed list by name. A pre-tokenizer not on that list cannot be carried: that is an error, not a
// guess, since a wrong split tokenizes differently without any sign.
import { join } from "node:path";
import type { GgufValue } from "./gguf";
import { ModelFormatError } from "./errors";
import type { ModelTokenizer } from "./tokenizer";

type Json = Record<string, unknown>;

/** llama.cpp token types (llama.h `llama_token_type`). */
const TOKEN_TYPE = { normal: 1, control: 3, userDefined: 4, unused: 5 } as const;

// The split regexes of the families we load, as their tokenizer.json files spell them.
const GPT4_STYLE_HEAD = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|";
const GPT4_STYLE_TAIL = "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA3_SPLIT = `${GPT4_STYLE_HEAD}\\p{N}{1,3}${GPT4_STYLE_TAIL}`;
const QWEN2_SPLIT = `${GPT4_STYLE_HEAD}\\p{N}${GPT4_STYLE_TAIL}`;

function splitRegex(p: Json): string | undefined {
  const pattern = p["pattern"] as Json | undefined;
  return typeof pattern?.["Regex"] === "string" ? pattern["Regex"] : undefined;
}

/**
 * The llama.cpp pre-tokenizer name for a tokenizer.json `pre_tokenizer`, or a reason it has none:
 * GPT-2's ByteLevel regex ("gpt-2", the embedded model), Llama 3's split ("llama-bpe"), Qwen2's split
 * ("qwen2"), SmolLM's single digits before ByteLevel ("smollm").
 */
export function ggufPreTokenizer(pre: unknown): { name: string } | { reason: string } {
  const p = (pre ?? {}) as Json;
  if (p["type"] === "ByteLevel")
    return p["use_regex"] === false
      ? { reason: "a ByteLevel pre-tokenizer without its regex split" }
      : { name: "gpt-2" };
  const parts = p["type"] === "Sequence" && Array.isArray(p["pretokenizers"]) ? (p["pretokenizers"] as Json[]) : null;
  if (!parts) return { reason: `pre-tokenizer ${JSON.stringify(p["type"] ?? null)}` };
  const [a, b] = parts;
  if (parts.length === 2 && a?.["type"] === "Split" && b?.["type"] === "ByteLevel" && b["use_regex"] === false) {
    const re = splitRegex(a);
    if (re === LLAMA3_SPLIT) return { name: "llama-bpe" };
    if (re === QWEN2_SPLIT) return { name: "qwen2" };
    return { reason: `a Split pre-tokenizer with the regex ${JSON.stringify(re)}` };
  }
  if (
    parts.length === 2 &&
    a?.["type"] === "Digits" &&
    a["individual_digits"] === true &&
    b?.["type"] === "ByteLevel" &&
    b["use_regex"] !== false
  )
    return { name: "smollm" };
  return { reason: `the pre-tokenizer sequence [${parts.map((x) => String(x["type"])).join(", ")}]` };
}

/** `tokenizer.ggml.*` and `tokenizer.chat_template` entries; `vocabSize` rows (padding beyond the tokenizer). */
export function ggufTokenizerMetadata(
  dir: string,
  tok: ModelTokenizer,
  tokenizerJson: Json,
  tokenizerConfig: Json,
  vocabSize: number,
): Map<string, GgufValue> {
  const where = join(dir, "tokenizer.json");
  const model = (tokenizerJson["model"] ?? {}) as Json;
  if (model["type"] !== "BPE")
    throw new ModelFormatError(
      where,
      `GGUF export supports byte-level BPE tokenizers; this one is ${JSON.stringify(model["type"] ?? null)}`,
    );
  if (model["byte_fallback"] === true)
    throw new ModelFormatError(
      where,
      "GGUF export: a BPE tokenizer with byte_fallback (SentencePiece style) is not supported",
    );
  const pre = ggufPreTokenizer(tokenizerJson["pre_tokenizer"]);
  if ("reason" in pre)
    throw new ModelFormatError(
      where,
      `GGUF export: llama.cpp has no pre-tokenizer matching ${pre.reason}; the file would tokenize differently from the model`,
    );

  const tokens: string[] = new Array<string>(vocabSize);
  const types = new Int32Array(vocabSize);
  for (const [text, id] of Object.entries((model["vocab"] ?? {}) as Record<string, number>)) {
    if (id < vocabSize) {
      tokens[id] = text;
      types[id] = TOKEN_TYPE.normal;
    }
  }
  for (const t of (tokenizerJson["added_tokens"] ?? []) as { id: number; content: string; special?: boolean }[]) {
    if (t.id >= vocabSize)
      throw new ModelFormatError(
        where,
        `added token ${JSON.stringify(t.content)} has id ${t.id}, outside the model's vocab_size ${vocabSize}`,
      );
    tokens[t.id] = t.content;
    types[t.id] = t.special ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined;
  }
  // Embedding rows the tokenizer never produces still need a token each (llama.cpp sizes the vocabulary
  // from this list).
  for (let i = 0; i < vocabSize; i++)
    if (tokens[i] === undefined) {
      tokens[i] = `[PAD${i}]`;
      types[i] = TOKEN_TYPE.unused;
    }
  const merges = ((model["merges"] ?? []) as (string | [string, string])[]).map((m) =>
    typeof m === "string" ? m : `${m[0]} ${m[1]}`,
  );

  const md = new Map<string, GgufValue>();
  md.set("tokenizer.ggml.model", { type: "string", value: "gpt2" });
  md.set("tokenizer.ggml.pre", { type: "string", value: pre.name });
  md.set("tokenizer.ggml.tokens", { type: "string[]", value: tokens });
  md.set("tokenizer.ggml.token_type", { type: "i32[]", value: types });
  md.set("tokenizer.ggml.merges", { type: "string[]", value: merges });
  if (tok.bosId !== null) md.set("tokenizer.ggml.bos_token_id", { type: "u32", value: tok.bosId });
  if (tok.eosId !== null) md.set("tokenizer.ggml.eos_token_id", { type: "u32", value: tok.eosId });
  if (tok.padId !== null) md.set("tokenizer.ggml.padding_token_id", { type: "u32", value: tok.padId });
  const eot = tok.stopIds.find((id) => id !== tok.eosId);
  if (eot !== undefined) md.set("tokenizer.ggml.eot_token_id", { type: "u32", value: eot });
  md.set("tokenizer.ggml.add_bos_token", { type: "bool", value: addsBos(tokenizerJson, tokenizerConfig, tok) });
  md.set("tokenizer.ggml.add_eos_token", { type: "bool", value: false });
  md.set("tokenizer.chat_template", { type: "string", value: tok.chatTemplate });
  return md;
}

/** Whether encoding with special tokens puts BOS first (tokenizer_config's flag, else the post-processor). */
function addsBos(tokenizerJson: Json, tokenizerConfig: Json, tok: ModelTokenizer): boolean {
  if (typeof tokenizerConfig["add_bos_token"] === "boolean") return tokenizerConfig["add_bos_token"];
  if (tok.bosId === null) return false;
  return JSON.stringify(tokenizerJson["post_processor"] ?? null).includes(JSON.stringify(tok.bosToken));
}
