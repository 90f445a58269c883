#!/usr/bin/env bash
# Musical statistics of generated pieces against a held-out set (issue #8, part 3), one command:
#
#   bench/music_stats.sh [WORKDIR]
#
# Trains a small notechord model on the training pieces, generates COUNT pieces at each of four
# temperatures, makes two random baselines, and prints one Markdown table: the statistics of the
# training data, the held-out reference, every temperature and the baselines, with distances to the
# reference. Data: the JSB Chorales (../shared/data/jsb-chorales: train/ for training, test/ as
# the reference) or, without ../shared, the openmsx corpus (every fourth file held out).
# Knobs (environment): STEPS (training steps, default 600), COUNT (pieces per temperature,
# default 32), BARS (length of a generated piece in 4/4 bars, default 12), THREADS (default 2),
# REUSE_MODEL=1 (keep the model already in WORKDIR).
# Definitions of the statistics: docs/QUALITY-STATISTICS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-600} COUNT=${COUNT:-32} BARS=${BARS:-12} THREADS=${THREADS:-2}
python=/usr/bin/python3

build=build-bench
[ -d "$build" ] || meson setup "$build" --buildtype=release -Dtests=false -Ddocs=disabled >/dev/null
ninja -C "$build" tools/musicrnn >/dev/null
mr="$build/tools/musicrnn"
lib="$build/lib/libmusicrnn.so"

work="${1:-$(mktemp -d /tmp/musicrnn-stats.XXXXXX)}"
mkdir -p "$work"
jsb=${JSB_DIR:-../shared/data/jsb-chorales} # JSB_DIR=/nonexistent tries the openmsx fallback
if [ -d "$jsb/train" ] && [ -d "$jsb/test" ]; then
    data="JSB Chorales (train: $jsb/train, reference: the test split)"
    train_dir="$(cd "$jsb/train" && pwd)"; ref_dir="$(cd "$jsb/test" && pwd)"
else
    corpus=/usr/share/games/openttd/baseset/openmsx
    data="openmsx (every fourth file in sorted order held out as the reference)"
    train_dir="$work/train"; ref_dir="$work/reference"
    rm -rf "$train_dir" "$ref_dir"; mkdir -p "$train_dir" "$ref_dir"
    i=0
    for f in $(ls "$corpus"/*.mid | sort); do
        if [ $((i % 4)) -eq 3 ]; then ln -s "$f" "$ref_dir/"; else ln -s "$f" "$train_dir/"; fi
        i=$((i + 1))
    done
fi

# The model: notechord (one token per onset, chords with durations), the training pieces only;
# the corpus is small (about 27k tokens), so the model with the best validation loss is kept.
# REUSE_MODEL=1 keeps the model of an earlier run in WORKDIR (to redo only the statistics).
if [ "${REUSE_MODEL:-0}" = 1 ] && [ -f "$work/model.mrm" ] && [ -f "$work/train.mrc" ]; then
    train_seconds="(reused)"
else
    start=$(date +%s)
    "$mr" preprocess --quiet --encoding notechord --steps-per-quarter 4 --valid-fraction 0.1 \
        -o "$work/train.mrc" "$train_dir" > "$work/preprocess.txt"
    "$mr" train "$work/train.mrc" -o "$work/last.mrm" --layers 2 --hidden 256 --embed 64 --dropout 0.2 \
        --seq-len 64 --batch 32 --lr 0.003 --schedule cosine --warmup 100 --steps "$STEPS" --threads "$THREADS" \
        --valid-every 50 --best "$work/model.mrm" --log "$work/train.csv" --quiet
    train_seconds="$(( $(date +%s) - start ))"
fi
valid_nll=$("$mr" eval "$work/model.mrm" "$work/train.mrc" --json | "$python" -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["nll"])')

# Generated pieces: COUNT lanes at once per temperature, each BARS bars long at 120 bpm.
temps="0.5 0.8 1.0 1.2"
for t in $temps; do
    rm -rf "$work/gen-$t"; mkdir -p "$work/gen-$t"
    "$mr" generate "$work/model.mrm" -o "$work/gen-$t/piece.mid" --count "$COUNT" --temperature "$t" \
        --bars "$BARS" --rng-seed 7 > /dev/null 2>&1
done

# The random baseline: token ids drawn uniformly from the model's vocabulary (every token except
# <unk>), as many per piece as the temperature-1.0 pieces have on average, decoded to MIDI by the
# library (mrnn_tokens_write_midi) — what the model would write if it had learnt nothing.
rm -rf "$work/random"; mkdir -p "$work/random"
tokens_per_piece=$("$mr" generate "$work/model.mrm" -o "$work/count.mid" --temperature 1.0 --bars "$BARS" \
    --rng-seed 7 --print 2>/dev/null | wc -w)
"$python" - "$lib" "$work/model.mrm" "$work/random" "$COUNT" "$tokens_per_piece" <<'PY'
import ctypes, random, sys
lib_path, model_path, out_dir, count, length = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
lib = ctypes.CDLL(lib_path)
vp = ctypes.c_void_p
lib.mrnn_model_load.argtypes = [ctypes.POINTER(vp), ctypes.c_char_p]
lib.mrnn_model_vocab.restype, lib.mrnn_model_vocab.argtypes = vp, [vp]
lib.mrnn_vocab_size.restype, lib.mrnn_vocab_size.argtypes = ctypes.c_uint32, [vp]
lib.mrnn_vocab_token_text.restype, lib.mrnn_vocab_token_text.argtypes = ctypes.c_char_p, [vp, ctypes.c_uint32]
lib.mrnn_tokens_write_midi.argtypes = [vp, ctypes.POINTER(ctypes.c_uint32), ctypes.c_size_t, ctypes.c_char_p,
                                       ctypes.c_double, ctypes.c_uint32]
lib.mrnn_last_error.restype = ctypes.c_char_p
lib.mrnn_model_free.argtypes = [vp]
model = vp()
if lib.mrnn_model_load(ctypes.byref(model), model_path.encode()) != 0:
    sys.exit("random baseline: " + lib.mrnn_last_error().decode())
vocab = lib.mrnn_model_vocab(model)
ids = [i for i in range(lib.mrnn_vocab_size(vocab)) if lib.mrnn_vocab_token_text(vocab, i) != b"<unk>"]
rng = random.Random(7)
for k in range(count):
    toks = (ctypes.c_uint32 * length)(*[rng.choice(ids) for _ in range(length)])
    path = f"{out_dir}/random-{k + 1}.mid".encode()
    if lib.mrnn_tokens_write_midi(vocab, toks, length, path, 120.0, 0) != 0:
        sys.exit("random baseline: " + lib.mrnn_last_error().decode())
lib.mrnn_model_free(model)
PY

# A second baseline that keeps the chorale texture and randomises only the pitches: four notes a
# quarter long on every quarter for BARS bars, each pitch drawn uniformly (without repeats within a
# chord) from the reference's mean lowest to mean highest pitch. It separates what the model learnt
# about harmony and line from what it learnt about texture.
rm -rf "$work/random-notes"; mkdir -p "$work/random-notes"
"$mr" eval --generated "$ref_dir" --reference "$ref_dir" --json > "$work/stats-reference.json"
"$python" - "$work/stats-reference.json" "$work/random-notes" "$COUNT" "$BARS" <<'PY'
import json, random, sys
import mido
feats = json.load(open(sys.argv[1]))["reference"]["features"]
lo, hi = round(feats["pitch_min"]["mean"]), round(feats["pitch_max"]["mean"])
out_dir, count, bars = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(7)
for k in range(count):
    f = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    f.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    for q in range(4 * bars):
        chord = rng.sample(range(lo, hi + 1), 4)
        for p in chord:
            track.append(mido.Message("note_on", note=p, velocity=80, time=0))
        for i, p in enumerate(chord):
            track.append(mido.Message("note_off", note=p, velocity=0, time=480 if i == 0 else 0))
    f.save(f"{out_dir}/random-notes-{k + 1}.mid")
print(f"random notes: pitches {lo}..{hi}", file=sys.stderr)
PY

# Every set against the reference (the reference against itself gives its own statistics).
sets="train:$train_dir reference:$ref_dir"
for t in $temps; do sets="$sets T=$t:$work/gen-$t"; done
sets="$sets random:$work/random random-notes:$work/random-notes"
for s in $sets; do
    "$mr" eval --generated "${s#*:}" --reference "$ref_dir" --json > "$work/stats-${s%%:*}.json"
done

echo "data: $data"
echo "model: notechord, 2x256 LSTM, $STEPS steps in ${train_seconds} s on $(nproc) cores ($THREADS threads), validation NLL $valid_nll nats/token"
echo "generated: $COUNT pieces of $BARS bars per temperature; random: $COUNT pieces of $tokens_per_piece uniform tokens;"
echo "random-notes: $COUNT pieces of $BARS bars, four uniformly random pitches on every quarter"
echo
"$python" - "$work" $(for s in $sets; do echo "${s%%:*}"; done) <<'PY'
import json, math, sys
work, names = sys.argv[1], sys.argv[2:]
runs = {n: json.load(open(f"{work}/stats-{n}.json")) for n in names}
ref = runs["reference"]["reference"]
features = list(ref["features"].keys())
def fmt(x, digits=3):
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"
print("| statistic | " + " | ".join(names) + " |")
print("|---" * (len(names) + 1) + "|")
print("| files (notes) | " + " | ".join(f"{runs[n]['generated']['files']} ({runs[n]['generated']['notes']})" for n in names) + " |")
print("| pitch-class JS to ref. (bits) | " + " | ".join(fmt(runs[n]["distance"]["pitch_class_js"], 4) for n in names) + " |")
print("| IOI JS to ref. (bits) | " + " | ".join(fmt(runs[n]["distance"]["ioi_js"], 4) for n in names) + " |")
bins = runs["reference"]["ioi_bins"]
print("| most common IOI (quarters) | " + " | ".join(
    bins[max(range(len(bins)), key=lambda b: runs[n]["generated"]["ioi"][b])] for n in names) + " |")
for f in features:
    cells = []
    for n in names:
        g = runs[n]["generated"]["features"][f]
        cells.append(f"{fmt(g['mean'], 2)} ± {fmt(g['sd'], 2)}")
    print(f"| {f} | " + " | ".join(cells) + " |")
print("| *overlap with the reference* | " + " | ".join("" for n in names) + " |")
for f in features:
    print(f"| {f} | " + " | ".join(fmt(runs[n]["distance"]["overlap"][f], 2) for n in names) + " |")
def mean_overlap(n):
    v = [x for x in runs[n]["distance"]["overlap"].values() if x is not None]
    return sum(v) / len(v)
print("| **mean overlap** | " + " | ".join(fmt(mean_overlap(n), 3) for n in names) + " |")
PY
echo
echo "(work files in $work)"
