/* SPDX-License-Identifier: MIT */
/*
 * cmd_alias.c: `tern alias add|del|list`: recipient aliases in accounts.db
 * (auth/aliases.h). An alias may have several targets (a list: one add per
 * target); "@domain" is the domain's catch-all. Safe while the server
 * runs: SMTP and LMTP read aliases at every RCPT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/accounts.h"
#include "auth/aliases.h"
#include "cli/cli.h"
#include "lib/util.h"

static int
alias_list(struct auth_db *db, const char *alias)
{
	struct auth_alias *v;
	size_t n;
	enum auth_error err;

	if (auth_alias_list(db, alias, &v, &n, &err) < 0)
		return cli_fail("alias list: %s", auth_error_str(err));
	for (size_t i = 0; i < n; i++)
		printf("%s -> %s\n", v[i].address, v[i].target);
	if (alias != NULL && n == 0) {
		auth_aliases_free(&v, n);
		return cli_fail("no alias %s", alias);
	}
	auth_aliases_free(&v, n);
	return 0;
}

int
cli_alias(const char *data_dir, int argc, char **argv)
{
	struct auth_db *db = NULL;
	char *error = NULL;
	enum auth_error err;
	int rc = 0;

	if (argc < 1)
		return cli_fail("alias: expected add, del or list (see tern alias --help)");
	const char *verb = argv[0];
	if (!((strcmp(verb, "add") == 0 && argc == 3) ||
	      (strcmp(verb, "del") == 0 && (argc == 2 || argc == 3)) ||
	      (strcmp(verb, "list") == 0 && argc <= 2)))
		return cli_fail("alias: bad arguments (see tern alias --help)");
	if (auth_db_open(data_dir, &db, &error) < 0) {
		cli_fail("%s", error);
		free(error);
		return 1;
	}
	if (strcmp(verb, "add") == 0) {
		if (auth_alias_add(db, argv[1], argv[2], &err) < 0)
			rc = cli_fail("alias add %s %s: %s", argv[1], argv[2],
			              err == AUTH_ERR_EXISTS ? "already there"
			                                     : auth_error_str(err));
		else
			printf("%s -> %s\n", argv[1], argv[2]);
	} else if (strcmp(verb, "del") == 0) {
		if (auth_alias_delete(db, argv[1], argc == 3 ? argv[2] : NULL, &err) < 0)
			rc = cli_fail("alias del %s: %s", argv[1],
			              err == AUTH_ERR_NOTFOUND ? "no such alias"
			                                       : auth_error_str(err));
		else if (argc == 3)
			printf("%s -> %s removed\n", argv[1], argv[2]);
		else
			printf("%s removed\n", argv[1]);
	} else {
		rc = alias_list(db, argc == 2 ? argv[1] : NULL);
	}
	auth_db_close(&db);
	return rc;
}
