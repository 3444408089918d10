#!/usr/bin/env bash
# One machine: run_local.sh [N] [seat_job options...] starts N processes (default 1) with torchrun.
# Extra options go to the job (e.g. --out DIR, --zero, --strategy fsdp). PYTHON picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")"
N="${1:-1}"; [ $# -gt 0 ] && shift
PY="${PYTHON:-python3}"
# torch 1.13's torchrun fails parsing its own defaults under Python 3.11 unless --redirects/--tee are
# given explicitly; they are valid (and harmless) on every torch 2.x as well.
exec "$PY" -m torch.distributed.run --standalone --nproc_per_node "$N" --redirects 2 --tee 2 -m seat_job "$@"
