/* Vocabulary: params validation, fixed token tables, interning, seed text parse/format, the
 * vocabulary file format and its corruption handling. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/encoding.h"
#include "../lib/fileio.h"
#include "../lib/pitch.h"
#include "../lib/vocab.h"
#include "test_main.h"
#include "test_util.h"

#define HAS_ERROR(s) (strstr(mrnn_last_error(), (s)) != NULL)

static mrnn_vocab *make_vocab(uint32_t encoding)
{
    mrnn_encoding_params e;
    ck_assert_int_eq(mrnn_encoding_params_init(&e, MRNN_ENCODING_PARAMS_VERSION), MRNN_OK);
    e.encoding = encoding;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &e), MRNN_OK);
    ck_assert_ptr_nonnull(v);
    return v;
}

static char tmpdir[64];

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/mrnn-vocab-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmp(const char *path)
{
    unlink(path);
    rmdir(tmpdir);
}

START_TEST(test_params_defaults_and_version)
{
    mrnn_encoding_params e;
    ck_assert_int_eq(mrnn_encoding_params_init(&e, MRNN_ENCODING_PARAMS_VERSION), MRNN_OK);
    ck_assert_uint_eq(e.version, MRNN_ENCODING_PARAMS_VERSION);
    ck_assert_uint_eq(e.encoding, MRNN_ENCODING_NOTECHORD);
    ck_assert_uint_eq(e.steps_per_quarter, 4);
    ck_assert(e.frame_seconds == 0.0);
    ck_assert_uint_eq(e.min_count, 1);
    ck_assert_uint_eq(e.max_duration_steps, 16);
    ck_assert_int_eq(mrnn__encoding_params_check(&e), MRNN_OK);
    ck_assert_int_eq(mrnn_encoding_params_init(&e, MRNN_ENCODING_PARAMS_VERSION + 1), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_encoding_params_init(NULL, MRNN_ENCODING_PARAMS_VERSION), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn__encoding_params_check(NULL), MRNN_ERR_INVALID_ARG);
}
END_TEST

/* Each bad value is refused and the message names its field. */
START_TEST(test_params_range_checks_name_field)
{
    mrnn_encoding_params e;
    mrnn_vocab *v = (mrnn_vocab *)&e;
#define EXPECT_BAD(stmt, field)                                                                      \
    do {                                                                                             \
        mrnn_encoding_params_init(&e, MRNN_ENCODING_PARAMS_VERSION);                                 \
        stmt;                                                                                        \
        ck_assert_int_eq(mrnn__encoding_params_check(&e), MRNN_ERR_INVALID_ARG);                     \
        ck_assert_msg(HAS_ERROR(field), "'%s' not in '%s'", field, mrnn_last_error());               \
        ck_assert_int_eq(mrnn_vocab_create(&v, &e), MRNN_ERR_INVALID_ARG);                           \
        ck_assert_ptr_null(v);                                                                       \
    } while (0)
    EXPECT_BAD(e.encoding = 0, "encoding");
    EXPECT_BAD(e.encoding = 5, "encoding");
    EXPECT_BAD(e.steps_per_quarter = 0, "steps_per_quarter");
    EXPECT_BAD(e.steps_per_quarter = 97, "steps_per_quarter");
    EXPECT_BAD(e.frame_seconds = 0.0005, "frame_seconds");
    EXPECT_BAD(e.frame_seconds = 10.5, "frame_seconds");
    EXPECT_BAD(e.frame_seconds = -1, "frame_seconds");
    EXPECT_BAD(e.frame_seconds = NAN, "frame_seconds");
    EXPECT_BAD(e.frame_seconds = INFINITY, "frame_seconds");
    EXPECT_BAD(e.keep_drums = 2, "keep_drums");
    EXPECT_BAD(e.normalize_key = -1, "normalize_key");
    EXPECT_BAD(e.min_count = 0, "min_count");
    EXPECT_BAD(e.max_duration_steps = 0, "max_duration_steps");
    EXPECT_BAD(e.max_duration_steps = 4097, "max_duration_steps");
    EXPECT_BAD(e.channel_mask = 0x10000, "channel_mask");
    EXPECT_BAD(e.version = 0, "version");
    EXPECT_BAD(e.multitrack_programs = 2, "multitrack_programs");
    EXPECT_BAD(e.max_tracks = 130, "max_tracks");
    EXPECT_BAD(e.velocity_bins = 33, "velocity_bins");
    EXPECT_BAD(e.instrument_mask[4] = 0x2, "instrument_mask");
    EXPECT_BAD((e.encoding = MRNN_ENCODING_MULTITRACK, e.max_duration_steps = 257), "max_duration_steps");
#undef EXPECT_BAD
    /* The edges are accepted. */
    mrnn_encoding_params_init(&e, MRNN_ENCODING_PARAMS_VERSION);
    e.steps_per_quarter = 96;
    e.frame_seconds = 10;
    e.max_duration_steps = 4096;
    e.keep_drums = 1;
    e.normalize_key = 1;
    ck_assert_int_eq(mrnn__encoding_params_check(&e), MRNN_OK);
    e.steps_per_quarter = 1;
    e.frame_seconds = 0.001;
    e.max_duration_steps = 1;
    ck_assert_int_eq(mrnn__encoding_params_check(&e), MRNN_OK);
}
END_TEST

START_TEST(test_performance_table)
{
    mrnn_vocab *v = make_vocab(MRNN_ENCODING_PERFORMANCE);
    ck_assert_uint_eq(mrnn_vocab_size(v), 388);
    char want[32];
    for (uint32_t id = 0; id < 388; id++) {
        if (id < 128)
            snprintf(want, sizeof want, "NOTE_ON_%u", id);
        else if (id < 256)
            snprintf(want, sizeof want, "NOTE_OFF_%u", id - 128);
        else if (id < 356)
            snprintf(want, sizeof want, "TIME_SHIFT_%u", id - 255);
        else
            snprintf(want, sizeof want, "VELOCITY_%u", id - 356);
        ck_assert_str_eq(mrnn_vocab_token_text(v, id), want);
        uint32_t back = 9999;
        ck_assert_int_eq(mrnn_vocab_token_id(v, want, &back), MRNN_OK);
        ck_assert_uint_eq(back, id);
    }
    ck_assert_ptr_null(mrnn_vocab_token_text(v, 388));
    uint32_t id;
    ck_assert_int_eq(mrnn_vocab_token_id(v, "NOTE_ON_128", &id), MRNN_ERR_UNKNOWN_TOKEN);
    ck_assert(HAS_ERROR("NOTE_ON_128"));
    ck_assert_int_eq(mrnn_vocab_token_id(v, "TIME_SHIFT_0", &id), MRNN_ERR_UNKNOWN_TOKEN);
    ck_assert_int_eq(mrnn_vocab_token_id(v, "<unk>", &id), MRNN_ERR_UNKNOWN_TOKEN);
    /* A fixed vocabulary never grows: interning an unknown text fails. */
    ck_assert_int_eq(mrnn__vocab_intern(v, "NOTE_ON_200", &id, NULL), MRNN_ERR_UNKNOWN_TOKEN);
    ck_assert_uint_eq(mrnn_vocab_size(v), 388);
    mrnn_encoding_params e;
    mrnn_encoding_params_init(&e, MRNN_ENCODING_PARAMS_VERSION);
    ck_assert_int_eq(mrnn_vocab_get_encoding_params(v, &e), MRNN_OK);
    ck_assert_uint_eq(e.encoding, MRNN_ENCODING_PERFORMANCE);
    e.version = 0;
    ck_assert_int_eq(mrnn_vocab_get_encoding_params(v, &e), MRNN_ERR_INVALID_ARG);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(test_pianoroll_table)
{
    mrnn_vocab *v = make_vocab(MRNN_ENCODING_PIANOROLL);
    ck_assert_uint_eq(mrnn_vocab_size(v), 88);
    ck_assert_str_eq(mrnn_vocab_token_text(v, 0), "A0");
    ck_assert_str_eq(mrnn_vocab_token_text(v, 39), "C4");
    ck_assert_str_eq(mrnn_vocab_token_text(v, 87), "C8");
    for (uint32_t id = 0; id < 88; id++) {
        char name[8];
        ck_assert_int_gt(mrnn__pitch_name((int)id + 21, name, sizeof name), 0);
        ck_assert_str_eq(mrnn_vocab_token_text(v, id), name);
        uint32_t back = 999;
        ck_assert_int_eq(mrnn_vocab_token_id(v, name, &back), MRNN_OK);
        ck_assert_uint_eq(back, id);
    }
    uint32_t id;
    ck_assert_int_eq(mrnn_vocab_token_id(v, "G#0", &id), MRNN_ERR_UNKNOWN_TOKEN);
    ck_assert_int_eq(mrnn_vocab_token_id(v, "C#8", &id), MRNN_ERR_UNKNOWN_TOKEN);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(test_notechord_intern_order_and_freeze)
{
    mrnn_vocab *v = make_vocab(MRNN_ENCODING_NOTECHORD);
    ck_assert_uint_eq(mrnn_vocab_size(v), 1);
    ck_assert_str_eq(mrnn_vocab_token_text(v, 0), "<unk>");
    ck_assert_uint_eq(v->unk, 0);
    ck_assert_uint_eq(v->count[0], 0);
    /* Many texts, so the hash table grows several times; ids follow call order. */
    char t[32];
    for (uint32_t i = 0; i < 1000; i++) {
        snprintf(t, sizeof t, "C4.E4:%u/7", i + 1);
        uint32_t id = 0;
        int unk = -1;
        ck_assert_int_eq(mrnn__vocab_intern(v, t, &id, &unk), MRNN_OK);
        ck_assert_uint_eq(id, i + 1);
        ck_assert_int_eq(unk, 0);
    }
    for (uint32_t i = 0; i < 1000; i++) {
        snprintf(t, sizeof t, "C4.E4:%u/7", i + 1);
        uint32_t id = 0;
        ck_assert_int_eq(mrnn__vocab_find(v, t, &id), 0);
        ck_assert_uint_eq(id, i + 1);
    }
    uint32_t id;
    ck_assert_int_eq(mrnn__vocab_intern(v, "C4.E4:1/7", &id, NULL), MRNN_OK);
    ck_assert_uint_eq(id, 1);
    ck_assert_uint_eq(v->count[1], 2);
    ck_assert_int_ne(mrnn__vocab_find(v, "C4.E4:1001/7", &id), 0);
    /* Frozen: new texts map to <unk> and are counted there; known ones keep their ids. */
    v->frozen = 1;
    int unk = 0;
    ck_assert_int_eq(mrnn__vocab_intern(v, "G9:q", &id, &unk), MRNN_OK);
    ck_assert_uint_eq(id, 0);
    ck_assert_int_eq(unk, 1);
    ck_assert_uint_eq(v->count[0], 1);
    ck_assert_int_eq(mrnn__vocab_intern(v, "C4.E4:2/7", &id, &unk), MRNN_OK);
    ck_assert_uint_eq(id, 2);
    ck_assert_int_eq(unk, 0);
    ck_assert_uint_eq(mrnn_vocab_size(v), 1001);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(test_clone_equal_embedded)
{
    mrnn_vocab *v = make_vocab(MRNN_ENCODING_NOTECHORD);
    uint32_t id;
    const char *texts[] = {"C4:q", "W:e", "C4.E4.G4:h.", "drum36:s"};
    for (int i = 0; i < 4; i++) ck_assert_int_eq(mrnn__vocab_intern(v, texts[i], &id, NULL), MRNN_OK);
    mrnn__vocab_intern(v, "C4:q", &id, NULL);
    mrnn_vocab *c = NULL;
    ck_assert_int_eq(mrnn__vocab_clone(v, &c), MRNN_OK);
    ck_assert(mrnn__vocab_equal(v, c));
    ck_assert_uint_eq(c->count[1], 2);
    ck_assert_int_eq(mrnn__vocab_find(c, "drum36:s", &id), 0);
    ck_assert_uint_eq(id, 4);
    mrnn__vocab_intern(c, "D4:q", &id, NULL);
    ck_assert(!mrnn__vocab_equal(v, c));
    ck_assert(!mrnn__vocab_equal(v, NULL));

    mrnn__wbuf b = {0};
    mrnn__vocab_write(v, &b);
    ck_assert(!b.failed);
    mrnn__rbuf r = {b.data, b.len, 0, 0, 0};
    mrnn_vocab *back = NULL;
    ck_assert_int_eq(mrnn__vocab_read(&r, &back, "mem"), MRNN_OK);
    ck_assert_uint_eq(r.pos, b.len);
    ck_assert(mrnn__vocab_equal(v, back));
    ck_assert_uint_eq(back->count[1], 2);
    /* Every truncation of the embedded form is a format error. */
    for (size_t cut = 0; cut < b.len; cut++) {
        mrnn__rbuf t = {b.data, cut, 0, 0, 0};
        mrnn_vocab *x = (mrnn_vocab *)1;
        ck_assert_int_eq(mrnn__vocab_read(&t, &x, "mem"), MRNN_ERR_FORMAT);
        ck_assert_ptr_null(x);
    }
    mrnn__wbuf_free(&b);
    /* Different encodings are never equal. */
    mrnn_vocab *p = make_vocab(MRNN_ENCODING_PERFORMANCE);
    ck_assert(!mrnn__vocab_equal(v, p));
    mrnn_vocab *p2 = NULL;
    ck_assert_int_eq(mrnn__vocab_clone(p, &p2), MRNN_OK);
    ck_assert(mrnn__vocab_equal(p, p2));
    mrnn_vocab_free(p);
    mrnn_vocab_free(p2);
    mrnn_vocab_free(back);
    mrnn_vocab_free(c);
    mrnn_vocab_free(v);
}
END_TEST

static uint8_t *slurp(const char *path, size_t *len)
{
    uint8_t *d = NULL;
    ck_assert_int_eq(mrnn__read_file(path, 1 << 24, &d, len), MRNN_OK);
    return d;
}

static void spit(const char *path, const uint8_t *d, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(d, 1, len, f), len);
    fclose(f);
}

static void expect_load_fails(const char *path, mrnn_status want)
{
    mrnn_vocab *v = (mrnn_vocab *)1;
    ck_assert_int_eq(mrnn_vocab_load(&v, path), want);
    ck_assert_ptr_null(v);
    ck_assert_msg(HAS_ERROR(path), "file not named: %s", mrnn_last_error());
}

START_TEST(test_save_load_and_corruption)
{
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/v.mrv", tmpdir);
    mrnn_encoding_params e;
    mrnn_encoding_params_init(&e, MRNN_ENCODING_PARAMS_VERSION);
    e.steps_per_quarter = 12;
    e.max_duration_steps = 48;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &e), MRNN_OK);
    uint32_t id;
    mrnn__vocab_intern(v, "C4:q", &id, NULL);
    mrnn__vocab_intern(v, "W:3/4", &id, NULL);
    ck_assert_int_eq(mrnn_vocab_save(v, path), MRNN_OK);
    mrnn_vocab *l = NULL;
    ck_assert_int_eq(mrnn_vocab_load(&l, path), MRNN_OK);
    ck_assert(mrnn__vocab_equal(v, l));
    mrnn_encoding_params le;
    mrnn_encoding_params_init(&le, MRNN_ENCODING_PARAMS_VERSION);
    mrnn_vocab_get_encoding_params(l, &le);
    ck_assert_uint_eq(le.steps_per_quarter, 12);
    ck_assert_uint_eq(le.max_duration_steps, 48);
    mrnn_vocab_free(l);

    size_t len;
    uint8_t *good = slurp(path, &len);
    uint8_t *bad = malloc(len);
    /* Every truncation. */
    for (size_t cut = 0; cut < len; cut++) {
        spit(path, good, cut);
        expect_load_fails(path, MRNN_ERR_FORMAT);
    }
    /* Every single bit flip is caught (magic or checksum), the version field's too: the checksum is
     * checked before the version (fileio.h). */
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(bad, good, len);
            bad[i] ^= (uint8_t)(1u << bit);
            spit(path, bad, len);
            expect_load_fails(path, MRNN_ERR_FORMAT);
        }
    }
    memcpy(bad, good, len);
    memcpy(bad, "MRNNCORP", 8);
    spit(path, bad, len);
    expect_load_fails(path, MRNN_ERR_FORMAT);
    ck_assert(HAS_ERROR("magic"));
    /* A newer format version with a stale checksum is corruption; test_corruptions (below) checks
     * it with a valid one. */
    memcpy(bad, good, len);
    bad[8] = 3; /* this library reads formats 1 and 2 */
    spit(path, bad, len);
    expect_load_fails(path, MRNN_ERR_FORMAT);
    /* Trailing garbage with a valid checksum is still refused. */
    uint8_t *longer = malloc(len + 4);
    memcpy(longer, good, len - 4);
    memset(longer + len - 4, 0, 4);
    uint32_t crc = mrnn__crc32(0, longer, len);
    for (int i = 0; i < 4; i++) longer[len + (size_t)i] = (uint8_t)(crc >> (8 * i));
    spit(path, longer, len + 4);
    expect_load_fails(path, MRNN_ERR_FORMAT);
    free(longer);
    /* The good bytes still load. */
    spit(path, good, len);
    ck_assert_int_eq(mrnn_vocab_load(&l, path), MRNN_OK);
    mrnn_vocab_free(l);
    free(good);
    free(bad);
    remove_tmp(path);
    snprintf(path, sizeof path, "%s/missing.mrv", tmpdir);
    expect_load_fails(path, MRNN_ERR_IO);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(test_save_load_fixed)
{
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/p.mrv", tmpdir);
    for (uint32_t enc = MRNN_ENCODING_PERFORMANCE; enc <= MRNN_ENCODING_PIANOROLL; enc++) {
        mrnn_vocab *v = make_vocab(enc), *l = NULL;
        ck_assert_int_eq(mrnn_vocab_save(v, path), MRNN_OK);
        ck_assert_int_eq(mrnn_vocab_load(&l, path), MRNN_OK);
        ck_assert(mrnn__vocab_equal(v, l));
        uint32_t id;
        ck_assert_int_eq(mrnn_vocab_token_id(l, enc == MRNN_ENCODING_PIANOROLL ? "C8" : "VELOCITY_31", &id), MRNN_OK);
        ck_assert_uint_eq(id, enc == MRNN_ENCODING_PIANOROLL ? 87 : 387);
        mrnn_vocab_free(l);
        mrnn_vocab_free(v);
    }
    remove_tmp(path);
}
END_TEST

START_TEST(test_parse_format_events)
{
    mrnn_vocab *v = make_vocab(MRNN_ENCODING_PERFORMANCE);
    uint32_t ids[8];
    size_t n = 0;
    ck_assert_int_eq(mrnn_vocab_parse(v, "  VELOCITY_20\tNOTE_ON_60\nTIME_SHIFT_25 NOTE_OFF_60 ", ids, 8, &n), MRNN_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(ids[0], 376);
    ck_assert_uint_eq(ids[1], 60);
    ck_assert_uint_eq(ids[2], 280);
    ck_assert_uint_eq(ids[3], 188);
    /* Asking for the length. */
    ck_assert_int_eq(mrnn_vocab_parse(v, "NOTE_ON_1 NOTE_ON_2 NOTE_ON_3", NULL, 0, &n), MRNN_ERR_LIMIT);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(mrnn_vocab_parse(v, "NOTE_ON_1 NOTE_ON_2 NOTE_ON_3", ids, 2, &n), MRNN_ERR_LIMIT);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(mrnn_vocab_parse(v, "", ids, 0, &n), MRNN_OK);
    ck_assert_uint_eq(n, 0);
    /* Unknown words are named with their position. */
    ck_assert_int_eq(mrnn_vocab_parse(v, "NOTE_ON_1 NOTE_ON_2 NOTE_ON_999 NOTE_ON_3", ids, 8, &n), MRNN_ERR_UNKNOWN_TOKEN);
    ck_assert(HAS_ERROR("'NOTE_ON_999'"));
    ck_assert(HAS_ERROR("word 3"));
    ck_assert(HAS_ERROR("offset 20"));

    char buf[64];
    size_t need = 0;
    uint32_t out[3] = {376, 60, 280};
    ck_assert_int_eq(mrnn_vocab_format(v, out, 3, buf, sizeof buf, &need), MRNN_OK);
    ck_assert_str_eq(buf, "VELOCITY_20 NOTE_ON_60 TIME_SHIFT_25");
    ck_assert_uint_eq(need, strlen(buf) + 1);
    size_t full = need;
    ck_assert_int_eq(mrnn_vocab_format(v, out, 3, buf, 10, &need), MRNN_ERR_LIMIT);
    ck_assert_uint_eq(need, full);
    ck_assert_str_eq(buf, "VELOCITY_");
    ck_assert_int_eq(mrnn_vocab_format(v, out, 3, buf, full - 1, &need), MRNN_ERR_LIMIT);
    ck_assert_int_eq(mrnn_vocab_format(v, out, 3, buf, full, &need), MRNN_OK);
    ck_assert_int_eq(mrnn_vocab_format(v, out, 3, NULL, 0, &need), MRNN_ERR_LIMIT);
    ck_assert_uint_eq(need, full);
    ck_assert_int_eq(mrnn_vocab_format(v, out, 0, buf, 1, &need), MRNN_OK);
    ck_assert_str_eq(buf, "");
    uint32_t bad[2] = {1, 388};
    ck_assert_int_eq(mrnn_vocab_format(v, bad, 2, buf, sizeof buf, &need), MRNN_ERR_INVALID_ARG);
    bad[1] = MRNN_FRAME_END;
    ck_assert_int_eq(mrnn_vocab_format(v, bad, 2, buf, sizeof buf, &need), MRNN_ERR_INVALID_ARG);
    mrnn_vocab_free(v);

    /* Notechord: words must be existing token texts. */
    v = make_vocab(MRNN_ENCODING_NOTECHORD);
    uint32_t id;
    mrnn__vocab_intern(v, "C4.E4.G4:q", &id, NULL);
    mrnn__vocab_intern(v, "W:q", &id, NULL);
    ck_assert_int_eq(mrnn_vocab_parse(v, "C4.E4.G4:q W:q <unk>", ids, 8, &n), MRNN_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(ids[0], 1);
    ck_assert_uint_eq(ids[1], 2);
    ck_assert_uint_eq(ids[2], 0);
    ck_assert_int_eq(mrnn_vocab_parse(v, "W:q G4:e", ids, 8, &n), MRNN_ERR_UNKNOWN_TOKEN);
    ck_assert(HAS_ERROR("'G4:e'"));
    ck_assert(HAS_ERROR("word 2"));
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(test_parse_format_frames)
{
    mrnn_vocab *v = make_vocab(MRNN_ENCODING_PIANOROLL);
    uint32_t ids[200];
    size_t n = 0;
    ck_assert_int_eq(mrnn_vocab_parse(v, "G4.E4.C4 _ Db4 A0.C8.A0", ids, 200, &n), MRNN_OK);
    uint32_t want[] = {39, 43, 46, MRNN_FRAME_END, MRNN_FRAME_END, 40, MRNN_FRAME_END, 0, 87, MRNN_FRAME_END};
    ck_assert_uint_eq(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++) ck_assert_uint_eq(ids[i], want[i]);
    char buf[64];
    size_t need;
    ck_assert_int_eq(mrnn_vocab_format(v, ids, n, buf, sizeof buf, &need), MRNN_OK);
    ck_assert_str_eq(buf, "C4.E4.G4 _ C#4 A0.C8");
    ck_assert_uint_eq(need, strlen(buf) + 1);
    /* A last frame without its end marker is still written. */
    ck_assert_int_eq(mrnn_vocab_format(v, ids, 2, buf, sizeof buf, &need), MRNN_OK);
    ck_assert_str_eq(buf, "C4.E4");
    ck_assert_int_eq(mrnn_vocab_parse(v, "C4.E4", ids, 2, &n), MRNN_ERR_LIMIT);
    ck_assert_uint_eq(n, 3);
    const char *bad[] = {"C4.", ".C4", "C4..E4", "G#0", "C#8", "H4", "c4", "C4.X", "__", "C44"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "_ %s", bad[i]);
        ck_assert_int_eq(mrnn_vocab_parse(v, text, ids, 200, &n), MRNN_ERR_UNKNOWN_TOKEN);
        ck_assert_msg(HAS_ERROR(bad[i]), "%s: %s", bad[i], mrnn_last_error());
        ck_assert(HAS_ERROR("word 2"));
    }
    /* All 88 keys in one frame. */
    char all[88 * 5];
    size_t len = 0;
    for (int k = 0; k < 88; k++) {
        char name[8];
        mrnn__pitch_name(21 + k, name, sizeof name);
        len += (size_t)snprintf(all + len, sizeof all - len, "%s%s", k ? "." : "", name);
    }
    ck_assert_int_eq(mrnn_vocab_parse(v, all, ids, 200, &n), MRNN_OK);
    ck_assert_uint_eq(n, 89);
    for (uint32_t k = 0; k < 88; k++) ck_assert_uint_eq(ids[k], k);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(test_null_arguments)
{
    mrnn_vocab *v = make_vocab(MRNN_ENCODING_PERFORMANCE);
    uint32_t id, ids[2];
    size_t n;
    char buf[8];
    ck_assert_int_eq(mrnn_vocab_create(NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_vocab_token_id(NULL, "NOTE_ON_1", &id), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_vocab_token_id(v, NULL, &id), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_vocab_token_id(v, "NOTE_ON_1", NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_vocab_parse(NULL, "x", ids, 2, &n), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_vocab_parse(v, NULL, ids, 2, &n), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_vocab_parse(v, "NOTE_ON_1", NULL, 2, &n), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_vocab_format(NULL, ids, 1, buf, 8, &n), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_vocab_format(v, NULL, 1, buf, 8, &n), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_vocab_format(v, ids, 0, NULL, 8, &n), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_vocab_save(NULL, "/tmp/x"), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_vocab_save(v, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_vocab_load(NULL, "/tmp/x"), MRNN_ERR_INVALID_ARG);
    mrnn_vocab *l = (mrnn_vocab *)1;
    ck_assert_int_eq(mrnn_vocab_load(&l, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(l);
    ck_assert_int_eq(mrnn_vocab_get_encoding_params(NULL, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_int_eq(mrnn_vocab_get_encoding_params(v, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert_uint_eq(mrnn_vocab_size(NULL), 0);
    ck_assert_ptr_null(mrnn_vocab_token_text(NULL, 0));
    mrnn_vocab_free(NULL);
    mrnn_vocab_free(v);
}
END_TEST

static mrnn_status load_vocab(const char *path)
{
    mrnn_vocab *v = NULL;
    mrnn_status st = mrnn_vocab_load(&v, path);
    mrnn_vocab_free(v);
    return st;
}

/* The classification every library file shares (test_util.h), on a vocabulary file. */
START_TEST(test_file_corruptions)
{
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, NULL), MRNN_OK);
    uint32_t id;
    ck_assert_int_eq(mrnn__vocab_intern(v, "C4:q", &id, NULL), MRNN_OK);
    char *dir = test_tmpdir();
    char path[4200];
    TEST_PATH(path, "%s/v.mrv", dir);
    ck_assert_int_eq(mrnn_vocab_save(v, path), MRNN_OK);
    test_corruptions(path, load_vocab);
    unlink(path);
    test_rmdir(dir);
    mrnn_vocab_free(v);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("vocab");
    TCase *tc = tcase_create("vocab");
    tcase_add_test(tc, test_params_defaults_and_version);
    tcase_add_test(tc, test_params_range_checks_name_field);
    tcase_add_test(tc, test_performance_table);
    tcase_add_test(tc, test_pianoroll_table);
    tcase_add_test(tc, test_notechord_intern_order_and_freeze);
    tcase_add_test(tc, test_clone_equal_embedded);
    tcase_add_test(tc, test_save_load_and_corruption);
    tcase_add_test(tc, test_save_load_fixed);
    tcase_add_test(tc, test_file_corruptions);
    tcase_add_test(tc, test_parse_format_events);
    tcase_add_test(tc, test_parse_format_frames);
    tcase_add_test(tc, test_null_arguments);
    suite_add_tcase(s, tc);
    return s;
}

MRNN_TEST_MAIN(make_suite)
