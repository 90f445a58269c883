"""Finds and loads libmusicrnn.so.0, checks its version and declares every C prototype.

Lookup order:
  1. $MUSICRNN_LIBRARY, if set: that file and nothing else (tests use it to load the build tree);
  2. <libdir>/libmusicrnn.so.0, the library installed together with this package (meson writes
     the libdir into _build_config.py at install time);
  3. "libmusicrnn.so.0" through the dynamic loader's usual search (ld.so.cache, LD_LIBRARY_PATH).

ctypes releases the GIL for the whole duration of every call into a CDLL, so long calls
(training, generation) let other Python threads run; callbacks take the GIL back while they run.
"""
import ctypes as C
import os

from . import _structs as S

# The release this package was written for: the library must have the same major version and at
# least this minor version (a minor release only adds functions and fields).
REQUIRED_MAJOR = 0
REQUIRED_MINOR = 2  # it binds the getters of MUSICRNN_0.2 (mrnn_corpus_get_stats, ...)

SONAME = "libmusicrnn.so.0"


def _candidates():
    override = os.environ.get("MUSICRNN_LIBRARY")
    if override:
        return [override]
    paths = []
    try:
        from . import _build_config
    except ImportError:  # running from the source tree: no install-time configuration
        _build_config = None
    if _build_config is not None:
        paths.append(os.path.join(_build_config.LIBDIR, SONAME))
    paths.append(SONAME)
    return paths


def _load():
    failures = []
    for path in _candidates():
        try:
            return C.CDLL(path)
        except OSError as e:
            failures.append(f"{path}: {e}")
    raise ImportError("musicrnn: cannot load the C library libmusicrnn.so.0 (" + "; ".join(failures)
                      + "). Install libmusicrnn, or set MUSICRNN_LIBRARY to the library file.")


def _check_version(lib):
    lib.mrnn_version_number.restype = C.c_uint32
    lib.mrnn_version_number.argtypes = []
    number = lib.mrnn_version_number()
    major, minor = number // 10000, number // 100 % 100
    if major != REQUIRED_MAJOR or minor < REQUIRED_MINOR:
        raise ImportError(
            f"musicrnn: the Python package needs libmusicrnn {REQUIRED_MAJOR}.{REQUIRED_MINOR} or a "
            f"later {REQUIRED_MAJOR}.x, but {getattr(lib, '_name', SONAME)} is version "
            f"{major}.{minor}.{number % 100}")
    return number


lib = _load()
version_number = _check_version(lib)

_p = C.c_void_p            # every opaque handle
_pp = C.POINTER(C.c_void_p)
_u32p = C.POINTER(C.c_uint32)
_status = C.c_int
_str = C.c_char_p

# name: (restype, argtypes)
_PROTOTYPES = {
    "mrnn_version_string": (_str, []),
    "mrnn_status_string": (_str, [_status]),
    "mrnn_last_error": (_str, []),
    "mrnn_clear_error": (None, []),
    "mrnn_encoding_params_init": (_status, [C.POINTER(S.EncodingParams), C.c_uint32]),
    "mrnn_corpus_params_init": (_status, [C.POINTER(S.CorpusParams), C.c_uint32]),
    "mrnn_model_params_init": (_status, [C.POINTER(S.ModelParams), C.c_uint32]),
    "mrnn_train_params_init": (_status, [C.POINTER(S.TrainParams), C.c_uint32]),
    "mrnn_sampler_params_init": (_status, [C.POINTER(S.SamplerParams), C.c_uint32]),
    # vocab
    "mrnn_vocab_create": (_status, [_pp, C.POINTER(S.EncodingParams)]),
    "mrnn_vocab_free": (None, [_p]),
    "mrnn_vocab_size": (C.c_uint32, [_p]),
    "mrnn_vocab_get_encoding_params": (_status, [_p, C.POINTER(S.EncodingParams)]),
    "mrnn_vocab_token_text": (_str, [_p, C.c_uint32]),
    "mrnn_vocab_token_id": (_status, [_p, _str, _u32p]),
    "mrnn_vocab_parse": (_status, [_p, _str, _u32p, C.c_size_t, C.POINTER(C.c_size_t)]),
    "mrnn_vocab_format": (_status, [_p, _u32p, C.c_size_t, C.c_char_p, C.c_size_t,
                                    C.POINTER(C.c_size_t)]),
    "mrnn_vocab_save": (_status, [_p, _str]),
    "mrnn_vocab_load": (_status, [_pp, _str]),
    # corpus
    "mrnn_corpus_create": (_status, [_pp, C.POINTER(S.EncodingParams), C.POINTER(S.CorpusParams)]),
    "mrnn_corpus_create_with_vocab": (_status, [_pp, _p, C.POINTER(S.CorpusParams)]),
    "mrnn_corpus_free": (None, [_p]),
    "mrnn_corpus_add_file": (_status, [_p, _str, _str]),
    "mrnn_corpus_add_dir": (_status, [_p, _str]),
    "mrnn_corpus_finish": (_status, [_p]),
    "mrnn_corpus_vocab": (_p, [_p]),
    "mrnn_corpus_get_stats": (_status, [_p, C.POINTER(S.CorpusStats)]),
    "mrnn_corpus_file_count": (C.c_uint32, [_p]),
    "mrnn_corpus_get_file_report": (_status, [_p, C.c_uint32, C.POINTER(S.FileReport)]),
    "mrnn_corpus_get_file_instruments": (_status, [_p, C.c_uint32, C.POINTER(S.InstrumentReport)]),
    "mrnn_instrument_report_init": (_status, [C.POINTER(S.InstrumentReport), C.c_uint32]),
    "mrnn_instrument_name": (_str, [C.c_uint32]),
    "mrnn_instrument_parse": (_status, [_str, _u32p]),
    "mrnn_corpus_piece_count": (C.c_uint32, [_p]),
    "mrnn_corpus_piece_tokens": (_status, [_p, C.c_uint32, C.POINTER(_u32p), C.POINTER(C.c_size_t),
                                           _u32p, C.POINTER(C.c_int32)]),
    "mrnn_corpus_style_count": (C.c_uint32, [_p]),
    "mrnn_corpus_style_name": (_str, [_p, C.c_uint32]),
    "mrnn_corpus_save": (_status, [_p, _str]),
    "mrnn_corpus_load": (_status, [_pp, _str]),
    "mrnn_corpus_map": (_status, [_pp, _str]),
    "mrnn_tokens_write_midi": (_status, [_p, _u32p, C.c_size_t, _str, C.c_double, C.c_uint32]),
    # model
    "mrnn_model_create": (_status, [_pp, _p, C.POINTER(_str), C.c_uint32, C.POINTER(S.ModelParams)]),
    "mrnn_model_free": (None, [_p]),
    "mrnn_model_vocab": (_p, [_p]),
    "mrnn_model_get_params": (_status, [_p, C.POINTER(S.ModelParams)]),
    "mrnn_model_param_count": (C.c_uint64, [_p]),
    "mrnn_model_steps_trained": (C.c_uint64, [_p]),
    "mrnn_model_style_count": (C.c_uint32, [_p]),
    "mrnn_model_style_name": (_str, [_p, C.c_uint32]),
    "mrnn_model_train": (_status, [_p, _p, C.POINTER(S.TrainParams), S.TRAIN_CALLBACK, C.c_void_p]),
    "mrnn_model_evaluate": (_status, [_p, _p, C.c_uint32, C.POINTER(S.EvalResult)]),
    "mrnn_model_save": (_status, [_p, _str, C.c_uint32]),
    "mrnn_model_load": (_status, [_pp, _str]),
    # sampler
    "mrnn_sampler_create": (_status, [_pp, _p, C.POINTER(S.SamplerParams)]),
    "mrnn_sampler_free": (None, [_p]),
    "mrnn_sampler_reset": (_status, [_p, C.c_uint64]),
    "mrnn_sampler_prime_tokens": (_status, [_p, _u32p, C.c_size_t]),
    "mrnn_sampler_prime_text": (_status, [_p, _str]),
    "mrnn_sampler_prime_midi": (_status, [_p, _str, C.c_uint64, C.c_uint32]),
    "mrnn_sampler_generate": (_status, [_p, C.c_uint32, C.c_double, S.SAMPLE_CALLBACK, C.c_void_p]),
    "mrnn_sampler_lane_count": (C.c_uint32, [_p]),
    "mrnn_sampler_tokens": (_status, [_p, C.c_uint32, C.POINTER(_u32p), C.POINTER(C.c_size_t)]),
    "mrnn_sampler_distribution": (_status, [_p, C.c_uint32, C.POINTER(C.c_float), C.c_size_t]),
    "mrnn_sampler_log_likelihood": (_status, [_p, C.c_uint32, C.POINTER(C.c_double)]),
    "mrnn_sampler_write_midi": (_status, [_p, C.c_uint32, _str, C.c_double, C.c_uint32]),
}

for _name, (_res, _args) in _PROTOTYPES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _res
    _fn.argtypes = _args

version_string = lib.mrnn_version_string().decode()
