/* Notechord: one token per group of notes that start on the same grid step and last equally long
 * ("C4.E4.G4:q"), and wait tokens ("W:e") that advance time between onsets. The vocabulary is
 * built from the data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "encoding_notechord.h"
#include "error.h"
#include "pitch.h"
#include "sort.h"

#define NC_MAX_STEP 2147483647.0 /* onsets beyond this many grid steps mean a broken file */
#define NC_VELOCITY 80
#define NC_TEXT_CAP 4096

typedef struct nc_note {
    int64_t onset, dur;
    int key; /* pitch, or 128 + pitch for a drum: drums sort after pitched notes */
} nc_note;

static inline int nc_less(const nc_note *x, const nc_note *y)
{
    if (x->onset != y->onset) return x->onset < y->onset;
    if (x->dur != y->dur) return x->dur < y->dur;
    return x->key < y->key;
}

MRNN__DEFINE_SORT(sort_nc_notes, nc_note, nc_less)

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Duration of d grid steps as text: a named value (w h q e s t, optionally dotted) when exact,
 * else a reduced fraction of a quarter. */
static int duration_text(int64_t d, int64_t spq, char *buf, size_t cap)
{
    static const struct {
        char name;
        int64_t num, den; /* quarters */
    } NAMED[6] = {{'w', 4, 1}, {'h', 2, 1}, {'q', 1, 1}, {'e', 1, 2}, {'s', 1, 4}, {'t', 1, 8}};
    for (int i = 0; i < 6; i++)
        if (d * NAMED[i].den == NAMED[i].num * spq) return snprintf(buf, cap, "%c", NAMED[i].name);
    for (int i = 0; i < 6; i++)
        if (2 * d * NAMED[i].den == 3 * NAMED[i].num * spq) return snprintf(buf, cap, "%c.", NAMED[i].name);
    int64_t g = gcd64(d, spq);
    if (spq / g == 1) return snprintf(buf, cap, "%lld", (long long)(d / g));
    return snprintf(buf, cap, "%lld/%lld", (long long)(d / g), (long long)(spq / g));
}

/* Inverse of duration_text: grid steps, or -1 if the text is not a duration on this grid. */
static int64_t parse_duration(const char *s, int64_t spq)
{
    static const char NAMES[] = "whqest";
    static const int64_t NUM[6] = {4, 2, 1, 1, 1, 1}, DEN[6] = {1, 1, 1, 2, 4, 8};
    const char *hit = s[0] ? strchr(NAMES, s[0]) : NULL;
    int64_t num, den;
    if (hit) {
        int i = (int)(hit - NAMES);
        num = NUM[i];
        den = DEN[i];
        if (s[1] == '.' && s[2] == '\0') {
            num *= 3;
            den *= 2;
        } else if (s[1] != '\0') {
            return -1;
        }
    } else {
        char *end;
        if (s[0] < '0' || s[0] > '9') return -1;
        long long a = strtoll(s, &end, 10), b = 1;
        if (*end == '/') {
            const char *q = end + 1;
            if (*q < '0' || *q > '9') return -1;
            b = strtoll(q, &end, 10);
        }
        if (*end != '\0' || a <= 0 || b <= 0 || a > 1000000 || b > 1000000) return -1;
        num = a;
        den = b;
    }
    if ((num * spq) % den != 0) return -1;
    return num * spq / den;
}

/* Appends one token as its own step; stops quietly at max_steps. */
typedef struct nc_writer {
    mrnn_vocab *v;
    mrnn__steps *out;
    uint64_t *n_unknown;
    uint32_t max_steps;
    int full;
} nc_writer;

static mrnn_status put_token(nc_writer *w, const char *text)
{
    if (w->max_steps && w->out->n_steps >= w->max_steps) {
        w->full = 1;
        return MRNN_OK;
    }
    uint32_t id;
    int unknown = 0;
    mrnn_status st = mrnn__vocab_intern(w->v, text, &id, &unknown);
    if (st != MRNN_OK) return st;
    if (unknown) (*w->n_unknown)++;
    st = mrnn__steps_push_id(w->out, id);
    return st == MRNN_OK ? mrnn__steps_end_step(w->out) : st;
}

static mrnn_status put_wait(nc_writer *w, int64_t gap, int64_t spq, int64_t max_dur)
{
    char text[64] = "W:";
    mrnn_status st = MRNN_OK;
    while (gap > 0 && st == MRNN_OK && !w->full) {
        int64_t d = gap < max_dur ? gap : max_dur;
        duration_text(d, spq, text + 2, sizeof text - 2);
        st = put_token(w, text);
        gap -= d;
    }
    return st;
}

static mrnn_status to_step(double q, int64_t spq, int64_t *out)
{
    double s = nearbyint(q * (double)spq);
    if (!(s >= 0)) s = 0;
    if (s > NC_MAX_STEP) return mrnn__fail(MRNN_ERR_LIMIT, "piece is too long for the notechord grid");
    *out = (int64_t)s;
    return MRNN_OK;
}

mrnn_status mrnn__notechord_encode(const mrnn__piece *p, mrnn_vocab *v, mrnn__steps *out, uint64_t *n_unknown)
{
    int64_t spq = v->enc.steps_per_quarter, max_dur = v->enc.max_duration_steps;
    nc_note *notes = mrnn__malloc((p->n_notes ? p->n_notes : 1) * sizeof *notes);
    mrnn__span *spans = mrnn__malloc((p->n_notes ? p->n_notes : 1) * sizeof *spans);
    char *text = mrnn__malloc(NC_TEXT_CAP);
    if (!notes || !spans || !text) {
        mrnn__free(notes);
        mrnn__free(spans);
        mrnn__free(text);
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory encoding %zu notes", p->n_notes);
    }
    mrnn_status st = MRNN_OK;
    for (size_t i = 0; i < p->n_notes && st == MRNN_OK; i++) {
        const mrnn__note *n = &p->notes[i];
        int64_t a = 0, b = 0;
        st = to_step(n->start_q, spq, &a);
        if (st == MRNN_OK) st = to_step(n->end_q, spq, &b);
        spans[i] = (mrnn__span){a, b > a ? b : a + 1, (n->drum ? 128 : 0) + (n->pitch & 127), 0};
    }
    size_t n_notes = st == MRNN_OK ? mrnn__spans_canonical(spans, p->n_notes) : 0;
    for (size_t i = 0; i < n_notes; i++) {
        int64_t d = spans[i].end - spans[i].start;
        notes[i] = (nc_note){spans[i].start, d > max_dur ? max_dur : d, spans[i].key};
    }
    mrnn__free(spans);
    int64_t end = 0;
    if (st == MRNN_OK) st = to_step(p->end_q, spq, &end);
    if (st != MRNN_OK) goto done;
    sort_nc_notes(notes, n_notes);

    nc_writer w = {v, out, n_unknown, v->enc.max_steps, 0};
    int64_t now = 0;
    for (size_t i = 0; i < n_notes && st == MRNN_OK && !w.full;) {
        st = put_wait(&w, notes[i].onset - now, spq, max_dur);
        now = notes[i].onset;
        if (st != MRNN_OK || w.full) break;
        /* One token per (onset, duration): its keys ascending, repeats merged. */
        size_t j = i, len = 0;
        int last = -1;
        for (; j < n_notes && notes[j].onset == notes[i].onset && notes[j].dur == notes[i].dur; j++) {
            if (notes[j].key == last) continue;
            last = notes[j].key;
            char name[16];
            if (notes[j].key >= 128)
                snprintf(name, sizeof name, "drum%d", notes[j].key - 128);
            else
                mrnn__pitch_name(notes[j].key, name, sizeof name);
            len += (size_t)snprintf(text + len, NC_TEXT_CAP - len, "%s%s", len ? "." : "", name);
        }
        snprintf(text + len, NC_TEXT_CAP - len, ":");
        duration_text(notes[i].dur, spq, text + len + 1, NC_TEXT_CAP - len - 1);
        st = put_token(&w, text);
        i = j;
    }
    /* Silence after the last sounding note belongs to the piece: wait from the last onset to the
     * end. (Decoding ends a piece at the later of its time and its last note end.) */
    int64_t last_end = 0;
    for (size_t i = 0; i < n_notes; i++)
        if (notes[i].onset + notes[i].dur > last_end) last_end = notes[i].onset + notes[i].dur;
    if (st == MRNN_OK && !w.full && end > last_end && end > now) st = put_wait(&w, end - now, spq, max_dur);
done:
    mrnn__free(notes);
    mrnn__free(text);
    return st;
}

/* One element of a chord token: a pitch name or "drumNN". */
static int parse_key(const char *s, size_t len, int *pitch, int *drum)
{
    if (len > 4 && strncmp(s, "drum", 4) == 0) {
        int p = 0;
        for (size_t i = 4; i < len; i++) {
            if (s[i] < '0' || s[i] > '9' || i > 6) return -1;
            p = p * 10 + (s[i] - '0');
        }
        if (p > 127 || (len > 5 && s[4] == '0')) return -1;
        *pitch = p;
        *drum = 1;
        return 0;
    }
    *drum = 0;
    return mrnn__pitch_parse(s, len, pitch);
}

mrnn_status mrnn__notechord_decode(const mrnn_vocab *v, const mrnn__steps *in, mrnn__piece *out)
{
    int64_t spq = v->enc.steps_per_quarter;
    int64_t now = 0, last_end = 0;
    mrnn_status st = MRNN_OK;
    mrnn__note note;
    memset(&note, 0, sizeof note);
    note.velocity = NC_VELOCITY;
    for (size_t j = 0; j < in->n_ids && st == MRNN_OK; j++) {
        uint32_t id = in->ids[j];
        if (id >= v->n || id == v->unk) continue;
        const char *t = v->text[id];
        const char *colon = strrchr(t, ':');
        if (!colon || colon == t) continue;
        int64_t d = parse_duration(colon + 1, spq);
        if (d < 1) continue;
        if (colon - t == 1 && t[0] == 'W') {
            now += d;
            continue;
        }
        /* Check the whole chord before adding any of it: a malformed token adds nothing. */
        size_t n_before = out->n_notes;
        for (const char *k = t;; k++) {
            const char *e = k;
            while (e < colon && *e != '.') e++;
            int pitch, drum;
            if (parse_key(k, (size_t)(e - k), &pitch, &drum) != 0) {
                out->n_notes = n_before;
                break;
            }
            note.pitch = (uint8_t)pitch;
            note.drum = (uint8_t)drum;
            note.channel = drum ? MRNN__DRUM_CHANNEL : 0;
            note.start_q = (double)now / (double)spq;
            note.end_q = (double)(now + d) / (double)spq;
            st = mrnn__piece_add_note(out, &note);
            if (st != MRNN_OK || e == colon) break;
            k = e;
        }
        if (out->n_notes > n_before && now + d > last_end) last_end = now + d;
    }
    if (st != MRNN_OK) return st;
    out->end_q = (double)(now > last_end ? now : last_end) / (double)spq;
    mrnn__piece_update_seconds(out);
    return MRNN_OK;
}
