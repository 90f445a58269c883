/* A synthetic corpus with the shape of the Lakh MIDI Dataset (LMD-full), made from the real MIDI
 * files at hand, for benchmarking preprocessing at Lakh scale without Lakh (bench/lakh.sh).
 *
 *   lakh_gen OUT_DIR N_FILES SEED SOURCE_DIR...
 *
 * Every source file is split into voices (the notes of one channel). Each output file gets a
 * duration, a number of melodic voices, maybe a drum voice, and a General MIDI program per voice,
 * drawn from the distributions below; each voice loops a randomly chosen source voice over the
 * duration. Files go to 16 sub-folders 0-f named by a hash, as in LMD-full. A small share is
 * written truncated, as real collections hold unreadable files. The distributions are assumptions
 * written down in bench/README.md, not measurements of Lakh (there is no network here). Output is a
 * pure function of the arguments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "dir_walk.h"
#include "midi.h"
#include "piece.h"
#include "rng.h"

typedef struct voice {
    mrnn__note *notes;
    size_t n;
    double span_s; /* loop length */
} voice;

typedef struct voice_set {
    voice *v;
    size_t n, cap;
} voice_set;

static void add_voices(voice_set *mel, voice_set *drum, const mrnn__piece *p)
{
    for (int ch = 0; ch < 16; ch++) {
        size_t n = 0;
        for (size_t i = 0; i < p->n_notes; i++) n += p->notes[i].channel == ch;
        if (n < 8) continue;
        voice v = {malloc(n * sizeof *v.notes), 0, 0};
        double first = INFINITY, last = 0;
        for (size_t i = 0; i < p->n_notes; i++) {
            if (p->notes[i].channel != ch) continue;
            v.notes[v.n++] = p->notes[i];
            if (p->notes[i].start_s < first) first = p->notes[i].start_s;
            if (p->notes[i].end_s > last) last = p->notes[i].end_s;
        }
        for (size_t i = 0; i < v.n; i++) {
            v.notes[i].start_s -= first;
            v.notes[i].end_s -= first;
        }
        v.span_s = last - first > 1.0 ? last - first : 1.0;
        voice_set *s = ch == MRNN__DRUM_CHANNEL ? drum : mel;
        if (mrnn__grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v) != 0) exit(1);
        s->v[s->n++] = v;
    }
}

/* Melodic voices per file (1..15, index = count - 1): mostly 3-10, a tail to 15. */
static const double TRACK_WEIGHTS[15] = {6, 6, 8, 10, 11, 11, 10, 9, 7, 6, 5, 4, 3, 2, 2};
/* General MIDI program families (8 programs each): piano, chromatic percussion, organ, guitar,
 * bass, strings, ensemble, brass, reed, pipe, synth lead, synth pad, synth effects, ethnic,
 * percussive, sound effects. */
static const double FAMILY_WEIGHTS[16] = {22, 3, 5, 15, 14, 7, 10, 6, 5, 3, 3, 3, 1, 1, 1, 1};
#define DRUM_SHARE 0.75
#define BROKEN_SHARE 0.005
#define DURATION_MEDIAN_S 200.0
#define DURATION_SIGMA 0.45

/* ---- a minimal Standard MIDI File writer: format 1, a tempo track, one track per voice. Plain
 * buffered writes, no fsync: the library's atomic writer syncs twice per file, which would make
 * generating 176 581 files take hours. ---- */

typedef struct ev {
    uint32_t tick;
    uint8_t off; /* note-offs sort before note-ons at the same tick */
    uint8_t status, a, b;
} ev;

typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *data, size_t n)
{
    if (mrnn__grow((void **)&b->p, &b->cap, b->n + n, 1) != 0) exit(1);
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put_u8(bytes *b, uint8_t v) { put(b, &v, 1); }

static void put_be(bytes *b, uint32_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) put_u8(b, (uint8_t)(v >> (8 * i)));
}

static void put_vlq(bytes *b, uint32_t v)
{
    uint8_t tmp[5];
    int k = 0;
    tmp[k++] = v & 0x7F;
    while (v >>= 7) tmp[k++] = (uint8_t)(0x80 | (v & 0x7F));
    while (k--) put_u8(b, tmp[k]);
}

static int cmp_ev(const void *x, const void *y)
{
    const ev *a = x, *b = y;
    if (a->tick != b->tick) return a->tick < b->tick ? -1 : 1;
    return (int)b->off - (int)a->off;
}

#define PPQN 480u
#define TICKS_PER_SECOND (2.0 * PPQN) /* 120 bpm */

static void put_track(bytes *file, const bytes *body)
{
    put(file, "MTrk", 4);
    put_be(file, (uint32_t)body->n, 4);
    put(file, body->p, body->n);
}

/* Write the notes of p, one track per channel in use, to path. */
static int write_smf(const char *path, const mrnn__piece *p)
{
    bytes file = {0}, body = {0};
    int used[16] = {0};
    uint8_t program[16] = {0};
    for (size_t i = 0; i < p->n_notes; i++) {
        used[p->notes[i].channel] = 1;
        program[p->notes[i].channel] = p->notes[i].program;
    }
    int n_tracks = 1;
    for (int c = 0; c < 16; c++) n_tracks += used[c];
    put(&file, "MThd", 4);
    put_be(&file, 6, 4);
    put_be(&file, 1, 2);
    put_be(&file, (uint32_t)n_tracks, 2);
    put_be(&file, PPQN, 2);
    static const uint8_t tempo_track[] = {0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20, /* 500000 us per quarter */
                                          0x00, 0xFF, 0x58, 0x04, 0x04, 0x02, 0x18, 0x08,
                                          0x00, 0xFF, 0x2F, 0x00};
    body.n = 0;
    put(&body, tempo_track, sizeof tempo_track);
    put_track(&file, &body);
    ev *evs = malloc((2 * p->n_notes + 1) * sizeof *evs);
    if (!evs) exit(1);
    for (int c = 0; c < 16; c++) {
        if (!used[c]) continue;
        size_t n = 0;
        for (size_t i = 0; i < p->n_notes; i++) {
            const mrnn__note *x = &p->notes[i];
            if (x->channel != c) continue;
            uint32_t on = (uint32_t)(x->start_s * TICKS_PER_SECOND), off = (uint32_t)(x->end_s * TICKS_PER_SECOND);
            if (off <= on) off = on + 1;
            evs[n++] = (ev){on, 0, (uint8_t)(0x90 | c), x->pitch, x->velocity ? x->velocity : 64};
            evs[n++] = (ev){off, 1, (uint8_t)(0x80 | c), x->pitch, 0};
        }
        qsort(evs, n, sizeof *evs, cmp_ev);
        body.n = 0;
        if (c != MRNN__DRUM_CHANNEL) {
            put_u8(&body, 0);
            put_u8(&body, (uint8_t)(0xC0 | c));
            put_u8(&body, program[c]);
        }
        uint32_t now = 0;
        for (size_t i = 0; i < n; i++) {
            put_vlq(&body, evs[i].tick - now);
            now = evs[i].tick;
            put_u8(&body, evs[i].status);
            put_u8(&body, evs[i].a);
            put_u8(&body, evs[i].b);
        }
        static const uint8_t eot[] = {0x00, 0xFF, 0x2F, 0x00};
        put(&body, eot, sizeof eot);
        put_track(&file, &body);
    }
    free(evs);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(file.p, 1, file.n, f) == file.n;
    if (f && fclose(f) != 0) ok = 0;
    free(file.p);
    free(body.p);
    return ok ? 0 : -1;
}

static size_t draw_weighted(mrnn__rng *r, const double *w, size_t n)
{
    double total = 0;
    for (size_t i = 0; i < n; i++) total += w[i];
    double x = mrnn__rng_uniform(r) * total;
    for (size_t i = 0; i < n; i++) {
        if (x < w[i]) return i;
        x -= w[i];
    }
    return n - 1;
}

static void add_looped(mrnn__piece *p, const voice *v, double duration, uint8_t channel, uint8_t program)
{
    for (double off = 0; off < duration; off += v->span_s) {
        for (size_t i = 0; i < v->n; i++) {
            mrnn__note n = v->notes[i];
            n.start_s += off;
            n.end_s += off;
            if (n.start_s >= duration) break;
            if (n.end_s > duration) n.end_s = duration;
            n.channel = channel;
            n.program = program;
            n.drum = channel == MRNN__DRUM_CHANNEL;
            if (mrnn__piece_add_note(p, &n) != MRNN_OK) exit(1);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: lakh_gen OUT_DIR N_FILES SEED SOURCE_DIR...\n");
        return 2;
    }
    const char *out = argv[1];
    long n_files = atol(argv[2]);
    uint64_t seed = strtoull(argv[3], NULL, 10);
    voice_set mel = {0}, drum = {0};
    mrnn__midi_select sel = {0, 0, 1, 0};
    for (int a = 4; a < argc; a++) {
        mrnn__path_list l = {0};
        if (mrnn__dir_walk(argv[a], &l) != MRNN_OK) {
            fprintf(stderr, "lakh_gen: %s\n", mrnn_last_error());
            return 1;
        }
        for (size_t i = 0; i < l.n; i++) {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", argv[a], l.rel[i]);
            mrnn__piece p;
            mrnn__piece_init(&p);
            if (mrnn__midi_read_file(path, &sel, &p) == MRNN_OK) add_voices(&mel, &drum, &p);
            mrnn__piece_free(&p);
        }
        mrnn__path_list_free(&l);
    }
    if (!mel.n) {
        fprintf(stderr, "lakh_gen: no usable voice in the sources\n");
        return 1;
    }
    fprintf(stderr, "lakh_gen: %zu melodic and %zu drum voices from the sources\n", mel.n, drum.n);
    mkdir(out, 0755);
    for (int d = 0; d < 16; d++) {
        char sub[8192];
        snprintf(sub, sizeof sub, "%s/%x", out, d);
        mkdir(sub, 0755);
    }
    for (long f = 0; f < n_files; f++) {
        mrnn__rng r;
        mrnn__rng_seed(&r, seed * 1000003u + (uint64_t)f);
        uint64_t name = mrnn__rng_next(&r);
        double duration = DURATION_MEDIAN_S * exp(DURATION_SIGMA * mrnn__rng_normal(&r));
        if (duration < 20) duration = 20;
        if (duration > 900) duration = 900;
        size_t n_mel = draw_weighted(&r, TRACK_WEIGHTS, 15) + 1;
        int has_drum = drum.n && mrnn__rng_uniform(&r) < DRUM_SHARE;
        mrnn__piece p;
        mrnn__piece_init(&p);
        for (size_t k = 0; k < n_mel; k++) {
            uint8_t channel = (uint8_t)(k < MRNN__DRUM_CHANNEL ? k : k + 1); /* skip the drum channel */
            uint8_t program = (uint8_t)(8 * draw_weighted(&r, FAMILY_WEIGHTS, 16) + mrnn__rng_below(&r, 8));
            add_looped(&p, &mel.v[mrnn__rng_below(&r, mel.n)], duration, channel, program);
        }
        if (has_drum) add_looped(&p, &drum.v[mrnn__rng_below(&r, drum.n)], duration, MRNN__DRUM_CHANNEL, 0);
        char path[8192];
        snprintf(path, sizeof path, "%s/%x/%016llx.mid", out, (unsigned)(name >> 60), (unsigned long long)name);
        if (write_smf(path, &p) != 0) {
            fprintf(stderr, "lakh_gen: %s: cannot write\n", path);
            return 1;
        }
        mrnn__piece_free(&p);
        if (mrnn__rng_uniform(&r) < BROKEN_SHARE) {
            /* cut the file in the middle of a track */
            struct stat sb;
            if (stat(path, &sb) == 0) truncate(path, sb.st_size / 2);
        }
        if ((f + 1) % 1000 == 0) fprintf(stderr, "lakh_gen: %ld/%ld files\n", f + 1, n_files);
    }
    return 0;
}
