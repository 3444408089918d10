// Llama-family decoder as an engine graph: weights (frozen constants, trainable inputs: dense, sparse,
// LoRA) and the forward pass, for training (static shapes, causal) and inference (symbolic batch/time,
// KV cache, explicit mask). References: transformers modeling_llama.py / modeling_qwen2.py; LoRA: Hu et
// al. 2021 (W + alpha/r * B A, B initialised to zero).
// Shape legend: B batch, T new tokens, P cached tokens, S = P+T keys, D model, H heads, KV kv heads,
// Dh head dim, I intermediate, V vocab, L layers.
import { basename } from "node:path";
import * as E from "../engine";
import type { Graph, HostTensor, Tensor } from "../engine";
import type { WeightSpec, WeightSpecs } from "./api";
import { ropeInvFreq, type LlamaConfig } from "./config";
import { readTensorF32 } from "./safetensors";
import { expectedTensors, type ModelWeights } from "./weights";

/** What the graph builders need from a model folder. */
export interface ModelSource {
  config: LlamaConfig;
  weights: ModelWeights;
}

export interface WeightOptions {
  /**
   * Frozen weights reference the .safetensors bytes in place as ONNX external data (default true):
   * no copy in the serialized model. Sessions then need the shard files beside the model file
   * (see sessions.ts). False embeds float32 copies in the model.
   */
  external?: boolean;
  /** Float32 values replacing stored weights by HF name (a fine-tuned model not yet exported). */
  overrides?: ReadonlyMap<string, Float32Array>;
  /**
   * Dtype the forward pass computes in (default float32). Half precision (mixed-precision training):
   * frozen weights are held in it (a file already in it is referenced as is; others get one Cast, which
   * onnxruntime folds into the initializer at load), trainable inputs stay float32 master copies cast
   * on use, so their gradients, the optimizer and checkpoints stay float32.
   */
  compute?: "float32" | "float16" | "bfloat16";
}

/** A linear layer's weights as the forward pass consumes them. */
export interface LinearWeights {
  /** [out, in] */
  w: Tensor;
  bias?: Tensor;
  /** Low-rank update: y += scale * (x A^T) B^T with A [r, in], B [out, r]. */
  lora?: { a: Tensor; b: Tensor; scale: number };
}

/** The weights of one model inside a graph, by HF tensor name. */
export interface WeightView {
  readonly config: LlamaConfig;
  /** A float32 tensor for the named weight (norms, embeddings, biases, plain linear weights). */
  get(name: string): Tensor;
  /** A projection's weight, bias and LoRA factors (name = its ".weight" tensor name). */
  linear(name: string): LinearWeights;
}

/** A trainable graph input and where it belongs in the model. */
export interface ModelParam {
  input: Tensor;
  /** The HF weight it changes. */
  weightName: string;
  role: "dense" | "sparse-values" | "lora-A" | "lora-B";
  /**
   * Initial value (dense: the stored weight, read from the file on each access; sparse: the stored
   * entries; LoRA: A random, B zeros). Its shape without reading it: `input.shape`.
   */
  readonly init: HostTensor;
  /** Excluded from weight decay (norm weights and biases, as is customary). */
  noDecay: boolean;
  /** Sparse only: flat element positions in the weight. */
  positions?: Int32Array;
  /** LoRA only: alpha / rank. */
  loraScale?: number;
}

export interface ModelGraph {
  graph: Graph;
  config: LlamaConfig;
  /** The model being tuned: frozen weights plus the trainable parts. */
  tuned: WeightView;
  /** The frozen base model, sharing the same constants (no second copy of the weights). */
  base: WeightView;
  params: ModelParam[];
  /** Initial values of every trainable input, by input name (new arrays on every call). */
  initialState(): Record<string, HostTensor>;
}

function specOf(specs: WeightSpecs | undefined, name: string): WeightSpec {
  if (!specs) return { kind: "frozen" };
  const s = specs instanceof Map ? specs.get(name) : (specs as Record<string, WeightSpec>)[name];
  return s ?? { kind: "frozen" };
}

function specNames(specs: WeightSpecs | undefined): string[] {
  if (!specs) return [];
  return specs instanceof Map ? [...specs.keys()] : Object.keys(specs);
}

/** Deterministic LoRA A init (Kaiming-uniform-like bound 1/sqrt(in)), seeded by the weight name. */
function loraInit(name: string, rank: number, inDim: number): Float32Array {
  let s = 2166136261;
  for (let i = 0; i < name.length; i++) s = Math.imul(s ^ name.charCodeAt(i), 16777619) >>> 0;
  const out = new Float32Array(rank * inDim);
  const bound = 1 / Math.sqrt(inDim);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * bound;
  }
  return out;
}

/**
 * Builds the weights of a model in `g`: every stored weight becomes a frozen constant (lazily, only when
 * used), and the tensors named in `specs` get trainable inputs. Input names: dense `<name>`, sparse
 * `<name>.values`, LoRA `<name>.lora_A` / `<name>.lora_B` (HF names, so checkpoints read naturally).
 */
export function createModelGraph(
  src: ModelSource,
  opts: WeightOptions & { graph?: Graph; name?: string; specs?: WeightSpecs } = {},
): ModelGraph {
  const g = opts.graph ?? new E.Graph(opts.name ?? "llama");
  const c = src.config;
  const known = new Set(expectedTensors(c).map((t) => t.name));
  for (const n of specNames(opts.specs)) {
    if (!known.has(n))
      throw new Error(
        `trainable spec names "${n}", which is not a weight of this ${c.architecture} (e.g. "model.layers.0.self_attn.q_proj.weight")`,
      );
  }
  const external = opts.external ?? true;
  const compute = opts.compute ?? "float32";
  const use = (t: Tensor) => E.cast(t, compute);
  const frozenCache = new Map<string, Tensor>();
  // Not cached: a graph's closures outlive building it, and float32 copies of big weights would stay alive.
  const hostF32 = (name: string): Float32Array =>
    opts.overrides?.get(name) ?? readTensorF32(src.weights.entries.get(name)!);
  const frozen = (name: string): Tensor => {
    let t = frozenCache.get(name);
    if (t) return t;
    const e = src.weights.entries.get(name);
    if (!e) throw new Error(`no weight "${name}" in ${src.weights.dir}`);
    const cname = `frozen/${name}`;
    if (opts.overrides?.has(name) || !external || e.dtype === "F64") {
      t = use(g.constant(cname, E.hostTensor("float32", e.shape, hostF32(name))));
    } else {
      const dtype = e.dtype === "F32" ? "float32" : e.dtype === "F16" ? "float16" : "bfloat16";
      const ref = { location: basename(e.file), offset: e.fileOffset, length: e.byteLength };
      t = g.constant(cname, { dtype, dims: e.shape, external: ref });
      if (dtype !== compute) t = E.cast(t, compute); // e.g. bf16 file, f32 compute (no bf16 MatMul kernel on CPU)
    }
    frozenCache.set(name, t);
    return t;
  };

  /**
   * The weight as a flat tensor [n] in the compute dtype for the tuned view of a masked tensor: Reshape of the stored
   * constant first, then Cast, so that no other node computes the same thing (onnxruntime's common
   * subexpression elimination would otherwise merge it with the base view's Cast).
   */
  const flatWidened = (name: string, n: number): Tensor => {
    const t = frozen(name);
    const stored = t.producer?.op.name === "Cast" ? t.producer.inputs[0]! : undefined;
    return stored ? E.cast(E.reshape(stored, [n]), compute) : E.reshape(t, [n]);
  };

  const params: ModelParam[] = [];
  const tunedCache = new Map<string, LinearWeights>();
  const tunedLinear = (name: string): LinearWeights => {
    let lw = tunedCache.get(name);
    if (lw) return lw;
    const spec = specOf(opts.specs, name);
    const e = src.weights.entries.get(name);
    if (!e) throw new Error(`no weight "${name}" in ${src.weights.dir}`);
    const noDecay = e.shape.length === 1;
    switch (spec.kind) {
      case "frozen":
        lw = { w: frozen(name) };
        break;
      case "dense": {
        const input = g.input(name, "float32", e.shape);
        // Read from the file when asked, never held: a full fine-tune would otherwise keep a float32 copy
        // of the whole model beside the training session's.
        const param = { input, weightName: name, role: "dense", noDecay } as Omit<ModelParam, "init">;
        Object.defineProperty(param, "init", {
          enumerable: true,
          get: () => E.hostTensor("float32", e.shape, opts.overrides?.get(name)?.slice() ?? readTensorF32(e)),
        });
        params.push(param as ModelParam);
        lw = { w: use(input) };
        break;
      }
      case "sparse": {
        const n = e.shape.reduce((a, b) => a * b, 1);
        const positions = Int32Array.from(spec.indices);
        for (const p of positions)
          if (!(p >= 0 && p < n)) throw new Error(`sparse spec for "${name}": index ${p} outside 0..${n - 1}`);
        const all = hostF32(name);
        const init = new Float32Array(positions.length);
        positions.forEach((p, i) => {
          init[i] = all[p]!;
        });
        const values = g.input(`${name}.values`, "float32", [positions.length]);
        const idx = g.constant(
          `${name}.indices`,
          E.hostTensor(
            "int64",
            [positions.length, 1],
            BigInt64Array.from(positions, (p) => BigInt(p)),
          ),
        );
        // Only the k values are trainable. The dense tensor is widened by a Cast of its own, read by the
        // ScatterND alone (which then writes in place): a Cast shared with the base view would live until
        // the base pass reads it, a second fp32 copy of every masked tensor through the step.
        const w = E.reshape(E.scatterND(flatWidened(name, n), idx, use(values)), e.shape);
        params.push({
          input: values,
          weightName: name,
          role: "sparse-values",
          init: E.hostTensor("float32", [positions.length], init),
          noDecay,
          positions,
        });
        lw = { w };
        break;
      }
      case "lora": {
        if (e.shape.length !== 2) throw new Error(`LoRA needs a matrix; "${name}" has shape [${e.shape.join(", ")}]`);
        if (!(Number.isInteger(spec.rank) && spec.rank > 0))
          throw new Error(`LoRA rank for "${name}" must be a positive integer, got ${spec.rank}`);
        const [out, inp] = e.shape as [number, number];
        const a = g.input(`${name}.lora_A`, "float32", [spec.rank, inp]);
        const b = g.input(`${name}.lora_B`, "float32", [out, spec.rank]);
        const scale = spec.alpha / spec.rank;
        params.push({
          input: a,
          weightName: name,
          role: "lora-A",
          init: E.hostTensor("float32", [spec.rank, inp], loraInit(name, spec.rank, inp)),
          noDecay: false,
          loraScale: scale,
        });
        params.push({
          input: b,
          weightName: name,
          role: "lora-B",
          init: E.hostTensor("float32", [out, spec.rank]),
          noDecay: false,
          loraScale: scale,
        });
        lw = { w: frozen(name), lora: { a: use(a), b: use(b), scale } };
        break;
      }
    }
    tunedCache.set(name, lw);
    return lw;
  };
  const biasName = (w: string) => w.replace(/\.weight$/, ".bias");
  const hasBias = (w: string) => src.weights.entries.has(biasName(w));

  const tuned: WeightView = {
    config: c,
    get: (name) => {
      const lw = tunedLinear(name);
      if (lw.lora) throw new Error(`"${name}" has a LoRA adapter: use linear()`);
      return lw.w;
    },
    linear: (name) => ({ ...tunedLinear(name), ...(hasBias(name) ? { bias: tuned.get(biasName(name)) } : {}) }),
  };
  const base: WeightView = {
    config: c,
    get: frozen,
    linear: (name) => ({ w: frozen(name), ...(hasBias(name) ? { bias: frozen(biasName(name)) } : {}) }),
  };
  // Create trainable inputs up front so their order and existence do not depend on what a graph uses.
  for (const n of specNames(opts.specs)) if (specOf(opts.specs, n).kind !== "frozen") tunedLinear(n);
  return {
    graph: g,
    config: c,
    tuned,
    base,
    params,
    // new arrays on every call: a training session takes them over (seat/stepper.ts)
    initialState: () =>
      Object.fromEntries(
        params.map((p) => [p.input.name!, p.role === "dense" ? p.init : { ...p.init, data: p.init.data.slice() }]),
      ),
  };
}

/** y = x W^T + b (+ LoRA). */
export function applyLinear(x: Tensor, lw: LinearWeights): Tensor {
  let y = E.linear(x, lw.w, lw.bias);
  if (lw.lora) y = E.add(y, E.mul(E.linear(E.linear(x, lw.lora.a), lw.lora.b), lw.lora.scale));
  return y;
}

export interface ForwardOptions {
  /**
   * RoPE tables, broadcastable to (B, 1, T, Dh/2). Default: constants for positions 0..T-1 (static T).
   */
  rope?: { cos: Tensor; sin: Tensor };
  /**
   * Bool (B, 1, T, S), true = may attend. Default: causal over static T (plus Mistral's sliding window).
   * Required with a KV cache.
   */
  mask?: Tensor;
  /** Cached keys/values per layer, each (B, KV, P, Dh) (after RoPE). */
  past?: { k: Tensor; v: Tensor }[];
  /** Compute logits for the last position only (generation). */
  lastOnly?: boolean;
  /**
   * Flat positions b * T + t (int32 or int64, any shape S) whose logits are computed: logits (S..., V). The vocab
   * projection is the largest activation of a real model ([B, T, V] fp32 = 622 MB at 4 x 256 x 151,936),
   * and training and scoring read only a few positions per row (answer tokens, base-response tokens).
   */
  select?: Tensor;
}

export interface ForwardOutput {
  /** (B, T, V), or (B, 1, V) with lastOnly. */
  logits: Tensor;
  /** L+1 tensors (B, T, D), HF output_hidden_states convention (last one after the final norm). */
  hidden: Tensor[];
  /** Keys/values for the cache, each (B, KV, S, Dh). */
  present: { k: Tensor; v: Tensor }[];
}

/** Attention with an explicit mask and K/V repeated across the query heads of a group (symbolic shapes). */
function maskedAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor, c: LlamaConfig): Tensor {
  const B = q.shape[0]!; // q (B, H, T, Dh)
  const S = k.shape[2]!; // k, v (B, KV, S, Dh)
  const rep = c.numHeads / c.numKvHeads;
  const repeat = (x: Tensor) =>
    rep === 1
      ? x
      : E.reshape(E.expand(E.unsqueeze(x, [2]), [B, c.numKvHeads, rep, S, c.headDim]), [B, c.numHeads, S, c.headDim]); // (B, H, S, Dh)
  const s = E.matMul(E.mul(q, 1 / Math.sqrt(c.headDim)), E.swapLast(repeat(k))); // (B, H, T, S)
  const s32 = E.cast(s, "float32"); // half-precision scores are masked and normalized in float32
  const p = E.cast(E.softmax(E.where(mask, s32, E.lift(s32, -1e30)), -1), s.dtype);
  return E.matMul(p, repeat(v)); // (B, H, T, Dh)
}

function slidingMask(T: number, window: number): HostTensor {
  const m = new Uint8Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) m[i * T + j] = j <= i && i - j < window ? 1 : 0;
  return { dtype: "bool", dims: [T, T], data: m };
}

const perGraph = new WeakMap<Graph, Map<string, unknown>>();
/** One constant per graph and key, shared by every forward pass that needs it (RoPE tables, masks). */
function graphConstant<T>(g: Graph, key: string, make: () => T): T {
  let m = perGraph.get(g);
  if (!m) perGraph.set(g, (m = new Map()));
  if (!m.has(key)) m.set(key, make());
  return m.get(key) as T;
}

/** The decoder forward pass over token ids (B, T), int64 or int32. */
export function llamaForward(view: WeightView, ids: Tensor, opts: ForwardOptions = {}): ForwardOutput {
  const c = view.config;
  const g = ids.graph;
  const [B, T] = ids.shape as [E.Dim, E.Dim];
  const H = c.numHeads,
    KV = c.numKvHeads,
    Dh = c.headDim;
  let rope = opts.rope;
  if (!rope) {
    if (typeof T !== "number") throw new Error("llamaForward: symbolic T needs explicit rope tables");
    rope = graphConstant(g, `rope_${T}`, () => {
      const tabs = E.ropeTables(T, Dh, c.ropeTheta, 0, ropeInvFreq(c, T));
      return { cos: g.constant(`rope_cos_${T}`, tabs.cos), sin: g.constant(`rope_sin_${T}`, tabs.sin) };
    });
  }
  let mask = opts.mask;
  if (!mask && (opts.past || typeof T !== "number"))
    throw new Error("llamaForward: a KV cache or symbolic T needs an explicit mask");
  if (!mask && c.slidingWindow !== null && typeof T === "number" && T > c.slidingWindow) {
    mask = graphConstant(g, `sliding_${T}`, () => g.constant(`sliding_mask_${T}`, slidingMask(T, c.slidingWindow!)));
  }

  let x = E.embedding(view.get("model.embed_tokens.weight"), ids); // (B, T, D)
  if (rope.cos.dtype !== x.dtype) rope = { cos: E.cast(rope.cos, x.dtype), sin: E.cast(rope.sin, x.dtype) };
  const hidden: Tensor[] = [x];
  const present: { k: Tensor; v: Tensor }[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const segment = g.segment(`layer ${l}`, x); // what activation recompute reruns from x (engine/autodiff.ts)
    // --- attention block ---
    const h = E.rmsNorm(x, view.get(p + "input_layernorm.weight"), c.rmsNormEps);
    const heads = (y: Tensor, n: number) => E.transpose(E.reshape(y, [B, T, n, Dh]), [0, 2, 1, 3]); // (B, n, T, Dh)
    const q = E.rope(heads(applyLinear(h, view.linear(p + "self_attn.q_proj.weight")), H), rope.cos, rope.sin);
    let k = E.rope(heads(applyLinear(h, view.linear(p + "self_attn.k_proj.weight")), KV), rope.cos, rope.sin);
    let v = heads(applyLinear(h, view.linear(p + "self_attn.v_proj.weight")), KV);
    if (opts.past) {
      k = E.concat([opts.past[l]!.k, k], 2); // (B, KV, S, Dh)
      v = E.concat([opts.past[l]!.v, v], 2);
    }
    present.push({ k, v });
    const att =
      mask && (opts.past || typeof T !== "number" || mask.rank === 4)
        ? maskedAttention(q, k, v, mask, c)
        : E.attention(q, k, v, mask ? { mask } : {}); // (B, H, T, Dh)
    const merged = E.reshape(E.transpose(att, [0, 2, 1, 3]), [B, T, H * Dh]); // (B, T, H*Dh)
    x = E.add(x, applyLinear(merged, view.linear(p + "self_attn.o_proj.weight")));
    // --- MLP block (SwiGLU) ---
    const m = E.rmsNorm(x, view.get(p + "post_attention_layernorm.weight"), c.rmsNormEps);
    const act = E.swiglu(
      applyLinear(m, view.linear(p + "mlp.gate_proj.weight")),
      applyLinear(m, view.linear(p + "mlp.up_proj.weight")),
    );
    x = E.add(x, applyLinear(act, view.linear(p + "mlp.down_proj.weight")));
    segment.end();
    hidden.push(x);
  }
  x = E.rmsNorm(x, view.get("model.norm.weight"), c.rmsNormEps);
  hidden[hidden.length - 1] = x;
  let last = opts.lastOnly ? E.slice(x, [-1], [E.SLICE_END], [1]) : x; // (B, 1 or T, D)
  if (opts.select) {
    if (typeof B !== "number" || typeof T !== "number") throw new Error("llamaForward: select needs static B and T");
    last = E.embedding(E.reshape(x, [B * T, c.hiddenSize]), opts.select); // (S..., D)
  }
  const head = c.tieWordEmbeddings ? view.linear("model.embed_tokens.weight") : view.linear("lm_head.weight");
  return { logits: applyLinear(last, head), hidden, present };
}

/**
 * The trained weights as a lazy view: get(name) merges that one tensor from the base file and the
 * trained values when called (no cache), so an export holds one merged tensor at a time.
 */
export function mergeTrainedLazy(
  src: ModelSource,
  params: readonly ModelParam[],
  values: Readonly<Record<string, HostTensor>>,
): { keys(): Iterable<string>; has(name: string): boolean; get(name: string): Float32Array | undefined } {
  const byWeight = new Map<string, ModelParam[]>();
  for (const p of params) byWeight.set(p.weightName, [...(byWeight.get(p.weightName) ?? []), p]);
  return {
    keys: () => byWeight.keys(),
    has: (name) => byWeight.has(name),
    get: (name) => {
      const ps = byWeight.get(name);
      return ps ? mergeTrained(src, ps, values).get(name) : undefined;
    },
  };
}

/** Full weights (HF name -> float32) after training: base weights with the trained inputs applied. */
export function mergeTrained(
  src: ModelSource,
  params: readonly ModelParam[],
  values: Readonly<Record<string, HostTensor>>,
  base?: ReadonlyMap<string, Float32Array>,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const get = (name: string) => {
    let w = out.get(name);
    if (!w) {
      w = (base?.get(name) ?? readTensorF32(src.weights.entries.get(name)!)).slice();
      out.set(name, w);
    }
    return w;
  };
  const valueOf = (p: ModelParam) => {
    const v = values[p.input.name!];
    if (!v) throw new Error(`mergeTrained: no value for trainable input "${p.input.name}"`);
    return v.data as Float32Array;
  };
  const loraA = new Map<string, ModelParam>();
  for (const p of params) {
    if (p.role === "dense") get(p.weightName).set(valueOf(p));
    else if (p.role === "sparse-values") {
      const w = get(p.weightName),
        v = valueOf(p);
      p.positions!.forEach((pos, i) => {
        w[pos] = v[i]!;
      });
    } else if (p.role === "lora-A") loraA.set(p.weightName, p);
  }
  for (const p of params) {
    if (p.role !== "lora-B") continue;
    const pa = loraA.get(p.weightName)!;
    const a = valueOf(pa),
      b = valueOf(p),
      w = get(p.weightName);
    const [r, inp] = pa.init.dims as [number, number];
    const out = p.init.dims[0]!;
    for (let o = 0; o < out; o++)
      for (let i = 0; i < inp; i++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += b[o * r + k]! * a[k * inp + i]!;
        w[o * inp + i]! += p.loraScale! * s;
      }
  }
  return out;
}

export type { WeightSpec };
