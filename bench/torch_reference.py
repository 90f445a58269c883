#!/usr/bin/python3
"""PyTorch reference for libmusicrnn's training, to cross-check the C implementation.

Trains nn.Embedding (a sum of key embeddings for pianoroll frames) -> nn.LSTM -> dropout -> nn.Linear
with PyTorch's own default initialisation, on the tokens written by bench/export_tokens, with the
library's training recipe:

- windows of --seq-len transitions; each lane picks a training piece with probability proportional
  to its transitions and a uniformly random start (pieces shorter than a window are taken whole,
  the rest of the lane is masked);
- loss: softmax cross-entropy (event encodings) or the sum over the 88 keys of sigmoid binary
  cross-entropy (pianoroll), averaged over the scored steps of the batch;
- dropout after every LSTM layer, the top one included (nn.LSTM only drops between layers);
- Adam (AdamW when --weight-decay > 0), global gradient-norm clipping, constant or warm-up + cosine
  learning rate with the same formula as lib/train.c;
- scoring: every piece of the split from its first step, state carried through the whole piece,
  first step not scored, mean over all scored steps of the split (nats per step).

The random stream differs from the library's (numpy and torch generators), so results agree in
distribution, not bit for bit. Prints one JSON line.
"""
import argparse
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_tokens(path):
    with open(path) as f:
        head = f.readline().split()
        if len(head) != 5 or head[0] != "musicrnn-tokens" or head[1] != "1":
            sys.exit(f"{path}: not a musicrnn-tokens 1 file")
        encoding, vocab, multi_hot = head[2], int(head[3]), head[4] == "1"
        pieces = []
        for line in f:
            parts = line.split()
            split, transpose = int(parts[0]), int(parts[1])
            if multi_hot:
                steps = [[] if s == "-" else [int(k) for k in s.split(",")] for s in parts[2:]]
            else:
                steps = [int(t) for t in parts[2:]]
            pieces.append((split, transpose, steps))
    return encoding, vocab, multi_hot, pieces


class Net(nn.Module):
    def __init__(self, vocab, n_out, embed, hidden, layers, dropout, multi_hot):
        super().__init__()
        self.multi_hot = multi_hot
        # nn.Embedding's default init is N(0, 1); a frame's input is the sum of its keys' rows.
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, layers, dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, n_out)

    def forward(self, x, state=None):
        # x: [T, B] ids, or [T, B, vocab] multi-hot floats.
        e = x @ self.embed.weight if self.multi_hot else self.embed(x)
        h, state = self.lstm(e, state)
        return self.out(self.drop(h)), state


def to_input(steps, multi_hot, vocab):
    if not multi_hot:
        return torch.tensor(steps, dtype=torch.long)
    x = torch.zeros(len(steps), vocab)
    for t, keys in enumerate(steps):
        if keys:
            x[t, keys] = 1.0
    return x


def step_losses(logits, target, multi_hot):
    """Per-step NLL [T, B] and per-step correctness (argmax hit / exact frame) [T, B]."""
    if multi_hot:
        nll = F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(-1)
        pred = logits > 0
        correct = (pred == (target > 0.5)).all(-1)
    else:
        T, B, V = logits.shape
        nll = F.cross_entropy(logits.reshape(T * B, V), target.reshape(T * B), reduction="none").reshape(T, B)
        correct = logits.argmax(-1) == target
    return nll, correct


def learning_rate(args, step, total):
    if args.schedule != "cosine":
        return args.lr
    if args.warmup > 0 and step <= args.warmup:
        return args.lr * step / args.warmup
    span = total - args.warmup if total > args.warmup else 1
    progress = min(1.0, (step - args.warmup) / span)
    floor = args.lr * args.min_lr_fraction
    return floor + (args.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def sample_batch(train, cum, rng, args, multi_hot, vocab):
    T, B = args.seq_len, args.batch
    if multi_hot:
        x = torch.zeros(T, B, vocab)
        y = torch.zeros(T, B, vocab)
    else:
        x = torch.zeros(T, B, dtype=torch.long)
        y = torch.zeros(T, B, dtype=torch.long)
    mask = torch.zeros(T, B)
    for lane in range(B):
        piece = train[int(np.searchsorted(cum, rng.integers(cum[-1]), side="right"))]
        transitions = piece.n - 1
        n = min(transitions, T)
        start = int(rng.integers(transitions - n + 1))
        x[:n, lane] = piece.inp[start:start + n]
        y[:n, lane] = piece.tgt[start:start + n]
        mask[:n, lane] = 1.0
    return x, y, mask


def evaluate(net, pieces, multi_hot):
    net.eval()
    total, scored, correct = 0.0, 0, 0
    with torch.no_grad():
        for inp, tgt in pieces:
            logits, _ = net(inp.unsqueeze(1))
            nll, hit = step_losses(logits, tgt.unsqueeze(1), multi_hot)
            total += float(nll.double().sum())
            scored += nll.numel()
            correct += int(hit.sum())
    net.train()
    return total / scored, correct / scored


class TrainPiece:
    """Inputs (steps 0..n-2) and targets (steps 1..n-1) of one piece, as tensors."""

    def __init__(self, steps, multi_hot, vocab):
        full = to_input(steps, multi_hot, vocab)
        self.inp, self.tgt = full[:-1], full[1:]
        self.n = len(steps)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tokens", help="file written by bench/export_tokens")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--embed", type=int, default=128)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.002)
    ap.add_argument("--schedule", choices=["constant", "cosine"], default="constant")
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--min-lr-fraction", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--clip", type=float, default=5.0)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--split", choices=["valid", "test"], default="valid")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    encoding, vocab, multi_hot, pieces = read_tokens(args.tokens)
    n_out = vocab
    split_id = {"valid": 1, "test": 2}[args.split]
    train = [TrainPiece(s, multi_hot, vocab) for sp, _, s in pieces if sp == 0 and len(s) >= 2]
    scored = [TrainPiece(s, multi_hot, vocab) for sp, tr, s in pieces if sp == split_id and tr == 0 and len(s) >= 2]
    if not train or not scored:
        sys.exit("the corpus needs training pieces and pieces in the scored split")
    cum = np.cumsum([p.n - 1 for p in train])

    net = Net(vocab, n_out, args.embed, args.hidden, args.layers, args.dropout, multi_hot)
    opt_cls = torch.optim.AdamW if args.weight_decay > 0 else torch.optim.Adam
    opt = opt_cls(net.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=args.weight_decay)
    t0 = time.time()
    for step in range(1, args.steps + 1):
        for g in opt.param_groups:
            g["lr"] = learning_rate(args, step, args.steps)
        x, y, mask = sample_batch(train, cum, rng, args, multi_hot, vocab)
        logits, _ = net(x)
        nll, _ = step_losses(logits, y, multi_hot)
        loss = (nll * mask).sum() / mask.sum()
        opt.zero_grad()
        loss.backward()
        if args.clip > 0:
            nn.utils.clip_grad_norm_(net.parameters(), args.clip)
        opt.step()
    train_seconds = time.time() - t0
    nll, acc = evaluate(net, [(p.inp, p.tgt) for p in scored], multi_hot)
    print(json.dumps({"encoding": encoding, "split": args.split, "nll": round(nll, 6), "accuracy": round(acc, 6),
                      "steps": args.steps, "train_seconds": round(train_seconds, 1), "threads": args.threads,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
