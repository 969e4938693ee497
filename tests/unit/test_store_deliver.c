/* SPDX-License-Identifier: MIT */
/* test_store_deliver.c: tests for src/store/deliver.c: one spooled message
   into many accounts. A file blob is one inode linked into every account
   (st_ino, st_nlink); an inline one goes into each index; a missing
   mailbox, a full quota or a too big message fail their own targets only. */
#include "store_test_util.h"

#include <sys/stat.h>

#include "store/store_int.h"
#include "test.h"

#define N_ACCOUNTS 3

struct tdeliver {
	struct tstore t;
	struct store_account *acct[N_ACCOUNTS]; /* ids 7 (t.acct), 8, 9 */
};

static void
topen(struct tdeliver *d, uint64_t max_message_size)
{
	struct store_settings set;
	enum store_error err;

	store_settings_defaults(&set);
	set.inline_max = 1024;
	if (max_message_size != 0)
		set.max_message_size = max_message_size;
	tstore_open_with(&d->t, &set);
	d->acct[0] = d->t.acct;
	for (int i = 1; i < N_ACCOUNTS; i++)
		if (store_account_open(d->t.store, 7 + (uint64_t)i, &d->acct[i], &err) < 0)
			abort();
}

static void
tclose(struct tdeliver *d)
{
	for (int i = 1; i < N_ACCOUNTS; i++)
		store_account_close(&d->acct[i]);
	tstore_close(&d->t);
}

/* A message of about len bytes with a bare-LF body. */
static char *
message_of(size_t len)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "From: a@example.org\nSubject: deliver\n\n");
	while (b.len < len)
		buf_puts(&b, "a line of the body\n");
	return buf_steal(&b);
}

/* The normalised bytes' blob file in account id: stat, or -1. */
static int
blob_stat(struct tdeliver *d, uint64_t id, const char *msg, struct stat *st)
{
	struct mail_crlf c;
	struct buf b;
	char hex[65], *path;
	int rc;

	buf_init(&b);
	mail_crlf_init(&c);
	mail_crlf_feed(&c, (const unsigned char *)msg, strlen(msg), &b);
	blob_hash_hex((const unsigned char *)b.data, b.len, hex);
	path = xasprintf("%s/accounts/%llu/blobs/%.2s/%s", d->t.dir, (unsigned long long)id, hex,
	                 hex);
	rc = stat(path, st);
	free(path);
	buf_deinit(&b);
	return rc;
}

/* Reads uid of box in acct and compares it with msg normalised. */
static void
expect_message(int row, struct store_account *acct, const char *box, uint32_t uid, const char *msg)
{
	struct mail_crlf c;
	struct buf want, got;

	buf_init(&want);
	buf_init(&got);
	mail_crlf_init(&c);
	mail_crlf_feed(&c, (const unsigned char *)msg, strlen(msg), &want);
	test_int_eq(row, tread(acct, box, uid, &got), 0);
	test_assert(row, got.len == want.len && memcmp(got.data, want.data, want.len) == 0);
	buf_deinit(&want);
	buf_deinit(&got);
}

static void
test_file_blob_is_one_inode_in_every_account(void)
{
	struct tdeliver d;
	struct store_delivery_target tg[N_ACCOUNTS];
	struct store_spool *sp;
	enum store_error err;
	char *m = message_of(100000);
	struct stat st[N_ACCOUNTS];
	char report[4096];

	topen(&d, 0);
	/* Account 9 has a message already, so its uids differ. */
	test_int_eq(-1,
	            store_message_append(
	                    d.acct[2], "INBOX",
	                    &(struct store_append){.data = (const unsigned char *)"S: x\r\n\r\n",
	                                           .len = 8},
	                    1, NULL, NULL, &err),
	            0);
	sp = tspool(d.t.store, m, strlen(m), 4096, &err);
	memset(tg, 0, sizeof(tg));
	for (int i = 0; i < N_ACCOUNTS; i++) {
		tg[i].acct = d.acct[i];
		tg[i].mailbox = "INBOX";
		tg[i].flags = STORE_FLAG_FLAGGED;
		tg[i].err = STORE_ERR_TEMP; /* must be overwritten */
	}
	test_int_eq(-1, store_deliver(sp, tg, N_ACCOUNTS), N_ACCOUNTS);
	store_spool_free(&sp);
	for (int i = 0; i < N_ACCOUNTS; i++) {
		test_int_eq(i, tg[i].err, STORE_ERR_NONE);
		test_int_eq(i, tg[i].uid, i == 2 ? 2 : 1);
		test_assert(i, tg[i].uidvalidity != 0);
		expect_message(i, d.acct[i], "INBOX", tg[i].uid, m);
		test_int_eq(i, blob_stat(&d, 7 + (uint64_t)i, m, &st[i]), 0);
		test_int_eq(i, st[i].st_ino, st[0].st_ino);
		test_int_eq(i, st[i].st_nlink, N_ACCOUNTS);
	}
	/* Flags are the target's. */
	struct store_mailbox *mb;
	uint32_t flags;
	uint64_t kw, modseq;
	test_int_eq(-1, store_mailbox_open(d.acct[1], "INBOX", 0, &mb, &err), 0);
	test_int_eq(-1, store_mailbox_flags_get(mb, 1, &flags, &kw, &modseq, &err), 0);
	test_int_eq(-1, flags, STORE_FLAG_FLAGGED);
	store_mailbox_close(&mb);
	/* check sees a linked file as an ordinary blob in each account. */
	test_int_eq(-1, tcheck(&d.t, false, report, sizeof(report)), 0);
	free(m);
	tclose(&d);
}

static void
test_inline_message_goes_into_each_index(void)
{
	struct tdeliver d;
	struct store_delivery_target tg[2] = {{0}, {0}};
	struct store_spool *sp;
	enum store_error err;
	const char *m = "Subject: small\n\nhello\n";

	topen(&d, 0);
	sp = tspool(d.t.store, m, strlen(m), 1, &err);
	tg[0].acct = d.acct[0];
	tg[0].mailbox = "INBOX";
	tg[1].acct = d.acct[1];
	tg[1].mailbox = "Archive";
	test_int_eq(-1, store_deliver(sp, tg, 2), 2);
	store_spool_free(&sp);
	expect_message(0, d.acct[0], "INBOX", tg[0].uid, m);
	expect_message(1, d.acct[1], "Archive", tg[1].uid, m);
	test_int_eq(-1, tblob_files(d.t.dir), 0);
	test_int_eq(-1, tsql_int(d.t.dir, "SELECT count(*) FROM blob_data"), 1);
	tclose(&d);
}

/* One target's mailbox is missing, another's quota is full: those two fail
   alone, and neither keeps a link to the file. */
static void
test_one_target_failing_does_not_fail_the_others(void)
{
	struct tdeliver d;
	struct store_delivery_target tg[4];
	struct store_spool *sp;
	enum store_error err;
	char *m = message_of(5000);
	struct stat st;

	topen(&d, 0);
	test_int_eq(-1, store_quota_set(d.acct[2], 4000, 0, &err), 0);
	sp = tspool(d.t.store, m, strlen(m), 0, &err);
	memset(tg, 0, sizeof(tg));
	tg[0].acct = d.acct[0];
	tg[0].mailbox = "INBOX";
	tg[1].acct = d.acct[1];
	tg[1].mailbox = "No such mailbox";
	tg[2].acct = d.acct[2];
	tg[2].mailbox = "INBOX";
	tg[3].acct = d.acct[1]; /* the same account, a mailbox that exists */
	tg[3].mailbox = "Junk";
	test_int_eq(-1, store_deliver(sp, tg, 4), 2);
	test_int_eq(-1, tg[0].err, STORE_ERR_NONE);
	test_int_eq(-1, tg[1].err, STORE_ERR_NOTFOUND);
	test_int_eq(-1, tg[1].uid, 0);
	test_int_eq(-1, tg[2].err, STORE_ERR_QUOTA);
	test_int_eq(-1, tg[3].err, STORE_ERR_NONE);
	expect_message(3, d.acct[1], "Junk", tg[3].uid, m);
	test_int_eq(-1, blob_stat(&d, 7, m, &st), 0);
	/* accounts 7 and 8, not 9, and the live spool's own name in tmp/ */
	test_int_eq(-1, st.st_nlink, 3);
	test_int_eq(-1, blob_stat(&d, 9, m, &st), -1);

	/* The spool stays usable: deliver it again once there is room. */
	test_int_eq(-1, store_quota_set(d.acct[2], 0, 0, &err), 0);
	test_int_eq(-1, store_deliver(sp, &tg[2], 1), 1);
	test_int_eq(-1, tg[2].err, STORE_ERR_NONE);
	expect_message(2, d.acct[2], "INBOX", tg[2].uid, m);
	test_int_eq(-1, blob_stat(&d, 9, m, &st), 0);
	test_int_eq(-1, st.st_nlink, 4);
	store_spool_free(&sp);
	test_int_eq(-1, blob_stat(&d, 9, m, &st), 0);
	test_int_eq(-1, st.st_nlink, 3); /* the spool's name went with it */
	free(m);
	tclose(&d);
}

static void
test_too_big_fails_every_target(void)
{
	struct tdeliver d;
	struct store_delivery_target tg[2] = {{0}, {0}};
	struct store_spool *sp;
	enum store_error err;
	char *m = message_of(3000);

	topen(&d, 2048);
	test_int_eq(-1, store_spool_new(d.t.store, &sp, &err), 0);
	test_int_eq(-1, store_spool_write(sp, m, strlen(m), &err), -1);
	test_int_eq(-1, err, STORE_ERR_TOOBIG);
	tg[0].acct = d.acct[0];
	tg[1].acct = d.acct[1]; /* mailbox NULL: INBOX */
	test_int_eq(-1, store_deliver(sp, tg, 2), 0);
	test_int_eq(-1, tg[0].err, STORE_ERR_TOOBIG);
	test_int_eq(-1, tg[1].err, STORE_ERR_TOOBIG);
	store_spool_free(&sp);
	test_int_eq(-1, tstatus(&d.t, "INBOX").messages, 0);
	free(m);
	tclose(&d);
}

/* An account that already holds the content keeps its own file; the
   others get the spool's. A failed data fsync fails every target. */
static void
test_existing_file_is_reused_and_fsync_failure_fails_all(void)
{
	struct tdeliver d;
	struct store_delivery_target tg[2] = {{0}, {0}};
	struct store_spool *sp;
	enum store_error err;
	char *m = message_of(5000);
	struct stat st7, st8;

	topen(&d, 0);
	test_int_eq(-1, tappend(&d.t, "INBOX", m, 0), 1);
	test_int_eq(-1, blob_stat(&d, 7, m, &st7), 0);
	tg[0].acct = d.acct[0];
	tg[1].acct = d.acct[1];

	sp = tspool(d.t.store, m, strlen(m), 0, &err);
	store_fault_set(STORE_FAULT_FSYNC, 1);
	test_int_eq(-1, store_deliver(sp, tg, 2), 0);
	test_int_eq(-1, tg[0].err, STORE_ERR_TEMP);
	test_int_eq(-1, tg[1].err, STORE_ERR_TEMP);
	store_fault_set(STORE_FAULT_NONE, 0);
	test_int_eq(-1, blob_stat(&d, 8, m, &st8), -1);

	test_int_eq(-1, store_deliver(sp, tg, 2), 2);
	store_spool_free(&sp);
	test_int_eq(-1, tg[0].uid, 2);
	test_int_eq(-1, blob_stat(&d, 7, m, &st8), 0);
	test_int_eq(-1, st8.st_ino, st7.st_ino); /* account 7's own file */
	test_int_eq(-1, st8.st_nlink, 1);
	test_int_eq(-1, blob_stat(&d, 8, m, &st8), 0);
	test_assert(-1, st8.st_ino != st7.st_ino);
	test_int_eq(-1, tsql_int(d.t.dir, "SELECT refs FROM blobs"), 2);
	free(m);
	tclose(&d);
}

int
main(void)
{
	TEST_RUN(test_file_blob_is_one_inode_in_every_account);
	TEST_RUN(test_inline_message_goes_into_each_index);
	TEST_RUN(test_one_target_failing_does_not_fail_the_others);
	TEST_RUN(test_too_big_fails_every_target);
	TEST_RUN(test_existing_file_is_reused_and_fsync_failure_fails_all);
	return TEST_DONE("test_store_deliver");
}
