/* The MIDI validator. libsmf 1.3 trusts its input (lengths, running status, meta sizes, tick
 * sums) and crashes or loops on hostile files, so the bytes are parsed here first, every event
 * is re-emitted with an explicit status byte, and everything the codec does not need is dropped.
 * Only what survives this file reaches smf_load_from_memory(). */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "midi.h"
#include "midi_guard.h"

/* One kept event, in absolute ticks. Bytes are complete (status first). */
typedef struct guard_event {
    uint32_t tick;
    uint32_t seq; /* order of appearance, for stable merging */
    uint8_t len;
    uint8_t b[7];
} guard_event;

typedef struct guard_track {
    size_t first, count; /* slice of the event array */
    uint32_t end_tick;   /* End Of Track (or the last event when it was missing) */
} guard_track;

typedef struct guard_state {
    const char *name;
    guard_event *ev;
    size_t n_ev, cap_ev;
    guard_event *tempo; /* tempo changes found outside track 0, moved there */
    size_t n_tempo, cap_tempo;
    guard_track *tracks;
    size_t n_tracks, cap_tracks;
    size_t n_parsed; /* every event read, kept or not, against MRNN__MIDI_MAX_EVENTS */
    int smpte;
} guard_state;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Variable-length quantity of at most 4 bytes. Returns 0, or -1 (truncated), -2 (too long). */
static int read_vlq(const uint8_t *p, size_t end, size_t *pos, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        if (*pos >= end) return -1;
        uint8_t c = p[(*pos)++];
        v = (v << 7) | (c & 0x7Fu);
        if (!(c & 0x80u)) {
            *out = v;
            return 0;
        }
    }
    return -2;
}

static mrnn_status push_event(guard_state *g, guard_event **arr, size_t *n, size_t *cap, uint32_t tick,
                              const uint8_t *b, size_t len)
{
    if (mrnn__grow((void **)arr, cap, *n + 1, sizeof **arr) != 0)
        return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory reading MIDI events", g->name);
    guard_event *e = &(*arr)[(*n)++];
    e->tick = tick;
    e->seq = (uint32_t)g->n_parsed;
    e->len = (uint8_t)len;
    memcpy(e->b, b, len);
    return MRNN_OK;
}

/* Parse one MTrk body data[pos..end). */
static mrnn_status parse_track(guard_state *g, const uint8_t *d, size_t pos, size_t end, size_t t)
{
    const char *nm = g->name;
    guard_track *tr = &g->tracks[t];
    tr->first = g->n_ev;
    uint64_t tick = 0;
    uint8_t running = 0;
    int saw_eot = 0;
    while (pos < end) {
        if (++g->n_parsed > MRNN__MIDI_MAX_EVENTS)
            return mrnn__fail(MRNN_ERR_LIMIT, "%s: more than %u events", nm, MRNN__MIDI_MAX_EVENTS);
        uint32_t delta;
        int r = read_vlq(d, end, &pos, &delta);
        if (r == -2) return mrnn__fail(MRNN_ERR_MIDI, "%s: track %zu: delta time longer than 4 bytes", nm, t);
        if (r == -1) return mrnn__fail(MRNN_ERR_MIDI, "%s: track %zu: truncated delta time", nm, t);
        tick += delta;
        if (tick > MRNN__MIDI_MAX_TICKS)
            return mrnn__fail(MRNN_ERR_MIDI, "%s: track %zu: total length exceeds %u ticks", nm, t,
                              MRNN__MIDI_MAX_TICKS);
        if (pos >= end) return mrnn__fail(MRNN_ERR_MIDI, "%s: track %zu: event missing after delta time", nm, t);
        uint8_t status = d[pos];
        if (status & 0x80u) {
            pos++;
        } else {
            if (!running) return mrnn__fail(MRNN_ERR_MIDI, "%s: track %zu: data byte without running status", nm, t);
            status = running;
        }
        if (status < 0xF0u) {
            running = status;
            size_t n_data = ((status & 0xF0u) == 0xC0u || (status & 0xF0u) == 0xD0u) ? 1 : 2;
            if (end - pos < n_data) return mrnn__fail(MRNN_ERR_MIDI, "%s: track %zu: truncated channel message", nm, t);
            uint8_t b[3] = {status, d[pos], n_data == 2 ? d[pos + 1] : 0};
            for (size_t i = 0; i < n_data; i++)
                if (d[pos + i] & 0x80u)
                    return mrnn__fail(MRNN_ERR_MIDI, "%s: track %zu: data byte 0x%02X in a channel message", nm, t,
                                      d[pos + i]);
            pos += n_data;
            unsigned kind = status & 0xF0u;
            /* Aftertouch, channel pressure and pitch bend do not reach the note list. */
            if (kind == 0x80u || kind == 0x90u || kind == 0xB0u || kind == 0xC0u) {
                mrnn_status st = push_event(g, &g->ev, &g->n_ev, &g->cap_ev, (uint32_t)tick, b, 1 + n_data);
                if (st != MRNN_OK) return st;
            }
        } else if (status == 0xF0u || status == 0xF7u) {
            /* SysEx and escapes: skipped whole (libsmf mishandles F7, and the notes never need them).
             * Running status is kept across them, as most readers do. */
            uint32_t n;
            r = read_vlq(d, end, &pos, &n);
            if (r == -2) return mrnn__fail(MRNN_ERR_MIDI, "%s: track %zu: SysEx length longer than 4 bytes", nm, t);
            if (r == -1 || end - pos < n)
                return mrnn__fail(MRNN_ERR_MIDI, "%s: track %zu: truncated SysEx event", nm, t);
            pos += n;
        } else if (status == 0xFFu) {
            if (pos >= end) return mrnn__fail(MRNN_ERR_MIDI, "%s: track %zu: truncated meta event", nm, t);
            uint8_t type = d[pos++];
            if (type & 0x80u) return mrnn__fail(MRNN_ERR_MIDI, "%s: track %zu: invalid meta event type 0x%02X", nm, t, type);
            uint32_t n;
            r = read_vlq(d, end, &pos, &n);
            if (r == -2) return mrnn__fail(MRNN_ERR_MIDI, "%s: track %zu: meta length longer than 4 bytes", nm, t);
            if (r == -1 || end - pos < n)
                return mrnn__fail(MRNN_ERR_MIDI, "%s: track %zu: truncated meta event", nm, t);
            const uint8_t *m = d + pos;
            pos += n;
            if (type == 0x2Fu) {
                saw_eot = 1;
                break; /* anything after End Of Track is ignored */
            }
            if (type == 0x51u && n == 3) {
                uint8_t b[6] = {0xFF, 0x51, 3, m[0], m[1], m[2]};
                if (g->smpte || (m[0] | m[1] | m[2]) == 0) continue; /* no tempo under SMPTE timing; 0 is invalid */
                mrnn_status st = t == 0 ? push_event(g, &g->ev, &g->n_ev, &g->cap_ev, (uint32_t)tick, b, 6)
                                        : push_event(g, &g->tempo, &g->n_tempo, &g->cap_tempo, (uint32_t)tick, b, 6);
                if (st != MRNN_OK) return st;
            } else if (type == 0x58u && n == 4) {
                /* libsmf computes 2^denominator in int: keep only sensible signatures. */
                if (m[0] == 0 || m[1] > 6) continue;
                uint8_t b[7] = {0xFF, 0x58, 4, m[0], m[1], m[2], m[3]};
                mrnn_status st = push_event(g, &g->ev, &g->n_ev, &g->cap_ev, (uint32_t)tick, b, 7);
                if (st != MRNN_OK) return st;
            }
            /* Every other meta (text, lyrics, malformed tempo...) is dropped. */
        } else {
            return mrnn__fail(MRNN_ERR_MIDI, "%s: track %zu: invalid status byte 0x%02X", nm, t, status);
        }
    }
    (void)saw_eot; /* a missing End Of Track is repaired: the clean copy always gets one */
    tr->count = g->n_ev - tr->first;
    tr->end_tick = (uint32_t)tick;
    return MRNN_OK;
}

/* The clean copy is written through a plain pointer into a buffer sized once for the worst case
 * (clean_bound): one call per byte through mrnn__wbuf, growing as it went, was a tenth of the time
 * of reading a small file. */
#define MAX_VLQ 4     /* a delta time never needs more than 4 bytes (ticks are capped below 2^28) */
#define MAX_EVENT 7   /* guard_event.b */
#define TRACK_EXTRA (8 + MAX_VLQ + 3) /* "MTrk" + length, the final delta and End Of Track */
_Static_assert(MRNN__MIDI_MAX_TICKS < (1u << 28), "a delta time must fit 4 VLQ bytes");

static uint8_t *put_vlq(uint8_t *p, uint32_t v)
{
    uint8_t tmp[MAX_VLQ];
    int n = 0;
    tmp[n++] = v & 0x7Fu;
    while ((v >>= 7) != 0 && n < MAX_VLQ) tmp[n++] = (uint8_t)(0x80u | (v & 0x7Fu));
    while (n > 0) *p++ = tmp[--n];
    return p;
}

static uint8_t *put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

static int cmp_tick_seq(const void *a, const void *b)
{
    const guard_event *x = a, *y = b;
    if (x->tick != y->tick) return x->tick < y->tick ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static uint8_t *emit_event(uint8_t *p, const guard_event *e, uint32_t *last)
{
    p = put_vlq(p, e->tick - *last);
    *last = e->tick;
    memcpy(p, e->b, e->len);
    return p + e->len;
}

static uint8_t *emit_track(uint8_t *p, const guard_state *g, size_t t, const guard_event *extra, size_t n_extra)
{
    const guard_track *tr = &g->tracks[t];
    memcpy(p, "MTrk", 4);
    uint8_t *len_at = p + 4, *body = p + 8;
    p = body;
    uint32_t last = 0, end = tr->end_tick;
    size_t i = 0, j = 0;
    /* A track may have no stored event at all (only End Of Track), and then g->ev may be NULL:
     * NULL + 0 is undefined behaviour (found by fuzz_midi). */
    const guard_event *own = tr->count ? g->ev + tr->first : NULL;
    while (i < tr->count || j < n_extra) {
        /* Both lists are in tick order; the merged tempo changes go first on equal ticks. */
        if (j < n_extra && (i >= tr->count || extra[j].tick <= own[i].tick))
            p = emit_event(p, &extra[j++], &last);
        else
            p = emit_event(p, &own[i++], &last);
    }
    if (last > end) end = last;
    p = put_vlq(p, end - last);
    static const uint8_t eot[3] = {0xFF, 0x2F, 0x00};
    memcpy(p, eot, 3);
    p += 3;
    put_be32(len_at, (uint32_t)(p - body));
    return p;
}

/* Bytes the clean copy can take at most: header, and per track and per event their worst case. */
static int clean_bound(const guard_state *g, size_t *out)
{
    size_t n = 14, events = g->n_ev + g->n_tempo, tracks_extra;
    if (!mrnn__mul_ok(g->n_tracks, TRACK_EXTRA, &tracks_extra) || !mrnn__mul_ok(events, MAX_VLQ + MAX_EVENT, &events))
        return 0;
    n += tracks_extra;
    if (n + events < n) return 0;
    *out = n + events;
    return 1;
}

static void state_free(guard_state *g)
{
    mrnn__free(g->ev);
    mrnn__free(g->tempo);
    mrnn__free(g->tracks);
}

mrnn_status mrnn__midi_sanitise(const uint8_t *d, size_t len, const char *name, mrnn__midi_clean *out)
{
    memset(out, 0, sizeof *out);
    if (!name) name = "(memory)";
    if (!d || len < 14 || memcmp(d, "MThd", 4) != 0)
        return mrnn__fail(MRNN_ERR_MIDI, "%s: not a standard MIDI file (no MThd header)", name);
    uint32_t hlen = be32(d + 4);
    if (hlen < 6 || hlen > len - 8) return mrnn__fail(MRNN_ERR_MIDI, "%s: bad MThd header length %u", name, hlen);
    unsigned format = (unsigned)d[8] << 8 | d[9];
    unsigned declared = (unsigned)d[10] << 8 | d[11];
    unsigned division = (unsigned)d[12] << 8 | d[13];
    if (format > 2) return mrnn__fail(MRNN_ERR_MIDI, "%s: unknown SMF format %u", name, format);
    if (format == 2) return mrnn__fail(MRNN_ERR_MIDI, "%s: SMF format 2 (independent sequences) is not supported", name);
    if (declared == 0) return mrnn__fail(MRNN_ERR_MIDI, "%s: header declares no tracks", name);
    if (declared > MRNN__MIDI_MAX_TRACKS)
        return mrnn__fail(MRNN_ERR_LIMIT, "%s: %u tracks, the limit is %u", name, declared, MRNN__MIDI_MAX_TRACKS);

    guard_state g;
    memset(&g, 0, sizeof g);
    g.name = name;
    int ppqn;
    uint32_t smpte_us = 0;
    if (division & 0x8000u) {
        /* SMPTE: -fps in the high byte, ticks per frame in the low one. Rewritten as metrical time
         * with one "quarter" of fps*tpf ticks lasting one second (1.001 s for 29.97 drop-frame). */
        int fps = 256 - (int)(division >> 8);
        int tpf = (int)(division & 0xFFu);
        if ((fps != 24 && fps != 25 && fps != 29 && fps != 30) || tpf == 0)
            return mrnn__fail(MRNN_ERR_MIDI, "%s: invalid SMPTE division 0x%04X", name, division);
        ppqn = (fps == 29 ? 30 : fps) * tpf;
        smpte_us = fps == 29 ? 1001000u : 1000000u;
        g.smpte = 1;
    } else {
        if (division == 0) return mrnn__fail(MRNN_ERR_MIDI, "%s: division (ticks per quarter) is 0", name);
        ppqn = (int)division;
    }

    mrnn_status st = MRNN_OK;
    size_t pos = 8 + (size_t)hlen;
    while (len - pos >= 8) {
        uint32_t clen = be32(d + pos + 4);
        int is_track = memcmp(d + pos, "MTrk", 4) == 0;
        if (clen >= 0x7FFFFFF0u || clen > len - pos - 8) {
            st = mrnn__fail(MRNN_ERR_MIDI, "%s: %s chunk length %u exceeds the file", name,
                            is_track ? "track" : "unknown", clen);
            goto fail;
        }
        size_t body = pos + 8;
        pos = body + clen;
        if (!is_track) continue; /* unknown chunks are dropped */
        if (g.n_tracks >= MRNN__MIDI_MAX_TRACKS) {
            st = mrnn__fail(MRNN_ERR_LIMIT, "%s: more than %u tracks", name, MRNN__MIDI_MAX_TRACKS);
            goto fail;
        }
        if (mrnn__grow((void **)&g.tracks, &g.cap_tracks, g.n_tracks + 1, sizeof *g.tracks) != 0) {
            st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", name);
            goto fail;
        }
        memset(&g.tracks[g.n_tracks], 0, sizeof *g.tracks);
        st = parse_track(&g, d, body, pos, g.n_tracks);
        if (st != MRNN_OK) goto fail;
        g.n_tracks++;
    }
    /* A header that promises more tracks than present is repaired by using those present. */
    if (g.n_tracks == 0) {
        st = mrnn__fail(MRNN_ERR_MIDI, "%s: no MTrk chunk", name);
        goto fail;
    }

    if (g.n_tempo > 1) qsort(g.tempo, g.n_tempo, sizeof *g.tempo, cmp_tick_seq);
    if (g.smpte) {
        uint8_t b[6] = {0xFF, 0x51, 3, (uint8_t)(smpte_us >> 16), (uint8_t)(smpte_us >> 8), (uint8_t)smpte_us};
        st = push_event(&g, &g.tempo, &g.n_tempo, &g.cap_tempo, 0, b, 6);
        if (st != MRNN_OK) goto fail;
    }

    size_t bound;
    uint8_t *clean = clean_bound(&g, &bound) && bound <= 0x7FFFFFF0u ? mrnn__malloc(bound) : NULL;
    if (!clean) {
        st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory writing the sanitised copy", name);
        goto fail;
    }
    uint8_t *p = clean;
    memcpy(p, "MThd", 4);
    p = put_be32(p + 4, 6);
    uint8_t hdr[6] = {0, 1, (uint8_t)(g.n_tracks >> 8), (uint8_t)g.n_tracks, (uint8_t)(ppqn >> 8), (uint8_t)ppqn};
    memcpy(p, hdr, 6);
    p += 6;
    for (size_t t = 0; t < g.n_tracks; t++) p = emit_track(p, &g, t, t == 0 ? g.tempo : NULL, t == 0 ? g.n_tempo : 0);
    out->data = clean;
    out->len = (size_t)(p - clean);
    out->ppqn = ppqn;
    out->n_tracks = (unsigned)g.n_tracks;
    state_free(&g);
    return MRNN_OK;

fail:
    state_free(&g);
    return st;
}

void mrnn__midi_clean_free(mrnn__midi_clean *c)
{
    if (!c) return;
    mrnn__free(c->data);
    memset(c, 0, sizeof *c);
}
