/* Corpora built with their tokens on disk (mrnn_corpus_params::spill_dir, lib/corpus_spill.c):
 * the same corpus file as in memory for every encoding and thread count, clear errors when the
 * disk fails, and memory that does not grow with the tokens (under an address-space cap the
 * in-memory path exceeds). */
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corpus.h"
#include "test_main.h"
#include "test_util.h"

/* 1 if this process holds path's file open: a corpus whose spill file was published as path
 * does (the tokens were written once, not copied). */
static int held_open(const char *path)
{
    struct stat want, got;
    ck_assert_int_eq(stat(path, &want), 0);
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    int found = 0;
    for (struct dirent *e; !found && (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.' && fstat(atoi(e->d_name), &got) == 0)
            found = got.st_ino == want.st_ino && got.st_dev == want.st_dev;
    closedir(d);
    return found;
}

/* The corpus of `dirs` (and one bad file offered by name, which must be rolled back) saved to
 * `path`; spill_dir NULL keeps it in memory. With a spill_dir, `linked` says whether the spill
 * file must become path (1) or be copied into it (0). */
static void build(const mrnn_encoding_params *enc, const mrnn_vocab *vocab, uint32_t transpose, uint32_t threads,
                  const char *spill_dir, int linked, const char *bad_file, const char *path,
                  mrnn_corpus_stats *stats)
{
    mrnn_corpus_params cp;
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    cp.transpose_range = transpose;
    cp.threads = threads;
    cp.valid_fraction = 0.2;
    cp.spill_dir = spill_dir;
    mrnn_corpus *c = NULL;
    if (vocab)
        ck_assert_int_eq(mrnn_corpus_create_with_vocab(&c, vocab, &cp), MRNN_OK);
    else
        ck_assert_msg(mrnn_corpus_create(&c, enc, &cp) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_msg(mrnn_corpus_add_dir(c, test_default_corpus()) == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_int_ne(mrnn_corpus_add_file(c, bad_file, NULL), MRNN_OK);
    char one[4200];
    TEST_PATH(one, "%s/5432gone_redfarn.mid", test_default_corpus());
    ck_assert_msg(mrnn_corpus_add_file(c, one, "extra") == MRNN_OK, "%s", mrnn_last_error());
    ck_assert_msg(mrnn_corpus_save(c, path) == MRNN_OK, "%s", mrnn_last_error());
    mrnn_corpus_get_stats(c, stats);
    if (spill_dir)
        ck_assert_msg(held_open(path) == linked, "%s: %s, expected otherwise", path, linked ? "copied" : "linked");
    if (spill_dir) {
        /* Its tokens are on disk: not lent, not trained on; the error says what to do instead. */
        const uint32_t *ids;
        size_t n;
        ck_assert_int_eq(mrnn_corpus_piece_tokens(c, 0, &ids, &n, NULL, NULL), MRNN_ERR_UNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "mrnn_corpus_map"));
        ck_assert_uint_eq(c->n_ids, c->spilled); /* all of them, none left in memory */
        mrnn_model_params mp;
        mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
        mp.embed_size = 4;
        mp.hidden_size = 4;
        mp.num_layers = 1;
        mrnn_model *m = NULL;
        ck_assert_int_eq(mrnn_model_create(&m, mrnn_corpus_vocab(c), NULL, 0, &mp), MRNN_OK);
        ck_assert_int_eq(mrnn_model_train(m, c, NULL, NULL, NULL), MRNN_ERR_UNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(mrnn_last_error(), spill_dir));
        mrnn_model_free(m);
        /* Saving again reads the spill file again (and renumbers again), or copies the file the
         * first save published: the same file. */
        char again[4200];
        TEST_PATH(again, "%s.again", path);
        ck_assert_msg(mrnn_corpus_save(c, again) == MRNN_OK, "%s", mrnn_last_error());
        size_t na, nb;
        uint8_t *x = test_read(path, &na), *y = test_read(again, &nb);
        ck_assert_uint_eq(na, nb);
        ck_assert(memcmp(x, y, na) == 0);
        free(x);
        free(y);
        ck_assert(!held_open(again));
        struct stat sa, sb;
        ck_assert_int_eq(stat(path, &sa), 0);
        ck_assert_int_eq(stat(again, &sb), 0);
        ck_assert_uint_eq(sa.st_mode, sb.st_mode); /* a published file gets the mode a copy does */
        ck_assert_int_eq(unlink(again), 0);
    }
    mrnn_corpus_free(c);
}

static void assert_same_file(const char *a, const char *b)
{
    size_t na, nb;
    uint8_t *x = test_read(a, &na), *y = test_read(b, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(x, y, na) == 0, "%s and %s differ", a, b);
    free(x);
    free(y);
}

/* Every encoding, with transposition (many flushes, and a notechord vocabulary pruned by
 * min_count, so spilled ids are renumbered and <unk>s counted), on 1 and 2 threads: the file is
 * the in-memory corpus's, byte for byte, and it loads. Ids that need no renumbering are written
 * once: the spill file becomes the corpus file when it lives in the same folder, and is copied
 * from a spill folder on another file system. */
START_TEST(spilled_corpus_file_is_the_in_memory_one)
{
    char *tmp = test_tmpdir();
    char bad[4200], mem[4200], disk[4200];
    TEST_PATH(bad, "%s/bad.mid", tmp);
    test_write(bad, "MThd not really", 15);
    TEST_PATH(mem, "%s/mem.mrc", tmp);
    static const uint32_t encodings[] = {MRNN_ENCODING_NOTECHORD, MRNN_ENCODING_PERFORMANCE, MRNN_ENCODING_PIANOROLL,
                                         MRNN_ENCODING_MULTITRACK};
    for (int e = 0; e < 4; e++) {
        mrnn_encoding_params enc;
        mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
        enc.encoding = encodings[e];
        enc.min_count = 3;
        mrnn_corpus_stats a, b;
        build(&enc, NULL, 8, 1, NULL, 0, bad, mem, &a);
        for (uint32_t threads = 1; threads <= 2; threads++) {
            TEST_PATH(disk, "%s/disk-%d-%u.mrc", tmp, e, threads);
            build(&enc, NULL, 8, threads, tmp, e != 0, bad, disk, &b);
            ck_assert_mem_eq(&a, &b, sizeof a);
            assert_same_file(mem, disk);
        }
        struct stat st_tmp, st_shm;
        if (e == 1 && stat("/dev/shm", &st_shm) == 0 && stat(tmp, &st_tmp) == 0 && st_shm.st_dev != st_tmp.st_dev &&
            access("/dev/shm", W_OK) == 0) {
            TEST_PATH(disk, "%s/disk-shm.mrc", tmp);
            build(&enc, NULL, 8, 2, "/dev/shm", 0, bad, disk, &b);
            ck_assert_mem_eq(&a, &b, sizeof a);
            assert_same_file(mem, disk);
        }
        if (e == 0) ck_assert_uint_gt(a.n_unknown, 0); /* the renumbering did turn tokens into <unk> */
        mrnn_corpus *l = NULL;
        ck_assert_msg(mrnn_corpus_load(&l, disk) == MRNN_OK, "%s", mrnn_last_error());
        ck_assert_uint_gt(a.n_tokens[0], (uint64_t)1 << 19); /* more than two chunks of the spill */
        if (e == 0) {
            /* A fixed vocabulary (a model's): ids are final as encoded, nothing is renumbered. */
            build(NULL, mrnn_corpus_vocab(l), 0, 2, NULL, 0, bad, mem, &a);
            build(NULL, mrnn_corpus_vocab(l), 0, 2, tmp, 1, bad, disk, &b);
            ck_assert_mem_eq(&a, &b, sizeof a);
            assert_same_file(mem, disk);
        }
        mrnn_corpus_free(l);
    }
    test_rmdir(tmp);
}
END_TEST

/* A child process's status, failing the test after a minute rather than hanging it. */
static int wait_child(pid_t pid)
{
    int status = 0;
    pid_t done = 0;
    for (int tick = 0; tick < 1200 && (done = waitpid(pid, &status, WNOHANG)) == 0; tick++) usleep(50000);
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        ck_abort_msg("the child did not finish in 60 s");
    }
    ck_assert_msg(WIFEXITED(status), "child killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return WEXITSTATUS(status);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Nothing but `keep` in dir: no temporary output, no spill file with a name. */
static int only_file_in(const char *dir, const char *keep)
{
    char cmd[4200];
    TEST_PATH(cmd, "test \"$(ls -A '%s')\" = '%s'", dir, keep);
    return system(cmd) == 0;
}

START_TEST(spill_errors_name_the_folder_and_leave_no_output)
{
    char *tmp = test_tmpdir();
    char path[4200], missing[4200], out[4200], spill[4200];
    TEST_PATH(missing, "%s/no/such/folder", tmp);
    mrnn_corpus_params cp;
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    cp.spill_dir = missing;
    mrnn_corpus *c = (mrnn_corpus *)&cp;
    ck_assert_int_eq(mrnn_corpus_create(&c, NULL, &cp), MRNN_ERR_IO);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), missing));

    /* A version-2 struct (no spill_dir) keeps its tokens in memory, whatever follows it. */
    struct {
        mrnn_corpus_params p;
        unsigned char guard[64];
    } v2;
    memset(&v2, 0xA5, sizeof v2);
    ck_assert_int_eq(mrnn_corpus_params_init(&v2.p, 2), MRNN_OK);
    for (size_t i = offsetof(mrnn_corpus_params, spill_dir); i < sizeof v2; i++)
        ck_assert_uint_eq(((unsigned char *)&v2)[i], 0xA5);
    ck_assert_int_eq(mrnn_corpus_create(&c, NULL, &v2.p), MRNN_OK);
    ck_assert_ptr_null(c->spill);
    mrnn_corpus_free(c);

    /* A full disk, as a file size limit gives it (EFBIG), first for the spill file while files are
     * read, then for the corpus file while it is saved. */
    TEST_PATH(spill, "%s/spill", tmp);
    ck_assert_int_eq(mkdir(spill, 0700), 0);
    TEST_PATH(out, "%s/out", tmp);
    ck_assert_int_eq(mkdir(out, 0700), 0);
    TEST_PATH(path, "%s/corpus.mrc", out);
    uint64_t spill_bytes = 0;
    for (int stage = 0; stage < 3; stage++) {
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            signal(SIGXFSZ, SIG_IGN);
            mrnn_encoding_params enc;
            mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
            enc.encoding = MRNN_ENCODING_PERFORMANCE;
            mrnn_corpus_params p;
            mrnn_corpus_params_init(&p, MRNN_CORPUS_PARAMS_VERSION);
            p.transpose_range = 3;
            p.spill_dir = spill;
            if (mrnn_corpus_create(&c, &enc, &p) != MRNN_OK) _exit(2);
            if (stage == 1) {
                struct rlimit rl = {256 << 10, RLIM_INFINITY};
                if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(3);
            }
            mrnn_status st = mrnn_corpus_add_dir(c, test_default_corpus());
            if (stage == 0) {
                if (st != MRNN_OK || mrnn_corpus_finish(c) != MRNN_OK) _exit(4);
                FILE *f = fopen(path, "w"); /* report the size for stage 2 */
                if (!f) _exit(5);
                fprintf(f, "%llu\n", (unsigned long long)c->spilled * 4);
                fclose(f);
                _exit(0);
            }
            if (stage == 1) {
                if (st != MRNN_ERR_IO || !strstr(mrnn_last_error(), spill)) _exit(6);
                if (mrnn_corpus_add_dir(c, test_default_corpus()) != MRNN_ERR_IO) _exit(7); /* the error stays */
                if (mrnn_corpus_save(c, path) != MRNN_ERR_IO || !strstr(mrnn_last_error(), spill)) _exit(8);
                _exit(0);
            }
            /* Room for the spill file, not for the corpus file (header + the same tokens). */
            struct rlimit rl = {(rlim_t)spill_bytes + 16, RLIM_INFINITY};
            if (st != MRNN_OK || setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(9);
            if (mrnn_corpus_save(c, path) != MRNN_ERR_IO || !strstr(mrnn_last_error(), path)) _exit(10);
            mrnn_corpus_free(c);
            _exit(0);
        }
        int code = wait_child(pid);
        ck_assert_msg(code == 0, "stage %d: child failed at check %d", stage, code);
        if (stage == 0) {
            size_t n;
            char *text = (char *)test_read(path, &n);
            spill_bytes = strtoull(text, NULL, 10);
            free(text);
            ck_assert_uint_gt(spill_bytes, 1 << 20);
            ck_assert_int_eq(unlink(path), 0);
        } else {
            ck_assert_msg(!exists(path), "stage %d left a corpus file", stage);
            ck_assert(only_file_in(out, ""));
        }
        ck_assert(only_file_in(spill, "")); /* the spill file never had a name */
    }
    test_rmdir(tmp);
}
END_TEST

/* Preprocessing a folder whose tokens (about 60 MiB: the default corpus six times over,
 * transposed) need more address space than the process may use: the in-memory corpus runs out
 * of memory, the spilled one is built and saved. The file then trains from a mapping under a cap
 * the loader exceeds. In a child, so that the cap does not outlive the test; not under ASan or
 * valgrind, whose shadow memory needs far more address space than any cap here. */
START_TEST(preprocessing_under_an_address_space_cap)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return;
#endif
    if (getenv("MRNN_UNDER_VALGRIND")) return;
    enum { COPIES = 6, CAP_MIB = 24 };
    char *tmp = test_tmpdir();
    char path[4200], midi[4200], link[4200];
    TEST_PATH(midi, "%s/midi", tmp);
    ck_assert_int_eq(mkdir(midi, 0700), 0);
    for (int k = 0; k < COPIES; k++) {
        TEST_PATH(link, "%s/copy%d", midi, k);
        ck_assert_int_eq(mkdir(link, 0700), 0);
        char cmd[8600];
        TEST_PATH(cmd, "cp '%s'/*.mid '%s'/", test_default_corpus(), link);
        ck_assert_int_eq(system(cmd), 0);
    }
    TEST_PATH(path, "%s/big.mrc", tmp);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* One malloc arena: a new one reserves 128 MiB of address space at once (glibc). */
        mallopt(M_ARENA_MAX, 1);
        mrnn_encoding_params enc;
        mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
        enc.encoding = MRNN_ENCODING_PERFORMANCE;
        mrnn_corpus_params cp;
        mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
        cp.transpose_range = 12;
        cp.style_from_folder = 0;
        cp.threads = 2;
        /* OpenBLAS allocates its buffers on first use and retries for ever when that fails; a real
         * program has them from earlier work: a training step on a tiny corpus first. */
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
                _exit(2);
            mrnn_model_free(m);
            mrnn_corpus_free(small);
        }
        /* The reading threads' stacks (8 MiB each) are in the budget. */
        long base_kb = test_vm_size_kb();
        struct rlimit rl = {(rlim_t)(base_kb + CAP_MIB * 1024 + 16 * 1024) * 1024, RLIM_INFINITY};
        if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(3);
        mrnn_corpus *c = NULL;
        if (mrnn_corpus_create(&c, &enc, &cp) != MRNN_OK) _exit(4);
        if (mrnn_corpus_add_dir(c, midi) != MRNN_ERR_NOMEM) _exit(5); /* the cap bites the tokens in memory */
        mrnn_corpus_free(c);
        cp.spill_dir = tmp;
        if (mrnn_corpus_create(&c, &enc, &cp) != MRNN_OK) _exit(6);
        if (mrnn_corpus_add_dir(c, midi) != MRNN_OK) _exit(7);
        if (mrnn_corpus_save(c, path) != MRNN_OK) _exit(8);
        mrnn_corpus_stats s;
        mrnn_corpus_get_stats(c, &s);
        mrnn_corpus_free(c);
        if (s.n_skipped != 0 || s.n_files != COPIES * 31) _exit(9);
        struct stat sb;
        if (stat(path, &sb) != 0 || sb.st_size < (off_t)(CAP_MIB * 2) << 20) _exit(10); /* well above the cap */
        /* Training: the loader needs the file and its tokens (twice the file), a mapping the tokens. */
        long file_kb = (long)(sb.st_size / 1024);
        rl.rlim_cur = (rlim_t)(test_vm_size_kb() + file_kb * 3 / 2) * 1024;
        if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(11);
        if (mrnn_corpus_load(&c, path) != MRNN_ERR_NOMEM) _exit(12);
        if (mrnn_corpus_map(&c, path) != MRNN_OK) _exit(13);
        mrnn_model *m = NULL;
        if (mrnn_model_create(&m, mrnn_corpus_vocab(c), NULL, 0, &mp) != MRNN_OK) _exit(14);
        tp.max_steps = 3;
        if (mrnn_model_train(m, c, &tp, NULL, NULL) != MRNN_OK) _exit(15);
        mrnn_model_free(m);
        mrnn_corpus_free(c);
        _exit(0);
    }
    int code = wait_child(pid);
    ck_assert_msg(code == 0, "child failed at check %d", code);
    test_rmdir(tmp);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("spill");
    TCase *t = tcase_create("spill");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, spilled_corpus_file_is_the_in_memory_one);
    tcase_add_test(t, spill_errors_name_the_folder_and_leave_no_output);
    tcase_add_test(t, preprocessing_under_an_address_space_cap);
    suite_add_tcase(s, t);
    return s;
}

MRNN_TEST_MAIN(make_suite)
