#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine (run as root): install the packages, build and
# install libmusicrnn (into /usr/local), then on the default corpus — the 31 MIDI pieces of
# Debian's openttd-openmsx — preprocess, train, and generate a new piece.
# Outputs go to ./musicrnn-out/ (override with OUT=...).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash tools/install-deps.sh main
out="${OUT:-$root/musicrnn-out}"
corpus_dir="${CORPUS:-/usr/share/games/openttd/baseset/openmsx}"
mkdir -p "$out"

meson setup "$root/build-main" --buildtype=release -Dtests=false >/dev/null 2>&1 || meson setup --reconfigure "$root/build-main" --buildtype=release -Dtests=false >/dev/null
ninja -C "$root/build-main"
meson install -C "$root/build-main" --quiet
ldconfig
# The Python package went to Debian's /usr/local site-packages with the library: check it imports.
/usr/bin/python3 -c 'import musicrnn; print("Python: import musicrnn works (library", musicrnn.library_version + ")")'
export PATH="/usr/local/bin:$PATH"

echo "== preprocess $corpus_dir"
musicrnn preprocess --encoding notechord --steps-per-quarter 4 --valid-fraction 0.15 --quiet \
    -o "$out/openmsx.mrc" "$corpus_dir"
echo "== train (Ctrl-C saves a checkpoint; continue with --resume)"
# 31 pieces overfit quickly: dropout 0.3 and a cosine schedule, and generation uses the model of the
# best validation loss (at about 200 steps; the last one is slightly worse).
musicrnn train "$out/openmsx.mrc" -o "$out/openmsx-last.mrm" --best "$out/openmsx.mrm" \
    --layers 2 --hidden 256 --embed 128 --dropout 0.3 --seq-len 64 --batch 32 --lr 0.003 \
    --schedule cosine --warmup 50 --steps "${STEPS:-300}" --valid-every 50 --log "$out/train.csv"
musicrnn info "$out/openmsx.mrm"
echo "== generate"
wav=()
command -v fluidsynth >/dev/null && wav=(--wav "$out/generated.wav")
musicrnn generate "$out/openmsx.mrm" -o "$out/generated.mid" --length 600 --temperature 0.9 --top-p 0.95 \
    --rng-seed "${SEED:-1}" --tempo 110 "${wav[@]}"
/usr/bin/python3 tools/plot.py loss "$out/train.csv" "$out/loss.png"
/usr/bin/python3 tools/plot.py pianoroll "$out/generated.mid" "$out/generated.png"
echo
echo "Outputs in $out: the corpus (.mrc), the model (.mrm), the training log and its plot, and the"
echo "generated piece as MIDI, WAV (if fluidsynth is installed) and a piano-roll picture:"
ls -l "$out"
