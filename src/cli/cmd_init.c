/* SPDX-License-Identifier: MIT */
/*
 * cmd_init.c: `tern init DIR`: a data directory a server can run from at once.
 * Creates DIR (refusing to touch an existing tern.conf), writes tern.conf,
 * a self-signed certificate, accounts.db with a test account, and prints the
 * account's password and the client settings. The password is shown once and
 * stored only as a hash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "auth/accounts.h"
#include "auth/password.h"
#include "cli/cli.h"
#include "cli/conf.h"
#include "lib/util.h"
#include "net/tls.h"

char *
cli_random_password(int n)
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	unsigned char rnd[64];
	char *p = xmalloc((size_t)n + 1);

	if (n > (int)sizeof(rnd) || RAND_bytes(rnd, n) != 1)
		abort();
	for (int i = 0; i < n; i++)
		p[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
	p[n] = '\0';
	return p;
}

char *
cli_random_hex(int n)
{
	unsigned char rnd[64];
	char *p = xmalloc((size_t)n * 2 + 1);

	if (n > (int)sizeof(rnd) || RAND_bytes(rnd, n) != 1)
		abort();
	for (int i = 0; i < n; i++)
		snprintf(p + 2 * i, 3, "%02x", rnd[i]);
	explicit_bzero(rnd, sizeof(rnd));
	return p;
}

static int
write_conf(const char *dir, const char *hostname, const char *domain, uint64_t port_base)
{
	char *path = xasprintf("%s/tern.conf", dir);
	FILE *f = fopen(path, "wx");

	if (f == NULL) {
		int rc = cli_fail("%s: %s", path, strerror(errno));
		free(path);
		return rc;
	}
	fprintf(f,
	        "# tern.conf: written by `tern init`. Every key and its default is in\n"
	        "# docs/CONFIG.md (`tern config-keys`). Reload with SIGHUP.\n\n"
	        "[server]\n"
	        "hostname = %s\n"
	        "domain = %s\n"
	        "listen = 127.0.0.1\n"
	        "# Ports are port_base + the standard port (143, 993, ...).\n"
	        "port_base = %llu\n\n"
	        "[tls]\n"
	        "cert = tls/cert.pem\n"
	        "key = tls/key.pem\n\n"
	        "[auth]\n"
	        "# never | loopback | always\n"
	        "plaintext = loopback\n",
	        hostname, domain, (unsigned long long)port_base);
	int rc = fclose(f) == 0 ? 0 : cli_fail("%s: %s", path, strerror(errno));
	free(path);
	return rc;
}

int
cli_init(const char *data_dir, int argc, char **argv)
{
	const char *dir = NULL, *hostname = "localhost", *domain = "localhost";
	uint64_t port_base = 10000;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--port-base") == 0 && i + 1 < argc) {
			if (!str_to_u64(argv[++i], 60000, &port_base))
				return cli_fail("--port-base: expected a number up to 60000");
		} else if (strcmp(argv[i], "--hostname") == 0 && i + 1 < argc) {
			hostname = argv[++i];
		} else if (strcmp(argv[i], "--domain") == 0 && i + 1 < argc) {
			domain = argv[++i];
		} else if (argv[i][0] == '-') {
			return cli_fail("init: unknown option '%s'", argv[i]);
		} else if (dir == NULL) {
			dir = argv[i];
		} else {
			return cli_fail("init: one directory only");
		}
	}
	if (dir == NULL)
		dir = data_dir;
	if (strspn(hostname, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
	            strlen(hostname) ||
	    hostname[0] == '\0')
		return cli_fail("init: bad hostname '%s'", hostname);
	char *address = xasprintf("test@%s", domain);
	if (!auth_address_is_valid(address)) {
		free(address);
		return cli_fail("init: bad domain '%s'", domain);
	}
	char *existing = xasprintf("%s/tern.conf", dir);
	bool exists = access(existing, F_OK) == 0;
	free(existing);
	if (exists) {
		free(address);
		return cli_fail("%s already holds a tern.conf (left as it is). Start it with\n"
		                "  %s -d %s serve\nor give init another directory (or remove %s).",
		                dir, cli_program, dir, dir);
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		free(address);
		return cli_fail("%s: %s", dir, strerror(errno));
	}
	if (write_conf(dir, hostname, domain, port_base) != 0) {
		free(address);
		return 1;
	}
	char *tls_dir = xasprintf("%s/tls", dir);
	char *cert = xasprintf("%s/cert.pem", tls_dir), *key = xasprintf("%s/key.pem", tls_dir);
	char *err = NULL;
	int rc = 1;
	struct auth_db *db = NULL;
	char *password = cli_random_password(16);
	struct auth_credentials cred = {0};
	struct tern_conf conf;
	bool conf_loaded = false;
	enum auth_error aerr;

	if (mkdir(tls_dir, 0750) < 0 && errno != EEXIST) {
		cli_fail("%s: %s", tls_dir, strerror(errno));
		goto out;
	}
	/* The store's root, so `tern check` finds a (clean, empty) store at once. */
	char *accounts_dir = xasprintf("%s/accounts", dir);
	if (mkdir(accounts_dir, 0750) < 0 && errno != EEXIST) {
		cli_fail("%s: %s", accounts_dir, strerror(errno));
		free(accounts_dir);
		goto out;
	}
	free(accounts_dir);
	if (net_tls_write_selfsigned(hostname, cert, key, &err) < 0) {
		cli_fail("%s", err);
		goto out;
	}
	if (auth_db_open(dir, &db, &err) < 0) {
		cli_fail("%s", err);
		goto out;
	}
	if (conf_load(dir, &conf, &err) < 0) {
		cli_fail("%s", err);
		goto out;
	}
	conf_loaded = true;
	if (cli_make_credentials(&conf, address, password, &cred) != 0)
		goto out;
	if (auth_account_add_credentials(db, address, &cred, NULL, &aerr) < 0) {
		cli_fail("%s: %s", address, auth_error_str(aerr));
		goto out;
	}
	printf("Created %s\n\n"
	       "Test account (the password is shown only now):\n"
	       "  user:     %s\n"
	       "  password: %s\n\n"
	       "Client settings (self-signed certificate: accept it once, or use\n"
	       "%s as the trusted CA):\n"
	       "  IMAP:        host 127.0.0.1, port %llu, STARTTLS\n"
	       "  IMAPS:       host 127.0.0.1, port %llu, TLS\n"
	       "  POP3:        host 127.0.0.1, port %llu, STARTTLS (STLS)\n"
	       "  POP3S:       host 127.0.0.1, port %llu, TLS\n"
	       "  Submission:  host 127.0.0.1, port %llu, STARTTLS, password login\n"
	       "  Submissions: host 127.0.0.1, port %llu, TLS, password login\n"
	       "  SMTP (MX):   127.0.0.1:%llu, mail for %s (no relay)\n"
	       "  LMTP:        127.0.0.1:%llu (from Postfix or Exim)\n"
	       "  HTTP:        http://127.0.0.1:%llu/ and https://127.0.0.1:%llu/ (autoconfiguration,\n"
	       "               /metrics; the admin page /admin for an account with role=admin)\n\n"
	       "Start it with:  %s -d %s serve\n"
	       "Try it with:    openssl s_client -connect 127.0.0.1:%llu -quiet\n"
	       "Send mail with: swaks --server 127.0.0.1:%llu --to %s\n",
	       dir, address, password, cert, (unsigned long long)port_base + 143,
	       (unsigned long long)port_base + 993, (unsigned long long)port_base + 110,
	       (unsigned long long)port_base + 995, (unsigned long long)port_base + 587,
	       (unsigned long long)port_base + 465, (unsigned long long)port_base + 25, domain,
	       (unsigned long long)port_base + 24, (unsigned long long)port_base + 80,
	       (unsigned long long)port_base + 443, cli_program, dir,
	       (unsigned long long)port_base + 993, (unsigned long long)port_base + 25, address);
	rc = 0;
out:
	free(err);
	auth_db_close(&db);
	explicit_bzero(password, strlen(password));
	free(password);
	auth_credentials_clear(&cred);
	if (conf_loaded)
		conf_free(&conf);
	free(address);
	free(tls_dir);
	free(cert);
	free(key);
	return rc;
}
