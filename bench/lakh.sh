#!/usr/bin/env bash
# Lakh-scale preprocessing without Lakh: generate a synthetic corpus with the Lakh MIDI Dataset's
# shape (bench/lakh_gen.c; its distributions are in bench/README.md) from the MIDI files at hand,
# then time `musicrnn preprocess` on it with 1 and 2 threads: files/s, MB/s, peak RSS, corpus size.
#   bash bench/lakh.sh [N_FILES]      default 176581 (all of LMD-full); try 10000 first
# Needs the whole machine for figures worth quoting. Writes bench/lakh-results.txt.
set -euo pipefail
n="${1:-176581}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD:-$root/build}"
work="${WORK:-/tmp/musicrnn-lakh}"
musicrnn="$build/tools/musicrnn"
ninja -C "$build" tools/musicrnn bench/lakh_gen > /dev/null
sources=(/usr/share/games/openttd/baseset/openmsx)
[ -d "$root/../shared/data/jsb-chorales" ] && sources+=("$root/../shared/data/jsb-chorales")
mkdir -p "$work"
if [ "$(cat "$work/n" 2>/dev/null)" != "$n" ]; then
    rm -rf "$work/midi"
    /usr/bin/time -f "generate: %e s" "$build/bench/lakh_gen" "$work/midi" "$n" 1 "${sources[@]}" 2>&1 | grep -v "files$"
    echo "$n" > "$work/n"
fi
bytes=$(du -sb "$work/midi" | cut -f1)
out="$root/bench/lakh-results.txt"
{
    echo "# bench/lakh.sh $n files, $(date -u +%F), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "# MIDI: $bytes bytes in $(find "$work/midi" -name '*.mid' | wc -l) files"
    for threads in 1 2; do
        sync
        /usr/bin/time -f "%e %M %U %S" -o "$work/time.txt" "$musicrnn" preprocess -q -j "$threads" --no-folder-style \
            ${ENCODING:+-e "$ENCODING"} -o "$work/lakh-$threads.mrc" "$work/midi" > "$work/pre-$threads.txt" 2> /dev/null
        read -r secs rss_kb user sys < "$work/time.txt"
        size=$(stat -c %s "$work/lakh-$threads.mrc")
        files=$(awk '/^files/ {print $2 + $4}' "$work/pre-$threads.txt")
        awk -v t="$threads" -v s="$secs" -v r="$rss_kb" -v b="$bytes" -v f="$files" -v z="$size" -v c="$user $sys" 'BEGIN {
            split(c, cpu, " "); u = cpu[1] + cpu[2]
            printf "threads %d: %.1f s wall, %.1f s CPU, %.0f files/s, %.1f MB/s, peak RSS %.0f MiB, corpus %.0f MiB\n",
                   t, s, u, f / s, b / 1e6 / s, r / 1024, z / 1048576 }'
    done
    cmp -s "$work/lakh-1.mrc" "$work/lakh-2.mrc" && echo "the corpus files of 1 and 2 threads are identical"
    grep -E "^(/|files|skipped|train|valid|time)" "$work/pre-2.txt"
    echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
