/* The vocabulary on disk (vocab.h): the record embedded in corpus and model files, and the
 * vocabulary file that holds one such record. */
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "fileio.h"
#include "vocab.h"

/* The vocabulary file's container (fileio.h): bump `format` here for a new layout. Format 2: the
 * encoding params may have the version-2 layout (multitrack); format 1 still loads. */
const mrnn__container mrnn__vocab_container = {"MRNNVOCB", "vocabulary", 2u, 1u, (size_t)1 << 30};

void mrnn__vocab_write(const mrnn_vocab *v, mrnn__wbuf *b)
{
    const mrnn_encoding_params *e = &v->enc;
    /* The other encodings keep the version-1 layout, byte for byte as before multitrack. */
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
    mrnn__encoding_params_defaults(&e);
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
    mrnn_status st = mrnn__vocab_new_filled(&v, &e);
    if (st != MRNN_OK) return st;
    int fixed = e.encoding != MRNN_ENCODING_NOTECHORD;
    if (fixed ? n != v->n : n < 1) {
        mrnn_vocab_free(v);
        return corrupt(file, "wrong number of tokens for the encoding");
    }
    for (uint32_t i = 0; i < n; i++) {
        char *t = mrnn__rbuf_str(b, MRNN__VOCAB_MAX_TEXT);
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
        } else if (mrnn__vocab_find_len(v, t, strlen(t), &id) == 0) {
            why = "duplicate token text";
        } else if ((st = mrnn__vocab_add_text(v, t, strlen(t), &id)) != MRNN_OK) {
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

MRNN_API mrnn_status mrnn_vocab_save(const mrnn_vocab *v, const char *path)
{
    MRNN_CHECK_ARG(v, "v");
    MRNN_CHECK_ARG(path, "path");
    mrnn__wbuf b = {0};
    mrnn__container_begin(&mrnn__vocab_container, &b);
    mrnn__vocab_write(v, &b);
    return mrnn__container_save(&mrnn__vocab_container, &b, path);
}

MRNN_API mrnn_status mrnn_vocab_load(mrnn_vocab **out, const char *path)
{
    MRNN_CHECK_ARG(out, "out");
    *out = NULL;
    MRNN_CHECK_ARG(path, "path");
    uint8_t *data = NULL;
    mrnn__rbuf b;
    uint32_t format;
    mrnn_status st = mrnn__container_load(&mrnn__vocab_container, path, &data, &b, &format);
    if (st != MRNN_OK) return st;
    st = mrnn__vocab_read(&b, out, path);
    if (st == MRNN_OK && b.pos != b.len) {
        mrnn_vocab_free(*out);
        *out = NULL;
        st = mrnn__container_corrupt(&mrnn__vocab_container, path, "trailing bytes");
    }
    mrnn__free(data);
    return st;
}
