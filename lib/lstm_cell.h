/* The LSTM cell over one row (one lane at one step): the gate math between the gate products.
 *
 * Forward takes the row's four gate pre-activations [i | f | g | o] (H each, bias not yet added)
 * and writes their activations over them, the cell state c and the output h; backward takes those
 * activations, dh and the running cell gradient dc, writes the pre-activation gradients over the
 * activations and carries dc one step back.
 *
 * Two widths of one body (lstm_cell_body.h): 16 cells at a time where the CPU has AVX-512, 4
 * elsewhere. Each cell goes through the same operations in the same order whatever the width and
 * its position in the row (a row's tail is padded, not handled by other code), so both widths give
 * the same bits and the window and batch-1 paths agree exactly; the width is chosen by CPUID
 * alone. */
#ifndef MRNN_LSTM_CELL_H
#define MRNN_LSTM_CELL_H

#include <stddef.h>
#include <stdint.h>

/* Recurrent dropout of the cell update: each cell's keep-or-drop scale is element row·H + j of the
 * hash stream of `seed` (rng.h), so that forward and backward, and any split of the lanes over
 * threads, draw the same mask without storing it. */
typedef struct mrnn__cell_drop {
    float p;       /* rate in (0, 1) */
    uint64_t seed;
    size_t row;    /* the row's index in the window */
} mrnn__cell_drop;

typedef struct mrnn__cell_row {
    float *a;                   /* [4H] pre-activations (no bias) in, activations out */
    const float *b;             /* [4H] bias */
    const float *c_prev;        /* [H] or NULL for a zero state */
    float *c_out, *h;           /* [H]; c_out may alias c_prev */
    const mrnn__cell_drop *drop; /* NULL: no recurrent dropout */
} mrnn__cell_row;

void mrnn__lstm_cell_forward(const mrnn__cell_row *r, int H);
/* Only cells [j0, j1) of the row (their gates, c and h; 0 <= j0 <= j1 <= H): the same bits as
 * the whole row gives them, so that threads may each take a range. */
void mrnn__lstm_cell_forward_cells(const mrnn__cell_row *r, int H, int j0, int j1);

/* act [4H]: activations in, pre-activation gradients out; c: this step's cell state; cp: the
 * previous one (NULL = zero); dh: the gradient w.r.t. h; dc: the running cell gradient in (from
 * the step after), out (towards the step before). */
void mrnn__lstm_cell_backward(float *act, const float *c, const float *cp, const float *dh, float *dc, int H,
                              const mrnn__cell_drop *drop);

/* The same at a forced width, 4 or 16, for the tests that compare them: 0 when done, -1 when
 * this CPU or build lacks the width. */
int mrnn__lstm_cell_forward_at(int width, const mrnn__cell_row *r, int H, int j0, int j1);
int mrnn__lstm_cell_backward_at(int width, float *act, const float *c, const float *cp, const float *dh, float *dc,
                                int H, const mrnn__cell_drop *drop);

#endif
