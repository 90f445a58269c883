/* The data-parallel step's sum across ranks: this rank's gradient and loss into one fused buffer,
 * summed by the caller's allreduce callback, back into the gradient of the mean loss over every
 * rank. Either at the end of the backward pass, in one call on the training thread, or overlapped
 * with it: a thread of the reducer's own sums each finished segment while the backward pass computes
 * the next. Both do the same arithmetic on every float, so with one rank they give the same bits.
 *
 * The fused buffer has n + 2 floats: the n gradient floats scaled by the rank's scored rows, its
 * loss sum, its scored rows. Segments are fixed when the reducer is made (the same on every rank,
 * whatever the data): segment 0 is [bounds[1], n + 2), segment k is [bounds[k+1], bounds[k]), the
 * last ends at 0. They are reduced in that order, one allreduce call each, from the reducer's thread,
 * never two at once; between steps the thread is idle, so the caller may call the same allreduce
 * itself (the stop vote). */
#ifndef MRNN_GRAD_REDUCER_H
#define MRNN_GRAD_REDUCER_H

#include <stddef.h>

#include <musicrnn/musicrnn.h>

#include "network.h"

#define MRNN__REDUCER_MAX_SEGMENTS 16

typedef struct mrnn__grad_reducer mrnn__grad_reducer;

/* The segment starts of a network's gradient block g (bound by mrnn__net_bind) into cuts
 * [MRNN__MAX_LAYERS + 1], in the order the backward pass finishes them; returns how many. */
int mrnn__grad_reducer_net_cuts(const mrnn__net_config *cfg, const mrnn__net_params *g, size_t *cuts);

/* A reducer of gradient grad [n] (borrowed; it writes the reduced mean gradient back into it).
 * overlap = 0: one segment, reduced by mrnn__grad_reducer_finish on the calling thread. overlap = 1:
 * segment starts cuts[0 .. n_cuts) (strictly decreasing, each < n, the last 0; at most
 * MRNN__REDUCER_MAX_SEGMENTS), reduced on the reducer's thread; a segment shorter than min_floats
 * is joined to the one after it. Fails with MRNN_ERR_NOMEM (out of memory, or no thread). */
mrnn_status mrnn__grad_reducer_new(mrnn__grad_reducer **out, float *grad, size_t n, int overlap, const size_t *cuts,
                                   int n_cuts, size_t min_floats, mrnn_allreduce_fn fn, void *user_data);
/* Stops and joins the thread; NULL does nothing. */
void mrnn__grad_reducer_free(mrnn__grad_reducer *r);
/* Segments per step after joining the short ones. */
int mrnn__grad_reducer_segments(const mrnn__grad_reducer *r);

/* A step's loss is known (before its first mrnn__grad_reducer_ready): this rank's loss sum and
 * scored rows. */
void mrnn__grad_reducer_start(mrnn__grad_reducer *r, double loss_sum, double n_scored);
/* grad[from, n) is final for this step: reduce the segments it completes. */
void mrnn__grad_reducer_ready(mrnn__grad_reducer *r, size_t from);
/* The rest of the gradient is final: wait for every segment. Then grad holds the gradient of the
 * mean loss over every rank's rows, and *loss_sum and *n_scored the sums over the ranks. Returns 0,
 * or -1 when an allreduce call failed (the gradient is then not to be used). */
int mrnn__grad_reducer_finish(mrnn__grad_reducer *r, double *loss_sum, double *n_scored);

#endif
