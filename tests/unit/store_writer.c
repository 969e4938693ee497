/* SPDX-License-Identifier: MIT */
/*
 * store_writer.c: writes to an account through the store from a process of
 * its own, for the tests of changes made elsewhere (not a unit test
 * itself; the Makefile builds it with the unit tests):
 *   store_writer DIR ACCOUNT append BOX N          N small messages; prints their uids
 *   store_writer DIR ACCOUNT flags BOX +|-FLAG UID...
 *                FLAG: seen answered flagged deleted draft, or a keyword
 *   store_writer DIR ACCOUNT remove BOX UID...     expunges them, whatever their flags
 *   store_writer DIR ACCOUNT create BOX / delete BOX
 * Exit status 0 when the write committed. fsync is off: what is tested is
 * who hears of the change, not durability.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "store/store.h"

static int
fail(const char *what, enum store_error err)
{
	fprintf(stderr, "store_writer: %s: %s\n", what, store_error_str(err));
	return 1;
}

static int
append(struct store_account *acct, const char *box, unsigned n)
{
	struct store_append *ap = xcalloc(n, sizeof(*ap));
	uint32_t *uids = xcalloc(n, sizeof(*uids));
	struct buf *msgs = xcalloc(n, sizeof(*msgs));
	enum store_error err;
	int rc;

	for (unsigned i = 0; i < n; i++) {
		buf_init(&msgs[i]);
		buf_printf(&msgs[i],
		           "Subject: from elsewhere %u\r\nMessage-ID: <%u.%d@writer>\r\n\r\n"
		           "body %u\r\n",
		           i, i, getpid(), i);
		ap[i] = (struct store_append){.data = (const unsigned char *)msgs[i].data,
		                              .len = msgs[i].len};
	}
	rc = store_message_append(acct, box, ap, n, NULL, uids, &err);
	for (unsigned i = 0; i < n; i++) {
		if (rc == 0)
			printf("%u\n", uids[i]);
		buf_deinit(&msgs[i]);
	}
	free(ap);
	free(uids);
	free(msgs);
	return rc < 0 ? fail("append", err) : 0;
}

static uint32_t *
parse_uids(int argc, char **argv, size_t *n_out)
{
	uint32_t *uids = xcalloc((size_t)argc + 1, sizeof(*uids));
	uint64_t v;

	for (int i = 0; i < argc; i++)
		uids[i] = str_to_u64(argv[i], UINT32_MAX, &v) ? (uint32_t)v : 0;
	*n_out = (size_t)argc;
	return uids;
}

static int
change(struct store_account *acct, const char *box, const char *cmd, int argc, char **argv)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} names[] = {{"seen", STORE_FLAG_SEEN},
	             {"answered", STORE_FLAG_ANSWERED},
	             {"flagged", STORE_FLAG_FLAGGED},
	             {"deleted", STORE_FLAG_DELETED},
	             {"draft", STORE_FLAG_DRAFT}};
	struct store_mailbox *mb;
	struct arena *a = arena_new(4096);
	enum store_error err;
	size_t n, n_out;
	uint32_t *uids, *gone;
	int rc;

	if (store_mailbox_open(acct, box, 0, &mb, &err) < 0)
		return fail(box, err);
	if (strcmp(cmd, "remove") == 0) {
		uids = parse_uids(argc, argv, &n);
		rc = store_message_remove(mb, uids, n, a, &gone, &n_out, &err);
	} else {
		const char *what = argv[0] + 1;
		struct store_flags_change ch = {
		        argv[0][0] == '-' ? STORE_FLAGS_REMOVE : STORE_FLAGS_ADD, 0, NULL, 0, 0};
		struct store_flags_result res;

		for (size_t i = 0; i < ARRAY_LEN(names); i++)
			if (strcmp(what, names[i].name) == 0)
				ch.flags = names[i].flag;
		if (ch.flags == 0) {
			ch.keywords = &what;
			ch.n_keywords = 1;
		}
		uids = parse_uids(argc - 1, argv + 1, &n);
		rc = store_flags_update(mb, uids, n, &ch, a, &res, &err);
	}
	free(uids);
	store_mailbox_close(&mb);
	arena_free(&a);
	return rc < 0 ? fail(cmd, err) : 0;
}

int
main(int argc, char **argv)
{
	struct store_settings set;
	struct store *store;
	struct store_account *acct;
	enum store_error err;
	uint64_t id;
	int rc = 2;

	if (argc < 5 || !str_to_u64(argv[2], UINT64_MAX, &id)) {
		fprintf(stderr, "usage: store_writer DIR ACCOUNT COMMAND BOX [ARGS]\n");
		return 2;
	}
	store_settings_defaults(&set);
	set.no_fsync = true;
	if (store_open(argv[1], &set, &store, &err) < 0)
		return fail("open", err);
	if (store_account_open(store, id, &acct, &err) < 0) {
		store_close(&store);
		return fail("account", err);
	}
	const char *cmd = argv[3], *box = argv[4];
	if (strcmp(cmd, "append") == 0)
		rc = append(acct, box, argc > 5 ? (unsigned)atoi(argv[5]) : 1);
	else if ((strcmp(cmd, "flags") == 0 && argc > 6) || (strcmp(cmd, "remove") == 0))
		rc = change(acct, box, cmd, argc - 5, argv + 5);
	else if (strcmp(cmd, "create") == 0)
		rc = store_mailbox_create(acct, box, 0, &err) < 0 ? fail("create", err) : 0;
	else if (strcmp(cmd, "delete") == 0)
		rc = store_mailbox_delete(acct, box, &err) < 0 ? fail("delete", err) : 0;
	else
		fprintf(stderr, "store_writer: unknown command %s\n", cmd);
	store_account_close(&acct);
	store_close(&store);
	return rc;
}
