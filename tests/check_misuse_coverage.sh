#!/usr/bin/env bash
# Every exported function must have a misuse test: each symbol of the version script is called in
# the misuse test file, and a function whose first parameter is a pointer (a handle, an out-parameter
# or a params struct) is called there with NULL in that place. A new public function without such a
# test fails this check.
#   check_misuse_coverage.sh MUSICRNN.MAP MUSICRNN.H CHECK_API.C
set -euo pipefail
map="$1"; header="$2"; tests="$3"
symbols=$(grep -oE '^[[:space:]]+mrnn_[a-z0-9_]+;' "$map" | tr -d ' \t;')
[ -n "$symbols" ] || { echo "no symbols found in $map"; exit 1; }
flat=$(tr '\n' ' ' < "$header")
missing=0
count=0
for s in $symbols; do
    count=$((count + 1))
    proto=$(grep -oE "MRNN_API [^;]*[^a-z0-9_]$s\([^)]*\)" <<< "$flat" | head -1 || true)
    if [ -z "$proto" ]; then
        echo "$s: exported but not declared in $(basename "$header")"; missing=1; continue
    fi
    if ! grep -qE "(^|[^a-z0-9_])$s\(" "$tests"; then
        echo "$s: never called in $(basename "$tests")"; missing=1; continue
    fi
    first=$(sed -E "s/.*$s\(//; s/[,)].*//" <<< "$proto")
    if [[ "$first" == *"*"* ]] && ! grep -qE "(^|[^a-z0-9_])$s\(NULL" "$tests"; then
        echo "$s: first parameter ($first) is a pointer but no call passes NULL in $(basename "$tests")"; missing=1
    fi
done
[ "$missing" -eq 0 ] || exit 1
echo "all $count exported functions have misuse tests"
