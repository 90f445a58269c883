/* Fuzz target: the multitrack decoder and the instrument-list parser.
 *
 * First byte even: the next three bytes pick the encoding params (grid, longest DUR/TIME_SHIFT
 * token, families or programs, velocity bins), the rest are token ids (two bytes each, modulo the
 * vocabulary). Any token stream must decode without failing into notes that are well formed (end
 * after start, drums exactly on channel 10), and decoding is a fixed point of the round trip: the
 * decoded piece encodes and decodes to the same notes on the grid.
 * First byte odd: the rest is an instrument list for mrnn_instrument_parse(); what parses sets
 * only instrument slots, and a failure clears the mask and names the entry. */
#include "fuzz_util.h"

#include <math.h>

#include "encoding.h"
#include "encoding_multitrack.h"
#include "piece.h"
#include "steps.h"
#include "vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longest stream decoded: enough for every state of the decoder, short enough to stay fast. */
#define MAX_TOKENS 4096

static void fuzz_list(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0';
    uint32_t mask[MRNN_INSTRUMENT_MASK_WORDS];
    fuzz_begin();
    mrnn_status st = mrnn_instrument_parse(text, mask);
    fuzz_check(st);
    if (mask[MRNN_INSTRUMENT_MASK_WORDS - 1] >> (MRNN_INSTRUMENT_COUNT % 32)) abort();
    if (st != MRNN_OK) {
        for (unsigned w = 0; w < MRNN_INSTRUMENT_MASK_WORDS; w++)
            if (mask[w]) abort();
        if (st != MRNN_ERR_UNKNOWN_TOKEN) abort();
    }
    free(text);
}

/* The notes of a piece on the grid, sorted, as (selector * 128 + pitch, start, end). */
static size_t grid_notes(const mrnn__piece *p, const mrnn_encoding_params *e, int64_t *out)
{
    mrnn__span *s = malloc((p->n_notes + 1) * sizeof *s);
    if (!s) abort();
    mrnn_status st;
    size_t n = mrnn__mt_canonical_spans(p, e, s, &st);
    if (st != MRNN_OK) abort();
    for (size_t i = 0; i < n; i++) {
        out[3 * i] = s[i].key;
        out[3 * i + 1] = s[i].start;
        out[3 * i + 2] = s[i].end;
    }
    free(s);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (data[0] & 1) {
        fuzz_list(data + 1, size - 1);
        return 0;
    }
    if (size < 4) return 0;
    mrnn_encoding_params e;
    mrnn_encoding_params_init(&e, MRNN_ENCODING_PARAMS_VERSION);
    e.encoding = MRNN_ENCODING_MULTITRACK;
    e.steps_per_quarter = 1u + data[1] % 24u;
    e.max_duration_steps = 1u + data[2] % 32u;
    e.multitrack_programs = data[3] & 1;
    e.velocity_bins = (data[3] >> 1) % 5 ? 2u << ((data[3] >> 1) % 5) : 0;
    fuzz_begin();
    mrnn_vocab *v = NULL;
    if (mrnn_vocab_create(&v, &e) != MRNN_OK) abort();
    mrnn__steps s;
    mrnn__steps_init(&s);
    for (size_t i = 4; i + 1 < size && s.n_steps < MAX_TOKENS; i += 2) {
        uint32_t id = ((uint32_t)data[i] | ((uint32_t)data[i + 1] << 8)) % v->n;
        if (mrnn__steps_push_id(&s, id) != MRNN_OK || mrnn__steps_end_step(&s) != MRNN_OK) abort();
    }
    mrnn__piece d, again;
    mrnn__piece_init(&d);
    mrnn__piece_init(&again);
    if (mrnn__decode(v, &s, &d) != MRNN_OK) abort();
    for (size_t i = 0; i < d.n_notes; i++) {
        const mrnn__note *n = &d.notes[i];
        if (!(n->end_q > n->start_q) || !isfinite(n->end_s) || n->pitch > 127) abort();
        if (n->drum != (n->channel == MRNN__DRUM_CHANNEL)) abort();
    }
    mrnn__steps s2;
    mrnn__steps_init(&s2);
    if (mrnn__encode(&d, v, &s2, NULL) != MRNN_OK) abort();
    if (mrnn__decode(v, &s2, &again) != MRNN_OK) abort();
    int64_t *a = malloc((d.n_notes + 1) * 3 * sizeof *a), *b = malloc((again.n_notes + 1) * 3 * sizeof *b);
    if (!a || !b) abort();
    size_t na = grid_notes(&d, &e, a), nb = grid_notes(&again, &e, b);
    if (na != nb || (na && memcmp(a, b, na * 3 * sizeof *a) != 0)) abort();
    free(a);
    free(b);
    mrnn__steps_free(&s2);
    mrnn__steps_free(&s);
    mrnn__piece_free(&again);
    mrnn__piece_free(&d);
    mrnn_vocab_free(v);
    return 0;
}
