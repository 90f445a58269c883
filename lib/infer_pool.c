/* The sampling products on two threads (see infer_pool.h).
 *
 * Hand-over: the caller writes the job, then publishes it by bumping `posted` (release); the helper
 * picks it up (acquire), runs its half and bumps `finished`. Each side first spins for a short
 * while (a step's products are tens of microseconds apart, much less than a sleep and wake-up
 * costs) and then sleeps on a condition variable; `sleeping` flags, read and written under the
 * mutex, tell the other side whether it must signal. */
#include <pthread.h>
#include <stdatomic.h>

#include "alloc.h"
#include "infer_pool.h"

/* Polls before sleeping: about 20-50 microseconds on current CPUs. */
#define SPIN_POLLS 20000
/* Below this many weights a product is too short to be worth waking the helper. */
#define MIN_SPLIT_WEIGHTS (64 * 1024)

typedef struct job {
    const mrnn__infer_matrix *m;
    int isa, g_begin, g_end, B;
    const float *x;
    size_t ldx, ldy;
    float *y;
} job;

struct mrnn__infer_pool {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake_helper, wake_caller;
    atomic_uint posted, finished;
    atomic_int quit;
    int helper_sleeping, caller_sleeping; /* under mu */
    job work;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Wait until *v != old (for_helper: the helper waits for work, else the caller waits for the end). */
static unsigned wait_change(mrnn__infer_pool *p, atomic_uint *v, unsigned old, int for_helper)
{
    unsigned now;
    for (int i = 0; i < SPIN_POLLS; i++) {
        if ((now = atomic_load_explicit(v, memory_order_acquire)) != old) return now;
        if (for_helper && atomic_load_explicit(&p->quit, memory_order_acquire)) return old;
        cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    int *sleeping = for_helper ? &p->helper_sleeping : &p->caller_sleeping;
    pthread_cond_t *cv = for_helper ? &p->wake_helper : &p->wake_caller;
    while ((now = atomic_load_explicit(v, memory_order_acquire)) == old &&
           !(for_helper && atomic_load_explicit(&p->quit, memory_order_acquire))) {
        *sleeping = 1;
        pthread_cond_wait(cv, &p->mu);
    }
    *sleeping = 0;
    pthread_mutex_unlock(&p->mu);
    return now;
}

/* Bump *v and wake the other side if it sleeps. */
static void publish(mrnn__infer_pool *p, atomic_uint *v, int to_helper)
{
    atomic_fetch_add_explicit(v, 1u, memory_order_release);
    pthread_mutex_lock(&p->mu);
    if (to_helper ? p->helper_sleeping : p->caller_sleeping)
        pthread_cond_signal(to_helper ? &p->wake_helper : &p->wake_caller);
    pthread_mutex_unlock(&p->mu);
}

static void *helper_main(void *arg)
{
    mrnn__infer_pool *p = arg;
    unsigned seen = 0;
    for (;;) {
        unsigned now = wait_change(p, &p->posted, seen, 1);
        if (now == seen) return NULL; /* quit */
        seen = now;
        const job *j = &p->work;
        mrnn__infer_matmul_cols(j->isa, j->m, j->g_begin, j->g_end, j->B, j->x, j->ldx, j->y, j->ldy);
        publish(p, &p->finished, 0);
    }
}

mrnn__infer_pool *mrnn__infer_pool_new(void)
{
    mrnn__infer_pool *p = mrnn__calloc(1, sizeof *p);
    if (!p) return NULL;
    atomic_init(&p->posted, 0u);
    atomic_init(&p->finished, 0u);
    atomic_init(&p->quit, 0);
    if (pthread_mutex_init(&p->mu, NULL) != 0) goto fail_mu;
    if (pthread_cond_init(&p->wake_helper, NULL) != 0) goto fail_cv1;
    if (pthread_cond_init(&p->wake_caller, NULL) != 0) goto fail_cv2;
    if (pthread_create(&p->thread, NULL, helper_main, p) != 0) goto fail_thread;
    return p;
fail_thread:
    pthread_cond_destroy(&p->wake_caller);
fail_cv2:
    pthread_cond_destroy(&p->wake_helper);
fail_cv1:
    pthread_mutex_destroy(&p->mu);
fail_mu:
    mrnn__free(p);
    return NULL;
}

void mrnn__infer_pool_free(mrnn__infer_pool *p)
{
    if (!p) return;
    atomic_store_explicit(&p->quit, 1, memory_order_release);
    pthread_mutex_lock(&p->mu);
    pthread_cond_signal(&p->wake_helper);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->wake_caller);
    pthread_cond_destroy(&p->wake_helper);
    pthread_mutex_destroy(&p->mu);
    mrnn__free(p);
}

void mrnn__infer_matmul_pool(mrnn__infer_pool *p, const mrnn__infer_matrix *m, int B, const float *x, size_t ldx,
                             float *y, size_t ldy)
{
    const int isa = mrnn__infer_matmul_best_isa();
    const int panel = mrnn__infer_panel_cols();
    const int n_panels = (m->n_out + panel - 1) / panel;
    if (!p || n_panels < 2 || (long)m->n_in * m->n_out < MIN_SPLIT_WEIGHTS) {
        mrnn__infer_matmul_cols(isa, m, 0, m->n_out, B, x, ldx, y, ldy);
        return;
    }
    const int split = (n_panels / 2) * panel; /* the caller takes the first half, the helper the rest */
    p->work = (job){m, isa, split, m->n_out, B, x, ldx, ldy, y};
    unsigned done = atomic_load_explicit(&p->finished, memory_order_relaxed);
    publish(p, &p->posted, 1);
    mrnn__infer_matmul_cols(isa, m, 0, split, B, x, ldx, y, ldy);
    wait_change(p, &p->finished, done, 0);
}
