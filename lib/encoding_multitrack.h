/* The multitrack encoding (encoding_multitrack.c): its vocabulary layout, which instruments of a
 * piece it keeps, and the General MIDI family names. */
#ifndef MRNN_ENCODING_MULTITRACK_H
#define MRNN_ENCODING_MULTITRACK_H

#include <stddef.h>
#include <stdint.h>

#include "piece.h"
#include "steps.h"
#include "vocab.h"

#define MRNN__MT_FAMILIES 16u
#define MRNN__MT_DRUM_SEL 128u                      /* the drum kit's selector index */
#define MRNN__MT_SELECTORS (MRNN__MT_DRUM_SEL + 1u) /* selector indices 0..128 */

/* The ids of each token group, from the params. */
typedef struct mrnn__mt_layout {
    uint32_t n_sel;              /* PROGRAM tokens, ids 0..n_sel-1: 16 families or 128 programs */
    uint32_t note0, drum0, dur0; /* NOTE_p = note0 + p, DRUM_p = drum0 + p, DUR_k = dur0 + k - 1 */
    uint32_t shift0, vel0;       /* TIME_SHIFT_k = shift0 + k - 1, VELOCITY_b = vel0 + b */
    uint32_t max_k, vel_bins, size;
} mrnn__mt_layout;

void mrnn__mt_layout_of(const mrnn_encoding_params *e, mrnn__mt_layout *l);
/* The selector of a note: its family or program, MRNN__MT_DRUM_SEL for drums. */
unsigned mrnn__mt_selector(const mrnn_encoding_params *e, const mrnn__note *n);
/* Which selectors of piece p the encoding keeps (instrument_mask, then max_tracks). */
void mrnn__mt_keep(const mrnn__piece *p, const mrnn_encoding_params *e, uint8_t keep[MRNN__MT_SELECTORS]);
int mrnn__mt_note_kept(const mrnn_encoding_params *e, const uint8_t keep[MRNN__MT_SELECTORS], const mrnn__note *n);
/* The kept notes of p as canonical spans on the grid (key = selector * 128 + pitch, aux = velocity),
 * exactly what the encoder writes; spans needs room for p->n_notes. Returns the count. */
size_t mrnn__mt_canonical_spans(const mrnn__piece *p, const mrnn_encoding_params *e, mrnn__span *spans,
                                mrnn_status *st);
/* GM family names ("bass"), and the reverse (-1 if unknown). */
const char *mrnn__gm_family_name(unsigned family);
int mrnn__gm_family_parse(const char *s, size_t len);

mrnn_status mrnn__multitrack_encode(const mrnn__piece *p, const mrnn_vocab *v, mrnn__steps *out);
mrnn_status mrnn__multitrack_decode(const mrnn_vocab *v, const mrnn__steps *in, mrnn__piece *out);
/* Add the fixed tokens in id order through `add`. */
mrnn_status mrnn__multitrack_fill_vocab(mrnn_vocab *v, mrnn_status (*add)(mrnn_vocab *, const char *));

#endif
