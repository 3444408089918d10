"""PyTorch eager peer for `npm run bench`: the same Llama step and decoding loop our engine runs, so
the benchmark can report ours/PyTorch ratios measured in the same run on the same machine.

Reads a JSON job on stdin, prints one JSON result line on stdout. Random weights: only speed is
measured here, never quality.

job = {"kind": "train" | "generate" | "matmul", "config": {hidden_size, intermediate_size, num_hidden_layers,
       num_attention_heads, num_key_value_heads, vocab_size, rms_norm_eps, rope_theta,
       tie_word_embeddings}, "qkv_bias": bool, "model_dir": folder, "method": "full" | "seat" | "lora",
       "batch": B, "seq": T, "threads": n, "steps": n, "warmup": n, "mask_ratio": r, "kl_lambda": l,
       "kl_seq": Tk, "lora_r": r, "lora_alpha": a, "new_tokens": n, "prompt": T0, "recompute": bool}
(kl_seq: length of the perturbed copy in a SEAT step, default T; see src/bench/train.ts for the accounting.
model_dir: load the folder's safetensors weights, the same values our side runs; without it the weights
are random with the fixtures' scale, std 0.02.)

Denormals are flushed to zero (torch.set_flush_denormal): with gradients this small a SEAT step makes
millions of subnormal floats, which cost Intel cores a microcode assist each (bench/README.md).
"""
import json
import math
import os
import resource
import struct
import sys
import time

import torch
import torch.nn.functional as F
import torch.utils.checkpoint


class Llama(torch.nn.Module):
    def __init__(self, c, qkv_bias=False):
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
            layer.q = torch.nn.Linear(d, h * self.hd, bias=qkv_bias)
            layer.k = torch.nn.Linear(d, kv * self.hd, bias=qkv_bias)
            layer.v = torch.nn.Linear(d, kv * self.hd, bias=qkv_bias)
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

    def block(self, L, x, pos, past=None):
        """One decoder layer; returns its output and the layer's keys/values (after RoPE)."""
        B, T = x.shape[0], x.shape[1]
        y = self.rms(x, L.ln1)
        q = L.q(y).view(B, T, self.h, self.hd).transpose(1, 2)
        k = L.k(y).view(B, T, self.kv, self.hd).transpose(1, 2)
        v = L.v(y).view(B, T, self.kv, self.hd).transpose(1, 2)
        q, k = self.rope(q, pos), self.rope(k, pos)
        if past is not None:
            k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
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
        return x, (k, v)

    def forward(self, ids, cache=None, start=0, recompute=False):
        """recompute: activation checkpointing per layer (torch.utils.checkpoint, non-reentrant), the
        peer of our train.recompute on."""
        B, T = ids.shape
        x = self.embed(ids)
        pos = torch.arange(start, start + T)
        new_cache = []
        for i, L in enumerate(self.layers):
            if recompute and cache is None and torch.is_grad_enabled():
                x = torch.utils.checkpoint.checkpoint(
                    lambda h, L=L: self.block(L, h, pos)[0], x, use_reentrant=False
                )
                continue
            x, kv = self.block(L, x, pos, cache[i] if cache is not None else None)
            if cache is not None:
                new_cache.append(kv)
        x = self.rms(x, self.norm)
        logits = x @ self.embed.weight.T if self.lm_head is None else self.lm_head(x)
        return logits, new_cache


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# Hugging Face tensor names -> this module's parameter names.
HF_LAYER = {"input_layernorm.weight": "ln1", "post_attention_layernorm.weight": "ln2",
            "self_attn.q_proj.weight": "q.weight", "self_attn.k_proj.weight": "k.weight",
            "self_attn.v_proj.weight": "v.weight", "self_attn.o_proj.weight": "o.weight",
            "self_attn.q_proj.bias": "q.bias", "self_attn.k_proj.bias": "k.bias", "self_attn.v_proj.bias": "v.bias",
            "mlp.gate_proj.weight": "gate.weight", "mlp.up_proj.weight": "up.weight", "mlp.down_proj.weight": "down.weight"}
DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}


def peer_name(hf):
    if hf == "model.embed_tokens.weight":
        return "embed.weight"
    if hf == "model.norm.weight":
        return "norm"
    if hf == "lm_head.weight":
        return "lm_head.weight"
    parts = hf.split(".")
    if parts[:2] == ["model", "layers"]:
        rest = HF_LAYER.get(".".join(parts[3:]))
        return None if rest is None else f"layers.{parts[2]}.{rest}"
    return None


@torch.no_grad()
def load_weights(model, folder):
    """Copies the folder's safetensors weights (the values our side runs) into the fp32 model, one tensor
    at a time through a read buffer (no mmap, so the file's pages are not counted in the peer's RSS)."""
    index = os.path.join(folder, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    params = dict(model.named_parameters())
    loaded = set()
    for name in files:
        with open(os.path.join(folder, name), "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
            base = 8 + n
            for hf, t in sorted(((k, v) for k, v in header.items() if k != "__metadata__"), key=lambda kv: kv[1]["data_offsets"][0]):
                target = peer_name(hf)
                if target is None or target not in params:
                    continue
                a, b = t["data_offsets"]
                f.seek(base + a)
                buf = bytearray(f.read(b - a))
                value = torch.frombuffer(buf, dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
                params[target].copy_(value.float())
                loaded.add(target)
                del buf, value
    missing = [k for k in params if k not in loaded]
    if missing:
        raise SystemExit(f"{folder}: weights missing for {missing[:3]}")


def build_model(job):
    torch.manual_seed(0)
    model = Llama(job["config"], job.get("qkv_bias", False))
    with torch.no_grad():
        if job.get("model_dir"):
            load_weights(model, job["model_dir"])
        else:
            # the fixtures' scale (std 0.02, norms 1), not nn.Linear's defaults: the values decide how
            # many subnormal floats a step makes, so both sides should run the same kind of weights
            for name, p in model.named_parameters():
                if name.endswith("ln1") or name.endswith("ln2") or name == "norm":
                    p.fill_(1.0)
                else:
                    p.normal_(0.0, 0.02)
    return model


LINEAR = ("q", "k", "v", "o", "gate", "up", "down")


def is_linear_weight(name):
    parts = name.split(".")
    return len(parts) == 4 and parts[0] == "layers" and parts[2] in LINEAR and parts[3] == "weight"


class LoRALinear(torch.nn.Module):
    """y = W x (+ b) + (alpha / r) B A x with W frozen, A random, B zero (the usual LoRA start)."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        self.a = torch.nn.Parameter(torch.randn(r, base.in_features) / math.sqrt(base.in_features))
        self.b = torch.nn.Parameter(torch.zeros(base.out_features, r))
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.a.T @ self.b.T) * self.scale


class MaskedEntries:
    """PyTorch's fair SEAT: the dense weights stay, the trainable set is a fixed random share of the
    entries of the seven linear projections. Backward makes dense dW (as autograd must); only the masked
    entries are gathered into flat leaves, so AdamW holds moments for them alone; the base (teacher)
    forward swaps the masked entries' base values in instead of keeping a second copy of the model."""

    def __init__(self, model, ratio):
        self.items = []
        for name, p in model.named_parameters():
            if is_linear_weight(name):
                idx = (torch.rand(p.numel()) < ratio).nonzero().view(-1)
                flat = torch.nn.Parameter(p.detach().view(-1)[idx].clone())
                self.items.append((p, idx, flat, flat.detach().clone()))
            else:
                p.requires_grad_(False)
        self.params = [flat for _, _, flat, _ in self.items]

    @torch.no_grad()
    def use(self, which):
        for p, idx, flat, base in self.items:
            p.view(-1).index_copy_(0, idx, base if which == "base" else flat.detach())

    def gather_grads(self):
        for p, idx, flat, _ in self.items:
            flat.grad = p.grad.view(-1)[idx]
            p.grad = None


def train(job):
    c = job["config"]
    model = build_model(job)
    B, T = job["batch"], job["seq"]
    ids = torch.randint(0, c["vocab_size"], (B, T))
    labels = torch.randint(0, c["vocab_size"], (B, T))
    method = job["method"]
    recompute = job.get("recompute", False)
    masked = None
    if method == "seat":
        masked = MaskedEntries(model, job.get("mask_ratio", 0.05))
        params = masked.params
        pert = torch.randint(0, c["vocab_size"], (B, job.get("kl_seq", T)))
    elif method == "lora":
        for p in model.parameters():
            p.requires_grad_(False)
        for layer in model.layers:
            for n in LINEAR:
                setattr(layer, n, LoRALinear(getattr(layer, n), job.get("lora_r", 8), job.get("lora_alpha", 16)))
        params = [p for p in model.parameters() if p.requires_grad]
    else:
        params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    times, cpu = [], []
    for step in range(job["warmup"] + job["steps"]):
        t0, c0 = time.perf_counter(), time.process_time()
        if masked:
            masked.use("base")
            with torch.no_grad():
                teacher = F.log_softmax(model(pert)[0], -1)
            masked.use("tuned")
        logits, _ = model(ids, recompute=recompute)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        del logits
        if masked:
            student = F.log_softmax(model(pert, recompute=recompute)[0], -1)
            kl = F.kl_div(student, teacher, log_target=True, reduction="none").sum(-1).mean()
            loss = loss + job.get("kl_lambda", 1.0) * kl
            del student, teacher
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if masked:
            masked.gather_grads()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if masked:
            masked.use("tuned")
        if step >= job["warmup"]:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return {"stepSeconds": median(times), "stepSamples": times, "stepCpuSeconds": median(cpu), "tokensPerSec": B * T / median(times), "peakRssMb": peak_rss_mb(), "steps": len(times), "trainable": sum(p.numel() for p in params)}


@torch.no_grad()
def generate(job):
    c = job["config"]
    model = build_model(job).eval()
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


def mapped_blas():
    """The BLAS shared libraries this process mapped, after one product (Debian's torch uses the system
    libblas.so.3, whichever implementation the alternatives point at); None when /proc is unreadable."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    try:
        with open("/proc/self/maps") as f:
            return sorted({line.split()[-1] for line in f if "blas" in line.lower() and ".so" in line})
    except OSError:
        return None


def blas_library():
    libs = mapped_blas()
    return "unknown" if libs is None else ", ".join(libs) or "none mapped"


def blas_core():
    """OpenBLAS's kernel family in this process (openblas_get_corename), e.g. SkylakeX, Haswell, or
    Prescott when it did not recognise the CPU and fell back to generic SSE3 kernels."""
    import ctypes

    for lib in [l for l in mapped_blas() or [] if "libopenblas" in l]:
        try:
            fn = ctypes.CDLL(lib).openblas_get_corename
        except (OSError, AttributeError):
            continue
        fn.restype = ctypes.c_char_p
        return fn().decode()
    return "unknown"


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
    # Subnormal floats cost Intel cores ~100+ cycles each (bench/README.md); AMD Zen barely notices.
    if not job.get("keep_denormals"):
        torch.set_flush_denormal(True)
    torch.set_num_threads(job.get("threads", 2))
    torch.set_num_interop_threads(1)
    out = {"train": train, "generate": generate, "matmul": matmul}[job["kind"]](job)
    out["torch"] = torch.__version__
    out["flushDenormal"] = not job.get("keep_denormals")
    out["blas"] = blas_library()
    out["blasCore"] = blas_core()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
