#!/usr/bin/python3
"""Train a small model on a folder of MIDI files, compose a piece, and draw two figures.

    train_and_generate.py [MIDI_DIR] [--steps 300] [--out DIR]

Writes into DIR (default ./musicrnn-example): corpus.mrc, model.mrm, train.csv, generated.mid,
and with Matplotlib and mido installed loss.png (training and validation loss) and
generated.png (piano roll). MIDI_DIR defaults to Debian's openttd-openmsx pieces.
"""
import argparse
import importlib.util
import os
import sys

import musicrnn

HERE = os.path.dirname(os.path.abspath(__file__))
PLOT_PY = os.path.join(HERE, "..", "..", "tools", "plot.py")


def load_plotting():
    """tools/plot.py's functions (one copy of the plotting code), or None without Matplotlib."""
    try:
        spec = importlib.util.spec_from_file_location("musicrnn_plot", PLOT_PY)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        import mido  # noqa: F401 - plot_pianoroll reads the MIDI file with it
    except (ImportError, FileNotFoundError) as e:
        print(f"no figures: {e}", file=sys.stderr)
        return None
    return module


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("midi_dir", nargs="?", default="/usr/share/games/openttd/baseset/openmsx")
    ap.add_argument("--out", default="musicrnn-example")
    ap.add_argument("--steps", type=int, default=300, help="optimiser steps (default 300)")
    ap.add_argument("--hidden", type=int, default=128, help="LSTM cells per layer (default 128)")
    ap.add_argument("--length", type=int, default=400, help="tokens to generate (default 400)")
    ap.add_argument("--seed", type=int, default=1, help="random seed of the generated piece")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)  # noqa: E731

    print(f"libmusicrnn {musicrnn.library_version}")
    with musicrnn.Corpus(encoding="notechord", min_count=2, valid_fraction=0.15) as corpus:
        corpus.add_dir(args.midi_dir)
        corpus.finish()
        for r in corpus.reports():
            if r.status != 0:
                print(f"skipped {r.path}: {r.reason}")
        st = corpus.stats
        print(f"{st['n_files'] - st['n_skipped']} files read, {st['n_steps'][0]} training steps, "
              f"vocabulary {st['vocab_size']}")
        corpus.save(out("corpus.mrc"))

        model = musicrnn.Model(corpus.vocab, embed_size=64, hidden_size=args.hidden, num_layers=1)

        def progress(p):
            if p.step % 25 == 0 or p.step == p.total_steps:
                valid = "" if p.valid_loss != p.valid_loss else f"  valid {p.valid_loss:.3f}"  # NaN: not measured
                print(f"step {p.step}/{p.total_steps}  loss {p.train_loss:.3f}{valid}", flush=True)

        log = out("train.csv")
        if os.path.exists(log):
            os.remove(log)  # the library appends to a log
        model.train(corpus, progress=progress, max_steps=args.steps, seq_len=48, batch_size=16,
                    learning_rate=0.005, valid_every=max(1, args.steps // 5), log_path=log)
        r = model.evaluate(corpus, "valid")
        print(f"validation: {r.nll:.3f} nats per step, perplexity {r.perplexity:.1f}, accuracy {r.accuracy:.2f}")
        model.save(out("model.mrm"))

    with model, model.sampler(temperature=0.9, top_p=0.95, rng_seed=args.seed) as sampler:
        sampler.generate(args.length)
        sampler.write_midi(out("generated.mid"), tempo_bpm=110)
        print(f"generated {len(sampler.tokens())} tokens, log-likelihood {sampler.log_likelihood():.1f}")

    plot = load_plotting()
    if plot is not None:
        plot.plot_loss(log, out("loss.png"))
        plot.plot_pianoroll(out("generated.mid"), out("generated.png"))
    print(f"outputs in {args.out}: " + ", ".join(sorted(os.listdir(args.out))))


if __name__ == "__main__":
    main()
