/* Internal view of a model: its network configuration, the one block of weights, and the
 * training state that makes a resumed run continue exactly. */
#ifndef MRNN_MODEL_H
#define MRNN_MODEL_H

#include "musicrnn/musicrnn.h"
#include "network.h"
#include "rng.h"

/* Caps on model dimensions (hostile checkpoints, wrong parameters). */
#define MRNN__MAX_EMBED 8192u
#define MRNN__MAX_HIDDEN 8192u
#define MRNN__MAX_PARAMS (UINT64_C(1) << 31)

struct mrnn_model {
    mrnn_vocab *vocab;
    char **styles;
    uint32_t n_styles;
    mrnn_model_params params;
    mrnn__net_config cfg;
    float *weights; /* cfg's parameter block */
    size_t n_params;
    mrnn__net_params w;

    /* Training state (saved with MRNN_SAVE_TRAINING_STATE). */
    float *adam_m, *adam_v; /* NULL until trained or loaded with state */
    uint64_t step;
    mrnn__rng rng; /* batching and dropout */
    int rng_seeded;
    double best_valid;
    uint32_t valids_since_best;
    /* Weight averaging (mrnn_train_params.weight_average; NULL: none): during training `avg` is the
     * moving average beside the training weights; when a call ends the two are swapped
     * (avg_swapped = 1), so that the model is the average, and the next training call swaps them
     * back to continue from the training weights exactly. */
    float *avg;
    int avg_swapped;
};

/* in (of any known version) with the fields it lacks defaulted, as the current version. */
mrnn_status mrnn__model_params_full(const mrnn_model_params *in, mrnn_model_params *out);
/* Network configuration for a vocabulary and model params (current version); validates and names the bad field. */
mrnn_status mrnn__model_config(const mrnn_vocab *v, uint32_t n_styles, const mrnn_model_params *p,
                               mrnn__net_config *cfg);
/* Allocate a model around a vocabulary (takes ownership of v) with zeroed weights. */
mrnn_status mrnn__model_alloc(mrnn_model **out, mrnn_vocab *v, const char *const *styles, uint32_t n_styles,
                              const mrnn_model_params *p);
/* Allocate the Adam moments if missing. */
mrnn_status mrnn__model_alloc_optimizer(mrnn_model *m);

/* The model file's container (checkpoint.c; fileio.h describes containers). */
extern const struct mrnn__container mrnn__model_container;

#endif
