/* Inside mrnn_sampler: the handle's layout and the parts that work on it.
 *
 * A sampler borrows its model read-only and owns everything that changes while generating, so
 * several samplers can share one model across threads. It runs L lanes at once through
 * mrnn__net_step_lanes(): independent pieces (batch sampling) or the beams of a beam search.
 *
 * Each step, per lane: model logits -> repetition penalty -> constraint mask -> temperature ->
 * softmax -> top-k -> top-p -> draw. Constraints are a mask on the distribution, computed from what
 * each token means (token_info.c) and from what the lane is currently playing (polyphony).
 *
 * The parts: sampler.c (handle, params, getters), sampler_lane.c (one lane's bookkeeping),
 * sampler_dist.c (distribution shaping and drawing), sampler_prime.c (priming),
 * sampler_generate.c (independent lanes, the per-step network call), sampler_beam.c (beam search). */
#ifndef MRNN_SAMPLER_H
#define MRNN_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "compute.h"
#include "infer_weights.h"
#include "musicrnn/musicrnn.h"
#include "network.h"
#include "rng.h"
#include "token_info.h"

/* A candidate token and its key (probability, score or perturbed log-probability). */
typedef struct mrnn__sampler_cand {
    float p;
    uint32_t id;
} mrnn__sampler_cand;

#define MRNN__SAMPLER_MAX_LANES 256u
#define MRNN__SAMPLER_MAX_BEAM 64u
#define MRNN__SAMPLER_MAX_WINDOW 256u   /* repetition window cap */
#define MRNN__SAMPLER_MAX_SOUNDING 128u /* notechord notes tracked for the polyphony constraint */

/* One piece being generated. Copied as a whole when beams are reordered. */
typedef struct mrnn__lane {
    uint32_t *out;   /* flat output tokens (pianoroll frames end with MRNN_FRAME_END) */
    size_t n_out, cap_out;
    float *prob;     /* model probability of each generated step */
    double *when;    /* start time of each generated step (seconds at 120 bpm) */
    size_t n_gen, cap_gen;
    uint64_t n_steps;  /* steps in `out` */
    double time_s;     /* musical time reached */
    double gen_start;  /* time at which generation began */
    double loglik;     /* of the generated steps */
    int done;
    uint8_t on[128];   /* performance: open notes per pitch (a NOTE_OFF ends the earliest) */
    uint32_t n_on;
    double ends[MRNN__SAMPLER_MAX_SOUNDING]; /* notechord: end times of sounding notes */
    uint32_t n_ends;
    int dur_open;      /* multitrack: 1 after a NOTE (ends[n_ends - 1] has the default length), 2 after its
                          first DUR; a DUR then sets or lengthens that end; 0 otherwise */
    int instrument_chosen; /* multitrack: a PROGRAM token has been played (primer included) */
    uint16_t instrument;   /* multitrack: the selector of the notes that follow (0 until one is played) */
    uint16_t end_instrument[MRNN__SAMPLER_MAX_SOUNDING]; /* multitrack: the selector of each note in ends */
    uint32_t recent[MRNN__SAMPLER_MAX_WINDOW]; /* ring of the last tokens, for the repetition penalty */
    uint32_t n_recent, recent_pos;
    uint32_t n_frame;  /* pianoroll: keys in the last frame */
    mrnn__rng rng;
} mrnn__lane;

struct mrnn_sampler {
    const mrnn_model *model;
    const mrnn_vocab *vocab;
    const mrnn__net_config *cfg;
    mrnn_sampler_params p;
    int multi_hot; /* pianoroll */
    int beam;      /* beam search: lanes are beams */
    uint32_t L;    /* lanes computed */
    uint32_t V;    /* outputs (tokens, or 88 keys) */
    size_t state_floats; /* layers * L * H */

    mrnn__token_info *info; /* [V] */
    uint8_t *allowed;       /* [V] static constraint mask */
    uint8_t sel_min[129], sel_max[129]; /* multitrack: pitch range per selector (max 0: none), from the
                                           params' instrument ranges */
    float *h, *c, *h2, *c2; /* [layers x L x H]; h2/c2 for beam reordering */
    float *logits;          /* [L x V] */
    float *probs;           /* [L x V] last distribution */
    int *have_probs;        /* [L] */
    float *work;            /* [V] scores */
    uint8_t *flag;          /* [V] */
    mrnn__sampler_cand *order; /* [V] */
    float *scratch;
    mrnn__infer_weights *iw; /* packed copy of the weights for the per-step products */
    mrnn__compute cx;        /* the threads of those products (owned) */
    uint32_t *in_start, *in_ids, *chosen_keys; /* [L + 1], [L * V], [L * V] */
    uint32_t *n_chosen;     /* [L] */
    float *nade;            /* NADE frame output: hidden biases [N], uniforms [V], kernel scratch */

    mrnn__lane *lanes, *next; /* [L] */
    mrnn__lane prime;         /* the primer's bookkeeping, copied into every lane when generation starts */
    float *prime_h, *prime_c, *prime_logits; /* [layers x H], [V] */
    int primed_any;     /* prime_logits are valid */
    float *first_logits; /* [V] event encodings without a primer: log of the model's first-token
                            distribution (sampler_prime.c), computed on the first unprimed start */
    int started;        /* generation started: no more priming */
    int beam_live;      /* distinct beams so far */
    mrnn__rng beam_rng;
};

/* Lanes (sampler_lane.c). */
void mrnn__lane_free(mrnn__lane *l);
/* Empty the lane but keep its buffers; its random stream restarts from seed. */
void mrnn__lane_clear(mrnn__lane *l, uint64_t seed);
mrnn_status mrnn__lane_copy(mrnn__lane *dst, const mrnn__lane *src);
mrnn_status mrnn__lane_push(mrnn__lane *l, uint32_t id);
mrnn_status mrnn__lane_record(mrnn__lane *l, float prob, double when);
/* Bookkeeping after an event step: time, sounding notes, recent tokens. */
void mrnn__lane_advance(const mrnn_sampler *s, mrnn__lane *l, uint32_t id);
/* Polyphony: may lane l start token `id` now? */
int mrnn__lane_may_start(const mrnn_sampler *s, mrnn__lane *l, uint32_t id);

/* Distributions (sampler_dist.c). */
/* Fill s->allowed from the params (pitch range, key, drums, <unk>); 0 when no note token is left. */
int mrnn__sampler_static_mask(mrnn_sampler *s);
/* Fill sel_min/sel_max from the params' per-instrument ranges (multitrack only). */
void mrnn__sampler_instrument_ranges(mrnn_sampler *s);
/* qsort order of candidates: larger p first, then smaller id. */
int mrnn__sampler_cmp_cand(const void *a, const void *b);
/* Log of the softmax normaliser of the raw logits. */
double mrnn__log_normaliser(const float *logits, uint32_t V);
/* The distribution lane l draws its next event token from, into probs (sums to 1). The penalised,
 * masked scores are left in s->work (-INFINITY where masked) for beam search. */
void mrnn__sampler_event_distribution(mrnn_sampler *s, mrnn__lane *l, const float *logits, float *probs);
uint32_t mrnn__sampler_draw(const float *probs, uint32_t V, mrnn__rng *rng);
/* Draw a pianoroll frame for lane l (index b): keys into `keys`, returns how many; *logp of the frame. */
uint32_t mrnn__sampler_draw_frame(mrnn_sampler *s, mrnn__lane *l, uint32_t b, const float *logits, float *probs,
                                  uint32_t *keys, double *logp);
/* The same for a model with the NADE frame output (sampler_nade.c). */
uint32_t mrnn__sampler_draw_frame_nade(mrnn_sampler *s, mrnn__lane *l, uint32_t b, const float *logits, float *probs,
                                       uint32_t *keys, double *logp);
/* Floats of s->nade for a NADE model. */
size_t mrnn__sampler_nade_floats(const mrnn__net_config *cfg);

/* Generation (sampler_prime.c, sampler_generate.c, sampler_beam.c). */
/* First generate call: every lane starts from the primer's state and bookkeeping. */
mrnn_status mrnn__sampler_start(mrnn_sampler *s);
/* Feed each lane's chosen step (s->in_start / s->in_ids) and compute the next logits. */
void mrnn__sampler_feed(mrnn_sampler *s);
/* Report one generated step to the callback; nonzero: the callback asked to stop. */
int mrnn__sampler_emit(const mrnn_sampler *s, mrnn_sample_callback cb, void *ud, uint32_t b, const mrnn__lane *l,
                       uint32_t token, const uint32_t *keys, float prob, double when, double latency);
double mrnn__now_seconds(void);
mrnn_status mrnn__sampler_generate_lanes(mrnn_sampler *s, uint32_t max_steps, double max_seconds,
                                         mrnn_sample_callback cb, void *ud);
mrnn_status mrnn__sampler_generate_beam(mrnn_sampler *s, uint32_t max_steps, double max_seconds,
                                        mrnn_sample_callback cb, void *ud);

#endif
