// Types shared by the graph builders, generation and scoring (kept apart so consumers can import
// them without pulling in the builders).

/**
 * How one weight takes part in training. Weights not named in a spec map are frozen.
 * - frozen: a constant initializer (external data pointing into the .safetensors file when possible).
 * - dense: the whole tensor is a graph input (trainable).
 * - sparse: only the listed flat element indices are trainable; their values are a graph input of
 *   length indices.length, scattered into the frozen constant (masked-out entries stay bit-identical).
 * - lora: W + (alpha / rank) * B A with A [rank, in] and B [out, rank] as graph inputs (B starts at 0).
 */
export type WeightSpec =
  | { kind: "frozen" }
  | { kind: "dense" }
  | { kind: "sparse"; indices: Int32Array | readonly number[] }
  | { kind: "lora"; rank: number; alpha: number };

export type WeightSpecs = ReadonlyMap<string, WeightSpec> | Readonly<Record<string, WeightSpec>>;

export interface GenerateOptions {
  /** Stop after this many new tokens (default 64). */
  maxNewTokens?: number;
  /** Extra stop ids (the tokenizer's EOS / end-of-turn ids always stop). */
  stopIds?: readonly number[];
  /** Stop when the decoded continuation contains one of these; the text is cut before it. */
  stopStrings?: readonly string[];
  /** Checked between decode steps; generation stops with finish "cancelled". */
  signal?: AbortSignal;
  /** Keep going past EOS / end-of-turn ids (only `stopIds` stop): fixed-length runs for comparisons. */
  ignoreEos?: boolean;
  /** Sampling instead of greedy decoding (greedy when absent or temperature is 0). */
  sampling?: SamplingOptions;
  /** Called after each decode step with the text so far of every row that got a new token (streaming). */
  onToken?: (row: number, id: number, text: string) => void;
}

export interface SamplingOptions {
  /** Softmax temperature; 0 means greedy. */
  temperature: number;
  /** Keep the smallest set of most likely tokens whose probabilities sum to at least topP (1 = all). */
  topP?: number;
  /** Keep only the topK most likely tokens (0 = all). */
  topK?: number;
  /** Seed of the sampler's random numbers (same seed, same prompt, same model: same answer). */
  seed?: number;
}

export interface GenerateResult {
  /** New token ids (without the prompt, without the stop token). */
  ids: number[];
  /** Decoded new text (special tokens skipped, cut at a stop string). */
  text: string;
  finish: "eos" | "stop-string" | "length" | "cancelled";
}

/** A prompt and continuations to score: log p(continuation | prompt) token by token. */
export interface ScoreRequest {
  prompt: readonly number[];
  continuations: readonly (readonly number[])[];
}

export interface ScoreResult {
  /** Per continuation, the log-probability of each of its tokens. */
  tokenLogProbs: number[][];
  /** Per continuation, the sum of tokenLogProbs. */
  total: number[];
}

/** Hidden states at chosen positions and layers (HF output_hidden_states convention, see reference.ts). */
export interface HiddenRequest {
  ids: readonly number[];
  /** Token positions (negative counts from the end: -1 is the last prompt token). */
  positions: readonly number[];
  /** Entries of the L+1 hidden-state list (0 = embeddings, L = after the final norm; negative from the end). */
  layers: readonly number[];
}
