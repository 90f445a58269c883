/* Ordered parallel reading (see corpus_reader.h).
 *
 * A ring of slots, each holding one item read ahead. Helpers claim the next unread index as long
 * as it is less than `window` ahead of the next commit, read it without the lock, and mark its slot
 * ready; the calling thread waits for the slot of the next index, commits it outside the lock and
 * frees the slot. The work a thread does never depends on timing, only who does it, so the commits
 * see exactly what a serial run would. */
#include "corpus_reader.h"

#include <pthread.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

#define AHEAD_PER_THREAD 4u
#define MAX_THREADS 256u

typedef struct slot {
    int ready;
    mrnn_status st;
    char *reason; /* NULL when st is MRNN_OK, or when copying the message ran out of memory */
    mrnn__read_item it;
} slot;

static void item_init(mrnn__read_item *it)
{
    mrnn__piece_init(&it->piece);
    mrnn__steps_init(&it->steps);
    it->encoded = 0;
    it->bytes = 0;
}

static void item_clear(mrnn__read_item *it)
{
    mrnn__piece_clear(&it->piece);
    mrnn__steps_clear(&it->steps);
    it->encoded = 0;
    it->bytes = 0;
}

static void item_free(mrnn__read_item *it)
{
    mrnn__piece_free(&it->piece);
    mrnn__steps_free(&it->steps);
}

typedef struct reader {
    size_t n, window;
    mrnn__read_fn read;
    void *ctx;
    slot *slots;
    pthread_mutex_t mu;
    pthread_cond_t slot_ready, slot_free;
    size_t next_read, next_commit; /* under mu */
    int stop;                      /* under mu: the commits ended early */
} reader;

static void read_into(reader *r, size_t i, slot *s)
{
    item_clear(&s->it);
    s->st = r->read(r->ctx, i, &s->it);
    s->reason = s->st == MRNN_OK ? NULL : mrnn__strdup(mrnn_last_error());
}

static void *helper_main(void *arg)
{
    reader *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->stop && r->next_read < r->n && r->next_read >= r->next_commit + r->window)
            pthread_cond_wait(&r->slot_free, &r->mu);
        if (r->stop || r->next_read >= r->n) break;
        size_t i = r->next_read++;
        slot *s = &r->slots[i % r->window];
        pthread_mutex_unlock(&r->mu);
        read_into(r, i, s);
        pthread_mutex_lock(&r->mu);
        s->ready = 1;
        pthread_cond_broadcast(&r->slot_ready);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static mrnn_status commit_slot(mrnn__commit_fn commit, void *ctx, size_t i, slot *s)
{
    const char *why = s->st == MRNN_OK ? "" : s->reason ? s->reason : "out of memory recording the reason";
    mrnn_status st = commit(ctx, i, s->st, why, &s->it);
    mrnn__free(s->reason);
    s->reason = NULL;
    item_clear(&s->it);
    return st;
}

static mrnn_status run_serial(size_t n, mrnn__read_fn read, mrnn__commit_fn commit, void *ctx)
{
    reader r = {.n = n, .read = read, .ctx = ctx};
    slot s = {0};
    item_init(&s.it);
    mrnn_status st = MRNN_OK;
    for (size_t i = 0; i < n && st == MRNN_OK; i++) {
        read_into(&r, i, &s);
        st = commit_slot(commit, ctx, i, &s);
    }
    item_free(&s.it);
    return st;
}

mrnn_status mrnn__read_ordered(size_t n, unsigned threads, mrnn__read_fn read, mrnn__commit_fn commit, void *ctx)
{
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    if (threads > n) threads = (unsigned)n;
    if (threads <= 1) return run_serial(n, read, commit, ctx);

    reader r;
    memset(&r, 0, sizeof r);
    r.n = n;
    r.window = (size_t)threads * AHEAD_PER_THREAD;
    r.read = read;
    r.ctx = ctx;
    r.slots = mrnn__calloc(r.window, sizeof *r.slots);
    pthread_t *tids = mrnn__calloc(threads, sizeof *tids);
    if (!r.slots || !tids) {
        mrnn__free(r.slots);
        mrnn__free(tids);
        return run_serial(n, read, commit, ctx); /* no memory for the ring: read on this thread */
    }
    for (size_t k = 0; k < r.window; k++) item_init(&r.slots[k].it);
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.slot_ready, NULL);
    pthread_cond_init(&r.slot_free, NULL);
    unsigned started = 0;
    for (; started < threads; started++) {
        if (pthread_create(&tids[started], NULL, helper_main, &r) != 0) break;
    }

    mrnn_status st = MRNN_OK;
    if (started == 0) {
        st = run_serial(n, read, commit, ctx);
    } else {
        for (size_t i = 0; i < n && st == MRNN_OK; i++) {
            slot *s = &r.slots[i % r.window];
            pthread_mutex_lock(&r.mu);
            while (!s->ready) pthread_cond_wait(&r.slot_ready, &r.mu);
            pthread_mutex_unlock(&r.mu);
            st = commit_slot(commit, ctx, i, s);
            pthread_mutex_lock(&r.mu);
            s->ready = 0;
            r.next_commit = i + 1;
            if (st != MRNN_OK) r.stop = 1;
            pthread_cond_broadcast(&r.slot_free);
            pthread_mutex_unlock(&r.mu);
        }
    }
    pthread_mutex_lock(&r.mu);
    r.stop = 1;
    pthread_cond_broadcast(&r.slot_free);
    pthread_mutex_unlock(&r.mu);
    for (unsigned k = 0; k < started; k++) pthread_join(tids[k], NULL);
    for (size_t k = 0; k < r.window; k++) {
        mrnn__free(r.slots[k].reason);
        item_free(&r.slots[k].it);
    }
    pthread_cond_destroy(&r.slot_free);
    pthread_cond_destroy(&r.slot_ready);
    pthread_mutex_destroy(&r.mu);
    mrnn__free(r.slots);
    mrnn__free(tids);
    return st;
}
