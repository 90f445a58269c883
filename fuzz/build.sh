#!/usr/bin/env bash
# Build the libFuzzer harnesses with clang, AddressSanitizer and UndefinedBehaviorSanitizer into
# BUILD_DIR (default build-fuzz). Any UB report aborts (-fno-sanitize-recover), so it is a finding.
#   fuzz/build.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-fuzz}"
if [ ! -f "$build/build.ninja" ]; then
    CC=clang meson setup "$build" -Dfuzz=true -Dtests=false -Dexamples=false -Ddocs=disabled \
        -Dpython=disabled -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args='-fno-sanitize-recover=all -fno-omit-frame-pointer' >/dev/null
fi
ninja -C "$build" -j2 fuzz/fuzz_midi fuzz/fuzz_corpus_file fuzz/fuzz_model_file fuzz/fuzz_seed_text fuzz/fuzz_multitrack
