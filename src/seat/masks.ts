// Which weights may change. A mask is, per eligible tensor, the sorted flat indices of its trainable
// entries; everything else is a frozen constant of the training graph and stays bit-identical.
// Types (seat-method.md): random (the paper's default, fixed for the run), random redrawn every step,
// magnitude (largest |w|) and importance (largest accumulated squared gradient, i.e. the diagonal
// empirical Fisher of a pass over the training data, as in Sung et al. 2021 "fixed sparse masks").
// Every tensor gets the same share of its entries (per-tensor budget) so that no layer is starved
// because its weights have a different scale.
import type { Prng } from "../util/rng";

export interface MaskSpec {
  type: "random" | "random-per-step" | "magnitude" | "importance";
  ratio: number;
  granularity: "element" | "row";
  modules: string[];
}

export interface MaskTensor {
  name: string;
  /** HF layout: linear weights are [out, in]; a "row" is one output unit's weights. */
  shape: readonly number[];
  /** Current values (needed by magnitude masks). */
  values?: Float32Array;
  /** Accumulated importance scores, same length as values (needed by importance masks). */
  scores?: Float32Array;
}

/** Map of tensor name -> sorted flat indices of trainable entries. */
export type Mask = Map<string, Int32Array>;

/**
 * A module pattern matches a tensor name when it equals one of the name's dot-separated segments
 * ("q_proj" matches model.layers.3.self_attn.q_proj.weight), equals the whole name, or is a glob with
 * `*` over the whole name. "*" alone matches every tensor.
 */
export function moduleMatches(name: string, pattern: string): boolean {
  if (pattern === "*" || pattern === name) return true;
  if (pattern.includes("*")) {
    const re = new RegExp(
      "^" +
        pattern
          .split("*")
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
          .join(".*") +
        "$",
    );
    return re.test(name);
  }
  return name.split(".").includes(pattern);
}

/** Tensors whose names match any pattern, in the given order; throws naming patterns that match nothing. */
export function selectTensors(names: readonly string[], patterns: readonly string[], what = "mask.modules"): string[] {
  const unused = patterns.filter((p) => !names.some((n) => moduleMatches(n, p)));
  if (unused.length) {
    throw new Error(
      `${what}: ${unused.map((p) => `'${p}'`).join(", ")} match no tensor of the model (tensors look like '${names[names.length > 1 ? 1 : 0] ?? ""}')`,
    );
  }
  return names.filter((n) => patterns.some((p) => moduleMatches(n, p)));
}

export function countOf(n: number, ratio: number): number {
  return Math.min(n, Math.max(1, Math.round(n * ratio)));
}

/**
 * Indices of the k largest scores, sorted ascending by index. Ties at the threshold are broken by
 * lower index so the result is deterministic.
 */
export function topK(scores: Float32Array | Float64Array, k: number): Int32Array {
  const n = scores.length;
  if (k >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const copy = Float64Array.from(scores);
  const thr = quickselectDesc(copy, k - 1);
  let above = 0;
  for (let i = 0; i < n; i++) if (scores[i] > thr) above++;
  let tiesLeft = k - above;
  const out = new Int32Array(k);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    if (s > thr || (s === thr && tiesLeft-- > 0)) out[j++] = i;
  }
  return out;
}

/** The value that would sit at position `kth` if `a` were sorted descending (Hoare selection, in place). */
function quickselectDesc(a: Float64Array, kth: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (kth <= j) hi = j;
    else if (kth >= i) lo = i;
    else return a[kth];
  }
  return a[kth];
}

function rowsOf(shape: readonly number[]): { rows: number; cols: number } {
  const rows = shape.length >= 2 ? shape[0] : shape.reduce((a, b) => a * b, 1);
  const n = shape.reduce((a, b) => a * b, 1);
  return { rows, cols: n / rows };
}

function expandRows(rows: Int32Array, cols: number): Int32Array {
  const out = new Int32Array(rows.length * cols);
  for (let r = 0; r < rows.length; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = rows[r] * cols + c;
  return out;
}

/** Draws the mask for every given tensor. `prng` is consumed only by random types. */
export function drawMask(
  tensors: readonly MaskTensor[],
  spec: Pick<MaskSpec, "type" | "ratio" | "granularity">,
  prng: Prng,
): Mask {
  const mask: Mask = new Map();
  for (const t of tensors) {
    const { rows, cols } = rowsOf(t.shape);
    const n = rows * cols;
    const units = spec.granularity === "row" ? rows : n;
    const k = countOf(units, spec.ratio);
    let picked: Int32Array;
    if (spec.type === "random" || spec.type === "random-per-step") {
      picked = prng.sample(units, k);
    } else {
      const src = spec.type === "magnitude" ? t.values : t.scores;
      if (!src || src.length !== n) {
        throw new Error(
          `${spec.type} mask: tensor ${t.name} needs ${spec.type === "magnitude" ? "its values" : "importance scores"} of length ${n}, got ${src ? src.length : "none"}`,
        );
      }
      const unitScore = new Float64Array(units);
      if (spec.granularity === "row") {
        for (let r = 0; r < rows; r++) {
          let s = 0;
          for (let c = 0; c < cols; c++) s += spec.type === "magnitude" ? src[r * cols + c] ** 2 : src[r * cols + c];
          unitScore[r] = s;
        }
      } else {
        for (let i = 0; i < n; i++) unitScore[i] = spec.type === "magnitude" ? Math.abs(src[i]) : src[i];
      }
      picked = topK(unitScore, k);
    }
    mask.set(t.name, spec.granularity === "row" ? expandRows(picked, cols) : picked);
  }
  return mask;
}

/** Number of trainable entries in a mask. */
export function maskSize(mask: Mask): number {
  let n = 0;
  for (const idx of mask.values()) n += idx.length;
  return n;
}
