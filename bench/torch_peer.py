"""PyTorch eager peer for `npm run bench`: the same Llama step and decoding loop our engine runs, so
the benchmark can report ours/PyTorch ratios measured in the same run on the same machine.

Reads a JSON job on stdin, prints one JSON result line on stdout. Random weights: only speed is
measured here, never quality.

job = {"kind": "train" | "generate", "config": {hidden_size, intermediate_size, num_hidden_layers,
       num_attention_heads, num_key_value_heads, vocab_size, rms_norm_eps, rope_theta,
       tie_word_embeddings}, "method": "full" | "seat", "batch": B, "seq": T, "threads": n,
       "steps": n, "warmup": n, "mask_ratio": r, "kl_lambda": l, "kl_seq": Tk, "new_tokens": n, "prompt": T0}
(kl_seq: length of the perturbed copy in a SEAT step, default T; see src/bench/train.ts for the accounting)
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F


class Llama(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        d, f, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
        h, kv = c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = d // h
        self.h, self.kv = h, kv
        self.embed = torch.nn.Embedding(v, d)
        self.layers = torch.nn.ModuleList()
        for _ in range(c["num_hidden_layers"]):
            layer = torch.nn.Module()
            layer.ln1 = torch.nn.Parameter(torch.ones(d))
            layer.ln2 = torch.nn.Parameter(torch.ones(d))
            layer.q = torch.nn.Linear(d, h * self.hd, bias=False)
            layer.k = torch.nn.Linear(d, kv * self.hd, bias=False)
            layer.v = torch.nn.Linear(d, kv * self.hd, bias=False)
            layer.o = torch.nn.Linear(h * self.hd, d, bias=False)
            layer.gate = torch.nn.Linear(d, f, bias=False)
            layer.up = torch.nn.Linear(d, f, bias=False)
            layer.down = torch.nn.Linear(f, d, bias=False)
            self.layers.append(layer)
        self.norm = torch.nn.Parameter(torch.ones(d))
        self.lm_head = None if c.get("tie_word_embeddings", True) else torch.nn.Linear(d, v, bias=False)
        inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, self.hd, 2).float() / self.hd))
        self.register_buffer("inv_freq", inv, persistent=False)

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c.get("rms_norm_eps", 1e-5)) * w

    def rope(self, x, pos):
        ang = pos[:, None].float() * self.inv_freq[None, :]
        cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
        x1, x2 = x[..., : self.hd // 2], x[..., self.hd // 2 :]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    def forward(self, ids, cache=None, start=0):
        B, T = ids.shape
        x = self.embed(ids)
        pos = torch.arange(start, start + T)
        new_cache = []
        for i, L in enumerate(self.layers):
            y = self.rms(x, L.ln1)
            q = L.q(y).view(B, T, self.h, self.hd).transpose(1, 2)
            k = L.k(y).view(B, T, self.kv, self.hd).transpose(1, 2)
            v = L.v(y).view(B, T, self.kv, self.hd).transpose(1, 2)
            q, k = self.rope(q, pos), self.rope(k, pos)
            if cache is not None:
                pk, pv = cache[i]
                k, v = torch.cat([pk, k], 2), torch.cat([pv, v], 2)
                new_cache.append((k, v))
            rep = self.h // self.kv
            kk, vv = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
            # Debian's torch 1.13 predates scaled_dot_product_attention: spell attention out.
            s = (q @ kk.transpose(-1, -2)) / math.sqrt(self.hd)
            if T > 1:
                S = kk.shape[2]
                causal = torch.ones(T, S, dtype=torch.bool).tril(S - T)
                s = s.masked_fill(~causal, float("-inf"))
            a = torch.softmax(s, -1) @ vv
            x = x + L.o(a.transpose(1, 2).reshape(B, T, -1))
            y = self.rms(x, L.ln2)
            x = x + L.down(F.silu(L.gate(y)) * L.up(y))
        x = self.rms(x, self.norm)
        logits = x @ self.embed.weight.T if self.lm_head is None else self.lm_head(x)
        return logits, new_cache


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def train(job):
    c = job["config"]
    torch.manual_seed(0)
    model = Llama(c)
    B, T = job["batch"], job["seq"]
    ids = torch.randint(0, c["vocab_size"], (B, T))
    labels = torch.randint(0, c["vocab_size"], (B, T))
    seat = job["method"] == "seat"
    if seat:
        # SEAT in plain PyTorch: a frozen copy of the base as KL teacher, a fixed random mask over the
        # linear weights applied to the gradients (AdamW weight decay off on masked entries by
        # masking the update too), CE on the batch + lambda * KL on a perturbed copy.
        import copy
        base = copy.deepcopy(model).eval()
        for p in base.parameters():
            p.requires_grad_(False)
        masks = {}
        for name, p in model.named_parameters():
            if p.dim() == 2 and "embed" not in name:
                masks[name] = (torch.rand_like(p) < job.get("mask_ratio", 0.01)).float()
            else:
                p.requires_grad_(False)
        params = [p for n, p in model.named_parameters() if n in masks]
        pert = torch.randint(0, c["vocab_size"], (B, job.get("kl_seq", T)))
    else:
        params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    times, cpu = [], []
    for step in range(job["warmup"] + job["steps"]):
        t0, c0 = time.perf_counter(), time.process_time()
        logits, _ = model(ids)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        if seat:
            with torch.no_grad():
                teacher = F.log_softmax(base(pert)[0], -1)
            student = F.log_softmax(model(pert)[0], -1)
            kl = F.kl_div(student, teacher, log_target=True, reduction="none").sum(-1).mean()
            loss = loss + job.get("kl_lambda", 1.0) * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        if seat:
            for n, p in model.named_parameters():
                if n in masks:
                    p.grad.mul_(masks[n])
        opt.step()
        if step >= job["warmup"]:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return {"stepSeconds": median(times), "stepSamples": times, "stepCpuSeconds": median(cpu), "tokensPerSec": B * T / median(times), "peakRssMb": peak_rss_mb(), "steps": len(times)}


@torch.no_grad()
def generate(job):
    c = job["config"]
    torch.manual_seed(0)
    model = Llama(c).eval()
    B, T0, n = job["batch"], job["prompt"], job["new_tokens"]
    ids = torch.randint(0, c["vocab_size"], (B, T0))
    times, cpu = [], []
    for rep in range(job["warmup"] + job["steps"]):
        cache = [(torch.zeros(B, model.kv, 0, model.hd), torch.zeros(B, model.kv, 0, model.hd)) for _ in model.layers]
        t0, c0 = time.perf_counter(), time.process_time()
        logits, cache = model(ids, cache, 0)
        nxt = logits[:, -1].argmax(-1, keepdim=True)
        for i in range(n - 1):
            logits, cache = model(nxt, cache, T0 + i)
            nxt = logits[:, -1].argmax(-1, keepdim=True)
        if rep >= job["warmup"]:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return {"seconds": median(times), "samples": times, "cpuSeconds": median(cpu), "tokensPerSec": B * n / median(times), "peakRssMb": peak_rss_mb()}


def blas_library():
    """The BLAS shared library this process actually mapped (Debian's torch uses the system libblas.so.3,
    whichever implementation the alternatives point at)."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and ".so" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted(libs)) or "none mapped"


def matmul(job):
    """The ceiling's MatMul through PyTorch's BLAS: context for the ours/PyTorch training ratios."""
    m, k, n = job["shape"]
    a, b = torch.randn(m, k), torch.randn(k, n)
    for _ in range(2):
        a @ b
    wall, cpu = [], []
    for _ in range(job.get("reps", 10)):
        t0, c0 = time.perf_counter(), time.process_time()
        a @ b
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    flop = 2 * m * k * n / 1e9
    return {"medianGflops": flop / median(wall), "bestGflops": flop / min(wall), "cpuGflops": flop / median(cpu)}


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(job.get("threads", 2))
    torch.set_num_interop_threads(1)
    out = {"train": train, "generate": generate, "matmul": matmul}[job["kind"]](job)
    out["torch"] = torch.__version__
    out["blas"] = blas_library()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
