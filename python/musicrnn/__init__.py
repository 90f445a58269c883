"""libmusicrnn from Python: learn music from MIDI files with LSTM networks, and compose.

A thin ctypes layer over the C library libmusicrnn.so.0 (no compiled extension; numpy is used
for token arrays when it is installed, lists otherwise)::

    import musicrnn
    corpus = musicrnn.Corpus(encoding="notechord", valid_fraction=0.15)
    corpus.add_dir("/usr/share/games/openttd/baseset/openmsx")
    corpus.finish()
    model = musicrnn.Model(corpus.vocab, hidden_size=128)
    model.train(corpus, max_steps=200)
    with model.sampler(temperature=0.9, rng_seed=7) as s:
        s.generate(400)
        s.write_midi("new.mid")

Several instruments and drums: ``Corpus(encoding="multitrack")``, then
``model.sampler(instruments="piano,bass,drums")`` generates for those instruments only.

Handles are freed by close(), by ``with`` blocks, or when garbage-collected. Failures raise
MusicRNNError (``.status``, ``.message``). Calls into C release the GIL (ctypes does that for
every call), so training or generating in a thread does not block other Python threads.
"""
from ._lib import version_number as _version_number, version_string as library_version
from ._structs import FRAME_END, INSTRUMENT_COUNT
from ._lib import lib as _clib
from .corpus import Corpus, FileReport, Piece
from .errors import MusicRNNError, Status, last_error
from .model import EvalResult, Model, Progress
from .sampler import Event, Sampler
from .vocab import Vocab



def instrument_name(slot):
    """Name of an instrument slot: the GM family of program 0-127 ("bass"), or "drums" for 128."""
    s = _clib.mrnn_instrument_name(slot)
    if s is None:
        raise IndexError(f"instrument slot {slot} is not in 0..{INSTRUMENT_COUNT - 1}")
    return s.decode()


__version__ = "0.2.0"
library_version_number = _version_number

__all__ = [
    "Corpus", "Vocab", "Model", "Sampler", "MusicRNNError", "Status", "FileReport", "Piece",
    "Progress", "EvalResult", "Event", "FRAME_END", "last_error", "library_version",
    "library_version_number", "instrument_name", "INSTRUMENT_COUNT",
]
