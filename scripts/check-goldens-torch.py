#!/usr/bin/env python3
"""Cross-checks the committed golden logits (test/fixtures/models/*/golden.json, written by the
float64 plain-loop reference in src/model/reference.ts) against an independent PyTorch implementation
written in the transformers style (rotate_half RoPE, repeat_kv GQA, RMSNorm, SwiGLU).

Run with Debian's python3-torch:  /usr/bin/python3 scripts/check-goldens-torch.py
Exits 1 when any fixture differs by more than 1e-9 (both sides compute in float64).
"""
import json, math, struct, sys
from pathlib import Path
import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "models"

def load_safetensors(path):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        buf = data[b:end]
        if e["dtype"] == "F32":
            a = np.frombuffer(buf, dtype="<f4").astype(np.float64)
        elif e["dtype"] == "BF16":
            a = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        elif e["dtype"] == "F16":
            a = np.frombuffer(buf, dtype="<f2").astype(np.float64)
        else:
            raise SystemExit(f"{path}: {name}: dtype {e['dtype']} not handled here")
        out[name] = torch.from_numpy(a.reshape(e["shape"]).copy())
    return out

def inv_freq(cfg, head_dim):
    theta = cfg.get("rope_theta", 10000.0)
    f = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    rs = cfg.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type"))
    if kind == "linear":
        f = f / rs["factor"]
    elif kind == "llama3":
        factor, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        wl = 2 * math.pi / f
        scaled = torch.where(wl > old / lo, f / factor, f)
        smooth = (old / wl - lo) / (hi - lo)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wl < old / hi) & ~(wl > old / lo)
        f = torch.where(medium, smoothed, scaled)
    elif kind not in (None, "default"):
        raise SystemExit(f"rope scaling {kind} not handled here")
    return f

def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w

def forward(cfg, W, ids):
    D, H = cfg["hidden_size"], cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads", H)
    Dh = cfg.get("head_dim", D // H)
    eps = cfg.get("rms_norm_eps", 1e-6)
    qwen = cfg["architectures"][0] == "Qwen2ForCausalLM"
    bias = qwen or cfg.get("attention_bias", False)
    T = len(ids)
    x = W["model.embed_tokens.weight"][torch.tensor(ids)]
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq(cfg, Dh)[None, :]
    emb = torch.cat((ang, ang), dim=-1)
    cos, sin = emb.cos()[None], emb.sin()[None]
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms(x, W[p + "input_layernorm.weight"], eps)
        def proj(n):
            y = h @ W[p + f"self_attn.{n}.weight"].T
            return y + W[p + f"self_attn.{n}.bias"] if bias else y
        q = proj("q_proj").view(T, H, Dh).transpose(0, 1)
        k = proj("k_proj").view(T, KV, Dh).transpose(0, 1)
        v = proj("v_proj").view(T, KV, Dh).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=0)
        v = v.repeat_interleave(H // KV, dim=0)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(Dh)
        s = s.masked_fill(~causal, float("-inf")).softmax(-1)
        a = (s @ v).transpose(0, 1).reshape(T, H * Dh)
        o = a @ W[p + "self_attn.o_proj.weight"].T
        if bias and not qwen:
            o = o + W[p + "self_attn.o_proj.bias"]
        x = x + o
        m = rms(x, W[p + "post_attention_layernorm.weight"], eps)
        g = m @ W[p + "mlp.gate_proj.weight"].T
        u = m @ W[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * u) @ W[p + "mlp.down_proj.weight"].T
    x = rms(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    return x @ head.T

def main():
    worst = 0.0
    for d in sorted(p for p in ROOT.iterdir() if (p / "golden.json").exists()):
        cfg = json.loads((d / "config.json").read_text())
        W = {}
        for f in sorted(d.glob("*.safetensors")):
            W.update(load_safetensors(f))
        golden = json.loads((d / "golden.json").read_text())
        logits = forward(cfg, W, golden["ids"]).flatten()
        diff = (logits - torch.tensor(golden["logits"], dtype=torch.float64)).abs().max().item()
        print(f"{d.name}: max |torch - golden| = {diff:.3e}")
        worst = max(worst, diff)
    sys.exit(0 if worst < 1e-9 else 1)

if __name__ == "__main__":
    main()
