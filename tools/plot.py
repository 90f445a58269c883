#!/usr/bin/python3
"""Pictures for libmusicrnn runs, with Matplotlib (Debian's python3-matplotlib) and mido.

    plot.py loss TRAIN.csv OUT.png        training and validation loss from `musicrnn train --log`
    plot.py pianoroll IN.mid OUT.png      piano roll of a MIDI file (e.g. a generated piece)
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt  # noqa: E402


def plot_loss(csv_path, png_path):
    steps, train, vsteps, valid = [], [], [], []
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            steps.append(int(row["step"]))
            train.append(float(row["train_loss"]))
            if row["valid_loss"] not in ("", "nan"):
                vsteps.append(int(row["step"]))
                valid.append(float(row["valid_loss"]))
    if not steps:
        sys.exit(f"plot.py: {csv_path}: no training rows")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(steps, train, lw=0.8, alpha=0.7, label="training loss")
    if valid:
        ax.plot(vsteps, valid, "o-", lw=1.5, label="validation loss")
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("loss (nats per step)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(png_path, dpi=120)


def plot_pianoroll(mid_path, png_path):
    import mido

    midi = mido.MidiFile(mid_path)
    notes, sounding, now = [], {}, 0.0
    for msg in midi:  # merged tracks, times in seconds
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            sounding[(msg.channel, msg.note)] = now
        elif msg.type in ("note_off", "note_on"):
            start = sounding.pop((msg.channel, msg.note), None)
            if start is not None:
                notes.append((start, now - start, msg.note, msg.channel))
    if not notes:
        sys.exit(f"plot.py: {mid_path}: no notes")
    fig, ax = plt.subplots(figsize=(10, 4.5))
    colours = plt.get_cmap("tab10")
    for start, length, pitch, channel in notes:
        ax.add_patch(plt.Rectangle((start, pitch - 0.4), length, 0.8, color=colours(channel % 10)))
    ax.set_xlim(0, max(s + l for s, l, _, _ in notes))
    ax.set_ylim(min(n[2] for n in notes) - 2, max(n[2] for n in notes) + 2)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("MIDI pitch")
    ax.set_title(mid_path)
    ax.grid(alpha=0.2)
    fig.tight_layout()
    fig.savefig(png_path, dpi=120)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("loss", "pianoroll"):
        sys.exit(__doc__)
    (plot_loss if sys.argv[1] == "loss" else plot_pianoroll)(sys.argv[2], sys.argv[3])


if __name__ == "__main__":
    main()
