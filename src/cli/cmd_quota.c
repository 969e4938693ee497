/* SPDX-License-Identifier: MIT */
/*
 * cmd_quota.c: one account's quota from the command line: `tern user quota
 * ADDRESS [--storage SIZE|none] [--messages N|none]` sets the limits (new
 * accounts get store.quota_* from tern.conf) and prints limits and usage;
 * `tern user show` prints the same lines. The limits live in the
 * account's index.db (store_quota_set), which a running server reads on
 * every check, so a change applies at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "cli/cli.h"
#include "cli/conf.h"
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
cli_quota_print(const struct store_quota *q)
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
cli_quota(const char *data_dir, const struct tern_conf *conf, struct auth_db *db, int argc,
          char **argv)
{
	struct auth_account a;
	enum auth_error aerr;
	enum store_error err;
	bool set_storage = false, set_messages = false;
	uint64_t storage = 0, messages = 0;

	if (argc < 1)
		return cli_fail("user quota ADDRESS [--storage SIZE|none] [--messages N|none]");
	for (int i = 1; i < argc; i += 2) {
		bool is_storage = strcmp(argv[i], "--storage") == 0;
		if ((!is_storage && strcmp(argv[i], "--messages") != 0) || i + 1 >= argc)
			return cli_fail("user quota: unexpected '%s' (see tern user quota --help)",
			                argv[i]);
		if (!parse_limit(argv[i + 1], is_storage, is_storage ? &storage : &messages))
			return cli_fail("%s: expected a number%s or none", argv[i],
			                is_storage ? " (k, m, g, t suffixes)" : "");
		*(is_storage ? &set_storage : &set_messages) = true;
	}
	if (auth_account_lookup(db, argv[0], &a, &aerr) < 0)
		return cli_fail("%s: %s", argv[0], auth_error_str(aerr));
	struct store *store = NULL;
	struct store_account *acct = NULL;
	struct store_quota q;
	int rc = 1;
	if (store_open(data_dir, &conf->store, &store, &err) < 0 ||
	    store_account_open(store, a.id, &acct, &err) < 0 ||
	    store_quota_get(acct, &q, &err) < 0) {
		cli_fail("%s: the mail store: %s", a.address, store_error_str(err));
	} else if ((set_storage || set_messages) &&
	           store_quota_set(acct, set_storage ? storage : q.storage_limit,
	                           set_messages ? messages : q.messages_limit, &err) < 0) {
		cli_fail("%s: %s", a.address, store_error_str(err));
	} else {
		if (set_storage || set_messages) {
			printf("Updated %s's quota\n", a.address);
			q.storage_limit = set_storage ? storage : q.storage_limit;
			q.messages_limit = set_messages ? messages : q.messages_limit;
		}
		cli_quota_print(&q);
		rc = 0;
	}
	store_account_close(&acct);
	store_close(&store);
	auth_account_clear(&a);
	return rc;
}
