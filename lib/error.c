/* Status strings and the per-thread "last error" message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

#define MRNN_ERROR_CAP 1024

/* Per thread, so that two threads using two handles never see each other's messages. */
static _Thread_local char last_error[MRNN_ERROR_CAP];

MRNN_API const char *mrnn_status_string(mrnn_status status)
{
    switch (status) {
    case MRNN_OK: return "success";
    case MRNN_ERR_INVALID_ARG: return "invalid argument";
    case MRNN_ERR_NOMEM: return "out of memory";
    case MRNN_ERR_IO: return "input/output error";
    case MRNN_ERR_FORMAT: return "corrupt or truncated file";
    case MRNN_ERR_VERSION: return "unsupported file format version";
    case MRNN_ERR_MIDI: return "malformed MIDI file";
    case MRNN_ERR_UNKNOWN_TOKEN: return "unknown token";
    case MRNN_ERR_STATE: return "call not allowed in this state";
    case MRNN_ERR_LIMIT: return "size limit exceeded";
    case MRNN_ERR_CANCELLED: return "cancelled";
    case MRNN_ERR_UNSUPPORTED: return "unsupported operation";
    case MRNN_ERR_NUMERIC: return "numerical failure";
    case MRNN_ERR_EMPTY: return "no data";
    }
    return "unknown status";
}

MRNN_API const char *mrnn_last_error(void)
{
    return last_error;
}

MRNN_API void mrnn_clear_error(void)
{
    last_error[0] = '\0';
}

mrnn_status mrnn__fail(mrnn_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

void mrnn__error_prefix(const char *prefix)
{
    char tmp[MRNN_ERROR_CAP];
    size_t plen = strlen(prefix);
    /* Do not prefix twice (a deeper layer may already have named the file). */
    if (strncmp(last_error, prefix, plen) == 0 && last_error[plen] == ':') return;
    int n = snprintf(tmp, sizeof tmp, "%.200s: ", prefix);
    if (n < 0) return;
    size_t used = (size_t)n, rest = strlen(last_error);
    if (rest > sizeof tmp - 1 - used) rest = sizeof tmp - 1 - used;
    memcpy(tmp + used, last_error, rest);
    tmp[used + rest] = '\0';
    memcpy(last_error, tmp, used + rest + 1);
}
