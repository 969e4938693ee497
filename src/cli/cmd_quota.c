/* SPDX-License-Identifier: MIT */
/*
 * cmd_quota.c: quotas from the command line. One engine for both forms:
 * `tern user set TARGET --quota-storage SIZE --quota-messages N
 * --quota-mailboxes N` (one account, --from-file, --domain, --all) and
 * `tern user quota ADDRESS [--storage ...]`, which also prints limits and
 * usage (new accounts get store.quota_* from tern.conf); `tern user show`
 * prints the same lines. The limits live in each account's index.db
 * (store_quota_limits_set), which a running server reads on every check,
 * so a change applies at once (RFC 9208 resources: docs/ADMIN.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "cli/cli.h"
#include "cli/conf.h"
#include "lib/util.h"
#include "store/store.h"

/* "none" or 0 = no limit; k, m, g suffixes are powers of 1024. */
static bool
parse_limit(const char *s, bool is_size, uint64_t *out)
{
	uint64_t mult = 1, n;
	size_t len = strlen(s);

	if (strcmp(s, "none") == 0) {
		*out = 0;
		return true;
	}
	char *copy = xstrdup(s);
	if (is_size && len > 1) {
		char u = copy[len - 1];
		mult = u == 'k' || u == 'K'   ? 1024ull
		       : u == 'm' || u == 'M' ? 1024ull * 1024
		       : u == 'g' || u == 'G' ? 1024ull * 1024 * 1024
		       : u == 't' || u == 'T' ? 1024ull * 1024 * 1024 * 1024
		                              : 1;
		if (mult > 1)
			copy[len - 1] = '\0';
	}
	bool ok = str_to_u64(copy, UINT64_MAX / mult, &n);
	free(copy);
	*out = n * mult;
	return ok;
}

static void
print_amount(uint64_t v, bool is_size)
{
	if (!is_size || v < 1024)
		printf("%llu%s", (unsigned long long)v, is_size ? " bytes" : "");
	else if (v < 1024ull * 1024)
		printf("%.1f KiB", (double)v / 1024);
	else if (v < 1024ull * 1024 * 1024)
		printf("%.1f MiB", (double)v / (1024.0 * 1024));
	else
		printf("%.2f GiB", (double)v / (1024.0 * 1024 * 1024));
}

void
cli_quota_print(const struct store_quota *q, bool with_mailboxes)
{
	printf("storage: ");
	print_amount(q->storage_used, true);
	printf(" of ");
	if (q->storage_limit == 0)
		printf("no limit");
	else
		print_amount(q->storage_limit, true);
	printf("\nmessages: %llu of ", (unsigned long long)q->messages_used);
	if (q->messages_limit == 0)
		printf("no limit\n");
	else
		printf("%llu\n", (unsigned long long)q->messages_limit);
	if (q->mailboxes_limit != 0)
		printf("mailboxes: %llu of %llu\n", (unsigned long long)q->mailboxes_used,
		       (unsigned long long)q->mailboxes_limit);
	else if (with_mailboxes)
		printf("mailboxes: %llu of no limit\n", (unsigned long long)q->mailboxes_used);
}

int
cli_quota_read(const char *data_dir, const struct tern_conf *conf, uint64_t account_id,
               struct store_quota *out)
{
	struct store *store = NULL;
	struct store_account *acct = NULL;
	enum store_error err;
	int rc = -1;

	if (store_open(data_dir, &conf->store, &store, &err) == 0 &&
	    store_account_open(store, account_id, &acct, &err) == 0)
		rc = store_quota_get(acct, out, &err);
	store_account_close(&acct);
	store_close(&store);
	return rc;
}

int
cli_quota_option(int argc, char **argv, int *i, const char *prefix, struct cli_quota_change *c)
{
	static const struct {
		const char *name;
		unsigned bit;
	} options[] = {{"storage", STORE_QUOTA_STORAGE},
	               {"messages", STORE_QUOTA_MESSAGES},
	               {"mailboxes", STORE_QUOTA_MAILBOXES}};
	size_t plen = strlen(prefix);
	const char *opt = argv[*i];

	if (strncmp(opt, prefix, plen) != 0)
		return 0;
	for (size_t k = 0; k < ARRAY_LEN(options); k++) {
		if (strcmp(opt + plen, options[k].name) != 0)
			continue;
		bool is_size = options[k].bit == STORE_QUOTA_STORAGE;
		uint64_t v;
		if (*i + 1 >= argc || !parse_limit(argv[*i + 1], is_size, &v)) {
			cli_fail("%s: expected a number%s or none", opt,
			         is_size ? " (k, m, g, t suffixes)" : "");
			return -1;
		}
		c->which |= options[k].bit;
		if (is_size)
			c->limits.storage_limit = v;
		else if (options[k].bit == STORE_QUOTA_MESSAGES)
			c->limits.messages_limit = v;
		else
			c->limits.mailboxes_limit = v;
		*i += 1;
		return 1;
	}
	return 0;
}

int
cli_quota_apply(const char *data_dir, const struct tern_conf *conf, const uint64_t *ids,
                const char *const *addresses, size_t n, const struct cli_quota_change *c,
                struct store_quota *last_out)
{
	struct store *store = NULL;
	enum store_error err;
	int failed = 0;

	if (store_open(data_dir, &conf->store, &store, &err) < 0) {
		cli_fail("the mail store: %s", store_error_str(err));
		return (int)n;
	}
	for (size_t i = 0; i < n; i++) {
		struct store_account *acct = NULL;
		struct store_quota q = c->limits;
		if (store_account_open(store, ids[i], &acct, &err) < 0 ||
		    store_quota_limits_set(acct, c->which, &q, &err) < 0) {
			cli_fail("%s: the mail store: %s", addresses[i], store_error_str(err));
			failed++;
		} else if (last_out != NULL) {
			*last_out = q;
		}
		store_account_close(&acct);
	}
	store_close(&store);
	return failed;
}

int
cli_quota(const char *data_dir, const struct tern_conf *conf, struct auth_db *db, int argc,
          char **argv)
{
	struct cli_quota_change c = {0};
	struct auth_account a;
	enum auth_error aerr;
	struct store_quota q;
	int rc;

	if (argc < 1)
		return cli_fail("user quota ADDRESS [--storage SIZE|none] [--messages N|none] "
		                "[--mailboxes N|none]");
	for (int i = 1; i < argc; i++) {
		int got = cli_quota_option(argc, argv, &i, "--", &c);
		if (got < 0)
			return 1;
		if (got == 0)
			return cli_fail("user quota: unexpected '%s' (see tern user quota --help)",
			                argv[i]);
	}
	if (auth_account_lookup(db, argv[0], &a, &aerr) < 0)
		return cli_fail("%s: %s", argv[0], auth_error_str(aerr));
	if (c.which != 0) {
		const char *addr = a.address;
		rc = cli_quota_apply(data_dir, conf, &a.id, &addr, 1, &c, &q) == 0 ? 0 : 1;
		if (rc == 0)
			printf("Updated %s's quota\n", a.address);
	} else {
		rc = cli_quota_read(data_dir, conf, a.id, &q) == 0
		             ? 0
		             : cli_fail("%s: the mail store cannot be read", a.address);
	}
	if (rc == 0)
		cli_quota_print(&q, false);
	auth_account_clear(&a);
	return rc;
}
