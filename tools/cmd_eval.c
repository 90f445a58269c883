/* musicrnn eval: score a model on a split of a corpus, or compare the musical statistics of two
 * folders of MIDI files (generated pieces against a reference). */
#include <dirent.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

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
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    if (st == MRNN_OK && mrnn_vocab_encoding_params(mrnn_model_vocab(m), &enc) == MRNN_OK &&
        enc.encoding == MRNN_ENCODING_PIANOROLL)
        unit = "frame";
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

/* ---- listing MIDI files ------------------------------------------------------------------- */

typedef struct file_list {
    char **paths;
    size_t n, cap;
} file_list;

static void file_list_free(file_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->paths[i]);
    free(l->paths);
    memset(l, 0, sizeof *l);
}

static int file_list_add(file_list *l, char *path)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **p = realloc(l->paths, cap * sizeof *p);
        if (!p) return -1;
        l->paths = p;
        l->cap = cap;
    }
    l->paths[l->n++] = path;
    return 0;
}

static int is_midi_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".mid") == 0 || strcasecmp(dot, ".midi") == 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every MIDI file below dir (hidden entries and symlinked folders skipped, so a link loop cannot
 * recurse forever). Returns 0, or -1 after printing why. */
static int list_midi(const char *dir, int depth, file_list *out)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "musicrnn eval: %s: cannot list folder\n", dir);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(len);
        if (!path) {
            rc = -1;
            break;
        }
        snprintf(path, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (depth < 32) rc = list_midi(path, depth + 1, out);
            free(path);
        } else if (is_midi_name(e->d_name)) {
            if (file_list_add(out, path) != 0) {
                free(path);
                rc = -1;
            }
        } else {
            free(path);
        }
    }
    closedir(d);
    if (rc == 0 && depth == 0 && out->n > 1) qsort(out->paths, out->n, sizeof *out->paths, cmp_str);
    if (rc != 0 && depth == 0) fprintf(stderr, "musicrnn eval: %s: out of memory listing files\n", dir);
    return rc;
}

/* ---- the statistics form ------------------------------------------------------------------ */

static int stats_of_dir(const char *dir, mrnn_music_stats *out)
{
    file_list files = {0};
    if (list_midi(dir, 0, &files) != 0) {
        file_list_free(&files);
        return 1;
    }
    if (files.n == 0) {
        fprintf(stderr, "musicrnn eval: %s: no .mid or .midi file in this folder\n", dir);
        file_list_free(&files);
        return 1;
    }
    mrnn_music_stats_init(out, MRNN_MUSIC_STATS_VERSION);
    mrnn_status st = mrnn_music_stats_compute((const char *const *)files.paths, files.n, out);
    file_list_free(&files);
    return st == MRNN_OK ? 0 : cli_fail("eval", st);
}

/* JSON has no NaN: undefined values are null. */
static void json_num(double x)
{
    if (isfinite(x)) printf("%.6g", x);
    else printf("null");
}

static void json_array(const double *v, uint32_t n)
{
    printf("[");
    for (uint32_t i = 0; i < n; i++) {
        if (i) printf(", ");
        json_num(v[i]);
    }
    printf("]");
}

static void json_stats(const char *dir, const mrnn_music_stats *s)
{
    printf("{\"dir\": \"");
    for (const char *c = dir; *c; c++) {
        if (*c == '"' || *c == '\\') printf("\\%c", *c);
        else if ((unsigned char)*c < 0x20) printf("\\u%04x", *c);
        else putchar(*c);
    }
    printf("\", \"files\": %u, \"empty\": %u, \"notes\": %llu, \"pitch_class\": ", s->n_files, s->n_empty,
           (unsigned long long)s->n_notes);
    json_array(s->pitch_class, 12);
    printf(", \"ioi\": ");
    json_array(s->ioi, s->n_ioi_bins);
    printf(", \"features\": {");
    for (uint32_t f = 0; f < s->n_features; f++) {
        printf("%s\"%s\": {\"mean\": ", f ? ", " : "", mrnn_music_feature_name(f));
        json_num(s->mean[f]);
        printf(", \"sd\": ");
        json_num(s->sd[f]);
        printf(", \"min\": ");
        json_num(s->min[f]);
        printf(", \"max\": ");
        json_num(s->max[f]);
        printf(", \"count\": %u}", s->count[f]);
    }
    printf("}}");
}

static void print_json(const char *gen_dir, const char *ref_dir, const mrnn_music_stats *g,
                       const mrnn_music_stats *r, const mrnn_music_distance *d)
{
    printf("{\"ioi_bins\": [");
    for (uint32_t b = 0; b < r->n_ioi_bins; b++) printf("%s\"%s\"", b ? ", " : "", mrnn_music_ioi_bin_name(b));
    printf("],\n \"reference\": ");
    json_stats(ref_dir, r);
    printf(",\n \"generated\": ");
    json_stats(gen_dir, g);
    printf(",\n \"distance\": {\"pitch_class_js\": ");
    json_num(d->pitch_class_js);
    printf(", \"pitch_class_tv\": ");
    json_num(d->pitch_class_tv);
    printf(", \"ioi_js\": ");
    json_num(d->ioi_js);
    printf(", \"ioi_tv\": ");
    json_num(d->ioi_tv);
    printf(", \"overlap\": {");
    for (uint32_t f = 0; f < d->n_features; f++) {
        printf("%s\"%s\": ", f ? ", " : "", mrnn_music_feature_name(f));
        json_num(d->overlap[f]);
    }
    printf("}, \"abs_diff\": {");
    for (uint32_t f = 0; f < d->n_features; f++) {
        printf("%s\"%s\": ", f ? ", " : "", mrnn_music_feature_name(f));
        json_num(d->abs_diff[f]);
    }
    printf("}}}\n");
}

static void print_table(const mrnn_music_stats *g, const mrnn_music_stats *r, const mrnn_music_distance *d)
{
    static const char *const PC[12] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
    printf("%-22s %-18s %-18s %s\n", "statistic", "reference", "generated", "distance");
    printf("%-22s %-18u %-18u\n", "files", r->n_files, g->n_files);
    printf("%-22s %-18u %-18u\n", "files without notes", r->n_empty, g->n_empty);
    printf("%-22s %-18llu %-18llu\n", "notes", (unsigned long long)r->n_notes, (unsigned long long)g->n_notes);
    printf("%-22s %-18s %-18s JS %.4f bits, TV %.4f\n", "pitch-class histogram", "", "", d->pitch_class_js,
           d->pitch_class_tv);
    for (int k = 0; k < 12; k++) printf("  %-20s %-18.4f %-18.4f\n", PC[k], r->pitch_class[k], g->pitch_class[k]);
    printf("%-22s %-18s %-18s JS %.4f bits, TV %.4f\n", "IOI histogram (quarters)", "", "", d->ioi_js, d->ioi_tv);
    for (uint32_t b = 0; b < r->n_ioi_bins; b++)
        printf("  %-20s %-18.4f %-18.4f\n", mrnn_music_ioi_bin_name(b), r->ioi[b], g->ioi[b]);
    for (uint32_t f = 0; f < r->n_features; f++) {
        char rs[32], gs[32];
        snprintf(rs, sizeof rs, "%.3f +- %.3f", r->mean[f], r->sd[f]);
        snprintf(gs, sizeof gs, "%.3f +- %.3f", g->mean[f], g->sd[f]);
        printf("%-22s %-18s %-18s overlap %.3f, |diff| %.3f\n", mrnn_music_feature_name(f), rs, gs, d->overlap[f],
               d->abs_diff[f]);
    }
}

static int eval_stats(const char *gen_dir, const char *ref_dir, int json)
{
    mrnn_music_stats g, r;
    if (stats_of_dir(ref_dir, &r) != 0 || stats_of_dir(gen_dir, &g) != 0) return 1;
    mrnn_music_distance d;
    mrnn_music_distance_init(&d, MRNN_MUSIC_DISTANCE_VERSION);
    mrnn_status st = mrnn_music_stats_compare(&r, &g, &d);
    if (st != MRNN_OK) return cli_fail("eval", st);
    if (json) print_json(gen_dir, ref_dir, &g, &r, &d);
    else print_table(&g, &r, &d);
    return 0;
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
        return eval_stats(gen_dir, ref_dir, json);
    }
    if (optind != argc - 2) return cli_usage_error("eval", "expected MODEL.mrm CORPUS.mrc");
    return eval_model(argv[optind], argv[optind + 1], split, split_given, json);
}
