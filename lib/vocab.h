/* Internal view of the vocabulary: the encoders intern token texts through it. */
#ifndef MRNN_VOCAB_H
#define MRNN_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "fileio.h"
#include "musicrnn/musicrnn.h"

#define MRNN__UNK_TEXT "<unk>"
#define MRNN__MAX_VOCAB (1u << 20)
/* Longest token text accepted: a notechord chord of all 128 pitches plus drums still fits. */
#define MRNN__VOCAB_MAX_TEXT 4096u

struct mrnn_vocab {
    mrnn_encoding_params enc;
    uint32_t n;        /* number of tokens */
    uint32_t cap;
    char **text;       /* [n] owned strings */
    uint64_t *count;   /* [n] occurrences seen while building (notechord) */
    uint32_t *hash;    /* open-addressing table of ids+1, size hash_cap (power of two) */
    uint32_t hash_cap;
    int frozen;        /* 1: unknown texts map to <unk> instead of being added */
    uint32_t unk;      /* id of <unk>, or UINT32_MAX if the encoding has none */
};

/* Id of `text`, adding it (count 1) if the vocabulary is not frozen, else <unk> (and *was_unknown=1).
 * Counts are incremented on every call. */
mrnn_status mrnn__vocab_intern(mrnn_vocab *v, const char *text, uint32_t *id, int *was_unknown);
/* Id of text without adding; returns 0 if found. */
int mrnn__vocab_find(const mrnn_vocab *v, const char *text, uint32_t *id);
/* The same for the first len bytes of s (no terminator needed); 0 if found. */
int mrnn__vocab_find_len(const mrnn_vocab *v, const char *s, size_t len, uint32_t *id);
/* Append a text known to be absent (count 0). */
mrnn_status mrnn__vocab_add_text(mrnn_vocab *v, const char *s, size_t len, uint32_t *id);
/* A new vocabulary for enc (already checked) holding the encoding's fixed tokens. */
mrnn_status mrnn__vocab_new_filled(mrnn_vocab **out, const mrnn_encoding_params *enc);
/* Deep copy. */
mrnn_status mrnn__vocab_clone(const mrnn_vocab *v, mrnn_vocab **out);
/* Equality of encoding and token list (used to check a corpus against a model). */
int mrnn__vocab_equal(const mrnn_vocab *a, const mrnn_vocab *b);
/* Serialise into / parse from a buffer (embedded in corpus and checkpoint files; vocab_file.c). */
void mrnn__vocab_write(const mrnn_vocab *v, mrnn__wbuf *b);
mrnn_status mrnn__vocab_read(mrnn__rbuf *b, mrnn_vocab **out, const char *file);
/* Validate encoding params of the current version (names the bad field). */
mrnn_status mrnn__encoding_params_check(const mrnn_encoding_params *p);
/* Every field at its default (current version). */
void mrnn__encoding_params_defaults(mrnn_encoding_params *p);
/* Copy caller params of any released version into a full current struct (later fields get their
 * defaults), then check it. */
mrnn_status mrnn__encoding_params_import(const mrnn_encoding_params *in, mrnn_encoding_params *out);
/* Layout of the embedded encoding params: 2 for multitrack (it needs the version-2 fields), else 1,
 * which keeps the bytes of the other encodings as they were. */
uint32_t mrnn__vocab_format_version(const mrnn_vocab *v);

/* The vocabulary file's container (vocab_file.c; fileio.h describes containers). */
extern const mrnn__container mrnn__vocab_container;

#endif
