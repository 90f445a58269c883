"""Model: a stacked LSTM with its vocabulary; training, evaluation, checkpoints."""
import ctypes as C
import weakref
from collections import namedtuple

from . import _structs as S
from ._lib import lib
from ._util import SPLITS, CallbackBridge, Handle, check, fspath, make_params, new_handle, struct_dict, text
from .vocab import Vocab

Progress = namedtuple("Progress", [f for f, _ in S.TrainProgress._fields_])
Progress.__doc__ = "Progress of a training run, passed to the progress callback (valid_loss is NaN when not measured)."
EvalResult = namedtuple("EvalResult", [f for f, _ in S.EvalResult._fields_])
EvalResult.__doc__ = "Results of Model.evaluate(): nll (nats per step), perplexity, accuracy, n_scored, n_pieces."


def _progress(p):
    return Progress(*(getattr(p, f) for f in Progress._fields))


class Model(Handle):
    """A model (``mrnn_model``).

    ``Model(vocab, styles=None, hidden_size=256, ...)``: keyword arguments are the fields of
    ``mrnn_model_params``; the model keeps its own copy of ``vocab``. ``Model.load(path)`` reads a
    checkpoint. Samplers borrow a model: closing the model closes its samplers first.
    """

    _free = "mrnn_model_free"

    def __init__(self, vocab, styles=None, **params):
        p = make_params(S.ModelParams, "mrnn_model_params_init", S.MODEL_PARAMS_VERSION, params)
        styles = [text(s) for s in (styles or [])]
        names = (C.c_char_p * len(styles))(*styles) if styles else None
        self._init(new_handle(lib.mrnn_model_create, vocab._ptr, names, len(styles), C.byref(p)))

    def _init(self, ptr):
        self._init_handle(ptr)
        self._samplers = weakref.WeakSet()

    @classmethod
    def load(cls, path):
        """Read a checkpoint written by save(). Raises MusicRNNError naming the file."""
        self = cls.__new__(cls)
        self._init(new_handle(lib.mrnn_model_load, fspath(path)))
        return self

    def save(self, path, training_state=False):
        """Write a checkpoint; ``training_state=True`` also saves what train() needs to resume exactly."""
        check(lib.mrnn_model_save(self._ptr, fspath(path), 1 if training_state else 0))

    def close(self):
        for s in list(getattr(self, "_samplers", ())):
            s.close()
        super().close()

    @property
    def vocab(self):
        """The model's vocabulary, borrowed: it keeps the model alive and dies with close()."""
        return Vocab._wrap(lib.mrnn_model_vocab(self._ptr), owner=self)

    @property
    def params(self):
        """The network shape as a dict (embed_size, hidden_size, num_layers, dropout, init_seed,
        frame_output: 0 independent or 1 nade, nade_hidden)."""
        p = make_params(S.ModelParams, "mrnn_model_params_init", S.MODEL_PARAMS_VERSION, {})
        check(lib.mrnn_model_get_params(self._ptr, C.byref(p)))
        return struct_dict(p)

    @property
    def param_count(self):
        return lib.mrnn_model_param_count(self._ptr)

    @property
    def steps_trained(self):
        return lib.mrnn_model_steps_trained(self._ptr)

    @property
    def styles(self):
        ptr = self._ptr
        return [lib.mrnn_model_style_name(ptr, i).decode() for i in range(lib.mrnn_model_style_count(ptr))]

    def train(self, corpus, progress=None, **params):
        """Train on the training split of ``corpus``.

        Keyword arguments are the fields of ``mrnn_train_params`` (``max_steps=300``,
        ``learning_rate=0.003``, ``log_path="train.csv"``, ...). ``progress(p)`` is called after
        every step with a Progress; return True from it to stop. Returns True if the run
        completed, False if the callback stopped it. An exception raised by ``progress`` stops
        training and is re-raised here. With a callback, Ctrl-C stops training after the current
        step and raises KeyboardInterrupt here (without one, only once the C call returns).
        The GIL is released while the C code trains.
        """
        p = make_params(S.TrainParams, "mrnn_train_params_init", S.TRAIN_PARAMS_VERSION, params)
        model_ptr, corpus_ptr = self._ptr, corpus._ptr
        with CallbackBridge(S.TRAIN_CALLBACK, progress, _progress) as bridge:
            status = lib.mrnn_model_train(model_ptr, corpus_ptr, C.byref(p), bridge.c_func, None)
        bridge.raise_pending()
        if bridge.cancelled and status == -10:  # MRNN_ERR_CANCELLED asked for by the callback
            return False
        check(status)
        return True

    def evaluate(self, corpus, split="valid"):
        """Score one split ("train", "valid", "test") of ``corpus``: an EvalResult."""
        out = S.EvalResult()
        check(lib.mrnn_model_evaluate(self._ptr, corpus._ptr, SPLITS.get(split, split), C.byref(out)))
        return EvalResult(*(getattr(out, f) for f in EvalResult._fields))

    def sampler(self, **params):
        """A new Sampler over this model (same as ``Sampler(model, **params)``)."""
        from .sampler import Sampler
        return Sampler(self, **params)

    def __repr__(self):
        if self.closed:
            return "<musicrnn.Model closed>"
        return f"<musicrnn.Model {self.param_count} parameters, {self.steps_trained} steps trained>"
