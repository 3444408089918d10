// A small byte-level BPE trainer whose output is a Hugging Face `tokenizer.json` (model BPE,
// ByteLevel pre-tokenizer and decoder), so any string -- every fictitious name included -- tokenizes
// without an unknown token. Merges are learned greedily by pair frequency (Sennrich et al. 2016), ties
// broken by the pair's text so the result is deterministic.

/** GPT-2's pre-tokenization pattern, as the ByteLevel pre-tokenizer applies it with use_regex. */
const PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's reversible byte -> printable character map (printable bytes map to themselves). */
export function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const map: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (keep.includes(b)) map[b] = String.fromCharCode(b);
    else map[b] = String.fromCharCode(256 + extra++);
  }
  return map;
}

const BYTE_CHARS = bytesToUnicode();
const encoder = new TextEncoder();

/** Pre-tokenizes and maps each piece to its byte characters. */
export function byteLevelPieces(text: string): string[] {
  return (text.match(PRETOKENIZE) ?? []).map((p) => Array.from(encoder.encode(p), (b) => BYTE_CHARS[b]).join(""));
}

export interface BpeTrainOptions {
  /** Total vocabulary including the 256 byte symbols and the special tokens. */
  vocabSize: number;
  /** Special tokens, given the first ids in this order. */
  specialTokens: readonly string[];
  /** Pairs seen fewer times than this are never merged. */
  minFrequency?: number;
}

export interface BpeModel {
  vocab: Map<string, number>;
  merges: Array<[string, string]>;
  specialTokens: readonly string[];
}

/** Learns merges from `texts` (each text weighted by how often it appears in the array). */
export function trainBpe(texts: Iterable<string>, opts: BpeTrainOptions): BpeModel {
  const minFreq = opts.minFrequency ?? 2;
  const wordCounts = new Map<string, number>();
  for (const t of texts) for (const p of byteLevelPieces(t)) wordCounts.set(p, (wordCounts.get(p) ?? 0) + 1);
  const words: Array<{ syms: string[]; count: number }> = [...wordCounts.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([w, count]) => ({ syms: Array.from(w), count }));

  const vocab = new Map<string, number>();
  for (const s of opts.specialTokens) vocab.set(s, vocab.size);
  for (const c of BYTE_CHARS) vocab.set(c, vocab.size);
  const merges: Array<[string, string]> = [];

  // Pair counts are kept up to date incrementally: a merge only touches the words that contain the
  // merged pair (found through `where`), so training costs O(words touched) per merge, not O(corpus).
  const counts = new Map<string, number>();
  const where = new Map<string, Set<number>>();
  const addPairs = (wi: number, sign: 1 | -1) => {
    const w = words[wi];
    for (let i = 0; i + 1 < w.syms.length; i++) {
      const key = w.syms[i] + "\u0000" + w.syms[i + 1];
      const c = (counts.get(key) ?? 0) + sign * w.count;
      if (c > 0) counts.set(key, c);
      else counts.delete(key);
      if (sign > 0) {
        let set = where.get(key);
        if (!set) where.set(key, (set = new Set()));
        set.add(wi);
      }
    }
  };
  for (let wi = 0; wi < words.length; wi++) addPairs(wi, 1);

  while (vocab.size < opts.vocabSize) {
    let best: string | undefined;
    let bestCount = 0;
    for (const [k, c] of counts) {
      if (c > bestCount || (c === bestCount && best !== undefined && k < best)) {
        best = k;
        bestCount = c;
      }
    }
    if (best === undefined || bestCount < minFreq) break;
    const [a, b] = best.split("\u0000");
    const merged = a + b;
    merges.push([a, b]);
    if (!vocab.has(merged)) vocab.set(merged, vocab.size);
    for (const wi of [...(where.get(best) ?? [])].sort((x, y) => x - y)) {
      const s = words[wi].syms;
      let hit = false;
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) hit = true;
      if (!hit) continue;
      addPairs(wi, -1);
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] === a && s[i + 1] === b) s.splice(i, 2, merged);
      }
      addPairs(wi, 1);
    }
  }
  return { vocab, merges, specialTokens: opts.specialTokens };
}

/** Applies the merges to one byte-level piece in rank order (what the BPE model does at encode time). */
export function bpeEncodePiece(model: BpeModel, piece: string, ranks?: Map<string, number>): string[] {
  const r = ranks ?? new Map(model.merges.map(([a, b], i) => [a + "\u0000" + b, i]));
  let syms = Array.from(piece);
  for (;;) {
    let bestRank = Infinity;
    let bestAt = -1;
    for (let i = 0; i + 1 < syms.length; i++) {
      const rank = r.get(syms[i] + "\u0000" + syms[i + 1]);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        bestAt = i;
      }
    }
    if (bestAt < 0) return syms;
    const [a, b] = model.merges[bestRank];
    const next: string[] = [];
    for (let i = 0; i < syms.length; i++) {
      if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
        next.push(a + b);
        i++;
      } else next.push(syms[i]);
    }
    syms = next;
  }
}

/** The `tokenizer.json` object for a trained model. */
export function tokenizerJson(model: BpeModel): Record<string, unknown> {
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: model.specialTokens.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(model.vocab),
      merges: model.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}
