/* Reads items on helper threads and hands them to the calling thread in index order: the
 * parallel half of mrnn_corpus_add_dir(). Knows nothing about MIDI or corpora. */
#ifndef MRNN_CORPUS_READER_H
#define MRNN_CORPUS_READER_H

#include <stddef.h>
#include <stdint.h>

#include "musicrnn/musicrnn.h"
#include "piece.h"
#include "steps.h"

/* One item as read: a piece, and optionally its encoding (when the reader could encode it without
 * touching shared state). */
typedef struct mrnn__read_item {
    mrnn__piece piece;
    mrnn__steps steps;
    int encoded; /* steps hold the encoding of piece */
    uint64_t bytes; /* input bytes consumed (for progress) */
} mrnn__read_item;

/* Read item i into *it (piece and steps initialised and empty, encoded 0); may run on any thread at
 * the same time as other reads, so it must touch nothing shared that is written. On failure this
 * thread's mrnn_last_error() says why. */
typedef mrnn_status (*mrnn__read_fn)(void *ctx, size_t i, mrnn__read_item *it);

/* Take the result of item i, on the calling thread, in order 0, 1, 2, ... st/reason are the read's
 * outcome (reason "" on success); the item may be consumed (it is cleared afterwards). A status
 * other than MRNN_OK stops the run and is returned. */
typedef mrnn_status (*mrnn__commit_fn)(void *ctx, size_t i, mrnn_status st, const char *reason, mrnn__read_item *it);

/* Run read and commit over items 0..n-1 with `threads` reading threads (1: everything on the
 * calling thread, no thread started). At most a few items per thread are read ahead of the
 * commits, which bounds the memory in flight. If helper threads cannot be started, the work is
 * done on the calling thread. Returns the first status a commit returned, or MRNN_OK. */
mrnn_status mrnn__read_ordered(size_t n, unsigned threads, mrnn__read_fn read, mrnn__commit_fn commit, void *ctx);

#endif
