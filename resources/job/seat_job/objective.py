"""The SEAT objective (src/seat/objective.ts) as sums, so that a step's batch can be split over ranks
and micro-batches and still give exactly the local trainer's loss:
  L = sum_rows nll / N  +  lambda * sum_pos KL(p_base || p_tuned) * mask / P  +  ewc_lambda/2 * sum F (w - w0)^2
with N the step's target tokens and P its KL positions (max 1 each), reverse KL swapping the two."""
import torch
import torch.nn.functional as F

from .data import IGNORE


def nll_sum(logits, labels):
    """Summed next-token NLL over labelled positions, and per-row exact-match (1, 0, -1 without labels)."""
    V = logits.shape[-1]
    lp = torch.log_softmax(logits.float(), -1)
    valid = labels != IGNORE
    safe = torch.where(valid, labels, torch.zeros_like(labels))
    picked = lp.gather(-1, safe[..., None])[..., 0]
    s = -(picked * valid).sum()
    with torch.no_grad():
        hit = (picked >= lp.max(-1).values) | ~valid
        count = valid.sum(-1)
        ok = torch.where(count == 0, torch.full_like(count, -1), hit.all(-1).long())
    del V
    return s, ok


def kl_sum(base_logits, tuned_logits, mask, direction):
    lb = torch.log_softmax(base_logits.float(), -1)
    lt = torch.log_softmax(tuned_logits.float(), -1)
    p, q = (lb, lt) if direction == "forward" else (lt, lb)
    per = (p.exp() * (p - q)).sum(-1)  # (K, Tk)
    return (per * mask).sum()


def ewc_value(params, base, fisher, lam):
    tot = None
    for name, p in params.items():
        if name not in fisher:
            continue
        d = p.float() - base[name]
        t = (fisher[name] * d * d).sum()
        tot = t if tot is None else tot + t
    return None if tot is None else tot * (lam / 2)


__all__ = ["nll_sum", "kl_sum", "ewc_value", "F"]
