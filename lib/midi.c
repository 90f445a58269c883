/* MIDI files <-> mrnn__piece through libsmf. The only file that includes <smf.h>: libsmf and glib
 * stay out of every other translation unit. Reading never gives libsmf raw input, only the clean
 * copy made by midi_guard.c. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <smf.h>

#include "alloc.h"
#include "error.h"
#include "fileio.h"
#include "midi.h"
#include "midi_guard.h"

/* smf_delete() removes events one at a time, and each removal searches and shifts the track's
 * event array (and rebuilds the tempo map for tempo events): quadratic in the events per track,
 * 45 % of preprocessing time on the Debian corpus. Freeing the events of each track in one pass
 * first leaves smf_delete() only the tracks and the tempo map to free. Events and their MIDI
 * buffers are plain malloc() blocks in libsmf 1.3 (valgrind and ASan check this in the suites). */
static void release_smf(smf_t *smf)
{
    for (int t = 1; t <= smf->number_of_tracks; t++) {
        smf_track_t *track = smf_get_track_by_number(smf, t);
        if (!track) continue;
        for (guint i = 0; i < track->events_array->len; i++) {
            smf_event_t *e = g_ptr_array_index(track->events_array, i);
            free(e->midi_buffer);
            free(e);
        }
        g_ptr_array_set_size(track->events_array, 0);
        track->number_of_events = 0;
    }
    smf_delete(smf);
}

/* ---- reading -------------------------------------------------------------------------------- */

/* The sounding note (if any) of one pitch on one channel. */
typedef struct voice {
    int on;          /* sounding */
    int released;    /* key up, held by the sustain pedal */
    int retrig;      /* started by re-striking a sounding note at `start` */
    uint32_t start;
    uint8_t velocity, program;
    uint16_t track;
} voice;

typedef struct reader {
    const char *name;
    const mrnn__midi_select *sel;
    mrnn__piece *out;
    double ppqn;
    int pedal[16];
    uint8_t program[16];
    uint32_t track_end[MRNN__MIDI_MAX_TRACKS];
    uint32_t last_off;
    uint16_t channels_used; /* bit ch: v[ch] has been cleared and may hold voices */
    /* Last, and not zeroed with the rest: 40 KB of which most files touch one or two channels, so
     * a channel's voices are cleared on its first event (clearing all of them was 5 % of the
     * instructions of reading a chorale). */
    voice v[16][128];
    /* Not zeroed either: the tracks still to be merged, set up by read_smf. */
    struct track_cursor {
        GPtrArray *events;
        guint next;
        unsigned track;
        int tick; /* time_pulses of events[next]: the merge compares these, not the scattered events */
    } cur[MRNN__MIDI_MAX_TRACKS];
} reader;

/* Channel ch's voices, cleared on first use. */
static voice *channel_voices(reader *r, unsigned ch)
{
    if (!(r->channels_used >> ch & 1u)) {
        memset(r->v[ch], 0, sizeof r->v[ch]);
        r->channels_used |= (uint16_t)(1u << ch);
    }
    return r->v[ch];
}

static int selected(const reader *r, unsigned track, unsigned ch)
{
    const mrnn__midi_select *s = r->sel;
    if (!s) return ch != MRNN__DRUM_CHANNEL; /* NULL: the defaults of a zeroed selection */
    if (ch == MRNN__DRUM_CHANNEL && !s->keep_drums) return 0;
    if (s->channel_mask && !((s->channel_mask >> ch) & 1u)) return 0;
    if (s->track_mask && (track >= 64 || !((s->track_mask >> track) & 1u))) return 0;
    return 1;
}

static mrnn_status end_voice(reader *r, unsigned ch, unsigned pitch, uint32_t tick)
{
    voice *v = &r->v[ch][pitch];
    if (!v->on) return MRNN_OK;
    v->on = 0;
    if (tick <= v->start || !selected(r, v->track, ch)) return MRNN_OK; /* zero-length notes are dropped */
    mrnn__note n;
    memset(&n, 0, sizeof n);
    n.start_q = v->start / r->ppqn;
    n.end_q = tick / r->ppqn;
    n.pitch = (uint8_t)pitch;
    n.velocity = v->velocity;
    n.channel = (uint8_t)ch;
    n.program = v->program;
    n.drum = ch == MRNN__DRUM_CHANNEL;
    n.track = v->track;
    if (tick > r->last_off) r->last_off = tick;
    return mrnn__piece_add_note(r->out, &n);
}

static mrnn_status channel_event(reader *r, const uint8_t *b, int len, uint32_t tick, unsigned track)
{
    unsigned kind = b[0] & 0xF0u, ch = b[0] & 0x0Fu;
    if (len < 2) return MRNN_OK;
    if (kind == 0xC0u) {
        r->program[ch] = b[1] & 0x7Fu;
        return MRNN_OK;
    }
    if (len < 3) return MRNN_OK;
    unsigned pitch = b[1] & 0x7Fu, value = b[2] & 0x7Fu;
    voice *v = &channel_voices(r, ch)[pitch];
    if (kind == 0x90u && value > 0) {
        /* A new onset ends whatever still sounds on this key, held or pedalled. */
        int restruck = v->on && v->start < tick;
        mrnn_status st = end_voice(r, ch, pitch, tick);
        if (st != MRNN_OK) return st;
        v->on = 1;
        v->released = 0;
        v->retrig = restruck;
        v->start = tick;
        v->velocity = (uint8_t)value;
        v->program = r->program[ch];
        v->track = (uint16_t)track;
        return MRNN_OK;
    }
    if (kind == 0x80u || kind == 0x90u) {
        if (!v->on || v->released) return MRNN_OK;
        /* The note off of the note just replaced at this tick, not of the new one. */
        if (v->retrig && v->start == tick) {
            v->retrig = 0;
            return MRNN_OK;
        }
        if (r->pedal[ch]) {
            v->released = 1;
            return MRNN_OK;
        }
        return end_voice(r, ch, pitch, tick);
    }
    if (kind == 0xB0u && pitch == 64) {
        int down = value >= 64;
        if (r->pedal[ch] && !down) {
            for (unsigned p = 0; p < 128; p++) {
                if (r->v[ch][p].on && r->v[ch][p].released) {
                    mrnn_status st = end_voice(r, ch, p, tick);
                    if (st != MRNN_OK) return st;
                }
            }
        }
        r->pedal[ch] = down;
    }
    return MRNN_OK;
}

static mrnn_status read_smf(reader *r, smf_t *smf, unsigned n_tracks)
{
    mrnn__piece *p = r->out;
    int have_ts = 0;
    mrnn_status st = MRNN_OK;
    /* The tracks merged in the order smf_get_next_event() gives (by tick, ties to the lower
     * track, each track in its own order), but here: libsmf's walk rescans every track through
     * two calls per event, 14 % of reading a file with a dozen tracks. */
    unsigned live = 0;
    for (int t = 1; t <= smf->number_of_tracks && live < MRNN__MIDI_MAX_TRACKS; t++) {
        smf_track_t *tr = smf_get_track_by_number(smf, t);
        if (!tr || !tr->events_array || tr->events_array->len == 0) continue;
        const smf_event_t *first = g_ptr_array_index(tr->events_array, 0);
        r->cur[live++] = (struct track_cursor){tr->events_array, 0, (unsigned)t - 1, first->time_pulses};
    }
    while (live > 0) {
        unsigned k = 0;
        for (unsigned i = 1; i < live; i++)
            if (r->cur[i].tick < r->cur[k].tick) k = i;
        struct track_cursor *cu = &r->cur[k];
        const smf_event_t *e = g_ptr_array_index(cu->events, cu->next);
        unsigned tn = cu->track;
        if (++cu->next == cu->events->len) {
            memmove(cu, cu + 1, (live - k - 1) * sizeof r->cur[0]); /* keeps ties in track order */
            live--;
        } else {
            cu->tick = ((const smf_event_t *)g_ptr_array_index(cu->events, cu->next))->time_pulses;
        }
        const uint8_t *b = e->midi_buffer;
        int len = e->midi_buffer_length;
        if (!b || len < 1 || e->time_pulses < 0) continue;
        uint32_t tick = (uint32_t)e->time_pulses;
        unsigned track = tn < n_tracks ? tn : 0;
        if (tick > r->track_end[track]) r->track_end[track] = tick;
        if (b[0] == 0xFFu) {
            if (len >= 6 && b[1] == 0x51u) {
                double us = (double)((unsigned)b[3] << 16 | (unsigned)b[4] << 8 | b[5]);
                st = mrnn__piece_add_tempo(p, tick / r->ppqn, us);
            } else if (len >= 7 && b[1] == 0x58u && !have_ts) {
                have_ts = 1;
                p->ts_num = b[3];
                p->ts_den = (uint8_t)(1u << (b[4] & 7u));
            }
        } else if (b[0] >= 0x80u && b[0] < 0xF0u) {
            st = channel_event(r, b, len, tick, track);
        }
        if (st != MRNN_OK) return st;
    }
    /* Notes still on (or pedalled) end with their track. */
    for (unsigned ch = 0; ch < 16; ch++) {
        if (!(r->channels_used >> ch & 1u)) continue;
        for (unsigned k = 0; k < 128; k++) {
            voice *v = &r->v[ch][k];
            if (!v->on) continue;
            st = end_voice(r, ch, k, r->track_end[v->track]);
            if (st != MRNN_OK) return st;
        }
    }
    uint32_t end = r->last_off;
    for (unsigned t = 0; t < n_tracks; t++)
        if (r->track_end[t] > end) end = r->track_end[t];
    if (p->n_tempo == 0) {
        st = mrnn__piece_add_tempo(p, 0.0, 500000.0);
        if (st != MRNN_OK) return st;
    }
    p->end_q = end / r->ppqn;
    mrnn__piece_update_seconds(p);
    mrnn__piece_sort(p);
    return MRNN_OK;
}

mrnn_status mrnn__midi_read_memory(const void *data, size_t len, const char *name, const mrnn__midi_select *sel,
                                   mrnn__piece *out)
{
    if (!name) name = "(memory)";
    if (!out) return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: invalid argument 'out'", name);
    mrnn__piece_clear(out);
    if (!data && len > 0) return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: invalid argument 'data'", name);
    size_t cap = sel && sel->max_bytes ? sel->max_bytes : MRNN__MIDI_MAX_BYTES;
    if (len > cap) return mrnn__fail(MRNN_ERR_LIMIT, "%s: %zu bytes, the limit is %zu", name, len, cap);

    mrnn__midi_clean clean;
    mrnn_status st = mrnn__midi_sanitise(data, len, name, &clean);
    if (st != MRNN_OK) return st;
    smf_t *smf = smf_load_from_memory(clean.data, (int)clean.len);
    if (!smf) {
        mrnn__midi_clean_free(&clean);
        return mrnn__fail(MRNN_ERR_MIDI, "%s: libsmf rejected the sanitised file", name);
    }
    reader *r = mrnn__malloc(sizeof *r);
    if (r) memset(r, 0, offsetof(reader, v));
    if (!r) {
        st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", name);
    } else {
        r->name = name;
        r->sel = sel;
        r->out = out;
        r->ppqn = clean.ppqn;
        st = read_smf(r, smf, clean.n_tracks);
        if (st != MRNN_OK) mrnn__error_prefix(name);
        mrnn__free(r);
    }
    release_smf(smf);
    mrnn__midi_clean_free(&clean);
    if (st != MRNN_OK) mrnn__piece_clear(out);
    return st;
}

mrnn_status mrnn__midi_read_file(const char *path, const mrnn__midi_select *sel, mrnn__piece *out)
{
    if (!path) return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: invalid argument 'path'", __func__);
    if (!out) return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: invalid argument 'out'", path);
    mrnn__piece_clear(out);
    size_t cap = sel && sel->max_bytes ? sel->max_bytes : MRNN__MIDI_MAX_BYTES;
    uint8_t *buf;
    size_t len;
    mrnn_status st = mrnn__read_file(path, cap, &buf, &len);
    if (st != MRNN_OK) return st;
    st = mrnn__midi_read_memory(buf, len, path, sel, out);
    mrnn__free(buf);
    return st;
}

/* ---- writing -------------------------------------------------------------------------------- */

typedef struct wevent {
    int tick;
    int order; /* at one tick: note offs, then program changes, then note ons */
    size_t seq;
    uint8_t b[3];
} wevent;

static int wevent_cmp(const void *a, const void *b)
{
    const wevent *x = a, *y = b;
    if (x->tick != y->tick) return x->tick < y->tick ? -1 : 1;
    if (x->order != y->order) return x->order < y->order ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Spans back in the piece's order (aux is the note index). */
static int span_time_cmp(const void *a, const void *b)
{
    const mrnn__span *x = a, *y = b;
    return (x->aux > y->aux) - (x->aux < y->aux);
}

static int q_to_tick(double q, int ppqn, int *out)
{
    if (!isfinite(q) || q < 0) return -1;
    double t = floor(q * ppqn + 0.5);
    if (t > (double)MRNN__MIDI_MAX_TICKS) return -2;
    *out = (int)t;
    return 0;
}

static int add_meta(smf_track_t *track, int tick, const uint8_t *bytes, int len)
{
    smf_event_t *e = smf_event_new_from_pointer((void *)(uintptr_t)bytes, len);
    if (!e) return -1;
    smf_track_add_event_pulses(track, e, tick);
    return 0;
}

static int add_short(smf_track_t *track, int tick, const uint8_t *b)
{
    int n = (b[0] & 0xF0u) == 0xC0u ? 2 : 3;
    smf_event_t *e = smf_event_new_from_bytes(b[0], b[1], n == 3 ? b[2] : -1);
    if (!e) return -1;
    smf_track_add_event_pulses(track, e, tick);
    return 0;
}

/* Fill smf with the tempo track and one track per channel. Returns MRNN_OK or a failure status
 * (message set, without the path). */
static mrnn_status build_smf(smf_t *smf, const mrnn__piece *p, const mrnn__midi_write_opts *o, int ppqn)
{
    int end_tick = 0;
    if (q_to_tick(p->end_q > 0 ? p->end_q : 0, ppqn, &end_tick) != 0)
        return mrnn__fail(MRNN_ERR_LIMIT, "piece end %g quarters cannot be written", p->end_q);

    /* Tempo track. */
    smf_track_t *tempo_track = smf_track_new();
    if (!tempo_track) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory (libsmf track)");
    smf_add_track(smf, tempo_track);
    unsigned den_exp = 2;
    for (unsigned e = 0; e <= 6; e++)
        if ((1u << e) == p->ts_den) den_exp = e;
    uint8_t ts[7] = {0xFF, 0x58, 4, p->ts_num ? p->ts_num : 4, (uint8_t)den_exp, 24, 8};
    if (add_meta(tempo_track, 0, ts, 7) != 0) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory (libsmf event)");
    int last_tempo_tick = 0;
    size_t n_tempo = (o && o->tempo_bpm > 0) || p->n_tempo == 0 ? 1 : p->n_tempo;
    for (size_t i = 0; i < n_tempo; i++) {
        double us;
        int tick = 0;
        if (o && o->tempo_bpm > 0)
            us = 60e6 / o->tempo_bpm;
        else if (p->n_tempo == 0)
            us = 500000.0;
        else {
            us = p->tempo[i].us_per_q;
            if (q_to_tick(p->tempo[i].q, ppqn, &tick) != 0)
                return mrnn__fail(MRNN_ERR_LIMIT, "tempo change at %g quarters cannot be written", p->tempo[i].q);
        }
        if (!isfinite(us) || us < 1) us = 1;
        if (us > 0xFFFFFF) us = 0xFFFFFF;
        if (tick < last_tempo_tick) tick = last_tempo_tick; /* the map is sorted; rounding must not reorder */
        last_tempo_tick = tick;
        uint32_t u = (uint32_t)lround(us);
        uint8_t b[6] = {0xFF, 0x51, 3, (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u};
        if (add_meta(tempo_track, tick, b, 6) != 0) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory (libsmf event)");
    }
    if (last_tempo_tick > end_tick) end_tick = last_tempo_tick;

    /* Note ticks first, so that every track can end at the same place. */
    for (size_t i = 0; i < p->n_notes; i++) {
        const mrnn__note *n = &p->notes[i];
        int s, e;
        if (q_to_tick(n->start_q, ppqn, &s) != 0 || q_to_tick(n->end_q, ppqn, &e) != 0)
            return mrnn__fail(MRNN_ERR_LIMIT, "note %zu (%g..%g quarters) cannot be written", i, n->start_q, n->end_q);
        if (e <= s) e = s + 1;
        if (e > end_tick) end_tick = e;
    }

    mrnn_status st = MRNN_OK;
    wevent *ev = NULL;
    size_t cap = 0;
    mrnn__span *span = p->n_notes ? mrnn__malloc(p->n_notes * sizeof *span) : NULL;
    if (p->n_notes && !span) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory writing MIDI events");
    for (unsigned ch = 0; ch < 16 && st == MRNN_OK; ch++) {
        /* One channel cannot hold two notes of a pitch at once (a reader would pair the note-offs
         * its own way), so overlaps are resolved here as every reader would: canonical spans. */
        size_t n_span = 0;
        for (size_t i = 0; i < p->n_notes; i++) {
            const mrnn__note *n = &p->notes[i];
            if ((n->channel & 0x0Fu) != ch) continue;
            int s = 0, e = 0;
            (void)q_to_tick(n->start_q, ppqn, &s);
            (void)q_to_tick(n->end_q, ppqn, &e);
            span[n_span++] = (mrnn__span){s, e > s ? e : s + 1, n->pitch & 0x7F, (uint32_t)i};
        }
        n_span = mrnn__spans_canonical(span, n_span);
        if (n_span > 1) qsort(span, n_span, sizeof *span, span_time_cmp);
        size_t n_ev = 0;
        int cur_program = -1;
        for (size_t k = 0; k < n_span; k++) {
            size_t i = span[k].aux;
            const mrnn__note *n = &p->notes[i];
            if (mrnn__grow((void **)&ev, &cap, n_ev + 3, sizeof *ev) != 0) {
                st = mrnn__fail(MRNN_ERR_NOMEM, "out of memory writing MIDI events");
                break;
            }
            int s = (int)span[k].start, e = (int)span[k].end;
            uint8_t pitch = n->pitch & 0x7Fu, vel = n->velocity & 0x7Fu;
            if (vel == 0) vel = 1;
            int program = o && o->program >= 0 ? (o->program & 0x7F) : (n->program & 0x7F);
            if (ch != MRNN__DRUM_CHANNEL && program != cur_program) {
                /* The first program goes at the very start so players begin on the right sound;
                 * later changes land just before the onset that needs them. */
                ev[n_ev++] = (wevent){cur_program < 0 ? 0 : s, 1, i, {(uint8_t)(0xC0u | ch), (uint8_t)program, 0}};
                cur_program = program;
            }
            ev[n_ev++] = (wevent){s, 2, i, {(uint8_t)(0x90u | ch), pitch, vel}};
            ev[n_ev++] = (wevent){e, 0, i, {(uint8_t)(0x80u | ch), pitch, 0}};
        }
        if (st != MRNN_OK) break;
        if (n_ev == 0) continue;
        qsort(ev, n_ev, sizeof *ev, wevent_cmp);
        smf_track_t *track = smf_track_new();
        if (!track) {
            st = mrnn__fail(MRNN_ERR_NOMEM, "out of memory (libsmf track)");
            break;
        }
        smf_add_track(smf, track);
        for (size_t k = 0; k < n_ev; k++) {
            if (add_short(track, ev[k].tick, ev[k].b) != 0) {
                st = mrnn__fail(MRNN_ERR_NOMEM, "out of memory (libsmf event)");
                break;
            }
        }
        if (st == MRNN_OK && smf_track_add_eot_pulses(track, end_tick) != 0)
            st = mrnn__fail(MRNN_ERR_MIDI, "cannot end track of channel %u", ch);
    }
    mrnn__free(ev);
    mrnn__free(span);
    if (st == MRNN_OK && smf_track_add_eot_pulses(tempo_track, end_tick) != 0)
        st = mrnn__fail(MRNN_ERR_MIDI, "cannot end the tempo track");
    return st;
}

mrnn_status mrnn__midi_write_file(const char *path, const mrnn__piece *p, const mrnn__midi_write_opts *o)
{
    if (!path) return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: invalid argument 'path'", __func__);
    if (!p) return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: invalid argument 'piece'", path);
    int ppqn = o && o->ppqn > 0 ? o->ppqn : 480;
    if (ppqn > 0x7FFF) return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: ppqn %d is above 32767", path, ppqn);

    smf_t *smf = smf_new();
    if (!smf) return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory (libsmf)", path);
    mrnn_status st = MRNN_OK;
    if (smf_set_ppqn(smf, ppqn) != 0 || smf_set_format(smf, 1) != 0)
        st = mrnn__fail(MRNN_ERR_MIDI, "cannot set the MIDI header");
    if (st == MRNN_OK) st = build_smf(smf, p, o, ppqn);
    if (st != MRNN_OK) {
        smf_delete(smf);
        mrnn__error_prefix(path);
        return st;
    }

    /* libsmf only saves to a named file: save next to the target, then publish the bytes atomically. */
    size_t plen = strlen(path);
    char *tmp = mrnn__malloc(plen + 16);
    if (!tmp) {
        smf_delete(smf);
        return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".smf.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        mrnn__free(tmp);
        smf_delete(smf);
        return mrnn__fail(MRNN_ERR_IO, "%s: cannot create a temporary file", path);
    }
    close(fd);
    int saved = smf_save(smf, tmp);
    smf_delete(smf);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (saved != 0) {
        st = mrnn__fail(MRNN_ERR_IO, "%s: libsmf could not write the file", path);
    } else {
        st = mrnn__read_file(tmp, MRNN__MIDI_MAX_BYTES, &buf, &len);
        if (st != MRNN_OK) mrnn__error_prefix(path);
    }
    unlink(tmp);
    mrnn__free(tmp);
    if (st == MRNN_OK) st = mrnn__write_file_atomic(path, buf, len);
    mrnn__free(buf);
    return st;
}
