#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (run as root):
#   1. install the packages it needs,
#   2. build with warnings as errors and the API manual (undocumented API fails the build),
#   3. run every Check suite, the ABI and header tests and the CLI workflow (meson test), then the
#      Check suites again under valgrind, the whole suite under ASan+UBSan, the thread tests under
#      ThreadSanitizer, and each libFuzzer harness for a bounded time (MRNN_FUZZ_SECONDS, default 45),
#   4. install into a temporary prefix and build + run the examples against the installed
#      library with pkg-config alone, and run the Python tests against the installed package,
#   5. build the Debian packages (debian/), check them with lintian, install them, build and run
#      examples/compose.c against them, check the package build's ABI, and purge them again
#      (tools/check-packages.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# OpenBLAS 0.3.21 picks kernels by CPU; on the AVX-512 CPUs of the project's machines its own
# choice is unsafe, so the suite runs on its Haswell kernels unless the caller chose otherwise.
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"
bash tools/install-deps.sh test

build="$root/build-tests"
prefix="$(mktemp -d /tmp/musicrnn-prefix.XXXXXX)"
trap 'rm -rf "$prefix"' EXIT
rm -rf "$build"
meson setup "$build" -Dwerror=true -Ddocs=enabled --prefix="$prefix" --libdir=lib >/dev/null
ninja -C "$build"
echo "== unit, ABI and header tests"
status=0
meson test -C "$build" --print-errorlogs --num-processes 2 || status=1

echo "== the unit suites again under valgrind (errors and leaks fail)"
meson test -C "$build" --setup valgrind --suite unit --print-errorlogs --num-processes 2 \
    --logbase testlog-valgrind || status=1

# ---- reliability: sanitizers and fuzzing (docs/RELIABILITY.md) ----------------------------------
# Every finding fails the run: an ASan/UBSan/TSan report, a leak, a fuzzer crash, hang or
# out-of-memory. OpenBLAS is not instrumented; one BLAS thread keeps its own threads out of the way.
echo "== the whole meson suite again under ASan+UBSan (cli workflow included: preprocess of malformed MIDI)"
san="$root/build-asan"
rm -rf "$san"
meson setup "$san" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Ddocs=disabled \
    -Dexamples=false -Dpython=disabled >/dev/null
ninja -C "$san" >/dev/null
# A Python test would load the instrumented library into an uninstrumented interpreter: not here.
OPENBLAS_NUM_THREADS=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    meson test -C "$san" --print-errorlogs --num-processes 2 --no-suite python --logbase testlog-asan || status=1

echo "== samplers sharing one model in parallel threads under ThreadSanitizer"
tsan="$root/build-tsan"
rm -rf "$tsan"
meson setup "$tsan" -Db_sanitize=thread -Db_lundef=false -Ddocs=disabled -Dexamples=false \
    -Dpython=disabled >/dev/null
ninja -C "$tsan" tests/check_threads tests/check_team tests/check_overlap tests/check_spill >/dev/null
# No suppressions: with one BLAS thread every access TSan sees is made by our threads.
OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    meson test -C "$tsan" --no-rebuild --suite threads --print-errorlogs --logbase testlog-tsan || status=1
# The spilled corpus read on 2 threads (its tokens leave memory on the committing thread).
OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    meson test -C "$tsan" --no-rebuild spill --print-errorlogs --logbase testlog-tsan-spill || status=1

echo "== each fuzzer for ${MRNN_FUZZ_SECONDS:=45} s (clang, ASan+UBSan; past reproducers re-checked first)"
FUZZ_BUILD="$root/build-fuzz" FUZZ_OUT="$(mktemp -d /tmp/musicrnn-fuzz.XXXXXX)" \
    bash fuzz/run.sh "$MRNN_FUZZ_SECONDS" || status=1
# ---- end reliability ------------------------------------------------------------------------------

echo "== install into $prefix and build the examples against it"
meson install -C "$build" --quiet
bash examples/check-installed.sh "$prefix" || status=1

echo "== the Python package as installed in $prefix (no MUSICRNN_LIBRARY: it must find its own library)"
pkg="$(find "$prefix" -path '*-packages/musicrnn/_build_config.py' -printf '%h\n' | head -n 1)"
if [ -z "$pkg" ]; then
    echo "python: the musicrnn package was not installed into $prefix" >&2
    status=1
else
    env -u MUSICRNN_LIBRARY PYTHONPATH="$(dirname "$pkg")" PYTHONDONTWRITEBYTECODE=1 \
        MUSICRNN_EXPECT_PACKAGE_DIR="$pkg" MUSICRNN_EXPECT_LIBDIR="$prefix/lib" \
        MUSICRNN_HEADER="$prefix/include/musicrnn/musicrnn.h" \
        /usr/bin/python3 -m pytest -q -p no:cacheprovider python/tests || status=1
fi

echo "== Debian packages: build, lintian, install, compose.c against libmusicrnn-dev, ABI dump; then purge"
bash tools/check-packages.sh || status=1

# One closing line for CI: totals over every test meson ran.
/usr/bin/python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r == "SKIP": skip += 1
    else: bad += 1
print(f"meson: {ok} passed, {bad} failed, {skip} skipped")
PY
exit $status
