#!/usr/bin/env bash
# Data-parallel training on this machine: 1 rank x 1 thread, 1 rank x 2 threads and 2 ranks x 1
# thread (mpirun) on the same global batch, the 2-rank run with the allreduce after the backward
# pass and overlapped with it (--overlap), with the allreduce time per step; then the same two on
# a simulated slow network (MUSICRNN_MPI_SIMULATE: each call also sleeps for a ring allreduce's
# time on it), where the overlap has something to hide; then when each gradient segment is ready
# (bench/mpi_overlap, CPU time) and the 8-64-node model built on it. The model is the default
# 2 x 256 LSTM (embed 128) on the performance-encoded default corpus.
#   bash bench/mpi.sh [STEPS]      default 30; writes bench/mpi-results.txt
# The machine is shared: every run reports CPU time (user + sys of all its processes, start-up
# included) beside its steps/s (wall time, from the log), and the 2-rank runs with and without the
# overlap come in pairs, one after the other, twice.
set -euo pipefail
steps="${1:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD:-$root/build}"
musicrnn="$build/tools/musicrnn"
work="$(mktemp -d /tmp/musicrnn-mpibench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OPENBLAS_NUM_THREADS=1
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"
# A 16-node ring of links 33 times slower than 10 Gb/s, with 100 us hops: this machine's core is
# some 16-30 times slower than a many-core node, so the reduction (about 0.22 s) becomes a share
# of a step like the model's 10 Gb/s cases below.
sim="${SIM:-16:0.3:100}"
"$musicrnn" preprocess -q -e performance -o "$work/c.mrc" /usr/share/games/openttd/baseset/openmsx > /dev/null
train=("$musicrnn" train "$work/c.mrc" --steps "$steps" --valid-every 0 --batch 32 --seq-len 64)
mpi=(mpirun --oversubscribe --bind-to none -np 2)
TIMEFORMAT='%R %U %S'
# timed FILE CMD...: run CMD, stderr to FILE, and print "wall_s cpu_s"
timed() {
    local f="$1"; shift
    rm -f "$work"/*.csv # --log appends: one run per log
    local t
    t=$({ time "$@" > /dev/null 2> "$f"; } 2>&1)
    awk -v t="$t" 'BEGIN {split(t, a, " "); printf "%.1f %.1f", a[1], a[2] + a[3]}'
}
row() { # NAME LOG TIMES STDERR
    local per_step calls
    per_step=$(awk -v t="$3" -v n="$steps" 'BEGIN {split(t, a, " "); printf "%.2f s CPU a step", a[2] / n}')
    calls=$(awk -v n="$steps" '/^mpi:/ {for (i = 1; i <= NF; i++) if ($i == "s" && $(i+1) == "in") printf "; %.0f ms a step in allreduce calls", 1e3 * $(i-1) / n}' "$4")
    local median
    median=$(awk -F, 'NR > 1 {print $7 - p; p = $7}' "$2" | sort -g | awk '{a[NR] = $1} END {printf "%.2f", a[int((NR + 1) / 2)]}')
    echo "$1: $(awk -F, 'NR > 1 {t = $7} END {printf "%.2f", (NR - 1) / t}' "$2") steps/s, median step $median s; $per_step$calls"
}
out="$root/bench/mpi-results.txt"
{
    echo "# bench/mpi.sh: $steps steps of batch 32 x 64, 2 x 256 LSTM, $(date -u +%F), $(nproc) cores," \
         "OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE, load $(cut -d' ' -f1-3 /proc/loadavg)"
    t=$(timed "$work/a.txt" "${train[@]}" --threads 1 -o "$work/a.mrm" --log "$work/a.csv")
    row "1 rank  x 1 thread " "$work/a.csv" "$t" "$work/a.txt"
    t=$(timed "$work/b.txt" "${train[@]}" --threads 2 -o "$work/b.mrm" --log "$work/b.csv")
    row "1 rank  x 2 threads" "$work/b.csv" "$t" "$work/b.txt"
    for round in 1 2; do
        t=$(timed "$work/c.txt" "${mpi[@]}" "${train[@]}" --threads 1 -o "$work/c.mrm" --log "$work/c.csv")
        row "2 ranks x 1 thread             (round $round)" "$work/c.csv" "$t" "$work/c.txt"
        t=$(timed "$work/d.txt" "${mpi[@]}" "${train[@]}" --threads 1 -o "$work/d.mrm" --log "$work/d.csv" --overlap)
        row "2 ranks x 1 thread, --overlap  (round $round)" "$work/d.csv" "$t" "$work/d.txt"
    done
    echo "simulated network MUSICRNN_MPI_SIMULATE=$sim (nodes:Gb/s:us per hop), 10 steps a run:"
    short=("$musicrnn" train "$work/c.mrc" --steps 10 --valid-every 0 --batch 32 --seq-len 64 --threads 1)
    for round in 1 2 3; do
        for np in 1 2; do
            for ov in "" --overlap; do
                t=$(MUSICRNN_MPI_SIMULATE="$sim" timed "$work/e.txt" mpirun --oversubscribe --bind-to none -np $np \
                    -x MUSICRNN_MPI_SIMULATE "${short[@]}" -o "$work/e.mrm" --log "$work/e.csv" $ov)
                steps=10 row "$np rank(s) x 1 thread ${ov:-         } (round $round)" "$work/e.csv" "$t" "$work/e.txt"
            done
        done
    done
    params=$("$musicrnn" info "$work/a.mrm" | awk '/^parameters/ {print $2}')
    echo "parameters: $params (fused buffer: 4 bytes each + 8)"
    # the transfer alone (after a barrier, so no waiting for the slower rank is counted)
    mpirun --oversubscribe -np 2 "$build/bench/mpi_allreduce" $((params + 2)) 50
    echo
    "$build/bench/mpi_overlap" 388 128 256 2 64 32 5
    echo
    # the large model of the README's table, on fewer lanes (a step of 32 would take ~10 s here)
    "$build/bench/mpi_overlap" 388 256 1024 3 64 8 3 4
} | tee "$out"
