/* Training and evaluation windows. */
#include <string.h>

#include "alloc.h"
#include "batcher.h"
#include "error.h"

mrnn_status mrnn__batcher_init(mrnn__batcher *b, const struct mrnn_corpus *c, int T, int B, uint32_t n_style_rows)
{
    memset(b, 0, sizeof *b);
    if (c->spill)
        return mrnn__fail(MRNN_ERR_UNSUPPORTED, "the corpus keeps its tokens in a temporary file in %s (spill_dir): save "
                          "it and open the file with mrnn_corpus_map() to train on it", c->params.spill_dir);
    b->c = c;
    b->T = T;
    b->B = B;
    b->none_style = n_style_rows ? n_style_rows - 1 : UINT32_MAX;
    size_t rows = (size_t)T * (size_t)B;
    size_t per_row = c->multi_hot ? 88 : 1;
    b->train = mrnn__malloc((c->n_pieces ? c->n_pieces : 1) * sizeof *b->train);
    b->cum = mrnn__malloc((c->n_pieces ? c->n_pieces : 1) * sizeof *b->cum);
    b->lane_piece = mrnn__malloc((size_t)B * sizeof *b->lane_piece);
    b->lane_start = mrnn__malloc((size_t)B * sizeof *b->lane_start);
    b->lane_len = mrnn__malloc((size_t)B * sizeof *b->lane_len);
    b->in_start = mrnn__malloc((rows + 1) * sizeof *b->in_start);
    b->tgt_start = mrnn__malloc((rows + 1) * sizeof *b->tgt_start);
    b->in_ids = mrnn__malloc(rows * per_row * sizeof *b->in_ids);
    b->tgt_ids = mrnn__malloc(rows * per_row * sizeof *b->tgt_ids);
    b->mask = mrnn__malloc(rows * sizeof *b->mask);
    b->style = mrnn__malloc((size_t)B * sizeof *b->style);
    if (!b->train || !b->cum || !b->lane_piece || !b->lane_start || !b->lane_len || !b->in_start ||
        !b->tgt_start || !b->in_ids || !b->tgt_ids || !b->mask || !b->style) {
        mrnn__batcher_free(b);
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory for a batch of %d x %d steps", B, T);
    }
    for (size_t i = 0; i < c->n_pieces; i++) {
        const mrnn__corpus_piece *p = &c->pieces[i];
        if (p->split != MRNN_SPLIT_TRAIN || p->n_steps < 2) continue;
        b->train_transitions += p->n_steps - 1;
        b->train[b->n_train] = (uint32_t)i;
        b->cum[b->n_train] = b->train_transitions;
        b->n_train++;
    }
    for (int l = 0; l < B; l++) b->lane_piece[l] = UINT32_MAX;
    b->batch.T = T;
    b->batch.B = B;
    b->batch.in_start = b->in_start;
    b->batch.in_ids = b->in_ids;
    b->batch.tgt_start = b->tgt_start;
    b->batch.tgt_ids = b->tgt_ids;
    b->batch.mask = b->mask;
    b->batch.style = n_style_rows ? b->style : NULL;
    return MRNN_OK;
}

void mrnn__batcher_free(mrnn__batcher *b)
{
    mrnn__free(b->train);
    mrnn__free(b->cum);
    mrnn__free(b->lane_piece);
    mrnn__free(b->lane_start);
    mrnn__free(b->lane_len);
    mrnn__free(b->in_start);
    mrnn__free(b->tgt_start);
    mrnn__free(b->in_ids);
    mrnn__free(b->tgt_ids);
    mrnn__free(b->mask);
    mrnn__free(b->style);
    memset(b, 0, sizeof *b);
}

void mrnn__batcher_sample(mrnn__batcher *b, mrnn__rng *rng)
{
    mrnn__batcher_sample_share(b, rng, b->B, 0);
}

void mrnn__batcher_sample_share(mrnn__batcher *b, mrnn__rng *rng, int global_B, int first)
{
    for (int g = 0; g < global_B; g++) {
        int l = g - first; /* this process's lane, if in [0, B) */
        /* A piece with probability proportional to its transitions, so every transition of the
         * training split is equally likely to be seen. */
        uint64_t x = mrnn__rng_below(rng, b->train_transitions);
        size_t lo = 0, hi = b->n_train - 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (b->cum[mid] > x)
                hi = mid;
            else
                lo = mid + 1;
        }
        uint32_t pi = b->train[lo];
        uint32_t transitions = b->c->pieces[pi].n_steps - 1;
        uint32_t len = transitions < (uint32_t)b->T ? transitions : (uint32_t)b->T;
        uint32_t start = (uint32_t)mrnn__rng_below(rng, (uint64_t)(transitions - len) + 1);
        if (l < 0 || l >= b->B) continue; /* another rank's lane: drawn only to keep the stream aligned */
        b->lane_piece[l] = pi;
        b->lane_start[l] = start;
        b->lane_len[l] = len;
    }
    mrnn__batcher_build(b);
}

uint64_t mrnn__batcher_build(mrnn__batcher *b)
{
    const struct mrnn_corpus *c = b->c;
    size_t n_in = 0, n_tgt = 0;
    uint64_t scored = 0;
    for (int l = 0; l < b->B; l++) {
        uint32_t pi = b->lane_piece[l];
        int32_t s = pi == UINT32_MAX ? -1 : c->pieces[pi].style;
        b->style[l] = s >= 0 ? (uint32_t)s : (b->none_style == UINT32_MAX ? 0 : b->none_style);
    }
    for (int t = 0; t < b->T; t++) {
        for (int l = 0; l < b->B; l++) {
            size_t r = (size_t)t * (size_t)b->B + (size_t)l;
            b->in_start[r] = (uint32_t)n_in;
            b->tgt_start[r] = (uint32_t)n_tgt;
            uint32_t pi = b->lane_piece[l];
            if (pi == UINT32_MAX || (uint32_t)t >= b->lane_len[l]) {
                b->mask[r] = 0.0f;
                if (!c->multi_hot) b->tgt_ids[n_tgt++] = 0; /* softmax rows always hold one target */
                continue;
            }
            const mrnn__corpus_piece *p = &c->pieces[pi];
            const uint32_t *ids;
            uint32_t n;
            mrnn__corpus_step(c, p, b->lane_start[l] + (uint32_t)t, &ids, &n);
            memcpy(b->in_ids + n_in, ids, n * sizeof *ids);
            n_in += n;
            mrnn__corpus_step(c, p, b->lane_start[l] + (uint32_t)t + 1, &ids, &n);
            memcpy(b->tgt_ids + n_tgt, ids, n * sizeof *ids);
            n_tgt += n;
            b->mask[r] = 1.0f;
            scored++;
        }
    }
    size_t rows = (size_t)b->T * (size_t)b->B;
    b->in_start[rows] = (uint32_t)n_in;
    b->tgt_start[rows] = (uint32_t)n_tgt;
    return scored;
}

void mrnn__batcher_drop_inputs(mrnn__batcher *b, float p, mrnn__rng *rng)
{
    const size_t rows = (size_t)b->T * (size_t)b->B;
    uint32_t w = 0, r = b->in_start[0];
    for (size_t row = 0; row < rows; row++) {
        const uint32_t end = b->in_start[row + 1];
        b->in_start[row] = w;
        for (; r < end; r++)
            if (!(mrnn__rng_uniform(rng) < (double)p)) b->in_ids[w++] = b->in_ids[r];
    }
    b->in_start[rows] = w;
}
