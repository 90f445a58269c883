/* The body of the LSTM cell at one vector width (see lstm_cell.h), included once per width by
 * lstm_cell.c with these defined:
 *   W          floats per vector
 *   VF, VP     the float vector type and its vec_math.h prefix (VP(exp) is VP's exp)
 *   ATTR       attributes of every function here (a target, or nothing)
 *   NAME(f)    the name of function f at this width
 * No include guard on purpose. */

/* The recurrent-dropout scales of cells [j, j + n) (n <= W, the rest 0). */
ATTR static inline void NAME(drop_chunk)(const mrnn__cell_drop *d, int H, int j, int n, float m[W])
{
    const float keep = 1.0f / (1.0f - d->p);
    const uint64_t base = (uint64_t)d->row * (uint64_t)H + (uint64_t)j;
    for (int k = 0; k < W; k++) m[k] = k < n && mrnn__hash_uniform(d->seed, base + (uint64_t)k) >= d->p ? keep : 0.0f;
}

ATTR static inline void NAME(cell_chunk)(const float *ai, const float *af, const float *ag, const float *ao,
                                         const float *bi, const float *bf, const float *bg, const float *bo,
                                         const float *cp, const float *m, float *acts[4], float *c_out, float *h)
{
    VF i = VP(sigmoid)(VP(load)(ai) + VP(load)(bi));
    VF f = VP(sigmoid)(VP(load)(af) + VP(load)(bf));
    VF g = VP(tanh)(VP(load)(ag) + VP(load)(bg));
    VF o = VP(sigmoid)(VP(load)(ao) + VP(load)(bo));
    VF c = m ? i * g * VP(load)(m) : i * g;
    if (cp) c += f * VP(load)(cp);
    VP(store)(acts[0], i);
    VP(store)(acts[1], f);
    VP(store)(acts[2], g);
    VP(store)(acts[3], o);
    VP(store)(c_out, c);
    VP(store)(h, o * VP(tanh)(c));
}

/* Cells [j0, j1) of a row of H. */
ATTR static void NAME(forward)(const mrnn__cell_row *p, int H, int j0, int j1)
{
    float *a = p->a;
    const float *b = p->b;
    float m[W], *mp = p->drop ? m : NULL;
    int j = j0;
    for (; j + W <= j1; j += W) {
        float *acts[4] = {a + j, a + H + j, a + 2 * H + j, a + 3 * H + j};
        if (mp) NAME(drop_chunk)(p->drop, H, j, W, m);
        NAME(cell_chunk)(a + j, a + H + j, a + 2 * H + j, a + 3 * H + j, b + j, b + H + j, b + 2 * H + j,
                         b + 3 * H + j, p->c_prev ? p->c_prev + j : NULL, mp, acts, p->c_out + j, p->h + j);
    }
    if (j == j1) return;
    /* the tail through the same code on zero-padded copies */
    int n = j1 - j;
    if (mp) NAME(drop_chunk)(p->drop, H, j, n, m);
    float in[4][W] = {{0}}, bias[4][W] = {{0}}, out[4][W], cp[W] = {0}, c[W], h[W];
    for (int q = 0; q < 4; q++)
        for (int k = 0; k < n; k++) {
            in[q][k] = a[q * H + j + k];
            bias[q][k] = b[q * H + j + k];
        }
    if (p->c_prev)
        for (int k = 0; k < n; k++) cp[k] = p->c_prev[j + k];
    float *acts[4] = {out[0], out[1], out[2], out[3]};
    NAME(cell_chunk)(in[0], in[1], in[2], in[3], bias[0], bias[1], bias[2], bias[3], p->c_prev ? cp : NULL, mp, acts,
                     c, h);
    for (int q = 0; q < 4; q++)
        for (int k = 0; k < n; k++) a[q * H + j + k] = out[q][k];
    for (int k = 0; k < n; k++) {
        p->c_out[j + k] = c[k];
        p->h[j + k] = h[k];
    }
}

/* m: the recurrent-dropout scales of the cell update (NULL = none). */
ATTR static inline void NAME(back_chunk)(float *ai, float *af, float *ag, float *ao, const float *c, const float *cp,
                                         const float *m, const float *dh, float *dc)
{
    const VF one = VP(splat)(1.0f);
    VF i = VP(load)(ai), f = VP(load)(af), g = VP(load)(ag), o = VP(load)(ao);
    VF tc = VP(tanh)(VP(load)(c)), dhv = VP(load)(dh);
    VF dcv = VP(load)(dc) + dhv * o * (one - tc * tc);
    VF cpv = cp ? VP(load)(cp) : VP(splat)(0.0f);
    VF dcu = m ? dcv * VP(load)(m) : dcv; /* the gradient of the (masked) update i·g */
    VP(store)(ai, dcu * g * i * (one - i));
    VP(store)(af, dcv * cpv * f * (one - f));
    VP(store)(ag, dcu * i * (one - g * g));
    VP(store)(ao, dhv * tc * o * (one - o));
    VP(store)(dc, dcv * f);
}

ATTR static void NAME(backward)(float *act, const float *c, const float *cp, const float *dh, float *dc, int H,
                                const mrnn__cell_drop *drop)
{
    float m[W], *mp = drop ? m : NULL;
    int j = 0;
    for (; j + W <= H; j += W) {
        if (mp) NAME(drop_chunk)(drop, H, j, W, m);
        NAME(back_chunk)(act + j, act + H + j, act + 2 * H + j, act + 3 * H + j, c + j, cp ? cp + j : NULL, mp,
                         dh + j, dc + j);
    }
    if (j == H) return;
    int n = H - j;
    if (mp) NAME(drop_chunk)(drop, H, j, n, m);
    float g4[4][W] = {{0}}, cc[W] = {0}, cpp[W] = {0}, dhh[W] = {0}, dcc[W] = {0};
    for (int k = 0; k < n; k++) {
        for (int q = 0; q < 4; q++) g4[q][k] = act[q * H + j + k];
        cc[k] = c[j + k];
        cpp[k] = cp ? cp[j + k] : 0.0f;
        dhh[k] = dh[j + k];
        dcc[k] = dc[j + k];
    }
    NAME(back_chunk)(g4[0], g4[1], g4[2], g4[3], cc, cp ? cpp : NULL, mp, dhh, dcc);
    for (int k = 0; k < n; k++) {
        for (int q = 0; q < 4; q++) act[q * H + j + k] = g4[q][k];
        dc[j + k] = dcc[k];
    }
}
