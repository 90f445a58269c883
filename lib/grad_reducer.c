/* The fused allreduce of a data-parallel step, at the end of the backward pass or overlapped with
 * it (grad_reducer.h). */
#include "grad_reducer.h"

#include <pthread.h>
#include <stdint.h>

#include "alloc.h"
#include "error.h"

struct mrnn__grad_reducer {
    float *grad;  /* [n], borrowed */
    float *fused; /* [n + 2]: scaled gradient, loss sum, scored rows */
    size_t n;
    mrnn_allreduce_fn fn;
    void *user_data;
    int n_segs;
    size_t bound[MRNN__REDUCER_MAX_SEGMENTS + 1]; /* segment k is [bound[k+1], bound[k]) */
    float share;                                   /* this rank's scored rows: the gradient's scale */
    float inv;                                     /* 1 / the global scored rows, after segment 0 */
    int failed;
    /* Overlapped only. Under the mutex: the gradient is final from `frontier` on; `next` is the
     * segment the thread reduces next (n_segs: the step is done). */
    int threaded, quit;
    size_t frontier;
    int next;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    pthread_t thread;
};

/* Scale, sum across the ranks, unscale. Segment 0 holds the tail, so the global count is known
 * from it on. */
static void reduce_segment(mrnn__grad_reducer *r, int k)
{
    const size_t a = r->bound[k + 1], e = r->bound[k], g = e < r->n ? e : r->n;
    if (r->failed) return; /* the ranks are out of step: no more calls */
    for (size_t i = a; i < g; i++) r->fused[i] = r->grad[i] * r->share;
    if (r->fn(r->fused + a, e - a, r->user_data) != 0) {
        r->failed = 1;
        return;
    }
    if (k == 0) {
        double total = r->fused[r->n + 1];
        r->inv = total > 0 ? (float)(1.0 / total) : 0.0f;
    }
    for (size_t i = a; i < g; i++) r->grad[i] = r->fused[i] * r->inv;
}

static int segment_ready(const mrnn__grad_reducer *r)
{
    return r->next < r->n_segs && r->frontier <= r->bound[r->next + 1];
}

static void *reducer_main(void *arg)
{
    mrnn__grad_reducer *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->quit && !segment_ready(r)) pthread_cond_wait(&r->work, &r->mu);
        if (r->quit) break;
        int k = r->next;
        pthread_mutex_unlock(&r->mu);
        reduce_segment(r, k);
        pthread_mutex_lock(&r->mu);
        if (++r->next == r->n_segs) pthread_cond_signal(&r->done);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Segment bounds from the cuts, short segments joined to their successors (the last, if short,
 * to its predecessor). */
static void set_bounds(mrnn__grad_reducer *r, const size_t *cuts, int n_cuts, size_t min_floats)
{
    r->n_segs = 0;
    for (int i = 0; i < n_cuts - 1 && r->n_segs < MRNN__REDUCER_MAX_SEGMENTS - 1; i++) {
        if (r->bound[r->n_segs] - cuts[i] >= min_floats) r->bound[++r->n_segs] = cuts[i];
    }
    if (r->n_segs > 0 && r->bound[r->n_segs] < min_floats) r->n_segs--;
    r->bound[++r->n_segs] = 0;
}

/* The output layer (and the NADE's) first, then each LSTM layer top down; layer 0 and the
 * embedding are one segment, as the embedding's gradient is done with layer 0's (the table path,
 * embed_proj.h) or a moment after it. */
int mrnn__grad_reducer_net_cuts(const mrnn__net_config *cfg, const mrnn__net_params *g, size_t *cuts)
{
    int n = 0;
    cuts[n++] = (size_t)(g->w_out - g->embed);
    for (uint32_t l = cfg->layers; l-- > 1;) cuts[n++] = (size_t)(g->layer[l].w_ih - g->embed);
    cuts[n++] = 0;
    return n;
}

mrnn_status mrnn__grad_reducer_new(mrnn__grad_reducer **out, float *grad, size_t n, int overlap, const size_t *cuts,
                                   int n_cuts, size_t min_floats, mrnn_allreduce_fn fn, void *user_data)
{
    *out = NULL;
    mrnn__grad_reducer *r = mrnn__calloc(1, sizeof *r);
    if (r) r->fused = mrnn__malloc((n + 2) * sizeof *r->fused);
    if (!r || !r->fused) {
        mrnn__free(r);
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory for the allreduce buffer (%zu floats)", n + 2);
    }
    r->grad = grad;
    r->n = n;
    r->fn = fn;
    r->user_data = user_data;
    r->bound[0] = n + 2;
    if (overlap && n_cuts > 0) {
        set_bounds(r, cuts, n_cuts, min_floats);
    } else {
        r->n_segs = 1;
        r->bound[1] = 0;
    }
    if (overlap) {
        r->threaded = 1;
        r->next = r->n_segs; /* idle until the first step starts */
        r->frontier = SIZE_MAX;
        pthread_mutex_init(&r->mu, NULL);
        pthread_cond_init(&r->work, NULL);
        pthread_cond_init(&r->done, NULL);
        if (pthread_create(&r->thread, NULL, reducer_main, r) != 0) {
            pthread_cond_destroy(&r->done);
            pthread_cond_destroy(&r->work);
            pthread_mutex_destroy(&r->mu);
            mrnn__free(r->fused);
            mrnn__free(r);
            return mrnn__fail(MRNN_ERR_NOMEM, "cannot start the thread of the overlapped allreduce");
        }
    }
    *out = r;
    return MRNN_OK;
}

void mrnn__grad_reducer_free(mrnn__grad_reducer *r)
{
    if (!r) return;
    if (r->threaded) {
        pthread_mutex_lock(&r->mu);
        r->quit = 1;
        pthread_cond_signal(&r->work);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
        pthread_cond_destroy(&r->done);
        pthread_cond_destroy(&r->work);
        pthread_mutex_destroy(&r->mu);
    }
    mrnn__free(r->fused);
    mrnn__free(r);
}

int mrnn__grad_reducer_segments(const mrnn__grad_reducer *r)
{
    return r->n_segs;
}

void mrnn__grad_reducer_start(mrnn__grad_reducer *r, double loss_sum, double n_scored)
{
    /* The thread is idle (the last step's finish saw it done), so these need no lock; the lock
     * taken by the first ready() publishes them. */
    r->share = (float)n_scored;
    r->fused[r->n] = (float)loss_sum;
    r->fused[r->n + 1] = r->share;
    r->inv = 0.0f;
    if (r->threaded) {
        pthread_mutex_lock(&r->mu);
        r->frontier = SIZE_MAX;
        r->next = 0;
        pthread_mutex_unlock(&r->mu);
    }
}

void mrnn__grad_reducer_ready(mrnn__grad_reducer *r, size_t from)
{
    if (!r->threaded) return;
    pthread_mutex_lock(&r->mu);
    if (from < r->frontier) {
        r->frontier = from;
        if (segment_ready(r)) pthread_cond_signal(&r->work);
    }
    pthread_mutex_unlock(&r->mu);
}

int mrnn__grad_reducer_finish(mrnn__grad_reducer *r, double *loss_sum, double *n_scored)
{
    if (r->threaded) {
        mrnn__grad_reducer_ready(r, 0);
        pthread_mutex_lock(&r->mu);
        while (r->next < r->n_segs) pthread_cond_wait(&r->done, &r->mu);
        pthread_mutex_unlock(&r->mu);
    } else {
        reduce_segment(r, 0);
    }
    *loss_sum = r->fused[r->n];
    *n_scored = r->fused[r->n + 1];
    return r->failed ? -1 : 0;
}
