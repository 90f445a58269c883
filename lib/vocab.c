/* mrnn_vocab: token texts with an open-addressing hash table, the encoding params that give them
 * meaning, seed-text parsing/formatting, and the vocabulary file format. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "encoding.h"
#include "error.h"
#include "fileio.h"
#include "vocab.h"

#define VOCAB_MAGIC "MRNNVOCB"
#define VOCAB_FORMAT 1u
#define VOCAB_MAX_FILE ((size_t)1 << 30)
/* Longest token text accepted: a notechord chord of all 128 pitches plus drums still fits. */
#define VOCAB_MAX_TEXT 4096u
/* Ids a single seed word can expand to: a pianoroll frame of 88 keys plus its end marker. */
#define WORD_MAX_IDS (MRNN__PIANO_KEYS + 1)

/* ---- encoding params ---- */

/* Bytes of mrnn_encoding_params in each released version (fields are only appended, and a program
 * built against an older header passes the smaller struct); 0: unknown version. */
static size_t params_size(uint32_t version)
{
    switch (version) {
    case 1: return offsetof(mrnn_encoding_params, max_duration_steps) + sizeof(uint32_t);
    case 2: return sizeof(mrnn_encoding_params);
    default: return 0;
    }
}

static void params_defaults(mrnn_encoding_params *p)
{
    memset(p, 0, sizeof *p);
    p->version = MRNN_ENCODING_PARAMS_VERSION;
    p->encoding = MRNN_ENCODING_NOTECHORD;
    p->steps_per_quarter = 4;
    p->frame_seconds = 0.0;
    p->keep_drums = 0;
    p->channel_mask = 0;
    p->track_mask = 0;
    p->normalize_key = 0;
    p->max_steps = 0;
    p->min_count = 1;
    p->max_duration_steps = 16;
    p->multitrack_programs = 0;
    p->max_tracks = 0;
    p->velocity_bins = 0;
}

MRNN_API mrnn_status mrnn_encoding_params_init(mrnn_encoding_params *p, uint32_t version)
{
    MRNN_CHECK_ARG(p, "p");
    size_t size = params_size(version);
    if (!size)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_encoding_params_init: version %u is not 1..%u", version,
                          MRNN_ENCODING_PARAMS_VERSION);
    mrnn_encoding_params full;
    params_defaults(&full);
    full.version = version;
    memcpy(p, &full, size);
    return MRNN_OK;
}

mrnn_status mrnn__encoding_params_import(const mrnn_encoding_params *in, mrnn_encoding_params *out)
{
    if (!in) return mrnn__fail(MRNN_ERR_INVALID_ARG, "encoding params: NULL");
    size_t size = params_size(in->version);
    if (!size)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "encoding params: version %u is not 1..%u (call mrnn_encoding_params_init)",
                          in->version, MRNN_ENCODING_PARAMS_VERSION);
    params_defaults(out);
    memcpy(out, in, size);
    out->version = MRNN_ENCODING_PARAMS_VERSION;
    return mrnn__encoding_params_check(out);
}

mrnn_status mrnn__encoding_params_check(const mrnn_encoding_params *p)
{
    const char *w = "encoding params";
    if (!p) return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: NULL", w);
    if (p->version != MRNN_ENCODING_PARAMS_VERSION)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: version %u is not %u (call mrnn_encoding_params_init)", w,
                          p->version, MRNN_ENCODING_PARAMS_VERSION);
    if (p->encoding < MRNN_ENCODING_NOTECHORD || p->encoding > MRNN_ENCODING_MULTITRACK)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: encoding %u is not 1..4", w, p->encoding);
    if (p->steps_per_quarter < 1 || p->steps_per_quarter > 96)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: steps_per_quarter %u is not in 1..96", w, p->steps_per_quarter);
    if (!isfinite(p->frame_seconds) || (p->frame_seconds != 0.0 && !(p->frame_seconds >= 0.001 && p->frame_seconds <= 10.0)))
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: frame_seconds %g is neither 0 nor in 0.001..10", w,
                          p->frame_seconds);
    if (p->keep_drums != 0 && p->keep_drums != 1)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: keep_drums %d is not 0 or 1", w, (int)p->keep_drums);
    if (p->channel_mask > 0xFFFFu)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: channel_mask 0x%x has bits above channel 15", w, p->channel_mask);
    if (p->normalize_key != 0 && p->normalize_key != 1)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: normalize_key %d is not 0 or 1", w, (int)p->normalize_key);
    if (p->min_count < 1) return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: min_count %u is below 1", w, p->min_count);
    if (p->max_duration_steps < 1 || p->max_duration_steps > 4096)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: max_duration_steps %u is not in 1..4096", w,
                          p->max_duration_steps);
    if (p->multitrack_programs != 0 && p->multitrack_programs != 1)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: multitrack_programs %d is not 0 or 1", w, (int)p->multitrack_programs);
    if (p->instrument_mask[MRNN_INSTRUMENT_MASK_WORDS - 1] >> (MRNN_INSTRUMENT_COUNT % 32))
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: instrument_mask has bits above slot %u", w,
                          MRNN_INSTRUMENT_COUNT - 1);
    if (p->max_tracks > MRNN_INSTRUMENT_COUNT)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: max_tracks %u is above %u", w, p->max_tracks, MRNN_INSTRUMENT_COUNT);
    if (p->velocity_bins == 1 || p->velocity_bins > 32)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: velocity_bins %u is neither 0 nor in 2..32", w, p->velocity_bins);
    if (p->encoding == MRNN_ENCODING_MULTITRACK && p->max_duration_steps > 256)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: max_duration_steps %u is above 256 for multitrack", w,
                          p->max_duration_steps);
    return MRNN_OK;
}

/* ---- storage and hashing ---- */

static uint32_t hash_text(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

static int find_len(const mrnn_vocab *v, const char *s, size_t len, uint32_t *id)
{
    if (!v->hash_cap) return -1;
    uint32_t mask = v->hash_cap - 1;
    for (uint32_t i = hash_text(s, len) & mask;; i = (i + 1) & mask) {
        uint32_t e = v->hash[i];
        if (e == 0) return -1;
        const char *t = v->text[e - 1];
        if (strncmp(t, s, len) == 0 && t[len] == '\0') {
            *id = e - 1;
            return 0;
        }
    }
}

static void hash_insert(uint32_t *table, uint32_t cap, const char *s, uint32_t id)
{
    uint32_t mask = cap - 1;
    uint32_t i = hash_text(s, strlen(s)) & mask;
    while (table[i] != 0) i = (i + 1) & mask;
    table[i] = id + 1;
}

/* Keep the table at most half full so probes stay short. */
static mrnn_status hash_reserve(mrnn_vocab *v, uint32_t n)
{
    if ((uint64_t)n * 2 <= v->hash_cap) return MRNN_OK;
    uint32_t cap = v->hash_cap ? v->hash_cap : 64;
    while ((uint64_t)n * 2 > cap) cap *= 2;
    uint32_t *t = mrnn__calloc(cap, sizeof *t);
    if (!t) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory growing the vocabulary");
    for (uint32_t i = 0; i < v->n; i++) hash_insert(t, cap, v->text[i], i);
    mrnn__free(v->hash);
    v->hash = t;
    v->hash_cap = cap;
    return MRNN_OK;
}

/* Append a text known to be absent. */
static mrnn_status add_text(mrnn_vocab *v, const char *s, size_t len, uint32_t *id)
{
    if (v->n >= MRNN__MAX_VOCAB)
        return mrnn__fail(MRNN_ERR_LIMIT, "the vocabulary is full (%u tokens)", (unsigned)MRNN__MAX_VOCAB);
    if (len > VOCAB_MAX_TEXT)
        return mrnn__fail(MRNN_ERR_LIMIT, "token text of %zu bytes is longer than %u", len, VOCAB_MAX_TEXT);
    mrnn_status st = hash_reserve(v, v->n + 1);
    if (st != MRNN_OK) return st;
    if (v->n >= v->cap) {
        size_t cap_t = v->cap, cap_c = v->cap;
        if (mrnn__grow((void **)&v->text, &cap_t, (size_t)v->n + 1, sizeof *v->text) != 0 ||
            mrnn__grow((void **)&v->count, &cap_c, (size_t)v->n + 1, sizeof *v->count) != 0)
            return mrnn__fail(MRNN_ERR_NOMEM, "out of memory growing the vocabulary");
        /* Both arrays hold at least the smaller capacity. */
        v->cap = (uint32_t)(cap_t < cap_c ? cap_t : cap_c);
    }
    char *copy = mrnn__malloc(len + 1);
    if (!copy) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory growing the vocabulary");
    memcpy(copy, s, len);
    copy[len] = '\0';
    v->text[v->n] = copy;
    v->count[v->n] = 0;
    hash_insert(v->hash, v->hash_cap, copy, v->n);
    *id = v->n++;
    return MRNN_OK;
}

static mrnn_status vocab_alloc(mrnn_vocab **out, const mrnn_encoding_params *enc)
{
    mrnn_vocab *v = mrnn__calloc(1, sizeof *v);
    if (!v) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory creating a vocabulary");
    v->enc = *enc;
    v->unk = UINT32_MAX;
    *out = v;
    return MRNN_OK;
}

mrnn_status mrnn__vocab_intern(mrnn_vocab *v, const char *text, uint32_t *id, int *was_unknown)
{
    if (was_unknown) *was_unknown = 0;
    uint32_t found;
    mrnn_status st = MRNN_OK;
    size_t len = strlen(text);
    if (find_len(v, text, len, &found) == 0) {
        *id = found;
    } else if (v->frozen) {
        if (v->unk == UINT32_MAX) return mrnn__fail(MRNN_ERR_UNKNOWN_TOKEN, "unknown token '%.200s'", text);
        *id = v->unk;
        if (was_unknown) *was_unknown = 1;
    } else {
        st = add_text(v, text, len, id);
        if (st != MRNN_OK) return st;
    }
    v->count[*id]++;
    return MRNN_OK;
}

int mrnn__vocab_find(const mrnn_vocab *v, const char *text, uint32_t *id)
{
    return find_len(v, text, strlen(text), id);
}

/* Used by the encoders' fill function only: a fixed token in creation order. */
static mrnn_status create_filled(mrnn_vocab **out, const mrnn_encoding_params *enc)
{
    mrnn_vocab *v = NULL;
    mrnn_status st = vocab_alloc(&v, enc);
    if (st != MRNN_OK) return st;
    st = mrnn__encoding_fill_vocab(v);
    if (st != MRNN_OK) {
        mrnn_vocab_free(v);
        return st;
    }
    /* The fixed tokens were not seen in any data. */
    for (uint32_t i = 0; i < v->n; i++) v->count[i] = 0;
    /* Performance and pianoroll are complete: nothing may be added to them. */
    if (enc->encoding != MRNN_ENCODING_NOTECHORD) v->frozen = 1;
    *out = v;
    return MRNN_OK;
}

mrnn_status mrnn__vocab_clone(const mrnn_vocab *v, mrnn_vocab **out)
{
    *out = NULL;
    mrnn_vocab *c = NULL;
    mrnn_status st = vocab_alloc(&c, &v->enc);
    for (uint32_t i = 0; i < v->n && st == MRNN_OK; i++) {
        uint32_t id;
        st = add_text(c, v->text[i], strlen(v->text[i]), &id);
        if (st == MRNN_OK) c->count[id] = v->count[i];
    }
    if (st != MRNN_OK) {
        mrnn_vocab_free(c);
        return st;
    }
    c->frozen = v->frozen;
    c->unk = v->unk;
    *out = c;
    return MRNN_OK;
}

/* Only what gives ids their meaning is compared: the corpus-building options (masks, min_count,
 * max_steps, normalize_key...) may differ between a model's corpus and one it is evaluated on. */
int mrnn__vocab_equal(const mrnn_vocab *a, const mrnn_vocab *b)
{
    if (!a || !b) return 0;
    if (a->enc.encoding != b->enc.encoding || a->enc.steps_per_quarter != b->enc.steps_per_quarter ||
        a->enc.frame_seconds != b->enc.frame_seconds || a->n != b->n || a->unk != b->unk)
        return 0;
    if (a->enc.encoding == MRNN_ENCODING_MULTITRACK &&
        (a->enc.multitrack_programs != b->enc.multitrack_programs || a->enc.velocity_bins != b->enc.velocity_bins))
        return 0;
    for (uint32_t i = 0; i < a->n; i++)
        if (strcmp(a->text[i], b->text[i]) != 0) return 0;
    return 1;
}

/* ---- embedded serialisation ---- */

uint32_t mrnn__vocab_format_version(const mrnn_vocab *v)
{
    return v->enc.encoding == MRNN_ENCODING_MULTITRACK ? 2u : 1u;
}

void mrnn__vocab_write(const mrnn_vocab *v, mrnn__wbuf *b)
{
    const mrnn_encoding_params *e = &v->enc;
    uint32_t layout = mrnn__vocab_format_version(v);
    mrnn__wbuf_u32(b, layout);
    mrnn__wbuf_u32(b, e->encoding);
    mrnn__wbuf_u32(b, e->steps_per_quarter);
    mrnn__wbuf_f64(b, e->frame_seconds);
    mrnn__wbuf_i32(b, e->keep_drums);
    mrnn__wbuf_u32(b, e->channel_mask);
    mrnn__wbuf_u64(b, e->track_mask);
    mrnn__wbuf_i32(b, e->normalize_key);
    mrnn__wbuf_u32(b, e->max_steps);
    mrnn__wbuf_u32(b, e->min_count);
    mrnn__wbuf_u32(b, e->max_duration_steps);
    if (layout >= 2) {
        mrnn__wbuf_i32(b, e->multitrack_programs);
        mrnn__wbuf_u32s(b, e->instrument_mask, MRNN_INSTRUMENT_MASK_WORDS);
        mrnn__wbuf_u32(b, e->max_tracks);
        mrnn__wbuf_u32(b, e->velocity_bins);
    }
    mrnn__wbuf_u32(b, v->n);
    for (uint32_t i = 0; i < v->n; i++) {
        mrnn__wbuf_str(b, v->text[i]);
        mrnn__wbuf_u64(b, v->count[i]);
    }
}

static mrnn_status corrupt(const char *file, const char *what)
{
    return mrnn__fail(MRNN_ERR_FORMAT, "%s: corrupt vocabulary: %s", file, what);
}

mrnn_status mrnn__vocab_read(mrnn__rbuf *b, mrnn_vocab **out, const char *file)
{
    *out = NULL;
    if (!file) file = "(buffer)";
    mrnn_encoding_params e;
    params_defaults(&e);
    uint32_t layout = mrnn__rbuf_u32(b);
    e.encoding = mrnn__rbuf_u32(b);
    e.steps_per_quarter = mrnn__rbuf_u32(b);
    e.frame_seconds = mrnn__rbuf_f64(b);
    e.keep_drums = mrnn__rbuf_i32(b);
    e.channel_mask = mrnn__rbuf_u32(b);
    e.track_mask = mrnn__rbuf_u64(b);
    e.normalize_key = mrnn__rbuf_i32(b);
    e.max_steps = mrnn__rbuf_u32(b);
    e.min_count = mrnn__rbuf_u32(b);
    e.max_duration_steps = mrnn__rbuf_u32(b);
    if (layout >= 2) {
        e.multitrack_programs = mrnn__rbuf_i32(b);
        mrnn__rbuf_u32s(b, e.instrument_mask, MRNN_INSTRUMENT_MASK_WORDS);
        e.max_tracks = mrnn__rbuf_u32(b);
        e.velocity_bins = mrnn__rbuf_u32(b);
    }
    uint32_t n = mrnn__rbuf_u32(b);
    if (b->bad) return corrupt(file, "truncated encoding parameters");
    if (layout < 1 || layout > 2) return corrupt(file, "unknown encoding parameters version");
    /* Only the multitrack encoding needs the version-2 fields, and it is written with them. */
    if ((layout == 2) != (e.encoding == MRNN_ENCODING_MULTITRACK))
        return corrupt(file, "encoding parameters of the wrong version for the encoding");
    if (mrnn__encoding_params_check(&e) != MRNN_OK) return corrupt(file, mrnn_last_error());
    if (n > MRNN__MAX_VOCAB) return corrupt(file, "token count out of range");

    mrnn_vocab *v = NULL;
    mrnn_status st = create_filled(&v, &e);
    if (st != MRNN_OK) return st;
    int fixed = e.encoding != MRNN_ENCODING_NOTECHORD;
    if (fixed ? n != v->n : n < 1) {
        mrnn_vocab_free(v);
        return corrupt(file, "wrong number of tokens for the encoding");
    }
    for (uint32_t i = 0; i < n; i++) {
        char *t = mrnn__rbuf_str(b, VOCAB_MAX_TEXT);
        uint64_t count = mrnn__rbuf_u64(b);
        if (!t || b->bad) {
            mrnn__free(t);
            mrnn_vocab_free(v);
            if (b->nomem) return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory reading the vocabulary", file);
            return corrupt(file, "truncated token list");
        }
        /* Fixed vocabularies must hold exactly their tokens; notechord ones a unique list that
         * starts with <unk>. */
        uint32_t id = 0;
        const char *why = NULL;
        if (fixed || i == 0) {
            if (strcmp(t, v->text[i]) != 0) why = "unexpected token text";
        } else if (find_len(v, t, strlen(t), &id) == 0) {
            why = "duplicate token text";
        } else if ((st = add_text(v, t, strlen(t), &id)) != MRNN_OK) {
            mrnn__free(t);
            mrnn_vocab_free(v);
            return st == MRNN_ERR_NOMEM ? st : corrupt(file, mrnn_last_error());
        }
        mrnn__free(t);
        if (why) {
            mrnn_vocab_free(v);
            return corrupt(file, why);
        }
        v->count[i] = count;
    }
    *out = v;
    return MRNN_OK;
}

/* ---- public API ---- */

MRNN_API mrnn_status mrnn_vocab_create(mrnn_vocab **out, const mrnn_encoding_params *enc)
{
    MRNN_CHECK_ARG(out, "out");
    *out = NULL;
    mrnn_encoding_params def;
    if (!enc) {
        mrnn_encoding_params_init(&def, MRNN_ENCODING_PARAMS_VERSION);
        enc = &def;
    }
    mrnn_encoding_params full;
    mrnn_status st = mrnn__encoding_params_import(enc, &full);
    if (st != MRNN_OK) return st;
    return create_filled(out, &full);
}

MRNN_API void mrnn_vocab_free(mrnn_vocab *v)
{
    if (!v) return;
    for (uint32_t i = 0; i < v->n; i++) mrnn__free(v->text[i]);
    mrnn__free(v->text);
    mrnn__free(v->count);
    mrnn__free(v->hash);
    mrnn__free(v);
}

MRNN_API uint32_t mrnn_vocab_size(const mrnn_vocab *v)
{
    return v ? v->n : 0;
}

MRNN_API mrnn_status mrnn_vocab_encoding_params(const mrnn_vocab *v, mrnn_encoding_params *out)
{
    MRNN_CHECK_ARG(v, "v");
    MRNN_CHECK_ARG(out, "out");
    size_t size = params_size(out->version);
    if (!size)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_vocab_encoding_params: out->version %u is not 1..%u", out->version,
                          MRNN_ENCODING_PARAMS_VERSION);
    uint32_t version = out->version;
    memcpy(out, &v->enc, size);
    out->version = version;
    return MRNN_OK;
}

MRNN_API const char *mrnn_vocab_token_text(const mrnn_vocab *v, uint32_t id)
{
    if (!v || id >= v->n) return NULL;
    return v->text[id];
}

MRNN_API mrnn_status mrnn_vocab_token_id(const mrnn_vocab *v, const char *text, uint32_t *id)
{
    MRNN_CHECK_ARG(v, "v");
    MRNN_CHECK_ARG(text, "text");
    MRNN_CHECK_ARG(id, "id");
    if (mrnn__vocab_find(v, text, id) != 0)
        return mrnn__fail(MRNN_ERR_UNKNOWN_TOKEN, "unknown token '%.200s'", text);
    return MRNN_OK;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

MRNN_API mrnn_status mrnn_vocab_parse(const mrnn_vocab *v, const char *text, uint32_t *ids, size_t cap,
                                      size_t *n_out)
{
    MRNN_CHECK_ARG(v, "v");
    MRNN_CHECK_ARG(text, "text");
    MRNN_CHECK_ARG(ids || cap == 0, "ids");
    size_t total = 0, word_no = 0;
    uint32_t tmp[WORD_MAX_IDS];
    const char *p = text;
    for (;;) {
        while (*p && is_space(*p)) p++;
        if (!*p) break;
        const char *w = p;
        while (*p && !is_space(*p)) p++;
        size_t len = (size_t)(p - w), k = 0;
        word_no++;
        mrnn_status st = mrnn__encoding_parse_word(v, w, len, tmp, WORD_MAX_IDS, &k);
        if (st != MRNN_OK) {
            if (n_out) *n_out = 0;
            if (st == MRNN_ERR_UNKNOWN_TOKEN || st == MRNN_ERR_LIMIT)
                return mrnn__fail(MRNN_ERR_UNKNOWN_TOKEN, "seed text: unknown token '%.*s' (word %zu, offset %zu)",
                                  len > 200 ? 200 : (int)len, w, word_no, (size_t)(w - text));
            return st;
        }
        for (size_t i = 0; i < k; i++, total++)
            if (total < cap) ids[total] = tmp[i];
    }
    if (n_out) *n_out = total;
    if (total > cap)
        return mrnn__fail(MRNN_ERR_LIMIT, "seed text needs %zu ids, the buffer holds %zu", total, cap);
    return MRNN_OK;
}

/* Appends to a bounded buffer, counting what the full text needs. */
typedef struct text_out {
    char *buf;
    size_t cap, len;
} text_out;

static void put(text_out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, o->len++)
        if (o->len + 1 < o->cap) o->buf[o->len] = s[i];
}

MRNN_API mrnn_status mrnn_vocab_format(const mrnn_vocab *v, const uint32_t *ids, size_t n, char *buf, size_t cap,
                                       size_t *needed)
{
    MRNN_CHECK_ARG(v, "v");
    MRNN_CHECK_ARG(ids || n == 0, "ids");
    MRNN_CHECK_ARG(buf || cap == 0, "buf");
    int multi_hot = v->enc.encoding == MRNN_ENCODING_PIANOROLL;
    for (size_t i = 0; i < n; i++)
        if (ids[i] >= v->n && !(multi_hot && ids[i] == MRNN_FRAME_END))
            return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_vocab_format: id %u at position %zu is out of range (%u tokens)",
                              ids[i], i, v->n);
    text_out o = {buf, cap, 0};
    if (multi_hot) {
        size_t i = 0, frames = 0;
        while (i < n) {
            if (frames++) put(&o, " ", 1);
            size_t keys = 0;
            for (; i < n && ids[i] != MRNN_FRAME_END; i++, keys++) {
                if (keys) put(&o, ".", 1);
                put(&o, v->text[ids[i]], strlen(v->text[ids[i]]));
            }
            if (!keys) put(&o, "_", 1);
            if (i < n) i++; /* the frame end */
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            if (i) put(&o, " ", 1);
            put(&o, v->text[ids[i]], strlen(v->text[ids[i]]));
        }
    }
    if (cap) buf[o.len < cap ? o.len : cap - 1] = '\0';
    if (needed) *needed = o.len + 1;
    if (o.len + 1 > cap)
        return mrnn__fail(MRNN_ERR_LIMIT, "mrnn_vocab_format: the text needs %zu bytes, the buffer holds %zu",
                          o.len + 1, cap);
    return MRNN_OK;
}

MRNN_API mrnn_status mrnn_vocab_save(const mrnn_vocab *v, const char *path)
{
    MRNN_CHECK_ARG(v, "v");
    MRNN_CHECK_ARG(path, "path");
    mrnn__wbuf b = {0};
    mrnn__wbuf_bytes(&b, VOCAB_MAGIC, 8);
    mrnn__wbuf_u32(&b, VOCAB_FORMAT);
    mrnn__vocab_write(v, &b);
    uint32_t crc = b.failed ? 0 : mrnn__crc32(0, b.data, b.len);
    mrnn__wbuf_u32(&b, crc);
    mrnn_status st;
    if (b.failed)
        st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", path);
    else
        st = mrnn__write_file_atomic(path, b.data, b.len);
    mrnn__wbuf_free(&b);
    return st;
}

MRNN_API mrnn_status mrnn_vocab_load(mrnn_vocab **out, const char *path)
{
    MRNN_CHECK_ARG(out, "out");
    *out = NULL;
    MRNN_CHECK_ARG(path, "path");
    uint8_t *data = NULL;
    size_t len = 0;
    mrnn_status st = mrnn__read_file(path, VOCAB_MAX_FILE, &data, &len);
    if (st != MRNN_OK) return st;
    if (len < 8 || memcmp(data, VOCAB_MAGIC, 8) != 0) {
        st = mrnn__fail(MRNN_ERR_FORMAT, "%s: not a vocabulary file (bad magic)", path);
    } else if (len < 16) {
        st = mrnn__fail(MRNN_ERR_FORMAT, "%s: truncated vocabulary file", path);
    } else {
        mrnn__rbuf hb = {data, len, 8, 0, 0};
        uint32_t version = mrnn__rbuf_u32(&hb);
        mrnn__rbuf cb = {data, len, len - 4, 0, 0};
        uint32_t crc = mrnn__rbuf_u32(&cb);
        if (version > VOCAB_FORMAT) {
            st = mrnn__fail(MRNN_ERR_VERSION, "%s: vocabulary format version %u is newer than this library's %u", path,
                            version, VOCAB_FORMAT);
        } else if (version == 0) {
            st = mrnn__fail(MRNN_ERR_FORMAT, "%s: bad vocabulary format version 0", path);
        } else if (crc != mrnn__crc32(0, data, len - 4)) {
            st = mrnn__fail(MRNN_ERR_FORMAT, "%s: vocabulary checksum mismatch (corrupt or truncated file)", path);
        } else {
            mrnn__rbuf b = {data, len - 4, 12, 0, 0};
            st = mrnn__vocab_read(&b, out, path);
            if (st == MRNN_OK && b.pos != b.len) {
                mrnn_vocab_free(*out);
                *out = NULL;
                st = corrupt(path, "trailing bytes");
            }
        }
    }
    mrnn__free(data);
    return st;
}
