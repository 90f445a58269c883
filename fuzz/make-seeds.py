#!/usr/bin/python3
"""Write the fuzzers' seed corpora into fuzz/corpus/<target>/: small MIDI files made here (valid ones
with the features the reader handles, and malformed ones with the hazards it must reject), corpus
and model files made from them with the musicrnn program, and seed texts for every encoding.

    fuzz/make-seeds.py PATH/TO/musicrnn
"""
import os
import struct
import subprocess
import sys
import tempfile

import mido

here = os.path.dirname(os.path.abspath(__file__))
musicrnn = sys.argv[1]
out = {t: os.path.join(here, "corpus", t) for t in ("midi", "corpus_file", "model_file", "seed_text")}
for d in out.values():
    os.makedirs(d, exist_ok=True)


def melody(track, channel, pitches, length=240, velocity=80):
    for p in pitches:
        track.append(mido.Message("note_on", note=p, velocity=velocity, channel=channel, time=0))
        track.append(mido.Message("note_off", note=p, velocity=0, channel=channel, time=length))


def valid_files():
    """Valid MIDI files, each exercising something different."""
    files = {}
    # Type 1: conductor track with tempo changes and a time signature, two instruments, a chord.
    f = mido.MidiFile(type=1, ticks_per_beat=96)
    cond = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000, time=0),
                           mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0),
                           mido.MetaMessage("set_tempo", tempo=400000, time=384)])
    a = mido.MidiTrack([mido.Message("program_change", program=40, channel=0, time=0)])
    melody(a, 0, [60, 62, 64, 65, 67], 96, 100)
    b = mido.MidiTrack([mido.Message("program_change", program=0, channel=1, time=0)])
    for chord in ([48, 52, 55], [50, 53, 57]):
        for p in chord:
            b.append(mido.Message("note_on", note=p, velocity=70, channel=1, time=0))
        for i, p in enumerate(chord):
            b.append(mido.Message("note_off", note=p, channel=1, time=192 if i == 0 else 0))
    f.tracks += [cond, a, b]
    files["type1-tempo-chords.mid"] = f
    # Type 0: drums, sustain pedal, overlapping notes and note-on with velocity 0 as note-off.
    f = mido.MidiFile(type=0, ticks_per_beat=480)
    t = mido.MidiTrack([mido.Message("control_change", control=64, value=127, channel=0, time=0)])
    t.append(mido.Message("note_on", note=72, velocity=90, channel=0, time=0))
    t.append(mido.Message("note_on", note=36, velocity=120, channel=9, time=0))
    t.append(mido.Message("note_on", note=72, velocity=0, channel=0, time=240))
    t.append(mido.Message("note_on", note=36, velocity=0, channel=9, time=0))
    t.append(mido.Message("control_change", control=64, value=0, channel=0, time=480))
    t.append(mido.Message("pitchwheel", pitch=1000, channel=0, time=10))
    melody(t, 0, [21, 108], 120, 1)
    f.tracks.append(t)
    files["type0-drums-pedal.mid"] = f
    # Tempo outside the first track and a long rest.
    f = mido.MidiFile(type=1, ticks_per_beat=24)
    a = mido.MidiTrack()
    melody(a, 2, [57, 59, 60], 24)
    b = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=300000, time=48),
                        mido.MetaMessage("track_name", name="strings", time=0)])
    melody(b, 3, [45], 24 * 16)
    f.tracks += [a, b]
    files["tempo-in-track2.mid"] = f
    return files


def chunk(kind, body):
    return kind + struct.pack(">I", len(body)) + body


def header(fmt, ntracks, division=96):
    return chunk(b"MThd", struct.pack(">HHH", fmt, ntracks, division))


EOT = b"\x00\xff\x2f\x00"
# Two notes (a piece needs at least two steps), the second ended by a note-off with velocity.
NOTE = b"\x00\x90\x3c\x40\x60\x80\x3c\x00\x00\x90\x40\x50\x30\x80\x40\x40"
RUNNING = b"\x00\x90\x3c\x40\x60\x3c\x00\x00\x3e\x40\x60\x3e\x00"  # running status, note-on vel 0

malformed = {
    "running-status.mid": header(0, 1) + chunk(b"MTrk", RUNNING + EOT),  # valid, but hand-made
    "no-end-of-track.mid": header(0, 1) + chunk(b"MTrk", NOTE),
    "empty-track.mid": header(1, 2) + chunk(b"MTrk", NOTE + EOT) + chunk(b"MTrk", b""),
    "f7-event.mid": header(0, 1) + chunk(b"MTrk", b"\x00\xf7\x02\x01\x02" + NOTE + EOT),
    "running-after-sysex.mid": header(0, 1) + chunk(b"MTrk", b"\x00\x90\x3c\x40\x00\xf0\x01\xf7\x10\x3c\x00" + EOT),
    "track-longer-than-file.mid": header(0, 1) + b"MTrk" + struct.pack(">I", 0x7FFFFFF0) + NOTE + EOT,
    "more-tracks-declared.mid": header(1, 4) + chunk(b"MTrk", NOTE + EOT),
    "unknown-chunk.mid": header(1, 1) + chunk(b"XFIH", b"abcd") + chunk(b"MTrk", NOTE + EOT),
    "zero-length-tempo.mid": header(0, 1) + chunk(b"MTrk", b"\x00\xff\x51\x00" + NOTE + EOT),
    "long-meta.mid": header(0, 1) + chunk(b"MTrk", b"\x00\xff\x01\x81\x00" + b"x" * 128 + NOTE + EOT),
    "tick-overflow.mid": header(0, 1) + chunk(b"MTrk", b"\x00\x90\x3c\x40" + b"\xff\xff\xff\x7f\x80\x3c\x00" * 20 + EOT),
    "smpte-division.mid": header(0, 1, 0xE728) + chunk(b"MTrk", NOTE + EOT),
    "zero-division.mid": header(0, 1, 0) + chunk(b"MTrk", NOTE + EOT),
    "not-midi.mid": b"RIFF\x00\x00\x00\x00WAVEfmt ",
}

with tempfile.TemporaryDirectory() as work:
    valid = valid_files()
    for name, f in valid.items():
        f.save(os.path.join(out["midi"], name))
        f.save(os.path.join(work, name))
    first = open(os.path.join(out["midi"], "type1-tempo-chords.mid"), "rb").read()
    malformed["truncated-half.mid"] = first[: len(first) // 2]
    for name, data in malformed.items():
        with open(os.path.join(out["midi"], name), "wb") as fh:
            fh.write(data)
    with open(os.path.join(work, "running-status.mid"), "wb") as fh:
        fh.write(malformed["running-status.mid"])

    def run(*args):
        subprocess.run([musicrnn, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    for enc in ("notechord", "performance", "pianoroll"):
        corpus = os.path.join(out["corpus_file"], enc + ".mrc")
        run("preprocess", "--encoding", enc, "--valid-fraction", "0.3", "-o", corpus, work)
        model = os.path.join(out["model_file"], enc + ".mrm")
        run("train", corpus, "-o", model, "--hidden", "4", "--embed", "3", "--layers", "2", "--steps", "2",
            "--seq-len", "8", "--batch", "2", "--valid-every", "0", "--threads", "1", "--quiet")
        # Another shape (one layer, dropout). Both hold the optimiser state, as every checkpoint does.
        run("train", corpus, "-o", os.path.join(out["model_file"], enc + "-1layer.mrm"), "--hidden", "5",
            "--embed", "2", "--layers", "1", "--dropout", "0.2", "--steps", "1", "--seq-len", "8",
            "--batch", "2", "--valid-every", "0", "--threads", "1", "--quiet")
    # Truncated files reach the parser's bounds checks once the harness fixes the checksum.
    for target, ext in (("corpus_file", ".mrc"), ("model_file", ".mrm")):
        for name in sorted(os.listdir(out[target])):
            if name.endswith(ext) and "-cut" not in name:
                data = open(os.path.join(out[target], name), "rb").read()
                with open(os.path.join(out[target], name[: -len(ext)] + "-cut" + ext), "wb") as fh:
                    fh.write(data[: len(data) * 2 // 3])

texts = {
    "notechord": ["C4.E4.G4:q W:q G4:e", "D#5:e. W:3/4 drum36:s <unk>", "Bb3:t A0.C8:w W:h C4:q"],
    "performance": ["VELOCITY_20 NOTE_ON_60 TIME_SHIFT_50 NOTE_OFF_60", "NOTE_ON_127 TIME_SHIFT_100 NOTE_OFF_0"],
    "pianoroll": ["C4.E4.G4 _ A0 C8", "Bb3.D4 _ _ F#5"],
}
selector = {"notechord": b"\x00", "performance": b"\x01", "pianoroll": b"\x02"}
for enc, lines in texts.items():
    for i, line in enumerate(lines):
        with open(os.path.join(out["seed_text"], f"{enc}-{i}.txt"), "wb") as fh:
            fh.write(selector[enc] + line.encode())
print("seeds:", {t: len(os.listdir(d)) for t, d in out.items()})
