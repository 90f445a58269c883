/* Helpers shared by the musicrnn subcommands: errors, strict number parsing, names. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_fail(const char *what, mrnn_status st)
{
    const char *detail = mrnn_last_error();
    fprintf(stderr, "musicrnn: %s: %s\n", what, *detail ? detail : mrnn_status_string(st));
    return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "musicrnn %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'musicrnn %s --help'.\n", cmd);
    return 2;
}

int cli_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!s || !*s || *s == '-') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int cli_parse_double(const char *s, double lo, double hi, double *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

int cli_parse_mask(const char *s, unsigned max_bit, uint64_t *out)
{
    uint64_t mask = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b;
        if (end == p || a < 0 || a > (long)max_bit) return -1;
        b = a;
        if (*end == '-') {
            p = end + 1;
            b = strtol(p, &end, 10);
            if (end == p || b < a || b > (long)max_bit) return -1;
        }
        for (long i = a; i <= b; i++) mask |= UINT64_C(1) << i;
        if (*end == ',') end++;
        else if (*end) return -1;
        p = end;
    }
    if (!mask) return -1;
    *out = mask;
    return 0;
}

const char *cli_encoding_name(uint32_t encoding)
{
    switch (encoding) {
    case MRNN_ENCODING_NOTECHORD: return "notechord";
    case MRNN_ENCODING_PERFORMANCE: return "performance";
    case MRNN_ENCODING_PIANOROLL: return "pianoroll";
    case MRNN_ENCODING_MULTITRACK: return "multitrack";
    default: return "unknown";
    }
}

int cli_is_pianoroll(const mrnn_vocab *v)
{
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    return mrnn_vocab_get_encoding_params(v, &enc) == MRNN_OK && enc.encoding == MRNN_ENCODING_PIANOROLL;
}

int cli_parse_encoding(const char *s, uint32_t *out)
{
    for (uint32_t e = MRNN_ENCODING_NOTECHORD; e <= MRNN_ENCODING_MULTITRACK; e++) {
        if (strcmp(s, cli_encoding_name(e)) == 0) {
            *out = e;
            return 0;
        }
    }
    return -1;
}

const char *cli_split_name(uint32_t split)
{
    return split == MRNN_SPLIT_TRAIN ? "train" : split == MRNN_SPLIT_VALID ? "valid" : "test";
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
