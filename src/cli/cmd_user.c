/* SPDX-License-Identifier: MIT */
/*
 * cmd_user.c: `tern user ...`: account administration on accounts.db.
 *
 *   add|del|list|passwd|show       accounts and their credentials
 *   set TARGET key=value...        protocol switches, role and quotas
 *                                  (--quota-*, cmd_quota.c), for one account
 *                                  or in bulk (--from-file, --domain, --all)
 *   app-password add|list|del      named app passwords, optionally per protocol
 *   import-passwd FILE             a Dovecot passwd-file
 *
 * Safe while the server runs: SQLite serialises the writes, the server reads
 * accounts at each login, and access changes are logged in the database's
 * change table, which the server polls every second to close the sessions of
 * accounts that lost a protocol. Credentials follow tern.conf: SCRAM keys
 * always, CRAM-MD5 and DIGEST-MD5 keys only while those mechanisms are in
 * auth.mechanisms (docs/AUTH.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "auth/auth.h"
#include "auth/password.h"
#include "cli/cli.h"
#include "cli/conf.h"
#include "lib/util.h"
#include "store/store.h"

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

void
cli_cred_options(const struct tern_conf *conf, const char *address, struct auth_cred_options *o)
{
	char *mechs = xstrdup(conf->auth.mechanisms), *save = NULL;

	memset(o, 0, sizeof(*o));
	o->scram_iterations = (unsigned)conf->auth.scram_iterations;
	o->apop = conf->auth.s.apop;
	for (char *t = strtok_r(mechs, " ,", &save); t != NULL; t = strtok_r(NULL, " ,", &save)) {
		if (auth_mech_parse(t) == AUTH_MECH_CRAM_MD5)
			o->cram_md5 = true;
		if (auth_mech_parse(t) == AUTH_MECH_DIGEST_MD5)
			o->digest_md5 = true;
	}
	free(mechs);
	o->digest_realm =
	        conf->auth.digest_realm[0] != '\0' ? conf->auth.digest_realm : conf->hostname;
	o->address = address;
}

/* Every credential for a password (SASLprep'd first). 0, or 1 after
   printing why not. */
int
cli_make_credentials(const struct tern_conf *conf, const char *address, const char *password,
                     struct auth_credentials *out)
{
	struct auth_cred_options o;
	char *lower = xstrdup(address);

	for (char *p = lower; *p != '\0'; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	char *prepped = auth_saslprep(password, true);
	int rc = 0;
	if (prepped == NULL || prepped[0] == '\0') {
		rc = cli_fail("the password has characters SASLprep (RFC 4013) prohibits");
	} else {
		cli_cred_options(conf, lower, &o);
		if (auth_credentials_make(prepped, &o, out) < 0)
			rc = cli_fail("cannot hash the password");
	}
	if (prepped != NULL) {
		explicit_bzero(prepped, strlen(prepped));
		free(prepped);
	}
	free(lower);
	return rc;
}

static int
set_password(struct auth_db *db, const struct tern_conf *conf, const char *address, bool adding,
             bool from_stdin)
{
	bool generated;
	char *password = read_password(from_stdin, &generated);
	struct auth_credentials cred = {0};
	enum auth_error err;
	int rc = 1;

	if (password == NULL)
		return cli_fail("no password given");
	if (password[0] == '\0') {
		free(password);
		return cli_fail("the password is empty");
	}
	if (cli_make_credentials(conf, address, password, &cred) != 0) {
		/* said why */
	} else if ((adding ? auth_account_add_credentials(db, address, &cred, NULL, &err)
	                   : auth_account_set_credentials(db, address, &cred, &err)) < 0) {
		cli_fail("%s: %s", address, auth_error_str(err));
	} else {
		printf("%s %s\n", adding ? "Added" : "Changed the password of", address);
		if (generated)
			printf("password: %s\n", password);
		rc = 0;
	}
	explicit_bzero(password, strlen(password));
	free(password);
	auth_credentials_clear(&cred);
	return rc;
}

static const char *
onoff(bool b)
{
	return b ? "on" : "off";
}

static int
print_row(const struct auth_account *a, void *arg)
{
	printf("%-40s %-5s imap=%s pop3=%s smtp=%s\n", a->address, a->role,
	       onoff(a->enabled[AUTH_PROTO_IMAP]), onoff(a->enabled[AUTH_PROTO_POP3]),
	       onoff(a->enabled[AUTH_PROTO_SMTP]));
	return 0;
}

static const char *
scheme_name(const char *hash)
{
	if (strncmp(hash, "$y$", 3) == 0)
		return "yescrypt";
	if (strncmp(hash, "$6$", 3) == 0)
		return "sha512-crypt";
	if (strncmp(hash, "$2", 2) == 0)
		return "bcrypt";
	if (hash[0] == '$')
		return "crypt";
	return "none";
}

static int
show(struct auth_db *db, const char *data_dir, const struct tern_conf *conf, const char *address)
{
	/* What this server runs at all: a switch that is on for a protocol
	   tern.conf does not serve still lets nobody in. The smtp switch is
	   about submission (sending); receiving mail needs no login. */
	const bool served[AUTH_PROTO_COUNT] = {[AUTH_PROTO_IMAP] = conf->imap_enabled,
	                                       [AUTH_PROTO_POP3] = conf->pop3_enabled,
	                                       [AUTH_PROTO_SMTP] = conf->submission_enabled};
	struct auth_account a;
	enum auth_error err;
	char when[64], protos[64];
	struct auth_app_password *apps = NULL;
	size_t napps = 0;

	if (auth_account_lookup(db, address, &a, &err) < 0)
		return cli_fail("%s: %s", address, auth_error_str(err));
	time_t t = (time_t)a.created;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	printf("address: %s\nid:      %llu\nrole:    %s\ncreated: %s\n", a.address,
	       (unsigned long long)a.id, a.role, when);
	for (int p = 0; p < AUTH_PROTO_COUNT; p++)
		printf("%-8s %s%s\n", auth_protocol_name((enum auth_protocol)p),
		       onoff(a.enabled[p]),
		       served[p] ? "" : " (not served: switched off in tern.conf)");
	if (strcmp(a.role, "admin") == 0)
		printf("note:    administrators cannot log in to IMAP or POP3\n");
	if (a.referral[0] != '\0')
		printf("referral: %s (IMAP logins are sent there)\n", a.referral);
	printf("credentials: %s%s%s%s%s%s\n", scheme_name(a.password),
	       a.cred.scram_sha1[0] ? " scram-sha-1" : "",
	       a.cred.scram_sha256[0] ? " scram-sha-256" : "",
	       a.cred.cram_md5[0] ? " cram-md5" : "", a.cred.digest_md5[0] ? " digest-md5" : "",
	       a.cred.apop[0] ? " apop" : "");
	struct store_quota quota;
	if (cli_quota_read(data_dir, conf, a.id, &quota) == 0)
		cli_quota_print(&quota, true);
	if (auth_app_password_list(db, a.id, &apps, &napps, &err) == 0) {
		printf("app passwords: %zu\n", napps);
		for (size_t i = 0; i < napps; i++) {
			auth_protocols_str(apps[i].protocols, protos, sizeof(protos));
			printf("  %-20s %s\n", apps[i].name, protos);
		}
	}
	auth_app_passwords_free(&apps, napps);
	auth_account_clear(&a);
	return 0;
}

/* ---- set ---- */

static void
report_missing(const char *address, void *arg)
{
	size_t *n = arg;

	if (*n < 20)
		fprintf(stderr, "tern: %s: no such account\n", address);
	(*n)++;
}

/* Reads addresses, one a line ('#' comments, blank lines skipped). */
static char **
read_addresses(const char *path, size_t *n_out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, n = 0, vcap = 64;
	char **v;

	if (f == NULL)
		return NULL;
	v = xmalloc(vcap * sizeof(*v));
	while (getline(&line, &cap, f) >= 0) {
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		s[strcspn(s, " \t\r\n")] = '\0';
		if (*s == '\0' || *s == '#')
			continue;
		if (n == vcap) {
			vcap *= 2;
			v = xrealloc(v, vcap * sizeof(*v));
		}
		v[n++] = xstrdup(s);
	}
	free(line);
	if (f != stdin)
		fclose(f);
	*n_out = n;
	return v;
}

/* The accounts a `user set` TARGET names, with ids, for the settings kept
   outside accounts.db (quotas live in each account's store). */
struct targets {
	uint64_t *ids;
	char **addresses;
	size_t n, cap;
};

static void
targets_add(struct targets *t, uint64_t id, const char *address)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->ids = xrealloc(t->ids, t->cap * sizeof(*t->ids));
		t->addresses = xrealloc(t->addresses, t->cap * sizeof(*t->addresses));
	}
	t->ids[t->n] = id;
	t->addresses[t->n++] = xstrdup(address);
}

static int
targets_add_row(const struct auth_account *a, void *arg)
{
	targets_add(arg, a->id, a->address);
	return 0;
}

static void
targets_free(struct targets *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->addresses[i]);
	free(t->addresses);
	free(t->ids);
}

/* Resolves addresses (unknown ones are skipped: the access change already
   reported them) or a domain (NULL: all) to accounts. */
static int
targets_find(struct auth_db *db, const char *const *addresses, size_t n, const char *domain,
             struct targets *t, enum auth_error *err_out)
{
	if (addresses == NULL) {
		struct auth_account_query q = {.domain = domain, .disabled = -1};
		uint64_t total;
		return auth_account_page(db, &q, targets_add_row, t, &total, err_out);
	}
	for (size_t i = 0; i < n; i++) {
		struct auth_account a;
		if (auth_account_lookup(db, addresses[i], &a, err_out) == 0) {
			targets_add(t, a.id, a.address);
			auth_account_clear(&a);
		} else if (*err_out != AUTH_ERR_NOTFOUND) {
			return -1;
		}
	}
	return 0;
}

static int
cmd_set(struct auth_db *db, const char *data_dir, const struct tern_conf *conf, int argc,
        char **argv)
{
	struct auth_access_change c = {.role = NULL};
	struct cli_quota_change qc = {0};
	const char *address = NULL, *file = NULL, *domain = NULL;
	bool all = false;
	int targets = 0;

	for (int p = 0; p < AUTH_PROTO_COUNT; p++)
		c.enabled[p] = -1;
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		int quota_opt = cli_quota_option(argc, argv, &i, "--quota-", &qc);
		if (quota_opt < 0)
			return 1;
		if (quota_opt > 0) {
			continue;
		} else if (strcmp(argv[i], "--referral") == 0 && i + 1 < argc) {
			c.referral = strcmp(argv[++i], "none") == 0 ? "" : argv[i];
			if (c.referral[0] != '\0' && !auth_referral_is_valid(c.referral))
				return cli_fail("--referral: an imap:// or imaps:// URL, or none "
				                "(e.g. imap://mail2.example.org/)");
		} else if (strcmp(argv[i], "--from-file") == 0 && i + 1 < argc) {
			file = argv[++i];
			targets++;
		} else if (strcmp(argv[i], "--domain") == 0 && i + 1 < argc) {
			domain = argv[++i];
			targets++;
		} else if (strcmp(argv[i], "--all") == 0) {
			all = true;
			targets++;
		} else if (eq != NULL && argv[i][0] != '-') {
			*eq = '\0';
			const char *v = eq + 1;
			int p = auth_protocol_parse(argv[i]);
			bool on = strcmp(v, "on") == 0 || strcmp(v, "yes") == 0;
			bool off = strcmp(v, "off") == 0 || strcmp(v, "no") == 0;
			if (strcmp(argv[i], "role") == 0 &&
			    (strcmp(v, "user") == 0 || strcmp(v, "admin") == 0))
				c.role = v;
			else if (p >= 0 && (on || off))
				c.enabled[p] = on;
			else
				return cli_fail(
				        "user set: bad setting '%s=%s' (imap|pop3|smtp=on|off, "
				        "role=user|admin)",
				        argv[i], v);
		} else if (argv[i][0] != '-' && address == NULL) {
			address = argv[i];
			targets++;
		} else {
			return cli_fail("user set: unexpected '%s' (see tern user --help)",
			                argv[i]);
		}
	}
	if (targets != 1)
		return cli_fail("user set: give one of ADDRESS, --from-file FILE, --domain DOMAIN, "
		                "--all");
	bool any_access = c.role != NULL || c.referral != NULL;
	for (int p = 0; p < AUTH_PROTO_COUNT; p++)
		any_access = any_access || c.enabled[p] >= 0;
	if (!any_access && qc.which == 0)
		return cli_fail("user set: nothing to set (e.g. imap=off, --quota-storage 2g)");
	size_t changed = 0, missing = 0, n = 1;
	enum auth_error err;
	char **v = NULL;
	const char *one[1] = {address};
	const char *const *list = NULL;
	int rc = 0;
	if (file != NULL && (v = read_addresses(file, &n)) == NULL)
		return cli_fail("%s: %s", file, strerror(errno));
	if (address != NULL || file != NULL)
		list = v != NULL ? (const char *const *)v : one;
	if (any_access && list != NULL)
		rc = auth_access_set_addresses(db, list, n, &c, &changed, report_missing, &missing,
		                               &err);
	else if (any_access)
		rc = auth_access_set_domain(db, all ? NULL : domain, &c, &changed, &err);
	struct targets t = {0};
	size_t quota_failed = 0;
	if (rc == 0 && qc.which != 0) {
		/* Without an access change nobody has reported unknown
		   addresses yet. */
		for (size_t i = 0; !any_access && list != NULL && i < n; i++) {
			struct auth_account a;
			if (auth_account_lookup(db, list[i], &a, &err) == 0)
				auth_account_clear(&a);
			else if (err == AUTH_ERR_NOTFOUND)
				report_missing(list[i], &missing);
		}
		rc = targets_find(db, list, n, all ? NULL : domain, &t, &err);
		if (rc == 0)
			quota_failed = (size_t)cli_quota_apply(data_dir, conf, t.ids,
			                                       (const char *const *)t.addresses,
			                                       t.n, &qc, NULL);
		if (!any_access)
			changed = t.n - quota_failed;
	}
	targets_free(&t);
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
	if (rc < 0)
		return cli_fail("%s", auth_error_str(err));
	if (address != NULL && missing > 0)
		return 1; /* "no such account" already said */
	if (address != NULL && quota_failed > 0)
		return 1;
	if (address != NULL) {
		printf("Updated %s:", address);
		for (int p = 0; p < AUTH_PROTO_COUNT; p++)
			if (c.enabled[p] >= 0)
				printf(" %s=%s", auth_protocol_name((enum auth_protocol)p),
				       onoff(c.enabled[p]));
		printf("%s%s", c.role != NULL ? " role=" : "", c.role != NULL ? c.role : "");
		if (c.referral != NULL)
			printf(" referral=%s", c.referral[0] ? c.referral : "none");
		if (qc.which & STORE_QUOTA_STORAGE)
			printf(" quota-storage=%llu", (unsigned long long)qc.limits.storage_limit);
		if (qc.which & STORE_QUOTA_MESSAGES)
			printf(" quota-messages=%llu",
			       (unsigned long long)qc.limits.messages_limit);
		if (qc.which & STORE_QUOTA_MAILBOXES)
			printf(" quota-mailboxes=%llu",
			       (unsigned long long)qc.limits.mailboxes_limit);
		printf("\n");
	}
	if (address == NULL)
		printf("%zu account%s updated%s", changed, changed == 1 ? "" : "s",
		       missing ? "" : "\n");
	if (missing > 0)
		printf(", %zu not found\n", missing);
	return missing > 0 || quota_failed > 0 ? 1 : 0;
}

/* ---- app passwords ---- */

static int
cmd_app_password(struct auth_db *db, int argc, char **argv)
{
	enum auth_error err;

	if (argc >= 3 && strcmp(argv[0], "add") == 0) {
		unsigned mask = AUTH_PROTO_ALL;
		if (argc == 5 && strcmp(argv[3], "--protocols") == 0) {
			if (auth_protocols_parse(argv[4], &mask) < 0)
				return cli_fail("--protocols: a list of imap, pop3, smtp");
		} else if (argc != 3) {
			return cli_fail("user app-password add ADDRESS NAME [--protocols LIST]");
		}
		char *plain;
		if (auth_app_password_create(db, argv[1], argv[2], mask, &plain, &err) < 0)
			return err == AUTH_ERR_EXISTS
			               ? cli_fail("%s: an app password named '%s' exists", argv[1],
			                          argv[2])
			       : err == AUTH_ERR_INVALID
			               ? cli_fail(
			                         "app password names are letters, digits, '.', '_', '-'")
			               : cli_fail("%s: %s", argv[1], auth_error_str(err));
		printf("%s\napp password '%s': %s\n", argv[1], argv[2], plain);
		explicit_bzero(plain, strlen(plain));
		free(plain);
		return 0;
	}
	if (argc == 2 && strcmp(argv[0], "list") == 0) {
		struct auth_account a;
		struct auth_app_password *apps = NULL;
		size_t n = 0;
		char when[64], protos[64];
		if (auth_account_lookup(db, argv[1], &a, &err) < 0)
			return cli_fail("%s: %s", argv[1], auth_error_str(err));
		int rc = auth_app_password_list(db, a.id, &apps, &n, &err);
		auth_account_clear(&a);
		if (rc < 0)
			return cli_fail("%s", auth_error_str(err));
		for (size_t i = 0; i < n; i++) {
			time_t t = (time_t)apps[i].created;
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
			auth_protocols_str(apps[i].protocols, protos, sizeof(protos));
			printf("%-20s %-15s %s\n", apps[i].name, protos, when);
		}
		auth_app_passwords_free(&apps, n);
		return 0;
	}
	if (argc == 3 && strcmp(argv[0], "del") == 0) {
		if (auth_app_password_delete(db, argv[1], argv[2], &err) < 0)
			return err == AUTH_ERR_NOTFOUND ? cli_fail("%s: no app password named '%s'",
			                                           argv[1], argv[2])
			                                : cli_fail("%s", auth_error_str(err));
		printf("%s: app password '%s' revoked\n", argv[1], argv[2]);
		return 0;
	}
	return cli_fail("user app-password add|list|del ... (see tern user --help)");
}

/* `tern user VERB --help`: each action's own text. */
static const struct {
	const char *verb, *usage;
} verb_usage[] = {
        {"add", "user add ADDRESS [--password-stdin]\n"
                "  Create an account. Without --password-stdin the password is asked for on\n"
                "  a terminal, or else generated and printed."},
        {"del", "user del ADDRESS\n  Delete an account; a running server ends its sessions."},
        {"list", "user list [--disabled PROTO] [--search TEXT] [--domain DOMAIN]\n"
                 "  List accounts in address order: only those with PROTO (imap, pop3, smtp)\n"
                 "  off, whose address contains TEXT, or in DOMAIN. The admin API pages\n"
                 "  through the same query."},
        {"passwd", "user passwd ADDRESS [--password-stdin]\n"
                   "  Set a new password (and every key derived from it)."},
        {"show", "user show ADDRESS\n"
                 "  Show an account: id, role, protocol switches (and whether this server\n"
                 "  runs that protocol at all), credentials, quota and usage, app passwords."},
        {"set", "user set TARGET SETTING...\n"
                "  TARGET:  ADDRESS | --from-file FILE (one address a line) |\n"
                "           --domain DOMAIN | --all\n"
                "  SETTING: imap=on|off pop3=on|off smtp=on|off role=user|admin\n"
                "           --quota-storage SIZE|none (k, m, g, t suffixes)\n"
                "           --quota-messages N|none --quota-mailboxes N|none\n"
                "           --referral imap://HOST/|none (RFC 2221: IMAP logins get\n"
                "           NO [REFERRAL url]; the account lives on HOST)\n"
                "  A running server closes the sessions of a protocol switched off;\n"
                "  quotas apply at once (RFC 9208; none = no limit)."},
        {"app-password", "user app-password add ADDRESS NAME [--protocols imap,pop3,smtp]\n"
                         "user app-password list ADDRESS\n"
                         "user app-password del ADDRESS NAME\n"
                         "  App passwords: one per device or script, revocable on their own.\n"
                         "  An administrator's app password is also an admin API token."},
        {"quota", "user quota ADDRESS [--storage SIZE|none] [--messages N|none]\n"
                  "           [--mailboxes N|none]\n"
                  "  Show an account's quota and usage, or set its limits (SIZE takes k, m,\n"
                  "  g, t; none = no limit). Applies at once, also to a running server.\n"
                  "  `user set TARGET --quota-storage ...` sets them in bulk."},
        {"import-passwd", "user import-passwd FILE [--domain DOMAIN]\n"
                          "  Import a Dovecot passwd-file (docs/AUTH.md)."},
};

int
cli_user(const char *data_dir, int argc, char **argv)
{
	struct auth_db *db = NULL;
	struct tern_conf conf;
	char *err = NULL;
	enum auth_error aerr;
	int rc;

	if (argc < 1)
		return cli_fail("user: expected add, del, list, passwd, show, set, quota, "
		                "app-password or import-passwd");
	const char *verb = argv[0];
	if (cli_wants_help(argc - 1, argv + 1)) {
		for (size_t i = 0; i < ARRAY_LEN(verb_usage); i++)
			if (strcmp(verb_usage[i].verb, verb) == 0) {
				printf("usage: tern [-d DIR] %s\n", verb_usage[i].usage);
				return 0;
			}
		return cli_fail("user: unknown action '%s'", verb);
	}
	const char *address = argc >= 2 ? argv[1] : NULL;
	bool from_stdin = argc >= 3 && strcmp(argv[2], "--password-stdin") == 0;
	bool simple = strcmp(verb, "add") == 0 || strcmp(verb, "del") == 0 ||
	              strcmp(verb, "passwd") == 0 || strcmp(verb, "show") == 0;
	bool known = simple || strcmp(verb, "list") == 0 || strcmp(verb, "set") == 0 ||
	             strcmp(verb, "app-password") == 0 || strcmp(verb, "import-passwd") == 0 ||
	             strcmp(verb, "quota") == 0;
	if (!known)
		return cli_fail("user: unknown action '%s'", verb);
	if (simple && argc != (from_stdin ? 3 : 2))
		return cli_fail("user %s: wrong arguments (see tern user --help)", verb);
	struct auth_account_query query = {.disabled = -1};
	for (int i = 1; strcmp(verb, "list") == 0 && i < argc; i += 2) {
		if (i + 1 >= argc)
			return cli_fail("user list: %s needs a value (see tern user --help)",
			                argv[i]);
		if (strcmp(argv[i], "--disabled") == 0) {
			if ((query.disabled = auth_protocol_parse(argv[i + 1])) < 0)
				return cli_fail("--disabled: imap, pop3 or smtp");
		} else if (strcmp(argv[i], "--search") == 0) {
			query.search = argv[i + 1];
		} else if (strcmp(argv[i], "--domain") == 0) {
			query.domain = argv[i + 1];
		} else {
			return cli_fail("user list: unexpected '%s' (see tern user --help)",
			                argv[i]);
		}
	}
	if (access(data_dir, F_OK) < 0)
		return cli_fail("%s: no data directory (run tern init %s first)", data_dir,
		                data_dir);
	if (conf_load(data_dir, &conf, &err) < 0) {
		cli_fail("%s", err);
		free(err);
		return 1;
	}
	if (auth_db_open(data_dir, &db, &err) < 0) {
		cli_fail("%s", err);
		free(err);
		conf_free(&conf);
		return 1;
	}
	if (strcmp(verb, "add") == 0) {
		rc = auth_address_is_valid(address)
		             ? set_password(db, &conf, address, true, from_stdin)
		             : cli_fail("'%s' is not a valid address", address);
	} else if (strcmp(verb, "passwd") == 0) {
		rc = set_password(db, &conf, address, false, from_stdin);
	} else if (strcmp(verb, "del") == 0) {
		rc = auth_account_delete(db, address, &aerr) == 0
		             ? (printf("Deleted %s\n", address), 0)
		             : cli_fail("%s: %s", address, auth_error_str(aerr));
	} else if (strcmp(verb, "show") == 0) {
		rc = show(db, data_dir, &conf, address);
	} else if (strcmp(verb, "set") == 0) {
		rc = cmd_set(db, data_dir, &conf, argc - 1, argv + 1);
	} else if (strcmp(verb, "app-password") == 0) {
		rc = cmd_app_password(db, argc - 1, argv + 1);
	} else if (strcmp(verb, "quota") == 0) {
		rc = cli_quota(data_dir, &conf, db, argc - 1, argv + 1);
	} else if (strcmp(verb, "import-passwd") == 0) {
		rc = cli_import_passwd(db, &conf, argc - 1, argv + 1);
	} else {
		uint64_t total;
		rc = auth_account_page(db, &query, print_row, NULL, &total, &aerr) == 0
		             ? 0
		             : cli_fail("%s", auth_error_str(aerr));
	}
	auth_db_close(&db);
	conf_free(&conf);
	return rc;
}
