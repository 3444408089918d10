#!/usr/bin/env bash
# Several machines: run this on every node with the same rendezvous endpoint.
#   NNODES=2 NPROC_PER_NODE=8 RDZV_ENDPOINT=node0:29500 ./run_multinode.sh [seat_job options...]
# Every node needs this folder at the same path (or pass --out to a shared file system).
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
: "${NNODES:?set NNODES}" "${NPROC_PER_NODE:?set NPROC_PER_NODE}" "${RDZV_ENDPOINT:?set RDZV_ENDPOINT (host:port of one node)}"
exec "$PY" -m torch.distributed.run --nnodes "$NNODES" --nproc_per_node "$NPROC_PER_NODE" \
  --rdzv_backend c10d --rdzv_endpoint "$RDZV_ENDPOINT" --rdzv_id "${RDZV_ID:-seat-job}" \
  --redirects 2 --tee 2 -m seat_job "$@"
