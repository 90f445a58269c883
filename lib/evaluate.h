#ifndef MRNN_EVALUATE_H
#define MRNN_EVALUATE_H

#include "corpus.h"
#include "musicrnn/musicrnn.h"

/* Score split of c with m, without argument checks (the training loop's validation). */
/* team: threads to split each window over (team.h; NULL: the caller alone, OpenBLAS as set). */
struct mrnn__compute;
mrnn_status mrnn__evaluate(const mrnn_model *m, const struct mrnn_corpus *c, uint32_t split,
                           const struct mrnn__compute *cx, mrnn_eval_result *out);

#endif
