"""Llama-family decoder (Llama, Qwen2, Mistral) in plain PyTorch, reading the Hugging Face
safetensors of the model folder; used when transformers is not importable. Parameter names are the
HF tensor names, so masks, checkpoints and exports address tensors the same way on both paths.
Reference: transformers modeling_llama.py / modeling_qwen2.py; RoPE scaling formulas from
transformers modeling_rope_utils (as ropeInvFreq in src/model/config.ts).
Shape legend: B batch, T time, S keys, H heads, KV key/value heads, Dh head dim, D model, V vocab.
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from .st_io import read_header, read_tensors


def arch_of(cfg):
    a = (cfg.get("architectures") or ["LlamaForCausalLM"])[0]
    if a not in ("LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM"):
        raise ValueError(f"config.json: architecture {a} is not supported (Llama, Qwen2, Mistral)")
    return a


def rope_inv_freq(cfg, seq_len=0):
    """Inverse rotary frequencies (Dh/2) after rope_scaling, float64 as in the TypeScript trainer."""
    dh = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    theta = float(cfg.get("rope_theta", 10000.0))
    rs = cfg.get("rope_scaling") or {}
    kind = rs.get("rope_type", rs.get("type"))
    maxpos = cfg.get("max_position_embeddings", 2048)
    if kind == "dynamic" and seq_len > maxpos:
        theta = theta * ((rs["factor"] * seq_len) / maxpos - (rs["factor"] - 1)) ** (dh / (dh - 2))
    inv = [1.0 / theta ** ((2 * i) / dh) for i in range(dh // 2)]
    if kind == "linear":
        inv = [f / rs["factor"] for f in inv]
    if kind == "llama3":
        orig = rs["original_max_position_embeddings"]
        low, high = orig / rs["low_freq_factor"], orig / rs["high_freq_factor"]
        out = []
        for f in inv:
            wl = 2 * math.pi / f
            if wl > low:
                f = f / rs["factor"]
            elif wl >= high:
                s = (orig / wl - rs["low_freq_factor"]) / (rs["high_freq_factor"] - rs["low_freq_factor"])
                f = (1 - s) * (f / rs["factor"]) + s * f
            out.append(f)
        inv = out
    return torch.tensor(inv, dtype=torch.float64)


def rope_tables(pos, inv):
    """cos/sin (.., T, Dh/2) for integer positions, computed in float64 then rounded to float32."""
    ang = pos.to(torch.float64)[..., None] * inv.to(pos.device)
    return torch.cos(ang).float(), torch.sin(ang).float()


def apply_rope(x, cos, sin):
    """'rotate half' layout: concat(x1 c - x2 s, x2 c + x1 s). x (B, n, T, Dh); cos/sin (B|1, 1, T, Dh/2)."""
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        ms = x.pow(2).sum(-1, keepdim=True) * (1.0 / x.shape[-1])
        return x * torch.reciprocal(torch.sqrt(ms + self.eps)) * self.weight.to(x.dtype)


class Attention(nn.Module):
    def __init__(self, cfg, qkv_bias, o_bias):
        super().__init__()
        d, self.H, self.KV = cfg["hidden_size"], cfg["num_attention_heads"], cfg.get("num_key_value_heads") or cfg["num_attention_heads"]
        self.Dh = cfg.get("head_dim") or d // self.H
        self.q_proj = nn.Linear(d, self.H * self.Dh, bias=qkv_bias)
        self.k_proj = nn.Linear(d, self.KV * self.Dh, bias=qkv_bias)
        self.v_proj = nn.Linear(d, self.KV * self.Dh, bias=qkv_bias)
        self.o_proj = nn.Linear(self.H * self.Dh, d, bias=o_bias)

    def forward(self, x, cos, sin, mask, past):
        B, T, _ = x.shape
        heads = lambda y, n: y.view(B, T, n, self.Dh).transpose(1, 2)  # (B, n, T, Dh)
        q = apply_rope(heads(self.q_proj(x), self.H), cos, sin)
        k = apply_rope(heads(self.k_proj(x), self.KV), cos, sin)
        v = heads(self.v_proj(x), self.KV)
        if past is not None:
            k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)  # (B, KV, S, Dh)
        present = (k, v)
        rep = self.H // self.KV
        if rep > 1:  # query head h uses key/value head h // rep
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)  # (B, H, S, Dh)
        s = torch.matmul(q * (1.0 / math.sqrt(self.Dh)), k.transpose(-1, -2))  # (B, H, T, S)
        s = s.masked_fill(~mask, -1e30 if s.dtype == torch.float32 else torch.finfo(s.dtype).min)
        att = torch.matmul(torch.softmax(s, dim=-1), v)  # (B, H, T, Dh)
        return self.o_proj(att.transpose(1, 2).reshape(B, T, self.H * self.Dh)), present


class Mlp(nn.Module):
    def __init__(self, cfg, bias):
        super().__init__()
        d, i = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj = nn.Linear(d, i, bias=bias)
        self.up_proj = nn.Linear(d, i, bias=bias)
        self.down_proj = nn.Linear(i, d, bias=bias)

    def forward(self, x):
        g = self.gate_proj(x)
        return self.down_proj(g * torch.sigmoid(g) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg, qkv_bias, o_bias, mlp_bias):
        super().__init__()
        eps = cfg.get("rms_norm_eps", 1e-6)
        self.input_layernorm = RMSNorm(cfg["hidden_size"], eps)
        self.self_attn = Attention(cfg, qkv_bias, o_bias)
        self.post_attention_layernorm = RMSNorm(cfg["hidden_size"], eps)
        self.mlp = Mlp(cfg, mlp_bias)

    def forward(self, x, cos, sin, mask, past=None):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, mask, past)
        x = x + a
        return x + self.mlp(self.post_attention_layernorm(x)), present


class Body(nn.Module):
    def __init__(self, cfg, qkv_bias, o_bias, mlp_bias):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList([DecoderLayer(cfg, qkv_bias, o_bias, mlp_bias) for _ in range(cfg["num_hidden_layers"])])
        self.norm = RMSNorm(cfg["hidden_size"], cfg.get("rms_norm_eps", 1e-6))


class PlainCausalLM(nn.Module):
    """forward(ids, positions=None, key_mask=None, past=None) -> (logits (B, T, V), present)."""

    def __init__(self, cfg):
        super().__init__()
        arch = arch_of(cfg)
        qwen = arch == "Qwen2ForCausalLM"
        attn_bias = bool(cfg.get("attention_bias", False))
        self.cfg = cfg
        self.model = Body(cfg, qwen or attn_bias, (not qwen) and attn_bias, bool(cfg.get("mlp_bias", False)))
        self.tied = bool(cfg.get("tie_word_embeddings", False))
        if not self.tied:
            self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        use_sw = cfg.get("sliding_window") is not None if arch == "MistralForCausalLM" else bool(cfg.get("use_sliding_window", False))
        self.window = cfg.get("sliding_window") if use_sw else None
        self.inv_freq = rope_inv_freq(cfg)

    def forward(self, ids, positions=None, key_mask=None, past=None):
        B, T = ids.shape
        P = 0 if past is None else past[0][0].shape[2]
        if positions is None:
            positions = torch.arange(P, P + T, device=ids.device).expand(B, T)
        cos, sin = rope_tables(positions, self.inv_freq)
        cos, sin = cos[:, None], sin[:, None]  # (B, 1, T, Dh/2)
        qpos = torch.arange(P, P + T, device=ids.device)[:, None]
        kpos = torch.arange(P + T, device=ids.device)[None, :]
        allowed = kpos <= qpos  # (T, S) causal
        if self.window is not None:
            allowed = allowed & (qpos - kpos < self.window)
        mask = allowed[None, None]  # (1, 1, T, S)
        if key_mask is not None:  # (B, S): padding keys (left-padded generation) are never attended
            mask = mask & key_mask[:, None, None, :]
        x = self.model.embed_tokens(ids)
        present = []
        for i, layer in enumerate(self.model.layers):
            x, kv = layer(x, cos, sin, mask, None if past is None else past[i])
            present.append(kv)
        x = self.model.norm(x)
        head = self.model.embed_tokens.weight if self.tied else self.lm_head.weight
        return F.linear(x, head.to(x.dtype)), present


def folder_tensors(model_dir):
    """name -> (file, header entry) over model.safetensors or its shards."""
    idx = os.path.join(model_dir, "model.safetensors.index.json")
    files = sorted(set(json.load(open(idx))["weight_map"].values())) if os.path.exists(idx) else ["model.safetensors"]
    out = {}
    for f in files:
        header, _ = read_header(os.path.join(model_dir, f))
        for name, h in header.items():
            out[name] = (f, h)
    return out


def load_plain(model_dir, dtype=torch.float32):
    """The plain model with every expected tensor loaded and checked (name and shape)."""
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    with torch.device("meta") if hasattr(torch, "device") and hasattr(torch.device, "__enter__") else _nullctx():
        model = PlainCausalLM(cfg)
    stored = folder_tensors(model_dir)
    by_file = {}
    expected = dict(model.named_parameters())
    for name in expected:
        if name not in stored:
            raise ValueError(f"{model_dir}: missing tensor {name}")
        by_file.setdefault(stored[name][0], []).append(name)
    values = {}
    for f, names in by_file.items():
        values.update(read_tensors(os.path.join(model_dir, f), set(names)))
    model = model.to_empty(device="cpu") if _is_meta(model) else model
    with torch.no_grad():
        for name, p in model.named_parameters():
            v = values[name]
            if tuple(v.shape) != tuple(p.shape):
                raise ValueError(f"{model_dir}: tensor {name} has shape {list(v.shape)}, config.json implies {list(p.shape)}")
            p.data = v.to(dtype).clone()
    return model


def _is_meta(m):
    return any(p.is_meta for p in m.parameters())


class _nullctx:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False
