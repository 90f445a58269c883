#!/usr/bin/env bash
# Install the Debian 12 packages libmusicrnn needs. Run as root.
#   install-deps.sh build   - compiler, meson, libsmf, OpenBLAS, Check, Doxygen, Open MPI (for
#                             `mpirun musicrnn train`; the library itself never links MPI)
#   install-deps.sh main    - build + the default MIDI corpus, FluidSynth and a General MIDI
#                             soundfont (WAV output), Matplotlib (plots)
#   install-deps.sh test    - build + valgrind, clang sanitizer runtimes, pytest, mido, cffi, numpy,
#                             Matplotlib (Python bindings and their examples), libabigail (ABI
#                             check), debhelper, dh-python, lintian (the Debian packages)
#   install-deps.sh bench   - test + PyTorch (the reference of the benchmarks)
set -euo pipefail
what="${1:-build}"
build=(build-essential meson ninja-build pkg-config libsmf-dev libopenblas-dev check doxygen libopenmpi-dev openmpi-bin)
main=(openttd-openmsx fluidsynth fluid-soundfont-gm python3 python3-matplotlib python3-numpy python3-mido)
test=(valgrind clang libclang-rt-14-dev python3 python3-pytest python3-mido python3-cffi python3-numpy python3-matplotlib openttd-openmsx
      abigail-tools debhelper dh-python dpkg-dev fakeroot lintian pkgconf xz-utils)
bench=(python3-torch python3-matplotlib hyperfine)
case "$what" in
  build) pkgs=("${build[@]}") ;;
  main)  pkgs=("${build[@]}" "${main[@]}") ;;
  test)  pkgs=("${build[@]}" "${test[@]}") ;;
  bench) pkgs=("${build[@]}" "${test[@]}" "${bench[@]}") ;;
  *) echo "usage: $0 build|main|test|bench" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages (${missing[*]}); run this script as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
