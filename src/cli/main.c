/* SPDX-License-Identifier: MIT */
/*
 * main.c: `tern [-d DIR] COMMAND [ARGS]`. Finds the subcommand in the table
 * and runs it; the table's usage strings are the --help text.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/conf.h"
#include "lib/version.h"

static int cli_version(const char *data_dir, int argc, char **argv);
static int cli_config_keys(const char *data_dir, int argc, char **argv);
static int cli_manpage(const char *data_dir, int argc, char **argv);

static const struct cli_command commands[] = {
        {"init", cli_init,
         "init DIR [--port-base N] [--hostname NAME] [--domain DOMAIN]\n"
         "  Create a data directory: tern.conf, a self-signed TLS certificate, the\n"
         "  account database and a test account, whose password is printed once.\n"
         "  Ports are N+143 (IMAP), N+993 (IMAPS), ...; N defaults to 10000."},
        {"serve", cli_serve,
         "serve\n"
         "  Run the server in the foreground, logging to stderr (or server.log_file).\n"
         "  SIGTERM/SIGINT stop it cleanly, SIGHUP reloads tern.conf and the TLS\n"
         "  certificate, SIGUSR1 reopens the log file (logrotate)."},
        {"user", cli_user,
         "user add|del|list|passwd|show|set|quota|app-password|import-passwd ...\n"
         "  user add ADDRESS [--password-stdin]   create an account\n"
         "  user del ADDRESS                      delete an account (its sessions end)\n"
         "  user list [--disabled PROTO] [--search TEXT] [--domain DOMAIN]\n"
         "                                        list accounts (PROTO off, address\n"
         "                                        containing TEXT, in DOMAIN)\n"
         "  user passwd ADDRESS [--password-stdin] set a new password (and every key)\n"
         "  user show ADDRESS                     show an account\n"
         "  user set TARGET SETTING...            switch protocols or the role:\n"
         "      TARGET:  ADDRESS | --from-file FILE (one address a line) |\n"
         "               --domain DOMAIN | --all\n"
         "      SETTING: imap=on|off pop3=on|off smtp=on|off role=user|admin\n"
         "      A running server closes the sessions of a protocol switched off.\n"
         "  user quota ADDRESS [--storage SIZE|none] [--messages N|none]\n"
         "                                        show or set an account's quota\n"
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
        {"group", cli_group,
         "group add|del|list ...\n"
         "  group add GROUP ADDRESS...    put accounts into GROUP (made on first use)\n"
         "  group del GROUP [ADDRESS...]  take accounts out, or remove the group\n"
         "  group list [GROUP]            show memberships\n"
         "  IMAP ACLs name a group as $GROUP (SETACL box $team lr); a session reads\n"
         "  its groups at login. See docs/ADMIN.md \"Sharing\"."},
        {"acl", cli_acl,
         "acl get|set|del|create OWNER MAILBOX [IDENTIFIER [RIGHTS]]\n"
         "  acl get OWNER MAILBOX                    show a mailbox's ACL\n"
         "  acl set OWNER MAILBOX IDENTIFIER RIGHTS  set (+add, -remove) rights\n"
         "  acl del OWNER MAILBOX IDENTIFIER         remove an entry\n"
         "  acl create OWNER MAILBOX                 create a mailbox\n"
         "  OWNER is an account address or --shared (the public \"Shared/\" mailboxes);\n"
         "  MAILBOX \"\" is the root: new top-level mailboxes inherit its ACL.\n"
         "  IDENTIFIER: an address, $GROUP, anyone, authenticated; -IDENTIFIER for\n"
         "  negative rights. RIGHTS: letters of lrswipkxtean (RFC 4314; n: RFC 5257), c = kx, d = te.\n"
         "  See docs/ADMIN.md \"Sharing\"."},
        {"queue", cli_queue,
         "queue list | show ID [--message] | retry|hold|release|delete ID...|--all\n"
         "  The outbound queue: mail submitted for remote recipients, kept in\n"
         "  DIR/queue until `tern serve` has delivered it. list gives each message's\n"
         "  id, date, size, state/attempts (queued: due; deferred: waiting for a\n"
         "  retry; held), sender, account and recipients. show prints the envelope\n"
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
        {"tlsrpt", cli_tlsrpt,
         "tlsrpt show [--json] | send [--today]\n"
         "  TLS-RPT (RFC 8460; delivery.tlsrpt): show lists the TLS sessions counted\n"
         "  in DIR/tlsrpt.db per day, recipient domain, policy (sts, tlsa,\n"
         "  no-policy-found) and result (success or the RFC's failure type), with\n"
         "  --json the report each day and domain would get. send sends the reports\n"
         "  of past days now (the server does so within the hour after a day ends);\n"
         "  --today includes today so far. Each goes where the domain's\n"
         "  _smtp._tls TXT record says: mailto (queued, the running server delivers\n"
         "  it) and https (POSTed now). Sent sessions leave the database."},
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
        {"status", cli_status,
         "status\n"
         "  Ask the server running on DIR for its uptime, the sessions open per\n"
         "  protocol and the accounts with the most sessions (over the HTTP port on\n"
         "  loopback, with the token it keeps in DIR/admin.token)."},
        {"sessions", cli_sessions,
         "sessions [--kick ADDRESS]\n"
         "  List the live sessions of the server running on DIR (sid, protocol, IP,\n"
         "  age, user), or end every session of ADDRESS (after its running command;\n"
         "  it may log in again: switch a protocol off with user set to keep it out)."},
        {"dns-records", cli_dns_records,
         "dns-records DOMAIN\n"
         "  Print every DNS record DOMAIN needs for this server, as zone-file lines:\n"
         "  MX, SPF, DMARC, MTA-STS and TLS-RPT, the RFC 6186 SRV records of the\n"
         "  listeners tern.conf runs, and the autoconfig/autodiscover names. Set\n"
         "  server.hostname to the public name first. See docs/ADMIN.md."},
        {"version", cli_version, "version\n  Print the version."},
        {"config-keys", cli_config_keys,
         "config-keys [--man]\n"
         "  Print every tern.conf key with its default, as Markdown (docs/CONFIG.md),\n"
         "  or as the tern.conf(5) manual page."},
        {"manpage", cli_manpage, "manpage\n  Print the tern(8) manual page (roff)."},
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

const char *cli_program = "tern";

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
	if (argc == 1 && strcmp(argv[0], "--man") == 0) {
		conf_print_man();
		return 0;
	}
	if (argc > 0)
		return cli_fail("config-keys takes no arguments but --man");
	conf_print_keys();
	return 0;
}

/* Text for roff: '-' and '\\' escaped, and a line starting with '.' kept
   from being read as a request. */
static void
roff_put(const char *s, size_t len, bool lines)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\')
			fputs("\\e", stdout);
		else if (s[i] == '-')
			fputs("\\-", stdout);
		else if (s[i] == '.' && lines && (i == 0 || s[i - 1] == '\n'))
			fputs("\\&.", stdout);
		else
			putchar(s[i]);
	}
}

/* tern(8) from the command table, so the manual says what --help says. */
static int
cli_manpage(const char *data_dir, int argc, char **argv)
{
	if (argc > 0)
		return cli_fail("manpage takes no arguments");
	printf(".TH TERN 8 \"\" \"tern %s\" \"System Administration\"\n"
	       ".SH NAME\ntern \\- mail server (IMAP, POP3, SMTP, LMTP, HTTP) and its admin tool\n"
	       ".SH SYNOPSIS\n.B tern\n[\\fB\\-d\\fR \\fIDIR\\fR] \\fICOMMAND\\fR "
	       "[\\fIARGS\\fR]\n"
	       ".SH DESCRIPTION\n\\fBtern serve\\fR runs the server; every other command "
	       "administers the data directory \\fIDIR\\fR (default \\fI./var\\fR; "
	       "\\fI/var/lib/tern\\fR after \\fBmake install\\fR), also while it runs.\n"
	       ".SH COMMANDS\n",
	       TERN_VERSION);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const char *u = commands[i].usage;
		size_t first = strcspn(u, "\n");
		printf(".TP\n.B tern ");
		roff_put(u, first, false);
		printf("\n.nf\n");
		if (u[first] != '\0')
			roff_put(u + first + 1, strlen(u + first + 1), true);
		printf("\n.fi\n");
	}
	printf(".SH SIGNALS\n.TP\n.B SIGTERM, SIGINT\nStop: running commands finish, clients "
	       "get a goodbye.\n.TP\n.B SIGHUP\nReload tern.conf and the TLS certificate.\n"
	       ".TP\n.B SIGUSR1\nReopen server.log_file (logrotate).\n"
	       ".SH FILES\n.TP\n.I DIR/tern.conf\nsee \\fBtern.conf\\fR(5)\n.TP\n"
	       ".I DIR/accounts.db\naccounts, app passwords, aliases\n.TP\n.I DIR/accounts/\n"
	       "the mail store, one directory per account\n.TP\n.I DIR/tls/\n"
	       "certificate and key\n"
	       ".SH SEE ALSO\n.BR tern.conf (5);\ndocs/ADMIN.md in the source tree.\n");
	return 0;
}

int
main(int argc, char **argv)
{
	const char *data_dir = "var";
	int i = 1;

	if (argc > 0 && argv[0] != NULL && strchr(argv[0], '/') != NULL)
		cli_program = argv[0];
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
		/* `tern user set --help`: the user command explains its action. */
		bool own_help = strcmp(commands[c].name, "user") == 0 && argc - i - 1 >= 2 &&
		                argv[i + 1][0] != '-';
		if (!own_help && cli_wants_help(argc - i - 1, argv + i + 1)) {
			printf("usage: tern [-d DIR] %s\n", commands[c].usage);
			return 0;
		}
		return commands[c].run(data_dir, argc - i - 1, argv + i + 1);
	}
	usage(stderr);
	return cli_fail("unknown command '%s'", argv[i]);
}
