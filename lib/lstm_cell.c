/* The LSTM cell at two widths and the choice between them (see lstm_cell.h). */
#include "lstm_cell.h"

#include "rng.h"
#include "vec_math.h"

/* Both widths must round alike: no multiply-adds fused in one and not the other (GCC's C11 mode
 * does not contract; Clang does unless told). */
#ifdef __clang__
#pragma clang fp contract(off)
#endif

#define W 4
#define VF mrnn__v4f
#define VP(f) mrnn__v4_##f
#define ATTR
#define NAME(f) cell4_##f
#include "lstm_cell_body.h"
#undef W
#undef VF
#undef VP
#undef ATTR
#undef NAME

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_WIDE 1
/* 16 floats at a time where the CPU has AVX-512: the cell's 5 exps and 5 divisions per cell run
 * 2-4 times faster than 4 at a time, and the cell is a step's largest part outside the products. */
#define AVX512 __attribute__((target("avx512f")))
typedef float mrnn__v16f __attribute__((vector_size(64)));
typedef int32_t mrnn__v16i __attribute__((vector_size(64)));
MRNN__DEFINE_VEC_MATH(mrnn__v16, mrnn__v16f, mrnn__v16i, AVX512)
#define W 16
#define VF mrnn__v16f
#define VP(f) mrnn__v16_##f
#define ATTR AVX512
#define NAME(f) cell16_##f
#include "lstm_cell_body.h"
#undef W
#undef VF
#undef VP
#undef ATTR
#undef NAME

static int have_wide(void)
{
    return __builtin_cpu_supports("avx512f");
}
#else
#define HAVE_WIDE 0
#endif

int mrnn__lstm_cell_forward_at(int width, const mrnn__cell_row *r, int H, int j0, int j1)
{
    if (width == 4) {
        cell4_forward(r, H, j0, j1);
        return 0;
    }
#if HAVE_WIDE
    if (width == 16 && have_wide()) {
        cell16_forward(r, H, j0, j1);
        return 0;
    }
#endif
    return -1;
}

int mrnn__lstm_cell_backward_at(int width, float *act, const float *c, const float *cp, const float *dh, float *dc,
                                int H, const mrnn__cell_drop *drop)
{
    if (width == 4) {
        cell4_backward(act, c, cp, dh, dc, H, drop);
        return 0;
    }
#if HAVE_WIDE
    if (width == 16 && have_wide()) {
        cell16_backward(act, c, cp, dh, dc, H, drop);
        return 0;
    }
#endif
    return -1;
}

void mrnn__lstm_cell_forward(const mrnn__cell_row *r, int H)
{
    mrnn__lstm_cell_forward_cells(r, H, 0, H);
}

void mrnn__lstm_cell_forward_cells(const mrnn__cell_row *r, int H, int j0, int j1)
{
    if (mrnn__lstm_cell_forward_at(16, r, H, j0, j1) != 0) cell4_forward(r, H, j0, j1);
}

void mrnn__lstm_cell_backward(float *act, const float *c, const float *cp, const float *dh, float *dc, int H,
                              const mrnn__cell_drop *drop)
{
    if (mrnn__lstm_cell_backward_at(16, act, c, cp, dh, dc, H, drop) != 0) cell4_backward(act, c, cp, dh, dc, H, drop);
}
