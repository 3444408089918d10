"""torch.distributed set-up and the choice of data-parallel wrapper. DDP replicates the model and
all-reduces gradients; FSDP (full shard, bf16 mixed precision on GPU) shards parameters, gradients
and optimizer state when the model does not fit one device. FSDP needs torch >= 2.1 here
(use_orig_params with frozen and trainable tensors in one unit; and torch 1.13's
torch.distributed.fsdp does not even import under Python 3.11)."""
import importlib
import os

import torch
import torch.distributed as dist

FSDP_MIN = (2, 1)


def torch_version():
    parts = torch.__version__.split("+")[0].split(".")
    return tuple(int("".join(ch for ch in p if ch.isdigit()) or 0) for p in parts[:2])


def fsdp_supported():
    if torch_version() < FSDP_MIN:
        return False, f"torch {torch.__version__} < {FSDP_MIN[0]}.{FSDP_MIN[1]}"
    try:
        importlib.import_module("torch.distributed.fsdp")
    except Exception as e:  # pragma: no cover - depends on the installed torch
        return False, f"torch.distributed.fsdp does not import ({e})"
    return True, ""


class Dist:
    def __init__(self):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.cuda = torch.cuda.is_available() and os.environ.get("SEAT_JOB_DEVICE", "") != "cpu"
        self.device = torch.device(f"cuda:{self.local_rank}") if self.cuda else torch.device("cpu")
        if self.cuda:
            torch.cuda.set_device(self.device)
        self.on = "WORLD_SIZE" in os.environ
        if self.on and not dist.is_initialized():
            dist.init_process_group("nccl" if self.cuda else "gloo")

    def all_sum(self, values):
        """Sums a list of floats over the ranks (float64 on the wire)."""
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        if self.on and self.world > 1:
            dist.all_reduce(t)
        return t.tolist()

    def gather(self, obj):
        if not (self.on and self.world > 1):
            return [obj]
        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def barrier(self):
        if self.on and self.world > 1:
            dist.barrier()

    def close(self):
        if self.on and dist.is_initialized():
            dist.destroy_process_group()


def choose_strategy(requested, trainable_bytes, weight_bytes, dev):
    """'ddp' when one device holds the weights, the trainable state (values + grads + 2 moments,
    float32) and a 30% margin for activations; otherwise 'fsdp'. CPU processes always use DDP
    (FSDP would be requested explicitly)."""
    if requested in ("ddp", "fsdp"):
        return requested
    if not dev.cuda:
        return "ddp"
    free = torch.cuda.get_device_properties(dev.device).total_memory
    need = weight_bytes + 4 * trainable_bytes
    return "ddp" if need < 0.7 * free else "fsdp"


def wrap(model, strategy, dev, layer_cls):
    if strategy == "ddp":
        from torch.nn.parallel import DistributedDataParallel as DDP
        if not (dev.on and dev.world >= 1 and dist.is_initialized()):
            return model, model
        return DDP(model, device_ids=[dev.local_rank] if dev.cuda else None, broadcast_buffers=False), model
    ok, why = fsdp_supported()
    if not ok:
        raise SystemExit(f"seat_job: FSDP needs torch >= {FSDP_MIN[0]}.{FSDP_MIN[1]} ({why}); use --strategy ddp or a newer torch")
    import functools
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP, MixedPrecision, ShardingStrategy
    from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy
    mp = MixedPrecision(param_dtype=torch.bfloat16, reduce_dtype=torch.float32, buffer_dtype=torch.bfloat16) if dev.cuda else None
    policy = functools.partial(transformer_auto_wrap_policy, transformer_layer_cls={layer_cls})
    wrapped = FSDP(model, auto_wrap_policy=policy, sharding_strategy=ShardingStrategy.FULL_SHARD, mixed_precision=mp,
                   use_orig_params=True, device_id=dev.device if dev.cuda else None, sync_module_states=False)
    return wrapped, model
