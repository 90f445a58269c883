/* musicrnn generate --form (generate_form.c): a piece in sections that return, e.g. AABA. */
#ifndef MUSICRNN_GENERATE_FORM_H
#define MUSICRNN_GENERATE_FORM_H

#include <stddef.h>
#include <stdint.h>

#include <musicrnn/musicrnn.h>

/* Sections of a form at most (letters A-Z, each one a section). */
#define CLI_FORM_MAX 64

/* 1 if form is 1..CLI_FORM_MAX capital letters. */
int cli_form_valid(const char *form);

typedef struct cli_form_job {
    const char *form;            /* valid per cli_form_valid() */
    double section_seconds;      /* music per new section, seconds at 120 bpm (the sampler's clock) */
    uint32_t max_steps;          /* most steps per new section */
    uint64_t rng_seed;           /* the first section's; section i draws with rng_seed + i */
    const char *seed;            /* seed text before the first section, or NULL */
    const char *primer;          /* primer MIDI file before the first section, or NULL */
    uint64_t primer_tracks;
    uint32_t primer_channels;
    mrnn_sample_callback cb;     /* called for every generated step, or NULL */
    void *user;
} cli_form_job;

typedef struct cli_form_result {
    uint32_t *ids;               /* the piece: primer, then the sections (malloc'd; the caller frees) */
    size_t n;
    size_t primer_len;           /* leading ids that are the seed or primer */
    size_t sections;
    size_t section_start[CLI_FORM_MAX], section_len[CLI_FORM_MAX];
} cli_form_result;

/* Generate job->form with sampler s (one lane, no beam search, include_primer set: the sampler's
 * output must begin with what it was primed with). On failure prints the reason to stderr and
 * returns non-zero, with nothing left to free in res. */
int cli_generate_form(mrnn_sampler *s, const cli_form_job *job, cli_form_result *res);

#endif
