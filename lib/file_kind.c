/* mrnn_file_kind: which of the library's containers (fileio.h) a file is, by its magic. */
#include "corpus.h"
#include "error.h"
#include "fileio.h"
#include "model.h"
#include "vocab.h"

MRNN_API mrnn_status mrnn_file_kind(const char *path, uint32_t *kind)
{
    MRNN_CHECK_ARG(kind, "kind");
    *kind = MRNN_FILE_OTHER;
    MRNN_CHECK_ARG(path, "path");
    uint8_t magic[8];
    size_t got = 0;
    mrnn_status st = mrnn__read_head(path, magic, sizeof magic, &got);
    if (st != MRNN_OK) return st;
    /* in the order of enum mrnn_file_type */
    const mrnn__container *const kinds[3] = {&mrnn__corpus_container, &mrnn__model_container, &mrnn__vocab_container};
    *kind = (uint32_t)mrnn__container_match(kinds, 3, magic, got);
    return MRNN_OK;
}
