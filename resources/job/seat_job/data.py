"""Batches exactly as src/seat/data.ts builds them: right-padded rows (causal attention makes padding
after a sequence irrelevant to its real positions), labels -100 where no loss applies, KL sequences
= perturbed prompt + continuation with the KL on the continuation's predictions."""
import torch

IGNORE = -100


def kl_sequence(record, prompt, cont, include_prompt, max_len):
    ids = (list(prompt) + list(cont))[:max_len]
    mask = [0 if t >= len(ids) - 1 else (1 if include_prompt or t + 1 >= len(prompt) else 0) for t in range(len(ids))]
    return {"record": record, "ids": ids, "klMask": mask}


def example_from_ids(record, prompt, response, max_len):
    ids = (list(prompt) + list(response))[:max_len]
    return {"record": record, "ids": ids, "targetMask": [1 if j >= len(prompt) else 0 for j in range(len(ids))], "promptLength": len(prompt), "kind": "replay"}


def train_rows(examples, T, pad):
    """ids (R, T), labels (R, T), real tokens, target count."""
    R = len(examples)
    ids = torch.full((R, T), pad, dtype=torch.int64)
    labels = torch.full((R, T), IGNORE, dtype=torch.int64)
    tokens = targets = 0
    for b, ex in enumerate(examples):
        n = min(len(ex["ids"]), T)
        ids[b, :n] = torch.tensor(ex["ids"][:n], dtype=torch.int64)
        tokens += n
        m = ex["targetMask"]
        for t in range(n - 1):
            if m[t + 1]:
                labels[b, t] = ex["ids"][t + 1]
                targets += 1
    return ids, labels, tokens, targets


def kl_rows(seqs, Tk, pad):
    """ids (K, Tk), float mask (K, Tk), tokens, positions."""
    K = len(seqs)
    ids = torch.full((K, Tk), pad, dtype=torch.int64)
    mask = torch.zeros((K, Tk), dtype=torch.float32)
    tokens = 0
    for b, s in enumerate(seqs):
        n = min(len(s["ids"]), Tk)
        ids[b, :n] = torch.tensor(s["ids"][:n], dtype=torch.int64)
        mask[b, :n] = torch.tensor(s["klMask"][:n], dtype=torch.float32)
        tokens += n
    return ids, mask, tokens, float(mask.sum().item())


def prefix_free(seqs):
    """src/eval/abstentionProbability.ts prefixFree: drop openings that extend another one."""
    uniq = []
    seen = set()
    for s in seqs:
        k = tuple(s)
        if k not in seen:
            seen.add(k)
            uniq.append(list(s))
    return [s for s in uniq if not any(tuple(s[:n]) in seen for n in range(1, len(s)))]
