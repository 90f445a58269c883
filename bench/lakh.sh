#!/usr/bin/env bash
# Lakh-scale preprocessing without Lakh: generate a synthetic corpus with the Lakh MIDI Dataset's
# shape (bench/lakh_gen.c; its distributions are in bench/README.md) from the MIDI files at hand,
# then time `musicrnn preprocess` on it with 1 and 2 threads: wall and CPU time, files/s, MB/s,
# peak RSS, the corpus size and the peak disk use (MIDI aside: the corpus and the temporary token
# file next to it).
#   bash bench/lakh.sh [N_FILES]      default 176581 (all of LMD-full); try 10000 first
# Environment: BUILD (default build/), WORK (default /tmp/musicrnn-lakh), ENCODING (default
# performance; notechord does not scale to Lakh, see bench/README.md), THREADS (default "1 2").
# The full run needs the whole machine, about 12 GB of disk for the MIDI and the corpus (9.4 GiB,
# written once: its temporary token file becomes the corpus file). Writes bench/lakh-results.txt.
set -euo pipefail
n="${1:-176581}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD:-$root/build}"
work="${WORK:-/tmp/musicrnn-lakh}"
encoding="${ENCODING:-performance}"
musicrnn="$build/tools/musicrnn"
thread_counts="${THREADS:-1 2}"
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"
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
free_kb() { df -k --output=avail "$work" | tail -1; }
{
    echo "# bench/lakh.sh $n files, $encoding, $(date -u '+%F %H:%M') UTC, $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "# MIDI: $bytes bytes in $(find "$work/midi" -name '*.mid' | wc -l) files; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    prev=""
    for threads in $thread_counts; do
        rm -f "$work/lakh.mrc"
        sync
        before=$(free_kb)
        # The lowest free space while it runs: the corpus, its temporary file and the page cache's
        # dirty pages are all on this disk.
        (low=$before; while sleep 1; do f=$(free_kb); [ "$f" -lt "$low" ] && low=$f; echo "$low" > "$work/low.txt"; done) &
        watcher=$!
        echo "$before" > "$work/low.txt"
        /usr/bin/time -f "%e %M %U %S" -o "$work/time.txt" "$musicrnn" preprocess -q -j "$threads" --no-folder-style \
            -e "$encoding" -o "$work/lakh.mrc" "$work/midi" > "$work/pre-$threads.txt" 2> "$work/progress-$threads.txt"
        kill "$watcher" 2> /dev/null || true
        wait "$watcher" 2> /dev/null || true
        low=$(cat "$work/low.txt")
        read -r secs rss_kb user sys < "$work/time.txt"
        size=$(stat -c %s "$work/lakh.mrc")
        files=$(awk '/^files/ {print $2 + $4}' "$work/pre-$threads.txt")
        awk -v t="$threads" -v s="$secs" -v r="$rss_kb" -v b="$bytes" -v f="$files" -v z="$size" -v u="$user" -v y="$sys" \
            -v d="$((before - low))" 'BEGIN {
            c = u + y
            printf "threads %d: %.1f s wall, %.1f s CPU (%.1f user + %.1f sys), %.0f files/s, %.1f MB/s, %.2f CPU ms/file, peak RSS %.0f MiB, corpus %.0f MiB, free space down by up to %.0f MiB (df, once a second)\n",
                   t, s, c, u, y, f / s, b / 1e6 / s, 1000 * c / f, r / 1024, z / 1048576, d / 1024 }'
        sum=$(sha256sum "$work/lakh.mrc" | cut -c1-16)
        if [ -n "$prev" ]; then
            [ "$sum" = "$prev" ] && echo "the corpus file is the same for every thread count (sha256 $sum)" \
                                 || echo "THE CORPUS FILES DIFFER between thread counts ($prev, $sum)"
        fi
        prev=$sum
    done
    grep -E "^(/|files|skipped|train|valid|time)" "$work/pre-${thread_counts##* }.txt" | cut -c1-160 | grep -v "^skipped /" || true
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
