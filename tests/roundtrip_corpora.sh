#!/usr/bin/env bash
# Exact multitrack round trips (every instrument's notes: pitch, onset and length on the grid,
# program, drum flag) over the default corpus and the JSB chorales. Exit 77 (skip) if neither is there.
set -euo pipefail
exe="$1"
dirs=()
for d in "${MRNN_DEFAULT_CORPUS:-/usr/share/games/openttd/baseset/openmsx}" "${MRNN_SHARED_DATA:-/nonexistent}/jsb-chorales"; do
    [ -d "$d" ] && dirs+=("$d")
done
if [ ${#dirs[@]} -eq 0 ]; then
    echo "no corpus (openttd-openmsx, ../shared/data/jsb-chorales) installed: skipped"
    exit 77
fi
MRNN_ROUNDTRIP_DIRS="$(IFS=:; echo "${dirs[*]}")" CK_RUN_CASE=multitrack CK_RUN_SUITE=multitrack \
    CK_VERBOSITY=normal exec "$exe"
