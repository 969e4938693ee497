/* SPDX-License-Identifier: MIT */
/* test_store_notify.c: tests for src/store/changes.c and view.c: change
   notification between sessions on two threads, snapshots, the view LRU. */
#include "store_test_util.h"

#include <pthread.h>

#include "store/store_int.h"
#include "test.h"

struct waker {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int wakes;
};

static void
on_wake(void *arg)
{
	struct waker *w = arg;

	/* Only signal: what libevent's event_active() would do. */
	pthread_mutex_lock(&w->lock);
	w->wakes++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static int
wait_wakes(struct waker *w, int n)
{
	int got;

	pthread_mutex_lock(&w->lock);
	while (w->wakes < n)
		pthread_cond_wait(&w->cond, &w->lock);
	got = w->wakes;
	pthread_mutex_unlock(&w->lock);
	return got;
}

/* What a sync reported, as text: "X2:5 E4 F1:1:3" ... */
struct log {
	char text[512];
};

static void
log_expunged(void *ctx, uint32_t seq, uint32_t uid)
{
	struct log *l = ctx;
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof(l->text) - n, "X%u:%u ", seq, uid);
}

static void
log_exists(void *ctx, uint32_t count)
{
	struct log *l = ctx;
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof(l->text) - n, "E%u ", count);
}

static void
log_flags(void *ctx, uint32_t seq, uint32_t uid, uint32_t flags, uint64_t kw, uint64_t modseq)
{
	struct log *l = ctx;
	size_t n = strlen(l->text);

	(void)kw;
	(void)modseq;
	snprintf(l->text + n, sizeof(l->text) - n, "F%u:%u:%u ", seq, uid, flags);
}

static void
count_flags(void *ctx, uint32_t seq, uint32_t uid, uint32_t flags, uint64_t kw, uint64_t modseq)
{
	(void)seq;
	(void)uid;
	(void)flags;
	(void)kw;
	(void)modseq;
	(*(int *)ctx)++;
}

static const struct store_sync_fns log_fns = {log_expunged, log_exists, log_flags};

struct writer_job {
	struct tstore *t;
	int step;
};

/* The other session, on another thread: its own handle on the mailbox. */
static void *
writer_thread(void *arg)
{
	struct writer_job *job = arg;
	struct store_account *acct;
	struct store_mailbox *mb;
	struct arena *a = arena_new(1024);
	struct store_flags_result res;
	enum store_error err;
	uint32_t two = 2, *gone;
	size_t n;

	store_account_open(job->t->store, 7, &acct, &err);
	store_mailbox_open(acct, "INBOX", 0, &mb, &err);
	if (job->step == 0) {
		struct store_append ap = {
		        .data = (const unsigned char *)"Subject: new\r\n\r\nx\r\n", .len = 20};
		store_message_append(acct, "INBOX", &ap, 1, NULL, NULL, &err);
	} else if (job->step == 1) {
		struct store_flags_change ch = {STORE_FLAGS_ADD, STORE_FLAG_SEEN, NULL, 0, 0};
		uint32_t uids[] = {1, 3};
		store_flags_update(mb, uids, 2, &ch, a, &res, &err);
	} else {
		store_message_remove(mb, &two, 1, a, &gone, &n, &err);
	}
	store_mailbox_close(&mb);
	store_account_close(&acct);
	arena_free(&a);
	return NULL;
}

static void
run_writer(struct tstore *t, int step)
{
	struct writer_job job = {t, step};
	pthread_t th;

	pthread_create(&th, NULL, writer_thread, &job);
	pthread_join(th, NULL);
}

static void
test_changes_reach_other_thread_in_order(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	struct waker w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	struct log l;
	enum store_error err;

	tstore_open(&t);
	for (int i = 0; i < 3; i++)
		tappend(&t, "INBOX", "Subject: a\r\n\r\nbody\r\n", 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	store_mailbox_watch(mb, on_wake, &w);

	run_writer(&t, 0); /* append uid 4 */
	test_int_eq(-1, wait_wakes(&w, 1), 1);
	test_int_eq(-1, store_mailbox_count(mb), 3); /* snapshot until sync */
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "E4 ");
	test_int_eq(-1, store_mailbox_uid(mb, 4), 4);

	run_writer(&t, 1); /* \Seen on 1 and 3 */
	test_int_eq(-1, wait_wakes(&w, 2), 2);
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "F1:1:1 F3:3:1 ");

	run_writer(&t, 2); /* expunge uid 2 */
	test_int_eq(-1, wait_wakes(&w, 3), 3);
	/* Until the sync, seq 2 is still uid 2, though expunged. */
	test_int_eq(-1, store_mailbox_uid(mb, 2), 2);
	uint32_t f;
	uint64_t kw, ms;
	test_int_eq(-1, store_mailbox_flags_get(mb, 2, &f, &kw, &ms, &err), -1);
	test_int_eq(-1, err, STORE_ERR_EXPUNGED);
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "X2:2 ");
	test_int_eq(-1, store_mailbox_count(mb), 3);
	test_int_eq(-1, store_mailbox_seq(mb, 4), 3);

	/* Nothing new: nothing reported. */
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "");

	/* A session's own changes do not wake it. */
	struct store_flags_result res;
	struct arena *a = arena_new(1024);
	struct store_flags_change ch = {STORE_FLAGS_ADD, STORE_FLAG_FLAGGED, NULL, 0, 0};
	uint32_t one = 1;
	test_int_eq(-1, store_flags_update(mb, &one, 1, &ch, a, &res, &err), 0);
	test_int_eq(-1, w.wakes, 3);
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "");
	arena_free(&a);

	/* Deleting the mailbox away from under the session. */
	test_int_eq(-1, store_mailbox_create(t.acct, "Gone", 0, &err), 0);
	struct store_mailbox *gone;
	test_int_eq(-1, store_mailbox_open(t.acct, "Gone", 0, &gone, &err), 0);
	test_int_eq(-1, store_mailbox_delete(t.acct, "Gone", &err), 0);
	test_int_eq(-1, store_mailbox_sync(gone, NULL, NULL, &err), -1);
	test_int_eq(-1, err, STORE_ERR_NOTFOUND);
	store_mailbox_close(&gone);

	store_mailbox_close(&mb);
	tstore_close(&t);
}

static void
test_flag_journal_overflow_falls_back(void)
{
	struct tstore t;
	struct store_mailbox *mb, *other;
	struct arena *a = arena_new(65536);
	struct store_flags_result res;
	enum store_error err;
	uint32_t uids[300];

	tstore_open(&t);
	struct store_append ap[300];
	for (int i = 0; i < 300; i++) {
		ap[i] = (struct store_append){.data = (const unsigned char *)"S: x\r\n\r\nb\r\n",
		                              .len = 11};
		uids[i] = (uint32_t)i + 1;
	}
	test_int_eq(-1, store_message_append(t.acct, "INBOX", ap, 300, NULL, NULL, &err), 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &other, &err), 0);
	struct store_flags_change ch = {STORE_FLAGS_ADD, STORE_FLAG_SEEN, NULL, 0, 0};
	test_int_eq(-1, store_flags_update(other, uids, 300, &ch, a, &res, &err), 0);
	/* 300 changes overflow the ring: every one is still reported (by a
	   modseq scan of the view), none twice. */
	int reported = 0;
	struct store_sync_fns fns = {NULL, NULL, count_flags};
	test_int_eq(-1, store_mailbox_sync(mb, &fns, &reported, &err), 0);
	test_int_eq(-1, reported, 300);
	uint32_t f;
	uint64_t kw, ms;
	test_int_eq(-1, store_mailbox_flags_get(mb, 300, &f, &kw, &ms, &err), 0);
	test_int_eq(-1, f, STORE_FLAG_SEEN);
	store_mailbox_close(&other);
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

static void
test_view_cache_is_bounded(void)
{
	struct store_settings set;
	struct tstore t;
	enum store_error err;
	char name[32];

	store_settings_defaults(&set);
	set.view_cache_bytes = 20000; /* a few small views */
	tstore_open_with(&t, &set);
	for (int i = 0; i < 40; i++) {
		struct store_mailbox *mb;

		snprintf(name, sizeof(name), "box%d", i);
		test_int_eq(i, store_mailbox_create(t.acct, name, 0, &err), 0);
		tappend(&t, name, "Subject: v\r\n\r\nv\r\n", 0);
		test_int_eq(i, store_mailbox_open(t.acct, name, 0, &mb, &err), 0);
		test_int_eq(i, store_mailbox_count(mb), 1);
		store_mailbox_close(&mb);
		test_assert(i, t.acct->a->views_bytes <= set.view_cache_bytes);
	}
	size_t n = 0;
	for (struct view *v = t.acct->a->views; v != NULL; v = v->next)
		n++;
	test_assert(-1, n > 0 && n < 40);
	/* The most recently used one is still cached, and reopening works. */
	test_int_eq(-1, (int)t.acct->a->views->mailbox_id, (int)tstatus(&t, "box39").id);
	struct store_mailbox *mb;
	test_int_eq(-1, store_mailbox_open(t.acct, "box0", 0, &mb, &err), 0);
	test_int_eq(-1, store_mailbox_count(mb), 1);
	store_mailbox_close(&mb);
	tstore_close(&t);
}

static void
test_idle_session_is_small(void)
{
	/* What one selected, idle session costs the store (docs/STORE.md). */
	test_assert(-1, sizeof(struct store_mailbox) + sizeof(struct store_account) < 256);
}

int
main(void)
{
	TEST_RUN(test_changes_reach_other_thread_in_order);
	TEST_RUN(test_flag_journal_overflow_falls_back);
	TEST_RUN(test_view_cache_is_bounded);
	TEST_RUN(test_idle_session_is_small);
	return TEST_DONE("test_store_notify");
}
