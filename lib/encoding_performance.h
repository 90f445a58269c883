/* The performance encoding (encoding_performance.c) and its fixed vocabulary layout. */
#ifndef MRNN_ENCODING_PERFORMANCE_H
#define MRNN_ENCODING_PERFORMANCE_H

#include "piece.h"
#include "steps.h"
#include "vocab.h"

#define MRNN__PERF_NOTE_ON 0
#define MRNN__PERF_NOTE_OFF 128
#define MRNN__PERF_TIME_SHIFT 256 /* TIME_SHIFT_k (k = 1..100) has id 255 + k */
#define MRNN__PERF_VELOCITY 356   /* VELOCITY_b (b = 0..31) has id 356 + b */
#define MRNN__PERF_SIZE 388
#define MRNN__PERF_SHIFT_STEPS 100
#define MRNN__PERF_SHIFT_SECONDS 0.01
#define MRNN__PERF_VELOCITY_BINS 32

mrnn_status mrnn__performance_encode(const mrnn__piece *p, const mrnn_vocab *v, mrnn__steps *out);
mrnn_status mrnn__performance_decode(const mrnn_vocab *v, const mrnn__steps *in, mrnn__piece *out);

#endif
