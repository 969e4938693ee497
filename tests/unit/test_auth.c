/* SPDX-License-Identifier: MIT */
/* test_auth.c: tests for src/auth/password.c and src/auth/accounts.c. */
#include <stdlib.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "auth/password.h"
#include "lib/util.h"
#include "test.h"

static void
test_hash_and_verify_each_scheme(void)
{
	static const struct {
		enum auth_scheme scheme;
		const char *prefix;
	} cases[] = {
		{AUTH_SCHEME_YESCRYPT, "$y$"},
		{AUTH_SCHEME_SHA512_CRYPT, "$6$"},
		{AUTH_SCHEME_BCRYPT, "$2b$"},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *h = auth_password_hash("correct horse", cases[i].scheme);
		test_assert(i, h != NULL && strncmp(h, cases[i].prefix, strlen(cases[i].prefix)) == 0);
		test_assert(i, auth_password_verify(h, "correct horse"));
		test_assert(i, !auth_password_verify(h, "correct horsE"));
		test_assert(i, !auth_password_verify(h, ""));
		free(h);
	}
}

static void
test_imported_hashes_verify(void)
{
	/* Made with Python's crypt.crypt('secret', '$6$saltsalt$') (Dovecot passwd-file
	   style, without the {SHA512-CRYPT} prefix). */
	static const char sha512[] = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDeh"
				     "y0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";

	test_assert(-1, auth_password_verify(sha512, "secret"));
	test_assert(-1, !auth_password_verify(sha512, "Secret"));
}

static void
test_malformed_hashes_never_verify(void)
{
	static const char *const bad[] = {"", "plain", "$", "$y$", "*", "$6$onlysalt", "$9$x$y"};

	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		test_assert(i, !auth_password_verify(bad[i], "plain"));
}

static void
test_address_validation(void)
{
	static const struct {
		const char *addr;
		bool ok;
	} cases[] = {
		{"alice@example.org", true}, {"a.b+c@sub.example.org", true},
		{"test@localhost", true},    {"noat", false},
		{"@example.org", false},     {"alice@", false},
		{"al ice@example.org", false}, {"../x@example.org", false},
		{"a*b@example.org", false},  {"alice@nodot", false},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_int_eq(i, auth_address_is_valid(cases[i].addr), cases[i].ok);
}

static int
count_row(const struct auth_account *a, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_account_lifecycle(void)
{
	char dir[] = "/tmp/tern-test-auth-XXXXXX";
	struct auth_db *db = NULL;
	struct auth_account a;
	enum auth_error err;
	char *error = NULL;
	uint64_t id1 = 0, id2 = 0;

	test_assert(-1, mkdtemp(dir) != NULL);
	test_int_eq(-1, auth_db_open(dir, &db, &error), 0);
	test_int_eq(-1, auth_account_add(db, "Alice@Example.org", "$y$hash1", &id1, &err), 0);
	test_int_eq(-1, auth_account_add(db, "alice@example.org", "$y$hash2", NULL, &err), -1);
	test_int_eq(-1, err, AUTH_ERR_EXISTS);
	test_int_eq(-1, auth_account_add(db, "bad address", "$y$", NULL, &err), -1);
	test_int_eq(-1, err, AUTH_ERR_INVALID);
	test_int_eq(-1, auth_account_lookup(db, "ALICE@example.ORG", &a, &err), 0);
	test_str_eq(-1, a.address, "alice@example.org");
	test_str_eq(-1, a.password, "$y$hash1");
	test_str_eq(-1, a.role, "user");
	test_assert(-1, a.enabled[AUTH_PROTO_IMAP] && a.enabled[AUTH_PROTO_POP3]);
	test_int_eq(-1, a.id, id1);
	auth_account_clear(&a);
	test_int_eq(-1, auth_account_set_password(db, "alice@example.org", "$y$new", &err), 0);
	test_int_eq(-1, auth_account_set_password(db, "ghost@example.org", "$y$new", &err), -1);
	test_int_eq(-1, err, AUTH_ERR_NOTFOUND);
	int rows = 0;
	test_int_eq(-1, auth_account_foreach(db, count_row, &rows, &err), 0);
	test_int_eq(-1, rows, 1);
	test_int_eq(-1, auth_account_delete(db, "alice@example.org", &err), 0);
	test_int_eq(-1, auth_account_lookup(db, "alice@example.org", &a, &err), -1);
	test_int_eq(-1, err, AUTH_ERR_NOTFOUND);
	/* Ids are never reused: the store's directory of a deleted account
	   must not be given to a new one. */
	test_int_eq(-1, auth_account_add(db, "bob@example.org", "$y$h", &id2, &err), 0);
	test_assert(-1, id2 > id1);
	auth_db_close(&db);
	char *cmd = xasprintf("rm -rf %s", dir);
	test_int_eq(-1, system(cmd), 0);
	free(cmd);
	free(error);
}

int
main(void)
{
	TEST_RUN(test_hash_and_verify_each_scheme);
	TEST_RUN(test_imported_hashes_verify);
	TEST_RUN(test_malformed_hashes_never_verify);
	TEST_RUN(test_address_validation);
	TEST_RUN(test_account_lifecycle);
	return TEST_DONE("test_auth");
}
