/* SPDX-License-Identifier: MIT */
/*
 * message_fetch.c: reading messages for FETCH, POP3 RETR/TOP and export.
 * Metadata comes from the rows cached at delivery (ENVELOPE, BODYSTRUCTURE,
 * the MIME part map, sort fields): nothing is reparsed. The bytes come from
 * the blob file, as an fd to stream or a byte range (BODY[]<partial>). A
 * missing or wrong-sized blob is reported as STORE_ERR_CORRUPT and logged,
 * never trusted: the caller answers NO and the session goes on.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"

static const char *
col_text(sqlite3_stmt *st, int col, struct arena *a)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return arena_strdup(a, s ? (const char *)s : "");
}

int
store_message_lookup(struct store_mailbox *mbox, const uint32_t *uids, size_t n,
		     unsigned fields, struct arena *a, struct store_message_info *out,
		     enum store_error *err_out)
{
	static const char sql[] =
		"SELECT m.uid, m.size, m.flags, m.keywords, m.modseq, m.internal_date,"
		" m.save_date, m.email_id, m.thread_id, b.hash, b.header_size, b.sent_date,"
		" b.envelope, b.bodystructure, b.body, b.parts, b.subject, b.base_subject,"
		" b.from_addr, b.from_display, b.to_addr, b.to_display, b.cc_addr, b.message_id,"
		" b.in_reply_to, b.refs_hdr"
		" FROM messages m JOIN blobs b ON b.id = m.blob_id"
		" WHERE m.mailbox_id = ? AND m.uid = ?";
	struct account *acct = mbox->acct;
	struct db *db;
	int rc = 0;

	if (db_get(acct, &db, err_out) < 0)
		return -1;
	/* One read transaction: a consistent picture of all n messages. */
	if (db_begin(db, false) < 0) {
		*err_out = db_error(db);
		db_put(acct, db);
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct store_message_info *m = &out[i];
		sqlite3_stmt *st = db_stmt(db, sql);
		int step;

		memset(m, 0, sizeof(*m));
		if (st == NULL) {
			rc = -1;
			break;
		}
		sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
		sqlite3_bind_int64(st, 2, uids[i]);
		step = sqlite3_step(st);
		if (step == SQLITE_DONE) {
			sqlite3_reset(st);
			continue; /* expunged: uid stays 0 */
		}
		if (step != SQLITE_ROW) {
			sqlite3_reset(st);
			rc = -1;
			break;
		}
		m->uid = (uint32_t)sqlite3_column_int64(st, 0);
		m->size = (uint64_t)sqlite3_column_int64(st, 1);
		m->flags = (uint32_t)sqlite3_column_int(st, 2);
		m->keywords = (uint64_t)sqlite3_column_int64(st, 3);
		m->modseq = (uint64_t)sqlite3_column_int64(st, 4);
		m->internal_date = sqlite3_column_int64(st, 5);
		m->save_date = sqlite3_column_int64(st, 6);
		snprintf(m->email_id, sizeof(m->email_id), "M%llu_%llu",
			 (unsigned long long)acct->id,
			 (unsigned long long)sqlite3_column_int64(st, 7));
		snprintf(m->thread_id, sizeof(m->thread_id), "T%llu_%llu",
			 (unsigned long long)acct->id,
			 (unsigned long long)sqlite3_column_int64(st, 8));
		snprintf(m->blob_hash, sizeof(m->blob_hash), "%s",
			 (const char *)sqlite3_column_text(st, 9));
		m->header_size = (uint64_t)sqlite3_column_int64(st, 10);
		m->sent_date = sqlite3_column_int64(st, 11);
		if (fields & STORE_FETCH_ENVELOPE)
			m->envelope = col_text(st, 12, a);
		if (fields & STORE_FETCH_STRUCTURE) {
			m->bodystructure = col_text(st, 13, a);
			m->body = col_text(st, 14, a);
			m->parts_len = (size_t)sqlite3_column_bytes(st, 15);
			m->parts = arena_memdup(a, sqlite3_column_blob(st, 15) ?: "",
						m->parts_len);
		}
		if (fields & STORE_FETCH_SORT) {
			m->subject = col_text(st, 16, a);
			m->base_subject = col_text(st, 17, a);
			m->from_addr = col_text(st, 18, a);
			m->from_display = col_text(st, 19, a);
			m->to_addr = col_text(st, 20, a);
			m->to_display = col_text(st, 21, a);
			m->cc_addr = col_text(st, 22, a);
			m->message_id = col_text(st, 23, a);
			m->in_reply_to = col_text(st, 24, a);
			m->references = col_text(st, 25, a);
		}
		sqlite3_reset(st);
	}
	if (rc < 0)
		*err_out = db_error(db);
	db_rollback(db);
	db_put(acct, db);
	return rc;
}

/* The blob hash and size of uid; -1 with _EXPUNGED or _TEMP. */
static int
blob_of(struct store_mailbox *mbox, uint32_t uid, char hash_out[65], uint64_t *size_out,
	enum store_error *err_out)
{
	static const char sql[] = "SELECT b.hash, b.size FROM messages m JOIN blobs b"
				  " ON b.id = m.blob_id WHERE m.mailbox_id = ? AND m.uid = ?";
	struct db *db;
	sqlite3_stmt *st;
	int step = SQLITE_ERROR;

	if (db_get(mbox->acct, &db, err_out) < 0)
		return -1;
	st = db_stmt(db, sql);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
		sqlite3_bind_int64(st, 2, uid);
		step = sqlite3_step(st);
		if (step == SQLITE_ROW) {
			snprintf(hash_out, 65, "%s", (const char *)sqlite3_column_text(st, 0));
			*size_out = (uint64_t)sqlite3_column_int64(st, 1);
		}
		sqlite3_reset(st);
	}
	if (step == SQLITE_DONE)
		*err_out = STORE_ERR_EXPUNGED;
	else if (step != SQLITE_ROW)
		*err_out = db_error(db);
	db_put(mbox->acct, db);
	return step == SQLITE_ROW ? 0 : -1;
}

int
store_message_open(struct store_mailbox *mbox, uint32_t uid, int *fd_out, uint64_t *size_out,
		   enum store_error *err_out)
{
	char hash[65], *path;
	uint64_t size;
	struct stat st;
	int fd;

	if (blob_of(mbox, uid, hash, &size, err_out) < 0)
		return -1;
	path = blob_path(mbox->acct->blob_dir, hash);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size != size) {
		bool missing = fd < 0 && errno == ENOENT;

		log_error("store", "event=blob-%s account=%llu mailbox=%llu uid=%u hash=%s",
			  missing ? "missing" : "bad", (unsigned long long)mbox->acct->id,
			  (unsigned long long)mbox->id, uid, hash);
		*err_out = missing || fd >= 0 ? STORE_ERR_CORRUPT : STORE_ERR_TEMP;
		if (fd >= 0)
			close(fd);
		free(path);
		return -1;
	}
	free(path);
	*fd_out = fd;
	*size_out = size;
	return 0;
}

int
store_message_read(struct store_mailbox *mbox, uint32_t uid, uint64_t offset, uint64_t len,
		   struct buf *out, enum store_error *err_out)
{
	uint64_t size, end;
	char chunk[16384];
	int fd;

	if (store_message_open(mbox, uid, &fd, &size, err_out) < 0)
		return -1;
	if (offset > size)
		offset = size;
	end = len > size - offset ? size : offset + len;
	while (offset < end) {
		size_t want = (size_t)MIN(end - offset, (uint64_t)sizeof(chunk));
		ssize_t got = pread(fd, chunk, want, (off_t)offset);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			log_error("store", "event=blob-read-failed account=%llu uid=%u err=\"%s\"",
				  (unsigned long long)mbox->acct->id, uid,
				  got < 0 ? strerror(errno) : "short file");
			close(fd);
			*err_out = got < 0 ? STORE_ERR_TEMP : STORE_ERR_CORRUPT;
			return -1;
		}
		buf_append(out, chunk, (size_t)got);
		offset += (uint64_t)got;
	}
	close(fd);
	return 0;
}
