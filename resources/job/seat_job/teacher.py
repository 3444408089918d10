"""The frozen base model's greedy replies (the KL teacher's continuations, replay and EWC inputs),
generated at job start with a KV cache; prompts are spread over the ranks and the replies gathered.
Stops at any of the tokenizer's stop ids (not included) or after max_new tokens."""
import torch
import torch.distributed as dist

from .params import base_view


@torch.no_grad()
def greedy(forward, prompts, max_new, stop_ids, pad, device, batch=16):
    out = []
    stop = set(stop_ids)
    for at in range(0, len(prompts), batch):
        group = prompts[at:at + batch]
        B, L = len(group), max(len(p) for p in group)
        ids = torch.full((B, L), pad, dtype=torch.int64)
        keys = torch.zeros((B, L), dtype=torch.bool)
        for b, p in enumerate(group):  # left-padded so every row's next token is at the end
            ids[b, L - len(p):] = torch.tensor(p, dtype=torch.int64)
            keys[b, L - len(p):] = True
        ids, keys = ids.to(device), keys.to(device)
        pos = (keys.long().cumsum(-1) - 1).clamp(min=0)
        with base_view():
            logits, past = forward(ids, pos, keys, None)
        done = [False] * B
        res = [[] for _ in range(B)]
        nxt_pos = pos[:, -1:] + 1
        for _ in range(max_new):
            tok = logits[:, -1].float().argmax(-1)
            for b in range(B):
                if done[b]:
                    continue
                t = int(tok[b])
                if t in stop:
                    done[b] = True
                else:
                    res[b].append(t)
            if all(done):
                break
            keys = torch.cat([keys, torch.ones((B, 1), dtype=torch.bool, device=device)], 1)
            with base_view():
                logits, past = forward(tok[:, None], nxt_pos, keys, past)
            nxt_pos = nxt_pos + 1
        for b in range(B):
            out.append(res[b][:max_new])
    return out


def distributed_greedy(forward, prompts, max_new, stop_ids, pad, device, rank, world):
    mine = list(range(rank, len(prompts), world))
    replies = greedy(forward, [prompts[i] for i in mine], max_new, stop_ids, pad, device)
    part = list(zip(mine, replies))
    if world > 1:
        parts = [None] * world
        dist.all_gather_object(parts, part)
    else:
        parts = [part]
    out = [None] * len(prompts)
    for p in parts:
        for i, r in p:
            out[i] = r
    return out
