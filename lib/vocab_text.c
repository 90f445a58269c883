/* Seed text (vocab.h): words of token texts <-> ids, for mrnn_vocab_parse and mrnn_vocab_format. */
#include <string.h>

#include "encoding.h"
#include "encoding_pianoroll.h"
#include "error.h"
#include "vocab.h"

/* Ids a single seed word can expand to: a pianoroll frame of 88 keys plus its end marker. */
#define WORD_MAX_IDS (MRNN__PIANO_KEYS + 1)

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
