"""The run folder in SEAT Tuner's format (src/seat/runFolder.ts, checkpoint.ts, export.ts,
src/protocol/events.ts): config.json, events.jsonl (typed events, version 1), checkpoints/step-N/
(state.json + tensors.safetensors), model/ (the base folder's layout with changed tensors replaced),
summary.json. Only rank 0 writes."""
import datetime
import json
import math
import os
import shutil

import torch

from .st_io import DTYPES, read_header, read_tensors, write_tensors

EVENTS_VERSION = 1
COPY = {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "chat_template.jinja", "vocab.json", "merges.txt", "README.md"}


def _finite(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v


class EventSink:
    def __init__(self, run_dir, enabled, echo=None):
        self.file = os.path.join(run_dir, "events.jsonl")
        self.enabled = enabled
        self.echo = echo

    def emit(self, type_, **fields):
        if not self.enabled:
            return
        now = datetime.datetime.now(datetime.timezone.utc)
        e = {"v": EVENTS_VERSION, "time": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z", "type": type_, **fields}
        line = json.dumps(_finite(e), separators=(",", ":"), allow_nan=False)
        with open(self.file, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
        if self.echo:
            self.echo(e)


def write_json_atomic(path, value):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(value, indent=2) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def checkpoint_name(step):
    return f"step-{step:07d}"


def write_checkpoint(ckpt_dir, state, tensors, keep):
    os.makedirs(ckpt_dir, exist_ok=True)
    for n in os.listdir(ckpt_dir):
        if n.startswith(".tmp-"):
            shutil.rmtree(os.path.join(ckpt_dir, n), ignore_errors=True)
    final = os.path.join(ckpt_dir, checkpoint_name(state["step"]))
    tmp = os.path.join(ckpt_dir, f".tmp-{checkpoint_name(state['step'])}-{os.getpid()}")
    os.makedirs(tmp, exist_ok=True)
    write_tensors(os.path.join(tmp, "tensors.safetensors"), tensors)
    with open(os.path.join(tmp, "state.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(state, separators=(",", ":")))
        f.flush()
        os.fsync(f.fileno())
    if os.path.exists(final):
        shutil.rmtree(final)
    os.replace(tmp, final)
    steps = sorted(int(n[5:]) for n in os.listdir(ckpt_dir) if n.startswith("step-") and n[5:].isdigit())
    for old in steps[:max(0, len(steps) - keep)]:
        shutil.rmtree(os.path.join(ckpt_dir, checkpoint_name(old)), ignore_errors=True)
    return final


def export_model(base_dir, changed, out_dir):
    """Same shard files, names and dtypes as the base; unchanged tensors are copied as stored."""
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(base_dir):
        if f in COPY or f == "model.safetensors.index.json":
            shutil.copyfile(os.path.join(base_dir, f), os.path.join(out_dir, f))
    idx = os.path.join(base_dir, "model.safetensors.index.json")
    files = sorted(set(json.load(open(idx))["weight_map"].values())) if os.path.exists(idx) else ["model.safetensors"]
    for f in files:
        tensors = read_tensors(os.path.join(base_dir, f))
        for name, t in tensors.items():
            if name in changed:
                tensors[name] = changed[name].to(t.dtype).reshape(t.shape)
        write_tensors(os.path.join(out_dir, f), tensors, metadata={"format": "pt"})
    write_json_atomic(os.path.join(out_dir, "seat-export.json"), {"base": os.path.abspath(base_dir), "changedTensors": sorted(changed)})
