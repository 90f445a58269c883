"""Error paths: bad files name themselves, bad parameters are refused, closed handles raise."""
import ctypes
import os
import subprocess
import sys

import pytest

import musicrnn
from musicrnn import MusicRNNError, Status


@pytest.mark.parametrize("loader", [musicrnn.Corpus.load, musicrnn.Model.load, musicrnn.Vocab.load])
def test_missing_file_names_it(loader, tmp_path):
    path = tmp_path / "no-such-file.bin"
    with pytest.raises(MusicRNNError) as e:
        loader(path)
    assert e.value.status == Status.ERR_IO
    assert str(path) in e.value.message and str(path) in str(e.value)


@pytest.mark.parametrize("loader", [musicrnn.Corpus.load, musicrnn.Model.load, musicrnn.Vocab.load])
def test_garbage_file_is_a_format_error(loader, tmp_path):
    path = tmp_path / "garbage.bin"
    path.write_bytes(b"this is not a libmusicrnn file at all" * 10)
    with pytest.raises(MusicRNNError) as e:
        loader(path)
    assert e.value.status == Status.ERR_FORMAT
    assert "garbage.bin" in e.value.message


def test_truncated_model_is_refused(model, tmp_path):
    path = tmp_path / "m.mrm"
    model.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MusicRNNError) as e:
        musicrnn.Model.load(path)
    assert e.value.status in (Status.ERR_FORMAT, Status.ERR_IO)
    assert "m.mrm" in e.value.message


def test_bad_midi_file_names_it(tmp_path):
    path = tmp_path / "broken.mid"
    path.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x05\x00\x60MTrk\xff\xff")
    with musicrnn.Corpus() as c:
        with pytest.raises(MusicRNNError) as e:
            c.add_file(path)
        assert e.value.status in (Status.ERR_MIDI, Status.ERR_IO, Status.ERR_LIMIT)
        assert "broken.mid" in e.value.message
        c.add_dir(tmp_path)  # a folder of bad files is not fatal: the report says why
        report = c.reports()[-1]
        assert report.status != 0 and report.reason


def test_bad_parameters(corpus, model):
    with pytest.raises(MusicRNNError) as e:
        musicrnn.Model(corpus.vocab, num_layers=0)
    assert e.value.status == Status.ERR_INVALID_ARG and "num_layers" in e.value.message
    with pytest.raises(MusicRNNError) as e:
        musicrnn.Sampler(model, style=3)  # the model has no style labels
    assert e.value.status == Status.ERR_INVALID_ARG
    with pytest.raises(TypeError, match="hiden_size"):
        musicrnn.Model(corpus.vocab, hiden_size=8)
    with pytest.raises(ValueError, match="encoding"):
        musicrnn.Corpus(encoding="mp3")
    with pytest.raises(TypeError):
        musicrnn.Corpus(vocab=corpus.vocab, encoding="pianoroll")
    with pytest.raises(ctypes.ArgumentError):
        musicrnn.Vocab().token_text("not an int")


def test_unknown_seed_token(model):
    with model.sampler() as s:
        with pytest.raises(MusicRNNError) as e:
            s.prime_text("W:q NOT_A_TOKEN")
        assert e.value.status == Status.ERR_UNKNOWN_TOKEN and "NOT_A_TOKEN" in e.value.message


def test_state_error_after_finish(corpus_dir, midi_files):
    with musicrnn.Corpus() as c:
        c.add_file(midi_files[0])
        c.finish()
        with pytest.raises(MusicRNNError) as e:
            c.add_file(midi_files[1])
        assert e.value.status == Status.ERR_STATE


def test_use_after_close_raises(corpus_dir, midi_files, model, tmp_path):
    c = musicrnn.Corpus()
    c.add_file(midi_files[0])
    v = c.vocab
    c.close()
    c.close()  # twice is harmless
    for call in (lambda: c.stats, lambda: len(c), lambda: c.add_file(midi_files[1]), lambda: len(v)):
        with pytest.raises(ValueError, match="closed"):
            call()
    assert c.closed and v.closed

    path = tmp_path / "m.mrm"
    model.save(path)
    m = musicrnn.Model.load(path)
    s = m.sampler()
    m.close()  # closes the sampler first: a sampler must never outlive the model it borrows
    assert s.closed
    with pytest.raises(ValueError):
        s.generate(3)
    with pytest.raises(ValueError):
        m.sampler()

    with musicrnn.Vocab() as v2:
        pass
    with pytest.raises(ValueError):
        v2.tokens()


def test_version_check_refuses_other_major():
    from musicrnn import _lib

    class FakeFunction:
        def __init__(self, value):
            self.value = value

        def __call__(self):
            return self.value

    class FakeLib:
        _name = "libfake.so"

    # The minor the package was written for and any later patch or minor of the same major load;
    # an older minor (the package binds its functions) and another major do not.
    need = _lib.REQUIRED_MAJOR * 10000 + _lib.REQUIRED_MINOR * 100
    cases = [(need, True), (need + 99, True), (need + 100, True), (need + 10000, False), (need - 1, False)]
    for number, ok in cases:
        fake = FakeLib()
        fake.mrnn_version_number = FakeFunction(number)
        if ok:
            assert _lib._check_version(fake) == number
        else:
            with pytest.raises(ImportError, match="libfake.so"):
                _lib._check_version(fake)


def test_missing_library_is_an_import_error(tmp_path):
    env = dict(os.environ, MUSICRNN_LIBRARY=str(tmp_path / "libnothere.so.0"))
    r = subprocess.run([sys.executable, "-c", "import musicrnn"], env=env, capture_output=True, text=True)
    assert r.returncode != 0
    assert "ImportError" in r.stderr and "libnothere.so.0" in r.stderr
