/* SPDX-License-Identifier: MIT */
/* test_auth_aliases.c: tests for src/auth/aliases.c: the aliases table,
   recipient resolution (accounts, aliases, lists, nesting and loops,
   sub-addresses, catch-all) and sender ownership. */
#include <stdlib.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "auth/aliases.h"
#include "lib/util.h"
#include "test.h"

static struct auth_db *db;
static uint64_t alice, bob, carol;

/* The resolved account ids of address, sorted into a string like "1,3";
   "none" for NOTFOUND. */
static const char *
resolve(const char *address, const char *sep)
{
	static char out[1024];
	struct auth_recipient *v;
	size_t n;
	enum auth_error err;

	if (auth_recipient_resolve(db, address, sep, &v, &n, &err) < 0)
		return err == AUTH_ERR_NOTFOUND ? "none" : "error";
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char one[300];
		snprintf(one, sizeof(one), "%s%llu%s%s", i ? "," : "",
		         (unsigned long long)v[i].account_id, v[i].folder[0] ? "/" : "",
		         v[i].folder);
		strcat(out, one);
	}
	free(v);
	return out;
}

static void
test_alias_table(void)
{
	enum auth_error err;
	struct auth_alias *v;
	size_t n;

	test_int_eq(-1, auth_alias_add(db, "Sales@Example.org", "alice@example.org", &err), 0);
	test_int_eq(-1, auth_alias_add(db, "sales@example.org", "ALICE@example.org", &err), -1);
	test_int_eq(-1, err, AUTH_ERR_EXISTS);
	test_int_eq(-1, auth_alias_add(db, "sales@example.org", "bob@example.org", &err), 0);
	test_int_eq(-1, auth_alias_add(db, "x@example.org", "x@example.org", &err), -1);
	test_int_eq(-1, err, AUTH_ERR_INVALID);
	test_int_eq(-1, auth_alias_add(db, "bad alias", "bob@example.org", &err), -1);
	test_int_eq(-1, auth_alias_list(db, "sales@example.org", &v, &n, &err), 0);
	test_int_eq(-1, n, 2);
	test_str_eq(-1, v[0].target, "alice@example.org");
	auth_aliases_free(&v, n);
	test_int_eq(-1, auth_alias_delete(db, "sales@example.org", "bob@example.org", &err), 0);
	test_int_eq(-1, auth_alias_delete(db, "sales@example.org", "bob@example.org", &err), -1);
	test_int_eq(-1, err, AUTH_ERR_NOTFOUND);
	test_int_eq(-1, auth_alias_add(db, "sales@example.org", "bob@example.org", &err), 0);
}

static void
test_resolution(void)
{
	enum auth_error err;
	char want[64];

	snprintf(want, sizeof(want), "%llu", (unsigned long long)alice);
	test_str_eq(-1, resolve("ALICE@example.org", "+"), want);
	snprintf(want, sizeof(want), "%llu,%llu", (unsigned long long)alice,
	         (unsigned long long)bob);
	test_str_eq(-1, resolve("sales@example.org", "+"), want);
	/* A list naming a list and an account twice: each account once. */
	auth_alias_add(db, "all@example.org", "sales@example.org", &err);
	auth_alias_add(db, "all@example.org", "alice@example.org", &err);
	auth_alias_add(db, "all@example.org", "carol@example.org", &err);
	auth_alias_add(db, "all@example.org", "gone@example.org", &err); /* skipped */
	/* Targets in address order, each expanded where it stands. */
	snprintf(want, sizeof(want), "%llu,%llu,%llu", (unsigned long long)alice,
	         (unsigned long long)carol, (unsigned long long)bob);
	test_str_eq(-1, resolve("all@example.org", "+"), want);
	/* A loop ends at the depth limit without finding anyone. */
	auth_alias_add(db, "loop1@example.org", "loop2@example.org", &err);
	auth_alias_add(db, "loop2@example.org", "loop1@example.org", &err);
	test_str_eq(-1, resolve("loop1@example.org", "+"), "none");
	/* Sub-addressing: the tag is kept as the folder. */
	snprintf(want, sizeof(want), "%llu/lists", (unsigned long long)alice);
	test_str_eq(-1, resolve("alice+lists@example.org", "+"), want);
	test_str_eq(-1, resolve("alice+lists@example.org", ""), "none");
	test_str_eq(-1, resolve("alice-lists@example.org", "-"), want);
	test_str_eq(-1, resolve("+x@example.org", "+"), "none");
	test_str_eq(-1, resolve("nobody@example.org", "+"), "none");
	/* The catch-all, off until added, for unknown addresses only. */
	test_int_eq(-1, auth_alias_add(db, "@example.org", "carol@example.org", &err), 0);
	snprintf(want, sizeof(want), "%llu", (unsigned long long)carol);
	test_str_eq(-1, resolve("nobody@example.org", "+"), want);
	snprintf(want, sizeof(want), "%llu", (unsigned long long)alice);
	test_str_eq(-1, resolve("alice@example.org", "+"), want);
	test_str_eq(-1, resolve("nobody@other.example", "+"), "none");
	test_int_eq(-1, auth_alias_delete(db, "@example.org", NULL, &err), 0);
	test_str_eq(-1, resolve("nobody@example.org", "+"), "none");
}

static void
test_sender_ownership(void)
{
	static const struct {
		const char *address;
		uint64_t *who;
		bool owned;
	} cases[] = {
	        {"alice@example.org", &alice, true},
	        {"Alice@Example.ORG", &alice, true},
	        {"alice+news@example.org", &alice, true},
	        {"sales@example.org", &alice, true}, /* a list she is on */
	        {"sales@example.org", &carol, false},
	        {"bob@example.org", &alice, false},
	        {"nobody@example.org", &alice, false},
	};
	enum auth_error err;

	auth_alias_add(db, "@example.org", "alice@example.org", &err);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		bool owned = !cases[i].owned;
		test_int_eq(
		        i,
		        auth_address_owned(db, *cases[i].who, cases[i].address, "+", &owned, &err),
		        0);
		/* The catch-all never makes an address the sender's own. */
		test_int_eq(i, owned, cases[i].owned);
	}
	auth_alias_delete(db, "@example.org", NULL, &err);
}

int
main(void)
{
	char dir[] = "/tmp/tern-aliases-XXXXXX";
	char *error = NULL;
	enum auth_error err;

	if (mkdtemp(dir) == NULL || auth_db_open(dir, &db, &error) < 0 ||
	    auth_account_add(db, "alice@example.org", "$y$h", &alice, &err) < 0 ||
	    auth_account_add(db, "bob@example.org", "$y$h", &bob, &err) < 0 ||
	    auth_account_add(db, "carol@example.org", "$y$h", &carol, &err) < 0) {
		printf("setup failed: %s\n", error ? error : "?");
		return 1;
	}
	TEST_RUN(test_alias_table);
	TEST_RUN(test_resolution);
	TEST_RUN(test_sender_ownership);
	auth_db_close(&db);
	char *cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("cleanup failed\n");
	free(cmd);
	return TEST_DONE("test_auth_aliases");
}
