/* export_tokens: write a corpus's pieces as text, so that a reference implementation in another
 * language (bench/torch_reference.py) trains and scores on exactly the tokens and splits the library
 * sees. Uses only the public API.
 *
 * Output, one line each:
 *   musicrnn-tokens 1 ENCODING VOCAB_SIZE MULTI_HOT
 *   SPLIT TRANSPOSE STEP STEP ...        (one line per piece)
 * A step of an event encoding is its token id; a pianoroll step is its key ids joined by ',' or '-'
 * for a silent frame. */
#include <musicrnn/musicrnn.h>
#include <stdio.h>

static int write_piece(FILE *f, const uint32_t *ids, size_t n, uint32_t split, int32_t transpose, int multi_hot)
{
    fprintf(f, "%u %d", split, transpose);
    if (!multi_hot) {
        for (size_t k = 0; k < n; k++) fprintf(f, " %u", ids[k]);
    } else {
        /* Frames end with MRNN_FRAME_END; keys of one frame are joined by ','. */
        int keys_in_frame = 0;
        for (size_t k = 0; k < n; k++) {
            if (ids[k] == MRNN_FRAME_END) {
                if (!keys_in_frame) fputs(" -", f);
                keys_in_frame = 0;
            } else {
                fprintf(f, "%c%u", keys_in_frame ? ',' : ' ', ids[k]);
                keys_in_frame = 1;
            }
        }
    }
    return fputc('\n', f) == EOF ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: export_tokens CORPUS.mrc OUT.txt\n");
        return 2;
    }
    mrnn_corpus *c = NULL;
    if (mrnn_corpus_load(&c, argv[1]) != MRNN_OK) {
        fprintf(stderr, "export_tokens: %s\n", mrnn_last_error());
        return 1;
    }
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    if (mrnn_vocab_get_encoding_params(mrnn_corpus_vocab(c), &enc) != MRNN_OK) {
        fprintf(stderr, "export_tokens: %s\n", mrnn_last_error());
        mrnn_corpus_free(c);
        return 1;
    }
    int multi_hot = enc.encoding == MRNN_ENCODING_PIANOROLL;
    static const char *const names[] = {"?", "notechord", "performance", "pianoroll"};
    FILE *f = fopen(argv[2], "w");
    if (!f) {
        fprintf(stderr, "export_tokens: cannot write %s\n", argv[2]);
        mrnn_corpus_free(c);
        return 1;
    }
    fprintf(f, "musicrnn-tokens 1 %s %u %d\n", enc.encoding <= 3 ? names[enc.encoding] : "?",
            mrnn_vocab_size(mrnn_corpus_vocab(c)), multi_hot);
    int rc = 0;
    for (uint32_t i = 0; i < mrnn_corpus_piece_count(c) && rc == 0; i++) {
        const uint32_t *ids;
        size_t n;
        uint32_t split;
        int32_t transpose;
        if (mrnn_corpus_piece_tokens(c, i, &ids, &n, &split, &transpose) != MRNN_OK) {
            fprintf(stderr, "export_tokens: %s\n", mrnn_last_error());
            rc = 1;
        } else if (write_piece(f, ids, n, split, transpose, multi_hot) != 0) {
            rc = 1;
        }
    }
    if (fclose(f) != 0 || rc) {
        fprintf(stderr, "export_tokens: write error on %s\n", argv[2]);
        rc = 1;
    }
    mrnn_corpus_free(c);
    return rc;
}
