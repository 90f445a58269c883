/* Capped whole-file reads, atomic writes, CRC-32, bounded little-endian buffers, and the container
 * of the library's files (fileio.h). */
#define _GNU_SOURCE /* O_TMPFILE: glibc declares it only here */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "fileio.h"

mrnn_status mrnn__read_file(const char *path, size_t max_bytes, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO must not hang; we reject non-regular files right after. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return mrnn__fail(MRNN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return mrnn__fail(MRNN_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return mrnn__fail(MRNN_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > (uint64_t)max_bytes) {
        close(fd);
        return mrnn__fail(MRNN_ERR_LIMIT, "%s: file is %lld bytes, the limit is %zu", path,
                          (long long)st.st_size, max_bytes);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *data = mrnn__malloc(size + 1);
    if (!data) {
        close(fd);
        return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, size);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            mrnn__free(data);
            close(fd);
            return mrnn__fail(MRNN_ERR_IO, "%s: read error: %s", path, strerror(e));
        }
        if (r == 0) break; /* file shrank while reading: use what is there */
        got += (size_t)r;
    }
    close(fd);
    data[got] = 0;
    *buf = data;
    *len = got;
    return MRNN_OK;
}

int mrnn__write_all(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int mrnn__read_at(int fd, void *buf, size_t n, off_t off)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0) errno = EIO; /* the file is shorter than the caller knows it to be */
            return -1;
        }
        p += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

int mrnn__write_at(int fd, const void *buf, size_t n, off_t off)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

mrnn_status mrnn__read_head(const char *path, uint8_t *buf, size_t n, size_t *got)
{
    *got = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return mrnn__fail(MRNN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mrnn__fail(MRNN_ERR_IO, "%s: not a regular file", path);
    }
    while (*got < n) {
        ssize_t r = read(fd, buf + *got, n - *got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return mrnn__fail(MRNN_ERR_IO, "%s: read error: %s", path, strerror(e));
        }
        if (r == 0) break;
        *got += (size_t)r;
    }
    close(fd);
    return MRNN_OK;
}

/* Make a rename in path's folder durable. Modifies path (dirname). */
static void sync_folder(char *path)
{
    int dfd = open(dirname(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
}

/* The name a file is written under before it is renamed to path: path.tmp.<pid>, in path's
 * folder so that the rename stays on one file system. Caller frees; NULL when out of memory. The
 * buffer holds path's length again plus 32, for callers that copy path into it. */
static char *temporary_name(const char *path)
{
    size_t cap = strlen(path) + 32;
    char *tmp = mrnn__malloc(cap);
    if (tmp) snprintf(tmp, cap, "%s.tmp.%ld", path, (long)getpid());
    return tmp;
}

mrnn_status mrnn__atomic_open(mrnn__atomic_file *f, const char *path)
{
    f->fd = -1;
    f->path = path;
    f->tmp = temporary_name(path);
    if (!f->tmp) return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", path);
    f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        int e = errno;
        mrnn__free(f->tmp);
        f->tmp = NULL;
        return mrnn__fail(MRNN_ERR_IO, "%s: cannot create: %s", path, strerror(e));
    }
    return MRNN_OK;
}

void mrnn__atomic_abort(mrnn__atomic_file *f)
{
    if (f->fd >= 0) close(f->fd);
    if (f->tmp) unlink(f->tmp);
    mrnn__free(f->tmp);
    f->fd = -1;
    f->tmp = NULL;
}

mrnn_status mrnn__atomic_write(mrnn__atomic_file *f, const void *data, size_t len)
{
    if (mrnn__write_all(f->fd, data, len) == 0) return MRNN_OK;
    int e = errno;
    mrnn__atomic_abort(f);
    return mrnn__fail(MRNN_ERR_IO, "%s: write error: %s", f->path, strerror(e));
}

mrnn_status mrnn__atomic_commit(mrnn__atomic_file *f)
{
    if (fsync(f->fd) != 0) {
        int e = errno;
        mrnn__atomic_abort(f);
        return mrnn__fail(MRNN_ERR_IO, "%s: write error: %s", f->path, strerror(e));
    }
    int closed = close(f->fd);
    f->fd = -1;
    if (closed != 0 || rename(f->tmp, f->path) != 0) {
        int e = errno;
        mrnn__atomic_abort(f);
        return mrnn__fail(MRNN_ERR_IO, "%s: cannot replace: %s", f->path, strerror(e));
    }
    size_t plen = strlen(f->path);
    memcpy(f->tmp, f->path, plen + 1);
    sync_folder(f->tmp);
    mrnn__free(f->tmp);
    f->tmp = NULL;
    return MRNN_OK;
}

int mrnn__open_unnamed(const char *dir)
{
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
#endif
    size_t n = strlen(dir) + 32;
    char *tmpl = mrnn__malloc(n);
    if (!tmpl) {
        errno = ENOMEM;
        return -1;
    }
    snprintf(tmpl, n, "%s/.musicrnn-tmp.XXXXXX", dir);
    int fd2 = mkstemp(tmpl);
    if (fd2 >= 0) {
        int flags = fcntl(fd2, F_GETFD);
        if (flags >= 0) (void)fcntl(fd2, F_SETFD, flags | FD_CLOEXEC);
        unlink(tmpl);
    }
    mrnn__free(tmpl);
    return fd2;
}

/* The process's umask, read without changing it (umask(2) can only set it, which races with other
 * threads creating files); 022 where /proc does not say. */
static mode_t process_umask(void)
{
    mode_t mask = 022;
    FILE *f = fopen("/proc/self/status", "re");
    if (!f) return mask;
    char line[256];
    unsigned m;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Umask: %o", &m) == 1) {
            mask = (mode_t)(m & 0777);
            break;
        }
    fclose(f);
    return mask;
}

int mrnn__publish_unnamed(int fd, const char *path)
{
    char *tmp = temporary_name(path);
    if (!tmp) return 1; /* the copy path reports the shortage with the path */
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    /* The mode a file the library creates gets (O_TMPFILE gives 0600). */
    int linked = fchmod(fd, 0644 & ~process_umask()) == 0 && fsync(fd) == 0;
    if (linked) {
        (void)unlink(tmp); /* a leftover of a killed run with this pid */
        linked = linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0;
    }
    if (!linked) {
        mrnn__free(tmp);
        return 1;
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        mrnn__free(tmp);
        errno = e;
        return -1;
    }
    memcpy(tmp, path, strlen(path) + 1);
    sync_folder(tmp);
    mrnn__free(tmp);
    return 0;
}

mrnn_status mrnn__write_file_atomic(const char *path, const void *data, size_t len)
{
    mrnn__atomic_file f;
    mrnn_status st = mrnn__atomic_open(&f, path);
    if (st == MRNN_OK) st = mrnn__atomic_write(&f, data, len);
    if (st == MRNN_OK) st = mrnn__atomic_commit(&f);
    return st;
}

/* Slicing by 8: eight bytes per step through eight tables. A corpus of Lakh's size is gigabytes of
 * tokens, and the byte-at-a-time loop took 9 % of preprocessing. */
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int s = 1; s < 8; s++) crc_table[s][i] = (crc_table[s - 1][i] >> 8) ^ crc_table[0][crc_table[s - 1][i] & 0xFF];
}

uint32_t mrnn__crc32(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&crc_once, crc_init);
    const uint32_t(*t)[256] = (const uint32_t(*)[256])crc_table;
    const uint8_t *p = data;
    crc = ~crc;
    for (; len >= 8; len -= 8, p += 8) {
        /* Bytes assembled explicitly: the same on hosts of either byte order. */
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^ t[3][hi & 0xFF] ^
              t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
    }
    while (len--) crc = t[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* ---- writing ---- */

void mrnn__wbuf_bytes(mrnn__wbuf *b, const void *p, size_t n)
{
    if (b->failed || n == 0) return;
    if (b->len + n < b->len || mrnn__grow((void **)&b->data, &b->cap, b->len + n, 1) != 0) {
        b->failed = 1;
        return;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void mrnn__wbuf_u8(mrnn__wbuf *b, uint8_t v)
{
    mrnn__wbuf_bytes(b, &v, 1);
}

void mrnn__wbuf_u32(mrnn__wbuf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    mrnn__wbuf_bytes(b, x, 4);
}

void mrnn__wbuf_u64(mrnn__wbuf *b, uint64_t v)
{
    mrnn__wbuf_u32(b, (uint32_t)v);
    mrnn__wbuf_u32(b, (uint32_t)(v >> 32));
}

void mrnn__wbuf_i32(mrnn__wbuf *b, int32_t v)
{
    mrnn__wbuf_u32(b, (uint32_t)v);
}

void mrnn__wbuf_f32(mrnn__wbuf *b, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    mrnn__wbuf_u32(b, u);
}

void mrnn__wbuf_f64(mrnn__wbuf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    mrnn__wbuf_u64(b, u);
}

/* The formats are little-endian; on a little-endian host arrays are copied as they are. */
int mrnn__host_is_le(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

void mrnn__wbuf_f32s(mrnn__wbuf *b, const float *v, size_t n)
{
    if (mrnn__host_is_le() && n <= SIZE_MAX / 4) {
        mrnn__wbuf_bytes(b, v, n * 4);
        return;
    }
    for (size_t i = 0; i < n; i++) mrnn__wbuf_f32(b, v[i]);
}

void mrnn__wbuf_u32s(mrnn__wbuf *b, const uint32_t *v, size_t n)
{
    if (mrnn__host_is_le() && n <= SIZE_MAX / 4) {
        mrnn__wbuf_bytes(b, v, n * 4);
        return;
    }
    for (size_t i = 0; i < n; i++) mrnn__wbuf_u32(b, v[i]);
}

void mrnn__wbuf_str(mrnn__wbuf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    mrnn__wbuf_u32(b, (uint32_t)n);
    mrnn__wbuf_bytes(b, s, n);
}

void mrnn__wbuf_free(mrnn__wbuf *b)
{
    mrnn__free(b->data);
    memset(b, 0, sizeof *b);
}

/* ---- reading ---- */

const uint8_t *mrnn__rbuf_take(mrnn__rbuf *b, size_t n)
{
    if (b->bad || n > b->len - b->pos) {
        b->bad = 1;
        return NULL;
    }
    const uint8_t *p = b->data + b->pos;
    b->pos += n;
    return p;
}

void mrnn__rbuf_bytes(mrnn__rbuf *b, void *out, size_t n)
{
    const uint8_t *p = mrnn__rbuf_take(b, n);
    if (p)
        memcpy(out, p, n);
    else
        memset(out, 0, n);
}

uint8_t mrnn__rbuf_u8(mrnn__rbuf *b)
{
    const uint8_t *p = mrnn__rbuf_take(b, 1);
    return p ? p[0] : 0;
}

uint32_t mrnn__rbuf_u32(mrnn__rbuf *b)
{
    const uint8_t *p = mrnn__rbuf_take(b, 4);
    if (!p) return 0;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t mrnn__rbuf_u64(mrnn__rbuf *b)
{
    uint64_t lo = mrnn__rbuf_u32(b);
    uint64_t hi = mrnn__rbuf_u32(b);
    return lo | hi << 32;
}

int32_t mrnn__rbuf_i32(mrnn__rbuf *b)
{
    return (int32_t)mrnn__rbuf_u32(b);
}

float mrnn__rbuf_f32(mrnn__rbuf *b)
{
    uint32_t u = mrnn__rbuf_u32(b);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

double mrnn__rbuf_f64(mrnn__rbuf *b)
{
    uint64_t u = mrnn__rbuf_u64(b);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

int mrnn__rbuf_f32s(mrnn__rbuf *b, float *out, size_t n)
{
    if (n > SIZE_MAX / 4) {
        b->bad = 1;
        return -1;
    }
    if (mrnn__host_is_le()) {
        mrnn__rbuf_bytes(b, out, n * 4);
    } else {
        for (size_t i = 0; i < n; i++) out[i] = mrnn__rbuf_f32(b);
    }
    return b->bad ? -1 : 0;
}

int mrnn__rbuf_u32s(mrnn__rbuf *b, uint32_t *out, size_t n)
{
    if (n > SIZE_MAX / 4) {
        b->bad = 1;
        return -1;
    }
    if (mrnn__host_is_le()) {
        mrnn__rbuf_bytes(b, out, n * 4);
    } else {
        for (size_t i = 0; i < n; i++) out[i] = mrnn__rbuf_u32(b);
    }
    return b->bad ? -1 : 0;
}

char *mrnn__rbuf_str(mrnn__rbuf *b, size_t max_len)
{
    uint32_t n = mrnn__rbuf_u32(b);
    if (b->bad || n > max_len) {
        b->bad = 1;
        return NULL;
    }
    const uint8_t *p = mrnn__rbuf_take(b, n);
    if (!p) return NULL;
    if (memchr(p, 0, n)) { /* embedded NUL: not a string we wrote */
        b->bad = 1;
        return NULL;
    }
    char *s = mrnn__malloc((size_t)n + 1);
    if (!s) {
        b->bad = 1;
        b->nomem = 1;
        return NULL;
    }
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

/* ---- the container ---- */

void mrnn__container_begin(const mrnn__container *k, mrnn__wbuf *b)
{
    mrnn__wbuf_bytes(b, k->magic, 8);
    mrnn__wbuf_u32(b, k->format);
}

mrnn_status mrnn__container_save(const mrnn__container *k, mrnn__wbuf *b, const char *path)
{
    if (!b->failed) mrnn__wbuf_u32(b, mrnn__crc32(0, b->data, b->len));
    mrnn_status st;
    if (b->failed)
        st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory serialising the %s", path, k->noun);
    else
        st = mrnn__write_file_atomic(path, b->data, b->len);
    mrnn__wbuf_free(b);
    return st;
}

mrnn_status mrnn__container_corrupt(const mrnn__container *k, const char *path, const char *what)
{
    return mrnn__fail(MRNN_ERR_FORMAT, "%s: corrupt %s file: %s", path, k->noun, what);
}

int mrnn__container_match(const mrnn__container *const *kinds, int n_kinds, const uint8_t *magic, size_t len)
{
    if (len < 8) return 0;
    for (int i = 0; i < n_kinds; i++)
        if (memcmp(magic, kinds[i]->magic, 8) == 0) return i + 1;
    return 0;
}

mrnn_status mrnn__container_load(const mrnn__container *k, const char *path, uint8_t **data, mrnn__rbuf *body,
                                 uint32_t *format)
{
    size_t len = 0;
    mrnn_status st = mrnn__read_file(path, k->max_bytes, data, &len);
    if (st != MRNN_OK) return st;
    const mrnn__container *const one[1] = {k};
    if (!mrnn__container_match(one, 1, *data, len))
        st = mrnn__fail(MRNN_ERR_FORMAT, "%s: not a libmusicrnn %s file (bad magic)", path, k->noun);
    else if (len < 16)
        st = mrnn__fail(MRNN_ERR_FORMAT, "%s: truncated %s file (%zu bytes)", path, k->noun, len);
    if (st != MRNN_OK) goto fail;
    mrnn__rbuf tail = {*data + len - 4, 4, 0, 0, 0};
    if (mrnn__rbuf_u32(&tail) != mrnn__crc32(0, *data, len - 4)) {
        st = mrnn__fail(MRNN_ERR_FORMAT, "%s: %s file checksum mismatch (file corrupt or truncated)", path, k->noun);
        goto fail;
    }
    *body = (mrnn__rbuf){*data, len - 4, 8, 0, 0};
    *format = mrnn__rbuf_u32(body);
    if (*format < k->oldest || *format > k->format) {
        if (*format > k->format)
            st = mrnn__fail(MRNN_ERR_VERSION, "%s: %s format version %u is newer than this library's %u", path, k->noun,
                            *format, k->format);
        else
            st = mrnn__fail(MRNN_ERR_VERSION, "%s: %s format version %u is not supported (this library reads %u to %u)",
                            path, k->noun, *format, k->oldest, k->format);
        goto fail;
    }
    return MRNN_OK;
fail:
    mrnn__free(*data);
    *data = NULL;
    return st;
}
