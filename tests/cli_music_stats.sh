#!/usr/bin/env bash
# musicrnn eval --generated DIR --reference DIR: folders read recursively, JSON that a reader can
# parse, a set at distance 0 from itself, and clear errors for bad input.
#   cli_music_stats.sh MUSICRNN PYTHON
set -euo pipefail
musicrnn="$1"; python="$2"
corpus="${MRNN_DEFAULT_CORPUS:?}"
work="$(mktemp -d /tmp/musicrnn-stats.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ref/deeper" "$work/gen" "$work/empty"
cp "$corpus/5432gone_redfarn.mid" "$corpus/be_sharp_bw_redfarn.mid" "$work/ref/"
cp "$corpus/boogi_marabi_redfarn.mid" "$work/ref/deeper/BOOGIE.MIDI"
echo "not music" > "$work/ref/readme.txt"
cp "$corpus/city_blues_redfarn.mid" "$work/gen/"

"$musicrnn" eval --generated "$work/gen" --reference "$work/ref" --json > "$work/gen.json"
"$musicrnn" eval --generated "$work/ref" --reference "$work/ref" --json > "$work/self.json"
"$python" - "$work/gen.json" "$work/self.json" <<'PY'
import json, sys
gen = json.load(open(sys.argv[1]))
self = json.load(open(sys.argv[2]))
ref = gen["reference"]
assert ref["files"] == 3, ref["files"]            # the nested .MIDI file counts, the .txt does not
assert gen["generated"]["files"] == 1
assert abs(sum(ref["pitch_class"]) - 1) < 1e-4
assert len(gen["ioi_bins"]) == len(ref["ioi"]) == 7
feats = ref["features"]
for name in ["pitch_mean", "pitch_span", "notes_per_second", "polyphony_mean", "repetition", "in_key"]:
    assert feats[name]["count"] == 3 and feats[name]["mean"] is not None, (name, feats[name])
assert feats["pitch_min"]["mean"] <= feats["pitch_mean"]["mean"] <= feats["pitch_max"]["mean"]
d = self["distance"]
assert d["pitch_class_js"] == 0 and d["ioi_js"] == 0, d
assert all(v == 0 for v in d["abs_diff"].values()), d["abs_diff"]
assert all(abs(v - 1) < 1e-6 for v in d["overlap"].values()), d["overlap"]
ins = gen["instruments"]["reference"]
assert ins["files"] == 3 and ins["instruments_mean"] >= 1, ins
slots = ins["slots"]
assert slots and all(v["pieces"] <= 3 and v["pitch_low"] <= v["pitch_high"] for v in slots.values()), slots
assert sum(v["notes"] * v["pieces"] for v in slots.values()) > 0
assert self["instruments"]["generated"] == self["instruments"]["reference"]
assert gen["instruments"]["generated"]["files"] == 1
g = gen["distance"]
assert 0 < g["pitch_class_js"] <= 1 and 0 <= g["ioi_js"] <= 1, g
print("eval --generated/--reference: %d reference files, pitch-class JS %.4f" % (ref["files"], g["pitch_class_js"]))
PY
# The table form names every statistic.
"$musicrnn" eval --generated "$work/gen" --reference "$work/ref" > "$work/table.txt"
for row in "pitch-class histogram" "IOI histogram" pitch_mean polyphony_max repetition bar_similarity in_key; do
    grep -q "^$row" "$work/table.txt" || { echo "the table has no row '$row'"; cat "$work/table.txt"; exit 1; }
done

# Bad input: a broken MIDI file (named), an empty folder, a missing folder, half the options.
head -c 100 "$corpus/moo_redfarn.mid" > "$work/gen/broken.mid"
if "$musicrnn" eval --generated "$work/gen" --reference "$work/ref" 2> "$work/err.txt"; then
    echo "a broken MIDI file was accepted"; exit 1
fi
grep -q "broken.mid" "$work/err.txt" || { echo "the error does not name the file"; cat "$work/err.txt"; exit 1; }
if "$musicrnn" eval --generated "$work/empty" --reference "$work/ref" 2> "$work/err.txt"; then
    echo "an empty folder was accepted"; exit 1
fi
grep -q "empty" "$work/err.txt" || { echo "the error does not name the folder"; cat "$work/err.txt"; exit 1; }
if "$musicrnn" eval --generated "$work/nope" --reference "$work/ref" 2> "$work/err.txt"; then
    echo "a missing folder was accepted"; exit 1
fi
grep -q "nope" "$work/err.txt" || { echo "the error does not name the folder"; cat "$work/err.txt"; exit 1; }
set +e
"$musicrnn" eval --generated "$work/ref" 2> /dev/null
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "--generated without --reference should be a usage error (2), got $rc"; exit 1; }
echo "bad input rejected with named files"
