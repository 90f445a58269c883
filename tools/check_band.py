#!/usr/bin/python3
"""Check a generated multitrack MIDI file with an independent reader (mido): notes on at least
MIN_CHANNELS channels including channel 10 (drums), and on every other channel a program change
before its first note. Prints one line per channel; exits 1 if a check fails.

    check_band.py FILE.mid [MIN_CHANNELS]      (default 3)
"""
import sys

import mido

GM_FAMILIES = ["piano", "chromatic", "organ", "guitar", "bass", "strings", "ensemble", "brass", "reed",
               "pipe", "synth_lead", "synth_pad", "synth_fx", "ethnic", "percussive", "sound_fx"]


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    path, need = sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 3
    midi = mido.MidiFile(path)
    notes, low, high, program_first, program = {}, {}, {}, {}, {}
    for track in midi.tracks:
        for msg in track:
            if msg.type == "program_change":
                program.setdefault(msg.channel, msg.program)
                program_first.setdefault(msg.channel, msg.channel not in notes)
            elif msg.type == "note_on" and msg.velocity > 0:
                notes[msg.channel] = notes.get(msg.channel, 0) + 1
                low[msg.channel] = min(low.get(msg.channel, 127), msg.note)
                high[msg.channel] = max(high.get(msg.channel, 0), msg.note)
    failed = []
    for ch in sorted(notes):
        if ch == 9:
            name = "drums"
        elif ch in program:
            name = f"{GM_FAMILIES[program[ch] // 8]} (program {program[ch]})"
        else:
            name = "no program change"
        print(f"channel {ch + 1:2d}: {notes[ch]:5d} notes, pitches {low[ch]}-{high[ch]}, {name}")
        if ch != 9 and not program_first.get(ch, False):
            failed.append(f"channel {ch + 1} has notes before (or without) a program change")
    if len(notes) < need:
        failed.append(f"notes on {len(notes)} channels, at least {need} expected")
    if 9 not in notes:
        failed.append("no notes on channel 10 (drums)")
    if midi.type != 1:
        failed.append(f"MIDI type {midi.type}, 1 expected")
    for f in failed:
        print(f"check_band.py: {path}: {f}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
