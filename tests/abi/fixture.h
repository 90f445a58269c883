/* A tiny library shaped like libmusicrnn's API (a status enum, a versioned params struct, a struct
 * the library fills in, an init function), built by check_abi_compat.sh in one released variant
 * and in variants that each make one change, to show that abi_compat.py accepts the compatible
 * changes and refuses the incompatible ones. The macros select the variant. */
#ifndef FIXTURE_H
#define FIXTURE_H
#include <stdint.h>

typedef enum fx_status {
    FX_OK = 0,
    FX_ERR = -1,
#ifdef FX_RENUMBER_ENUM
    FX_ERR_ARG = -3,
#else
    FX_ERR_ARG = -2,
#endif
#ifdef FX_APPEND_ENUM
    FX_ERR_NEW = -3,
#endif
} fx_status;

typedef struct fx_params {
    uint32_t version;
#ifdef FX_INSERT_MEMBER
    uint32_t inserted;
#endif
    uint32_t count;
#ifdef FX_RETYPE_MEMBER
    float level;
#else
    int32_t level;
#endif
    double rate;
    uint32_t flags; /* the released struct ends in 32 bits of padding */
#ifdef FX_APPEND_MEMBER
    uint64_t appended;
#endif
#ifdef FX_APPEND_INTO_PADDING
    uint32_t in_padding; /* the size stays the same */
#endif
} fx_params;

/* Filled in by the library: growing it would write past an old caller's copy. */
typedef struct fx_stats {
    uint64_t n;
#ifdef FX_GROW_OUTPUT
    uint64_t more;
#endif
} fx_stats;

fx_status fx_params_init(fx_params *p, uint32_t version);
#ifdef FX_RETYPE_PARAM
fx_status fx_run(const fx_params *p, int64_t n);
#else
fx_status fx_run(const fx_params *p, int32_t n);
#endif
fx_status fx_stats_get(fx_stats *out);
#ifdef FX_ADD_FUNCTION
fx_status fx_new(uint32_t x);
#endif

#endif
