/* The fork-join team (see team.h).
 *
 * Hand-over: the caller writes the job, resets `done` and publishes the job by bumping
 * `generation` (release); each helper picks it up (acquire), runs its part and bumps `done`. Each
 * side first spins for a short while, then sleeps on a condition variable; the sleeper counts,
 * read and written under the mutex, tell the other side whether it must signal. */
#include "team.h"

#include <pthread.h>
#include <stdatomic.h>

#include "alloc.h"

/* Polls before sleeping: about 20-50 microseconds on current CPUs. */
#define SPIN_POLLS 20000

typedef struct helper_arg {
    struct mrnn__team *t;
    int part;
} helper_arg;

struct mrnn__team {
    int n; /* threads, the caller included */
    pthread_t *helpers;
    helper_arg *args; /* one per helper, read by it for its whole life */
    pthread_mutex_t mu;
    pthread_cond_t wake_helpers, wake_caller;
    atomic_uint generation, done;
    atomic_int quit;
    int helpers_sleeping, caller_sleeping; /* under mu */
    mrnn__team_fn fn;                      /* the job of the current generation */
    void *ctx;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static int helper_ready(mrnn__team *t, unsigned seen)
{
    return atomic_load_explicit(&t->generation, memory_order_acquire) != seen ||
           atomic_load_explicit(&t->quit, memory_order_acquire);
}

/* Every helper has finished the current job (the second argument is unused). */
static int all_done(mrnn__team *t, unsigned unused)
{
    (void)unused;
    return atomic_load_explicit(&t->done, memory_order_acquire) == (unsigned)(t->n - 1);
}

/* Spin, then sleep on cv until ready(t, seen). */
static void wait_for(mrnn__team *t, int (*ready)(mrnn__team *, unsigned), unsigned seen, int *sleepers,
                     pthread_cond_t *cv)
{
    for (int i = 0; i < SPIN_POLLS; i++) {
        if (ready(t, seen)) return;
        cpu_relax();
    }
    pthread_mutex_lock(&t->mu);
    while (!ready(t, seen)) {
        ++*sleepers;
        pthread_cond_wait(cv, &t->mu);
        --*sleepers;
    }
    pthread_mutex_unlock(&t->mu);
}

static void *helper_main(void *arg)
{
    const helper_arg *a = arg;
    mrnn__team *t = a->t;
    const int part = a->part;
    unsigned seen = 0;
    for (;;) {
        wait_for(t, helper_ready, seen, &t->helpers_sleeping, &t->wake_helpers);
        if (atomic_load_explicit(&t->quit, memory_order_acquire)) return NULL;
        seen = atomic_load_explicit(&t->generation, memory_order_acquire);
        t->fn(t->ctx, part, t->n);
        if (atomic_fetch_add_explicit(&t->done, 1u, memory_order_acq_rel) + 1u == (unsigned)(t->n - 1)) {
            pthread_mutex_lock(&t->mu);
            if (t->caller_sleeping) pthread_cond_signal(&t->wake_caller);
            pthread_mutex_unlock(&t->mu);
        }
    }
}

mrnn__team *mrnn__team_new(int n_threads)
{
    if (n_threads < 2) return NULL;
    mrnn__team *t = mrnn__calloc(1, sizeof *t);
    if (!t) return NULL;
    t->helpers = mrnn__calloc((size_t)n_threads, sizeof *t->helpers);
    t->args = mrnn__calloc((size_t)n_threads, sizeof *t->args);
    if (!t->helpers || !t->args) goto fail_alloc;
    t->n = n_threads;
    atomic_init(&t->generation, 0u);
    atomic_init(&t->done, 0u);
    atomic_init(&t->quit, 0);
    if (pthread_mutex_init(&t->mu, NULL) != 0) goto fail_alloc;
    if (pthread_cond_init(&t->wake_helpers, NULL) != 0) goto fail_cv1;
    if (pthread_cond_init(&t->wake_caller, NULL) != 0) goto fail_cv2;
    int started = 0;
    for (int i = 1; i < n_threads; i++, started++) {
        t->args[i] = (helper_arg){t, i};
        if (pthread_create(&t->helpers[i], NULL, helper_main, &t->args[i]) != 0) break;
    }
    if (started == n_threads - 1) return t;
    /* not every helper started: stop those that did */
    atomic_store_explicit(&t->quit, 1, memory_order_release);
    pthread_mutex_lock(&t->mu);
    pthread_cond_broadcast(&t->wake_helpers);
    pthread_mutex_unlock(&t->mu);
    for (int i = 1; i <= started; i++) pthread_join(t->helpers[i], NULL);
    pthread_cond_destroy(&t->wake_caller);
fail_cv2:
    pthread_cond_destroy(&t->wake_helpers);
fail_cv1:
    pthread_mutex_destroy(&t->mu);
fail_alloc:
    mrnn__free(t->args);
    mrnn__free(t->helpers);
    mrnn__free(t);
    return NULL;
}

int mrnn__team_size(const mrnn__team *t)
{
    return t ? t->n : 1;
}

void mrnn__team_run(mrnn__team *t, mrnn__team_fn fn, void *ctx)
{
    if (!t) {
        fn(ctx, 0, 1);
        return;
    }
    t->fn = fn;
    t->ctx = ctx;
    atomic_store_explicit(&t->done, 0u, memory_order_relaxed);
    atomic_fetch_add_explicit(&t->generation, 1u, memory_order_release);
    pthread_mutex_lock(&t->mu);
    if (t->helpers_sleeping) pthread_cond_broadcast(&t->wake_helpers);
    pthread_mutex_unlock(&t->mu);
    fn(ctx, 0, t->n);
    wait_for(t, all_done, 0, &t->caller_sleeping, &t->wake_caller);
}

void mrnn__team_free(mrnn__team *t)
{
    if (!t) return;
    atomic_store_explicit(&t->quit, 1, memory_order_release);
    pthread_mutex_lock(&t->mu);
    pthread_cond_broadcast(&t->wake_helpers);
    pthread_mutex_unlock(&t->mu);
    for (int i = 1; i < t->n; i++) pthread_join(t->helpers[i], NULL);
    pthread_cond_destroy(&t->wake_caller);
    pthread_cond_destroy(&t->wake_helpers);
    pthread_mutex_destroy(&t->mu);
    mrnn__free(t->args);
    mrnn__free(t->helpers);
    mrnn__free(t);
}

void mrnn__team_range(size_t total, size_t align, int part, int n_parts, size_t *begin, size_t *end)
{
    const size_t units = (total + align - 1) / align, n = (size_t)n_parts, p = (size_t)part;
    const size_t b = units * p / n, e = units * (p + 1) / n;
    *begin = b * align < total ? b * align : total;
    *end = e * align < total ? e * align : total;
}
