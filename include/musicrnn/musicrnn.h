/**
 * @file musicrnn.h
 * @brief libmusicrnn: learn music from MIDI files with LSTM networks, and compose new pieces.
 *
 * This one header is the whole public API. Read it top to bottom:
 *
 *  1. version macros and functions,
 *  2. status codes and the per-thread error message,
 *  3. the opaque handles,
 *  4. parameter structs (each with a `version` first field and an `*_params_init()` function),
 *  5. one group per handle: @ref vocab, @ref corpus, @ref model, @ref sampler.
 *
 * The data flow is: MIDI files → @ref corpus (token sequences + @ref vocab) → @ref model
 * (train, save, load) → @ref sampler (generate) → MIDI file.
 *
 * @section conventions Conventions
 * - Every function that can fail returns an ::mrnn_status: ::MRNN_OK (0) or a negative code.
 *   On failure, mrnn_last_error() returns a message naming the file or argument and the reason.
 * - Constructors take the out-parameter first: `mrnn_x_create(mrnn_x **out, ...)`. On failure
 *   `*out` is set to NULL. `mrnn_x_free(NULL)` does nothing.
 * - Getters *borrow*: returned pointers stay valid until the handle is freed or modified.
 *   Whatever a `**out` parameter returns belongs to the caller.
 * - Parameter structs are filled by `mrnn_x_params_init(&p, MRNN_X_PARAMS_VERSION)`; passing NULL
 *   instead of a struct means "defaults". Fields are only ever appended.
 * - The library never prints to stdout, never calls exit() or abort() on caller input.
 *
 * @section threads Thread safety
 * Use one handle from one thread at a time. The exceptions: any number of samplers may read one
 * model concurrently as long as nobody trains or modifies that model, and read-only getters on a
 * vocabulary or a finished corpus may be called from several threads. mrnn_last_error() is per thread.
 */
#ifndef MUSICRNN_H
#define MUSICRNN_H

/* Bindings generators: cffi's cdef() cannot parse the system headers' expansions (compiler
 * attributes), but knows size_t and the <stdint.h> types already. So
 *     cc -E -P -DMRNN_API= -DMRNN_NO_SYSTEM_INCLUDES -I<dir of musicrnn_version.h> musicrnn.h
 * yields declarations ffi.cdef() accepts as they are (tested by the `cffi-cdef` test). C and C++
 * programs never define this macro. */
#ifndef MRNN_NO_SYSTEM_INCLUDES
#include <stddef.h>
#include <stdint.h>
#endif

#include "musicrnn_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @cond INTERNAL */
#ifndef MRNN_API
#  if defined(MRNN_STATIC)
#    define MRNN_API
#  elif defined(__GNUC__) && __GNUC__ >= 4
#    define MRNN_API __attribute__((visibility("default")))
#  else
#    define MRNN_API
#  endif
#endif
/** @endcond */

/* ------------------------------------------------------------------------------------------ */
/** @defgroup version Version
 *  Compile-time macros (from musicrnn_version.h) and the runtime version, which may differ
 *  when a program runs against a newer shared library than it was built with.
 *  @{ */

/** The version of the library actually loaded, which may be newer than the header a program
 *  was compiled with (compare with ::MRNN_VERSION_NUMBER to detect that).
 *  @return `MAJOR*10000 + MINOR*100 + PATCH`. Cannot fail.
 *  Thread safety: safe from any thread at any time. */
MRNN_API uint32_t mrnn_version_number(void);

/** The version of the library actually loaded, as text.
 *  @return a static string such as "0.1.0"; never NULL. Ownership: static, never freed.
 *  Thread safety: safe from any thread at any time. */
MRNN_API const char *mrnn_version_string(void);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @defgroup errors Status codes and errors
 *  @{ */

/** Result of every fallible call. Values are frozen: new codes are only ever added. */
typedef enum mrnn_status {
    MRNN_OK = 0,                  /**< Success. */
    MRNN_ERR_INVALID_ARG = -1,    /**< A NULL handle, a bad parameter value or a params version mismatch. */
    MRNN_ERR_NOMEM = -2,          /**< Memory allocation failed. */
    MRNN_ERR_IO = -3,             /**< A file could not be opened, read or written. */
    MRNN_ERR_FORMAT = -4,         /**< A corpus, vocabulary or model file is corrupt or truncated. */
    MRNN_ERR_VERSION = -5,        /**< A file was written by a newer, incompatible format version. */
    MRNN_ERR_MIDI = -6,           /**< A MIDI file is malformed or uses something that cannot be read safely. */
    MRNN_ERR_UNKNOWN_TOKEN = -7,  /**< A seed text names a token the vocabulary does not have. */
    MRNN_ERR_STATE = -8,          /**< The call is not allowed in the handle's current state. */
    MRNN_ERR_LIMIT = -9,          /**< An input exceeds a documented size limit. */
    MRNN_ERR_CANCELLED = -10,     /**< A callback asked to stop. */
    MRNN_ERR_UNSUPPORTED = -11,   /**< The operation does not apply (e.g. wrong encoding for it). */
    MRNN_ERR_NUMERIC = -12,       /**< Training diverged (loss became NaN or infinite). */
    MRNN_ERR_EMPTY = -13          /**< There is no data to work on (e.g. a corpus with no training piece). */
} mrnn_status;

/** A short description of a status code, for messages.
 *  @param status any value, known or not.
 *  @return a static string ("invalid argument", ...); "unknown status" for values this library does
 *  not know. Never NULL. Ownership: static, never freed.
 *  Thread safety: safe from any thread at any time. */
MRNN_API const char *mrnn_status_string(mrnn_status status);

/** The detail message of the last failed call made *by this thread*, e.g.
 *  `"song.mid: track 2 has no End Of Track event"`: it names the file or argument and the reason.
 *  @return the message, or "" if this thread has none. Never NULL. Ownership: owned by the
 *  library; valid until this thread's next call into the library (copy it to keep it).
 *  Thread safety: each thread has its own message; safe from any thread. */
MRNN_API const char *mrnn_last_error(void);

/** Forget this thread's last error message (mrnn_last_error() then returns "").
 *  Thread safety: affects only the calling thread. */
MRNN_API void mrnn_clear_error(void);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @defgroup handles Opaque handles
 *  @{ */
/** A set of token sequences prepared from MIDI files, split into train/valid/test. See @ref corpus. */
typedef struct mrnn_corpus mrnn_corpus;
/** The mapping between token ids and their text, plus the encoding that gives them meaning. See @ref vocab. */
typedef struct mrnn_vocab mrnn_vocab;
/** A stacked LSTM network with its vocabulary, training state and configuration. See @ref model. */
typedef struct mrnn_model mrnn_model;
/** Generation state (recurrent state, RNG, output) that borrows a model. See @ref sampler. */
typedef struct mrnn_sampler mrnn_sampler;
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @defgroup params Parameter structs
 *  Each struct starts with `uint32_t version`; call its `*_params_init()` before setting fields.
 *  @{ */

/** Token encodings. */
enum mrnn_encoding {
    /** One token per onset: a note or chord with octaves and its duration (`C4.E4.G4:q`), plus
     *  time-advance tokens (`W:e`). Vocabulary built from the corpus. */
    MRNN_ENCODING_NOTECHORD = 1,
    /** The 388-event Performance RNN vocabulary: NOTE_ON×128, NOTE_OFF×128, TIME_SHIFT×100
     *  (10 ms steps) and VELOCITY×32. */
    MRNN_ENCODING_PERFORMANCE = 2,
    /** Frames of 88 keys (MIDI 21–108); a step is the set of keys sounding (multi-hot). */
    MRNN_ENCODING_PIANOROLL = 3,
    /** Several instruments and drums in one event stream on the `steps_per_quarter` grid:
     *  `PROGRAM_bass` (one of the 16 General MIDI families, or `PROGRAM_33` with
     *  `multitrack_programs`) selects the instrument of the `NOTE_p` tokens that follow,
     *  `DRUM_p` is a drum-kit note, `DUR_k` (summed when repeated) is the length of the note
     *  before it, `TIME_SHIFT_k` advances time, `VELOCITY_b` (if `velocity_bins` > 0) sets the
     *  loudness. Fixed vocabulary; docs/FILE-FORMATS.md describes it. (Encoding params version 2.) */
    MRNN_ENCODING_MULTITRACK = 4
};

/** Key normalisation of ::mrnn_encoding_params `normalize_key`: where each piece's estimated key
 *  (Krumhansl-Kessler profiles) is moved before encoding. */
enum mrnn_key_normalization {
    MRNN_KEY_AS_WRITTEN = 0,    /**< Pieces keep their key. */
    MRNN_KEY_C_MAJOR_A_MINOR = 1, /**< Major pieces to C major, minor pieces to A minor (relative keys:
                                       every piece on the white keys). */
    MRNN_KEY_TONIC_C = 2        /**< Major pieces to C major, minor pieces to C minor (the tonic on C:
                                     the convention of the classic polyphonic benchmarks). */
};

/** Number of instrument slots of the instrument masks: General MIDI programs 0–127, and
 *  ::MRNN_INSTRUMENT_DRUMS. */
#define MRNN_INSTRUMENT_COUNT 129u
/** The instrument slot of the drum kit (MIDI channel 10) in instrument masks. */
#define MRNN_INSTRUMENT_DRUMS 128u
/** Words of an instrument mask: bit `i % 32` of word `i / 32` stands for instrument slot `i`. */
#define MRNN_INSTRUMENT_MASK_WORDS 5u

/** In token streams of multi-hot encodings (pianoroll), this id ends each frame. Event encodings
 *  (notechord, performance) have exactly one id per step and never use it. */
#define MRNN_FRAME_END UINT32_C(0xFFFFFFFF)

/** Version of ::mrnn_encoding_params this header describes. Version 2 appended the multitrack
 *  fields (`multitrack_programs` … `velocity_bins`); structs of version 1 are still accepted and
 *  read as if those fields held their defaults. */
#define MRNN_ENCODING_PARAMS_VERSION 2u

/** How MIDI files are read and turned into tokens. Stored in corpus and model files, so
 *  generation never needs these repeated. */
typedef struct mrnn_encoding_params {
    uint32_t version;            /**< Must be ::MRNN_ENCODING_PARAMS_VERSION (set by init). */
    uint32_t encoding;           /**< One of ::mrnn_encoding. Default ::MRNN_ENCODING_NOTECHORD. */
    uint32_t steps_per_quarter;  /**< Grid for notechord and pianoroll. Default 4 (sixteenths). */
    double frame_seconds;        /**< Pianoroll only: if > 0, frames of fixed seconds instead of the grid. Default 0. */
    int32_t keep_drums;          /**< 1 keeps drum-channel notes (channel 10), 0 skips them. Default 0. */
    uint32_t channel_mask;       /**< Bit c set = read MIDI channel c (0–15). 0 means all. Default 0. */
    uint64_t track_mask;         /**< Bit t set = read track t (0–63). 0 means all. Default 0. */
    int32_t normalize_key;       /**< One of ::mrnn_key_normalization: transpose each piece by its estimated
                                      key (by at most a tritone). Default 0 (off). */
    uint32_t max_steps;          /**< Cut pieces longer than this many steps. 0 = no limit. Default 0. */
    uint32_t min_count;          /**< Notechord: tokens seen fewer times become `<unk>`. Default 1. */
    uint32_t max_duration_steps; /**< Notechord: durations and waits are clamped to this. Multitrack: the
                                      longest single `DUR_k` / `TIME_SHIFT_k` token (longer ones are
                                      written as several). Default 16 (4 quarters). */
    /* Version 2. */
    int32_t multitrack_programs; /**< Multitrack: 1 keeps all 128 General MIDI programs apart (`PROGRAM_0` …
                                      `PROGRAM_127`), 0 folds them into the 16 GM families
                                      (`PROGRAM_piano` … `PROGRAM_sound_fx`). Default 0. */
    uint32_t instrument_mask[MRNN_INSTRUMENT_MASK_WORDS]; /**< Multitrack: instrument slots to keep (see
                                      ::MRNN_INSTRUMENT_COUNT; slot 128 is the drum kit); all zero keeps
                                      every instrument. Notes of other instruments are dropped and
                                      counted in the file's instrument report. Default all zero. */
    uint32_t max_tracks;         /**< Multitrack: most instruments kept per piece (drums count as one); those
                                      with the most notes stay. 0 = no limit. Default 0. */
    uint32_t velocity_bins;      /**< Multitrack: 0 leaves loudness out (every note at velocity 80), else
                                      `VELOCITY_b` tokens with this many bins (2–32). Default 0. */
} mrnn_encoding_params;

/** Fill @p p with the defaults of every field and set its `version`. Call it before setting
 *  fields, so that a program compiled against this header keeps working with later libraries.
 *  @param p the struct to fill (caller-owned, typically on the stack).
 *  @param version ::MRNN_ENCODING_PARAMS_VERSION (or 1: then only the fields of version 1 are
 *         written, so a smaller struct from an older header is not overrun).
 *  @return ::MRNN_OK, or ::MRNN_ERR_INVALID_ARG if @p p is NULL or @p version is unknown.
 *  Thread safety: safe from any thread (touches only @p p). */
MRNN_API mrnn_status mrnn_encoding_params_init(mrnn_encoding_params *p, uint32_t version);

/** Version of ::mrnn_corpus_params this header describes. Version 2 appended `threads`,
 *  `progress` and `progress_user_data`, version 3 `spill_dir`; older structs keep working. */
#define MRNN_CORPUS_PARAMS_VERSION 3u

/** Progress of mrnn_corpus_add_dir(), passed to an ::mrnn_corpus_progress_callback after each
 *  file is committed to the corpus (in the deterministic sorted order). */
typedef struct mrnn_corpus_progress {
    uint32_t files_done;     /**< Files of this call committed so far, read or skipped. */
    uint32_t files_total;    /**< MIDI files found below the folder. */
    uint32_t files_skipped;  /**< Of `files_done`, how many were skipped (see the file report). */
    uint32_t reserved;       /**< Zero. */
    uint64_t bytes_read;     /**< MIDI bytes read so far by this call. */
    double elapsed_seconds;  /**< Wall time of this call so far. */
    const char *path;        /**< The file just committed; borrowed for the callback only. */
} mrnn_corpus_progress;

/** Called by mrnn_corpus_add_dir() on the calling thread after each file. Return non-zero to stop:
 *  the call then returns ::MRNN_ERR_CANCELLED and the files committed so far stay in the corpus. */
typedef int (*mrnn_corpus_progress_callback)(const mrnn_corpus_progress *progress, void *user_data);

/** How a corpus splits and augments its pieces. */
typedef struct mrnn_corpus_params {
    uint32_t version;         /**< Must be ::MRNN_CORPUS_PARAMS_VERSION. */
    double valid_fraction;    /**< Share of files put in the validation split. Default 0.1. */
    double test_fraction;     /**< Share of files put in the test split. Default 0. */
    uint64_t split_seed;      /**< Seed of the deterministic file → split assignment. Default 1. */
    int32_t use_folder_split; /**< 1: a file under a folder named train/, valid/ or test/ goes to that
                                   split, overriding the fractions. Default 1. */
    uint32_t transpose_range; /**< Augmentation: training pieces are also added transposed by
                                   −N…+N semitones (pitches kept in range). Default 0. */
    int32_t style_from_folder;/**< 1: a piece's style label is the name of the first sub-folder below
                                   the folder given to mrnn_corpus_add_dir(). Default 1. */
    uint64_t max_file_bytes;  /**< MIDI files larger than this are skipped. Default 16 MiB. */
    /* version 2 */
    uint32_t threads;         /**< Threads that read and parse MIDI files in mrnn_corpus_add_dir();
                                   0 = the cores online, 1 = the calling thread only. Encoding and
                                   committing stay on the calling thread in sorted order, so the
                                   corpus (and its saved file) is the same, byte for byte, for any
                                   value. At most 256. Default 1. */
    mrnn_corpus_progress_callback progress; /**< Called after each file of mrnn_corpus_add_dir(), or
                                   NULL. Not saved in corpus files. Default NULL. */
    void *progress_user_data; /**< Passed to `progress` unchanged. Default NULL. */
    /* version 3 */
    const char *spill_dir;    /**< NULL: the corpus keeps its tokens in memory. Else a folder (copied
                                   by mrnn_corpus_create()) in which the corpus keeps them in an
                                   unnamed temporary file while it is built, so that memory grows
                                   only with the file report and pieces (a few hundred bytes a
                                   file), not with the tokens: for corpora larger than memory.
                                   mrnn_corpus_save() writes the same corpus file, byte for byte,
                                   as an in-memory corpus: when the output is on the file system
                                   of spill_dir, the temporary file itself becomes the corpus file
                                   (the tokens are written once; a later save copies them), else
                                   the tokens are copied from it. The temporary file (as large as
                                   the tokens) vanishes with mrnn_corpus_free() or when the
                                   process ends, unless it became the corpus file. Such a corpus cannot
                                   lend tokens (mrnn_corpus_piece_tokens()) or be trained on: save it
                                   and open the file with mrnn_corpus_map(). Not saved in corpus
                                   files. Default NULL. */
} mrnn_corpus_params;

/** Fill @p p with the defaults of every field and set its `version`. Call it before setting
 *  fields, so that a program compiled against this header keeps working with later libraries.
 *  @param p the struct to fill (caller-owned, typically on the stack).
 *  @param version ::MRNN_CORPUS_PARAMS_VERSION, or an older version (1, 2): then only that version's
 *  fields are written, so a struct compiled against an older header is never overrun.
 *  @return ::MRNN_OK, or ::MRNN_ERR_INVALID_ARG if @p p is NULL or @p version is unknown.
 *  Thread safety: safe from any thread (touches only @p p). */
MRNN_API mrnn_status mrnn_corpus_params_init(mrnn_corpus_params *p, uint32_t version);

/** How a pianoroll model predicts the 88 keys of the next frame. */
enum mrnn_frame_output {
    /** 88 independent sigmoids: keys are drawn without knowing each other. */
    MRNN_FRAME_OUTPUT_INDEPENDENT = 0,
    /** A NADE over the keys, conditioned on the LSTM state (the RNN-NADE of Boulanger-Lewandowski
     *  et al. 2012): key i is predicted from the state and the keys below it, low to high, so the
     *  frame's likelihood is exact and chords are sampled jointly. */
    MRNN_FRAME_OUTPUT_NADE = 1
};

/** Version of ::mrnn_model_params this header describes. Version 1 ended after `init_seed`;
 *  version 2 appended `frame_output` and `nade_hidden`. */
#define MRNN_MODEL_PARAMS_VERSION 2u

/** Shape of a network. */
typedef struct mrnn_model_params {
    uint32_t version;       /**< ::MRNN_MODEL_PARAMS_VERSION, or 1 from programs built against an older header. */
    uint32_t embed_size;    /**< Width of token embeddings. Default 128. */
    uint32_t hidden_size;   /**< LSTM cells per layer. Default 256. */
    uint32_t num_layers;    /**< Stacked LSTM layers, 1–8. Default 2. */
    float dropout;          /**< Dropout between layers and before the output, 0 ≤ p < 1. Default 0. */
    uint64_t init_seed;     /**< Seed of the weight initialisation. Default 1. */
    /* version 2 */
    uint32_t frame_output;  /**< One of ::mrnn_frame_output; ::MRNN_FRAME_OUTPUT_NADE needs the pianoroll
                                 encoding. Default ::MRNN_FRAME_OUTPUT_INDEPENDENT. */
    uint32_t nade_hidden;   /**< Hidden units of the NADE (used with ::MRNN_FRAME_OUTPUT_NADE), 1–8192.
                                 Default 150. */
} mrnn_model_params;

/** Fill @p p with the defaults of every field and set its `version`. Call it before setting
 *  fields, so that a program compiled against this header keeps working with later libraries.
 *  @param p the struct to fill (caller-owned, typically on the stack); with version 1 only the
 *         fields of version 1 are written.
 *  @param version ::MRNN_MODEL_PARAMS_VERSION, or 1.
 *  @return ::MRNN_OK, or ::MRNN_ERR_INVALID_ARG if @p p is NULL or @p version is unknown.
 *  Thread safety: safe from any thread (touches only @p p). */
MRNN_API mrnn_status mrnn_model_params_init(mrnn_model_params *p, uint32_t version);

/** Learning-rate schedules. */
enum mrnn_lr_schedule {
    MRNN_LR_CONSTANT = 0,      /**< The learning rate stays constant. */
    MRNN_LR_WARMUP_COSINE = 1  /**< Linear warm-up, then cosine decay to `min_lr_fraction`. */
};

/** Version of ::mrnn_train_params this header describes. Version 2 appended `input_dropout`;
 *  version 3 appended `allreduce`, `allreduce_user_data`, `rank` and `n_ranks` (data-parallel
 *  training); version 4 appended `weight_average` and `recurrent_dropout`; version 5 appended
 *  `allreduce_overlap` and `allreduce_segment_min`; version 6 appended `weight_dropout`. Structs
 *  of versions 1 to 5 keep working. */
#define MRNN_TRAIN_PARAMS_VERSION 6u

/** Default of mrnn_train_params.allreduce_segment_min: 65536 floats (256 KiB). */
#define MRNN_ALLREDUCE_SEGMENT_MIN_DEFAULT 65536u

/** Sums @p count floats element-wise across every rank of a data-parallel run, in place: on
 *  return each rank's @p data holds the same sums. An MPI program passes a function calling
 *  `MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_FLOAT, MPI_SUM, comm)`; the library itself never
 *  links MPI (the `musicrnn` program provides this callback when built with Open MPI). Every rank
 *  makes the same calls in the same order with the same @p count. Return 0 on success; non-zero
 *  makes the call fail with ::MRNN_ERR_IO.
 *
 *  Each step reduces one fused buffer of mrnn_model_param_count() + 2 floats: the rank's gradient
 *  scaled by its scored steps, its loss sum, its scored steps; then one more call sums a single
 *  float (the ranks' votes to stop).
 *  - With `allreduce_overlap` = 0 the fused buffer goes in one call, and every call is made on the
 *    thread that called mrnn_model_train(), after the backward pass.
 *  - With `allreduce_overlap` = 1 the fused buffer goes in segments while the backward pass is
 *    still computing: from the end of the buffer to its start, each segment once per step, each
 *    call's @p data starting where the previous call's began (the output layer and the loss
 *    first, then the LSTM layers top down, the last one with the embedding). These calls are made
 *    on a thread the library starts for the duration of mrnn_model_train(); the stop vote still
 *    comes from the caller's thread. Two calls never run at the same time, and each returns before
 *    the next begins (an MPI program needs `MPI_THREAD_SERIALIZED` from MPI_Init_thread). The
 *    segments are the same on every rank and every step. */
typedef int (*mrnn_allreduce_fn)(float *data, size_t count, void *user_data);

/** How to train. */
typedef struct mrnn_train_params {
    uint32_t version;          /**< ::MRNN_TRAIN_PARAMS_VERSION, or 1 (which ended after `log_path`). */
    uint32_t seq_len;          /**< Steps per truncated-BPTT window. Default 64. */
    uint32_t batch_size;       /**< Windows per optimiser step. Default 32. */
    float learning_rate;       /**< Peak learning rate (Adam). Default 0.002. */
    uint32_t lr_schedule;      /**< One of ::mrnn_lr_schedule. Default ::MRNN_LR_CONSTANT. */
    uint32_t warmup_steps;     /**< Warm-up length for ::MRNN_LR_WARMUP_COSINE. Default 100. */
    float min_lr_fraction;     /**< Final learning rate as a fraction of the peak. Default 0.1. */
    float beta1;               /**< Adam β1. Default 0.9. */
    float beta2;               /**< Adam β2. Default 0.999. */
    float epsilon;             /**< Adam ε. Default 1e-8. */
    float weight_decay;        /**< Decoupled weight decay (AdamW); 0 = plain Adam. Default 0. */
    float clip_norm;           /**< Clip the global gradient norm to this; 0 = no clipping. Default 5. */
    uint64_t max_steps;        /**< Stop after this many optimiser steps in total (counting resumed
                                    ones). 0 = use `epochs`. Default 0. */
    float epochs;              /**< Train for this many passes over the training tokens when
                                    max_steps is 0. Default 10. */
    uint64_t seed;             /**< Seed of batching and dropout. Default 1. */
    uint32_t threads;          /**< Threads the call computes on, the caller's included; never more
                                    than the cores online. 0 = the library's default: the number of
                                    threads OpenBLAS was set to use (`OPENBLAS_NUM_THREADS`, or all
                                    cores) when the library first computed in this process. The
                                    library splits each step over its own threads and runs OpenBLAS
                                    single-threaded inside them: on that first computation it sets
                                    OpenBLAS to one thread, once for the process, and never touches
                                    the setting again, so calls in different threads do not disturb
                                    each other. Default 0. */
    uint32_t valid_every;      /**< Evaluate the validation split every N steps; 0 = never. Default 100. */
    uint32_t patience;         /**< Early stopping: stop after this many validations without a new
                                    best. 0 = off. Default 0. */
    const char *checkpoint_path; /**< If set, a resumable checkpoint is written here atomically
                                      every `checkpoint_every` steps and at the end. Default NULL. */
    uint32_t checkpoint_every; /**< Steps between checkpoints. Default 500. */
    const char *best_path;     /**< If set, the model with the best validation loss is saved here. Default NULL. */
    const char *log_path;      /**< If set, a CSV log (step, train loss, valid loss, lr, tokens/s) is
                                    appended here. Default NULL. */
    /* version 2 */
    float input_dropout;       /**< Share of the input ids of each training step left out, each drawn
                                    on its own (for pianoroll: keys of the input frame; the targets
                                    keep every key), 0 ≤ p < 1. A regulariser that makes the model
                                    rely on more than the previous frame. Default 0. */
    /* version 3: data-parallel training (see docs/DISTRIBUTED.md) */
    mrnn_allreduce_fn allreduce; /**< If set, this call is rank `rank` of `n_ranks` processes that
                                    train one model together: each draws the same global batch of
                                    `batch_size` windows (same seed) and computes only its share of
                                    the lanes; the gradients, losses and counts are summed in one
                                    fused buffer per step through this callback; every rank then
                                    runs the same clipping and Adam update, so the weights stay
                                    identical. Only rank 0 writes `checkpoint_path`, `best_path` and
                                    `log_path`. Losses equal a one-process run with the same
                                    `batch_size` and seed up to rounding (dropout masks, drawn per
                                    rank, differ). Default NULL (one process). */
    void *allreduce_user_data; /**< Passed to `allreduce` unchanged (e.g. a communicator). Default NULL. */
    uint32_t rank;             /**< This process's rank, 0 ≤ rank < n_ranks. Default 0. */
    uint32_t n_ranks;          /**< Processes training together; 1 (default) = alone. At most
                                    `batch_size`, and more than 1 needs `allreduce`. */
    /* version 4 */
    float weight_average;      /**< Weight averaging (Polyak): 0 ≤ d < 1, 0 = off. With d > 0 an
                                    exponential moving average of the weights, avg += (1-d)(w-avg)
                                    after every step (d = 0.995: over about the last 200 steps),
                                    is what validation scores and `best_path` keeps, and what the
                                    model holds when the call returns; a checkpoint keeps both, and
                                    a later mrnn_model_train() continues from the training weights.
                                    Default 0. */
    float recurrent_dropout;   /**< Recurrent dropout (Semeniuta et al. 2016) in every LSTM layer,
                                    0 ≤ p < 1: each training step, each cell's update i⊙g of each
                                    time step is left out with probability p (the rest scaled by
                                    1/(1-p)), while the memory f⊙c_{t-1} is always kept. Training
                                    only: the model, its file, evaluation and sampling are the same
                                    as without it. Default 0. */
    /* version 5: the allreduce overlapped with the backward pass */
    uint32_t allreduce_overlap; /**< 1: call `allreduce` on each finished segment of the gradient
                                    while the backward pass computes the rest, from a thread of the
                                    library's (see ::mrnn_allreduce_fn); it pays when the reduction
                                    is a sizeable share of a step (a slow network, many ranks). The
                                    losses equal those of 0 to rounding (with one rank: exactly).
                                    Needs `allreduce`. Default 0: one call after the backward pass,
                                    on the calling thread. */
    uint32_t allreduce_segment_min; /**< With `allreduce_overlap`: a segment (a layer's gradient)
                                    of fewer floats than this is joined to the next, so that the
                                    latency of a call is paid for larger pieces. 1 = one segment
                                    per layer. Default ::MRNN_ALLREDUCE_SEGMENT_MIN_DEFAULT. */
    /* version 6 */
    float weight_dropout;      /**< Weight dropout (DropConnect on the recurrent weights, as in
                                    Merity et al. 2018's AWD-LSTM) in every LSTM layer, 0 ≤ p < 1:
                                    each training window, each element of the hidden-to-hidden
                                    matrix W_hh is left out with probability p (the rest scaled by
                                    1/(1-p)), the same mask at every time step of the window.
                                    Training only: the model, its file, evaluation and sampling are
                                    the same as without it. Default 0. */
} mrnn_train_params;

/** Fill @p p with the defaults of every field and set its `version`. Call it before setting
 *  fields, so that a program compiled against this header keeps working with later libraries.
 *  @param p the struct to fill (caller-owned, typically on the stack).
 *  @param version ::MRNN_TRAIN_PARAMS_VERSION, or an older version (1 to 5): then only that version's
 *  fields are written.
 *  @return ::MRNN_OK, or ::MRNN_ERR_INVALID_ARG if @p p is NULL or @p version is unknown.
 *  Thread safety: safe from any thread (touches only @p p). */
MRNN_API mrnn_status mrnn_train_params_init(mrnn_train_params *p, uint32_t version);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @defgroup vocab Vocabulary
 *  Token ids ↔ text, and the encoding that gives tokens their meaning. Text forms:
 *  - notechord: `C4.E4.G4:q` (a chord of C4, E4, G4 lasting a quarter), `D#5:e.` (dotted eighth),
 *    `drum36:s` (kept drums), `W:h` (advance time by a half note), `<unk>`. Durations: `w h q e s t`
 *    with an optional dot, or a fraction of a quarter such as `3/4`.
 *  - performance: `NOTE_ON_60`, `NOTE_OFF_60`, `TIME_SHIFT_25` (25 × 10 ms), `VELOCITY_20` (bin 0–31).
 *  - pianoroll: key names `A0`…`C8`; in a seed text, a frame is keys joined by `.`, `_` is a silent frame.
 *  - multitrack: `PROGRAM_bass` (GM family; `PROGRAM_33` when all programs are kept) selects the
 *    instrument, `NOTE_60 DUR_4` is middle C for 4 grid steps on it, `DRUM_36 DUR_1` a bass drum,
 *    `TIME_SHIFT_2` advances 2 grid steps, `VELOCITY_5` sets the loudness bin.
 *
 *  Tokens are separated by white space. MIDI 60 is `C4`; sharps are written `#`, flats `b` are accepted.
 *
 *  Ownership: a vocabulary from mrnn_vocab_create() or mrnn_vocab_load() is the caller's; those from
 *  mrnn_corpus_vocab() and mrnn_model_vocab() are borrowed and must never be freed. Strings a
 *  vocabulary returns live as long as it does. Threads: every function here only reads the
 *  vocabulary, so many threads may share one (but not while a corpus still adds files to it).
 *
 *  @code
 *  mrnn_vocab *v = NULL;
 *  mrnn_encoding_params enc;
 *  mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
 *  enc.encoding = MRNN_ENCODING_PERFORMANCE;
 *  if (mrnn_vocab_create(&v, &enc) != MRNN_OK) { fprintf(stderr, "%s\n", mrnn_last_error()); return 1; }
 *  uint32_t id;
 *  mrnn_vocab_token_id(v, "NOTE_ON_60", &id);       // id == 60
 *  printf("%s\n", mrnn_vocab_token_text(v, id));   // NOTE_ON_60
 *  uint32_t ids[16];
 *  size_t n;
 *  if (mrnn_vocab_parse(v, "NOTE_ON_60 TIME_SHIFT_50 NOTE_OFF_60", ids, 16, &n) == MRNN_OK)
 *      mrnn_tokens_write_midi(v, ids, n, "c4.mid", 120.0, 0);   // half a second of middle C
 *  mrnn_vocab_free(v);
 *  @endcode
 *  @{ */

/** Create a vocabulary for an encoding. Performance and pianoroll vocabularies are complete at
 *  once; a notechord vocabulary starts with `<unk>` only and grows as a corpus reads files.
 *  @param out receives the new vocabulary; NULL on failure. Ownership: the caller's, to free with
 *  mrnn_vocab_free().
 *  @param enc encoding parameters (copied; not kept), or NULL for the defaults.
 *  @return ::MRNN_OK, ::MRNN_ERR_INVALID_ARG (NULL @p out, or a bad field, named in
 *  mrnn_last_error()), ::MRNN_ERR_NOMEM.
 *  Thread safety: safe from any thread; the new handle belongs to the calling thread until shared. */
MRNN_API mrnn_status mrnn_vocab_create(mrnn_vocab **out, const mrnn_encoding_params *enc);

/** Free a vocabulary created by mrnn_vocab_create() or mrnn_vocab_load().
 *  @param v the vocabulary, or NULL (then nothing happens). Never pass a borrowed vocabulary
 *  (from mrnn_corpus_vocab() or mrnn_model_vocab()): its corpus or model owns it.
 *  Thread safety: no other thread may use @p v during or after the call. */
MRNN_API void mrnn_vocab_free(mrnn_vocab *v);

/** The number of tokens.
 *  @param v the vocabulary (borrowed for the call).
 *  @return the number of token ids (`<unk>` included), or 0 if @p v is NULL. Cannot fail.
 *  Thread safety: read-only; any number of threads may read one vocabulary at once. */
MRNN_API uint32_t mrnn_vocab_size(const mrnn_vocab *v);

/** Copy the encoding parameters of a vocabulary (since 0.2; before, mrnn_vocab_encoding_params()).
 *  @param v the vocabulary (borrowed for the call).
 *  @param out receives the parameters; its `version` must have been set by
 *  mrnn_encoding_params_init() (a version-1 struct receives the version-1 fields only). Caller-owned.
 *  @return ::MRNN_OK, or ::MRNN_ERR_INVALID_ARG (NULL pointer, version mismatch).
 *  Thread safety: read-only; any number of threads may read one vocabulary at once. */
MRNN_API mrnn_status mrnn_vocab_get_encoding_params(const mrnn_vocab *v, mrnn_encoding_params *out);

/** @deprecated The old name of mrnn_vocab_get_encoding_params(), kept for the ABI; same behaviour.
 *  @param v the vocabulary (borrowed for the call).
 *  @param out receives the parameters (caller-owned; `version` set by mrnn_encoding_params_init()).
 *  @return as mrnn_vocab_get_encoding_params().
 *  Thread safety: as mrnn_vocab_get_encoding_params(). */
MRNN_API mrnn_status mrnn_vocab_encoding_params(const mrnn_vocab *v, mrnn_encoding_params *out);

/** The text of a token id, e.g. `C4.E4.G4:q` or `NOTE_ON_60`.
 *  @param v the vocabulary.
 *  @param id the token id, 0 ≤ id < mrnn_vocab_size().
 *  @return the text, or NULL if @p v is NULL or @p id is out of range. Ownership: borrowed from
 *  @p v; valid while @p v lives and is not modified.
 *  Thread safety: read-only; any number of threads may read one vocabulary at once. */
MRNN_API const char *mrnn_vocab_token_text(const mrnn_vocab *v, uint32_t id);

/** Look up the id of a token text.
 *  @param v the vocabulary.
 *  @param text one token in the vocabulary's notation (see above), NUL-terminated.
 *  @param id receives the id on success (caller-owned).
 *  @return ::MRNN_OK, ::MRNN_ERR_UNKNOWN_TOKEN (the message names the token),
 *  ::MRNN_ERR_INVALID_ARG (NULL pointer).
 *  Thread safety: read-only; any number of threads may read one vocabulary at once. */
MRNN_API mrnn_status mrnn_vocab_token_id(const mrnn_vocab *v, const char *text, uint32_t *id);

/** Parse a seed text such as `"C4.E4.G4:q W:q G4:e"` into token ids. Call it once with
 *  @p cap 0 to learn the length, then again with a buffer that large.
 *  @param v the vocabulary whose notation @p text uses.
 *  @param text NUL-terminated seed text; tokens separated by white space.
 *  @param ids caller-owned output array of @p cap ids (may be NULL when @p cap is 0).
 *  @param cap capacity of @p ids, in ids.
 *  @param n_out receives the number of ids the full text needs (pianoroll frame ends included),
 *  on success and on ::MRNN_ERR_LIMIT (may be NULL).
 *  @return ::MRNN_OK; ::MRNN_ERR_UNKNOWN_TOKEN naming the first unknown token and its position;
 *  ::MRNN_ERR_LIMIT if @p cap is too small (the contents of @p ids are then unspecified);
 *  ::MRNN_ERR_INVALID_ARG (NULL pointer).
 *  Thread safety: read-only; any number of threads may read one vocabulary at once. */
MRNN_API mrnn_status mrnn_vocab_parse(const mrnn_vocab *v, const char *text, uint32_t *ids,
                                      size_t cap, size_t *n_out);

/** Write the text of token ids into a buffer (tokens separated by spaces, NUL-terminated).
 *  Call it once with @p cap 0 to learn the size, then again with a buffer that large.
 *  @param v the vocabulary the ids belong to.
 *  @param ids token ids (flat form; pianoroll frames end with ::MRNN_FRAME_END); borrowed for the call.
 *  @param n number of @p ids.
 *  @param buf caller-owned output buffer of @p cap bytes (may be NULL when @p cap is 0).
 *  @param cap size of @p buf in bytes.
 *  @param needed receives the buffer size needed, terminator included (may be NULL).
 *  @return ::MRNN_OK; ::MRNN_ERR_LIMIT if @p cap is too small (@p buf then holds a truncated,
 *  terminated prefix); ::MRNN_ERR_INVALID_ARG for an id out of range or a NULL pointer.
 *  Thread safety: read-only; any number of threads may read one vocabulary at once. */
MRNN_API mrnn_status mrnn_vocab_format(const mrnn_vocab *v, const uint32_t *ids, size_t n, char *buf,
                                       size_t cap, size_t *needed);

/** Save a vocabulary to a file (versioned binary with checksum, written atomically: a crash
 *  leaves the old file or the new one).
 *  @param v the vocabulary.
 *  @param path the file to write.
 *  @return ::MRNN_OK, ::MRNN_ERR_IO (names the file), ::MRNN_ERR_NOMEM, ::MRNN_ERR_INVALID_ARG.
 *  Thread safety: read-only; any number of threads may read one vocabulary at once. */
MRNN_API mrnn_status mrnn_vocab_save(const mrnn_vocab *v, const char *path);

/** Load a vocabulary written by mrnn_vocab_save().
 *  @param out receives the vocabulary; NULL on failure. Ownership: the caller's, to free with
 *  mrnn_vocab_free().
 *  @param path the file to read.
 *  @return ::MRNN_OK, ::MRNN_ERR_IO, ::MRNN_ERR_FORMAT (corrupt or truncated),
 *  ::MRNN_ERR_VERSION (newer format) — each naming the file — ::MRNN_ERR_NOMEM, ::MRNN_ERR_INVALID_ARG.
 *  Thread safety: safe from any thread. */
MRNN_API mrnn_status mrnn_vocab_load(mrnn_vocab **out, const char *path);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @defgroup corpus Corpus
 *  Reads MIDI files into token sequences, keeps a report of every file, splits pieces into
 *  train/valid/test and saves the result.
 *
 *  Ownership: the corpus owns its vocabulary, reports and tokens; what its getters return is
 *  borrowed until mrnn_corpus_free(). Threads: building (add, finish, save) needs the corpus to
 *  itself; a finished corpus may be read by several threads, e.g. trained on while evaluated.
 *
 *  @code
 *  mrnn_corpus *c = NULL;
 *  mrnn_encoding_params enc;
 *  mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
 *  enc.encoding = MRNN_ENCODING_PIANOROLL;
 *  enc.steps_per_quarter = 1;
 *  mrnn_corpus_params cp;
 *  mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
 *  cp.valid_fraction = 0.15;
 *  if (mrnn_corpus_create(&c, &enc, &cp) != MRNN_OK) { fprintf(stderr, "%s\n", mrnn_last_error()); return 1; }
 *  if (mrnn_corpus_add_dir(c, "chorales/") != MRNN_OK)  // only fails if the folder cannot be listed;
 *      fprintf(stderr, "%s\n", mrnn_last_error());    // skipped files are in the report, not fatal
 *  for (uint32_t i = 0; i < mrnn_corpus_file_count(c); i++) {
 *      mrnn_file_report r;
 *      mrnn_corpus_file_report(c, i, &r);
 *      if (r.status != MRNN_OK) fprintf(stderr, "skipped %s: %s\n", r.path, r.reason);
 *  }
 *  mrnn_corpus_finish(c);                        // fixes the vocabulary
 *  const uint32_t *ids;
 *  size_t n;
 *  uint32_t split;
 *  mrnn_corpus_piece_tokens(c, 0, &ids, &n, &split, NULL);   // borrowed from c
 *  mrnn_tokens_write_midi(mrnn_corpus_vocab(c), ids, n, "piece0.mid", 0.0, 0);  // listen to what the model will see
 *  if (mrnn_corpus_save(c, "chorales.mrc") != MRNN_OK) fprintf(stderr, "%s\n", mrnn_last_error());
 *  mrnn_corpus_free(c);
 *  @endcode
 *  @{ */

/** Splits of a corpus. */
enum mrnn_split {
    MRNN_SPLIT_TRAIN = 0, /**< Training pieces (including transposed copies). */
    MRNN_SPLIT_VALID = 1, /**< Validation pieces. */
    MRNN_SPLIT_TEST = 2   /**< Test pieces. */
};

/** What happened to one input file. All strings are borrowed from the corpus. */
typedef struct mrnn_file_report {
    const char *path;     /**< The file as given or found. */
    int32_t status;       /**< ::MRNN_OK if read, else the ::mrnn_status that made it skipped. */
    const char *reason;   /**< Why it was skipped ("" when read). */
    uint32_t split;       /**< ::mrnn_split the file went to (when read). */
    uint32_t n_pieces;    /**< Pieces added from it (transposed copies included). */
    uint64_t n_notes;     /**< Notes read from it. */
    uint64_t n_steps;     /**< Steps (tokens or frames) added from it, copies included. */
} mrnn_file_report;

/** Version of ::mrnn_instrument_report this header describes. */
#define MRNN_INSTRUMENT_REPORT_VERSION 1u

/** The instruments found in one input file, filled by mrnn_corpus_get_file_instruments(). Slots are
 *  General MIDI programs 0–127 (the program active on the note's channel at its onset) and
 *  ::MRNN_INSTRUMENT_DRUMS. A plain struct of fixed size: it may be copied and kept. */
typedef struct mrnn_instrument_report {
    uint32_t version;        /**< Must be ::MRNN_INSTRUMENT_REPORT_VERSION (set by mrnn_instrument_report_init()). */
    uint32_t n_instruments;  /**< Slots with at least one note read. */
    uint64_t notes[MRNN_INSTRUMENT_COUNT];   /**< Notes read per slot (drums only if the encoding reads them:
                                                  multitrack, or `keep_drums`). */
    uint64_t dropped[MRNN_INSTRUMENT_COUNT]; /**< Of those, notes the encoding did not keep (multitrack:
                                                  outside `instrument_mask` or beyond `max_tracks`). */
    uint32_t drum_pitches[4]; /**< Bit `p % 32` of word `p / 32` set: drum-kit pitch p occurs. */
} mrnn_instrument_report;

/** Zero @p r and set its version.
 *  @param r the struct to initialise. @param version must be ::MRNN_INSTRUMENT_REPORT_VERSION.
 *  @return ::MRNN_OK, or ::MRNN_ERR_INVALID_ARG if @p r is NULL or the version is unknown.
 *  Thread safety: safe from any thread (touches only @p r). */
MRNN_API mrnn_status mrnn_instrument_report_init(mrnn_instrument_report *r, uint32_t version);

/** A short name of an instrument slot: its General MIDI family for programs ("piano", "bass",
 *  "synth_lead", …; programs 8k … 8k+7 share one) and "drums" for ::MRNN_INSTRUMENT_DRUMS.
 *  @param slot 0 ≤ slot < ::MRNN_INSTRUMENT_COUNT.
 *  @return a static string, or NULL if @p slot is out of range.
 *  Thread safety: safe from any thread. */
MRNN_API const char *mrnn_instrument_name(uint32_t slot);

/** Parse a list of instruments into an instrument mask: comma-separated family names (as
 *  mrnn_instrument_name() gives them, each standing for its 8 programs), "drums", General MIDI
 *  program numbers 0–127 and ranges of them ("32-39"), e.g. `"piano,bass,drums"` or `"0,33,drums"`.
 *  @param list NUL-terminated text; borrowed for the call.
 *  @param mask receives the mask (caller-owned, ::MRNN_INSTRUMENT_MASK_WORDS words; cleared first).
 *  @return ::MRNN_OK; ::MRNN_ERR_UNKNOWN_TOKEN naming the entry that is not an instrument (an empty
 *  list is one); ::MRNN_ERR_INVALID_ARG for a NULL pointer.
 *  Thread safety: safe from any thread. */
MRNN_API mrnn_status mrnn_instrument_parse(const char *list, uint32_t *mask);

/** Totals of a corpus. */
typedef struct mrnn_corpus_stats {
    uint32_t n_files;        /**< Files offered. */
    uint32_t n_skipped;      /**< Files skipped (see mrnn_corpus_file_report()). */
    uint32_t n_pieces[3];    /**< Pieces per ::mrnn_split. */
    uint64_t n_steps[3];     /**< Steps per ::mrnn_split. */
    uint64_t n_tokens[3];    /**< Token ids per ::mrnn_split (differs from steps for pianoroll). */
    uint64_t n_notes;        /**< Notes read in total. */
    uint64_t n_unknown;      /**< Token occurrences mapped to `<unk>`. */
    uint32_t vocab_size;     /**< Size of the vocabulary. */
    uint32_t n_styles;       /**< Distinct style labels. */
} mrnn_corpus_stats;

/** The instruments found in one file offered to a corpus built in this process, and which of
 *  their notes the encoding dropped.
 *  @param c the corpus. @param i file index, 0 ≤ i < mrnn_corpus_file_count().
 *  @param out initialised by mrnn_instrument_report_init(); filled on success (all zero for a
 *  skipped file).
 *  @return ::MRNN_OK; ::MRNN_ERR_UNSUPPORTED for a corpus read by mrnn_corpus_load() (corpus files do
 *  not keep the instruments); ::MRNN_ERR_INVALID_ARG (index out of range, NULL, version mismatch).
 *  Thread safety: read-only. */
MRNN_API mrnn_status mrnn_corpus_get_file_instruments(const mrnn_corpus *c, uint32_t i, mrnn_instrument_report *out);

/** Create an empty corpus with a new vocabulary.
 *  @param out receives the corpus; NULL on failure. Ownership: the caller's, to free with
 *  mrnn_corpus_free().
 *  @param enc encoding parameters (copied), or NULL for the defaults.
 *  @param params splitting and augmentation (copied), or NULL for the defaults.
 *  @return ::MRNN_OK, ::MRNN_ERR_INVALID_ARG (names the bad field), ::MRNN_ERR_IO (the temporary
 *  file cannot be created in mrnn_corpus_params::spill_dir; names the folder), ::MRNN_ERR_NOMEM.
 *  Thread safety: safe from any thread. */
MRNN_API mrnn_status mrnn_corpus_create(mrnn_corpus **out, const mrnn_encoding_params *enc,
                                        const mrnn_corpus_params *params);

/** Create an empty corpus that encodes with a copy of an existing, fixed vocabulary (e.g. a
 *  model's, to evaluate it on new files). Tokens the vocabulary lacks become `<unk>`.
 *  @param out receives the corpus; NULL on failure. Ownership: the caller's, to free with
 *  mrnn_corpus_free().
 *  @param vocab the vocabulary to copy; not kept after the call.
 *  @param params splitting and augmentation (copied), or NULL for the defaults.
 *  @return ::MRNN_OK, ::MRNN_ERR_INVALID_ARG, ::MRNN_ERR_NOMEM.
 *  Thread safety: safe from any thread; @p vocab is only read. */
MRNN_API mrnn_status mrnn_corpus_create_with_vocab(mrnn_corpus **out, const mrnn_vocab *vocab,
                                                   const mrnn_corpus_params *params);

/** Free a corpus, its vocabulary and every string it lent (file reports, style names, piece tokens).
 *  @param c the corpus, or NULL (then nothing happens).
 *  Thread safety: no other thread may use @p c, or anything borrowed from it, during or after the call. */
MRNN_API void mrnn_corpus_free(mrnn_corpus *c);

/** Read one MIDI file into the corpus. The outcome is also recorded in the file report.
 *  @param c an unfinished corpus.
 *  @param path the MIDI file to read.
 *  @param style style label for its pieces (copied), or NULL for none.
 *  @return ::MRNN_OK; ::MRNN_ERR_IO / ::MRNN_ERR_MIDI / ::MRNN_ERR_LIMIT naming the file and reason
 *  (the corpus is then unchanged apart from the report); ::MRNN_ERR_STATE after mrnn_corpus_finish();
 *  ::MRNN_ERR_INVALID_ARG; ::MRNN_ERR_NOMEM.
 *  Thread safety: one thread at a time per corpus. */
MRNN_API mrnn_status mrnn_corpus_add_file(mrnn_corpus *c, const char *path, const char *style);

/** Read every `.mid`/`.midi` file below a folder, recursively, in sorted order. Files that
 *  fail are skipped and recorded in the report; they do not make this call fail.
 *
 *  With mrnn_corpus_params::threads above 1, that many threads read and parse files ahead of the
 *  calling thread, which encodes and commits them in the sorted order: the result does not depend
 *  on the thread count. At most a few files per thread are in flight, so memory does not grow with
 *  the number of files beyond their tokens and report lines. Folders are walked without recursion
 *  and each is closed before the next is opened (any depth and any number of entries; symbolic
 *  links to folders are not followed). mrnn_corpus_params::progress, if set, is called after each file.
 *  @param c an unfinished corpus.
 *  @param dir the folder.
 *  @return ::MRNN_OK; ::MRNN_ERR_IO if @p dir or a folder below it cannot be listed (names it);
 *  ::MRNN_ERR_CANCELLED if the progress callback asked to stop; ::MRNN_ERR_STATE after
 *  mrnn_corpus_finish(); ::MRNN_ERR_INVALID_ARG; ::MRNN_ERR_NOMEM.
 *  Thread safety: one thread at a time per corpus; the helper threads exist only during the call. */
MRNN_API mrnn_status mrnn_corpus_add_dir(mrnn_corpus *c, const char *dir);

/** Fix the vocabulary (apply `min_count`, order tokens by frequency) and renumber tokens. After
 *  this the corpus is read-only. Calling it twice is harmless.
 *  @param c the corpus.
 *  @return ::MRNN_OK, ::MRNN_ERR_INVALID_ARG, ::MRNN_ERR_NOMEM.
 *  Thread safety: one thread at a time per corpus. */
MRNN_API mrnn_status mrnn_corpus_finish(mrnn_corpus *c);

/** The corpus vocabulary. Its ids are final only after mrnn_corpus_finish().
 *  @param c the corpus.
 *  @return the vocabulary, or NULL if @p c is NULL. Ownership: borrowed from @p c (never free
 *  it); valid until @p c is freed.
 *  Thread safety: read-only; several threads may read a finished corpus at once. */
MRNN_API const mrnn_vocab *mrnn_corpus_vocab(const mrnn_corpus *c);

/** Totals of the corpus (since 0.2; before, mrnn_corpus_stats_get()).
 *  @param c the corpus.
 *  @param out receives the totals (caller-owned).
 *  @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG.
 *  Thread safety: read-only; several threads may read a finished corpus at once. */
MRNN_API mrnn_status mrnn_corpus_get_stats(const mrnn_corpus *c, mrnn_corpus_stats *out);

/** @deprecated The old name of mrnn_corpus_get_stats(), kept for the ABI; same behaviour.
 *  @param c the corpus.
 *  @param out receives the totals (caller-owned).
 *  @return as mrnn_corpus_get_stats().
 *  Thread safety: as mrnn_corpus_get_stats(). */
MRNN_API mrnn_status mrnn_corpus_stats_get(const mrnn_corpus *c, mrnn_corpus_stats *out);

/** The number of files offered to the corpus, read or skipped.
 *  @param c the corpus.
 *  @return the count, or 0 if @p c is NULL. Cannot fail.
 *  Thread safety: read-only; several threads may read a finished corpus at once. */
MRNN_API uint32_t mrnn_corpus_file_count(const mrnn_corpus *c);

/** What happened to one input file (since 0.2; before, mrnn_corpus_file_report()).
 *  @param c the corpus.
 *  @param i file index, 0 ≤ i < mrnn_corpus_file_count().
 *  @param out receives the report (caller-owned); its strings are borrowed from @p c and valid
 *  until @p c is freed.
 *  @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG (index out of range, NULL pointer).
 *  Thread safety: read-only; several threads may read a finished corpus at once. */
MRNN_API mrnn_status mrnn_corpus_get_file_report(const mrnn_corpus *c, uint32_t i, mrnn_file_report *out);

/** @deprecated The old name of mrnn_corpus_get_file_report(), kept for the ABI; same behaviour.
 *  @param c the corpus.
 *  @param i file index.
 *  @param out receives the report (caller-owned; strings borrowed from @p c).
 *  @return as mrnn_corpus_get_file_report().
 *  Thread safety: as mrnn_corpus_get_file_report(). */
MRNN_API mrnn_status mrnn_corpus_file_report(const mrnn_corpus *c, uint32_t i, mrnn_file_report *out);

/** The number of pieces in all splits, transposed copies included.
 *  @param c the corpus.
 *  @return the count, or 0 if @p c is NULL. Cannot fail.
 *  Thread safety: read-only; several threads may read a finished corpus at once. */
MRNN_API uint32_t mrnn_corpus_piece_count(const mrnn_corpus *c);

/** Borrow the tokens of one piece. For pianoroll each frame ends with ::MRNN_FRAME_END.
 *  @param c the corpus.
 *  @param i piece index, 0 ≤ i < mrnn_corpus_piece_count().
 *  @param ids receives a pointer into the corpus: borrowed, valid until @p c is freed or changed.
 *  @param n receives the number of ids.
 *  @param split receives the ::mrnn_split (may be NULL).
 *  @param transpose receives the augmentation shift in semitones (may be NULL).
 *  @return ::MRNN_OK; ::MRNN_ERR_INVALID_ARG (index out of range, NULL @p ids or @p n);
 *  ::MRNN_ERR_UNSUPPORTED for a corpus built with mrnn_corpus_params::spill_dir (its tokens are
 *  on disk: save it and map the file).
 *  Thread safety: read-only; several threads may read a finished corpus at once. */
MRNN_API mrnn_status mrnn_corpus_piece_tokens(const mrnn_corpus *c, uint32_t i, const uint32_t **ids,
                                              size_t *n, uint32_t *split, int32_t *transpose);

/** The number of distinct style labels.
 *  @param c the corpus.
 *  @return the count, or 0 if @p c is NULL. Cannot fail.
 *  Thread safety: read-only; several threads may read a finished corpus at once. */
MRNN_API uint32_t mrnn_corpus_style_count(const mrnn_corpus *c);

/** A style label.
 *  @param c the corpus.
 *  @param i label index, 0 ≤ i < mrnn_corpus_style_count().
 *  @return the label, or NULL if out of range. Ownership: borrowed from @p c, valid until it is freed.
 *  Thread safety: read-only; several threads may read a finished corpus at once. */
MRNN_API const char *mrnn_corpus_style_name(const mrnn_corpus *c, uint32_t i);

/** Save the corpus to a file; finishes it first (see mrnn_corpus_finish()). Written atomically:
 *  a crash or an error (a full disk, say) leaves either the old file or the complete new one, and
 *  no temporary file. A corpus with mrnn_corpus_params::spill_dir streams its tokens from its
 *  temporary file in chunks of 1 MiB, so saving needs no memory for them; the file is the same as
 *  an in-memory corpus of the same input writes.
 *  @param c the corpus.
 *  @param path the file to write.
 *  @return ::MRNN_OK, ::MRNN_ERR_IO (names the file, or the spill folder whose temporary file
 *  could not be written or read), ::MRNN_ERR_NOMEM, ::MRNN_ERR_INVALID_ARG.
 *  Thread safety: one thread at a time per corpus. */
MRNN_API mrnn_status mrnn_corpus_save(mrnn_corpus *c, const char *path);

/** Load a corpus written by mrnn_corpus_save(). The result is finished.
 *  @param out receives the corpus; NULL on failure. Ownership: the caller's, to free with
 *  mrnn_corpus_free().
 *  @param path the file to read.
 *  @return ::MRNN_OK, ::MRNN_ERR_IO, ::MRNN_ERR_FORMAT, ::MRNN_ERR_VERSION — each naming the file —
 *  ::MRNN_ERR_NOMEM, ::MRNN_ERR_INVALID_ARG.
 *  Thread safety: safe from any thread. */
MRNN_API mrnn_status mrnn_corpus_load(mrnn_corpus **out, const char *path);

/** Open a corpus written by mrnn_corpus_save() *out of core*: its file report, pieces and
 *  vocabulary are read into memory, its tokens are not. They are streamed once, each id checked,
 *  into an unnamed temporary file (in the corpus file's folder, else `$TMPDIR`, else `/tmp`) that is
 *  memory-mapped read-only, so training draws its windows from pages the kernel can drop and
 *  re-read: a corpus larger than the memory the process may use can be trained on, and memory use
 *  does not grow with the token count. The result behaves like a loaded, finished corpus in every
 *  call; mrnn_corpus_piece_tokens() points into the mapping. The temporary takes as much disk as the
 *  tokens (4 bytes each) and disappears with mrnn_corpus_free() or the process.
 *  @param out receives the corpus; NULL on failure. Ownership: the caller's, to free with
 *  mrnn_corpus_free().
 *  @param path the corpus file.
 *  @return ::MRNN_OK, ::MRNN_ERR_IO (unreadable, or no temporary file could be created),
 *  ::MRNN_ERR_FORMAT, ::MRNN_ERR_VERSION — each naming the file — ::MRNN_ERR_NOMEM,
 *  ::MRNN_ERR_INVALID_ARG.
 *  Thread safety: safe from any thread. */
MRNN_API mrnn_status mrnn_corpus_map(mrnn_corpus **out, const char *path);

/** Decode tokens with a vocabulary's encoding and write them as a standard MIDI file.
 *  @param vocab vocabulary (and encoding) the ids belong to.
 *  @param ids tokens as returned by mrnn_corpus_piece_tokens() or a sampler; borrowed for the call.
 *  @param n number of @p ids.
 *  @param path the MIDI file to write (atomically).
 *  @param tempo_bpm tempo of the file (≤ 0 = 120; at most 1000).
 *  @param program General MIDI program 0–127 for every note (multitrack ignores it: each instrument
 *  keeps its own program, drums go to channel 10).
 *  @return ::MRNN_OK, ::MRNN_ERR_INVALID_ARG (id out of range, bad program or tempo), ::MRNN_ERR_IO (names
 *  the file), ::MRNN_ERR_NOMEM.
 *  Thread safety: only reads @p vocab; safe alongside other readers. */
MRNN_API mrnn_status mrnn_tokens_write_midi(const mrnn_vocab *vocab, const uint32_t *ids, size_t n,
                                            const char *path, double tempo_bpm, uint32_t program);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @defgroup model Model
 *  An embedding, a stack of LSTM layers and an output layer (softmax over the vocabulary, or 88
 *  sigmoids for pianoroll), trained with Adam by truncated back-propagation through time.
 *
 *  Ownership: a model keeps its own copy of the vocabulary it was created for, so the corpus may be
 *  freed once training is over. Samplers borrow the model. Threads: training needs the model to
 *  itself; evaluation, saving and any number of samplers may read it concurrently.
 *
 *  @code
 *  static int on_progress(const mrnn_train_progress *p, void *user_data)
 *  {
 *      if (p->step % 100 == 0) fprintf(stderr, "step %llu loss %.3f\n", (unsigned long long)p->step, p->train_loss);
 *      return *(volatile int *)user_data;          // set by a signal handler: non-zero stops training
 *  }
 *
 *  mrnn_model *m = NULL;
 *  mrnn_model_params mp;
 *  mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
 *  mp.hidden_size = 512;
 *  if (mrnn_model_create(&m, mrnn_corpus_vocab(corpus), NULL, 0, &mp) != MRNN_OK) { fprintf(stderr, "%s\n", mrnn_last_error()); return 1; }
 *  mrnn_train_params tp;
 *  mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION);
 *  tp.max_steps = 5000;
 *  tp.checkpoint_path = "model.ckpt";              // resumable: weights + optimiser state
 *  tp.log_path = "train.csv";
 *  mrnn_status st = mrnn_model_train(m, corpus, &tp, on_progress, &stop_requested);
 *  if (st != MRNN_OK && st != MRNN_ERR_CANCELLED) fprintf(stderr, "%s\n", mrnn_last_error());
 *  mrnn_eval_result r;
 *  if (mrnn_model_evaluate(m, corpus, MRNN_SPLIT_VALID, &r) == MRNN_OK)
 *      printf("valid NLL %.3f, perplexity %.1f\n", r.nll, r.perplexity);
 *  mrnn_model_save(m, "model.mrm", MRNN_SAVE_WEIGHTS_ONLY);
 *  mrnn_model_free(m);
 *
 *  // Later, maybe in another program: continue the interrupted run exactly where it stopped.
 *  mrnn_model_load(&m, "model.ckpt");
 *  mrnn_model_train(m, corpus, &tp, NULL, NULL);    // counts from mrnn_model_steps_trained(m)
 *  mrnn_model_free(m);
 *  @endcode
 *  @{ */

/** Progress of a training run, passed to an ::mrnn_train_callback. */
typedef struct mrnn_train_progress {
    uint64_t step;           /**< Optimiser steps done (counting resumed ones). */
    uint64_t total_steps;    /**< Steps the run will do if not stopped early. */
    double epoch;            /**< Passes over the training tokens so far. */
    double train_loss;       /**< Mean training loss of this step (nats per scored step). */
    double valid_loss;       /**< Validation loss if measured at this step, else NaN. */
    double learning_rate;    /**< Learning rate used at this step. */
    double tokens_per_second;/**< Training throughput (scored steps per second) of this run so far. */
    double elapsed_seconds;  /**< Wall time of this run so far. */
} mrnn_train_progress;

/** Called after every training step. Return non-zero to stop training (the call then returns
 *  ::MRNN_ERR_CANCELLED after writing a checkpoint if one is configured). Runs on the caller's thread. */
typedef int (*mrnn_train_callback)(const mrnn_train_progress *progress, void *user_data);

/** Results of mrnn_model_evaluate(). */
typedef struct mrnn_eval_result {
    double nll;          /**< Mean negative log-likelihood per scored step, in nats. For pianoroll
                              this is per frame, summed over the 88 keys (with the NADE frame
                              output: the exact NLL of the joint distribution of the frame). */
    double perplexity;   /**< exp(nll) for event encodings; exp(nll / 88) per key for pianoroll. */
    double accuracy;     /**< Event encodings: share of steps whose most likely token was right.
                              Pianoroll: share of frames predicted exactly (threshold 0.5; with the
                              NADE, each key given the true keys below it). */
    uint64_t n_scored;   /**< Steps scored (the first step of each piece is never scored). */
    uint32_t n_pieces;   /**< Pieces evaluated. */
} mrnn_eval_result;

/** Create an untrained model for a vocabulary.
 *  @param out receives the model; NULL on failure. Ownership: the caller's, to free with
 *  mrnn_model_free().
 *  @param vocab the vocabulary the model predicts, e.g. mrnn_corpus_vocab() of a finished corpus.
 *  Copied: the model does not keep @p vocab.
 *  @param style_names labels the model can be conditioned on (copied), or NULL.
 *  @param n_styles number of @p style_names.
 *  @param params shape (copied), or NULL for the defaults.
 *  @return ::MRNN_OK, ::MRNN_ERR_INVALID_ARG (names the bad field), ::MRNN_ERR_LIMIT, ::MRNN_ERR_NOMEM.
 *  Thread safety: safe from any thread; @p vocab is only read. */
MRNN_API mrnn_status mrnn_model_create(mrnn_model **out, const mrnn_vocab *vocab,
                                       const char *const *style_names, uint32_t n_styles,
                                       const mrnn_model_params *params);

/** Free a model.
 *  @param m the model, or NULL (then nothing happens). Free every sampler that borrows it first.
 *  Thread safety: no other thread may use @p m, or anything borrowed from it, during or after the call. */
MRNN_API void mrnn_model_free(mrnn_model *m);

/** The model's vocabulary.
 *  @param m the model.
 *  @return the vocabulary, or NULL if @p m is NULL. Ownership: borrowed from @p m (never free it);
 *  valid until @p m is freed.
 *  Thread safety: read-only; safe alongside samplers and other readers of @p m. */
MRNN_API const mrnn_vocab *mrnn_model_vocab(const mrnn_model *m);

/** Copy the shape of a model.
 *  @param m the model.
 *  @param out receives the shape; its `version` must have been set by mrnn_model_params_init()
 *         (with version 1 only the fields of version 1 are written).
 *  @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG (NULL pointer, unknown version).
 *  Thread safety: read-only; safe alongside samplers and other readers of @p m. */
MRNN_API mrnn_status mrnn_model_get_params(const mrnn_model *m, mrnn_model_params *out);

/** The number of trainable parameters.
 *  @param m the model.
 *  @return the count, or 0 if @p m is NULL. Cannot fail.
 *  Thread safety: read-only; safe alongside samplers and other readers of @p m. */
MRNN_API uint64_t mrnn_model_param_count(const mrnn_model *m);

/** Optimiser steps trained so far, over every run (resumed ones included).
 *  @param m the model.
 *  @return the count, or 0 if @p m is NULL. Cannot fail.
 *  Thread safety: read-only; safe alongside samplers and other readers of @p m. */
MRNN_API uint64_t mrnn_model_steps_trained(const mrnn_model *m);

/** The number of style labels.
 *  @param m the model.
 *  @return the count, or 0 if @p m is NULL. Cannot fail.
 *  Thread safety: read-only; safe alongside samplers and other readers of @p m. */
MRNN_API uint32_t mrnn_model_style_count(const mrnn_model *m);

/** A style label.
 *  @param m the model.
 *  @param i label index, 0 ≤ i < mrnn_model_style_count().
 *  @return the label, or NULL if out of range. Ownership: borrowed from @p m, valid until it is freed.
 *  Thread safety: read-only; safe alongside samplers and other readers of @p m. */
MRNN_API const char *mrnn_model_style_name(const mrnn_model *m, uint32_t i);

/** Train a model on the training split of a corpus. Continues from the model's optimiser state
 *  when it has one (a checkpoint loaded with mrnn_model_load()), so a resumed run reproduces the
 *  losses of an uninterrupted one with the same `threads`. Runs with the same seed and thread
 *  count give the same losses bit for bit; other thread counts give the same up to rounding.
 *  While it runs, `threads - 1` helper threads work alongside the caller (joined before it
 *  returns), and OpenBLAS's global thread count is changed: do not call OpenBLAS from other
 *  threads meanwhile.
 *  @param m the model to train (modified).
 *  @param corpus a finished corpus with the model's vocabulary, e.g. the one the model was
 *  created from; only read, and only during the call.
 *  @param params training parameters, or NULL for the defaults. Its path strings are borrowed for the call.
 *  @param cb progress callback called after every step on the calling thread, or NULL.
 *  @param user_data passed to @p cb unchanged.
 *  @return ::MRNN_OK; ::MRNN_ERR_CANCELLED (the callback asked to stop); ::MRNN_ERR_NUMERIC
 *  (diverged); ::MRNN_ERR_EMPTY (no training piece); ::MRNN_ERR_INVALID_ARG (vocabulary mismatch,
 *  bad params); ::MRNN_ERR_IO (checkpoint or log could not be written, names the file);
 *  ::MRNN_ERR_NOMEM.
 *  Thread safety: nothing else may use @p m meanwhile — no sampler, no other call; other threads may
 *  read @p corpus. */
MRNN_API mrnn_status mrnn_model_train(mrnn_model *m, const mrnn_corpus *corpus,
                                      const mrnn_train_params *params, mrnn_train_callback cb,
                                      void *user_data);

/** Score one split of a corpus, running each piece from its start. Computes on the library's
 *  default number of threads (see ::mrnn_train_params.threads); the scores equal one thread's up
 *  to rounding.
 *  @param m the model.
 *  @param corpus a finished corpus with the model's vocabulary.
 *  @param split one of ::mrnn_split.
 *  @param out receives the result (caller-owned).
 *  @return ::MRNN_OK, ::MRNN_ERR_EMPTY (no piece in that split), ::MRNN_ERR_INVALID_ARG, ::MRNN_ERR_NOMEM.
 *  Thread safety: read-only; safe alongside samplers and other readers of @p m. */
MRNN_API mrnn_status mrnn_model_evaluate(const mrnn_model *m, const mrnn_corpus *corpus, uint32_t split,
                                         mrnn_eval_result *out);

/** Flags for mrnn_model_save(). */
enum mrnn_save_flags {
    MRNN_SAVE_WEIGHTS_ONLY = 0,    /**< Weights, configuration and vocabulary. */
    MRNN_SAVE_TRAINING_STATE = 1   /**< Also optimiser moments, step and RNG state, to resume exactly. */
};

/** Save a model: one self-describing checkpoint (configuration, encoding, vocabulary, weights,
 *  optionally training state, checksum), written atomically.
 *  @param m the model.
 *  @param path the checkpoint file to write.
 *  @param flags a combination of ::mrnn_save_flags.
 *  @return ::MRNN_OK, ::MRNN_ERR_IO (names the file), ::MRNN_ERR_NOMEM, ::MRNN_ERR_INVALID_ARG.
 *  Thread safety: read-only; safe alongside samplers and other readers of @p m. */
MRNN_API mrnn_status mrnn_model_save(const mrnn_model *m, const char *path, uint32_t flags);

/** Load a checkpoint written by mrnn_model_save().
 *  @param out receives the model; NULL on failure. Ownership: the caller's, to free with
 *  mrnn_model_free().
 *  @param path the checkpoint file.
 *  @return ::MRNN_OK, ::MRNN_ERR_IO, ::MRNN_ERR_FORMAT (corrupt, truncated, bad checksum),
 *  ::MRNN_ERR_VERSION (newer format) — each naming the file — ::MRNN_ERR_LIMIT, ::MRNN_ERR_NOMEM.
 *  Thread safety: safe from any thread. */
MRNN_API mrnn_status mrnn_model_load(mrnn_model **out, const char *path);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @defgroup sampler Sampler
 *  Generation: a sampler borrows a trained model (read-only) and owns everything that changes
 *  while composing — recurrent state, random generator, scratch memory and the output tokens —
 *  so several samplers may run on one model in parallel threads.
 *
 *  Ownership: the sampler borrows its model, which must outlive it and must not be trained
 *  meanwhile; everything a sampler returns (mrnn_sampler_tokens()) is borrowed until its next call.
 *  Threads: one thread per sampler; samplers of one model may run in parallel threads.
 *
 *  A sampler runs `n_lanes` independent pieces at once (batch sampling). Each lane is primed with
 *  the same seed, has its own random stream, and is read back with mrnn_sampler_tokens().
 *  With `beam_width` > 1 the lanes are the beams of a beam search and one piece comes out
 *  (lane 0).
 *
 *  @code
 *  mrnn_sampler_params sp;
 *  mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
 *  sp.temperature = 0.9f;
 *  sp.top_p = 0.95f;
 *  sp.rng_seed = 42;                              // same seed, same piece
 *  mrnn_sampler *s = NULL;
 *  if (mrnn_sampler_create(&s, model, &sp) != MRNN_OK) { fprintf(stderr, "%s\n", mrnn_last_error()); return 1; }
 *  mrnn_sampler_prime_text(s, "C4.E4.G4:q W:q");  // or mrnn_sampler_prime_midi(s, "primer.mid", 0, 0)
 *  mrnn_sampler_generate(s, 512, 0.0, on_step, NULL);   // on_step(event, user_data) sees each step at once
 *  const uint32_t *ids;
 *  size_t n;
 *  mrnn_sampler_tokens(s, 0, &ids, &n);           // borrowed until the next call on s
 *  printf("%zu tokens\n", n);
 *  if (mrnn_sampler_write_midi(s, 0, "out.mid", 100.0, 0) != MRNN_OK) fprintf(stderr, "%s\n", mrnn_last_error());
 *  mrnn_sampler_free(s);                          // before the model
 *  @endcode
 *  @{ */

/** Version of ::mrnn_sampler_params this header describes. Version 2 appended `weight_format`,
 *  version 3 `threads`, version 4 `instrument_mask`; structs of versions 1 to 3 (compiled against
 *  an older header) are still accepted. */
#define MRNN_SAMPLER_PARAMS_VERSION 4u

/** Scales used by the key constraint. */
enum mrnn_scale {
    MRNN_SCALE_MAJOR = 0,  /**< Ionian: 0 2 4 5 7 9 11 above the tonic. */
    MRNN_SCALE_MINOR = 1   /**< Natural minor plus the raised 7th (harmonic): 0 2 3 5 7 8 10 11. */
};

/** Precision of the copy of the weights a sampler computes with (`mrnn_sampler_params.weight_format`). */
enum mrnn_weight_format {
    MRNN_WEIGHTS_FLOAT32 = 0, /**< The model's float weights: the same numbers as in training. */
    MRNN_WEIGHTS_BF16 = 1     /**< A bfloat16 copy (8 significant bits, rounded to nearest even), products
                                   still summed in float: half the bytes to read per step, so generation
                                   of large models at few lanes is faster (bench/README.md); probabilities
                                   differ from float ones by about 1e-2. Opt-in. */
};

/** How a sampler draws tokens, and which tokens it may draw. */
typedef struct mrnn_sampler_params {
    uint32_t version;          /**< Must be ::MRNN_SAMPLER_PARAMS_VERSION. */
    float temperature;         /**< Divides the logits; 0 means greedy (always the most likely token). Default 1. */
    uint32_t top_k;            /**< Keep only the k most likely tokens; 0 = off. Event encodings only. Default 0. */
    float top_p;               /**< Nucleus: keep the smallest set of tokens whose probability reaches p; 1 = off. Default 1. */
    float repetition_penalty;  /**< > 1 makes tokens among the last `repetition_window` outputs less likely. 1 = off. Default 1. */
    uint32_t repetition_window;/**< Tokens looked back at by the repetition penalty. Default 16. */
    uint32_t beam_width;       /**< > 1: stochastic beam search with this many beams (event encodings; with
                                    temperature 0 it is plain beam search). Default 1 (off). */
    uint32_t n_lanes;          /**< Pieces generated at once (ignored with beam search). 1–256. Default 1. */
    uint64_t rng_seed;         /**< Seed of the random generator: the same seed gives the same output. Default 1. */
    int32_t style;             /**< Style label index of the model to condition on, or −1 for none. Default −1. */
    uint32_t min_pitch;        /**< Lowest MIDI pitch a generated note may have. Default 0. */
    uint32_t max_pitch;        /**< Highest MIDI pitch a generated note may have. Default 127. */
    int32_t key_tonic;         /**< Key constraint: tonic pitch class 0–11 (0 = C), or −1 for none. Default −1. */
    uint32_t key_scale;        /**< One of ::mrnn_scale, used when `key_tonic` ≥ 0. Default major. */
    uint32_t max_polyphony;    /**< Most notes sounding at once (multitrack: per instrument, drums not counted); 0 = no limit.
                                    Default 0. With the NADE frame output a frame over the cap is drawn
                                    again (up to 8 times), then drawn with keys above the cap left off. */
    int32_t allow_drums;       /**< 0 forbids drum tokens (notechord models trained with drums). Default 1. */
    int32_t include_primer;    /**< 1: the output starts with the primer's tokens. Default 1. */
    uint32_t weight_format;    /**< One of ::mrnn_weight_format. Default ::MRNN_WEIGHTS_FLOAT32. (Version 2.) */
    uint32_t threads;          /**< Threads each step's products are split over, the caller's included;
                                    never more than the cores online; at most 256. 0 = two when the
                                    library's default thread count (see ::mrnn_train_params.threads)
                                    is two or more, else one, as before version 3. The results do not
                                    depend on it. Default 0. (Version 3.) */
    uint32_t instrument_mask[MRNN_INSTRUMENT_MASK_WORDS]; /**< Multitrack: instrument slots that may play
                                    (bit i = General MIDI program i, slot ::MRNN_INSTRUMENT_DRUMS = the drum
                                    kit; with GM families a family may play if any of its programs is set).
                                    The selector tokens of other instruments, and drum notes without the
                                    drum slot, are masked; pitch range and key apply to the notes of every
                                    instrument (drums exempt), `max_polyphony` to each instrument on its
                                    own (drums exempt). All zero = every instrument. Default all zero.
                                    (Version 4.) */
    uint8_t instrument_min_pitch[MRNN_INSTRUMENT_COUNT]; /**< Multitrack: lowest pitch of each instrument
                                    slot (GM program) whose `instrument_max_pitch` is set. (Version 4.) */
    uint8_t instrument_max_pitch[MRNN_INSTRUMENT_COUNT]; /**< Multitrack: highest pitch of each instrument
                                    slot; 0 = no range of its own. A generated note of an instrument must lie
                                    in the range of every program it stands for that has one (with GM
                                    families: each of the family's 8 programs), besides `min_pitch` /
                                    `max_pitch`. E.g. bass 28–52 and a lead 60–84 keep the parts in their
                                    registers. Default all 0. (Version 4.) */
} mrnn_sampler_params;

/** Fill @p p with the defaults of every field and set its `version`. Call it before setting
 *  fields, so that a program compiled against this header keeps working with later libraries.
 *  @param p the struct to fill (caller-owned, typically on the stack).
 *  @param version ::MRNN_SAMPLER_PARAMS_VERSION (or an older version: then only the fields of
 *         that version are written, so a smaller struct from an older header is not overrun).
 *  @return ::MRNN_OK, or ::MRNN_ERR_INVALID_ARG if @p p is NULL or @p version is unknown.
 *  Thread safety: safe from any thread (touches only @p p). */
MRNN_API mrnn_status mrnn_sampler_params_init(mrnn_sampler_params *p, uint32_t version);

/** One generated step, passed to an ::mrnn_sample_callback as soon as it is drawn. */
typedef struct mrnn_sample_event {
    uint32_t lane;           /**< Which piece (0 ≤ lane < n_lanes). */
    uint64_t step;           /**< Index of the step in this lane's output (primer included if kept). */
    uint32_t token;          /**< Event encodings: the token id. Pianoroll: the number of keys in the frame. */
    const uint32_t *keys;    /**< Pianoroll: the frame's token ids (`token` of them); NULL otherwise. */
    const char *text;        /**< Text of the token, or NULL for pianoroll frames. Borrowed for the call. */
    double time_seconds;     /**< Musical time at which the step starts, at 120 bpm. */
    double probability;      /**< Probability the (unconstrained, temperature 1) model gave this choice. */
    double latency_seconds;  /**< Wall time spent computing this step. */
} mrnn_sample_event;

/** Called once per generated step and lane. Return non-zero to stop generation early (the call then
 *  returns ::MRNN_ERR_CANCELLED; the tokens drawn so far are kept). Runs on the caller's thread. */
typedef int (*mrnn_sample_callback)(const mrnn_sample_event *event, void *user_data);

/** Create a sampler over a model.
 *  The sampler keeps its own copy of the LSTM and output weights, laid out for its per-step
 *  products (as many bytes again as those weights in float, half as many with
 *  ::MRNN_WEIGHTS_BF16). When the vocabulary (plus styles) has at most four times as many entries
 *  as the embedding has dimensions, the first layer's input weights are replaced in that copy by
 *  the table of projected embeddings, (tokens + styles) × 4 × hidden floats, so that each step
 *  reads one row of it instead of the whole input matrix. With `threads` (or its default) two or
 *  more, the sampler starts that many threads less one as helpers that compute their share of each
 *  step's products; they sleep while the sampler is idle and are joined by mrnn_sampler_free().
 *  With one thread everything runs on the caller's thread. The sampler never changes OpenBLAS's
 *  settings (see ::mrnn_train_params.threads for the one change the library makes).
 *  @param out receives the sampler; NULL on failure. Ownership: the caller's, to free with
 *  mrnn_sampler_free() before @p model is freed.
 *  @param model the model, borrowed: it must outlive the sampler and not be trained meanwhile.
 *  @param params sampling parameters (copied), or NULL for the defaults; a version-1 or version-2
 *  struct is read as that version (later fields keep their defaults).
 *  @return ::MRNN_OK; ::MRNN_ERR_INVALID_ARG naming a bad field (e.g. a style out of range, a
 *  constraint that excludes every token); ::MRNN_ERR_UNSUPPORTED (beam search on pianoroll);
 *  ::MRNN_ERR_NOMEM.
 *  Thread safety: safe alongside other samplers on the same model. */
MRNN_API mrnn_status mrnn_sampler_create(mrnn_sampler **out, const mrnn_model *model,
                                         const mrnn_sampler_params *params);

/** Free a sampler (not its model).
 *  @param s the sampler, or NULL (then nothing happens).
 *  Thread safety: no other thread may use @p s during or after the call. */
MRNN_API void mrnn_sampler_free(mrnn_sampler *s);

/** Forget the primer, the output and the recurrent state, and re-seed the random generator.
 *  @param s the sampler.
 *  @param rng_seed the new seed (the same seed gives the same output again).
 *  @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG.
 *  Thread safety: one thread at a time per sampler; other samplers of the same model may run meanwhile. */
MRNN_API mrnn_status mrnn_sampler_reset(mrnn_sampler *s, uint64_t rng_seed);

/** Feed token ids through the network before generating. May be called several times.
 *  @param s a sampler that has not started generating.
 *  @param ids token ids in flat form (pianoroll frames end with ::MRNN_FRAME_END); read during the call.
 *  @param n number of @p ids.
 *  @return ::MRNN_OK; ::MRNN_ERR_INVALID_ARG (id out of range); ::MRNN_ERR_STATE after generation
 *  started (see mrnn_sampler_reset()); ::MRNN_ERR_NOMEM.
 *  Thread safety: one thread at a time per sampler; other samplers of the same model may run meanwhile. */
MRNN_API mrnn_status mrnn_sampler_prime_tokens(mrnn_sampler *s, const uint32_t *ids, size_t n);

/** Feed a seed text in the vocabulary's notation (see @ref vocab), e.g. `"C4.E4.G4:q W:q G4:e"`.
 *  @param s a sampler that has not started generating.
 *  @param text NUL-terminated seed text; borrowed for the call.
 *  @return ::MRNN_OK; ::MRNN_ERR_UNKNOWN_TOKEN naming the word and its position; ::MRNN_ERR_STATE;
 *  ::MRNN_ERR_INVALID_ARG; ::MRNN_ERR_NOMEM.
 *  Thread safety: one thread at a time per sampler; other samplers of the same model may run meanwhile. */
MRNN_API mrnn_status mrnn_sampler_prime_text(mrnn_sampler *s, const char *text);

/** Feed a MIDI file, encoded with the model's encoding. Tokens the vocabulary lacks become `<unk>`.
 *  @param s a sampler that has not started generating.
 *  @param path the MIDI file to continue.
 *  @param track_mask bit t keeps track t (0 = all).
 *  @param channel_mask bit c keeps channel c (0 = all).
 *  @return ::MRNN_OK; ::MRNN_ERR_IO / ::MRNN_ERR_MIDI / ::MRNN_ERR_LIMIT naming the file;
 *  ::MRNN_ERR_STATE; ::MRNN_ERR_INVALID_ARG; ::MRNN_ERR_NOMEM.
 *  Thread safety: one thread at a time per sampler; other samplers of the same model may run meanwhile. */
MRNN_API mrnn_status mrnn_sampler_prime_midi(mrnn_sampler *s, const char *path, uint64_t track_mask,
                                             uint32_t channel_mask);

/** Generate further steps (tokens, or frames for pianoroll) in every lane, stopping a lane early
 *  once its music reaches @p max_seconds. Can be called again to continue. Without a primer, an
 *  event model's first token is drawn from a mixture of the successor distributions it learned
 *  (training never asks it to predict from an empty input); a pianoroll model starts from silence.
 *  @param s the sampler.
 *  @param max_steps most steps to add per lane.
 *  @param max_seconds stop a lane once its generated part lasts this long (seconds at 120 bpm); 0 = no limit.
 *  @param cb streaming callback called on the calling thread for every step, or NULL.
 *  @param user_data passed to @p cb unchanged.
 *  @return ::MRNN_OK, ::MRNN_ERR_CANCELLED (the callback asked to stop; the steps drawn so far
 *  are kept), ::MRNN_ERR_INVALID_ARG, ::MRNN_ERR_NOMEM.
 *  Thread safety: one thread at a time per sampler; other samplers of the same model may run meanwhile. */
MRNN_API mrnn_status mrnn_sampler_generate(mrnn_sampler *s, uint32_t max_steps, double max_seconds,
                                           mrnn_sample_callback cb, void *user_data);

/** The number of lanes (pieces generated at once).
 *  @param s the sampler.
 *  @return `n_lanes`, 1 with beam search, 0 if @p s is NULL. Cannot fail.
 *  Thread safety: only reads @p s; not while another thread generates with @p s. */
MRNN_API uint32_t mrnn_sampler_lane_count(const mrnn_sampler *s);

/** Borrow the output of one lane (flat form; primer included if `include_primer`).
 *  @param s the sampler.
 *  @param lane lane index, 0 ≤ lane < mrnn_sampler_lane_count().
 *  @param ids receives a pointer into the sampler: borrowed, valid until the next call on @p s.
 *  @param n receives the number of ids.
 *  @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG (lane out of range, NULL pointer).
 *  Thread safety: only reads @p s; not while another thread generates with @p s. */
MRNN_API mrnn_status mrnn_sampler_tokens(const mrnn_sampler *s, uint32_t lane, const uint32_t **ids, size_t *n);

/** Copy the distribution the last generated step of a lane was drawn from, after temperature,
 *  constraints, top-k and top-p (event encodings: one probability per token; pianoroll: 88 key
 *  probabilities; with the NADE frame output, each key's probability given the keys drawn below it).
 *  @param s the sampler.
 *  @param lane lane index, 0 ≤ lane < mrnn_sampler_lane_count().
 *  @param probs caller-owned array that receives the probabilities.
 *  @param cap size of @p probs; must be at least mrnn_vocab_size() of the model.
 *  @return ::MRNN_OK; ::MRNN_ERR_STATE if nothing was generated yet; ::MRNN_ERR_INVALID_ARG.
 *  Thread safety: only reads @p s; not while another thread generates with @p s. */
MRNN_API mrnn_status mrnn_sampler_distribution(const mrnn_sampler *s, uint32_t lane, float *probs, size_t cap);

/** Log-likelihood (nats) of the generated steps of a lane under the model at temperature 1
 *  without constraints: how probable the model finds what was generated.
 *  @param s the sampler.
 *  @param lane lane index, 0 ≤ lane < mrnn_sampler_lane_count().
 *  @param out receives the log-likelihood (caller-owned).
 *  @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG.
 *  Thread safety: only reads @p s; not while another thread generates with @p s. */
MRNN_API mrnn_status mrnn_sampler_log_likelihood(const mrnn_sampler *s, uint32_t lane, double *out);

/** Write the output of a lane as a standard MIDI file (see mrnn_tokens_write_midi()).
 *  @param s the sampler.
 *  @param lane lane index, 0 ≤ lane < mrnn_sampler_lane_count().
 *  @param path the MIDI file to write (atomically).
 *  @param tempo_bpm tempo of the file (≤ 0 = 120).
 *  @param program General MIDI program 0–127 for every note (multitrack ignores it: each instrument
 *  keeps its own program, drums go to channel 10).
 *  @return ::MRNN_OK, ::MRNN_ERR_INVALID_ARG, ::MRNN_ERR_IO naming the file, ::MRNN_ERR_NOMEM.
 *  Thread safety: only reads @p s; not while another thread generates with @p s. */
MRNN_API mrnn_status mrnn_sampler_write_midi(const mrnn_sampler *s, uint32_t lane, const char *path,
                                             double tempo_bpm, uint32_t program);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @defgroup musicstats Musical statistics
 *  Statistics of a set of MIDI files — generated pieces or a held-out reference — and distances
 *  between two sets, to judge generated music without listening to all of it. Every statistic is
 *  first computed per piece (one file = one piece; drum-channel notes are ignored, all other
 *  tracks and channels are read) and then summarised over the set. docs/QUALITY-STATISTICS.md
 *  defines each one precisely.
 *
 *  @code
 *  const char *ref[] = {"ref/a.mid", "ref/b.mid"}, *gen[] = {"gen/1.mid", "gen/2.mid"};
 *  mrnn_music_stats r, g;
 *  mrnn_music_stats_init(&r, MRNN_MUSIC_STATS_VERSION);
 *  mrnn_music_stats_init(&g, MRNN_MUSIC_STATS_VERSION);
 *  if (mrnn_music_stats_compute(ref, 2, &r) != MRNN_OK || mrnn_music_stats_compute(gen, 2, &g) != MRNN_OK) {
 *      fprintf(stderr, "%s\n", mrnn_last_error());   // names the file that could not be read
 *      return 1;
 *  }
 *  mrnn_music_distance d;
 *  mrnn_music_distance_init(&d, MRNN_MUSIC_DISTANCE_VERSION);
 *  mrnn_music_stats_compare(&r, &g, &d);
 *  printf("pitch classes JS %.3f, in-key overlap %.3f\n", d.pitch_class_js, d.overlap[MRNN_MUSIC_IN_KEY]);
 *  @endcode
 *  @{ */

/** Scalar statistics, computed per piece and summarised over a set (indices into the arrays of
 *  ::mrnn_music_stats and ::mrnn_music_distance). New ones are only ever appended. */
enum mrnn_music_feature {
    MRNN_MUSIC_PITCH_MEAN = 0,        /**< Mean MIDI pitch of the notes. */
    MRNN_MUSIC_PITCH_MIN = 1,         /**< Lowest MIDI pitch. */
    MRNN_MUSIC_PITCH_MAX = 2,         /**< Highest MIDI pitch. */
    MRNN_MUSIC_PITCH_SPAN = 3,        /**< Highest minus lowest pitch, in semitones. */
    MRNN_MUSIC_NOTES_PER_SECOND = 4,  /**< Notes per second between the first onset and the last note end. */
    MRNN_MUSIC_NOTES_PER_QUARTER = 5, /**< Notes per quarter note over the same stretch. */
    MRNN_MUSIC_POLYPHONY_MEAN = 6,    /**< Time-weighted mean number of sounding notes while any sounds. */
    MRNN_MUSIC_POLYPHONY_MAX = 7,     /**< Most notes sounding at once. */
    MRNN_MUSIC_REPETITION = 8,        /**< Share of the 4-note windows of the top line that occur more than once. */
    MRNN_MUSIC_BAR_SIMILARITY = 9,    /**< Mean cosine similarity of the pitch-class vectors of every pair of bars. */
    MRNN_MUSIC_IN_KEY = 10,           /**< Share of notes in the scale of the estimated (Krumhansl–Schmuckler) key. */
    MRNN_MUSIC_FEATURE_COUNT = 11     /**< Number of features this header describes. */
};

/** Capacity of the per-feature arrays (room for features added later without moving fields). */
#define MRNN_MUSIC_FEATURE_CAP 32u
/** Capacity of the inter-onset-interval histogram (room for a finer binning later). */
#define MRNN_MUSIC_IOI_CAP 16u
/** Version of ::mrnn_music_stats this header describes. */
#define MRNN_MUSIC_STATS_VERSION 1u
/** Version of ::mrnn_music_distance this header describes. */
#define MRNN_MUSIC_DISTANCE_VERSION 1u

/** Statistics of a set of pieces, filled by mrnn_music_stats_compute(). A plain struct with
 *  fixed-size arrays: it may be copied, stored and compared later. */
typedef struct mrnn_music_stats {
    uint32_t version;       /**< Must be ::MRNN_MUSIC_STATS_VERSION (set by mrnn_music_stats_init()). */
    uint32_t n_files;       /**< Files read. */
    uint32_t n_empty;       /**< Files without any non-drum note; they are counted here and left out of every statistic. */
    uint32_t n_features;    /**< Entries used in the per-feature arrays (::MRNN_MUSIC_FEATURE_COUNT). */
    uint32_t n_ioi_bins;    /**< Entries used in @p ioi (see mrnn_music_ioi_bin_name()). */
    uint32_t reserved;      /**< Zero; keeps the doubles aligned the same way on every ABI. */
    uint64_t n_notes;       /**< Non-drum notes read in total. */
    double pitch_class[12]; /**< Mean over pieces of each piece's pitch-class histogram (note counts,
                                 normalised to sum 1); index 0 is C. Sums to 1. */
    double ioi[MRNN_MUSIC_IOI_CAP]; /**< Mean over pieces (with at least two onsets) of each piece's
                                 normalised histogram of inter-onset intervals; sums to 1, or all 0
                                 when no piece has two onsets. */
    double mean[MRNN_MUSIC_FEATURE_CAP];  /**< Mean over pieces of each ::mrnn_music_feature. */
    double sd[MRNN_MUSIC_FEATURE_CAP];    /**< Sample standard deviation over pieces (0 for one piece). */
    double min[MRNN_MUSIC_FEATURE_CAP];   /**< Smallest per-piece value. */
    double max[MRNN_MUSIC_FEATURE_CAP];   /**< Largest per-piece value. */
    uint32_t count[MRNN_MUSIC_FEATURE_CAP]; /**< Pieces for which the feature is defined (e.g. the
                                 repetition needs at least five onsets); mean/sd/min/max are NaN when 0. */
} mrnn_music_stats;

/** How far apart two sets are, filled by mrnn_music_stats_compare(). Every distance is symmetric
 *  and is 0 (overlaps 1) when a set is compared with itself. */
typedef struct mrnn_music_distance {
    uint32_t version;        /**< Must be ::MRNN_MUSIC_DISTANCE_VERSION (set by mrnn_music_distance_init()). */
    uint32_t n_features;     /**< Entries used in the per-feature arrays. */
    double pitch_class_js;   /**< Jensen–Shannon divergence of the pitch-class histograms, in bits (0–1). */
    double pitch_class_tv;   /**< Total variation distance of the pitch-class histograms (0–1). */
    double ioi_js;           /**< Jensen–Shannon divergence of the IOI histograms, in bits; NaN if either is empty. */
    double ioi_tv;           /**< Total variation distance of the IOI histograms; NaN if either is empty. */
    double overlap[MRNN_MUSIC_FEATURE_CAP];  /**< Overlapping area (0–1, 1 = identical) of normal
                                  distributions fitted to the per-piece values of each feature, with
                                  the standard deviation floored at a per-feature resolution. NaN
                                  when the feature is undefined in either set. */
    double abs_diff[MRNN_MUSIC_FEATURE_CAP]; /**< |mean of A − mean of B| of each feature; NaN when undefined. */
} mrnn_music_distance;

/** Zero @p s and set its version. Call before mrnn_music_stats_compute().
 *  @param s the struct to initialise.
 *  @param version must be ::MRNN_MUSIC_STATS_VERSION.
 *  @return ::MRNN_OK, or ::MRNN_ERR_INVALID_ARG if @p s is NULL or the version is unknown.
 *  Thread safety: safe from any thread (touches only @p s). */
MRNN_API mrnn_status mrnn_music_stats_init(mrnn_music_stats *s, uint32_t version);

/** Zero @p d and set its version. Call before mrnn_music_stats_compare().
 *  @param d the struct to initialise.
 *  @param version must be ::MRNN_MUSIC_DISTANCE_VERSION.
 *  @return ::MRNN_OK, or ::MRNN_ERR_INVALID_ARG if @p d is NULL or the version is unknown.
 *  Thread safety: safe from any thread (touches only @p d). */
MRNN_API mrnn_status mrnn_music_distance_init(mrnn_music_distance *d, uint32_t version);

/** Read @p n MIDI files (through the same guarded reader as a corpus) and summarise them.
 *  Nothing is kept between calls; memory use does not grow with @p n.
 *  @param paths @p n paths of MIDI files (borrowed for the call).
 *  @param n number of files, at least 1.
 *  @param out initialised by mrnn_music_stats_init(); filled on success, left zeroed (version kept) on failure.
 *  @return ::MRNN_OK; ::MRNN_ERR_IO, ::MRNN_ERR_MIDI or ::MRNN_ERR_LIMIT naming the first file that
 *  could not be read (one bad file fails the call: a set with a silent gap would mislead);
 *  ::MRNN_ERR_EMPTY if @p n is 0 or no file has a non-drum note; ::MRNN_ERR_INVALID_ARG (NULL
 *  pointer, version mismatch); ::MRNN_ERR_NOMEM.
 *  Thread safety: safe from any thread (no shared state; @p out must not be shared). */
MRNN_API mrnn_status mrnn_music_stats_compute(const char *const *paths, size_t n, mrnn_music_stats *out);

/** Distances between two sets summarised by mrnn_music_stats_compute().
 *  @param a one set. @param b the other (the order does not matter).
 *  @param out initialised by mrnn_music_distance_init(); filled on success.
 *  @return ::MRNN_OK, or ::MRNN_ERR_INVALID_ARG for a NULL pointer or a version mismatch.
 *  Thread safety: safe from any thread (reads @p a and @p b, writes only @p out). */
MRNN_API mrnn_status mrnn_music_stats_compare(const mrnn_music_stats *a, const mrnn_music_stats *b,
                                              mrnn_music_distance *out);

/** Version of ::mrnn_music_instruments this header describes. */
#define MRNN_MUSIC_INSTRUMENTS_VERSION 1u

/** Per-instrument statistics of a set of pieces (drums included), filled by
 *  mrnn_music_instruments_compute(): which instruments play, how much and where, and the rhythm of
 *  the whole band. Slots are General MIDI programs 0–127 (the program on the note's channel) and
 *  ::MRNN_INSTRUMENT_DRUMS. The pitch statistics of ::mrnn_music_stats (scale consistency
 *  `in_key`, polyphony) complete it. A plain struct: it may be copied and kept. */
typedef struct mrnn_music_instruments {
    uint32_t version;          /**< Must be ::MRNN_MUSIC_INSTRUMENTS_VERSION (set by mrnn_music_instruments_init()). */
    uint32_t n_files;          /**< Files read. */
    uint32_t pieces[MRNN_INSTRUMENT_COUNT]; /**< Pieces in which the slot has at least one note. */
    uint32_t reserved;         /**< Zero; keeps the doubles aligned the same way on every ABI. */
    double notes[MRNN_INSTRUMENT_COUNT];      /**< Mean notes per piece, over the pieces it plays in (0 if none). */
    double pitch_low[MRNN_INSTRUMENT_COUNT];  /**< Mean lowest pitch, over the pieces it plays in. */
    double pitch_high[MRNN_INSTRUMENT_COUNT]; /**< Mean highest pitch, over the pieces it plays in. */
    double instruments_mean;   /**< Mean number of slots used per piece. */
    double drum_density;       /**< Mean drum notes per quarter note (from the first onset to the last note end). */
    double pitch_class_entropy;/**< Mean Shannon entropy of a piece's pitch-class histogram of pitched notes, bits (0–log2 12). */
    double empty_beat_rate;    /**< Mean share of the quarter-note beats (first onset to last note end) in
                                    which no note of any instrument starts. */
} mrnn_music_instruments;

/** Zero @p s and set its version. Call before mrnn_music_instruments_compute().
 *  @param s the struct to initialise. @param version must be ::MRNN_MUSIC_INSTRUMENTS_VERSION.
 *  @return ::MRNN_OK, or ::MRNN_ERR_INVALID_ARG if @p s is NULL or the version is unknown.
 *  Thread safety: safe from any thread (touches only @p s). */
MRNN_API mrnn_status mrnn_music_instruments_init(mrnn_music_instruments *s, uint32_t version);

/** Read @p n MIDI files (drums included) and summarise their instruments.
 *  @param paths @p n paths (borrowed for the call). @param n number of files, at least 1.
 *  @param out initialised by mrnn_music_instruments_init(); filled on success, zeroed (version kept) on failure.
 *  @return ::MRNN_OK; ::MRNN_ERR_IO, ::MRNN_ERR_MIDI or ::MRNN_ERR_LIMIT naming the first file that
 *  could not be read; ::MRNN_ERR_EMPTY if @p n is 0; ::MRNN_ERR_INVALID_ARG; ::MRNN_ERR_NOMEM.
 *  Thread safety: safe from any thread (no shared state; @p out must not be shared). */
MRNN_API mrnn_status mrnn_music_instruments_compute(const char *const *paths, size_t n, mrnn_music_instruments *out);

/** Name a feature of ::mrnn_music_feature.
 *  @param feature a ::mrnn_music_feature value.
 *  @return the short name of feature @p feature (one of ::mrnn_music_feature), e.g. "pitch_mean",
 *  as a static string; NULL if out of range.
 *  Thread safety: safe from any thread. */
MRNN_API const char *mrnn_music_feature_name(uint32_t feature);

/** Label a bin of the inter-onset-interval histogram.
 *  @param bin the bin index, below mrnn_music_stats::n_ioi_bins.
 *  @return a label for bin @p bin of the inter-onset-interval histogram in quarter notes, e.g.
 *  "1/2" (an eighth note), as a static string; NULL if out of range. Bins are centred on powers of
 *  two with edges at their geometric means: ≤1/8, 1/4, 1/2, 1, 2, 4, >4.
 *  Thread safety: safe from any thread. */
MRNN_API const char *mrnn_music_ioi_bin_name(uint32_t bin);
/** @} */


/** @defgroup files Library files and names
 *  What a path holds, and the pitch names the library reads and writes, so that programs need
 *  not repeat the library's file magics or its notation.
 *  @{ */

/** What mrnn_file_kind() found. */
enum mrnn_file_type {
    MRNN_FILE_OTHER = 0,  /**< Not a libmusicrnn file (MIDI, text, anything else, or too short). */
    MRNN_FILE_CORPUS = 1, /**< A corpus (mrnn_corpus_save(), `.mrc`). */
    MRNN_FILE_MODEL = 2,  /**< A model (mrnn_model_save(), `.mrm`). */
    MRNN_FILE_VOCAB = 3   /**< A vocabulary (mrnn_vocab_save(), `.mrv`). */
};

/** Which kind of libmusicrnn file @p path is, by its magic (the first 8 bytes; the rest is not
 *  checked: loading it may still fail). Since 0.2.
 *  @param path the file; borrowed for the call.
 *  @param kind receives one of ::mrnn_file_type.
 *  @return ::MRNN_OK (also for files of other kinds: then ::MRNN_FILE_OTHER); ::MRNN_ERR_IO naming
 *  the path when it cannot be opened or is not a regular file; ::MRNN_ERR_INVALID_ARG.
 *  Thread safety: safe from any thread. */
MRNN_API mrnn_status mrnn_file_kind(const char *path, uint32_t *kind);

/** Parse a pitch name in the library's notation (as in seed texts): a letter A–G (either case),
 *  an optional `#` or `b`, and an octave −1…9 where "C4" is MIDI 60 ("C-1" is 0, "G9" is 127).
 *  Since 0.2.
 *  @param name the name, NUL-terminated; borrowed for the call.
 *  @param pitch receives the MIDI pitch 0–127.
 *  @return ::MRNN_OK, or ::MRNN_ERR_INVALID_ARG naming the text when it is not a pitch name (or
 *  a NULL pointer).
 *  Thread safety: safe from any thread. */
MRNN_API mrnn_status mrnn_pitch_parse(const char *name, uint32_t *pitch);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MUSICRNN_H */
