/* Corpus files (.mrc): magic, format version, tokens, then parameters, vocabulary, styles, file
 * report and pieces, CRC-32 (format 3; formats 1 and 2 put the tokens last). Little-endian;
 * written atomically. Every field is validated on load, because the batcher indexes the embedding
 * with these ids. */
#include <string.h>

#include "alloc.h"
#include "corpus.h"
#include "error.h"
#include "fileio.h"
#include "vocab.h"

/* The corpus file's container (fileio.h): bump `format` here for a new layout. Format 2: the
 * embedded vocabulary may carry version-2 encoding params (multitrack). Format 3: the tokens come
 * first (after 4 bytes of padding), the metadata after them, so a corpus whose tokens were spilled
 * while it was built is that spill file with its metadata appended (corpus_spill.c); the metadata
 * still ends with the token count, so the last 8 bytes before the checksum locate it. Formats 1
 * and 2 (metadata, then tokens) still load. */
const mrnn__container mrnn__corpus_container = {"MRNNCORP", "corpus", 3u, 1u, (size_t)1 << 34};
#define MAX_PATH_TEXT 4096

static void write_params(mrnn__wbuf *b, const mrnn_corpus_params *p)
{
    mrnn__wbuf_f64(b, p->valid_fraction);
    mrnn__wbuf_f64(b, p->test_fraction);
    mrnn__wbuf_u64(b, p->split_seed);
    mrnn__wbuf_i32(b, p->use_folder_split);
    mrnn__wbuf_u32(b, p->transpose_range);
    mrnn__wbuf_i32(b, p->style_from_folder);
    mrnn__wbuf_u64(b, p->max_file_bytes);
}

static void read_params(mrnn__rbuf *b, mrnn_corpus_params *p)
{
    mrnn_corpus_params_init(p, MRNN_CORPUS_PARAMS_VERSION);
    p->valid_fraction = mrnn__rbuf_f64(b);
    p->test_fraction = mrnn__rbuf_f64(b);
    p->split_seed = mrnn__rbuf_u64(b);
    p->use_folder_split = mrnn__rbuf_i32(b);
    p->transpose_range = mrnn__rbuf_u32(b);
    p->style_from_folder = mrnn__rbuf_i32(b);
    p->max_file_bytes = mrnn__rbuf_u64(b);
}

/* Everything of the corpus but its tokens; ends with the token count. */
static void write_meta(mrnn__wbuf *b, const mrnn_corpus *c)
{
    write_params(b, &c->params);
    mrnn__vocab_write(c->vocab, b);
    mrnn__wbuf_u64(b, c->n_unknown);
    mrnn__wbuf_u32(b, (uint32_t)c->n_styles);
    for (size_t i = 0; i < c->n_styles; i++) mrnn__wbuf_str(b, c->styles[i]);
    mrnn__wbuf_u32(b, (uint32_t)c->n_files);
    for (size_t i = 0; i < c->n_files; i++) {
        const mrnn__corpus_file *f = &c->files[i];
        mrnn__wbuf_str(b, f->path);
        mrnn__wbuf_str(b, f->reason);
        mrnn__wbuf_i32(b, f->status);
        mrnn__wbuf_u32(b, f->split);
        mrnn__wbuf_u32(b, f->n_pieces);
        mrnn__wbuf_u64(b, f->n_notes);
        mrnn__wbuf_u64(b, f->n_steps);
    }
    mrnn__wbuf_u32(b, (uint32_t)c->n_pieces);
    for (size_t i = 0; i < c->n_pieces; i++) {
        const mrnn__corpus_piece *p = &c->pieces[i];
        mrnn__wbuf_u64(b, p->n_ids);
        mrnn__wbuf_u32(b, p->n_steps);
        mrnn__wbuf_u32(b, p->split);
        mrnn__wbuf_i32(b, p->transpose);
        mrnn__wbuf_i32(b, p->style);
        mrnn__wbuf_u32(b, p->file);
    }
    mrnn__wbuf_u64(b, c->n_ids);
}

void mrnn__corpus_begin(mrnn__wbuf *b)
{
    mrnn__container_begin(&mrnn__corpus_container, b);
    mrnn__wbuf_u32(b, 0); /* the tokens start 16-byte aligned */
}

MRNN_API mrnn_status mrnn_corpus_save(mrnn_corpus *c, const char *path)
{
    MRNN_CHECK_ARG(c, "c");
    MRNN_CHECK_ARG(path, "path");
    mrnn_status st = mrnn_corpus_finish(c);
    if (st != MRNN_OK) return st;
    mrnn__wbuf b = {0};
    if (c->spill) {
        write_meta(&b, c);
        return mrnn__spill_save(c, &b, path); /* the same file as below */
    }
    mrnn__corpus_begin(&b);
    mrnn__wbuf_u32s(&b, c->ids, c->n_ids);
    write_meta(&b, c);
    return mrnn__container_save(&mrnn__corpus_container, &b, path);
}

static mrnn_status bad(const char *path, const char *what)
{
    return mrnn__container_corrupt(&mrnn__corpus_container, path, what);
}

/* Parse the metadata (formats 1 and 2: the body after magic and version up to the token array;
 * format 3: the body after the tokens), whose declared token count goes to *n_ids_out (checked
 * against the pieces; the caller checks it against the bytes left). On failure *out is NULL;
 * MRNN_ERR_FORMAT may then also mean that the buffer ended early. */
mrnn_status mrnn__corpus_parse_meta(mrnn__rbuf *b, uint32_t format, const char *path, mrnn_corpus **out,
                                    uint64_t *n_ids_out)
{
    (void)format;
    *out = NULL;
    mrnn_corpus_params params;
    read_params(b, &params);
    if (b->bad) return bad(path, "truncated header");
    mrnn_vocab *v = NULL;
    mrnn_status st = mrnn__vocab_read(b, &v, path);
    if (st != MRNN_OK) return st;
    v->frozen = 1;
    mrnn_corpus *c = NULL;
    st = mrnn__corpus_new(&c, v, &params); /* takes v */
    if (st != MRNN_OK) return st == MRNN_ERR_INVALID_ARG ? bad(path, mrnn_last_error()) : st;
    c->n_unknown = mrnn__rbuf_u64(b);

    uint32_t n_styles = mrnn__rbuf_u32(b);
    if (b->bad || n_styles > 4096) goto corrupt;
    c->styles = mrnn__calloc(n_styles ? n_styles : 1, sizeof *c->styles);
    if (!c->styles) goto nomem;
    c->cap_styles = n_styles;
    for (uint32_t i = 0; i < n_styles; i++) {
        c->styles[i] = mrnn__rbuf_str(b, MAX_PATH_TEXT);
        if (!c->styles[i]) goto corrupt;
        c->n_styles++;
    }

    uint32_t n_files = mrnn__rbuf_u32(b);
    if (b->bad || n_files > b->len / 32) goto corrupt;
    c->files = mrnn__calloc(n_files ? n_files : 1, sizeof *c->files);
    if (!c->files) goto nomem;
    c->cap_files = n_files;
    for (uint32_t i = 0; i < n_files; i++) {
        mrnn__corpus_file *f = &c->files[i];
        f->path = mrnn__rbuf_str(b, MAX_PATH_TEXT);
        f->reason = mrnn__rbuf_str(b, MAX_PATH_TEXT);
        c->n_files++; /* counted now so that free releases the strings */
        f->status = mrnn__rbuf_i32(b);
        f->split = mrnn__rbuf_u32(b);
        f->n_pieces = mrnn__rbuf_u32(b);
        f->n_notes = mrnn__rbuf_u64(b);
        f->n_steps = mrnn__rbuf_u64(b);
        if (b->bad || !f->path || !f->reason || f->split > 2 || f->status > 0) goto corrupt;
    }

    uint32_t n_pieces = mrnn__rbuf_u32(b);
    if (b->bad || n_pieces > b->len / 28) goto corrupt;
    c->pieces = mrnn__calloc(n_pieces ? n_pieces : 1, sizeof *c->pieces);
    if (!c->pieces) goto nomem;
    c->cap_pieces = n_pieces;
    uint64_t id_total = 0;
    for (uint32_t i = 0; i < n_pieces; i++) {
        mrnn__corpus_piece *p = &c->pieces[i];
        p->n_ids = mrnn__rbuf_u64(b);
        p->n_steps = mrnn__rbuf_u32(b);
        p->split = mrnn__rbuf_u32(b);
        p->transpose = mrnn__rbuf_i32(b);
        p->style = mrnn__rbuf_i32(b);
        p->file = mrnn__rbuf_u32(b);
        p->first_id = id_total;
        if (b->bad || p->split > 2 || p->file >= n_files || p->style < -1 || p->style >= (int32_t)n_styles ||
            p->transpose < -12 || p->transpose > 12 || p->n_steps < 1 || p->n_ids > UINT32_MAX ||
            (!c->multi_hot && p->n_ids != p->n_steps) ||
            /* Every frame ends with MRNN_FRAME_END, so a pianoroll piece has at least as many ids as
             * frames. Checked here, before the step index of n_steps entries is allocated (a tiny
             * file declaring 2^30 frames made the loader allocate 8 GB; found by fuzz_corpus_file). */
            (c->multi_hot && p->n_ids < p->n_steps))
            goto corrupt;
        id_total += p->n_ids;
        c->n_pieces++;
    }
    uint64_t n_ids = mrnn__rbuf_u64(b);
    if (b->bad || n_ids != id_total || n_ids >= UINT32_MAX) goto corrupt;
    *n_ids_out = n_ids;
    *out = c;
    return MRNN_OK;
corrupt:
    if (b->nomem) goto nomem;
    mrnn_corpus_free(c);
    return bad(path, "inconsistent or truncated contents");
nomem:
    mrnn_corpus_free(c);
    return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory loading the corpus", path);
}

int mrnn__corpus_ids_valid(const mrnn_corpus *c, const uint32_t *ids, size_t n)
{
    uint32_t limit = c->multi_hot ? 88 : c->vocab->n;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] >= limit && !(c->multi_hot && ids[i] == MRNN_FRAME_END)) return 0;
    }
    return 1;
}

int mrnn__corpus_locate(const uint8_t *first4, const uint8_t *last8, size_t len, uint32_t format, size_t *meta_off,
                        size_t *ids_off, uint64_t *n_ids)
{
    *meta_off = *ids_off = 0;
    *n_ids = 0;
    if (format < 3) return 0;
    if (len < 12) return -1;
    mrnn__rbuf pad = {first4, 4, 0, 0, 0}, count = {last8, 8, 0, 0, 0};
    uint64_t n = mrnn__rbuf_u64(&count);
    if (mrnn__rbuf_u32(&pad) != 0 || n > (len - 12) / 4) return -1;
    *ids_off = 4;
    *meta_off = 4 + (size_t)n * 4;
    *n_ids = n;
    return 0;
}

/* The body after magic and version, when the whole file is in memory. */
static mrnn_status parse(mrnn__rbuf *b, uint32_t format, const char *path, mrnn_corpus **out)
{
    mrnn_corpus *c = NULL;
    uint64_t n_ids = 0, n_located;
    size_t start = b->pos, meta_off, ids_off;
    const uint8_t *body = b->data + start;
    size_t len = b->len - start;
    if (mrnn__corpus_locate(body, len >= 8 ? body + len - 8 : body, len, format, &meta_off, &ids_off, &n_located) != 0)
        return bad(path, "inconsistent or truncated contents");
    mrnn__rbuf meta = {b->data, b->len, start + meta_off, 0, 0};
    mrnn_status st = mrnn__corpus_parse_meta(&meta, format, path, &c, &n_ids);
    if (st != MRNN_OK) return st;
    /* ids: formats 1 and 2 after the metadata, format 3 before it, filling the body exactly. */
    mrnn__rbuf ids = format < 3 ? meta : (mrnn__rbuf){b->data, start + meta_off, start + ids_off, 0, 0};
    if (format >= 3 && (n_ids != n_located || meta.pos != meta.len)) goto corrupt;
    if (n_ids > (ids.len - ids.pos) / 4) goto corrupt;
    c->ids = mrnn__malloc((size_t)(n_ids ? n_ids : 1) * sizeof *c->ids);
    if (!c->ids) {
        mrnn_corpus_free(c);
        return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory loading the corpus", path);
    }
    c->cap_ids = (size_t)n_ids;
    if (mrnn__rbuf_u32s(&ids, c->ids, (size_t)n_ids) != 0) goto corrupt;
    c->n_ids = (size_t)n_ids;
    /* Every id must index the vocabulary (or end a frame) before anything uses it as an index. */
    if (!mrnn__corpus_ids_valid(c, c->ids, c->n_ids)) goto corrupt;
    if (ids.pos != ids.len) goto corrupt;
    st = mrnn__corpus_index_steps(c);
    if (st != MRNN_OK) {
        if (st == MRNN_ERR_FORMAT) mrnn__error_prefix(path);
        mrnn_corpus_free(c);
        return st;
    }
    c->finished = 1;
    c->loaded = 1;
    *out = c;
    return MRNN_OK;
corrupt:
    mrnn_corpus_free(c);
    return bad(path, "inconsistent or truncated contents");
}

MRNN_API mrnn_status mrnn_corpus_load(mrnn_corpus **out, const char *path)
{
    MRNN_CHECK_ARG(out, "out");
    *out = NULL;
    MRNN_CHECK_ARG(path, "path");
    uint8_t *data = NULL;
    mrnn__rbuf b;
    uint32_t format;
    mrnn_status st = mrnn__container_load(&mrnn__corpus_container, path, &data, &b, &format);
    if (st != MRNN_OK) return st;
    st = parse(&b, format, path, out);
    mrnn__free(data);
    return st;
}
