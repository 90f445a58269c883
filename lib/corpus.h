/* Internal view of a corpus: token sequences in one flat array with per-piece ranges, as the
 * batcher and the evaluator read them. */
#ifndef MRNN_CORPUS_H
#define MRNN_CORPUS_H

#include <stdint.h>

#include "musicrnn/musicrnn.h"

typedef struct mrnn__corpus_file {
    char *path;
    char *reason; /* "" when read */
    int32_t status;
    uint32_t split;
    uint32_t n_pieces;
    uint64_t n_notes;
    uint64_t n_steps;
    struct mrnn__instruments *instruments; /* owned; NULL if skipped or loaded from a file */
} mrnn__corpus_file;

typedef struct mrnn__corpus_piece {
    uint64_t first_id;   /* index of its first id in corpus->ids */
    uint64_t n_ids;      /* ids, frame ends included */
    uint64_t first_step; /* index of its first step in corpus->step_pos (multi-hot only) */
    uint32_t n_steps;
    uint32_t split;
    int32_t transpose;
    int32_t style;       /* index into styles, -1 for none */
    uint32_t file;       /* index into files */
} mrnn__corpus_piece;

struct mrnn_corpus {
    mrnn_corpus_params params;
    mrnn_vocab *vocab;
    int finished;
    int multi_hot; /* pianoroll: steps are frames ended by MRNN_FRAME_END */

    mrnn__corpus_file *files;
    size_t n_files, cap_files;
    mrnn__corpus_piece *pieces;
    size_t n_pieces, cap_pieces;
    uint32_t *ids; /* all pieces' tokens; pianoroll frames end with MRNN_FRAME_END */
    size_t n_ids, cap_ids;
    /* Multi-hot only: [total steps] position in ids of each step's first id (built by finish). An
     * event step is one id, at first_id + t: no index, which saves twice the tokens' memory. */
    uint64_t *step_pos;
    size_t n_steps_total;
    /* Out-of-core corpora (mrnn_corpus_map): ids point into this read-only mapping instead of an
     * allocation. */
    void *map;
    size_t map_len;
    /* Corpora built with params.spill_dir (corpus_spill.c): ids[] holds only the ids from global
     * index `spilled` on, those not yet written to the spill file; n_ids counts them all. */
    struct mrnn__spill *spill; /* NULL: every id is in ids[] */
    uint64_t spilled;
    char **styles;
    size_t n_styles, cap_styles;
    uint64_t n_unknown;
    int loaded; /* read by mrnn_corpus_load(): the file reports have no instruments */
};

/* Borrow the ids of step t of piece p (frame end excluded). */
static inline void mrnn__corpus_step(const struct mrnn_corpus *c, const mrnn__corpus_piece *p, uint32_t t,
                                     const uint32_t **ids, uint32_t *n)
{
    if (!c->multi_hot) {
        *ids = c->ids + p->first_id + t;
        *n = 1;
        return;
    }
    uint64_t pos = c->step_pos[p->first_step + t];
    uint64_t end = pos;
    while (c->ids[end] != MRNN_FRAME_END) end++;
    *ids = c->ids + pos;
    *n = (uint32_t)(end - pos);
}

/* Build step_pos from the pieces (after load or finish). */
mrnn_status mrnn__corpus_index_steps(struct mrnn_corpus *c);
/* Append a piece's ids (already encoded, flat form). */
mrnn_status mrnn__corpus_append_piece(struct mrnn_corpus *c, const mrnn__corpus_piece *meta, const uint32_t *ids,
                                      size_t n_ids);
/* Allocate an empty corpus around an existing vocabulary (takes ownership of v). */
mrnn_status mrnn__corpus_new(struct mrnn_corpus **out, mrnn_vocab *v, const mrnn_corpus_params *params);

/* The corpus file's container (corpus_file.c; fileio.h describes containers). */
extern const struct mrnn__container mrnn__corpus_container;
/* Parse the metadata: formats 1 and 2 from after magic and version up to the token array, format
 * 3 from after the tokens to the checksum (see corpus_file.c). */
struct mrnn__rbuf;
struct mrnn__wbuf;
mrnn_status mrnn__corpus_parse_meta(struct mrnn__rbuf *b, uint32_t format, const char *path,
                                    struct mrnn_corpus **out, uint64_t *n_ids_out);
/* Where the metadata and the tokens of a body (the len bytes between version and checksum) start,
 * relative to the body, and the token count a format-3 body declares at its end; first4 and last8
 * are the body's first 4 and last 8 bytes (len >= 12). Formats 1 and 2: both offsets 0 (the tokens
 * follow the metadata, whose end only parsing finds). -1 when a format-3 body cannot hold what it
 * declares. */
int mrnn__corpus_locate(const uint8_t *first4, const uint8_t *last8, size_t len, uint32_t format, size_t *meta_off,
                        size_t *ids_off, uint64_t *n_ids);
/* Start a corpus file in an empty buffer: magic, version and the padding before the tokens. */
void mrnn__corpus_begin(struct mrnn__wbuf *b);
#define MRNN__CORPUS_IDS_AT 16 /* where a format-3 file's tokens start */
/* 1 if every id indexes the vocabulary (or ends a frame of a multi-hot corpus). */
int mrnn__corpus_ids_valid(const struct mrnn_corpus *c, const uint32_t *ids, size_t n);
/* ---- the spill file (corpus_spill.c) ---- */
/* Create c's spill file in dir (an unnamed temporary file). */
mrnn_status mrnn__spill_open(struct mrnn_corpus *c, const char *dir);
void mrnn__spill_free(struct mrnn__spill *s);
/* Write the buffered ids to the spill file: all of them if `all`, else only once they fill a
 * chunk. Call between files only (a file that fails rolls back what it buffered). A write error is
 * kept: every later call, and finish and save, return it again. */
mrnn_status mrnn__spill_flush(struct mrnn_corpus *c, int all);
/* Notechord pruning: how many spilled ids `remap` (old id -> new id, n_old entries) turns into
 * unk that were something else, as the in-memory renumbering counts them; and keep remap (taken
 * over, also on failure) for mrnn__spill_save. */
uint64_t mrnn__spill_count_unknown(const struct mrnn_corpus *c, const uint32_t *remap, uint32_t n_old, uint32_t unk);
void mrnn__spill_keep_remap(struct mrnn_corpus *c, uint32_t *remap, uint32_t n_old);
/* Write the corpus file: the start, the spilled ids (renumbered), meta (the metadata, as for an
 * in-memory corpus, ending with the id count), the checksum. When the ids need no renumbering and
 * the spill file can be linked into path's folder, the spill file becomes the corpus file: meta
 * and checksum are appended to it and it is published under path, without copying the tokens.
 * Frees meta. */
mrnn_status mrnn__spill_save(struct mrnn_corpus *c, struct mrnn__wbuf *meta, const char *path);

/* Release the mapping of an out-of-core corpus (corpus_map.c). */
void mrnn__corpus_unmap(struct mrnn_corpus *c);

#endif
