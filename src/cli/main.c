/* SPDX-License-Identifier: MIT */
/*
 * main.c: `tern [-d DIR] COMMAND [ARGS]`. Finds the subcommand in the table
 * and runs it; the table's usage strings are the --help text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/conf.h"
#include "lib/version.h"

static int cli_version(const char *data_dir, int argc, char **argv);
static int cli_config_keys(const char *data_dir, int argc, char **argv);

static const struct cli_command commands[] = {
        {"init", cli_init,
         "init DIR [--port-base N] [--hostname NAME] [--domain DOMAIN]\n"
         "  Create a data directory: tern.conf, a self-signed TLS certificate, the\n"
         "  account database and a test account, whose password is printed once.\n"
         "  Ports are N+143 (IMAP), N+993 (IMAPS), ...; N defaults to 10000."},
        {"serve", cli_serve,
         "serve\n"
         "  Run the server in the foreground, logging to stderr. SIGTERM/SIGINT stop\n"
         "  it cleanly, SIGHUP reloads tern.conf and the TLS certificate."},
        {"user", cli_user,
         "user add|del|list|passwd|show|set|app-password|import-passwd ...\n"
         "  user add ADDRESS [--password-stdin]   create an account\n"
         "  user del ADDRESS                      delete an account (its sessions end)\n"
         "  user list [--disabled PROTO]          list accounts (only those with PROTO off)\n"
         "  user passwd ADDRESS [--password-stdin] set a new password (and every key)\n"
         "  user show ADDRESS                     show an account\n"
         "  user set TARGET SETTING...            switch protocols or the role:\n"
         "      TARGET:  ADDRESS | --from-file FILE (one address a line) |\n"
         "               --domain DOMAIN | --all\n"
         "      SETTING: imap=on|off pop3=on|off smtp=on|off role=user|admin\n"
         "      A running server closes the sessions of a protocol switched off.\n"
         "  user app-password add ADDRESS NAME [--protocols imap,pop3,smtp]\n"
         "  user app-password list ADDRESS\n"
         "  user app-password del ADDRESS NAME\n"
         "  user import-passwd FILE [--domain DOMAIN]   import a Dovecot passwd-file\n"
         "  Without --password-stdin a password is asked for on a terminal, or else\n"
         "  generated and printed. See docs/AUTH.md."},
        {"alias", cli_alias,
         "alias add|del|list ...\n"
         "  alias add ALIAS TARGET      mail to ALIAS goes to TARGET (an account or\n"
         "                              another alias); add again for a list\n"
         "  alias del ALIAS [TARGET]    remove one target, or the whole alias\n"
         "  alias list [ALIAS]          show aliases\n"
         "  ALIAS \"@domain\" is the domain's catch-all (off until added).\n"
         "  user+tag@domain reaches user@domain without an alias (smtp.subaddress_*).\n"
         "  See docs/SMTP.md."},
        {"queue", cli_queue,
         "queue list | show ID [--message] | retry|hold|release|delete ID...|--all\n"
         "  The outbound queue: mail submitted for remote recipients, kept in\n"
         "  DIR/queue until `tern serve` has delivered it. show prints the envelope\n"
         "  (sender, recipients, DSN parameters), each recipient's state and last\n"
         "  reply and, with --message, the message. retry makes messages due now\n"
         "  (a running server sends them within seconds); hold stops delivery\n"
         "  until release; delete removes messages without a bounce."},
        {"dkim", cli_dkim,
         "dkim keygen DOMAIN [--selector S] [--type rsa|ed25519] | dkim list\n"
         "  Make a DKIM signing key for DOMAIN under DIR/dkim/DOMAIN/ (RSA 2048 by\n"
         "  default, selector \"tern\"; \"tern-ed25519\" for ed25519) and print the\n"
         "  TXT record to publish. Mail from DOMAIN is signed with every key it has\n"
         "  from the next delivery on. list shows the keys."},
        {"check", cli_check,
         "check [--repair] [--account ID]\n"
         "  Verify the mail store: counters, blob references, blob files against\n"
         "  their SHA-256, leftovers of a crash. --repair fixes what it finds\n"
         "  (stop the server first). Exit 0 clean, 1 problems remain."},
        {"deliver", cli_deliver,
         "deliver [--mailbox NAME] ADDRESS... < MESSAGE\n"
         "  Local delivery for an MTA (Postfix mailbox_command or a pipe transport):\n"
         "  store the message on stdin for each ADDRESS (an account; user+tag@domain\n"
         "  goes to user@domain; one copy per account) into INBOX, or into NAME\n"
         "  (INBOX when NAME does not exist). A leading mbox \"From \" line is\n"
         "  dropped. Safe while tern serve runs on the same DIR; run it as the user\n"
         "  that owns DIR (server.user).\n"
         "  Exit status (sysexits.h; with several addresses the first that applies):\n"
         "    75 EX_TEMPFAIL     disk or database trouble, over quota: retry later\n"
         "    67 EX_NOUSER       an ADDRESS is no account (the others got it)\n"
         "    69 EX_UNAVAILABLE  larger than store.max_message_size or than the\n"
         "                       account's whole quota: bounce\n"
         "    65 EX_DATAERR      empty message\n"
         "    64 EX_USAGE        bad arguments;  78 EX_CONFIG  tern.conf unreadable\n"
         "     0                 stored for every ADDRESS"},
        {"version", cli_version, "version\n  Print the version."},
        {"config-keys", cli_config_keys,
         "config-keys\n  Print every tern.conf key with its default, as Markdown."},
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: tern [-d DIR] COMMAND [ARGS]\n\n"
	           "tern is a mail server. DIR is the data directory (default ./var).\n\n"
	           "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const char *u = commands[i].usage;
		fprintf(f, "  %.*s\n", (int)strcspn(u, "\n"), u);
	}
	fprintf(f, "\nRun `tern COMMAND --help` for a command's details.\n");
}

int
cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("tern: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int
cli_wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

static int
cli_version(const char *data_dir, int argc, char **argv)
{
	if (argc > 0)
		return cli_fail("version takes no arguments");
	printf("tern %s\n", TERN_VERSION);
	return 0;
}

static int
cli_config_keys(const char *data_dir, int argc, char **argv)
{
	if (argc > 0)
		return cli_fail("config-keys takes no arguments");
	conf_print_keys();
	return 0;
}

int
main(int argc, char **argv)
{
	const char *data_dir = "var";
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			data_dir = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("tern %s\n", TERN_VERSION);
			return 0;
		} else {
			usage(stderr);
			return cli_fail("unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name) != 0)
			continue;
		if (cli_wants_help(argc - i - 1, argv + i + 1)) {
			printf("usage: tern [-d DIR] %s\n", commands[c].usage);
			return 0;
		}
		return commands[c].run(data_dir, argc - i - 1, argv + i + 1);
	}
	usage(stderr);
	return cli_fail("unknown command '%s'", argv[i]);
}
