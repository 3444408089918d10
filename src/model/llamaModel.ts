// A loaded model ready for inference: one onnxruntime session over the inference graph (so the
// weights are in memory once), with batched greedy generation through a KV cache, continuation scoring
// and hidden-state extraction. Batches are left-padded: every row's last prompt token sits in the same
// column, so one decode step serves all rows.
import type { HostTensor } from "../engine";
import type { Provider, Session } from "../runtime";
import type { GenerateOptions, GenerateResult, HiddenRequest, SamplingOptions, ScoreRequest, ScoreResult } from "./api";
import type { LlamaConfig } from "./config";
import { loadModelFolder, type ModelFolder } from "./folder";
import { buildInferenceGraph, cacheCarry, emptyCache, inferenceFeeds, pastName, type StepRows } from "./inference";
import { openModelSession } from "./sessions";
import { packPrefix, packedVisible } from "./prefixPack";
import type { ChatMessage, ModelTokenizer } from "./tokenizer";
import * as E from "../engine";

export interface LoadOptions {
  /** Execution provider (default "auto": GPU when one works, else CPU with the reason logged). */
  provider?: Provider;
  intraOpThreads?: number;
  /** Fine-tuned float32 weights replacing stored ones (by HF name), e.g. from a run not yet exported. */
  overrides?: ReadonlyMap<string, Float32Array>;
  /** Run the session on a worker thread (the VS Code extension host must; CLI and trainer need not). */
  worker?: boolean;
  /** See ModelSessionOptions.foldWeights (a private fp32 copy of bf16/fp16 weights: faster decoding). */
  foldWeights?: boolean;
  /** Rows per run for score/hidden/generate (default 8): bounds activation memory. */
  batchSize?: number;
  log?: (message: string) => void;
}

const DEFAULT_MAX_NEW_TOKENS = 64;

export class LlamaModel {
  private constructor(
    readonly folder: ModelFolder,
    private readonly session: Session,
    private readonly batchSize: number,
  ) {}

  static async load(dirOrFolder: string | ModelFolder, opts: LoadOptions = {}): Promise<LlamaModel> {
    const folder = typeof dirOrFolder === "string" ? loadModelFolder(dirOrFolder) : dirOrFolder;
    const graph = buildInferenceGraph(folder, { overrides: opts.overrides });
    // Overridden (fine-tuned) weights are host constants: keep them out of the protobuf (2 GB limit).
    const serialized = E.toOnnx(graph, { externalThreshold: 1 << 16, externalFile: "overrides.data" });
    const session = await openModelSession(serialized, folder.weights, {
      provider: opts.provider ?? "auto",
      intraOpThreads: opts.intraOpThreads,
      log: opts.log,
      label: `${folder.dir} (inference)`,
      worker: opts.worker,
      // Folded by default: an inference session decodes ~2.8x faster with its own fp32 copy of bf16
      // weights (measured on the 135M shape); training sessions share the file's pages instead.
      foldWeights: opts.foldWeights ?? true,
      // WebGPU: the KV cache stays on the device between decode steps (only logits come back)
      keepOnDevice: Object.keys(cacheCarry(folder.config)),
    });
    return new LlamaModel(folder, session, Math.max(1, opts.batchSize ?? 8));
  }

  get config(): LlamaConfig {
    return this.folder.config;
  }
  get tokenizer(): ModelTokenizer {
    return this.folder.tokenizer;
  }
  /** The execution provider in use and why a preferred one was not (undefined when it was). */
  get provider(): string {
    return this.session.provider;
  }
  get fallbackReason(): string | undefined {
    return this.session.fallbackReason;
  }
  /** Where the last generation's KV cache lived ("gpu-buffer" on WebGPU, else "cpu"). */
  get kvCacheLocation(): string | undefined {
    return this.cacheAt;
  }
  private cacheAt: string | undefined;
  /** Which nodes of the inference graph ran on the CPU on a GPU provider (after the first run). */
  placement() {
    return this.session.placement();
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }

  private padId(): number {
    return this.tokenizer.padId ?? this.tokenizer.eosId ?? 0;
  }

  /** Runs the graph on left-padded sequences (no cache); returns logits/hidden at `select` columns. */
  private async runFull(
    seqs: readonly (readonly number[])[],
    select: (n: number, pad: number) => number[],
  ): Promise<{ logits: HostTensor; hidden: HostTensor; pads: number[] }> {
    const N = Math.max(...seqs.map((s) => s.length));
    if (N === 0) throw new Error("cannot run an empty sequence");
    this.checkIds(seqs);
    const pads = seqs.map((s) => N - s.length);
    const rows: StepRows = {
      ids: seqs.map((s, b) => [...new Array<number>(pads[b]!).fill(this.padId()), ...s]),
      positions: seqs.map((_, b) => Array.from({ length: N }, (_, j) => Math.max(0, j - pads[b]!))),
      keyValid: seqs.map((_, b) => Array.from({ length: N }, (_, j) => j >= pads[b]!)),
      select: seqs.map((s, b) => select(s.length, pads[b]!)),
    };
    const K = Math.max(...rows.select.map((r) => r.length));
    rows.select = rows.select.map((r) => [...r, ...new Array<number>(K - r.length).fill(N - 1)]);
    const out = await this.session.run(inferenceFeeds(this.config, rows, null), ["logits", "hidden"]);
    return { logits: out.logits!, hidden: out.hidden!, pads };
  }

  private checkIds(seqs: readonly (readonly number[])[]): void {
    const V = this.config.vocabSize;
    for (const s of seqs)
      for (const id of s)
        if (!(Number.isInteger(id) && id >= 0 && id < V))
          throw new Error(`token id ${id} is outside the vocabulary (0..${V - 1})`);
  }

  /** Logits (T, V) for every position of each sequence (tests, debugging; memory grows with T*V). */
  async logits(seqs: readonly (readonly number[])[]): Promise<Float32Array[]> {
    const res: Float32Array[] = [];
    const V = this.config.vocabSize;
    for (let i = 0; i < seqs.length; i += this.batchSize) {
      const chunk = seqs.slice(i, i + this.batchSize);
      const { logits } = await this.runFull(chunk, (n, pad) => Array.from({ length: n }, (_, j) => pad + j));
      const K = logits.dims[1]!;
      chunk.forEach((s, b) => res.push((logits.data as Float32Array).slice(b * K * V, (b * K + s.length) * V)));
    }
    return res;
  }

  /** log p(next token) after each prompt: (V) per prompt. */
  async nextTokenLogProbs(prompts: readonly (readonly number[])[]): Promise<Float32Array[]> {
    const res: Float32Array[] = [];
    const V = this.config.vocabSize;
    for (let i = 0; i < prompts.length; i += this.batchSize) {
      const chunk = prompts.slice(i, i + this.batchSize);
      const { logits } = await this.runFull(chunk, (n, pad) => [pad + n - 1]);
      chunk.forEach((_, b) => res.push(logSoftmax((logits.data as Float32Array).subarray(b * V, (b + 1) * V))));
    }
    return res;
  }

  /**
   * log p(continuation | prompt), token by token, for each continuation of each request. Each request
   * is one prefix-packed row (prefixPack.ts): the prompt runs once for all of its continuations.
   */
  async score(reqs: readonly ScoreRequest[]): Promise<ScoreResult[]> {
    const results: ScoreResult[] = reqs.map((req) => ({
      tokenLogProbs: req.continuations.map(() => []),
      total: req.continuations.map(() => 0),
    }));
    const V = this.config.vocabSize;
    const work = reqs.map((req, r) => ({ r, req })).filter((w) => w.req.continuations.some((c) => c.length > 0));
    for (let i = 0; i < work.length; i += this.batchSize) {
      const chunk = work.slice(i, i + this.batchSize);
      const packed = chunk.map((w) => packPrefix(w.req.prompt, w.req.continuations));
      this.checkIds(chunk.map((w) => [...w.req.prompt, ...w.req.continuations.flat()]));
      const T = Math.max(...packed.map((p) => p.ids.length));
      const K = Math.max(1, ...packed.map((p) => p.reads.flat().length));
      const pad = this.padId();
      const rows: StepRows = {
        ids: packed.map((p) => [...p.ids, ...new Array<number>(T - p.ids.length).fill(pad)]),
        positions: packed.map((p) => [...p.positions, ...new Array<number>(T - p.ids.length).fill(0)]),
        keyValid: packed.map((p) => Array.from({ length: T }, (_, j) => j < p.ids.length)),
        select: packed.map((p) => {
          const f = p.reads.flat();
          return [...f, ...new Array<number>(K - f.length).fill(0)];
        }),
        visible: (b, t, j) => packedVisible(packed[b]!, t, j, this.config.slidingWindow),
      };
      const out = await this.session.run(inferenceFeeds(this.config, rows, null), ["logits"]);
      const data = out.logits!.data as Float32Array;
      chunk.forEach((w, b) => {
        let slot = 0;
        w.req.continuations.forEach((cont, k) => {
          const lps = cont.map((tok) => {
            const at = (b * K + slot++) * V;
            return logSoftmaxAt(data, at, V, tok);
          });
          results[w.r]!.tokenLogProbs[k] = lps;
          results[w.r]!.total[k] = lps.reduce((a, x) => a + x, 0);
        });
      });
    }
    return results;
  }

  /** Hidden states (D) for each request's layers x positions: result[req][layerIdx][positionIdx]. */
  async hiddenStates(reqs: readonly HiddenRequest[]): Promise<Float32Array[][][]> {
    const res: Float32Array[][][] = [];
    const D = this.config.hiddenSize,
      L1 = this.config.numLayers + 1;
    for (let i = 0; i < reqs.length; i += this.batchSize) {
      const chunk = reqs.slice(i, i + this.batchSize);
      const wanted = chunk.map((q) =>
        q.positions.map((p) => {
          const abs = p < 0 ? q.ids.length + p : p;
          if (!(abs >= 0 && abs < q.ids.length))
            throw new Error(`hiddenStates: position ${p} outside a sequence of ${q.ids.length} tokens`);
          return abs;
        }),
      );
      let k = 0;
      const { hidden } = await this.runFull(
        chunk.map((q) => q.ids),
        (_n, pad) => wanted[k++]!.map((p) => pad + p),
      );
      const K = hidden.dims[1]!;
      const h = hidden.data as Float32Array;
      chunk.forEach((q, b) => {
        res.push(
          q.layers.map((layer) => {
            const li = layer < 0 ? L1 + layer : layer;
            if (!(li >= 0 && li < L1)) throw new Error(`hiddenStates: layer ${layer} outside 0..${L1 - 1}`);
            return wanted[b]!.map((_, j) => h.slice(((b * K + j) * L1 + li) * D, ((b * K + j) * L1 + li + 1) * D));
          }),
        );
      });
    }
    return res;
  }

  /**
   * Batched greedy decoding with a KV cache. Each result stops at an EOS/end-of-turn id (not included),
   * a stop string (text cut before it), maxNewTokens, or cancellation.
   */
  async generate(
    prompts: readonly (readonly number[])[],
    opts: GenerateOptions & { useCache?: boolean } = {},
  ): Promise<GenerateResult[]> {
    const res: GenerateResult[] = [];
    for (let i = 0; i < prompts.length; i += this.batchSize)
      res.push(...(await this.generateBatch(prompts.slice(i, i + this.batchSize), opts)));
    return res;
  }

  /** Chat-formatted generation: each prompt is a question or a conversation; the chat template is applied. */
  async generateText(
    prompts: readonly (string | readonly ChatMessage[])[],
    opts: GenerateOptions & { system?: string } = {},
  ): Promise<GenerateResult[]> {
    return this.generate(
      prompts.map((p) => this.tokenizer.encodePrompt(p, opts.system)),
      opts,
    );
  }

  /** Generation keeps its KV cache inside the session, so batches run one at a time. */
  private cacheLock: Promise<unknown> = Promise.resolve();

  private generateBatch(
    prompts: readonly (readonly number[])[],
    opts: GenerateOptions & { useCache?: boolean },
  ): Promise<GenerateResult[]> {
    const run = this.cacheLock.then(() => this.generateLocked(prompts, opts));
    this.cacheLock = run.catch(() => undefined);
    return run;
  }

  private async releaseCache(): Promise<void> {
    const empty: Record<string, HostTensor> = {};
    for (let l = 0; l < this.config.numLayers; l++)
      for (const kind of ["key", "value"] as const) empty[pastName(kind, l)] = emptyCache(this.config, 1);
    await this.session.setState(empty);
  }

  private async generateLocked(
    prompts: readonly (readonly number[])[],
    opts: GenerateOptions & { useCache?: boolean },
  ): Promise<GenerateResult[]> {
    const maxNew = opts.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
    const stopIds = new Set([...(opts.ignoreEos ? [] : this.tokenizer.stopIds), ...(opts.stopIds ?? [])]);
    const stopStrings = (opts.stopStrings ?? []).filter((s) => s.length > 0);
    const B = prompts.length,
      V = this.config.vocabSize;
    const out = prompts.map(() => ({ ids: [] as number[], text: "", finish: null as GenerateResult["finish"] | null }));
    const seqs = prompts.map((p) => [...p]);
    if (seqs.some((s) => s.length === 0)) throw new Error("generate: every prompt needs at least one token");
    this.checkIds(seqs);
    let logits: Float32Array;
    const carry = cacheCarry(this.config);
    const N = Math.max(...seqs.map((s) => s.length));
    const pads = seqs.map((s) => N - s.length);
    const keyValid = seqs.map((_, b) => Array.from({ length: N }, (_, j) => j >= pads[b]!));
    if (opts.useCache === false) {
      logits = (await this.runFull(seqs, (n, pad) => [pad + n - 1])).logits.data as Float32Array;
    } else {
      const rows: StepRows = {
        ids: seqs.map((s, b) => [...new Array<number>(pads[b]!).fill(this.padId()), ...s]),
        positions: seqs.map((_, b) => Array.from({ length: N }, (_, j) => Math.max(0, j - pads[b]!))),
        keyValid,
        select: seqs.map(() => [N - 1]),
      };
      const r = await this.session.step(inferenceFeeds(this.config, rows, null), { carry, fetch: ["logits"] });
      logits = r.logits!.data as Float32Array;
      this.cacheAt = (await this.session.stateLocations())[pastName("key", 0)];
    }
    try {
      return await this.decodeLoop({ B, V, maxNew, stopIds, stopStrings, out, seqs, keyValid, carry, opts }, logits);
    } finally {
      if (opts.useCache !== false) await this.releaseCache();
    }
  }

  private async decodeLoop(
    st: {
      B: number;
      V: number;
      maxNew: number;
      stopIds: Set<number>;
      stopStrings: string[];
      out: { ids: number[]; text: string; finish: GenerateResult["finish"] | null }[];
      seqs: number[][];
      keyValid: boolean[][];
      carry: Record<string, string>;
      opts: GenerateOptions & { useCache?: boolean };
    },
    firstLogits: Float32Array,
  ): Promise<GenerateResult[]> {
    const { B, V, maxNew, stopIds, stopStrings, out, seqs, keyValid, carry, opts } = st;
    let logits = firstLogits;
    const pick = opts.sampling && opts.sampling.temperature > 0 ? sampler(opts.sampling) : argmax;
    for (let step = 0; step < maxNew; step++) {
      const next: number[] = [];
      for (let b = 0; b < B; b++) {
        const o = out[b]!;
        const tok = pick(logits.subarray(b * V, (b + 1) * V));
        next.push(o.finish ? this.padId() : tok);
        if (o.finish) continue;
        if (stopIds.has(tok)) {
          o.finish = "eos";
          continue;
        }
        o.ids.push(tok);
        seqs[b]!.push(tok);
        o.text = this.tokenizer.decode(o.ids);
        const hit = stopStrings.map((s) => o.text.indexOf(s)).filter((x) => x >= 0);
        if (hit.length) {
          o.text = o.text.slice(0, Math.min(...hit));
          o.finish = "stop-string";
        } else if (o.ids.length >= maxNew) o.finish = "length";
        opts.onToken?.(b, tok, o.text);
      }
      if (out.every((o) => o.finish)) break;
      if (opts.signal?.aborted) {
        for (const o of out) if (!o.finish) o.finish = "cancelled";
        break;
      }
      if (opts.useCache === false) {
        logits = (await this.runFull(seqs, (n, pad) => [pad + n - 1])).logits.data as Float32Array;
        continue;
      }
      // One new column for every row; finished rows get a pad token that later steps never look at
      // (their outputs are ignored), so all rows keep the same cache length.
      keyValid.forEach((kv, b) => kv.push(!out[b]!.finish));
      const rows: StepRows = {
        ids: next.map((t) => [t]),
        positions: seqs.map((s) => [s.length - 1]),
        keyValid,
        select: next.map(() => [0]),
      };
      const r = await this.session.step(inferenceFeeds(this.config, rows, "held"), { carry, fetch: ["logits"] });
      logits = r.logits!.data as Float32Array;
    }
    for (const o of out) if (!o.finish) o.finish = "length";
    return out.map((o) => ({ ids: o.ids, text: o.text, finish: o.finish! }));
  }
}

/**
 * Temperature / top-k / top-p sampling (the order transformers applies them: temperature, then top-k,
 * then top-p on what is left), with a seeded generator so a seed reproduces an answer.
 */
export function sampler(o: SamplingOptions): (logits: Float32Array) => number {
  let s = (o.seed ?? Date.now()) >>> 0;
  const random = () => {
    // mulberry32: small, fast, good enough to pick tokens.
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (logits) => {
    const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]!);
    const k = o.topK && o.topK > 0 ? Math.min(o.topK, order.length) : order.length;
    const max = logits[order[0]!]!;
    const p = order.slice(0, k).map((i) => Math.exp((logits[i]! - max) / o.temperature));
    const z = p.reduce((a, x) => a + x, 0);
    let keep = p.length,
      acc = 0;
    const topP = o.topP ?? 1;
    if (topP < 1)
      for (let i = 0; i < p.length; i++) {
        acc += p[i]! / z;
        if (acc >= topP) {
          keep = i + 1;
          break;
        }
      }
    const zz = p.slice(0, keep).reduce((a, x) => a + x, 0);
    let r = random() * zz;
    for (let i = 0; i < keep; i++) {
      r -= p[i]!;
      if (r <= 0) return order[i]!;
    }
    return order[keep - 1]!;
  };
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/**
 * logSoftmax(data.subarray(at, at + V))[i] without building the row: the same float32 value to the
 * bit (the same maximum, the same sum in the same order, the same rounding), at a fraction of the cost
 * where one entry of a row is wanted (scoring continuations: measured on the demo's probes, the copies
 * of the vocabulary-sized rows were 40% of the probe time).
 */
export function logSoftmaxAt(data: Float32Array, at: number, V: number, i: number): number {
  const end = at + V;
  let max = -Infinity;
  for (let j = at; j < end; j++) if (data[j]! > max) max = data[j]!;
  let z = 0;
  for (let j = at; j < end; j++) z += Math.exp(data[j]! - max);
  return Math.fround(data[at + i]! - (max + Math.log(z)));
}

export function logSoftmax(x: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of x) if (v > max) max = v;
  let z = 0;
  for (const v of x) z += Math.exp(v - max);
  const lz = max + Math.log(z);
  return Float32Array.from(x, (v) => v - lz);
}
