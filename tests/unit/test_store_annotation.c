/* SPDX-License-Identifier: MIT */
/* test_store_annotation.c: tests for src/store/annotation.c (RFC 5257
   message annotations) and src/store/seen.c (per-user \Seen on another
   owner's mailbox). */
#include <string.h>

#include "lib/arena.h"
#include "store/store.h"
#include "store_test_util.h"
#include "test.h"

static const char MSG[] = "Subject: a\r\n\r\nbody\r\n";

static struct store_annotation
change(const char *entry, bool is_shared, const char *value)
{
	return (struct store_annotation){.entry = entry,
	                                 .is_shared = is_shared,
	                                 .value = (const unsigned char *)value,
	                                 .len = value ? strlen(value) : 0};
}

/* "entry/priv=value;..." of uid as user sees it. */
static const char *
dump(struct store_mailbox *mb, uint32_t uid, const char *user, struct arena *a)
{
	struct store_annotation *v;
	size_t n;
	enum store_error err;
	char *out = "";

	if (store_annotation_get(mb, uid, user, a, &v, &n, &err) < 0)
		return "ERROR";
	for (size_t i = 0; i < n; i++)
		out = arena_printf(a, "%s%s/%s=%s;", out, v[i].entry,
		                   v[i].is_shared ? "shared" : "priv", (const char *)v[i].value);
	return out;
}

static uint64_t
modseq_of(struct store_mailbox *mb, uint32_t uid)
{
	uint32_t flags;
	uint64_t kw, modseq = 0;
	enum store_error err;

	store_mailbox_flags_get(mb, uid, &flags, &kw, &modseq, &err);
	return modseq;
}

static void
test_set_get_and_modseq(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	struct store_flags_result res;
	enum store_error err;
	struct arena *a = arena_new(4096);

	tstore_open(&t);
	uint32_t u1 = tappend(&t, "INBOX", MSG, 0), u2 = tappend(&t, "INBOX", MSG, 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	uint64_t before = modseq_of(mb, u2);
	struct store_annotation ch[] = {change("/comment", false, "mine"),
	                                change("/comment", true, "all"),
	                                change("/altsubject", true, "alt")};
	uint32_t uids[] = {u1};
	test_int_eq(-1, store_annotation_set(mb, uids, 1, "me@x", ch, 3, 0, 10, a, &res, &err), 0);
	test_int_eq(-1, res.n_changed, 1);
	test_assert(-1, modseq_of(mb, u1) > before);
	test_str_eq(-1, dump(mb, u1, "me@x", a),
	            "/altsubject/shared=alt;/comment/priv=mine;/comment/shared=all;");
	/* Another user sees the shared values only. */
	test_str_eq(-1, dump(mb, u1, "you@x", a), "/altsubject/shared=alt;/comment/shared=all;");
	test_str_eq(-1, dump(mb, u2, "me@x", a), "");
	/* The same values again: no change, no new modseq. */
	uint64_t now = modseq_of(mb, u1);
	test_int_eq(-1, store_annotation_set(mb, uids, 1, "me@x", ch, 3, 0, 10, a, &res, &err), 0);
	test_int_eq(-1, res.n_changed, 0);
	test_int_eq(-1, modseq_of(mb, u1), now);
	/* UNCHANGEDSINCE: u1 changed after `before`, u2 did not. */
	struct store_annotation rm = change("/comment", true, NULL);
	uint32_t both[] = {u1, u2};
	test_int_eq(-1,
	            store_annotation_set(mb, both, 2, "me@x", &rm, 1, before, 10, a, &res, &err),
	            0);
	test_int_eq(-1, res.n_failed, 1);
	test_int_eq(-1, res.n_failed ? res.failed[0] : 0, u1);
	test_int_eq(-1, res.n_changed, 0); /* u2 had nothing to remove */
	/* The limit counts what the user sees after the change; all or none. */
	struct store_annotation more[] = {change("/vendor/t/a", false, "1"),
	                                  change("/vendor/t/b", false, "2")};
	test_int_eq(-1, store_annotation_set(mb, both, 2, "me@x", more, 2, 0, 4, a, &res, &err),
	            -1);
	test_int_eq(-1, err, STORE_ERR_LIMIT);
	test_str_eq(-1, dump(mb, u2, "me@x", a), "");
	store_mailbox_close(&mb);
	/* Read-only handles refuse. */
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", STORE_OPEN_READONLY, &mb, &err), 0);
	test_int_eq(-1, store_annotation_set(mb, uids, 1, "me@x", ch, 1, 0, 10, a, &res, &err), -1);
	test_int_eq(-1, err, STORE_ERR_PERM);
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

static void
test_copy_expunge_and_sort(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	struct store_flags_result res;
	enum store_error err;
	struct arena *a = arena_new(4096);

	tstore_open(&t);
	uint32_t u[3];
	for (int i = 0; i < 3; i++)
		u[i] = tappend(&t, "INBOX", MSG, 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	const char *vals[] = {"b", "A", NULL};
	for (int i = 0; i < 2; i++) {
		struct store_annotation ch = change("/altsubject", true, vals[i]);
		test_int_eq(i,
		            store_annotation_set(mb, &u[i], 1, "me@x", &ch, 1, 0, 0, a, &res, &err),
		            0);
	}
	/* SORT ANNOTATION: none first (""), then i;ascii-casemap. */
	struct store_sort key = {
	        .key = STORE_SORT_ANNOTATION, .entry = "/altsubject", .is_shared = true};
	uint32_t *sorted;
	size_t n;
	test_int_eq(-1, store_sort_uids(mb, &key, 1, COLLATION_DEFAULT, a, &sorted, &n, &err), 0);
	test_int_eq(-1, n == 3 ? sorted[0] * 100 + sorted[1] * 10 + sorted[2] : 0,
	            u[2] * 100 + u[1] * 10 + u[0]);
	/* COPY takes them along; EXPUNGE removes them. */
	uint32_t uv, src[2], dst[2];
	size_t copied;
	test_int_eq(-1,
	            store_message_copy(mb, u, 2, "Archive", false, &uv, src, dst, &copied, &err),
	            0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM annotations"), 4);
	uint32_t *gone;
	size_t n_gone;
	test_int_eq(-1, store_message_remove(mb, u, 2, a, &gone, &n_gone, &err), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM annotations"), 2);
	store_mailbox_close(&mb);
	test_int_eq(-1, store_mailbox_open(t.acct, "Archive", 0, &mb, &err), 0);
	test_str_eq(-1, dump(mb, dst[1], "me@x", a), "/altsubject/shared=A;");
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

static void
test_rights_and_per_user_seen(void)
{
	struct tstore t;
	struct store_identity bob = {8, "bob@example.org", NULL, 0};
	struct store_identity carol = {9, "carol@example.org", NULL, 0};
	struct store_account *hb, *hc;
	struct store_mailbox *mo, *mb, *mc;
	struct store_flags_result res;
	struct store_mailbox_info info;
	enum store_error err;
	struct arena *a = arena_new(4096);
	uint32_t flags;
	uint64_t kw, modseq;

	tstore_open(&t);
	uint32_t u1 = tappend(&t, "INBOX", MSG, 0);
	tappend(&t, "INBOX", MSG, 0);
	unsigned lrs = STORE_RIGHT_LOOKUP | STORE_RIGHT_READ | STORE_RIGHT_SEEN;
	test_int_eq(
	        -1,
	        store_acl_set(t.acct, "INBOX", "bob@example.org", STORE_RIGHTS_REPLACE, lrs, &err),
	        0);
	test_int_eq(-1,
	            store_acl_set(t.acct, "INBOX", "carol@example.org", STORE_RIGHTS_REPLACE, lrs,
	                          &err),
	            0);
	test_int_eq(-1, store_account_open_as(t.store, 7, &bob, &hb, &err), 0);
	test_int_eq(-1, store_account_open_as(t.store, 7, &carol, &hc, &err), 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mo, &err), 0);
	test_int_eq(-1, store_mailbox_open(hb, "INBOX", 0, &mb, &err), 0);
	test_int_eq(-1, store_mailbox_open(hc, "INBOX", 0, &mc, &err), 0);
	/* value.shared needs 'n'; value.priv 'r' (RFC 5257 section 5). */
	struct store_annotation shared = change("/comment", true, "x"),
	                        priv = change("/comment", false, "bob's");
	test_int_eq(-1,
	            store_annotation_set(mb, &u1, 1, "bob@example.org", &shared, 1, 0, 0, a, &res,
	                                 &err),
	            -1);
	test_int_eq(-1, err, STORE_ERR_NORIGHTS);
	test_int_eq(
	        -1,
	        store_annotation_set(mb, &u1, 1, "bob@example.org", &priv, 1, 0, 0, a, &res, &err),
	        0);
	/* Bob's \Seen is his: the owner's and Carol's stay. */
	struct store_flags_change seen = {.op = STORE_FLAGS_ADD, .flags = STORE_FLAG_SEEN};
	test_int_eq(-1, store_flags_update(mb, &u1, 1, &seen, a, &res, &err), 0);
	test_int_eq(-1, res.n_changed, 1);
	store_mailbox_flags_get(mb, u1, &flags, &kw, &modseq, &err);
	test_int_eq(-1, flags & STORE_FLAG_SEEN, STORE_FLAG_SEEN);
	store_mailbox_flags_get(mo, u1, &flags, &kw, &modseq, &err);
	test_int_eq(-1, flags & STORE_FLAG_SEEN, 0);
	store_mailbox_flags_get(mc, u1, &flags, &kw, &modseq, &err);
	test_int_eq(-1, flags & STORE_FLAG_SEEN, 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT unseen FROM mailboxes WHERE name = 'INBOX'"), 2);
	test_int_eq(-1, store_mailbox_status(hb, "INBOX", a, &info, &err), 0);
	test_int_eq(-1, info.unseen, 1);
	test_int_eq(-1, store_mailbox_status(hc, "INBOX", a, &info, &err), 0);
	test_int_eq(-1, info.unseen, 2);
	test_int_eq(-1, store_mailbox_status(t.acct, "INBOX", a, &info, &err), 0);
	test_int_eq(-1, info.unseen, 2);
	/* The owner's \Seen is not Bob's either. */
	test_int_eq(-1, store_flags_update(mo, &u1, 1, &seen, a, &res, &err), 0);
	store_mailbox_flags_get(mc, u1, &flags, &kw, &modseq, &err);
	test_int_eq(-1, flags & STORE_FLAG_SEEN, 0);
	/* Bob removes his: the owner's stays. */
	seen.op = STORE_FLAGS_REMOVE;
	test_int_eq(-1, store_flags_update(mb, &u1, 1, &seen, a, &res, &err), 0);
	store_mailbox_flags_get(mo, u1, &flags, &kw, &modseq, &err);
	test_int_eq(-1, flags & STORE_FLAG_SEEN, STORE_FLAG_SEEN);
	store_mailbox_flags_get(mb, u1, &flags, &kw, &modseq, &err);
	test_int_eq(-1, flags & STORE_FLAG_SEEN, 0);
	store_mailbox_close(&mb);
	store_mailbox_close(&mc);
	store_mailbox_close(&mo);
	store_account_close(&hb);
	store_account_close(&hc);
	arena_free(&a);
	tstore_close(&t);
}

int
main(void)
{
	TEST_RUN(test_set_get_and_modseq);
	TEST_RUN(test_copy_expunge_and_sort);
	TEST_RUN(test_rights_and_per_user_seen);
	return TEST_DONE("test_store_annotation");
}
