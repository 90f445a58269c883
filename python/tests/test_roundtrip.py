"""Save/load round trips of corpus, vocabulary and model; tokens -> MIDI -> tokens."""
import os

import pytest

import musicrnn


def as_list(ids):
    return [int(i) for i in ids]


def test_library_version_matches_package():
    assert musicrnn.library_version.count(".") == 2
    major, minor, patch = (int(x) for x in musicrnn.library_version.split("."))
    assert musicrnn.library_version_number == major * 10000 + minor * 100 + patch


def test_loaded_library_is_the_expected_one():
    # run-tests.sh sets these when testing the installed package: the package under test must be
    # the installed one, and it must load the library next to it (its _build_config.LIBDIR), not
    # some other libmusicrnn on the system.
    from musicrnn import _lib
    package_dir = os.environ.get("MUSICRNN_EXPECT_PACKAGE_DIR")
    if package_dir:
        assert os.path.dirname(musicrnn.__file__) == package_dir
    libdir = os.environ.get("MUSICRNN_EXPECT_LIBDIR")
    if libdir:
        assert os.path.dirname(_lib.lib._name) == libdir


def test_corpus_reads_default_corpus(corpus, midi_files):
    st = corpus.stats
    assert st["n_files"] == len(midi_files)
    assert st["n_pieces"][0] > 0 and st["n_pieces"][1] > 0
    assert st["vocab_size"] == len(corpus.vocab)
    reports = corpus.reports()
    assert [r.path for r in reports] == midi_files
    assert sum(r.n_steps for r in reports if r.status == 0) == sum(st["n_steps"])


def test_corpus_save_load(corpus, tmp_path):
    path = tmp_path / "c.mrc"
    corpus.save(path)
    with musicrnn.Corpus.load(path) as back:
        assert back.stats == corpus.stats
        assert back.vocab.tokens() == corpus.vocab.tokens()
        for i in range(len(corpus)):
            a, b = corpus.piece(i), back.piece(i)
            assert as_list(a.tokens) == as_list(b.tokens)
            assert (a.split, a.transpose) == (b.split, b.transpose)


def test_spilled_corpus_saves_the_same_file(corpus, corpus_dir, tmp_path):
    """spill_dir keeps the tokens in a temporary file while building; the saved file is the same."""
    corpus.save(tmp_path / "mem.mrc")
    with musicrnn.Corpus(encoding="notechord", valid_fraction=0.15, spill_dir=str(tmp_path)) as c:
        c.add_dir(corpus_dir)
        c.save(tmp_path / "disk.mrc")
        assert c.stats == corpus.stats
    assert (tmp_path / "disk.mrc").read_bytes() == (tmp_path / "mem.mrc").read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["disk.mrc", "mem.mrc"]  # the temporary file has no name


def test_vocab_save_load_and_text(tmp_path):
    with musicrnn.Vocab(encoding="performance") as v:
        assert len(v) == 388
        assert v.token_text(v.token_id("NOTE_ON_60")) == "NOTE_ON_60"
        assert "TIME_SHIFT_25" in v and "NOT_A_TOKEN" not in v
        ids = v.parse("NOTE_ON_60 TIME_SHIFT_50 NOTE_OFF_60")
        assert v.format(ids) == "NOTE_ON_60 TIME_SHIFT_50 NOTE_OFF_60"
        v.save(tmp_path / "v.mrv")
        with musicrnn.Vocab.load(tmp_path / "v.mrv") as back:
            assert back.tokens() == v.tokens()
            assert back.encoding_params == v.encoding_params


def test_model_save_load_gives_same_samples(model, tmp_path):
    path = tmp_path / "m.mrm"
    model.save(path)
    with musicrnn.Model.load(path) as back:
        assert back.params == model.params
        assert back.steps_trained == model.steps_trained
        assert back.vocab.tokens() == model.vocab.tokens()
        outs = []
        for m in (model, back):
            with m.sampler(rng_seed=11, temperature=0.9) as s:
                s.prime_text("W:q")
                s.generate(40)
                outs.append(as_list(s.tokens()))
        assert outs[0] == outs[1]
        assert len(outs[0]) == 41  # primer kept + 40 steps


def test_corpus_tokens_midi_tokens(corpus, tmp_path):
    """A piece written as MIDI and read back with the same vocabulary gives the same tokens."""
    piece = corpus.piece(0)
    mid = tmp_path / "piece.mid"
    corpus.vocab.write_midi(piece.tokens, mid, tempo_bpm=100)
    with musicrnn.Corpus(vocab=corpus.vocab, valid_fraction=0.0) as again:
        again.add_file(mid)
        again.finish()
        assert as_list(again.piece(0).tokens) == as_list(piece.tokens)


def test_sampler_prime_midi_and_write_midi(model, corpus, tmp_path):
    # A corpus piece is in canonical form, so as MIDI it primes a sampler with exactly its tokens.
    # (Raw samples of a barely trained model are not: chords drawn without a time advance between
    # them sound together and read back as one merged chord.)
    piece = as_list(corpus.piece(1).tokens)[:200]
    while corpus.vocab.token_text(piece[-1]).startswith("W:"):  # trailing silence is not stored in MIDI
        piece.pop()
    corpus.vocab.write_midi(piece, tmp_path / "primer.mid")
    with model.sampler(rng_seed=5) as s:
        s.prime_midi(tmp_path / "primer.mid")
        assert as_list(s.tokens()) == piece
        s.generate(30)
        out = as_list(s.tokens())
        assert out[:len(piece)] == piece and len(out) == len(piece) + 30
        s.write_midi(tmp_path / "gen.mid", tempo_bpm=90)
    model.vocab.write_midi(out, tmp_path / "same.mid", tempo_bpm=90)
    assert (tmp_path / "gen.mid").read_bytes()[:4] == b"MThd"
    assert (tmp_path / "gen.mid").read_bytes() == (tmp_path / "same.mid").read_bytes()


def test_evaluate_and_distribution(model, corpus):
    r = model.evaluate(corpus, "valid")
    assert r.n_pieces == corpus.stats["n_pieces"][1]
    assert r.nll > 0 and abs(r.perplexity - 2.718281828459045 ** r.nll) < 1e-6 * r.perplexity
    with model.sampler(rng_seed=2) as s:
        s.generate(5)
        d = s.distribution()
        assert len(d) == len(model.vocab)
        assert abs(float(sum(d)) - 1.0) < 1e-4
        assert s.log_likelihood() < 0


def test_borrowed_objects_keep_their_owner_alive(midi_files, corpus, tmp_path):
    import gc
    import weakref

    c = musicrnn.Corpus()
    c.add_file(midi_files[0])
    c.finish()
    owner = weakref.ref(c)
    vocab = c.vocab
    del c
    gc.collect()
    assert owner() is not None and len(vocab) > 1  # the corpus lives as long as its vocabulary view
    del vocab
    gc.collect()
    assert owner() is None  # and is freed once nothing refers to it

    path = tmp_path / "m.mrm"
    m = musicrnn.Model(corpus.vocab, embed_size=8, hidden_size=8, num_layers=1)
    m.save(path)
    del m
    s = musicrnn.Model.load(path).sampler(rng_seed=1)  # nothing else holds the model
    gc.collect()
    assert s.generate(5) and len(s.tokens()) == 5


def test_works_without_numpy(tmp_path):
    import subprocess
    import sys

    code = """
import sys
sys.modules["numpy"] = None  # makes `import numpy` fail, as on a system without it
import musicrnn
v = musicrnn.Vocab(encoding="performance")
ids = v.parse("NOTE_ON_60 TIME_SHIFT_50 NOTE_OFF_60")
assert ids == [v.token_id("NOTE_ON_60"), v.token_id("TIME_SHIFT_50"), v.token_id("NOTE_OFF_60")], ids
v.write_midi(ids, sys.argv[1])
m = musicrnn.Model(v, embed_size=8, hidden_size=8, num_layers=1)
with m.sampler(rng_seed=3) as s:
    s.prime_tokens(ids)
    s.generate(4)
    out, dist = s.tokens(), s.distribution()
assert type(out) is list and out[:3] == ids and len(out) == 7, out
assert type(dist) is list and len(dist) == 388 and abs(sum(dist) - 1) < 1e-4
print("ok")
"""
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "c4.mid")], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    assert (tmp_path / "c4.mid").read_bytes()[:4] == b"MThd"


def test_bf16_weights_sampler(model):
    """weight_format="bf16" reaches the C struct (version 2): close to float, not identical."""
    dists = {}
    for fmt in ("float32", "bf16"):
        with model.sampler(rng_seed=3, weight_format=fmt) as s:
            s.generate(1)
            dists[fmt] = [float(x) for x in s.distribution()]
    diff = max(abs(a - b) for a, b in zip(dists["float32"], dists["bf16"]))
    assert 0 < diff < 2e-2
    with pytest.raises(musicrnn.MusicRNNError, match="weight_format"):
        model.sampler(weight_format=7)


def test_nade_frame_output(corpus_dir, tmp_path):
    # The joint (NADE) frame output from Python: chosen by name, trained, scored, saved and loaded
    # with the same samples, and refused for an event encoding.
    c = musicrnn.Corpus(encoding="pianoroll", valid_fraction=0.2)
    for name in sorted(os.listdir(corpus_dir))[:3]:
        c.add_file(os.path.join(corpus_dir, name))
    c.finish()
    m = musicrnn.Model(c.vocab, embed_size=8, hidden_size=16, num_layers=1, frame_output="nade", nade_hidden=10)
    assert m.params["frame_output"] == 1 and m.params["nade_hidden"] == 10
    before = m.evaluate(c, "train")
    assert m.train(c, max_steps=10, seq_len=16, batch_size=2, valid_every=0)
    after = m.evaluate(c, "train")
    assert after.nll < before.nll
    path = tmp_path / "nade.mrm"
    m.save(path)
    with musicrnn.Model.load(path) as back:
        assert back.params == m.params
        outs = []
        for mm in (m, back):
            with mm.sampler(rng_seed=3, max_polyphony=4) as s:
                s.generate(30)
                outs.append(as_list(s.tokens()))
        assert outs[0] == outs[1]
        assert outs[0].count(musicrnn.FRAME_END) == 30
    m.close()
    with pytest.raises(musicrnn.MusicRNNError, match="pianoroll"):
        musicrnn.Model(musicrnn.Vocab(encoding="notechord"), frame_output="nade")


OPENMSX = os.environ.get("MRNN_DEFAULT_CORPUS", "/usr/share/games/openttd/baseset/openmsx")


@pytest.mark.skipif(not os.path.isdir(OPENMSX), reason="the default corpus is not installed")
def test_multitrack_instruments_and_masked_generation(tmp_path):
    corpus = musicrnn.Corpus(encoding="multitrack", instruments="piano,bass,drums", valid_fraction=0.0)
    corpus.add_file(os.path.join(OPENMSX, "5432gone_redfarn.mid"))
    corpus.finish()
    assert corpus.vocab.encoding == "multitrack"
    assert len(corpus.vocab) == 304
    found = corpus.instruments(0)
    assert found[128][0] > 0 and found[128][1] == 0          # drums read and kept
    assert found[23][1] == found[23][0]                       # the organ is not in the list: dropped
    assert musicrnn.instrument_name(33) == "bass" and musicrnn.instrument_name(128) == "drums"
    model = musicrnn.Model(corpus.vocab, hidden_size=16, embed_size=8, num_layers=1)
    with model.sampler(instruments=["bass", 33, "drums"], temperature=2.0, rng_seed=3) as s:
        s.generate(400)
        texts = [corpus.vocab.token_text(i) for i in s.tokens()]
        s.write_midi(str(tmp_path / "g.mid"))
    assert all(t == "PROGRAM_bass" for t in texts if t.startswith("PROGRAM_"))
    with pytest.raises(musicrnn.MusicRNNError):
        model.sampler(instruments="kazoo")


def test_regularisers_reach_the_c_call(corpus_dir):
    # Recurrent dropout, weight dropout and weight averaging are training parameters: each changes the trained
    # model (so it reached the C call), and a rate of 1 is refused, naming the field.
    c = musicrnn.Corpus(encoding="pianoroll", valid_fraction=0.2)
    for name in sorted(os.listdir(corpus_dir))[:3]:
        c.add_file(os.path.join(corpus_dir, name))
    c.finish()
    scores = []
    for extra in ({}, {"recurrent_dropout": 0.3}, {"weight_average": 0.9}, {"weight_dropout": 0.3}):
        with musicrnn.Model(c.vocab, embed_size=8, hidden_size=16, num_layers=1, init_seed=2) as m:
            assert m.train(c, max_steps=10, seq_len=16, batch_size=2, valid_every=0, threads=1, **extra)
            scores.append(m.evaluate(c, "train").nll)
            for name in extra:
                with pytest.raises(musicrnn.MusicRNNError, match=name):
                    m.train(c, max_steps=11, **{name: 1.0})
    assert scores[0] != scores[1] and scores[0] != scores[2] and scores[0] != scores[3]


def test_generate_form_repeats_sections(model, tmp_path):
    with model.sampler(rng_seed=3) as s:
        ids, sections = s.generate_form("ABA", 2.0)
        with pytest.raises(ValueError):
            s.generate_form("aba", 2.0)
    assert [x[0] for x in sections] == ["A", "B", "A"]
    assert sections[0][1] == 0 and sections[-1][2] == len(ids)
    a1, b, a2 = [ids[start:end] for _, start, end in sections]
    assert len(a1) > 2 and a1 == a2
    assert len(b) > 2 and b != a1
    model.vocab.write_midi(ids, tmp_path / "form.mid")
    assert (tmp_path / "form.mid").read_bytes()[:4] == b"MThd"



def test_generate_form_keeps_the_primer_first(model, corpus):
    primer = as_list(corpus.piece(0).tokens)[:10]
    with model.sampler(rng_seed=3) as s:
        s.prime_tokens(primer)
        ids, sections = s.generate_form("AA", 1.0)
    assert ids[:10] == primer and sections[0][1] == 10
    assert ids[10:sections[0][2]] == ids[sections[1][1]:sections[1][2]]
