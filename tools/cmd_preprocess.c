/* musicrnn preprocess: MIDI files and folders -> corpus file. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static void help(void)
{
    printf("usage: musicrnn preprocess [OPTIONS] -o CORPUS.mrc PATH...\n"
           "\n"
           "Read MIDI files (a folder is searched recursively) and encode them as tokens.\n"
           "A file named on the command line that cannot be read is an error; inside a folder it is\n"
           "skipped and reported with its reason.\n"
           "\n"
           "  -o, --output FILE           corpus file to write (required)\n"
           "  -e, --encoding NAME         notechord (default), performance, pianoroll or multitrack\n"
           "      --steps-per-quarter N   grid for notechord/pianoroll/multitrack (default 4)\n"
           "      --frame-seconds S       pianoroll frames of S seconds instead of the grid\n"
           "      --valid-fraction F      share of files for validation (default 0.1)\n"
           "      --test-fraction F       share of files for testing (default 0)\n"
           "      --split-seed N          seed of the file -> split assignment (default 1)\n"
           "      --no-folder-split       ignore train/valid/test folder names\n"
           "      --no-folder-style       no style labels from sub-folder names (given by default)\n"
           "      --transpose N           also add training pieces transposed by -N..+N semitones\n"
           "      --normalize-key[=MODE]  transpose every piece by its estimated key: relative (default:\n"
           "                              major to C major, minor to A minor) or tonic-c (minor to C minor)\n"
           "      --keep-drums            keep drum-channel notes (skipped by default)\n"
           "      --channels LIST         MIDI channels to read, 1-16, e.g. 1,2,5-8 (default all)\n"
           "      --tracks LIST           tracks to read, from 0, e.g. 1-3 (default all)\n"
           "      --max-steps N           cut pieces after N steps\n"
           "      --min-count N           notechord: rarer tokens become <unk> (default 1)\n"
           "      --max-duration N        longest single duration/wait token in steps (default 16)\n"
           "Multitrack (drums are always read; each file's instruments are listed):\n"
           "      --programs              keep all 128 GM programs apart (default: 16 GM families)\n"
           "      --instruments LIST      keep only these, e.g. piano,bass,drums or 0-7,33,drums\n"
           "      --max-tracks N          keep the N instruments with the most notes per piece\n"
           "      --velocity-bins N       add loudness tokens with N bins, 2-32 (default none)\n"
           "  -j, --threads N             threads reading files (default: the cores online); the corpus\n"
           "                              file is the same, byte for byte, for any N\n"
           "      --spill-dir DIR         folder for the temporary file that holds the tokens until the\n"
           "                              corpus file is written (default: the output's folder)\n"
           "  -q, --quiet                 print only the summary\n"
           "\n"
           "Progress goes to stderr: a bar with files/s and the time left on a terminal, a line every\n"
           "few seconds otherwise.\n");
}

/* "        instruments: bass 33 (812), drums (640: 35 38 42), piano 0 (200, dropped)" */
static void print_instruments(const mrnn_corpus *c, uint32_t i)
{
    mrnn_instrument_report r;
    mrnn_instrument_report_init(&r, MRNN_INSTRUMENT_REPORT_VERSION);
    if (mrnn_corpus_get_file_instruments(c, i, &r) != MRNN_OK || r.n_instruments == 0) return;
    printf("        instruments:");
    const char *sep = " ";
    uint64_t dropped = 0;
    for (uint32_t s = 0; s < MRNN_INSTRUMENT_COUNT; s++) {
        if (!r.notes[s]) continue;
        if (s == MRNN_INSTRUMENT_DRUMS) {
            printf("%sdrums (%llu notes; kit", sep, (unsigned long long)r.notes[s]);
            for (uint32_t p = 0; p < 128; p++)
                if ((r.drum_pitches[p / 32] >> (p % 32)) & 1u) printf(" %u", p);
            printf(")");
        } else {
            printf("%s%s %u (%llu)", sep, mrnn_instrument_name(s), s, (unsigned long long)r.notes[s]);
        }
        if (r.dropped[s]) printf(" [%llu dropped]", (unsigned long long)r.dropped[s]);
        dropped += r.dropped[s];
        sep = ", ";
    }
    printf("\n");
    if (dropped) printf("        dropped %llu notes of instruments the encoding does not keep\n", (unsigned long long)dropped);
}

static void print_report(const mrnn_corpus *c, int quiet, int instruments)
{
    uint32_t n = mrnn_corpus_file_count(c);
    for (uint32_t i = 0; i < n; i++) {
        mrnn_file_report r;
        if (mrnn_corpus_get_file_report(c, i, &r) != MRNN_OK) continue;
        if (r.status != MRNN_OK) {
            printf("skipped %s\n", r.reason);
        } else if (!quiet) {
            printf("read    %s: %llu notes, %u pieces, %llu steps -> %s\n", r.path, (unsigned long long)r.n_notes,
                   r.n_pieces, (unsigned long long)r.n_steps, cli_split_name(r.split));
            if (instruments) print_instruments(c, i);
        }
    }
}

typedef struct progress_state {
    int tty, quiet;
    double last;
    uint64_t bytes; /* of every folder so far */
    uint64_t bytes_before;
} progress_state;

static int on_progress(const mrnn_corpus_progress *p, void *user)
{
    progress_state *ps = user;
    ps->bytes = ps->bytes_before + p->bytes_read;
    if (ps->quiet) return 0;
    int last = p->files_done == p->files_total;
    double t = p->elapsed_seconds;
    if (!last && t - ps->last < (ps->tty ? 0.2 : 5.0)) return 0;
    ps->last = t;
    double rate = t > 0 ? p->files_done / t : 0;
    double mbs = t > 0 ? (double)p->bytes_read / 1e6 / t : 0;
    double eta = rate > 0 ? (p->files_total - p->files_done) / rate : 0;
    if (ps->tty) {
        double frac = p->files_total ? (double)p->files_done / p->files_total : 1;
        char bar[31];
        int filled = (int)(frac * 30);
        for (int i = 0; i < 30; i++) bar[i] = i < filled ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\r[%s] %u/%u files, %u skipped, %.0f files/s, %.1f MB/s, ETA %02d:%02d ", bar, p->files_done,
                p->files_total, p->files_skipped, rate, mbs, (int)(eta / 60), (int)eta % 60);
        if (last) fputc('\n', stderr);
    } else {
        fprintf(stderr, "preprocess: %u/%u files, %u skipped, %.0f files/s, %.1f MB/s, %.0f s left\n", p->files_done,
                p->files_total, p->files_skipped, rate, mbs, eta);
    }
    return 0;
}

/* Skipped files grouped by status, with the first reason of each as an example. */
static void print_skip_summary(const mrnn_corpus *c)
{
    enum { N_CODES = 32 };
    uint32_t count[N_CODES] = {0};
    const char *example[N_CODES] = {0};
    uint32_t n = mrnn_corpus_file_count(c);
    for (uint32_t i = 0; i < n; i++) {
        mrnn_file_report r;
        if (mrnn_corpus_file_report(c, i, &r) != MRNN_OK || r.status == MRNN_OK) continue;
        int k = -r.status < N_CODES ? -r.status : N_CODES - 1;
        if (!count[k]++) example[k] = r.reason;
    }
    for (int k = 1; k < N_CODES; k++) {
        if (!count[k]) continue;
        printf("skipped %6u x %-20s e.g. %s\n", count[k], mrnn_status_string((mrnn_status)-k), example[k]);
    }
}

static void print_summary(const mrnn_corpus *c, const char *out, double seconds, uint64_t bytes)
{
    mrnn_corpus_stats s;
    mrnn_corpus_get_stats(c, &s);
    mrnn_encoding_params enc;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    mrnn_vocab_get_encoding_params(mrnn_corpus_vocab(c), &enc);
    uint32_t read = s.n_files - s.n_skipped;
    printf("\n%s: %s encoding, vocabulary %u, %u style label%s\n", out, cli_encoding_name(enc.encoding), s.vocab_size,
           s.n_styles, s.n_styles == 1 ? "" : "s");
    printf("files   %u read, %u skipped\n", read, s.n_skipped);
    for (int k = 0; k < 3; k++)
        printf("%-7s %u pieces, %llu steps, %llu tokens\n", cli_split_name((uint32_t)k), s.n_pieces[k],
               (unsigned long long)s.n_steps[k], (unsigned long long)s.n_tokens[k]);
    if (s.n_unknown) printf("unknown %llu tokens mapped to <unk>\n", (unsigned long long)s.n_unknown);
    print_skip_summary(c);
    printf("time    %.2f s (%.1f files/s, %.0f notes/s, %.1f MB/s of MIDI)\n", seconds,
           seconds > 0 ? s.n_files / seconds : 0, seconds > 0 ? (double)s.n_notes / seconds : 0,
           seconds > 0 ? (double)bytes / 1e6 / seconds : 0);
}

int cmd_preprocess(int argc, char **argv)
{
    enum { O_SPQ = 256, O_FRAME, O_VALID, O_TEST, O_SEED, O_NOFOLDER, O_NOSTYLE, O_TRANSPOSE, O_NORMKEY, O_DRUMS, O_CHANNELS,
           O_TRACKS, O_MAXSTEPS, O_MINCOUNT, O_MAXDUR, O_PROGRAMS, O_INSTR, O_MAXTRACKS, O_VELBINS,
           O_SPILL };
    progress_state ps = {0};
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"encoding", required_argument, 0, 'e'},
        {"steps-per-quarter", required_argument, 0, O_SPQ}, {"frame-seconds", required_argument, 0, O_FRAME},
        {"valid-fraction", required_argument, 0, O_VALID}, {"test-fraction", required_argument, 0, O_TEST},
        {"split-seed", required_argument, 0, O_SEED}, {"no-folder-split", no_argument, 0, O_NOFOLDER},
        {"no-folder-style", no_argument, 0, O_NOSTYLE},
        {"transpose", required_argument, 0, O_TRANSPOSE}, {"normalize-key", optional_argument, 0, O_NORMKEY},
        {"keep-drums", no_argument, 0, O_DRUMS}, {"channels", required_argument, 0, O_CHANNELS},
        {"tracks", required_argument, 0, O_TRACKS}, {"max-steps", required_argument, 0, O_MAXSTEPS},
        {"min-count", required_argument, 0, O_MINCOUNT}, {"quiet", no_argument, 0, 'q'},
        {"threads", required_argument, 0, 'j'},
        {"max-duration", required_argument, 0, O_MAXDUR}, {"programs", no_argument, 0, O_PROGRAMS},
        {"instruments", required_argument, 0, O_INSTR}, {"max-tracks", required_argument, 0, O_MAXTRACKS},
        {"velocity-bins", required_argument, 0, O_VELBINS}, {"spill-dir", required_argument, 0, O_SPILL},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    mrnn_encoding_params enc;
    mrnn_corpus_params cp;
    mrnn_encoding_params_init(&enc, MRNN_ENCODING_PARAMS_VERSION);
    mrnn_corpus_params_init(&cp, MRNN_CORPUS_PARAMS_VERSION);
    cp.threads = 0; /* the output does not depend on it, so use every core */
    cp.progress = on_progress;
    cp.progress_user_data = &ps;
    ps.tty = isatty(STDERR_FILENO);
    const char *out = NULL, *spill = NULL;
    int quiet = 0, opt;
    uint64_t u;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:e:j:qh", opts, NULL)) != -1) {
        switch (opt) {
        case 'o': out = optarg; break;
        case 'e':
            if (cli_parse_encoding(optarg, &enc.encoding)) return cli_usage_error("preprocess", "unknown encoding '%s'", optarg);
            break;
        case O_SPQ:
            if (cli_parse_u64(optarg, 1, 96, &u)) return cli_usage_error("preprocess", "--steps-per-quarter must be 1..96");
            enc.steps_per_quarter = (uint32_t)u;
            break;
        case O_FRAME:
            if (cli_parse_double(optarg, 0.001, 10, &enc.frame_seconds))
                return cli_usage_error("preprocess", "--frame-seconds must be in [0.001, 10]");
            break;
        case O_VALID:
            if (cli_parse_double(optarg, 0, 1, &cp.valid_fraction)) return cli_usage_error("preprocess", "--valid-fraction must be in [0, 1]");
            break;
        case O_TEST:
            if (cli_parse_double(optarg, 0, 1, &cp.test_fraction)) return cli_usage_error("preprocess", "--test-fraction must be in [0, 1]");
            break;
        case O_SEED:
            if (cli_parse_u64(optarg, 0, UINT64_MAX, &cp.split_seed)) return cli_usage_error("preprocess", "bad --split-seed");
            break;
        case O_NOFOLDER: cp.use_folder_split = 0; break;
        case O_NOSTYLE: cp.style_from_folder = 0; break;
        case O_TRANSPOSE:
            if (cli_parse_u64(optarg, 0, 12, &u)) return cli_usage_error("preprocess", "--transpose must be 0..12");
            cp.transpose_range = (uint32_t)u;
            break;
        case O_NORMKEY:
            if (!optarg || !strcmp(optarg, "relative")) enc.normalize_key = MRNN_KEY_C_MAJOR_A_MINOR;
            else if (!strcmp(optarg, "tonic-c")) enc.normalize_key = MRNN_KEY_TONIC_C;
            else return cli_usage_error("preprocess", "--normalize-key is relative or tonic-c");
            break;
        case O_DRUMS: enc.keep_drums = 1; break;
        case O_CHANNELS: {
            uint64_t mask;
            if (cli_parse_mask(optarg, 16, &mask) || (mask & 1))
                return cli_usage_error("preprocess", "--channels takes channels 1-16, e.g. 1,2,10");
            enc.channel_mask = (uint32_t)(mask >> 1); /* users count channels from 1 */
            break;
        }
        case O_TRACKS:
            if (cli_parse_mask(optarg, 63, &enc.track_mask)) return cli_usage_error("preprocess", "--tracks takes tracks 0-63, e.g. 1-3");
            break;
        case O_MAXSTEPS:
            if (cli_parse_u64(optarg, 2, UINT32_MAX, &u)) return cli_usage_error("preprocess", "bad --max-steps");
            enc.max_steps = (uint32_t)u;
            break;
        case O_MINCOUNT:
            if (cli_parse_u64(optarg, 1, UINT32_MAX, &u)) return cli_usage_error("preprocess", "bad --min-count");
            enc.min_count = (uint32_t)u;
            break;
        case 'j':
            if (cli_parse_u64(optarg, 1, 256, &u)) return cli_usage_error("preprocess", "--threads must be 1..256");
            cp.threads = (uint32_t)u;
            break;
        case O_MAXDUR:
            if (cli_parse_u64(optarg, 1, 256, &u)) return cli_usage_error("preprocess", "--max-duration must be 1..256");
            enc.max_duration_steps = (uint32_t)u;
            break;
        case O_PROGRAMS: enc.multitrack_programs = 1; break;
        case O_INSTR:
            if (mrnn_instrument_parse(optarg, enc.instrument_mask) != MRNN_OK)
                return cli_usage_error("preprocess", "--instruments: %s", mrnn_last_error());
            break;
        case O_MAXTRACKS:
            if (cli_parse_u64(optarg, 1, MRNN_INSTRUMENT_COUNT, &u)) return cli_usage_error("preprocess", "--max-tracks must be 1..129");
            enc.max_tracks = (uint32_t)u;
            break;
        case O_VELBINS:
            if (cli_parse_u64(optarg, 2, 32, &u)) return cli_usage_error("preprocess", "--velocity-bins must be 2..32");
            enc.velocity_bins = (uint32_t)u;
            break;
        case O_SPILL: spill = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': help(); return 0;
        default: return cli_usage_error("preprocess", "bad option");
        }
    }
    ps.quiet = quiet; /* the callback still counts bytes for the summary */
    if (!out) return cli_usage_error("preprocess", "missing -o CORPUS.mrc");
    if (optind >= argc) return cli_usage_error("preprocess", "no MIDI file or folder given");

    /* Tokens go to disk as files are read, so memory stays bounded by the report whatever the
     * corpus size; by default next to the output, on the disk that has to hold the corpus anyway. */
    char out_dir[4096];
    if (!spill) {
        const char *slash = strrchr(out, '/');
        if (!slash) snprintf(out_dir, sizeof out_dir, ".");
        else snprintf(out_dir, sizeof out_dir, "%.*s", (int)(slash == out ? 1 : slash - out), out);
        spill = out_dir;
    }
    cp.spill_dir = spill;
    double t0 = cli_now();
    mrnn_corpus *c = NULL;
    mrnn_status st = mrnn_corpus_create(&c, &enc, &cp);
    if (st != MRNN_OK) return cli_fail("preprocess", st);
    int failed_files = 0;
    for (int i = optind; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            ps.bytes_before = ps.bytes;
            ps.last = 0;
            st = mrnn_corpus_add_dir(c, argv[i]);
            if (st != MRNN_OK) {
                mrnn_corpus_free(c);
                return cli_fail("preprocess", st);
            }
        } else {
            if (mrnn_corpus_add_file(c, argv[i], NULL) != MRNN_OK) failed_files++;
            if (stat(argv[i], &sb) == 0) ps.bytes += (uint64_t)sb.st_size;
        }
    }
    print_report(c, quiet, enc.encoding == MRNN_ENCODING_MULTITRACK);
    if (failed_files) {
        fprintf(stderr, "musicrnn preprocess: %d file%s named on the command line could not be read (see above); "
                        "nothing written\n", failed_files, failed_files == 1 ? "" : "s");
        mrnn_corpus_free(c);
        return 1;
    }
    st = mrnn_corpus_save(c, out);
    if (st != MRNN_OK) {
        mrnn_corpus_free(c);
        return cli_fail("preprocess", st);
    }
    print_summary(c, out, cli_now() - t0, ps.bytes);
    mrnn_corpus_stats s;
    mrnn_corpus_get_stats(c, &s);
    mrnn_corpus_free(c);
    if (s.n_pieces[MRNN_SPLIT_TRAIN] == 0) {
        fprintf(stderr, "musicrnn preprocess: warning: no training piece in %s\n", out);
    }
    return 0;
}
