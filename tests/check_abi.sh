#!/bin/sh
# Fails when the dynamic symbols exported by the library differ from those listed in the
# version script: a forgotten export, or an internal symbol leaking into the ABI.
set -eu
nm="$1"; lib="$2"; map="$3"
exported=$("$nm" -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sed 's/@.*//' | grep -v '^MUSICRNN_' | sort -u)
listed=$(sed -n 's/^[[:space:]]*\(mrnn_[a-z0-9_]*\);.*/\1/p' "$map" | sort -u)
if [ "$exported" != "$listed" ]; then
    echo "exported symbols differ from $map:"
    echo "$exported" > /tmp/mrnn_abi_exported.$$
    echo "$listed" > /tmp/mrnn_abi_listed.$$
    diff -u /tmp/mrnn_abi_listed.$$ /tmp/mrnn_abi_exported.$$ || true
    rm -f /tmp/mrnn_abi_exported.$$ /tmp/mrnn_abi_listed.$$
    exit 1
fi
echo "$(echo "$listed" | wc -l) exported symbols match the version script"
