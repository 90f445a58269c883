/* musicrnn generate: compose with a trained model and write MIDI (and WAV through FluidSynth). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "generate_form.h"

#define DEFAULT_SOUNDFONT "/usr/share/sounds/sf2/FluidR3_GM.sf2"

static void help(void)
{
    printf("usage: musicrnn generate MODEL.mrm -o OUT.mid [options]\n"
           "\n"
           "Priming (default: none, the model starts from silence):\n"
           "  --seed \"TOKENS\"        seed text in the model's notation, e.g. \"C4.E4.G4:q W:q\"\n"
           "  --primer IN.mid        a MIDI file to continue; --primer-tracks 0,2 --primer-channels 0-3\n"
           "  --no-primer-output     leave the primer out of the output\n"
           "Length (whichever is reached first):\n"
           "  --length N             steps to generate (default 512)\n"
           "  --seconds S | --bars B length of the generated music at the output tempo\n"
           "Form (one piece):\n"
           "  --form LETTERS         sections, e.g. AABA: a new letter is new music, a letter seen\n"
           "                         before is its section again, note for note\n"
           "  --section-bars B       length of each section in 4/4 bars (default 8)\n"
           "Sampling:\n"
           "  --temperature T        0 = greedy (default 1)      --top-k K   --top-p P\n"
           "  --repetition-penalty R (default 1 = off)          --beam W    (beam search)\n"
           "  --rng-seed S           same seed, same piece (default 1)\n"
           "  --count N              generate N pieces at once: OUT-1.mid ... OUT-N.mid\n"
           "  --weights float32|bf16 precision of the weights while sampling (bf16: faster on\n"
           "                         large models, probabilities within about 1e-2; default float32)\n"
           "  --threads N            threads per step, 1-256 (default: 2 if OPENBLAS_NUM_THREADS allows)\n"
           "Constraints:\n"
           "  --min-pitch P --max-pitch P (MIDI number or name, e.g. C3)  --key C|F#|Bb ... --minor\n"
           "  --max-polyphony N      --no-drums                 --style NAME\n"
           "  --instruments LIST     multitrack: only these play, e.g. piano,bass,drums or 0,33,drums\n"
           "                         (GM family names, 'drums', programs 0-127 and ranges)\n"
           "  --instrument-range LIST multitrack: pitch range per instrument, e.g. bass=28-52,piano=60-84\n"
           "Output:\n"
           "  --tempo BPM (default 120)  --program P (General MIDI 0-127, default 0 = piano;\n"
           "                         multitrack pieces keep each instrument's program)\n"
           "  --wav OUT.wav          render audio with fluidsynth (--soundfont FILE.sf2)\n"
           "  --print                print the generated tokens    --stream  print each event as drawn\n");
}

typedef struct stream_state {
    int print;
    double latency_sum, latency_max;
    unsigned long long events;
} stream_state;

static int on_event(const mrnn_sample_event *ev, void *user)
{
    stream_state *ss = user;
    ss->events++;
    ss->latency_sum += ev->latency_seconds;
    if (ev->latency_seconds > ss->latency_max) ss->latency_max = ev->latency_seconds;
    if (ss->print) {
        printf("lane %u step %llu t=%.3fs p=%.3f %s", ev->lane, (unsigned long long)ev->step, ev->time_seconds,
               ev->probability, ev->text ? ev->text : "");
        for (uint32_t k = 0; ev->keys && k < ev->token; k++) printf("%s%u", k ? "." : "", ev->keys[k]);
        printf("\n");
    }
    return 0;
}

/* A MIDI number or a pitch name (the library's notation, mrnn_pitch_parse). */
static int parse_pitch(const char *s, uint32_t *out)
{
    uint64_t v;
    if (cli_parse_u64(s, 0, 127, &v) == 0) {
        *out = (uint32_t)v;
        return 0;
    }
    return mrnn_pitch_parse(s, out) == MRNN_OK ? 0 : -1;
}

/* "bass=28-52,piano=60-84": each entry's instruments (as --instruments names them) get the range;
 * pitches are MIDI numbers or names (C2). */
static int parse_instrument_ranges(const char *list, mrnn_sampler_params *sp)
{
    char buf[1024];
    if (strlen(list) >= sizeof buf) return cli_usage_error("generate", "--instrument-range: list too long");
    strcpy(buf, list);
    for (char *save = NULL, *e = strtok_r(buf, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(e, '='), *dash = eq ? strchr(eq + 1, '-') : NULL;
        if (!eq || !dash) return cli_usage_error("generate", "--instrument-range: '%s' is not NAME=LOW-HIGH", e);
        *eq = *dash = '\0';
        uint32_t mask[MRNN_INSTRUMENT_MASK_WORDS];
        if (mrnn_instrument_parse(e, mask) != MRNN_OK)
            return cli_usage_error("generate", "--instrument-range: %s", mrnn_last_error());
        uint32_t lo, hi;
        if (parse_pitch(eq + 1, &lo) != 0) return cli_usage_error("generate", "--instrument-range: bad pitch '%s'", eq + 1);
        if (parse_pitch(dash + 1, &hi) != 0) return cli_usage_error("generate", "--instrument-range: bad pitch '%s'", dash + 1);
        if (lo > hi || hi < 1) return cli_usage_error("generate", "--instrument-range: %u-%u is empty", lo, hi);
        for (uint32_t k = 0; k < 128; k++) {
            if (!((mask[k / 32] >> (k % 32)) & 1u)) continue;
            sp->instrument_min_pitch[k] = (uint8_t)lo;
            sp->instrument_max_pitch[k] = (uint8_t)hi;
        }
    }
    return 0;
}

static int parse_key(const char *s, int32_t *tonic)
{
    uint32_t p;
    char buf[8];
    if (strlen(s) > 3) return -1;
    snprintf(buf, sizeof buf, "%s4", s);
    if (parse_pitch(buf, &p) != 0) return -1;
    *tonic = (int32_t)(p % 12);
    return 0;
}

/* OUT.mid -> OUT-3.mid for piece 3 of several. */
static void numbered(char *buf, size_t cap, const char *path, uint32_t i, uint32_t count)
{
    if (count == 1) {
        snprintf(buf, cap, "%s", path);
        return;
    }
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) dot = path + strlen(path);
    snprintf(buf, cap, "%.*s-%u%s", (int)(dot - path), path, i + 1, dot);
}

/* Render MIDI to WAV with fluidsynth, without a shell. */
static int render_wav(const char *mid, const char *wav, const char *soundfont)
{
    if (access(soundfont, R_OK) != 0) {
        fprintf(stderr, "musicrnn generate: cannot read soundfont %s (install fluid-soundfont-gm or pass --soundfont)\n",
                soundfont);
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("musicrnn generate: fork");
        return 1;
    }
    if (pid == 0) {
        execlp("fluidsynth", "fluidsynth", "-ni", "-q", "-F", wav, "-r", "44100", soundfont, mid, (char *)NULL);
        fprintf(stderr, "musicrnn generate: cannot run fluidsynth (install the fluidsynth package)\n");
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "musicrnn generate: fluidsynth failed to render %s\n", wav);
        return 1;
    }
    fprintf(stderr, "wrote %s\n", wav);
    return 0;
}

/* Print ids as text in the vocabulary's notation, one line. */
static void print_tokens(const mrnn_vocab *v, const uint32_t *ids, size_t n)
{
    size_t need = 0;
    char probe;
    mrnn_vocab_format(v, ids, n, &probe, 1, &need);
    char *text = malloc(need ? need : 1);
    if (text && mrnn_vocab_format(v, ids, n, text, need, NULL) == MRNN_OK) printf("%s\n", text);
    free(text);
}

/* --form: the sections one after another, then the piece written as one MIDI file. */
static int generate_in_form(mrnn_sampler *s, const mrnn_model *m, const cli_form_job *job, int keep_primer,
                            const char *out, double tempo, uint32_t program, int print)
{
    cli_form_result r;
    if (cli_generate_form(s, job, &r) != 0) return 1;
    const size_t skip = keep_primer ? 0 : r.primer_len;
    const mrnn_vocab *v = mrnn_model_vocab(m);
    mrnn_status st = mrnn_tokens_write_midi(v, r.ids + skip, r.n - skip, out, tempo, program);
    if (st != MRNN_OK) {
        free(r.ids);
        return cli_fail("generate", st);
    }
    fprintf(stderr, "wrote %s (%zu tokens in %zu sections of form %s", out, r.n - skip, r.sections, job->form);
    for (size_t i = 0; i < r.sections; i++)
        fprintf(stderr, "%s%c %zu-%zu", i ? ", " : ": ", job->form[i], r.section_start[i] - skip,
                r.section_start[i] + r.section_len[i] - skip);
    fprintf(stderr, ")\n");
    if (print) print_tokens(v, r.ids + skip, r.n - skip);
    free(r.ids);
    return 0;
}

int cmd_generate(int argc, char **argv)
{
    enum { O_SEED = 256, O_PRIMER, O_PTRACKS, O_PCHANNELS, O_NOPRIMER, O_LENGTH, O_SECONDS, O_BARS, O_TEMP, O_TOPK,
           O_TOPP, O_REP, O_BEAM, O_RNG, O_COUNT, O_MINP, O_MAXP, O_KEY, O_MINOR, O_POLY, O_NODRUMS, O_STYLE,
           O_TEMPO, O_PROGRAM, O_WAV, O_SF, O_PRINT, O_STREAM, O_WEIGHTS, O_THREADS, O_INSTR, O_IRANGE, O_FORM,
           O_SECTION_BARS };
    static const struct option opts[] = {
        {"seed", required_argument, 0, O_SEED}, {"primer", required_argument, 0, O_PRIMER},
        {"primer-tracks", required_argument, 0, O_PTRACKS}, {"primer-channels", required_argument, 0, O_PCHANNELS},
        {"no-primer-output", no_argument, 0, O_NOPRIMER}, {"length", required_argument, 0, O_LENGTH},
        {"seconds", required_argument, 0, O_SECONDS}, {"bars", required_argument, 0, O_BARS},
        {"temperature", required_argument, 0, O_TEMP}, {"top-k", required_argument, 0, O_TOPK},
        {"top-p", required_argument, 0, O_TOPP}, {"repetition-penalty", required_argument, 0, O_REP},
        {"beam", required_argument, 0, O_BEAM}, {"rng-seed", required_argument, 0, O_RNG},
        {"count", required_argument, 0, O_COUNT}, {"min-pitch", required_argument, 0, O_MINP},
        {"max-pitch", required_argument, 0, O_MAXP}, {"key", required_argument, 0, O_KEY},
        {"minor", no_argument, 0, O_MINOR}, {"max-polyphony", required_argument, 0, O_POLY},
        {"no-drums", no_argument, 0, O_NODRUMS}, {"style", required_argument, 0, O_STYLE},
        {"tempo", required_argument, 0, O_TEMPO}, {"program", required_argument, 0, O_PROGRAM},
        {"wav", required_argument, 0, O_WAV}, {"soundfont", required_argument, 0, O_SF},
        {"print", no_argument, 0, O_PRINT}, {"stream", no_argument, 0, O_STREAM},
        {"weights", required_argument, 0, O_WEIGHTS}, {"threads", required_argument, 0, O_THREADS},
        {"instruments", required_argument, 0, O_INSTR}, {"instrument-range", required_argument, 0, O_IRANGE},
        {"form", required_argument, 0, O_FORM}, {"section-bars", required_argument, 0, O_SECTION_BARS},
        {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    mrnn_sampler_params sp;
    mrnn_sampler_params_init(&sp, MRNN_SAMPLER_PARAMS_VERSION);
    const char *seed = NULL, *primer = NULL, *out = NULL, *wav = NULL, *style = NULL, *form = NULL;
    const char *soundfont = DEFAULT_SOUNDFONT;
    uint64_t ptracks = 0, pchannels = 0, length = 512, v;
    double seconds = 0, bars = 0, tempo = 120, section_bars = 8, d;
    uint32_t program = 0;
    int print = 0, stream = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (opt) {
        case O_SEED: seed = optarg; break;
        case O_PRIMER: primer = optarg; break;
        case O_PTRACKS:
            if (cli_parse_mask(optarg, 63, &ptracks)) return cli_usage_error("generate", "bad --primer-tracks");
            break;
        case O_PCHANNELS:
            if (cli_parse_mask(optarg, 15, &pchannels)) return cli_usage_error("generate", "bad --primer-channels");
            break;
        case O_NOPRIMER: sp.include_primer = 0; break;
        case O_LENGTH:
            if (cli_parse_u64(optarg, 1, 10000000, &length)) return cli_usage_error("generate", "bad --length");
            break;
        case O_SECONDS:
            if (cli_parse_double(optarg, 0.001, 1e6, &seconds)) return cli_usage_error("generate", "bad --seconds");
            break;
        case O_BARS:
            if (cli_parse_double(optarg, 0.001, 1e5, &bars)) return cli_usage_error("generate", "bad --bars");
            break;
        case O_TEMP:
            if (cli_parse_double(optarg, 0, 100, &d)) return cli_usage_error("generate", "bad --temperature");
            sp.temperature = (float)d;
            break;
        case O_TOPK:
            if (cli_parse_u64(optarg, 0, 1u << 20, &v)) return cli_usage_error("generate", "bad --top-k");
            sp.top_k = (uint32_t)v;
            break;
        case O_TOPP:
            if (cli_parse_double(optarg, 1e-6, 1, &d)) return cli_usage_error("generate", "bad --top-p");
            sp.top_p = (float)d;
            break;
        case O_REP:
            if (cli_parse_double(optarg, 1, 100, &d)) return cli_usage_error("generate", "bad --repetition-penalty");
            sp.repetition_penalty = (float)d;
            break;
        case O_BEAM:
            if (cli_parse_u64(optarg, 1, 64, &v)) return cli_usage_error("generate", "--beam is 1..64");
            sp.beam_width = (uint32_t)v;
            break;
        case O_RNG:
            if (cli_parse_u64(optarg, 0, UINT64_MAX, &v)) return cli_usage_error("generate", "bad --rng-seed");
            sp.rng_seed = v;
            break;
        case O_COUNT:
            if (cli_parse_u64(optarg, 1, 256, &v)) return cli_usage_error("generate", "--count is 1..256");
            sp.n_lanes = (uint32_t)v;
            break;
        case O_MINP:
            if (parse_pitch(optarg, &sp.min_pitch)) return cli_usage_error("generate", "bad --min-pitch");
            break;
        case O_MAXP:
            if (parse_pitch(optarg, &sp.max_pitch)) return cli_usage_error("generate", "bad --max-pitch");
            break;
        case O_KEY:
            if (parse_key(optarg, &sp.key_tonic)) return cli_usage_error("generate", "--key is a note name like C, F# or Bb");
            break;
        case O_MINOR: sp.key_scale = MRNN_SCALE_MINOR; break;
        case O_POLY:
            if (cli_parse_u64(optarg, 1, 128, &v)) return cli_usage_error("generate", "--max-polyphony is 1..128");
            sp.max_polyphony = (uint32_t)v;
            break;
        case O_NODRUMS: sp.allow_drums = 0; break;
        case O_INSTR:
            if (mrnn_instrument_parse(optarg, sp.instrument_mask) != MRNN_OK)
                return cli_usage_error("generate", "--instruments: %s", mrnn_last_error());
            break;
        case O_IRANGE:
            if (parse_instrument_ranges(optarg, &sp) != 0) return 2;
            break;
        case O_STYLE: style = optarg; break;
        case O_FORM:
            if (!cli_form_valid(optarg))
                return cli_usage_error("generate", "--form is 1 to %d capital letters, e.g. AABA", CLI_FORM_MAX);
            form = optarg;
            break;
        case O_SECTION_BARS:
            if (cli_parse_double(optarg, 0.25, 1e4, &section_bars))
                return cli_usage_error("generate", "--section-bars is 0.25..10000");
            break;
        case O_TEMPO:
            if (cli_parse_double(optarg, 10, 1000, &tempo)) return cli_usage_error("generate", "--tempo is 10..1000");
            break;
        case O_PROGRAM:
            if (cli_parse_u64(optarg, 0, 127, &v)) return cli_usage_error("generate", "--program is 0..127");
            program = (uint32_t)v;
            break;
        case O_WAV: wav = optarg; break;
        case O_SF: soundfont = optarg; break;
        case O_PRINT: print = 1; break;
        case O_STREAM: stream = 1; break;
        case O_WEIGHTS:
            if (strcmp(optarg, "float32") == 0)
                sp.weight_format = MRNN_WEIGHTS_FLOAT32;
            else if (strcmp(optarg, "bf16") == 0)
                sp.weight_format = MRNN_WEIGHTS_BF16;
            else
                return cli_usage_error("generate", "--weights is float32 or bf16");
            break;
        case O_THREADS:
            if (cli_parse_u64(optarg, 1, 256, &v)) return cli_usage_error("generate", "--threads is 1..256");
            sp.threads = (uint32_t)v;
            break;
        case 'o': out = optarg; break;
        case 'h': help(); return 0;
        default: return cli_usage_error("generate", "bad option");
        }
    }
    if (optind != argc - 1) return cli_usage_error("generate", "expected one MODEL.mrm");
    if (!out) return cli_usage_error("generate", "-o OUT.mid is required");
    if (wav && sp.n_lanes > 1) return cli_usage_error("generate", "--wav renders one piece; drop --count");
    if (form && (sp.n_lanes > 1 || sp.beam_width > 1))
        return cli_usage_error("generate", "--form makes one piece by sampling; drop --count and --beam");
    if (form && (seconds > 0 || bars > 0))
        return cli_usage_error("generate", "with --form the length is --section-bars per section, not --seconds/--bars");
    /* Lengths in music time are measured by the sampler at 120 bpm; with --form, per new section. */
    if (form) bars = section_bars;
    double max_seconds = seconds > 0 ? seconds * tempo / 120.0 : 0;
    if (bars > 0) {
        double b = bars * 4 * 0.5; /* 4/4 bars in seconds at 120 bpm */
        max_seconds = max_seconds > 0 && max_seconds < b ? max_seconds : b;
    }
    if (max_seconds > 0 && length == 512) length = 10000000; /* the time limit decides */

    mrnn_model *m = NULL;
    mrnn_sampler *s = NULL;
    mrnn_status st = mrnn_model_load(&m, argv[optind]);
    if (st != MRNN_OK) return cli_fail("generate", st);
    if (style) {
        uint32_t i, n = mrnn_model_style_count(m);
        for (i = 0; i < n && strcmp(mrnn_model_style_name(m, i), style) != 0; i++) {}
        if (i == n) {
            fprintf(stderr, "musicrnn generate: the model has no style '%s' (", style);
            for (uint32_t k = 0; k < n; k++) fprintf(stderr, "%s%s", k ? ", " : "", mrnn_model_style_name(m, k));
            fprintf(stderr, "%s)\n", n ? "" : "it was trained without style labels");
            mrnn_model_free(m);
            return 2;
        }
        sp.style = (int32_t)i;
    }
    int rc = 0;
    stream_state ss = {stream, 0, 0, 0};
    double t0 = cli_now();
    const int keep_primer = sp.include_primer;
    if (form) sp.include_primer = 1; /* each section is primed with the piece so far and must see it */
    st = mrnn_sampler_create(&s, m, &sp);
    if (st == MRNN_OK && form) {
        cli_form_job job = {form,   max_seconds, (uint32_t)length, sp.rng_seed, seed, primer, ptracks,
                            (uint32_t)pchannels, on_event, &ss};
        rc = generate_in_form(s, m, &job, keep_primer, out, tempo, program, print);
        if (rc == 0 && wav) rc = render_wav(out, wav, soundfont);
        mrnn_sampler_free(s);
        mrnn_model_free(m);
        return rc;
    }
    if (st == MRNN_OK && seed) st = mrnn_sampler_prime_text(s, seed);
    if (st == MRNN_OK && primer) st = mrnn_sampler_prime_midi(s, primer, ptracks, (uint32_t)pchannels);
    if (st == MRNN_OK) st = mrnn_sampler_generate(s, (uint32_t)(length > UINT32_MAX ? UINT32_MAX : length), max_seconds,
                                                  on_event, &ss);
    double elapsed = cli_now() - t0;
    uint32_t lanes = mrnn_sampler_lane_count(s);
    char path[4096];
    for (uint32_t i = 0; st == MRNN_OK && i < lanes; i++) {
        numbered(path, sizeof path, out, i, lanes);
        st = mrnn_sampler_write_midi(s, i, path, tempo, program);
        if (st != MRNN_OK) break;
        const uint32_t *ids;
        size_t n;
        double ll;
        mrnn_sampler_tokens(s, i, &ids, &n);
        mrnn_sampler_log_likelihood(s, i, &ll);
        fprintf(stderr, "wrote %s (%zu tokens, log-likelihood %.1f nats)\n", path, n, ll);
        if (print) print_tokens(mrnn_model_vocab(m), ids, n);
    }
    if (st != MRNN_OK) {
        rc = cli_fail("generate", st);
    } else {
        if (ss.events)
            fprintf(stderr, "%llu steps in %.2f s: %.0f steps/s, latency per step mean %.3f ms, max %.3f ms\n",
                    ss.events, elapsed, (double)ss.events / elapsed, 1e3 * ss.latency_sum / (double)ss.events,
                    1e3 * ss.latency_max);
        if (wav) rc = render_wav(out, wav, soundfont);
    }
    mrnn_sampler_free(s);
    mrnn_model_free(m);
    return rc;
}
