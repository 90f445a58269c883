/* musicrnn generate --form: a piece in sections, e.g. AABA.
 *
 * Why: an LSTM trained on a few dozen pieces continues music well for a few bars but does not
 * come back to what it played (docs/QUALITY.md: 3-13 % of its 4-note windows recur, against 70 % in
 * the held-out pieces, however long it trains). Songs are built from sections that return, so the
 * form is given here and the model writes the sections: the first time a letter appears, the
 * model continues from everything before it for a section's length of music; a letter seen
 * before is that section again, note for note. The next new section is primed with the whole
 * piece so far, repeats included, so it follows on from what was just heard. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "generate_form.h"

typedef struct piece {
    uint32_t *ids;
    size_t n, cap;
} piece;

static int piece_reserve(piece *p, size_t more)
{
    if (p->n + more <= p->cap) return 0;
    size_t cap = p->cap ? p->cap : 1024;
    while (cap < p->n + more) cap *= 2;
    uint32_t *grown = realloc(p->ids, cap * sizeof *grown);
    if (!grown) return -1;
    p->ids = grown;
    p->cap = cap;
    return 0;
}

static int piece_append(piece *p, const uint32_t *ids, size_t n)
{
    if (piece_reserve(p, n) != 0) return -1;
    memcpy(p->ids + p->n, ids, n * sizeof *ids);
    p->n += n;
    return 0;
}

/* Ids [from, from + n) of the piece again at its end (grown first: the copy's source moves with it). */
static int piece_repeat(piece *p, size_t from, size_t n)
{
    if (piece_reserve(p, n) != 0) return -1;
    memcpy(p->ids + p->n, p->ids + from, n * sizeof *p->ids);
    p->n += n;
    return 0;
}

int cli_form_valid(const char *form)
{
    size_t n = strlen(form);
    if (n == 0 || n > CLI_FORM_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (form[i] < 'A' || form[i] > 'Z') return 0;
    return 1;
}

/* Counts the primer: the first generated step's index in the output is the primer's length. */
typedef struct form_watch {
    mrnn_sample_callback cb;
    void *user;
    int seen;
    uint64_t first_step;
} form_watch;

static int watch_event(const mrnn_sample_event *ev, void *user)
{
    form_watch *w = user;
    if (!w->seen) {
        w->seen = 1;
        w->first_step = ev->step;
    }
    return w->cb ? w->cb(ev, w->user) : 0;
}

int cli_generate_form(mrnn_sampler *s, const cli_form_job *job, cli_form_result *res)
{
    piece p = {0};
    size_t start[26], len[26];
    int have[26] = {0};
    memset(res, 0, sizeof *res);
    mrnn_status st = MRNN_OK;
    for (size_t i = 0; job->form[i] && st == MRNN_OK; i++) {
        const int letter = job->form[i] - 'A';
        res->section_start[i] = p.n;
        if (have[letter]) {
            if (piece_repeat(&p, start[letter], len[letter]) != 0) goto nomem;
            res->section_len[i] = len[letter];
            res->sections = i + 1;
            continue;
        }
        form_watch w = {job->cb, job->user, 0, 0};
        if (i > 0) {
            /* a new section follows everything so far: the piece becomes the primer */
            st = mrnn_sampler_reset(s, job->rng_seed + (uint64_t)i);
            if (st == MRNN_OK) st = mrnn_sampler_prime_tokens(s, p.ids, p.n);
        } else {
            if (job->seed) st = mrnn_sampler_prime_text(s, job->seed);
            if (st == MRNN_OK && job->primer)
                st = mrnn_sampler_prime_midi(s, job->primer, job->primer_tracks, job->primer_channels);
        }
        if (st == MRNN_OK) st = mrnn_sampler_generate(s, job->max_steps, job->section_seconds, watch_event, &w);
        const uint32_t *ids = NULL;
        size_t n = 0;
        if (st == MRNN_OK) st = mrnn_sampler_tokens(s, 0, &ids, &n);
        if (st != MRNN_OK) break;
        /* The sampler keeps its primer in the output (include_primer): from the second section on
         * that primer is the piece so far; in the first, the seed or primer file. */
        size_t primed = i > 0 ? p.n : (w.seen ? (size_t)w.first_step : n);
        if (primed > n) primed = n;
        if (i == 0) {
            res->primer_len = primed;
            if (piece_append(&p, ids, primed) != 0) goto nomem;
            res->section_start[0] = p.n;
        }
        start[letter] = p.n;
        len[letter] = n - primed;
        have[letter] = 1;
        if (piece_append(&p, ids + primed, n - primed) != 0) goto nomem;
        res->section_len[i] = len[letter];
        res->sections = i + 1;
    }
    if (st != MRNN_OK) {
        free(p.ids);
        return cli_fail("generate", st);
    }
    res->ids = p.ids;
    res->n = p.n;
    return 0;
nomem:
    free(p.ids);
    fprintf(stderr, "musicrnn generate: out of memory for the piece (%zu tokens)\n", p.n);
    return 1;
}
