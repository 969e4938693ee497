/* SPDX-License-Identifier: MIT */
/*
 * test_store_collect.c: tests for the background blob collection
 * (src/store/expunge.c, src/store/indexer.c). An expunge returns with the
 * rows gone and the collection (FTS5 deletes, texts, blob rows, files) not
 * yet done; the indexer thread does it later, in batches; meanwhile search
 * shows nothing expunged, check is clean, an append of the same content
 * reuses the waiting row; store_close leaves the rest for the next open.
 * indexer_hold() keeps the thread still so "not yet done" is certain.
 */
#include "store_test_util.h"

#include <pthread.h>

#include "store/store_int.h"
#include "test.h"

/* Above FILE_INLINE_MAX a message is a blob file: both kinds get collected. */
#define FILE_INLINE_MAX 512
#define N_MESSAGES      1000

static uint64_t
collected(struct tstore *t)
{
	struct account *a = t->acct->a;
	uint64_t n;

	pthread_mutex_lock(&a->write_lock);
	n = a->blobs_collected;
	pthread_mutex_unlock(&a->write_lock);
	return n;
}

/* Waits (up to 20 s) until the account has no zero-reference blob. */
static int64_t
unreferenced_after_collection(const char *dir)
{
	int64_t n = -1;

	for (int i = 0; i < 2000 && n != 0; i++) {
		n = tsql_int(dir, "SELECT count(*) FROM blobs WHERE refs = 0");
		if (n != 0)
			usleep(10000);
	}
	return n;
}

/* Every third message a file blob, the others inline; each names "needle". */
static void
append_messages(struct tstore *t, const char *box, unsigned n, unsigned tag)
{
	char pad[FILE_INLINE_MAX + 64];

	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (unsigned i = 0; i < n; i++) {
		char *msg = xasprintf("Subject: m%u-%u\r\n\r\nneedle %u body\r\n%s\r\n", tag, i, i,
		                      i % 3 == 0 ? pad : "");
		if (tappend(t, box, msg, 0) == 0)
			printf("append %u failed\n", i);
		free(msg);
	}
}

static struct tstore
open_small_inline(void)
{
	struct store_settings set;
	struct tstore t;

	store_settings_defaults(&set);
	set.inline_max = FILE_INLINE_MAX;
	tstore_open_with(&t, &set);
	return t;
}

static size_t
search_count(struct store_mailbox *mb, const char *needle)
{
	struct arena *a = arena_new(1024);
	enum store_error err;
	uint32_t *uids;
	size_t n = 0;

	if (store_search_text(mb, STORE_TEXT_BODY, needle, COLLATION_DEFAULT, a, &uids, &n, &err) <
	    0)
		n = (size_t)-1;
	arena_free(&a);
	return n;
}

static void
test_expunge_returns_before_the_collection(void)
{
	struct tstore t = open_small_inline();
	struct store_mailbox *mb;
	struct arena *a = arena_new(1024);
	enum store_error err;
	uint32_t *uids = xmalloc(N_MESSAGES * sizeof(*uids)), *gone;
	size_t n;
	char report[4096];

	append_messages(&t, "INBOX", N_MESSAGES, 0);
	append_messages(&t, "INBOX", 1, 1); /* the one that stays: a file too */
	test_int_eq(-1, store_account_index_flush(t.acct, &err), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fts_docsize"), N_MESSAGES + 1);
	test_int_eq(-1, tblob_files(t.dir), (N_MESSAGES + 2) / 3 + 1);

	indexer_hold(t.store, true);
	for (uint32_t i = 0; i < N_MESSAGES; i++)
		uids[i] = i + 1;
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	test_int_eq(-1, store_message_remove(mb, uids, N_MESSAGES, a, &gone, &n, &err), 0);
	test_int_eq(-1, n, N_MESSAGES);

	/* Returned with the rows gone and no collection done. */
	test_int_eq(-1, collected(&t), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM messages"), 1);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs WHERE refs = 0"), N_MESSAGES);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fts_docsize"), N_MESSAGES + 1);
	test_int_eq(-1, tblob_files(t.dir), (N_MESSAGES + 2) / 3 + 1);
	/* Search joins messages: the waiting texts match nothing. */
	test_int_eq(-1, search_count(mb, "needle"), 1);
	test_int_eq(-1, search_count(mb, "ne"), 1); /* the short-needle scan */
	test_int_eq(-1, tstatus(&t, "INBOX").messages, 1);
	/* Waiting rows are no damage: check is clean, and says so. */
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	test_assert(-1, strstr(report, "problems=0") != NULL);
	test_assert(-1, strstr(report, "note=collect-pending count=1000") != NULL);

	/* The thread catches up on its own, in batches. */
	indexer_hold(t.store, false);
	test_int_eq(-1, unreferenced_after_collection(t.dir), 0);
	test_int_eq(-1, collected(&t), N_MESSAGES);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs"), 1);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM texts"), 1);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fts_docsize"), 1);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fts_pending"), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fts WHERE fts MATCH 'needle'"), 1);
	tsql(t.dir, "INSERT INTO fts(fts) VALUES ('integrity-check')");
	test_int_eq(-1, tblob_files(t.dir), 1);
	test_int_eq(-1, search_count(mb, "needle"), 1);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	test_assert(-1, strstr(report, "note=") == NULL);

	store_mailbox_close(&mb);
	free(uids);
	arena_free(&a);
	tstore_close(&t);
}

/* store_close while the collection waits: the rows stay, the next open
   of the account collects them. */
static void
test_collection_resumes_after_close(void)
{
	struct tstore t = open_small_inline();
	struct store_settings set;
	struct store_mailbox *mb;
	struct arena *a = arena_new(1024);
	enum store_error err;
	uint32_t uids[] = {1, 2, 3, 4, 5, 6}, *gone;
	size_t n;
	char report[4096];

	append_messages(&t, "INBOX", 6, 0);
	indexer_hold(t.store, true);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	test_int_eq(-1, store_message_remove(mb, uids, 6, a, &gone, &n, &err), 0);
	test_int_eq(-1, n, 6);
	store_mailbox_close(&mb);
	store_account_close(&t.acct);
	store_close(&t.store);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs WHERE refs = 0"), 6);
	test_int_eq(-1, tblob_files(t.dir), 2);

	store_settings_defaults(&set);
	set.inline_max = FILE_INLINE_MAX;
	set.no_fsync = true;
	test_int_eq(-1, store_open(t.dir, &set, &t.store, &err), 0);
	test_int_eq(-1, store_account_open(t.store, 7, &t.acct, &err), 0);
	test_int_eq(-1, unreferenced_after_collection(t.dir), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM texts"), 0);
	test_int_eq(-1, tblob_files(t.dir), 0);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	arena_free(&a);
	tstore_close(&t);
}

/* The same content appended while its old row waits: the row is reused
   (one reference again), so the collection leaves it and its file. */
static void
test_append_reuses_a_waiting_row(void)
{
	struct tstore t = open_small_inline();
	struct store_mailbox *mb;
	struct arena *a = arena_new(1024);
	enum store_error err;
	uint32_t uids[] = {1, 2}, *gone, uid;
	size_t n;
	struct buf got;
	char report[4096];

	append_messages(&t, "INBOX", 2, 0); /* message 0 is a file blob */
	indexer_hold(t.store, true);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	test_int_eq(-1, store_message_remove(mb, uids, 2, a, &gone, &n, &err), 0);
	test_int_eq(-1, n, 2);
	append_messages(&t, "INBOX", 1, 0); /* message 0's bytes again */
	uid = 3;
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs"), 2);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs WHERE refs = 0"), 1);
	indexer_hold(t.store, false);
	test_int_eq(-1, unreferenced_after_collection(t.dir), 0);
	test_int_eq(-1, store_account_index_flush(t.acct, &err), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs"), 1);
	test_int_eq(-1, tblob_files(t.dir), 1);
	buf_init(&got);
	test_int_eq(-1, tread(t.acct, "INBOX", uid, &got), 0);
	test_assert(-1, got.len > FILE_INLINE_MAX);
	test_int_eq(-1, search_count(mb, "needle"), 1);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	buf_deinit(&got);
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

/* Deleting a mailbox leaves its blobs to the collection too. */
static void
test_mailbox_delete_is_collected(void)
{
	struct tstore t = open_small_inline();
	enum store_error err;
	char report[4096];

	test_int_eq(-1, store_mailbox_create(t.acct, "Old", 0, &err), 0);
	append_messages(&t, "Old", 30, 0);
	indexer_hold(t.store, true);
	test_int_eq(-1, store_mailbox_delete(t.acct, "Old", &err), 0);
	test_int_eq(-1, collected(&t), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM blobs WHERE refs = 0"), 30);
	indexer_hold(t.store, false);
	test_int_eq(-1, unreferenced_after_collection(t.dir), 0);
	test_int_eq(-1, collected(&t), 30);
	test_int_eq(-1, tblob_files(t.dir), 0);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	tstore_close(&t);
}

int
main(void)
{
	TEST_RUN(test_expunge_returns_before_the_collection);
	TEST_RUN(test_collection_resumes_after_close);
	TEST_RUN(test_append_reuses_a_waiting_row);
	TEST_RUN(test_mailbox_delete_is_collected);
	return TEST_DONE("test_store_collect");
}
