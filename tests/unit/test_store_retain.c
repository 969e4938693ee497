/* SPDX-License-Identifier: MIT */
/* test_store_retain.c: tests for src/store/retain.c: a message expunged by one
   session stays readable, as it was, for another session whose snapshot still
   numbers it (RFC 2180 4.1.1), and its blob goes once nobody can ask. */
#include "store_test_util.h"

#include "test.h"

static const char msg_a[] = "Subject: a\r\n\r\nfirst message, a file blob\r\n";
static const char msg_b[] = "Subject: b\r\n\r\nsecond message\r\n";
static const char msg_c[] = "Subject: c\r\n\r\nthird message\r\n";

static struct store_mailbox *
open_inbox(struct tstore *t)
{
	struct store_mailbox *mb = NULL;
	enum store_error err;

	if (store_mailbox_open(t->acct, "INBOX", 0, &mb, &err) < 0)
		printf("open failed: %s\n", store_error_str(err));
	return mb;
}

static uint32_t
expunge(struct store_mailbox *mb, uint32_t uid)
{
	static const char *const none[1];
	struct store_flags_change ch = {STORE_FLAGS_ADD, STORE_FLAG_DELETED, none, 0, 0};
	struct store_flags_result res;
	struct arena *a = arena_new(1024);
	uint32_t *gone;
	size_t n = 0;
	enum store_error err;

	if (store_flags_update(mb, &uid, 1, &ch, a, &res, &err) < 0 ||
	    store_message_expunge(mb, &uid, 1, a, &gone, &n, &err) < 0)
		n = 0;
	arena_free(&a);
	return (uint32_t)n;
}

/* What a lookup and a read of uid give through mb: "" when it is gone. */
static const char *
read_msg(struct arena *a, struct store_mailbox *mb, uint32_t uid, uint32_t *flags_out)
{
	struct store_message_info info;
	struct buf b;
	enum store_error err;

	*flags_out = 0;
	if (store_message_lookup(mb, &uid, 1, STORE_FETCH_ENVELOPE, a, &info, &err) < 0 ||
	    info.uid == 0)
		return "";
	*flags_out = info.flags;
	buf_init(&b);
	struct store_reader *r = store_reader_new();
	int rc = store_reader_open(r, mb, &info, &err);
	if (rc == 0)
		rc = store_reader_read(r, 0, store_reader_size(r), &b, &err);
	store_reader_free(&r);
	const char *text = rc == 0 ? arena_strndup(a, b.data ? b.data : "", b.len) : "";
	buf_deinit(&b);
	return text;
}

static void
test_expunged_message_stays_for_unsynced_snapshot(void)
{
	struct store_settings set;
	struct tstore t;
	struct arena *a = arena_new(4096);
	enum store_error err;
	uint32_t flags;

	store_settings_defaults(&set);
	set.inline_max = 40; /* msg_a is a file, the others inline */
	tstore_open_with(&t, &set);
	tappend(&t, "INBOX", msg_a, 0);
	tappend(&t, "INBOX", msg_b, STORE_FLAG_SEEN);
	struct store_mailbox *writer = open_inbox(&t), *reader = open_inbox(&t), *pop3 = NULL;
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", STORE_OPEN_NO_RETAINED, &pop3, &err),
	            0);

	test_int_eq(-1, expunge(writer, 1), 1);
	test_int_eq(-1, expunge(writer, 2), 1);
	/* A handle that asked for no retained messages (POP3) finds them gone. */
	test_str_eq(0, read_msg(a, pop3, 1, &flags), "");
	test_str_eq(0, read_msg(a, pop3, 2, &flags), "");
	test_int_eq(0, store_mailbox_count(pop3), 2); /* still numbered until its sync */
	store_mailbox_close(&pop3);
	/* The reader has not synced: both are still there, as they were. */
	test_str_eq(0, read_msg(a, reader, 1, &flags), msg_a);
	test_int_eq(0, flags, STORE_FLAG_DELETED);
	test_str_eq(1, read_msg(a, reader, 2, &flags), msg_b);
	test_int_eq(1, flags, STORE_FLAG_SEEN | STORE_FLAG_DELETED);
	/* ... but not to the writer, whose snapshot moves on at its sync. */
	test_int_eq(2, store_mailbox_sync(writer, NULL, NULL, &err), 0);
	test_str_eq(2, read_msg(a, writer, 1, &flags), "");
	/* A later expunge (the collection point) still keeps the blobs. */
	tappend(&t, "INBOX", msg_c, 0);
	test_int_eq(3, store_mailbox_sync(writer, NULL, NULL, &err), 0);
	test_int_eq(3, expunge(writer, 3), 1);
	test_int_eq(3, store_account_index_flush(t.acct, &err), 0); /* background collection */
	test_str_eq(3, read_msg(a, reader, 1, &flags), msg_a);
	test_str_eq(4, read_msg(a, reader, 2, &flags), msg_b);
	test_int_eq(4, tblob_files(t.dir), 1);

	/* Once the reader has synced, the next collection takes them. */
	test_int_eq(5, store_mailbox_sync(reader, NULL, NULL, &err), 0);
	test_str_eq(5, read_msg(a, reader, 1, &flags), "");
	tappend(&t, "INBOX", msg_c, 0);
	test_int_eq(6, store_mailbox_sync(writer, NULL, NULL, &err), 0);
	test_int_eq(6, expunge(writer, 4), 1);
	test_int_eq(6, store_account_index_flush(t.acct, &err), 0);
	test_int_eq(6, tblob_files(t.dir), 0);
	/* msg_c stays: the reader has not synced since its expunge. */
	test_int_eq(7, tsql_int(t.dir, "SELECT count(*) FROM blobs"), 1);
	test_int_eq(7, tsql_int(t.dir, "SELECT refs FROM blobs"), 0);
	/* The account's last close collects what nobody can ask for now. */
	store_mailbox_close(&writer);
	store_mailbox_close(&reader);
	store_account_close(&t.acct);
	test_int_eq(8, tsql_int(t.dir, "SELECT count(*) FROM blobs"), 0);
	arena_free(&a);
	tstore_close(&t);
}

/* A snapshot from before several buffer changes (appends that outgrew the
   buffer, two expunges) sees every message it numbers. */
static void
test_old_snapshot_sees_every_later_expunge(void)
{
	struct tstore t;
	struct arena *a = arena_new(4096);
	enum store_error err;
	uint32_t flags;

	tstore_open(&t);
	tappend(&t, "INBOX", msg_a, 0);
	tappend(&t, "INBOX", msg_b, 0);
	struct store_mailbox *old = open_inbox(&t), *writer = open_inbox(&t);
	for (int i = 0; i < 200; i++) /* grows the view's buffer: replaced */
		tappend(&t, "INBOX", msg_c, 0);
	test_int_eq(-1, store_mailbox_sync(writer, NULL, NULL, &err), 0);
	test_int_eq(-1, expunge(writer, 2), 1);
	test_int_eq(-1, store_mailbox_sync(writer, NULL, NULL, &err), 0);
	test_int_eq(-1, expunge(writer, 1), 1);
	test_str_eq(0, read_msg(a, old, 1, &flags), msg_a);
	test_str_eq(1, read_msg(a, old, 2, &flags), msg_b);
	/* A session opened now never numbered them. */
	struct store_mailbox *fresh = open_inbox(&t);
	test_str_eq(2, read_msg(a, fresh, 1, &flags), "");
	store_mailbox_close(&fresh);
	store_mailbox_close(&old); /* closing is the same as syncing */
	store_mailbox_close(&writer);
	arena_free(&a);
	tstore_close(&t);
}

int
main(void)
{
	TEST_RUN(test_expunged_message_stays_for_unsynced_snapshot);
	TEST_RUN(test_old_snapshot_sees_every_later_expunge);
	return TEST_DONE("test_store_retain");
}
