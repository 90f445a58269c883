/* The per-instruction-set kernels behind packed.h: private to packed*.c.
 *
 * Every kernel computes y[b][g] (+)= sum_k x[b][k] * M(k, g) for the B rows of x and the output
 * columns [gb, ge) of a packed matrix (gb a multiple of MRNN__PANEL); add = 0 overwrites y. */
#ifndef MRNN_PACKED_KERNELS_H
#define MRNN_PACKED_KERNELS_H

#include <stddef.h>

#include "packed.h"

/* Columns of one panel of a packed matrix (the layout in packed.c). */
#define MRNN__PANEL 64

/* AVX2 + FMA, tiled for 16 YMM registers (packed_avx2.c); only on x86 with GCC or Clang. */
void mrnn__packed_avx2_cols(const mrnn__packed *m, int gb, int ge, int B, const float *x, size_t ldx, float *y,
                            size_t ldy, int add);

#endif
