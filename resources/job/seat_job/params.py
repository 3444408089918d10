"""What a method trains (src/seat/specs.ts): masked methods train only the mask's entries of each
selected linear weight, dense methods whole tensors, LoRA two factors per selected weight.
Masked-out entries are never parameters: a masked weight is the frozen tensor with the trainable
values scattered in at its mask positions on every forward, so the optimizer holds state for the
trainable values alone and the rest of the tensor cannot move.
"""
import contextlib
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

_BASE = {"on": False}


@contextlib.contextmanager
def base_view():
    """Inside, every SeatLinear computes with its frozen base weight (the KL teacher's forward)."""
    _BASE["on"] = True
    try:
        yield
    finally:
        _BASE["on"] = False


def module_matches(name, pattern):
    """src/seat/masks.ts moduleMatches: a whole dotted segment, the whole name, or a * glob."""
    if pattern == "*" or pattern == name:
        return True
    if "*" in pattern:
        return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), name) is not None
    return pattern in name.split(".")


class SeatLinear(nn.Module):
    """nn.Linear whose weight is frozen and optionally masked (values at idx) or LoRA-adapted."""

    def __init__(self, lin, hf_name, kind, idx=None, lora_a=None, lora_scale=None):
        super().__init__()
        self.hf_name = hf_name
        self.kind = kind
        self.weight = lin.weight
        self.weight.requires_grad_(False)
        self.bias = lin.bias
        if self.bias is not None:
            self.bias.requires_grad_(False)
        if kind == "sparse":
            self.register_buffer("seat_idx", idx.to(torch.int64).to(self.weight.device), persistent=False)
            self.seat_values = nn.Parameter(self.weight.detach().reshape(-1)[self.seat_idx].float().clone())
        elif kind == "lora":
            out_f = self.weight.shape[0]
            self.lora_A = nn.Parameter(lora_a.float().clone().to(self.weight.device))
            self.lora_B = nn.Parameter(torch.zeros(out_f, lora_a.shape[0], device=self.weight.device))
            self.lora_scale = lora_scale

    def effective_weight(self, dtype):
        w = self.weight.to(dtype)
        if self.kind == "sparse" and not _BASE["on"]:
            w = w.reshape(-1).scatter(0, self.seat_idx, self.seat_values.to(dtype)).view_as(self.weight)
        return w

    def forward(self, x):
        b = None if self.bias is None else self.bias.to(x.dtype)
        y = F.linear(x, self.effective_weight(x.dtype), b)
        if self.kind == "lora" and not _BASE["on"]:
            y = y + F.linear(F.linear(x, self.lora_A.to(x.dtype)), self.lora_B.to(x.dtype)) * self.lora_scale
        return y


def _linear_modules(model):
    """HF weight name -> (parent module, attribute) for every nn.Linear."""
    out = {}
    for mname, mod in model.named_modules():
        for cname, child in mod.named_children():
            if isinstance(child, nn.Linear):
                full = f"{mname}.{cname}" if mname else cname
                out[f"{full}.weight"] = (mod, cname, child)
    return out


def apply_method(model, plan, masks, lora_init):
    """Freezes the model and adds the method's trainable parameters. Returns {checkpoint name: Parameter}
    in the model's tensor order (the order the TypeScript trainer sums gradient norms in)."""
    parts = plan["parts"]
    cfg = plan["config"]
    for p in model.parameters():
        p.requires_grad_(False)
    trainable = {}
    if parts["params"] == "dense":
        names = dict(model.named_parameters())
        for name in plan["tensorOrder"]:
            if name in names and any(module_matches(name, pat) for pat in cfg["full"]["modules"]):
                names[name].requires_grad_(True)
                trainable[name] = names[name]
        return trainable
    lins = _linear_modules(model)
    wanted = masks if parts["params"] == "masked" else lora_init
    for name in wanted:
        if name not in lins:
            raise ValueError(f"the job trains masks and LoRA on linear weights only; {name} is not one")
    for name in plan["tensorOrder"]:
        if name not in wanted:
            continue
        parent, attr, lin = lins[name]
        if parts["params"] == "masked":
            sl = SeatLinear(lin, name, "sparse", idx=masks[name])
            trainable[f"{name}.values"] = sl.seat_values
        else:
            sl = SeatLinear(lin, name, "lora", lora_a=lora_init[name], lora_scale=cfg["lora"]["alpha"] / cfg["lora"]["r"])
            trainable[f"{name}.lora_A"] = sl.lora_A
            trainable[f"{name}.lora_B"] = sl.lora_B
        setattr(parent, attr, sl)
    return trainable


def no_decay(name, p):
    """Norms and biases (1-D tensors) are not decayed, as in the TypeScript trainer."""
    return p.dim() == 1 and not name.endswith(".values")


@torch.no_grad()
def merged_weights(model, plan):
    """HF name -> float32 tensor for every tensor the run changed (for model/ export)."""
    out = {}
    parts = plan["parts"]
    if parts["params"] == "dense":
        for name, p in model.named_parameters():
            if p.requires_grad:
                out[name] = p.detach().float().cpu()
        return out
    for mod in model.modules():
        if isinstance(mod, SeatLinear):
            w = mod.weight.detach().float().cpu().reshape(-1).clone()
            if mod.kind == "sparse":
                w[mod.seat_idx.cpu()] = mod.seat_values.detach().float().cpu()
                out[mod.hf_name] = w.view_as(mod.weight)
            else:
                w = w.view_as(mod.weight) + mod.lora_scale * (mod.lora_B.detach().float().cpu() @ mod.lora_A.detach().float().cpu())
                out[mod.hf_name] = w
    return out
