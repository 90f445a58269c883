#!/usr/bin/env bash
# Build (release) and run the benchmarks, printing Markdown tables.
#   bench/run.sh            all OpenBLAS thread counts of interest (1 and 2)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh build
build=build-bench
[ -d "$build" ] || meson setup "$build" --buildtype=release -Dtests=false -Ddocs=disabled >/dev/null
ninja -C "$build" bench/bench_sampling >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "libmusicrnn $("$build/tools/musicrnn" --version | awk '{print $2}'), OpenBLAS $(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null || echo '?')"
for threads in 1 2; do
    echo
    echo "## Sampling, OPENBLAS_NUM_THREADS=$threads"
    OPENBLAS_NUM_THREADS=$threads "$build/bench/bench_sampling"
done
