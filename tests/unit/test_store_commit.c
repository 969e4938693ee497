/* SPDX-License-Identifier: MIT */
/* test_store_commit.c: tests for src/store/commit.c, the group commit.
   Concurrent appends to one account share transactions (fewer commits than
   appends) and still get every row, their own uids and their own result;
   a request that fails inside a shared transaction fails alone; a failed
   commit fails the whole batch and leaves nothing. To make a batch
   deterministic a test holds the account's write lock while the writers
   queue, then lets the leader go. */
#include "store_test_util.h"

#include <pthread.h>

#include "store/store_int.h"
#include "test.h"

struct writer {
	struct store *store;
	const char *mailbox;
	unsigned id, count, n_per_call;
	const char *keyword; /* on every message, or NULL */
	uint32_t uids[64];   /* per message, in order */
	int rc;              /* of the last call */
	enum store_error err;
};

/* The message writer w sends as its i-th. */
static char *
writer_message(const struct writer *w, unsigned i)
{
	return xasprintf("Subject: writer %u message %u\r\n\r\nbody %u/%u\r\n", w->id, i, w->id, i);
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct store_account *acct;

	if (store_account_open(w->store, 7, &acct, &w->err) < 0) {
		w->rc = -1;
		return NULL;
	}
	for (unsigned i = 0; i < w->count; i += w->n_per_call) {
		struct store_append ap[8];
		char *m[8];

		for (unsigned k = 0; k < w->n_per_call; k++) {
			m[k] = writer_message(w, i + k);
			ap[k] = (struct store_append){.data = (const unsigned char *)m[k],
			                              .len = strlen(m[k]),
			                              .keywords = &w->keyword,
			                              .n_keywords = w->keyword != NULL};
		}
		w->rc = store_message_append(acct, w->mailbox, ap, w->n_per_call, NULL, &w->uids[i],
		                             &w->err);
		for (unsigned k = 0; k < w->n_per_call; k++)
			free(m[k]);
	}
	store_account_close(&acct);
	return NULL;
}

/* Waits (up to 10 s) until n requests are queued on the account. */
static bool
wait_queued(struct account *a, size_t n)
{
	for (int i = 0; i < 10000; i++) {
		size_t q;

		pthread_mutex_lock(&a->commit_lock);
		q = a->queued;
		pthread_mutex_unlock(&a->commit_lock);
		if (q >= n)
			return true;
		usleep(1000);
	}
	return false;
}

static uint64_t
commits(struct account *a)
{
	uint64_t n;

	pthread_mutex_lock(&a->commit_lock);
	n = a->commits;
	pthread_mutex_unlock(&a->commit_lock);
	return n;
}

/* Every message of w reads back under the uid w was given. */
static void
expect_writer(int row, struct tstore *t, const struct writer *w)
{
	struct buf b;

	buf_init(&b);
	for (unsigned i = 0; i < w->count; i++) {
		char *m = writer_message(w, i);

		test_int_eq(row, tread(t->acct, w->mailbox, w->uids[i], &b), 0);
		test_assert(row, b.len == strlen(m) && memcmp(b.data, m, b.len) == 0);
		free(m);
	}
	buf_deinit(&b);
}

/* Starts the writers one after another, each once the previous one is
   queued (so the queue order is w[0], w[1], ...), with the write lock
   held; releases it and joins. */
static void
run_batch(struct tstore *t, struct writer *w, size_t n)
{
	struct account *a = t->acct->a;
	pthread_t th[8];

	pthread_mutex_lock(&a->write_lock);
	for (size_t i = 0; i < n; i++) {
		pthread_create(&th[i], NULL, writer_main, &w[i]);
		if (!wait_queued(a, i + 1))
			printf("  writer %zu did not queue\n", i);
	}
	pthread_mutex_unlock(&a->write_lock);
	for (size_t i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

static void
test_queued_appends_share_one_commit(void)
{
	struct tstore t;
	struct writer w[8];
	uint64_t before;
	uint32_t seen = 0;

	tstore_open(&t);
	memset(w, 0, sizeof(w));
	for (unsigned i = 0; i < 8; i++)
		w[i] = (struct writer){
		        .store = t.store, .mailbox = "INBOX", .id = i, .count = 1, .n_per_call = 1};
	struct store_mailbox *mb;
	enum store_error err;
	uint64_t modseq0;
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	modseq0 = tstatus(&t, "INBOX").highestmodseq;
	before = commits(t.acct->a);
	run_batch(&t, w, 8);
	test_int_eq(-1, commits(t.acct->a) - before, 1);
	/* One transaction, one new modseq for the mailbox: every message has
	   it, and the open view learnt of all eight at once. */
	test_int_eq(-1, tstatus(&t, "INBOX").highestmodseq, modseq0 + 1);
	struct store_mailbox_info info;
	store_mailbox_info_get(mb, &info);
	test_int_eq(-1, info.messages, 8);
	test_int_eq(-1, info.highestmodseq, modseq0 + 1);
	for (uint32_t uid = 1; uid <= 8; uid++) {
		uint32_t flags;
		uint64_t kw, modseq = 0;
		test_int_eq(uid, store_mailbox_flags_get(mb, uid, &flags, &kw, &modseq, &err), 0);
		test_int_eq(uid, modseq, modseq0 + 1);
	}
	test_int_eq(-1, store_mailbox_sync(mb, NULL, NULL, &err), 0);
	test_int_eq(-1, store_mailbox_count(mb), 8);
	store_mailbox_close(&mb);
	for (unsigned i = 0; i < 8; i++) {
		test_int_eq(i, w[i].rc, 0);
		/* Queue order is uid order. */
		test_int_eq(i, w[i].uids[0], i + 1);
		seen |= 1u << w[i].uids[0];
		expect_writer((int)i, &t, &w[i]);
	}
	test_int_eq(-1, seen, 0x1fe);
	test_int_eq(-1, tstatus(&t, "INBOX").messages, 8);
	test_int_eq(-1, tstatus(&t, "INBOX").uidnext, 9);
	tstore_close(&t);
}

/* Free-running, with fsync on (as the server runs): 8 threads append 40
   messages each; every row is there with a distinct uid, and the commits
   are fewer than the appends. */
static void
test_eight_writers_fsync_on(void)
{
	struct tstore t;
	struct store_settings set;
	struct writer w[8];
	pthread_t th[8];
	enum store_error err;
	uint64_t before;
	bool seen[8 * 40 + 1] = {false};

	store_settings_defaults(&set);
	t.dir = tdir_new();
	if (store_open(t.dir, &set, &t.store, &err) < 0 ||
	    store_account_open(t.store, 7, &t.acct, &err) < 0)
		abort();
	before = commits(t.acct->a);
	for (unsigned i = 0; i < 8; i++) {
		w[i] = (struct writer){.store = t.store,
		                       .mailbox = "INBOX",
		                       .id = i,
		                       .count = 40,
		                       .n_per_call = 1};
		pthread_create(&th[i], NULL, writer_main, &w[i]);
	}
	for (unsigned i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	uint64_t n_commits = commits(t.acct->a) - before;
	test_assert(-1, n_commits < 8 * 40);
	test_assert(-1, n_commits > 0);
	printf("  8 writers x 40 appends: %llu commits\n", (unsigned long long)n_commits);
	for (unsigned i = 0; i < 8; i++) {
		test_int_eq(i, w[i].rc, 0);
		for (unsigned k = 0; k < 40; k++) {
			uint32_t uid = w[i].uids[k];

			test_assert(i * 100 + k, uid >= 1 && uid <= 8 * 40 && !seen[uid]);
			if (uid >= 1 && uid <= 8 * 40)
				seen[uid] = true;
			/* One writer's uids rise. */
			test_assert(i * 100 + k, k == 0 || uid > w[i].uids[k - 1]);
		}
		expect_writer((int)i, &t, &w[i]);
	}
	test_int_eq(-1, tstatus(&t, "INBOX").messages, 8 * 40);
	test_int_eq(-1, tstatus(&t, "INBOX").uidnext, 8 * 40 + 1);
	tstore_close(&t);
}

/* In one batch: a MULTIAPPEND of 2, one of 4 that goes over the message
   quota (with a keyword nobody else uses), one to a missing mailbox, one of
   3 of blob files. The failing ones are rolled back alone: their rows,
   their keyword and their blob files are gone; the others commit, in one
   transaction, with consecutive uids. */
static void
test_failing_request_fails_alone(void)
{
	struct tstore t;
	struct store_settings set;
	struct writer w[4];
	enum store_error err;
	uint64_t before;
	const char *const kw = "failedkw";
	char report[4096];

	store_settings_defaults(&set);
	set.inline_max = 16; /* every message is a blob file */
	tstore_open_with(&t, &set);
	test_int_eq(-1, store_quota_set(t.acct, 0, 5, &err), 0);
	w[0] = (struct writer){
	        .store = t.store, .mailbox = "INBOX", .id = 0, .count = 2, .n_per_call = 2};
	w[1] = (struct writer){.store = t.store,
	                       .mailbox = "INBOX",
	                       .id = 1,
	                       .count = 4,
	                       .n_per_call = 4,
	                       .keyword = kw};
	w[2] = (struct writer){
	        .store = t.store, .mailbox = "Nope", .id = 2, .count = 1, .n_per_call = 1};
	w[3] = (struct writer){
	        .store = t.store, .mailbox = "INBOX", .id = 3, .count = 3, .n_per_call = 3};
	before = commits(t.acct->a);
	run_batch(&t, w, 4);
	test_int_eq(-1, commits(t.acct->a) - before, 1);
	test_int_eq(0, w[0].rc, 0);
	test_int_eq(1, w[1].rc, -1);
	test_int_eq(1, w[1].err, STORE_ERR_QUOTA);
	test_int_eq(2, w[2].rc, -1);
	test_int_eq(2, w[2].err, STORE_ERR_NOTFOUND);
	test_int_eq(3, w[3].rc, 0);
	test_int_eq(0, w[0].uids[0], 1);
	test_int_eq(0, w[0].uids[1], 2);
	test_int_eq(3, w[3].uids[0], 3);
	test_int_eq(3, w[3].uids[2], 5);
	expect_writer(0, &t, &w[0]);
	expect_writer(3, &t, &w[3]);
	test_int_eq(-1, tstatus(&t, "INBOX").messages, 5);
	test_int_eq(-1, tstatus(&t, "INBOX").uidnext, 6);
	test_int_eq(-1, store_keyword_mask(t.acct, &kw, 1), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM keywords"), 0);
	test_int_eq(-1, tblob_files(t.dir), 5);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	tstore_close(&t);
}

static void
test_failed_commit_fails_the_batch(void)
{
	struct tstore t;
	struct store_settings set;
	struct writer w[3];
	char report[4096];

	store_settings_defaults(&set);
	set.inline_max = 16;
	tstore_open_with(&t, &set);
	for (unsigned i = 0; i < 3; i++)
		w[i] = (struct writer){
		        .store = t.store, .mailbox = "INBOX", .id = i, .count = 1, .n_per_call = 1};
	store_fault_set(STORE_FAULT_COMMIT, 1);
	run_batch(&t, w, 3);
	store_fault_set(STORE_FAULT_NONE, 0);
	for (unsigned i = 0; i < 3; i++) {
		test_int_eq(i, w[i].rc, -1);
		test_int_eq(i, w[i].err, STORE_ERR_TEMP);
	}
	test_int_eq(-1, tstatus(&t, "INBOX").messages, 0);
	test_int_eq(-1, tblob_files(t.dir), 0);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	/* The next batch works. */
	run_batch(&t, w, 3);
	for (unsigned i = 0; i < 3; i++)
		test_int_eq(i, w[i].uids[0], i + 1);
	tstore_close(&t);
}

int
main(void)
{
	TEST_RUN(test_queued_appends_share_one_commit);
	TEST_RUN(test_eight_writers_fsync_on);
	TEST_RUN(test_failing_request_fails_alone);
	TEST_RUN(test_failed_commit_fails_the_batch);
	return TEST_DONE("test_store_commit");
}
