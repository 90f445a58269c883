/* The notechord encoding (encoding_notechord.c): chord-duration tokens and waits on a grid. Its
 * vocabulary is built from the data: encoding interns new tokens into v, or maps them to <unk>
 * when v is frozen (*n_unknown counts those). */
#ifndef MRNN_ENCODING_NOTECHORD_H
#define MRNN_ENCODING_NOTECHORD_H

#include <stdint.h>

#include "piece.h"
#include "steps.h"
#include "vocab.h"

mrnn_status mrnn__notechord_encode(const mrnn__piece *p, mrnn_vocab *v, mrnn__steps *out, uint64_t *n_unknown);
mrnn_status mrnn__notechord_decode(const mrnn_vocab *v, const mrnn__steps *in, mrnn__piece *out);

#endif
