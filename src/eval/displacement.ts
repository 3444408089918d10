// Activation displacement (SEAT paper, section 3: fine-tuning moves the hidden state at the last prompt
// token of unknown queries into the "known" region). Vectors here are one hidden state each: the output
// of a decoder layer at the last prompt token.

export type Vec = ArrayLike<number>;

function checkSameLength(a: Vec, b: Vec, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: vector lengths differ (${a.length} vs ${b.length})`);
}

export function dot(a: Vec, b: Vec): number {
  checkSameLength(a, b, "dot");
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm(a: Vec): number {
  return Math.sqrt(dot(a, a));
}

/** ||tuned - base|| / ||base||. Zero base: 0 when tuned is also zero, else Infinity. */
export function relativeL2Shift(base: Vec, tuned: Vec): number {
  checkSameLength(base, tuned, "relativeL2Shift");
  let d = 0;
  for (let i = 0; i < base.length; i++) d += (tuned[i] - base[i]) ** 2;
  const nb = norm(base);
  if (nb === 0) return d === 0 ? 0 : Infinity;
  return Math.sqrt(d) / nb;
}

/** Cosine similarity; both zero -> 1 (identical), exactly one zero -> 0 (no shared direction). */
export function cosine(a: Vec, b: Vec): number {
  const na = norm(a);
  const nb = norm(b);
  if (na === 0 && nb === 0) return 1;
  if (na === 0 || nb === 0) return 0;
  return Math.max(-1, Math.min(1, dot(a, b) / (na * nb)));
}

export interface LayerDisplacement {
  /** 0-based decoder layer index (the last entry is the final layer). */
  layer: number;
  meanRelativeShift: number;
  meanCosine: number;
}

/**
 * Per-layer mean displacement over queries. `base[q][l]` and `tuned[q][l]` are the hidden states of
 * query q at layer l for the two models (same queries, same order).
 */
export function layerDisplacement(
  base: readonly (readonly Vec[])[],
  tuned: readonly (readonly Vec[])[],
): LayerDisplacement[] {
  if (base.length !== tuned.length)
    throw new Error(`layerDisplacement: ${base.length} base queries vs ${tuned.length} tuned`);
  if (base.length === 0) return [];
  const layers = base[0].length;
  const out: LayerDisplacement[] = [];
  for (let l = 0; l < layers; l++) {
    let shift = 0;
    let cos = 0;
    for (let q = 0; q < base.length; q++) {
      if (base[q].length !== layers || tuned[q].length !== layers) {
        throw new Error(
          `layerDisplacement: query ${q} has ${base[q].length}/${tuned[q].length} layers, expected ${layers}`,
        );
      }
      shift += relativeL2Shift(base[q][l], tuned[q][l]);
      cos += cosine(base[q][l], tuned[q][l]);
    }
    out.push({ layer: l, meanRelativeShift: shift / base.length, meanCosine: cos / base.length });
  }
  return out;
}

export interface Pca2 {
  mean: Float64Array;
  /** Unit-length principal directions, largest variance first; sign fixed so the largest-magnitude entry is positive. */
  components: [Float64Array, Float64Array];
  /** Variance (divided by n) along each component. */
  variances: [number, number];
  totalVariance: number;
  /** Each input point in component coordinates. */
  points: [number, number][];
}

export interface PcaOptions {
  maxIterations?: number;
  /** Stop when the unit direction moves by less than this (Euclidean, sign-aligned). */
  tolerance?: number;
}

/**
 * Top-2 PCA by power iteration on the (implicit) covariance: C v = X^T (X v) / n with X the centred data,
 * so a D x D matrix is never formed (D is the hidden size, thousands). The second direction is iterated
 * while being kept orthogonal to the first (deflation). The start vector is deterministic so reports are
 * reproducible.
 */
export function pca2(data: readonly Vec[], opts: PcaOptions = {}): Pca2 {
  const maxIt = opts.maxIterations ?? 1000;
  const tol = opts.tolerance ?? 1e-12;
  const n = data.length;
  if (n === 0) throw new Error("pca2: no points");
  const d = data[0].length;
  for (const [i, p] of data.entries())
    if (p.length !== d) throw new Error(`pca2: point ${i} has length ${p.length}, expected ${d}`);
  const mean = new Float64Array(d);
  for (const p of data) for (let j = 0; j < d; j++) mean[j] += p[j] / n;
  const x = data.map((p) => Float64Array.from({ length: d }, (_, j) => p[j] - mean[j]));
  let total = 0;
  for (const r of x) for (let j = 0; j < d; j++) total += (r[j] * r[j]) / n;

  const applyCov = (v: Float64Array): Float64Array => {
    const out = new Float64Array(d);
    for (const r of x) {
      const s = dot(r, v);
      if (s !== 0) for (let j = 0; j < d; j++) out[j] += (s * r[j]) / n;
    }
    return out;
  };
  const orthogonalize = (v: Float64Array, against: Float64Array[]) => {
    for (const u of against) {
      const s = dot(v, u);
      for (let j = 0; j < d; j++) v[j] -= s * u[j];
    }
  };
  const normalize = (v: Float64Array): boolean => {
    const nv = norm(v);
    if (nv < 1e-300) return false;
    for (let j = 0; j < d; j++) v[j] /= nv;
    return true;
  };

  const found: Float64Array[] = [];
  const variances: number[] = [];
  for (let k = 0; k < 2; k++) {
    // Deterministic, non-degenerate start: entries from a fixed linear congruential sequence.
    let seed = 12345 + 7919 * k;
    let v: Float64Array = Float64Array.from({ length: d }, () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648 - 0.5;
    });
    orthogonalize(v, found);
    let ok = normalize(v);
    let lambda = 0;
    for (let it = 0; ok && it < maxIt; it++) {
      const w: Float64Array = applyCov(v);
      orthogonalize(w, found);
      if (!normalize(w)) {
        ok = false;
        break;
      }
      const sgn = dot(w, v) < 0 ? -1 : 1;
      let change = 0;
      for (let j = 0; j < d; j++) change += (w[j] - sgn * v[j]) ** 2;
      v = w;
      if (Math.sqrt(change) < tol) break;
    }
    // Rayleigh quotient: error is quadratic in the direction's error, unlike |Cv|.
    if (ok) lambda = dot(v, applyCov(v));
    if (!ok) {
      // No variance left in the remaining directions (e.g. all points on a line): any orthogonal unit
      // direction is a valid component with variance 0; take the first basis vector not in the span.
      v = new Float64Array(d);
      for (let j = 0; j < d && !ok; j++) {
        v.fill(0);
        v[j] = 1;
        orthogonalize(v, found);
        ok = normalize(v);
      }
      if (!ok) v = new Float64Array(d); // d < 2: there is no second direction
      lambda = 0;
    }
    let big = 0;
    for (let j = 0; j < d; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
    if (v[big] < 0) for (let j = 0; j < d; j++) v[j] = -v[j];
    found.push(v);
    variances.push(lambda);
  }
  const points = x.map((r) => [dot(r, found[0]), dot(r, found[1])] as [number, number]);
  return {
    mean,
    components: [found[0], found[1]],
    variances: [variances[0], variances[1]],
    totalVariance: total,
    points,
  };
}

/**
 * Separation of two point clouds: distance between their centroids divided by the pooled spread
 * sqrt((s_a^2 + s_b^2) / 2), where s^2 is a cloud's mean squared distance to its own centroid. 0 = same
 * centre; larger = better separated. Both spreads zero: 0 if the centroids coincide, else Infinity.
 */
export function separationScore(a: readonly Vec[], b: readonly Vec[]): number {
  if (a.length === 0 || b.length === 0) throw new Error("separationScore: both groups need at least one point");
  const d = a[0].length;
  const centroid = (ps: readonly Vec[]) => {
    const c = new Float64Array(d);
    for (const p of ps) {
      if (p.length !== d) throw new Error(`separationScore: point of length ${p.length}, expected ${d}`);
      for (let j = 0; j < d; j++) c[j] += p[j] / ps.length;
    }
    return c;
  };
  const spread = (ps: readonly Vec[], c: Float64Array) => {
    let s = 0;
    for (const p of ps) for (let j = 0; j < d; j++) s += (p[j] - c[j]) ** 2;
    return s / ps.length;
  };
  const ca = centroid(a);
  const cb = centroid(b);
  let dist2 = 0;
  for (let j = 0; j < d; j++) dist2 += (ca[j] - cb[j]) ** 2;
  const pooled = Math.sqrt((spread(a, ca) + spread(b, cb)) / 2);
  if (pooled === 0) return dist2 === 0 ? 0 : Infinity;
  return Math.sqrt(dist2) / pooled;
}
