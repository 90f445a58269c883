/* Crash safety of every file the library writes: a process that dies in the middle of writing a
 * file must leave the previous file byte for byte. The crash is made deterministic: the child that
 * saves runs with a file size limit (RLIMIT_FSIZE) of half the new file, so the kernel kills it
 * with SIGXFSZ exactly in the middle of the write. An implementation that wrote in place (no
 * temporary file + rename) fails every case here; the SIGKILL test of check_checkpoint.c shows the
 * same with real kills, but only when a kill happens to land inside a write. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <musicrnn/musicrnn.h>

#include "test_main.h"
#include "test_util.h"

typedef mrnn_status (*save_fn)(const void *what, const char *path);

static off_t file_size(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

/* Save `old` to path, measure `new` (saved elsewhere), then crash a child while it saves `new` over
 * path: path must still hold exactly the bytes of `old`. */
static void crash_while_saving(const char *dir, const char *name, save_fn save, const void *old, const void *new)
{
    char path[4200], probe[4200];
    TEST_PATH(path, "%s/%s", dir, name);
    TEST_PATH(probe, "%s/probe-%s", dir, name);
    ck_assert_int_eq(save(old, path), MRNN_OK);
    ck_assert_int_eq(save(new, probe), MRNN_OK);
    off_t new_size = file_size(probe);
    ck_assert_int_gt(new_size, 64);
    size_t old_len;
    uint8_t *before = test_read(path, &old_len);

    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_DFL);
        struct rlimit lim = {(rlim_t)new_size / 2, (rlim_t)new_size / 2};
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0) _exit(3);
        save(new, path);
        _exit(0); /* not reached if the write crossed the limit */
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ,
                  "%s: the saving child was not killed in the middle of its write (status %d)", name, status);
    size_t after_len;
    uint8_t *after = test_read(path, &after_len);
    ck_assert_msg(after_len == old_len && memcmp(before, after, old_len) == 0,
                  "%s: a crash while saving damaged the previous file (%zu bytes, now %zu)", name, old_len, after_len);
    free(before);
    free(after);
}

static mrnn_status save_model(const void *m, const char *path)
{
    return mrnn_model_save(m, path, MRNN_SAVE_TRAINING_STATE);
}

static mrnn_status save_vocab(const void *v, const char *path)
{
    return mrnn_vocab_save(v, path);
}

static mrnn_status save_corpus(const void *c, const char *path)
{
    return mrnn_corpus_save((mrnn_corpus *)c, path);
}

typedef struct token_file {
    const mrnn_vocab *v;
    const uint32_t *ids;
    size_t n;
} token_file;

static mrnn_status save_midi(const void *t, const char *path)
{
    const token_file *f = t;
    return mrnn_tokens_write_midi(f->v, f->ids, f->n, path, 120, 0);
}

static mrnn_vocab *performance_vocab(void)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    mrnn_vocab *v = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&v, &enc), MRNN_OK);
    return v;
}

START_TEST(model_save_survives_a_crash)
{
    mrnn_vocab *v = performance_vocab();
    mrnn_model_params mp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mp.hidden_size = 32;
    mrnn_model *a = NULL, *b = NULL;
    ck_assert_int_eq(mrnn_model_create(&a, v, NULL, 0, &mp), MRNN_OK);
    mp.init_seed = 2;
    ck_assert_int_eq(mrnn_model_create(&b, v, NULL, 0, &mp), MRNN_OK);
    char *dir = test_tmpdir();
    crash_while_saving(dir, "m.mrm", save_model, a, b);
    test_rmdir(dir);
    mrnn_model_free(a);
    mrnn_model_free(b);
    mrnn_vocab_free(v);
}
END_TEST

START_TEST(vocab_corpus_and_midi_saves_survive_a_crash)
{
    char *dir = test_tmpdir();
    /* Vocabulary: a small notechord one, then a bigger one. */
    mrnn_vocab *small = NULL;
    ck_assert_int_eq(mrnn_vocab_create(&small, NULL), MRNN_OK);
    mrnn_vocab *big = performance_vocab();
    crash_while_saving(dir, "v.mrv", save_vocab, small, big);

    /* MIDI: two token sequences of different lengths. */
    uint32_t ids[400];
    size_t n;
    char text[8000] = "";
    for (int i = 0; i < 60; i++) {
        char word[64];
        snprintf(word, sizeof word, "NOTE_ON_%d TIME_SHIFT_%d NOTE_OFF_%d ", 40 + i, 1 + i % 50, 40 + i);
        strcat(text, word);
    }
    ck_assert_int_eq(mrnn_vocab_parse(big, text, ids, 400, &n), MRNN_OK);
    token_file short_piece = {big, ids, 6}, long_piece = {big, ids, n};
    crash_while_saving(dir, "t.mid", save_midi, &short_piece, &long_piece);

    /* Corpus: an empty one, then one read from the long MIDI file. */
    char midi[4200];
    TEST_PATH(midi, "%s/t.mid", dir);
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = MRNN_ENCODING_PERFORMANCE;
    mrnn_corpus *empty = NULL, *full = NULL;
    ck_assert_int_eq(mrnn_corpus_create(&empty, &enc, NULL), MRNN_OK);
    ck_assert_int_eq(mrnn_corpus_create(&full, &enc, NULL), MRNN_OK);
    ck_assert_int_eq(save_midi(&long_piece, midi), MRNN_OK);
    ck_assert_int_eq(mrnn_corpus_add_file(full, midi, NULL), MRNN_OK);
    crash_while_saving(dir, "c.mrc", save_corpus, empty, full);
    mrnn_corpus_free(empty);
    mrnn_corpus_free(full);
    mrnn_vocab_free(small);
    mrnn_vocab_free(big);
    test_rmdir(dir);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("crash");
    TCase *t = tcase_create("crash");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, model_save_survives_a_crash);
    tcase_add_test(t, vocab_corpus_and_midi_saves_survive_a_crash);
    suite_add_tcase(s, t);
    return s;
}

MRNN_TEST_MAIN(make_suite)
