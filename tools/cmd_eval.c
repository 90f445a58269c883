/* musicrnn eval: score a model on a split of a corpus, or (cmd_eval_stats.c) compare the musical
 * statistics of two folders of MIDI files. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void help(void)
{
    printf("usage: musicrnn eval MODEL.mrm CORPUS.mrc [--split train|valid|test] [--json]\n"
           "       musicrnn eval --generated DIR --reference DIR [--json]\n"
           "\n"
           "First form: mean negative log-likelihood per step in nats (pianoroll: per frame, summed over\n"
           "the 88 keys), perplexity and accuracy. Each piece runs from its start; its first step is not scored.\n"
           "Without --split the validation split is scored (and a note says so on stderr).\n"
           "\n"
           "Second form: musical statistics of every .mid/.midi file below each folder (recursively; drums\n"
           "ignored) and how far the generated set is from the reference: pitch-class and inter-onset-\n"
           "interval histograms (Jensen-Shannon divergence in bits, total variation), and per-piece features\n"
           "as mean +- standard deviation with the overlapping area of fitted normals (1 = same) and the\n"
           "absolute difference of the means. Definitions: docs/QUALITY-STATISTICS.md.\n");
}

/* ---- the model-evaluation form ------------------------------------------------------------ */

static int eval_model(const char *model_path, const char *corpus_path, uint32_t split, int split_given, int json)
{
    mrnn_model *m = NULL;
    mrnn_corpus *c = NULL;
    mrnn_status st = mrnn_model_load(&m, model_path);
    if (st == MRNN_OK) st = mrnn_corpus_load(&c, corpus_path);
    mrnn_eval_result r;
    /* Scoring the validation split by default surprised users scoring a held-out test set: say so. */
    if (st == MRNN_OK && !split_given)
        fprintf(stderr, "musicrnn eval: no --split given: scoring the %s split\n", cli_split_name(split));
    if (st == MRNN_OK) st = mrnn_model_evaluate(m, c, split, &r);
    const char *unit = "step";
    if (st == MRNN_OK && cli_is_pianoroll(mrnn_model_vocab(m))) unit = "frame";
    int rc = 0;
    if (st != MRNN_OK) {
        rc = cli_fail("eval", st);
    } else if (json) {
        printf("{\"split\": \"%s\", \"split_given\": %s, \"nll\": %.6f, \"perplexity\": %.6f, \"accuracy\": %.6f, "
               "\"scored\": %llu, \"unit\": \"%s\", \"pieces\": %u}\n",
               cli_split_name(split), split_given ? "true" : "false", r.nll, r.perplexity, r.accuracy,
               (unsigned long long)r.n_scored, unit, r.n_pieces);
    } else {
        printf("split      %s%s (%u pieces, %llu scored %ss)\nNLL        %.4f nats/%s\nperplexity %.4f\n"
               "accuracy   %.4f\n",
               cli_split_name(split), split_given ? "" : " (default; --split chooses)", r.n_pieces,
               (unsigned long long)r.n_scored, unit, r.nll, unit, r.perplexity, r.accuracy);
    }
    mrnn_corpus_free(c);
    mrnn_model_free(m);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    enum { O_SPLIT = 1000, O_JSON, O_GEN, O_REF };
    static const struct option opts[] = {{"split", required_argument, 0, O_SPLIT},
                                         {"json", no_argument, 0, O_JSON},
                                         {"generated", required_argument, 0, O_GEN},
                                         {"reference", required_argument, 0, O_REF},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    uint32_t split = MRNN_SPLIT_VALID;
    const char *gen_dir = NULL, *ref_dir = NULL;
    int json = 0, split_given = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case O_SPLIT:
            if (strcmp(optarg, "train") == 0) split = MRNN_SPLIT_TRAIN;
            else if (strcmp(optarg, "valid") == 0) split = MRNN_SPLIT_VALID;
            else if (strcmp(optarg, "test") == 0) split = MRNN_SPLIT_TEST;
            else return cli_usage_error("eval", "--split is train, valid or test");
            split_given = 1;
            break;
        case O_JSON: json = 1; break;
        case O_GEN: gen_dir = optarg; break;
        case O_REF: ref_dir = optarg; break;
        case 'h': help(); return 0;
        default: return cli_usage_error("eval", "bad option");
        }
    }
    if (gen_dir || ref_dir) {
        if (!gen_dir || !ref_dir) return cli_usage_error("eval", "--generated and --reference go together");
        if (optind != argc || split_given)
            return cli_usage_error("eval", "no MODEL, CORPUS or --split with --generated/--reference");
        return cmd_eval_stats(gen_dir, ref_dir, json);
    }
    if (optind != argc - 2) return cli_usage_error("eval", "expected MODEL.mrm CORPUS.mrc");
    return eval_model(argv[optind], argv[optind + 1], split, split_given, json);
}
