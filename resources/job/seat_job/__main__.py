"""python -m seat_job [--out DIR] [--strategy auto|ddp|fsdp] [--zero] [--backend auto|hf|plain]
(run under torchrun; see run_local.sh). The job folder is the directory that holds seat_job/."""
import argparse
import os
import sys

from .train import run


def main(argv=None):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(prog="seat_job", description="SEAT training job (torch.distributed)")
    ap.add_argument("--job", default=here, help="job folder (default: the folder holding seat_job/)")
    ap.add_argument("--out", default=None, help="run folder to write (default: JOB/run)")
    ap.add_argument("--strategy", default="auto", choices=["auto", "ddp", "fsdp"], help="data-parallel wrapper (auto: DDP when the model fits one device)")
    ap.add_argument("--zero", action="store_true", help="shard AdamW's state over the ranks (ZeroRedundancyOptimizer, with DDP)")
    ap.add_argument("--backend", default="auto", choices=["auto", "hf", "plain"], help="transformers when importable, else plain PyTorch")
    a = ap.parse_args(argv)
    out = a.out or os.path.join(a.job, "run")

    def echo(e):
        if e["type"] == "step":
            print(f"step {e['step']}/{e['totalSteps']} loss {e['loss']:.6f} ce {e['ce']:.6f} kl {e['kl']:.3e} lr {e['lr']:.1e} |g| {e['gradNorm']:.4f}", flush=True)
        elif e["type"] in ("phase", "log"):
            print(f"  {e.get('phase', e.get('level'))}: {e['message']}", flush=True)
        elif e["type"] == "done":
            print(f"done: {e['summary']['steps']} steps, run folder {os.path.abspath(out)}", flush=True)
        elif e["type"] == "error":
            print(f"error: {e['message']}", file=sys.stderr, flush=True)
    return run(a.job, out, a.strategy, a.zero, a.backend, echo)


if __name__ == "__main__":
    sys.exit(main())
