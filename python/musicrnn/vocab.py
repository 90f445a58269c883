"""Vocab: token ids <-> text, and the encoding that gives tokens their meaning."""
import ctypes as C

from . import _structs as S
from ._lib import lib
from ._util import Handle, check, copy_ids, fspath, ids_in, make_params, new_handle, struct_dict, text
from .errors import MusicRNNError, Status


class Vocab(Handle):
    """A vocabulary (``mrnn_vocab``).

    ``Vocab(encoding="performance")`` makes a new one (keyword arguments are the fields of
    ``mrnn_encoding_params``); ``Vocab.load(path)`` reads a saved one. ``corpus.vocab`` and
    ``model.vocab`` are borrowed views that keep their corpus or model alive.
    """

    _free = "mrnn_vocab_free"

    def __init__(self, **encoding):
        p = make_params(S.EncodingParams, "mrnn_encoding_params_init", S.ENCODING_PARAMS_VERSION, encoding)
        self._init_handle(new_handle(lib.mrnn_vocab_create, C.byref(p)))

    @classmethod
    def _wrap(cls, ptr, owner=None):
        self = cls.__new__(cls)
        self._init_handle(ptr, owner)
        return self

    @classmethod
    def load(cls, path):
        """Read a vocabulary written by save(). Raises MusicRNNError naming the file."""
        return cls._wrap(new_handle(lib.mrnn_vocab_load, fspath(path)))

    def save(self, path):
        check(lib.mrnn_vocab_save(self._ptr, fspath(path)))

    def __len__(self):
        return lib.mrnn_vocab_size(self._ptr)

    @property
    def encoding_params(self):
        """The encoding parameters as a dict (``encoding`` is 1 to 4; see ``encoding``)."""
        p = make_params(S.EncodingParams, "mrnn_encoding_params_init", S.ENCODING_PARAMS_VERSION, {})
        check(lib.mrnn_vocab_get_encoding_params(self._ptr, C.byref(p)))
        return struct_dict(p)

    @property
    def encoding(self):
        """"notechord", "performance", "pianoroll" or "multitrack"."""
        return {1: "notechord", 2: "performance", 3: "pianoroll", 4: "multitrack"}[self.encoding_params["encoding"]]

    def token_text(self, token_id):
        s = lib.mrnn_vocab_token_text(self._ptr, token_id)
        if s is None:
            raise IndexError(f"token id {token_id} out of range (vocabulary of {len(self)})")
        return s.decode()

    def token_id(self, token):
        out = C.c_uint32()
        check(lib.mrnn_vocab_token_id(self._ptr, text(token), C.byref(out)))
        return out.value

    def __contains__(self, token):
        try:
            self.token_id(token)
        except MusicRNNError as e:
            if e.status == Status.ERR_UNKNOWN_TOKEN:
                return False
            raise
        return True

    def tokens(self):
        """All token texts, in id order."""
        return [self.token_text(i) for i in range(len(self))]

    def parse(self, seed_text):
        """Token ids of a seed text such as "C4.E4.G4:q W:q" (numpy array, or list)."""
        ptr = self._ptr
        raw = text(seed_text)
        n = C.c_size_t()
        status = lib.mrnn_vocab_parse(ptr, raw, None, 0, C.byref(n))
        if status not in (0, Status.ERR_LIMIT):
            check(status)
        buf = (C.c_uint32 * max(n.value, 1))()
        check(lib.mrnn_vocab_parse(ptr, raw, buf, n.value, C.byref(n)))
        return copy_ids(buf, n.value)

    def format(self, ids):
        """The text of token ids, separated by spaces."""
        ptr = self._ptr
        arr, n, keep = ids_in(ids)
        needed = C.c_size_t()
        status = lib.mrnn_vocab_format(ptr, arr, n, None, 0, C.byref(needed))
        if status not in (0, Status.ERR_LIMIT):
            check(status)
        buf = C.create_string_buffer(needed.value)
        check(lib.mrnn_vocab_format(ptr, arr, n, buf, needed.value, None))
        return buf.value.decode()

    def write_midi(self, ids, path, tempo_bpm=120.0, program=0):
        """Decode token ids with this vocabulary's encoding and write a MIDI file."""
        arr, n, keep = ids_in(ids)
        check(lib.mrnn_tokens_write_midi(self._ptr, arr, n, fspath(path), tempo_bpm, program))

    def __repr__(self):
        if self.closed:
            return "<musicrnn.Vocab closed>"
        return f"<musicrnn.Vocab {self.encoding}, {len(self)} tokens>"
