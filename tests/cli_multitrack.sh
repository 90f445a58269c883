#!/usr/bin/env bash
# The multitrack workflow end to end on a few files of the default corpus: preprocess lists each
# file's instruments (and what --instruments drops), info prints the fixed vocabulary, a tiny model
# generates for a chosen band, and an independent reader (mido, tools/check_band.py) finds notes on
# at least three channels including channel 10, with a program change before each melodic channel's
# first note and no instrument outside the band.
#   cli_multitrack.sh MUSICRNN PYTHON CHECK_BAND.PY
set -euo pipefail
musicrnn="$1"; python="$2"; check_band="$3"
corpus="${MRNN_DEFAULT_CORPUS:?}"
[ -d "$corpus" ] || { echo "default corpus not installed: skipped"; exit 77; }
work="$(mktemp -d /tmp/musicrnn-mt.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/midi"
for f in 5432gone_redfarn be_sharp_bw_redfarn boogi_marabi_redfarn city_blues_redfarn; do
    cp "$corpus/$f.mid" "$work/midi/"
done
fail() { echo "$1"; [ -n "${2:-}" ] && cat "$2"; exit 1; }

"$musicrnn" preprocess --encoding multitrack --valid-fraction 0.25 -o "$work/c.mrc" "$work/midi" > "$work/pre.txt"
grep -q "instruments: .*bass 33 (216).*drums (336 notes; kit 38 51 76)" "$work/pre.txt" \
    || fail "the report does not list 5432gone's instruments" "$work/pre.txt"
grep -q "vocabulary 304" "$work/pre.txt" || fail "unexpected vocabulary size" "$work/pre.txt"
"$musicrnn" info "$work/c.mrc" | grep -q "vocabulary   304 tokens" || fail "info does not print the vocabulary size"
"$musicrnn" preprocess --encoding multitrack --instruments bass,drums -o "$work/b.mrc" "$work/midi" > "$work/preb.txt"
grep -q "organ 23 (336) \[336 dropped\]" "$work/preb.txt" || fail "the dropped organ is not reported" "$work/preb.txt"
grep -q "dropped .* notes of instruments the encoding does not keep" "$work/preb.txt" || fail "no dropped summary" "$work/preb.txt"
if "$musicrnn" preprocess --encoding multitrack --instruments kazoo -o "$work/k.mrc" "$work/midi" 2> "$work/err.txt"; then
    fail "an unknown instrument was accepted"
fi
grep -q "kazoo" "$work/err.txt" || fail "the error does not name the bad instrument" "$work/err.txt"

"$musicrnn" train "$work/c.mrc" -o "$work/m.mrm" --hidden 32 --embed 16 --steps 40 --seq-len 32 --batch 8 \
    --valid-every 0 > /dev/null 2>&1
"$musicrnn" generate "$work/m.mrm" -o "$work/g.mid" --length 800 --temperature 1.2 --rng-seed 5 \
    --instruments piano,bass,drums --print > "$work/gen.txt"
if grep -Eo "PROGRAM_[a-z_]+" "$work/gen.txt" | grep -Ev "PROGRAM_(piano|bass)$" | grep -q .; then
    fail "an instrument outside --instruments was generated" "$work/gen.txt"
fi
"$python" "$check_band" "$work/g.mid" 3 > "$work/band.txt" || fail "the generated MIDI is not a band" "$work/band.txt"
grep -Eq "^channel 10: " "$work/band.txt" || fail "no drums" "$work/band.txt"
if grep -v "^channel 10" "$work/band.txt" | grep -Ev "(piano|bass) \(program" | grep -q .; then
    fail "a melodic channel is not piano or bass" "$work/band.txt"
fi
# Per-instrument ranges: the bass stays in 28-40, the piano in 60-84.
"$musicrnn" generate "$work/m.mrm" -o "$work/r.mid" --length 800 --temperature 1.2 --rng-seed 5 \
    --instruments piano,bass,drums --instrument-range bass=28-40,piano=C4-C6 > /dev/null 2>&1
"$python" "$check_band" "$work/r.mid" 3 > "$work/ranges.txt" || fail "the ranged piece is not a band" "$work/ranges.txt"
grep -Eq "pitches (2[89]|3[0-9]|40)-(2[89]|3[0-9]|40), bass" "$work/ranges.txt" || fail "the bass left 28-40" "$work/ranges.txt"
grep -Eq "pitches (6[0-9]|7[0-9]|8[0-4])-(6[0-9]|7[0-9]|8[0-4]), piano" "$work/ranges.txt" || fail "the piano left 60-84" "$work/ranges.txt"
if "$musicrnn" generate "$work/m.mrm" -o "$work/x.mid" --instrument-range bass=50-40 2> "$work/err2.txt"; then
    fail "an empty range was accepted"
fi

# A multi-instrument primer: its instruments and drums come through (the primer is kept in the output).
"$musicrnn" generate "$work/m.mrm" -o "$work/p.mid" --primer "$work/midi/5432gone_redfarn.mid" --length 50 \
    --rng-seed 2 > /dev/null 2>&1
"$python" "$check_band" "$work/p.mid" 5 > "$work/primed.txt" || fail "the primed piece lost instruments" "$work/primed.txt"
grep -q "organ (program 16)" "$work/primed.txt" || fail "the primer's organ is missing" "$work/primed.txt"

# The main job's seed text (tools/run-main.sh, read from there) counts the band in: it parses in the
# vocabulary of a key-normalised corpus, and each part it sounds comes through to the MIDI file.
eval "$(grep -E '^band_seed=' "$(dirname "$check_band")/run-main.sh")"
[ -n "${band_seed:-}" ] || fail "no band_seed in tools/run-main.sh"
"$musicrnn" preprocess --encoding multitrack --normalize-key -o "$work/n.mrc" "$work/midi" > /dev/null
"$musicrnn" info "$work/n.mrc" | grep -q "keys moved to C major / A minor" || fail "the corpus is not key-normalised"
"$musicrnn" train "$work/n.mrc" -o "$work/n.mrm" --hidden 32 --embed 16 --steps 20 --seq-len 32 --batch 8 \
    --valid-every 0 > /dev/null 2>&1
"$musicrnn" generate "$work/n.mrm" -o "$work/s.mid" --seed "$band_seed" --length 200 --rng-seed 1 \
    --instruments piano,bass,guitar,drums > "$work/seeded.log" 2>&1 || fail "the band seed was refused" "$work/seeded.log"
"$python" "$check_band" "$work/s.mid" 4 > "$work/seeded.txt" || fail "the seeded piece is not a band" "$work/seeded.txt"
for part in piano bass guitar; do
    grep -q "$part (program" "$work/seeded.txt" || fail "the seed's $part is missing" "$work/seeded.txt"
done

# --form ABA: the report gives each section's token range; the second A is the first one token for
# token, B is new music; without the primer in the output the first section starts at token 0.
"$musicrnn" generate "$work/n.mrm" -o "$work/f.mid" --seed "$band_seed" --form ABA --section-bars 2 \
    --rng-seed 3 --instruments piano,bass,guitar,drums --print > "$work/form.txt" 2> "$work/form.log" \
    || fail "--form failed" "$work/form.log"
"$python" - "$work/form.txt" "$work/form.log" <<'PY' || fail "the sections do not repeat" "$work/form.log"
import re, sys
tokens = open(sys.argv[1]).read().split()
spans = re.findall(r"([A-Z]) (\d+)-(\d+)", open(sys.argv[2]).read())
assert [s[0] for s in spans] == ["A", "B", "A"], spans
a1, b, a2 = [tokens[int(x):int(y)] for _, x, y in spans]
assert int(spans[0][1]) > 0 and int(spans[-1][2]) == len(tokens), (spans, len(tokens))
assert len(a1) > 4 and a1 == a2, "A differs on its return"
assert len(b) > 4 and b != a1, "B is not new music"
assert any(t.startswith("TIME_SHIFT") for t in b), "B has no time in it"
PY
"$python" "$check_band" "$work/f.mid" 2 > "$work/formband.txt" || fail "the piece in form is not a band" "$work/formband.txt"
"$musicrnn" generate "$work/n.mrm" -o "$work/f0.mid" --seed "$band_seed" --form AB --section-bars 1 \
    --no-primer-output > /dev/null 2> "$work/form0.log" || fail "--form --no-primer-output failed" "$work/form0.log"
grep -q "form AB: A 0-" "$work/form0.log" || fail "the primer was not left out" "$work/form0.log"
for bad in "--form aab" "--form AB --count 2" "--form AB --bars 4" "--form AB --section-bars 0"; do
    # shellcheck disable=SC2086
    if "$musicrnn" generate "$work/n.mrm" -o "$work/x.mid" $bad 2> "$work/err3.txt"; then
        fail "generate $bad was accepted"
    fi
    grep -q -- "--form\|--section-bars" "$work/err3.txt" || fail "generate $bad: the error does not say why" "$work/err3.txt"
done
echo "ok: $(wc -l < "$work/band.txt") channels; primed: $(wc -l < "$work/primed.txt"); seeded: $(wc -l < "$work/seeded.txt"); form ABA repeats"
