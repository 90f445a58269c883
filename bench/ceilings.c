/* The machine's own ceilings, measured in the same run as the figures they bound (bench/run.py):
 *
 *   ceilings [DRAM_MIB] [--shares KIB@THREADS,...]    one JSON line
 *
 * - FMA peak: a loop of many independent multiply-adds, per core and on 2 threads, with ZMM
 *   (AVX-512) and with YMM (AVX2 + FMA) registers where the CPU has them. The accumulators are
 *   more than the FMA latency times the FMA units of any current core (4 cycles x 2 units = 8
 *   chains), so the loop is throughput-bound: what no kernel can beat.
 * - bf16 dot-product peak (AVX512-BF16's vdpbf16ps: 16 floats each += two bf16 products, 64 flops
 *   an instruction) where the CPU has it, 1 and 2 threads: what a bf16 path through these
 *   instructions could reach at most, to compare with the float FMA peak.
 * - Read bandwidth of buffers sized to live in L2, in L3 and in DRAM (sizes from sysfs), 1 and 2
 *   threads: the bound of batch-1 sampling, which streams every weight once per token.
 * - With --shares, the read bandwidth of THREADS threads each reading a buffer of KIB KiB: the
 *   bound of a sampling step whose threads each stream that share of the weights. A share near
 *   a cache's size is not read at that cache's speed (this L2 halves between 1.25 and 2 MiB), so
 *   the level's figure alone would misjudge it.
 *
 * Each figure is the best of several timed repetitions: a ceiling is what the machine can do,
 * and on a loaded machine the best repetition is the one least disturbed. Nothing here uses the
 * library. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_X86 1
#endif

#define REPS 5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- FMA loops: each returns the flops it did (2 per lane per FMA) ---- */

#define FMA_ITERS 10000000L

#ifdef HAVE_X86
/* 16 chains of 16 floats: 32 ZMM registers leave room for the two constants. */
__attribute__((target("avx512f"))) static double fma_zmm(float *sink)
{
    __m512 a[16];
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 16; i++) a[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < FMA_ITERS; it++)
        for (int i = 0; i < 16; i++) a[i] = _mm512_fmadd_ps(a[i], m, c);
    __m512 s = a[0];
    for (int i = 1; i < 16; i++) s = _mm512_add_ps(s, a[i]);
    *sink = _mm512_reduce_add_ps(s);
    return 2.0 * 16 * 16 * (double)FMA_ITERS;
}

/* 12 chains of 8 floats: 16 YMM registers hold them and the two constants. */
__attribute__((target("avx2,fma"))) static double fma_ymm(float *sink)
{
    __m256 a[12];
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
    for (long it = 0; it < FMA_ITERS; it++)
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], m, c);
    __m256 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, a[i]);
    float t[8];
    _mm256_storeu_ps(t, s);
    *sink = t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
    return 2.0 * 12 * 8 * (double)FMA_ITERS;
}

/* 16 chains of vdpbf16ps, like fma_zmm. (GCC and Clang spell the operand type __m512bh.) */
__attribute__((target("avx512f,avx512bf16"))) static double dot_bf16_zmm(float *sink)
{
    __m512 a[16];
    const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), y = (__m512bh)_mm512_set1_epi16(0x3380); /* 1, ~6e-8 */
    for (int i = 0; i < 16; i++) a[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < FMA_ITERS; it++)
        for (int i = 0; i < 16; i++) a[i] = _mm512_dpbf16_ps(a[i], x, y);
    __m512 s = a[0];
    for (int i = 1; i < 16; i++) s = _mm512_add_ps(s, a[i]);
    *sink = _mm512_reduce_add_ps(s);
    return 4.0 * 16 * 16 * (double)FMA_ITERS;
}

/* The sum of n floats (n a multiple of 128), with 8 independent adds in flight. */
__attribute__((target("avx512f"))) static float sum_zmm(const float *p, size_t n)
{
    __m512 a[8];
    for (int i = 0; i < 8; i++) a[i] = _mm512_setzero_ps();
    for (size_t k = 0; k < n; k += 128)
        for (int i = 0; i < 8; i++) a[i] = _mm512_add_ps(a[i], _mm512_load_ps(p + k + 16 * i));
    for (int i = 1; i < 8; i++) a[0] = _mm512_add_ps(a[0], a[i]);
    return _mm512_reduce_add_ps(a[0]);
}

__attribute__((target("avx2"))) static float sum_ymm(const float *p, size_t n)
{
    __m256 a[8];
    for (int i = 0; i < 8; i++) a[i] = _mm256_setzero_ps();
    for (size_t k = 0; k < n; k += 64)
        for (int i = 0; i < 8; i++) a[i] = _mm256_add_ps(a[i], _mm256_load_ps(p + k + 8 * i));
    for (int i = 1; i < 8; i++) a[0] = _mm256_add_ps(a[0], a[i]);
    float t[8];
    _mm256_storeu_ps(t, a[0]);
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#endif

static float sum_plain(const float *p, size_t n)
{
    float a[8] = {0};
    for (size_t k = 0; k < n; k += 8)
        for (int i = 0; i < 8; i++) a[i] += p[k + (size_t)i];
    return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

enum { ZMM, YMM, PLAIN, BF16 }; /* BF16: the dot-product loop, only for the FMA kind of job */

static int best_width(void)
{
#ifdef HAVE_X86
    if (__builtin_cpu_supports("avx512f")) return ZMM;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return YMM;
#endif
    return PLAIN;
}

/* ---- threads: every thread runs the same job, started together ---- */

typedef struct job {
    int kind;             /* 0: FMA, 1: read */
    int width;            /* ZMM / YMM / PLAIN */
    const float *buf;     /* read: this thread's buffer */
    size_t n, passes;     /* read: floats and passes over them */
    pthread_barrier_t *go;
    double seconds, work; /* flops or bytes */
    float sink;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    pthread_barrier_wait(j->go);
    double t0 = now();
    j->work = 0;
    if (j->kind == 0) {
#ifdef HAVE_X86
        j->work = j->width == BF16 ? dot_bf16_zmm(&j->sink) : j->width == ZMM ? fma_zmm(&j->sink) : fma_ymm(&j->sink);
#endif
    } else {
        float s = 0;
        for (size_t p = 0; p < j->passes; p++) {
#ifdef HAVE_X86
            if (j->width == ZMM)
                s += sum_zmm(j->buf, j->n);
            else if (j->width == YMM)
                s += sum_ymm(j->buf, j->n);
            else
#endif
                s += sum_plain(j->buf, j->n);
        }
        j->sink = s;
        j->work = (double)j->n * sizeof(float) * (double)j->passes;
    }
    j->seconds = now() - t0;
    return NULL;
}

/* Work per second of `threads` threads running the same job at once, best of REPS. */
static double rate(int threads, int kind, int width, float **bufs, size_t n, size_t passes)
{
    enum { MAX_THREADS = 2 };
    /* The clamp also tells GCC the loops below stay inside the arrays (-Warray-bounds under ASan). */
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    double best = 0;
    for (int r = 0; r < REPS; r++) {
        pthread_t th[MAX_THREADS];
        job jobs[MAX_THREADS];
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, (unsigned)threads);
        for (int t = 0; t < threads; t++) {
            jobs[t] = (job){kind, width, bufs ? bufs[t] : NULL, n, passes, &go, 0, 0, 0};
            if (t > 0) pthread_create(&th[t], NULL, run_job, &jobs[t]);
        }
        run_job(&jobs[0]);
        double work = jobs[0].work, slowest = jobs[0].seconds;
        for (int t = 1; t < threads; t++) {
            pthread_join(th[t], NULL);
            work += jobs[t].work;
            if (jobs[t].seconds > slowest) slowest = jobs[t].seconds;
        }
        pthread_barrier_destroy(&go);
        if (work / slowest > best) best = work / slowest;
    }
    return best;
}

/* The size in bytes of the cache of this level (2 or 3) from sysfs, or 0. */
static size_t cache_bytes(int level)
{
    char path[128], text[64];
    for (int i = 0; i < 8; i++) {
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        FILE *f = fopen(path, "r");
        if (!f) break;
        int lv = 0;
        int ok = fscanf(f, "%d", &lv) == 1;
        fclose(f);
        if (!ok || lv != level) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        f = fopen(path, "r");
        if (!f) return 0;
        size_t kib = 0;
        char unit = 'K';
        ok = fgets(text, sizeof text, f) != NULL && sscanf(text, "%zu%c", &kib, &unit) >= 1;
        fclose(f);
        if (!ok) return 0;
        return kib * (unit == 'M' ? 1024u * 1024u : 1024u);
    }
    return 0;
}

/* Read bandwidth (bytes/s) of buffers of `bytes` each, one per thread, passed over until about
 * `target` bytes were read per repetition. */
static double bandwidth(int threads, int width, size_t bytes, double target)
{
    float *bufs[2] = {NULL, NULL};
    size_t n = bytes / sizeof(float) / 128 * 128;
    for (int t = 0; t < threads; t++) {
        if (posix_memalign((void **)&bufs[t], 64, n * sizeof(float)) != 0) {
            for (int u = 0; u < t; u++) free(bufs[u]);
            return 0;
        }
        for (size_t k = 0; k < n; k++) bufs[t][k] = (float)(k & 7);
    }
    size_t passes = (size_t)(target / (double)(n * sizeof(float))) + 1;
    double r = rate(threads, 1, width, bufs, n, passes);
    for (int t = 0; t < threads; t++) free(bufs[t]);
    return r;
}

/* The --shares list: "KIB@THREADS" items separated by commas, at most MAX_SHARES. */
enum { MAX_SHARES = 32 };
static int parse_shares(const char *list, size_t kib[MAX_SHARES], int threads[MAX_SHARES])
{
    int n = 0;
    while (*list && n < MAX_SHARES) {
        char *end;
        unsigned long k = strtoul(list, &end, 10);
        if (end == list || *end != '@') return -1;
        unsigned long t = strtoul(end + 1, &end, 10);
        if (k == 0 || t < 1 || t > 2 || (*end && *end != ',')) return -1;
        kib[n] = k;
        threads[n++] = (int)t;
        list = *end ? end + 1 : end;
    }
    return *list ? -1 : n;
}

int main(int argc, char **argv)
{
    size_t share_kib[MAX_SHARES];
    int share_threads[MAX_SHARES], n_shares = 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--shares") == 0) {
            if (i + 1 >= argc || (n_shares = parse_shares(argv[i + 1], share_kib, share_threads)) < 0) {
                fprintf(stderr, "ceilings: --shares wants KIB@THREADS[,KIB@THREADS...] (THREADS 1 or 2)\n");
                return 2;
            }
            for (int j = i; j + 2 < argc; j++) argv[j] = argv[j + 2]; /* leave DRAM_MIB where it was */
            argc -= 2;
            break;
        }
    const int width = best_width();
    size_t l2 = cache_bytes(2), l3 = cache_bytes(3);
    if (!l2) l2 = 1u << 20;
    if (!l3) l3 = 32u << 20;
    /* A buffer fits a level when it is well inside it: half of L2; for L3, four L2s (past both
     * cores' L2 yet inside any L3 that is larger than them); DRAM: twice L3, at most 1 GiB unless
     * asked (a VM may report a huge L3: then the figure is labelled as possibly cache). */
    size_t in_l2 = l2 / 2, in_l3 = l3 >= 8 * l2 ? 4 * l2 : l3 / 2;
    size_t dram = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) << 20 : 2 * l3;
    if (argc <= 1 && dram > (1u << 30)) dram = 1u << 30;
    if (dram < (64u << 20)) dram = 64u << 20;

    printf("{\"l2_bytes\":%zu,\"l3_bytes\":%zu,\"dram_buffer_bytes\":%zu,\"dram_beyond_l3\":%s", l2, l3, dram,
           dram > l3 ? "true" : "false");
    const char *names[] = {"zmm", "ymm"};
    for (int w = ZMM; w <= YMM; w++) {
        if (w < width) continue; /* this CPU lacks the width */
        for (int threads = 1; threads <= 2; threads++)
            printf(",\"fma_%s_%dt_gflops\":%.2f", names[w], threads, rate(threads, 0, w, NULL, 0, 0) * 1e-9);
    }
#ifdef HAVE_X86
    if (__builtin_cpu_supports("avx512bf16"))
        for (int threads = 1; threads <= 2; threads++)
            printf(",\"dot_bf16_zmm_%dt_gflops\":%.2f", threads, rate(threads, 0, BF16, NULL, 0, 0) * 1e-9);
#endif
    const struct {
        const char *name;
        size_t bytes;
        double target;
    } levels[] = {{"l2", in_l2, 2e9}, {"l3", in_l3, 2e9}, {"dram", dram, 2.0 * (double)dram}};
    for (int i = 0; i < 3; i++)
        for (int threads = 1; threads <= 2; threads++) {
            double bw = bandwidth(threads, width, levels[i].bytes, levels[i].target);
            printf(",\"read_%s_%dt_gbs\":%.2f", levels[i].name, threads, bw * 1e-9);
        }
    for (int i = 0; i < n_shares; i++)
        printf(",\"read_share_%zuk_%dt_gbs\":%.2f", share_kib[i], share_threads[i],
               bandwidth(share_threads[i], width, share_kib[i] << 10, 2e9) * 1e-9);
    printf(",\"read_buffer_bytes\":{\"l2\":%zu,\"l3\":%zu,\"dram\":%zu}}\n", in_l2, in_l3, dram);
    return 0;
}
