/* SPDX-License-Identifier: MIT */
/*
 * cmd_group.c: `tern group add|del|list`: the groups of accounts that IMAP
 * ACLs name as "$group" (RFC 4314; auth/groups.h). A session reads its
 * user's groups at login, so a change applies from the next login.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "auth/groups.h"
#include "cli/cli.h"

static int
print_member(const char *group, const char *address, void *arg)
{
	(void)arg;
	printf("$%s %s\n", group, address);
	return 0;
}

int
cli_group(const char *data_dir, int argc, char **argv)
{
	struct auth_db *db = NULL;
	char *error = NULL;
	enum auth_error err;
	int rc = 0;

	if (argc < 1)
		return cli_fail("group: expected add, del or list (see tern group --help)");
	const char *verb = argv[0];
	if (!((strcmp(verb, "add") == 0 && argc >= 3) || (strcmp(verb, "del") == 0 && argc >= 2) ||
	      (strcmp(verb, "list") == 0 && argc <= 2)))
		return cli_fail("group: bad arguments (see tern group --help)");
	/* "$team" and "team" both name the group team. */
	const char *group = argc >= 2 && argv[1][0] == '$' ? argv[1] + 1 : argv[1];
	if (argc >= 2 && !auth_group_name_is_valid(group))
		return cli_fail("group %s: a name is 1-64 letters, digits, '.', '_' or '-'",
		                argv[1]);
	if (auth_db_open(data_dir, &db, &error) < 0) {
		cli_fail("%s", error);
		free(error);
		return 1;
	}
	if (strcmp(verb, "add") == 0) {
		for (int i = 2; i < argc && rc == 0; i++)
			if (auth_group_member_add(db, group, argv[i], &err) < 0)
				rc = cli_fail("group add %s %s: %s", group, argv[i],
				              auth_error_str(err));
			else
				printf("$%s %s\n", group, argv[i]);
	} else if (strcmp(verb, "del") == 0) {
		for (int i = 2; i <= argc - (argc > 2) && rc == 0; i++)
			if (auth_group_member_del(db, group, argc > 2 ? argv[i] : NULL, &err) < 0)
				rc = cli_fail("group del %s%s%s: %s", group, argc > 2 ? " " : "",
				              argc > 2 ? argv[i] : "",
				              err == AUTH_ERR_NOTFOUND ? "no such member"
				                                       : auth_error_str(err));
			else
				printf("removed $%s%s%s\n", group, argc > 2 ? " " : "",
				       argc > 2 ? argv[i] : "");
	} else if (auth_group_foreach(db, argc == 2 ? group : NULL, print_member, NULL, &err) < 0) {
		rc = cli_fail("group list: %s", auth_error_str(err));
	}
	auth_db_close(&db);
	return rc;
}
