#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine (run as root): install the packages, build and
# install libmusicrnn (into /usr/local), then on the default corpus — the 31 MIDI pieces of
# Debian's openttd-openmsx, arrangements for band — preprocess with the multitrack encoding, train,
# and generate a new piece with a bass line, a melody and drums on their own channels.
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

echo "== preprocess $corpus_dir (multitrack: every note keeps its instrument, drums included)"
# Every piece moved to C major / A minor (its estimated key; drums stay): 31 pieces in a dozen keys
# are too few for a small model to learn to keep to one key, and in one key it does (scale
# consistency 0.96 instead of 0.64, docs/QUALITY.md). Transposed copies would undo that.
musicrnn preprocess --encoding multitrack --steps-per-quarter 4 --valid-fraction 0.15 --normalize-key \
    -o "$out/openmsx.mrc" "$corpus_dir" > "$out/preprocess.txt"
# (awk, not grep | head: under pipefail, grep killed by head's early exit would stop the script)
awk '/^ +instruments:/ && n++ < 3' "$out/preprocess.txt"
echo "   ... (every file's instruments: $out/preprocess.txt)"
tail -6 "$out/preprocess.txt"
# The held-out pieces, to compare the generated one with.
rm -rf "$out/heldout" "$out/generated"
mkdir -p "$out/heldout" "$out/generated"
sed -nE 's/^read +(.*): [0-9]+ notes, .* -> valid$/\1/p' "$out/preprocess.txt" | while read -r f; do cp "$f" "$out/heldout/"; done
echo "== train (Ctrl-C saves a checkpoint; continue with --resume)"
# 31 pieces overfit quickly: dropout 0.3 and a cosine schedule; generation uses the model of the
# best validation loss (docs/QUALITY.md has the curve).
musicrnn train "$out/openmsx.mrc" -o "$out/openmsx-last.mrm" --best "$out/openmsx.mrm" \
    --layers 2 --hidden 256 --embed 128 --dropout 0.3 --seq-len 128 --batch 32 --lr 0.003 \
    --schedule cosine --warmup 50 --steps "${STEPS:-300}" --valid-every 50 --log "$out/train.csv"
musicrnn info "$out/openmsx.mrm"
echo "== generate a band: piano, bass, guitar and drums (the corpus's most common parts)"
# Each part in its own register: the bass low, the guitar's chords in the middle, the piano's melody
# above (left alone, the model lets piano and guitar wander down into the bass's range). The seed
# text counts the band in on a C chord: unseeded, the model picks its parts itself and half the
# time leaves the piano out, with a seed that sounds every part it keeps them (docs/QUALITY.md).
# The piece is in song form, AABA of 8 bars each: the model writes A and B, and A comes back note for
# note (left to itself the model does not return to what it played: docs/QUALITY.md).
band_seed="DRUM_36 DRUM_42 PROGRAM_bass NOTE_36 DUR_4 PROGRAM_piano NOTE_72 DUR_2 PROGRAM_guitar NOTE_60 DUR_4"
band_seed="$band_seed NOTE_64 DUR_4 TIME_SHIFT_2"
wav=()
command -v fluidsynth >/dev/null && wav=(--wav "$out/generated.wav")
musicrnn generate "$out/openmsx.mrm" -o "$out/generated.mid" --form "${FORM:-AABA}" --section-bars 8 \
    --temperature 0.8 --top-p 0.9 \
    --seed "${BAND_SEED:-$band_seed}" \
    --instruments "${INSTRUMENTS:-piano,bass,guitar,drums}" \
    --instrument-range "${RANGES:-bass=28-52,guitar=48-72,piano=60-84}" --rng-seed "${SEED:-1}" --tempo 110 "${wav[@]}"
cp "$out/generated.mid" "$out/generated/"
# An independent reader (mido): notes on at least three channels including 10, program changes first.
/usr/bin/python3 tools/check_band.py "$out/generated.mid" 3
/usr/bin/python3 tools/plot.py loss "$out/train.csv" "$out/loss.png"
/usr/bin/python3 tools/plot.py pianoroll "$out/generated.mid" "$out/generated.png"
echo "== the generated piece next to the held-out pieces"
echo "   (the piece is in C major / A minor, the held-out files in their own keys: the pitch-class"
echo "   histogram differs for that reason; scale consistency (in_key) and entropy do not depend on the key)"
musicrnn eval --generated "$out/generated" --reference "$out/heldout"
echo
echo "Outputs in $out: the corpus (.mrc), the model (.mrm), the training log and its plot, and the"
echo "generated piece as MIDI, WAV (if fluidsynth is installed) and a piano-roll picture:"
ls -l "$out"
