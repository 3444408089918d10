// Derived seeds: per-(seed, epoch) choices (which look-alike names a record gets in an epoch) are
// computed from the numbers alone, so a resumed run makes the same choices without stored RNG state.

/** A 32-bit seed mixed from the run seed and any number of integers (murmur3 finalizer per part). */
export function hashSeed(seed: number, ...parts: number[]): number {
  let h = seed >>> 0;
  for (const p of [0x5ea7, ...parts]) {
    h ^= Math.imul(p >>> 0, 0xcc9e2d51);
    h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
