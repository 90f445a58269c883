#!/usr/bin/python3
"""Pictures for libmusicrnn runs, with Matplotlib (Debian's python3-matplotlib) and mido.

    plot.py loss TRAIN.csv OUT.png        training and validation loss from `musicrnn train --log`
    plot.py pianoroll IN.mid OUT.png      piano roll of a MIDI file (e.g. a generated piece): one colour
                                          per instrument, drums in their own lane
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


# The 16 General MIDI families (programs 8k..8k+7), as musicrnn names them.
GM_FAMILIES = ["piano", "chromatic", "organ", "guitar", "bass", "strings", "ensemble", "brass", "reed",
               "pipe", "synth_lead", "synth_pad", "synth_fx", "ethnic", "percussive", "sound_fx"]
# A few General MIDI drum-kit names for the drum lane's labels.
GM_DRUMS = {35: "kick 2", 36: "kick", 37: "stick", 38: "snare", 39: "clap", 40: "snare 2", 41: "low tom",
            42: "closed hat", 43: "tom", 44: "pedal hat", 45: "tom", 46: "open hat", 47: "tom", 48: "tom",
            49: "crash", 50: "high tom", 51: "ride", 52: "china", 53: "ride bell", 54: "tambourine",
            55: "splash", 56: "cowbell", 57: "crash 2", 59: "ride 2"}


def read_notes(mid_path):
    """(start s, length s, pitch, channel, program) of every note, and which channels are drums."""
    import mido

    midi = mido.MidiFile(mid_path)
    notes, sounding, program, now = [], {}, {}, 0.0
    for msg in midi:  # merged tracks, times in seconds
        now += msg.time
        if msg.type == "program_change":
            program[msg.channel] = msg.program
        elif msg.type == "note_on" and msg.velocity > 0:
            sounding[(msg.channel, msg.note)] = (now, program.get(msg.channel, 0))
        elif msg.type in ("note_off", "note_on"):
            started = sounding.pop((msg.channel, msg.note), None)
            if started is not None:
                notes.append((started[0], now - started[0], msg.note, msg.channel, started[1]))
    return notes


def plot_pianoroll(mid_path, png_path):
    """Pitched notes coloured by instrument (legend: channel, program, GM family), and the drum kit
    (channel 10) in its own lane below, one row per drum sound."""
    notes = read_notes(mid_path)
    if not notes:
        sys.exit(f"plot.py: {mid_path}: no notes")
    pitched = [n for n in notes if n[3] != 9]
    drums = [n for n in notes if n[3] == 9]
    end = max(s + l for s, l, *_ in notes)
    kit = sorted({n[2] for n in drums})
    if drums:
        fig, (ax, dax) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True,
                                      gridspec_kw={"height_ratios": [3, min(2, max(0.6, len(kit) / 10))]})
    else:
        fig, ax = plt.subplots(figsize=(11, 4.5))
        dax = None
    colours = plt.get_cmap("tab10")
    instruments = sorted({(n[3], n[4]) for n in pitched})
    colour_of = {inst: colours(i % 10) for i, inst in enumerate(instruments)}
    for start, length, pitch, channel, program in pitched:
        ax.add_patch(plt.Rectangle((start, pitch - 0.4), length, 0.8, color=colour_of[(channel, program)]))
    handles = [plt.Rectangle((0, 0), 1, 1, color=colour_of[inst]) for inst in instruments]
    labels = [f"ch {c + 1}: {GM_FAMILIES[p // 8]} ({p})" for c, p in instruments]
    if pitched:
        ax.set_ylim(min(n[2] for n in pitched) - 2, max(n[2] for n in pitched) + 2)
        ax.legend(handles, labels, loc="upper right", fontsize=7, ncol=2, framealpha=0.8)
    ax.set_xlim(0, end)
    ax.set_ylabel("MIDI pitch")
    ax.set_title(mid_path)
    ax.grid(alpha=0.2)
    if dax is not None:
        row = {p: i for i, p in enumerate(kit)}
        for start, length, pitch, *_ in drums:
            dax.add_patch(plt.Rectangle((start, row[pitch] - 0.35), max(length, end / 400), 0.7, color="black"))
        dax.set_ylim(-0.6, len(kit) - 0.4)
        dax.set_yticks(range(len(kit)))
        dax.set_yticklabels([f"{GM_DRUMS.get(p, 'drum')} {p}" for p in kit], fontsize=6)
        dax.set_ylabel("drums (ch 10)")
        dax.grid(alpha=0.2)
        dax.set_xlabel("time (s)")
    else:
        ax.set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(png_path, dpi=120)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("loss", "pianoroll"):
        sys.exit(__doc__)
    (plot_loss if sys.argv[1] == "loss" else plot_pianoroll)(sys.argv[2], sys.argv[3])


if __name__ == "__main__":
    main()
