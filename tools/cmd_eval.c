/* musicrnn eval: score a model on a split of a corpus. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void help(void)
{
    printf("usage: musicrnn eval MODEL.mrm CORPUS.mrc [--split train|valid|test] [--json]\n"
           "\n"
           "Mean negative log-likelihood per step in nats (pianoroll: per frame, summed over the 88\n"
           "keys), perplexity and accuracy. Each piece runs from its start; its first step is not scored.\n");
}

int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {{"split", required_argument, 0, 's'}, {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    uint32_t split = MRNN_SPLIT_VALID;
    int json = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 's':
            if (strcmp(optarg, "train") == 0) split = MRNN_SPLIT_TRAIN;
            else if (strcmp(optarg, "valid") == 0) split = MRNN_SPLIT_VALID;
            else if (strcmp(optarg, "test") == 0) split = MRNN_SPLIT_TEST;
            else return cli_usage_error("eval", "--split is train, valid or test");
            break;
        case 'j': json = 1; break;
        case 'h': help(); return 0;
        default: return cli_usage_error("eval", "bad option");
        }
    }
    if (optind != argc - 2) return cli_usage_error("eval", "expected MODEL.mrm CORPUS.mrc");
    mrnn_model *m = NULL;
    mrnn_corpus *c = NULL;
    mrnn_status st = mrnn_model_load(&m, argv[optind]);
    if (st == MRNN_OK) st = mrnn_corpus_load(&c, argv[optind + 1]);
    mrnn_eval_result r;
    if (st == MRNN_OK) st = mrnn_model_evaluate(m, c, split, &r);
    int rc = 0;
    if (st != MRNN_OK) {
        rc = cli_fail("eval", st);
    } else if (json) {
        printf("{\"split\": \"%s\", \"nll\": %.6f, \"perplexity\": %.6f, \"accuracy\": %.6f, \"scored\": %llu, "
               "\"pieces\": %u}\n",
               cli_split_name(split), r.nll, r.perplexity, r.accuracy, (unsigned long long)r.n_scored, r.n_pieces);
    } else {
        printf("split      %s (%u pieces, %llu scored steps)\nNLL        %.4f nats/step\nperplexity %.4f\n"
               "accuracy   %.4f\n",
               cli_split_name(split), r.n_pieces, (unsigned long long)r.n_scored, r.nll, r.perplexity, r.accuracy);
    }
    mrnn_corpus_free(c);
    mrnn_model_free(m);
    return rc;
}
