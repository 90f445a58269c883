/* Helpers shared by the libFuzzer harnesses. The file loaders of the library take a path, so the
 * harnesses hand them an in-memory file (memfd) through /proc/self/fd: no disk I/O per input. */
#ifndef MRNN_FUZZ_UTIL_H
#define MRNN_FUZZ_UTIL_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <musicrnn/musicrnn.h>

#include "alloc.h"
#include "fileio.h"

/* No input of the seed corpora's size has a reason to need one allocation of more than this: the
 * file loaders only allocate what the file's own bytes back, and the harnesses cut long pieces. */
#define FUZZ_MAX_ALLOC ((size_t)256 << 20)

/* Call at the start of each input: larger allocations fail inside the library... */
static inline void fuzz_begin(void)
{
    mrnn__alloc_limit(FUZZ_MAX_ALLOC);
    mrnn_clear_error();
}

/* ...and a call that ran out of memory is a finding (a hostile size that is not capped). Any other
 * failure must come with a message. */
static inline void fuzz_check(mrnn_status st)
{
    if (st == MRNN_ERR_NOMEM) {
        fprintf(stderr, "finding: a small input needed more than %zu bytes at once: %s\n", FUZZ_MAX_ALLOC,
                mrnn_last_error());
        abort();
    }
    if (st != MRNN_OK && mrnn_last_error()[0] == '\0') {
        fprintf(stderr, "finding: status %d without a message\n", (int)st);
        abort();
    }
}

/* Replace the contents of a process-wide memfd with data and return a path that opens it. */
static inline const char *fuzz_memfile(const uint8_t *data, size_t len)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("mrnn-fuzz", 0);
        if (fd < 0) abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0) abort();
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(fd, data + done, len - done, (off_t)done);
        if (w <= 0) abort();
        done += (size_t)w;
    }
    return path;
}

/* The corpus and model files end with a CRC-32 of everything before it. Random inputs would almost
 * never pass it and the fuzzer would only explore the checksum test, so the harnesses write a correct
 * checksum over the input's last 4 bytes and so reach the real parser. (The checksum test itself is
 * covered by the unit suites' byte-flip and truncation tests.) */
static inline void fuzz_fix_crc(uint8_t *buf, size_t len)
{
    if (len < 4) return;
    uint32_t crc = mrnn__crc32(0, buf, len - 4);
    for (int i = 0; i < 4; i++) buf[len - 4 + i] = (uint8_t)(crc >> (8 * i));
}

#endif
