/* Priming a sampler (sampler.h): the primer runs through the network on one lane, and its state
 * and bookkeeping are copied into every lane when generation starts. */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "encoding.h"
#include "encoding_pianoroll.h"
#include "error.h"
#include "midi.h"
#include "model.h"
#include "network_infer.h"
#include "sampler.h"
#include "vocab.h"

/* Run the primer's steps through the network (one lane; copied to all when generation starts). */
static void prime_feed(mrnn_sampler *s, const uint32_t *ids, uint32_t n)
{
    uint32_t start[2] = {0, n};
    uint32_t style = s->p.style >= 0 ? (uint32_t)s->p.style : s->cfg->n_styles - 1;
    mrnn__net_step_lanes(s->cfg, &s->model->w, s->iw, s->cx.team, 1, start, ids, s->cfg->n_styles ? &style : NULL,
                         s->prime_h, s->prime_c, s->prime_logits, s->scratch);
    s->primed_any = 1;
}

MRNN_API mrnn_status mrnn_sampler_prime_tokens(mrnn_sampler *s, const uint32_t *ids, size_t n)
{
    MRNN_CHECK_ARG(s, "s");
    MRNN_CHECK_ARG(ids || n == 0, "ids");
    if (s->started)
        return mrnn__fail(MRNN_ERR_STATE, "sampler: cannot prime after generation started (call mrnn_sampler_reset)");
    for (size_t i = 0; i < n; i++)
        if (ids[i] >= s->vocab->n && !(s->multi_hot && ids[i] == MRNN_FRAME_END))
            return mrnn__fail(MRNN_ERR_INVALID_ARG, "sampler: primer token %zu has id %u, the vocabulary has %u", i,
                              ids[i], s->vocab->n);
    mrnn__lane *l = &s->prime;
    size_t i = 0;
    while (i < n) {
        mrnn_status st;
        if (s->multi_hot) {
            size_t j = i;
            while (j < n && ids[j] != MRNN_FRAME_END) j++;
            prime_feed(s, ids + i, (uint32_t)(j - i));
            for (size_t k = i; k < j; k++)
                if ((st = mrnn__lane_push(l, ids[k])) != MRNN_OK) return st;
            if ((st = mrnn__lane_push(l, MRNN_FRAME_END)) != MRNN_OK) return st;
            l->time_s += mrnn__frame_seconds(s->vocab);
            l->n_steps++;
            i = j + 1;
        } else {
            prime_feed(s, ids + i, 1);
            if ((st = mrnn__lane_push(l, ids[i])) != MRNN_OK) return st;
            mrnn__lane_advance(s, l, ids[i]);
            i++;
        }
    }
    return MRNN_OK;
}

MRNN_API mrnn_status mrnn_sampler_prime_text(mrnn_sampler *s, const char *text)
{
    MRNN_CHECK_ARG(s, "s");
    MRNN_CHECK_ARG(text, "text");
    size_t n = 0;
    mrnn_status st = mrnn_vocab_parse(s->vocab, text, NULL, 0, &n);
    if (st != MRNN_OK && st != MRNN_ERR_LIMIT) return st;
    if (n == 0) return MRNN_OK;
    uint32_t *ids = mrnn__malloc(n * sizeof *ids);
    if (!ids) return mrnn__fail(MRNN_ERR_NOMEM, "sampler: out of memory");
    st = mrnn_vocab_parse(s->vocab, text, ids, n, &n);
    if (st == MRNN_OK) st = mrnn_sampler_prime_tokens(s, ids, n);
    mrnn__free(ids);
    return st;
}

MRNN_API mrnn_status mrnn_sampler_prime_midi(mrnn_sampler *s, const char *path, uint64_t track_mask,
                                             uint32_t channel_mask)
{
    MRNN_CHECK_ARG(s, "s");
    MRNN_CHECK_ARG(path, "path");
    if (s->started)
        return mrnn__fail(MRNN_ERR_STATE, "sampler: cannot prime after generation started (call mrnn_sampler_reset)");
    const mrnn_encoding_params *enc = &s->vocab->enc;
    mrnn__midi_select sel = {track_mask, channel_mask, mrnn__encoding_reads_drums(enc), 0};
    mrnn__piece piece;
    mrnn__piece_init(&piece);
    mrnn__steps steps;
    mrnn__steps_init(&steps);
    mrnn_vocab *frozen = NULL;
    mrnn_status st = mrnn__midi_read_file(path, &sel, &piece);
    if (st == MRNN_OK && enc->normalize_key) mrnn__piece_transpose(&piece, mrnn__piece_normalize_shift(&piece, enc->normalize_key),
                                                                   s->multi_hot);
    /* Encode against a frozen copy: the model's vocabulary is read-only. */
    if (st == MRNN_OK) st = mrnn__vocab_clone(s->vocab, &frozen);
    if (st == MRNN_OK) {
        uint64_t unknown = 0;
        frozen->frozen = 1;
        st = mrnn__encode(&piece, frozen, &steps, &unknown);
        if (st != MRNN_OK) mrnn__error_prefix(path);
    }
    if (st == MRNN_OK && steps.n_steps == 0) st = mrnn__fail(MRNN_ERR_EMPTY, "%s: no notes to prime with", path);
    for (size_t k = 0; st == MRNN_OK && k < steps.n_steps; k++) {
        const uint32_t *ids = steps.ids + steps.start[k];
        size_t n = steps.start[k + 1] - steps.start[k];
        if (s->multi_hot) {
            uint32_t frame[MRNN__PIANO_KEYS + 1];
            memcpy(frame, ids, n * sizeof *ids);
            frame[n] = MRNN_FRAME_END;
            st = mrnn_sampler_prime_tokens(s, frame, n + 1);
        } else {
            st = mrnn_sampler_prime_tokens(s, ids, n);
        }
    }
    mrnn_vocab_free(frozen);
    mrnn__steps_free(&steps);
    mrnn__piece_free(&piece);
    return st;
}

/* Tokens per network call while computing the first-token distribution, passes over the
 * vocabulary, and the most successor probabilities kept between passes (16 MB; a larger
 * vocabulary runs the network again in every pass). See first_token_logits. */
#define FIRST_BATCH 64u
#define FIRST_PASSES 3
#define FIRST_KEEP ((size_t)1 << 22)

/* The softmax of one row of logits into p[0 .. V). */
static void softmax_row(const float *row, uint32_t V, float *p)
{
    double logz = mrnn__log_normaliser(row, V);
    for (uint32_t v = 0; v < V; v++) p[v] = (float)exp((double)row[v] - logz);
}

/* The distribution of an event sampler's first token when there is no primer, as logits (its log)
 * into s->first_logits. The network cannot give it from one step: training feeds each window's
 * first token from a zero state and scores only the tokens after it, so an empty input was never
 * trained and its prediction is close to uniform. Drawing the first token from it picked tokens
 * the corpus never had (say DRUM_102 of a multitrack model), whose untrained embeddings derail
 * everything after them (DRUM DRUM DRUM ... and no DUR). What the model did learn is each token's
 * successor from a zero state, P(v | u); the first token is drawn from the mixture
 * sum_u w(u) P(v | u), w starting uniform and then reweighted by the mixture itself (a few steps of
 * the power iteration towards the tokens' long-run frequency), which leaves tokens that no trained
 * token predicts almost no mass. Depends only on the model and the style: computed once. */
static mrnn_status first_token_logits(mrnn_sampler *s)
{
    if (s->first_logits) return MRNN_OK;
    const mrnn__net_config *cfg = s->cfg;
    const uint32_t V = s->V, n_in = s->vocab->n < V ? s->vocab->n : V, B = n_in < FIRST_BATCH ? n_in : FIRST_BATCH;
    const size_t HLB = (size_t)cfg->layers * B * cfg->hidden;
    const int keep = (size_t)n_in * V <= FIRST_KEEP;
    float *out = mrnn__malloc(V * sizeof *out);
    float *h = mrnn__malloc(HLB * sizeof *h), *c = mrnn__malloc(HLB * sizeof *c);
    float *logits = mrnn__malloc((size_t)B * V * sizeof *logits);
    float *scratch = mrnn__calloc(mrnn__net_lanes_scratch_floats(cfg, (int)B), sizeof(float));
    float *rows = mrnn__malloc((keep ? n_in : 1) * (size_t)V * sizeof *rows); /* P(. | u), or one row */
    double *weight = mrnn__malloc(V * sizeof *weight), *mix = mrnn__malloc(V * sizeof *mix);
    mrnn_status st = MRNN_OK;
    if (!out || !h || !c || !logits || !scratch || !rows || !weight || !mix) {
        st = mrnn__fail(MRNN_ERR_NOMEM, "sampler: out of memory");
        goto done;
    }
    uint32_t start[FIRST_BATCH + 1], ids[FIRST_BATCH], style[FIRST_BATCH];
    uint32_t style_id = s->p.style >= 0 ? (uint32_t)s->p.style : s->cfg->n_styles - 1;
    for (uint32_t u = 0; u < V; u++) weight[u] = u < n_in ? 1.0 / n_in : 0.0;
    for (int pass = 0; pass < FIRST_PASSES; pass++) {
        memset(mix, 0, V * sizeof *mix);
        for (uint32_t u0 = 0; u0 < n_in; u0 += B) {
            uint32_t n = n_in - u0 < B ? n_in - u0 : B;
            if (pass == 0 || !keep) {
                for (uint32_t b = 0; b < n; b++) start[b] = b, ids[b] = u0 + b, style[b] = style_id;
                start[n] = n;
                /* A zero state, as every training window starts from. */
                memset(h, 0, HLB * sizeof *h);
                memset(c, 0, HLB * sizeof *c);
                mrnn__net_step_lanes(cfg, &s->model->w, s->iw, s->cx.team, (int)n, start, ids,
                                     cfg->n_styles ? style : NULL, h, c, logits, scratch);
            }
            for (uint32_t b = 0; b < n; b++) {
                float *p = keep ? rows + (size_t)(u0 + b) * V : rows;
                if (pass == 0 || !keep) softmax_row(logits + (size_t)b * V, V, p);
                double w = weight[u0 + b];
                for (uint32_t v = 0; v < V; v++) mix[v] += w * p[v];
            }
        }
        double total = 0;
        for (uint32_t v = 0; v < V; v++) total += mix[v];
        for (uint32_t v = 0; v < V; v++) weight[v] = v < n_in ? mix[v] / total : 0.0;
    }
    for (uint32_t v = 0; v < V; v++) out[v] = mix[v] > 0 ? (float)log(mix[v]) : -INFINITY;
    s->first_logits = out;
    out = NULL;
done:
    mrnn__free(out);
    mrnn__free(h);
    mrnn__free(c);
    mrnn__free(logits);
    mrnn__free(scratch);
    mrnn__free(rows);
    mrnn__free(weight);
    mrnn__free(mix);
    return st;
}

/* Frames an unprimed pianoroll sampler with independent keys feeds before its first: an empty
 * frame from a zero state is a step such a model may never have trained on (chorales never start
 * in silence), and a JSB model drew most of the 88 keys from it at once, then kept them (33 keys a
 * frame on average, where the same model, primed with one chord, keeps 3.5). From a dense cluster
 * the recurrence does not come back; from a few keys it does within two or three frames. So the
 * sampler starts from the empty frame and feeds frames drawn greedily, the keys above one half,
 * at most BURN_IN_KEYS of them (the most probable, inside the sampler's key masks), none of them
 * emitted. Greedy: every lane starts from the same state, as from a primer. The joint output
 * draws each key knowing the ones below it and starts from the empty frame as it is. */
#define BURN_IN_FRAMES 8
#define BURN_IN_KEYS 4

static void burn_in(mrnn_sampler *s)
{
    prime_feed(s, NULL, 0);
    for (int f = 0; f < BURN_IN_FRAMES; f++) {
        /* Flag the most probable keys one at a time, then list them low to high, as a corpus
         * frame lists its keys (the input sums their embeddings in that order). */
        for (int pick = 0; pick < BURN_IN_KEYS; pick++) {
            uint32_t best = s->V;
            for (uint32_t k = 0; k < s->V; k++)
                if (s->allowed[k] && !s->flag[k] && s->prime_logits[k] > 0.0f &&
                    (best == s->V || s->prime_logits[k] > s->prime_logits[best]))
                    best = k;
            if (best == s->V) break;
            s->flag[best] = 1;
        }
        uint32_t keys[BURN_IN_KEYS], n = 0;
        for (uint32_t k = 0; k < s->V; k++)
            if (s->flag[k]) keys[n++] = k, s->flag[k] = 0;
        prime_feed(s, keys, n);
    }
}

/* First generate call: every lane starts from the primer's state and bookkeeping. */
mrnn_status mrnn__sampler_start(mrnn_sampler *s)
{
    const size_t H = s->cfg->hidden, V = s->V;
    if (!s->primed_any) {
        if (s->multi_hot && s->cfg->loss == MRNN__LOSS_NADE) {
            prime_feed(s, NULL, 0);
        } else if (s->multi_hot) {
            burn_in(s);
        } else {
            /* Event encodings: the first token from the model's first-token distribution, the
             * state left at zero (prime_h/prime_c after reset) for that token to be fed into. */
            mrnn_status st = first_token_logits(s);
            if (st != MRNN_OK) return st;
            memcpy(s->prime_logits, s->first_logits, V * sizeof *s->prime_logits);
        }
    }
    for (uint32_t b = 0; b < s->L; b++) {
        mrnn__rng keep = s->lanes[b].rng;
        mrnn_status st = mrnn__lane_copy(&s->lanes[b], &s->prime);
        if (st != MRNN_OK) return st;
        mrnn__lane *l = &s->lanes[b];
        l->rng = keep;
        l->gen_start = l->time_s;
        if (!s->p.include_primer) l->n_out = 0, l->n_steps = 0;
        for (uint32_t layer = 0; layer < s->cfg->layers; layer++) {
            memcpy(s->h + ((size_t)layer * s->L + b) * H, s->prime_h + (size_t)layer * H, H * sizeof(float));
            memcpy(s->c + ((size_t)layer * s->L + b) * H, s->prime_c + (size_t)layer * H, H * sizeof(float));
        }
        memcpy(s->logits + b * V, s->prime_logits, V * sizeof(float));
    }
    s->started = 1;
    s->beam_live = 1;
    return MRNN_OK;
}
