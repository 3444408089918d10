"""Model loading: Hugging Face transformers' AutoModelForCausalLM when it imports (and
SEAT_JOB_BACKEND is not 'plain'), else the plain-PyTorch decoder of model.py. Both are driven through
one call, forward(ids, positions, key_mask, past) -> (logits, present)."""
import os

import torch

from .model import DecoderLayer, load_plain


def load(model_dir, dtype, requested="auto"):
    want = requested if requested != "auto" else os.environ.get("SEAT_JOB_BACKEND", "auto")
    if want in ("auto", "hf"):
        try:
            import transformers  # noqa: F401
            from transformers import AutoModelForCausalLM
        except Exception as e:
            if want == "hf":
                raise SystemExit(f"seat_job: --backend hf but transformers does not import ({e})")
        else:
            m = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=dtype)
            layer_cls = type(m.model.layers[0])
            return HFAdapter(m), layer_cls, "transformers"
    return PlainAdapter(load_plain(model_dir, dtype)), DecoderLayer, "plain-pytorch"


class PlainAdapter(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, ids, positions=None, key_mask=None, past=None):
        return self.inner(ids, positions, key_mask, past)


class HFAdapter(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, ids, positions=None, key_mask=None, past=None):
        out = self.inner(input_ids=ids, position_ids=positions, attention_mask=None if key_mask is None else key_mask.long(),
                         past_key_values=past, use_cache=key_mask is not None)
        return out.logits, out.past_key_values
