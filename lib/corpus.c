/* mrnn_corpus: reads MIDI files through the codec and an encoder into one flat token array,
 * keeps a report of every file offered, and assigns files to train/valid/test. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "corpus.h"
#include "corpus_reader.h"
#include "dir_walk.h"
#include "encoding.h"
#include "instruments.h"
#include "steps.h"
#include "error.h"
#include "midi.h"
#include "vocab.h"

/* Bytes of mrnn_corpus_params in each released version (fields are only appended; a program built
 * against an older header passes the smaller struct). 0: unknown version. */
static size_t params_size(uint32_t version)
{
    switch (version) {
    case 1: return offsetof(mrnn_corpus_params, max_file_bytes) + sizeof(uint64_t);
    case 2: return offsetof(mrnn_corpus_params, progress_user_data) + sizeof(void *);
    case 3: return sizeof(mrnn_corpus_params);
    default: return 0;
    }
}

static void params_defaults(mrnn_corpus_params *p)
{
    memset(p, 0, sizeof *p);
    p->version = MRNN_CORPUS_PARAMS_VERSION;
    p->valid_fraction = 0.1;
    p->test_fraction = 0.0;
    p->split_seed = 1;
    p->use_folder_split = 1;
    p->transpose_range = 0;
    p->style_from_folder = 1;
    p->max_file_bytes = 16u << 20;
    p->threads = 1;
}

MRNN_API mrnn_status mrnn_corpus_params_init(mrnn_corpus_params *p, uint32_t version)
{
    MRNN_CHECK_ARG(p, "p");
    size_t size = params_size(version);
    if (!size) return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_corpus_params_init: unknown params version %u", version);
    mrnn_corpus_params full;
    params_defaults(&full);
    full.version = version;
    memcpy(p, &full, size);
    return MRNN_OK;
}

static mrnn_status check_params(const mrnn_corpus_params *p)
{
    if (p->threads > 256)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "corpus params: threads %u is more than 256", p->threads);
    if (!(p->valid_fraction >= 0 && p->valid_fraction <= 1))
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "corpus params: valid_fraction %g is not in [0, 1]", p->valid_fraction);
    if (!(p->test_fraction >= 0 && p->test_fraction <= 1) || p->valid_fraction + p->test_fraction > 1)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "corpus params: test_fraction %g is not in [0, 1 - valid_fraction]",
                          p->test_fraction);
    if (p->transpose_range > 12)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "corpus params: transpose_range %u is larger than 12",
                          p->transpose_range);
    if (p->max_file_bytes == 0 || p->max_file_bytes > MRNN__MIDI_MAX_BYTES)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "corpus params: max_file_bytes must be in 1..%u", MRNN__MIDI_MAX_BYTES);
    return MRNN_OK;
}

mrnn_status mrnn__corpus_new(mrnn_corpus **out, mrnn_vocab *v, const mrnn_corpus_params *params)
{
    /* Read only as many bytes as the caller's version has; later fields keep their defaults. */
    mrnn_corpus_params full;
    params_defaults(&full);
    if (params) {
        size_t size = params_size(params->version);
        if (!size) {
            mrnn_vocab_free(v);
            return mrnn__fail(MRNN_ERR_INVALID_ARG, "corpus params: version %u is not 1..%u (call mrnn_corpus_params_init)",
                              params->version, MRNN_CORPUS_PARAMS_VERSION);
        }
        memcpy(&full, params, size);
        full.version = MRNN_CORPUS_PARAMS_VERSION;
    }
    params = &full;
    mrnn_status st = check_params(params);
    if (st != MRNN_OK) {
        mrnn_vocab_free(v);
        return st;
    }
    mrnn_corpus *c = mrnn__calloc(1, sizeof *c);
    if (!c) {
        mrnn_vocab_free(v);
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory creating a corpus");
    }
    c->params = *params;
    c->vocab = v;
    c->multi_hot = v->enc.encoding == MRNN_ENCODING_PIANOROLL;
    c->params.spill_dir = NULL; /* the caller's string; the spill keeps a copy */
    if (params->spill_dir) {
        st = mrnn__spill_open(c, params->spill_dir);
        if (st != MRNN_OK) {
            mrnn_corpus_free(c);
            return st;
        }
    }
    *out = c;
    return MRNN_OK;
}

MRNN_API mrnn_status mrnn_corpus_create(mrnn_corpus **out, const mrnn_encoding_params *enc,
                                        const mrnn_corpus_params *params)
{
    MRNN_CHECK_ARG(out, "out");
    *out = NULL;
    mrnn_vocab *v = NULL;
    mrnn_status st = mrnn_vocab_create(&v, enc);
    if (st != MRNN_OK) return st;
    return mrnn__corpus_new(out, v, params);
}

MRNN_API mrnn_status mrnn_corpus_create_with_vocab(mrnn_corpus **out, const mrnn_vocab *vocab,
                                                   const mrnn_corpus_params *params)
{
    MRNN_CHECK_ARG(out, "out");
    *out = NULL;
    MRNN_CHECK_ARG(vocab, "vocab");
    mrnn_vocab *v = NULL;
    mrnn_status st = mrnn__vocab_clone(vocab, &v);
    if (st != MRNN_OK) return st;
    v->frozen = 1;
    return mrnn__corpus_new(out, v, params);
}

MRNN_API void mrnn_corpus_free(mrnn_corpus *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n_files; i++) {
        mrnn__free(c->files[i].path);
        mrnn__free(c->files[i].reason);
        mrnn__free(c->files[i].instruments);
    }
    for (size_t i = 0; i < c->n_styles; i++) mrnn__free(c->styles[i]);
    mrnn__free(c->styles);
    mrnn__free(c->files);
    mrnn__free(c->pieces);
    if (c->map)
        mrnn__corpus_unmap(c);
    else
        mrnn__free(c->ids);
    mrnn__free(c->step_pos);
    mrnn__spill_free(c->spill);
    mrnn_vocab_free(c->vocab);
    mrnn__free(c);
}

/* ---- split and style assignment ---- */

static int split_of_name(const char *s, size_t n, uint32_t *split)
{
    if ((n == 5 && strncasecmp(s, "train", 5) == 0) || (n == 8 && strncasecmp(s, "training", 8) == 0)) {
        *split = MRNN_SPLIT_TRAIN;
        return 1;
    }
    if ((n == 5 && strncasecmp(s, "valid", 5) == 0) || (n == 10 && strncasecmp(s, "validation", 10) == 0) ||
        (n == 3 && strncasecmp(s, "dev", 3) == 0)) {
        *split = MRNN_SPLIT_VALID;
        return 1;
    }
    if (n == 4 && strncasecmp(s, "test", 4) == 0) {
        *split = MRNN_SPLIT_TEST;
        return 1;
    }
    return 0;
}

/* FNV-1a of the key mixed with the seed: the same file lands in the same split on every machine. */
static double hash_unit(const char *key, uint64_t seed)
{
    uint64_t h = UINT64_C(1469598103934665603) ^ (seed * UINT64_C(0x9E3779B97F4A7C15));
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= UINT64_C(1099511628211);
    }
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return (double)(h >> 11) * 0x1.0p-53;
}

/* rel: the path relative to the folder given by the user (or the path itself for add_file). */
static uint32_t choose_split(const mrnn_corpus *c, const char *rel)
{
    if (c->params.use_folder_split) {
        const char *s = rel;
        while (*s) {
            const char *slash = strchr(s, '/');
            if (!slash) break; /* the last component is the file name */
            uint32_t split;
            if (split_of_name(s, (size_t)(slash - s), &split)) return split;
            s = slash + 1;
        }
    }
    const char *base = strrchr(rel, '/');
    double u = hash_unit(base ? base + 1 : rel, c->params.split_seed);
    if (u < c->params.test_fraction) return MRNN_SPLIT_TEST;
    if (u < c->params.test_fraction + c->params.valid_fraction) return MRNN_SPLIT_VALID;
    return MRNN_SPLIT_TRAIN;
}

static mrnn_status intern_style(mrnn_corpus *c, const char *name, size_t len, int32_t *out)
{
    for (size_t i = 0; i < c->n_styles; i++) {
        if (strlen(c->styles[i]) == len && strncmp(c->styles[i], name, len) == 0) {
            *out = (int32_t)i;
            return MRNN_OK;
        }
    }
    if (c->n_styles >= 4096) return mrnn__fail(MRNN_ERR_LIMIT, "more than 4096 style labels");
    if (mrnn__grow((void **)&c->styles, &c->cap_styles, c->n_styles + 1, sizeof *c->styles) != 0)
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory adding a style label");
    char *s = mrnn__malloc(len + 1);
    if (!s) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory adding a style label");
    memcpy(s, name, len);
    s[len] = 0;
    c->styles[c->n_styles] = s;
    *out = (int32_t)c->n_styles++;
    return MRNN_OK;
}

/* The style of a file found below a folder: its first sub-folder that is not a split name. */
static mrnn_status style_from_rel(mrnn_corpus *c, const char *rel, int32_t *out)
{
    *out = -1;
    const char *s = rel;
    while (*s) {
        const char *slash = strchr(s, '/');
        if (!slash) break;
        uint32_t split;
        size_t n = (size_t)(slash - s);
        if (n > 0 && !split_of_name(s, n, &split)) return intern_style(c, s, n, out);
        s = slash + 1;
    }
    return MRNN_OK;
}

/* ---- adding pieces ---- */

mrnn_status mrnn__corpus_append_piece(mrnn_corpus *c, const mrnn__corpus_piece *meta, const uint32_t *ids,
                                      size_t n_ids)
{
    if (c->n_ids + n_ids >= UINT32_MAX) return mrnn__fail(MRNN_ERR_LIMIT, "corpus holds more than 2^32 tokens");
    size_t at = (size_t)(c->n_ids - c->spilled); /* where ids[] holds global id n_ids */
    if (mrnn__grow((void **)&c->ids, &c->cap_ids, at + n_ids, sizeof *c->ids) != 0 ||
        mrnn__grow((void **)&c->pieces, &c->cap_pieces, c->n_pieces + 1, sizeof *c->pieces) != 0)
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory adding a piece");
    mrnn__corpus_piece p = *meta;
    p.first_id = c->n_ids;
    p.n_ids = n_ids;
    memcpy(c->ids + at, ids, n_ids * sizeof *ids);
    c->n_ids += n_ids;
    c->pieces[c->n_pieces++] = p;
    return MRNN_OK;
}

/* Flatten encoded steps (frame ends for multi-hot) into a scratch array. */
static mrnn_status flatten(const mrnn__steps *s, int multi_hot, uint32_t **buf, size_t *cap, size_t *n)
{
    size_t need = s->n_ids + (multi_hot ? s->n_steps : 0);
    if (mrnn__grow((void **)buf, cap, need ? need : 1, sizeof **buf) != 0)
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory flattening tokens");
    size_t k = 0;
    for (size_t t = 0; t < s->n_steps; t++) {
        for (uint32_t i = s->start[t]; i < s->start[t + 1]; i++) (*buf)[k++] = s->ids[i];
        if (multi_hot) (*buf)[k++] = MRNN_FRAME_END;
    }
    *n = k;
    return MRNN_OK;
}

/* Encode `piece` (and, for training files, its transposed copies) and append them. On failure the
 * corpus is rolled back to its previous size. */
static mrnn_status add_piece_variants(mrnn_corpus *c, const mrnn__piece *piece, const mrnn__steps *pre,
                                      mrnn__corpus_file *rep, uint32_t file_index, int32_t style)
{
    size_t saved_pieces = c->n_pieces, saved_ids = c->n_ids;
    uint64_t saved_unknown = c->n_unknown;
    int range = rep->split == MRNN_SPLIT_TRAIN ? (int)c->params.transpose_range : 0;
    int piano_only = c->multi_hot;
    mrnn__piece copy;
    mrnn__piece_init(&copy);
    mrnn__steps steps;
    mrnn__steps_init(&steps);
    uint32_t *flat = NULL;
    size_t flat_cap = 0, flat_n = 0;
    mrnn_status st = MRNN_OK;

    /* One check for every encoding, before any of them runs: pianoroll would otherwise turn a piece
     * without notes into silent frames and accept it where the event encodings give no steps. */
    if (piece->n_notes == 0)
        return mrnn__fail(MRNN_ERR_EMPTY, "no notes to learn from%s",
                          c->vocab->enc.keep_drums ? "" : " (drums are skipped; see keep_drums)");

    /* Shifts in the order 0, -1, +1, -2, +2, ...: the original piece always comes first. */
    for (int j = 0; j <= 2 * range && st == MRNN_OK; j++) {
        int k = (j % 2) ? -(j + 1) / 2 : j / 2;
        const mrnn__piece *src = piece;
        if (k != 0) {
            mrnn__piece_clear(&copy);
            for (size_t i = 0; i < piece->n_notes && st == MRNN_OK; i++) st = mrnn__piece_add_note(&copy, &piece->notes[i]);
            for (size_t i = 0; i < piece->n_tempo && st == MRNN_OK; i++)
                st = mrnn__piece_add_tempo(&copy, piece->tempo[i].q, piece->tempo[i].us_per_q);
            if (st != MRNN_OK) break;
            copy.end_q = piece->end_q;
            copy.end_s = piece->end_s;
            copy.ts_num = piece->ts_num;
            copy.ts_den = piece->ts_den;
            mrnn__piece_transpose(&copy, k, piano_only);
            src = &copy;
        }
        uint64_t unknown = 0;
        const mrnn__steps *enc = &steps;
        if (k == 0 && pre)
            enc = pre; /* encoded by a reading thread (a fixed vocabulary: no unknown tokens) */
        else
            st = mrnn__encode(src, c->vocab, &steps, &unknown);
        if (st != MRNN_OK) break;
        if (enc->n_steps < 2) {
            if (k == 0) {
                /* A model learns transitions: a piece needs two steps to give it one. */
                st = mrnn__fail(MRNN_ERR_EMPTY, "too short to learn from: %zu step%s, at least 2 are needed",
                                enc->n_steps, enc->n_steps == 1 ? "" : "s");
                break;
            }
            continue;
        }
        c->n_unknown += unknown;
        st = flatten(enc, c->multi_hot, &flat, &flat_cap, &flat_n);
        if (st != MRNN_OK) break;
        mrnn__corpus_piece meta = {0};
        meta.n_steps = (uint32_t)enc->n_steps;
        meta.split = rep->split;
        meta.transpose = k;
        meta.style = style;
        meta.file = file_index;
        st = mrnn__corpus_append_piece(c, &meta, flat, flat_n);
        if (st != MRNN_OK) break;
        rep->n_pieces++;
        rep->n_steps += enc->n_steps;
    }
    mrnn__free(flat);
    mrnn__steps_free(&steps);
    mrnn__piece_free(&copy);
    if (st != MRNN_OK) {
        c->n_pieces = saved_pieces;
        c->n_ids = saved_ids;
        c->n_unknown = saved_unknown;
        rep->n_pieces = 0;
        rep->n_steps = 0;
    }
    return st;
}

static mrnn_status record_file(mrnn_corpus *c, const char *path, uint32_t *index)
{
    if (c->n_files >= UINT32_MAX - 1) return mrnn__fail(MRNN_ERR_LIMIT, "too many files");
    if (mrnn__grow((void **)&c->files, &c->cap_files, c->n_files + 1, sizeof *c->files) != 0)
        return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", path);
    mrnn__corpus_file *f = &c->files[c->n_files];
    memset(f, 0, sizeof *f);
    f->path = mrnn__strdup(path);
    f->reason = mrnn__strdup("");
    if (!f->path || !f->reason) {
        mrnn__free(f->path);
        mrnn__free(f->reason);
        return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", path);
    }
    *index = (uint32_t)c->n_files++;
    return MRNN_OK;
}

/* Read and parse one file: the part of adding a file that touches nothing but the corpus's
 * fixed settings, so that several threads may run it at once (see corpus_reader.h). */
static mrnn_status read_piece(const mrnn_corpus *c, const char *path, mrnn__piece *piece)
{
    const mrnn_encoding_params *enc = &c->vocab->enc;
    mrnn__midi_select sel = {enc->track_mask, enc->channel_mask, mrnn__encoding_reads_drums(enc),
                             (size_t)c->params.max_file_bytes};
    mrnn_status st = mrnn__midi_read_file(path, &sel, piece);
    if (st == MRNN_OK && enc->normalize_key) {
        /* Every piece in one key (per mode): the model then learns harmony, not 24 keys of it. */
        mrnn__piece_transpose(piece, mrnn__piece_normalize_shift(piece, enc->normalize_key),
                              enc->encoding == MRNN_ENCODING_PIANOROLL);
    }
    return st;
}

/* Record a file and add its pieces. read_st/read_reason are the outcome of read_piece() for it.
 * rel is its path relative to the folder being scanned (for split and style), style_name an
 * explicit label (add_file) or NULL. Runs on the calling thread, in file order. */
static mrnn_status commit_one(mrnn_corpus *c, const char *path, const char *rel, const char *style_name,
                              mrnn_status read_st, const char *read_reason, const mrnn__piece *piece,
                              const mrnn__steps *pre)
{
    if (c->finished) return mrnn__fail(MRNN_ERR_STATE, "%s: the corpus is finished; no files can be added", path);
    uint32_t index = 0;
    mrnn_status st = record_file(c, path, &index);
    if (st != MRNN_OK) return st;
    mrnn__corpus_file *rep = &c->files[index];
    rep->split = choose_split(c, rel);

    int32_t style = -1;
    if (style_name && *style_name)
        st = intern_style(c, style_name, strlen(style_name), &style);
    else if (c->params.style_from_folder && rel != path)
        st = style_from_rel(c, rel, &style);
    if (st == MRNN_OK && read_st != MRNN_OK) st = mrnn__fail(read_st, "%s", read_reason);
    if (st == MRNN_OK) {
        st = mrnn__instruments_count(piece, &c->vocab->enc, &rep->instruments);
    }
    if (st == MRNN_OK) {
        rep->n_notes = piece->n_notes;
        st = add_piece_variants(c, piece, pre, rep, index, style);
        if (st != MRNN_OK) mrnn__error_prefix(path);
    }
    if (st != MRNN_OK) {
        rep->status = st;
        rep->n_notes = 0;
        mrnn__free(rep->instruments);
        rep->instruments = NULL;
        char *why = mrnn__strdup(mrnn_last_error());
        if (why) {
            mrnn__free(rep->reason);
            rep->reason = why;
        }
    }
    return st;
}

static mrnn_status add_one(mrnn_corpus *c, const char *path, const char *rel, const char *style_name)
{
    if (c->finished) return mrnn__fail(MRNN_ERR_STATE, "%s: the corpus is finished; no files can be added", path);
    mrnn__piece piece;
    mrnn__piece_init(&piece);
    mrnn_status read_st = read_piece(c, path, &piece);
    /* The message is copied: commit_one may overwrite this thread's error before it uses it. */
    char *reason = read_st == MRNN_OK ? NULL : mrnn__strdup(mrnn_last_error());
    mrnn_status st = commit_one(c, path, rel, style_name, read_st, reason ? reason : "out of memory", &piece, NULL);
    mrnn__free(reason);
    mrnn__piece_free(&piece);
    mrnn_status sst = mrnn__spill_flush(c, 0);
    return sst != MRNN_OK ? sst : st;
}

MRNN_API mrnn_status mrnn_corpus_add_file(mrnn_corpus *c, const char *path, const char *style)
{
    MRNN_CHECK_ARG(c, "c");
    MRNN_CHECK_ARG(path, "path");
    return add_one(c, path, path, style);
}

/* ---- reading a folder ---- */

typedef struct dir_job {
    mrnn_corpus *c;
    const char *root;
    mrnn__path_list files;
    char **full; /* full[i]: root/rel[i], built before the threads start */
    mrnn_corpus_progress progress;
    double t0;
    int cancelled;
} dir_job;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Performance and pianoroll vocabularies are complete from the start and encoding only reads them,
 * so the reading threads can encode too. A notechord vocabulary grows as tokens are met, in file
 * order: its encoding stays on the committing thread. */
static int encodes_in_readers(const mrnn_corpus *c)
{
    uint32_t e = c->vocab->enc.encoding;
    return e == MRNN_ENCODING_PERFORMANCE || e == MRNN_ENCODING_PIANOROLL;
}

static mrnn_status dir_read(void *ctx, size_t i, mrnn__read_item *it)
{
    dir_job *j = ctx;
    struct stat sb;
    if (stat(j->full[i], &sb) == 0) it->bytes = (uint64_t)sb.st_size;
    mrnn_status st = read_piece(j->c, j->full[i], &it->piece);
    /* An encoding that fails is redone on the committing thread, which words the error as a serial
     * run does (the reason is saved in the corpus file). */
    if (st == MRNN_OK && encodes_in_readers(j->c))
        it->encoded = mrnn__encode(&it->piece, j->c->vocab, &it->steps, NULL) == MRNN_OK;
    return st;
}

static mrnn_status dir_commit(void *ctx, size_t i, mrnn_status read_st, const char *reason, mrnn__read_item *it)
{
    dir_job *j = ctx;
    uint64_t bytes = it->bytes;
    mrnn_status fst = commit_one(j->c, j->full[i], j->files.rel[i], NULL, read_st, reason, &it->piece,
                                 it->encoded ? &it->steps : NULL);
    /* A bad file is recorded in the report and skipped; running out of memory is not a file problem,
     * nor is a spill file that cannot be written. */
    if (fst == MRNN_ERR_NOMEM || fst == MRNN_ERR_STATE) return fst;
    mrnn_status sst = mrnn__spill_flush(j->c, 0);
    if (sst != MRNN_OK) return sst;
    mrnn_corpus_progress *p = &j->progress;
    p->files_done++;
    if (fst != MRNN_OK) p->files_skipped++;
    p->bytes_read += bytes;
    if (j->c->params.progress) {
        p->elapsed_seconds = now_seconds() - j->t0;
        p->path = j->full[i];
        if (j->c->params.progress(p, j->c->params.progress_user_data)) {
            j->cancelled = 1;
            return mrnn__fail(MRNN_ERR_CANCELLED, "reading folder %s cancelled by the progress callback after %u files",
                              j->root, p->files_done);
        }
    }
    return MRNN_OK;
}

static unsigned reading_threads(const mrnn_corpus *c)
{
    uint32_t t = c->params.threads;
    if (t == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        t = cores > 0 ? (uint32_t)cores : 1;
    }
    return t;
}

MRNN_API mrnn_status mrnn_corpus_add_dir(mrnn_corpus *c, const char *dir)
{
    MRNN_CHECK_ARG(c, "c");
    MRNN_CHECK_ARG(dir, "dir");
    if (c->finished) return mrnn__fail(MRNN_ERR_STATE, "%s: the corpus is finished; no files can be added", dir);
    size_t dlen = strlen(dir);
    while (dlen > 1 && dir[dlen - 1] == '/') dlen--;
    char *root = mrnn__malloc(dlen + 1);
    if (!root) return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", dir);
    memcpy(root, dir, dlen);
    root[dlen] = 0;
    dir_job j;
    memset(&j, 0, sizeof j);
    j.c = c;
    j.root = root;
    j.t0 = now_seconds();
    mrnn_status st = mrnn__dir_walk(root, &j.files);
    if (st == MRNN_OK && j.files.n > UINT32_MAX - 1 - c->n_files) st = mrnn__fail(MRNN_ERR_LIMIT, "%s: too many files", dir);
    if (st == MRNN_OK) {
        j.full = mrnn__calloc(j.files.n ? j.files.n : 1, sizeof *j.full);
        if (!j.full) st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", dir);
    }
    for (size_t i = 0; i < j.files.n && st == MRNN_OK; i++) {
        j.full[i] = mrnn__malloc(dlen + strlen(j.files.rel[i]) + 2);
        if (!j.full[i]) {
            st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", dir);
            break;
        }
        sprintf(j.full[i], "%s/%s", root, j.files.rel[i]);
    }
    if (st == MRNN_OK) {
        j.progress.files_total = (uint32_t)j.files.n;
        st = mrnn__read_ordered(j.files.n, reading_threads(c), dir_read, dir_commit, &j);
    }
    if (j.full)
        for (size_t i = 0; i < j.files.n; i++) mrnn__free(j.full[i]);
    mrnn__free(j.full);
    mrnn__path_list_free(&j.files);
    mrnn__free(root);
    return st;
}

/* ---- finishing ---- */

mrnn_status mrnn__corpus_index_steps(mrnn_corpus *c)
{
    size_t total = 0;
    for (size_t i = 0; i < c->n_pieces; i++) total += c->pieces[i].n_steps;
    if (!c->multi_hot) {
        /* Event steps are single ids at first_id + t; loading checked n_ids == n_steps. */
        for (size_t i = 0; i < c->n_pieces; i++) {
            if (c->pieces[i].n_ids != c->pieces[i].n_steps)
                return mrnn__fail(MRNN_ERR_FORMAT, "piece %zu has %llu ids for %u steps", i,
                                  (unsigned long long)c->pieces[i].n_ids, c->pieces[i].n_steps);
        }
    }
    if (!c->multi_hot || c->spill) {
        /* A spilled corpus is not indexed: its frames are not in memory to be found. */
        c->n_steps_total = total;
        return MRNN_OK;
    }
    uint64_t *pos = mrnn__malloc((total ? total : 1) * sizeof *pos);
    if (!pos) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory indexing corpus steps");
    size_t k = 0;
    for (size_t i = 0; i < c->n_pieces; i++) {
        mrnn__corpus_piece *p = &c->pieces[i];
        p->first_step = k;
        uint64_t at = p->first_id, end = p->first_id + p->n_ids;
        for (uint32_t t = 0; t < p->n_steps; t++) {
            if (at >= end) {
                mrnn__free(pos);
                return mrnn__fail(MRNN_ERR_FORMAT, "piece %zu has fewer frames than it declares", i);
            }
            pos[k++] = at;
            if (c->multi_hot) {
                while (at < end && c->ids[at] != MRNN_FRAME_END) at++;
                if (at >= end) {
                    mrnn__free(pos);
                    return mrnn__fail(MRNN_ERR_FORMAT, "piece %zu: frame %u has no end marker", i, t);
                }
            }
            at++;
        }
    }
    mrnn__free(c->step_pos);
    c->step_pos = pos;
    c->n_steps_total = total;
    return MRNN_OK;
}

typedef struct rank_entry {
    uint32_t id;
    uint64_t count;
    const char *text;
} rank_entry;

static int cmp_rank(const void *a, const void *b)
{
    const rank_entry *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return strcmp(x->text, y->text);
}

/* Notechord: keep tokens seen at least min_count times, most frequent first, <unk> at 0. */
static mrnn_status prune_vocab(mrnn_corpus *c)
{
    mrnn_vocab *old = c->vocab;
    uint32_t min_count = old->enc.min_count ? old->enc.min_count : 1;
    rank_entry *rank = mrnn__malloc((size_t)old->n * sizeof *rank);
    uint32_t *remap = mrnn__malloc((size_t)old->n * sizeof *remap);
    mrnn_vocab *nv = NULL;
    mrnn_status st = (rank && remap) ? mrnn_vocab_create(&nv, &old->enc)
                                     : mrnn__fail(MRNN_ERR_NOMEM, "out of memory finishing the vocabulary");
    if (st != MRNN_OK) goto done;
    size_t n_rank = 0;
    for (uint32_t i = 0; i < old->n; i++) {
        if (i == old->unk) continue;
        rank[n_rank].id = i;
        rank[n_rank].count = old->count[i];
        rank[n_rank].text = old->text[i];
        n_rank++;
    }
    qsort(rank, n_rank, sizeof *rank, cmp_rank);
    for (uint32_t i = 0; i < old->n; i++) remap[i] = nv->unk;
    uint64_t unk_count = old->unk < old->n ? old->count[old->unk] : 0;
    for (size_t r = 0; r < n_rank && st == MRNN_OK; r++) {
        if (rank[r].count < min_count) {
            unk_count += rank[r].count;
            continue;
        }
        uint32_t id;
        st = mrnn__vocab_intern(nv, rank[r].text, &id, NULL);
        if (st == MRNN_OK) {
            nv->count[id] = rank[r].count;
            remap[rank[r].id] = id;
        }
    }
    if (st != MRNN_OK) goto done;
    if (nv->unk < nv->n) nv->count[nv->unk] = unk_count;
    if (c->spill) {
        /* Spilled ids are renumbered as they are saved; counted here as the loop below counts. */
        c->n_unknown += mrnn__spill_count_unknown(c, remap, old->n, nv->unk);
        mrnn__spill_keep_remap(c, remap, old->n);
        remap = NULL;
    }
    for (size_t i = 0; i < c->n_ids && !c->spill; i++) {
        if (c->ids[i] == remap[c->ids[i]]) continue;
        if (remap[c->ids[i]] == nv->unk) c->n_unknown++;
        c->ids[i] = remap[c->ids[i]];
    }
    nv->frozen = 1;
    c->vocab = nv;
    nv = old;
done:
    mrnn_vocab_free(nv);
    mrnn__free(rank);
    mrnn__free(remap);
    return st;
}

MRNN_API mrnn_status mrnn_corpus_finish(mrnn_corpus *c)
{
    MRNN_CHECK_ARG(c, "c");
    if (c->finished) return MRNN_OK;
    mrnn_status st = mrnn__spill_flush(c, 1);
    if (st == MRNN_OK && c->vocab->enc.encoding == MRNN_ENCODING_NOTECHORD && !c->vocab->frozen) st = prune_vocab(c);
    if (st == MRNN_OK) st = mrnn__corpus_index_steps(c);
    if (st != MRNN_OK) return st;
    c->vocab->frozen = 1;
    c->finished = 1;
    return MRNN_OK;
}

/* ---- getters ---- */

MRNN_API const mrnn_vocab *mrnn_corpus_vocab(const mrnn_corpus *c)
{
    return c ? c->vocab : NULL;
}

MRNN_API mrnn_status mrnn_corpus_get_stats(const mrnn_corpus *c, mrnn_corpus_stats *out)
{
    MRNN_CHECK_ARG(c, "c");
    MRNN_CHECK_ARG(out, "out");
    memset(out, 0, sizeof *out);
    out->n_files = (uint32_t)c->n_files;
    for (size_t i = 0; i < c->n_files; i++) {
        if (c->files[i].status != MRNN_OK) out->n_skipped++;
        out->n_notes += c->files[i].n_notes;
    }
    for (size_t i = 0; i < c->n_pieces; i++) {
        const mrnn__corpus_piece *p = &c->pieces[i];
        uint32_t s = p->split < 3 ? p->split : 0;
        out->n_pieces[s]++;
        out->n_steps[s] += p->n_steps;
        out->n_tokens[s] += c->multi_hot ? p->n_ids - p->n_steps : p->n_ids;
    }
    out->n_unknown = c->n_unknown;
    out->vocab_size = c->vocab->n;
    out->n_styles = (uint32_t)c->n_styles;
    return MRNN_OK;
}

/* The 0.1 name (docs/ABI.md: getters are mrnn_<object>_get_<what>). */
MRNN_API mrnn_status mrnn_corpus_stats_get(const mrnn_corpus *c, mrnn_corpus_stats *out)
{
    return mrnn_corpus_get_stats(c, out);
}

MRNN_API uint32_t mrnn_corpus_file_count(const mrnn_corpus *c)
{
    return c ? (uint32_t)c->n_files : 0;
}

MRNN_API mrnn_status mrnn_corpus_get_file_report(const mrnn_corpus *c, uint32_t i, mrnn_file_report *out)
{
    MRNN_CHECK_ARG(c, "c");
    MRNN_CHECK_ARG(out, "out");
    if (i >= c->n_files)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "file index %u is out of range (%zu files)", i, c->n_files);
    const mrnn__corpus_file *f = &c->files[i];
    out->path = f->path;
    out->status = f->status;
    out->reason = f->reason;
    out->split = f->split;
    out->n_pieces = f->n_pieces;
    out->n_notes = f->n_notes;
    out->n_steps = f->n_steps;
    return MRNN_OK;
}

/* The 0.1 name. */
MRNN_API mrnn_status mrnn_corpus_file_report(const mrnn_corpus *c, uint32_t i, mrnn_file_report *out)
{
    return mrnn_corpus_get_file_report(c, i, out);
}

MRNN_API mrnn_status mrnn_corpus_get_file_instruments(const mrnn_corpus *c, uint32_t i, mrnn_instrument_report *out)
{
    MRNN_CHECK_ARG(c, "c");
    MRNN_CHECK_ARG(out, "out");
    if (out->version != MRNN_INSTRUMENT_REPORT_VERSION)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_corpus_get_file_instruments: out->version %u is not %u", out->version,
                          MRNN_INSTRUMENT_REPORT_VERSION);
    if (i >= c->n_files)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "file index %u is out of range (%zu files)", i, c->n_files);
    if (c->loaded)
        return mrnn__fail(MRNN_ERR_UNSUPPORTED, "%s: corpus files do not keep the instruments; preprocess again to see them",
                          c->files[i].path);
    mrnn__instruments_export(c->files[i].instruments, out);
    return MRNN_OK;
}

MRNN_API uint32_t mrnn_corpus_piece_count(const mrnn_corpus *c)
{
    return c ? (uint32_t)c->n_pieces : 0;
}

MRNN_API mrnn_status mrnn_corpus_piece_tokens(const mrnn_corpus *c, uint32_t i, const uint32_t **ids, size_t *n,
                                              uint32_t *split, int32_t *transpose)
{
    MRNN_CHECK_ARG(c, "c");
    MRNN_CHECK_ARG(ids && n, "ids/n");
    if (i >= c->n_pieces)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "piece index %u is out of range (%zu pieces)", i, c->n_pieces);
    if (c->spill)
        return mrnn__fail(MRNN_ERR_UNSUPPORTED, "the corpus keeps its tokens in a temporary file in %s (spill_dir): save "
                          "it and open the file with mrnn_corpus_map() to read them", c->params.spill_dir);
    const mrnn__corpus_piece *p = &c->pieces[i];
    *ids = c->ids + p->first_id;
    *n = (size_t)p->n_ids;
    if (split) *split = p->split;
    if (transpose) *transpose = p->transpose;
    return MRNN_OK;
}

MRNN_API uint32_t mrnn_corpus_style_count(const mrnn_corpus *c)
{
    return c ? (uint32_t)c->n_styles : 0;
}

MRNN_API const char *mrnn_corpus_style_name(const mrnn_corpus *c, uint32_t i)
{
    return (c && i < c->n_styles) ? c->styles[i] : NULL;
}
