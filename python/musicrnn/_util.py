"""Shared plumbing: handle lifetime, params from keyword arguments, token arrays, callbacks."""
import ctypes as C
import os
import signal
import sys
import threading
import weakref

from ._lib import lib
from .errors import check

try:  # numpy is optional: arrays when present, lists otherwise
    import numpy as np
except ImportError:  # pragma: no cover - exercised only where numpy is missing
    np = None


class Handle:
    """Owns (or borrows) one C handle.

    An owned handle is freed by close(), by leaving a ``with`` block, or by a weakref.finalize
    when the object is garbage-collected or the interpreter exits (finalizers run in reverse
    order of creation, so a sampler is freed before the model it borrows). A borrowed handle keeps
    its owner alive and becomes unusable once the owner is closed.
    """

    _free = None  # name of the C free function, set by subclasses

    def _init_handle(self, ptr, owner=None):
        self._raw = ptr
        self._owner = owner
        if owner is None:
            self._finalizer = weakref.finalize(self, getattr(lib, self._free), ptr)
        else:
            self._finalizer = None

    @property
    def _ptr(self):
        raw = getattr(self, "_raw", None)
        if raw is None or (self._owner is not None and self._owner._raw is None):
            raise ValueError(f"{type(self).__name__} is closed")
        return raw

    @property
    def closed(self):
        try:
            self._ptr
        except ValueError:
            return True
        return False

    def close(self):
        """Free the C handle now. Further use raises ValueError. Closing twice is harmless."""
        if self._finalizer is not None:
            self._finalizer()
        self._raw = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def new_handle(create, *args):
    """Call an mrnn_*_create/load function and return the new handle pointer."""
    out = C.c_void_p()
    check(create(C.byref(out), *args))
    return out.value


def fspath(path):
    """A path argument as the bytes the C library expects."""
    return os.fsencode(path)


def text(s):
    return s.encode() if isinstance(s, str) else bytes(s)


ENUMS = {
    "encoding": {"notechord": 1, "performance": 2, "pianoroll": 3, "multitrack": 4},
    "frame_output": {"independent": 0, "nade": 1},
    "lr_schedule": {"constant": 0, "warmup_cosine": 1},
    "key_scale": {"major": 0, "minor": 1},
    "weight_format": {"float32": 0, "bf16": 1},
}
SPLITS = {"train": 0, "valid": 1, "test": 2}
SPLIT_NAMES = {v: k for k, v in SPLITS.items()}


def make_params(struct_type, init_name, version, kwargs):
    """A params struct filled by its mrnn_*_params_init(), then with ``kwargs``.

    Strings are accepted for enum fields ("notechord", "warmup_cosine", "minor") and for path
    fields. Where the struct has an ``instrument_mask``, ``instruments="piano,bass,drums"`` (or a
    list of names and General MIDI numbers) fills it. Unknown names raise TypeError; values the
    library refuses raise MusicRNNError when the struct is used.
    """
    p = struct_type()
    check(getattr(lib, init_name)(C.byref(p), version))
    names = {f[0] for f in struct_type._fields_} - {"version"}
    if "instrument_mask" in names:
        names.add("instruments")
    for key, value in kwargs.items():
        if key == "instruments" and key in names:
            if not isinstance(value, str):
                value = ",".join(str(x) for x in value)
            check(lib.mrnn_instrument_parse(text(value), p.instrument_mask))
            continue
        if key not in names:
            raise TypeError(f"unknown parameter {key!r} (expected one of {', '.join(sorted(names))})")
        if key in ENUMS and isinstance(value, str):
            try:
                value = ENUMS[key][value]
            except KeyError:
                raise ValueError(f"{key}={value!r}: expected one of {', '.join(ENUMS[key])}") from None
        elif isinstance(value, (str, os.PathLike)):
            value = fspath(value)
        setattr(p, key, value)  # ctypes keeps a reference to bytes assigned to a char* field
    return p


def split_kwargs(kwargs, *struct_types):
    """Distribute keyword arguments over several params structs by field name."""
    parts = [dict() for _ in struct_types]

    def fields(st):
        names = {f[0] for f in st._fields_}
        return names | {"instruments"} if "instrument_mask" in names else names

    for key, value in kwargs.items():
        for part, st in zip(parts, struct_types):
            if key in fields(st):
                part[key] = value
                break
        else:
            allowed = sorted({f for st in struct_types for f in fields(st)} - {"version"})
            raise TypeError(f"unknown parameter {key!r} (expected one of {', '.join(allowed)})")
    return parts


def struct_dict(s):
    """A ctypes struct as a plain dict (bytes decoded, arrays as lists, version left out)."""
    out = {}
    for name, _ in s._fields_:
        if name == "version":
            continue
        v = getattr(s, name)
        if isinstance(v, bytes):
            v = os.fsdecode(v)
        elif isinstance(v, C.Array):
            v = list(v)
        out[name] = v
    return out


def copy_ids(ptr, n):
    """Copy ``n`` uint32 token ids from C memory: a numpy array if numpy is present, else a list."""
    if n == 0:
        return np.zeros(0, dtype=np.uint32) if np is not None else []
    if np is not None:
        return np.ctypeslib.as_array(ptr, shape=(n,)).copy()
    return ptr[:n]


def ids_in(ids):
    """Token ids (any sequence or numpy array) as (pointer, count, keepalive) for a C call."""
    if np is not None:
        arr = np.ascontiguousarray(ids, dtype=np.uint32)
        if arr.ndim != 1:
            raise ValueError("token ids must be a flat sequence")
        return arr.ctypes.data_as(C.POINTER(C.c_uint32)), arr.size, arr
    ids = list(ids)
    arr = (C.c_uint32 * len(ids))(*ids)
    return arr, len(ids), arr


class CallbackBridge:
    """Wraps a Python callable as a C callback that never lets an exception cross into C.

    An exception raised by the callable is stored and the callback returns 1 ("stop"); after the
    C call returns, raise_pending() re-raises it. The CFUNCTYPE object lives as long as the
    bridge, which the caller keeps for the whole C call.

    Ctrl-C needs care: Python runs signal handlers when the next Python code starts, i.e. on
    entry to the callback, before any try block in it. An exception raised there escapes into
    ctypes, which only prints it and hands C an undefined return value. So, used as a context
    manager on the main thread, the bridge swaps in a SIGINT handler that merely sets a flag; the
    callback then returns "stop" and raise_pending() raises KeyboardInterrupt.
    """

    def __init__(self, cfunctype, func, convert):
        self.error = None
        self.cancelled = False
        self.interrupted = False
        self._old_handler = None
        if func is None:
            self.c_func = cfunctype()  # NULL function pointer
            return

        def trampoline(ptr, _user_data):
            try:
                if self.error is not None or self.interrupted:
                    return 1
                stop = bool(func(convert(ptr.contents)))
            except BaseException:  # noqa: B902 - nothing may unwind through C
                self.error = sys.exc_info()[1]
                return 1
            if stop:
                self.cancelled = True
            return 1 if stop else 0

        self.c_func = cfunctype(trampoline)

    def _on_sigint(self, signum, frame):
        self.interrupted = True

    def __enter__(self):
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self._old_handler = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc):
        if self._old_handler is not None:
            signal.signal(signal.SIGINT, self._old_handler)
            self._old_handler = None

    def raise_pending(self):
        if self.error is not None:
            err, self.error = self.error, None
            raise err
        if self.interrupted:
            self.interrupted = False
            raise KeyboardInterrupt
