#!/usr/bin/env bash
# Build the Debian packages from debian/, check them with lintian, install them on this machine,
# build and run examples/compose.c against the installed libmusicrnn-dev with pkg-config, use the
# installed program and Python package, check the package build's library against the ABI dump,
# build once more at another path and compare the bytes (tools/check-reproducible.sh), and purge
# the packages again. Run as root on Debian 12 (tools/run-tests.sh does).
#   tools/check-packages.sh [WORKDIR]
# dpkg-buildpackage writes its results next to the source tree, so the tracked files are copied
# into WORKDIR/src (default: a new temporary directory, removed at the end) and built there.
# DEB_BUILD_OPTIONS=nocheck: the test suite has already run on this commit in tools/run-tests.sh;
# running it again inside the package build would double the CI time for no new information.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-}"
if [ -z "$work" ]; then
    work="$(mktemp -d /tmp/musicrnn-deb.XXXXXX)"
    remove_work=1
else
    mkdir -p "$work"
    remove_work=0
fi
packages=(libmusicrnn0 libmusicrnn-dev musicrnn-tools python3-musicrnn libmusicrnn-doc)
installed_here=0
cleanup() {
    if [ "$installed_here" = 1 ]; then
        DEBIAN_FRONTEND=noninteractive dpkg --purge "${packages[@]}" >/dev/null || true
    fi
    if [ "$remove_work" = 1 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
# The tracked files of a git checkout; from an unpacked tarball, everything but build trees.
copy_tree() { # DEST
    if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$root" ls-files -z | (cd "$root" && tar --null -T - -c) | tar -x -C "$1"
    else
        (cd "$root" && tar -c --exclude='./build*' --exclude='./obj-*' --exclude='./debian/tmp' .) | tar -x -C "$1"
    fi
}
fail() { echo "packages: $*" >&2; exit 1; }

# A package of the same name already installed would hide what these .debs install.
for p in "${packages[@]}"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        fail "$p is already installed; remove it first (apt-get purge ${packages[*]})"
    fi
done

start=$(date +%s)
rm -rf "$work/src"
mkdir -p "$work/src"
copy_tree "$work/src"
version="$(dpkg-parsechangelog -l "$work/src/debian/changelog" -S Version)"
# The source package too, for lintian's source checks: an orig tarball of the copied tree without
# debian/, as a distribution would make it from the release tag; made before the build, while the
# copy is pristine.
upstream="${version%-*}"
rm -rf "$work/source" && mkdir "$work/source"
(cd "$work/src" && find . -path ./debian -prune -o -type f -print0 | LC_ALL=C sort -z \
    | tar --null -T - -c --transform "s,^\./,libmusicrnn-$upstream/," --owner=0 --group=0 --numeric-owner \
          --mtime="@$(dpkg-parsechangelog -l debian/changelog -S Timestamp)") | xz > "$work/source/libmusicrnn_$upstream.orig.tar.xz"
tar -xf "$work/source/libmusicrnn_$upstream.orig.tar.xz" -C "$work/source"
cp -a "$work/src/debian" "$work/source/libmusicrnn-$upstream/"
(cd "$work/source" && dpkg-source -b "libmusicrnn-$upstream" > "$work/source.log" 2>&1) \
    || { cat "$work/source.log" >&2; fail "dpkg-source -b failed"; }

echo "== dpkg-buildpackage -us -uc -b ($version, nocheck) in $work"
(cd "$work/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) \
    > "$work/build.log" 2>&1 || { tail -n 60 "$work/build.log" >&2; fail "dpkg-buildpackage failed (log: $work/build.log)"; }
changes="$(ls "$work"/libmusicrnn_*.changes)"
built=$(date +%s)

# No --show-overrides: lintian 2.116 then counts the overridden warnings for --fail-on.
echo "== lintian (errors and warnings fail; debian/source/lintian-overrides says why each override is there)"
lintian --fail-on error,warning --display-info "$changes" "$work/source/libmusicrnn_$version.dsc" \
    || fail "lintian reports errors or warnings"

echo "== install the packages"
debs=()
for p in "${packages[@]}"; do
    arch=$(if [ "$p" = python3-musicrnn ] || [ "$p" = libmusicrnn-doc ]; then echo all; else dpkg --print-architecture; fi)
    debs+=("$work/${p}_${version}_${arch}.deb")
done
linted=$(date +%s)
installed_here=1
# dpkg -i, not apt-get install ./*.deb: it refuses as well when a Depends is not met (the build
# dependencies installed every run-time dependency), and it skips apt's resolver.
DEBIAN_FRONTEND=noninteractive dpkg -i "${debs[@]}" > "$work/install.log" 2>&1 \
    || { cat "$work/install.log" >&2; fail "dpkg -i of the .debs failed"; }
installed=$(date +%s)

# Each package holds what it should, and the library package only the library. Read from the
# .debs, not from dpkg -L: a minimal image may exclude /usr/share/man or /usr/share/doc on unpack.
libdir="/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)"
upstream_version="${version%-*}"
contents() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's,^\.,,; s,/$,,'; }
want() { # PACKAGE-INDEX FILE...
    local deb="${debs[$1]}"; shift
    local list; list="$(contents "$deb")"
    for f in "$@"; do grep -qx -- "$f" <<<"$list" || fail "$(basename "$deb") does not contain $f"; done
}
want 0 "$libdir/libmusicrnn.so.0" "$libdir/libmusicrnn.so.$upstream_version"
want 1 /usr/include/musicrnn/musicrnn.h /usr/include/musicrnn/musicrnn_version.h \
    "$libdir/libmusicrnn.so" "$libdir/libmusicrnn.a" "$libdir/pkgconfig/musicrnn.pc"
want 2 /usr/bin/musicrnn /usr/share/man/man1/musicrnn.1.gz
want 3 /usr/lib/python3/dist-packages/musicrnn/__init__.py
want 4 /usr/share/doc/libmusicrnn-doc/html/index.html
extra="$(contents "${debs[0]}" | grep -v -e '^/usr/share/doc' -e '^/usr/share/lintian' -e "^$libdir/libmusicrnn\.so\.0" \
    | grep -v -x -e '' -e /usr -e /usr/lib -e "$libdir" -e /usr/share || true)"
[ -z "$extra" ] || fail "libmusicrnn0 holds more than the library: $extra"
if contents "${debs[3]}" | grep -q _build_config.py; then
    fail "python3-musicrnn ships _build_config.py (debian/rules removes it: the library is on the default path)"
fi

echo "== examples/compose.c against the installed libmusicrnn-dev (pkg-config only)"
# Only the system's own pkg-config directories: a build installed by hand into /usr/local (as
# tools/run-main.sh does) would otherwise come first and be checked instead of the package.
export PKG_CONFIG_LIBDIR="$libdir/pkgconfig:/usr/lib/pkgconfig:/usr/share/pkgconfig"
# The compiler and linker search /usr/local before /usr too, and drop -I/usr/include as a system
# directory: name the package's header through a directory of our own (CPATH), and keep
# pkg-config's -L for the system libdir.
mkdir -p "$work/include" && ln -sfn /usr/include/musicrnn "$work/include/musicrnn"
export CPATH="$work/include" PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
[ "$(pkg-config --modversion musicrnn)" = "${version%-*}" ] || fail "pkg-config says musicrnn $(pkg-config --modversion musicrnn), not ${version%-*}"
bash "$root/examples/check-installed.sh" /usr

echo "== the installed program and Python package"
# ld.so searches /usr/local/lib before /usr/lib: a hand install there (tools/run-main.sh) would be
# loaded instead of the package's library, so name the package's directory first.
if ls /usr/local/lib/*/libmusicrnn.so.0 /usr/local/lib/libmusicrnn.so.0 >/dev/null 2>&1; then
    echo "packages: note: a libmusicrnn in /usr/local shadows the package's for programs on this machine"
fi
export LD_LIBRARY_PATH="$libdir"
/usr/bin/musicrnn --version | grep -q "library ${version%-*}" || fail "musicrnn --version does not report ${version%-*}"
# No _build_config.py in the package: the module must find the library on the loader's path.
# -S and an explicit path: /usr/local's dist-packages (a hand install) comes first in sys.path.
(cd / && env -u MUSICRNN_LIBRARY -u PYTHONPATH /usr/bin/python3 -S -c '
import sys
sys.path.insert(0, "/usr/lib/python3/dist-packages")
import musicrnn
assert musicrnn.__file__.startswith("/usr/lib/python3/dist-packages/"), musicrnn.__file__
assert musicrnn.library_version == sys.argv[1] == musicrnn.__version__, (musicrnn.library_version, sys.argv[1])
print("python3-musicrnn:", musicrnn.__file__, "with libmusicrnn", musicrnn.library_version)
' "${version%-*}") || fail "python3-musicrnn does not import"

echo "== the package build's library against abi/libmusicrnn.so.0.abi"
/usr/bin/python3 "$root/tests/abi_compat.py" check "$(ls "$work"/src/obj-*/lib/libmusicrnn.so.0)" \
    "$root/abi/libmusicrnn.so.0.abi" "$root/lib/musicrnn.map" --headers-dir "$root/include/musicrnn" \
    || fail "the packaged library breaks the ABI"

checked=$(date +%s)
# The build again at another path must give the same bytes (MRNN_REPRODUCIBLE=0 skips it).
if [ "${MRNN_REPRODUCIBLE:-1}" != 0 ]; then
    echo "== reproducible: a second package build at another path, compared byte for byte"
    bash "$root/tools/check-reproducible.sh" "$work" || fail "the second build differs"
fi

echo "packages: build $((built - start)) s, lintian $((linted - built)) s, install $((installed - linted)) s," \
     "checks $((checked - installed)) s, reproducibility $(($(date +%s) - checked)) s"
