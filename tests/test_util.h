/* Helpers shared by the suites: temporary folders, whole-file I/O, and the corruption checks every
 * file format of the library must pass (truncation, bit flips, a future format version). */
#ifndef MRNN_TEST_UTIL_H
#define MRNN_TEST_UTIL_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <musicrnn/musicrnn.h>

/* snprintf into an array, failing the test if the text did not fit. */
#define TEST_PATH(buf, ...) ck_assert_int_lt(snprintf(buf, sizeof buf, __VA_ARGS__), (int)sizeof buf)

/* A corpus of four pieces of the default corpus (MRNN_DEFAULT_CORPUS, set by meson), finished;
 * valid_fraction as in mrnn_corpus_params. */
static inline mrnn_corpus *test_small_corpus(uint32_t encoding, float valid_fraction)
{
    const char *dir = getenv("MRNN_DEFAULT_CORPUS");
    static const char *files[] = {"5432gone_redfarn.mid", "be_sharp_bw_redfarn.mid", "boogi_marabi_redfarn.mid",
                                  "city_blues_redfarn.mid"};
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    enc.encoding = encoding;
    mrnn_corpus_params cp;
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    cp.valid_fraction = valid_fraction;
    mrnn_corpus *c = NULL;
    ck_assert_int_eq(mrnn_corpus_create(&c, &enc, &cp), MRNN_OK);
    for (int i = 0; i < 4; i++) {
        char path[4200];
        TEST_PATH(path, "%s/%s", dir ? dir : "", files[i]);
        ck_assert_msg(mrnn_corpus_add_file(c, path, NULL) == MRNN_OK, "%s", mrnn_last_error());
    }
    ck_assert_int_eq(mrnn_corpus_finish(c), MRNN_OK);
    return c;
}

/* A fresh folder under /tmp; the caller removes it with test_rmdir. */
/* The Debian corpus (openmsx) that meson names in MRNN_DEFAULT_CORPUS; fails the test if absent. */
static inline const char *test_default_corpus(void)
{
    const char *d = getenv("MRNN_DEFAULT_CORPUS");
    struct stat st;
    ck_assert_msg(d && stat(d, &st) == 0, "default corpus %s is missing: install openttd-openmsx", d ? d : "(unset)");
    return d;
}

/* This process's address space in KiB (VmSize), -1 if unknown: the base of RLIMIT_AS caps. */
static inline long test_vm_size_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}

static inline char *test_tmpdir(void)
{
    char tmpl[] = "/tmp/mrnn-test.XXXXXX";
    char *d = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(d);
    return strdup(d);
}

static inline void test_rmdir(char *dir)
{
    char cmd[4200];
    TEST_PATH(cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}

static inline uint8_t *test_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static inline void test_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static inline uint32_t test_crc32(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* Loads `path` with the format's loader and frees the result; returns the status. */
typedef mrnn_status (*test_loader)(const char *path);

/* Every library file is: 8-byte magic, u32 format version, ..., u32 CRC-32 of what precedes it
 * (lib/fileio.h). Check the one classification for all of them: truncations and bit flips
 * (the version field's included: the checksum is checked first) give MRNN_ERR_FORMAT; version 0
 * and a future version, with a valid checksum, MRNN_ERR_VERSION; another magic MRNN_ERR_FORMAT;
 * a missing file MRNN_ERR_IO; and every message names the file. */
static inline void test_corruptions(const char *good, test_loader load)
{
    size_t len;
    uint8_t *data = test_read(good, &len);
    ck_assert_uint_gt(len, 16);
    char bad[4200];
    TEST_PATH(bad, "%s.bad", good);
    size_t cuts[] = {0, 1, 7, 8, 11, 12, len / 3, len / 2, len - 5, len - 4, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        test_write(bad, data, cuts[i]);
        mrnn_status st = load(bad);
        ck_assert_msg(st == MRNN_ERR_FORMAT, "truncated to %zu bytes: status %d", cuts[i], st);
        ck_assert_msg(strstr(mrnn_last_error(), bad) != NULL, "message does not name the file: %s", mrnn_last_error());
    }
    for (int k = 0; k < 24; k++) {
        size_t pos = 8 + (size_t)k * (len - 9) / 24;
        data[pos] ^= (uint8_t)(1u << (k % 8));
        test_write(bad, data, len);
        data[pos] ^= (uint8_t)(1u << (k % 8));
        mrnn_status st = load(bad);
        ck_assert_msg(st == MRNN_ERR_FORMAT, "bit flip at %zu: status %d", pos, st);
        ck_assert_msg(strstr(mrnn_last_error(), bad) != NULL, "message does not name the file: %s", mrnn_last_error());
    }
    for (size_t pos = 8; pos < 12; pos++) {
        data[pos] ^= 0x10;
        test_write(bad, data, len);
        data[pos] ^= 0x10;
        ck_assert_msg(load(bad) == MRNN_ERR_FORMAT, "version byte %zu flipped, checksum stale", pos);
    }
    /* Version 0 (never written) and a future version, with valid checksums, are refused as versions,
     * not misread. (Far ahead, not the next one: a library may write an older format than the
     * newest it reads, as model files do for models that need nothing newer.) */
    const uint8_t version_byte = data[8];
    const uint8_t versions[2] = {0, (uint8_t)(version_byte + 100)};
    for (int v = 0; v < 2; v++) {
        data[8] = versions[v];
        uint32_t crc = test_crc32(data, len - 4);
        for (int i = 0; i < 4; i++) data[len - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
        test_write(bad, data, len);
        ck_assert_msg(load(bad) == MRNN_ERR_VERSION, "version %u: %s", versions[v], mrnn_last_error());
        ck_assert_ptr_nonnull(strstr(mrnn_last_error(), bad));
        ck_assert_ptr_nonnull(strstr(mrnn_last_error(), "version"));
    }
    /* Not our file at all. */
    memcpy(data, "NOTMAGIC", 8);
    test_write(bad, data, len);
    ck_assert_int_eq(load(bad), MRNN_ERR_FORMAT);
    unlink(bad);
    TEST_PATH(bad, "%s.missing", good);
    ck_assert_int_eq(load(bad), MRNN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(mrnn_last_error(), bad));
    free(data);
}

#endif
