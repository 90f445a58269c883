/* The MIDI codec: reading hand-built files, sustain folding, selection, the guard against every
 * known libsmf 1.3 hazard, byte-level robustness, write/read round trips and real corpora. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "midi.h"
#include "midi_guard.h"
#include "piece.h"
#include "test_main.h"

/* ---- a tiny SMF builder --------------------------------------------------------------------- */

typedef struct mb {
    uint8_t *d;
    size_t n, cap;
    size_t trk; /* offset of the open track's length field */
} mb;

static void mb_bytes(mb *m, const uint8_t *p, size_t n)
{
    if (m->n + n > m->cap) {
        size_t cap = m->cap ? m->cap : 256;
        while (cap < m->n + n) cap *= 2;
        m->d = realloc(m->d, cap);
        ck_assert_ptr_nonnull(m->d);
        m->cap = cap;
    }
    memcpy(m->d + m->n, p, n);
    m->n += n;
}

#define B(m, ...)                                                                                  \
    do {                                                                                           \
        const uint8_t b_[] = {__VA_ARGS__};                                                        \
        mb_bytes(m, b_, sizeof b_);                                                                \
    } while (0)

static void mb_header(mb *m, unsigned format, unsigned ntracks, unsigned division)
{
    B(m, 'M', 'T', 'h', 'd', 0, 0, 0, 6, (uint8_t)(format >> 8), (uint8_t)format, (uint8_t)(ntracks >> 8),
      (uint8_t)ntracks, (uint8_t)(division >> 8), (uint8_t)division);
}

static void mb_track(mb *m)
{
    B(m, 'M', 'T', 'r', 'k', 0, 0, 0, 0);
    m->trk = m->n - 4;
}

static void mb_end(mb *m)
{
    uint32_t len = (uint32_t)(m->n - m->trk - 4);
    m->d[m->trk] = (uint8_t)(len >> 24);
    m->d[m->trk + 1] = (uint8_t)(len >> 16);
    m->d[m->trk + 2] = (uint8_t)(len >> 8);
    m->d[m->trk + 3] = (uint8_t)len;
}

static void mb_vlq(mb *m, uint32_t v)
{
    uint8_t t[5];
    int n = 0;
    t[n++] = v & 0x7F;
    while ((v >>= 7) != 0) t[n++] = (uint8_t)(0x80 | (v & 0x7F));
    while (n > 0) mb_bytes(m, &t[--n], 1);
}

#define EOT(m) B(m, 0x00, 0xFF, 0x2F, 0x00)

static mrnn_status rd(const mb *m, const mrnn__midi_select *sel, mrnn__piece *p)
{
    return mrnn__midi_read_memory(m->d, m->n, "bad.mid", sel, p);
}

static int near(double a, double b)
{
    return fabs(a - b) < 1e-6;
}

/* A small valid two-track file used by several tests (ppqn 480). */
static void build_simple(mb *m)
{
    mb_header(m, 1, 2, 480);
    mb_track(m);
    B(m, 0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20);       /* 500000 us */
    B(m, 0x00, 0xFF, 0x58, 0x04, 0x03, 0x02, 0x18, 0x08); /* 3/4 */
    B(m, 0x00, 0xFF, 0x03, 0x04, 'T', 'e', 's', 't');     /* track name: dropped */
    EOT(m);
    mb_end(m);
    mb_track(m);
    B(m, 0x00, 0xC0, 0x05);                 /* program 5 */
    B(m, 0x00, 0x90, 60, 100);              /* C4 on */
    B(m, 0x83, 0x60, 0x80, 60, 0);          /* 480: C4 off */
    B(m, 0x00, 0x90, 62, 90);               /* D4 on */
    B(m, 0x83, 0x60, 62, 0);                /* running status, velocity 0 = off at 960 */
    B(m, 0x00, 0x99, 36, 120);              /* drum */
    B(m, 0x60, 0x89, 36, 0);                /* 1056 */
    EOT(m);
    mb_end(m);
}

/* ---- reading -------------------------------------------------------------------------------- */

START_TEST(test_read_simple)
{
    mb m = {0};
    build_simple(&m);
    mrnn__piece p;
    mrnn__piece_init(&p);
    ck_assert_int_eq(rd(&m, NULL, &p), MRNN_OK);
    ck_assert_uint_eq(p.n_notes, 2); /* NULL selection: the drum note is skipped */
    ck_assert_uint_eq(p.notes[0].pitch, 60);
    ck_assert(near(p.notes[0].start_q, 0) && near(p.notes[0].end_q, 1));
    ck_assert(near(p.notes[0].end_s, 0.5));
    ck_assert_uint_eq(p.notes[0].velocity, 100);
    ck_assert_uint_eq(p.notes[0].program, 5);
    ck_assert_uint_eq(p.notes[0].track, 1);
    ck_assert_uint_eq(p.notes[1].pitch, 62);
    ck_assert(near(p.notes[1].start_q, 1) && near(p.notes[1].end_q, 2));
    ck_assert_uint_eq(p.notes[1].velocity, 90);
    ck_assert_uint_eq(p.ts_num, 3);
    ck_assert_uint_eq(p.ts_den, 4);
    ck_assert_uint_eq(p.n_tempo, 1);
    ck_assert(near(p.tempo[0].us_per_q, 500000));
    ck_assert(near(p.end_q, 1056.0 / 480));
    mrnn__piece_free(&p);
    free(m.d);
}
END_TEST

START_TEST(test_read_null_selection_and_drums)
{
    mb m = {0};
    build_simple(&m);
    mrnn__piece p;
    mrnn__piece_init(&p);
    mrnn__midi_select sel = {0, 0, 0, 0};
    ck_assert_int_eq(rd(&m, &sel, &p), MRNN_OK);
    ck_assert_uint_eq(p.n_notes, 2);
    sel.keep_drums = 1;
    ck_assert_int_eq(rd(&m, &sel, &p), MRNN_OK);
    ck_assert_uint_eq(p.n_notes, 3);
    ck_assert_uint_eq(p.notes[2].pitch, 36);
    ck_assert_uint_eq(p.notes[2].drum, 1);
    ck_assert_uint_eq(p.notes[2].channel, 9);
    ck_assert(near(p.notes[2].start_q, 2) && near(p.notes[2].end_q, 2.2));
    /* Channel mask: only channel 9. */
    sel.channel_mask = 1u << 9;
    ck_assert_int_eq(rd(&m, &sel, &p), MRNN_OK);
    ck_assert_uint_eq(p.n_notes, 1);
    /* Track mask: track 0 has no notes. */
    sel.channel_mask = 0;
    sel.track_mask = 1;
    ck_assert_int_eq(rd(&m, &sel, &p), MRNN_OK);
    ck_assert_uint_eq(p.n_notes, 0);
    sel.track_mask = 2;
    ck_assert_int_eq(rd(&m, &sel, &p), MRNN_OK);
    ck_assert_uint_eq(p.n_notes, 3);
    /* Size cap. */
    sel.max_bytes = 10;
    ck_assert_int_eq(rd(&m, &sel, &p), MRNN_ERR_LIMIT);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "bad.mid"));
    ck_assert_uint_eq(p.n_notes, 0);
    mrnn__piece_free(&p);
    free(m.d);
}
END_TEST

START_TEST(test_tempo_map_from_other_track)
{
    /* Tempo changes in track 1 are moved to track 0; seconds follow the map. */
    mb m = {0};
    mb_header(&m, 1, 2, 100);
    mb_track(&m);
    B(&m, 0x00, 0x90, 60, 64);
    B(&m, 0x81, 0x48, 0x80, 60, 64); /* 200 ticks = 2 q */
    EOT(&m);
    mb_end(&m);
    mb_track(&m);
    B(&m, 0x00, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40); /* 1 s per quarter */
    B(&m, 0x64, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20); /* at q=1: 0.5 s per quarter */
    EOT(&m);
    mb_end(&m);
    mrnn__piece p;
    mrnn__piece_init(&p);
    ck_assert_int_eq(rd(&m, NULL, &p), MRNN_OK);
    ck_assert_uint_eq(p.n_notes, 1);
    ck_assert_uint_eq(p.n_tempo, 2);
    ck_assert(near(p.tempo[1].q, 1));
    ck_assert(near(p.notes[0].end_q, 2));
    ck_assert(near(p.notes[0].end_s, 1.5));
    ck_assert(near(p.end_s, 1.5));
    mrnn__piece_free(&p);
    free(m.d);
}
END_TEST

START_TEST(test_sustain_and_overlaps)
{
    mb m = {0};
    mb_header(&m, 0, 1, 10);
    mb_track(&m);
    B(&m, 0x00, 0xB0, 64, 127);          /* pedal down */
    B(&m, 0x00, 0x90, 60, 50);           /* 60 on at 0 */
    B(&m, 0x0A, 0x80, 60, 0);            /* released at 1 q: held by the pedal */
    B(&m, 0x00, 0x90, 64, 50);           /* 64 on at 1 */
    B(&m, 0x0A, 0x80, 64, 0);            /* released at 2 */
    B(&m, 0x00, 0x90, 64, 60);           /* re-struck at 2: the first 64 ends here */
    B(&m, 0x0A, 0xB0, 64, 0);            /* pedal up at 3: 60 ends; the second 64 is still held */
    B(&m, 0x0A, 0x80, 64, 0);            /* 4: second 64 ends */
    B(&m, 0x00, 0x90, 67, 70);           /* overlap: 67 at 4 */
    B(&m, 0x0A, 0x90, 67, 71);           /* 67 again at 5 ends the first */
    B(&m, 0x0A, 0x80, 67, 0);            /* 6: ends the second */
    B(&m, 0x0A, 0x80, 67, 0);            /* 7: stray off, ignored */
    B(&m, 0x00, 0x90, 72, 80);           /* 72 at 7, never released */
    B(&m, 0x00, 0x90, 74, 80);           /* zero length: dropped */
    B(&m, 0x00, 0x80, 74, 0);
    B(&m, 0x14, 0xFF, 0x2F, 0x00);       /* end of track at 9 */
    mb_end(&m);
    mrnn__piece p;
    mrnn__piece_init(&p);
    ck_assert_int_eq(rd(&m, NULL, &p), MRNN_OK);
    ck_assert_uint_eq(p.n_notes, 6);
    const double want[6][3] = {{60, 0, 3}, {64, 1, 2}, {64, 2, 4}, {67, 4, 5}, {67, 5, 6}, {72, 7, 9}};
    for (int i = 0; i < 6; i++) {
        ck_assert_uint_eq(p.notes[i].pitch, (unsigned)want[i][0]);
        ck_assert(near(p.notes[i].start_q, want[i][1]));
        ck_assert(near(p.notes[i].end_q, want[i][2]));
    }
    ck_assert_uint_eq(p.notes[4].velocity, 71);
    ck_assert(near(p.end_q, 9));
    mrnn__piece_free(&p);
    free(m.d);
}
END_TEST

START_TEST(test_retrigger_same_tick)
{
    /* Note on of the next note before the note off of the previous one at the same tick. */
    mb m = {0};
    mb_header(&m, 0, 1, 10);
    mb_track(&m);
    B(&m, 0x00, 0x90, 60, 50);
    B(&m, 0x0A, 0x90, 60, 51);
    B(&m, 0x00, 0x80, 60, 0);
    B(&m, 0x0A, 0x80, 60, 0);
    EOT(&m);
    mb_end(&m);
    mrnn__piece p;
    mrnn__piece_init(&p);
    ck_assert_int_eq(rd(&m, NULL, &p), MRNN_OK);
    ck_assert_uint_eq(p.n_notes, 2);
    ck_assert(near(p.notes[1].start_q, 1) && near(p.notes[1].end_q, 2));
    mrnn__piece_free(&p);
    free(m.d);
}
END_TEST

/* ---- repaired hazards ------------------------------------------------------------------------ */

/* Each builder writes a file that the guard must repair, and which then holds one note 0..1 q. */
static void note_body(mb *m)
{
    B(m, 0x00, 0x90, 60, 64, 0x83, 0x60, 0x80, 60, 0);
}

static void fix_no_eot(mb *m)
{
    mb_header(m, 0, 1, 480);
    mb_track(m);
    note_body(m);
    mb_end(m);
}

static void fix_empty_track(mb *m)
{
    mb_header(m, 1, 2, 480);
    mb_track(m);
    mb_end(m);
    mb_track(m);
    note_body(m);
    EOT(m);
    mb_end(m);
}

static void fix_f7_and_sysex(mb *m)
{
    mb_header(m, 0, 1, 480);
    mb_track(m);
    B(m, 0x00, 0xF0, 0x03, 0x43, 0x12, 0xF7);
    B(m, 0x00, 0xF7, 0x02, 0x43, 0xF7);
    note_body(m);
    EOT(m);
    mb_end(m);
}

static void fix_running_status_after_meta(mb *m)
{
    mb_header(m, 0, 1, 480);
    mb_track(m);
    B(m, 0x00, 0x90, 60, 64);
    B(m, 0x00, 0xFF, 0x01, 0x01, 'x');
    B(m, 0x00, 0xF0, 0x01, 0xF7);
    B(m, 0x83, 0x60, 60, 0); /* running status 0x90 across meta and SysEx */
    EOT(m);
    mb_end(m);
}

static void fix_bad_tempo(mb *m)
{
    mb_header(m, 0, 1, 480);
    mb_track(m);
    B(m, 0x00, 0xFF, 0x51, 0x00);
    B(m, 0x00, 0xFF, 0x51, 0x01, 0x10);
    B(m, 0x00, 0xFF, 0x51, 0x03, 0x00, 0x00, 0x00);
    B(m, 0x00, 0xFF, 0x58, 0x04, 0x04, 0xFF, 0x18, 0x08); /* 2^255 */
    B(m, 0x00, 0xFF, 0x58, 0x02, 0x04, 0x02);
    note_body(m);
    EOT(m);
    mb_end(m);
}

static void fix_missing_tracks(mb *m)
{
    mb_header(m, 1, 9, 480);
    mb_track(m);
    note_body(m);
    EOT(m);
    mb_end(m);
}

static void fix_unknown_chunks(mb *m)
{
    mb_header(m, 0, 1, 480);
    B(m, 'X', 'F', 'I', 'H', 0, 0, 0, 3, 1, 2, 3);
    mb_track(m);
    note_body(m);
    EOT(m);
    mb_end(m);
    B(m, 'J', 'U', 'N', 'K', 0, 0, 0, 0);
    B(m, 1, 2, 3); /* trailing bytes shorter than a chunk header */
}

static void fix_long_meta(mb *m)
{
    mb_header(m, 0, 1, 480);
    mb_track(m);
    B(m, 0x00, 0xFF, 0x05);
    mb_vlq(m, 300);
    for (int i = 0; i < 300; i++) B(m, 'a');
    B(m, 0x00, 0xFF, 0x7F, 0x81, 0x00); /* 128-byte sequencer-specific meta */
    for (int i = 0; i < 128; i++) B(m, 0x7F);
    note_body(m);
    EOT(m);
    mb_end(m);
}

static void fix_longer_header(mb *m)
{
    B(m, 'M', 'T', 'h', 'd', 0, 0, 0, 8, 0, 0, 0, 1, 0x01, 0xE0, 0xAA, 0xBB);
    mb_track(m);
    note_body(m);
    EOT(m);
    mb_end(m);
}

static void fix_ignored_messages(mb *m)
{
    mb_header(m, 0, 1, 480);
    mb_track(m);
    B(m, 0x00, 0xE0, 0x00, 0x40, 0x00, 0xD0, 0x10, 0x00, 0xA0, 60, 3);
    note_body(m);
    EOT(m);
    B(m, 0x00, 0x90, 61, 64); /* after End Of Track: ignored */
    mb_end(m);
}

typedef void (*builder)(mb *);

static const builder repaired[] = {fix_no_eot,    fix_empty_track,    fix_f7_and_sysex,   fix_running_status_after_meta,
                                   fix_bad_tempo, fix_missing_tracks, fix_unknown_chunks, fix_long_meta,
                                   fix_longer_header, fix_ignored_messages};

START_TEST(test_repaired_hazards)
{
    mb m = {0};
    repaired[_i](&m);
    mrnn__piece p;
    mrnn__piece_init(&p);
    mrnn_status st = rd(&m, NULL, &p);
    ck_assert_msg(st == MRNN_OK, "case %d: %s", _i, mrnn_last_error());
    ck_assert_uint_eq(p.n_notes, 1);
    ck_assert_uint_eq(p.notes[0].pitch, 60);
    ck_assert(near(p.notes[0].start_q, 0) && near(p.notes[0].end_q, 1));
    ck_assert(near(p.notes[0].end_s, 0.5)); /* the invalid tempos were dropped: 120 bpm */
    ck_assert_uint_eq(p.ts_num, 4);
    mrnn__piece_free(&p);
    free(m.d);
}
END_TEST

START_TEST(test_smpte_division)
{
    /* -25 fps, 40 ticks per frame: 1000 ticks per second. */
    mb m = {0};
    mb_header(&m, 0, 1, 0xE728);
    mb_track(&m);
    B(&m, 0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20); /* ignored under SMPTE */
    B(&m, 0x87, 0x68, 0x90, 60, 64);                 /* 1000 */
    B(&m, 0x83, 0x74, 0x80, 60, 0);                  /* 1500 */
    EOT(&m);
    mb_end(&m);
    mrnn__piece p;
    mrnn__piece_init(&p);
    ck_assert_int_eq(rd(&m, NULL, &p), MRNN_OK);
    ck_assert_uint_eq(p.n_notes, 1);
    ck_assert(near(p.notes[0].start_s, 1.0));
    ck_assert(near(p.notes[0].end_s, 1.5));
    mrnn__piece_free(&p);
    free(m.d);
}
END_TEST

/* ---- rejected hazards ----------------------------------------------------------------------- */

typedef struct reject_case {
    const char *what;
    mrnn_status status;
    void (*build)(mb *);
} reject_case;

static void rej_no_header(mb *m)
{
    B(m, 'R', 'I', 'F', 'F', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96);
}
static void rej_short(mb *m)
{
    B(m, 'M', 'T', 'h', 'd', 0, 0, 0, 6);
}
static void rej_header_len(mb *m)
{
    B(m, 'M', 'T', 'h', 'd', 0xFF, 0xFF, 0xFF, 0xF0, 0, 0, 0, 1, 0, 96);
}
static void rej_format2(mb *m)
{
    mb_header(m, 2, 1, 96);
    mb_track(m);
    note_body(m);
    mb_end(m);
}
static void rej_format3(mb *m)
{
    mb_header(m, 3, 1, 96);
}
static void rej_zero_tracks(mb *m)
{
    mb_header(m, 0, 0, 96);
}
static void rej_no_mtrk(mb *m)
{
    mb_header(m, 0, 1, 96);
}
static void rej_ppqn0(mb *m)
{
    mb_header(m, 0, 1, 0);
    mb_track(m);
    note_body(m);
    mb_end(m);
}
static void rej_bad_smpte(mb *m)
{
    mb_header(m, 0, 1, 0xE900); /* -23 fps */
    mb_track(m);
    note_body(m);
    mb_end(m);
}
static void rej_track_len_file(mb *m)
{
    mb_header(m, 0, 1, 96);
    B(m, 'M', 'T', 'r', 'k', 0, 0, 0x10, 0);
    note_body(m);
}
static void rej_track_len_huge(mb *m)
{
    mb_header(m, 0, 1, 96);
    B(m, 'M', 'T', 'r', 'k', 0x7F, 0xFF, 0xFF, 0xF0);
    note_body(m);
}
static void rej_unknown_len(mb *m)
{
    mb_header(m, 0, 1, 96);
    B(m, 'X', 'X', 'X', 'X', 0xFF, 0xFF, 0xFF, 0xFF, 0);
}
static void rej_tick_overflow(mb *m)
{
    mb_header(m, 0, 1, 96);
    mb_track(m);
    B(m, 0xFF, 0xFF, 0xFF, 0x7F, 0x90, 60, 64);
    B(m, 0xFF, 0xFF, 0xFF, 0x7F, 0x80, 60, 0);
    EOT(m);
    mb_end(m);
}
static void rej_vlq5(mb *m)
{
    mb_header(m, 0, 1, 96);
    mb_track(m);
    B(m, 0x80, 0x80, 0x80, 0x80, 0x00, 0x90, 60, 64);
    mb_end(m);
}
static void rej_meta_vlq5(mb *m)
{
    mb_header(m, 0, 1, 96);
    mb_track(m);
    B(m, 0x00, 0xFF, 0x01, 0x80, 0x80, 0x80, 0x80, 0x01);
    mb_end(m);
}
static void rej_data_byte(mb *m)
{
    mb_header(m, 0, 1, 96);
    mb_track(m);
    B(m, 0x00, 0x90, 60, 0x80);
    EOT(m);
    mb_end(m);
}
static void rej_no_running_status(mb *m)
{
    mb_header(m, 0, 1, 96);
    mb_track(m);
    B(m, 0x00, 60, 64);
    EOT(m);
    mb_end(m);
}
static void rej_status_f1(mb *m)
{
    mb_header(m, 0, 1, 96);
    mb_track(m);
    B(m, 0x00, 0xF1, 0x00);
    EOT(m);
    mb_end(m);
}
static void rej_realtime(mb *m)
{
    mb_header(m, 0, 1, 96);
    mb_track(m);
    B(m, 0x00, 0xF8);
    EOT(m);
    mb_end(m);
}
static void rej_truncated_meta(mb *m)
{
    mb_header(m, 0, 1, 96);
    mb_track(m);
    B(m, 0x00, 0xFF, 0x51, 0x03, 0x07);
    mb_end(m);
}
static void rej_truncated_sysex(mb *m)
{
    mb_header(m, 0, 1, 96);
    mb_track(m);
    B(m, 0x00, 0xF0, 0x7F, 0x01);
    mb_end(m);
}
static void rej_truncated_event(mb *m)
{
    mb_header(m, 0, 1, 96);
    mb_track(m);
    B(m, 0x00, 0x90, 60);
    mb_end(m);
}
static void rej_truncated_delta(mb *m)
{
    mb_header(m, 0, 1, 96);
    mb_track(m);
    B(m, 0x00, 0x90, 60, 64, 0x81);
    mb_end(m);
}
static void rej_meta_type(mb *m)
{
    mb_header(m, 0, 1, 96);
    mb_track(m);
    B(m, 0x00, 0xFF, 0x80, 0x00);
    mb_end(m);
}
static void rej_declared_tracks(mb *m)
{
    mb_header(m, 1, 300, 96);
}
static void rej_present_tracks(mb *m)
{
    mb_header(m, 1, 1, 96);
    for (int i = 0; i < 257; i++) {
        mb_track(m);
        EOT(m);
        mb_end(m);
    }
}
static void rej_too_many_events(mb *m)
{
    /* Aftertouch with running status: 3 bytes an event, nothing kept. */
    mb_header(m, 0, 1, 96);
    mb_track(m);
    B(m, 0x00, 0xA0, 60, 1);
    size_t n = MRNN__MIDI_MAX_EVENTS;
    uint8_t *chunk = malloc(3 * n);
    ck_assert_ptr_nonnull(chunk);
    for (size_t i = 0; i < n; i++) {
        chunk[3 * i] = 0;
        chunk[3 * i + 1] = 60;
        chunk[3 * i + 2] = 1;
    }
    mb_bytes(m, chunk, 3 * n);
    free(chunk);
    mb_end(m);
}

static const reject_case rejected[] = {
    {"no MThd", MRNN_ERR_MIDI, rej_no_header},
    {"short header", MRNN_ERR_MIDI, rej_short},
    {"header length", MRNN_ERR_MIDI, rej_header_len},
    {"format 2", MRNN_ERR_MIDI, rej_format2},
    {"format 3", MRNN_ERR_MIDI, rej_format3},
    {"zero tracks", MRNN_ERR_MIDI, rej_zero_tracks},
    {"no MTrk", MRNN_ERR_MIDI, rej_no_mtrk},
    {"ppqn 0", MRNN_ERR_MIDI, rej_ppqn0},
    {"bad SMPTE", MRNN_ERR_MIDI, rej_bad_smpte},
    {"track longer than file", MRNN_ERR_MIDI, rej_track_len_file},
    {"track length 0x7FFFFFF0", MRNN_ERR_MIDI, rej_track_len_huge},
    {"unknown chunk too long", MRNN_ERR_MIDI, rej_unknown_len},
    {"tick overflow", MRNN_ERR_MIDI, rej_tick_overflow},
    {"5-byte delta", MRNN_ERR_MIDI, rej_vlq5},
    {"5-byte meta length", MRNN_ERR_MIDI, rej_meta_vlq5},
    {"data byte >= 0x80", MRNN_ERR_MIDI, rej_data_byte},
    {"no running status", MRNN_ERR_MIDI, rej_no_running_status},
    {"status F1", MRNN_ERR_MIDI, rej_status_f1},
    {"realtime F8", MRNN_ERR_MIDI, rej_realtime},
    {"truncated meta", MRNN_ERR_MIDI, rej_truncated_meta},
    {"truncated sysex", MRNN_ERR_MIDI, rej_truncated_sysex},
    {"truncated event", MRNN_ERR_MIDI, rej_truncated_event},
    {"truncated delta", MRNN_ERR_MIDI, rej_truncated_delta},
    {"meta type >= 0x80", MRNN_ERR_MIDI, rej_meta_type},
    {"declared tracks cap", MRNN_ERR_LIMIT, rej_declared_tracks},
    {"present tracks cap", MRNN_ERR_LIMIT, rej_present_tracks},
    {"events cap", MRNN_ERR_LIMIT, rej_too_many_events},
};

START_TEST(test_rejected_hazards)
{
    const reject_case *c = &rejected[_i];
    mb m = {0};
    c->build(&m);
    mrnn__piece p;
    mrnn__piece_init(&p);
    mrnn__note dummy = {0};
    dummy.pitch = 1;
    ck_assert_int_eq(mrnn__piece_add_note(&p, &dummy), MRNN_OK);
    mrnn_clear_error();
    mrnn_status st = rd(&m, NULL, &p);
    ck_assert_msg(st == c->status, "%s: got %d (%s)", c->what, st, mrnn_last_error());
    const char *msg = mrnn_last_error();
    ck_assert_msg(strncmp(msg, "bad.mid: ", 9) == 0, "%s: message '%s'", c->what, msg);
    ck_assert_msg(strlen(msg) > 12, "%s: no reason in '%s'", c->what, msg);
    ck_assert_uint_eq(p.n_notes, 0);
    mrnn__piece_free(&p);
    free(m.d);
}
END_TEST

START_TEST(test_read_file_errors)
{
    mrnn__piece p;
    mrnn__piece_init(&p);
    ck_assert_int_eq(mrnn__midi_read_file("/nonexistent/x.mid", NULL, &p), MRNN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "/nonexistent/x.mid"));
    ck_assert_int_eq(mrnn__midi_read_file("/tmp", NULL, &p), MRNN_ERR_IO);
    ck_assert_int_eq(mrnn__midi_read_memory(NULL, 0, "empty", NULL, &p), MRNN_ERR_MIDI);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "empty"));
    mrnn__piece_free(&p);
}
END_TEST

/* ---- robustness ----------------------------------------------------------------------------- */

START_TEST(test_mutations_never_crash)
{
    mb m = {0};
    build_simple(&m);
    B(&m, 'M', 'T', 'r', 'k', 0, 0, 0, 14, 0x00, 0xF0, 0x02, 0x01, 0xF7, 0x00, 0xB1, 64, 127, 0x00, 0x91, 70, 1);
    B(&m, 0x00, 0xE1); /* intentionally odd tail */
    mrnn__piece p;
    mrnn__piece_init(&p);
    static const uint8_t values[] = {0x00, 0x7F, 0x80, 0xF7, 0xFF};
    uint8_t *copy = malloc(m.n);
    ck_assert_ptr_nonnull(copy);
    size_t ok = 0;
    for (size_t i = 0; i < m.n; i++) {
        for (size_t k = 0; k < sizeof values; k++) {
            memcpy(copy, m.d, m.n);
            copy[i] = values[k];
            mrnn_status st = mrnn__midi_read_memory(copy, m.n, "mut.mid", NULL, &p);
            ck_assert(st == MRNN_OK || st == MRNN_ERR_MIDI || st == MRNN_ERR_LIMIT);
            if (st == MRNN_OK) ok++;
            else ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "mut.mid"));
        }
    }
    for (size_t n = 0; n <= m.n; n++) {
        mrnn_status st = mrnn__midi_read_memory(m.d, n, "cut.mid", NULL, &p);
        ck_assert(st == MRNN_OK || st == MRNN_ERR_MIDI || st == MRNN_ERR_LIMIT);
    }
    ck_assert_uint_gt(ok, 0);
    free(copy);
    mrnn__piece_free(&p);
    free(m.d);
}
END_TEST

START_TEST(test_sanitised_copy_is_clean)
{
    /* The clean copy re-reads to itself: idempotent, format 1, explicit statuses. */
    mb m = {0};
    fix_running_status_after_meta(&m);
    mrnn__midi_clean a, b;
    ck_assert_int_eq(mrnn__midi_sanitise(m.d, m.n, "x", &a), MRNN_OK);
    ck_assert_int_eq(mrnn__midi_sanitise(a.data, a.len, "x", &b), MRNN_OK);
    ck_assert_uint_eq(a.len, b.len);
    ck_assert_mem_eq(a.data, b.data, a.len);
    ck_assert_uint_eq(a.data[9], 1);
    ck_assert_int_eq(a.ppqn, 480);
    mrnn__midi_clean_free(&a);
    mrnn__midi_clean_free(&b);
    mrnn__midi_clean_free(NULL);
    free(m.d);
}
END_TEST

/* ---- writing -------------------------------------------------------------------------------- */

static char tmpdir[64];

static void setup(void)
{
    strcpy(tmpdir, "/tmp/mrnn-midi-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static size_t count_dir(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

static void add(mrnn__piece *p, double s, double e, int pitch, int vel, int ch, int prog)
{
    mrnn__note n = {0};
    n.start_q = s;
    n.end_q = e;
    n.pitch = (uint8_t)pitch;
    n.velocity = (uint8_t)vel;
    n.channel = (uint8_t)ch;
    n.program = (uint8_t)prog;
    n.drum = ch == 9;
    ck_assert_int_eq(mrnn__piece_add_note(p, &n), MRNN_OK);
}

START_TEST(test_write_read_round_trip)
{
    mrnn__piece p, q;
    mrnn__piece_init(&p);
    mrnn__piece_init(&q);
    ck_assert_int_eq(mrnn__piece_add_tempo(&p, 0, 600000), MRNN_OK);
    ck_assert_int_eq(mrnn__piece_add_tempo(&p, 4, 400000), MRNN_OK);
    p.ts_num = 6;
    p.ts_den = 8;
    add(&p, 0, 1, 60, 100, 0, 0);
    add(&p, 0, 2, 64, 80, 0, 0);
    add(&p, 1, 1.5, 60, 90, 0, 0); /* same pitch right after: off before on */
    add(&p, 2.25, 3 + 1.0 / 480, 67, 1, 1, 40);
    add(&p, 3, 7.5, 48, 127, 1, 41); /* program change on the channel */
    add(&p, 0.5, 0.75, 36, 110, 9, 0);
    add(&p, 5, 6, 72, 64, 15, 127);
    p.end_q = 8;
    mrnn__piece_sort(&p);
    mrnn__piece_update_seconds(&p);
    char path[128];
    snprintf(path, sizeof path, "%s/out.mid", tmpdir);
    ck_assert_int_eq(mrnn__midi_write_file(path, &p, NULL), MRNN_OK);
    ck_assert_uint_eq(count_dir(tmpdir), 1); /* no temporary left */
    mrnn__midi_select sel = {0, 0, 1, 0};
    ck_assert_int_eq(mrnn__midi_read_file(path, &sel, &q), MRNN_OK);
    ck_assert_uint_eq(q.n_notes, p.n_notes);
    for (size_t i = 0; i < p.n_notes; i++) {
        const mrnn__note *a = &p.notes[i], *b = &q.notes[i];
        ck_assert_uint_eq(a->pitch, b->pitch);
        ck_assert(near(a->start_q, b->start_q));
        ck_assert(near(a->end_q, b->end_q));
        ck_assert(near(a->start_s, b->start_s));
        ck_assert(near(a->end_s, b->end_s));
        ck_assert_uint_eq(a->velocity, b->velocity);
        ck_assert_uint_eq(a->channel, b->channel);
        ck_assert_uint_eq(a->program, b->program);
        ck_assert_uint_eq(a->drum, b->drum);
    }
    ck_assert_uint_eq(q.n_tempo, 2);
    ck_assert(near(q.tempo[1].q, 4) && near(q.tempo[1].us_per_q, 400000));
    ck_assert_uint_eq(q.ts_num, 6);
    ck_assert_uint_eq(q.ts_den, 8);
    ck_assert(near(q.end_q, 8));

    /* Fixed tempo and program override; overwriting an existing file. */
    mrnn__midi_write_opts o = {90.0, 19, 96};
    ck_assert_int_eq(mrnn__midi_write_file(path, &p, &o), MRNN_OK);
    ck_assert_int_eq(mrnn__midi_read_file(path, &sel, &q), MRNN_OK);
    ck_assert_uint_eq(q.n_notes, p.n_notes);
    ck_assert_uint_eq(q.n_tempo, 1);
    ck_assert(fabs(q.tempo[0].us_per_q - 60e6 / 90) < 1);
    for (size_t i = 0; i < q.n_notes; i++) {
        ck_assert_uint_eq(q.notes[i].program, q.notes[i].drum ? 0 : 19);
        ck_assert(near(q.notes[i].start_q, round(p.notes[i].start_q * 96) / 96));
    }
    ck_assert_uint_eq(count_dir(tmpdir), 1);

    /* Empty piece: a valid file with no notes. */
    mrnn__piece e;
    mrnn__piece_init(&e);
    ck_assert_int_eq(mrnn__midi_write_file(path, &e, NULL), MRNN_OK);
    ck_assert_int_eq(mrnn__midi_read_file(path, NULL, &q), MRNN_OK);
    ck_assert_uint_eq(q.n_notes, 0);
    mrnn__piece_free(&e);
    mrnn__piece_free(&p);
    mrnn__piece_free(&q);
}
END_TEST

START_TEST(test_write_errors)
{
    mrnn__piece p;
    mrnn__piece_init(&p);
    add(&p, 0, 1, 60, 100, 0, 0);
    ck_assert_int_eq(mrnn__midi_write_file("/nonexistent-dir/out.mid", &p, NULL), MRNN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "/nonexistent-dir/out.mid"));
    char path[128];
    snprintf(path, sizeof path, "%s/bad.mid", tmpdir);
    p.notes[0].start_q = NAN;
    ck_assert_int_eq(mrnn__midi_write_file(path, &p, NULL), MRNN_ERR_LIMIT);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), path));
    p.notes[0].start_q = 1e12;
    ck_assert_int_eq(mrnn__midi_write_file(path, &p, NULL), MRNN_ERR_LIMIT);
    mrnn__midi_write_opts o = {0, -1, 40000};
    p.notes[0].start_q = 0;
    ck_assert_int_eq(mrnn__midi_write_file(path, &p, &o), MRNN_ERR_INVALID_ARG);
    ck_assert_uint_eq(count_dir(tmpdir), 0);
    ck_assert_int_eq(mrnn__midi_write_file(NULL, &p, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn__midi_write_file(path, NULL, NULL), MRNN_ERR_INVALID_ARG);
    mrnn__piece_free(&p);
}
END_TEST

/* ---- real corpora --------------------------------------------------------------------------- */

static int has_mid_suffix(const char *s)
{
    size_t n = strlen(s);
    return n > 4 && (strcmp(s + n - 4, ".mid") == 0 || strcmp(s + n - 4, ".MID") == 0);
}

/* Read every .mid under dir (recursively); returns the number of files. */
static size_t read_tree(const char *dir, mrnn__piece *p)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            n += read_tree(path, p);
        } else if (has_mid_suffix(e->d_name)) {
            mrnn__midi_select sel = {0, 0, 1, 0};
            mrnn_status s = mrnn__midi_read_file(path, &sel, p);
            ck_assert_msg(s == MRNN_OK, "%s", mrnn_last_error());
            ck_assert_msg(p->n_notes > 0, "%s: no notes", path);
            for (size_t i = 0; i < p->n_notes; i++) {
                ck_assert(p->notes[i].end_q > p->notes[i].start_q);
                ck_assert(p->notes[i].end_q <= p->end_q + 1e-9);
                ck_assert(p->notes[i].velocity >= 1 && p->notes[i].velocity <= 127);
            }
            n++;
        }
    }
    closedir(d);
    return n;
}

START_TEST(test_openmsx_corpus)
{
    const char *dir = "/usr/share/games/openttd/baseset/openmsx";
    DIR *d = opendir(dir);
    if (!d) return; /* openttd-openmsx not installed */
    closedir(d);
    mrnn__piece p;
    mrnn__piece_init(&p);
    ck_assert_uint_gt(read_tree(dir, &p), 0);
    mrnn__piece_free(&p);
}
END_TEST

START_TEST(test_jsb_chorales)
{
    const char *shared = mrnn_test_shared_data();
    if (!shared) return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/jsb-chorales", shared);
    mrnn__piece p;
    mrnn__piece_init(&p);
    size_t n = read_tree(dir, &p);
    DIR *d = opendir(dir);
    if (d) {
        closedir(d);
        ck_assert_uint_gt(n, 0);
    }
    mrnn__piece_free(&p);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("midi");
    TCase *tc = tcase_create("read");
    tcase_add_test(tc, test_read_simple);
    tcase_add_test(tc, test_read_null_selection_and_drums);
    tcase_add_test(tc, test_tempo_map_from_other_track);
    tcase_add_test(tc, test_sustain_and_overlaps);
    tcase_add_test(tc, test_retrigger_same_tick);
    tcase_add_test(tc, test_read_file_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("guard");
    tcase_add_loop_test(tc, test_repaired_hazards, 0, (int)(sizeof repaired / sizeof *repaired));
    tcase_add_test(tc, test_smpte_division);
    tcase_add_loop_test(tc, test_rejected_hazards, 0, (int)(sizeof rejected / sizeof *rejected));
    tcase_add_test(tc, test_sanitised_copy_is_clean);
    tcase_add_test(tc, test_mutations_never_crash);
    suite_add_tcase(s, tc);

    tc = tcase_create("write");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_write_read_round_trip);
    tcase_add_test(tc, test_write_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("corpora");
    tcase_add_test(tc, test_openmsx_corpus);
    tcase_add_test(tc, test_jsb_chorales);
    suite_add_tcase(s, tc);
    return s;
}

MRNN_TEST_MAIN(make_suite)
