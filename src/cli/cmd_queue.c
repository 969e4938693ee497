/* SPDX-License-Identifier: MIT */
/*
 * cmd_queue.c: `tern queue list|show`: the outbound queue (DIR/queue,
 * smtp/smtp_queue.h), where submission keeps mail for remote recipients
 * until outbound delivery exists. Read-only; safe while the server runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "lib/util.h"
#include "smtp/smtp_queue.h"

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
		printf("%s %s %llu <%s> (%s) ->", v[i].id, when, (unsigned long long)v[i].size,
		       v[i].sender, v[i].account);
		for (size_t j = 0; j < v[i].n_rcpts; j++)
			printf(" <%s>", v[i].rcpts[j]);
		printf("\n");
	}
	printf("%zu queued\n", n);
	smtp_queue_entries_free(&v, n);
	return 0;
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
	return cli_fail("queue: expected list or show ID (see tern queue --help)");
}
