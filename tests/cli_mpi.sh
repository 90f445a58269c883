#!/usr/bin/env bash
# Data-parallel training over MPI on localhost: one plain process and mpirun -np 1, 2, 4 with the
# same global batch and seed log the same losses to rounding, with the allreduce overlapped with
# the backward pass (--overlap) or not (and with one rank the same bits); a model of several
# segments sums each one in its own call; a run under --overlap whose rank is killed with SIGKILL
# resumes under mpirun from rank 0's checkpoint and reproduces the uninterrupted run.
#   cli_mpi.sh MUSICRNN MPIRUN
set -euo pipefail
musicrnn="$1"; mpirun="$2"
corpus="${MRNN_DEFAULT_CORPUS:?}"
work="$(mktemp -d /tmp/musicrnn-mpi.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# CI runs as root in a container: Open MPI refuses root without these, and has no network there.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1
# Open MPI does not free everything it allocates before exit: under the sanitizer build
# (tools/run-tests.sh) LeakSanitizer would fail every rank for MPI's own blocks. The plain run
# below stays leak-checked.
mpi=(env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$mpirun" --oversubscribe --bind-to none)

mkdir "$work/midi"
for f in 5432gone_redfarn be_sharp_bw_redfarn boogi_marabi_redfarn city_blues_redfarn moo_redfarn; do
    cp "$corpus/$f.mid" "$work/midi/"
done
"$musicrnn" preprocess -q -e performance --valid-fraction 0.2 -o "$work/c.mrc" "$work/midi" > /dev/null

# same_losses A.csv B.csv TOLERANCE WHAT: train and validation losses equal to a relative tolerance
same_losses() {
    paste -d, "$1" "$2" | awk -F, -v tol="$3" -v what="$4" 'NR > 1 {
        for (k = 3; k <= 4; k++) { a = $k; b = $(k + 7); if (a == "" && b == "") continue
            d = a - b; if (d < 0) d = -d
            if (a == "" || b == "" || d > tol * (a < 0 ? -a : a)) { print what " step " $1 ": " a " vs " b; bad = 1 } }
    } END { exit bad }'
}

train=("$musicrnn" train "$work/c.mrc" --hidden 32 --embed 16 --seq-len 16 --batch 8 --threads 1 --quiet)
"${train[@]}" -o "$work/m0.mrm" --steps 12 --valid-every 6 --log "$work/l0.csv" > /dev/null
for n in 1 2 4; do
    "${mpi[@]}" -np $n "${train[@]}" -o "$work/o$n.mrm" --steps 12 --valid-every 6 --log "$work/o$n.csv" --overlap \
        > /dev/null
    "${mpi[@]}" -np $n "${train[@]}" -o "$work/m$n.mrm" --steps 12 --valid-every 6 --log "$work/l$n.csv" > "$work/out$n.txt"
    # one log, written by rank 0 alone: a header and 12 rows
    [ "$(wc -l < "$work/l$n.csv")" -eq 13 ] || { echo "-np $n: expected 13 log lines"; cat "$work/l$n.csv"; exit 1; }
    [ "$(grep -c '^trained' "$work/out$n.txt")" -eq 1 ] || { echo "-np $n: rank 0 alone reports"; exit 1; }
    # train and validation losses equal to rounding (relative 1e-4), overlapped or not
    same_losses "$work/l0.csv" "$work/l$n.csv" 1e-4 "-np $n"
    same_losses "$work/l$n.csv" "$work/o$n.csv" 1e-4 "-np $n --overlap"
    [ $n -gt 1 ] || same_losses "$work/l1.csv" "$work/o1.csv" 0 "-np 1 --overlap (the same printed losses)"
    cmp -s <("$musicrnn" info "$work/m0.mrm" | grep -v '^model') <("$musicrnn" info "$work/m$n.mrm" | grep -v '^model') ||
        { echo "-np $n: the model differs in what info reports"; exit 1; }
done
echo "plain, -np 1, 2, 4, each with and without --overlap: the same losses to rounding over 12 steps"

# A model whose layer blocks pass the default segment minimum (65536 floats): the overlap sums the
# output layer with LSTM layer 1 (the output's 50 k floats are joined to it), then layer 0 with the
# embedding: two segments and the stop vote, 3 calls a step on rank 0.
wide=("$musicrnn" train "$work/c.mrc" --hidden 128 --embed 64 --seq-len 16 --batch 8 --threads 1 --steps 6
      --valid-every 3)
"${mpi[@]}" -np 2 "${wide[@]}" -o "$work/w.mrm" --log "$work/w.csv" > /dev/null 2> "$work/w.txt"
"${mpi[@]}" -np 2 "${wide[@]}" -o "$work/wo.mrm" --log "$work/wo.csv" --overlap > /dev/null 2> "$work/wo.txt"
grep -q '^mpi: 2 ranks, 12 allreduce calls (overlap off)' "$work/w.txt" || { cat "$work/w.txt"; exit 1; }
grep -q '^mpi: 2 ranks, 18 allreduce calls (overlap on)' "$work/wo.txt" || { cat "$work/wo.txt"; exit 1; }
same_losses "$work/w.csv" "$work/wo.csv" 1e-4 "-np 2, two segments"
echo "-np 2, 128 x 2 LSTM: two segments a step under --overlap, the same losses to rounding"

# Kill one rank after a checkpoint; mpirun then ends the job. --resume under mpirun continues.
last() { awk -F, 'NR > 1 && $1 !~ /step/ {loss[$1] = $3} END {for (s in loss) print s, loss[s]}' "$1" | sort -n; }
long=("${train[@]}" --steps 200 --valid-every 0 --checkpoint-every 20)
"${mpi[@]}" -np 2 "${long[@]}" -o "$work/a.mrm" --log "$work/a.csv"
"${mpi[@]}" -np 2 "${long[@]}" -o "$work/b.mrm" --log "$work/b.csv" --overlap & launcher=$!
for _ in $(seq 1 1000); do [ -s "$work/b.mrm" ] && break; sleep 0.01; done
victim=$(pgrep -P "$launcher" | tail -1 || true)
[ -n "$victim" ] && kill -9 "$victim"
wait "$launcher" 2>/dev/null || true
done_steps=$("$musicrnn" info "$work/b.mrm" | awk '/^trained/ {print $2}')
[ "$done_steps" -ge 20 ] && [ "$done_steps" -lt 200 ] || { echo "the kill landed at checkpoint step '$done_steps'"; exit 1; }
"${mpi[@]}" -np 2 "${long[@]}" -o "$work/b.mrm" --log "$work/b.csv" --resume "$work/b.mrm" --overlap
diff <(last "$work/a.csv") <(last "$work/b.csv") > "$work/diff.txt" ||
    { echo "resumed losses differ from the uninterrupted run (killed at step $done_steps):"; head "$work/diff.txt"; exit 1; }
echo "-np 2 --overlap: a rank killed after checkpoint step $done_steps; the resumed run equals the uninterrupted one"
