/* SPDX-License-Identifier: MIT */
/*
 * cli.h: the `tern` subcommands. Each takes the data directory (-d, default
 * ./var) and its own arguments, prints user mistakes as one line on stderr
 * and returns the process exit status.
 */
#ifndef TERN_CLI_H
#define TERN_CLI_H

struct cli_command {
	const char *name;
	int (*run)(const char *data_dir, int argc, char **argv);
	const char *usage; /* first line: synopsis; then a description */
};

int cli_init(const char *data_dir, int argc, char **argv);
int cli_serve(const char *data_dir, int argc, char **argv);
int cli_user(const char *data_dir, int argc, char **argv);
int cli_check(const char *data_dir, int argc, char **argv);

/* Prints "tern: message" to stderr; returns 1 (for `return cli_fail(...)`). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True when argv holds -h or --help. */
int cli_wants_help(int argc, char **argv);
/* A random password of n letters and digits (heap). */
char *cli_random_password(int n);

#endif
