"""Corpus: MIDI files read into token sequences, split into train/valid/test."""
import ctypes as C
import os
from collections import namedtuple

from . import _structs as S
from ._lib import lib
from ._util import (SPLIT_NAMES, Handle, check, copy_ids, fspath, make_params, new_handle,
                    split_kwargs, struct_dict, text)
from .vocab import Vocab

FileReport = namedtuple("FileReport", "path status reason split n_pieces n_notes n_steps")
FileReport.__doc__ = "What happened to one input file (status 0 = read; split is 'train'/'valid'/'test')."
Piece = namedtuple("Piece", "tokens split transpose")
Piece.__doc__ = "One piece: its token ids, its split name and its augmentation shift in semitones."


class Corpus(Handle):
    """A corpus (``mrnn_corpus``).

    ``Corpus(encoding="notechord", valid_fraction=0.1, ...)``: keyword arguments are the fields
    of ``mrnn_encoding_params`` and ``mrnn_corpus_params``. ``Corpus(vocab=v, ...)`` encodes with a
    copy of an existing vocabulary instead (e.g. a model's). ``Corpus.load(path)`` reads a saved one.
    """

    _free = "mrnn_corpus_free"

    def __init__(self, vocab=None, **params):
        enc_kw, corpus_kw = split_kwargs(params, S.EncodingParams, S.CorpusParams)
        cp = make_params(S.CorpusParams, "mrnn_corpus_params_init", S.CORPUS_PARAMS_VERSION, corpus_kw)
        if vocab is not None:
            if enc_kw:
                raise TypeError("encoding parameters cannot be combined with vocab=: the vocabulary fixes them")
            ptr = new_handle(lib.mrnn_corpus_create_with_vocab, vocab._ptr, C.byref(cp))
        else:
            ep = make_params(S.EncodingParams, "mrnn_encoding_params_init", S.ENCODING_PARAMS_VERSION, enc_kw)
            ptr = new_handle(lib.mrnn_corpus_create, C.byref(ep), C.byref(cp))
        self._init_handle(ptr)

    @classmethod
    def load(cls, path):
        """Read a corpus written by save() (it is finished). Raises MusicRNNError naming the file."""
        self = cls.__new__(cls)
        self._init_handle(new_handle(lib.mrnn_corpus_load, fspath(path)))
        return self

    def add_file(self, path, style=None):
        """Read one MIDI file; a bad file raises MusicRNNError (and the corpus is unchanged)."""
        check(lib.mrnn_corpus_add_file(self._ptr, fspath(path), None if style is None else text(style)))

    def add_dir(self, path):
        """Read every .mid/.midi file below ``path``. Bad files are skipped: see reports()."""
        check(lib.mrnn_corpus_add_dir(self._ptr, fspath(path)))

    def finish(self):
        """Fix the vocabulary. The corpus is read-only afterwards."""
        check(lib.mrnn_corpus_finish(self._ptr))

    def save(self, path):
        check(lib.mrnn_corpus_save(self._ptr, fspath(path)))

    @property
    def vocab(self):
        """The corpus vocabulary, borrowed: it keeps the corpus alive and dies with close()."""
        return Vocab._wrap(lib.mrnn_corpus_vocab(self._ptr), owner=self)

    @property
    def stats(self):
        """Totals as a dict; per-split values are lists [train, valid, test]."""
        out = S.CorpusStats()
        check(lib.mrnn_corpus_get_stats(self._ptr, C.byref(out)))
        return struct_dict(out)

    def reports(self):
        """A FileReport for every file offered, read or skipped."""
        ptr = self._ptr
        out = []
        for i in range(lib.mrnn_corpus_file_count(ptr)):
            r = S.FileReport()
            check(lib.mrnn_corpus_get_file_report(ptr, i, C.byref(r)))
            out.append(FileReport(os.fsdecode(r.path), r.status, (r.reason or b"").decode(errors="replace"),
                                  SPLIT_NAMES.get(r.split, r.split), r.n_pieces, r.n_notes, r.n_steps))
        return out

    def instruments(self, i):
        """The instruments of file i as a dict: ``{slot: (notes, dropped)}`` where slot is a General
        MIDI program 0-127 or 128 for the drum kit (``musicrnn.instrument_name(slot)`` names it).
        Only for corpora built in this process (corpus files do not keep it)."""
        r = S.InstrumentReport()
        check(lib.mrnn_instrument_report_init(C.byref(r), S.INSTRUMENT_REPORT_VERSION))
        check(lib.mrnn_corpus_get_file_instruments(self._ptr, i, C.byref(r)))
        return {k: (r.notes[k], r.dropped[k]) for k in range(S.INSTRUMENT_COUNT) if r.notes[k]}

    def __len__(self):
        """Number of pieces (all splits, transposed copies included)."""
        return lib.mrnn_corpus_piece_count(self._ptr)

    def piece(self, i):
        """Piece i: its token ids (copied), split and transposition."""
        ids = C.POINTER(C.c_uint32)()
        n = C.c_size_t()
        split = C.c_uint32()
        transpose = C.c_int32()
        check(lib.mrnn_corpus_piece_tokens(self._ptr, i, C.byref(ids), C.byref(n), C.byref(split),
                                           C.byref(transpose)))
        return Piece(copy_ids(ids, n.value), SPLIT_NAMES.get(split.value, split.value), transpose.value)

    @property
    def styles(self):
        ptr = self._ptr
        return [lib.mrnn_corpus_style_name(ptr, i).decode() for i in range(lib.mrnn_corpus_style_count(ptr))]

    def __repr__(self):
        if self.closed:
            return "<musicrnn.Corpus closed>"
        return f"<musicrnn.Corpus {len(self)} pieces>"
