/* Scoring a split: each piece runs from its first step with its recurrent state carried across
 * windows; lanes hold different pieces, longest first so that lanes finish together. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "batcher.h"
#include "compute.h"
#include "error.h"
#include "evaluate.h"
#include "model.h"
#include "vocab.h"

#define EVAL_T 64
#define EVAL_B 16


typedef struct piece_len {
    uint32_t index, n_steps;
} piece_len;

static int cmp_len_desc(const void *a, const void *b)
{
    const piece_len *x = a, *y = b;
    if (x->n_steps != y->n_steps) return x->n_steps > y->n_steps ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

mrnn_status mrnn__evaluate(const mrnn_model *m, const struct mrnn_corpus *c, uint32_t split, const mrnn__compute *cx,
                           mrnn_eval_result *out)
{
    memset(out, 0, sizeof *out);
    piece_len *order = mrnn__malloc((c->n_pieces ? c->n_pieces : 1) * sizeof *order);
    if (!order) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory evaluating");
    size_t n = 0;
    for (size_t i = 0; i < c->n_pieces; i++) {
        const mrnn__corpus_piece *p = &c->pieces[i];
        /* Transposed copies are training augmentation, never scored. */
        if (p->split == split && p->transpose == 0 && p->n_steps >= 2) {
            order[n].index = (uint32_t)i;
            order[n].n_steps = p->n_steps;
            n++;
        }
    }
    if (n == 0) {
        mrnn__free(order);
        return mrnn__fail(MRNN_ERR_EMPTY, "the %s split has no piece to evaluate",
                          split == MRNN_SPLIT_TRAIN ? "train" : split == MRNN_SPLIT_VALID ? "valid" : "test");
    }
    qsort(order, n, sizeof *order, cmp_len_desc);

    int B = n < EVAL_B ? (int)n : EVAL_B;
    const mrnn__net_config *cfg = &m->cfg;
    size_t state = (size_t)cfg->layers * (size_t)B * cfg->hidden;
    mrnn__batcher b;
    mrnn_status st = mrnn__batcher_init(&b, c, EVAL_T, B, cfg->n_styles);
    mrnn__net_workspace *ws = st == MRNN_OK ? mrnn__net_workspace_new_kernel(cfg, EVAL_T, B, cx->pack, cx->isa) : NULL;
    float *h = mrnn__malloc(state * sizeof *h);
    float *cell = mrnn__malloc(state * sizeof *cell);
    if (st == MRNN_OK && (!ws || !h || !cell)) st = mrnn__fail(MRNN_ERR_NOMEM, "out of memory evaluating");
    if (ws) {
        mrnn__net_workspace_set_team(ws, cx->team);
        mrnn__net_workspace_freeze(ws, 1); /* the weights are packed at the first window only */
    }

    mrnn__net_result res = {0};
    for (size_t g = 0; st == MRNN_OK && g < n; g += (size_t)B) {
        memset(h, 0, state * sizeof *h);
        memset(cell, 0, state * sizeof *cell);
        uint32_t longest = order[g].n_steps - 1; /* transitions of the group's longest piece */
        for (uint32_t off = 0; off < longest; off += EVAL_T) {
            for (int l = 0; l < B; l++) {
                size_t k = g + (size_t)l;
                uint32_t transitions = k < n ? order[k].n_steps - 1 : 0;
                if (k >= n || off >= transitions) {
                    b.lane_piece[l] = UINT32_MAX;
                    continue;
                }
                b.lane_piece[l] = order[k].index;
                b.lane_start[l] = off;
                b.lane_len[l] = transitions - off < EVAL_T ? transitions - off : EVAL_T;
            }
            mrnn__batcher_build(&b);
            mrnn__net_forward_eval(cfg, &m->w, &b.batch, ws, h, cell, &res);
        }
    }
    if (st == MRNN_OK) {
        out->n_pieces = (uint32_t)n;
        out->n_scored = res.n_scored;
        out->nll = res.n_scored ? res.loss_sum / (double)res.n_scored : NAN;
        out->perplexity = exp(cfg->loss != MRNN__LOSS_SOFTMAX ? out->nll / (double)cfg->n_out : out->nll);
        out->accuracy = res.n_scored ? (double)res.n_correct / (double)res.n_scored : 0;
    }
    mrnn__free(h);
    mrnn__free(cell);
    mrnn__net_workspace_free(ws);
    mrnn__batcher_free(&b);
    mrnn__free(order);
    return st;
}

MRNN_API mrnn_status mrnn_model_evaluate(const mrnn_model *m, const mrnn_corpus *corpus, uint32_t split,
                                         mrnn_eval_result *out)
{
    MRNN_CHECK_ARG(m, "m");
    MRNN_CHECK_ARG(corpus, "corpus");
    MRNN_CHECK_ARG(out, "out");
    if (split > MRNN_SPLIT_TEST) return mrnn__fail(MRNN_ERR_INVALID_ARG, "split %u is not 0 (train), 1 (valid) or 2 (test)", split);
    if (!corpus->finished)
        return mrnn__fail(MRNN_ERR_STATE, "the corpus must be finished (mrnn_corpus_finish) before evaluating");
    if (!mrnn__vocab_equal(m->vocab, corpus->vocab))
        return mrnn__fail(MRNN_ERR_INVALID_ARG,
                          "the corpus vocabulary differs from the model's (encode it with mrnn_corpus_create_with_vocab)");
    /* the default threads (compute.h), as training with threads = 0 would use */
    mrnn__compute cx;
    mrnn__compute_init(&cx, 0);
    mrnn_status st = mrnn__evaluate(m, corpus, split, &cx, out);
    mrnn__compute_free(&cx);
    return st;
}
