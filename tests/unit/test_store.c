/* SPDX-License-Identifier: MIT */
/* test_store.c: tests for the store API (src/store): mailboxes, messages,
   flags, expunge, copy/move, counters, quota, search. */
#include "store_test_util.h"

#include <sys/stat.h>

#include "store/store_int.h"
#include "test.h"

static const char msg1[] = "From: Alice <alice@example.org>\nTo: bob@example.org\n"
                           "Subject: Hello there\nMessage-ID: <m1@x>\n\nFirst body line\n"
                           "Second line with \xc3\x9c"
                           "BER content\n";
static const char msg2[] = "From: carol@example.org\r\nSubject: Re: Hello there\r\n"
                           "In-Reply-To: <m1@x>\r\nMessage-ID: <m2@x>\r\n\r\nok\r\n";

static void
test_mailbox_names_are_validated(void)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
	        {"INBOX", true},       {"a/b/c", true},
	        {"Caf\xc3\xa9", true}, {"", false},
	        {"/a", false},         {"a/", false},
	        {"a//b", false},       {"a/../b", false},
	        {".", false},          {"a*", false},
	        {"a%b", false},        {"tab\there", false},
	        {"bad\xc3", false},  /* truncated UTF-8 */
	        {"\xff\xfe", false}, /* not UTF-8 */
	        {"a/./b", false},      {"del\x7f", false},
	        {"c1\xc2\x85", false}, /* DEL, U+0085 (C1 control) */
	        {"\xc2\x9f", false},   {"nbsp\xc2\xa0", true},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_int_eq(i, store_mailbox_name_is_valid(cases[i].name), cases[i].ok);
}

static void
test_new_account_has_default_mailboxes(void)
{
	static const struct {
		const char *name;
		unsigned special;
	} want[] = {
	        {"INBOX", 0},
	        {"Archive", STORE_SPECIAL_ARCHIVE},
	        {"Drafts", STORE_SPECIAL_DRAFTS},
	        {"Junk", STORE_SPECIAL_JUNK},
	        {"Sent", STORE_SPECIAL_SENT},
	        {"Trash", STORE_SPECIAL_TRASH},
	};
	struct tstore t;
	struct arena *a = arena_new(4096);
	struct store_mailbox_info *list;
	size_t n;
	enum store_error err;

	tstore_open(&t);
	test_int_eq(-1, store_mailbox_list(t.acct, a, &list, &n, &err), 0);
	test_int_eq(-1, n, ARRAY_LEN(want));
	for (size_t i = 0; i < n && i < ARRAY_LEN(want); i++) {
		test_str_eq(i, list[i].name, want[i].name);
		test_int_eq(i, list[i].special_use, want[i].special);
		test_int_eq(i, list[i].is_subscribed, 1);
		test_int_eq(i, list[i].uidnext, 1);
		test_assert(i, list[i].objectid[0] == 'F');
	}
	arena_free(&a);
	tstore_close(&t);
}

static void
test_create_rename_delete(void)
{
	struct tstore t;
	struct store_mailbox_info before, after;
	enum store_error err;

	tstore_open(&t);
	test_int_eq(-1, store_mailbox_create(t.acct, "a/b/c", 0, &err), 0);
	test_assert(-1, tstatus(&t, "a").uidvalidity != 0); /* parents made */
	test_assert(-1, tstatus(&t, "a/b").uidvalidity != 0);
	test_int_eq(-1, store_mailbox_create(t.acct, "a/b", 0, &err), -1);
	test_int_eq(-1, err, STORE_ERR_EXISTS);
	test_int_eq(-1, store_mailbox_create(t.acct, "inbox", 0, &err), -1);
	test_int_eq(-1, err, STORE_ERR_EXISTS);
	test_int_eq(-1, store_mailbox_create(t.acct, "x*", 0, &err), -1);
	test_int_eq(-1, err, STORE_ERR_BADNAME);
	test_assert(-1, tappend(&t, "a/b", msg1, 0) == 1);

	before = tstatus(&t, "a/b");
	test_int_eq(-1, store_mailbox_rename(t.acct, "a", "z/y", &err), 0);
	test_int_eq(-1, tstatus(&t, "a").uidvalidity, 0);
	after = tstatus(&t, "z/y/b");
	test_int_eq(-1, after.id, before.id);
	test_int_eq(-1, after.uidvalidity, before.uidvalidity);
	test_str_eq(-1, after.objectid, before.objectid);
	test_int_eq(-1, after.messages, 1);
	test_assert(-1, tstatus(&t, "z/y/b/c").uidvalidity != 0);
	test_assert(-1, tstatus(&t, "z").uidvalidity != 0); /* parent of new name */

	test_int_eq(-1, store_mailbox_rename(t.acct, "z/y", "z/y/b/q", &err), -1);
	test_int_eq(-1, err, STORE_ERR_PERM);
	test_int_eq(-1, store_mailbox_rename(t.acct, "z/y", "Sent", &err), -1);
	test_int_eq(-1, err, STORE_ERR_EXISTS);
	test_int_eq(-1, store_mailbox_rename(t.acct, "nope", "n2", &err), -1);
	test_int_eq(-1, err, STORE_ERR_NOTFOUND);

	test_int_eq(-1, store_mailbox_delete(t.acct, "z/y", &err), -1);
	test_int_eq(-1, err, STORE_ERR_HASCHILDREN);
	test_int_eq(-1, store_mailbox_delete(t.acct, "INBOX", &err), -1);
	test_int_eq(-1, err, STORE_ERR_PERM);
	test_int_eq(-1, store_mailbox_delete(t.acct, "z/y/b/c", &err), 0);
	test_int_eq(-1, store_mailbox_delete(t.acct, "z/y/b", &err), 0);
	test_int_eq(-1, store_mailbox_delete(t.acct, "z/y/b", &err), -1);
	test_int_eq(-1, err, STORE_ERR_NOTFOUND);

	/* Deleting a mailbox released its message: usage back to zero. */
	struct store_quota q;
	test_int_eq(-1, store_quota_get(t.acct, &q, &err), 0);
	test_int_eq(-1, q.messages_used, 0);
	test_int_eq(-1, q.storage_used, 0);
	tstore_close(&t);
}

static void
test_inbox_rename_moves_messages_not_children(void)
{
	struct tstore t;
	struct store_mailbox_info inbox, old;
	enum store_error err;

	tstore_open(&t);
	test_int_eq(-1, store_mailbox_create(t.acct, "INBOX/kid", 0, &err), 0);
	tappend(&t, "INBOX", msg1, 0);
	tappend(&t, "INBOX", msg2, STORE_FLAG_SEEN);
	test_int_eq(-1, store_mailbox_rename(t.acct, "Inbox", "Old", &err), 0);
	inbox = tstatus(&t, "INBOX");
	old = tstatus(&t, "Old");
	test_int_eq(-1, inbox.messages, 0);
	test_int_eq(-1, inbox.unseen, 0);
	test_int_eq(-1, inbox.size, 0);
	test_int_eq(-1, old.messages, 2);
	test_int_eq(-1, old.unseen, 1);
	test_assert(-1, old.uidvalidity != inbox.uidvalidity);
	test_assert(-1, tstatus(&t, "INBOX/kid").uidvalidity != 0);
	test_int_eq(-1, tstatus(&t, "Old/kid").uidvalidity, 0);
	tstore_close(&t);
}

static void
test_subscriptions(void)
{
	struct tstore t;
	struct arena *a = arena_new(1024);
	const char **names;
	size_t n;
	enum store_error err;

	tstore_open(&t);
	test_int_eq(-1, store_subscription_set(t.acct, "Sent", false, &err), 0);
	test_int_eq(-1, store_subscription_set(t.acct, "not/there", true, &err), 0);
	test_int_eq(-1, store_subscription_set(t.acct, "bad*", true, &err), -1);
	test_int_eq(-1, store_subscription_list(t.acct, a, &names, &n, &err), 0);
	test_int_eq(-1, n, 6);
	test_str_eq(-1, n > 5 ? names[5] : NULL, "not/there");
	test_int_eq(-1, tstatus(&t, "Sent").is_subscribed, 0);
	/* Rename carries subscriptions along. */
	test_int_eq(-1, store_mailbox_rename(t.acct, "Junk", "Spam", &err), 0);
	test_int_eq(-1, tstatus(&t, "Spam").is_subscribed, 1);
	arena_free(&a);
	tstore_close(&t);
}

static void
test_append_fetch_is_byte_identical(void)
{
	static const struct {
		uint64_t off, len;
	} ranges[] = {{0, 4}, {6, 5}, {0, 100000}, {50, 0}, {100000, 10}, {3, 1}};
	struct tstore t;
	struct store_mailbox *mb;
	struct buf want, got;
	struct arena *a = arena_new(4096);
	struct store_message_info info[2];
	uint32_t uids[2];
	enum store_error err;

	tstore_open(&t);
	buf_init(&want);
	buf_init(&got);
	for (const char *p = msg1; *p; p++) { /* bare LF -> CRLF */
		if (*p == '\n')
			buf_putc(&want, '\r');
		buf_putc(&want, *p);
	}
	uids[0] = tappend(&t, "INBOX", msg1, 0);
	uids[1] = tappend(&t, "INBOX", msg2, 0);
	test_int_eq(-1, uids[0], 1);
	test_int_eq(-1, uids[1], 2);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	test_int_eq(-1, store_message_read(mb, 1, 0, UINT64_MAX, &got, &err), 0);
	test_int_eq(-1, got.len, want.len);
	test_assert(-1, got.len == want.len && memcmp(got.data, want.data, got.len) == 0);
	for (size_t i = 0; i < ARRAY_LEN(ranges); i++) {
		uint64_t off = MIN(ranges[i].off, want.len);
		uint64_t len = MIN(ranges[i].len, want.len - off);

		buf_reset(&got);
		test_int_eq(i, store_message_read(mb, 1, ranges[i].off, ranges[i].len, &got, &err),
		            0);
		test_int_eq(i, got.len, len);
		test_assert(i, memcmp(got.data, want.data + off, len) == 0);
	}
	buf_reset(&got);
	test_int_eq(-1, store_message_read(mb, 2, 0, UINT64_MAX, &got, &err), 0);
	test_str_eq(-1, got.data, msg2); /* CRLF already: unchanged */
	test_int_eq(-1, store_message_read(mb, 9, 0, 1, &got, &err), -1);
	test_int_eq(-1, err, STORE_ERR_EXPUNGED);

	test_int_eq(-1,
	            store_message_lookup(mb, uids, 2, STORE_FETCH_ENVELOPE | STORE_FETCH_SORT, a,
	                                 info, &err),
	            0);
	test_int_eq(-1, info[0].size, want.len);
	test_str_eq(-1, info[0].subject, "Hello there");
	test_assert(-1, info[0].envelope != NULL && strstr(info[0].envelope, "Hello") != NULL);
	test_assert(-1, strcmp(info[0].email_id, info[1].email_id) != 0);
	/* msg2 replies to msg1: same thread. */
	test_str_eq(-1, info[1].thread_id, info[0].thread_id);
	test_assert(-1, info[0].save_date > 0 && info[0].internal_date > 0);
	store_mailbox_close(&mb);
	buf_deinit(&want);
	buf_deinit(&got);
	arena_free(&a);
	tstore_close(&t);
}

/* FETCH reads metadata in batches: one range scan for dense ascending uids,
   point lookups otherwise; both must give the same answer, with uid 0 for
   expunged messages, and a reader opens what the lookup named. */
static void
test_lookup_batches_and_open_by_info(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	struct arena *a = arena_new(4096);
	struct store_flags_result res;
	struct store_flags_change ch = {STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0, 0};
	struct store_message_info range[10], each[3], parts[1], early[1];
	uint32_t all[10], some[3] = {10, 1, 5}, del[] = {3, 7}, two = 2, *out, flags;
	uint64_t kw, modseq;
	size_t n;
	struct buf want, got;
	struct store_reader *reader;
	enum store_error err;

	tstore_open(&t);
	buf_init(&want);
	buf_init(&got);
	for (uint32_t i = 0; i < 10; i++) {
		char msg[128];
		snprintf(msg, sizeof(msg), "Subject: m%u\r\n\r\nbody %u\r\n", i + 1, i + 1);
		all[i] = tappend(&t, "INBOX", msg, 0);
	}
	test_int_eq(-1, all[9], 10);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	/* Looked up before uid 2 goes: its blob is collected afterwards. */
	test_int_eq(-1, store_message_lookup(mb, &two, 1, STORE_FETCH_BASIC, a, early, &err), 0);
	test_int_eq(-1, store_flags_update(mb, del, 2, &ch, a, &res, &err), 0);
	test_int_eq(-1, store_flags_update(mb, &two, 1, &ch, a, &res, &err), 0);
	test_int_eq(-1, store_message_expunge(mb, NULL, 0, a, &out, &n, &err), 0);
	test_int_eq(-1, n, 3);
	test_int_eq(-1, store_account_index_flush(t.acct, &err), 0); /* the collection */

	test_int_eq(-1, store_message_lookup(mb, all, 10, STORE_FETCH_BASIC, a, range, &err), 0);
	test_int_eq(-1, store_message_lookup(mb, some, 3, STORE_FETCH_BASIC, a, each, &err), 0);
	for (uint32_t i = 0; i < 10; i++) {
		bool gone = i + 1 == 2 || i + 1 == 3 || i + 1 == 7;
		test_int_eq(i, range[i].uid, gone ? 0 : i + 1);
		test_assert(i, gone || range[i].size == strlen("Subject: m1\r\n\r\nbody 1\r\n") +
		                                                (i + 1 >= 10 ? 2 : 0));
		test_assert(i, gone || strlen(range[i].blob_hash) == 64);
		test_assert(i, range[i].parts == NULL && range[i].envelope == NULL);
	}
	/* "M<account>_<n>": account 7, ids given in order from 1. */
	test_str_eq(-1, range[0].email_id, "M7_1");
	test_str_eq(-1, range[9].email_id, "M7_10");
	test_assert(-1, range[0].thread_id[0] == 'T');
	for (size_t i = 0; i < 3; i++) {
		const struct store_message_info *r = &range[some[i] - 1];
		test_int_eq(i, each[i].uid, r->uid);
		test_int_eq(i, each[i].size, r->size);
		test_str_eq(i, each[i].blob_hash, r->blob_hash);
		test_str_eq(i, each[i].email_id, r->email_id);
		test_int_eq(i, each[i].internal_date, r->internal_date);
	}

	/* PARTS: the part table without the cached strings. */
	test_int_eq(-1, store_message_lookup(mb, all, 1, STORE_FETCH_PARTS, a, parts, &err), 0);
	test_assert(-1, parts[0].parts != NULL && parts[0].parts_len > 0);
	test_assert(-1, parts[0].bodystructure == NULL && parts[0].body == NULL);

	/* Opened from the lookup, the same bytes as the other way; one reader
	   for one message after another. */
	reader = store_reader_new();
	test_int_eq(-1, store_reader_open(reader, mb, &range[0], &err), 0);
	test_int_eq(-1, store_reader_size(reader), range[0].size);
	test_int_eq(-1, store_reader_read(reader, 0, UINT64_MAX, &got, &err), 0);
	store_reader_close(reader);
	test_int_eq(-1, store_message_read(mb, 1, 0, UINT64_MAX, &want, &err), 0);
	test_assert(-1, got.len == want.len && memcmp(got.data, want.data, want.len) == 0);
	/* Expunged: uid 0 from a lookup, or gone (bytes too) since the lookup. */
	test_int_eq(-1, store_reader_open(reader, mb, &range[1], &err), -1);
	test_int_eq(-1, err, STORE_ERR_EXPUNGED);
	test_int_eq(-1, early[0].uid, 2);
	test_int_eq(-1, store_reader_open(reader, mb, &early[0], &err), -1);
	test_int_eq(-1, err, STORE_ERR_EXPUNGED);
	test_int_eq(-1, store_reader_read(reader, 0, 10, &got, &err), -1); /* nothing open */
	test_int_eq(-1, store_reader_open(reader, mb, &range[9], &err), 0);
	buf_reset(&got);
	test_int_eq(-1, store_reader_read(reader, 0, UINT64_MAX, &got, &err), 0);
	test_int_eq(-1, got.len, range[9].size);
	store_reader_free(&reader);
	test_assert(-1, reader == NULL);

	/* The view answers in any order (FETCH remembers where it was). */
	test_int_eq(-1, store_mailbox_flags_get(mb, 10, &flags, &kw, &modseq, &err), 0);
	test_int_eq(-1, store_mailbox_flags_get(mb, 1, &flags, &kw, &modseq, &err), 0);
	test_int_eq(-1, store_mailbox_flags_get(mb, 4, &flags, &kw, &modseq, &err), 0);
	test_int_eq(-1, store_mailbox_flags_get(mb, 7, &flags, &kw, &modseq, &err), -1);
	test_int_eq(-1, err, STORE_ERR_EXPUNGED);
	test_int_eq(-1, store_mailbox_flags_get(mb, 8, &flags, &kw, &modseq, &err), 0);
	store_mailbox_close(&mb);
	buf_deinit(&want);
	buf_deinit(&got);
	arena_free(&a);
	tstore_close(&t);
}

static void
test_multiappend_is_atomic(void)
{
	struct store_settings set;
	struct tstore t;
	char *big = xmalloc(5000);
	struct store_append ap[3];
	uint32_t uids[3];
	enum store_error err;

	store_settings_defaults(&set);
	set.max_message_size = 4096;
	set.inline_max = 0; /* blob files, counted below (test_store_inline.c: inline) */
	tstore_open_with(&t, &set);
	memset(big, 'x', 4999);
	big[4999] = '\0';
	ap[0] = (struct store_append){
	        .data = (const unsigned char *)msg1, .len = strlen(msg1), .flags = 0};
	ap[1] = (struct store_append){
	        .data = (const unsigned char *)big, .len = strlen(big), .flags = 0};
	ap[2] = (struct store_append){
	        .data = (const unsigned char *)msg2, .len = strlen(msg2), .flags = 0};
	test_int_eq(-1, store_message_append(t.acct, "INBOX", ap, 3, NULL, uids, &err), -1);
	test_int_eq(-1, err, STORE_ERR_TOOBIG);
	test_int_eq(-1, tstatus(&t, "INBOX").messages, 0);
	test_int_eq(-1, tstatus(&t, "INBOX").uidnext, 1);
	test_int_eq(-1, tblob_files(t.dir), 0);
	ap[1] = ap[2];
	test_int_eq(-1, store_message_append(t.acct, "INBOX", ap, 2, NULL, uids, &err), 0);
	test_int_eq(-1, uids[0], 1);
	test_int_eq(-1, uids[1], 2);
	test_int_eq(-1, store_message_append(t.acct, "Nope", ap, 1, NULL, uids, &err), -1);
	test_int_eq(-1, err, STORE_ERR_NOTFOUND);
	test_int_eq(-1, tblob_files(t.dir), 2);
	free(big);
	tstore_close(&t);
}

static void
test_copy_and_move_share_blobs(void)
{
	struct tstore t;
	struct store_mailbox *inbox, *trash;
	struct arena *a = arena_new(1024);
	uint32_t uids[] = {1, 2, 99}, src[3], dst[3], *gone, uv;
	size_t n, ng;
	enum store_error err;
	char report[4096];
	struct store_settings set;

	store_settings_defaults(&set);
	set.inline_max = 0; /* blob files, counted below (test_store_inline.c: inline) */
	tstore_open_with(&t, &set);
	tappend(&t, "INBOX", msg1, 0);
	tappend(&t, "INBOX", msg2, STORE_FLAG_SEEN);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &inbox, &err), 0);
	test_int_eq(-1,
	            store_message_copy(inbox, uids, 3, "Archive", false, &uv, src, dst, &n, &err),
	            0);
	test_int_eq(-1, n, 2);
	test_int_eq(-1, dst[0], 1);
	test_int_eq(-1, uv, tstatus(&t, "Archive").uidvalidity);
	test_int_eq(-1, store_message_copy(inbox, uids, 2, "Trash", true, &uv, src, dst, &n, &err),
	            0);
	test_int_eq(-1, n, 2);
	test_int_eq(-1, tstatus(&t, "INBOX").messages, 0);
	test_int_eq(-1, tstatus(&t, "Trash").messages, 2);
	test_int_eq(-1, tstatus(&t, "Trash").unseen, 1);
	test_int_eq(-1, tstatus(&t, "Archive").messages, 2);
	test_int_eq(-1, tblob_files(t.dir), 2); /* no bytes copied */
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);

	/* The blob goes only with its last reference. */
	test_int_eq(-1, store_mailbox_open(t.acct, "Trash", 0, &trash, &err), 0);
	test_int_eq(-1, store_message_remove(trash, dst, 2, a, &gone, &ng, &err), 0);
	test_int_eq(-1, ng, 2);
	test_int_eq(-1, tblob_files(t.dir), 2);
	store_mailbox_close(&trash);
	test_int_eq(-1, store_mailbox_delete(t.acct, "Archive", &err), 0);
	test_int_eq(-1, store_account_index_flush(t.acct, &err), 0); /* the collection */
	test_int_eq(-1, tblob_files(t.dir), 0);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	store_mailbox_close(&inbox);
	arena_free(&a);
	tstore_close(&t);
}

static void
test_expunge_records_vanished(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	struct arena *a = arena_new(1024);
	struct store_flags_result res;
	struct store_flags_change ch = {STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0, 0};
	uint32_t del[] = {2, 4}, *out;
	size_t n;
	uint64_t before;
	enum store_error err;

	tstore_open(&t);
	for (int i = 0; i < 5; i++)
		tappend(&t, "INBOX", msg1, 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	before = tstatus(&t, "INBOX").highestmodseq;
	test_int_eq(-1, store_flags_update(mb, del, 2, &ch, a, &res, &err), 0);
	test_int_eq(-1, tstatus(&t, "INBOX").deleted, 2);
	test_int_eq(-1, store_message_expunge(mb, NULL, 0, a, &out, &n, &err), 0);
	test_int_eq(-1, n, 2);
	test_int_eq(-1, n == 2 ? out[0] * 10 + out[1] : 0, 24);
	test_int_eq(-1, tstatus(&t, "INBOX").messages, 3);
	test_int_eq(-1, tstatus(&t, "INBOX").deleted, 0);
	test_int_eq(-1, store_expunged_since(mb, before, a, &out, &n, &err), 0);
	test_int_eq(-1, n, 2);
	test_int_eq(-1,
	            store_expunged_since(mb, tstatus(&t, "INBOX").highestmodseq, a, &out, &n, &err),
	            0);
	test_int_eq(-1, n, 0);
	/* UID EXPUNGE of a message without \Deleted removes nothing. */
	uint32_t one = 1;
	test_int_eq(-1, store_message_expunge(mb, &one, 1, a, &out, &n, &err), 0);
	test_int_eq(-1, n, 0);
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

static void
test_flags_modseq_and_unchangedsince(void)
{
	struct tstore t;
	struct store_mailbox *mb, *ro;
	struct arena *a = arena_new(1024);
	struct store_flags_result res;
	const char *kw[] = {"$Forwarded", "Work"};
	const char **names;
	uint32_t uids[] = {1, 2, 3}, flags;
	uint64_t kwmask, m1, m2, modseq;
	enum store_error err;

	tstore_open(&t);
	for (int i = 0; i < 3; i++)
		tappend(&t, "INBOX", msg1, 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	struct store_flags_change ch = {STORE_FLAGS_ADD, STORE_FLAG_SEEN, kw, 2, 0};
	test_int_eq(-1, store_flags_update(mb, uids, 2, &ch, a, &res, &err), 0);
	test_int_eq(-1, res.n_changed, 2);
	m1 = res.modseq;
	test_int_eq(-1, tstatus(&t, "INBOX").unseen, 1);
	test_int_eq(-1, tstatus(&t, "INBOX").highestmodseq, m1);
	test_int_eq(-1, store_mailbox_flags_get(mb, 1, &flags, &kwmask, &modseq, &err), 0);
	test_int_eq(-1, flags, STORE_FLAG_SEEN);
	test_int_eq(-1, modseq, m1);
	test_int_eq(-1, store_keyword_names(t.acct, kwmask, a, &names), 2);
	test_str_eq(-1, names[1], "Work");
	test_int_eq(-1, store_keyword_mask(t.acct, (const char *[]){"work"}, 1), 2);

	/* Same again: no change, no new modseq. */
	test_int_eq(-1, store_flags_update(mb, uids, 2, &ch, a, &res, &err), 0);
	test_int_eq(-1, res.n_changed, 0);
	test_int_eq(-1, tstatus(&t, "INBOX").highestmodseq, m1);

	/* UNCHANGEDSINCE below message 1's modseq: 1 and 2 fail, 3 changes. */
	struct store_flags_change cond = {STORE_FLAGS_SET, STORE_FLAG_FLAGGED, NULL, 0, m1 - 1};
	test_int_eq(-1, store_flags_update(mb, uids, 3, &cond, a, &res, &err), 0);
	test_int_eq(-1, res.n_failed, 2);
	test_int_eq(-1, res.n_changed, 1);
	test_int_eq(-1, res.n_changed ? res.changed[0] : 0, 3);
	m2 = res.modseq;
	test_assert(-1, m2 > m1);
	test_int_eq(-1, store_mailbox_flags_get(mb, 1, &flags, &kwmask, &modseq, &err), 0);
	test_int_eq(-1, flags, STORE_FLAG_SEEN); /* untouched */

	struct store_flags_change rm = {STORE_FLAGS_REMOVE, STORE_FLAG_SEEN, kw, 1, 0};
	test_int_eq(-1, store_flags_update(mb, uids, 1, &rm, a, &res, &err), 0);
	test_int_eq(-1, store_mailbox_flags_get(mb, 1, &flags, &kwmask, &modseq, &err), 0);
	test_int_eq(-1, flags, 0);
	test_int_eq(-1, kwmask, 2);
	test_int_eq(-1, tstatus(&t, "INBOX").unseen, 2);

	uint32_t *changed;
	size_t n;
	test_int_eq(-1, store_changed_since(mb, m1, a, &changed, &n, &err), 0);
	test_int_eq(-1, n, 2); /* 3 (flagged) and 1 (seen removed) */

	/* Read-only handle refuses. */
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", STORE_OPEN_READONLY, &ro, &err), 0);
	test_int_eq(-1, store_flags_update(ro, uids, 1, &ch, a, &res, &err), -1);
	test_int_eq(-1, err, STORE_ERR_PERM);
	store_mailbox_close(&ro);
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

static void
test_keyword_limit(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	struct arena *a = arena_new(4096);
	struct store_flags_result res;
	uint32_t uid = 1;
	enum store_error err;
	int rc = 0;

	tstore_open(&t);
	tappend(&t, "INBOX", msg1, 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	for (int i = 0; i < 65 && rc == 0; i++) {
		const char *kw = arena_printf(a, "k%d", i);
		struct store_flags_change ch = {STORE_FLAGS_ADD, 0, &kw, 1, 0};

		rc = store_flags_update(mb, &uid, 1, &ch, a, &res, &err);
		if (i < 64)
			test_int_eq(i, rc, 0);
	}
	test_int_eq(-1, rc, -1);
	test_int_eq(-1, err, STORE_ERR_LIMIT);
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

static void
test_counters_follow_every_operation(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	struct arena *a = arena_new(1024);
	struct store_flags_result res;
	struct store_quota q;
	uint32_t uids[] = {1, 2, 3}, *gone, src[3], dst[3];
	size_t n;
	enum store_error err;
	char report[4096];
	struct store_mailbox_info s;
	uint64_t s1 = strlen(msg1) + 7, s2 = strlen(msg2); /* msg1 has 7 bare LFs */

	tstore_open(&t);
	tappend(&t, "INBOX", msg1, 0);
	tappend(&t, "INBOX", msg2, STORE_FLAG_SEEN | STORE_FLAG_DELETED);
	tappend(&t, "INBOX", msg1, STORE_FLAG_DELETED);
	s = tstatus(&t, "INBOX");
	test_int_eq(-1, s.messages, 3);
	test_int_eq(-1, s.unseen, 2);
	test_int_eq(-1, s.deleted, 2);
	test_int_eq(-1, s.recent, 3);
	test_int_eq(-1, s.size, 2 * s1 + s2);
	test_int_eq(-1, s.uidnext, 4);
	test_int_eq(-1, store_quota_get(t.acct, &q, &err), 0);
	test_int_eq(-1, q.messages_used, 3);
	test_int_eq(-1, q.storage_used, 2 * s1 + s2);

	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	uint32_t claimed;
	test_int_eq(-1, store_mailbox_claim_recent(mb, &claimed, &err), 0);
	test_int_eq(-1, claimed, 3);
	test_int_eq(-1, store_mailbox_is_recent(mb, 3), 1);
	test_int_eq(-1, tstatus(&t, "INBOX").recent, 0);
	struct store_mailbox *other;
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &other, &err), 0);
	test_int_eq(-1, store_mailbox_claim_recent(other, &claimed, &err), 0);
	test_int_eq(-1, claimed, 0); /* \Recent goes to one session only */
	test_int_eq(-1, store_mailbox_is_recent(other, 3), 0);
	store_mailbox_close(&other);

	struct store_flags_change ch = {STORE_FLAGS_SET, STORE_FLAG_SEEN, NULL, 0, 0};
	test_int_eq(-1, store_flags_update(mb, uids, 3, &ch, a, &res, &err), 0);
	s = tstatus(&t, "INBOX");
	test_int_eq(-1, s.unseen, 0);
	test_int_eq(-1, s.deleted, 0);
	test_int_eq(-1, store_message_copy(mb, uids, 2, "Sent", false, NULL, src, dst, &n, &err),
	            0);
	s = tstatus(&t, "Sent");
	test_int_eq(-1, s.messages, 2);
	test_int_eq(-1, s.size, s1 + s2);
	test_int_eq(-1, s.recent, 2);
	test_int_eq(-1, store_message_remove(mb, uids, 1, a, &gone, &n, &err), 0);
	s = tstatus(&t, "INBOX");
	test_int_eq(-1, s.messages, 2);
	test_int_eq(-1, s.size, s1 + s2);
	test_int_eq(-1, store_quota_get(t.acct, &q, &err), 0);
	test_int_eq(-1, q.messages_used, 4);
	test_int_eq(-1, q.storage_used, 2 * (s1 + s2));

	/* The view's counters agree with the table's. */
	struct store_mailbox_info vi;
	store_mailbox_info_get(mb, &vi);
	test_int_eq(-1, vi.messages, 2);
	test_int_eq(-1, vi.highestmodseq, s.highestmodseq);
	test_int_eq(-1, tcheck(&t, false, report, sizeof(report)), 0);
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

static void
test_quota_is_enforced(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	uint32_t uids[] = {1, 2}, src[2], dst[2];
	size_t n;
	enum store_error err;
	struct store_quota q;

	tstore_open(&t);
	tappend(&t, "INBOX", msg2, 0);
	tappend(&t, "INBOX", msg2, 0);
	test_int_eq(-1, store_quota_set(t.acct, 0, 3, &err), 0);
	test_int_eq(-1, tappend(&t, "INBOX", msg2, 0), 3);
	test_int_eq(-1, tappend(&t, "INBOX", msg2, 0), 0);
	struct store_append ap = {
	        .data = (const unsigned char *)msg2, .len = strlen(msg2), .flags = 0};
	test_int_eq(-1, store_message_append(t.acct, "INBOX", &ap, 1, NULL, NULL, &err), -1);
	test_int_eq(-1, err, STORE_ERR_QUOTA);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	test_int_eq(-1, store_message_copy(mb, uids, 2, "Trash", false, NULL, src, dst, &n, &err),
	            -1);
	test_int_eq(-1, err, STORE_ERR_QUOTA);
	test_int_eq(-1, tstatus(&t, "Trash").messages, 0);
	/* MOVE does not grow usage: allowed at the limit. */
	test_int_eq(-1, store_message_copy(mb, uids, 2, "Trash", true, NULL, src, dst, &n, &err),
	            0);
	test_int_eq(-1, store_quota_set(t.acct, strlen(msg2) * 3 - 1, 0, &err), 0);
	test_int_eq(-1, tappend(&t, "INBOX", msg2, 0), 0);
	test_int_eq(-1, store_quota_get(t.acct, &q, &err), 0);
	test_int_eq(-1, q.storage_limit, strlen(msg2) * 3 - 1);
	test_int_eq(-1, q.messages_used, 3);
	/* The census's read: the same figures without the account's handle;
	   an account never opened has no store (1), and none is made. */
	struct store_quota peek;
	test_int_eq(-1, store_quota_peek(t.store, 7, &peek, &err), 0);
	test_int_eq(-1, peek.storage_used, q.storage_used);
	test_int_eq(-1, peek.messages_used, 3);
	test_int_eq(-1, peek.storage_limit, strlen(msg2) * 3 - 1);
	test_int_eq(-1, store_quota_peek(t.store, 8, &peek, &err), 1);
	test_int_eq(-1, store_quota_peek(t.store, 8, &peek, &err), 1);
	store_mailbox_close(&mb);
	tstore_close(&t);
}

/* RFC 9208 MAILBOX: CREATE (parents included) and RENAME are refused over
   the limit and leave nothing behind; setting one limit keeps the others;
   DELETE always works. */
static void
test_mailbox_quota(void)
{
	struct tstore t;
	enum store_error err;
	struct store_quota q = {.mailboxes_limit = 8};

	tstore_open(&t);
	test_int_eq(-1, store_quota_set(t.acct, 0, 50, &err), 0);
	test_int_eq(-1, store_quota_limits_set(t.acct, STORE_QUOTA_MAILBOXES, &q, &err), 0);
	test_int_eq(-1, (int64_t)q.messages_limit, 50);
	test_int_eq(-1, (int64_t)q.mailboxes_used, 6);
	test_int_eq(-1, store_mailbox_create(t.acct, "a/b/c", 0, &err), -1);
	test_int_eq(-1, err, STORE_ERR_QUOTA);
	test_int_eq(-1, tstatus(&t, "a").uidvalidity, 0);
	test_int_eq(-1, store_mailbox_create(t.acct, "a/b", 0, &err), 0);
	test_int_eq(-1, store_mailbox_rename(t.acct, "a/b", "x/y", &err), -1);
	test_int_eq(-1, err, STORE_ERR_QUOTA);
	test_int_eq(-1, store_mailbox_rename(t.acct, "INBOX", "Old", &err), -1);
	test_int_eq(-1, err, STORE_ERR_QUOTA);
	test_int_eq(-1, store_mailbox_rename(t.acct, "a/b", "a/c", &err), 0);
	test_int_eq(-1, store_mailbox_delete(t.acct, "a/c", &err), 0);
	test_int_eq(-1, store_quota_get(t.acct, &q, &err), 0);
	test_int_eq(-1, (int64_t)q.mailboxes_used, 7);
	test_int_eq(-1, (int64_t)q.mailboxes_limit, 8);
	tstore_close(&t);
}

/* RFC 5464 storage: a subtree is one range, a set is all or none, the
   entry limit counts after the change, and entries follow their mailbox. */
static void
test_metadata(void)
{
	struct tstore t;
	enum store_error err;
	struct arena *a = arena_new(4096);
	struct store_metadata_entry *got;
	size_t n;
	const struct store_metadata_entry set[] = {
	        {"/private/f/values/a", (const unsigned char *)"A", 1},
	        {"/private/f/values/b", (const unsigned char *)"B\0b", 3},
	        {"/private/f/valuesx", (const unsigned char *)"X", 1},
	};

	tstore_open(&t);
	test_int_eq(-1, store_metadata_set(t.acct, "INBOX", set, 3, 3, &err), 0);
	test_int_eq(
	        -1,
	        store_metadata_get(t.acct, "INBOX", "/private/f/values", true, a, &got, &n, &err),
	        0);
	test_int_eq(-1, (int64_t)n, 2);
	test_str_eq(-1, got[1].name, "/private/f/values/b");
	test_int_eq(-1, (int64_t)got[1].len, 3);
	test_int_eq(-1, memcmp(got[1].value, "B\0b", 3), 0);
	test_int_eq(-1,
	            store_metadata_get(t.acct, "", "/private/f/values/a", false, a, &got, &n, &err),
	            0);
	test_int_eq(-1, (int64_t)n, 0); /* the server's entries are apart */
	/* A fourth entry is over the limit: nothing of the set happens. */
	const struct store_metadata_entry more[] = {
	        {"/private/f/values/a", NULL, 0},
	        {"/shared/c", (const unsigned char *)"1", 1},
	        {"/shared/d", (const unsigned char *)"2", 1},
	};
	test_int_eq(-1, store_metadata_set(t.acct, "INBOX", more, 3, 3, &err), -1);
	test_int_eq(-1, err, STORE_ERR_LIMIT);
	test_int_eq(-1,
	            store_metadata_get(t.acct, "INBOX", "/private/f/values/a", false, a, &got, &n,
	                               &err),
	            0);
	test_int_eq(-1, (int64_t)n, 1);
	test_int_eq(-1, store_metadata_set(t.acct, "INBOX", more, 2, 3, &err), 0);
	test_int_eq(-1, store_metadata_set(t.acct, "Nope", more, 1, 3, &err), -1);
	test_int_eq(-1, err, STORE_ERR_NOTFOUND);
	/* INBOX rename: a copy goes with the new mailbox, INBOX keeps its own. */
	test_int_eq(-1, store_mailbox_rename(t.acct, "INBOX", "Old", &err), 0);
	test_int_eq(-1, store_metadata_get(t.acct, "Old", "/shared/c", false, a, &got, &n, &err),
	            0);
	test_int_eq(-1, (int64_t)n, 1);
	test_int_eq(-1, store_mailbox_rename(t.acct, "Old", "Older", &err), 0);
	test_int_eq(-1, store_metadata_get(t.acct, "Older", "/shared/c", false, a, &got, &n, &err),
	            0);
	test_int_eq(-1, (int64_t)n, 1);
	test_int_eq(-1, store_mailbox_delete(t.acct, "Older", &err), 0);
	test_int_eq(-1, store_mailbox_create(t.acct, "Older", 0, &err), 0);
	test_int_eq(-1, store_metadata_get(t.acct, "Older", "/shared/c", false, a, &got, &n, &err),
	            0);
	test_int_eq(-1, (int64_t)n, 0);
	test_int_eq(-1, store_metadata_get(t.acct, "INBOX", "/shared/c", false, a, &got, &n, &err),
	            0);
	test_int_eq(-1, (int64_t)n, 1);
	test_int_eq(-1,
	            store_mailbox_special_use_set(t.acct, "Older", STORE_SPECIAL_IMPORTANT, &err),
	            0);
	test_int_eq(-1, (int64_t)tstatus(&t, "Older").special_use, STORE_SPECIAL_IMPORTANT);
	arena_free(&a);
	tstore_close(&t);
}

static void
test_fts_substring_search(void)
{
	static const struct {
		enum store_text_field field;
		const char *needle;
		uint32_t want; /* bit per uid */
	} cases[] = {
	        {STORE_TEXT_BODY, "second LINE", 1 << 1},
	        {STORE_TEXT_BODY,
	         "\xc3\xbc"
	         "ber",
	         1 << 1},                        /* ü matches Ü */
	        {STORE_TEXT_BODY, "ok", 1 << 2}, /* short: fallback scan */
	        {STORE_TEXT_BODY, "O", (1 << 1) | (1 << 2) | (1 << 3)},
	        {STORE_TEXT_BODY, "\xc3\xbc", 1 << 1}, /* one char, non-ASCII */
	        {STORE_TEXT_BODY, "Hello there", 0},   /* header only */
	        {STORE_TEXT_TEXT, "hello THERE", (1 << 1) | (1 << 2)},
	        {STORE_TEXT_HEADERS, "carol@", 1 << 2},
	        {STORE_TEXT_SUBJECT, "re: hello", 1 << 2},
	        {STORE_TEXT_SUBJECT, "re", (1 << 1) | (1 << 2)}, /* "there" */
	        {STORE_TEXT_FROM, "ALICE", 1 << 1},
	        {STORE_TEXT_TO, "bob", 1 << 1},
	        {STORE_TEXT_BODY, "quote\"d", 1 << 3},
	        {STORE_TEXT_BODY, "nothing like this", 0},
	        {STORE_TEXT_BODY, "", (1 << 1) | (1 << 2) | (1 << 3)},
	};
	struct tstore t;
	struct store_mailbox *mb;
	struct arena *a = arena_new(4096);
	enum store_error err;

	tstore_open(&t);
	tappend(&t, "INBOX", msg1, 0);
	tappend(&t, "INBOX", msg2, 0);
	tappend(&t, "INBOX", "Subject: x\r\n\r\nsome quote\"d text, O\r\n", 0);
	tappend(&t, "Sent", msg1, 0); /* other mailbox: never found */
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint32_t *uids, got = 0;
		size_t n;

		test_int_eq(i,
		            store_search_text(mb, cases[i].field, cases[i].needle,
		                              COLLATION_DEFAULT, a, &uids, &n, &err),
		            0);
		for (size_t k = 0; k < n; k++)
			got |= 1u << uids[k];
		test_int_eq(i, got, cases[i].want);
	}
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

/* store_search_text_account(): per mailbox the same uids as
   store_search_text(), sorted by mailbox and uid, before and after the
   indexer has the texts; 1 where it offers nothing. */
static void
test_fts_account_wide_search(void)
{
	static const struct {
		enum store_text_field field;
		const char *needle;
	} cases[] = {
	        {STORE_TEXT_BODY, "second LINE"},
	        {STORE_TEXT_TEXT, "hello THERE"},
	        {STORE_TEXT_HEADERS, "carol@"},
	        {STORE_TEXT_BODY, "quote\"d"},
	        {STORE_TEXT_BODY, "nothing like this"},
	};
	const char *const boxes[] = {"INBOX", "Sent"};
	struct tstore t;
	struct arena *a = arena_new(4096);
	enum store_error err;

	tstore_open(&t);
	tappend(&t, "INBOX", msg1, 0);
	tappend(&t, "INBOX", msg2, 0);
	tappend(&t, "Sent", "Subject: x\r\n\r\nsome quote\"d text, O\r\n", 0);
	tappend(&t, "Sent", msg1, 0);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) /* the same once the indexer has them */
			test_int_eq(-1, store_account_index_flush(t.acct, &err), 0);
		for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
			struct store_text_hit *hits;
			size_t n_hits, seen = 0;
			test_int_eq(i,
			            store_search_text_account(t.acct, cases[i].field,
			                                      cases[i].needle,
			                                      COLLATION_UNICODE_CASEMAP, a, &hits,
			                                      &n_hits, &err),
			            0);
			for (size_t k = 1; k < n_hits; k++)
				test_assert(i,
				            hits[k - 1].mailbox_id < hits[k].mailbox_id ||
				                    (hits[k - 1].mailbox_id == hits[k].mailbox_id &&
				                     hits[k - 1].uid < hits[k].uid));
			for (size_t b = 0; b < ARRAY_LEN(boxes); b++) {
				struct store_mailbox *mb;
				struct store_mailbox_info info;
				uint32_t *uids;
				size_t n, k = 0;
				test_int_eq(i, store_mailbox_open(t.acct, boxes[b], 0, &mb, &err),
				            0);
				store_mailbox_info_get(mb, &info);
				test_int_eq(i,
				            store_search_text(mb, cases[i].field, cases[i].needle,
				                              COLLATION_UNICODE_CASEMAP, a, &uids, &n,
				                              &err),
				            0);
				for (size_t h = 0; h < n_hits; h++) {
					if (hits[h].mailbox_id != info.id)
						continue;
					test_assert(i, k < n && hits[h].uid == uids[k]);
					k++;
				}
				test_int_eq(i, (int64_t)k, (int64_t)n);
				seen += n;
				store_mailbox_close(&mb);
			}
			test_int_eq(i, (int64_t)seen, (int64_t)n_hits);
		}
	}
	struct store_text_hit *hits;
	size_t n_hits;
	test_int_eq(
	        -1,
	        store_search_text_account(t.acct, STORE_TEXT_BODY, "ok", COLLATION_UNICODE_CASEMAP,
	                                  a, &hits, &n_hits, &err),
	        1); /* short: the trigram index cannot answer */
	test_int_eq(-1,
	            store_search_text_account(t.acct, STORE_TEXT_SUBJECT, "hello",
	                                      COLLATION_UNICODE_CASEMAP, a, &hits, &n_hits, &err),
	            1);
	test_int_eq(-1,
	            store_search_text_account(t.acct, STORE_TEXT_BODY, "hello", COLLATION_OCTET, a,
	                                      &hits, &n_hits, &err),
	            1); /* the index folds case: i;octet checks each hit, per mailbox */
	test_int_eq(-1,
	            store_search_text_account(t.acct, STORE_TEXT_BODY, "\xc3\xbc"
	                                                                "ber",
	                                      COLLATION_UNICODE_CASEMAP, a, &hits, &n_hits, &err),
	            1); /* not ASCII: the index folds it more loosely than RFC 5051 */
	arena_free(&a);
	tstore_close(&t);
}

/* An address written with comments inside it is found by its parsed
   form, whether the header index has the message yet or not (the index
   only narrows, and must not narrow it away: ImapTest search-addresses). */
static void
test_address_search_before_and_after_indexing(void)
{
	static const char msg[] = "From: <user-from (comment)@ (comment) domain.org>\r\n"
	                          "To: Some One <one@example.org>\r\n\r\nbody\r\n";
	static const struct {
		enum store_text_field field;
		const char *needle;
		size_t want;
	} cases[] = {
	        {STORE_TEXT_FROM, "user-from@domain.org", 1},
	        {STORE_TEXT_FROM, "USER-FROM@DOMAIN", 1},
	        {STORE_TEXT_TO, "some one", 1},
	        {STORE_TEXT_TO, "one@example.org", 1},
	        {STORE_TEXT_FROM, "user-to@domain.org", 0},
	};
	struct tstore t;
	struct store_mailbox *mb;
	struct arena *a = arena_new(4096);
	enum store_error err;

	tstore_open(&t);
	tappend(&t, "INBOX", msg, 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			test_int_eq(-1, store_account_index_flush(t.acct, &err), 0);
		for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
			uint32_t *uids;
			size_t n = 99;
			test_int_eq(pass * 10 + (int)i,
			            store_search_text(mb, cases[i].field, cases[i].needle,
			                              COLLATION_DEFAULT, a, &uids, &n, &err),
			            0);
			test_int_eq(pass * 10 + (int)i, n, cases[i].want);
		}
	}
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

static void
test_sort_and_ranges(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	struct arena *a = arena_new(4096);
	uint32_t *uids;
	size_t n;
	enum store_error err;

	tstore_open(&t);
	tappend(&t, "INBOX", "Subject: b\r\nFrom: z@x\r\n\r\n1234567890\r\n", 0);
	tappend(&t, "INBOX", "Subject: a\r\nFrom: y@x\r\n\r\n1\r\n", 0);
	tappend(&t, "INBOX", "Subject: c\r\nFrom: x@x\r\n\r\n12345\r\n", 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	struct store_sort by_subject = {.key = STORE_SORT_SUBJECT};
	test_int_eq(-1, store_sort_uids(mb, &by_subject, 1, COLLATION_DEFAULT, a, &uids, &n, &err),
	            0);
	test_int_eq(-1, n == 3 ? uids[0] * 100 + uids[1] * 10 + uids[2] : 0, 213);
	struct store_sort by_size_rev = {.key = STORE_SORT_SIZE, .reverse = true};
	test_int_eq(-1, store_sort_uids(mb, &by_size_rev, 1, COLLATION_DEFAULT, a, &uids, &n, &err),
	            0);
	test_int_eq(-1, n == 3 ? uids[0] * 100 + uids[1] * 10 + uids[2] : 0, 132);
	test_int_eq(-1, store_search_range(mb, STORE_COL_SIZE, 0, 30, a, &uids, &n, &err), 0);
	test_int_eq(-1, n, 1);
	test_int_eq(-1,
	            store_search_range(mb, STORE_COL_SAVE_DATE, 1, INT64_MAX, a, &uids, &n, &err),
	            0);
	test_int_eq(-1, n, 3);
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

/* Cache misses of what fn does on the account's (one, pooled) connection,
   starting cold: without the map (store.sqlite_mmap 0) each page read is
   one. */
static int
cold_misses(struct tstore *t, void (*fn)(struct tstore *t, struct db **dbp))
{
	struct db *db;
	enum store_error err;
	int misses = 0, hi = 0;

	test_int_eq(-1, db_get(t->acct->a, &db, &err), 0);
	sqlite3_db_release_memory(db->h);
	sqlite3_db_status(db->h, SQLITE_DBSTATUS_CACHE_MISS, &misses, &hi, 1);
	fn(t, &db);
	sqlite3_db_status(db->h, SQLITE_DBSTATUS_CACHE_MISS, &misses, &hi, 0);
	db_put(t->acct->a, db);
	return misses;
}

static void
search_pending_account_wide(struct tstore *t, struct db **dbp)
{
	struct arena *a = arena_new(4096);
	struct store_text_hit *hits;
	size_t n_hits;
	enum store_error err;

	/* The connection goes back first: the search takes it (the only one
	   kept), then it is taken again for its counters. */
	struct db *before = *dbp;

	db_put(t->acct->a, *dbp);
	test_int_eq(-1,
	            store_search_text_account(t->acct, STORE_TEXT_BODY, "line 7 of text 4000",
	                                      COLLATION_UNICODE_CASEMAP, a, &hits, &n_hits, &err),
	            0);
	test_int_eq(-1, n_hits, 1);
	test_int_eq(-1, db_get(t->acct->a, dbp, &err), 0);
	test_assert(-1, *dbp == before);
	arena_free(&a);
}

static void
index_one_batch(struct tstore *t, struct db **dbp)
{
	test_int_eq(-1, indexer_batch(t->acct->a, *dbp, INDEX_BATCH), 1);
}

/* An index batch reads its own texts, not every text before it: with a
   plain JOIN SQLite scanned texts up to the batch's last id (every row's
   page), so a batch cost grew with the mailbox and a big fill went
   quadratic; an account-wide search ran its needle over every text for
   the pending ones. 4,000 texts of ~3 KiB (a page each) are indexed and
   one more is pending: searching it and indexing it read a few hundred
   pages at most, not 4,000 (12,053 for the batch with the old join). */
static void
test_index_batch_and_pending_search_read_only_their_texts(void)
{
	struct tstore t;
	struct store_settings set;
	struct buf m;
	enum store_error err;
	int misses;

	store_settings_defaults(&set);
	set.sqlite_mmap = 0;
	tstore_open_with(&t, &set);
	indexer_hold(t.store, true); /* this test runs the batches */
	buf_init(&m);
	for (int i = 0; i <= 4000; i++) {
		struct store_append ap = {0};
		uint32_t uv, uid;

		if (i == 4000)
			test_int_eq(-1, store_account_index_flush(t.acct, &err), 0);
		buf_reset(&m);
		buf_printf(&m, "Subject: text %d\r\n\r\n", i);
		for (int k = 0; k < 60; k++)
			buf_printf(&m, "line %d of text %d, a body of some three KiB\r\n", k, i);
		ap.data = (const unsigned char *)m.data;
		ap.len = m.len;
		test_int_eq(i, store_message_append(t.acct, "INBOX", &ap, 1, &uv, &uid, &err), 0);
	}
	misses = cold_misses(&t, search_pending_account_wide);
	test_assert(-1, misses > 0 && misses < 500);
	misses = cold_misses(&t, index_one_batch);
	test_assert(-1, misses > 0 && misses < 500);
	buf_deinit(&m);
	indexer_hold(t.store, false);
	tstore_close(&t);
}

int
main(void)
{
	TEST_RUN(test_mailbox_names_are_validated);
	TEST_RUN(test_new_account_has_default_mailboxes);
	TEST_RUN(test_create_rename_delete);
	TEST_RUN(test_inbox_rename_moves_messages_not_children);
	TEST_RUN(test_subscriptions);
	TEST_RUN(test_append_fetch_is_byte_identical);
	TEST_RUN(test_lookup_batches_and_open_by_info);
	TEST_RUN(test_multiappend_is_atomic);
	TEST_RUN(test_copy_and_move_share_blobs);
	TEST_RUN(test_expunge_records_vanished);
	TEST_RUN(test_flags_modseq_and_unchangedsince);
	TEST_RUN(test_keyword_limit);
	TEST_RUN(test_counters_follow_every_operation);
	TEST_RUN(test_quota_is_enforced);
	TEST_RUN(test_mailbox_quota);
	TEST_RUN(test_metadata);
	TEST_RUN(test_fts_substring_search);
	TEST_RUN(test_fts_account_wide_search);
	TEST_RUN(test_address_search_before_and_after_indexing);
	TEST_RUN(test_sort_and_ranges);
	TEST_RUN(test_index_batch_and_pending_search_read_only_their_texts);
	return TEST_DONE("test_store");
}
