"""Sampler: generation over a borrowed model."""
import ctypes as C
from collections import namedtuple

from . import _structs as S
from ._lib import lib
from ._util import CallbackBridge, Handle, check, copy_ids, fspath, ids_in, make_params, new_handle, np, text

Event = namedtuple("Event", "lane step token keys text time_seconds probability latency_seconds")
Event.__doc__ = ("One generated step: token id (pianoroll: number of keys), keys (pianoroll: the "
                 "frame's ids, else None), text (None for pianoroll), timing and probability.")


def _event(e):
    keys = [e.keys[i] for i in range(e.token)] if e.keys else None
    return Event(e.lane, e.step, e.token, keys, e.text.decode() if e.text is not None else None,
                 e.time_seconds, e.probability, e.latency_seconds)


class Sampler(Handle):
    """A sampler (``mrnn_sampler``): ``Sampler(model, temperature=0.9, top_p=0.95, rng_seed=7)``.

    Keyword arguments are the fields of ``mrnn_sampler_params`` (``key_scale`` also takes
    "major"/"minor", ``weight_format`` "float32"/"bf16"; ``threads`` splits each step's products,
    0 = the library's default). The sampler keeps its model alive. Several samplers may generate
    from one model in parallel threads, as long as nobody trains that model meanwhile.
    """

    _free = "mrnn_sampler_free"

    def __init__(self, model, **params):
        p = make_params(S.SamplerParams, "mrnn_sampler_params_init", S.SAMPLER_PARAMS_VERSION, params)
        self._init_handle(new_handle(lib.mrnn_sampler_create, model._ptr, C.byref(p)))
        self._rng_seed = p.rng_seed
        self._keeps_primer = bool(p.include_primer)
        self.model = model  # the C sampler borrows the model: keep it alive as long as we live
        model._samplers.add(self)

    def reset(self, rng_seed):
        """Forget primer, output and state; re-seed the random generator."""
        check(lib.mrnn_sampler_reset(self._ptr, rng_seed))

    def prime_text(self, seed_text):
        check(lib.mrnn_sampler_prime_text(self._ptr, text(seed_text)))

    def prime_tokens(self, ids):
        arr, n, keep = ids_in(ids)
        check(lib.mrnn_sampler_prime_tokens(self._ptr, arr, n))

    def prime_midi(self, path, track_mask=0, channel_mask=0):
        check(lib.mrnn_sampler_prime_midi(self._ptr, fspath(path), track_mask, channel_mask))

    def generate(self, max_steps, max_seconds=0.0, on_event=None):
        """Generate up to ``max_steps`` steps per lane (or until ``max_seconds`` of music).

        ``on_event(e)`` receives every step as an Event as soon as it is drawn; return True from
        it to stop. Returns True if generation ran to its limit, False if the callback stopped it.
        An exception raised by ``on_event`` stops generation and is re-raised here.
        """
        ptr = self._ptr
        with CallbackBridge(S.SAMPLE_CALLBACK, on_event, _event) as bridge:
            status = lib.mrnn_sampler_generate(ptr, max_steps, max_seconds, bridge.c_func, None)
        bridge.raise_pending()
        if bridge.cancelled and status == -10:
            return False
        check(status)
        return True

    def generate_form(self, form, section_seconds, max_steps=10_000_000):
        """A piece in sections, e.g. ``form="AABA"``, as ``musicrnn generate --form`` makes it.

        The first time a letter appears, the model continues from everything before it (what the
        sampler was primed with, then the piece so far) for ``section_seconds`` of music (at 120
        bpm, as ``max_seconds``); a letter seen before is that section again, note for note. New
        section i draws with the sampler's seed + i. One lane; the sampler must keep its primer in
        the output (``include_primer``, the default). Returns ``(ids, sections)``: the piece as a
        list of token ids, primer first, and ``(letter, start, end)`` for each section. Write it
        with ``model.vocab.write_midi(ids, path)``.
        """
        if not form or not all("A" <= ch <= "Z" for ch in form):
            raise ValueError("form must be capital letters, e.g. 'AABA'")
        if self.lane_count != 1 or not self._keeps_primer:
            raise ValueError("generate_form needs one lane and include_primer=1")
        piece, sections, first = [], [], {}  # first: letter -> index of its section in sections
        for i, letter in enumerate(form):
            if letter in first:
                _, start, end = sections[first[letter]]
                sections.append((letter, len(piece), len(piece) + end - start))
                piece.extend(piece[start:end])
                continue
            if i > 0:
                self.reset(self._rng_seed + i)
                self.prime_tokens(piece)
            primed = len(self.tokens())  # before the first generate, the output is the primer
            self.generate(max_steps, section_seconds)
            out = [int(t) for t in self.tokens()]
            if i == 0:
                piece.extend(out[:primed])
            first[letter] = len(sections)
            sections.append((letter, len(piece), len(piece) + len(out) - primed))
            piece.extend(out[primed:])
        return piece, sections

    @property
    def lane_count(self):
        return lib.mrnn_sampler_lane_count(self._ptr)

    def tokens(self, lane=0):
        """The output of ``lane`` (copied): a numpy uint32 array, or a list without numpy."""
        ids = C.POINTER(C.c_uint32)()
        n = C.c_size_t()
        check(lib.mrnn_sampler_tokens(self._ptr, lane, C.byref(ids), C.byref(n)))
        return copy_ids(ids, n.value)

    def text(self, lane=0):
        """The output of ``lane`` in the vocabulary's notation."""
        return self.model.vocab.format(self.tokens(lane))

    def distribution(self, lane=0):
        """The distribution the last step of ``lane`` was drawn from (numpy float32 array, or list)."""
        ptr = self._ptr
        size = len(self.model.vocab)
        if np is not None:
            buf = np.zeros(size, dtype=np.float32)
            check(lib.mrnn_sampler_distribution(ptr, lane, buf.ctypes.data_as(C.POINTER(C.c_float)), size))
            return buf
        buf = (C.c_float * size)()
        check(lib.mrnn_sampler_distribution(ptr, lane, buf, size))
        return list(buf)

    def log_likelihood(self, lane=0):
        out = C.c_double()
        check(lib.mrnn_sampler_log_likelihood(self._ptr, lane, C.byref(out)))
        return out.value

    def write_midi(self, path, lane=0, tempo_bpm=120.0, program=0):
        check(lib.mrnn_sampler_write_midi(self._ptr, lane, fspath(path), tempo_bpm, program))

    def __repr__(self):
        return "<musicrnn.Sampler closed>" if self.closed else f"<musicrnn.Sampler {self.lane_count} lanes>"
