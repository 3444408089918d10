"""Minimal safetensors reader/writer (u64 header length, JSON header, raw little-endian bytes), so the
job needs nothing beyond torch. Layout: https://github.com/huggingface/safetensors#format"""
import json
import os
import struct

import torch

DTYPES = {
    "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
    "I32": torch.int32, "I64": torch.int64,
}
NAMES = {v: k for k, v in DTYPES.items()}


def read_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    header.pop("__metadata__", None)
    return header, 8 + n


def read_tensors(path, names=None):
    """name -> tensor (in the stored dtype) for every (or each named) tensor of one file."""
    header, base = read_header(path)
    out = {}
    with open(path, "rb") as f:
        for name, h in header.items():
            if names is not None and name not in names:
                continue
            a, b = h["data_offsets"]
            f.seek(base + a)
            buf = bytearray(f.read(b - a))
            dt = DTYPES[h["dtype"]]
            t = torch.frombuffer(buf, dtype=dt) if len(buf) else torch.empty(0, dtype=dt)
            out[name] = t.reshape(h["shape"])
    return out


def write_tensors(path, tensors, metadata=None):
    """Writes name -> tensor in sorted name order, 8-byte aligned data, via a temporary file."""
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    offset = 0
    blobs = []
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        data = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    js = json.dumps(header, separators=(",", ":"))
    js += " " * ((8 - (8 + len(js.encode())) % 8) % 8)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(js.encode())))
        f.write(js.encode())
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
