/* SPDX-License-Identifier: MIT */
/*
 * cmd_check.c: `tern check [--repair] [--account ID]`: runs store_check()
 * over the data directory's mail store (DIR/accounts/<id>/) and prints one
 * line per problem. Exit status 0 when clean (or all repaired), 1 when
 * problems remain, 2 when the check could not run. Stop the server before
 * --repair: a repair removes files a running server's append may reuse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/util.h"
#include "store/store.h"

int
cli_check(const char *data_dir, int argc, char **argv)
{
	bool repair = false, one = false;
	uint64_t account = 0;
	int rc;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--repair") == 0)
			repair = true;
		else if (strcmp(argv[i], "--account") == 0 && i + 1 < argc &&
		         str_to_u64(argv[i + 1], UINT64_MAX, &account))
			one = true, i++;
		else
			return cli_fail("check: unexpected argument '%s'", argv[i]);
	}
	/* Opening the store would create it: a wrong directory is an error. */
	char *accounts = xasprintf("%s/accounts", data_dir);
	int missing = access(accounts, F_OK);
	free(accounts);
	if (missing < 0) {
		cli_fail("%s: no mail store here (see tern init)", data_dir);
		return 2;
	}
	struct store *store;
	enum store_error err;
	if (store_open(data_dir, NULL, &store, &err) < 0) {
		cli_fail("%s: cannot open the mail store: %s", data_dir, store_error_str(err));
		return 2;
	}
	rc = one ? store_check_account(store, account, repair, stdout)
	         : store_check(store, repair, stdout);
	store_close(&store);
	return rc < 0 ? 2 : rc;
}
