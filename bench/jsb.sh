#!/usr/bin/env bash
# The JSB Chorales polyphonic benchmark from scratch: build, preprocess the train/valid/test folders
# (one frame per quarter note, 88 keys), train a plain LSTM, score the test split, and print our
# number next to the published ones.
#
#   bash bench/jsb.sh                  data from ../shared/data/jsb-chorales
#   JSB=/path/to/jsb-chorales THREADS=2 WORK=/tmp/jsb bash bench/jsb.sh
#   FRAME_OUTPUT=nade bash bench/jsb.sh    the joint (RNN-NADE) frame output instead of 88 sigmoids
#   SEED=2 bash bench/jsb.sh               another seed (batching, dropout and initialisation)
#   SCORE_TEST=0 ...                       validation only (while choosing settings)
#   INPUT_DROPOUT=0.2 STEPS=2000 TAG=x ...  other settings (TAG names the work folder; also
#   RECURRENT_DROPOUT, WEIGHT_AVERAGE, WEIGHT_DECAY, DROPOUT, HIDDEN, LAYERS, LR, EMBED, SEQ_LEN, BATCH)
# Test NLL: nats per frame, summed over the 88 keys, the first frame of each piece not scored, each
# piece run from its start with the state carried through, averaged over all scored frames of the
# split (the definition of Boulanger-Lewandowski et al. 2012 and of Bai et al.'s evaluation code).
set -euo pipefail
cd "$(dirname "$0")/.."
jsb=${JSB:-../shared/data/jsb-chorales}
frame_output=${FRAME_OUTPUT:-independent}
seed=${SEED:-1}
work=${WORK:-/tmp/musicrnn-jsb-$frame_output-$seed${TAG:+-$TAG}}
threads=${THREADS:-2}
# Chosen on the validation split only (docs/QUALITY.md lists what was tried).
case $frame_output in
independent)
    model=(--layers ${LAYERS:-1} --hidden ${HIDDEN:-512} --embed ${EMBED:-64} --dropout ${DROPOUT:-0.6} --init-seed "$seed")
    recipe=(--seq-len ${SEQ_LEN:-128} --batch ${BATCH:-16} --lr ${LR:-0.006} --schedule cosine --warmup 100 --steps ${STEPS:-1000} --seed "$seed"
            --input-dropout ${INPUT_DROPOUT:-0} --recurrent-dropout ${RECURRENT_DROPOUT:-0}
            --weight-decay ${WEIGHT_DECAY:-0} --weight-average ${WEIGHT_AVERAGE:-0} --weight-dropout ${WEIGHT_DROPOUT:-0.7})
    label="libmusicrnn LSTM" ;;
nade)
    model=(--layers 1 --hidden ${HIDDEN:-384} --embed 64 --dropout ${DROPOUT:-0.6} --init-seed "$seed"
           --frame-output nade --nade-hidden ${NADE_HIDDEN:-150})
    recipe=(--seq-len 64 --batch 32 --lr ${LR:-0.004} --schedule cosine --warmup 100 --steps ${STEPS:-1000}
            --seed "$seed" --weight-dropout ${WEIGHT_DROPOUT:-0})
    label="libmusicrnn LSTM-NADE" ;;
*) echo "jsb.sh: FRAME_OUTPUT is independent or nade" >&2; exit 1 ;;
esac

for split in train valid test; do
    [ -d "$jsb/$split" ] || { echo "jsb.sh: $jsb/$split is missing (set JSB=...)" >&2; exit 1; }
done
bash tools/install-deps.sh main     # no-op when everything is installed
build=build-bench
[ -d "$build" ] || meson setup "$build" --buildtype=release -Dtests=false -Ddocs=disabled >/dev/null
ninja -C "$build" tools/musicrnn bench/export_tokens >/dev/null
musicrnn=$build/tools/musicrnn
mkdir -p "$work"
rm -f "$work/jsb.mrm" "$work/jsb-last.mrm" "$work/train.csv"

$musicrnn preprocess -q -e pianoroll --steps-per-quarter 1 -o "$work/jsb.mrc" "$jsb" >/dev/null
$build/bench/export_tokens "$work/jsb.mrc" "$work/jsb.tokens"
baselines=$(/usr/bin/python3 bench/jsb_baselines.py "$work/jsb.tokens" test)
field() { sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p"; }
load=$(cut -d' ' -f1 /proc/loadavg)
# Wall time and the CPU time of the training process (the latter tells how busy the machine was).
TIMEFORMAT='%R %U %S'
# Model selection on the validation split only: the model of the best validation NLL (checked every
# 250 steps) is the one scored on the test split.
times=$( { time $musicrnn train "$work/jsb.mrc" -o "$work/jsb-last.mrm" --best "$work/jsb.mrm" "${model[@]}" \
           "${recipe[@]}" --threads "$threads" --valid-every 250 --log "$work/train.csv" --quiet >/dev/null; } 2>&1 )
nll() { $musicrnn eval "$work/jsb.mrm" "$work/jsb.mrc" --split "$1" --json | field nll; }
valid=$(nll valid)
# SCORE_TEST=0 while choosing settings: the test split is scored once, for the chosen ones.
if [ "${SCORE_TEST:-1}" = 0 ]; then test=nan; else test=$(nll test); fi
minutes=$(awk '{ printf "%.1f min wall, %.1f min CPU", $1 / 60, ($2 + $3) / 60 }' <<<"$times")

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); libmusicrnn $($musicrnn --version | awk '{print $2}')"
echo "training: ${model[*]} ${recipe[*]}; $threads threads; $minutes; load average before: $load"
echo
echo "| model | JSB Chorales test NLL (nats/frame) |"
echo "|---|---|"
printf '| **%s** (this run, seed %s, best-validation model; valid %.2f) | **%.2f** |\n' "$label" "$seed" "$valid" "$test"
echo "| RNN-NADE (Boulanger-Lewandowski, Bengio, Vincent 2012) | 5.56 |"
echo "| LSTM (Bai, Kolter, Koltun 2018, Table 1) | 8.45 |"
echo "| TCN (Bai, Kolter, Koltun 2018, Table 1) | 8.10 |"
echo "| GRU (Bai, Kolter, Koltun 2018, Table 1) | 8.43 |"
echo "| GRU (Chung et al. 2014) | 8.54 |"
echo "| LSTM (Chung et al. 2014) | 8.67 |"
printf '| baseline: independent keys at their training frequencies (bench/jsb_baselines.py) | %.2f |\n' \
    "$(field independent_keys <<<"$baselines")"
printf '| baseline: per-key Markov chain, P(on given on/off before) (bench/jsb_baselines.py) | %.2f |\n' \
    "$(field markov_keys <<<"$baselines")"
