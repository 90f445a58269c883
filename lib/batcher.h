/* Cuts training windows (truncated BPTT) and evaluation windows out of a corpus into the
 * mrnn__batch layout the network reads: B lanes x T steps, row t*B + b, input = step t of the
 * lane's window, target = step t+1. */
#ifndef MRNN_BATCHER_H
#define MRNN_BATCHER_H

#include "corpus.h"
#include "network.h"
#include "rng.h"

typedef struct mrnn__batcher {
    const struct mrnn_corpus *c;
    int T, B;
    uint32_t none_style; /* style row for pieces without a label; UINT32_MAX = model has no styles */
    /* Training pieces and cumulative transition counts, for length-weighted sampling. */
    uint32_t *train;
    uint64_t *cum;
    size_t n_train;
    uint64_t train_transitions;
    /* Per lane: piece (UINT32_MAX = idle), first step, steps in this window. */
    uint32_t *lane_piece, *lane_start, *lane_len;
    /* The batch arrays. */
    uint32_t *in_start, *in_ids, *tgt_start, *tgt_ids, *style;
    float *mask;
    mrnn__batch batch;
} mrnn__batcher;

/* n_style_rows: the model's style rows (0 = none; else the last row means "no label"). */
mrnn_status mrnn__batcher_init(mrnn__batcher *b, const struct mrnn_corpus *c, int T, int B, uint32_t n_style_rows);
void mrnn__batcher_free(mrnn__batcher *b);
/* Random training windows, each lane a piece drawn in proportion to its length. */
void mrnn__batcher_sample(mrnn__batcher *b, mrnn__rng *rng);
/* Leave each input id of the built batch out with probability p (the targets keep theirs):
 * compacts in_ids and in_start in place. */
void mrnn__batcher_drop_inputs(mrnn__batcher *b, float p, mrnn__rng *rng);
/* Data-parallel share: draw all global_B lanes of the global batch (so that every rank's stream
 * stays the same) and keep lanes first..first+B-1 of them. sample() is share(B, 0). */
void mrnn__batcher_sample_share(mrnn__batcher *b, mrnn__rng *rng, int global_B, int first);
/* Build the batch from the lane_* arrays set by the caller. Returns the number of scored rows. */
uint64_t mrnn__batcher_build(mrnn__batcher *b);

#endif
