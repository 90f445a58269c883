/* mrnn_model: configuration, the weight block, and getters. Training is in train.c, scoring in
 * evaluate.c, files in checkpoint.c. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "alloc.h"
#include "encoding_pianoroll.h"
#include "error.h"
#include "model.h"
#include "vocab.h"

/* Bytes of mrnn_model_params in each released version (docs/ABI.md: fields are only appended, and
 * a program built against an older header passes the smaller struct); 0: unknown version. */
static size_t params_size(uint32_t version)
{
    switch (version) {
    case 1: return offsetof(mrnn_model_params, init_seed) + sizeof(uint64_t);
    case 2: return sizeof(mrnn_model_params);
    default: return 0;
    }
}

static void params_defaults(mrnn_model_params *p)
{
    memset(p, 0, sizeof *p);
    p->version = MRNN_MODEL_PARAMS_VERSION;
    p->embed_size = 128;
    p->hidden_size = 256;
    p->num_layers = 2;
    p->dropout = 0.0f;
    p->init_seed = 1;
    p->frame_output = MRNN_FRAME_OUTPUT_INDEPENDENT;
    p->nade_hidden = 150;
}

MRNN_API mrnn_status mrnn_model_params_init(mrnn_model_params *p, uint32_t version)
{
    MRNN_CHECK_ARG(p, "p");
    size_t size = params_size(version);
    if (!size) return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_model_params_init: unknown params version %u", version);
    mrnn_model_params full;
    params_defaults(&full);
    full.version = version;
    memcpy(p, &full, size);
    return MRNN_OK;
}

mrnn_status mrnn__model_params_full(const mrnn_model_params *in, mrnn_model_params *out)
{
    size_t size = params_size(in->version);
    if (!size)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "model params: version %u is unknown (call mrnn_model_params_init)",
                          in->version);
    params_defaults(out);
    memcpy(out, in, size);
    out->version = MRNN_MODEL_PARAMS_VERSION;
    return MRNN_OK;
}

mrnn_status mrnn__model_config(const mrnn_vocab *v, uint32_t n_styles, const mrnn_model_params *p,
                               mrnn__net_config *cfg)
{
    if (p->version != MRNN_MODEL_PARAMS_VERSION)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "model params: version %u is not %u (call mrnn_model_params_init)",
                          p->version, MRNN_MODEL_PARAMS_VERSION);
    if (p->embed_size < 1 || p->embed_size > MRNN__MAX_EMBED)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "model params: embed_size %u is not in 1..%u", p->embed_size,
                          MRNN__MAX_EMBED);
    if (p->hidden_size < 1 || p->hidden_size > MRNN__MAX_HIDDEN)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "model params: hidden_size %u is not in 1..%u", p->hidden_size,
                          MRNN__MAX_HIDDEN);
    if (p->num_layers < 1 || p->num_layers > MRNN__MAX_LAYERS)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "model params: num_layers %u is not in 1..%d", p->num_layers,
                          MRNN__MAX_LAYERS);
    if (!(p->dropout >= 0.0f && p->dropout < 1.0f))
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "model params: dropout %g is not in [0, 1)", (double)p->dropout);
    if (p->frame_output > MRNN_FRAME_OUTPUT_NADE)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "model params: frame_output %u is not 0 (independent) or 1 (nade)",
                          p->frame_output);
    const int nade = p->frame_output == MRNN_FRAME_OUTPUT_NADE;
    if (nade && v->enc.encoding != MRNN_ENCODING_PIANOROLL)
        return mrnn__fail(MRNN_ERR_INVALID_ARG,
                          "model params: frame_output nade needs the pianoroll encoding (a step of an event "
                          "encoding is one token, not a frame of keys)");
    if (nade && (p->nade_hidden < 1 || p->nade_hidden > MRNN__MAX_HIDDEN))
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "model params: nade_hidden %u is not in 1..%u", p->nade_hidden,
                          MRNN__MAX_HIDDEN);
    if (v->n < 1 || v->n > MRNN__MAX_VOCAB)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "model: vocabulary size %u is not in 1..%u", v->n, MRNN__MAX_VOCAB);
    if (n_styles > 4096) return mrnn__fail(MRNN_ERR_LIMIT, "model: %u style labels (limit 4096)", n_styles);
    memset(cfg, 0, sizeof *cfg);
    int roll = v->enc.encoding == MRNN_ENCODING_PIANOROLL;
    cfg->n_tokens = v->n;
    cfg->n_out = roll ? MRNN__PIANO_KEYS : v->n;
    /* One extra learned row stands for "no style" when a model has labels. */
    cfg->n_styles = n_styles ? n_styles + 1 : 0;
    cfg->embed = p->embed_size;
    cfg->hidden = p->hidden_size;
    cfg->layers = p->num_layers;
    cfg->loss = nade ? MRNN__LOSS_NADE : roll ? MRNN__LOSS_SIGMOID : MRNN__LOSS_SOFTMAX;
    cfg->dropout = p->dropout;
    cfg->nade_hidden = nade ? p->nade_hidden : 0;
    /* Count in 64 bits before trusting size_t arithmetic. */
    uint64_t E = cfg->embed, H = cfg->hidden, count = (uint64_t)cfg->n_tokens * E + (uint64_t)cfg->n_styles * E;
    for (uint32_t l = 0; l < cfg->layers; l++) count += 4 * H * ((l ? H : E) + H + 1);
    count += (uint64_t)cfg->n_out * (H + 1);
    if (nade) count += (uint64_t)cfg->nade_hidden * (H + 1 + 2 * (uint64_t)cfg->n_out);
    if (count > MRNN__MAX_PARAMS)
        return mrnn__fail(MRNN_ERR_LIMIT, "model: %llu parameters exceed the limit of %llu", (unsigned long long)count,
                          (unsigned long long)MRNN__MAX_PARAMS);
    return MRNN_OK;
}

mrnn_status mrnn__model_alloc(mrnn_model **out, mrnn_vocab *v, const char *const *styles, uint32_t n_styles,
                              const mrnn_model_params *p)
{
    *out = NULL;
    mrnn__net_config cfg;
    mrnn_status st = mrnn__model_config(v, n_styles, p, &cfg);
    if (st != MRNN_OK) {
        mrnn_vocab_free(v);
        return st;
    }
    mrnn_model *m = mrnn__calloc(1, sizeof *m);
    if (!m) {
        mrnn_vocab_free(v);
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory creating a model");
    }
    m->vocab = v;
    m->params = *p;
    m->cfg = cfg;
    m->best_valid = INFINITY;
    m->n_params = mrnn__net_param_count(&cfg);
    m->weights = mrnn__calloc_large(m->n_params, sizeof *m->weights);
    if (!m->weights) goto nomem;
    mrnn__net_bind(&cfg, m->weights, &m->w);
    if (n_styles) {
        m->styles = mrnn__calloc(n_styles, sizeof *m->styles);
        if (!m->styles) goto nomem;
        for (uint32_t i = 0; i < n_styles; i++) {
            if (!styles[i]) {
                mrnn_model_free(m);
                return mrnn__fail(MRNN_ERR_INVALID_ARG, "model: style name %u is NULL", i);
            }
            m->styles[i] = mrnn__strdup(styles[i]);
            m->n_styles = i + 1;
            if (!m->styles[i]) goto nomem;
        }
    }
    *out = m;
    return MRNN_OK;
nomem:
    mrnn_model_free(m);
    return mrnn__fail(MRNN_ERR_NOMEM, "out of memory allocating a model (%zu parameters)", mrnn__net_param_count(&cfg));
}

mrnn_status mrnn__model_alloc_optimizer(mrnn_model *m)
{
    if (m->adam_m) return MRNN_OK;
    m->adam_m = mrnn__calloc_large(m->n_params, sizeof *m->adam_m);
    m->adam_v = mrnn__calloc_large(m->n_params, sizeof *m->adam_v);
    if (!m->adam_m || !m->adam_v) {
        mrnn__free(m->adam_m);
        mrnn__free(m->adam_v);
        m->adam_m = m->adam_v = NULL;
        return mrnn__fail(MRNN_ERR_NOMEM, "out of memory for the optimiser state");
    }
    return MRNN_OK;
}

MRNN_API mrnn_status mrnn_model_create(mrnn_model **out, const mrnn_vocab *vocab, const char *const *style_names,
                                       uint32_t n_styles, const mrnn_model_params *params)
{
    MRNN_CHECK_ARG(out, "out");
    *out = NULL;
    MRNN_CHECK_ARG(vocab, "vocab");
    MRNN_CHECK_ARG(style_names || n_styles == 0, "style_names");
    mrnn_model_params full;
    mrnn_status st = MRNN_OK;
    if (params)
        st = mrnn__model_params_full(params, &full);
    else
        params_defaults(&full);
    if (st != MRNN_OK) return st;
    params = &full;
    mrnn_vocab *v = NULL;
    st = mrnn__vocab_clone(vocab, &v);
    if (st != MRNN_OK) return st;
    v->frozen = 1;
    mrnn_model *m = NULL;
    st = mrnn__model_alloc(&m, v, style_names, n_styles, params);
    if (st != MRNN_OK) return st;
    mrnn__rng init_rng;
    mrnn__rng_seed(&init_rng, params->init_seed);
    mrnn__net_init(&m->cfg, &m->w, &init_rng);
    *out = m;
    return MRNN_OK;
}

MRNN_API void mrnn_model_free(mrnn_model *m)
{
    if (!m) return;
    for (uint32_t i = 0; i < m->n_styles; i++) mrnn__free(m->styles[i]);
    mrnn__free(m->styles);
    mrnn__free(m->weights);
    mrnn__free(m->adam_m);
    mrnn__free(m->adam_v);
    mrnn__free(m->avg);
    mrnn_vocab_free(m->vocab);
    mrnn__free(m);
}

MRNN_API const mrnn_vocab *mrnn_model_vocab(const mrnn_model *m)
{
    return m ? m->vocab : NULL;
}

MRNN_API mrnn_status mrnn_model_get_params(const mrnn_model *m, mrnn_model_params *out)
{
    MRNN_CHECK_ARG(m, "m");
    MRNN_CHECK_ARG(out, "out");
    size_t size = params_size(out->version);
    if (!size)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_model_get_params: out->version %u is unknown", out->version);
    uint32_t version = out->version;
    memcpy(out, &m->params, size);
    out->version = version;
    return MRNN_OK;
}

MRNN_API uint64_t mrnn_model_param_count(const mrnn_model *m)
{
    return m ? m->n_params : 0;
}

MRNN_API uint64_t mrnn_model_steps_trained(const mrnn_model *m)
{
    return m ? m->step : 0;
}

MRNN_API uint32_t mrnn_model_style_count(const mrnn_model *m)
{
    return m ? m->n_styles : 0;
}

MRNN_API const char *mrnn_model_style_name(const mrnn_model *m, uint32_t i)
{
    return (m && i < m->n_styles) ? m->styles[i] : NULL;
}
