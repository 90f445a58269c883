/* Compiled with -std=c99 -pedantic -Werror: the public header must be plain C99. */
#include <musicrnn/musicrnn.h>

int main(void)
{
    mrnn_corpus *c = 0;
    mrnn_vocab *v = 0;
    mrnn_model *m = 0;
    mrnn_sampler *s = 0;
    (void)c; (void)v; (void)m; (void)s;
    return MRNN_VERSION_NUMBER > 0 ? 0 : 1;
}
