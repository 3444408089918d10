"""The trainer's seeded PRNG (src/seat/rng.ts) and derived seeds (src/seat/hash.ts), bit for bit.

JavaScript's Math.imul and >>> are 32-bit integer operations; here every intermediate is reduced
mod 2**32 so the streams match the TypeScript trainer's exactly (test/unit/job checks them).
"""

M32 = 0xFFFFFFFF


def imul(a, b):
    """Math.imul: the low 32 bits of the product, as an unsigned value."""
    return ((a & M32) * (b & M32)) & M32


class Prng:
    """mulberry32 core with an exportable state {a, drawn}."""

    def __init__(self, seed, stream=0):
        self.a = (imul(seed & M32, 0x9E3779B1) ^ imul(stream + 1, 0x85EBCA6B)) & M32
        self.drawn = 0

    @classmethod
    def from_state(cls, s):
        r = cls(0)
        r.a = s["a"] & M32
        r.drawn = s["drawn"]
        return r

    def state(self):
        return {"a": self.a, "drawn": self.drawn}

    def u32(self):
        self.drawn += 1
        self.a = (self.a + 0x6D2B79F5) & M32
        t = self.a
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & M32
        return (t ^ (t >> 14)) & M32

    def next(self):
        return self.u32() / 4294967296

    def int(self, n):
        return int(self.next() * n)

    def permutation(self, n):
        p = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.int(i + 1)
            p[i], p[j] = p[j], p[i]
        return p

    def sample(self, n, k):
        """k distinct indices of 0..n-1, increasing (Knuth's Algorithm S, as in rng.ts)."""
        if k > n or k < 0:
            raise ValueError(f"cannot sample {k} of {n}")
        out = []
        i = 0
        while i < n and len(out) < k:
            if (n - i) * self.next() < k - len(out):
                out.append(i)
            i += 1
        return out


def hash_seed(seed, *parts):
    """src/seat/hash.ts: murmur3-finalizer mix of a seed and integers."""
    h = seed & M32
    for p in (0x5EA7, *parts):
        h ^= imul(p & M32, 0xCC9E2D51)
        h = (imul(((h << 13) | (h >> 19)) & M32, 5) + 0xE6546B64) & M32
        h ^= h >> 16
        h = imul(h, 0x85EBCA6B)
        h ^= h >> 13
        h = imul(h, 0xC2B2AE35)
        h ^= h >> 16
    return h & M32


def lr_at(optim, step, total):
    """src/seat/schedule.ts: linear warmup, then constant, linear or cosine decay (full rate first)."""
    import math
    lr, warm, sched = optim["lr"], optim["warmupSteps"], optim["schedule"]
    if warm > 0 and step <= warm:
        return lr * step / warm
    if sched == "constant":
        return lr
    span = max(1, total - warm)
    progress = min(1.0, max(0.0, (step - warm - 1) / span))
    if sched == "linear":
        return lr * (1 - progress)
    return lr * 0.5 * (1 + math.cos(math.pi * progress))
