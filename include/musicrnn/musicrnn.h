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

#include <stddef.h>
#include <stdint.h>

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

/** @return the runtime library version as `MAJOR*10000 + MINOR*100 + PATCH`.
 *  Thread-safe. Compare with ::MRNN_VERSION_NUMBER to detect a header/library mismatch. */
MRNN_API uint32_t mrnn_version_number(void);

/** @return the runtime library version as a static string such as "0.1.0". Never NULL. Thread-safe. */
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

/** @return a short static description of @p status ("invalid argument", ...). Never NULL;
 *  unknown values give "unknown status". Thread-safe. */
MRNN_API const char *mrnn_status_string(mrnn_status status);

/** @return the detail message of the last failed call made *by this thread*, e.g.
 *  `"song.mid: track 2 has no End Of Track event"`. Never NULL (empty string if none). The
 *  pointer stays valid until this thread's next call into the library. */
MRNN_API const char *mrnn_last_error(void);

/** Forget this thread's last error message. */
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
    MRNN_ENCODING_PIANOROLL = 3
};

/** In token streams of multi-hot encodings (pianoroll), this id ends each frame. Event encodings
 *  (notechord, performance) have exactly one id per step and never use it. */
#define MRNN_FRAME_END UINT32_C(0xFFFFFFFF)

/** Version of ::mrnn_encoding_params this header describes. */
#define MRNN_ENCODING_PARAMS_VERSION 1u

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
    int32_t normalize_key;       /**< 1 transposes each piece to C major / A minor (estimated key). Default 0. */
    uint32_t max_steps;          /**< Cut pieces longer than this many steps. 0 = no limit. Default 0. */
    uint32_t min_count;          /**< Notechord: tokens seen fewer times become `<unk>`. Default 1. */
    uint32_t max_duration_steps; /**< Notechord: durations and waits are clamped to this. Default 16 (4 quarters). */
} mrnn_encoding_params;

/** Fill @p p with defaults. @p version must be ::MRNN_ENCODING_PARAMS_VERSION.
 *  @return ::MRNN_OK, or ::MRNN_ERR_INVALID_ARG if @p p is NULL or the version is unknown. */
MRNN_API mrnn_status mrnn_encoding_params_init(mrnn_encoding_params *p, uint32_t version);

/** Version of ::mrnn_corpus_params this header describes. */
#define MRNN_CORPUS_PARAMS_VERSION 1u

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
} mrnn_corpus_params;

/** Fill @p p with defaults. @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG. */
MRNN_API mrnn_status mrnn_corpus_params_init(mrnn_corpus_params *p, uint32_t version);

/** Version of ::mrnn_model_params this header describes. */
#define MRNN_MODEL_PARAMS_VERSION 1u

/** Shape of a network. */
typedef struct mrnn_model_params {
    uint32_t version;       /**< Must be ::MRNN_MODEL_PARAMS_VERSION. */
    uint32_t embed_size;    /**< Width of token embeddings. Default 128. */
    uint32_t hidden_size;   /**< LSTM cells per layer. Default 256. */
    uint32_t num_layers;    /**< Stacked LSTM layers, 1–8. Default 2. */
    float dropout;          /**< Dropout between layers and before the output, 0 ≤ p < 1. Default 0. */
    uint64_t init_seed;     /**< Seed of the weight initialisation. Default 1. */
} mrnn_model_params;

/** Fill @p p with defaults. @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG. */
MRNN_API mrnn_status mrnn_model_params_init(mrnn_model_params *p, uint32_t version);

/** Learning-rate schedules. */
enum mrnn_lr_schedule {
    MRNN_LR_CONSTANT = 0,      /**< The learning rate stays constant. */
    MRNN_LR_WARMUP_COSINE = 1  /**< Linear warm-up, then cosine decay to `min_lr_fraction`. */
};

/** Version of ::mrnn_train_params this header describes. */
#define MRNN_TRAIN_PARAMS_VERSION 1u

/** How to train. */
typedef struct mrnn_train_params {
    uint32_t version;          /**< Must be ::MRNN_TRAIN_PARAMS_VERSION. */
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
    uint32_t threads;          /**< BLAS threads during the call (restored afterwards); 0 leaves
                                    OpenBLAS as it is. Default 0. */
    uint32_t valid_every;      /**< Evaluate the validation split every N steps; 0 = never. Default 100. */
    uint32_t patience;         /**< Early stopping: stop after this many validations without a new
                                    best. 0 = off. Default 0. */
    const char *checkpoint_path; /**< If set, a resumable checkpoint is written here atomically
                                      every `checkpoint_every` steps and at the end. Default NULL. */
    uint32_t checkpoint_every; /**< Steps between checkpoints. Default 500. */
    const char *best_path;     /**< If set, the model with the best validation loss is saved here. Default NULL. */
    const char *log_path;      /**< If set, a CSV log (step, train loss, valid loss, lr, tokens/s) is
                                    appended here. Default NULL. */
} mrnn_train_params;

/** Fill @p p with defaults. @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG. */
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
 *
 *  Tokens are separated by white space. MIDI 60 is `C4`; sharps are written `#`, flats `b` are accepted.
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
 *  mrnn_vocab_free(v);
 *  @endcode
 *  @{ */

/** Create a vocabulary for @p enc (NULL = defaults). Performance and pianoroll vocabularies are
 *  complete at once; a notechord vocabulary starts with `<unk>` only and grows as a corpus reads files.
 *  @param out receives the new vocabulary (caller frees with mrnn_vocab_free()); NULL on failure.
 *  @param enc encoding parameters (copied), or NULL for defaults.
 *  @return ::MRNN_OK, ::MRNN_ERR_INVALID_ARG (bad params), ::MRNN_ERR_NOMEM. */
MRNN_API mrnn_status mrnn_vocab_create(mrnn_vocab **out, const mrnn_encoding_params *enc);

/** Free @p v. NULL is a no-op. */
MRNN_API void mrnn_vocab_free(mrnn_vocab *v);

/** @return the number of tokens (0 if @p v is NULL). */
MRNN_API uint32_t mrnn_vocab_size(const mrnn_vocab *v);

/** Copy the encoding parameters of @p v into @p out (whose `version` must be set by init).
 *  @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG. */
MRNN_API mrnn_status mrnn_vocab_encoding_params(const mrnn_vocab *v, mrnn_encoding_params *out);

/** @return the text of token @p id (borrowed, valid while @p v lives), or NULL if @p id is out of range. */
MRNN_API const char *mrnn_vocab_token_text(const mrnn_vocab *v, uint32_t id);

/** Look up the id of token @p text.
 *  @return ::MRNN_OK, ::MRNN_ERR_UNKNOWN_TOKEN (message names the token), ::MRNN_ERR_INVALID_ARG. */
MRNN_API mrnn_status mrnn_vocab_token_id(const mrnn_vocab *v, const char *text, uint32_t *id);

/** Parse a seed text such as `"C4.E4.G4:q W:q G4:e"` into token ids.
 *  @param ids   output array of @p cap ids (may be NULL when @p cap is 0, to ask for the length).
 *  @param n_out receives the number of ids the full text needs (frame ends included for pianoroll).
 *  @param v the vocabulary whose notation @p text uses.
 *  @param text NUL-terminated seed text; tokens separated by white space.
 *  @param cap capacity of @p ids in ids.
 *  @return ::MRNN_OK; ::MRNN_ERR_UNKNOWN_TOKEN naming the first unknown token and its position;
 *          ::MRNN_ERR_LIMIT if @p cap is too small (nothing useful is written; @p n_out is set). */
MRNN_API mrnn_status mrnn_vocab_parse(const mrnn_vocab *v, const char *text, uint32_t *ids,
                                      size_t cap, size_t *n_out);

/** Write the text of @p n ids into @p buf (NUL-terminated, tokens separated by spaces).
 *  @param needed receives the buffer size needed, terminator included (may be NULL).
 *  @param v the vocabulary the ids belong to.
 *  @param ids token ids (flat form; pianoroll frames end with ::MRNN_FRAME_END).
 *  @param n number of @p ids.
 *  @param buf output buffer of @p cap bytes.
 *  @param cap size of @p buf in bytes.
 *  @return ::MRNN_OK; ::MRNN_ERR_LIMIT if @p cap is too small (buf holds a truncated prefix);
 *          ::MRNN_ERR_INVALID_ARG for an id out of range. */
MRNN_API mrnn_status mrnn_vocab_format(const mrnn_vocab *v, const uint32_t *ids, size_t n, char *buf,
                                       size_t cap, size_t *needed);

/** Save @p v to @p path (versioned binary, written atomically).
 *  @return ::MRNN_OK, ::MRNN_ERR_IO (message names the file). */
MRNN_API mrnn_status mrnn_vocab_save(const mrnn_vocab *v, const char *path);

/** Load a vocabulary saved by mrnn_vocab_save().
 *  @return ::MRNN_OK, ::MRNN_ERR_IO, ::MRNN_ERR_FORMAT (corrupt/truncated), ::MRNN_ERR_VERSION. */
MRNN_API mrnn_status mrnn_vocab_load(mrnn_vocab **out, const char *path);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @defgroup corpus Corpus
 *  Reads MIDI files into token sequences, keeps a report of every file, splits pieces into
 *  train/valid/test and saves the result.
 *
 *  @code
 *  mrnn_corpus *c = NULL;
 *  mrnn_encoding_params enc;
 *  mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
 *  enc.encoding = MRNN_ENCODING_PIANOROLL;
 *  enc.steps_per_quarter = 1;
 *  mrnn_corpus_create(&c, &enc, NULL);
 *  mrnn_corpus_add_dir(c, "chorales/");          // skipped files are in the report, not fatal
 *  for (uint32_t i = 0; i < mrnn_corpus_file_count(c); i++) {
 *      mrnn_file_report r;
 *      mrnn_corpus_file_report(c, i, &r);
 *      if (r.status != MRNN_OK) fprintf(stderr, "skipped %s: %s\n", r.path, r.reason);
 *  }
 *  mrnn_corpus_finish(c);                        // fixes the vocabulary
 *  mrnn_corpus_save(c, "chorales.mrc");
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

/** Create an empty corpus with a new vocabulary for @p enc.
 *  @param enc encoding (NULL = defaults). @param params splitting and augmentation (NULL = defaults).
 *  @param out receives the new corpus (caller frees with mrnn_corpus_free()); NULL on failure.
 *  @return ::MRNN_OK, ::MRNN_ERR_INVALID_ARG, ::MRNN_ERR_NOMEM. */
MRNN_API mrnn_status mrnn_corpus_create(mrnn_corpus **out, const mrnn_encoding_params *enc,
                                        const mrnn_corpus_params *params);

/** Create an empty corpus that encodes with a copy of an existing, fixed vocabulary (e.g. a
 *  model's, to evaluate it on new files). Tokens the vocabulary lacks become `<unk>`.
 *  @return ::MRNN_OK, ::MRNN_ERR_INVALID_ARG, ::MRNN_ERR_NOMEM. */
MRNN_API mrnn_status mrnn_corpus_create_with_vocab(mrnn_corpus **out, const mrnn_vocab *vocab,
                                                   const mrnn_corpus_params *params);

/** Free @p c. NULL is a no-op. */
MRNN_API void mrnn_corpus_free(mrnn_corpus *c);

/** Read one MIDI file. The outcome is also recorded in the file report.
 *  @param style style label for its pieces, or NULL for none.
 *  @param c an unfinished corpus.
 *  @param path the MIDI file to read.
 *  @return ::MRNN_OK; ::MRNN_ERR_IO / ::MRNN_ERR_MIDI / ::MRNN_ERR_LIMIT naming the file and reason
 *          (the corpus is unchanged); ::MRNN_ERR_STATE after mrnn_corpus_finish(). */
MRNN_API mrnn_status mrnn_corpus_add_file(mrnn_corpus *c, const char *path, const char *style);

/** Read every `.mid`/`.midi` file below @p dir, recursively, in sorted order. Files that fail are
 *  skipped and recorded in the report; they do not make this call fail.
 *  @return ::MRNN_OK; ::MRNN_ERR_IO if @p dir cannot be listed; ::MRNN_ERR_STATE after finish. */
MRNN_API mrnn_status mrnn_corpus_add_dir(mrnn_corpus *c, const char *dir);

/** Fix the vocabulary (apply `min_count`, order tokens by frequency) and renumber tokens. After
 *  this the corpus is read-only. Calling it twice is harmless.
 *  @return ::MRNN_OK, ::MRNN_ERR_NOMEM. */
MRNN_API mrnn_status mrnn_corpus_finish(mrnn_corpus *c);

/** @return the corpus vocabulary (borrowed). Ids are final only after mrnn_corpus_finish(). */
MRNN_API const mrnn_vocab *mrnn_corpus_vocab(const mrnn_corpus *c);

/** Fill @p out with totals. @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG. */
MRNN_API mrnn_status mrnn_corpus_stats_get(const mrnn_corpus *c, mrnn_corpus_stats *out);

/** @return the number of files offered to the corpus (read or skipped). */
MRNN_API uint32_t mrnn_corpus_file_count(const mrnn_corpus *c);

/** Fill @p out with the report of file @p i (0 ≤ i < mrnn_corpus_file_count()).
 *  @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG. */
MRNN_API mrnn_status mrnn_corpus_file_report(const mrnn_corpus *c, uint32_t i, mrnn_file_report *out);

/** @return the number of pieces (all splits, transposed copies included). */
MRNN_API uint32_t mrnn_corpus_piece_count(const mrnn_corpus *c);

/** Borrow the tokens of piece @p i. For pianoroll each frame ends with ::MRNN_FRAME_END.
 *  @param ids receives a pointer into the corpus. @param n receives the number of ids.
 *  @param split receives the ::mrnn_split (may be NULL). @param transpose receives the
 *  augmentation shift in semitones (may be NULL).
 *  @param c the corpus.
 *  @param i piece index, 0 ≤ i < mrnn_corpus_piece_count().
 *  @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG. */
MRNN_API mrnn_status mrnn_corpus_piece_tokens(const mrnn_corpus *c, uint32_t i, const uint32_t **ids,
                                              size_t *n, uint32_t *split, int32_t *transpose);

/** @return the number of distinct style labels. */
MRNN_API uint32_t mrnn_corpus_style_count(const mrnn_corpus *c);

/** @return style label @p i (borrowed), or NULL if out of range. */
MRNN_API const char *mrnn_corpus_style_name(const mrnn_corpus *c, uint32_t i);

/** Save to @p path (finishes the corpus first). Written atomically: a crash leaves either the old
 *  file or the new one. @return ::MRNN_OK, ::MRNN_ERR_IO, ::MRNN_ERR_NOMEM. */
MRNN_API mrnn_status mrnn_corpus_save(mrnn_corpus *c, const char *path);

/** Load a corpus saved by mrnn_corpus_save(). The result is finished.
 *  @return ::MRNN_OK, ::MRNN_ERR_IO, ::MRNN_ERR_FORMAT, ::MRNN_ERR_VERSION, ::MRNN_ERR_NOMEM. */
MRNN_API mrnn_status mrnn_corpus_load(mrnn_corpus **out, const char *path);

/** Decode tokens with @p vocab's encoding and write them as a standard MIDI file.
 *  @param ids tokens as returned by mrnn_corpus_piece_tokens() or a sampler.
 *  @param tempo_bpm tempo of the file (≤ 0 = 120). @param program General MIDI program 0–127.
 *  @param vocab vocabulary (and encoding) the ids belong to.
 *  @param n number of @p ids.
 *  @param path the MIDI file to write (atomically).
 *  @return ::MRNN_OK, ::MRNN_ERR_INVALID_ARG, ::MRNN_ERR_IO (names the file). */
MRNN_API mrnn_status mrnn_tokens_write_midi(const mrnn_vocab *vocab, const uint32_t *ids, size_t n,
                                            const char *path, double tempo_bpm, uint32_t program);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @defgroup model Model
 *  An embedding, a stack of LSTM layers and an output layer (softmax over the vocabulary, or 88
 *  sigmoids for pianoroll), trained with Adam by truncated back-propagation through time.
 *
 *  @code
 *  mrnn_model *m = NULL;
 *  mrnn_model_params mp;
 *  mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
 *  mp.hidden_size = 512;
 *  mrnn_model_create(&m, mrnn_corpus_vocab(corpus), NULL, 0, &mp);
 *  mrnn_train_params tp;
 *  mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION);
 *  tp.checkpoint_path = "model.mrm";
 *  if (mrnn_model_train(m, corpus, &tp, NULL, NULL) != MRNN_OK)
 *      fprintf(stderr, "%s\n", mrnn_last_error());
 *  mrnn_eval_result r;
 *  mrnn_model_evaluate(m, corpus, MRNN_SPLIT_VALID, &r);
 *  printf("valid NLL %.3f\n", r.nll);
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
                              this is per frame, summed over the 88 keys. */
    double perplexity;   /**< exp(nll) for event encodings; exp(nll / 88) per key for pianoroll. */
    double accuracy;     /**< Event encodings: share of steps whose most likely token was right.
                              Pianoroll: share of frames predicted exactly (threshold 0.5). */
    uint64_t n_scored;   /**< Steps scored (the first step of each piece is never scored). */
    uint32_t n_pieces;   /**< Pieces evaluated. */
} mrnn_eval_result;

/** Create an untrained model for @p vocab (copied into the model).
 *  @param style_names labels the model can be conditioned on (copied), or NULL.
 *  @param n_styles number of @p style_names.
 *  @param params shape (NULL = defaults).
 *  @param out receives the new model (caller frees with mrnn_model_free()); NULL on failure.
 *  @param vocab the vocabulary the model predicts, e.g. mrnn_corpus_vocab() of a finished corpus.
 *  @return ::MRNN_OK, ::MRNN_ERR_INVALID_ARG (names the bad field), ::MRNN_ERR_LIMIT, ::MRNN_ERR_NOMEM. */
MRNN_API mrnn_status mrnn_model_create(mrnn_model **out, const mrnn_vocab *vocab,
                                       const char *const *style_names, uint32_t n_styles,
                                       const mrnn_model_params *params);

/** Free @p m. NULL is a no-op. No sampler may still borrow it. */
MRNN_API void mrnn_model_free(mrnn_model *m);

/** @return the model's vocabulary (borrowed). */
MRNN_API const mrnn_vocab *mrnn_model_vocab(const mrnn_model *m);

/** Copy the shape of @p m into @p out (version set by init). @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG. */
MRNN_API mrnn_status mrnn_model_get_params(const mrnn_model *m, mrnn_model_params *out);

/** @return the number of trainable parameters (0 if @p m is NULL). */
MRNN_API uint64_t mrnn_model_param_count(const mrnn_model *m);

/** @return optimiser steps trained so far (0 if @p m is NULL). */
MRNN_API uint64_t mrnn_model_steps_trained(const mrnn_model *m);

/** @return the number of style labels. */
MRNN_API uint32_t mrnn_model_style_count(const mrnn_model *m);

/** @return style label @p i (borrowed) or NULL if out of range. */
MRNN_API const char *mrnn_model_style_name(const mrnn_model *m, uint32_t i);

/** Train @p m on the training split of @p corpus (which must use the same vocabulary, e.g. the one
 *  the model was created from). Continues from the model's optimiser state when it has one
 *  (a checkpoint loaded with mrnn_model_load()), so a resumed run reproduces the losses of an
 *  uninterrupted one at 1 thread.
 *  @param cb progress callback (may be NULL). @param user_data passed to @p cb.
 *  @param m the model to train (modified).
 *  @param corpus a finished corpus with the model's vocabulary.
 *  @param params training parameters, or NULL for defaults.
 *  @return ::MRNN_OK; ::MRNN_ERR_CANCELLED; ::MRNN_ERR_NUMERIC (diverged); ::MRNN_ERR_EMPTY (no
 *  training piece); ::MRNN_ERR_INVALID_ARG (vocabulary mismatch, bad params); ::MRNN_ERR_IO
 *  (checkpoint or log could not be written); ::MRNN_ERR_NOMEM. Not thread-safe with samplers. */
MRNN_API mrnn_status mrnn_model_train(mrnn_model *m, const mrnn_corpus *corpus,
                                      const mrnn_train_params *params, mrnn_train_callback cb,
                                      void *user_data);

/** Score split @p split of @p corpus, running each piece from its start.
 *  @return ::MRNN_OK, ::MRNN_ERR_EMPTY (no piece in that split), ::MRNN_ERR_INVALID_ARG, ::MRNN_ERR_NOMEM.
 *  Thread-safe with other readers of @p m. */
MRNN_API mrnn_status mrnn_model_evaluate(const mrnn_model *m, const mrnn_corpus *corpus, uint32_t split,
                                         mrnn_eval_result *out);

/** Flags for mrnn_model_save(). */
enum mrnn_save_flags {
    MRNN_SAVE_WEIGHTS_ONLY = 0,    /**< Weights, configuration and vocabulary. */
    MRNN_SAVE_TRAINING_STATE = 1   /**< Also optimiser moments, step and RNG state, to resume exactly. */
};

/** Save @p m to @p path: one self-describing checkpoint (configuration, encoding, vocabulary,
 *  weights, optionally training state, checksum), written atomically.
 *  @param flags a combination of ::mrnn_save_flags.
 *  @param m the model.
 *  @param path the checkpoint file to write.
 *  @return ::MRNN_OK, ::MRNN_ERR_IO (names the file). */
MRNN_API mrnn_status mrnn_model_save(const mrnn_model *m, const char *path, uint32_t flags);

/** Load a checkpoint written by mrnn_model_save().
 *  @return ::MRNN_OK, ::MRNN_ERR_IO, ::MRNN_ERR_FORMAT (corrupt, truncated, bad checksum),
 *  ::MRNN_ERR_VERSION (newer format), ::MRNN_ERR_LIMIT, ::MRNN_ERR_NOMEM. */
MRNN_API mrnn_status mrnn_model_load(mrnn_model **out, const char *path);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @defgroup sampler Sampler
 *  Generation: a sampler borrows a trained model (read-only) and owns everything that changes
 *  while composing — recurrent state, random generator, scratch memory and the output tokens —
 *  so several samplers may run on one model in parallel threads.
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
 *  mrnn_sampler_generate(s, 512, 0.0, NULL, NULL);
 *  mrnn_sampler_write_midi(s, 0, "out.mid", 100.0, 0);
 *  mrnn_sampler_free(s);
 *  @endcode
 *  @{ */

/** Version of ::mrnn_sampler_params this header describes. */
#define MRNN_SAMPLER_PARAMS_VERSION 1u

/** Scales used by the key constraint. */
enum mrnn_scale {
    MRNN_SCALE_MAJOR = 0,  /**< Ionian: 0 2 4 5 7 9 11 above the tonic. */
    MRNN_SCALE_MINOR = 1   /**< Natural minor plus the raised 7th (harmonic): 0 2 3 5 7 8 10 11. */
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
    uint32_t max_polyphony;    /**< Most notes sounding at once; 0 = no limit. Default 0. */
    int32_t allow_drums;       /**< 0 forbids drum tokens (notechord models trained with drums). Default 1. */
    int32_t include_primer;    /**< 1: the output starts with the primer's tokens. Default 1. */
} mrnn_sampler_params;

/** Fill @p p with defaults. @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG. */
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

/** Create a sampler over @p model, which it borrows: the model must outlive the sampler and not be
 *  trained or freed meanwhile. The sampler keeps its own copy of the LSTM and output weights, laid
 *  out for its per-step products (as many bytes again as those weights).
 *  @return ::MRNN_OK; ::MRNN_ERR_INVALID_ARG naming a bad field (e.g. a style out of range, a
 *  constraint that excludes every token); ::MRNN_ERR_UNSUPPORTED (beam search on pianoroll);
 *  ::MRNN_ERR_NOMEM. Thread-safe with other samplers on the same model. */
MRNN_API mrnn_status mrnn_sampler_create(mrnn_sampler **out, const mrnn_model *model,
                                         const mrnn_sampler_params *params);

/** Free @p s. NULL is a no-op. */
MRNN_API void mrnn_sampler_free(mrnn_sampler *s);

/** Forget the primer, the output and the recurrent state; re-seed the random generator with
 *  @p rng_seed. @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG. */
MRNN_API mrnn_status mrnn_sampler_reset(mrnn_sampler *s, uint64_t rng_seed);

/** Feed token ids (flat form: pianoroll frames end with ::MRNN_FRAME_END) through the network.
 *  May be called several times before generating.
 *  @return ::MRNN_OK; ::MRNN_ERR_INVALID_ARG (id out of range); ::MRNN_ERR_STATE after generation started. */
MRNN_API mrnn_status mrnn_sampler_prime_tokens(mrnn_sampler *s, const uint32_t *ids, size_t n);

/** Feed a seed text in the vocabulary's notation (see @ref vocab), e.g. `"C4.E4.G4:q W:q G4:e"`.
 *  @return ::MRNN_OK; ::MRNN_ERR_UNKNOWN_TOKEN naming the word and its position; ::MRNN_ERR_STATE. */
MRNN_API mrnn_status mrnn_sampler_prime_text(mrnn_sampler *s, const char *text);

/** Feed a MIDI file, encoded with the model's encoding. Tokens the vocabulary lacks become `<unk>`.
 *  @param track_mask bit t keeps track t (0 = all). @param channel_mask bit c keeps channel c (0 = all).
 *  @param s a sampler that has not started generating.
 *  @param path the MIDI file to continue.
 *  @return ::MRNN_OK; ::MRNN_ERR_IO / ::MRNN_ERR_MIDI / ::MRNN_ERR_LIMIT naming the file; ::MRNN_ERR_STATE. */
MRNN_API mrnn_status mrnn_sampler_prime_midi(mrnn_sampler *s, const char *path, uint64_t track_mask,
                                             uint32_t channel_mask);

/** Generate up to @p max_steps further steps (tokens, or frames for pianoroll) in every lane, stopping a
 *  lane early once its music reaches @p max_seconds (at 120 bpm; 0 = no time limit). Can be called
 *  again to continue.
 *  @param s the sampler.
 *  @param max_steps most steps to add per lane.
 *  @param max_seconds stop a lane once its generated part lasts this long (seconds at 120 bpm); 0 = no limit.
 *  @param cb streaming callback, or NULL. @param user_data passed to @p cb.
 *  @return ::MRNN_OK, ::MRNN_ERR_CANCELLED, ::MRNN_ERR_INVALID_ARG, ::MRNN_ERR_NOMEM. */
MRNN_API mrnn_status mrnn_sampler_generate(mrnn_sampler *s, uint32_t max_steps, double max_seconds,
                                           mrnn_sample_callback cb, void *user_data);

/** @return the number of lanes (1 with beam search). */
MRNN_API uint32_t mrnn_sampler_lane_count(const mrnn_sampler *s);

/** Borrow the output of @p lane (flat form; primer included if `include_primer`). Valid until the next
 *  call on @p s. @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG. */
MRNN_API mrnn_status mrnn_sampler_tokens(const mrnn_sampler *s, uint32_t lane, const uint32_t **ids, size_t *n);

/** Copy the distribution the last generated step of @p lane was drawn from, after temperature,
 *  constraints, top-k and top-p (event encodings: one probability per token; pianoroll: 88 key
 *  probabilities). @param cap size of @p probs; must be at least mrnn_vocab_size() of the model.
 *  @param s the sampler.
 *  @param lane lane index, 0 ≤ lane < mrnn_sampler_lane_count().
 *  @param probs receives the probabilities.
 *  @return ::MRNN_OK; ::MRNN_ERR_STATE if nothing was generated yet; ::MRNN_ERR_INVALID_ARG. */
MRNN_API mrnn_status mrnn_sampler_distribution(const mrnn_sampler *s, uint32_t lane, float *probs, size_t cap);

/** Log-likelihood (nats) of the generated steps of @p lane under the model at temperature 1 without
 *  constraints: how probable the model finds what was generated.
 *  @return ::MRNN_OK or ::MRNN_ERR_INVALID_ARG. */
MRNN_API mrnn_status mrnn_sampler_log_likelihood(const mrnn_sampler *s, uint32_t lane, double *out);

/** Write the output of @p lane as a standard MIDI file (see mrnn_tokens_write_midi()).
 *  @return ::MRNN_OK, ::MRNN_ERR_INVALID_ARG, ::MRNN_ERR_IO naming the file. */
MRNN_API mrnn_status mrnn_sampler_write_midi(const mrnn_sampler *s, uint32_t lane, const char *path,
                                             double tempo_bpm, uint32_t program);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* MUSICRNN_H */
