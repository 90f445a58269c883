#!/usr/bin/env bash
# Run every libFuzzer harness (or the TARGETs named) for SECONDS each, one after the other, starting
# from the seed corpora in fuzz/corpus/<target>/. New inputs go to a scratch folder, not into the
# repository. Exits non-zero on any finding (crash, sanitizer report, leak, timeout, out-of-memory);
# the reproducer is left in $FUZZ_OUT (default /tmp/musicrnn-fuzz) as crash-*, leak-*, timeout-* or oom-*.
#   fuzz/run.sh SECONDS [TARGET...]         (builds with fuzz/build.sh into $FUZZ_BUILD, default build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:?usage: fuzz/run.sh SECONDS [TARGET...]}"
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(midi corpus_file model_file seed_text multitrack)
build="${FUZZ_BUILD:-build-fuzz}"
out="${FUZZ_OUT:-/tmp/musicrnn-fuzz}"
bash fuzz/build.sh "$build" >/dev/null
mkdir -p "$out"
# Any UB report is fatal (also set at compile time); leaks are findings; OpenBLAS stays single-threaded.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export OPENBLAS_NUM_THREADS=1
status=0
for t in "${targets[@]}"; do
    work="$out/$t-corpus"
    mkdir -p "$work"
    log="$out/$t.log"
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb: 2 GB is far above any legitimate
    # use of these small inputs, so reaching it is a finding (a hostile size that is not capped).
    # The reproducers of past findings are read with the seeds, so each run first re-checks them
    # with clang's sanitizers (which catch more than gcc's in the ordinary replay tests).
    repro=()
    [ -d "tests/data/fuzz/$t" ] && repro=("tests/data/fuzz/$t")
    if "$build/fuzz/fuzz_$t" "$work" "fuzz/corpus/$t" "${repro[@]}" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/$t-" >"$log" 2>&1; then
        execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
        cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
        echo "fuzz $t: ${seconds}s, $execs executions, $cov, corpus $(ls "$work" | wc -l) inputs: no finding"
    else
        echo "fuzz $t: FINDING (log $log):"
        grep -E "ERROR|runtime error|SUMMARY|Test unit written" "$log" | head -5
        status=1
    fi
done
exit $status
