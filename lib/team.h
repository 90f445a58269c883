/* A fork-join team of threads: the caller and n-1 helpers run one function on n parts, and the
 * caller goes on when every part is done.
 *
 * Why our own threads: OpenBLAS parallelises each GEMM inside, but a training step and a sampling
 * step are mostly work OpenBLAS does not see (the packed-weight products, the LSTM cell, the loss,
 * Adam). Splitting whole stretches of that work by lanes, rows or columns across a team keeps both
 * cores busy with one hand-over per stretch; OpenBLAS runs single-threaded inside the parts.
 *
 * Helpers spin briefly for the next job (consecutive jobs are microseconds apart, much less than a
 * sleep and wake-up cost), then sleep on a condition variable: an idle team costs no CPU. A team is
 * driven by one thread at a time. */
#ifndef MRNN_TEAM_H
#define MRNN_TEAM_H

#include <stddef.h>

typedef struct mrnn__team mrnn__team;

/* fn runs once per part, part = 0 .. n_parts-1, part 0 on the calling thread. */
typedef void (*mrnn__team_fn)(void *ctx, int part, int n_parts);

/* A team of n_threads threads counting the caller, or NULL when n_threads < 2 or the helpers
 * cannot be started (callers then run everything themselves: NULL is a valid team of one). */
mrnn__team *mrnn__team_new(int n_threads);
/* Stop and join the helpers; NULL does nothing. */
void mrnn__team_free(mrnn__team *t);
/* Threads of the team, the caller included: 1 for NULL. */
int mrnn__team_size(const mrnn__team *t);

/* Run fn on every part and return when all are done (NULL team: fn(ctx, 0, 1)). Parts must not
 * call back into the team. */
void mrnn__team_run(mrnn__team *t, mrnn__team_fn fn, void *ctx);

/* Part `part` of n_parts of the range [0, total): [*begin, *end), boundaries at multiples of
 * align (> 0) except the end of the range; parts differ by at most one align unit. */
void mrnn__team_range(size_t total, size_t align, int part, int n_parts, size_t *begin, size_t *end);

#endif
