/* Fuzz target: the corpus file loader (mrnn_corpus_load), then the getters a program calls on a
 * loaded corpus, which must only see consistent data. */
#include "fuzz_util.h"

#include <musicrnn/musicrnn.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) abort();
    memcpy(buf, data, size);
    fuzz_fix_crc(buf, size);
    mrnn_corpus *c = NULL;
    fuzz_begin();
    mrnn_status st = mrnn_corpus_load(&c, fuzz_memfile(buf, size));
    free(buf);
    fuzz_check(st);
    if (st != MRNN_OK) {
        if (c != NULL) abort(); /* failures leave NULL */
        return 0;
    }
    mrnn_corpus_stats stats;
    if (mrnn_corpus_get_stats(c, &stats) != MRNN_OK) abort();
    const mrnn_vocab *v = mrnn_corpus_vocab(c);
    for (uint32_t i = 0; i < mrnn_corpus_file_count(c); i++) {
        mrnn_file_report r;
        if (mrnn_corpus_get_file_report(c, i, &r) != MRNN_OK || !r.path || !r.reason) abort();
    }
    for (uint32_t i = 0; i < mrnn_corpus_style_count(c); i++)
        if (!mrnn_corpus_style_name(c, i)) abort();
    char text[256];
    for (uint32_t i = 0; i < mrnn_corpus_piece_count(c); i++) {
        const uint32_t *ids;
        size_t n;
        if (mrnn_corpus_piece_tokens(c, i, &ids, &n, NULL, NULL) != MRNN_OK) abort();
        /* Every stored id must be printable with the corpus vocabulary. */
        mrnn_status f = mrnn_vocab_format(v, ids, n < 64 ? n : 64, text, sizeof text, NULL);
        if (f != MRNN_OK && f != MRNN_ERR_LIMIT) abort();
    }
    mrnn_corpus_free(c);
    return 0;
}
