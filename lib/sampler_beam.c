/* Beam search over event tokens (sampler.h): the lanes of the sampler are the beams. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "rng.h"
#include "sampler.h"

/* Beam search over event tokens. Candidates per beam are its W most likely allowed tokens
 * (temperature 0) or W distinct tokens drawn from its sampling distribution with the Gumbel-top-k
 * trick (stochastic beam search); the W best candidates by model log-likelihood survive. */
mrnn_status mrnn__sampler_generate_beam(mrnn_sampler *s, uint32_t max_steps, double max_seconds,
                                        mrnn_sample_callback cb, void *ud)
{
    const uint32_t V = s->V, W = s->L;
    const size_t H = s->cfg->hidden;
    struct beam_cand { double score; uint32_t parent, id; float prob; } *cand = (void *)NULL;
    cand = mrnn__malloc((size_t)W * W * sizeof *cand);
    if (!cand) return mrnn__fail(MRNN_ERR_NOMEM, "sampler: out of memory");
    mrnn_status st = MRNN_OK;
    for (uint32_t step = 0; step < max_steps && !s->lanes[0].done; step++) {
        size_t n_cand = 0;
        for (uint32_t b = 0; b < (uint32_t)s->beam_live; b++) {
            mrnn__lane *l = &s->lanes[b];
            const float *logits = s->logits + (size_t)b * V;
            float *probs = s->probs + (size_t)b * V;
            mrnn__sampler_event_distribution(s, l, logits, probs);
            s->have_probs[b] = 1;
            double logz = mrnn__log_normaliser(logits, V);
            /* Rank tokens: masked score (greedy) or perturbed log-probability (stochastic). */
            for (uint32_t i = 0; i < V; i++) {
                float key;
                if (s->p.temperature == 0.0f) key = s->work[i];
                else if (probs[i] > 0) key = (float)(log(probs[i]) - log(-log(mrnn__rng_uniform(&s->beam_rng) + 1e-300)));
                else key = -INFINITY;
                s->order[i] = (mrnn__sampler_cand){key, i};
            }
            qsort(s->order, V, sizeof *s->order, mrnn__sampler_cmp_cand);
            for (uint32_t r = 0; r < W && r < V && s->order[r].p > -INFINITY; r++) {
                uint32_t id = s->order[r].id;
                double lp = logits[id] - logz;
                cand[n_cand++] = (struct beam_cand){l->loglik + lp, b, id, (float)exp(lp)};
            }
        }
        if (n_cand == 0) break;
        /* Keep the W best (selection sort: W*W is small). */
        uint32_t keep = n_cand < W ? (uint32_t)n_cand : W;
        for (uint32_t r = 0; r < keep; r++) {
            size_t best = r;
            for (size_t k = r + 1; k < n_cand; k++)
                if (cand[k].score > cand[best].score) best = k;
            struct beam_cand t = cand[r];
            cand[r] = cand[best];
            cand[best] = t;
        }
        for (uint32_t b = 0; b < W; b++) {
            const struct beam_cand *c = &cand[b < keep ? b : 0];
            if ((st = mrnn__lane_copy(&s->next[b], &s->lanes[c->parent])) != MRNN_OK) goto out;
            mrnn__lane *l = &s->next[b];
            double when = l->time_s;
            if ((st = mrnn__lane_push(l, c->id)) != MRNN_OK) goto out;
            mrnn__lane_advance(s, l, c->id);
            l->loglik = c->score;
            if ((st = mrnn__lane_record(l, c->prob, when)) != MRNN_OK) goto out;
            if (max_seconds > 0 && l->time_s - l->gen_start >= max_seconds) l->done = 1;
            for (uint32_t layer = 0; layer < s->cfg->layers; layer++) {
                size_t dst = ((size_t)layer * W + b) * H, src = ((size_t)layer * W + c->parent) * H;
                memcpy(s->h2 + dst, s->h + src, H * sizeof(float));
                memcpy(s->c2 + dst, s->c + src, H * sizeof(float));
            }
            s->in_start[b] = b;
            s->in_ids[b] = c->id;
        }
        s->in_start[W] = W;
        mrnn__lane *tl = s->lanes;
        s->lanes = s->next, s->next = tl;
        float *t = s->h;
        s->h = s->h2, s->h2 = t;
        t = s->c, s->c = s->c2, s->c2 = t;
        s->beam_live = (int)keep;
        mrnn__sampler_feed(s);
    }
    /* Beams change until the end: report the winner's steps now. */
    if (cb) {
        mrnn__lane *l = &s->lanes[0];
        uint64_t first = l->n_steps - l->n_gen;
        size_t first_out = l->n_out - l->n_gen;
        for (size_t k = 0; k < l->n_gen; k++) {
            mrnn__lane view = *l;
            view.n_steps = first + k + 1;
            if (mrnn__sampler_emit(s, cb, ud, 0, &view, l->out[first_out + k], NULL, l->prob[k], l->when[k], 0.0)) {
                st = mrnn__fail(MRNN_ERR_CANCELLED, "sampler: generation stopped by the callback");
                break;
            }
        }
    }
out:
    mrnn__free(cand);
    return st;
}
