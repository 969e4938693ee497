/* SPDX-License-Identifier: MIT */
/* test_store_faults.c: durability and repair: injected I/O failures in the
   blob write and the commit (src/store/blob.c hooks) leave the store
   consistent; check (src/store/check.c) finds and repairs damage; the
   background indexer (src/store/indexer.c) never changes a search answer. */
#include "store_test_util.h"

#include <sqlite3.h>

#include "store/store_int.h"
#include "test.h"

static const char msg[] = "Subject: fault\r\n\r\nbody\r\n";

/* Every message of these tests is above this, so it is a blob file and the
   file faults apply to it (the default inline_max would keep them in the
   index, where only the commit can fail). */
#define FILE_INLINE_MAX 16

static void
tstore_open_files(struct tstore *t)
{
	struct store_settings set;

	store_settings_defaults(&set);
	set.inline_max = FILE_INLINE_MAX;
	tstore_open_with(t, &set);
}

static void
test_injected_io_failures_leave_store_consistent(void)
{
	static const struct {
		enum store_fault fault;
		const char *name;
	} cases[] = {
	        {STORE_FAULT_WRITE, "write"},
	        {STORE_FAULT_FSYNC, "fsync"},
	        {STORE_FAULT_RENAME, "rename"},
	        {STORE_FAULT_DIRSYNC, "dirsync"},
	        {STORE_FAULT_COMMIT, "commit"},
	        {STORE_FAULT_COMMIT, "commit-inline"}, /* default inline_max: no file */
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		bool is_inline = i == ARRAY_LEN(cases) - 1;
		struct tstore t;
		struct store_append ap[2] = {
		        {.data = (const unsigned char *)msg, .len = strlen(msg), .flags = 0},
		        {.data = (const unsigned char *)"Subject: 2\r\n\r\nx\r\n",
		         .len = 17,
		         .flags = 0},
		};
		enum store_error err = STORE_ERR_NONE;
		struct store_mailbox_info s;
		char report[4096];

		if (is_inline)
			tstore_open(&t);
		else
			tstore_open_files(&t);
		test_int_eq(i, tappend(&t, "INBOX", "Subject: before\r\n\r\n.\r\n", 0), 1);
		/* Fail on the second blob (or the commit) of a MULTIAPPEND. */
		store_fault_set(cases[i].fault, cases[i].fault == STORE_FAULT_COMMIT ? 1 : 2);
		test_int_eq(i, store_message_append(t.acct, "INBOX", ap, 2, NULL, NULL, &err), -1);
		test_int_eq(i, err, STORE_ERR_TEMP);
		store_fault_set(STORE_FAULT_NONE, 0);
		s = tstatus(&t, "INBOX");
		test_int_eq(i, s.messages, 1);
		test_int_eq(i, s.uidnext, 2);
		test_int_eq(i, tblob_files(t.dir), is_inline ? 0 : 1);
		test_int_eq(i, tsql_int(t.dir, "SELECT count(*) FROM blobs"), 1);
		test_int_eq(i, tcheck(&t, false, report, sizeof(report)), 0);
		if (strstr(report, "problems=0") == NULL)
			printf("  row %zu (%s): %s", i, cases[i].name, report);
		/* And the store still works. */
		test_int_eq(i, store_message_append(t.acct, "INBOX", ap, 2, NULL, NULL, &err), 0);
		test_int_eq(i, tstatus(&t, "INBOX").messages, 3);
		tstore_close(&t);
	}
}

/* Waits (up to 10 s) for the indexer to empty fts_pending. */
static int64_t
pending_after_indexing(const char *dir)
{
	int64_t n = -1;

	for (int i = 0; i < 1000 && n != 0; i++) {
		n = tsql_int(dir, "SELECT count(*) FROM fts_pending");
		if (n != 0)
			usleep(10000);
	}
	return n;
}

/* Bit per uid found by a search of mb. */
static uint32_t
search_bits(struct store_mailbox *mb, enum store_text_field f, const char *needle)
{
	struct arena *a = arena_new(1024);
	enum store_error err;
	uint32_t *uids, got = 0;
	size_t n = 0;

	if (store_search_text(mb, f, needle, COLLATION_DEFAULT, a, &uids, &n, &err) < 0)
		got = 1u << 31;
	for (size_t k = 0; k < n; k++)
		got |= 1u << uids[k];
	arena_free(&a);
	return got;
}

static void
test_search_is_exact_before_and_after_indexing(void)
{
	static const struct {
		enum store_text_field field;
		const char *needle;
		uint32_t want; /* bit per uid, after uid 2 is expunged */
	} cases[] = {
	        {STORE_TEXT_BODY, "needle", (1 << 1) | (1 << 3)},
	        {STORE_TEXT_BODY, "NEEDLE ONE", 1 << 1},
	        {STORE_TEXT_TEXT, "gamma", 1 << 3},
	        {STORE_TEXT_HEADERS, "alpha", 1 << 1},
	        {STORE_TEXT_SUBJECT, "gam", 1 << 3},
	        {STORE_TEXT_BODY, "two", 0}, /* only in the expunged message */
	};
	struct tstore t;
	struct store_mailbox *mb;
	struct arena *a = arena_new(1024);
	uint32_t two = 2, *gone;
	size_t n;
	enum store_error err;

	tstore_open(&t);
	/* Held, so the text is still pending when the collection comes. */
	indexer_hold(t.store, true);
	tappend(&t, "INBOX", "Subject: alpha\r\n\r\nneedle one\r\n", 0);
	tappend(&t, "INBOX", "Subject: beta\r\n\r\nneedle two\r\n", 0);
	tappend(&t, "INBOX", "Subject: gamma\r\n\r\nneedle three\r\n", 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	/* Expunged (and its blob collected) while its text is still pending:
	   the collection must not touch the FTS index for it. */
	test_int_eq(-1, store_message_remove(mb, &two, 1, a, &gone, &n, &err), 0);
	test_int_eq(-1, n, 1);
	for (int round = 0; round < 2; round++) {
		if (round == 1) {
			indexer_hold(t.store, false);
			test_int_eq(-1, pending_after_indexing(t.dir), 0);
		}
		for (size_t i = 0; i < ARRAY_LEN(cases); i++)
			test_int_eq(round * 100 + (int)i,
			            search_bits(mb, cases[i].field, cases[i].needle),
			            cases[i].want);
	}
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fts WHERE fts MATCH 'needle'"), 2);
	tsql(t.dir, "INSERT INTO fts(fts) VALUES ('integrity-check')");
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

/* A version 1 database (every text indexed at append, no fts_pending, no
   blobs.data) is upgraded in place on open (1 -> 2 -> 3) and keeps working. */
static void
test_version_1_database_is_upgraded(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	enum store_error err;

	tstore_open_files(&t); /* an old database has only blob files */
	tappend(&t, "INBOX", "Subject: old\r\n\r\nold text\r\n", 0);
	/* The background indexer opens the account by id: stopped, it cannot
	   hold it (and skip the upgrade below) while the test rewrites the
	   database. Its work is done here instead. */
	indexer_stop(t.store);
	test_int_eq(-1, store_account_index_flush(t.acct, &err), 0);
	store_account_close(&t.acct);
	test_int_eq(-1, pending_after_indexing(t.dir), 0);
	tsql(t.dir, TSQL_BACK_TO_4 "DROP TABLE fts_pending; ALTER TABLE blobs DROP COLUMN data;"
	                           " UPDATE account SET schema_version = 1");
	test_int_eq(-1, store_account_open(t.store, 7, &t.acct, &err), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT schema_version FROM account"), 10);
	tappend(&t, "INBOX", "Subject: new\r\n\r\nnew text\r\n", 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	test_int_eq(-1, search_bits(mb, STORE_TEXT_BODY, "text"), (1 << 1) | (1 << 2));
	store_mailbox_close(&mb);
	tstore_close(&t);
}

/* A version 4 database gets the quota columns (4 -> 5) counted from its
   rows, and triggers that keep them from then on. */
static void
test_version_4_database_gets_quota_columns(void)
{
	struct tstore t;
	struct store_quota q;
	enum store_error err;

	tstore_open(&t);
	tappend(&t, "INBOX", "Subject: a\r\n\r\na\r\n", STORE_FLAG_DELETED);
	tappend(&t, "INBOX", "Subject: bb\r\n\r\nbb\r\n", 0);
	indexer_stop(t.store);
	store_account_close(&t.acct);
	tsql(t.dir, TSQL_BACK_TO_4);
	test_int_eq(-1, store_account_open(t.store, 7, &t.acct, &err), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT schema_version FROM account"), 10);
	test_int_eq(-1, store_quota_get(t.acct, &q, &err), 0);
	test_int_eq(-1, (int64_t)q.mailboxes_used, 6);
	test_int_eq(-1, (int64_t)tstatus(&t, "INBOX").deleted_size, 17);
	test_int_eq(-1, store_mailbox_create(t.acct, "New", 0, &err), 0);
	test_int_eq(-1, store_quota_get(t.acct, &q, &err), 0);
	test_int_eq(-1, (int64_t)q.mailboxes_used, 7);
	tappend(&t, "New", "Subject: c\r\n\r\nc\r\n", STORE_FLAG_DELETED);
	test_int_eq(-1, (int64_t)tstatus(&t, "New").deleted_size, 17);
	char report[4096];
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	tstore_close(&t);
}

/* A version 7 database gets blobs.preview (7 -> 8) with NULL in its old
   rows; store_message_preview_make() makes one from the bytes and caches it,
   the indexer thread's preview_backfill_batch() makes the others, and new
   messages get theirs at append. */
static void
test_version_7_database_gets_previews_on_demand(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	struct store_message_info info[3];
	uint32_t uids[] = {1, 2, 3};
	struct arena *a = arena_new(4096);
	const char *preview = NULL;
	enum store_error err;
	struct db *db;

	tstore_open(&t);
	tappend(&t, "INBOX", "Subject: old\r\n\r\nold  text\r\n", 0);
	tappend(&t, "INBOX", "Subject: old2\r\nContent-Type: text/html\r\n\r\n<p>older</p>\r\n", 0);
	/* Stopped, the thread leaves the backfill to this test. */
	indexer_stop(t.store);
	store_account_close(&t.acct);
	/* A version 7 database: without 8's preview and 10's fuzzy tables
	   (9's annotations and seen are made IF NOT EXISTS). */
	tsql(t.dir, "DROP INDEX blobs_no_preview; ALTER TABLE blobs DROP COLUMN preview;"
	            " DROP TABLE fuzzy_vocab; DROP TABLE fuzzy_words; DROP TABLE fuzzy_index;"
	            " DROP TABLE fuzzy_backlog; UPDATE account SET schema_version = 7");
	test_int_eq(-1, store_account_open(t.store, 7, &t.acct, &err), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT schema_version FROM account"), 10);
	test_assert(-1, t.acct->a->preview_pending);
	tappend(&t, "INBOX", "Subject: new\r\n\r\nnew text\r\n", 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	test_int_eq(-1, store_message_lookup(mb, uids, 3, STORE_FETCH_PREVIEW, a, info, &err), 0);
	test_assert(-1, info[0].preview == NULL && info[1].preview == NULL);
	test_str_eq(-1, info[2].preview, "new text");
	test_int_eq(-1, store_message_preview_make(mb, &info[0], a, &preview, &err), 0);
	test_str_eq(-1, preview, "old text");
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs WHERE preview = 'old text'"),
	            1);
	/* The background: the one left, then nothing and the flag down. */
	test_int_eq(-1, db_get(t.acct->a, &db, &err), 0);
	test_int_eq(-1, preview_backfill_batch(t.acct->a, db, 16), 1);
	test_int_eq(-1, preview_backfill_batch(t.acct->a, db, 16), 0);
	db_put(t.acct->a, db);
	test_assert(-1, !t.acct->a->preview_pending);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs WHERE preview IS NULL"), 0);
	test_int_eq(-1, store_message_lookup(mb, uids, 3, STORE_FETCH_PREVIEW, a, info, &err), 0);
	test_str_eq(-1, info[0].preview, "old text");
	test_str_eq(-1, info[1].preview, "older");
	/* Without STORE_FETCH_PREVIEW nothing is copied. */
	test_int_eq(-1, store_message_lookup(mb, uids, 3, STORE_FETCH_BASIC, a, info, &err), 0);
	test_assert(-1, info[2].preview == NULL);
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
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

	tstore_open_files(&t); /* file damage; inline: test_store_inline.c */
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
	tsql(t.dir, "UPDATE mailboxes SET unseen = 99 WHERE name = 'INBOX'");

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
	TEST_RUN(test_search_is_exact_before_and_after_indexing);
	TEST_RUN(test_version_1_database_is_upgraded);
	TEST_RUN(test_version_4_database_gets_quota_columns);
	TEST_RUN(test_version_7_database_gets_previews_on_demand);
	return TEST_DONE("test_store_faults");
}
