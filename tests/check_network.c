/* The network: gradients of every parameter block against central differences (both losses, with
 * style rows and with dropout), state carrying, the inference step against the window, masking,
 * dropout determinism, and small overfitting runs through forward_backward + clip + Adam.
 * MRNN_BENCH=1 also measures training tokens/s at the default model size (printed, not asserted). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adam.h"
#include "alloc.h"
#include "compute.h"
#include "loss.h"
#include "network.h"
#include "packed.h"
#include "reference.h"
#include "rng.h"
#include "team.h"
#include "test_main.h"

/* Kernel paths to run: every one the CPU has, except under valgrind, where memcheck makes each
 * gradient check some fifty times slower; there the OpenBLAS path and the widest kernel (the one
 * the library picks) are checked, and the normal and sanitizer runs cover the others. */
static int first_isa(void)
{
    return getenv("MRNN_UNDER_VALGRIND") ? mrnn__packed_best_isa() : MRNN__ISA_BASE;
}

/* The path after `path` in the order OpenBLAS (-1), then the packed kernels from first_isa(). */
static int next_path(int path)
{
    return path < 0 ? first_isa() : path + 1;
}

typedef struct net {
    mrnn__net_config cfg;
    size_t n;
    float *wb, *gb;
    mrnn__net_params w, g;
} net;

static void net_make(net *m, uint32_t n_tokens, uint32_t n_out, uint32_t n_styles, uint32_t E, uint32_t H,
                     uint32_t L, uint32_t loss, float dropout, uint64_t seed)
{
    /* 5 NADE units: not a multiple of the kernel's 4-wide vectors. */
    m->cfg = (mrnn__net_config){n_tokens, n_out, n_styles, E, H, L, loss, dropout, loss == MRNN__LOSS_NADE ? 5 : 0};
    m->n = mrnn__net_param_count(&m->cfg);
    m->wb = mrnn__malloc(m->n * sizeof(float));
    m->gb = mrnn__malloc(m->n * sizeof(float));
    ck_assert(m->wb && m->gb);
    mrnn__net_bind(&m->cfg, m->wb, &m->w);
    mrnn__net_bind(&m->cfg, m->gb, &m->g);
    mrnn__rng r;
    mrnn__rng_seed(&r, seed);
    mrnn__net_init(&m->cfg, &m->w, &r);
}

static void net_free(net *m)
{
    mrnn__free(m->wb);
    mrnn__free(m->gb);
}

typedef struct tbatch {
    mrnn__batch b;
    uint32_t *in_start, *in_ids, *tgt_start, *tgt_ids, *style;
    float *mask;
} tbatch;

/* Random rows: 1-2 input ids each, one target (softmax) or 0-3 distinct targets (sigmoid). */
static void batch_make(tbatch *t, const mrnn__net_config *cfg, int T, int B, uint64_t seed)
{
    size_t rows = (size_t)T * (size_t)B;
    mrnn__rng r;
    mrnn__rng_seed(&r, seed);
    t->in_start = malloc((rows + 1) * sizeof(uint32_t));
    t->tgt_start = malloc((rows + 1) * sizeof(uint32_t));
    t->in_ids = malloc(2 * rows * sizeof(uint32_t) + 4);
    t->tgt_ids = malloc(3 * rows * sizeof(uint32_t) + 4);
    t->mask = malloc(rows * sizeof(float));
    t->style = malloc((size_t)B * sizeof(uint32_t));
    uint32_t ni = 0, nt = 0;
    for (size_t k = 0; k < rows; k++) {
        t->in_start[k] = ni;
        t->tgt_start[k] = nt;
        uint32_t n_in = 1 + (uint32_t)mrnn__rng_below(&r, 2);
        for (uint32_t j = 0; j < n_in; j++) t->in_ids[ni++] = (uint32_t)mrnn__rng_below(&r, cfg->n_tokens);
        if (cfg->loss == MRNN__LOSS_SOFTMAX) {
            t->tgt_ids[nt++] = (uint32_t)mrnn__rng_below(&r, cfg->n_out);
        } else {
            uint32_t first = (uint32_t)mrnn__rng_below(&r, cfg->n_out), n_t = (uint32_t)mrnn__rng_below(&r, 4);
            for (uint32_t j = 0; j < n_t && j < cfg->n_out; j++) t->tgt_ids[nt++] = (first + 2 * j) % cfg->n_out;
        }
        t->mask[k] = 1.0f;
    }
    t->in_start[rows] = ni;
    t->tgt_start[rows] = nt;
    for (int l = 0; l < B; l++) t->style[l] = cfg->n_styles ? (uint32_t)mrnn__rng_below(&r, cfg->n_styles) : 0;
    t->b = (mrnn__batch){T, B, t->in_start, t->in_ids, t->tgt_start, t->tgt_ids, t->mask,
                         cfg->n_styles ? t->style : NULL};
}

static void batch_free(tbatch *t)
{
    free(t->in_start);
    free(t->in_ids);
    free(t->tgt_start);
    free(t->tgt_ids);
    free(t->mask);
    free(t->style);
}

/* The recurrent dropout (lstm.h) that gradcheck_path and team_matches_alone train with: set by a
 * test around its calls, 0 otherwise. */
static float recurrent_dropout;
/* Weight dropout of W_hh (network.h), likewise. */
static float weight_dropout;

static void set_dropouts(mrnn__net_workspace *ws, const mrnn__net_config *cfg)
{
    mrnn__net_workspace_set_recurrent_dropout(ws, recurrent_dropout);
    ck_assert_int_eq(mrnn__net_workspace_set_weight_dropout(ws, cfg, weight_dropout), 0);
}

/* Mean loss, with the dropout rng re-seeded so that every evaluation draws the same masks. */
static double mean_loss(net *m, const mrnn__batch *b, mrnn__net_workspace *ws, float *gscratch, int dropout)
{
    mrnn__net_params g;
    mrnn__net_bind(&m->cfg, gscratch, &g);
    mrnn__rng r;
    mrnn__rng_seed(&r, 777);
    mrnn__net_result res = {0};
    mrnn__net_forward_backward(&m->cfg, &m->w, &g, b, ws, dropout ? &r : NULL, &res);
    return res.loss_sum / (double)res.n_scored;
}

static double check_block(net *m, const mrnn__batch *b, mrnn__net_workspace *ws, float *gscratch, int dropout,
                          float *p, const float *analytic, size_t n)
{
    const float eps = 1e-2f;
    double max_num = 1e-7, max_err = 0.0;
    for (size_t k = 0; k < n; k++) {
        float saved = p[k];
        p[k] = saved + eps;
        double lp = mean_loss(m, b, ws, gscratch, dropout);
        p[k] = saved - eps;
        double lm = mean_loss(m, b, ws, gscratch, dropout);
        p[k] = saved;
        double num = (lp - lm) / (2.0 * (double)eps);
        double err = fabs(num - (double)analytic[k]);
        if (fabs(num) > max_num) max_num = fabs(num);
        if (err > max_err) max_err = err;
    }
    return max_err / max_num;
}

static int blocks_equal(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

static const char *loss_name(uint32_t loss)
{
    return loss == MRNN__LOSS_NADE ? "nade" : loss ? "sigmoid" : "softmax";
}

/* pack: MRNN__PACK_NEVER (OpenBLAS products) or MRNN__PACK_ALWAYS (packed weights, with kernel isa). */
static void gradcheck_path(uint32_t loss, float dropout, int T, int B, uint32_t E, uint32_t H, int pack, int isa)
{
    net m;
    net_make(&m, 6, 7, 3, E, H, 2, loss, dropout, 5 + loss);
    /* Larger biases than the initialiser so the gates are away from their linear regime. */
    mrnn__rng r;
    mrnn__rng_seed(&r, 9);
    for (uint32_t l = 0; l < 2; l++)
        for (uint32_t j = 0; j < 4 * H; j++) m.w.layer[l].b[j] += (float)(mrnn__rng_uniform(&r) - 0.5);
    for (uint32_t j = 0; j < 7; j++) m.w.b_out[j] = (float)(mrnn__rng_uniform(&r) - 0.5);
    for (size_t k = 0; k < 6 * E; k++) m.w.embed[k] *= 5.0f;
    for (uint32_t l = 0; l < 2; l++)
        for (uint32_t k = 0; k < 4 * H * H; k++) m.w.layer[l].w_hh[k] *= 3.0f; /* make the recurrence matter */
    tbatch tb;
    batch_make(&tb, &m.cfg, T, B, 17 + loss);
    tb.mask[4] = 0.0f;
    mrnn__net_workspace *ws = mrnn__net_workspace_new_kernel(&m.cfg, T, B, pack, isa);
    ck_assert_ptr_nonnull(ws);
    set_dropouts(ws, &m.cfg);
    const int drops = dropout > 0 || recurrent_dropout > 0 || weight_dropout > 0;
    float *gscratch = mrnn__malloc(m.n * sizeof(float));

    mrnn__rng dr;
    mrnn__rng_seed(&dr, 777);
    mrnn__net_result res = {0};
    mrnn__net_forward_backward(&m.cfg, &m.w, &m.g, &tb.b, ws, drops ? &dr : NULL, &res);
    ck_assert_uint_eq(res.n_scored, (uint64_t)(T * B - 1));

    struct {
        const char *name;
        float *p, *g;
        size_t n;
    } blocks[] = {
        {"embed", m.w.embed, m.g.embed, 6 * E},
        {"style", m.w.style, m.g.style, 3 * E},
        {"w_ih0", m.w.layer[0].w_ih, m.g.layer[0].w_ih, 4 * H * E},
        {"w_hh0", m.w.layer[0].w_hh, m.g.layer[0].w_hh, 4 * H * H},
        {"b0", m.w.layer[0].b, m.g.layer[0].b, 4 * H},
        {"w_ih1", m.w.layer[1].w_ih, m.g.layer[1].w_ih, 4 * H * H},
        {"w_hh1", m.w.layer[1].w_hh, m.g.layer[1].w_hh, 4 * H * H},
        {"b1", m.w.layer[1].b, m.g.layer[1].b, 4 * H},
        {"w_out", m.w.w_out, m.g.w_out, 7 * H},
        {"b_out", m.w.b_out, m.g.b_out, 7},
        {"nade_wu", m.w.nade_wu, m.g.nade_wu, loss == MRNN__LOSS_NADE ? 5 * H : 0},
        {"nade_bh", m.w.nade_bh, m.g.nade_bh, loss == MRNN__LOSS_NADE ? 5 : 0},
        {"nade_w", m.w.nade_w, m.g.nade_w, loss == MRNN__LOSS_NADE ? 7 * 5 : 0},
        {"nade_v", m.w.nade_v, m.g.nade_v, loss == MRNN__LOSS_NADE ? 7 * 5 : 0},
    };
    static const char *isa_names[] = {"generic", "AVX2", "AVX-512"};
    fprintf(stderr, "network gradcheck (%s, dropout %.1f, recurrent %.1f, weights %.1f, %s):", loss_name(loss),
            (double)dropout, (double)recurrent_dropout, (double)weight_dropout, pack ? isa_names[isa] : "OpenBLAS");
    for (size_t k = 0; k < sizeof blocks / sizeof blocks[0]; k++) {
        double e = check_block(&m, &tb.b, ws, gscratch, drops, blocks[k].p, blocks[k].g, blocks[k].n);
        fprintf(stderr, " %s %.1e", blocks[k].name, e);
        ck_assert_msg(e < 2e-2, "gradient of %s: relative error %g", blocks[k].name, e);
    }
    fprintf(stderr, "\n");
    mrnn__free(gscratch);
    mrnn__net_workspace_free(ws);
    batch_free(&tb);
    net_free(&m);
}

/* The OpenBLAS products, then the packed ones with every kernel this CPU runs. */
static void gradcheck_shape(uint32_t loss, float dropout, int T, int B, uint32_t E, uint32_t H)
{
    gradcheck_path(loss, dropout, T, B, E, H, MRNN__PACK_NEVER, mrnn__packed_best_isa());
    for (int isa = first_isa(); isa <= mrnn__packed_best_isa(); isa++)
        gradcheck_path(loss, dropout, T, B, E, H, MRNN__PACK_ALWAYS, isa);
}

static void gradcheck(uint32_t loss, float dropout)
{
    gradcheck_shape(loss, dropout, 4, 3, 5, 4);
}

/* Longer windows, more lanes, embedding narrower than the hidden layer (and the table path). */
START_TEST(test_gradcheck_wider)
{
    gradcheck_shape(MRNN__LOSS_SIGMOID, 0.0f, 12, 5, 3, 7);
    gradcheck_shape(MRNN__LOSS_SOFTMAX, 0.0f, 12, 5, 3, 7);
}
END_TEST

/* The packed-weight products give the OpenBLAS path's loss and gradients up to summation order,
 * on sizes that fill no panel exactly (hidden 37: 4H = 148 gate columns, 45 outputs), with and
 * without layer 0's table, with dropout and both losses. */
static void packed_matches_openblas_isa(uint32_t loss, uint32_t n_tokens, int T, int B, int isa)
{
    net a, b;
    net_make(&a, n_tokens, 45, 2, 19, 37, 2, loss, 0.2f, 61);
    net_make(&b, n_tokens, 45, 2, 19, 37, 2, loss, 0.2f, 61);
    tbatch tb;
    batch_make(&tb, &a.cfg, T, B, 62);
    mrnn__net_workspace *wa = mrnn__net_workspace_new_pack(&a.cfg, T, B, MRNN__PACK_NEVER);
    mrnn__net_workspace *wb = mrnn__net_workspace_new_kernel(&b.cfg, T, B, MRNN__PACK_ALWAYS, isa);
    ck_assert(wa && wb);
    mrnn__rng ra, rb;
    mrnn__rng_seed(&ra, 63);
    mrnn__rng_seed(&rb, 63);
    mrnn__net_result resa = {0}, resb = {0};
    mrnn__net_forward_backward(&a.cfg, &a.w, &a.g, &tb.b, wa, &ra, &resa);
    mrnn__net_forward_backward(&b.cfg, &b.w, &b.g, &tb.b, wb, &rb, &resb);
    ck_assert_double_eq_tol(resa.loss_sum, resb.loss_sum, 1e-5 * fabs(resa.loss_sum));
    double worst = 0.0, scale = 0.0;
    for (size_t k = 0; k < a.n; k++) {
        worst = fmax(worst, fabs((double)a.gb[k] - (double)b.gb[k]));
        scale = fmax(scale, fabs((double)a.gb[k]));
    }
    fprintf(stderr, "packed (isa %d) vs OpenBLAS (%s, %u tokens, %dx%d): loss %.6f / %.6f, gradient difference %.1e of %.1e\n",
            isa, loss_name(loss), n_tokens, T, B, resa.loss_sum, resb.loss_sum, worst, scale);
    ck_assert_double_gt(scale, 0.0);
    ck_assert_msg(worst <= 1e-4 * scale, "gradients differ by %g (largest %g)", worst, scale);
    mrnn__net_workspace_free(wa);
    mrnn__net_workspace_free(wb);
    batch_free(&tb);
    net_free(&a);
    net_free(&b);
}

static void packed_matches_openblas(uint32_t loss, uint32_t n_tokens, int T, int B)
{
    for (int isa = first_isa(); isa <= mrnn__packed_best_isa(); isa++)
        packed_matches_openblas_isa(loss, n_tokens, T, B, isa);
}

/* A step split over a team: equal to the step on the caller alone up to rounding (OpenBLAS's own
 * kernels and blocking depend on the size of the block a part asks for), and bit for bit the same
 * each time with the same team. Both product paths, both losses, dropout, with and without the
 * table; three steps, the weights moving between them. */
static void team_step(net *m, const tbatch *tb, mrnn__net_workspace *ws, uint64_t seed, mrnn__net_result *res,
                      float *h, float *c)
{
    mrnn__rng r;
    mrnn__rng_seed(&r, seed);
    memset(res, 0, 2 * sizeof *res);
    mrnn__net_forward_backward(&m->cfg, &m->w, &m->g, &tb->b, ws, &r, &res[0]);
    mrnn__net_forward_eval(&m->cfg, &m->w, &tb->b, ws, h, c, &res[1]);
}

static void team_matches_alone(uint32_t loss, uint32_t n_tokens, int T, int B, int pack, int isa, int threads)
{
    enum { STATE = 2 * 7 * 37 };
    net a, b;
    net_make(&a, n_tokens, 45, 2, 19, 37, 2, loss, 0.3f, 71);
    net_make(&b, n_tokens, 45, 2, 19, 37, 2, loss, 0.3f, 71);
    ck_assert(B <= 7);
    tbatch tb;
    batch_make(&tb, &a.cfg, T, B, 72);
    mrnn__net_workspace *wa = mrnn__net_workspace_new_kernel(&a.cfg, T, B, pack, isa);
    mrnn__net_workspace *wb = mrnn__net_workspace_new_kernel(&b.cfg, T, B, pack, isa);
    mrnn__team *team = mrnn__team_new(threads);
    ck_assert(wa && wb && team);
    mrnn__net_workspace_set_team(wb, team);
    set_dropouts(wa, &a.cfg);
    set_dropouts(wb, &b.cfg);
    float *again = malloc(b.n * sizeof(float));
    for (int step = 0; step < 3; step++) {
        mrnn__net_result ra[2], rb[2], rc[2];
        float ha[STATE] = {0}, ca[STATE] = {0}, hb[STATE] = {0}, cb[STATE] = {0}, hc[STATE] = {0}, cc[STATE] = {0};
        team_step(&a, &tb, wa, 73 + (uint64_t)step, ra, ha, ca);
        team_step(&b, &tb, wb, 73 + (uint64_t)step, rb, hb, cb);
        memcpy(again, b.gb, b.n * sizeof(float));
        team_step(&b, &tb, wb, 73 + (uint64_t)step, rc, hc, cc);
        /* the same team twice: the same bits */
        ck_assert(rb[0].loss_sum == rc[0].loss_sum && rb[1].loss_sum == rc[1].loss_sum);
        ck_assert(blocks_equal(again, b.gb, b.n));
        ck_assert(memcmp(hb, hc, sizeof hb) == 0 && memcmp(cb, cc, sizeof cb) == 0);
        /* against the caller alone: up to rounding */
        for (int k = 0; k < 2; k++) {
            ck_assert_double_eq_tol(ra[k].loss_sum, rb[k].loss_sum, 1e-6 * fabs(ra[k].loss_sum));
            ck_assert_uint_eq(ra[k].n_scored, rb[k].n_scored);
        }
        double worst = 0.0, scale = 0.0;
        for (size_t k = 0; k < a.n; k++) {
            worst = fmax(worst, fabs((double)a.gb[k] - (double)b.gb[k]));
            scale = fmax(scale, fabs((double)a.gb[k]));
        }
        ck_assert_msg(worst <= 1e-5 * scale, "%d threads (pack %d, %u tokens, step %d): gradients differ by %g of %g",
                      threads, pack, n_tokens, step, worst, scale);
        for (int k = 0; k < STATE; k++) ck_assert_float_eq_tol(ha[k], hb[k], 1e-5f);
        /* move the weights so the next step differs */
        for (size_t k = 0; k < a.n; k++) {
            a.wb[k] -= 0.05f * a.gb[k];
            b.wb[k] -= 0.05f * a.gb[k];
        }
    }
    free(again);
    mrnn__team_free(team);
    mrnn__net_workspace_free(wa);
    mrnn__net_workspace_free(wb);
    batch_free(&tb);
    net_free(&a);
    net_free(&b);
}

START_TEST(test_team_matches_alone)
{
    for (uint32_t loss = 0; loss < 3; loss++)
        for (int path = -1; path <= mrnn__packed_best_isa(); path = next_path(path)) /* OpenBLAS, then every packed kernel */
            for (int threads = 2; threads <= 3; threads++) {
                const int pack = path < 0 ? MRNN__PACK_NEVER : MRNN__PACK_ALWAYS, isa = path < 0 ? 0 : path;
                team_matches_alone(loss, 50, 9, 7, pack, isa, threads);  /* layer 0 multiplies its input */
                team_matches_alone(loss, 10, 20, 6, pack, isa, threads); /* layer 0 through the table */
            }
}
END_TEST

/* Every product path, two and three threads, layer 0 multiplying its input (loss_a) and through
 * the table (loss_b): with the dropout a test set around the call. */
static void team_matches_alone_every_path(uint32_t loss_a, uint32_t loss_b)
{
    for (int path = -1; path <= mrnn__packed_best_isa(); path = next_path(path)) {
        const int pack = path < 0 ? MRNN__PACK_NEVER : MRNN__PACK_ALWAYS, isa = path < 0 ? 0 : path;
        team_matches_alone(loss_a, 50, 9, 7, pack, isa, 2);
        team_matches_alone(loss_b, 10, 20, 6, pack, isa, 3);
    }
}

/* Recurrent dropout splits over a team like the rest: its masks are drawn per element. */
START_TEST(test_team_matches_alone_recurrent_dropout)
{
    recurrent_dropout = 0.4f;
    team_matches_alone_every_path(MRNN__LOSS_SIGMOID, MRNN__LOSS_NADE);
    recurrent_dropout = 0.0f;
}
END_TEST

/* Weight dropout too: its mask is drawn per weight. */
START_TEST(test_team_matches_alone_weight_dropout)
{
    weight_dropout = 0.5f;
    team_matches_alone_every_path(MRNN__LOSS_SOFTMAX, MRNN__LOSS_SIGMOID);
    weight_dropout = 0.0f;
}
END_TEST

START_TEST(test_packed_matches_openblas)
{
    for (uint32_t loss = 0; loss < 3; loss++) {
        packed_matches_openblas(loss, 50, 9, 7);  /* 63 rows < 2 x 52 table rows: layer 0 multiplies its input */
        packed_matches_openblas(loss, 10, 20, 6); /* 120 rows >= 2 x 12: layer 0 through the table */
    }
}
END_TEST

START_TEST(test_gradcheck_softmax)
{
    gradcheck(MRNN__LOSS_SOFTMAX, 0.0f);
}
END_TEST

START_TEST(test_gradcheck_sigmoid)
{
    gradcheck(MRNN__LOSS_SIGMOID, 0.0f);
}
END_TEST

START_TEST(test_gradcheck_dropout)
{
    gradcheck(MRNN__LOSS_SOFTMAX, 0.3f);
}
END_TEST

/* Recurrent dropout (the cell update masked, the mask fixed by the seed): every block, alone and
 * with output dropout, on the shape whose hidden size is not a multiple of the 4-wide vectors
 * (the padded tail of the cell kernels), every product path. */
START_TEST(test_gradcheck_recurrent_dropout)
{
    recurrent_dropout = 0.4f;
    gradcheck_shape(MRNN__LOSS_SIGMOID, 0.0f, 12, 5, 3, 7);
    gradcheck(MRNN__LOSS_SOFTMAX, 0.3f);
    recurrent_dropout = 0.0f;
}
END_TEST

/* Weight dropout (W_hh masked for the window, the gradient masked alike): every block, alone, with
 * recurrent and output dropout, and under the NADE, every product path. The wider shape runs at a
 * lower rate: its recurrent weights, tripled above and scaled by 1/(1-p) where kept, saturate the
 * gates enough at 0.4 that central differences of w_ih0 miss by 7 % (every other block, W_hh's
 * included, within 0.2 %), at 0.25 by 0.7 %. */
START_TEST(test_gradcheck_weight_dropout)
{
    weight_dropout = 0.25f;
    gradcheck_shape(MRNN__LOSS_SIGMOID, 0.0f, 12, 5, 3, 7);
    weight_dropout = 0.4f;
    recurrent_dropout = 0.3f;
    gradcheck(MRNN__LOSS_SOFTMAX, 0.3f);
    recurrent_dropout = 0.0f;
    gradcheck(MRNN__LOSS_NADE, 0.0f);
    weight_dropout = 0.0f;
}
END_TEST

/* The NADE frame output: every block, the NADE's own included, with and without dropout, and on
 * the wider shape (longer window, hidden units not a multiple of 4). */
START_TEST(test_gradcheck_nade)
{
    gradcheck(MRNN__LOSS_NADE, 0.0f);
    /* (On the small shape with dropout, layer 0's input weights see central differences of
     * eps = 1e-2 times embeddings of 5: their truncation error, not the gradient, exceeds 2e-2.) */
    gradcheck_shape(MRNN__LOSS_NADE, 0.3f, 12, 5, 3, 7);
    gradcheck_shape(MRNN__LOSS_NADE, 0.0f, 12, 5, 3, 7);
}
END_TEST

/* One window equals two half windows with the state carried between them. */
START_TEST(test_eval_carries_state)
{
    enum { T = 6, B = 3, H = 4, L = 2 };
    for (uint32_t loss = 0; loss < 2; loss++) {
        net m;
        net_make(&m, 6, 7, 3, 5, H, L, loss, 0.5f, 31);
        tbatch tb;
        batch_make(&tb, &m.cfg, T, B, 32);
        mrnn__net_workspace *ws = mrnn__net_workspace_new(&m.cfg, T, B);
        float h1[L * B * H] = {0}, c1[L * B * H] = {0}, h2[L * B * H] = {0}, c2[L * B * H] = {0};
        mrnn__net_result full = {0}, halves = {0};
        mrnn__net_forward_eval(&m.cfg, &m.w, &tb.b, ws, h1, c1, &full);
        size_t half = (size_t)(T / 2) * B;
        mrnn__batch a = tb.b, b = tb.b;
        a.T = T / 2;
        b.T = T - T / 2;
        b.in_start += half;
        b.tgt_start += half;
        b.mask += half;
        mrnn__net_forward_eval(&m.cfg, &m.w, &a, ws, h2, c2, &halves);
        mrnn__net_forward_eval(&m.cfg, &m.w, &b, ws, h2, c2, &halves);
        ck_assert_uint_eq(full.n_scored, (uint64_t)(T * B));
        ck_assert_uint_eq(halves.n_scored, full.n_scored);
        ck_assert_uint_eq(halves.n_correct, full.n_correct);
        ck_assert_double_eq_tol(halves.loss_sum, full.loss_sum, 1e-5 * fabs(full.loss_sum));
        for (int k = 0; k < L * B * H; k++) {
            ck_assert_float_eq_tol(h1[k], h2[k], 1e-5f);
            ck_assert_float_eq_tol(c1[k], c2[k], 1e-5f);
            ck_assert_float_ne(h1[k], 0.0f);
        }
        mrnn__net_workspace_free(ws);
        batch_free(&tb);
        net_free(&m);
    }
}
END_TEST

/* A frozen workspace (evaluation: weights packed once) gives the same bits as one that repacks at
 * every window, over several windows with the state carried, with and without layer 0's table,
 * on every path; a training step in between (which overwrites the packed copies) and changed
 * weights after a fresh freeze are seen. */
static void frozen_window(const net *m, const tbatch *tb, mrnn__net_workspace *ws, float *h, float *c,
                          mrnn__net_result *res)
{
    for (int w = 0; w < 3; w++) mrnn__net_forward_eval(&m->cfg, &m->w, &tb->b, ws, h, c, res);
}

START_TEST(test_frozen_eval)
{
    enum { T = 8, B = 5, H = 37, L = 2, STATE = L * B * H };
    static const uint32_t tokens[] = {50, 10}; /* 40 rows: direct (2 x 53 > 40), then the table (2 x 13 <= 40) */
    for (int path = -1; path <= mrnn__packed_best_isa(); path = next_path(path))
        for (size_t t = 0; t < 2; t++) {
            net m;
            net_make(&m, tokens[t], 45, 3, 19, H, L, MRNN__LOSS_SOFTMAX, 0.0f, 91);
            tbatch tb;
            batch_make(&tb, &m.cfg, T, B, 92);
            const int pack = path < 0 ? MRNN__PACK_NEVER : MRNN__PACK_ALWAYS, isa = path < 0 ? 0 : path;
            mrnn__net_workspace *wf = mrnn__net_workspace_new_kernel(&m.cfg, T, B, pack, isa);
            mrnn__net_workspace *wr = mrnn__net_workspace_new_kernel(&m.cfg, T, B, pack, isa);
            ck_assert(wf && wr);
            mrnn__net_workspace_freeze(wf, 1);
            for (int round = 0; round < 2; round++) {
                static float hf[STATE], cf[STATE], hr[STATE], cr[STATE];
                memset(hf, 0, sizeof hf);
                memset(cf, 0, sizeof cf);
                memset(hr, 0, sizeof hr);
                memset(cr, 0, sizeof cr);
                mrnn__net_result rf = {0}, rr = {0};
                frozen_window(&m, &tb, wf, hf, cf, &rf);
                frozen_window(&m, &tb, wr, hr, cr, &rr);
                ck_assert_msg(rf.loss_sum == rr.loss_sum, "path %d, %u tokens, round %d: %.17g frozen, %.17g not", path,
                              tokens[t], round, rf.loss_sum, rr.loss_sum);
                ck_assert_uint_eq(rf.n_correct, rr.n_correct);
                ck_assert(memcmp(hf, hr, sizeof hf) == 0 && memcmp(cf, cr, sizeof cf) == 0);
                /* a training step on the frozen workspace, then new weights and a fresh freeze */
                mrnn__net_result tr = {0};
                mrnn__net_forward_backward(&m.cfg, &m.w, &m.g, &tb.b, wf, NULL, &tr);
                for (size_t k = 0; k < m.n; k++) m.wb[k] -= 0.5f * m.gb[k];
                mrnn__net_workspace_freeze(wf, 1);
            }
            mrnn__net_workspace_free(wf);
            mrnn__net_workspace_free(wr);
            batch_free(&tb);
            net_free(&m);
        }
}
END_TEST

/* MUSICRNN_KERNEL forces a path; a kernel the CPU lacks is its widest; other values are ignored. */
START_TEST(test_kernel_switch)
{
    const int best = mrnn__packed_best_isa();
    static const struct {
        const char *value;
        int isa, pack;
    } cases[] = {{"avx512", MRNN__ISA_AVX512, MRNN__PACK_ALWAYS}, {"avx2", MRNN__ISA_AVX2, MRNN__PACK_ALWAYS},
                 {"generic", MRNN__ISA_BASE, MRNN__PACK_ALWAYS},  {"openblas", MRNN__ISA_AVX512, MRNN__PACK_NEVER},
                 {"auto", MRNN__ISA_AVX512, MRNN__PACK_AUTO},     {"", MRNN__ISA_AVX512, MRNN__PACK_AUTO},
                 {"AVX2x", MRNN__ISA_AVX512, MRNN__PACK_AUTO}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_int_eq(setenv("MUSICRNN_KERNEL", cases[i].value, 1), 0);
        int isa = -1, pack = -1;
        mrnn__compute_kernel(&isa, &pack);
        ck_assert_int_eq(isa, cases[i].isa < best ? cases[i].isa : best);
        ck_assert_int_eq(pack, cases[i].pack);
        mrnn__compute cx;
        mrnn__compute_init(&cx, 1);
        ck_assert_int_eq(cx.isa, isa);
        ck_assert_int_eq(cx.pack, pack);
        mrnn__compute_free(&cx);
    }
    ck_assert_int_eq(unsetenv("MUSICRNN_KERNEL"), 0);
    int isa = -1, pack = -1;
    mrnn__compute_kernel(&isa, &pack);
    ck_assert_int_eq(isa, best);
    ck_assert_int_eq(pack, MRNN__PACK_AUTO);
}
END_TEST

/* net_step (sgemv) repeated T times equals forward_eval (sgemm) row by row for one lane. */
START_TEST(test_step_matches_eval)
{
    enum { T = 6, H = 4, L = 2 };
    net m;
    net_make(&m, 6, 7, 3, 5, H, L, MRNN__LOSS_SOFTMAX, 0.0f, 41);
    tbatch tb;
    batch_make(&tb, &m.cfg, T, 1, 42);
    mrnn__net_workspace *ws = mrnn__net_workspace_new(&m.cfg, T, 1);
    float hs[L * H] = {0}, cs[L * H] = {0}, logits[7], dl[7];
    float *scratch = malloc(mrnn_ref_net_step_scratch_floats(&m.cfg) * sizeof(float));
    for (int t = 0; t < T; t++) {
        mrnn_ref_net_step(&m.cfg, &m.w, tb.in_ids + tb.in_start[t], tb.in_start[t + 1] - tb.in_start[t],
                          (int)tb.style[0], hs, cs, logits, scratch);
        float one = 1.0f;
        double step_loss = mrnn__softmax_xent(dl, logits, tb.tgt_ids + tb.tgt_start[t], &one, 1, 7, 1.0f, NULL);

        /* The window of the first t+1 rows, scoring only row t. */
        float he[L * H] = {0}, ce[L * H] = {0};
        for (int k = 0; k < T; k++) tb.mask[k] = k == t ? 1.0f : 0.0f;
        mrnn__batch b = tb.b;
        b.T = t + 1;
        mrnn__net_result res = {0};
        mrnn__net_forward_eval(&m.cfg, &m.w, &b, ws, he, ce, &res);
        ck_assert_uint_eq(res.n_scored, 1);
        ck_assert_double_eq_tol(res.loss_sum, step_loss, 1e-5);
        for (int k = 0; k < L * H; k++) {
            ck_assert_float_eq_tol(hs[k], he[k], 1e-5f);
            ck_assert_float_eq_tol(cs[k], ce[k], 1e-5f);
        }
    }
    free(scratch);
    mrnn__net_workspace_free(ws);
    batch_free(&tb);
    net_free(&m);
}
END_TEST

/* Unscored rows: their targets do not matter; no scored row at all gives zero gradients. */
START_TEST(test_mask)
{
    for (uint32_t loss = 0; loss < 2; loss++) {
        net m;
        net_make(&m, 6, 7, 0, 5, 4, 2, loss, 0.0f, 51);
        tbatch tb;
        batch_make(&tb, &m.cfg, 4, 3, 52);
        mrnn__net_workspace *ws = mrnn__net_workspace_new(&m.cfg, 4, 3);
        float *g2 = malloc(m.n * sizeof(float));
        mrnn__net_params gp;
        mrnn__net_bind(&m.cfg, g2, &gp);
        tb.mask[2] = tb.mask[7] = 0.0f;
        mrnn__net_result r1 = {0}, r2 = {0};
        mrnn__net_forward_backward(&m.cfg, &m.w, &m.g, &tb.b, ws, NULL, &r1);
        if (loss == MRNN__LOSS_SOFTMAX) {
            tb.tgt_ids[tb.tgt_start[2]] = (tb.tgt_ids[tb.tgt_start[2]] + 1) % 7;
            tb.tgt_ids[tb.tgt_start[7]] = (tb.tgt_ids[tb.tgt_start[7]] + 3) % 7;
        } else {
            for (uint32_t k = tb.tgt_start[2]; k < tb.tgt_start[3]; k++) tb.tgt_ids[k] = (tb.tgt_ids[k] + 1) % 7;
        }
        for (size_t k = 0; k < m.n; k++) g2[k] = 123.0f; /* overwritten, not accumulated */
        mrnn__net_forward_backward(&m.cfg, &m.w, &gp, &tb.b, ws, NULL, &r2);
        ck_assert_uint_eq(r1.n_scored, 10);
        ck_assert_uint_eq(r2.n_scored, 10);
        ck_assert_double_eq(r1.loss_sum, r2.loss_sum);
        ck_assert(blocks_equal(m.gb, g2, m.n));

        for (int k = 0; k < 12; k++) tb.mask[k] = 0.0f;
        mrnn__net_result r3 = {0};
        mrnn__net_forward_backward(&m.cfg, &m.w, &gp, &tb.b, ws, NULL, &r3);
        ck_assert_uint_eq(r3.n_scored, 0);
        ck_assert_double_eq(r3.loss_sum, 0.0);
        for (size_t k = 0; k < m.n; k++) ck_assert_float_eq(g2[k], 0.0f);
        free(g2);
        mrnn__net_workspace_free(ws);
        batch_free(&tb);
        net_free(&m);
    }
}
END_TEST

START_TEST(test_dropout)
{
    net m;
    net_make(&m, 6, 7, 3, 5, 4, 2, MRNN__LOSS_SOFTMAX, 0.0f, 61);
    tbatch tb;
    batch_make(&tb, &m.cfg, 4, 3, 62);
    mrnn__net_workspace *ws = mrnn__net_workspace_new(&m.cfg, 4, 3);
    float *g2 = malloc(m.n * sizeof(float)), *g3 = malloc(m.n * sizeof(float));
    mrnn__net_params gp2, gp3;
    mrnn__net_bind(&m.cfg, g2, &gp2);
    mrnn__net_bind(&m.cfg, g3, &gp3);
    mrnn__rng r;
    mrnn__rng_seed(&r, 5);

    /* p = 0 with an rng equals no dropout. */
    mrnn__net_result a = {0}, b = {0}, c = {0};
    mrnn__net_forward_backward(&m.cfg, &m.w, &m.g, &tb.b, ws, NULL, &a);
    mrnn__net_forward_backward(&m.cfg, &m.w, &gp2, &tb.b, ws, &r, &b);
    ck_assert_double_eq(a.loss_sum, b.loss_sum);
    ck_assert(blocks_equal(m.gb, g2, m.n));

    /* p > 0: deterministic for a seed, different from no dropout, different for another draw. */
    m.cfg.dropout = 0.4f;
    mrnn__rng_seed(&r, 5);
    b = (mrnn__net_result){0};
    mrnn__net_forward_backward(&m.cfg, &m.w, &gp2, &tb.b, ws, &r, &b);
    mrnn__rng_seed(&r, 5);
    mrnn__net_forward_backward(&m.cfg, &m.w, &gp3, &tb.b, ws, &r, &c);
    ck_assert_double_eq(b.loss_sum, c.loss_sum);
    ck_assert(blocks_equal(g2, g3, m.n));
    ck_assert(b.loss_sum != a.loss_sum);
    mrnn__net_result d = {0};
    mrnn__net_forward_backward(&m.cfg, &m.w, &gp3, &tb.b, ws, &r, &d);
    ck_assert(d.loss_sum != c.loss_sum);

    /* Evaluation never drops. */
    float h[2 * 3 * 4] = {0}, cs[2 * 3 * 4] = {0};
    mrnn__net_result e = {0};
    mrnn__net_forward_eval(&m.cfg, &m.w, &tb.b, ws, h, cs, &e);
    ck_assert_double_eq_tol(e.loss_sum, a.loss_sum, 1e-9);

    /* Recurrent dropout alone (output dropout 0): deterministic for a seed, different from none
     * and for another draw; without an rng nothing drops; evaluation ignores it. */
    m.cfg.dropout = 0.0f;
    mrnn__net_workspace_set_recurrent_dropout(ws, 0.4f);
    mrnn__net_result f = {0}, g = {0}, k = {0}, none = {0};
    mrnn__net_forward_backward(&m.cfg, &m.w, &gp2, &tb.b, ws, NULL, &none);
    ck_assert_double_eq(none.loss_sum, a.loss_sum);
    ck_assert(blocks_equal(m.gb, g2, m.n));
    mrnn__rng_seed(&r, 5);
    mrnn__net_forward_backward(&m.cfg, &m.w, &gp2, &tb.b, ws, &r, &f);
    mrnn__rng_seed(&r, 5);
    mrnn__net_forward_backward(&m.cfg, &m.w, &gp3, &tb.b, ws, &r, &g);
    ck_assert_double_eq(f.loss_sum, g.loss_sum);
    ck_assert(blocks_equal(g2, g3, m.n));
    ck_assert(f.loss_sum != a.loss_sum && f.loss_sum != b.loss_sum);
    mrnn__net_forward_backward(&m.cfg, &m.w, &gp3, &tb.b, ws, &r, &k);
    ck_assert(k.loss_sum != g.loss_sum);
    float h2[2 * 3 * 4] = {0}, cs2[2 * 3 * 4] = {0};
    mrnn__net_result e2 = {0};
    mrnn__net_forward_eval(&m.cfg, &m.w, &tb.b, ws, h2, cs2, &e2);
    ck_assert(e2.loss_sum == e.loss_sum);
    ck_assert(memcmp(h, h2, sizeof h) == 0 && memcmp(cs, cs2, sizeof cs) == 0);
    free(g2);
    free(g3);
    mrnn__net_workspace_free(ws);
    batch_free(&tb);
    net_free(&m);
}
END_TEST

START_TEST(test_param_layout)
{
    mrnn__net_config cfg = {10, 9, 2, 3, 4, 2, MRNN__LOSS_SOFTMAX, 0.0f, 0};
    size_t n = mrnn__net_param_count(&cfg);
    ck_assert_uint_eq(n, 30 + 6 + (16 * 3 + 16 * 4 + 16) + (16 * 4 + 16 * 4 + 16) + 36 + 9);
    float *blk = malloc(n * sizeof(float));
    mrnn__net_params p;
    mrnn__net_bind(&cfg, blk, &p);
    ck_assert_ptr_eq(p.embed, blk);
    ck_assert_ptr_eq(p.style, blk + 30);
    ck_assert_ptr_eq(p.layer[0].w_ih, blk + 36);
    ck_assert_ptr_eq(p.layer[0].w_hh, blk + 36 + 48);
    ck_assert_ptr_eq(p.layer[0].b, blk + 36 + 48 + 64);
    ck_assert_int_eq(p.layer[1].n_in, 4);
    ck_assert_ptr_eq(p.b_out + 9, blk + n);
    mrnn__rng r;
    mrnn__rng_seed(&r, 1);
    mrnn__net_init(&cfg, &p, &r);
    for (int j = 0; j < 16; j++) ck_assert_float_eq(p.layer[1].b[j], (j >= 4 && j < 8) ? 1.0f : 0.0f);
    for (size_t k = 0; k < 16 * 4; k++) ck_assert(fabsf(p.layer[1].w_hh[k]) <= 0.5f);
    for (int j = 0; j < 9; j++) ck_assert_float_eq(p.b_out[j], 0.0f);
    cfg.n_styles = 0;
    mrnn__net_bind(&cfg, blk, &p);
    ck_assert_ptr_null(p.style);
    free(blk);

    mrnn__alloc_fail_after(0);
    ck_assert_ptr_null(mrnn__net_workspace_new(&cfg, 4, 3));
    mrnn__alloc_fail_after(1);
    ck_assert_ptr_null(mrnn__net_workspace_new(&cfg, 4, 3));
    mrnn__alloc_fail_after(-1);
}
END_TEST

/* Loss kernels on hand-made rows: stability with huge logits, counts, in-place gradient, masking. */
START_TEST(test_losses)
{
    float x[2 * 3] = {1000.0f, 0.0f, -1000.0f, 0.0f, 0.0f, 0.0f}, d[6];
    uint32_t tgt[2] = {0, 2};
    float mask[2] = {1.0f, 1.0f};
    uint64_t hits = 0;
    double l = mrnn__softmax_xent(d, x, tgt, mask, 2, 3, 0.5f, &hits);
    ck_assert_double_eq_tol(l, log(3.0), 1e-6);
    ck_assert_uint_eq(hits, 1); /* row 1: ties resolve to id 0 */
    ck_assert_float_eq_tol(d[0], 0.0f, 1e-7f);
    ck_assert_float_eq_tol(d[3], 0.5f / 3.0f, 1e-7f);
    ck_assert_float_eq_tol(d[5], 0.5f / 3.0f - 0.5f, 1e-7f);
    mask[0] = 0.0f;
    l = mrnn__softmax_xent(x, x, tgt, mask, 2, 3, 1.0f, NULL); /* in place */
    ck_assert_double_eq_tol(l, log(3.0), 1e-6);
    ck_assert_float_eq(x[0], 0.0f);
    ck_assert_float_eq_tol(x[5], 1.0f / 3.0f - 1.0f, 1e-7f);

    /* Sigmoid: row 0 predicts {0, 2} exactly, row 1 misses one. */
    float y[2 * 4] = {50.0f, -50.0f, 3.0f, -200.0f, 2.0f, -1.0f, -1.0f, 0.5f};
    uint32_t start[3] = {0, 2, 5}, ids[5] = {0, 2, 0, 1, 3};
    float m2[2] = {1.0f, 1.0f};
    uint64_t exact = 0;
    double b = mrnn__sigmoid_bce(y, y, start, ids, m2, 2, 4, 1.0f, &exact);
    double want = log1p(exp(-50.0)) * 2 + log1p(exp(-3.0)) + 0.0 /* -200 */
                  + log1p(exp(-2.0)) + log1p(exp(1.0)) + log1p(exp(-1.0)) + log1p(exp(-0.5));
    ck_assert_double_eq_tol(b, want, 1e-5);
    ck_assert(isfinite(b));
    ck_assert_uint_eq(exact, 1);
    ck_assert_float_eq_tol(y[0], 0.0f, 1e-6f);
    ck_assert_float_eq_tol(y[1], 0.0f, 1e-6f);
    ck_assert_float_eq_tol(y[5], (float)(1.0 / (1.0 + exp(1.0)) - 1.0), 1e-6f);
    ck_assert_float_eq_tol(y[6], (float)(1.0 / (1.0 + exp(1.0))), 1e-6f);
}
END_TEST

/* Train with forward_backward + clip + Adam on one fixed window until it is memorised. */
static double overfit(net *m, const mrnn__batch *b, int steps)
{
    mrnn__net_workspace *ws = mrnn__net_workspace_new(&m->cfg, b->T, b->B);
    float *mo = calloc(m->n, sizeof(float)), *vo = calloc(m->n, sizeof(float));
    mrnn__adam_config ac = {0.01f, 0.9f, 0.999f, 1e-8f, 0.0f};
    double loss = INFINITY;
    for (int s = 1; s <= steps; s++) {
        mrnn__net_result res = {0};
        mrnn__net_forward_backward(&m->cfg, &m->w, &m->g, b, ws, NULL, &res);
        loss = res.loss_sum / (double)res.n_scored;
        mrnn__clip_grad_norm(m->gb, m->n, 5.0f);
        mrnn__adam_update(m->wb, m->gb, mo, vo, m->n, (uint64_t)s, &ac);
    }
    free(mo);
    free(vo);
    mrnn__net_workspace_free(ws);
    return loss;
}

START_TEST(test_overfit_softmax)
{
    enum { N = 40, V = 10 };
    uint32_t seq[N], in_start[N], tgt_start[N];
    float mask[N - 1];
    mrnn__rng r;
    mrnn__rng_seed(&r, 71);
    for (int k = 0; k < N; k++) seq[k] = (uint32_t)mrnn__rng_below(&r, V);
    for (uint32_t k = 0; k < N; k++) in_start[k] = tgt_start[k] = k;
    for (int k = 0; k < N - 1; k++) mask[k] = 1.0f;
    mrnn__batch b = {N - 1, 1, in_start, seq, tgt_start, seq + 1, mask, NULL};
    net m;
    net_make(&m, V, V, 0, 16, 32, 1, MRNN__LOSS_SOFTMAX, 0.0f, 72);
    double loss = overfit(&m, &b, 300);
    fprintf(stderr, "overfit softmax: mean loss %.4f after 300 steps\n", loss);
    ck_assert_double_lt(loss, 0.05);
    net_free(&m);
}
END_TEST

START_TEST(test_overfit_sigmoid)
{
    enum { N = 40, V = 10 };
    uint32_t ids[N * V], start[N + 1], n = 0;
    float mask[N - 1];
    mrnn__rng r;
    mrnn__rng_seed(&r, 81);
    for (int k = 0; k < N; k++) {
        start[k] = n;
        for (uint32_t j = 0; j < V; j++)
            if (mrnn__rng_uniform(&r) < 0.3) ids[n++] = j;
        if (start[k] == n) ids[n++] = (uint32_t)mrnn__rng_below(&r, V); /* never an empty input row */
    }
    start[N] = n;
    for (int k = 0; k < N - 1; k++) mask[k] = 1.0f;
    /* Input row t is frame t (as ids), target row t is frame t+1. */
    mrnn__batch b = {N - 1, 1, start, ids, start + 1, ids, mask, NULL};
    net m;
    net_make(&m, V, V, 0, 16, 32, 1, MRNN__LOSS_SIGMOID, 0.0f, 82);
    double loss = overfit(&m, &b, 600);
    fprintf(stderr, "overfit sigmoid: mean loss %.4f after 600 steps\n", loss);
    ck_assert_double_lt(loss, 0.05);
    net_free(&m);
    /* The same frames through the NADE output. */
    net_make(&m, V, V, 0, 16, 32, 1, MRNN__LOSS_NADE, 0.0f, 82);
    loss = overfit(&m, &b, 600);
    fprintf(stderr, "overfit nade: mean loss %.4f after 600 steps\n", loss);
    ck_assert_double_lt(loss, 0.05);
    net_free(&m);
}
END_TEST

/* Training throughput at the default size; only with MRNN_BENCH set. */
START_TEST(test_bench)
{
    if (!getenv("MRNN_BENCH")) return;
    const int T = 128, B = 64, steps = 3;
    net m;
    net_make(&m, 388, 388, 0, 256, 512, 2, MRNN__LOSS_SOFTMAX, 0.2f, 91);
    tbatch tb;
    batch_make(&tb, &m.cfg, T, B, 92);
    mrnn__net_workspace *ws = mrnn__net_workspace_new(&m.cfg, T, B);
    float *mo = calloc(m.n, sizeof(float)), *vo = calloc(m.n, sizeof(float));
    mrnn__adam_config ac = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f};
    mrnn__rng r;
    mrnn__rng_seed(&r, 93);
    struct timespec t0, t1;
    for (int s = 0; s <= steps; s++) {
        if (s == 1) clock_gettime(CLOCK_MONOTONIC, &t0);
        mrnn__net_result res = {0};
        mrnn__net_forward_backward(&m.cfg, &m.w, &m.g, &tb.b, ws, &r, &res);
        mrnn__clip_grad_norm(m.gb, m.n, 1.0f);
        mrnn__adam_update(m.wb, m.gb, mo, vo, m.n, (uint64_t)s + 1, &ac);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    fprintf(stderr, "bench: V=388 E=256 2x512 T=%d B=%d dropout 0.2: %.3f s/step, %.0f tokens/s\n", T, B,
            sec / steps, (double)(T * B * steps) / sec);
    free(mo);
    free(vo);
    mrnn__net_workspace_free(ws);
    batch_free(&tb);
    net_free(&m);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("network");
    TCase *tc = tcase_create("network");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_param_layout);
    tcase_add_test(tc, test_losses);
    tcase_add_test(tc, test_gradcheck_softmax);
    tcase_add_test(tc, test_gradcheck_wider);
    tcase_add_test(tc, test_packed_matches_openblas);
    tcase_add_test(tc, test_team_matches_alone);
    tcase_add_test(tc, test_gradcheck_sigmoid);
    tcase_add_test(tc, test_gradcheck_dropout);
    tcase_add_test(tc, test_gradcheck_nade);
    tcase_add_test(tc, test_gradcheck_recurrent_dropout);
    tcase_add_test(tc, test_team_matches_alone_recurrent_dropout);
    tcase_add_test(tc, test_gradcheck_weight_dropout);
    tcase_add_test(tc, test_team_matches_alone_weight_dropout);
    tcase_add_test(tc, test_eval_carries_state);
    tcase_add_test(tc, test_frozen_eval);
    tcase_add_test(tc, test_kernel_switch);
    tcase_add_test(tc, test_step_matches_eval);
    tcase_add_test(tc, test_mask);
    tcase_add_test(tc, test_dropout);
    tcase_add_test(tc, test_overfit_softmax);
    tcase_add_test(tc, test_overfit_sigmoid);
    tcase_add_test(tc, test_bench);
    suite_add_tcase(s, tc);
    return s;
}

MRNN_TEST_MAIN(make_suite)
