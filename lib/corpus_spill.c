/* The spill file of a corpus built with mrnn_corpus_params::spill_dir: the committed files' ids
 * leave memory in chunks, in commit order, so that building a corpus needs memory for its report
 * and pieces but not for its tokens; saving streams them back into the corpus file.
 *
 * The file is unnamed (fileio.h: mrnn__open_unnamed), so no other process can remove or change it
 * under the corpus, and nothing is left behind by a crash. It holds host-order ids as encoded; a
 * notechord vocabulary is renumbered only when the corpus is finished, so the spill keeps the old
 * ids, a histogram of them gives the unknown count the corpus header needs before the tokens, and
 * the renumbering is applied while saving.
 *
 * The file starts as a corpus file does (format 3: magic, version, padding, then the tokens), and
 * its checksum is kept up to date as ids are written. So saving a corpus whose ids are final
 * appends the metadata and the checksum and links the file under the corpus's path: the tokens,
 * gigabytes for Lakh, are written once. Saving copies them instead when they are renumbered, when
 * the file cannot be linked there (another file system), on a big-endian host (the spill holds
 * host-order ids), and for every save after the first (the first file now owns the bytes). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "corpus.h"
#include "error.h"
#include "fileio.h"
#include "vocab.h"

#define CHUNK_IDS ((size_t)1 << 18) /* 1 MiB of ids per write and per read */

typedef struct mrnn__spill {
    int fd;
    char *dir;
    uint64_t *hist; /* [n_hist] occurrences of each pre-finish id in the file (notechord only) */
    size_t n_hist;
    uint32_t *remap; /* [n_remap] pre-finish id -> final id, or NULL: ids are final */
    uint32_t n_remap;
    uint32_t crc;       /* of the file's bytes so far (little-endian hosts) */
    int published;      /* the file became a saved corpus file: it must not change again */
    mrnn_status failed; /* MRNN_OK, or the error of a write that failed... */
    char *why;          /* ...and its message */
} mrnn__spill;

/* Only a vocabulary that grows while files are added is renumbered by finish (corpus.c). */
static int renumbered(const mrnn_corpus *c)
{
    return c->vocab->enc.encoding == MRNN_ENCODING_NOTECHORD && !c->vocab->frozen;
}

mrnn_status mrnn__spill_open(mrnn_corpus *c, const char *dir)
{
    mrnn__spill *s = mrnn__calloc(1, sizeof *s);
    if (!s) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory creating a corpus");
    s->fd = -1;
    s->dir = mrnn__strdup(dir);
    if (!s->dir) {
        mrnn__spill_free(s);
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory creating a corpus");
    }
    s->fd = mrnn__open_unnamed(dir);
    if (s->fd < 0) {
        int e = errno;
        mrnn__spill_free(s);
        return mrnn__fail(e == ENOMEM ? MRNN_ERR_NOMEM : MRNN_ERR_IO,
                          "spill_dir %s: cannot create a temporary file for the corpus tokens (%s)", dir, strerror(e));
    }
    mrnn__wbuf head = {0};
    mrnn__corpus_begin(&head);
    if (head.failed) {
        mrnn__wbuf_free(&head);
        mrnn__spill_free(s);
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory creating a corpus");
    }
    int wrote = mrnn__write_all(s->fd, head.data, head.len) == 0;
    int e = errno;
    if (wrote) s->crc = mrnn__crc32(0, head.data, head.len);
    mrnn__wbuf_free(&head);
    if (!wrote) {
        mrnn__spill_free(s);
        return mrnn__fail(MRNN_ERR_IO, "spill_dir %s: cannot write the temporary file for the corpus tokens (%s)", dir,
                          strerror(e));
    }
    c->spill = s;
    c->params.spill_dir = s->dir;
    return MRNN_OK;
}

void mrnn__spill_free(mrnn__spill *s)
{
    if (!s) return;
    if (s->fd >= 0) close(s->fd);
    mrnn__free(s->dir);
    mrnn__free(s->hist);
    mrnn__free(s->remap);
    mrnn__free(s->why);
    mrnn__free(s);
}

static mrnn_status failed_before(const mrnn__spill *s)
{
    return mrnn__fail(s->failed, "%s", s->why ? s->why : "the corpus token spill file failed earlier");
}

static mrnn_status count_ids(mrnn__spill *s, const uint32_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t id = ids[i];
        if (id >= s->n_hist) {
            size_t want = (size_t)id + 1 > 2 * s->n_hist ? (size_t)id + 1 : 2 * s->n_hist;
            uint64_t *h = mrnn__realloc(s->hist, want * sizeof *h);
            if (!h) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory counting the corpus tokens");
            memset(h + s->n_hist, 0, (want - s->n_hist) * sizeof *h);
            s->hist = h;
            s->n_hist = want;
        }
        s->hist[id]++;
    }
    return MRNN_OK;
}

mrnn_status mrnn__spill_flush(mrnn_corpus *c, int all)
{
    mrnn__spill *s = c->spill;
    if (!s) return MRNN_OK;
    if (s->failed != MRNN_OK) return failed_before(s);
    size_t n = (size_t)(c->n_ids - c->spilled);
    if (n == 0 || (!all && n < CHUNK_IDS)) return MRNN_OK;
    mrnn_status st = renumbered(c) ? count_ids(s, c->ids, n) : MRNN_OK;
    if (st != MRNN_OK) return st;
    if (mrnn__write_all(s->fd, c->ids, n * sizeof *c->ids) != 0) {
        st = mrnn__fail(MRNN_ERR_IO, "spill_dir %s: cannot write the corpus tokens to the temporary file there (%s)",
                        s->dir, strerror(errno));
        s->failed = st;
        s->why = mrnn__strdup(mrnn_last_error());
        return st;
    }
    if (mrnn__host_is_le()) s->crc = mrnn__crc32(s->crc, c->ids, n * sizeof *c->ids);
    c->spilled += n;
    /* Keep the buffer: the next files refill it, so it is allocated once per corpus. */
    return MRNN_OK;
}

uint64_t mrnn__spill_count_unknown(const mrnn_corpus *c, const uint32_t *remap, uint32_t n_old, uint32_t unk)
{
    const mrnn__spill *s = c->spill;
    uint64_t n = 0;
    for (size_t i = 0; i < s->n_hist && i < n_old; i++)
        if (remap[i] != i && remap[i] == unk) n += s->hist[i];
    return n;
}

void mrnn__spill_keep_remap(mrnn_corpus *c, uint32_t *remap, uint32_t n_old)
{
    mrnn__spill *s = c->spill;
    mrnn__free(s->remap);
    s->remap = remap;
    s->n_remap = n_old;
    mrnn__free(s->hist); /* counted; not needed again */
    s->hist = NULL;
    s->n_hist = 0;
}

/* The spill file as the corpus file: 0 published, 1 not possible here (nothing changed: the
 * caller copies), -1 failed (error set). */
static int publish(mrnn__spill *s, uint64_t n_ids, const mrnn__wbuf *meta, const char *path)
{
    off_t end = (off_t)(MRNN__CORPUS_IDS_AT + n_ids * sizeof(uint32_t));
    uint8_t crc[4];
    uint32_t v = mrnn__crc32(s->crc, meta->data, meta->len);
    for (int i = 0; i < 4; i++) crc[i] = (uint8_t)(v >> (8 * i));
    int r = 1;
    if (mrnn__write_at(s->fd, meta->data, meta->len, end) == 0 &&
        mrnn__write_at(s->fd, crc, 4, end + (off_t)meta->len) == 0)
        r = mrnn__publish_unnamed(s->fd, path);
    if (r == 0) {
        s->published = 1;
        return 0;
    }
    int e = errno;
    /* Back to the tokens alone, for the copy or a later save; a failed truncation leaves bytes
     * after them that the copy never reads. */
    (void)ftruncate(s->fd, end);
    if (r < 0) (void)mrnn__fail(MRNN_ERR_IO, "%s: cannot replace: %s", path, strerror(e));
    return r;
}

mrnn_status mrnn__spill_save(mrnn_corpus *c, mrnn__wbuf *meta, const char *path)
{
    mrnn__spill *s = c->spill;
    if (s->failed != MRNN_OK) {
        mrnn__wbuf_free(meta);
        return failed_before(s);
    }
    if (meta->failed) {
        mrnn__wbuf_free(meta);
        return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory serialising the corpus", path);
    }
    if (!s->remap && !s->published && mrnn__host_is_le()) {
        int r = publish(s, c->spilled, meta, path);
        if (r <= 0) {
            mrnn__wbuf_free(meta);
            return r == 0 ? MRNN_OK : MRNN_ERR_IO;
        }
    }
    uint32_t *ids = mrnn__malloc(CHUNK_IDS * sizeof *ids);
    mrnn__wbuf out = {0};
    if (!ids) {
        mrnn__wbuf_free(meta);
        return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory saving the corpus", path);
    }
    mrnn__corpus_begin(&out);
    mrnn__atomic_file f;
    uint32_t crc = mrnn__crc32(0, out.data, out.len);
    mrnn_status st = out.failed ? mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory saving the corpus", path)
                                : mrnn__atomic_open(&f, path);
    if (st == MRNN_OK) st = mrnn__atomic_write(&f, out.data, out.len);
    for (uint64_t done = 0; done < c->spilled && st == MRNN_OK;) {
        size_t k = c->spilled - done < CHUNK_IDS ? (size_t)(c->spilled - done) : CHUNK_IDS;
        if (mrnn__read_at(s->fd, ids, k * sizeof *ids, (off_t)(MRNN__CORPUS_IDS_AT + done * sizeof *ids)) != 0) {
            int e = errno;
            mrnn__atomic_abort(&f);
            st = mrnn__fail(MRNN_ERR_IO, "%s: cannot read the corpus tokens back from the temporary file in %s (%s)", path,
                            s->dir, strerror(e));
            break;
        }
        if (s->remap)
            for (size_t i = 0; i < k; i++) ids[i] = ids[i] < s->n_remap ? s->remap[ids[i]] : ids[i];
        out.len = 0;
        mrnn__wbuf_u32s(&out, ids, k); /* little-endian on every host */
        if (out.failed) {
            mrnn__atomic_abort(&f);
            st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory saving the corpus", path);
            break;
        }
        crc = mrnn__crc32(crc, out.data, out.len);
        st = mrnn__atomic_write(&f, out.data, out.len);
        done += k;
    }
    if (st == MRNN_OK) {
        crc = mrnn__crc32(crc, meta->data, meta->len);
        st = mrnn__atomic_write(&f, meta->data, meta->len);
    }
    if (st == MRNN_OK) {
        out.len = 0;
        mrnn__wbuf_u32(&out, crc);
        if (out.failed) {
            mrnn__atomic_abort(&f);
            st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory saving the corpus", path);
        }
    }
    if (st == MRNN_OK) st = mrnn__atomic_write(&f, out.data, out.len);
    if (st == MRNN_OK) st = mrnn__atomic_commit(&f);
    mrnn__wbuf_free(&out);
    mrnn__wbuf_free(meta);
    mrnn__free(ids);
    return st;
}
