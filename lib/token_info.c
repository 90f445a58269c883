/* Token meanings for the sampler (see token_info.h). */
#include <stdlib.h>
#include <string.h>

#include "encoding_performance.h"
#include "encoding_pianoroll.h"
#include "encoding_multitrack.h"
#include "pitch.h"
#include "token_info.h"

#define SECONDS_PER_QUARTER 0.5 /* tokens carry time in quarters or at 120 bpm */

int mrnn__parse_duration(const char *s, size_t len, double *quarters)
{
    if (len == 0) return -1;
    static const char letters[] = "whqest";
    static const double value[] = {4, 2, 1, 0.5, 0.25, 0.125};
    const char *hit = memchr(letters, s[0], sizeof letters - 1);
    if (hit) {
        double q = value[hit - letters];
        if (len == 2 && s[1] == '.') q *= 1.5;
        else if (len != 1) return -1;
        *quarters = q;
        return 0;
    }
    /* "n" or "n/d" */
    unsigned long num = 0, den = 1;
    size_t i = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9' && num < 100000) num = num * 10 + (unsigned long)(s[i++] - '0');
    if (i == 0) return -1;
    if (i < len && s[i] == '/') {
        size_t j = ++i;
        den = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && den < 100000) den = den * 10 + (unsigned long)(s[i++] - '0');
        if (i == j || den == 0) return -1;
    }
    if (i != len || num == 0) return -1;
    *quarters = (double)num / (double)den;
    return 0;
}

static void add_pitch(mrnn__token_info *t, int pitch)
{
    if (t->n_notes == 0 || pitch < t->min_pitch) t->min_pitch = (uint8_t)pitch;
    if (t->n_notes == 0 || pitch > t->max_pitch) t->max_pitch = (uint8_t)pitch;
    t->pitch_classes |= (uint16_t)(1u << (pitch % 12));
    if (t->n_notes < UINT8_MAX) t->n_notes++;
}

/* "C4.E4.G4:q", "drum36:s", "W:h" */
static void notechord_info(const char *text, mrnn__token_info *t)
{
    const char *colon = strrchr(text, ':');
    double q;
    if (!colon || mrnn__parse_duration(colon + 1, strlen(colon + 1), &q) != 0) return;
    if (colon - text == 1 && text[0] == 'W') {
        t->kind = MRNN__TOK_TIME;
        t->advance_s = q * SECONDS_PER_QUARTER;
        return;
    }
    mrnn__token_info parsed = {0};
    for (const char *p = text; p < colon;) {
        const char *end = memchr(p, '.', (size_t)(colon - p));
        if (!end) end = colon;
        int pitch;
        if (end - p > 4 && strncmp(p, "drum", 4) == 0) {
            parsed.drum = 1;
        } else if (mrnn__pitch_parse(p, (size_t)(end - p), &pitch) == 0) {
            add_pitch(&parsed, pitch);
        } else {
            return; /* not a note list: leave it OTHER */
        }
        p = end + 1;
    }
    parsed.kind = MRNN__TOK_NOTES;
    parsed.duration_s = q * SECONDS_PER_QUARTER;
    *t = parsed;
}

static void performance_info(uint32_t id, mrnn__token_info *t)
{
    if (id < MRNN__PERF_NOTE_OFF) {
        t->kind = MRNN__TOK_NOTES;
        t->pitch = (uint8_t)id;
        add_pitch(t, (int)id);
    } else if (id < MRNN__PERF_TIME_SHIFT) {
        t->kind = MRNN__TOK_NOTE_OFF;
        t->pitch = (uint8_t)(id - MRNN__PERF_NOTE_OFF);
    } else if (id < MRNN__PERF_VELOCITY) {
        t->kind = MRNN__TOK_TIME;
        t->advance_s = (double)(id - MRNN__PERF_TIME_SHIFT + 1) * MRNN__PERF_SHIFT_SECONDS;
    } else if (id < MRNN__PERF_SIZE) {
        t->kind = MRNN__TOK_VELOCITY;
    }
}

static void multitrack_info(const mrnn_vocab *v, uint32_t id, mrnn__token_info *t)
{
    mrnn__mt_layout l;
    mrnn__mt_layout_of(&v->enc, &l);
    double step_s = SECONDS_PER_QUARTER / (double)v->enc.steps_per_quarter;
    if (id < l.n_sel) {
        t->kind = MRNN__TOK_INSTRUMENT;
        unsigned width = v->enc.multitrack_programs ? 1u : 8u;
        t->slot_lo = (uint8_t)(id * width);
        t->slot_hi = (uint8_t)(id * width + width - 1);
    } else if (id < l.drum0) {
        t->kind = MRNN__TOK_NOTES;
        t->pitch = (uint8_t)(id - l.note0);
        t->duration_s = step_s; /* as decoded until a DUR gives its length */
        add_pitch(t, (int)t->pitch);
    } else if (id < l.dur0) {
        /* A drum note: no pitch for range and key constraints to judge. */
        t->kind = MRNN__TOK_NOTES;
        t->drum = 1;
        t->pitch = (uint8_t)(id - l.drum0);
        t->slot_lo = t->slot_hi = (uint8_t)MRNN_INSTRUMENT_DRUMS;
    } else if (id < l.shift0) {
        t->kind = MRNN__TOK_DURATION;
        t->duration_s = (double)(id - l.dur0 + 1) * step_s;
    } else if (id < l.vel0) {
        t->kind = MRNN__TOK_TIME;
        t->advance_s = (double)(id - l.shift0 + 1) * step_s;
    } else if (id < l.size) {
        t->kind = MRNN__TOK_VELOCITY;
    }
}

double mrnn__frame_seconds(const mrnn_vocab *v)
{
    if (v->enc.frame_seconds > 0) return v->enc.frame_seconds;
    return SECONDS_PER_QUARTER / (double)v->enc.steps_per_quarter;
}

void mrnn__token_info_fill(const mrnn_vocab *v, mrnn__token_info *info)
{
    for (uint32_t id = 0; id < v->n; id++) {
        mrnn__token_info *t = &info[id];
        memset(t, 0, sizeof *t);
        switch (v->enc.encoding) {
        case MRNN_ENCODING_NOTECHORD:
            if (id != v->unk) notechord_info(v->text[id], t);
            break;
        case MRNN_ENCODING_PERFORMANCE:
            performance_info(id, t);
            break;
        case MRNN_ENCODING_PIANOROLL:
            t->kind = MRNN__TOK_NOTES;
            add_pitch(t, MRNN__PIANO_LOW + (int)id);
            break;
        case MRNN_ENCODING_MULTITRACK:
            multitrack_info(v, id, t);
            break;
        default:
            break;
        }
    }
}
