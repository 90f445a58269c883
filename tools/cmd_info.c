/* musicrnn info: describe a corpus or model file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void print_encoding(const mrnn_vocab *v)
{
    mrnn_encoding_params e;
    mrnn_encoding_params_init(&e, MRNN_ENCODING_PARAMS_VERSION);
    mrnn_vocab_get_encoding_params(v, &e);
    printf("encoding     %s, %u steps per quarter", cli_encoding_name(e.encoding), e.steps_per_quarter);
    if (e.frame_seconds > 0) printf(", frames of %g s", e.frame_seconds);
    if (e.encoding == MRNN_ENCODING_MULTITRACK) {
        int all = 1;
        for (uint32_t w = 0; w < MRNN_INSTRUMENT_MASK_WORDS; w++) all &= e.instrument_mask[w] == 0;
        printf(", %s, drums kept%s", e.multitrack_programs ? "128 GM programs" : "16 GM families",
               all ? "" : ", some instruments only");
        if (e.max_tracks) printf(", at most %u instruments", e.max_tracks);
        if (e.velocity_bins) printf(", %u velocity bins", e.velocity_bins);
        printf(", durations up to %u steps per token", e.max_duration_steps);
    } else if (e.keep_drums) {
        printf(", drums kept");
    }
    printf("%s\n", e.normalize_key == MRNN_KEY_TONIC_C ? ", keys moved to tonic C"
                    : e.normalize_key ? ", keys moved to C major / A minor" : "");
    printf("vocabulary   %u tokens:", mrnn_vocab_size(v));
    for (uint32_t i = 0; i < mrnn_vocab_size(v) && i < 8; i++) printf(" %s", mrnn_vocab_token_text(v, i));
    printf("%s\n", mrnn_vocab_size(v) > 8 ? " ..." : "");
}

static int info_corpus(const char *path)
{
    mrnn_corpus *c = NULL;
    mrnn_status st = mrnn_corpus_load(&c, path);
    if (st != MRNN_OK) return cli_fail("info", st);
    mrnn_corpus_stats s;
    mrnn_corpus_get_stats(c, &s);
    printf("corpus       %s\n", path);
    print_encoding(mrnn_corpus_vocab(c));
    printf("files        %u read, %u skipped\n", s.n_files - s.n_skipped, s.n_skipped);
    for (int k = 0; k < 3; k++)
        printf("%-12s %u pieces, %llu steps, %llu tokens\n", cli_split_name((uint32_t)k), s.n_pieces[k],
               (unsigned long long)s.n_steps[k], (unsigned long long)s.n_tokens[k]);
    printf("notes        %llu\n", (unsigned long long)s.n_notes);
    if (s.n_styles) {
        printf("styles      ");
        for (uint32_t i = 0; i < s.n_styles; i++) printf(" %s", mrnn_corpus_style_name(c, i));
        printf("\n");
    }
    mrnn_corpus_free(c);
    return 0;
}

static int info_model(const char *path)
{
    mrnn_model *m = NULL;
    mrnn_status st = mrnn_model_load(&m, path);
    if (st != MRNN_OK) return cli_fail("info", st);
    mrnn_model_params p;
    mrnn_model_params_init(&p, MRNN_MODEL_PARAMS_VERSION);
    mrnn_model_get_params(m, &p);
    printf("model        %s\n", path);
    printf("network      embed %u -> %u x LSTM %u, dropout %g\n", p.embed_size, p.num_layers, p.hidden_size,
           (double)p.dropout);
    if (p.frame_output == MRNN_FRAME_OUTPUT_NADE) printf("frame output NADE, %u hidden units\n", p.nade_hidden);
    printf("parameters   %llu\n", (unsigned long long)mrnn_model_param_count(m));
    printf("trained      %llu steps\n", (unsigned long long)mrnn_model_steps_trained(m));
    print_encoding(mrnn_model_vocab(m));
    if (mrnn_model_style_count(m)) {
        printf("styles      ");
        for (uint32_t i = 0; i < mrnn_model_style_count(m); i++) printf(" %s", mrnn_model_style_name(m, i));
        printf("\n");
    }
    mrnn_model_free(m);
    return 0;
}

int cmd_info(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "--help") == 0) {
        printf("usage: musicrnn info FILE (a .mrc corpus or .mrm model)\n");
        return argc == 2 ? 0 : 2;
    }
    uint32_t kind = MRNN_FILE_OTHER;
    mrnn_status st = mrnn_file_kind(argv[1], &kind);
    if (st != MRNN_OK) return cli_fail("info", st);
    switch (kind) {
    case MRNN_FILE_CORPUS: return info_corpus(argv[1]);
    case MRNN_FILE_MODEL: return info_model(argv[1]);
    default:
        fprintf(stderr, "musicrnn: info: %s: not a libmusicrnn corpus or model file\n", argv[1]);
        return 1;
    }
}
