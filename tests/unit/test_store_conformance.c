/* SPDX-License-Identifier: MIT */
/*
 * test_store_conformance.c: the invariants every store backend keeps
 * (docs/STORE.md "Invariants"), checked through store.h alone, so that one
 * table of tests runs against each backend by name: "sqlite" today. A new
 * backend adds its name to backends[] and must pass every row. Each test
 * gets a fresh store of that backend with account 7 open (t->store,
 * t->acct); a second store on the same directory plays another process.
 * check_invariants() recounts everything a client can see and compares it
 * with what the store keeps; the tests run it after each step.
 */
#include "store_test_util.h"

#include <pthread.h>
#include <time.h>

#include "test.h"

static const char *const backends[] = {"sqlite"};
static const char *backend; /* the one running */

static void
topen(struct tstore *t)
{
	struct store_settings set;

	store_settings_defaults(&set);
	set.backend = backend;
	set.inline_max = 1024; /* both kinds of message bytes, where a backend has kinds */
	tstore_open_with(t, &set);
}

static uint32_t
append(struct tstore *t, const char *box, unsigned i, uint32_t flags)
{
	char msg[2048];
	size_t len =
	        (size_t)snprintf(msg, sizeof(msg),
	                         "Subject: m%u\r\nMessage-ID: <m%u@c>\r\n\r\nbody %u\r\n", i, i, i);

	/* Every third one larger than inline_max. */
	for (; i % 3 == 2 && len < 1500; len += 6)
		memcpy(msg + len - 2, "xxxx\r\n", 7);
	return tappend(t, box, msg, flags);
}

static int
flags_op(struct store_mailbox *mb, enum store_flags_op op, uint32_t flags, const char *kw,
         const uint32_t *uids, size_t n, struct store_flags_result *res)
{
	struct store_flags_change ch = {op, flags, kw ? &kw : NULL, kw ? 1 : 0, 0};
	struct arena *a = arena_new(1024);
	enum store_error err;
	int rc = store_flags_update(mb, uids, n, &ch, a, res, &err);

	/* The result's arrays are in a: keep only the scalars. */
	res->changed = res->failed = NULL;
	arena_free(&a);
	return rc;
}

static int
remove_uids(struct store_mailbox *mb, const uint32_t *uids, size_t n)
{
	struct arena *a = arena_new(1024);
	enum store_error err;
	uint32_t *gone;
	size_t ng;
	int rc = store_message_remove(mb, uids, n, a, &gone, &ng, &err);

	arena_free(&a);
	return rc;
}

/*
 * Counters = recount, uidnext > every uid, modseqs <= highestmodseq,
 * usage = the sum over mailboxes, and the backend's own check is clean
 * (for SQLite: blob reference counts = references, every blob present).
 */
static void
check_invariants(struct tstore *t, int row)
{
	struct arena *a = arena_new(8192);
	struct store_mailbox_info *list;
	struct store_quota q;
	enum store_error err;
	uint64_t sum_size = 0, sum_messages = 0;
	size_t n;
	char report[4096];

	test_int_eq(row, store_mailbox_list(t->acct, a, &list, &n, &err), 0);
	for (size_t i = 0; i < n; i++) {
		struct store_mailbox *mb;
		uint32_t count, unseen = 0, deleted = 0;
		const uint32_t *uids;
		uint64_t size = 0;

		if (store_mailbox_open(t->acct, list[i].name, STORE_OPEN_READONLY, &mb, &err) < 0) {
			test_fail_(row, "open %s: %s", list[i].name, store_error_str(err));
			continue;
		}
		uids = store_mailbox_uids(mb, &count);
		for (uint32_t k = 0; k < count; k++) {
			struct store_message_info info;
			uint32_t f;
			uint64_t kw, modseq;

			test_assert(row, store_mailbox_flags_get(mb, uids[k], &f, &kw, &modseq,
			                                         &err) == 0);
			test_assert(row, modseq <= list[i].highestmodseq);
			test_assert(row, uids[k] < list[i].uidnext);
			test_assert(row, k == 0 || uids[k] > uids[k - 1]);
			unseen += !(f & STORE_FLAG_SEEN);
			deleted += (f & STORE_FLAG_DELETED) != 0;
			test_assert(row, store_message_lookup(mb, &uids[k], 1, STORE_FETCH_BASIC, a,
			                                      &info, &err) == 0);
			size += info.size;
		}
		test_int_eq(row, list[i].messages, count);
		test_int_eq(row, list[i].unseen, unseen);
		test_int_eq(row, list[i].deleted, deleted);
		test_int_eq(row, list[i].size, size);
		sum_size += size;
		sum_messages += count;
		store_mailbox_close(&mb);
	}
	test_int_eq(row, store_quota_get(t->acct, &q, &err), 0);
	test_int_eq(row, q.messages_used, sum_messages);
	test_int_eq(row, q.storage_used, sum_size);
	test_int_eq(row, tcheck(t, false, report, sizeof(report)), 0);
	arena_free(&a);
}

/* Counters, usage, uidnext and references hold after every kind of write. */
static void
test_counters_and_usage_follow_every_write(struct tstore *t)
{
	struct store_mailbox *inbox;
	struct store_flags_result res;
	enum store_error err;
	uint32_t src[8], dst[8], uids[8];
	size_t n;

	for (unsigned i = 0; i < 8; i++)
		uids[i] = append(t, "INBOX", i, i % 2 ? STORE_FLAG_SEEN : 0);
	check_invariants(t, 1);
	test_int_eq(-1, store_mailbox_open(t->acct, "INBOX", 0, &inbox, &err), 0);
	test_int_eq(-1,
	            flags_op(inbox, STORE_FLAGS_ADD, STORE_FLAG_DELETED, "$Junk", uids, 3, &res),
	            0);
	check_invariants(t, 2);
	test_int_eq(-1, flags_op(inbox, STORE_FLAGS_REMOVE, STORE_FLAG_SEEN, NULL, uids, 8, &res),
	            0);
	check_invariants(t, 3);
	test_int_eq(-1,
	            store_message_copy(inbox, uids, 5, "Archive", false, NULL, src, dst, &n, &err),
	            0);
	check_invariants(t, 4);
	test_int_eq(-1,
	            store_message_copy(inbox, uids + 5, 2, "Trash", true, NULL, src, dst, &n, &err),
	            0);
	check_invariants(t, 5);
	uint32_t *gone;
	struct arena *a = arena_new(1024);
	test_int_eq(-1, store_message_expunge(inbox, NULL, 0, a, &gone, &n, &err), 0);
	test_int_eq(-1, n, 3);
	arena_free(&a);
	check_invariants(t, 6);
	test_int_eq(-1, store_mailbox_create(t->acct, "Box/Sub", 0, &err), 0);
	test_int_eq(
	        -1,
	        store_message_copy(inbox, uids + 7, 1, "Box/Sub", false, NULL, src, dst, &n, &err),
	        0);
	test_int_eq(-1, store_mailbox_rename(t->acct, "Box", "Renamed", &err), 0);
	check_invariants(t, 7);
	test_int_eq(-1, store_mailbox_delete(t->acct, "Renamed/Sub", &err), 0);
	test_int_eq(-1, store_mailbox_delete(t->acct, "Archive", &err), 0);
	check_invariants(t, 8);
	test_int_eq(-1, store_mailbox_rename(t->acct, "INBOX", "Old", &err), 0);
	check_invariants(t, 9);
	store_mailbox_close(&inbox);
}

/* Every write transaction that changes a mailbox gives it a new, higher
   highestmodseq; what it changed carries that value, the rest keeps its
   own; a write that changes nothing takes none. */
static void
test_every_change_takes_a_new_modseq(struct tstore *t)
{
	struct store_mailbox *mb;
	struct store_flags_result res;
	enum store_error err;
	uint32_t uids[4], src[4], dst[4], f;
	uint64_t before, after, kw, m1, m3;
	size_t n;

	for (unsigned i = 0; i < 4; i++)
		uids[i] = append(t, "INBOX", i, 0);
	test_int_eq(-1, store_mailbox_open(t->acct, "INBOX", 0, &mb, &err), 0);
	before = tstatus(t, "INBOX").highestmodseq;
	test_int_eq(-1, store_mailbox_flags_get(mb, uids[2], &f, &kw, &m3, &err), 0);

	test_int_eq(-1, flags_op(mb, STORE_FLAGS_ADD, STORE_FLAG_SEEN, NULL, uids, 2, &res), 0);
	after = tstatus(t, "INBOX").highestmodseq;
	test_assert(1, after > before);
	test_int_eq(1, res.modseq, after);
	test_int_eq(1, store_mailbox_flags_get(mb, uids[0], &f, &kw, &m1, &err), 0);
	test_int_eq(1, m1, after);
	test_int_eq(1, store_mailbox_flags_get(mb, uids[2], &f, &kw, &m1, &err), 0);
	test_int_eq(1, m1, m3); /* untouched: its own modseq */

	before = after; /* the same again: no change, no modseq */
	test_int_eq(2, flags_op(mb, STORE_FLAGS_ADD, STORE_FLAG_SEEN, NULL, uids, 2, &res), 0);
	test_int_eq(2, res.n_changed, 0);
	test_int_eq(2, tstatus(t, "INBOX").highestmodseq, before);

	uint32_t uid = append(t, "INBOX", 9, 0);
	after = tstatus(t, "INBOX").highestmodseq;
	test_assert(3, after > before);
	test_int_eq(3, store_mailbox_sync(mb, NULL, NULL, &err), 0);
	test_int_eq(3, store_mailbox_flags_get(mb, uid, &f, &kw, &m1, &err), 0);
	test_int_eq(3, m1, after);

	before = after;
	test_int_eq(4, remove_uids(mb, &uids[3], 1), 0);
	after = tstatus(t, "INBOX").highestmodseq;
	test_assert(4, after > before);

	uint64_t dst_before = tstatus(t, "Archive").highestmodseq;
	before = after;
	test_int_eq(5, store_message_copy(mb, uids, 1, "Archive", true, NULL, src, dst, &n, &err),
	            0);
	test_assert(5, tstatus(t, "INBOX").highestmodseq > before);
	test_assert(5, tstatus(t, "Archive").highestmodseq > dst_before);

	/* What changed after a modseq is exactly what the calls did. */
	struct arena *a = arena_new(1024);
	uint32_t *got;
	test_int_eq(6, store_changed_since(mb, before, a, &got, &n, &err), 0);
	test_int_eq(6, n, 0);
	test_int_eq(6, store_expunged_since(mb, before, a, &got, &n, &err), 0);
	test_int_eq(6, n, 1);
	test_int_eq(6, n == 1 ? got[0] : 0, uids[0]);
	test_int_eq(6, store_changed_since(mb, 0, a, &got, &n, &err), 0);
	test_int_eq(6, n, 3); /* uids 2, 3 and the new one */
	arena_free(&a);
	store_mailbox_close(&mb);
}

/* uids ascend and are never given twice; UIDVALIDITY stays with the
   mailbox through rename and never comes back after a delete. */
static void
test_uids_are_never_reused(struct tstore *t)
{
	struct store_mailbox *mb;
	struct store_mailbox_info before, after;
	enum store_error err;
	uint32_t a1, a2, a3;

	a1 = append(t, "INBOX", 1, 0);
	a2 = append(t, "INBOX", 2, 0);
	test_assert(-1, a2 > a1);
	test_int_eq(-1, store_mailbox_open(t->acct, "INBOX", 0, &mb, &err), 0);
	test_int_eq(-1, remove_uids(mb, &a2, 1), 0);
	test_int_eq(-1, tstatus(t, "INBOX").uidnext, a2 + 1); /* expunge keeps uidnext */
	a3 = append(t, "INBOX", 3, 0);
	test_assert(-1, a3 > a2);
	store_mailbox_close(&mb);

	test_int_eq(-1, store_mailbox_create(t->acct, "Box", 0, &err), 0);
	append(t, "Box", 4, 0);
	before = tstatus(t, "Box");
	test_int_eq(-1, store_mailbox_rename(t->acct, "Box", "Box2", &err), 0);
	after = tstatus(t, "Box2");
	test_int_eq(-1, after.uidvalidity, before.uidvalidity);
	test_str_eq(-1, after.objectid, before.objectid);
	test_int_eq(-1, after.uidnext, before.uidnext);
	test_int_eq(-1, store_mailbox_delete(t->acct, "Box2", &err), 0);
	test_int_eq(-1, store_mailbox_create(t->acct, "Box2", 0, &err), 0);
	after = tstatus(t, "Box2");
	test_assert(-1, after.uidvalidity != before.uidvalidity);
	test_assert(-1, strcmp(after.objectid, before.objectid) != 0);
	test_assert(-1, after.id != before.id);
}

/* COPY keeps the email id, thread id, bytes, flags and keywords; the new
   row is readable after the original is gone. */
static void
test_copy_keeps_ids_and_bytes(struct tstore *t)
{
	struct store_mailbox *inbox, *arch;
	struct store_message_info orig[2], copy[2];
	struct store_flags_result res;
	struct arena *a = arena_new(8192);
	struct buf want, got;
	enum store_error err;
	uint32_t uids[2], src[2], dst[2], uv;
	size_t n;

	uids[0] = append(t, "INBOX", 1, STORE_FLAG_FLAGGED);
	uids[1] = append(t, "INBOX", 2, 0); /* the larger kind */
	test_int_eq(-1, store_mailbox_open(t->acct, "INBOX", 0, &inbox, &err), 0);
	test_int_eq(-1, flags_op(inbox, STORE_FLAGS_ADD, 0, "Work", uids, 2, &res), 0);
	test_int_eq(-1, store_message_lookup(inbox, uids, 2, 0, a, orig, &err), 0);
	test_int_eq(-1,
	            store_message_copy(inbox, uids, 2, "Archive", false, &uv, src, dst, &n, &err),
	            0);
	test_int_eq(-1, n, 2);
	test_int_eq(-1, uv, tstatus(t, "Archive").uidvalidity);
	test_int_eq(-1, store_mailbox_open(t->acct, "Archive", 0, &arch, &err), 0);
	test_int_eq(-1, store_message_lookup(arch, dst, 2, 0, a, copy, &err), 0);
	buf_init(&want);
	buf_init(&got);
	for (int i = 0; i < 2; i++) {
		test_str_eq(i, copy[i].email_id, orig[i].email_id);
		test_str_eq(i, copy[i].thread_id, orig[i].thread_id);
		test_str_eq(i, copy[i].blob_hash, orig[i].blob_hash);
		test_int_eq(i, copy[i].size, orig[i].size);
		test_int_eq(i, copy[i].flags, orig[i].flags);
		test_int_eq(i, copy[i].keywords, orig[i].keywords);
		test_int_eq(i, copy[i].internal_date, orig[i].internal_date);
		buf_reset(&want);
		test_int_eq(i, store_message_read(inbox, uids[i], 0, UINT64_MAX, &want, &err), 0);
	}
	check_invariants(t, 1);
	/* The original goes; the copy's bytes stay, byte for byte. */
	test_int_eq(-1, remove_uids(inbox, uids, 2), 0);
	check_invariants(t, 2);
	struct store_reader *r = store_reader_new();
	for (int i = 0; i < 2; i++) {
		test_int_eq(i, store_reader_open(r, arch, &copy[i], &err), 0);
		buf_reset(&got);
		test_int_eq(i, store_reader_read(r, 0, UINT64_MAX, &got, &err), 0);
		test_int_eq(i, got.len, copy[i].size);
	}
	store_reader_free(&r);
	test_assert(-1, got.len == want.len && memcmp(got.data, want.data, got.len) == 0);
	test_int_eq(-1, remove_uids(arch, dst, 2), 0);
	check_invariants(t, 3);
	buf_deinit(&want);
	buf_deinit(&got);
	store_mailbox_close(&arch);
	store_mailbox_close(&inbox);
	arena_free(&a);
}

struct waker {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int wakes;
};

static void
on_wake(void *arg)
{
	struct waker *w = arg;

	pthread_mutex_lock(&w->lock);
	w->wakes++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Up to 2 s (less than the watch's sweep) for mb's view to reach what
   the backend says. */
static bool
wait_caught_up(struct tstore *t, struct store_mailbox *mb, const char *box, struct waker *w)
{
	for (int i = 0; i < 200; i++) {
		struct store_mailbox_info vi;
		struct timespec until;

		store_mailbox_info_get(mb, &vi);
		if (vi.highestmodseq == tstatus(t, box).highestmodseq)
			return true;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 10000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&w->lock);
		pthread_cond_timedwait(&w->cond, &w->lock, &until);
		pthread_mutex_unlock(&w->lock);
	}
	return false;
}

/* mb's snapshot (after a sync) against a view loaded afresh by another
   store on the same directory: the same uids, flags, keywords, modseqs. */
static void
expect_same_as_fresh(struct tstore *t, struct store_mailbox *mb, const char *box, int row)
{
	struct store_settings set;
	struct store *fresh;
	struct store_account *acct;
	struct store_mailbox *fm;
	enum store_error err;
	uint32_t n, fn;
	const uint32_t *uids, *fuids;

	store_settings_defaults(&set);
	set.backend = backend;
	set.no_fsync = true;
	if (store_open(t->dir, &set, &fresh, &err) < 0 ||
	    store_account_open(fresh, 7, &acct, &err) < 0 ||
	    store_mailbox_open(acct, box, STORE_OPEN_READONLY, &fm, &err) < 0) {
		test_fail_(row, "fresh open: %s", store_error_str(err));
		return;
	}
	uids = store_mailbox_uids(mb, &n);
	fuids = store_mailbox_uids(fm, &fn);
	test_int_eq(row, n, fn);
	for (uint32_t i = 0; i < n && i < fn; i++) {
		uint32_t f1 = 0, f2 = 0;
		uint64_t k1 = 0, k2 = 0, m1 = 0, m2 = 0;

		test_int_eq(row, uids[i], fuids[i]);
		store_mailbox_flags_get(mb, uids[i], &f1, &k1, &m1, &err);
		store_mailbox_flags_get(fm, fuids[i], &f2, &k2, &m2, &err);
		test_int_eq(row, f1, f2);
		test_int_eq(row, k1, k2);
		test_int_eq(row, m1, m2);
	}
	struct store_mailbox_info a, b;
	store_mailbox_info_get(mb, &a);
	store_mailbox_info_get(fm, &b);
	test_int_eq(row, a.highestmodseq, b.highestmodseq);
	test_int_eq(row, a.uidnext, b.uidnext);
	test_int_eq(row, a.messages, b.messages);
	test_int_eq(row, a.unseen, b.unseen);
	store_mailbox_close(&fm);
	store_account_close(&acct);
	store_close(&fresh);
}

/* What one store (another process, for the first) writes reaches the
   first's open view from the backend alone: it wakes, its sync reports the
   changes, and the view equals one loaded afresh. */
static void
test_views_catch_up_with_another_store(struct tstore *t)
{
	struct store_settings set;
	struct store *other;
	struct store_account *oacct;
	struct store_mailbox *mb, *om;
	struct waker w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	struct store_flags_result res;
	enum store_error err;
	uint32_t uids[6], count;

	for (unsigned i = 0; i < 6; i++)
		uids[i] = append(t, "INBOX", i, 0);
	test_int_eq(-1, store_watch_start(t->store, &err), 0);
	test_int_eq(-1, store_mailbox_open(t->acct, "INBOX", 0, &mb, &err), 0);
	store_mailbox_watch(mb, on_wake, &w);

	store_settings_defaults(&set);
	set.backend = backend;
	set.no_fsync = true;
	test_int_eq(-1, store_open(t->dir, &set, &other, &err), 0);
	test_int_eq(-1, store_account_open(other, 7, &oacct, &err), 0);
	test_int_eq(-1, store_mailbox_open(oacct, "INBOX", 0, &om, &err), 0);

	struct store_append ap = {.data = (const unsigned char *)"Subject: o\r\n\r\nx\r\n",
	                          .len = 17};
	test_int_eq(1, store_message_append(oacct, "INBOX", &ap, 1, NULL, NULL, &err), 0);
	test_int_eq(2, flags_op(om, STORE_FLAGS_ADD, STORE_FLAG_SEEN, "Other", uids + 1, 2, &res),
	            0);
	test_int_eq(3, remove_uids(om, uids + 3, 2), 0);
	test_assert(4, wait_caught_up(t, mb, "INBOX", &w));
	test_assert(4, w.wakes >= 1);
	test_int_eq(4, store_mailbox_count(mb), 6); /* the snapshot, until the sync */
	test_int_eq(5, store_mailbox_sync(mb, NULL, NULL, &err), 0);
	store_mailbox_uids(mb, &count);
	test_int_eq(5, count, 5);
	expect_same_as_fresh(t, mb, "INBOX", 6);

	/* And this store's own write on top: still the same as afresh. */
	test_int_eq(7, flags_op(mb, STORE_FLAGS_ADD, STORE_FLAG_FLAGGED, NULL, uids, 3, &res), 0);
	test_int_eq(7, store_mailbox_sync(mb, NULL, NULL, &err), 0);
	expect_same_as_fresh(t, mb, "INBOX", 8);
	check_invariants(t, 9);

	store_mailbox_close(&om);
	store_account_close(&oacct);
	store_close(&other);
	store_mailbox_close(&mb);
}

static const struct {
	const char *name;
	void (*fn)(struct tstore *t);
} tests[] = {
        {"counters_and_usage_follow_every_write", test_counters_and_usage_follow_every_write},
        {"every_change_takes_a_new_modseq", test_every_change_takes_a_new_modseq},
        {"uids_are_never_reused", test_uids_are_never_reused},
        {"copy_keeps_ids_and_bytes", test_copy_keeps_ids_and_bytes},
        {"views_catch_up_with_another_store", test_views_catch_up_with_another_store},
};

int
main(void)
{
	for (size_t b = 0; b < ARRAY_LEN(backends); b++) {
		backend = backends[b];
		for (size_t i = 0; i < ARRAY_LEN(tests); i++) {
			int before = test_failed_checks;
			struct tstore t;

			topen(&t);
			tests[i].fn(&t);
			tstore_close(&t);
			if (test_failed_checks == before) {
				test_passed++;
			} else {
				test_failed++;
				printf("FAIL %s/%s\n", backend, tests[i].name);
			}
		}
	}
	return TEST_DONE("test_store_conformance");
}
