/* Corpus: reading folders of real MIDI files in every encoding, the JSB benchmark frames, splits,
 * augmentation, style labels, reports of bad files, and the corpus file format. */
#include <malloc.h>
#include <math.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "corpus.h"
#include "dir_walk.h"
#include "encoding.h"
#include "midi.h"
#include "piece.h"
#include "test_main.h"
#include "test_util.h"

static mrnn_status map_corpus(const char *path);

#define OPENMSX_FILES 31

/* The default corpus is a Debian package the test command installs: its absence is a failure. */
static mrnn_corpus *read_dir(const char *dir, uint32_t encoding, uint32_t spq, const mrnn_corpus_params *cp)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = encoding;
    enc.steps_per_quarter = spq;
    mrnn_corpus *c = NULL;
    ck_assert_int_eq(mrnn_corpus_create(&c, &enc, cp), MRNN_OK);
    ck_assert_msg(mrnn_corpus_add_dir(c, dir) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_int_eq(mrnn_corpus_finish(c), MRNN_OK);
    return c;
}

/* ---- JSB chorales: the published frames, exactly --------------------------------------------- */

/* A minimal reader for {"split": [[[pitch, ...], ...], ...], ...}: returns, for `split`, the
 * pieces' frames as flat pitch lists with -1 closing each frame and -2 closing each piece. */
static int *json_split(const char *json, const char *split, size_t *n_out)
{
    char key[32];
    TEST_PATH(key, "\"%s\"", split);
    const char *p = strstr(json, key);
    ck_assert_ptr_nonnull(p);
    p = strchr(p, '[');
    size_t cap = 1 << 20, n = 0;
    int *out = malloc(cap * sizeof *out);
    int depth = 0;
    do {
        if (n + 2 >= cap) out = realloc(out, (cap *= 2) * sizeof *out);
        if (*p == '[') depth++;
        else if (*p == ']') {
            if (depth == 3) out[n++] = -1;
            if (depth == 2) out[n++] = -2;
            depth--;
        } else if (*p >= '0' && *p <= '9') {
            out[n++] = (int)strtol(p, (char **)&p, 10);
            continue;
        }
        p++;
    } while (depth > 0);
    *n_out = n;
    return out;
}

/* The folder walk has no recursion and holds one descriptor at a time: a tree 600 folders deep
 * (deeper than the old recursive walk went) and a folder of 100 000 entries are listed completely,
 * in sorted order, and no descriptor is left open. */
static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

START_TEST(folder_walk_is_deep_wide_and_closes_folders)
{
    char *dir = test_tmpdir();
    char path[8192];
    size_t len = (size_t)snprintf(path, sizeof path, "%s", dir);
    for (int depth = 0; depth < 600; depth++) {
        len += (size_t)snprintf(path + len, sizeof path - len, "/d");
        ck_assert_int_eq(mkdir(path, 0700), 0);
    }
    snprintf(path + len, sizeof path - len, "/bottom.mid");
    test_write(path, "x", 1);
    char wide[4200];
    TEST_PATH(wide, "%s/wide", dir);
    ck_assert_int_eq(mkdir(wide, 0700), 0);
    enum { N_WIDE = 100000 };
    for (int i = 0; i < N_WIDE; i++) {
        char f[4300];
        /* every tenth entry is a MIDI name; the rest must be passed over */
        TEST_PATH(f, "%s/%06d.%s", wide, i, i % 10 ? "txt" : "mid");
        FILE *fp = fopen(f, "w");
        ck_assert_ptr_nonnull(fp);
        fclose(fp);
    }
    int fds = open_fds();
    mrnn__path_list l = {0};
    ck_assert_msg(mrnn__dir_walk(dir, &l) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_int_eq(open_fds(), fds);
    ck_assert_uint_eq(l.n, 1 + N_WIDE / 10);
    ck_assert_str_eq(l.rel[N_WIDE / 10], "wide/099990.mid");
    for (size_t i = 1; i + 1 < l.n; i++) ck_assert_int_lt(strcmp(l.rel[i - 1], l.rel[i]), 0);
    ck_assert_uint_eq(strlen(l.rel[0]), 600 * 2 + strlen("bottom.mid")); /* "d/d/.../bottom.mid" sorts first */
    mrnn__path_list_free(&l);

    /* A folder that cannot be listed is named in the error. */
    TEST_PATH(path, "%s/nope", dir);
    ck_assert_int_eq(mrnn__dir_walk(path, &l), MRNN_ERR_IO);
    ck_assert(strstr(mrnn_last_error(), "nope") != NULL);
    ck_assert_int_eq(open_fds(), fds);
    test_rmdir(dir);
}
END_TEST

/* A corpus bigger than the address space the process may use (setrlimit RLIMIT_AS, as `ulimit -v`
 * sets it) cannot be loaded, but can be mapped and trained on: the loader needs the file and the
 * token array in memory (twice the tokens), the mapped corpus a mapping of the tokens alone.
 * In a child process, so that the cap does not outlive the test; not under ASan or valgrind, whose
 * shadow memory needs far more address space than any cap here. */
START_TEST(out_of_core_corpus_trains_under_an_address_space_cap)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return;
#endif
    if (getenv("MRNN_UNDER_VALGRIND")) return;
    enum { PIECE = 1 << 20, PIECES = 32 }; /* 32 Mi tokens: a 128 MiB file */
    char *dir = test_tmpdir();
    char path[4200];
    TEST_PATH(path, "%s/big.mrc", dir);
    {
        mrnn_encoding_params enc;
        mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
        enc.encoding = MRNN_ENCODING_PERFORMANCE;
        mrnn_corpus_params cp;
        mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
        mrnn_corpus *c = NULL;
        ck_assert_int_eq(mrnn_corpus_create(&c, &enc, &cp), MRNN_OK);
        c->files = calloc(1, sizeof *c->files);
        c->files[0].path = strdup("synthetic");
        c->files[0].reason = strdup("");
        c->n_files = c->cap_files = 1;
        uint32_t *ids = malloc((size_t)PIECE * sizeof *ids);
        ck_assert_ptr_nonnull(ids);
        for (int p = 0; p < PIECES; p++) {
            for (size_t i = 0; i < PIECE; i++) ids[i] = (uint32_t)((i * 7 + (size_t)p) % 388);
            mrnn__corpus_piece meta = {0};
            meta.n_steps = PIECE;
            meta.split = MRNN_SPLIT_TRAIN;
            meta.style = -1;
            ck_assert_int_eq(mrnn__corpus_append_piece(c, &meta, ids, PIECE), MRNN_OK);
        }
        free(ids);
        ck_assert_msg(mrnn_corpus_save(c, path) == MRNN_OK, "%s", mrnn_last_error());
        mrnn_corpus_free(c);
    }
    const long file_kb = (long)PIECE * PIECES * 4 / 1024;
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* One malloc arena: a new one reserves 128 MiB of address space at once (glibc). */
        mallopt(M_ARENA_MAX, 1);
        /* OpenBLAS allocates its work buffers (128 MiB each here) on first use and retries for ever
         * when that fails. A real program has them from earlier work: a step on a tiny corpus first. */
        mrnn_train_params tp;
        mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION);
        tp.max_steps = 1;
        tp.seq_len = 16;
        tp.batch_size = 4;
        tp.threads = 1;
        tp.valid_every = 0;
        mrnn_model_params mp;
        mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
        mp.embed_size = 8;
        mp.hidden_size = 16;
        mp.num_layers = 1;
        {
            mrnn_corpus *small = test_small_corpus(MRNN_ENCODING_PERFORMANCE, 0);
            mrnn_model *m = NULL;
            if (mrnn_model_create(&m, mrnn_corpus_vocab(small), NULL, 0, &mp) != MRNN_OK ||
                mrnn_model_train(m, small, &tp, NULL, NULL) != MRNN_OK)
                _exit(9);
            mrnn_model_free(m);
            mrnn_corpus_free(small);
        }
        /* Room for the mapping and 50 % more, not for the loader's two copies. */
        long cap_kb = test_vm_size_kb() + file_kb * 3 / 2;
        struct rlimit rl = {(rlim_t)cap_kb * 1024, (rlim_t)cap_kb * 1024};
        if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(10);
        mrnn_corpus *c = NULL;
        if (mrnn_corpus_load(&c, path) != MRNN_ERR_NOMEM) _exit(11); /* the cap bites the loader */
        if (mrnn_corpus_map(&c, path) != MRNN_OK) _exit(12);
        if (mrnn_corpus_piece_count(c) != PIECES) _exit(13);
        mrnn_model *m = NULL;
        if (mrnn_model_create(&m, mrnn_corpus_vocab(c), NULL, 0, &mp) != MRNN_OK) _exit(14);
        tp.max_steps = 3;
        if (mrnn_model_train(m, c, &tp, NULL, NULL) != MRNN_OK) _exit(15);
        mrnn_model_free(m);
        mrnn_corpus_free(c);
        _exit(0);
    }
    /* A child stuck in an allocation loop (OpenBLAS retries failed allocations for ever) fails the
     * test after a minute instead of hanging it. */
    int status = 0;
    pid_t done = 0;
    for (int tick = 0; tick < 1200 && (done = waitpid(pid, &status, WNOHANG)) == 0; tick++) usleep(50000);
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        ck_abort_msg("the child under the address-space cap did not finish in 60 s");
    }
    ck_assert_int_eq(done, pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed at check %d",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    test_rmdir(dir);
}
END_TEST

START_TEST(jsb_pianoroll_frames_match_the_benchmark)
{
    const char *shared = mrnn_test_shared_data();
    if (!shared) { /* ../shared is not part of every checkout */
        fprintf(stderr, "jsb: ../shared/data is absent, benchmark frames not checked\n");
        return;
    }
    char dir[4096], json_path[4096];
    TEST_PATH(dir, "%s/jsb-chorales", shared);
    TEST_PATH(json_path, "%s/jsb-chorales-quarter.json", dir);
    mrnn_corpus_params cp;
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    cp.style_from_folder = 0; /* train/valid/test are splits, not styles */
    mrnn_corpus *c = read_dir(dir, MRNN_ENCODING_PIANOROLL, 1, &cp);
    mrnn_corpus_stats s;
    ck_assert_int_eq(mrnn_corpus_get_stats(c, &s), MRNN_OK);
    ck_assert_uint_eq(s.n_skipped, 0);
    ck_assert_uint_eq(s.n_pieces[MRNN_SPLIT_TRAIN], 229);
    ck_assert_uint_eq(s.n_pieces[MRNN_SPLIT_VALID], 76);
    ck_assert_uint_eq(s.n_pieces[MRNN_SPLIT_TEST], 77);
    ck_assert_uint_eq(s.n_steps[MRNN_SPLIT_TRAIN], 13807);
    ck_assert_uint_eq(s.n_steps[MRNN_SPLIT_VALID], 4602);
    ck_assert_uint_eq(s.n_steps[MRNN_SPLIT_TEST], 4725);

    size_t json_len;
    char *json = (char *)test_read(json_path, &json_len);
    json = realloc(json, json_len + 1);
    json[json_len] = 0;
    static const char *names[] = {"train", "valid", "test"};
    for (uint32_t split = 0; split < 3; split++) {
        size_t n_ref, r = 0;
        int *ref = json_split(json, names[split], &n_ref);
        uint32_t piece_in_split = 0;
        for (uint32_t i = 0; i < mrnn_corpus_piece_count(c); i++) {
            const uint32_t *ids;
            size_t n;
            uint32_t sp;
            ck_assert_int_eq(mrnn_corpus_piece_tokens(c, i, &ids, &n, &sp, NULL), MRNN_OK);
            if (sp != split) continue;
            /* Same frames, same keys, in file order = JSON order. */
            for (size_t k = 0; k < n; k++, r++) {
                ck_assert_uint_lt(r, n_ref);
                int want = ref[r] >= 0 ? ref[r] - 21 : -1;
                int got = ids[k] == MRNN_FRAME_END ? -1 : (int)ids[k];
                ck_assert_msg(want == got, "%s piece %u: id %zu is %d, the benchmark has %d", names[split],
                              piece_in_split, k, got, want);
            }
            ck_assert_int_eq(ref[r++], -2); /* the piece ends where the benchmark's does */
            piece_in_split++;
        }
        ck_assert_uint_eq(r, n_ref);
        free(ref);
    }
    free(json);
    mrnn_corpus_free(c);
}
END_TEST

/* ---- the default corpus in every encoding ----------------------------------------------------- */

/* Tokens -> MIDI file -> tokens again with the same (frozen) vocabulary gives the same tokens. */
static void check_midi_round_trip(mrnn_corpus *c, const char *tmp, uint32_t max_pieces)
{
    const mrnn_vocab *v = mrnn_corpus_vocab(c);
    uint32_t checked = 0;
    for (uint32_t i = 0; i < mrnn_corpus_piece_count(c) && checked < max_pieces; i++) {
        const uint32_t *ids;
        size_t n;
        int32_t transpose;
        ck_assert_int_eq(mrnn_corpus_piece_tokens(c, i, &ids, &n, NULL, &transpose), MRNN_OK);
        if (transpose != 0) continue;
        char path[4200];
        TEST_PATH(path, "%s/piece%u.mid", tmp, i);
        ck_assert_msg(mrnn_tokens_write_midi(v, ids, n, path, 120.0, 0) == MRNN_OK, "%s", mrnn_last_error());
        mrnn_corpus_params cp;
        mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
        cp.valid_fraction = 0;
        mrnn_corpus *again = NULL;
        ck_assert_int_eq(mrnn_corpus_create_with_vocab(&again, v, &cp), MRNN_OK);
        ck_assert_msg(mrnn_corpus_add_file(again, path, NULL) == MRNN_OK, "%s", mrnn_last_error());
        ck_assert_int_eq(mrnn_corpus_finish(again), MRNN_OK);
        const uint32_t *ids2;
        size_t n2;
        ck_assert_int_eq(mrnn_corpus_piece_tokens(again, 0, &ids2, &n2, NULL, NULL), MRNN_OK);
        size_t same = 0;
        while (same < n && same < n2 && ids[same] == ids2[same]) same++;
        ck_assert_msg(same == n && n2 == n, "piece %u: %zu tokens, %zu after the MIDI round trip, first difference at %zu",
                      i, n, n2, same);
        mrnn_corpus_free(again);
        checked++;
    }
    ck_assert_uint_gt(checked, 0);
}

static void default_corpus_in(uint32_t encoding, uint32_t spq)
{
    const char *dir = test_default_corpus();
    mrnn_corpus *c = read_dir(dir, encoding, spq, NULL);
    mrnn_corpus_stats s;
    mrnn_corpus_get_stats(c, &s);
    ck_assert_uint_eq(s.n_files, OPENMSX_FILES);
    for (uint32_t i = 0; i < s.n_files; i++) {
        mrnn_file_report r;
        ck_assert_int_eq(mrnn_corpus_get_file_report(c, i, &r), MRNN_OK);
        ck_assert_msg(r.status == MRNN_OK, "%s skipped: %s", r.path, r.reason);
        ck_assert_uint_gt(r.n_notes, 0);
    }
    ck_assert_uint_gt(s.n_pieces[MRNN_SPLIT_TRAIN], 0);
    ck_assert_uint_gt(s.n_pieces[MRNN_SPLIT_VALID], 0);
    ck_assert_uint_eq(s.n_pieces[MRNN_SPLIT_TRAIN] + s.n_pieces[MRNN_SPLIT_VALID], OPENMSX_FILES);
    ck_assert_uint_gt(s.n_steps[MRNN_SPLIT_TRAIN], 1000);
    char *tmp = test_tmpdir();
    check_midi_round_trip(c, tmp, 6);
    test_rmdir(tmp);
    mrnn_corpus_free(c);
}

/* The benchmark's MIDI files round-trip in every encoding too. */
START_TEST(jsb_round_trip_every_encoding)
{
    const char *shared = mrnn_test_shared_data();
    if (!shared) {
        fprintf(stderr, "jsb: ../shared/data is absent, round trips not checked\n");
        return;
    }
    char dir[4096];
    TEST_PATH(dir, "%s/jsb-chorales/valid", shared);
    static const uint32_t encodings[] = {MRNN_ENCODING_NOTECHORD, MRNN_ENCODING_PERFORMANCE, MRNN_ENCODING_PIANOROLL};
    for (int k = 0; k < 3; k++) {
        mrnn_corpus *c = read_dir(dir, encodings[k], 4, NULL);
        char *tmp = test_tmpdir();
        check_midi_round_trip(c, tmp, 8);
        test_rmdir(tmp);
        mrnn_corpus_free(c);
    }
}
END_TEST

/* With normalize_key every piece comes out in C major or A minor by the same key estimate. */
START_TEST(normalize_key_moves_pieces_to_c)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    enc.normalize_key = 1;
    mrnn_corpus *c = NULL;
    ck_assert_int_eq(mrnn_corpus_create(&c, &enc, NULL), MRNN_OK);
    ck_assert_int_eq(mrnn_corpus_add_dir(c, test_default_corpus()), MRNN_OK);
    ck_assert_int_eq(mrnn_corpus_finish(c), MRNN_OK);
    int moved = 0, in_c = 0;
    for (uint32_t i = 0; i < mrnn_corpus_piece_count(c); i++) {
        const uint32_t *ids;
        size_t n;
        mrnn_corpus_piece_tokens(c, i, &ids, &n, NULL, NULL);
        mrnn__steps steps;
        mrnn__steps_init(&steps);
        mrnn__piece p;
        mrnn__piece_init(&p);
        ck_assert_int_eq(mrnn__steps_from_flat(&steps, ids, n, 0), MRNN_OK);
        ck_assert_int_eq(mrnn__decode(mrnn_corpus_vocab(c), &steps, &p), MRNN_OK);
        int tonic, minor;
        /* Re-estimated on the encoded notes (quantised, overlaps merged): a piece whose key was a
         * near tie may flip, so most, not all, must land exactly. */
        if (mrnn__piece_key_shift(&p, &tonic, &minor) == 0) {
            ck_assert_int_eq(tonic, minor ? 9 : 0);
            in_c++;
        }
        mrnn__piece_free(&p);
        mrnn__steps_free(&steps);
    }
    ck_assert_msg(in_c >= 27, "only %d of 31 pieces are in C major / A minor", in_c);
    /* ...and without it, most of these pieces are in other keys. */
    mrnn_corpus *plain = read_dir(test_default_corpus(), MRNN_ENCODING_PERFORMANCE, 4, NULL);
    for (uint32_t i = 0; i < mrnn_corpus_piece_count(plain); i++) {
        const uint32_t *ids;
        size_t n;
        mrnn_corpus_piece_tokens(plain, i, &ids, &n, NULL, NULL);
        mrnn__steps steps;
        mrnn__steps_init(&steps);
        mrnn__piece p;
        mrnn__piece_init(&p);
        mrnn__steps_from_flat(&steps, ids, n, 0);
        mrnn__decode(mrnn_corpus_vocab(plain), &steps, &p);
        moved += mrnn__piece_key_shift(&p, NULL, NULL) != 0;
        mrnn__piece_free(&p);
        mrnn__steps_free(&steps);
    }
    ck_assert_int_gt(moved, 10);
    mrnn_corpus_free(plain);
    mrnn_corpus_free(c);
}
END_TEST

/* MRNN_KEY_TONIC_C: the tonic on C for minor pieces too (C minor, not A minor). */
START_TEST(normalize_key_tonic_c)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    enc.normalize_key = MRNN_KEY_TONIC_C;
    mrnn_corpus *c = NULL;
    ck_assert_int_eq(mrnn_corpus_create(&c, &enc, NULL), MRNN_OK);
    ck_assert_int_eq(mrnn_corpus_add_dir(c, test_default_corpus()), MRNN_OK);
    ck_assert_int_eq(mrnn_corpus_finish(c), MRNN_OK);
    int on_c = 0, minor_on_c = 0;
    uint32_t n_pieces = mrnn_corpus_piece_count(c);
    for (uint32_t i = 0; i < n_pieces; i++) {
        const uint32_t *ids;
        size_t n;
        mrnn_corpus_piece_tokens(c, i, &ids, &n, NULL, NULL);
        mrnn__steps steps;
        mrnn__steps_init(&steps);
        mrnn__piece p;
        mrnn__piece_init(&p);
        ck_assert_int_eq(mrnn__steps_from_flat(&steps, ids, n, 0), MRNN_OK);
        ck_assert_int_eq(mrnn__decode(mrnn_corpus_vocab(c), &steps, &p), MRNN_OK);
        int tonic, minor;
        mrnn__piece_key_shift(&p, &tonic, &minor);
        /* re-estimated on the encoded notes: near ties may flip, so most, not all */
        on_c += tonic == 0;
        minor_on_c += tonic == 0 && minor;
        ck_assert_int_eq(mrnn__piece_normalize_shift(&p, MRNN_KEY_TONIC_C) == 0, tonic == 0);
        ck_assert_int_eq(mrnn__piece_normalize_shift(&p, MRNN_KEY_AS_WRITTEN), 0);
        mrnn__piece_free(&p);
        mrnn__steps_free(&steps);
    }
    ck_assert_msg(on_c >= (int)n_pieces - 4, "only %d of %u pieces have their tonic on C", on_c, n_pieces);
    ck_assert_int_gt(minor_on_c, 0); /* minor pieces went to C minor, not A minor */
    /* A mode this library does not know is refused, naming the field. */
    enc.normalize_key = 3;
    mrnn_corpus *bad = NULL;
    ck_assert_int_eq(mrnn_corpus_create(&bad, &enc, NULL), MRNN_ERR_INVALID_ARG);
    ck_assert(strstr(mrnn_last_error(), "normalize_key") != NULL);
    mrnn_corpus_free(c);
}
END_TEST

START_TEST(default_corpus_notechord) { default_corpus_in(MRNN_ENCODING_NOTECHORD, 4); }
END_TEST
START_TEST(default_corpus_performance) { default_corpus_in(MRNN_ENCODING_PERFORMANCE, 4); }
END_TEST
START_TEST(default_corpus_pianoroll) { default_corpus_in(MRNN_ENCODING_PIANOROLL, 4); }
END_TEST

/* ---- splits, augmentation, styles ------------------------------------------------------------- */

static void copy_file(const char *from, const char *to)
{
    size_t n;
    uint8_t *d = test_read(from, &n);
    test_write(to, d, n);
    free(d);
}

/* A folder tree with two style folders holding copies of default-corpus files. */
static char *make_style_tree(void)
{
    const char *dir = test_default_corpus();
    char *tmp = test_tmpdir();
    static const char *files[] = {"5432gone_redfarn.mid", "be_sharp_bw_redfarn.mid", "boogi_marabi_redfarn.mid"};
    char a[4200], b[4200];
    TEST_PATH(a, "%s/jazz", tmp);
    TEST_PATH(b, "%s/blues", tmp);
    ck_assert_int_eq(mkdir(a, 0755), 0);
    ck_assert_int_eq(mkdir(b, 0755), 0);
    for (int i = 0; i < 3; i++) {
        char from[4200], to[4200];
        TEST_PATH(from, "%s/%s", dir, files[i]);
        TEST_PATH(to, "%s/%s", i < 2 ? a : b, files[i]);
        copy_file(from, to);
    }
    return tmp;
}

START_TEST(styles_come_from_folders)
{
    char *tmp = make_style_tree();
    mrnn_corpus *c = read_dir(tmp, MRNN_ENCODING_NOTECHORD, 4, NULL);
    ck_assert_uint_eq(mrnn_corpus_style_count(c), 2);
    const char *s0 = mrnn_corpus_style_name(c, 0), *s1 = mrnn_corpus_style_name(c, 1);
    ck_assert(strcmp(s0, "blues") == 0 || strcmp(s1, "blues") == 0);
    ck_assert(strcmp(s0, "jazz") == 0 || strcmp(s1, "jazz") == 0);
    ck_assert_ptr_null(mrnn_corpus_style_name(c, 2));
    mrnn_corpus_free(c);
    test_rmdir(tmp);
}
END_TEST

START_TEST(transposition_multiplies_training_pieces_only)
{
    mrnn_corpus_params cp;
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    mrnn_corpus *plain = read_dir(test_default_corpus(), MRNN_ENCODING_PERFORMANCE, 4, &cp);
    cp.transpose_range = 2;
    mrnn_corpus *aug = read_dir(test_default_corpus(), MRNN_ENCODING_PERFORMANCE, 4, &cp);
    mrnn_corpus_stats a, b;
    mrnn_corpus_get_stats(plain, &a);
    mrnn_corpus_get_stats(aug, &b);
    ck_assert_uint_eq(b.n_pieces[MRNN_SPLIT_TRAIN], 5 * a.n_pieces[MRNN_SPLIT_TRAIN]);
    ck_assert_uint_eq(b.n_pieces[MRNN_SPLIT_VALID], a.n_pieces[MRNN_SPLIT_VALID]);
    /* Each shift appears once per training file, and a +1 copy raises every NOTE_ON by one. */
    int seen[5] = {0};
    for (uint32_t i = 0; i < mrnn_corpus_piece_count(aug); i++) {
        uint32_t split;
        int32_t t;
        const uint32_t *ids;
        size_t n;
        mrnn_corpus_piece_tokens(aug, i, &ids, &n, &split, &t);
        ck_assert_int_le(abs(t), 2);
        if (split == MRNN_SPLIT_TRAIN) seen[t + 2]++;
        else ck_assert_int_eq(t, 0);
    }
    for (int k = 0; k < 5; k++) ck_assert_int_eq(seen[k], (int)a.n_pieces[MRNN_SPLIT_TRAIN]);
    mrnn_corpus_free(plain);
    mrnn_corpus_free(aug);
}
END_TEST

START_TEST(split_is_deterministic_and_follows_fractions)
{
    mrnn_corpus_params cp;
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    cp.valid_fraction = 0.3;
    cp.test_fraction = 0.2;
    mrnn_corpus *c1 = read_dir(test_default_corpus(), MRNN_ENCODING_PERFORMANCE, 4, &cp);
    mrnn_corpus *c2 = read_dir(test_default_corpus(), MRNN_ENCODING_PERFORMANCE, 4, &cp);
    mrnn_corpus_stats s;
    mrnn_corpus_get_stats(c1, &s);
    ck_assert_uint_gt(s.n_pieces[MRNN_SPLIT_VALID], 3);
    ck_assert_uint_gt(s.n_pieces[MRNN_SPLIT_TEST], 1);
    ck_assert_uint_gt(s.n_pieces[MRNN_SPLIT_TRAIN], 8);
    for (uint32_t i = 0; i < mrnn_corpus_file_count(c1); i++) {
        mrnn_file_report r1, r2;
        mrnn_corpus_get_file_report(c1, i, &r1);
        mrnn_corpus_get_file_report(c2, i, &r2);
        ck_assert_str_eq(r1.path, r2.path);
        ck_assert_uint_eq(r1.split, r2.split);
    }
    mrnn_corpus_free(c1);
    mrnn_corpus_free(c2);
}
END_TEST

/* ---- bad files are reported, not fatal -------------------------------------------------------- */

START_TEST(bad_files_are_skipped_with_reasons)
{
    char *tmp = test_tmpdir();
    char path[4200], from[4200];
    TEST_PATH(from, "%s/5432gone_redfarn.mid", test_default_corpus());
    TEST_PATH(path, "%s/good.mid", tmp);
    copy_file(from, path);
    size_t n;
    uint8_t *d = test_read(from, &n);
    TEST_PATH(path, "%s/truncated.mid", tmp);
    test_write(path, d, n / 2);
    TEST_PATH(path, "%s/empty.mid", tmp);
    test_write(path, d, 0);
    TEST_PATH(path, "%s/text.mid", tmp);
    test_write(path, "this is not a MIDI file at all\n", 31);
    TEST_PATH(path, "%s/notes.txt", tmp); /* not .mid: never offered */
    test_write(path, "x", 1);
    free(d);

    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    mrnn_corpus *c = NULL;
    ck_assert_int_eq(mrnn_corpus_create(&c, &enc, NULL), MRNN_OK);
    ck_assert_int_eq(mrnn_corpus_add_dir(c, tmp), MRNN_OK);
    ck_assert_uint_eq(mrnn_corpus_file_count(c), 4);
    int good = 0, bad = 0;
    for (uint32_t i = 0; i < 4; i++) {
        mrnn_file_report r;
        mrnn_corpus_get_file_report(c, i, &r);
        if (strstr(r.path, "good.mid")) {
            ck_assert_int_eq(r.status, MRNN_OK);
            good++;
        } else {
            ck_assert_msg(r.status == MRNN_ERR_MIDI, "%s: status %d (%s)", r.path, r.status, r.reason);
            ck_assert_uint_gt(strlen(r.reason), 5);
            bad++;
        }
    }
    ck_assert_int_eq(good, 1);
    ck_assert_int_eq(bad, 3);
    /* A single bad file offered directly fails with the file named. */
    TEST_PATH(path, "%s/truncated.mid", tmp);
    ck_assert_int_eq(mrnn_corpus_add_file(c, path, NULL), MRNN_ERR_MIDI);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "truncated.mid"));
    TEST_PATH(path, "%s/missing.mid", tmp);
    ck_assert_int_eq(mrnn_corpus_add_file(c, path, NULL), MRNN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "missing.mid"));
    ck_assert_int_eq(mrnn_corpus_add_file(c, tmp, NULL), MRNN_ERR_IO); /* a folder is not a file */
    mrnn_corpus_free(c);
    test_rmdir(tmp);
}
END_TEST

/* ---- the corpus file -------------------------------------------------------------------------- */

static mrnn_status load_corpus(const char *path)
{
    mrnn_corpus *c = NULL;
    mrnn_status st = mrnn_corpus_load(&c, path);
    ck_assert(st == MRNN_OK || c == NULL);
    mrnn_corpus_free(c);
    return st;
}

static mrnn_status map_corpus(const char *path)
{
    mrnn_corpus *c = NULL;
    mrnn_status st = mrnn_corpus_map(&c, path);
    ck_assert(st == MRNN_OK || c == NULL);
    mrnn_corpus_free(c);
    return st;
}

/* Damage a checksum cannot catch: a file written so, with a valid checksum, that declares a layout
 * its bytes do not have (format 3: the padding before the tokens, the token count at the end). */
static void refuses_inconsistent_layout(const char *good)
{
    size_t len;
    uint8_t *data = test_read(good, &len);
    ck_assert_uint_eq(data[8], 3);
    char bad[4200];
    TEST_PATH(bad, "%s.layout", good);
    struct {
        size_t at;
        int delta;
    } edits[] = {{12, 1}, {15, 0x80}, {len - 12, 1}, {len - 12, -1}, {len - 8, 1}, {len - 5, 0x80}};
    for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
        uint8_t *d = malloc(len);
        memcpy(d, data, len);
        d[edits[e].at] = (uint8_t)(d[edits[e].at] + edits[e].delta);
        uint32_t crc = test_crc32(d, len - 4);
        for (int i = 0; i < 4; i++) d[len - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
        test_write(bad, d, len);
        free(d);
        mrnn_status a = load_corpus(bad), b = map_corpus(bad);
        ck_assert_msg(a == MRNN_ERR_FORMAT && b == MRNN_ERR_FORMAT, "edit %zu: load %d, map %d", e, a, b);
        ck_assert_ptr_nonnull(strstr(mrnn_last_error(), bad));
    }
    ck_assert_int_eq(unlink(bad), 0);
    free(data);
}

START_TEST(corpus_file_round_trip_and_corruption)
{
    char *tmp = make_style_tree();
    mrnn_corpus *c = read_dir(tmp, MRNN_ENCODING_NOTECHORD, 4, NULL);
    char path[4200];
    TEST_PATH(path, "%s/songs.mrc", tmp);
    ck_assert_int_eq(mrnn_corpus_save(c, path), MRNN_OK);
    mrnn_corpus *l = NULL;
    ck_assert_int_eq(mrnn_corpus_load(&l, path), MRNN_OK);
    mrnn_corpus_stats a, b;
    mrnn_corpus_get_stats(c, &a);
    mrnn_corpus_get_stats(l, &b);
    ck_assert_mem_eq(&a, &b, sizeof a);
    ck_assert_uint_eq(mrnn_corpus_piece_count(c), mrnn_corpus_piece_count(l));
    for (uint32_t i = 0; i < mrnn_corpus_piece_count(c); i++) {
        const uint32_t *x, *y;
        size_t nx, ny;
        mrnn_corpus_piece_tokens(c, i, &x, &nx, NULL, NULL);
        mrnn_corpus_piece_tokens(l, i, &y, &ny, NULL, NULL);
        ck_assert_uint_eq(nx, ny);
        ck_assert_mem_eq(x, y, nx * sizeof *x);
    }
    const mrnn_vocab *va = mrnn_corpus_vocab(c), *vb = mrnn_corpus_vocab(l);
    ck_assert_uint_eq(mrnn_vocab_size(va), mrnn_vocab_size(vb));
    for (uint32_t i = 0; i < mrnn_vocab_size(va); i++)
        ck_assert_str_eq(mrnn_vocab_token_text(va, i), mrnn_vocab_token_text(vb, i));
    ck_assert_str_eq(mrnn_corpus_style_name(l, 1), mrnn_corpus_style_name(c, 1));
    /* A loaded corpus is finished: it takes no more files. */
    ck_assert_int_eq(mrnn_corpus_add_file(l, path, NULL), MRNN_ERR_STATE);
    test_corruptions(path, load_corpus);

    /* Out of core: the same corpus, its tokens in a mapping; the same refusals of damaged files. */
    mrnn_corpus *m = NULL;
    ck_assert_msg(mrnn_corpus_map(&m, path) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_ptr_nonnull(m->map);
    mrnn_corpus_stats_get(m, &b);
    ck_assert_mem_eq(&a, &b, sizeof a);
    for (uint32_t i = 0; i < mrnn_corpus_piece_count(c); i++) {
        const uint32_t *x, *y;
        size_t nx, ny;
        mrnn_corpus_piece_tokens(c, i, &x, &nx, NULL, NULL);
        mrnn_corpus_piece_tokens(m, i, &y, &ny, NULL, NULL);
        ck_assert_uint_eq(nx, ny);
        ck_assert_mem_eq(x, y, nx * sizeof *x);
    }
    ck_assert_int_eq(mrnn_corpus_add_file(m, path, NULL), MRNN_ERR_STATE);
    mrnn_corpus_free(m);
    test_corruptions(path, map_corpus);
    refuses_inconsistent_layout(path);
    mrnn_corpus_free(l);
    mrnn_corpus_free(c);
    test_rmdir(tmp);
}
END_TEST

/* A piece of one step gives the model nothing to learn, and the reason says so (not "no notes"). */
START_TEST(one_step_piece_is_rejected_as_too_short)
{
    char *tmp = test_tmpdir();
    char path[4200];
    TEST_PATH(path, "%s/one-note.mid", tmp);
    mrnn__piece p;
    mrnn__piece_init(&p);
    mrnn__note n = {0};
    n.start_q = 0;
    n.end_q = 1;
    n.pitch = 60;
    n.velocity = 90;
    ck_assert_int_eq(mrnn__piece_add_note(&p, &n), MRNN_OK);
    p.end_q = 1;
    mrnn__piece_update_seconds(&p);
    ck_assert_int_eq(mrnn__midi_write_file(path, &p, NULL), MRNN_OK);
    mrnn__piece_free(&p);

    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PIANOROLL;
    enc.steps_per_quarter = 1;
    mrnn_corpus *c = NULL;
    ck_assert_int_eq(mrnn_corpus_create(&c, &enc, NULL), MRNN_OK);
    ck_assert_int_eq(mrnn_corpus_add_file(c, path, NULL), MRNN_ERR_EMPTY);
    ck_assert_msg(strstr(mrnn_last_error(), "too short") && strstr(mrnn_last_error(), "one-note.mid"),
                  "%s", mrnn_last_error());
    mrnn_corpus_free(c);
    test_rmdir(tmp);
}
END_TEST

/* A file without notes is refused by every encoding, with the same status and reason (pianoroll
 * used to accept it as silent frames). */
START_TEST(piece_without_notes_is_refused_alike)
{
    char *tmp = test_tmpdir();
    char path[4200];
    TEST_PATH(path, "%s/silence.mid", tmp);
    mrnn__piece p;
    mrnn__piece_init(&p);
    p.end_q = 16;
    mrnn__piece_update_seconds(&p);
    ck_assert_int_eq(mrnn__midi_write_file(path, &p, NULL), MRNN_OK);
    mrnn__piece_free(&p);
    static const uint32_t encodings[] = {MRNN_ENCODING_NOTECHORD, MRNN_ENCODING_PERFORMANCE, MRNN_ENCODING_PIANOROLL};
    char first[1024] = "";
    for (int k = 0; k < 3; k++) {
        mrnn_encoding_params enc;
        mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
        enc.encoding = encodings[k];
        mrnn_corpus *c = NULL;
        ck_assert_int_eq(mrnn_corpus_create(&c, &enc, NULL), MRNN_OK);
        ck_assert_int_eq(mrnn_corpus_add_file(c, path, NULL), MRNN_ERR_EMPTY);
        ck_assert_msg(strstr(mrnn_last_error(), "no notes") && strstr(mrnn_last_error(), "silence.mid"), "%s",
                      mrnn_last_error());
        if (k == 0) snprintf(first, sizeof first, "%s", mrnn_last_error());
        else ck_assert_str_eq(mrnn_last_error(), first);
        mrnn_corpus_free(c);
    }
    test_rmdir(tmp);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("corpus");
    TCase *t = tcase_create("corpus");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, jsb_pianoroll_frames_match_the_benchmark);
    tcase_add_test(t, jsb_round_trip_every_encoding);
    tcase_add_test(t, normalize_key_moves_pieces_to_c);
    tcase_add_test(t, normalize_key_tonic_c);
    tcase_add_test(t, piece_without_notes_is_refused_alike);
    tcase_add_test(t, default_corpus_notechord);
    tcase_add_test(t, default_corpus_performance);
    tcase_add_test(t, default_corpus_pianoroll);
    tcase_add_test(t, styles_come_from_folders);
    tcase_add_test(t, transposition_multiplies_training_pieces_only);
    tcase_add_test(t, split_is_deterministic_and_follows_fractions);
    tcase_add_test(t, bad_files_are_skipped_with_reasons);
    tcase_add_test(t, one_step_piece_is_rejected_as_too_short);
    tcase_add_test(t, corpus_file_round_trip_and_corruption);
    tcase_add_test(t, folder_walk_is_deep_wide_and_closes_folders);
    tcase_add_test(t, out_of_core_corpus_trains_under_an_address_space_cap);
    suite_add_tcase(s, t);
    return s;
}

MRNN_TEST_MAIN(make_suite)
