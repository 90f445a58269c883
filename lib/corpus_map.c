/* Out-of-core corpora: mrnn_corpus_map() keeps a corpus's report, pieces and vocabulary in memory
 * but its token array in a read-only file mapping, so the kernel pages tokens in and out as the
 * batcher draws windows, and a corpus larger than the memory the process may use can be trained on.
 *
 * The corpus file is not mapped as it is: in formats 1 and 2 its token array follows
 * variable-length strings, so it has no alignment a uint32_t pointer may rely on, and in every
 * format a file another process rewrites under a mapping would feed unchecked ids to the
 * embedding. So the tokens are streamed once, checked, into an unnamed temporary file (O_TMPFILE:
 * nobody else can open it, it vanishes with the last reference), and that copy is mapped. Memory
 * stays bounded by the metadata and one copy buffer whatever the corpus size. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "corpus.h"
#include "error.h"
#include "fileio.h"

#define COPY_IDS (1u << 18) /* ids per copy chunk: 1 MiB */
#define HEAD_START (1u << 20)

/* An unnamed temporary file: in the corpus's folder (usually the disk the corpus lives on), else
 * in $TMPDIR, else /tmp. */
static int open_temporary(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if ((size_t)(slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
    else
        dir[0] = 0;
    const char *candidates[3] = {dir[0] ? dir : NULL, getenv("TMPDIR"), "/tmp"};
    for (int i = 0; i < 3; i++) {
        if (!candidates[i] || !*candidates[i]) continue;
        int fd = mrnn__open_unnamed(candidates[i]);
        if (fd >= 0) return fd;
    }
    return -1;
}

void mrnn__corpus_unmap(struct mrnn_corpus *c)
{
    if (c->map) munmap(c->map, c->map_len);
    c->map = NULL;
    c->ids = NULL;
}

/* CRC of everything before the trailing checksum, read in chunks. */
static mrnn_status check_crc(int fd, size_t len, const char *path, uint8_t *buf, size_t buf_len)
{
    const mrnn__container *k = &mrnn__corpus_container;
    uint32_t crc = 0;
    for (size_t at = 0; at < len - 4;) {
        size_t n = len - 4 - at < buf_len ? len - 4 - at : buf_len;
        if (mrnn__read_at(fd, buf, n, (off_t)at) != 0) return mrnn__fail(MRNN_ERR_IO, "%s: read error", path);
        crc = mrnn__crc32(crc, buf, n);
        at += n;
    }
    uint8_t tail[4];
    if (mrnn__read_at(fd, tail, 4, (off_t)(len - 4)) != 0) return mrnn__fail(MRNN_ERR_IO, "%s: read error", path);
    mrnn__rbuf t = {tail, 4, 0, 0, 0};
    if (mrnn__rbuf_u32(&t) != crc)
        return mrnn__fail(MRNN_ERR_FORMAT, "%s: %s file checksum mismatch (file corrupt or truncated)", path, k->noun);
    return MRNN_OK;
}

/* The container checks of mrnn__container_load (fileio.h), in its order and with its
 * classification, on a file read in pieces: magic, size, checksum, version. */
static mrnn_status check_container(int fd, size_t len, const char *path, uint32_t *format)
{
    const mrnn__container *k = &mrnn__corpus_container;
    const mrnn__container *const one[1] = {k};
    uint8_t head[12] = {0};
    size_t n_head = len < sizeof head ? len : sizeof head;
    if (mrnn__read_at(fd, head, n_head, 0) != 0) return mrnn__fail(MRNN_ERR_IO, "%s: read error", path);
    if (!mrnn__container_match(one, 1, head, n_head))
        return mrnn__fail(MRNN_ERR_FORMAT, "%s: not a libmusicrnn %s file (bad magic)", path, k->noun);
    if (len < 16) return mrnn__fail(MRNN_ERR_FORMAT, "%s: truncated %s file (%zu bytes)", path, k->noun, len);
    if (len > k->max_bytes && len > ((size_t)1 << 40))
        return mrnn__fail(MRNN_ERR_LIMIT, "%s: larger than 1 TiB", path);
    uint8_t *buf = mrnn__malloc((size_t)COPY_IDS * 4);
    if (!buf) return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", path);
    mrnn_status st = check_crc(fd, len, path, buf, (size_t)COPY_IDS * 4);
    mrnn__free(buf);
    if (st != MRNN_OK) return st;
    mrnn__rbuf b = {head, 12, 8, 0, 0};
    *format = mrnn__rbuf_u32(&b);
    if (*format > k->format)
        return mrnn__fail(MRNN_ERR_VERSION, "%s: %s format version %u is newer than this library's %u", path, k->noun,
                          *format, k->format);
    if (*format < k->oldest)
        return mrnn__fail(MRNN_ERR_VERSION, "%s: %s format version %u is not supported (this library reads %u to %u)",
                          path, k->noun, *format, k->oldest, k->format);
    return MRNN_OK;
}

/* Format 3: the metadata lies between the tokens and the checksum, located by the token count at
 * its end (corpus_file.c); read it whole. */
static mrnn_status read_meta_after_ids(int fd, size_t body_len, uint32_t format, const char *path, mrnn_corpus **out,
                                       uint64_t *n_ids, size_t *ids_off)
{
    uint8_t first4[4], last8[8];
    size_t len = body_len - 12; /* the body without magic and version */
    if (len < 12) return mrnn__container_corrupt(&mrnn__corpus_container, path, "inconsistent or truncated contents");
    if (mrnn__read_at(fd, first4, 4, 12) != 0 || mrnn__read_at(fd, last8, 8, (off_t)(body_len - 8)) != 0)
        return mrnn__fail(MRNN_ERR_IO, "%s: read error", path);
    size_t meta_off, at;
    uint64_t declared;
    if (mrnn__corpus_locate(first4, last8, len, format, &meta_off, &at, &declared) != 0)
        return mrnn__container_corrupt(&mrnn__corpus_container, path, "inconsistent or truncated contents");
    size_t meta_len = len - meta_off;
    uint8_t *meta = mrnn__malloc(meta_len);
    if (!meta) return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory reading the corpus header", path);
    if (mrnn__read_at(fd, meta, meta_len, (off_t)(12 + meta_off)) != 0) {
        mrnn__free(meta);
        return mrnn__fail(MRNN_ERR_IO, "%s: read error", path);
    }
    mrnn__rbuf b = {meta, meta_len, 0, 0, 0};
    mrnn_status st = mrnn__corpus_parse_meta(&b, format, path, out, n_ids);
    mrnn__free(meta);
    if (st == MRNN_OK && (b.pos != meta_len || *n_ids != declared)) {
        mrnn_corpus_free(*out);
        *out = NULL;
        st = mrnn__container_corrupt(&mrnn__corpus_container, path, "inconsistent or truncated contents");
    }
    *ids_off = 12 + at;
    return st;
}

/* Parse the metadata: format 3 after the tokens; formats 1 and 2 from a head of the file that
 * grows until it holds all of it. */
static mrnn_status read_meta(int fd, size_t body_len, uint32_t format, const char *path, mrnn_corpus **out,
                             uint64_t *n_ids, size_t *ids_off)
{
    if (format >= 3) return read_meta_after_ids(fd, body_len, format, path, out, n_ids, ids_off);
    size_t head_len = body_len < HEAD_START ? body_len : HEAD_START;
    for (;;) {
        uint8_t *head = mrnn__malloc(head_len);
        if (!head) return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory reading the corpus header", path);
        if (mrnn__read_at(fd, head, head_len, 0) != 0) {
            mrnn__free(head);
            return mrnn__fail(MRNN_ERR_IO, "%s: read error", path);
        }
        mrnn__rbuf b = {head, head_len, 12, 0, 0};
        mrnn_status st = mrnn__corpus_parse_meta(&b, format, path, out, n_ids);
        mrnn__free(head);
        if (st == MRNN_OK) {
            *ids_off = b.pos;
            return MRNN_OK;
        }
        /* A head cut inside the metadata reads as corruption: only the whole file can tell. */
        if (st != MRNN_ERR_FORMAT || head_len == body_len) return st;
        head_len = head_len > body_len / 2 ? body_len : head_len * 2;
    }
}

/* Stream n ids from fd at off into the temporary tmp, checking each against the vocabulary. */
static mrnn_status copy_ids(const mrnn_corpus *c, int fd, off_t off, uint64_t n, int tmp, const char *path)
{
    uint8_t *raw = mrnn__malloc((size_t)COPY_IDS * 4);
    uint32_t *ids = mrnn__malloc((size_t)COPY_IDS * sizeof *ids);
    mrnn_status st = MRNN_OK;
    if (!raw || !ids) st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory mapping the corpus", path);
    for (uint64_t done = 0; done < n && st == MRNN_OK;) {
        size_t k = n - done < COPY_IDS ? (size_t)(n - done) : COPY_IDS;
        if (mrnn__read_at(fd, raw, k * 4, off + (off_t)(done * 4)) != 0) {
            st = mrnn__fail(MRNN_ERR_IO, "%s: read error", path);
            break;
        }
        mrnn__rbuf b = {raw, k * 4, 0, 0, 0};
        mrnn__rbuf_u32s(&b, ids, k); /* little-endian on every host */
        if (!mrnn__corpus_ids_valid(c, ids, k)) {
            st = mrnn__container_corrupt(&mrnn__corpus_container, path, "inconsistent or truncated contents");
            break;
        }
        if (mrnn__write_all(tmp, ids, k * sizeof *ids) != 0)
            st = mrnn__fail(MRNN_ERR_IO, "%s: cannot write the temporary copy of its tokens (%s)", path,
                            strerror(errno));
        done += k;
    }
    mrnn__free(raw);
    mrnn__free(ids);
    return st;
}

MRNN_API mrnn_status mrnn_corpus_map(mrnn_corpus **out, const char *path)
{
    MRNN_CHECK_ARG(out, "out");
    *out = NULL;
    MRNN_CHECK_ARG(path, "path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return mrnn__fail(MRNN_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    struct stat sb;
    mrnn_status st = MRNN_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) st = mrnn__fail(MRNN_ERR_IO, "%s: not a regular file", path);
    size_t len = st == MRNN_OK ? (size_t)sb.st_size : 0;
    uint32_t format = 0;
    if (st == MRNN_OK) st = check_container(fd, len, path, &format);
    mrnn_corpus *c = NULL;
    uint64_t n_ids = 0;
    size_t ids_off = 0;
    if (st == MRNN_OK) st = read_meta(fd, len - 4, format, path, &c, &n_ids, &ids_off);
    /* Formats 1 and 2: the tokens fill the file after the metadata (format 3 checked its layout). */
    if (st == MRNN_OK && format < 3 &&
        (ids_off > len - 4 || n_ids != (len - 4 - ids_off) / 4 || (len - 4 - ids_off) % 4))
        st = mrnn__container_corrupt(&mrnn__corpus_container, path, "inconsistent or truncated contents");
    int tmp = -1;
    if (st == MRNN_OK && n_ids > 0) {
        tmp = open_temporary(path);
        if (tmp < 0) st = mrnn__fail(MRNN_ERR_IO, "%s: cannot create a temporary file for its tokens (%s)", path,
                                     strerror(errno));
    }
    if (st == MRNN_OK && n_ids > 0) st = copy_ids(c, fd, (off_t)ids_off, n_ids, tmp, path);
    if (st == MRNN_OK && n_ids > 0) {
        size_t bytes = (size_t)n_ids * sizeof(uint32_t);
        void *map = mmap(NULL, bytes, PROT_READ, MAP_SHARED, tmp, 0);
        if (map == MAP_FAILED) {
            st = mrnn__fail(errno == ENOMEM ? MRNN_ERR_NOMEM : MRNN_ERR_IO, "%s: cannot map its tokens (%s)", path,
                            strerror(errno));
        } else {
            c->map = map;
            c->map_len = bytes;
            c->ids = map;
            c->n_ids = c->cap_ids = (size_t)n_ids;
        }
    }
    if (tmp >= 0) close(tmp); /* the mapping keeps the file */
    close(fd);
    if (st == MRNN_OK && n_ids == 0) {
        c->ids = mrnn__malloc(sizeof *c->ids);
        if (!c->ids) st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", path);
    }
    if (st == MRNN_OK) {
        st = mrnn__corpus_index_steps(c);
        if (st == MRNN_ERR_FORMAT) mrnn__error_prefix(path);
    }
    if (st != MRNN_OK) {
        mrnn_corpus_free(c);
        return st;
    }
    c->finished = 1;
    *out = c;
    return MRNN_OK;
}
