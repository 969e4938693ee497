/* SPDX-License-Identifier: MIT */
/*
 * cmd_user.c: `tern user add|del|list|passwd|show`: account administration
 * on accounts.db. Safe while the server runs: SQLite serialises the writes
 * and the server reads accounts at each login.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "auth/password.h"
#include "cli/cli.h"
#include "lib/util.h"

#define PASSWORD_MAX 1024

/* One line from stdin, or typed twice on a terminal, or generated. Heap. */
static char *
read_password(bool from_stdin, bool *generated_out)
{
	char buf[PASSWORD_MAX + 2];

	*generated_out = false;
	if (!from_stdin && !isatty(STDIN_FILENO)) {
		*generated_out = true;
		return cli_random_password(16);
	}
	struct termios old, quiet;
	bool tty = !from_stdin && tcgetattr(STDIN_FILENO, &old) == 0;
	char *first = NULL;
	for (int round = 0; round < (tty ? 2 : 1); round++) {
		if (tty) {
			fprintf(stderr, round == 0 ? "Password: " : "Again: ");
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		}
		char *ok = fgets(buf, sizeof(buf), stdin);
		if (tty) {
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
			fputc('\n', stderr);
		}
		if (ok == NULL) {
			free(first);
			return NULL;
		}
		buf[strcspn(buf, "\r\n")] = '\0';
		if (round == 0) {
			first = xstrdup(buf);
		} else if (strcmp(first, buf) != 0) {
			explicit_bzero(buf, sizeof(buf));
			free(first);
			fprintf(stderr, "tern: the passwords differ\n");
			return NULL;
		}
	}
	explicit_bzero(buf, sizeof(buf));
	return first;
}

static int
set_password(struct auth_db *db, const char *address, bool adding, bool from_stdin)
{
	bool generated;
	char *password = read_password(from_stdin, &generated);
	enum auth_error err;
	int rc = 1;

	if (password == NULL)
		return cli_fail("no password given");
	if (password[0] == '\0') {
		free(password);
		return cli_fail("the password is empty");
	}
	char *hash = auth_password_hash(password, AUTH_SCHEME_YESCRYPT);
	if (hash == NULL) {
		cli_fail("cannot hash the password");
	} else if ((adding ? auth_account_add(db, address, hash, NULL, &err)
			   : auth_account_set_password(db, address, hash, &err)) < 0) {
		cli_fail("%s: %s", address, auth_error_str(err));
	} else {
		if (generated)
			printf("%s\npassword: %s\n", address, password);
		rc = 0;
	}
	explicit_bzero(password, strlen(password));
	free(password);
	free(hash);
	return rc;
}

static int
print_row(const struct auth_account *a, void *arg)
{
	printf("%-40s %-5s imap=%s pop3=%s smtp=%s\n", a->address, a->role,
	       a->enabled[AUTH_PROTO_IMAP] ? "on" : "off", a->enabled[AUTH_PROTO_POP3] ? "on" : "off",
	       a->enabled[AUTH_PROTO_SMTP] ? "on" : "off");
	return 0;
}

static int
show(struct auth_db *db, const char *address)
{
	struct auth_account a;
	enum auth_error err;
	char when[64];

	if (auth_account_lookup(db, address, &a, &err) < 0)
		return cli_fail("%s: %s", address, auth_error_str(err));
	time_t t = (time_t)a.created;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	printf("address: %s\nid:      %llu\nrole:    %s\ncreated: %s\n", a.address,
	       (unsigned long long)a.id, a.role, when);
	for (int p = 0; p < AUTH_PROTO_COUNT; p++)
		printf("%-8s %s\n", auth_protocol_name((enum auth_protocol)p),
		       a.enabled[p] ? "on" : "off");
	auth_account_clear(&a);
	return 0;
}

int
cli_user(const char *data_dir, int argc, char **argv)
{
	struct auth_db *db = NULL;
	char *err = NULL;
	enum auth_error aerr;
	int rc;

	if (argc < 1)
		return cli_fail("user: expected add, del, list, passwd or show");
	const char *verb = argv[0];
	const char *address = argc >= 2 ? argv[1] : NULL;
	bool from_stdin = argc >= 3 && strcmp(argv[2], "--password-stdin") == 0;
	int want = strcmp(verb, "list") == 0 ? 1 : (from_stdin ? 3 : 2);
	bool known = strcmp(verb, "add") == 0 || strcmp(verb, "del") == 0 ||
		     strcmp(verb, "list") == 0 || strcmp(verb, "passwd") == 0 ||
		     strcmp(verb, "show") == 0;
	if (!known)
		return cli_fail("user: unknown action '%s'", verb);
	if (argc != want)
		return cli_fail("user %s: wrong arguments (see tern user --help)", verb);
	if (access(data_dir, F_OK) < 0)
		return cli_fail("%s: no data directory (run tern init %s first)", data_dir, data_dir);
	if (auth_db_open(data_dir, &db, &err) < 0) {
		cli_fail("%s", err);
		free(err);
		return 1;
	}
	if (strcmp(verb, "add") == 0) {
		rc = auth_address_is_valid(address) ? set_password(db, address, true, from_stdin)
						    : cli_fail("'%s' is not a valid address", address);
	} else if (strcmp(verb, "passwd") == 0) {
		rc = set_password(db, address, false, from_stdin);
	} else if (strcmp(verb, "del") == 0) {
		rc = auth_account_delete(db, address, &aerr) == 0
			     ? 0
			     : cli_fail("%s: %s", address, auth_error_str(aerr));
	} else if (strcmp(verb, "show") == 0) {
		rc = show(db, address);
	} else {
		rc = auth_account_foreach(db, print_row, NULL, &aerr) == 0
			     ? 0
			     : cli_fail("%s", auth_error_str(aerr));
	}
	auth_db_close(&db);
	return rc;
}
