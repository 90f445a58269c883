/* See fixture.h. */
#include "fixture.h"

#include <string.h>

fx_status fx_params_init(fx_params *p, uint32_t version)
{
    memset(p, 0, sizeof *p);
    p->version = version;
    return FX_OK;
}

#ifndef FX_REMOVE_FUNCTION
#ifdef FX_RETYPE_PARAM
fx_status fx_run(const fx_params *p, int64_t n)
#else
fx_status fx_run(const fx_params *p, int32_t n)
#endif
{
    return p && n > 0 ? FX_OK : FX_ERR_ARG;
}
#endif

fx_status fx_stats_get(fx_stats *out)
{
    memset(out, 0, sizeof *out);
    return FX_OK;
}

#ifdef FX_ADD_FUNCTION
fx_status fx_new(uint32_t x)
{
    return x ? FX_OK : FX_ERR;
}
#endif
