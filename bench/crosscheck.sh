#!/usr/bin/env bash
# Cross-check the event models against PyTorch: the same corpus tokens and splits, the same
# hyperparameters and step count, each side with its own initialisation; prints a Markdown table of
# validation NLL per token and accuracy, and the ratio of the two losses (the target: within 2 %).
#
#   bash bench/crosscheck.sh                 performance and notechord on the Debian corpus
#   STEPS=1000 bash bench/crosscheck.sh      longer runs
# Environment: CORPUS (MIDI folder), WORK (scratch folder), STEPS, ENCODINGS ("performance notechord").
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${CORPUS:-/usr/share/games/openttd/baseset/openmsx}
work=${WORK:-/tmp/musicrnn-crosscheck}
steps=${STEPS:-400}
encodings=${ENCODINGS:-performance notechord}
# Initialisation-independent settings shared by both sides; both train on one thread.
shape=(--layers 2 --hidden 256 --embed 128 --dropout 0.1)
recipe=(--seq-len 64 --batch 32 --lr 0.003 --schedule cosine --warmup 50 --clip 5 --steps "$steps" --seed 1)

bash tools/install-deps.sh bench     # no-op when everything is installed
build=build-bench
[ -d "$build" ] || meson setup "$build" --buildtype=release -Dtests=false -Ddocs=disabled >/dev/null
ninja -C "$build" tools/musicrnn bench/export_tokens >/dev/null
musicrnn=$build/tools/musicrnn
mkdir -p "$work"

json_field() { sed -n "s/.*\"$1\": \([0-9.e+-]*\).*/\1/p"; }

header() {
    echo "machine: $(nproc) cores; libmusicrnn $($musicrnn --version | awk '{print $2}'); $(/usr/bin/python3 -c 'import torch; print("PyTorch", torch.__version__)')"
    echo "corpus: $corpus (validation split of musicrnn preprocess); model ${shape[*]}; ${recipe[*]}"
    echo
    echo "| encoding | ours valid NLL | PyTorch valid NLL | ours acc | PyTorch acc | ratio | within 2 % | ours train time | PyTorch train time |"
    echo "|---|---|---|---|---|---|---|---|---|"
}
header
for enc in $encodings; do
    $musicrnn preprocess -q -e "$enc" -o "$work/$enc.mrc" "$corpus" >/dev/null
    $build/bench/export_tokens "$work/$enc.mrc" "$work/$enc.tokens"
    # The two sides run at the same time, one core each.
    /usr/bin/python3 bench/torch_reference.py "$work/$enc.tokens" "${shape[@]}" "${recipe[@]}" --threads 1 \
        > "$work/$enc.torch.json" &
    torch_pid=$!
    out=$($musicrnn train "$work/$enc.mrc" -o "$work/$enc.mrm" "${shape[@]}" "${recipe[@]}" --threads 1 \
          --valid-every 0 --quiet)
    wait $torch_pid
    ours_time=$(sed -n 's/.* steps in \([0-9.]*\) s.*/\1/p' <<<"$out")
    ours=$($musicrnn eval "$work/$enc.mrm" "$work/$enc.mrc" --split valid --json)
    ref=$(cat "$work/$enc.torch.json")
    o_nll=$(json_field nll <<<"$ours"); o_acc=$(json_field accuracy <<<"$ours")
    t_nll=$(json_field nll <<<"$ref"); t_acc=$(json_field accuracy <<<"$ref")
    t_time=$(json_field train_seconds <<<"$ref")
    awk -v e="$enc" -v on="$o_nll" -v oa="$o_acc" -v tn="$t_nll" -v ta="$t_acc" -v ot="$ours_time" -v tt="$t_time" \
        'BEGIN { r = on / tn; d = r > 1 ? r - 1 : 1 - r;
                 printf "| %s | %.4f | %.4f | %.3f | %.3f | %.4f | %s | %.0f s | %.0f s |\n", e, on, tn, oa, ta, r,
                        d <= 0.02 ? "yes" : "NO", ot, tt }'
done
