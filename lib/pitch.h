/* Pitch names (pitch.c): MIDI 60 <-> "C4", sharps as '#', flats 'b' accepted on parse. */
#ifndef MRNN_PITCH_H
#define MRNN_PITCH_H

#include <stddef.h>

int mrnn__pitch_name(int pitch, char *buf, size_t cap);       /* returns length */
int mrnn__pitch_parse(const char *s, size_t len, int *pitch); /* 0 on success */

#endif
