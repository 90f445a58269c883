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

int cli_form_valid(const char *form)
{
    size_t n = strlen(form);
    if (n == 0 || n > CLI_FORM_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (form[i] < 'A' || form[i] > 'Z') return 0;
    return 1;
}

/* The sampler's output so far (before its first generate: what it was primed with). */
static size_t output_length(const mrnn_sampler *s)
{
    const uint32_t *ids;
    size_t n = 0;
    return mrnn_sampler_tokens(s, 0, &ids, &n) == MRNN_OK ? n : 0;
}

int cli_generate_form(mrnn_sampler *s, const cli_form_job *job, cli_form_result *res)
{
    piece p = {0};
    int first[26]; /* the section where each letter is first written, or -1 */
    for (int l = 0; l < 26; l++) first[l] = -1;
    memset(res, 0, sizeof *res);
    for (size_t i = 0; job->form[i]; i++) {
        const int letter = job->form[i] - 'A';
        if (first[letter] >= 0) {
            const size_t from = res->section_start[first[letter]], n = res->section_len[first[letter]];
            /* reserved first: the copy's source moves with the piece when it grows */
            if (piece_reserve(&p, n) != 0 || piece_append(&p, p.ids + from, n) != 0) goto nomem;
            res->section_start[i] = p.n - n;
            res->section_len[i] = n;
            res->sections = i + 1;
            continue;
        }
        mrnn_status st = MRNN_OK;
        if (i > 0) {
            /* a new section follows everything so far: the piece becomes the primer */
            st = mrnn_sampler_reset(s, job->rng_seed + (uint64_t)i);
            if (st == MRNN_OK) st = mrnn_sampler_prime_tokens(s, p.ids, p.n);
        } else {
            if (job->seed) st = mrnn_sampler_prime_text(s, job->seed);
            if (st == MRNN_OK && job->primer)
                st = mrnn_sampler_prime_midi(s, job->primer, job->primer_tracks, job->primer_channels);
        }
        /* include_primer: the output begins with the primer, the piece so far from the second
         * section on, the seed or primer file in the first */
        const size_t primed = output_length(s);
        const uint32_t *ids = NULL;
        size_t n = 0;
        if (st == MRNN_OK) st = mrnn_sampler_generate(s, job->max_steps, job->section_seconds, job->cb, job->user);
        if (st == MRNN_OK) st = mrnn_sampler_tokens(s, 0, &ids, &n);
        if (st != MRNN_OK) {
            free(p.ids);
            return cli_fail("generate", st);
        }
        if (i == 0) {
            res->primer_len = primed;
            if (piece_append(&p, ids, primed) != 0) goto nomem;
        }
        first[letter] = (int)i;
        res->section_start[i] = p.n;
        res->section_len[i] = n - primed;
        res->sections = i + 1;
        if (piece_append(&p, ids + primed, n - primed) != 0) goto nomem;
    }
    res->ids = p.ids;
    res->n = p.n;
    return 0;
nomem:
    free(p.ids);
    fprintf(stderr, "musicrnn generate: out of memory for the piece (%zu tokens)\n", p.n);
    return 1;
}
