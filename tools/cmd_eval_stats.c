/* musicrnn eval --generated DIR --reference DIR: the musical statistics of two folders of MIDI
 * files (generated pieces against a reference) and the distances between them. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"

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

static int stats_of_dir(const char *dir, mrnn_music_stats *out, mrnn_music_instruments *instr)
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
    mrnn_music_instruments_init(instr, MRNN_MUSIC_INSTRUMENTS_VERSION);
    if (st == MRNN_OK) st = mrnn_music_instruments_compute((const char *const *)files.paths, files.n, instr);
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

/* The instruments of one set as JSON: the band-wide figures, then one object per slot that plays,
 * keyed by the same names the table uses ("drums", "bass 33"). */
static void json_instruments(const mrnn_music_instruments *s)
{
    printf("{\"files\": %u, \"instruments_mean\": ", s->n_files);
    json_num(s->instruments_mean);
    printf(", \"drum_density\": ");
    json_num(s->drum_density);
    printf(", \"pitch_class_entropy\": ");
    json_num(s->pitch_class_entropy);
    printf(", \"empty_beat_rate\": ");
    json_num(s->empty_beat_rate);
    printf(", \"slots\": {");
    int first = 1;
    for (uint32_t k = 0; k < MRNN_INSTRUMENT_COUNT; k++) {
        if (!s->pieces[k]) continue;
        if (k == MRNN_INSTRUMENT_DRUMS) printf("%s\"drums\": {", first ? "" : ", ");
        else printf("%s\"%s %u\": {", first ? "" : ", ", mrnn_instrument_name(k), k);
        first = 0;
        printf("\"slot\": %u, \"pieces\": %u, \"notes\": ", k, s->pieces[k]);
        json_num(s->notes[k]);
        printf(", \"pitch_low\": ");
        json_num(s->pitch_low[k]);
        printf(", \"pitch_high\": ");
        json_num(s->pitch_high[k]);
        printf("}");
    }
    printf("}}");
}

static void print_json(const char *gen_dir, const char *ref_dir, const mrnn_music_stats *g,
                       const mrnn_music_stats *r, const mrnn_music_distance *d,
                       const mrnn_music_instruments *gi, const mrnn_music_instruments *ri)
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
    printf("}},\n \"instruments\": {\"reference\": ");
    json_instruments(ri);
    printf(", \"generated\": ");
    json_instruments(gi);
    printf("}}\n");
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

/* The instruments of both sets: one row per instrument slot used in either. */
static void print_instruments(const mrnn_music_instruments *g, const mrnn_music_instruments *r)
{
    printf("\n%-22s %-26s %-26s\n", "instrument", "reference: pieces, notes,", "generated: pieces, notes,");
    printf("%-22s %-26s %-26s\n", "", "pitch range (per piece)", "pitch range (per piece)");
    for (uint32_t k = 0; k < MRNN_INSTRUMENT_COUNT; k++) {
        if (!g->pieces[k] && !r->pieces[k]) continue;
        char name[40], rs[40] = "-", gs[40] = "-";
        if (k == MRNN_INSTRUMENT_DRUMS) snprintf(name, sizeof name, "drums");
        else snprintf(name, sizeof name, "%s %u", mrnn_instrument_name(k), k);
        if (r->pieces[k])
            snprintf(rs, sizeof rs, "%u, %.0f, %.0f-%.0f", r->pieces[k], r->notes[k], r->pitch_low[k], r->pitch_high[k]);
        if (g->pieces[k])
            snprintf(gs, sizeof gs, "%u, %.0f, %.0f-%.0f", g->pieces[k], g->notes[k], g->pitch_low[k], g->pitch_high[k]);
        printf("  %-20s %-26s %-26s\n", name, rs, gs);
    }
    printf("%-22s %-26.2f %-26.2f\n", "instruments per piece", r->instruments_mean, g->instruments_mean);
    printf("%-22s %-26.3f %-26.3f\n", "drum notes per quarter", r->drum_density, g->drum_density);
    printf("%-22s %-26.3f %-26.3f\n", "pitch-class entropy", r->pitch_class_entropy, g->pitch_class_entropy);
    printf("%-22s %-26.3f %-26.3f\n", "empty-beat rate", r->empty_beat_rate, g->empty_beat_rate);
}

int cmd_eval_stats(const char *gen_dir, const char *ref_dir, int json)
{
    mrnn_music_stats g, r;
    mrnn_music_instruments gi, ri;
    if (stats_of_dir(ref_dir, &r, &ri) != 0 || stats_of_dir(gen_dir, &g, &gi) != 0) return 1;
    mrnn_music_distance d;
    mrnn_music_distance_init(&d, MRNN_MUSIC_DISTANCE_VERSION);
    mrnn_status st = mrnn_music_stats_compare(&r, &g, &d);
    if (st != MRNN_OK) return cli_fail("eval", st);
    if (json) {
        print_json(gen_dir, ref_dir, &g, &r, &d, &gi, &ri);
    } else {
        print_table(&g, &r, &d);
        print_instruments(&gi, &ri);
    }
    return 0;
}
