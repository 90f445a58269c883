/* Helpers shared by the musicrnn subcommands. */
#ifndef MUSICRNN_CLI_H
#define MUSICRNN_CLI_H

#include <stdint.h>

#include <musicrnn/musicrnn.h>

/* Print "musicrnn: <what>: <last error>" to stderr and return exit status 1. */
int cli_fail(const char *what, mrnn_status st);
/* Print a usage error and return exit status 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict number parsing: the whole string must be a number in [lo, hi]. Return 0 on success. */
int cli_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
int cli_parse_double(const char *s, double lo, double hi, double *out);
/* "0,1,9" or "1-4,10" into a bit mask of values in [0, max_bit]. Return 0 on success. */
int cli_parse_mask(const char *s, unsigned max_bit, uint64_t *out);
/* Name of an encoding / parse one ("notechord", "performance", "pianoroll"). */
const char *cli_encoding_name(uint32_t encoding);
int cli_parse_encoding(const char *s, uint32_t *out);
/* 1 if v encodes piano-roll frames (scored per frame, trained with the pianoroll defaults). */
int cli_is_pianoroll(const mrnn_vocab *v);
const char *cli_split_name(uint32_t split);
double cli_now(void);

int cmd_preprocess(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
/* The statistics form of eval (cmd_eval_stats.c): exit status. */
int cmd_eval_stats(const char *gen_dir, const char *ref_dir, int json);
int cmd_info(int argc, char **argv);
int cmd_generate(int argc, char **argv);

#endif
