/* SPDX-License-Identifier: MIT */
/*
 * cli.h: the `tern` subcommands. Each takes the data directory (-d, default
 * ./var) and its own arguments, prints user mistakes as one line on stderr
 * and returns the process exit status.
 */
#ifndef TERN_CLI_H
#define TERN_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

struct cli_command {
	const char *name;
	int (*run)(const char *data_dir, int argc, char **argv);
	const char *usage; /* first line: synopsis; then a description */
};

int cli_init(const char *data_dir, int argc, char **argv);
int cli_serve(const char *data_dir, int argc, char **argv);
int cli_user(const char *data_dir, int argc, char **argv);
int cli_check(const char *data_dir, int argc, char **argv);
int cli_deliver(const char *data_dir, int argc, char **argv);
int cli_dns_records(const char *data_dir, int argc, char **argv);

/* How tern was started (argv[0], "./build/tern"), for hints that work. */
extern const char *cli_program;
int cli_alias(const char *data_dir, int argc, char **argv);
int cli_queue(const char *data_dir, int argc, char **argv);
int cli_dkim(const char *data_dir, int argc, char **argv);
int cli_tlsrpt(const char *data_dir, int argc, char **argv);
int cli_group(const char *data_dir, int argc, char **argv);
int cli_acl(const char *data_dir, int argc, char **argv);

/* Prints "tern: message" to stderr; returns 1 (for `return cli_fail(...)`). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True when argv holds -h or --help. */
int cli_wants_help(int argc, char **argv);
/* A random password of n letters and digits (heap). */
char *cli_random_password(int n);
/* n random bytes as 2n hex digits (heap). */
char *cli_random_hex(int n);
/* In the data directory: the running server's token for the local CLI. */
#define CLI_ADMIN_TOKEN_FILE "admin.token"
int cli_status(const char *data_dir, int argc, char **argv);
int cli_sessions(const char *data_dir, int argc, char **argv);

struct auth_credentials;
struct auth_cred_options;
struct tern_conf;
/* What tern.conf says to derive from a password (cmd_user.c). */
void cli_cred_options(const struct tern_conf *conf, const char *address,
                      struct auth_cred_options *o);
/* Every credential for password (SASLprep'd here); 0, or 1 after printing
   why not. Free with auth_credentials_clear(). */
struct auth_db;
/* `tern user import-passwd` (cmd_import.c). */
int cli_import_passwd(struct auth_db *db, const struct tern_conf *conf, int argc, char **argv);
/* `tern user quota` and `user set --quota-*` (cmd_quota.c); the lines `user
   show` prints too. */
int cli_quota(const char *data_dir, const struct tern_conf *conf, struct auth_db *db, int argc,
              char **argv);
int cli_quota_read(const char *data_dir, const struct tern_conf *conf, uint64_t account_id,
                   struct store_quota *out);
/* "storage: ...", "messages: ..." and, when limited or with_mailboxes,
   "mailboxes: ..." lines. */
void cli_quota_print(const struct store_quota *q, bool with_mailboxes);
/* Limits to set: which (enum store_quota_resource bits) and their values
   in limits' *_limit fields (0 = none). */
struct cli_quota_change {
	unsigned which;
	struct store_quota limits;
};
/* When argv[*i] is PREFIX "storage", "messages" or "mailboxes", parses the
   value after it into c and moves *i onto the value: 1. 0 when argv[*i] is
   no quota option; -1 after saying what is wrong with the value. */
int cli_quota_option(int argc, char **argv, int *i, const char *prefix, struct cli_quota_change *c);
/* Sets c on the n accounts (ids, with their addresses for messages) with
   one store open; *last_out (may be NULL) gets the last one's quota.
   Returns how many failed (each said on stderr). */
int cli_quota_apply(const char *data_dir, const struct tern_conf *conf, const uint64_t *ids,
                    const char *const *addresses, size_t n, const struct cli_quota_change *c,
                    struct store_quota *last_out);
int cli_make_credentials(const struct tern_conf *conf, const char *address, const char *password,
                         struct auth_credentials *out);

#endif
