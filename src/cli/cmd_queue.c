/* SPDX-License-Identifier: MIT */
/*
 * cmd_queue.c: `tern queue list|show|retry|hold|release|delete`: the
 * outbound queue (DIR/queue, smtp/smtp_queue.h), where submission keeps
 * mail for remote recipients until the runner of `tern serve` has
 * delivered it. Safe while the server runs: retry, hold and release leave
 * files the runner reads (smtp/smtp_queue_item.h); only it writes state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "lib/util.h"
#include "smtp/smtp_queue.h"
#include "smtp/smtp_queue_item.h"

static int
queue_list(const char *data_dir)
{
	struct smtp_queue_entry *v;
	size_t n;
	char *error = NULL;

	if (smtp_queue_list(data_dir, &v, &n, &error) < 0) {
		cli_fail("%s", error);
		free(error);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		char when[32];
		time_t t = (time_t)v[i].created;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("%s %s %llu %s/%u <%s> (%s) ->", v[i].id, when,
		       (unsigned long long)v[i].size, smtp_queue_state_name(v[i].state),
		       v[i].attempts, v[i].sender, v[i].account);
		for (size_t j = 0; j < v[i].n_rcpts; j++)
			printf(" <%s>", v[i].rcpts[j]);
		printf("\n");
	}
	printf("%zu queued\n", n);
	smtp_queue_entries_free(&v, n);
	return 0;
}

/* ID... or --all: each message gets op; the server acts within a second. */
static int
queue_control(const char *data_dir, enum smtp_queue_control op, int argc, char **argv)
{
	char *error = NULL;
	int rc = 0;

	if (argc == 1 && strcmp(argv[0], "--all") == 0) {
		size_t n;
		if (smtp_queue_control_all(data_dir, op, &n, &error) < 0) {
			cli_fail("%s", error);
			free(error);
			return 1;
		}
		printf("%s: %zu messages\n", smtp_queue_control_name(op), n);
		return 0;
	}
	for (int i = 0; i < argc; i++) {
		if (smtp_queue_control(data_dir, argv[i], op, &error) < 0) {
			cli_fail("%s", error);
			free(error);
			error = NULL;
			rc = 1;
		} else {
			printf("%s: %s\n", smtp_queue_control_name(op), argv[i]);
		}
	}
	return rc;
}

int
cli_queue(const char *data_dir, int argc, char **argv)
{
	char *error = NULL;

	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return queue_list(data_dir);
	if ((argc == 2 || argc == 3) && strcmp(argv[0], "show") == 0) {
		bool body = argc == 3 && strcmp(argv[2], "--message") == 0;
		if (argc == 3 && !body)
			return cli_fail("queue show: unknown option '%s'", argv[2]);
		if (smtp_queue_show(data_dir, argv[1], body, stdout, &error) < 0) {
			cli_fail("%s", error);
			free(error);
			return 1;
		}
		return 0;
	}
	int op = argc >= 2 ? smtp_queue_control_parse(argv[0]) : -1;
	if (op >= 0)
		return queue_control(data_dir, (enum smtp_queue_control)op, argc - 1, argv + 1);
	return cli_fail("queue: expected list, show ID, retry, hold, release or delete "
	                "(see tern queue --help)");
}
