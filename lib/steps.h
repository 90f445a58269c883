/* Token step sequences: what the encoders produce and the decoders read (steps.c).
 * Step s holds ids[start[s] .. start[s+1]). Event encodings have exactly one id per step; pianoroll
 * frames hold 0..88 key ids (sorted ascending). */
#ifndef MRNN_STEPS_H
#define MRNN_STEPS_H

#include <stddef.h>
#include <stdint.h>

#include "musicrnn/musicrnn.h"

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

#endif
