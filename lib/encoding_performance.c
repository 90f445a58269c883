/* Performance encoding (the Performance RNN event vocabulary): NOTE_ON/NOTE_OFF per pitch,
 * TIME_SHIFT in 10 ms steps up to one second, VELOCITY in 32 bins. Works on seconds, so the
 * expressive timing of a played performance is kept. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "encoding_performance.h"
#include "error.h"
#include "sort.h"

/* 2^31 ticks of 10 ms is 248 days: beyond that a file is broken. */
#define PERF_MAX_TICKS 2147483647.0
#define PERF_DEFAULT_VELOCITY 80

typedef struct perf_event {
    int64_t tick;
    uint8_t on; /* 0: note-off (sorts first at equal times), 1: note-on */
    uint8_t pitch;
    uint8_t velocity;
} perf_event;

static inline int event_less(const perf_event *x, const perf_event *y)
{
    if (x->tick != y->tick) return x->tick < y->tick;
    if (x->on != y->on) return x->on < y->on;
    return x->pitch < y->pitch;
}

MRNN__DEFINE_SORT(sort_events, perf_event, event_less)

static mrnn_status to_tick(double s, int64_t *out)
{
    double t = nearbyint(s / MRNN__PERF_SHIFT_SECONDS);
    if (!(t >= 0)) t = 0;
    if (t > PERF_MAX_TICKS) return mrnn__fail(MRNN_ERR_LIMIT, "piece is too long for the performance encoding");
    *out = (int64_t)t;
    return MRNN_OK;
}

static mrnn_status emit(mrnn__steps *out, uint32_t id)
{
    mrnn_status st = mrnn__steps_push_id(out, id);
    return st == MRNN_OK ? mrnn__steps_end_step(out) : st;
}

static mrnn_status emit_shift(mrnn__steps *out, int64_t ticks, uint32_t max_steps)
{
    mrnn_status st = MRNN_OK;
    while (ticks > 0 && st == MRNN_OK) {
        if (max_steps && out->n_steps >= max_steps) return MRNN_OK;
        int64_t k = ticks < MRNN__PERF_SHIFT_STEPS ? ticks : MRNN__PERF_SHIFT_STEPS;
        st = emit(out, (uint32_t)(MRNN__PERF_TIME_SHIFT - 1 + k));
        ticks -= k;
    }
    return st;
}

/* The canonical spans of mrnn__spans_canonical() (of notes starting together on a key the longest
 * stays, a note ends where the next note of its key begins), computed in one pass over spans in
 * onset order instead of sorting them by key: the piece's notes are already in onset order, so the
 * note events below come out nearly sorted too. Ties behave as in mrnn__spans_canonical(): of
 * equally long notes at one onset the first is kept. Keys are pitches (0..127). */
static size_t canonical_in_onset_order(mrnn__span *s, size_t n)
{
    size_t last[128]; /* index + 1 of the last kept span of each key; 0: none yet */
    memset(last, 0, sizeof last);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t *l = &last[s[i].key & 127];
        if (*l) {
            mrnn__span *prev = &s[*l - 1];
            if (s[i].start == prev->start) { /* same onset: the longest stays */
                if (s[i].end > prev->end) {
                    prev->end = s[i].end;
                    prev->aux = s[i].aux;
                }
                continue;
            }
            if (s[i].start < prev->end) prev->end = s[i].start;
        }
        s[k] = s[i];
        *l = ++k;
    }
    return k;
}

static inline int span_onset_less(const mrnn__span *x, const mrnn__span *y)
{
    return x->start < y->start;
}

MRNN__DEFINE_SORT(sort_spans_by_onset, mrnn__span, span_onset_less)

mrnn_status mrnn__performance_encode(const mrnn__piece *p, const mrnn_vocab *v, mrnn__steps *out)
{
    uint32_t max_steps = v->enc.max_steps;
    perf_event *ev = NULL;
    size_t n_ev = 0;
    if (p->n_notes) {
        size_t bytes;
        if (!mrnn__mul_ok(p->n_notes, 2 * sizeof *ev, &bytes) || !(ev = mrnn__malloc(bytes)))
            return mrnn__fail(MRNN_ERR_NOMEM, "out of memory for %zu note events", p->n_notes);
    }
    mrnn__span *spans = p->n_notes ? mrnn__malloc(p->n_notes * sizeof *spans) : NULL;
    if (p->n_notes && !spans) {
        mrnn__free(ev);
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory for %zu notes", p->n_notes);
    }
    mrnn_status st = MRNN_OK;
    int in_onset_order = 1;
    for (size_t i = 0; i < p->n_notes && st == MRNN_OK; i++) {
        const mrnn__note *n = &p->notes[i];
        int64_t a = 0, b = 0;
        st = to_tick(n->start_s, &a);
        if (st == MRNN_OK) st = to_tick(n->end_s, &b);
        if (b <= a) b = a + 1; /* a note shorter than 5 ms still sounds */
        uint8_t vel = n->velocity ? n->velocity : 1;
        spans[i] = (mrnn__span){a, b, n->pitch & 127, vel > 127 ? 127 : vel};
        if (i > 0 && a < spans[i - 1].start) in_onset_order = 0;
    }
    size_t n_notes = 0;
    if (st == MRNN_OK) {
        if (!in_onset_order) sort_spans_by_onset(spans, p->n_notes); /* stable: ties keep piece order */
        n_notes = canonical_in_onset_order(spans, p->n_notes);
    }
    /* Note-ons in onset order, then note-offs: two nearly sorted halves for the merge sort. */
    for (size_t i = 0; i < n_notes; i++)
        ev[n_ev++] = (perf_event){spans[i].start, 1, (uint8_t)spans[i].key, (uint8_t)spans[i].aux};
    for (size_t i = 0; i < n_notes; i++) ev[n_ev++] = (perf_event){spans[i].end, 0, (uint8_t)spans[i].key, 0};
    mrnn__free(spans);
    int64_t end = 0;
    if (st == MRNN_OK) st = to_tick(p->end_s, &end);
    if (st != MRNN_OK) {
        mrnn__free(ev);
        return st;
    }
    sort_events(ev, n_ev);
    int64_t now = 0;
    int bin = -1;
    for (size_t i = 0; i < n_ev && st == MRNN_OK; i++) {
        if (max_steps && out->n_steps >= max_steps) break;
        st = emit_shift(out, ev[i].tick - now, max_steps);
        now = ev[i].tick;
        if (st != MRNN_OK) break;
        if (ev[i].on) {
            int b = ev[i].velocity * MRNN__PERF_VELOCITY_BINS / 128;
            if (b != bin) {
                st = emit(out, (uint32_t)(MRNN__PERF_VELOCITY + b));
                bin = b;
            }
            if (st == MRNN_OK) st = emit(out, (uint32_t)(MRNN__PERF_NOTE_ON + ev[i].pitch));
        } else {
            st = emit(out, (uint32_t)(MRNN__PERF_NOTE_OFF + ev[i].pitch));
        }
    }
    /* Silence after the last note-off belongs to the piece too. */
    if (st == MRNN_OK && end > now) st = emit_shift(out, end - now, max_steps);
    mrnn__free(ev);
    return st;
}

typedef struct open_note {
    int64_t tick;
    uint8_t pitch, velocity;
} open_note;

static mrnn_status close_note(mrnn__piece *out, const open_note *o, int64_t tick)
{
    if (tick <= o->tick) return MRNN_OK; /* zero length: nothing to hear */
    mrnn__note n;
    memset(&n, 0, sizeof n);
    n.pitch = o->pitch;
    n.velocity = o->velocity;
    n.start_s = (double)o->tick * MRNN__PERF_SHIFT_SECONDS;
    n.end_s = (double)tick * MRNN__PERF_SHIFT_SECONDS;
    return mrnn__piece_add_note(out, &n);
}

mrnn_status mrnn__performance_decode(const mrnn_vocab *v, const mrnn__steps *in, mrnn__piece *out)
{
    (void)v;
    open_note *open = NULL;
    size_t n_open = 0, cap_open = 0;
    int64_t now = 0;
    uint8_t velocity = PERF_DEFAULT_VELOCITY;
    mrnn_status st = MRNN_OK;
    for (size_t j = 0; j < in->n_ids && st == MRNN_OK; j++) {
        uint32_t id = in->ids[j];
        if (id < MRNN__PERF_NOTE_OFF) {
            if (mrnn__grow((void **)&open, &cap_open, n_open + 1, sizeof *open) != 0) {
                st = mrnn__fail(MRNN_ERR_NOMEM, "out of memory decoding notes");
                break;
            }
            open[n_open++] = (open_note){now, (uint8_t)id, velocity};
        } else if (id < MRNN__PERF_TIME_SHIFT) {
            /* The earliest open note of that pitch ends; a stray note-off is ignored. */
            uint8_t pitch = (uint8_t)(id - MRNN__PERF_NOTE_OFF);
            for (size_t k = 0; k < n_open; k++) {
                if (open[k].pitch != pitch) continue;
                st = close_note(out, &open[k], now);
                memmove(&open[k], &open[k + 1], (n_open - k - 1) * sizeof *open);
                n_open--;
                break;
            }
        } else if (id < MRNN__PERF_VELOCITY) {
            now += (int64_t)(id - MRNN__PERF_TIME_SHIFT + 1);
        } else if (id < MRNN__PERF_SIZE) {
            velocity = (uint8_t)((id - MRNN__PERF_VELOCITY) * 4 + 2);
        }
    }
    for (size_t k = 0; k < n_open && st == MRNN_OK; k++) st = close_note(out, &open[k], now);
    mrnn__free(open);
    if (st != MRNN_OK) return st;
    out->end_s = (double)now * MRNN__PERF_SHIFT_SECONDS;
    mrnn__piece_update_quarters(out);
    return MRNN_OK;
}
