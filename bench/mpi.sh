#!/usr/bin/env bash
# Data-parallel training on this machine: 1 rank x 1 thread, 1 rank x 2 threads and 2 ranks x 1
# thread (mpirun) on the same global batch, with the allreduce time per step. The model is the
# default 2 x 256 LSTM (embed 128) on the performance-encoded default corpus.
#   bash bench/mpi.sh [STEPS]      default 60; writes bench/mpi-results.txt
set -euo pipefail
steps="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD:-$root/build}"
musicrnn="$build/tools/musicrnn"
work="$(mktemp -d /tmp/musicrnn-mpibench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OPENBLAS_NUM_THREADS=1
"$musicrnn" preprocess -q -e performance -o "$work/c.mrc" /usr/share/games/openttd/baseset/openmsx > /dev/null
train=("$musicrnn" train "$work/c.mrc" --steps "$steps" --valid-every 0 --batch 32 --seq-len 64)
rate() { awk -F, 'NR > 1 {t = $7} END {printf "%.2f", (NR - 1) / t}' "$1"; }
out="$root/bench/mpi-results.txt"
{
    echo "# bench/mpi.sh: $steps steps of batch 32 x 64, 2 x 256 LSTM, $(date -u +%F), $(nproc) cores"
    "${train[@]}" --threads 1 -o "$work/a.mrm" --log "$work/a.csv" > /dev/null 2>&1
    echo "1 rank  x 1 thread : $(rate "$work/a.csv") steps/s"
    "${train[@]}" --threads 2 -o "$work/b.mrm" --log "$work/b.csv" > /dev/null 2>&1
    echo "1 rank  x 2 threads: $(rate "$work/b.csv") steps/s"
    mpirun --oversubscribe --bind-to core -np 2 "${train[@]}" --threads 1 -o "$work/c.mrm" --log "$work/c.csv" \
        > /dev/null 2> "$work/mpi.txt"
    echo "2 ranks x 1 thread : $(rate "$work/c.csv") steps/s; $(grep '^mpi:' "$work/mpi.txt")"
    params=$("$musicrnn" info "$work/a.mrm" | awk '/^parameters/ {print $2}')
    echo "parameters: $params (fused buffer: 4 bytes each + 8)"
    # the transfer alone (after a barrier, so no waiting for the slower rank is counted)
    mpirun --oversubscribe -np 2 "$build/bench/mpi_allreduce" $((params + 2)) 50
} | tee "$out"
