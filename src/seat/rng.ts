// The trainer's seeded PRNG. Unlike a closure-based generator its whole state is two numbers that go
// into checkpoints, so a resumed run draws exactly the numbers an uninterrupted run would have drawn
// (masks redrawn per step, data order, perturbation resampling).

/** Uniform 32-bit generator (mulberry32 core) with an exportable state. */
export class Prng {
  private a: number;
  /** Draw counter, kept only so checkpoints show how far the stream has advanced. */
  private drawn: number;

  constructor(seed: number, stream = 0) {
    // Mix the stream id in so independent uses of one seed (data order vs masks) do not correlate.
    this.a = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
    this.drawn = 0;
  }

  static fromState(s: PrngState): Prng {
    const r = new Prng(0);
    r.a = s.a >>> 0;
    r.drawn = s.drawn;
    return r;
  }

  state(): PrngState {
    return { a: this.a, drawn: this.drawn };
  }

  /** Next uniform 32-bit unsigned integer. */
  u32(): number {
    this.drawn++;
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Fisher-Yates permutation of 0..n-1. */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }

  /**
   * Exactly k distinct indices of 0..n-1 in increasing order (Knuth's selection sampling, Algorithm S):
   * O(n) time, O(k) memory, and sorted output without a sort.
   */
  sample(n: number, k: number): Int32Array {
    if (k > n || k < 0) throw new Error(`cannot sample ${k} of ${n}`);
    const out = new Int32Array(k);
    let chosen = 0;
    for (let i = 0; i < n && chosen < k; i++) {
      if ((n - i) * this.next() < k - chosen) out[chosen++] = i;
    }
    return out;
  }
}

export interface PrngState {
  a: number;
  drawn: number;
}
