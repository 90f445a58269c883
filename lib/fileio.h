/* Whole-file reading with a size cap, atomic writing, bounded little-endian (de)serialisation, and
 * the one container all of the library's own files use (corpus, vocabulary, model). */
#ifndef MRNN_FILEIO_H
#define MRNN_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "musicrnn/musicrnn.h"

/* Read a regular file of at most max_bytes. Errors name the path: MRNN_ERR_IO (missing, not a
 * regular file, unreadable), MRNN_ERR_LIMIT (too large), MRNN_ERR_NOMEM. *buf is caller-freed with
 * mrnn__free. */
mrnn_status mrnn__read_file(const char *path, size_t max_bytes, uint8_t **buf, size_t *len);

/* Write all n bytes to fd, retrying short writes and EINTR. 0 on success, -1 (errno set) else. */
int mrnn__write_all(int fd, const void *buf, size_t n);
/* pread / pwrite exactly n bytes at offset off (retrying short transfers and EINTR). 0 on success;
 * -1 with errno set on an error (EIO when a read meets the end of the file first). */
int mrnn__read_at(int fd, void *buf, size_t n, off_t off);
int mrnn__write_at(int fd, const void *buf, size_t n, off_t off);

/* Read the first n bytes (or fewer, *got says how many) of a regular file. MRNN_ERR_IO naming the
 * path when it cannot be opened, is not a regular file or cannot be read. */
mrnn_status mrnn__read_head(const char *path, uint8_t *buf, size_t n, size_t *got);

/* Write len bytes to path atomically: a temporary file in the same folder, fsync, rename, fsync of
 * the folder. Either the old file or the complete new one survives a crash. */
mrnn_status mrnn__write_file_atomic(const char *path, const void *data, size_t len);

/* The same in steps, for files too large to build in memory: open creates path.tmp.<pid>; write
 * appends; commit fsyncs and renames it over path. A failing write or commit removes the temporary
 * file itself (nothing is left that could pass for the output); abort does so on the caller's own
 * errors. Errors are MRNN_ERR_IO naming path and the system's reason. */
typedef struct mrnn__atomic_file {
    int fd;
    char *tmp;
    const char *path; /* borrowed */
} mrnn__atomic_file;
mrnn_status mrnn__atomic_open(mrnn__atomic_file *f, const char *path);
mrnn_status mrnn__atomic_write(mrnn__atomic_file *f, const void *data, size_t len);
mrnn_status mrnn__atomic_commit(mrnn__atomic_file *f);
void mrnn__atomic_abort(mrnn__atomic_file *f);

/* A read-write temporary file in dir that has no name (O_TMPFILE, else a mkstemp file unlinked at
 * once): nobody else can open, truncate or remove it, and it vanishes with its last descriptor,
 * even when the process is killed. -1 with errno set on failure. */
int mrnn__open_unnamed(const char *dir);

/* Give an unnamed file of mrnn__open_unnamed its name without copying it: fsync, link it in
 * path's folder under a temporary name, rename that over path, fsync the folder (the same
 * guarantees as mrnn__atomic_commit). Returns 0 when published; 1 when the file cannot be linked
 * there (another file system, no O_TMPFILE, no /proc: nothing changed, the caller copies instead);
 * -1 with errno set when publishing failed after the link (the temporary name is removed). */
int mrnn__publish_unnamed(int fd, const char *path);

/* 1 on a little-endian host, whose uint32_t arrays are already the files' byte order. */
int mrnn__host_is_le(void);

/* CRC-32 (IEEE) of data, continuing from crc (start with 0). */
uint32_t mrnn__crc32(uint32_t crc, const void *data, size_t len);

/* A growable output buffer. Writers never fail individually: an allocation failure is remembered
 * in `failed` and reported once by the caller. */
typedef struct mrnn__wbuf {
    uint8_t *data;
    size_t len, cap;
    int failed;
} mrnn__wbuf;

void mrnn__wbuf_bytes(mrnn__wbuf *b, const void *p, size_t n);
void mrnn__wbuf_u8(mrnn__wbuf *b, uint8_t v);
void mrnn__wbuf_u32(mrnn__wbuf *b, uint32_t v);
void mrnn__wbuf_u64(mrnn__wbuf *b, uint64_t v);
void mrnn__wbuf_i32(mrnn__wbuf *b, int32_t v);
void mrnn__wbuf_f32(mrnn__wbuf *b, float v);
void mrnn__wbuf_f64(mrnn__wbuf *b, double v);
void mrnn__wbuf_f32s(mrnn__wbuf *b, const float *v, size_t n);
void mrnn__wbuf_u32s(mrnn__wbuf *b, const uint32_t *v, size_t n);
/* u32 length + bytes (no terminator); NULL is written as length 0. */
void mrnn__wbuf_str(mrnn__wbuf *b, const char *s);
void mrnn__wbuf_free(mrnn__wbuf *b);

/* A bounds-checked reader. Every read past the end sets `bad` and yields zeros, so a parser can
 * read a whole header and check `bad` once. */
typedef struct mrnn__rbuf {
    const uint8_t *data;
    size_t len, pos;
    int bad;
    int nomem; /* set (with bad) when a string could not be allocated: not the file's fault */
} mrnn__rbuf;

void mrnn__rbuf_bytes(mrnn__rbuf *b, void *out, size_t n);
const uint8_t *mrnn__rbuf_take(mrnn__rbuf *b, size_t n); /* borrow n bytes, NULL if short */
uint8_t mrnn__rbuf_u8(mrnn__rbuf *b);
uint32_t mrnn__rbuf_u32(mrnn__rbuf *b);
uint64_t mrnn__rbuf_u64(mrnn__rbuf *b);
int32_t mrnn__rbuf_i32(mrnn__rbuf *b);
float mrnn__rbuf_f32(mrnn__rbuf *b);
double mrnn__rbuf_f64(mrnn__rbuf *b);
int mrnn__rbuf_f32s(mrnn__rbuf *b, float *out, size_t n);
int mrnn__rbuf_u32s(mrnn__rbuf *b, uint32_t *out, size_t n);
/* Read a string written by mrnn__wbuf_str into a new allocation (max_len caps it); NULL + bad on error. */
char *mrnn__rbuf_str(mrnn__rbuf *b, size_t max_len);

/* The container of every library file:
 *     8-byte magic | u32 format version | body | u32 CRC-32 of everything before it
 * One kind of file is described by one constant struct; bumping a format is changing `format`
 * there (and `oldest` when old files can no longer be read).
 *
 * Loading checks, in this order, and classifies every failure one way for all kinds:
 *   1. the file cannot be read                -> MRNN_ERR_IO / MRNN_ERR_LIMIT / MRNN_ERR_NOMEM
 *   2. shorter than a magic, or another magic -> MRNN_ERR_FORMAT "not a ... file (bad magic)"
 *   3. too short for version and checksum     -> MRNN_ERR_FORMAT "truncated"
 *   4. checksum mismatch                      -> MRNN_ERR_FORMAT "checksum mismatch"
 *   5. version not in oldest..format          -> MRNN_ERR_VERSION (0 included: never written)
 * The checksum goes before the version so that a damaged version field reads as corruption, not
 * as a file from the future. Parsing the body is the caller's; a body that does not parse is
 * MRNN_ERR_FORMAT "corrupt <noun> file: <what>" (mrnn__container_corrupt). */
typedef struct mrnn__container {
    const char *magic; /* exactly 8 characters */
    const char *noun;  /* "model", "corpus", "vocabulary": for messages */
    uint32_t format;   /* the version this library writes */
    uint32_t oldest;   /* the oldest version it reads, >= 1 */
    size_t max_bytes;  /* larger files are refused before reading */
} mrnn__container;

/* Start a file: magic and format version into an empty buffer. */
void mrnn__container_begin(const mrnn__container *k, mrnn__wbuf *b);
/* Finish it (append the checksum) and write it atomically to path; frees the buffer either way.
 * A buffer that ran out of memory gives MRNN_ERR_NOMEM naming path. */
mrnn_status mrnn__container_save(const mrnn__container *k, mrnn__wbuf *b, const char *path);

/* Read path and run checks 1-5. On success *data holds the file (caller frees with mrnn__free),
 * *body reads the body (between the version and the checksum) and *format is the file's version.
 * On failure *data is NULL. */
mrnn_status mrnn__container_load(const mrnn__container *k, const char *path, uint8_t **data, mrnn__rbuf *body,
                                 uint32_t *format);
/* MRNN_ERR_FORMAT: "<path>: corrupt <noun> file: <what>". */
mrnn_status mrnn__container_corrupt(const mrnn__container *k, const char *path, const char *what);

/* Which container kind starts with the 8 bytes at magic (1-based index into kinds), 0 for none. */
int mrnn__container_match(const mrnn__container *const *kinds, int n_kinds, const uint8_t *magic, size_t len);

#endif
