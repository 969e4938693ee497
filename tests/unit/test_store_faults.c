/* SPDX-License-Identifier: MIT */
/* test_store_faults.c: durability and repair: injected I/O failures in the
   blob write and the commit (src/store/blob.c hooks) leave the store
   consistent; check (src/store/check.c) finds and repairs damage. */
#include "store_test_util.h"

#include <sqlite3.h>

#include "store/store_int.h"
#include "test.h"

static const char msg[] = "Subject: fault\r\n\r\nbody\r\n";

static size_t
blob_files(const char *dir)
{
	char cmd[512];
	FILE *p;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "find %s/accounts/7/blobs -type f | wc -l", dir);
	p = popen(cmd, "r");
	if (p == NULL || fscanf(p, "%zu", &n) != 1)
		n = (size_t)-1;
	if (p != NULL)
		pclose(p);
	return n;
}

static void
test_injected_io_failures_leave_store_consistent(void)
{
	static const struct {
		enum store_fault fault;
		const char *name;
	} cases[] = {
		{STORE_FAULT_WRITE, "write"},	  {STORE_FAULT_FSYNC, "fsync"},
		{STORE_FAULT_RENAME, "rename"},	  {STORE_FAULT_DIRSYNC, "dirsync"},
		{STORE_FAULT_COMMIT, "commit"},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct tstore t;
		struct store_append ap[2] = {
			{(const unsigned char *)msg, strlen(msg), 0, NULL, 0, 0},
			{(const unsigned char *)"Subject: 2\r\n\r\nx\r\n", 17, 0, NULL, 0, 0},
		};
		enum store_error err = STORE_ERR_NONE;
		struct store_mailbox_info s;
		char report[4096];

		tstore_open(&t);
		test_int_eq(i, tappend(&t, "INBOX", "Subject: before\r\n\r\n.\r\n", 0), 1);
		/* Fail on the second blob (or the commit) of a MULTIAPPEND. */
		store_fault_set(cases[i].fault, cases[i].fault == STORE_FAULT_COMMIT ? 1 : 2);
		test_int_eq(i, store_message_append(t.acct, "INBOX", ap, 2, NULL, NULL, &err), -1);
		test_int_eq(i, err, STORE_ERR_TEMP);
		store_fault_set(STORE_FAULT_NONE, 0);
		s = tstatus(&t, "INBOX");
		test_int_eq(i, s.messages, 1);
		test_int_eq(i, s.uidnext, 2);
		test_int_eq(i, blob_files(t.dir), 1);
		test_int_eq(i, tcheck(&t, false, report, sizeof(report)), 0);
		if (strstr(report, "problems=0") == NULL)
			printf("  row %zu (%s): %s", i, cases[i].name, report);
		/* And the store still works. */
		test_int_eq(i, store_message_append(t.acct, "INBOX", ap, 2, NULL, NULL, &err), 0);
		test_int_eq(i, tstatus(&t, "INBOX").messages, 3);
		tstore_close(&t);
	}
}

static void
sql(const char *dir, const char *stmt)
{
	char *path = xasprintf("%s/accounts/7/index.db", dir);
	sqlite3 *h;

	if (sqlite3_open(path, &h) != SQLITE_OK || sqlite3_exec(h, stmt, 0, 0, 0) != SQLITE_OK)
		printf("sql failed: %s\n", sqlite3_errmsg(h));
	sqlite3_close(h);
	free(path);
}

static void
test_check_finds_and_repairs_damage(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	struct arena *a = arena_new(4096);
	struct store_message_info info[3];
	uint32_t uids[] = {1, 2, 3};
	enum store_error err;
	struct buf b;
	char report[8192], *path;
	FILE *f;

	tstore_open(&t);
	tappend(&t, "INBOX", "Subject: one\r\n\r\n1\r\n", 0);
	tappend(&t, "INBOX", "Subject: two\r\n\r\n2\r\n", 0);
	tappend(&t, "INBOX", "Subject: three\r\n\r\n3\r\n", 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	test_int_eq(-1, store_message_lookup(mb, uids, 3, 0, a, info, &err), 0);

	/* Damage: a missing blob, a corrupt one, a wrong counter, an orphan. */
	path = blob_path(t.acct->a->blob_dir, info[0].blob_hash);
	unlink(path);
	free(path);
	path = blob_path(t.acct->a->blob_dir, info[1].blob_hash);
	f = fopen(path, "r+");
	fputc('X', f);
	fclose(f);
	free(path);
	path = xasprintf("%s/accounts/7/blobs/00", t.dir);
	mkdir(path, 0700);
	free(path);
	path = xasprintf("%s/accounts/7/blobs/00/tmp.junk", t.dir);
	f = fopen(path, "w");
	fputs("half", f);
	fclose(f);
	free(path);
	sql(t.dir, "UPDATE mailboxes SET unseen = 99 WHERE name = 'INBOX'");

	/* Reported, never a crash. */
	buf_init(&b);
	test_int_eq(-1, store_message_read(mb, 1, 0, 10, &b, &err), -1);
	test_int_eq(-1, err, STORE_ERR_CORRUPT);
	test_int_eq(-1, store_message_read(mb, 3, 0, 100, &b, &err), 0);
	buf_deinit(&b);
	store_mailbox_close(&mb);

	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 1);
	test_assert(-1, strstr(report, "problem=blob-missing") != NULL);
	test_assert(-1, strstr(report, "problem=blob-corrupt") != NULL);
	test_assert(-1, strstr(report, "problem=counters") != NULL);
	test_assert(-1, strstr(report, "problem=temp-file") != NULL);
	test_assert(-1, strstr(report, "problems=4 repaired=0") != NULL);

	/* Repair with the account closed (check must not race a server). */
	store_account_close(&t.acct);
	test_int_eq(-1, tcheck(&t, true, report, sizeof(report)), 0);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	test_assert(-1, strstr(report, "problems=0") != NULL);
	test_int_eq(-1, store_account_open(t.store, 7, &t.acct, &err), 0);
	struct store_mailbox_info s = tstatus(&t, "INBOX");
	test_int_eq(-1, s.messages, 1);
	test_int_eq(-1, s.unseen, 1);
	test_int_eq(-1, s.uidnext, 4);
	/* The removed messages are in the expunge history for clients. */
	uint32_t *gone;
	size_t n;
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	test_int_eq(-1, store_expunged_since(mb, 1, a, &gone, &n, &err), 0);
	test_int_eq(-1, n, 2);
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

int
main(void)
{
	TEST_RUN(test_injected_io_failures_leave_store_consistent);
	TEST_RUN(test_check_finds_and_repairs_damage);
	return TEST_DONE("test_store_faults");
}
