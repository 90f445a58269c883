/* mrnn_vocab: token texts with an open-addressing hash table, the encoding params that give them
 * meaning, and the handle's calls. Seed text is in vocab_text.c, the file format in vocab_file.c. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "encoding.h"
#include "error.h"
#include "vocab.h"

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

void mrnn__encoding_params_defaults(mrnn_encoding_params *p)
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
    mrnn__encoding_params_defaults(&full);
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
    mrnn__encoding_params_defaults(out);
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
    if (p->normalize_key < MRNN_KEY_AS_WRITTEN || p->normalize_key > MRNN_KEY_TONIC_C)
        return mrnn__fail(MRNN_ERR_INVALID_ARG,
                          "%s: normalize_key %d is not 0 (off), 1 (C major / A minor) or 2 (tonic C)", w,
                          (int)p->normalize_key);
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

int mrnn__vocab_find_len(const mrnn_vocab *v, const char *s, size_t len, uint32_t *id)
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
mrnn_status mrnn__vocab_add_text(mrnn_vocab *v, const char *s, size_t len, uint32_t *id)
{
    if (v->n >= MRNN__MAX_VOCAB)
        return mrnn__fail(MRNN_ERR_LIMIT, "the vocabulary is full (%u tokens)", (unsigned)MRNN__MAX_VOCAB);
    if (len > MRNN__VOCAB_MAX_TEXT)
        return mrnn__fail(MRNN_ERR_LIMIT, "token text of %zu bytes is longer than %u", len, MRNN__VOCAB_MAX_TEXT);
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
    if (mrnn__vocab_find_len(v, text, len, &found) == 0) {
        *id = found;
    } else if (v->frozen) {
        if (v->unk == UINT32_MAX) return mrnn__fail(MRNN_ERR_UNKNOWN_TOKEN, "unknown token '%.200s'", text);
        *id = v->unk;
        if (was_unknown) *was_unknown = 1;
    } else {
        st = mrnn__vocab_add_text(v, text, len, id);
        if (st != MRNN_OK) return st;
    }
    v->count[*id]++;
    return MRNN_OK;
}

int mrnn__vocab_find(const mrnn_vocab *v, const char *text, uint32_t *id)
{
    return mrnn__vocab_find_len(v, text, strlen(text), id);
}

/* Used by the encoders' fill function only: a fixed token in creation order. */
mrnn_status mrnn__vocab_new_filled(mrnn_vocab **out, const mrnn_encoding_params *enc)
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
        st = mrnn__vocab_add_text(c, v->text[i], strlen(v->text[i]), &id);
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

/* ---- file layout ---- */

uint32_t mrnn__vocab_format_version(const mrnn_vocab *v)
{
    return v->enc.encoding == MRNN_ENCODING_MULTITRACK ? 2u : 1u;
}

/* ---- the handle ---- */

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
    return mrnn__vocab_new_filled(out, &full);
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

MRNN_API mrnn_status mrnn_vocab_get_encoding_params(const mrnn_vocab *v, mrnn_encoding_params *out)
{
    MRNN_CHECK_ARG(v, "v");
    MRNN_CHECK_ARG(out, "out");
    size_t size = params_size(out->version);
    if (!size)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_vocab_get_encoding_params: out->version %u is not 1..%u", out->version,
                          MRNN_ENCODING_PARAMS_VERSION);
    uint32_t version = out->version;
    memcpy(out, &v->enc, size);
    out->version = version;
    return MRNN_OK;
}

/* The 0.1 name (docs/ABI.md: getters are mrnn_<object>_get_<what>). */
MRNN_API mrnn_status mrnn_vocab_encoding_params(const mrnn_vocab *v, mrnn_encoding_params *out)
{
    return mrnn_vocab_get_encoding_params(v, out);
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
