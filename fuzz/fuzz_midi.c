/* Fuzz target: the guarded MIDI reader (the memory entry point behind mrnn_corpus_add_file), then
 * every encoding of what it read, and the decoding back, as the corpus does. */
#include "fuzz_util.h"

#include <musicrnn/musicrnn.h>

#include "encoding.h"
#include "midi.h"
#include "piece.h"
#include "vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void encode_and_decode(const mrnn__piece *p, uint32_t encoding)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = encoding;
    enc.keep_drums = 1;
    /* The corpus default is no cut; a cut keeps each input fast while still encoding the whole
     * time range (the cut is applied while emitting). */
    enc.max_steps = 20000;
    mrnn_vocab *v = NULL;
    if (mrnn_vocab_create(&v, &enc) != MRNN_OK) abort();
    mrnn__steps steps;
    mrnn__steps_init(&steps);
    uint64_t unknown = 0;
    mrnn_status st = mrnn__encode(p, v, &steps, &unknown);
    fuzz_check(st);
    if (st == MRNN_OK) {
        mrnn__piece back;
        mrnn__piece_init(&back);
        if (mrnn__decode(v, &steps, &back) != MRNN_OK) abort(); /* our own tokens always decode */
        mrnn__piece_free(&back);
    }
    mrnn__steps_free(&steps);
    mrnn_vocab_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mrnn__midi_select sel = {0, 0, 1, 0};
    mrnn__piece p;
    mrnn__piece_init(&p);
    fuzz_begin();
    mrnn_status st = mrnn__midi_read_memory(data, size, "fuzz.mid", &sel, &p);
    fuzz_check(st);
    if (st != MRNN_OK) {
        mrnn__piece_free(&p);
        return 0;
    }
    encode_and_decode(&p, MRNN_ENCODING_NOTECHORD);
    encode_and_decode(&p, MRNN_ENCODING_PERFORMANCE);
    encode_and_decode(&p, MRNN_ENCODING_PIANOROLL);
    mrnn__piece_free(&p);
    return 0;
}
