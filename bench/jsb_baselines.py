#!/usr/bin/python3
"""Two count-based baselines for a pianoroll corpus exported by bench/export_tokens, scored like
`musicrnn eval` (nats per frame summed over the 88 keys, first frame of each piece not scored,
mean over all scored frames of the split):

- independent keys: each key sounds with its frequency in the training frames;
- per-key Markov chain: P(key sounds | it sounded in the previous frame) and
  P(key sounds | it was silent), both counted on the training split.

Add-one smoothing; transposed training copies are ignored. Prints one JSON line.
"""
import json
import sys

import numpy as np


def read_frames(path):
    with open(path) as f:
        head = f.readline().split()
        if head[:2] != ["musicrnn-tokens", "1"] or head[4] != "1":
            sys.exit(f"{path}: not a pianoroll musicrnn-tokens file")
        keys = int(head[3])
        pieces = []
        for line in f:
            parts = line.split()
            roll = np.zeros((len(parts) - 2, keys))
            for t, step in enumerate(parts[2:]):
                if step != "-":
                    roll[t, [int(k) for k in step.split(",")]] = 1.0
            pieces.append((int(parts[0]), int(parts[1]), roll))
    return pieces


def nll(prob, target):
    p = np.clip(prob, 1e-12, 1 - 1e-12)
    return float(-(target * np.log(p) + (1 - target) * np.log(1 - p)).sum())


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("valid", "test"):
        sys.exit("usage: jsb_baselines.py TOKENS.txt valid|test")
    pieces = read_frames(sys.argv[1])
    train = [r for s, tr, r in pieces if s == 0 and tr == 0]
    scored = [r for s, tr, r in pieces if s == {"valid": 1, "test": 2}[sys.argv[2]] and tr == 0 and len(r) >= 2]
    frames = np.concatenate([r[1:] for r in train])
    freq = (frames.sum(0) + 1) / (len(frames) + 2)
    on_on = sum((r[:-1] * r[1:]).sum(0) for r in train)
    on = sum(r[:-1].sum(0) for r in train)
    off_on = sum(((1 - r[:-1]) * r[1:]).sum(0) for r in train)
    off = sum((1 - r[:-1]).sum(0) for r in train)
    p_stay, p_start = (on_on + 1) / (on + 2), (off_on + 1) / (off + 2)
    n = sum(len(r) - 1 for r in scored)
    iid = sum(nll(np.broadcast_to(freq, r[1:].shape), r[1:]) for r in scored) / n
    markov = sum(nll(r[:-1] * p_stay + (1 - r[:-1]) * p_start, r[1:]) for r in scored) / n
    print(json.dumps({"split": sys.argv[2], "independent_keys": round(iid, 4), "markov_keys": round(markov, 4),
                      "scored_frames": n}))


if __name__ == "__main__":
    main()
