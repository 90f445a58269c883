/* Encoders: mrnn__piece <-> token steps. Each encoding knows notes and tokens, nothing of MIDI.
 * Every encoder has its inverse decoder; round trips are tested through mrnn__piece. */
#ifndef MRNN_ENCODING_H
#define MRNN_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "piece.h"
#include "vocab.h"

/* A sequence of steps; step s holds ids[start[s] .. start[s+1]). Event encodings have exactly one
 * id per step; pianoroll frames hold 0..88 key ids (sorted ascending). */
typedef struct mrnn__steps {
    uint32_t *ids;
    size_t n_ids, cap_ids;
    uint32_t *start; /* [n_steps + 1]; start[0] = 0 */
    size_t n_steps, cap_start;
} mrnn__steps;

void mrnn__steps_init(mrnn__steps *s);
void mrnn__steps_free(mrnn__steps *s);
void mrnn__steps_clear(mrnn__steps *s);
mrnn_status mrnn__steps_push_id(mrnn__steps *s, uint32_t id); /* add id to the open step */
mrnn_status mrnn__steps_end_step(mrnn__steps *s);              /* close the open step */
/* Flat form used by the public API: pianoroll frames followed by MRNN_FRAME_END; event ids as is. */
mrnn_status mrnn__steps_from_flat(mrnn__steps *s, const uint32_t *ids, size_t n, int multi_hot);

/* Number of pianoroll keys, lowest key. */
#define MRNN__PIANO_KEYS 88
#define MRNN__PIANO_LOW 21

/* Performance vocabulary layout. */
#define MRNN__PERF_NOTE_ON 0
#define MRNN__PERF_NOTE_OFF 128
#define MRNN__PERF_TIME_SHIFT 256 /* TIME_SHIFT_k (k = 1..100) has id 255 + k */
#define MRNN__PERF_VELOCITY 356   /* VELOCITY_b (b = 0..31) has id 356 + b */
#define MRNN__PERF_SIZE 388
#define MRNN__PERF_SHIFT_STEPS 100
#define MRNN__PERF_SHIFT_SECONDS 0.01
#define MRNN__PERF_VELOCITY_BINS 32

/* Multitrack layout (see encoding_multitrack.c): the ids of each token group, from the params. */
#define MRNN__MT_FAMILIES 16u
#define MRNN__MT_DRUM_SEL 128u                       /* the drum kit's selector index */
#define MRNN__MT_SELECTORS (MRNN__MT_DRUM_SEL + 1u)  /* selector indices 0..128 */
typedef struct mrnn__mt_layout {
    uint32_t n_sel;               /* PROGRAM tokens, ids 0..n_sel-1: 16 families or 128 programs */
    uint32_t note0, drum0, dur0;  /* NOTE_p = note0 + p, DRUM_p = drum0 + p, DUR_k = dur0 + k - 1 */
    uint32_t shift0, vel0;        /* TIME_SHIFT_k = shift0 + k - 1, VELOCITY_b = vel0 + b */
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
/* Whether reading MIDI for this encoding keeps the drum channel (multitrack always does). */
static inline int mrnn__encoding_reads_drums(const mrnn_encoding_params *e)
{
    return e->encoding == MRNN_ENCODING_MULTITRACK ? 1 : e->keep_drums;
}

/* Fill a new vocabulary's fixed tokens (performance: 388, pianoroll: 88; notechord: <unk>). */
mrnn_status mrnn__encoding_fill_vocab(mrnn_vocab *v);

/* Encode piece p with v's encoding, appending steps to *out (cleared first). Notechord interns
 * new tokens into v (or maps them to <unk> if v is frozen; *n_unknown counts those). */
mrnn_status mrnn__encode(const mrnn__piece *p, mrnn_vocab *v, mrnn__steps *out, uint64_t *n_unknown);
/* Decode steps into *out (cleared first). Unknown or meaningless tokens are skipped. Tempo 120 bpm. */
mrnn_status mrnn__decode(const mrnn_vocab *v, const mrnn__steps *in, mrnn__piece *out);

/* Per encoding (called by the dispatchers above). */
mrnn_status mrnn__notechord_encode(const mrnn__piece *p, mrnn_vocab *v, mrnn__steps *out, uint64_t *n_unknown);
mrnn_status mrnn__notechord_decode(const mrnn_vocab *v, const mrnn__steps *in, mrnn__piece *out);
mrnn_status mrnn__performance_encode(const mrnn__piece *p, const mrnn_vocab *v, mrnn__steps *out);
mrnn_status mrnn__performance_decode(const mrnn_vocab *v, const mrnn__steps *in, mrnn__piece *out);
mrnn_status mrnn__pianoroll_encode(const mrnn__piece *p, const mrnn_vocab *v, mrnn__steps *out);
mrnn_status mrnn__pianoroll_decode(const mrnn_vocab *v, const mrnn__steps *in, mrnn__piece *out);
mrnn_status mrnn__multitrack_encode(const mrnn__piece *p, const mrnn_vocab *v, mrnn__steps *out);
mrnn_status mrnn__multitrack_decode(const mrnn_vocab *v, const mrnn__steps *in, mrnn__piece *out);
mrnn_status mrnn__multitrack_fill_vocab(mrnn_vocab *v, mrnn_status (*add)(mrnn_vocab *, const char *));

/* Parse one seed-text word into ids for v's encoding (pianoroll: a frame "C4.E4" or "_" gives its
 * keys followed by MRNN_FRAME_END). Returns MRNN_ERR_UNKNOWN_TOKEN naming the word. */
mrnn_status mrnn__encoding_parse_word(const mrnn_vocab *v, const char *word, size_t len, uint32_t *ids,
                                      size_t cap, size_t *n);

/* Pitch names: MIDI 60 <-> "C4", sharps as '#', flats 'b' accepted on parse. */
int mrnn__pitch_name(int pitch, char *buf, size_t cap);          /* returns length */
int mrnn__pitch_parse(const char *s, size_t len, int *pitch);    /* 0 on success */

#endif
