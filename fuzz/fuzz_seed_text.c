/* Fuzz target: the seed-text parser (mrnn_vocab_parse) of each encoding's vocabulary. The first
 * input byte picks the encoding, the rest is the text. Whatever parses must format back to a text
 * that parses to the same ids. */
#include "fuzz_util.h"

#include <musicrnn/musicrnn.h>

#include "vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mrnn_vocab *vocabs[3];

/* A notechord vocabulary starts with <unk> only and grows from a corpus; give it the kinds of
 * tokens a corpus would add, so that known words are found and formatted too. */
static void add_notechord_tokens(mrnn_vocab *v)
{
    static const char *const words[] = {"C4:q", "C4.E4.G4:q", "D#5:e.", "W:h", "W:3/4", "drum36:s",
                                        "A0.C8:w", "Bb3:t", "G4:e"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        uint32_t id;
        if (mrnn__vocab_intern(v, words[i], &id, NULL) != MRNN_OK) abort();
    }
    v->frozen = 1;
}

static void init_vocabs(void)
{
    static const uint32_t encodings[3] = {MRNN_ENCODING_NOTECHORD, MRNN_ENCODING_PERFORMANCE,
                                          MRNN_ENCODING_PIANOROLL};
    for (int i = 0; i < 3; i++) {
        mrnn_encoding_params enc;
        mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
        enc.encoding = encodings[i];
        if (mrnn_vocab_create(&vocabs[i], &enc) != MRNN_OK) abort();
    }
    add_notechord_tokens(vocabs[0]);
}

/* Parse text into a new array (NULL on a parse error). */
static uint32_t *parse(const mrnn_vocab *v, const char *text, size_t *n)
{
    fuzz_begin();
    mrnn_status st = mrnn_vocab_parse(v, text, NULL, 0, n);
    if (st != MRNN_ERR_LIMIT) fuzz_check(st);
    if (st != MRNN_OK && st != MRNN_ERR_LIMIT) return NULL;
    if (st == MRNN_OK && *n != 0) abort(); /* cap 0 cannot hold a non-empty result */
    uint32_t *ids = malloc((*n ? *n : 1) * sizeof *ids);
    if (!ids) abort();
    size_t again = 0;
    if (mrnn_vocab_parse(v, text, ids, *n, &again) != MRNN_OK || again != *n) abort();
    return ids;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!vocabs[0]) init_vocabs();
    if (size < 1) return 0;
    const mrnn_vocab *v = vocabs[data[0] % 3];
    char *text = malloc(size);
    if (!text) abort();
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    size_t n = 0;
    uint32_t *ids = parse(v, text, &n);
    free(text);
    if (!ids) return 0;
    size_t need = 0;
    if (mrnn_vocab_format(v, ids, n, NULL, 0, &need) != MRNN_ERR_LIMIT) abort(); /* 0 bytes never fit */
    char *back = malloc(need ? need : 1);
    if (!back) abort();
    if (mrnn_vocab_format(v, ids, n, back, need, NULL) != MRNN_OK) abort();
    size_t n2 = 0;
    uint32_t *ids2 = parse(v, back, &n2);
    if (!ids2 || n2 != n || (n && memcmp(ids, ids2, n * sizeof *ids) != 0)) abort();
    free(ids2);
    free(back);
    free(ids);
    return 0;
}
