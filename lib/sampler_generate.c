/* Generation over independent lanes (sampler.h), the per-step network call shared with beam search,
 * and the callback's events. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "model.h"
#include "network_infer.h"
#include "sampler.h"
#include "vocab.h"

double mrnn__now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Feed each lane's chosen step (s->in_start / s->in_ids) and compute the next logits. */
void mrnn__sampler_feed(mrnn_sampler *s)
{
    uint32_t *style = NULL, style_row[MRNN__SAMPLER_MAX_LANES];
    if (s->cfg->n_styles) {
        for (uint32_t b = 0; b < s->L; b++)
            style_row[b] = s->p.style >= 0 ? (uint32_t)s->p.style : s->cfg->n_styles - 1;
        style = style_row;
    }
    mrnn__net_step_lanes(s->cfg, &s->model->w, s->iw, s->cx.team, (int)s->L, s->in_start, s->in_ids, style, s->h,
                         s->c, s->logits, s->scratch);
}

static double output_time(const mrnn_sampler *s, const mrnn__lane *l, double t)
{
    return s->p.include_primer ? t : t - l->gen_start;
}

int mrnn__sampler_emit(const mrnn_sampler *s, mrnn_sample_callback cb, void *ud, uint32_t b, const mrnn__lane *l,
                       uint32_t token, const uint32_t *keys, float prob, double when, double latency)
{
    if (!cb) return 0;
    mrnn_sample_event ev;
    memset(&ev, 0, sizeof ev);
    ev.lane = b;
    ev.step = l->n_steps - 1;
    ev.token = token;
    ev.keys = keys;
    ev.text = s->multi_hot ? NULL : s->vocab->text[token];
    ev.time_seconds = output_time(s, l, when);
    ev.probability = prob;
    ev.latency_seconds = latency;
    return cb(&ev, ud);
}

/* Independent lanes: every lane draws from its own distribution. */
mrnn_status mrnn__sampler_generate_lanes(mrnn_sampler *s, uint32_t max_steps, double max_seconds,
                                         mrnn_sample_callback cb, void *ud)
{
    const uint32_t V = s->V;
    double t_prev = mrnn__now_seconds();
    for (uint32_t step = 0; step < max_steps; step++) {
        uint32_t live = 0;
        s->in_start[0] = 0;
        for (uint32_t b = 0; b < s->L; b++) {
            mrnn__lane *l = &s->lanes[b];
            const float *logits = s->logits + (size_t)b * V;
            float *probs = s->probs + (size_t)b * V;
            uint32_t n_in = 0;
            if (!l->done) {
                live++;
                double when = l->time_s, logp;
                mrnn_status st;
                if (s->multi_hot) {
                    uint32_t *keys = s->chosen_keys + (size_t)b * V;
                    n_in = mrnn__sampler_draw_frame(s, l, b, logits, probs, keys, &logp);
                    for (uint32_t k = 0; k < n_in; k++) {
                        if ((st = mrnn__lane_push(l, keys[k])) != MRNN_OK) return st;
                        s->in_ids[s->in_start[b] + k] = keys[k];
                    }
                    if ((st = mrnn__lane_push(l, MRNN_FRAME_END)) != MRNN_OK) return st;
                    l->time_s += mrnn__frame_seconds(s->vocab);
                    l->n_steps++;
                    l->n_frame = n_in;
                } else {
                    mrnn__sampler_event_distribution(s, l, logits, probs);
                    uint32_t id = mrnn__sampler_draw(probs, V, &l->rng);
                    logp = logits[id] - mrnn__log_normaliser(logits, V);
                    if ((st = mrnn__lane_push(l, id)) != MRNN_OK) return st;
                    mrnn__lane_advance(s, l, id);
                    s->in_ids[s->in_start[b]] = id;
                    n_in = 1;
                }
                s->have_probs[b] = 1;
                l->loglik += logp;
                if ((st = mrnn__lane_record(l, (float)exp(logp), when)) != MRNN_OK) return st;
                s->n_chosen[b] = n_in;
            }
            s->in_start[b + 1] = s->in_start[b] + n_in;
        }
        if (!live) break;
        double t_now = mrnn__now_seconds();
        double latency = (t_now - t_prev) / live;
        for (uint32_t b = 0; b < s->L; b++) {
            mrnn__lane *l = &s->lanes[b];
            if (l->done) continue;
            uint32_t token = s->multi_hot ? s->n_chosen[b] : l->out[l->n_out - 1];
            const uint32_t *keys = s->multi_hot ? s->chosen_keys + (size_t)b * V : NULL;
            if (mrnn__sampler_emit(s, cb, ud, b, l, token, keys, l->prob[l->n_gen - 1], l->when[l->n_gen - 1], latency))
                return mrnn__fail(MRNN_ERR_CANCELLED, "sampler: generation stopped by the callback");
            if (max_seconds > 0 && l->time_s - l->gen_start >= max_seconds) l->done = 1;
        }
        mrnn__sampler_feed(s);
        t_prev = mrnn__now_seconds();
    }
    return MRNN_OK;
}

MRNN_API mrnn_status mrnn_sampler_generate(mrnn_sampler *s, uint32_t max_steps, double max_seconds,
                                           mrnn_sample_callback cb, void *user_data)
{
    MRNN_CHECK_ARG(s, "s");
    if (!(max_seconds >= 0 && max_seconds < 1e7))
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "sampler: max_seconds %g is not in [0, 1e7)", max_seconds);
    if (!s->started) {
        mrnn_status st = mrnn__sampler_start(s);
        if (st != MRNN_OK) return st;
    }
    return s->beam ? mrnn__sampler_generate_beam(s, max_steps, max_seconds, cb, user_data)
                   : mrnn__sampler_generate_lanes(s, max_steps, max_seconds, cb, user_data);
}
