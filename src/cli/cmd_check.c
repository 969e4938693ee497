/* SPDX-License-Identifier: MIT */
/*
 * cmd_check.c: `tern check [--repair] [--account ID]`: runs store_check()
 * over the data directory's mail store (DIR/accounts/<id>/) and prints one
 * line per problem. Exit status 0 when clean (or all repaired), 1 when
 * problems remain, 2 when the check could not run. Stop the server before
 * --repair: the server's in-memory views would not see the changes.
 */
#include <stdio.h>
#include <string.h>

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
	rc = one ? store_check_account(data_dir, account, repair, stdout)
	         : store_check(data_dir, repair, stdout);
	return rc < 0 ? 2 : rc;
}
