#!/usr/bin/env bash
# The command-line workflow end to end on a few files of the default corpus: preprocess (with a
# malformed file among them), train, eval, generate; the generated MIDI file must be readable by an
# independent reader (python3-mido) and hold the notes the model wrote.
#   cli_workflow.sh MUSICRNN PYTHON
set -euo pipefail
musicrnn="$1"; python="$2"
corpus="${MRNN_DEFAULT_CORPUS:?}"
work="$(mktemp -d /tmp/musicrnn-cli.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/midi"
for f in 5432gone_redfarn be_sharp_bw_redfarn boogi_marabi_redfarn city_blues_redfarn; do
    cp "$corpus/$f.mid" "$work/midi/"
done
head -c 100 "$corpus/moo_redfarn.mid" > "$work/midi/broken.mid"

"$musicrnn" preprocess --encoding notechord --valid-fraction 0.25 -o "$work/c.mrc" "$work/midi" > "$work/pre.txt"
grep -q "broken.mid" "$work/pre.txt" || { echo "the report does not name the broken file"; cat "$work/pre.txt"; exit 1; }
grep -q "4 read, 1 skipped" "$work/pre.txt" || { echo "unexpected preprocess summary"; cat "$work/pre.txt"; exit 1; }

# --threads N: the same corpus file, byte for byte, for any N; progress is a plain line when stderr
# is not a terminal, and skipped files are summarised by reason.
for n in 1 2 3; do
    "$musicrnn" preprocess -j "$n" --valid-fraction 0.25 -o "$work/j$n.mrc" "$work/midi" > "$work/j$n.txt" 2> "$work/j$n.err"
done
cmp "$work/j1.mrc" "$work/j2.mrc" && cmp "$work/j1.mrc" "$work/j3.mrc" \
    || { echo "preprocess --threads changed the corpus file"; exit 1; }
grep -q "^preprocess: 5/5 files, 1 skipped" "$work/j2.err" || { echo "no plain progress line"; cat "$work/j2.err"; exit 1; }
grep -Eq "^skipped +1 x malformed MIDI" "$work/j2.txt" || { echo "no skip summary by reason"; cat "$work/j2.txt"; exit 1; }

# Sub-folders give style labels (not the split folders), unless --no-folder-style.
mkdir -p "$work/styled/blues" "$work/styled/train/boogie"
cp "$work/midi/city_blues_redfarn.mid" "$work/styled/blues/"
cp "$work/midi/boogi_marabi_redfarn.mid" "$work/styled/train/boogie/"
"$musicrnn" preprocess -q -o "$work/s.mrc" "$work/styled" | grep -q ", 2 style labels" \
    || { echo "expected 2 style labels from the sub-folders"; exit 1; }
"$musicrnn" info "$work/s.mrc" | grep -Eq "^styles +blues boogie$" || { echo "unexpected style labels"; "$musicrnn" info "$work/s.mrc"; exit 1; }
"$musicrnn" preprocess -q --no-folder-style -o "$work/s0.mrc" "$work/styled" | grep -q ", 0 style labels" \
    || { echo "--no-folder-style should give no style labels"; exit 1; }

"$musicrnn" train "$work/c.mrc" -o "$work/m.mrm" --hidden 32 --embed 16 --steps 30 --seq-len 16 --batch 8 \
    --valid-every 10 --log "$work/train.csv" > /dev/null 2>&1
[ "$(wc -l < "$work/train.csv")" -eq 31 ] || { echo "the training log should have a header and 30 rows"; exit 1; }
"$musicrnn" eval "$work/m.mrm" "$work/c.mrc" --json 2> "$work/eval.err" | "$python" -c '
import json, math, sys
r = json.load(sys.stdin)
assert r["split"] == "valid" and not r["split_given"] and math.isfinite(r["nll"]) and r["scored"] > 0, r
assert r["unit"] == "step" and r["pieces"] > 0, r'
# Without --split the validation split is scored, and stderr says so; with it, no note.
grep -q "no --split given: scoring the valid split" "$work/eval.err" || { echo "eval did not say which split"; exit 1; }
"$musicrnn" eval "$work/m.mrm" "$work/c.mrc" --split train 2> "$work/eval.err" | grep -Eq "^split +train \([0-9]+ pieces, [0-9]+ scored steps\)" \
    || { echo "eval --split train should name the split and its counts"; exit 1; }
[ ! -s "$work/eval.err" ] || { echo "eval --split train printed a note"; exit 1; }

# The joint (NADE) frame output from the command line: train, info, eval, generate.
"$musicrnn" preprocess -q -e pianoroll -o "$work/roll.mrc" "$work/midi" > /dev/null
"$musicrnn" train "$work/roll.mrc" -o "$work/nade.mrm" --hidden 24 --embed 8 --steps 10 --seq-len 16 --batch 4 \
    --frame-output nade --nade-hidden 12 --valid-every 0 --quiet > /dev/null
"$musicrnn" info "$work/nade.mrm" | grep -q "^frame output NADE, 12 hidden units$" || { echo "info should show the NADE"; exit 1; }
"$musicrnn" eval "$work/nade.mrm" "$work/roll.mrc" --split train --json | "$python" -c '
import json, math, sys
r = json.load(sys.stdin)
assert r["split"] == "train" and r["split_given"] and r["unit"] == "frame" and math.isfinite(r["nll"]), r'
"$musicrnn" generate "$work/nade.mrm" -o "$work/nade.mid" --length 32 --rng-seed 2 > /dev/null \
    || { echo "generating from the NADE model failed"; exit 1; }
[ -s "$work/nade.mid" ] || { echo "no MIDI from the NADE model"; exit 1; }
"$musicrnn" train "$work/c.mrc" -o "$work/bad.mrm" --frame-output nade --steps 1 2> "$work/bad.err" && { echo "NADE on notechord should fail"; exit 1; }
grep -q "pianoroll" "$work/bad.err" || { echo "the NADE refusal should name pianoroll"; cat "$work/bad.err"; exit 1; }

# A run killed with SIGKILL resumes from its last checkpoint and reproduces the losses of an
# uninterrupted run with the same seed and thread count: one thread, and two (the library's own
# team of threads; the machine may have a single core, the promise holds all the same).
# Last logged loss per step (a killed run logged a few steps past its checkpoint).
last() { awk -F, 'NR > 1 && $1 !~ /step/ {loss[$1] = $3} END {for (s in loss) print s, loss[s]}' "$1" | sort -n; }
for threads in 1 2; do
    train=("$musicrnn" train "$work/c.mrc" --hidden 48 --embed 16 --steps 300 --seq-len 32 --batch 16 --dropout 0.1
           --threads $threads --valid-every 0 --checkpoint-every 20 --quiet)
    rm -f "$work/a.mrm" "$work/a.csv" "$work/b.mrm" "$work/b.csv"
    "${train[@]}" -o "$work/a.mrm" --log "$work/a.csv"
    "${train[@]}" -o "$work/b.mrm" --log "$work/b.csv" & pid=$!
    for _ in $(seq 1 500); do [ -s "$work/b.mrm" ] && break; sleep 0.01; done
    kill -9 $pid; wait $pid 2>/dev/null || true
    done_steps=$("$musicrnn" info "$work/b.mrm" | awk '/^trained/ {print $2}')
    [ "$done_steps" -ge 20 ] && [ "$done_steps" -lt 300 ] || { echo "kill landed at checkpoint step '$done_steps'"; exit 1; }
    "${train[@]}" -o "$work/b.mrm" --log "$work/b.csv" --resume "$work/b.mrm"
    if ! diff <(last "$work/a.csv") <(last "$work/b.csv") > "$work/diff.txt"; then
        echo "$threads thread(s): resumed losses differ from the uninterrupted run (killed at step $done_steps):"
        head "$work/diff.txt"
        exit 1
    fi
    echo "$threads thread(s): killed at checkpoint step $done_steps; resumed losses equal the uninterrupted run over $(last "$work/a.csv" | wc -l) steps"
done

"$musicrnn" generate "$work/m.mrm" -o "$work/g.mid" --seed "W:q" --length 300 --rng-seed 4 --tempo 90 \
    --program 5 --print > "$work/tokens.txt" 2> "$work/gen.txt"
grep -q "^W:q " "$work/tokens.txt" || { echo "the output does not start with the seed"; exit 1; }
"$musicrnn" generate "$work/m.mrm" -o "$work/b.mid" --seed "W:q" --length 50 --weights bf16 > /dev/null 2>&1 ||
    { echo "generate --weights bf16 failed"; exit 1; }
[ -s "$work/b.mid" ] || { echo "generate --weights bf16 wrote no MIDI file"; exit 1; }
# The sampler's threads change who computes, not what (mrnn_sampler_params.threads).
"$musicrnn" generate "$work/m.mrm" -o "$work/t1.mid" --seed "W:q" --length 300 --rng-seed 4 --tempo 90 \
    --program 5 --threads 1 --print > "$work/tokens1.txt" 2> /dev/null || { echo "generate --threads 1 failed"; exit 1; }
"$musicrnn" generate "$work/m.mrm" -o "$work/t2.mid" --seed "W:q" --length 300 --rng-seed 4 --tempo 90 \
    --program 5 --threads 2 --print > "$work/tokens2.txt" 2> /dev/null || { echo "generate --threads 2 failed"; exit 1; }
cmp -s "$work/tokens.txt" "$work/tokens1.txt" && cmp -s "$work/tokens.txt" "$work/tokens2.txt" ||
    { echo "generate --threads 1 / 2 / default printed different pieces"; exit 1; }
if "$musicrnn" generate "$work/m.mrm" -o "$work/x.mid" --threads 0 2> /dev/null; then
    echo "--threads 0 was accepted"; exit 1
fi
if "$musicrnn" generate "$work/m.mrm" -o "$work/x.mid" --weights half 2> "$work/err.txt"; then
    echo "--weights half was accepted"; exit 1
fi

# A pianoroll corpus gets the pianoroll defaults (one wide layer, dropout 0.6; the joint output
# its own width); options given win.
"$musicrnn" preprocess --encoding pianoroll --valid-fraction 0.25 -q -o "$work/r.mrc" "$work/midi" > /dev/null
"$musicrnn" train "$work/r.mrc" -o "$work/r1.mrm" --steps 1 --valid-every 0 -q > /dev/null
"$musicrnn" info "$work/r1.mrm" | grep -q "embed 64 -> 1 x LSTM 512, dropout 0.6" ||
    { echo "pianoroll defaults not applied:"; "$musicrnn" info "$work/r1.mrm"; exit 1; }
"$musicrnn" train "$work/r.mrc" -o "$work/r2.mrm" --steps 1 --valid-every 0 -q --layers 2 --hidden 32 --dropout 0 \
    > /dev/null
"$musicrnn" info "$work/r2.mrm" | grep -q "2 x LSTM 32, dropout 0$" ||
    { echo "explicit options lost to the pianoroll defaults:"; "$musicrnn" info "$work/r2.mrm"; exit 1; }
"$musicrnn" train "$work/r.mrc" -o "$work/r3.mrm" --steps 1 --valid-every 0 -q --frame-output nade > /dev/null
"$musicrnn" info "$work/r3.mrm" | grep -q "embed 64 -> 1 x LSTM 384, dropout 0.6" ||
    { echo "pianoroll NADE defaults not applied:"; "$musicrnn" info "$work/r3.mrm"; exit 1; }

# Bad input: a clear message and a non-zero exit, no crash.
if "$musicrnn" generate "$work/m.mrm" -o "$work/x.mid" --seed "NOT_A_TOKEN" 2> "$work/err.txt"; then
    echo "an unknown seed token was accepted"; exit 1
fi
grep -q "NOT_A_TOKEN" "$work/err.txt" || { echo "the error does not name the bad token"; cat "$work/err.txt"; exit 1; }
if "$musicrnn" generate "$work/midi/broken.mid" -o "$work/x.mid" 2> "$work/err.txt"; then
    echo "a MIDI file was accepted as a model"; exit 1
fi
grep -q "broken.mid" "$work/err.txt" || { echo "the error does not name the file"; cat "$work/err.txt"; exit 1; }

# The malformed-MIDI set through `musicrnn preprocess` (under ASan+UBSan in tools/run-tests.sh): the
# hazard files of the fuzz seeds, the reproducers of fuzz findings, and truncations and byte flips of
# a real file. Alone, each file is read (exit 0) or refused (exit 1, the file named); any other exit
# or a sanitizer report fails. Given the folder, exactly the refused files are skipped, each with its
# reason.
src="$(dirname "$0")/.."
mkdir "$work/bad"
cp "$src"/fuzz/corpus/midi/*.mid "$work/bad/"
[ -d "$src/tests/data/fuzz/midi" ] && for f in "$src"/tests/data/fuzz/midi/*; do cp "$f" "$work/bad/repro-$(basename "$f" .mid).mid"; done
"$python" - "$corpus/be_sharp_bw_redfarn.mid" "$work/bad" <<'PY'
import random, sys
data = open(sys.argv[1], "rb").read()
rng = random.Random(3)
for k in range(40):
    cut = 1 + k * (len(data) - 2) // 40
    open(f"{sys.argv[2]}/cut-{cut}.mid", "wb").write(data[:cut])
for k in range(40):
    flipped = bytearray(data)
    for _ in range(1 + k % 4):
        flipped[rng.randrange(14, len(data))] ^= 1 << rng.randrange(8)
    open(f"{sys.argv[2]}/flip-{k}.mid", "wb").write(bytes(flipped))
PY
refused=0
total=0
for f in "$work"/bad/*.mid; do
    total=$((total + 1))
    rc=0
    "$musicrnn" preprocess -o "$work/one.mrc" "$f" > "$work/one.txt" 2> "$work/one.err" || rc=$?
    if grep -qE "Sanitizer|runtime error" "$work/one.err" || [ "$rc" -gt 1 ]; then
        echo "preprocess crashed on $f (exit $rc):"; head -20 "$work/one.err"; exit 1
    fi
    if [ "$rc" -eq 1 ]; then
        refused=$((refused + 1))
        grep -qF "$f" "$work/one.txt" "$work/one.err" || { echo "the refusal does not name $f"; exit 1; }
        echo "$f" >> "$work/refused.txt"
    fi
done
[ "$refused" -ge 20 ] || { echo "only $refused of $total malformed files were refused"; exit 1; }
rc=0
"$musicrnn" preprocess -o "$work/bad.mrc" "$work/bad" > "$work/bad.txt" 2> "$work/bad.err" || rc=$?
if [ "$rc" -ne 0 ] || grep -qE "Sanitizer|runtime error" "$work/bad.err"; then
    echo "preprocess of the malformed folder failed (exit $rc)"; head -20 "$work/bad.err"; exit 1
fi
grep -q "$((total - refused)) read, $refused skipped" "$work/bad.txt" || { echo "unexpected summary"; tail -8 "$work/bad.txt"; exit 1; }
while read -r f; do
    grep -qE "^skipped +$f: ." "$work/bad.txt" || { echo "the folder report does not skip $f with a reason"; exit 1; }
done < "$work/refused.txt"
echo "malformed MIDI: $refused of $total files refused alone and skipped with their reason in a folder"

# The independent reader: tempo 90, program 5, notes present.
"$python" - "$work/g.mid" <<'PY'
import sys
import mido
f = mido.MidiFile(sys.argv[1])
tempos = [m.tempo for t in f.tracks for m in t if m.type == "set_tempo"]
programs = {m.program for t in f.tracks for m in t if m.type == "program_change"}
notes = sum(1 for t in f.tracks for m in t if m.type == "note_on" and m.velocity > 0)
assert tempos and abs(mido.tempo2bpm(tempos[0]) - 90) < 0.01, tempos
assert programs == {5}, programs
assert notes > 20, notes
assert f.length > 1.0, f.length
print(f"mido: {notes} notes, {f.length:.1f} s, {len(f.tracks)} tracks")
PY
