"""Shared fixtures: the default corpus (Debian's openttd-openmsx) and a tiny trained model.

Run against the build tree with MUSICRNN_LIBRARY=<build>/lib/libmusicrnn.so.0 and
PYTHONPATH=<source>/python (meson test --suite python), or against an installed package with
PYTHONPATH=<site-packages> only (tools/run-tests.sh).
"""
import os
import sys

import pytest

DEFAULT_CORPUS = os.environ.get("MRNN_DEFAULT_CORPUS", "/usr/share/games/openttd/baseset/openmsx")


@pytest.fixture(scope="session")
def corpus_dir():
    if not os.path.isdir(DEFAULT_CORPUS):
        sys.stderr.write(f"skipping: default corpus {DEFAULT_CORPUS} absent (apt-get install openttd-openmsx)\n")
        pytest.skip(f"default corpus {DEFAULT_CORPUS} absent")
    return DEFAULT_CORPUS


@pytest.fixture(scope="session")
def midi_files(corpus_dir):
    return sorted(os.path.join(corpus_dir, f) for f in os.listdir(corpus_dir) if f.endswith(".mid"))


@pytest.fixture(scope="session")
def corpus(corpus_dir):
    import musicrnn
    c = musicrnn.Corpus(encoding="notechord", valid_fraction=0.15)
    c.add_dir(corpus_dir)
    c.finish()
    return c


@pytest.fixture(scope="session")
def model(corpus):
    """A small model trained a few steps: enough to sample from, quick to make."""
    import musicrnn
    m = musicrnn.Model(corpus.vocab, embed_size=16, hidden_size=32, num_layers=1)
    assert m.train(corpus, max_steps=15, seq_len=32, batch_size=4, valid_every=0)
    return m
