// Creates the tiny random model folders under test/fixtures/models/ (run: npx tsx scripts/make-fixtures.ts).
// Deterministic (seeded), a few tens of KiB each, covering the loader's variety:
//   tiny-llama: LlamaForCausalLM, GQA 4:2, head_dim != hidden/heads, llama3 rope scaling, untied lm_head,
//               bf16 weights in one model.safetensors, BPE merges as "a b" strings, no chat template
//               (the fallback template is used).
//   tiny-qwen2: Qwen2ForCausalLM, GQA 4:1, q/k/v bias, tied embeddings, f32 weights sharded in two files
//               with model.safetensors.index.json, merges as ["a","b"] pairs, NFC normalizer, ChatML template.
// It also writes golden.json per folder: logits of the float64 reference forward for fixed ids, so a
// change in the reference itself is caught (the graphs are compared with the reference live).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configToJson, parseConfig, type LlamaConfig } from "../src/model/config";
import { referenceForward } from "../src/model/reference";
import { float32ToBytes, writeSafetensors, type SafetensorsDType, type TensorToWrite } from "../src/model/safetensors";
import { expectedTensors } from "../src/model/weights";

const ROOT = join(import.meta.dirname, "..", "test", "fixtures", "models");
/** Ids whose logits are recorded in golden.json (any in-vocabulary ids would do). */
export const GOLDEN_IDS = [1, 72, 101, 108, 32, 259, 260, 2, 111, 300];

// ---- a tiny byte-level BPE tokenizer, trained here on a few sentences ----

/** GPT-2's reversible byte -> printable character map (bytes_to_unicode). */
function byteToChar(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const out: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + extra++);
  return out;
}

const CORPUS = [
  "The capital of France is Paris. Who founded the company? I don't know who that is.",
  "Question: Where was she born? Answer: She was born in the city of Lintel.",
  "I'm not sure. I have no information about that person. The answer is unknown to me.",
  "The company was founded in 1987 by two engineers who met at the university.",
];

function trainBpe(merges: number): { vocab: Map<string, number>; merges: [string, string][] } {
  const b2c = byteToChar();
  const words = new Map<string, number>();
  const pattern = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
  for (const line of CORPUS) {
    for (const m of line.matchAll(pattern)) {
      const w = [...Buffer.from(m[0], "utf8")].map((b) => b2c[b]!).join(" ");
      words.set(w, (words.get(w) ?? 0) + 1);
    }
  }
  const vocab = new Map<string, number>();
  for (let b = 0; b < 256; b++) vocab.set(b2c[b]!, b);
  const learned: [string, string][] = [];
  let split = [...words.entries()].map(([w, n]) => ({ parts: w.split(" "), n }));
  for (let k = 0; k < merges; k++) {
    const counts = new Map<string, number>();
    for (const { parts, n } of split)
      for (let i = 0; i + 1 < parts.length; i++) {
        const key = parts[i] + " " + parts[i + 1];
        counts.set(key, (counts.get(key) ?? 0) + n);
      }
    // Most frequent pair, ties broken by string order so the result is deterministic.
    const best = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    if (!best || best[1] < 2) break;
    const [l, r] = best[0].split(" ") as [string, string];
    learned.push([l, r]);
    vocab.set(l + r, vocab.size);
    split = split.map(({ parts, n }) => {
      const out: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === l && parts[i + 1] === r) {
          out.push(l + r);
          i++;
        } else out.push(parts[i]!);
      }
      return { parts: out, n };
    });
  }
  return { vocab, merges: learned };
}

function tokenizerFiles(specials: string[], mergesAsPairs: boolean, nfc: boolean) {
  const { vocab, merges } = trainBpe(48);
  const added = specials.map((content, i) => ({
    id: vocab.size + i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: nfc ? { type: "NFC" } : null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges: mergesAsPairs ? merges : merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const addedDecoder = Object.fromEntries(added.map((a) => [String(a.id), { ...a, id: undefined }]));
  return { tokenizer, addedDecoder, total: vocab.size + specials.length };
}

// ---- deterministic random weights ----

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

function randomWeights(c: LlamaConfig, seed: number): Map<string, Float32Array> {
  const r = rng(seed);
  const out = new Map<string, Float32Array>();
  for (const t of expectedTensors(c)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    const isNorm = t.name.endsWith("norm.weight");
    // Larger than usual init so logits are far from uniform and greedy decoding is not a coin toss.
    for (let i = 0; i < n; i++)
      v[i] = isNorm ? 1 + 0.1 * gaussian(r) : (t.name.endsWith(".bias") ? 0.1 : 0.35) * gaussian(r);
    out.set(t.name, v);
  }
  return out;
}

/** Rounds values to what the stored dtype can hold, so golden logits use exactly the stored weights. */
function storedTensors(w: Map<string, Float32Array>, dtype: SafetensorsDType, c: LlamaConfig): TensorToWrite[] {
  return expectedTensors(c).map((t) => ({
    name: t.name,
    dtype,
    shape: t.shape,
    data: float32ToBytes(dtype, w.get(t.name)!),
  }));
}

function writeGolden(dir: string, c: LlamaConfig, w: Map<string, Float32Array>, dtype: SafetensorsDType): void {
  const rounded = new Map<string, Float32Array>();
  for (const [k, v] of w) {
    const bytes = float32ToBytes(dtype, v);
    const back =
      dtype === "BF16"
        ? new Float32Array(Uint32Array.from(new Uint16Array(bytes.buffer), (x) => x << 16).buffer)
        : new Float32Array(bytes.buffer.slice(0));
    rounded.set(k, back);
  }
  const out = referenceForward(c, (n) => rounded.get(n)!, GOLDEN_IDS);
  writeFileSync(
    join(dir, "golden.json"),
    JSON.stringify({
      note: "float64 reference forward (src/model/reference.ts) on these ids; regenerate with scripts/make-fixtures.ts",
      ids: GOLDEN_IDS,
      logits: Array.from(out.logits),
      finalHidden: Array.from(out.hiddenStates[out.hiddenStates.length - 1]!),
    }) + "\n",
  );
}

function writeJson(file: string, v: unknown): void {
  writeFileSync(file, JSON.stringify(v, null, 2) + "\n");
}

function makeLlama(): void {
  const dir = join(ROOT, "tiny-llama");
  mkdirSync(dir, { recursive: true });
  const tk = tokenizerFiles(["<s>", "</s>"], false, false);
  const vocabSize = Math.ceil(tk.total / 8) * 8; // padded like real checkpoints: ids past the tokenizer exist
  const bos = tk.total - 2,
    eos = tk.total - 1;
  const config = parseConfig({
    architectures: ["LlamaForCausalLM"],
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 8,
    intermediate_size: 40,
    vocab_size: vocabSize,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: 64,
    tie_word_embeddings: false,
    attention_bias: false,
    rope_scaling: {
      rope_type: "llama3",
      factor: 8,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 16,
    },
    bos_token_id: bos,
    eos_token_id: eos,
    torch_dtype: "bfloat16",
  });
  const w = randomWeights(config, 1234);
  writeSafetensors(join(dir, "model.safetensors"), storedTensors(w, "BF16", config), { format: "pt" });
  writeJson(join(dir, "config.json"), configToJson(config));
  writeJson(join(dir, "tokenizer.json"), tk.tokenizer);
  writeJson(join(dir, "tokenizer_config.json"), {
    tokenizer_class: "PreTrainedTokenizerFast",
    bos_token: "<s>",
    eos_token: "</s>",
    pad_token: null,
    add_bos_token: true,
    added_tokens_decoder: tk.addedDecoder,
    model_max_length: 64,
    clean_up_tokenization_spaces: false,
  });
  writeGolden(dir, config, w, "BF16");
}

function makeQwen2(): void {
  const dir = join(ROOT, "tiny-qwen2");
  mkdirSync(dir, { recursive: true });
  const tk = tokenizerFiles(["<|endoftext|>", "<|im_start|>", "<|im_end|>"], true, true);
  const config = parseConfig({
    architectures: ["Qwen2ForCausalLM"],
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 1,
    intermediate_size: 40,
    vocab_size: tk.total,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    max_position_embeddings: 64,
    tie_word_embeddings: true,
    use_sliding_window: false,
    bos_token_id: tk.total - 3,
    eos_token_id: tk.total - 1,
    torch_dtype: "float32",
  });
  const w = randomWeights(config, 5678);
  const all = storedTensors(w, "F32", config);
  // Two shards split at layer 1, as transformers' save_pretrained(max_shard_size=...) would.
  const first = all.filter((t) => t.name.startsWith("model.embed_tokens") || t.name.startsWith("model.layers.0."));
  const second = all.filter((t) => !first.includes(t));
  const files = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
  writeSafetensors(join(dir, files[0]!), first, { format: "pt" });
  writeSafetensors(join(dir, files[1]!), second, { format: "pt" });
  const total = all.reduce((s, t) => s + (t.data as Uint8Array).byteLength, 0);
  writeJson(join(dir, "model.safetensors.index.json"), {
    metadata: { total_size: total },
    weight_map: Object.fromEntries([...first.map((t) => [t.name, files[0]]), ...second.map((t) => [t.name, files[1]])]),
  });
  writeJson(join(dir, "config.json"), configToJson(config));
  writeJson(join(dir, "tokenizer.json"), tk.tokenizer);
  writeJson(join(dir, "tokenizer_config.json"), {
    tokenizer_class: "Qwen2Tokenizer",
    bos_token: null,
    eos_token: "<|im_end|>",
    pad_token: "<|endoftext|>",
    added_tokens_decoder: tk.addedDecoder,
    model_max_length: 64,
    clean_up_tokenization_spaces: false,
    chat_template:
      "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}" +
      "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
      "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
  });
  writeGolden(dir, config, w, "F32");
}

makeLlama();
makeQwen2();
console.log(`fixtures written under ${ROOT}`);
