#!/usr/bin/python3
"""Harmony statistics of generated chorales against held-out ones (issue #16, item 4).

    chorale_stats.py CORPUS.mrc MODEL.mrm [MODEL.mrm ...] [--pieces N] [--frames N] [--temperature T]

CORPUS is a pianoroll corpus (bench/jsb.sh makes one: one frame per quarter note); its test split
is the reference. Each model generates N pieces of F frames (seeded, no primer, the first 4 frames
dropped as warm-up) and every set is described per frame of sound (silent frames skipped):

  voices       keys sounding in a frame: mean, standard deviation, and the share of frames with
               exactly 4 (the chorales are four-part)
  consonance   share of the pairs of simultaneous keys whose interval, in semitones mod 12, is a
               unison/octave, third, perfect fourth/fifth or sixth (0, 3, 4, 5, 7, 8, 9); seconds,
               sevenths and the tritone count as dissonant
  register     the MIDI pitch of the lowest and of the highest key of a frame, averaged (the
               bass and soprano lines' mean height)
  pc entropy   entropy in bits of the pitch-class histogram of each piece (key durations in
               frames), averaged over pieces: 12 keys equally used give 3.58
Prints one Markdown table. Needs the Python package (PYTHONPATH=python, MUSICRNN_LIBRARY=...).
"""
import argparse
import math

import musicrnn

CONSONANT = {0, 3, 4, 5, 7, 8, 9}
LOW = 21  # MIDI pitch of key 0


def frames_of(ids):
    frames, cur = [], []
    for i in ids:
        if i == musicrnn.FRAME_END:
            frames.append(cur)
            cur = []
        else:
            cur.append(int(i))
    return frames


def describe(pieces):
    voices, four, pairs, cons, lows, highs = [], 0, 0, 0, [], []
    entropies = []
    for frames in pieces:
        hist = [0] * 12
        for keys in frames:
            if not keys:
                continue
            voices.append(len(keys))
            lows.append(min(keys) + LOW)
            highs.append(max(keys) + LOW)
            four += len(keys) == 4
            for a in range(len(keys)):
                hist[(keys[a] + LOW) % 12] += 1
                for b in range(a + 1, len(keys)):
                    pairs += 1
                    cons += abs(keys[a] - keys[b]) % 12 in CONSONANT
        total = sum(hist)
        if total:
            entropies.append(-sum(h / total * math.log2(h / total) for h in hist if h))
    n = len(voices)
    mean = sum(voices) / n if n else float("nan")
    sd = math.sqrt(sum((v - mean) ** 2 for v in voices) / n) if n else float("nan")
    return {
        "pieces": len(pieces),
        "frames": n,
        "voices": mean,
        "voices_sd": sd,
        "four": four / n if n else float("nan"),
        "consonance": cons / pairs if pairs else float("nan"),
        "low": sum(lows) / n if n else float("nan"),
        "high": sum(highs) / n if n else float("nan"),
        "pc_entropy": sum(entropies) / len(entropies) if entropies else float("nan"),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("models", nargs="+")
    ap.add_argument("--pieces", type=int, default=32)
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    corpus = musicrnn.Corpus.load(a.corpus)
    ref = [frames_of(p.tokens) for p in (corpus.piece(i) for i in range(len(corpus)))
           if p.split == "test" and p.transpose == 0]
    rows = [("held-out chorales (test split)", describe(ref))]
    for path in a.models:
        with musicrnn.Model.load(path) as m:
            kind = "NADE" if m.params.get("frame_output") == 1 else "independent"
            with m.sampler(n_lanes=a.pieces, rng_seed=a.seed, temperature=a.temperature) as s:
                s.generate(a.frames + 4)
                gen = [frames_of(s.tokens(lane))[4:] for lane in range(a.pieces)]
        rows.append((f"{kind} output ({path.rsplit('/', 1)[-1]}, T={a.temperature:g})", describe(gen)))
    print("| set | pieces | frames with sound | voices per frame | share with 4 voices | consonant pairs "
          "| pitch-class entropy (bits) | lowest / highest key (mean MIDI pitch) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, d in rows:
        print(f"| {name} | {d['pieces']} | {d['frames']} | {d['voices']:.2f} ± {d['voices_sd']:.2f} "
              f"| {d['four']:.2f} | {d['consonance']:.3f} | {d['pc_entropy']:.2f} | {d['low']:.1f} / {d['high']:.1f} |")


if __name__ == "__main__":
    main()
