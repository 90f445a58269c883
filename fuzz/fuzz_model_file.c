/* Fuzz target: the checkpoint loader (mrnn_model_load). A model that loads must also be usable:
 * a sampler on it generates a few steps. */
#include "fuzz_util.h"

#include <musicrnn/musicrnn.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) abort();
    memcpy(buf, data, size);
    fuzz_fix_crc(buf, size);
    mrnn_model *m = NULL;
    fuzz_begin();
    mrnn_status st = mrnn_model_load(&m, fuzz_memfile(buf, size));
    free(buf);
    fuzz_check(st);
    if (st != MRNN_OK) {
        if (m != NULL) abort(); /* failures leave NULL */
        return 0;
    }
    mrnn_model_params p;
    mrnn_model_params_init(&p, MRNN_MODEL_PARAMS_VERSION);
    if (mrnn_model_get_params(m, &p) != MRNN_OK) abort();
    for (uint32_t i = 0; i < mrnn_model_style_count(m); i++)
        if (!mrnn_model_style_name(m, i)) abort();
    mrnn_sampler *s = NULL;
    st = mrnn_sampler_create(&s, m, NULL);
    fuzz_check(st);
    if (st == MRNN_OK) {
        fuzz_check(mrnn_sampler_generate(s, 4, 0, NULL, NULL));
        mrnn_sampler_free(s);
    }
    mrnn_model_free(m);
    return 0;
}
