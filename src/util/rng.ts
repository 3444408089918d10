// The project's one seeded PRNG (mulberry32 core). Its whole state is two numbers, so a checkpoint can
// hold it and a resumed run draws exactly what an uninterrupted run would have drawn; the same numbers
// on every platform, so generated names, worlds and masks are reproducible and tests can pin them.

/** FNV-1a over UTF-16 code units, mixed with a numeric seed. */
export function hashString(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export interface PrngState {
  a: number;
  drawn: number;
}

export class Prng {
  private a: number;
  /** Draw counter, kept only so checkpoints show how far the stream has advanced. */
  private drawn = 0;

  /**
   * The trainer's seeding: the numeric `stream` is mixed in so independent uses of one seed (data
   * order vs masks) do not correlate.
   */
  constructor(seed: number, stream = 0) {
    this.a = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
  }

  /** A generator whose core starts at `a` as given (no seed mixing). */
  static raw(a: number): Prng {
    return Prng.fromState({ a, drawn: 0 });
  }

  /** Seeded through a string-mixing step, so that (7, "names") and (7, "facts") differ. */
  static named(seed: number, stream: string): Prng {
    return Prng.raw(hashString(stream, seed >>> 0));
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

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.int(items.length)]!;
  }

  /** A new array in random order (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** Fisher-Yates permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
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
