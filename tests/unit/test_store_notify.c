/* SPDX-License-Identifier: MIT */
/* test_store_notify.c: tests for src/store/changes.c, view.c and watch.c:
   change notification between sessions on two threads and from other
   processes (tests/unit/store_writer.c, run beside this binary), catch-up
   from the backend, snapshots, the view LRU. */
#include "store_test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

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

/* Waits up to ms for the nth wake; returns the wakes so far. */
static int
wait_wakes_for(struct waker *w, int n, int ms)
{
	struct timespec until;
	int got;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (w->wakes < n && pthread_cond_timedwait(&w->cond, &w->lock, &until) != ETIMEDOUT)
		;
	got = w->wakes;
	pthread_mutex_unlock(&w->lock);
	return got;
}

static int
wait_wakes(struct waker *w, int n)
{
	return wait_wakes_for(w, n, 10000);
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

/* Another session changing one message twice: one FETCH FLAGS, with the
   flags as they are now. */
static void
test_one_flags_response_per_message(void)
{
	struct tstore t;
	struct store_mailbox *mb, *other;
	struct arena *a = arena_new(1024);
	struct store_flags_result res;
	struct store_flags_change seen = {STORE_FLAGS_ADD, STORE_FLAG_SEEN, NULL, 0, 0};
	struct store_flags_change flagged = {STORE_FLAGS_ADD, STORE_FLAG_FLAGGED, NULL, 0, 0};
	enum store_error err;
	uint32_t one = 1;
	struct log l;

	tstore_open(&t);
	tappend(&t, "INBOX", "Subject: a\r\n\r\nbody\r\n", 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &other, &err), 0);
	test_int_eq(-1, store_flags_update(other, &one, 1, &seen, a, &res, &err), 0);
	test_int_eq(-1, store_flags_update(other, &one, 1, &flagged, a, &res, &err), 0);
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "F1:1:5 ");
	store_mailbox_close(&other);
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

/* ---- Changes made by another process -------------------------------- */

static char writer_path[4096]; /* store_writer, beside this binary */

/* Runs "store_writer DIR 7 args..." (NULL-terminated) as a process of its
   own; returns its exit status. */
static int
run_elsewhere(struct tstore *t, ...)
{
	char *argv[16];
	int n = 0, status;
	va_list ap;
	pid_t pid;

	argv[n++] = writer_path;
	argv[n++] = t->dir;
	argv[n++] = (char *)"7";
	va_start(ap, t);
	while (n < 15 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* Only exec-safe calls: this process has threads. */
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execv(writer_path, argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Waits (up to 2 s: less than the sweep, so the datagram must have
   worked) until mb's view has caught up with what the backend says the
   mailbox is; returns whether it did. */
static bool
wait_caught_up(struct tstore *t, struct store_mailbox *mb, const char *box, struct waker *w)
{
	for (int i = 0; i < 20; i++) {
		struct store_mailbox_info vi;

		store_mailbox_info_get(mb, &vi);
		if (vi.highestmodseq == tstatus(t, box).highestmodseq)
			return true;
		wait_wakes_for(w, w->wakes + 1, 100);
	}
	return false;
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
test_changes_from_another_process_reach_a_watch(void)
{
	struct tstore t;
	struct store_mailbox *mb, *gone;
	struct waker w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	struct waker wg = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	struct arena *a = arena_new(1024);
	enum store_error err;
	struct log l;

	tstore_open(&t);
	for (int i = 0; i < 3; i++)
		tappend(&t, "INBOX", "Subject: a\r\n\r\nbody\r\n", 0);
	test_int_eq(-1, store_watch_start(t.store, &err), 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	store_mailbox_watch(mb, on_wake, &w);

	uint64_t start = now_us();
	test_int_eq(-1, run_elsewhere(&t, "append", "INBOX", "1", NULL), 0);
	test_int_eq(-1, wait_wakes_for(&w, 1, 2000) >= 1, 1); /* not the 5 s sweep */
	printf("  another process's append to a wake-up: %.1f ms (process start included)\n",
	       (double)(now_us() - start) / 1000.0);
	test_int_eq(-1, store_mailbox_count(mb), 3); /* snapshot until sync */
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "E4 ");
	test_int_eq(-1, store_mailbox_uid(mb, 4), 4);

	test_int_eq(-1, run_elsewhere(&t, "flags", "INBOX", "+seen", "1", "3", NULL), 0);
	test_assert(-1, wait_caught_up(&t, mb, "INBOX", &w));
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "F1:1:1 F3:3:1 ");

	test_int_eq(-1, run_elsewhere(&t, "remove", "INBOX", "2", NULL), 0);
	test_assert(-1, wait_caught_up(&t, mb, "INBOX", &w));
	test_int_eq(-1, store_mailbox_uid(mb, 2), 2); /* until the sync */
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "X2:2 ");

	/* Several changes before one sync (uids 1 3 4 now): each told once,
	   expunges in descending order, seqs as the client knows them. */
	test_int_eq(-1, run_elsewhere(&t, "remove", "INBOX", "1", "4", NULL), 0);
	test_int_eq(-1, run_elsewhere(&t, "flags", "INBOX", "+flagged", "3", NULL), 0);
	test_int_eq(-1, run_elsewhere(&t, "append", "INBOX", "1", NULL), 0);
	test_assert(-1, wait_caught_up(&t, mb, "INBOX", &w));
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "X3:4 X1:1 E2 F1:3:5 ");
	test_int_eq(-1, store_mailbox_uid(mb, 2), 5);
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "");

	/* A keyword that process numbered: this one learns its name. */
	test_int_eq(-1, run_elsewhere(&t, "flags", "INBOX", "+$Work", "3", NULL), 0);
	test_assert(-1, wait_caught_up(&t, mb, "INBOX", &w));
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "F1:3:5 ");
	uint32_t f;
	uint64_t kw, ms;
	const char **names;
	test_int_eq(-1, store_mailbox_flags_get(mb, 3, &f, &kw, &ms, &err), 0);
	size_t n_names = store_keyword_names(t.acct, kw, a, &names);
	test_int_eq(-1, n_names, 1);
	test_str_eq(-1, n_names == 1 ? names[0] : NULL, "$Work");
	test_int_eq(-1, store_keyword_mask(t.acct, (const char *[]){"$work"}, 1), kw);

	/* A mailbox deleted elsewhere: the session finds it gone. */
	test_int_eq(-1, store_mailbox_create(t.acct, "Gone", 0, &err), 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "Gone", 0, &gone, &err), 0);
	store_mailbox_watch(gone, on_wake, &wg);
	test_int_eq(-1, run_elsewhere(&t, "delete", "Gone", NULL), 0);
	test_int_eq(-1, wait_wakes_for(&wg, 1, 2000), 1);
	test_int_eq(-1, store_mailbox_sync(gone, NULL, NULL, &err), -1);
	test_int_eq(-1, err, STORE_ERR_NOTFOUND);
	store_mailbox_close(&gone);

	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

/* A datagram that never arrives (socket gone, or no listener when the
   other process wrote): the sweep finds the change. */
static void
test_sweep_finds_what_nobody_said(void)
{
	struct store_settings set;
	struct tstore t;
	struct store_mailbox *mb;
	struct waker w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	enum store_error err;
	struct log l;

	store_settings_defaults(&set);
	set.watch_sweep_ms = 100;
	tstore_open_with(&t, &set);
	tappend(&t, "INBOX", "Subject: a\r\n\r\nbody\r\n", 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	store_mailbox_watch(mb, on_wake, &w);

	/* Nobody listens yet. */
	test_int_eq(-1, run_elsewhere(&t, "append", "INBOX", "1", NULL), 0);
	test_int_eq(-1, wait_wakes_for(&w, 1, 300), 0);
	test_int_eq(-1, store_watch_start(t.store, &err), 0);
	test_int_eq(-1, wait_wakes_for(&w, 1, 3000), 1);
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "E2 ");

	/* The socket removed under the listener: datagrams fail. */
	char *sock = xasprintf("%s/store-notify.sock", t.dir);
	test_int_eq(-1, unlink(sock), 0);
	free(sock);
	test_int_eq(-1, run_elsewhere(&t, "flags", "INBOX", "+seen", "1", NULL), 0);
	test_int_eq(-1, wait_wakes_for(&w, 2, 3000), 2);
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "F1:1:1 ");
	store_mailbox_close(&mb);
	tstore_close(&t);
}

/* Under the account's pool lock: no connection kept or taken, and the
   files' print taken and trusted. */
static bool
account_is_closed(struct account *a)
{
	bool closed;

	pthread_mutex_lock(&a->pool_lock);
	closed = a->idle == NULL && a->n_out == 0 && a->print_valid && a->print_settled;
	pthread_mutex_unlock(&a->pool_lock);
	return closed;
}

/* An account whose session only watches loses its connections after
   pool_idle_ms (the sweep closes them), the sweeps that follow cost no
   connection while nothing changes, and a change by another process that
   no datagram announced is still found: by the files' print. */
static void
test_idle_account_closes_connections(void)
{
	struct store_settings set;
	struct tstore t;
	struct store_mailbox *mb;
	struct waker w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	enum store_error err;
	struct log l;
	struct account *a;
	int waited = 0;

	store_settings_defaults(&set);
	set.watch_sweep_ms = 50;
	set.pool_idle_ms = 100;
	tstore_open_with(&t, &set);
	a = t.acct->a;
	tappend(&t, "INBOX", "Subject: a\r\n\r\nbody\r\n", 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	store_mailbox_watch(mb, on_wake, &w);
	test_int_eq(-1, store_watch_start(t.store, &err), 0);
	char *sock = xasprintf("%s/store-notify.sock", t.dir);
	test_int_eq(-1, unlink(sock), 0); /* no datagram will arrive */
	free(sock);

	/* A settled print needs file times a second older than a sweep. */
	while (!account_is_closed(a) && waited < 5000 * TEST_SLOWDOWN) {
		usleep(20000);
		waited += 20;
	}
	test_assert(-1, account_is_closed(a));
	usleep(300000); /* six sweeps: none may open a connection */
	test_assert(-1, account_is_closed(a));
	test_int_eq(-1, wait_wakes_for(&w, 1, 1), 0);

	test_int_eq(-1, run_elsewhere(&t, "append", "INBOX", "1", NULL), 0);
	test_int_eq(-1, wait_wakes_for(&w, 1, 3000), 1);
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "E2 ");
	store_mailbox_close(&mb);
	tstore_close(&t);
}

static bool
account_has_no_connection(struct account *a)
{
	bool none;

	pthread_mutex_lock(&a->pool_lock);
	none = a->idle == NULL && a->n_out == 0 && a->print_valid;
	pthread_mutex_unlock(&a->pool_lock);
	return none;
}

/* Opens account id and its INBOX (a view), then closes both handles: the
   account's connection goes back to the pool, the most recently used. */
static void
use_account(struct tstore *t, uint64_t id)
{
	struct store_account *acct;
	struct store_mailbox *mb;
	enum store_error err;

	test_int_eq(-1, store_account_open(t->store, id, &acct, &err), 0);
	test_int_eq(-1, store_mailbox_open(acct, "INBOX", 0, &mb, &err), 0);
	store_mailbox_close(&mb);
	store_account_close(&acct);
}

/* store.max_idle_dbs bounds kept connections across accounts: using a
   second account closes the first one's at once, not after pool_idle_ms,
   and the watch then polls it by its files' print. A commit another
   process made before that moment closes with it too (its data_version
   moved, the view has not caught up): the watch's next sweep catches the
   view up instead of trusting the print; one made after is found by the
   print. */
static void
test_idle_connections_are_bounded_in_all(void)
{
	struct store_settings set;
	struct tstore t;
	struct store_mailbox *mb;
	struct waker w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	enum store_error err;
	struct log l;
	struct account *a;

	store_settings_defaults(&set);
	set.max_idle_dbs = 1;
	set.watch_sweep_ms = 4000;
	tstore_open_with(&t, &set);
	a = t.acct->a;
	tappend(&t, "INBOX", "Subject: a\r\n\r\nbody\r\n", 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	store_mailbox_watch(mb, on_wake, &w);
	test_int_eq(-1, store_watch_start(t.store, &err), 0);
	char *sock = xasprintf("%s/store-notify.sock", t.dir);
	test_int_eq(-1, unlink(sock), 0); /* no datagram will arrive */
	free(sock);
	test_assert(-1, !account_has_no_connection(a));

	/* Another account's use takes the only place: account 7 has none. */
	use_account(&t, 8);
	test_assert(-1, account_has_no_connection(a));
	test_int_eq(-1, wait_wakes_for(&w, 1, 300), 0);

	/* Changed elsewhere while closed: the next sweep finds it (by the
	   print, or by data_version while the print is unsettled). */
	test_int_eq(-1, run_elsewhere(&t, "append", "INBOX", "1", NULL), 0);
	test_int_eq(-1, wait_wakes_for(&w, 1, 9000), 1);
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "E2 ");

	/* Changed elsewhere while 7's connection is kept, a second before
	   account 8 takes the place: the connection goes all the same, and
	   the change is found (a connection whose data_version moved asks
	   for a catch-up, no_commit_since_baseline()). */
	use_account(&t, 7); /* the most recently used again */
	test_int_eq(-1, run_elsewhere(&t, "append", "INBOX", "1", NULL), 0);
	usleep(1200000); /* the print would be settled: only data_version knows */
	use_account(&t, 8);
	test_assert(-1, account_has_no_connection(a));
	test_int_eq(-1, wait_wakes_for(&w, 2, 9000), 2);
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "E3 ");
	store_mailbox_close(&mb);
	tstore_close(&t);
}

/* Whether account id is in the registry (open or lingering), and how many
   messages its first view holds (-1: no view). */
static bool
is_registered(struct tstore *t, uint64_t id, long *view_count)
{
	struct account *a = account_lookup(t->store, id);

	if (a == NULL)
		return false;
	pthread_mutex_lock(&a->views_lock);
	*view_count = a->views != NULL ? (long)a->views->count : -1;
	pthread_mutex_unlock(&a->views_lock);
	account_unref(a);
	return true;
}

/* store.account_linger: an account whose last handle closed keeps its
   views until its time is up, the watch keeps them current meanwhile (a
   commit from another process reaches a view nobody holds), the next open
   finds them loaded, and the watch's sweep frees the account once its time
   is up. */
static void
test_closed_account_lingers_with_current_views(void)
{
	struct store_settings set;
	struct store_account *acct;
	struct store_mailbox *mb;
	enum store_error err;
	struct tstore t;
	long count = 0;

	store_settings_defaults(&set);
	set.linger_ms = 1500;
	set.watch_sweep_ms = 100;
	tstore_open_with(&t, &set);
	tappend(&t, "INBOX", "Subject: a\r\n\r\nbody\r\n", 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	store_mailbox_close(&mb);
	test_int_eq(-1, store_watch_start(t.store, &err), 0);
	store_account_close(&t.acct);
	test_assert(-1, is_registered(&t, 7, &count));
	test_int_eq(-1, count, 1);

	/* Changed by another process while nobody has it open. */
	test_int_eq(-1, run_elsewhere(&t, "append", "INBOX", "1", NULL), 0);
	for (int i = 0; i < 300 && is_registered(&t, 7, &count) && count != 2; i++)
		usleep(10000);
	test_int_eq(-1, count, 2);

	/* Opened again: the same account, its view already loaded. */
	test_int_eq(-1, store_account_open(t.store, 7, &acct, &err), 0);
	test_assert(-1, is_registered(&t, 7, &count));
	test_int_eq(-1, count, 2);
	store_account_close(&acct);

	/* Its time up, the sweep lets it go. */
	for (int i = 0; i < 400 && is_registered(&t, 7, &count); i++)
		usleep(10000);
	test_assert(-1, !is_registered(&t, 7, &count));
	tstore_close(&t);
}

/* store.account_linger_memory: past it the least recently closed
   lingering account goes; one whose views alone exceed it does not
   linger; with account_linger 0 nothing lingers. */
static void
test_lingering_accounts_are_bounded(void)
{
	struct store_settings set;
	struct tstore t;
	long count;

	store_settings_defaults(&set);
	set.linger_ms = 60000;
	tstore_open_with(&t, &set);
	use_account(&t, 8);
	struct account *a = account_lookup(t.store, 8);
	test_assert(-1, a != NULL);
	size_t charged = a->linger_charged;
	account_unref(a);
	test_assert(-1, charged > 0);

	/* Room for one: 9 closing sends 8 away. */
	t.store->set.linger_bytes = charged + charged / 2;
	use_account(&t, 9);
	test_assert(-1, !is_registered(&t, 8, &count));
	test_assert(-1, is_registered(&t, 9, &count));

	/* Room for none: 10 does not stay, 9 does. */
	t.store->set.linger_bytes = charged / 2;
	use_account(&t, 10);
	test_assert(-1, !is_registered(&t, 10, &count));
	test_assert(-1, is_registered(&t, 9, &count));

	/* An account without views (a delivery's) never lingers. */
	struct store_account *h;
	enum store_error err;
	t.store->set.linger_bytes = 64ull << 20;
	test_int_eq(-1, store_account_open(t.store, 11, &h, &err), 0);
	store_account_close(&h);
	test_assert(-1, !is_registered(&t, 11, &count));
	tstore_close(&t); /* frees 9: no close-leak */

	store_settings_defaults(&set); /* linger_ms 0 */
	tstore_open_with(&t, &set);
	use_account(&t, 8);
	test_assert(-1, !is_registered(&t, 8, &count));
	tstore_close(&t);
}

/* One listener per data directory: a socket file a dead listener left is
   replaced; a second store that wants to listen only sweeps, sends like
   any writer, and leaves the listener's socket alone when it closes. */
static void
test_one_listener_per_directory(void)
{
	struct tstore t;
	struct store_settings set;
	struct store *second;
	struct store_account *acct2;
	struct store_mailbox *mb;
	struct waker w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	enum store_error err;
	int fd;

	tstore_open(&t);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/store-notify.sock", t.dir);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	test_int_eq(-1, bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd); /* the file stays, nobody behind it */
	test_int_eq(-1, store_watch_start(t.store, &err), 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	store_mailbox_watch(mb, on_wake, &w);

	store_settings_defaults(&set);
	set.no_fsync = true;
	test_int_eq(-1, store_open(t.dir, &set, &second, &err), 0);
	test_int_eq(-1, store_watch_start(second, &err), 0); /* sweeps only */
	test_int_eq(-1, store_account_open(second, 7, &acct2, &err), 0);
	struct store_append ap = {.data = (const unsigned char *)"Subject: 2\r\n\r\nx\r\n",
	                          .len = 17};
	test_int_eq(-1, store_message_append(acct2, "INBOX", &ap, 1, NULL, NULL, &err), 0);
	test_int_eq(-1, wait_wakes_for(&w, 1, 2000), 1);
	store_account_close(&acct2);
	store_close(&second);
	test_int_eq(-1, access(addr.sun_path, F_OK), 0);
	test_int_eq(-1, run_elsewhere(&t, "append", "INBOX", "1", NULL), 0);
	test_int_eq(-1, wait_wakes_for(&w, 2, 2000), 2);
	store_mailbox_close(&mb);
	/* The listener removes its socket when it closes. */
	store_account_close(&t.acct);
	store_close(&t.store);
	test_int_eq(-1, access(addr.sun_path, F_OK), -1);
	tdir_remove(t.dir);
}

/* This process's write right after another process's: the view sees the
   gap in modseqs and catches up, so the session hears of both, and of the
   other's flag change but not its own. */
static void
test_own_write_after_anothers_catches_up(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	struct waker w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	struct arena *a = arena_new(1024);
	struct store_flags_result res;
	struct store_flags_change ch = {STORE_FLAGS_ADD, STORE_FLAG_FLAGGED, NULL, 0, 0};
	enum store_error err;
	uint32_t two = 2;
	struct log l;

	tstore_open(&t); /* no watch: only the gap tells */
	for (int i = 0; i < 3; i++)
		tappend(&t, "INBOX", "Subject: a\r\n\r\nbody\r\n", 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	store_mailbox_watch(mb, on_wake, &w);
	test_int_eq(-1, run_elsewhere(&t, "append", "INBOX", "1", NULL), 0);
	test_int_eq(-1, tappend(&t, "INBOX", "Subject: own\r\n\r\nbody\r\n", 0), 5);
	test_int_eq(-1, w.wakes, 1);
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "E5 ");
	test_int_eq(-1, store_mailbox_uid(mb, 4), 4);
	test_int_eq(-1, store_mailbox_uid(mb, 5), 5);

	test_int_eq(-1, run_elsewhere(&t, "flags", "INBOX", "+seen", "1", NULL), 0);
	test_int_eq(-1, store_flags_update(mb, &two, 1, &ch, a, &res, &err), 0);
	test_int_eq(-1, w.wakes, 2); /* woken: not all of it was its own */
	memset(&l, 0, sizeof(l));
	test_int_eq(-1, store_mailbox_sync(mb, &log_fns, &l, &err), 0);
	test_str_eq(-1, l.text, "F1:1:1 ");
	uint32_t f;
	uint64_t kw, ms;
	test_int_eq(-1, store_mailbox_flags_get(mb, 2, &f, &kw, &ms, &err), 0);
	test_int_eq(-1, f, STORE_FLAG_FLAGGED);
	test_int_eq(-1, ms, tstatus(&t, "INBOX").highestmodseq);
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

/* The mailbox list changed by another process reaches an account watch
   (IMAP NOTIFY's MailboxName) through the same datagram as view changes. */
static void
test_list_change_from_another_process_wakes_account_watch(void)
{
	struct tstore t;
	struct waker w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	enum store_error err;

	tstore_open(&t);
	test_int_eq(-1, store_watch_start(t.store, &err), 0);
	store_account_watch(t.acct, on_wake, &w);
	test_int_eq(0, run_elsewhere(&t, "create", "Elsewhere", NULL), 0);
	test_int_eq(0, wait_wakes_for(&w, 1, 2000) >= 1, 1); /* not the 5 s sweep */
	/* This process's own change wakes it directly, without a datagram. */
	int before = w.wakes;
	struct store_account *other;
	test_int_eq(1, store_account_open(t.store, 7, &other, &err), 0);
	test_int_eq(1, store_mailbox_create(other, "Here", 0, &err), 0);
	test_int_eq(1, wait_wakes_for(&w, before + 1, 2000) > before, 1);
	store_account_close(&other);
	store_account_watch(t.acct, NULL, NULL);
	tstore_close(&t);
}

/* An expunge of this process that reaches the view by catching up (another
   process committed in between, so it is not the view's next change) still
   leaves the message readable for a session that has not synced. */
static void
test_expunge_through_catch_up_stays_readable(void)
{
	static const char body[] = "Subject: kept\r\n\r\nstill here\r\n";
	struct tstore t;
	struct store_mailbox *reader, *writer;
	struct store_flags_change ch = {STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0, 0};
	struct store_flags_result res;
	struct store_message_info info;
	struct arena *a = arena_new(1024);
	enum store_error err;
	uint32_t one = 1, *gone;
	size_t n;
	struct buf b;

	tstore_open(&t); /* no watch: the gap is found at the expunge */
	tappend(&t, "INBOX", body, 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &reader, &err), 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &writer, &err), 0);
	test_int_eq(-1, store_flags_update(writer, &one, 1, &ch, a, &res, &err), 0);
	test_int_eq(-1, run_elsewhere(&t, "append", "INBOX", "1", NULL), 0);
	test_int_eq(0, store_message_expunge(writer, &one, 1, a, &gone, &n, &err), 0);
	test_int_eq(0, n, 1);
	test_int_eq(1, tstatus(&t, "INBOX").messages, 1);
	test_int_eq(2, store_message_lookup(reader, &one, 1, 0, a, &info, &err), 0);
	test_int_eq(2, info.uid, 1);
	buf_init(&b);
	struct store_reader *r = store_reader_new();
	test_int_eq(3, store_reader_open(r, reader, &info, &err), 0);
	test_int_eq(3, store_reader_read(r, 0, store_reader_size(r), &b, &err), 0);
	test_int_eq(3, b.len, strlen(body));
	store_reader_free(&r);
	buf_deinit(&b);
	/* After its sync the session numbers it no more. */
	test_int_eq(4, store_mailbox_sync(reader, NULL, NULL, &err), 0);
	test_int_eq(4, store_message_lookup(reader, &one, 1, 0, a, &info, &err), 0);
	test_int_eq(4, info.uid, 0);
	store_mailbox_close(&reader);
	store_mailbox_close(&writer);
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
main(int argc, char **argv)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	(void)argc;
	self[n > 0 ? n : 0] = '\0';
	snprintf(writer_path, sizeof(writer_path), "%s/store_writer",
	         n > 0 ? dirname(self) : dirname(argv[0]));
	TEST_RUN(test_changes_reach_other_thread_in_order);
	TEST_RUN(test_flag_journal_overflow_falls_back);
	TEST_RUN(test_one_flags_response_per_message);
	TEST_RUN(test_changes_from_another_process_reach_a_watch);
	TEST_RUN(test_sweep_finds_what_nobody_said);
	TEST_RUN(test_idle_account_closes_connections);
	TEST_RUN(test_idle_connections_are_bounded_in_all);
	TEST_RUN(test_closed_account_lingers_with_current_views);
	TEST_RUN(test_lingering_accounts_are_bounded);
	TEST_RUN(test_one_listener_per_directory);
	TEST_RUN(test_own_write_after_anothers_catches_up);
	TEST_RUN(test_list_change_from_another_process_wakes_account_watch);
	TEST_RUN(test_expunge_through_catch_up_stays_readable);
	TEST_RUN(test_view_cache_is_bounded);
	TEST_RUN(test_idle_session_is_small);
	return TEST_DONE("test_store_notify");
}
