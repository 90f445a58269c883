/* An allreduce between threads of one process, standing in for MPI in the tests: each rank is a
 * thread that trains, each call posts its buffer, all ranks wait, each sums the posted buffers in
 * rank order (so every rank gets the same bits, however the buffer is cut into calls), all wait
 * again. Every call is recorded: where its buffer was, how long, whether it came from the thread
 * that trains and whether it began while another call of the same rank was running. */
#ifndef MRNN_FAKE_COMM_H
#define MRNN_FAKE_COMM_H

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_MAX_RANKS 4
#define FAKE_MAX_CALLS 1024

typedef struct fake_comm {
    int n_ranks;
    pthread_barrier_t barrier;
    const float *posted[FAKE_MAX_RANKS];
    size_t posted_count[FAKE_MAX_RANKS];
} fake_comm;

typedef struct fake_call {
    const float *data;
    size_t count;
    int on_trainer;
} fake_call;

typedef struct fake_rank {
    fake_comm *comm;
    uint32_t rank;
    pthread_t trainer; /* set by the thread that calls mrnn_model_train */
    int in_call;       /* calls running now (atomic) */
    int concurrent;    /* a call began while another was running */
    int mismatch;      /* the ranks passed different counts to one call */
    size_t n_calls;
    fake_call calls[FAKE_MAX_CALLS];
} fake_rank;

static inline void fake_comm_init(fake_comm *c, int n_ranks)
{
    memset(c, 0, sizeof *c);
    c->n_ranks = n_ranks;
    pthread_barrier_init(&c->barrier, NULL, (unsigned)n_ranks);
}

static inline void fake_comm_destroy(fake_comm *c)
{
    pthread_barrier_destroy(&c->barrier);
}

static inline void fake_rank_init(fake_rank *r, fake_comm *c, uint32_t rank)
{
    memset(r, 0, sizeof *r);
    r->comm = c;
    r->rank = rank;
    r->trainer = pthread_self();
}

static inline int fake_allreduce(float *data, size_t count, void *user)
{
    fake_rank *r = user;
    fake_comm *c = r->comm;
    if (__atomic_fetch_add(&r->in_call, 1, __ATOMIC_SEQ_CST) != 0) r->concurrent = 1;
    if (r->n_calls < FAKE_MAX_CALLS) {
        fake_call *k = &r->calls[r->n_calls];
        k->data = data;
        k->count = count;
        k->on_trainer = pthread_equal(pthread_self(), r->trainer) != 0;
    }
    r->n_calls++;
    c->posted[r->rank] = data;
    c->posted_count[r->rank] = count;
    pthread_barrier_wait(&c->barrier);
    float *sum = malloc(count * sizeof *sum);
    for (int k = 0; k < c->n_ranks; k++) r->mismatch |= c->posted_count[k] != count;
    for (size_t i = 0; sum && !r->mismatch && i < count; i++) {
        float x = 0;
        for (int k = 0; k < c->n_ranks; k++) x += c->posted[k][i];
        sum[i] = x;
    }
    pthread_barrier_wait(&c->barrier); /* everyone has read every buffer */
    if (sum && !r->mismatch) memcpy(data, sum, count * sizeof *sum);
    int rc = sum && !r->mismatch ? 0 : -1;
    free(sum);
    __atomic_fetch_sub(&r->in_call, 1, __ATOMIC_SEQ_CST);
    return rc;
}

#endif
