#!/usr/bin/env bash
# Build (release) and run every benchmark, this library and PyTorch side by side in one run.
#   bash bench/run.sh           full run (about 6 minutes on an idle 2-core machine)
#   bash bench/run.sh --quick   fewer configurations and repetitions (a few minutes)
# Prints Markdown tables; writes bench/results.json, bench/results.md and bench/scaling.png.
set -euo pipefail
cd "$(dirname "$0")/.."
# OpenBLAS 0.3.21 is unsafe on Zen 5 with its own kernel choice; the tables print the setting.
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"
bash tools/install-deps.sh bench
build=build-bench
[ -d "$build" ] || meson setup "$build" --buildtype=release -Dtests=false -Ddocs=disabled >/dev/null
ninja -C "$build" bench/bench_train bench/bench_sampling bench/bench_preprocess bench/ceilings >/dev/null
exec /usr/bin/python3 bench/run.py "$build" "$@"
