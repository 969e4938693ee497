/* SPDX-License-Identifier: MIT */
/*
 * cmd_import.c: `tern user import-passwd FILE [--domain DOMAIN]`: accounts
 * from a Dovecot passwd-file (user:password:uid:gid:gecos:home:shell:extra).
 * Only the first two fields matter here; a user without '@' gets --domain.
 *
 * Password schemes taken as they are: {SHA512-CRYPT}, {SHA256-CRYPT},
 * {BLF-CRYPT}, {MD5-CRYPT}, {CRYPT} and bare "$..." crypt strings (verified by
 * libxcrypt; upgraded to yescrypt plus SCRAM keys at the first login),
 * {SCRAM-SHA-1} and {SCRAM-SHA-256} (Dovecot's "iter,salt,stored,server" is
 * our format), {CRAM-MD5} (the same midstates). {PLAIN}/{CLEAR} passwords
 * are hashed at once and never stored. Anything else (MD5, SSHA, ...) is
 * reported and skipped: those hashes are too weak to keep.
 *
 * An existing account gets the imported credentials. One transaction for
 * the whole file: a failure changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/accounts.h"
#include "auth/password.h"
#include "cli/cli.h"
#include "cli/conf.h"
#include "lib/util.h"

enum import_outcome { IMPORT_ADDED, IMPORT_UPDATED, IMPORT_SKIPPED, IMPORT_FAILED };

static bool
crypt_scheme(const char *s)
{
	static const char *const names[] = {"SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT",
	                                    "MD5-CRYPT", "CRYPT"};

	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (strcasecmp(s, names[i]) == 0)
			return true;
	return false;
}

static enum import_outcome
import_line(struct auth_db *db, const struct tern_conf *conf, const char *domain, char *line,
            unsigned lineno, const char *path)
{
	char *colon = strchr(line, ':');
	if (colon == NULL) {
		fprintf(stderr, "tern: %s:%u: no ':' after the user name\n", path, lineno);
		return IMPORT_SKIPPED;
	}
	*colon = '\0';
	char *pw = colon + 1;
	pw[strcspn(pw, ":")] = '\0';
	char *address = strchr(line, '@') != NULL || domain == NULL
	                        ? xstrdup(line)
	                        : xasprintf("%s@%s", line, domain);
	struct auth_credentials cred = {0};
	enum import_outcome out = IMPORT_SKIPPED;
	const char *why = NULL;
	char *scheme = NULL, *data = pw;

	if (!auth_address_is_valid(address)) {
		why = strchr(line, '@') == NULL ? "no domain (use --domain)" : "invalid address";
		goto done;
	}
	if (pw[0] == '{') {
		char *end = strchr(pw, '}');
		if (end == NULL) {
			why = "unterminated {SCHEME}";
			goto done;
		}
		scheme = xstrndup(pw + 1, (size_t)(end - pw - 1));
		data = end + 1;
	}
	if (scheme == NULL || crypt_scheme(scheme)) {
		if (!auth_password_hash_is_supported(data)) {
			why = "unsupported crypt hash";
			goto done;
		}
		cred.password = xstrdup(data);
	} else if (strcasecmp(scheme, "PLAIN") == 0 || strcasecmp(scheme, "CLEAR") == 0 ||
	           strcasecmp(scheme, "CLEARTEXT") == 0) {
		if (cli_make_credentials(conf, address, data, &cred) != 0) {
			why = "cannot derive credentials";
			goto done;
		}
	} else if (strcasecmp(scheme, "SCRAM-SHA-1") == 0 ||
	           strcasecmp(scheme, "SCRAM-SHA-256") == 0) {
		bool sha256 = strcasecmp(scheme, "SCRAM-SHA-256") == 0;
		struct auth_scram_keys k;
		if (auth_scram_keys_parse(data, sha256, &k) < 0) {
			why = "malformed SCRAM keys";
			goto done;
		}
		cred.password = xstrdup("*"); /* no password hash: SCRAM only */
		if (sha256)
			cred.scram_sha256 = xstrdup(data);
		else
			cred.scram_sha1 = xstrdup(data);
	} else if (strcasecmp(scheme, "CRAM-MD5") == 0) {
		if (strlen(data) != 64 || strspn(data, "0123456789abcdefABCDEF") != 64) {
			why = "malformed CRAM-MD5 key";
			goto done;
		}
		cred.password = xstrdup("*");
		cred.cram_md5 = xstrdup(data);
	} else {
		why = "scheme not supported (too weak to keep; reset the password)";
		goto done;
	}
	enum auth_error err;
	if (auth_account_add_credentials(db, address, &cred, NULL, &err) == 0) {
		out = IMPORT_ADDED;
	} else if (err == AUTH_ERR_EXISTS &&
	           auth_account_set_credentials(db, address, &cred, &err) == 0) {
		out = IMPORT_UPDATED;
	} else {
		fprintf(stderr, "tern: %s:%u: %s: %s\n", path, lineno, address,
		        auth_error_str(err));
		out = IMPORT_FAILED;
	}
done:
	if (why != NULL)
		fprintf(stderr, "tern: %s:%u: %s: skipped: %s%s%s%s\n", path, lineno, address, why,
		        scheme != NULL ? " {" : "", scheme != NULL ? scheme : "",
		        scheme != NULL ? "}" : "");
	explicit_bzero(pw, strlen(pw));
	auth_credentials_clear(&cred);
	free(scheme);
	free(address);
	return out;
}

int
cli_import_passwd(struct auth_db *db, const struct tern_conf *conf, int argc, char **argv)
{
	const char *path = NULL, *domain = NULL;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--domain") == 0 && i + 1 < argc)
			domain = argv[++i];
		else if (argv[i][0] != '-' && path == NULL)
			path = argv[i];
		else
			return cli_fail("user import-passwd FILE [--domain DOMAIN]");
	}
	if (path == NULL)
		return cli_fail("user import-passwd FILE [--domain DOMAIN]");
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return cli_fail("%s: %s", path, strerror(errno));
	size_t counts[4] = {0};
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	if (auth_db_begin(db) < 0) {
		fclose(f);
		return cli_fail("cannot start a transaction (see the log)");
	}
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		counts[import_line(db, conf, domain, line, lineno, path)]++;
	}
	if (line != NULL)
		explicit_bzero(line, cap);
	free(line);
	fclose(f);
	if (counts[IMPORT_FAILED] > 0) {
		auth_db_rollback(db);
		return cli_fail("%zu accounts failed; nothing imported", counts[IMPORT_FAILED]);
	}
	if (auth_db_commit(db) < 0)
		return cli_fail("commit failed; nothing imported");
	printf("%zu added, %zu updated, %zu skipped\n", counts[IMPORT_ADDED],
	       counts[IMPORT_UPDATED], counts[IMPORT_SKIPPED]);
	return counts[IMPORT_SKIPPED] > 0 ? 1 : 0;
}
