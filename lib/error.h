/* Internal error reporting: every failure path sets a per-thread message and returns its status. */
#ifndef MRNN_ERROR_H
#define MRNN_ERROR_H

#include "musicrnn/musicrnn.h"

/* Record "message" (printf-style) as this thread's last error and return status, so that a
 * failure path reads: return mrnn__fail(MRNN_ERR_IO, "%s: %s", path, strerror(errno)); */
mrnn_status mrnn__fail(mrnn_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix the current message with "prefix: " (used to add a file name to an error raised deeper). */
void mrnn__error_prefix(const char *prefix);

/* Guards for the first lines of public functions. */
#define MRNN_CHECK_ARG(cond, name)                                                                   \
    do {                                                                                             \
        if (!(cond)) return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: invalid argument '%s'", __func__, name); \
    } while (0)

#endif
