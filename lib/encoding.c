/* Dispatch to the four encodings, their fixed vocabularies, and seed-word parsing. */
#include <stdio.h>
#include <string.h>

#include "encoding.h"
#include "encoding_notechord.h"
#include "encoding_performance.h"
#include "encoding_pianoroll.h"
#include "encoding_multitrack.h"
#include "error.h"
#include "pitch.h"

static mrnn_status add_fixed(mrnn_vocab *v, const char *text)
{
    uint32_t id;
    return mrnn__vocab_intern(v, text, &id, NULL);
}

mrnn_status mrnn__encoding_fill_vocab(mrnn_vocab *v)
{
    char t[32];
    mrnn_status st = MRNN_OK;
    switch (v->enc.encoding) {
    case MRNN_ENCODING_NOTECHORD:
        st = add_fixed(v, MRNN__UNK_TEXT);
        v->unk = 0;
        return st;
    case MRNN_ENCODING_PERFORMANCE:
        /* Ids follow the layout macros in encoding.h: texts are added in id order. */
        for (int p = 0; p < 128 && st == MRNN_OK; p++) {
            snprintf(t, sizeof t, "NOTE_ON_%d", p);
            st = add_fixed(v, t);
        }
        for (int p = 0; p < 128 && st == MRNN_OK; p++) {
            snprintf(t, sizeof t, "NOTE_OFF_%d", p);
            st = add_fixed(v, t);
        }
        for (int k = 1; k <= MRNN__PERF_SHIFT_STEPS && st == MRNN_OK; k++) {
            snprintf(t, sizeof t, "TIME_SHIFT_%d", k);
            st = add_fixed(v, t);
        }
        for (int b = 0; b < MRNN__PERF_VELOCITY_BINS && st == MRNN_OK; b++) {
            snprintf(t, sizeof t, "VELOCITY_%d", b);
            st = add_fixed(v, t);
        }
        return st;
    case MRNN_ENCODING_PIANOROLL:
        for (int k = 0; k < MRNN__PIANO_KEYS && st == MRNN_OK; k++) {
            mrnn__pitch_name(MRNN__PIANO_LOW + k, t, sizeof t);
            st = add_fixed(v, t);
        }
        return st;
    case MRNN_ENCODING_MULTITRACK:
        return mrnn__multitrack_fill_vocab(v, add_fixed);
    default:
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "unknown encoding %u", v->enc.encoding);
    }
}

/* Cut to max_steps (notechord stops by itself, so that cut tokens are never interned). */
static void cut_steps(mrnn__steps *s, uint32_t max_steps)
{
    if (max_steps == 0 || s->n_steps <= max_steps) return;
    s->n_steps = max_steps;
    s->n_ids = s->start[max_steps];
}

mrnn_status mrnn__encode(const mrnn__piece *p, mrnn_vocab *v, mrnn__steps *out, uint64_t *n_unknown)
{
    if (!p || !v || !out) return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn__encode: NULL argument");
    uint64_t unknown = 0;
    mrnn__steps_clear(out);
    mrnn_status st;
    switch (v->enc.encoding) {
    case MRNN_ENCODING_NOTECHORD:
        st = mrnn__notechord_encode(p, v, out, &unknown);
        break;
    case MRNN_ENCODING_PERFORMANCE:
        st = mrnn__performance_encode(p, v, out);
        break;
    case MRNN_ENCODING_PIANOROLL:
        st = mrnn__pianoroll_encode(p, v, out);
        break;
    case MRNN_ENCODING_MULTITRACK:
        st = mrnn__multitrack_encode(p, v, out);
        break;
    default:
        st = mrnn__fail(MRNN_ERR_INVALID_ARG, "unknown encoding %u", v->enc.encoding);
    }
    if (st != MRNN_OK) {
        mrnn__steps_clear(out);
        return st;
    }
    cut_steps(out, v->enc.max_steps);
    if (n_unknown) *n_unknown += unknown;
    return MRNN_OK;
}

mrnn_status mrnn__decode(const mrnn_vocab *v, const mrnn__steps *in, mrnn__piece *out)
{
    if (!v || !in || !out) return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn__decode: NULL argument");
    mrnn__piece_clear(out);
    mrnn_status st = mrnn__piece_add_tempo(out, 0.0, 500000.0);
    if (st != MRNN_OK) return st;
    switch (v->enc.encoding) {
    case MRNN_ENCODING_NOTECHORD:
        st = mrnn__notechord_decode(v, in, out);
        break;
    case MRNN_ENCODING_PERFORMANCE:
        st = mrnn__performance_decode(v, in, out);
        break;
    case MRNN_ENCODING_PIANOROLL:
        st = mrnn__pianoroll_decode(v, in, out);
        break;
    case MRNN_ENCODING_MULTITRACK:
        st = mrnn__multitrack_decode(v, in, out);
        break;
    default:
        st = mrnn__fail(MRNN_ERR_INVALID_ARG, "unknown encoding %u", v->enc.encoding);
    }
    if (st == MRNN_OK) mrnn__piece_sort(out);
    return st;
}

static mrnn_status unknown_word(const char *word, size_t len)
{
    return mrnn__fail(MRNN_ERR_UNKNOWN_TOKEN, "unknown token '%.*s'", len > 200 ? 200 : (int)len, word);
}

/* A pianoroll frame: "_" or key names joined by '.'; keys come out sorted, without repeats. */
static mrnn_status parse_frame(const char *word, size_t len, uint32_t *ids, size_t cap, size_t *n)
{
    unsigned char on[MRNN__PIANO_KEYS] = {0};
    if (!(len == 1 && word[0] == '_')) {
        size_t i = 0;
        for (;;) {
            size_t j = i;
            while (j < len && word[j] != '.') j++;
            int pitch;
            if (mrnn__pitch_parse(word + i, j - i, &pitch) != 0 || pitch < MRNN__PIANO_LOW ||
                pitch >= MRNN__PIANO_LOW + MRNN__PIANO_KEYS)
                return unknown_word(word, len);
            on[pitch - MRNN__PIANO_LOW] = 1;
            if (j == len) break;
            i = j + 1;
        }
    }
    size_t k = 0;
    for (uint32_t key = 0; key < MRNN__PIANO_KEYS; key++) {
        if (!on[key]) continue;
        if (k >= cap) return mrnn__fail(MRNN_ERR_LIMIT, "frame '%.*s' does not fit", (int)(len > 200 ? 200 : len), word);
        ids[k++] = key;
    }
    if (k >= cap) return mrnn__fail(MRNN_ERR_LIMIT, "frame '%.*s' does not fit", (int)(len > 200 ? 200 : len), word);
    ids[k++] = MRNN_FRAME_END;
    *n = k;
    return MRNN_OK;
}

mrnn_status mrnn__encoding_parse_word(const mrnn_vocab *v, const char *word, size_t len, uint32_t *ids, size_t cap,
                                      size_t *n)
{
    *n = 0;
    if (v->enc.encoding == MRNN_ENCODING_PIANOROLL) return parse_frame(word, len, ids, cap, n);
    char buf[4100];
    if (len >= sizeof buf) return unknown_word(word, len);
    memcpy(buf, word, len);
    buf[len] = '\0';
    uint32_t id;
    if (mrnn__vocab_find(v, buf, &id) != 0) return unknown_word(word, len);
    if (cap < 1) return mrnn__fail(MRNN_ERR_LIMIT, "no room for token '%s'", buf);
    ids[0] = id;
    *n = 1;
    return MRNN_OK;
}
