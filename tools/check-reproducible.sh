#!/usr/bin/env bash
# Reproducible build: build the Debian packages twice, from copies of the tree at two different
# paths, and require the same bytes: the shared library as linked (with its debug information),
# the static library, the program, and every .deb. Run as root on Debian 12.
#   tools/check-reproducible.sh [FIRST]
# FIRST: a directory holding a build made the same way already (FIRST/src/obj-*, FIRST/*.deb, as
# tools/check-packages.sh leaves it), so that only the second build is made.
# The build gets its time stamp from debian/changelog (SOURCE_DATE_EPOCH, set by dpkg) and maps
# the build path away with dpkg-buildflags' -ffile-prefix-map; this shows that nothing else
# (paths, dates, the order of a directory listing, the user) leaks into the output.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/musicrnn-repro.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# The tracked files of a git checkout; from an unpacked tarball, everything but build trees.
copy_tree() { # DEST
    if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$root" ls-files -z | (cd "$root" && tar --null -T - -c) | tar -x -C "$1"
    else
        (cd "$root" && tar -c --exclude='./build*' --exclude='./obj-*' --exclude='./debian/tmp' .) | tar -x -C "$1"
    fi
}
build() { # DIR
    mkdir -p "$1/src"
    copy_tree "$1/src"
    (cd "$1/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) > "$1/build.log" 2>&1 \
        || { tail -n 40 "$1/build.log" >&2; echo "reproducible: the build in $1 failed" >&2; exit 1; }
}
start=$(date +%s)
first="${1:-}"
if [ -z "$first" ]; then
    first="$work/first"
    build "$first"
fi
# A deeper, differently named path for the second build.
build "$work/second-build/at/another/path"
b="$work/second-build/at/another/path"

status=0
same() { # LABEL FILE1 FILE2
    if cmp -s "$2" "$3"; then
        echo "same: $1"
    else
        echo "DIFFERENT: $1 ($2 vs $3)"; status=1
    fi
}
for f in lib/libmusicrnn.so.0 lib/libmusicrnn.a tools/musicrnn; do
    same "$f (as built, unstripped)" "$(ls "$first"/src/obj-*/"$f")" "$(ls "$b"/src/obj-*/"$f")"
done
for deb in "$first"/*.deb; do
    same "$(basename "$deb")" "$deb" "$b/$(basename "$deb")"
done
echo "reproducible: $( [ -n "${1:-}" ] && echo "second build" || echo "two builds") in $(($(date +%s) - start)) s"
exit $status
