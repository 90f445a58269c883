/* Tokens -> MIDI file: the decoder of the vocabulary's encoding, then the MIDI writer. */
#include "encoding.h"
#include "error.h"
#include "midi.h"

MRNN_API mrnn_status mrnn_tokens_write_midi(const mrnn_vocab *vocab, const uint32_t *ids, size_t n,
                                            const char *path, double tempo_bpm, uint32_t program)
{
    MRNN_CHECK_ARG(vocab, "vocab");
    MRNN_CHECK_ARG(ids || n == 0, "ids");
    MRNN_CHECK_ARG(path, "path");
    if (program > 127) return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: program %u is not in 0..127", path, program);
    if (!(tempo_bpm <= 1000)) return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: tempo %g bpm is out of range", path, tempo_bpm);
    int multi_hot = vocab->enc.encoding == MRNN_ENCODING_PIANOROLL;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] >= vocab->n && !(multi_hot && ids[i] == MRNN_FRAME_END))
            return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: token %zu has id %u, the vocabulary has %u", path, i, ids[i],
                              vocab->n);
    }
    mrnn__steps steps;
    mrnn__steps_init(&steps);
    mrnn__piece piece;
    mrnn__piece_init(&piece);
    mrnn_status st = mrnn__steps_from_flat(&steps, ids, n, multi_hot);
    if (st == MRNN_OK) st = mrnn__decode(vocab, &steps, &piece);
    if (st == MRNN_OK) {
        /* Multitrack notes carry their own programs and channels. */
        int prog = vocab->enc.encoding == MRNN_ENCODING_MULTITRACK ? -1 : (int)program;
        mrnn__midi_write_opts opts = {tempo_bpm > 0 ? tempo_bpm : 120.0, prog, 480};
        st = mrnn__midi_write_file(path, &piece, &opts);
    }
    mrnn__piece_free(&piece);
    mrnn__steps_free(&steps);
    return st;
}
