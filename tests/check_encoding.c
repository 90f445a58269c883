/* Encoders and decoders, built on hand-made and seeded random pieces (no MIDI involved):
 * pitch names, exact token sequences, round trips, frozen vocabularies, limits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/encoding.h"
#include "../lib/encoding_performance.h"
#include "../lib/piece.h"
#include "../lib/pitch.h"
#include "../lib/rng.h"
#include "../lib/vocab.h"
#include "test_main.h"

/* ---- helpers ---- */

static mrnn_vocab *make_vocab(uint32_t encoding, uint32_t spq, uint32_t max_dur)
{
    mrnn_encoding_params e;
    ck_assert_int_eq(mrnn_encoding_params_init(&e, MRNN_ENCODING_PARAMS_VERSION), MRNN_OK);
    e.encoding = encoding;
    e.steps_per_quarter = spq;
    e.max_duration_steps = max_dur;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &e), MRNN_OK);
    return v;
}

static void piece_start(mrnn__piece *p)
{
    mrnn__piece_init(p);
    ck_assert_int_eq(mrnn__piece_add_tempo(p, 0, 500000), MRNN_OK);
}

/* A note in quarters at 120 bpm (seconds are half the quarters). */
static void add_q(mrnn__piece *p, int pitch, double a, double b, int velocity)
{
    mrnn__note n;
    memset(&n, 0, sizeof n);
    n.pitch = (uint8_t)pitch;
    n.velocity = (uint8_t)velocity;
    n.start_q = a;
    n.end_q = b;
    n.start_s = a * 0.5;
    n.end_s = b * 0.5;
    ck_assert_int_eq(mrnn__piece_add_note(p, &n), MRNN_OK);
    if (b > p->end_q) {
        p->end_q = b;
        p->end_s = b * 0.5;
    }
}

static void add_drum(mrnn__piece *p, int pitch, double a, double b)
{
    add_q(p, pitch, a, b, 100);
    p->notes[p->n_notes - 1].drum = 1;
    p->notes[p->n_notes - 1].channel = MRNN__DRUM_CHANNEL;
}

/* The steps of an event encoding as text, one token per step. */
static char *steps_text(const mrnn_vocab *v, const mrnn__steps *s)
{
    static char buf[8192];
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < s->n_steps; i++) {
        ck_assert_uint_eq(s->start[i + 1] - s->start[i], 1);
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? " " : "", v->text[s->ids[s->start[i]]]);
    }
    return buf;
}

static void encode_ok(const mrnn__piece *p, mrnn_vocab *v, mrnn__steps *s, uint64_t *unknown)
{
    mrnn_status st = mrnn__encode(p, v, s, unknown);
    ck_assert_msg(st == MRNN_OK, "encode: %s", mrnn_last_error());
}

/* Same notes (after sorting both): pitch, drum flag, times in quarters and seconds. */
static void assert_same_notes(mrnn__piece *want, mrnn__piece *got, int check_velocity)
{
    mrnn__piece_sort(want);
    mrnn__piece_sort(got);
    ck_assert_uint_eq(got->n_notes, want->n_notes);
    for (size_t i = 0; i < want->n_notes; i++) {
        const mrnn__note *a = &want->notes[i], *b = &got->notes[i];
        ck_assert_msg(a->pitch == b->pitch && fabs(a->start_q - b->start_q) < 1e-9 && fabs(a->end_q - b->end_q) < 1e-9,
                      "note %zu: want %d [%g,%g) got %d [%g,%g)", i, a->pitch, a->start_q, a->end_q, b->pitch,
                      b->start_q, b->end_q);
        ck_assert(fabs(a->start_s - b->start_s) < 1e-9 && fabs(a->end_s - b->end_s) < 1e-9);
        ck_assert_uint_eq(a->drum, b->drum);
        if (check_velocity) ck_assert_uint_eq(a->velocity, b->velocity);
    }
}

/* ---- pitch names ---- */

START_TEST(test_pitch_names)
{
    char buf[8];
    for (int p = 0; p < 128; p++) {
        int n = mrnn__pitch_name(p, buf, sizeof buf);
        ck_assert_int_eq(n, (int)strlen(buf));
        int back = -1;
        ck_assert_int_eq(mrnn__pitch_parse(buf, strlen(buf), &back), 0);
        ck_assert_int_eq(back, p);
    }
    mrnn__pitch_name(60, buf, sizeof buf);
    ck_assert_str_eq(buf, "C4");
    mrnn__pitch_name(0, buf, sizeof buf);
    ck_assert_str_eq(buf, "C-1");
    mrnn__pitch_name(127, buf, sizeof buf);
    ck_assert_str_eq(buf, "G9");
    mrnn__pitch_name(61, buf, sizeof buf);
    ck_assert_str_eq(buf, "C#4");
    mrnn__pitch_name(21, buf, sizeof buf);
    ck_assert_str_eq(buf, "A0");
    ck_assert_int_eq(mrnn__pitch_name(128, buf, sizeof buf), -1);
    ck_assert_int_eq(mrnn__pitch_name(-1, buf, sizeof buf), -1);
    ck_assert_int_eq(mrnn__pitch_name(61, buf, 3), -1); /* "C#4" needs 4 bytes */
    struct {
        const char *s;
        int p;
    } good[] = {{"Db4", 61}, {"Cb4", 59}, {"B#3", 60}, {"E#4", 65}, {"Fb4", 64}, {"Bb-1", 10},
                {"Gb9", 126}, {"G9", 127}, {"C-1", 0}, {"A0", 21}, {"C8", 108}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int p = -1;
        ck_assert_msg(mrnn__pitch_parse(good[i].s, strlen(good[i].s), &p) == 0, "%s", good[i].s);
        ck_assert_int_eq(p, good[i].p);
    }
    const char *bad[] = {"", "C", "H4", "c4", "C10", "G#9", "Ab9", "Ab-1x", "Cb-1", "C-2", "C-0", "C##4", "Cbb4",
                         "C-", "Cx4", "-1", "C4 ", " C4", "C+4", "4", "#4", "Db", "C4.", "C 4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int p = -7;
        ck_assert_msg(mrnn__pitch_parse(bad[i], strlen(bad[i]), &p) != 0, "accepted '%s'", bad[i]);
        ck_assert_int_eq(p, -7);
    }
    /* The length bounds the parse: "C4" inside "C44". */
    int p = -1;
    ck_assert_int_eq(mrnn__pitch_parse("C44", 2, &p), 0);
    ck_assert_int_eq(p, 60);
}
END_TEST

/* ---- notechord ---- */

START_TEST(test_notechord_tokens)
{
    mrnn_vocab *v = make_vocab(MRNN_ENCODING_NOTECHORD, 4, 16);
    mrnn__piece p;
    piece_start(&p);
    add_q(&p, 67, 0, 1, 90);
    add_q(&p, 60, 0, 1, 90);
    add_q(&p, 64, 0, 1, 90);
    add_q(&p, 65, 1, 2, 90); /* same onset, two durations: two tokens, shorter first */
    add_q(&p, 62, 1, 1.5, 90);
    add_q(&p, 67, 3, 3.75, 90);
    p.end_q = 4;
    mrnn__steps s;
    mrnn__steps_init(&s);
    uint64_t unk = 0;
    encode_ok(&p, v, &s, &unk);
    ck_assert_str_eq(steps_text(v, &s), "C4.E4.G4:q W:q D4:e F4:q W:h G4:e. W:q");
    ck_assert_uint_eq(unk, 0);
    ck_assert_uint_eq(mrnn_vocab_size(v), 1 + 6);
    for (size_t i = 0; i <= s.n_steps; i++) ck_assert_uint_eq(s.start[i], i);
    /* Decoding gives the notes back, at velocity 80, and the piece length. */
    mrnn__piece d;
    mrnn__piece_init(&d);
    ck_assert_int_eq(mrnn__decode(v, &s, &d), MRNN_OK);
    assert_same_notes(&p, &d, 0);
    for (size_t i = 0; i < d.n_notes; i++) ck_assert_uint_eq(d.notes[i].velocity, 80);
    ck_assert(fabs(d.end_q - 4) < 1e-12);
    ck_assert(fabs(d.end_s - 2) < 1e-12);
    mrnn__piece_free(&d);
    mrnn__piece_free(&p);
    mrnn__steps_free(&s);
    mrnn_vocab_free(v);
}
END_TEST

/* Duration texts: named, dotted, fractions; long waits split; durations clamped. */
START_TEST(test_notechord_durations)
{
    struct {
        uint32_t spq, max_dur;
        double a, b, end;
        const char *want;
    } cases[] = {
        {4, 16, 0, 4, 4, "C4:w"},
        {4, 16, 0, 3, 3, "C4:h."},
        {4, 16, 0, 0.25, 0.25, "C4:s"},
        {8, 16, 0, 0.125, 0.125, "C4:t"},
        {8, 16, 0, 0.375, 0.375, "C4:s."},
        {8, 16, 0, 0.75, 0.75, "C4:e."},
        {4, 16, 0, 1.5, 1.5, "C4:q."},
        {12, 48, 0, 1.0 / 3, 1.0 / 3, "C4:1/3"},
        {12, 48, 0, 1.0 / 12, 1.0 / 12, "C4:1/12"},
        {3, 48, 0, 5.0 / 3, 5.0 / 3, "C4:5/3"},
        {4, 32, 0, 5, 5, "C4:5"},
        {4, 16, 0, 10, 10, "C4:w W:w W:w W:h"}, /* clamped to 16 steps; the wait to the end is split */
        {4, 16, 2.5, 3, 3, "W:5/2 C4:e"},    /* a first onset after 0 is preceded by waits */
        {4, 16, 0, 0.01, 0.01, "C4:s"},         /* shorter than a step: at least one step */
        {4, 6, 0, 1, 11, "C4:q W:q. W:q. W:q. W:q. W:q. W:q. W:q. W:e"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mrnn_vocab *v = make_vocab(MRNN_ENCODING_NOTECHORD, cases[i].spq, cases[i].max_dur);
        mrnn__piece p;
        piece_start(&p);
        add_q(&p, 60, cases[i].a, cases[i].b, 80);
        p.end_q = cases[i].end;
        mrnn__steps s;
        mrnn__steps_init(&s);
        encode_ok(&p, v, &s, NULL);
        ck_assert_msg(strcmp(steps_text(v, &s), cases[i].want) == 0, "case %zu: got '%s' want '%s'", i,
                      steps_text(v, &s), cases[i].want);
        /* Each duration text reads back to its length in steps. */
        mrnn__piece d;
        mrnn__piece_init(&d);
        ck_assert_int_eq(mrnn__decode(v, &s, &d), MRNN_OK);
        ck_assert_uint_eq(d.n_notes, 1);
        double len = d.notes[0].end_q - d.notes[0].start_q;
        double want = round((cases[i].b - cases[i].a) * cases[i].spq);
        if (want < 1) want = 1;
        if (want > cases[i].max_dur) want = cases[i].max_dur;
        ck_assert(fabs(len - want / cases[i].spq) < 1e-9);
        ck_assert(fabs(d.notes[0].start_q - cases[i].a) < 1e-9);
        mrnn__piece_free(&d);
        mrnn__piece_free(&p);
        mrnn__steps_free(&s);
        mrnn_vocab_free(v);
    }
}
END_TEST

static void random_grid_piece_with(mrnn__piece *p, mrnn__rng *rng, uint32_t spq, uint32_t max_dur, int drums, int n,
                                   int allow_overlap)
{
    piece_start(p);
    for (int i = 0; i < n; i++) {
        int onset = (int)mrnn__rng_below(rng, 64 * spq);
        int dur = 1 + (int)mrnn__rng_below(rng, max_dur);
        int pitch = (int)mrnn__rng_below(rng, 128);
        /* Overlapping notes of one pitch are made canonical by the encoder (one survives or the
         * first is cut), so an exact round trip needs pieces without them. */
        int dup = 0;
        for (size_t k = 0; k < p->n_notes; k++)
            if (p->notes[k].pitch == pitch && p->notes[k].start_q * spq < onset + dur - 0.5 &&
                onset < p->notes[k].end_q * spq - 0.5)
                dup = 1;
        if (dup && !allow_overlap) continue;
        if (drums && mrnn__rng_below(rng, 4) == 0)
            add_drum(p, pitch, (double)onset / spq, (double)(onset + dur) / spq);
        else
            add_q(p, pitch, (double)onset / spq, (double)(onset + dur) / spq, 80);
    }
}

static void random_grid_piece(mrnn__piece *p, mrnn__rng *rng, uint32_t spq, uint32_t max_dur, int drums, int n)
{
    random_grid_piece_with(p, rng, spq, max_dur, drums, n, 0);
}

/* With same-pitch overlaps, one encode/decode makes the notes canonical; after that the tokens
 * are a fixed point (this is what keeps MIDI -> tokens -> MIDI -> tokens exact). */
START_TEST(test_overlapping_notes_become_canonical)
{
    mrnn__rng rng;
    mrnn__rng_seed(&rng, 99);
    for (int trial = 0; trial < 40; trial++) {
        uint32_t encoding = trial % 2 ? MRNN_ENCODING_PERFORMANCE : MRNN_ENCODING_NOTECHORD;
        mrnn_vocab *v = make_vocab(encoding, 4, 16);
        mrnn__piece p, d;
        random_grid_piece_with(&p, &rng, 4, 16, 0, 40 + trial, 1);
        mrnn__piece_update_seconds(&p);
        mrnn__piece_init(&d);
        mrnn__steps s1, s2;
        mrnn__steps_init(&s1);
        mrnn__steps_init(&s2);
        encode_ok(&p, v, &s1, NULL);
        ck_assert_int_eq(mrnn__decode(v, &s1, &d), MRNN_OK);
        /* No two decoded notes of one pitch overlap. */
        for (size_t i = 0; i < d.n_notes; i++)
            for (size_t k = i + 1; k < d.n_notes; k++)
                if (d.notes[i].pitch == d.notes[k].pitch)
                    ck_assert(d.notes[i].end_q <= d.notes[k].start_q + 1e-9 ||
                              d.notes[k].end_q <= d.notes[i].start_q + 1e-9);
        encode_ok(&d, v, &s2, NULL);
        ck_assert_uint_eq(s2.n_ids, s1.n_ids);
        ck_assert(memcmp(s2.ids, s1.ids, s1.n_ids * sizeof *s1.ids) == 0);
        mrnn__steps_free(&s1);
        mrnn__steps_free(&s2);
        mrnn__piece_free(&p);
        mrnn__piece_free(&d);
        mrnn_vocab_free(v);
    }
}
END_TEST

START_TEST(test_notechord_random_round_trip)
{
    mrnn__rng rng;
    mrnn__rng_seed(&rng, 1234);
    static const uint32_t SPQ[] = {1, 2, 3, 4, 12, 96};
    for (int trial = 0; trial < 60; trial++) {
        uint32_t spq = SPQ[trial % 6];
        uint32_t max_dur = 1 + (uint32_t)mrnn__rng_below(&rng, 4 * spq);
        mrnn_vocab *v = make_vocab(MRNN_ENCODING_NOTECHORD, spq, max_dur);
        mrnn__piece p, d;
        random_grid_piece(&p, &rng, spq, max_dur, trial % 2, 1 + trial * 3);
        mrnn__piece_init(&d);
        mrnn__steps s;
        mrnn__steps_init(&s);
        encode_ok(&p, v, &s, NULL);
        ck_assert_int_eq(mrnn__decode(v, &s, &d), MRNN_OK);
        assert_same_notes(&p, &d, 0);
        ck_assert(fabs(d.end_q - p.end_q) < 1e-9);
        /* Encoding again with the now-complete vocabulary frozen gives the same ids. */
        v->frozen = 1;
        mrnn__steps s2;
        mrnn__steps_init(&s2);
        uint64_t unk = 0;
        encode_ok(&p, v, &s2, &unk);
        ck_assert_uint_eq(unk, 0);
        ck_assert_uint_eq(s2.n_ids, s.n_ids);
        ck_assert(memcmp(s2.ids, s.ids, s.n_ids * sizeof *s.ids) == 0);
        mrnn__steps_free(&s2);
        mrnn__steps_free(&s);
        mrnn__piece_free(&p);
        mrnn__piece_free(&d);
        mrnn_vocab_free(v);
    }
}
END_TEST

START_TEST(test_notechord_frozen_unknown)
{
    mrnn_vocab *v = make_vocab(MRNN_ENCODING_NOTECHORD, 4, 16);
    mrnn__piece a, b;
    piece_start(&a);
    add_q(&a, 60, 0, 1, 80);
    add_q(&a, 62, 1, 2, 80);
    mrnn__steps s;
    mrnn__steps_init(&s);
    encode_ok(&a, v, &s, NULL);
    uint32_t size = mrnn_vocab_size(v);
    v->frozen = 1;
    piece_start(&b);
    add_q(&b, 60, 0, 1, 80);
    add_q(&b, 61, 1, 2, 80);   /* new chord */
    add_q(&b, 62, 2, 2.5, 80); /* known pitch, new duration */
    add_q(&b, 62, 4, 5, 80);   /* known: D4:q, after W:h (a new wait) */
    uint64_t unk = 5;
    encode_ok(&b, v, &s, &unk);
    ck_assert_str_eq(steps_text(v, &s), "C4:q W:q <unk> W:q <unk> <unk> D4:q");
    ck_assert_uint_eq(unk, 5 + 3); /* added to the caller's count */
    ck_assert_uint_eq(mrnn_vocab_size(v), size);
    ck_assert_uint_eq(v->count[v->unk], 3);
    /* <unk> decodes to nothing; the time it stood for is lost. */
    mrnn__piece d;
    mrnn__piece_init(&d);
    ck_assert_int_eq(mrnn__decode(v, &s, &d), MRNN_OK);
    ck_assert_uint_eq(d.n_notes, 2);
    ck_assert_uint_eq(d.notes[1].pitch, 62);
    ck_assert(fabs(d.notes[1].start_q - 2) < 1e-12);
    mrnn__piece_free(&d);
    mrnn__piece_free(&a);
    mrnn__piece_free(&b);
    mrnn__steps_free(&s);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(test_notechord_max_steps_and_malformed)
{
    mrnn_encoding_params e;
    mrnn_encoding_params_init(&e, MRNN_ENCODING_PARAMS_VERSION);
    e.max_steps = 3;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &e), MRNN_OK);
    mrnn__piece p;
    piece_start(&p);
    for (int i = 0; i < 10; i++) add_q(&p, 60 + i, i, i + 1, 80);
    mrnn__steps s;
    mrnn__steps_init(&s);
    encode_ok(&p, v, &s, NULL);
    ck_assert_str_eq(steps_text(v, &s), "C4:q W:q C#4:q");
    /* Tokens after the cut were never interned. */
    ck_assert_uint_eq(mrnn_vocab_size(v), 4);
    mrnn__piece_free(&p);

    /* Texts that are not tokens of this encoding decode to nothing, without harm. */
    const char *junk[] = {"X:q", "C4:zz", "C4", ":q", "W:0", "C4.:q", "drum:q", "drum128:q", "C4:0/4", "C4:1/0",
                          "H4.C4:q", "C4:q..", "C4:qq", "C4:-1", "C4:1/", "C4:/2"};
    mrnn__steps_clear(&s);
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        uint32_t id;
        ck_assert_int_eq(mrnn__vocab_intern(v, junk[i], &id, NULL), MRNN_OK);
        mrnn__steps_push_id(&s, id);
        mrnn__steps_end_step(&s);
    }
    uint32_t id;
    mrnn__vocab_intern(v, "drum36.E4:e", &id, NULL);
    mrnn__steps_push_id(&s, id);
    mrnn__steps_end_step(&s);
    mrnn__piece d;
    mrnn__piece_init(&d);
    ck_assert_int_eq(mrnn__decode(v, &s, &d), MRNN_OK);
    ck_assert_uint_eq(d.n_notes, 2);
    ck_assert_uint_eq(d.notes[0].pitch, 36);
    ck_assert_uint_eq(d.notes[0].drum, 1);
    ck_assert_uint_eq(d.notes[0].channel, MRNN__DRUM_CHANNEL);
    ck_assert_uint_eq(d.notes[1].pitch, 64);
    ck_assert(fabs(d.notes[1].end_q - 0.5) < 1e-12);
    mrnn__piece_free(&d);
    mrnn__steps_free(&s);
    mrnn_vocab_free(v);
}
END_TEST

/* ---- performance ---- */

static void add_s(mrnn__piece *p, int pitch, double a, double b, int velocity)
{
    add_q(p, pitch, a * 2, b * 2, velocity);
}

START_TEST(test_performance_tokens)
{
    mrnn_vocab *v = make_vocab(MRNN_ENCODING_PERFORMANCE, 4, 16);
    mrnn__piece p;
    piece_start(&p);
    add_s(&p, 60, 0, 0.5, 82);
    add_s(&p, 64, 0.25, 1.5, 83); /* same bin 20: no new VELOCITY */
    add_s(&p, 67, 1.5, 2.0, 2);
    add_s(&p, 64, 1.5, 1.502, 2); /* shorter than a tick: one tick long */
    p.end_s = 4.5;
    p.end_q = 9;
    mrnn__steps s;
    mrnn__steps_init(&s);
    encode_ok(&p, v, &s, NULL);
    ck_assert_str_eq(steps_text(v, &s),
                     "VELOCITY_20 NOTE_ON_60 TIME_SHIFT_25 NOTE_ON_64 TIME_SHIFT_25 NOTE_OFF_60 TIME_SHIFT_100 "
                     "NOTE_OFF_64 VELOCITY_0 NOTE_ON_64 NOTE_ON_67 TIME_SHIFT_1 NOTE_OFF_64 TIME_SHIFT_49 NOTE_OFF_67 "
                     "TIME_SHIFT_100 TIME_SHIFT_100 TIME_SHIFT_50");
    mrnn__piece d;
    mrnn__piece_init(&d);
    ck_assert_int_eq(mrnn__decode(v, &s, &d), MRNN_OK);
    ck_assert_uint_eq(d.n_notes, 4);
    mrnn__piece_sort(&d);
    ck_assert_uint_eq(d.notes[0].pitch, 60);
    ck_assert_uint_eq(d.notes[0].velocity, 82);
    ck_assert_uint_eq(d.notes[1].velocity, 82);
    ck_assert(fabs(d.notes[1].end_s - 1.5) < 1e-9);
    ck_assert(fabs(d.notes[1].end_q - 3.0) < 1e-9);
    ck_assert_uint_eq(d.notes[2].velocity, 2);
    ck_assert(fabs(d.notes[2].end_s - 1.51) < 1e-9);
    ck_assert(fabs(d.end_s - 4.5) < 1e-9);
    ck_assert(fabs(d.end_q - 9) < 1e-9);
    mrnn__piece_free(&d);
    mrnn__piece_free(&p);
    mrnn__steps_free(&s);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(test_performance_decode_edges)
{
    mrnn_vocab *v = make_vocab(MRNN_ENCODING_PERFORMANCE, 4, 16);
    uint32_t ids[64];
    size_t n = 0;
    ck_assert_int_eq(mrnn_vocab_parse(v,
                                      "NOTE_OFF_61 NOTE_ON_60 NOTE_ON_60 TIME_SHIFT_10 NOTE_OFF_60 NOTE_OFF_61 "
                                      "VELOCITY_31 NOTE_ON_62 TIME_SHIFT_20 NOTE_ON_63 NOTE_OFF_60",
                                      ids, 64, &n),
                     MRNN_OK);
    mrnn__steps s;
    mrnn__steps_init(&s);
    ck_assert_int_eq(mrnn__steps_from_flat(&s, ids, n, 0), MRNN_OK);
    mrnn__piece d;
    mrnn__piece_init(&d);
    ck_assert_int_eq(mrnn__decode(v, &s, &d), MRNN_OK);
    /* Stray offs are ignored, the earliest open C4 closes first, open notes end at the end, and a
     * note opened at the very end (zero length) is dropped. */
    ck_assert_uint_eq(d.n_notes, 3);
    ck_assert_uint_eq(d.notes[0].pitch, 60);
    ck_assert(fabs(d.notes[0].end_s - 0.1) < 1e-12);
    ck_assert_uint_eq(d.notes[0].velocity, 80); /* no VELOCITY yet: the default */
    ck_assert_uint_eq(d.notes[1].pitch, 60);
    ck_assert(fabs(d.notes[1].end_s - 0.3) < 1e-12);
    ck_assert_uint_eq(d.notes[2].pitch, 62);
    ck_assert_uint_eq(d.notes[2].velocity, 126);
    ck_assert(fabs(d.notes[2].start_q - 0.2) < 1e-12);
    ck_assert(fabs(d.notes[2].end_s - 0.3) < 1e-12);
    ck_assert(fabs(d.end_s - 0.3) < 1e-12);
    mrnn__piece_free(&d);
    mrnn__steps_free(&s);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(test_performance_random_round_trip)
{
    mrnn__rng rng;
    mrnn__rng_seed(&rng, 77);
    mrnn_vocab *v = make_vocab(MRNN_ENCODING_PERFORMANCE, 4, 16);
    for (int trial = 0; trial < 50; trial++) {
        mrnn__piece p, d;
        piece_start(&p);
        mrnn__piece_init(&d);
        /* Per pitch, notes one after another (touching allowed): no same-pitch overlap. */
        int n_pitches = 1 + trial % 12;
        for (int k = 0; k < n_pitches; k++) {
            int pitch = (int)mrnn__rng_below(&rng, 128);
            int already = 0;
            for (size_t i = 0; i < p.n_notes; i++) already |= p.notes[i].pitch == pitch;
            if (already) continue;
            int64_t t = (int64_t)mrnn__rng_below(&rng, 300);
            for (int j = 0; j < 8; j++) {
                int64_t len = 1 + (int64_t)mrnn__rng_below(&rng, 250);
                int vel = (int)mrnn__rng_below(&rng, 32) * 4 + 2;
                add_s(&p, pitch, (double)t * 0.01, (double)(t + len) * 0.01, vel);
                t += len + (int64_t)mrnn__rng_below(&rng, 3) * (int64_t)mrnn__rng_below(&rng, 150);
            }
        }
        mrnn__steps s;
        mrnn__steps_init(&s);
        encode_ok(&p, v, &s, NULL);
        for (size_t i = 0; i < s.n_ids; i++) ck_assert_uint_lt(s.ids[i], MRNN__PERF_SIZE);
        ck_assert_int_eq(mrnn__decode(v, &s, &d), MRNN_OK);
        assert_same_notes(&p, &d, 1);
        ck_assert(fabs(d.end_s - p.end_s) < 1e-9);
        mrnn__steps_free(&s);
        mrnn__piece_free(&p);
        mrnn__piece_free(&d);
    }
    mrnn_vocab_free(v);
}
END_TEST

/* Overlapping notes of one pitch, given in any order: the encoder keeps what mrnn__spans_canonical
 * (the library's reference canonical form, sorted by key) keeps. The encoder canonicalises in onset
 * order and sorts only when the notes are not in onset order, so both paths are exercised. */
START_TEST(test_performance_overlaps_in_any_order)
{
    mrnn__rng rng;
    mrnn__rng_seed(&rng, 4242);
    mrnn_vocab *v = make_vocab(MRNN_ENCODING_PERFORMANCE, 4, 16);
    for (int trial = 0; trial < 60; trial++) {
        mrnn__piece p, d;
        piece_start(&p);
        mrnn__piece_init(&d);
        int n = 5 + trial * 3;
        for (int i = 0; i < n; i++) {
            /* Few pitches and a coarse grid: same onsets, equal lengths and overlaps are common. */
            int pitch = 60 + (int)mrnn__rng_below(&rng, 4);
            int64_t a = 10 * (int64_t)mrnn__rng_below(&rng, 30), len = 10 * (1 + (int64_t)mrnn__rng_below(&rng, 8));
            /* The velocity follows from the note, so which of two identical notes is kept does not show. */
            int vel = (int)((pitch * 7 + a + len) % 32) * 4 + 2;
            add_s(&p, pitch, (double)a * 0.01, (double)(a + len) * 0.01, vel);
        }
        if (trial % 2) mrnn__piece_sort(&p); /* odd trials: already in onset order */
        mrnn__span *want = calloc(p.n_notes, sizeof *want);
        ck_assert_ptr_nonnull(want);
        for (size_t i = 0; i < p.n_notes; i++)
            want[i] = (mrnn__span){llround(p.notes[i].start_s * 100), llround(p.notes[i].end_s * 100),
                                   p.notes[i].pitch, p.notes[i].velocity};
        size_t n_want = mrnn__spans_canonical(want, p.n_notes);

        mrnn__steps s;
        mrnn__steps_init(&s);
        encode_ok(&p, v, &s, NULL);
        ck_assert_int_eq(mrnn__decode(v, &s, &d), MRNN_OK);
        mrnn__span *got = calloc(d.n_notes + 1, sizeof *got);
        ck_assert_ptr_nonnull(got);
        for (size_t i = 0; i < d.n_notes; i++)
            got[i] = (mrnn__span){llround(d.notes[i].start_s * 100), llround(d.notes[i].end_s * 100),
                                  d.notes[i].pitch, d.notes[i].velocity};
        size_t n_got = mrnn__spans_canonical(got, d.n_notes); /* only sorts: decoded notes never overlap */
        ck_assert_uint_eq(n_got, d.n_notes);
        ck_assert_uint_eq(n_got, n_want);
        for (size_t i = 0; i < n_want; i++)
            ck_assert_msg(got[i].key == want[i].key && got[i].start == want[i].start && got[i].end == want[i].end &&
                              got[i].aux == want[i].aux,
                          "trial %d note %zu: want %d [%lld,%lld) v%u, got %d [%lld,%lld) v%u", trial, i, want[i].key,
                          (long long)want[i].start, (long long)want[i].end, want[i].aux, got[i].key,
                          (long long)got[i].start, (long long)got[i].end, got[i].aux);
        free(want);
        free(got);
        mrnn__steps_free(&s);
        mrnn__piece_free(&p);
        mrnn__piece_free(&d);
    }
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(test_performance_max_steps)
{
    mrnn_encoding_params e;
    mrnn_encoding_params_init(&e, MRNN_ENCODING_PARAMS_VERSION);
    e.encoding = MRNN_ENCODING_PERFORMANCE;
    e.max_steps = 5;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &e), MRNN_OK);
    mrnn__piece p;
    piece_start(&p);
    add_s(&p, 60, 0, 30, 80);
    mrnn__steps s;
    mrnn__steps_init(&s);
    encode_ok(&p, v, &s, NULL);
    ck_assert_uint_eq(s.n_steps, 5);
    ck_assert_uint_eq(s.n_ids, 5);
    ck_assert_str_eq(steps_text(v, &s), "VELOCITY_20 NOTE_ON_60 TIME_SHIFT_100 TIME_SHIFT_100 TIME_SHIFT_100");
    mrnn__piece_free(&p);
    mrnn__steps_free(&s);
    mrnn_vocab_free(v);
}
END_TEST

/* ---- pianoroll ---- */

static void frame_is(const mrnn__steps *s, size_t f, const uint32_t *keys, size_t n)
{
    ck_assert_uint_lt(f, s->n_steps);
    ck_assert_uint_eq(s->start[f + 1] - s->start[f], n);
    for (size_t i = 0; i < n; i++) ck_assert_uint_eq(s->ids[s->start[f] + i], keys[i]);
}

START_TEST(test_pianoroll_frames)
{
    mrnn_vocab *v = make_vocab(MRNN_ENCODING_PIANOROLL, 1, 16);
    mrnn__piece p;
    piece_start(&p);
    add_q(&p, 60, 0, 2, 80);
    add_q(&p, 64, 0, 1, 80);
    add_q(&p, 67, 1, 2, 80);
    add_q(&p, 62, 2.2, 2.4, 80); /* rounds to zero frames: still gets frame 2 */
    add_q(&p, 20, 0, 2, 80);     /* below A0: dropped */
    add_q(&p, 109, 0, 2, 80);    /* above C8: dropped */
    add_q(&p, 108, 3.4, 4.6, 80);
    p.end_q = 6.2;
    mrnn__steps s;
    mrnn__steps_init(&s);
    encode_ok(&p, v, &s, NULL);
    ck_assert_uint_eq(s.n_steps, 6);
    frame_is(&s, 0, (const uint32_t[]){39, 43}, 2);
    frame_is(&s, 1, (const uint32_t[]){39, 46}, 2);
    frame_is(&s, 2, (const uint32_t[]){41}, 1);
    frame_is(&s, 3, (const uint32_t[]){87}, 1);
    frame_is(&s, 4, (const uint32_t[]){87}, 1);
    frame_is(&s, 5, NULL, 0);
    mrnn__piece d;
    mrnn__piece_init(&d);
    ck_assert_int_eq(mrnn__decode(v, &s, &d), MRNN_OK);
    ck_assert_uint_eq(d.n_notes, 5);
    mrnn__piece_sort(&d);
    ck_assert_uint_eq(d.notes[0].pitch, 60);
    ck_assert(fabs(d.notes[0].end_q - 2) < 1e-12);
    ck_assert(fabs(d.notes[0].end_s - 1) < 1e-12);
    ck_assert_uint_eq(d.notes[4].pitch, 108);
    ck_assert(fabs(d.notes[4].start_q - 3) < 1e-12);
    ck_assert(fabs(d.notes[4].end_q - 5) < 1e-12);
    ck_assert_uint_eq(d.notes[4].velocity, 80);
    ck_assert(fabs(d.end_q - 6) < 1e-12);
    /* The flat form (frames ended by MRNN_FRAME_END) gives the same steps. */
    uint32_t flat[32];
    size_t n = 0;
    for (size_t f = 0; f < s.n_steps; f++) {
        for (uint32_t j = s.start[f]; j < s.start[f + 1]; j++) flat[n++] = s.ids[j];
        flat[n++] = MRNN_FRAME_END;
    }
    char text[128];
    ck_assert_int_eq(mrnn_vocab_format(v, flat, n, text, sizeof text, NULL), MRNN_OK);
    ck_assert_str_eq(text, "C4.E4 C4.G4 D4 C8 C8 _");
    uint32_t parsed[32];
    size_t n2 = 0;
    ck_assert_int_eq(mrnn_vocab_parse(v, text, parsed, 32, &n2), MRNN_OK);
    ck_assert_uint_eq(n2, n);
    ck_assert(memcmp(parsed, flat, n * sizeof *flat) == 0);
    mrnn__piece_free(&d);
    mrnn__piece_free(&p);
    mrnn__steps_free(&s);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(test_pianoroll_seconds_and_max_steps)
{
    mrnn_encoding_params e;
    mrnn_encoding_params_init(&e, MRNN_ENCODING_PARAMS_VERSION);
    e.encoding = MRNN_ENCODING_PIANOROLL;
    e.frame_seconds = 0.25;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &e), MRNN_OK);
    mrnn__piece p;
    piece_start(&p);
    ck_assert_int_eq(mrnn__piece_add_tempo(&p, 2.0, 1000000), MRNN_OK); /* 60 bpm from quarter 2 (1 s) */
    add_q(&p, 60, 0, 2, 80);
    add_q(&p, 62, 2, 3, 80);
    mrnn__piece_update_seconds(&p);
    ck_assert(fabs(p.notes[1].end_s - 2.0) < 1e-12);
    mrnn__steps s;
    mrnn__steps_init(&s);
    encode_ok(&p, v, &s, NULL);
    ck_assert_uint_eq(s.n_steps, 8); /* 2 s of 0.25 s frames */
    frame_is(&s, 3, (const uint32_t[]){39}, 1);
    frame_is(&s, 4, (const uint32_t[]){41}, 1);
    frame_is(&s, 7, (const uint32_t[]){41}, 1);
    mrnn__piece d;
    mrnn__piece_init(&d);
    ck_assert_int_eq(mrnn__decode(v, &s, &d), MRNN_OK);
    ck_assert_uint_eq(d.n_notes, 2);
    /* Decoded at 120 bpm: seconds are kept, quarters follow from them. */
    ck_assert(fabs(d.notes[1].start_s - 1.0) < 1e-12);
    ck_assert(fabs(d.notes[1].end_s - 2.0) < 1e-12);
    ck_assert(fabs(d.notes[1].end_q - 4.0) < 1e-12);
    mrnn__piece_free(&d);
    mrnn_vocab_free(v);

    e.frame_seconds = 0;
    e.max_steps = 3;
    ck_assert_int_eq(mrnn_vocab_create(&v, &e), MRNN_OK);
    encode_ok(&p, v, &s, NULL);
    ck_assert_uint_eq(s.n_steps, 3);
    ck_assert_uint_eq(s.n_ids, 3);
    mrnn__piece_free(&p);
    mrnn__steps_free(&s);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(test_pianoroll_random_round_trip)
{
    mrnn__rng rng;
    mrnn__rng_seed(&rng, 4242);
    for (int trial = 0; trial < 40; trial++) {
        uint32_t spq = 1 + (uint32_t)mrnn__rng_below(&rng, 8);
        mrnn_vocab *v = make_vocab(MRNN_ENCODING_PIANOROLL, spq, 16);
        mrnn__piece p, d;
        piece_start(&p);
        mrnn__piece_init(&d);
        for (int k = 0; k < 1 + trial % 20; k++) {
            int pitch = 21 + (int)mrnn__rng_below(&rng, 88);
            int already = 0;
            for (size_t i = 0; i < p.n_notes; i++) already |= p.notes[i].pitch == pitch;
            if (already) continue;
            /* Same-pitch notes separated by at least one frame: they cannot merge. */
            int64_t f = (int64_t)mrnn__rng_below(&rng, 20);
            for (int j = 0; j < 5; j++) {
                int64_t len = 1 + (int64_t)mrnn__rng_below(&rng, 12);
                add_q(&p, pitch, (double)f / spq, (double)(f + len) / spq, 80);
                f += len + 1 + (int64_t)mrnn__rng_below(&rng, 6);
            }
        }
        p.end_q += (double)mrnn__rng_below(&rng, 3) / spq;
        p.end_s = p.end_q * 0.5;
        mrnn__steps s;
        mrnn__steps_init(&s);
        encode_ok(&p, v, &s, NULL);
        ck_assert_uint_eq(s.n_steps, (size_t)llround(p.end_q * spq));
        for (size_t f = 0; f < s.n_steps; f++)
            for (uint32_t j = s.start[f]; j + 1 < s.start[f + 1]; j++) ck_assert_uint_lt(s.ids[j], s.ids[j + 1]);
        ck_assert_int_eq(mrnn__decode(v, &s, &d), MRNN_OK);
        assert_same_notes(&p, &d, 1);
        ck_assert(fabs(d.end_q - p.end_q) < 1e-9);
        mrnn__steps_free(&s);
        mrnn__piece_free(&p);
        mrnn__piece_free(&d);
        mrnn_vocab_free(v);
    }
}
END_TEST

START_TEST(test_parse_word)
{
    mrnn_vocab *v = make_vocab(MRNN_ENCODING_PIANOROLL, 4, 16);
    uint32_t ids[100];
    size_t n = 0;
    ck_assert_int_eq(mrnn__encoding_parse_word(v, "C4.E4.G4 junk", 8, ids, 100, &n), MRNN_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(ids[0], 39);
    ck_assert_uint_eq(ids[1], 43);
    ck_assert_uint_eq(ids[2], 46);
    ck_assert_uint_eq(ids[3], MRNN_FRAME_END);
    ck_assert_int_eq(mrnn__encoding_parse_word(v, "_", 1, ids, 100, &n), MRNN_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(ids[0], MRNN_FRAME_END);
    ck_assert_int_eq(mrnn__encoding_parse_word(v, "C4.Q4", 5, ids, 100, &n), MRNN_ERR_UNKNOWN_TOKEN);
    ck_assert(strstr(mrnn_last_error(), "C4.Q4") != NULL);
    ck_assert_int_eq(mrnn__encoding_parse_word(v, "C4.E4", 5, ids, 2, &n), MRNN_ERR_LIMIT);
    mrnn_vocab_free(v);
    v = make_vocab(MRNN_ENCODING_PERFORMANCE, 4, 16);
    ck_assert_int_eq(mrnn__encoding_parse_word(v, "NOTE_OFF_60xyz", 11, ids, 1, &n), MRNN_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(ids[0], 188);
    ck_assert_int_eq(mrnn__encoding_parse_word(v, "NOTE_OFF_60xyz", 14, ids, 1, &n), MRNN_ERR_UNKNOWN_TOKEN);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(test_empty_and_bad_times)
{
    for (uint32_t enc = 1; enc <= 3; enc++) {
        mrnn_vocab *v = make_vocab(enc, 4, 16);
        mrnn__piece p, d;
        piece_start(&p);
        mrnn__piece_init(&d);
        mrnn__steps s;
        mrnn__steps_init(&s);
        encode_ok(&p, v, &s, NULL);
        ck_assert_uint_eq(s.n_steps, 0);
        ck_assert_int_eq(mrnn__decode(v, &s, &d), MRNN_OK);
        ck_assert_uint_eq(d.n_notes, 0);
        /* Absurd lengths are refused, not allocated. */
        add_q(&p, 60, 0, 1e12, 80);
        ck_assert_int_eq(mrnn__encode(&p, v, &s, NULL), MRNN_ERR_LIMIT);
        ck_assert_uint_eq(s.n_steps, 0);
        ck_assert_int_eq(mrnn__encode(NULL, v, &s, NULL), MRNN_ERR_INVALID_ARG);
        ck_assert_int_eq(mrnn__decode(v, NULL, &d), MRNN_ERR_INVALID_ARG);
        mrnn__steps_free(&s);
        mrnn__piece_free(&p);
        mrnn__piece_free(&d);
        mrnn_vocab_free(v);
    }
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("encoding");
    TCase *tc = tcase_create("encoding");
    tcase_add_test(tc, test_pitch_names);
    tcase_add_test(tc, test_notechord_tokens);
    tcase_add_test(tc, test_notechord_durations);
    tcase_add_test(tc, test_notechord_random_round_trip);
    tcase_add_test(tc, test_overlapping_notes_become_canonical);
    tcase_add_test(tc, test_notechord_frozen_unknown);
    tcase_add_test(tc, test_notechord_max_steps_and_malformed);
    tcase_add_test(tc, test_performance_tokens);
    tcase_add_test(tc, test_performance_decode_edges);
    tcase_add_test(tc, test_performance_random_round_trip);
    tcase_add_test(tc, test_performance_overlaps_in_any_order);
    tcase_add_test(tc, test_performance_max_steps);
    tcase_add_test(tc, test_pianoroll_frames);
    tcase_add_test(tc, test_pianoroll_seconds_and_max_steps);
    tcase_add_test(tc, test_pianoroll_random_round_trip);
    tcase_add_test(tc, test_parse_word);
    tcase_add_test(tc, test_empty_and_bad_times);
    suite_add_tcase(s, tc);
    return s;
}

MRNN_TEST_MAIN(make_suite)
