/* musicrnn train: corpus -> model, with a progress bar, CSV log, checkpoints and resume. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_mpi.h"

static void help(void)
{
    printf("usage: musicrnn train CORPUS.mrc -o MODEL.mrm [OPTIONS]\n"
           "\n"
           "Train a stacked LSTM on the training split. MODEL.mrm is rewritten atomically as a\n"
           "resumable checkpoint every --checkpoint-every steps, at the end and on Ctrl-C.\n"
           "\n"
           "A pianoroll corpus changes the defaults marked * to the settings tuned on the JSB Chorales\n"
           "benchmark (docs/QUALITY.md): 1 x 512 LSTM, embed 64, dropout 0.6, weight dropout 0.7, lr 0.006,\n"
           "cosine schedule, windows of 128 steps, batch 16, 1000 steps (--frame-output nade: 1 x 384, no\n"
           "weight dropout, lr 0.004, windows of 64, batch 32, 1000 steps). Options given on the command\n"
           "line always win.\n"
           "\n"
           "model shape (ignored with --resume):\n"
           "      --layers N         LSTM layers (default 2*)\n"
           "      --hidden N         cells per layer (default 256*)\n"
           "      --embed N          embedding width (default 128*)\n"
           "      --dropout P        dropout after each layer (default 0*)\n"
           "      --init-seed N      weight initialisation seed (default 1)\n"
           "      --frame-output K   pianoroll: independent (88 sigmoids, default) or nade (keys of a frame\n"
           "                         predicted jointly, low to high: RNN-NADE)\n"
           "      --nade-hidden N    hidden units of the NADE (default 150)\n"
           "training:\n"
           "      --seq-len N        steps per truncated-BPTT window (default 64*)\n"
           "      --batch N          windows per step (default 32*)\n"
           "      --lr X             learning rate (default 0.002*)\n"
           "      --schedule NAME    constant (default*) or cosine (warm-up + cosine decay)\n"
           "      --warmup N         warm-up steps for cosine (default 100)\n"
           "      --weight-decay X   AdamW decoupled weight decay (default 0)\n"
           "      --input-dropout P  leave each input key/token of a training step out with probability P\n"
           "                         (default 0)\n"
           "      --recurrent-dropout P  leave each cell's update of each time step out with probability P\n"
           "                         (inside the LSTM; the memory is kept; default 0)\n"
           "      --weight-dropout P  leave each recurrent weight out of a training window with\n"
           "                         probability P (DropConnect on W_hh; default 0*)\n"
           "      --weight-average D  validate, keep (--best) and save the moving average of the\n"
           "                         weights, avg += (1-D)(w-avg) each step (0 = off, default)\n"
           "      --steps N          total optimiser steps (overrides --epochs)\n"
           "      --epochs X         passes over the training tokens (default 10*)\n"
           "      --clip X           clip the gradient norm (default 5, 0 = off)\n"
           "      --seed N           batching/dropout seed (default 1)\n"
           "      --threads N        threads to train on (default: OpenBLAS's initial setting, OPENBLAS_NUM_THREADS)\n"
           "      --valid-every N    validate every N steps (default 100, 0 = never)\n"
           "      --patience N       stop after N validations without improvement (default off)\n"
           "      --best FILE        also keep the best-validation model here\n"
           "      --checkpoint-every N  steps between checkpoints (default 500)\n"
           "      --log FILE         append a CSV log (step, losses, lr, tokens/s)\n"
           "      --resume FILE      continue from a checkpoint written by an earlier run\n"
           "      --mmap             keep the corpus tokens out of memory (mrnn_corpus_map); the\n"
           "                         default for corpus files over 256 MiB\n"
           "\n"
           "Under mpirun (mpirun -np N musicrnn train ...) the N processes train one model: each\n"
           "computes its share of the --batch windows, gradients are summed with MPI_Allreduce, and\n"
           "rank 0 alone writes MODEL.mrm, --best, --log and the progress output.\n"
           "      --overlap          sum each layer's gradient while the backward pass computes the\n"
           "                         next (pays on a slow network or with many ranks; no effect alone)\n"
           "  -q, --quiet            no progress output\n");
}

static volatile sig_atomic_t interrupted = 0;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct progress_state {
    int tty, quiet;
    double last_print;
} progress_state;

static int on_progress(const mrnn_train_progress *p, void *user)
{
    progress_state *ps = user;
    if (ps->quiet) return interrupted;
    int has_valid = !isnan(p->valid_loss);
    double now = p->elapsed_seconds;
    double rate = p->elapsed_seconds > 0 ? p->step / p->elapsed_seconds : 0;
    if (ps->tty) {
        if (now - ps->last_print < 0.2 && !has_valid && p->step != p->total_steps) return interrupted;
        ps->last_print = now;
        double frac = p->total_steps ? (double)p->step / (double)p->total_steps : 0;
        int filled = (int)(frac * 30);
        char bar[31];
        for (int i = 0; i < 30; i++) bar[i] = i < filled ? '#' : '.';
        bar[30] = 0;
        /* ETA from this run's step rate (a resumed run starts its clock again). */
        double eta = rate > 0 ? (double)(p->total_steps - p->step) / rate : 0;
        fprintf(stderr, "\r[%s] %llu/%llu loss %.4f %.0f tok/s ETA %02d:%02d ", bar, (unsigned long long)p->step,
                (unsigned long long)p->total_steps, p->train_loss, p->tokens_per_second, (int)(eta / 60),
                (int)fmod(eta, 60));
        if (has_valid) fprintf(stderr, "\n  step %llu: valid loss %.4f\n", (unsigned long long)p->step, p->valid_loss);
    } else if (has_valid || p->step % 50 == 0 || p->step == p->total_steps) {
        fprintf(stderr, "step %llu/%llu epoch %.2f loss %.4f%s", (unsigned long long)p->step,
                (unsigned long long)p->total_steps, p->epoch, p->train_loss, has_valid ? "" : "\n");
        if (has_valid) fprintf(stderr, " valid %.4f\n", p->valid_loss);
    }
    return interrupted;
}

/* Options the user gave explicitly, so that encoding-specific defaults never override them. */
enum { GAVE_LAYERS = 1, GAVE_HIDDEN = 2, GAVE_EMBED = 4, GAVE_DROPOUT = 8, GAVE_LR = 16, GAVE_SCHEDULE = 32,
       GAVE_LENGTH = 64, GAVE_SEQ = 256, GAVE_BATCH = 512, GAVE_WDROP = 1024 };

typedef struct train_args {
    const char *corpus, *out, *resume;
    int quiet, mmap, overlap;
    unsigned gave;
} train_args;

static int parse(int argc, char **argv, train_args *a, mrnn_model_params *mp, mrnn_train_params *tp)
{
    enum { O_LAYERS = 256, O_HIDDEN, O_EMBED, O_DROPOUT, O_INITSEED, O_SEQ, O_BATCH, O_LR, O_SCHED, O_WARMUP, O_WD,
           O_STEPS, O_EPOCHS, O_CLIP, O_SEED, O_THREADS, O_VALID, O_PATIENCE, O_BEST, O_CKEVERY, O_LOG, O_RESUME,
           O_FRAME_OUTPUT, O_NADE_HIDDEN, O_INDROP, O_RECDROP, O_WDROP, O_WAVG, O_MMAP, O_OVERLAP };
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"layers", required_argument, 0, O_LAYERS},
        {"hidden", required_argument, 0, O_HIDDEN}, {"embed", required_argument, 0, O_EMBED},
        {"dropout", required_argument, 0, O_DROPOUT}, {"init-seed", required_argument, 0, O_INITSEED},
        {"seq-len", required_argument, 0, O_SEQ}, {"batch", required_argument, 0, O_BATCH},
        {"lr", required_argument, 0, O_LR}, {"schedule", required_argument, 0, O_SCHED},
        {"warmup", required_argument, 0, O_WARMUP}, {"weight-decay", required_argument, 0, O_WD},
        {"steps", required_argument, 0, O_STEPS}, {"epochs", required_argument, 0, O_EPOCHS},
        {"clip", required_argument, 0, O_CLIP}, {"seed", required_argument, 0, O_SEED},
        {"threads", required_argument, 0, O_THREADS}, {"valid-every", required_argument, 0, O_VALID},
        {"patience", required_argument, 0, O_PATIENCE}, {"best", required_argument, 0, O_BEST},
        {"checkpoint-every", required_argument, 0, O_CKEVERY}, {"log", required_argument, 0, O_LOG},
        {"resume", required_argument, 0, O_RESUME}, {"frame-output", required_argument, 0, O_FRAME_OUTPUT},
        {"nade-hidden", required_argument, 0, O_NADE_HIDDEN}, {"input-dropout", required_argument, 0, O_INDROP},
        {"recurrent-dropout", required_argument, 0, O_RECDROP},
        {"weight-dropout", required_argument, 0, O_WDROP}, {"weight-average", required_argument, 0, O_WAVG},
        {"mmap", no_argument, 0, O_MMAP}, {"overlap", no_argument, 0, O_OVERLAP}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    uint64_t u;
    double d;
    int opt;
    optind = 1;
#define U32(field, lo, hi, name)                                                                          \
    do {                                                                                                  \
        if (cli_parse_u64(optarg, lo, hi, &u)) return cli_usage_error("train", "%s must be in %llu..%llu", name, \
                                                                      (unsigned long long)(lo), (unsigned long long)(hi)); \
        field = (uint32_t)u;                                                                              \
    } while (0)
#define FLT(field, lo, hi, name)                                                                          \
    do {                                                                                                  \
        if (cli_parse_double(optarg, lo, hi, &d)) return cli_usage_error("train", "%s must be in [%g, %g]", name, \
                                                                          (double)(lo), (double)(hi));    \
        field = (float)d;                                                                                 \
    } while (0)
    while ((opt = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        a->gave |= opt == O_LAYERS ? GAVE_LAYERS : opt == O_HIDDEN ? GAVE_HIDDEN : opt == O_EMBED ? GAVE_EMBED
                   : opt == O_DROPOUT ? GAVE_DROPOUT : opt == O_LR ? GAVE_LR : opt == O_SCHED ? GAVE_SCHEDULE
                   : opt == O_STEPS || opt == O_EPOCHS ? GAVE_LENGTH : opt == O_WDROP ? GAVE_WDROP
                   : opt == O_SEQ ? GAVE_SEQ : opt == O_BATCH ? GAVE_BATCH : 0u;
        switch (opt) {
        case 'o': a->out = optarg; break;
        case O_LAYERS: U32(mp->num_layers, 1, 8, "--layers"); break;
        case O_HIDDEN: U32(mp->hidden_size, 1, 8192, "--hidden"); break;
        case O_FRAME_OUTPUT:
            if (!strcmp(optarg, "independent")) mp->frame_output = MRNN_FRAME_OUTPUT_INDEPENDENT;
            else if (!strcmp(optarg, "nade")) mp->frame_output = MRNN_FRAME_OUTPUT_NADE;
            else return cli_usage_error("train", "--frame-output is independent or nade");
            break;
        case O_NADE_HIDDEN: U32(mp->nade_hidden, 1, 8192, "--nade-hidden"); break;
        case O_EMBED: U32(mp->embed_size, 1, 8192, "--embed"); break;
        case O_DROPOUT: FLT(mp->dropout, 0, 0.95, "--dropout"); break;
        case O_INITSEED:
            if (cli_parse_u64(optarg, 0, UINT64_MAX, &mp->init_seed)) return cli_usage_error("train", "bad --init-seed");
            break;
        case O_SEQ: U32(tp->seq_len, 1, 4096, "--seq-len"); break;
        case O_BATCH: U32(tp->batch_size, 1, 4096, "--batch"); break;
        case O_LR: FLT(tp->learning_rate, 1e-7, 1, "--lr"); break;
        case O_SCHED:
            if (strcmp(optarg, "constant") == 0) tp->lr_schedule = MRNN_LR_CONSTANT;
            else if (strcmp(optarg, "cosine") == 0) tp->lr_schedule = MRNN_LR_WARMUP_COSINE;
            else return cli_usage_error("train", "--schedule is constant or cosine");
            break;
        case O_WARMUP: U32(tp->warmup_steps, 0, UINT32_MAX, "--warmup"); break;
        case O_WD: FLT(tp->weight_decay, 0, 0.99, "--weight-decay"); break;
        case O_INDROP: FLT(tp->input_dropout, 0, 0.95, "--input-dropout"); break;
        case O_RECDROP: FLT(tp->recurrent_dropout, 0, 0.95, "--recurrent-dropout"); break;
        case O_WDROP: FLT(tp->weight_dropout, 0, 0.95, "--weight-dropout"); break;
        case O_WAVG: FLT(tp->weight_average, 0, 0.9999, "--weight-average"); break;
        case O_STEPS:
            if (cli_parse_u64(optarg, 1, UINT64_MAX / 2, &tp->max_steps)) return cli_usage_error("train", "bad --steps");
            break;
        case O_EPOCHS: FLT(tp->epochs, 0.001, 1e5, "--epochs"); break;
        case O_CLIP: FLT(tp->clip_norm, 0, 1e6, "--clip"); break;
        case O_SEED:
            if (cli_parse_u64(optarg, 0, UINT64_MAX, &tp->seed)) return cli_usage_error("train", "bad --seed");
            break;
        case O_THREADS: U32(tp->threads, 1, 256, "--threads"); break;
        case O_VALID: U32(tp->valid_every, 0, UINT32_MAX, "--valid-every"); break;
        case O_PATIENCE: U32(tp->patience, 0, UINT32_MAX, "--patience"); break;
        case O_BEST: tp->best_path = optarg; break;
        case O_CKEVERY: U32(tp->checkpoint_every, 1, UINT32_MAX, "--checkpoint-every"); break;
        case O_LOG: tp->log_path = optarg; break;
        case O_RESUME: a->resume = optarg; break;
        case O_MMAP: a->mmap = 1; break;
        case O_OVERLAP: a->overlap = 1; break;
        case 'q': a->quiet = 1; break;
        case 'h': help(); return 0;
        default: return cli_usage_error("train", "bad option");
        }
    }
#undef U32
#undef FLT
    if (optind != argc - 1) return cli_usage_error("train", "expected exactly one corpus file");
    a->corpus = argv[optind];
    if (!a->out) return cli_usage_error("train", "missing -o MODEL.mrm");
    return -1;
}

/* Pianoroll models learn best with one wide layer and strong dropout (docs/QUALITY.md: JSB
 * Chorales, chosen on the validation split). The event encodings keep the general defaults. A resumed
 * run gets the same training defaults as the run it continues; its shape comes from the checkpoint. */
static void pianoroll_defaults(const train_args *a, const mrnn_corpus *c, mrnn_model_params *mp,
                               mrnn_train_params *tp)
{
    if (!cli_is_pianoroll(mrnn_corpus_vocab(c))) return;
    /* The independent output, regularised inside the recurrence, gains from a wider layer and a
     * higher rate (valid 8.29 -> 8.18), then from windows that hold whole chorales, fewer of them
     * a step (8.18 -> 8.15), then from weight dropout of W_hh in place of recurrent dropout, which
     * holds off overfitting long enough for a shorter cosine schedule to anneal at its best
     * (seed 1: 8.12 -> 8.06). The joint output's settings were chosen without either. */
    const int independent = mp->frame_output != MRNN_FRAME_OUTPUT_NADE;
    if (!(a->gave & GAVE_LAYERS)) mp->num_layers = 1;
    if (!(a->gave & GAVE_HIDDEN)) mp->hidden_size = independent ? 512 : 384;
    if (!(a->gave & GAVE_EMBED)) mp->embed_size = 64;
    if (!(a->gave & GAVE_DROPOUT)) mp->dropout = 0.6f;
    if (!(a->gave & GAVE_LR)) tp->learning_rate = independent ? 0.006f : 0.004f;
    if (!(a->gave & GAVE_WDROP) && independent) tp->weight_dropout = 0.7f;
    if (!(a->gave & GAVE_SEQ) && independent) tp->seq_len = 128;
    if (!(a->gave & GAVE_BATCH) && independent) tp->batch_size = 16;
    if (!(a->gave & GAVE_SCHEDULE)) tp->lr_schedule = MRNN_LR_WARMUP_COSINE;
    /* Both outputs had their best validation NLL at the end of a 1000-step schedule (QUALITY.md). */
    if (!(a->gave & GAVE_LENGTH)) tp->max_steps = 1000;
}

static mrnn_status make_model(const train_args *a, const mrnn_corpus *c, const mrnn_model_params *mp, mrnn_model **m)
{
    if (a->resume) return mrnn_model_load(m, a->resume);
    uint32_t n_styles = mrnn_corpus_style_count(c);
    const char *styles[4096];
    for (uint32_t i = 0; i < n_styles && i < 4096; i++) styles[i] = mrnn_corpus_style_name(c, i);
    return mrnn_model_create(m, mrnn_corpus_vocab(c), styles, n_styles, mp);
}

static void print_eval(const mrnn_model *m, const mrnn_corpus *c, uint32_t split)
{
    mrnn_eval_result r;
    if (mrnn_model_evaluate(m, c, split, &r) != MRNN_OK) return;
    printf("%-5s NLL %.4f nats/step, perplexity %.3f, accuracy %.3f over %llu steps of %u pieces\n",
           cli_split_name(split), r.nll, r.perplexity, r.accuracy, (unsigned long long)r.n_scored, r.n_pieces);
}

static int train_with(train_args *ap, mrnn_model_params *mpp, mrnn_train_params *tpp);

int cmd_train(int argc, char **argv)
{
    train_args a = {0};
    mrnn_model_params mp;
    mrnn_train_params tp;
    mrnn_model_params_init(&mp, MRNN_MODEL_PARAMS_VERSION);
    mrnn_train_params_init(&tp, MRNN_TRAIN_PARAMS_VERSION);
    int rc = parse(argc, argv, &a, &mp, &tp);
    if (rc >= 0) return rc;
    tp.checkpoint_path = a.out;
    int mpi = cli_mpi_start(&tp.rank, &tp.n_ranks, &a.overlap);
    if (mpi) {
        tp.allreduce = cli_mpi_allreduce;
        tp.allreduce_overlap = a.overlap ? 1u : 0u;
        if (tp.rank != 0) a.quiet = 1; /* one progress display for the run */
    }
    rc = train_with(&a, &mp, &tp);
    if (mpi && tp.rank == 0 && !a.quiet) {
        uint64_t calls;
        double secs = cli_mpi_allreduce_seconds(&calls);
        fprintf(stderr, "mpi: %u ranks, %llu allreduce calls (overlap %s), %.3f ms per call, %.2f s in calls on rank 0\n",
                tp.n_ranks, (unsigned long long)calls, tp.allreduce_overlap ? "on" : "off",
                calls ? 1e3 * secs / (double)calls : 0.0, secs);
    }
    cli_mpi_stop();
    return rc;
}

static int train_with(train_args *ap, mrnn_model_params *mpp, mrnn_train_params *tpp)
{
    train_args a = *ap;
    mrnn_model_params mp = *mpp;
    mrnn_train_params tp = *tpp;
    int rc;
    mrnn_corpus *c = NULL;
    mrnn_model *m = NULL;
    struct stat sb;
    int big = stat(a.corpus, &sb) == 0 && sb.st_size > (off_t)256 << 20;
    mrnn_status st = a.mmap || big ? mrnn_corpus_map(&c, a.corpus) : mrnn_corpus_load(&c, a.corpus);
    if (st != MRNN_OK) return cli_fail("train", st);
    pianoroll_defaults(&a, c, &mp, &tp);
    st = make_model(&a, c, &mp, &m);
    if (st != MRNN_OK) {
        mrnn_corpus_free(c);
        return cli_fail("train", st);
    }
    mrnn_model_get_params(m, &mp);
    const int roll = cli_is_pianoroll(mrnn_corpus_vocab(c));
    char frame_desc[48] = "softmax output"; /* the event encodings */
    if (roll && mp.frame_output == MRNN_FRAME_OUTPUT_NADE)
        snprintf(frame_desc, sizeof frame_desc, "NADE output of %u units", mp.nade_hidden);
    else if (roll)
        snprintf(frame_desc, sizeof frame_desc, "independent outputs");
    if (!a.quiet)
        fprintf(stderr, "%s %s: %u x %u LSTM, embed %u, %s, %llu parameters, %llu steps done; seq %u, batch %u, lr %g\n",
                a.resume ? "resuming" : "training", a.out, mp.num_layers, mp.hidden_size, mp.embed_size, frame_desc,
                (unsigned long long)mrnn_model_param_count(m), (unsigned long long)mrnn_model_steps_trained(m),
                tp.seq_len, tp.batch_size, (double)tp.learning_rate);
    progress_state ps = {isatty(STDERR_FILENO), a.quiet, -1};
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    double t0 = cli_now();
    st = mrnn_model_train(m, c, &tp, on_progress, &ps);
    sigaction(SIGINT, &old, NULL);
    if (ps.tty && !a.quiet) fputc('\n', stderr);
    if (st == MRNN_ERR_CANCELLED) {
        fprintf(stderr, "musicrnn train: interrupted at step %llu; checkpoint saved to %s (continue with --resume %s)\n",
                (unsigned long long)mrnn_model_steps_trained(m), a.out, a.out);
        rc = 130;
    } else if (st != MRNN_OK) {
        rc = cli_fail("train", st);
    } else {
        if (tp.rank == 0) {
            printf("trained %llu steps in %.1f s; model saved to %s\n",
                   (unsigned long long)mrnn_model_steps_trained(m), cli_now() - t0, a.out);
            print_eval(m, c, MRNN_SPLIT_VALID);
        }
        rc = 0;
    }
    mrnn_model_free(m);
    mrnn_corpus_free(c);
    return rc;
}
