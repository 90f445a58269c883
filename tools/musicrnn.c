/* musicrnn: prepare MIDI corpora, train LSTM models, evaluate them and compose new pieces. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} commands[] = {
    {"preprocess", cmd_preprocess, "read MIDI files into a token corpus (.mrc)"},
    {"train", cmd_train, "train an LSTM model on a corpus (.mrm)"},
    {"generate", cmd_generate, "compose with a trained model: MIDI out (and WAV with fluidsynth)"},
    {"eval", cmd_eval, "score a model on a corpus split, or compare generated MIDI with a reference set"},
    {"info", cmd_info, "describe a corpus or model file"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: musicrnn COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'musicrnn COMMAND --help' describes a command. libmusicrnn %s\n", mrnn_version_string());
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("musicrnn %s (library %s)\n", MRNN_VERSION_STRING, mrnn_version_string());
        return 0;
    }
    if (mrnn_version_number() / 100 != MRNN_VERSION_NUMBER / 100)
        fprintf(stderr, "musicrnn: warning: built for libmusicrnn %s, running with %s\n", MRNN_VERSION_STRING,
                mrnn_version_string());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "musicrnn: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
