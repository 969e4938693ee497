/* SPDX-License-Identifier: MIT */
/*
 * cmd_acl.c: `tern acl get|set|del|create OWNER MAILBOX ...`: an
 * administrator's view of the IMAP ACLs (RFC 4314) kept in each owner's
 * store. OWNER is an account address, or --shared for the server-owned
 * account behind the "Shared/" namespace; MAILBOX "" is the owner's root,
 * whose ACL new top-level mailboxes inherit (so `acl set --shared ""
 * $staff lrk` lets $staff create public mailboxes). The owner's handle is
 * used, so no rights are checked here: this is the administrator. Safe
 * while the server runs (every rights check reads the ACL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "cli/cli.h"
#include "cli/conf.h"
#include "lib/arena.h"
#include "store/store.h"

/* The store account of OWNER ("--shared" or an address); 0 or 1 (printed). */
static int
owner_id(const char *data_dir, const char *owner, uint64_t *id_out)
{
	struct auth_db *db = NULL;
	struct auth_account a;
	enum auth_error err;
	char *error = NULL;

	if (strcmp(owner, "--shared") == 0) {
		*id_out = STORE_SHARED_ACCOUNT;
		return 0;
	}
	if (auth_db_open(data_dir, &db, &error) < 0) {
		cli_fail("%s", error);
		free(error);
		return 1;
	}
	int rc = auth_account_lookup(db, owner, &a, &err);
	auth_db_close(&db);
	if (rc < 0)
		return cli_fail("%s: %s", owner, auth_error_str(err));
	*id_out = a.id;
	auth_account_clear(&a);
	return 0;
}

static int
acl_print(struct store_account *acct, const char *mailbox)
{
	struct store_acl_entry *v;
	enum store_error err;
	size_t n;
	char rights[16];
	struct arena *a = arena_new(1024);
	int rc = 0;

	if (store_acl_get(acct, mailbox, a, &v, &n, &err) < 0)
		rc = cli_fail("acl get %s: %s", mailbox, store_error_str(err));
	for (size_t i = 0; rc == 0 && i < n; i++)
		printf("%s %s\n", v[i].identifier, store_rights_format(v[i].rights, rights));
	arena_free(&a);
	return rc;
}

int
cli_acl(const char *data_dir, int argc, char **argv)
{
	struct tern_conf conf;
	struct store *store = NULL;
	struct store_account *acct = NULL;
	enum store_error err;
	uint64_t id = 0;
	int rc = 0;

	if (argc < 3)
		return cli_fail("acl: expected get, set, del or create (see tern acl --help)");
	const char *verb = argv[0], *mailbox = argv[2];
	if (!((strcmp(verb, "get") == 0 && argc == 3) || (strcmp(verb, "set") == 0 && argc == 5) ||
	      (strcmp(verb, "del") == 0 && argc == 4) ||
	      (strcmp(verb, "create") == 0 && argc == 3)))
		return cli_fail("acl: bad arguments (see tern acl --help)");
	unsigned rights = 0;
	enum store_rights_mod mod = STORE_RIGHTS_REPLACE;
	char bad;
	if (strcmp(verb, "set") == 0 && store_rights_parse(argv[4], true, &rights, &mod, &bad) < 0)
		return cli_fail("acl set: '%c' is no right (letters of %s, c, d; + or - first)",
		                bad, STORE_RIGHTS_LETTERS);
	if (argc >= 4 && !store_acl_identifier_is_valid(argv[3]))
		return cli_fail("acl: '%s' is no identifier", argv[3]);
	if (owner_id(data_dir, argv[1], &id) != 0)
		return 1;
	char *error = NULL;
	if (conf_load(data_dir, &conf, &error) < 0) {
		cli_fail("%s", error);
		free(error);
		return 1;
	}
	if (store_open(data_dir, &conf.store, &store, &err) < 0 ||
	    store_account_open(store, id, &acct, &err) < 0) {
		rc = cli_fail("the mail store: %s", store_error_str(err));
	} else if (strcmp(verb, "get") == 0) {
		rc = acl_print(acct, mailbox);
	} else if (strcmp(verb, "create") == 0) {
		if (store_mailbox_create(acct, mailbox, 0, &err) < 0)
			rc = cli_fail("acl create %s: %s", mailbox, store_error_str(err));
		else
			printf("created %s%s\n", id == STORE_SHARED_ACCOUNT ? "Shared/" : "",
			       mailbox);
	} else if (store_acl_set(acct, mailbox, argv[3], mod, rights, &err) < 0) {
		rc = cli_fail("acl %s %s %s: %s", verb, mailbox, argv[3], store_error_str(err));
	} else {
		rc = acl_print(acct, mailbox);
	}
	store_account_close(&acct);
	store_close(&store);
	conf_free(&conf);
	return rc;
}
