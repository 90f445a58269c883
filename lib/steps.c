/* Token step sequences (steps.h). */
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "steps.h"

void mrnn__steps_init(mrnn__steps *s)
{
    memset(s, 0, sizeof *s);
}

void mrnn__steps_free(mrnn__steps *s)
{
    mrnn__free(s->ids);
    mrnn__free(s->start);
    mrnn__steps_init(s);
}

void mrnn__steps_clear(mrnn__steps *s)
{
    s->n_ids = 0;
    s->n_steps = 0;
    if (s->start) s->start[0] = 0;
}

static mrnn_status ensure_start(mrnn__steps *s)
{
    if (!s->start) {
        if (mrnn__grow((void **)&s->start, &s->cap_start, 1, sizeof *s->start) != 0)
            return mrnn__fail(MRNN_ERR_NOMEM, "out of memory for token steps");
        s->start[0] = 0;
    }
    return MRNN_OK;
}

mrnn_status mrnn__steps_push_id(mrnn__steps *s, uint32_t id)
{
    if (ensure_start(s) != MRNN_OK) return MRNN_ERR_NOMEM;
    if (s->n_ids >= UINT32_MAX - 1) return mrnn__fail(MRNN_ERR_LIMIT, "token sequence too long");
    if (mrnn__grow((void **)&s->ids, &s->cap_ids, s->n_ids + 1, sizeof *s->ids) != 0)
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory for token steps");
    s->ids[s->n_ids++] = id;
    return MRNN_OK;
}

mrnn_status mrnn__steps_end_step(mrnn__steps *s)
{
    if (ensure_start(s) != MRNN_OK) return MRNN_ERR_NOMEM;
    if (mrnn__grow((void **)&s->start, &s->cap_start, s->n_steps + 2, sizeof *s->start) != 0)
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory for token steps");
    s->start[++s->n_steps] = (uint32_t)s->n_ids;
    return MRNN_OK;
}

mrnn_status mrnn__steps_from_flat(mrnn__steps *s, const uint32_t *ids, size_t n, int multi_hot)
{
    mrnn__steps_clear(s);
    mrnn_status st = ensure_start(s);
    if (st != MRNN_OK) return st;
    size_t open = 0; /* ids pushed since the last frame end */
    for (size_t i = 0; i < n; i++) {
        if (multi_hot && ids[i] == MRNN_FRAME_END) {
            st = mrnn__steps_end_step(s);
            open = 0;
        } else {
            st = mrnn__steps_push_id(s, ids[i]);
            open++;
            if (st == MRNN_OK && !multi_hot) {
                st = mrnn__steps_end_step(s);
                open = 0;
            }
        }
        if (st != MRNN_OK) return st;
    }
    /* A final frame without its end marker still counts. */
    if (multi_hot && open > 0) return mrnn__steps_end_step(s);
    return MRNN_OK;
}
