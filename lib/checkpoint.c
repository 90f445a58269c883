/* Model checkpoints (.mrm): one self-describing little-endian file —
 *   "MRNNMODL", format version, model params (format 3 adds the frame output and NADE size),
 *   vocabulary (with its encoding params), style labels,
 *   steps trained, weights, optional training state (Adam moments, RNG, early-stopping state),
 *   CRC-32 of everything before it.
 * The vocabulary and encoding travel with the weights, so generating never needs flags repeated. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "fileio.h"
#include "model.h"
#include "vocab.h"

/* The model file's container (fileio.h): bump `format` here for a new layout. Format 2: the
 * embedded vocabulary may carry version-2 encoding params (multitrack); format 1 still loads.
 * Format 3: the frame output and the NADE size follow init_seed. It is written only for models
 * that need it (a NADE frame output); every other model is still written as format 2, which
 * libraries from before the NADE read. They refuse format 3 by its version (MRNN_ERR_VERSION).
 * Format 4: format 3 whose training state ends with the weight average (model.h: a flag, 1 when
 * the weights are the average, then the other block); written only for a checkpoint of a run
 * with weight averaging, so older libraries refuse just those, by their version. */
const mrnn__container mrnn__model_container = {"MRNNMODL", "model", 4u, 1u, (size_t)1 << 35};
static const mrnn__container model_container_v3 = {"MRNNMODL", "model", 3u, 1u, (size_t)1 << 35};
static const mrnn__container model_container_v2 = {"MRNNMODL", "model", 2u, 1u, (size_t)1 << 35};
#define MAX_STYLE_TEXT 4096

MRNN_API mrnn_status mrnn_model_save(const mrnn_model *m, const char *path, uint32_t flags)
{
    MRNN_CHECK_ARG(m, "m");
    MRNN_CHECK_ARG(path, "path");
    if (flags & ~(uint32_t)MRNN_SAVE_TRAINING_STATE)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "%s: unknown save flags 0x%x", path, flags);
    int with_state = (flags & MRNN_SAVE_TRAINING_STATE) && m->adam_m;
    mrnn__wbuf b = {0};
    const int with_avg = with_state && m->avg;
    const int nade = with_avg || m->params.frame_output == MRNN_FRAME_OUTPUT_NADE; /* format 3's fields */
    mrnn__container_begin(with_avg ? &mrnn__model_container : nade ? &model_container_v3 : &model_container_v2, &b);
    mrnn__wbuf_u32(&b, m->params.embed_size);
    mrnn__wbuf_u32(&b, m->params.hidden_size);
    mrnn__wbuf_u32(&b, m->params.num_layers);
    mrnn__wbuf_f32(&b, m->params.dropout);
    mrnn__wbuf_u64(&b, m->params.init_seed);
    if (nade) {
        mrnn__wbuf_u32(&b, m->params.frame_output);
        mrnn__wbuf_u32(&b, m->params.nade_hidden);
    }
    mrnn__vocab_write(m->vocab, &b);
    mrnn__wbuf_u32(&b, m->n_styles);
    for (uint32_t i = 0; i < m->n_styles; i++) mrnn__wbuf_str(&b, m->styles[i]);
    mrnn__wbuf_u64(&b, m->step);
    mrnn__wbuf_u64(&b, m->n_params);
    mrnn__wbuf_f32s(&b, m->weights, m->n_params);
    mrnn__wbuf_u32(&b, (uint32_t)with_state);
    if (with_state) {
        for (int i = 0; i < 4; i++) mrnn__wbuf_u64(&b, m->rng.s[i]);
        mrnn__wbuf_u32(&b, (uint32_t)m->rng_seeded);
        mrnn__wbuf_f64(&b, m->best_valid);
        mrnn__wbuf_u32(&b, m->valids_since_best);
        mrnn__wbuf_f32s(&b, m->adam_m, m->n_params);
        mrnn__wbuf_f32s(&b, m->adam_v, m->n_params);
        if (with_avg) {
            mrnn__wbuf_u32(&b, (uint32_t)m->avg_swapped);
            mrnn__wbuf_f32s(&b, m->avg, m->n_params);
        }
    }
    return mrnn__container_save(&mrnn__model_container, &b, path);
}

static mrnn_status corrupt(const char *path, const char *what)
{
    return mrnn__container_corrupt(&mrnn__model_container, path, what);
}

/* 1 if the rest of the file is too short for the weights of the declared shape. Checked before the
 * model is allocated: an 11 KB file declaring 67 million parameters made the loader allocate 270 MB
 * before noticing (found by fuzz_model_file). A shape the configuration refuses is left to
 * mrnn__model_alloc, which names the bad field. */
static int weights_missing(const mrnn__rbuf *b, const mrnn_vocab *v, uint32_t n_styles, const mrnn_model_params *p)
{
    mrnn__net_config cfg;
    if (mrnn__model_config(v, n_styles, p, &cfg) != MRNN_OK) return 0;
    uint64_t need = 16 + 4 * (uint64_t)mrnn__net_param_count(&cfg); /* step, count, weights */
    return need > b->len - b->pos;
}

/* The body of a file of the given format version (1, 2, 3 with the frame output, 4 with the
 * weight average). */
static mrnn_status parse(mrnn__rbuf *b, uint32_t format, const char *path, mrnn_model **out)
{
    mrnn_model_params p;
    mrnn_model_params_init(&p, MRNN_MODEL_PARAMS_VERSION);
    p.embed_size = mrnn__rbuf_u32(b);
    p.hidden_size = mrnn__rbuf_u32(b);
    p.num_layers = mrnn__rbuf_u32(b);
    p.dropout = mrnn__rbuf_f32(b);
    p.init_seed = mrnn__rbuf_u64(b);
    if (format >= 3) {
        p.frame_output = mrnn__rbuf_u32(b);
        p.nade_hidden = mrnn__rbuf_u32(b);
    }
    if (b->bad) return corrupt(path, "truncated header");
    mrnn_vocab *v = NULL;
    mrnn_status st = mrnn__vocab_read(b, &v, path);
    if (st != MRNN_OK) return st;
    v->frozen = 1;
    uint32_t n_styles = mrnn__rbuf_u32(b);
    if (b->bad || n_styles > 4096) {
        mrnn_vocab_free(v);
        return corrupt(path, "bad style count");
    }
    char **styles = mrnn__calloc(n_styles ? n_styles : 1, sizeof *styles);
    if (!styles) {
        mrnn_vocab_free(v);
        return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", path);
    }
    for (uint32_t i = 0; i < n_styles && !b->bad; i++) styles[i] = mrnn__rbuf_str(b, MAX_STYLE_TEXT);
    mrnn_model *m = NULL;
    if (b->nomem) {
        mrnn_vocab_free(v);
        st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory reading style labels", path);
    } else if (b->bad) {
        mrnn_vocab_free(v);
        st = corrupt(path, "bad style labels");
    } else if (weights_missing(b, v, n_styles, &p)) {
        mrnn_vocab_free(v);
        st = corrupt(path, "the file is too short for the weights of its declared shape");
    } else {
        st = mrnn__model_alloc(&m, v, (const char *const *)styles, n_styles, &p); /* takes v */
        if (st == MRNN_ERR_INVALID_ARG) {
            /* A copy: the message is formatted into the buffer mrnn_last_error() points at. */
            char why[512];
            snprintf(why, sizeof why, "%s", mrnn_last_error());
            st = corrupt(path, why);
        }
        else if (st != MRNN_OK) mrnn__error_prefix(path);
    }
    for (uint32_t i = 0; i < n_styles; i++) mrnn__free(styles[i]);
    mrnn__free(styles);
    if (st != MRNN_OK) return st;

    m->step = mrnn__rbuf_u64(b);
    uint64_t n_params = mrnn__rbuf_u64(b);
    if (b->bad || n_params != m->n_params) {
        mrnn_model_free(m);
        return corrupt(path, "parameter count does not match the configuration");
    }
    mrnn__rbuf_f32s(b, m->weights, m->n_params);
    uint32_t with_state = mrnn__rbuf_u32(b);
    if (b->bad || with_state > 1) {
        mrnn_model_free(m);
        return corrupt(path, "truncated weights");
    }
    if (with_state) {
        for (int i = 0; i < 4; i++) m->rng.s[i] = mrnn__rbuf_u64(b);
        m->rng_seeded = mrnn__rbuf_u32(b) != 0;
        m->best_valid = mrnn__rbuf_f64(b);
        m->valids_since_best = mrnn__rbuf_u32(b);
        st = mrnn__model_alloc_optimizer(m);
        if (st != MRNN_OK) {
            mrnn_model_free(m);
            return st;
        }
        mrnn__rbuf_f32s(b, m->adam_m, m->n_params);
        mrnn__rbuf_f32s(b, m->adam_v, m->n_params);
        if (format >= 4) {
            uint32_t swapped = mrnn__rbuf_u32(b);
            if (b->bad || swapped > 1) {
                mrnn_model_free(m);
                return corrupt(path, "bad weight-average flag");
            }
            m->avg = mrnn__malloc(m->n_params * sizeof *m->avg);
            if (!m->avg) {
                mrnn_model_free(m);
                return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory for the weight average", path);
            }
            m->avg_swapped = (int)swapped;
            mrnn__rbuf_f32s(b, m->avg, m->n_params);
        }
    }
    if (b->bad || b->pos != b->len) {
        mrnn_model_free(m);
        return corrupt(path, "truncated or trailing data");
    }
    /* NaN or infinite weights would poison every later computation. */
    for (size_t i = 0; i < m->n_params; i++) {
        if (!isfinite(m->weights[i]) || (m->avg && !isfinite(m->avg[i]))) {
            mrnn_model_free(m);
            return corrupt(path, "non-finite weight");
        }
    }
    *out = m;
    return MRNN_OK;
}

MRNN_API mrnn_status mrnn_model_load(mrnn_model **out, const char *path)
{
    MRNN_CHECK_ARG(out, "out");
    *out = NULL;
    MRNN_CHECK_ARG(path, "path");
    uint8_t *data = NULL;
    mrnn__rbuf b;
    uint32_t format;
    mrnn_status st = mrnn__container_load(&mrnn__model_container, path, &data, &b, &format);
    if (st != MRNN_OK) return st;
    st = parse(&b, format, path, out);
    mrnn__free(data);
    return st;
}
