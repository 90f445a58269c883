#!/usr/bin/env bash
# Build the examples against an INSTALLED libmusicrnn, using pkg-config only, and run them.
#   examples/check-installed.sh PREFIX
# Checks that the program loads the shared library from PREFIX (ldd), that a static build links
# with `pkg-config --static`, and that the composed MIDI file is a standard MIDI file.
set -euo pipefail
prefix="$1"
here="$(cd "$(dirname "$0")" && pwd)"
corpus="${MRNN_DEFAULT_CORPUS:-/usr/share/games/openttd/baseset/openmsx}"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
work="$(mktemp -d /tmp/musicrnn-examples.XXXXXX)"
trap 'rm -rf "$work"' EXIT

libdir="$(pkg-config --variable=libdir musicrnn)"
echo "examples: musicrnn $(pkg-config --modversion musicrnn) from $libdir"
cc -std=c99 -Wall -Wextra -Werror -o "$work/compose" "$here/compose.c" \
   $(pkg-config --cflags --libs musicrnn) -Wl,-rpath,"$libdir"

loaded="$(ldd "$work/compose" | awk '/libmusicrnn\.so/ {print $3}')"
if [ "$loaded" != "$libdir/libmusicrnn.so.0" ]; then
    echo "examples: compose loads '$loaded', not $libdir/libmusicrnn.so.0" >&2
    exit 1
fi

# A static build: the archive plus the private requirements pkg-config lists.
cc -std=c99 -o "$work/compose-static" "$here/compose.c" $(pkg-config --cflags musicrnn) \
   "$libdir/libmusicrnn.a" $(pkg-config --static --libs musicrnn | sed 's/-lmusicrnn//')
if ldd "$work/compose-static" | grep -q libmusicrnn; then
    echo "examples: the static build still loads libmusicrnn.so" >&2
    exit 1
fi

for exe in compose compose-static; do
    "$work/$exe" "$corpus" "$work/$exe.mid" 20 2> "$work/$exe.log" || { cat "$work/$exe.log" >&2; exit 1; }
    if [ "$(head -c 4 "$work/$exe.mid")" != "MThd" ]; then
        echo "examples: $exe did not write a standard MIDI file" >&2
        exit 1
    fi
    echo "examples: $exe OK ($(stat -c %s "$work/$exe.mid") bytes of MIDI)"
done
