"""ctypes mirrors of the public structs of musicrnn.h, field for field and in the same order.

The cffi layout test (python/tests/test_cdef.py) compares every offset here with the layout cffi
computes from the header itself, so a field added to the header but not here is caught.
"""
import ctypes as C

# Versions of the params structs this package was written for (MRNN_*_PARAMS_VERSION).
ENCODING_PARAMS_VERSION = 2
CORPUS_PARAMS_VERSION = 3
MODEL_PARAMS_VERSION = 2
TRAIN_PARAMS_VERSION = 6
SAMPLER_PARAMS_VERSION = 4

FRAME_END = 0xFFFFFFFF  # MRNN_FRAME_END: ends each pianoroll frame in a flat token stream
INSTRUMENT_COUNT = 129  # MRNN_INSTRUMENT_COUNT: GM programs 0-127 and the drum kit (128)
INSTRUMENT_MASK_WORDS = 5  # MRNN_INSTRUMENT_MASK_WORDS


class EncodingParams(C.Structure):
    _fields_ = [
        ("version", C.c_uint32),
        ("encoding", C.c_uint32),
        ("steps_per_quarter", C.c_uint32),
        ("frame_seconds", C.c_double),
        ("keep_drums", C.c_int32),
        ("channel_mask", C.c_uint32),
        ("track_mask", C.c_uint64),
        ("normalize_key", C.c_int32),
        ("max_steps", C.c_uint32),
        ("min_count", C.c_uint32),
        ("max_duration_steps", C.c_uint32),
        ("multitrack_programs", C.c_int32),  # version 2
        ("instrument_mask", C.c_uint32 * 5),
        ("max_tracks", C.c_uint32),
        ("velocity_bins", C.c_uint32),
    ]


class CorpusParams(C.Structure):
    _fields_ = [
        ("version", C.c_uint32),
        ("valid_fraction", C.c_double),
        ("test_fraction", C.c_double),
        ("split_seed", C.c_uint64),
        ("use_folder_split", C.c_int32),
        ("transpose_range", C.c_uint32),
        ("style_from_folder", C.c_int32),
        ("max_file_bytes", C.c_uint64),
        # version 2
        ("threads", C.c_uint32),
        ("progress", C.c_void_p),  # mrnn_corpus_progress_callback; not bound by this package
        ("progress_user_data", C.c_void_p),
        # version 3
        ("spill_dir", C.c_char_p),
    ]


class CorpusProgress(C.Structure):
    _fields_ = [
        ("files_done", C.c_uint32),
        ("files_total", C.c_uint32),
        ("files_skipped", C.c_uint32),
        ("reserved", C.c_uint32),
        ("bytes_read", C.c_uint64),
        ("elapsed_seconds", C.c_double),
        ("path", C.c_char_p),
    ]


class ModelParams(C.Structure):
    _fields_ = [
        ("version", C.c_uint32),
        ("embed_size", C.c_uint32),
        ("hidden_size", C.c_uint32),
        ("num_layers", C.c_uint32),
        ("dropout", C.c_float),
        ("init_seed", C.c_uint64),
        # version 2
        ("frame_output", C.c_uint32),
        ("nade_hidden", C.c_uint32),
    ]


class TrainParams(C.Structure):
    _fields_ = [
        ("version", C.c_uint32),
        ("seq_len", C.c_uint32),
        ("batch_size", C.c_uint32),
        ("learning_rate", C.c_float),
        ("lr_schedule", C.c_uint32),
        ("warmup_steps", C.c_uint32),
        ("min_lr_fraction", C.c_float),
        ("beta1", C.c_float),
        ("beta2", C.c_float),
        ("epsilon", C.c_float),
        ("weight_decay", C.c_float),
        ("clip_norm", C.c_float),
        ("max_steps", C.c_uint64),
        ("epochs", C.c_float),
        ("seed", C.c_uint64),
        ("threads", C.c_uint32),
        ("valid_every", C.c_uint32),
        ("patience", C.c_uint32),
        ("checkpoint_path", C.c_char_p),
        ("checkpoint_every", C.c_uint32),
        ("best_path", C.c_char_p),
        ("log_path", C.c_char_p),
        # version 2
        ("input_dropout", C.c_float),
        # version 3: data-parallel training (an MPI program's callback; not bound by this package)
        ("allreduce", C.c_void_p),
        ("allreduce_user_data", C.c_void_p),
        ("rank", C.c_uint32),
        ("n_ranks", C.c_uint32),
        # version 4
        ("weight_average", C.c_float),
        ("recurrent_dropout", C.c_float),
        # version 5: the allreduce overlapped with the backward pass
        ("allreduce_overlap", C.c_uint32),
        ("allreduce_segment_min", C.c_uint32),
        # version 6
        ("weight_dropout", C.c_float),
    ]


class SamplerParams(C.Structure):
    _fields_ = [
        ("version", C.c_uint32),
        ("temperature", C.c_float),
        ("top_k", C.c_uint32),
        ("top_p", C.c_float),
        ("repetition_penalty", C.c_float),
        ("repetition_window", C.c_uint32),
        ("beam_width", C.c_uint32),
        ("n_lanes", C.c_uint32),
        ("rng_seed", C.c_uint64),
        ("style", C.c_int32),
        ("min_pitch", C.c_uint32),
        ("max_pitch", C.c_uint32),
        ("key_tonic", C.c_int32),
        ("key_scale", C.c_uint32),
        ("max_polyphony", C.c_uint32),
        ("allow_drums", C.c_int32),
        ("include_primer", C.c_int32),
        ("weight_format", C.c_uint32),  # version 2
        ("threads", C.c_uint32),  # version 3
        ("instrument_mask", C.c_uint32 * 5),  # version 4
        ("instrument_min_pitch", C.c_uint8 * 129),
        ("instrument_max_pitch", C.c_uint8 * 129),
    ]


INSTRUMENT_REPORT_VERSION = 1


class InstrumentReport(C.Structure):
    _fields_ = [
        ("version", C.c_uint32),
        ("n_instruments", C.c_uint32),
        ("notes", C.c_uint64 * 129),
        ("dropped", C.c_uint64 * 129),
        ("drum_pitches", C.c_uint32 * 4),
    ]


class FileReport(C.Structure):
    _fields_ = [
        ("path", C.c_char_p),
        ("status", C.c_int32),
        ("reason", C.c_char_p),
        ("split", C.c_uint32),
        ("n_pieces", C.c_uint32),
        ("n_notes", C.c_uint64),
        ("n_steps", C.c_uint64),
    ]


class CorpusStats(C.Structure):
    _fields_ = [
        ("n_files", C.c_uint32),
        ("n_skipped", C.c_uint32),
        ("n_pieces", C.c_uint32 * 3),
        ("n_steps", C.c_uint64 * 3),
        ("n_tokens", C.c_uint64 * 3),
        ("n_notes", C.c_uint64),
        ("n_unknown", C.c_uint64),
        ("vocab_size", C.c_uint32),
        ("n_styles", C.c_uint32),
    ]


class TrainProgress(C.Structure):
    _fields_ = [
        ("step", C.c_uint64),
        ("total_steps", C.c_uint64),
        ("epoch", C.c_double),
        ("train_loss", C.c_double),
        ("valid_loss", C.c_double),
        ("learning_rate", C.c_double),
        ("tokens_per_second", C.c_double),
        ("elapsed_seconds", C.c_double),
    ]


class EvalResult(C.Structure):
    _fields_ = [
        ("nll", C.c_double),
        ("perplexity", C.c_double),
        ("accuracy", C.c_double),
        ("n_scored", C.c_uint64),
        ("n_pieces", C.c_uint32),
    ]


class SampleEvent(C.Structure):
    _fields_ = [
        ("lane", C.c_uint32),
        ("step", C.c_uint64),
        ("token", C.c_uint32),
        ("keys", C.POINTER(C.c_uint32)),
        ("text", C.c_char_p),
        ("time_seconds", C.c_double),
        ("probability", C.c_double),
        ("latency_seconds", C.c_double),
    ]


# The C names of the structs above, for the layout test.
C_NAMES = {
    EncodingParams: "mrnn_encoding_params",
    CorpusParams: "mrnn_corpus_params",
    CorpusProgress: "mrnn_corpus_progress",
    ModelParams: "mrnn_model_params",
    TrainParams: "mrnn_train_params",
    SamplerParams: "mrnn_sampler_params",
    FileReport: "mrnn_file_report",
    InstrumentReport: "mrnn_instrument_report",
    CorpusStats: "mrnn_corpus_stats",
    TrainProgress: "mrnn_train_progress",
    EvalResult: "mrnn_eval_result",
    SampleEvent: "mrnn_sample_event",
}

TRAIN_CALLBACK = C.CFUNCTYPE(C.c_int, C.POINTER(TrainProgress), C.c_void_p)
SAMPLE_CALLBACK = C.CFUNCTYPE(C.c_int, C.POINTER(SampleEvent), C.c_void_p)
