/* SPDX-License-Identifier: MIT */
/*
 * message_fetch.c: reading messages for FETCH, POP3 RETR/TOP and export.
 * Metadata comes from the rows cached at delivery (ENVELOPE, BODYSTRUCTURE,
 * the MIME part map, sort fields): nothing is reparsed. The bytes come
 * through a reader (struct store_reader) that hides where they are: an
 * inline blob (blob_data, up to store.inline_max) is copied from its row
 * into the reader once, a file blob is an open fd read with pread(2)
 * straight into the caller's buffer. The lookup leaves in storage_ref
 * which kind and which blob row, so opening a reader costs one primary-key
 * read (inline) or one openat(2) (file), no second query. A missing or
 * wrong-sized blob is reported as STORE_ERR_CORRUPT and logged, never
 * trusted: the caller answers NO and the session goes on.
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

/* "M7_123" into out[24]: EMAILID and THREADID (RFC 8474), without printf. */
static void
format_id(char out[24], char prefix, uint64_t account, uint64_t n)
{
	char tmp[48], *p = tmp + sizeof(tmp);

	*--p = '\0';
	do
		*--p = (char)('0' + n % 10);
	while ((n /= 10) != 0);
	*--p = '_';
	do
		*--p = (char)('0' + account % 10);
	while ((account /= 10) != 0);
	*--p = prefix;
	/* Two 20-digit numbers need 43 bytes; real ids fit in 24, and a
	   longer one is cut rather than overrun (as snprintf did before). */
	size_t len = (size_t)(tmp + sizeof(tmp) - p);
	if (len > 24) {
		len = 24;
		p[23] = '\0';
	}
	memcpy(out, p, len);
}

#define LOOKUP_COLUMNS                                                                             \
	"SELECT m.uid, m.size, m.flags, m.keywords, m.modseq, m.internal_date,"                    \
	" m.save_date, m.email_id, m.thread_id, b.hash, b.header_size, b.sent_date,"               \
	" b.envelope, b.bodystructure, b.body, b.parts, b.subject, b.base_subject,"                \
	" b.from_addr, b.from_display, b.to_addr, b.to_display, b.cc_addr, b.message_id,"          \
	" b.in_reply_to, b.refs_hdr, typeof(b.data) = 'blob', b.id, b.preview"                     \
	" FROM messages m JOIN blobs b ON b.id = m.blob_id"
/* The same columns, NULL for the cached strings: SQLite loads every result
   column, and the strings (often on overflow pages) are most of a row. */
#define LOOKUP_COLUMNS_LEAN                                                                        \
	"SELECT m.uid, m.size, m.flags, m.keywords, m.modseq, m.internal_date,"                    \
	" m.save_date, m.email_id, m.thread_id, b.hash, b.header_size, b.sent_date,"               \
	" NULL, NULL, NULL, b.parts, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"              \
	" NULL, NULL, typeof(b.data) = 'blob', b.id, NULL"                                         \
	" FROM messages m JOIN blobs b ON b.id = m.blob_id"
#define LOOKUP_STRINGS                                                                             \
	(STORE_FETCH_ENVELOPE | STORE_FETCH_STRUCTURE | STORE_FETCH_SORT | STORE_FETCH_PREVIEW)

/* One row of LOOKUP_COLUMNS into m (zeroed by the caller). */
static void
info_fill(sqlite3_stmt *st, const struct account *acct, unsigned fields, struct arena *a,
          struct store_message_info *m)
{
	const unsigned char *hash = sqlite3_column_text(st, 9);
	size_t hash_len = (size_t)sqlite3_column_bytes(st, 9);

	m->uid = (uint32_t)sqlite3_column_int64(st, 0);
	m->size = (uint64_t)sqlite3_column_int64(st, 1);
	m->flags = (uint32_t)sqlite3_column_int(st, 2);
	m->keywords = (uint64_t)sqlite3_column_int64(st, 3);
	m->modseq = (uint64_t)sqlite3_column_int64(st, 4);
	m->internal_date = sqlite3_column_int64(st, 5);
	m->save_date = sqlite3_column_int64(st, 6);
	format_id(m->email_id, 'M', acct->id, (uint64_t)sqlite3_column_int64(st, 7));
	format_id(m->thread_id, 'T', acct->id, (uint64_t)sqlite3_column_int64(st, 8));
	if (hash != NULL && hash_len < sizeof(m->blob_hash))
		memcpy(m->blob_hash, hash, hash_len + 1);
	/* The blob row and its kind, for store_reader_open(). */
	m->storage_ref =
	        (uint64_t)sqlite3_column_int64(st, 27) << 1 | (sqlite3_column_int(st, 26) != 0);
	m->header_size = (uint64_t)sqlite3_column_int64(st, 10);
	m->sent_date = sqlite3_column_int64(st, 11);
	if (fields & STORE_FETCH_ENVELOPE)
		m->envelope = col_text(st, 12, a);
	if (fields & STORE_FETCH_STRUCTURE) {
		m->bodystructure = col_text(st, 13, a);
		m->body = col_text(st, 14, a);
	}
	if (fields & (STORE_FETCH_STRUCTURE | STORE_FETCH_PARTS)) {
		m->parts_len = (size_t)sqlite3_column_bytes(st, 15);
		m->parts = arena_memdup(a, sqlite3_column_blob(st, 15) ?: "", m->parts_len);
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
	/* NULL: not made yet (stored before schema 8), see store.h. */
	if ((fields & STORE_FETCH_PREVIEW) && sqlite3_column_type(st, 28) != SQLITE_NULL)
		m->preview = col_text(st, 28, a);
}

/* True when uids are strictly ascending and dense enough that one range
   scan reads fewer rows than twice the point lookups would. */
static bool
is_dense(const uint32_t *uids, size_t n)
{
	if (n < 4)
		return false;
	for (size_t i = 1; i < n; i++)
		if (uids[i] <= uids[i - 1])
			return false;
	return (uint64_t)uids[n - 1] - uids[0] < 2 * (uint64_t)n;
}

/* Dense ascending uids: one scan of [uids[0], uids[n-1]], merged with uids. */
static int
lookup_range(struct db *db, struct store_mailbox *mbox, const uint32_t *uids, size_t n,
             unsigned fields, struct arena *a, struct store_message_info *out)
{
#define RANGE " WHERE m.mailbox_id = ? AND m.uid >= ? AND m.uid <= ? ORDER BY m.uid"
	static const char sql[] = LOOKUP_COLUMNS RANGE;
	static const char lean_sql[] = LOOKUP_COLUMNS_LEAN RANGE;
#undef RANGE
	sqlite3_stmt *st = db_stmt(db, fields & LOOKUP_STRINGS ? sql : lean_sql);
	size_t i = 0;
	int step;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
	sqlite3_bind_int64(st, 2, uids[0]);
	sqlite3_bind_int64(st, 3, uids[n - 1]);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t uid = (uint32_t)sqlite3_column_int64(st, 0);

		while (i < n && uids[i] < uid)
			i++; /* expunged: uid stays 0 */
		if (i == n)
			break;
		if (uids[i] == uid)
			info_fill(st, mbox->acct, fields, a, &out[i++]);
	}
	sqlite3_reset(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : -1;
}

/* The same columns for a retained message (expunged, still in the
   caller's snapshot): its row's values as parameters, the blob's as read. */
#define RETAINED_COLUMNS                                                                           \
	"SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, b.hash, b.header_size, b.sent_date,"           \
	" b.envelope, b.bodystructure, b.body, b.parts, b.subject, b.base_subject,"                \
	" b.from_addr, b.from_display, b.to_addr, b.to_display, b.cc_addr, b.message_id,"          \
	" b.in_reply_to, b.refs_hdr, typeof(b.data) = 'blob', b.id, b.preview"                     \
	" FROM blobs b WHERE b.id = ?10"

/* Fills the entries a lookup found no row for from the messages retained
   for this snapshot (RFC 2180 4.1.1); others stay uid 0. */
static int
lookup_retained(struct db *db, struct store_mailbox *mbox, const uint32_t *uids, size_t n,
                unsigned fields, struct arena *a, struct store_message_info *out)
{
	static const char sql[] = RETAINED_COLUMNS;

	for (size_t i = 0; i < n; i++) {
		struct retained r;
		if (out[i].uid != 0 || !retain_find(mbox, uids[i], &r))
			continue;
		sqlite3_stmt *st = db_stmt(db, sql);
		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, r.uid);
		sqlite3_bind_int64(st, 2, r.size);
		sqlite3_bind_int64(st, 3, r.flags);
		sqlite3_bind_int64(st, 4, (int64_t)r.keywords);
		sqlite3_bind_int64(st, 5, (int64_t)r.modseq);
		sqlite3_bind_int64(st, 6, r.internal_date);
		sqlite3_bind_int64(st, 7, r.save_date);
		sqlite3_bind_int64(st, 8, r.email_id);
		sqlite3_bind_int64(st, 9, r.thread_id);
		sqlite3_bind_int64(st, 10, r.blob_id);
		int step = sqlite3_step(st);
		if (step == SQLITE_ROW)
			info_fill(st, mbox->acct, fields, a, &out[i]);
		sqlite3_reset(st);
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			return -1;
	}
	return 0;
}

/* Any uids: one indexed lookup each. */
static int
lookup_each(struct db *db, struct store_mailbox *mbox, const uint32_t *uids, size_t n,
            unsigned fields, struct arena *a, struct store_message_info *out)
{
	static const char sql[] = LOOKUP_COLUMNS " WHERE m.mailbox_id = ? AND m.uid = ?";
	static const char lean_sql[] = LOOKUP_COLUMNS_LEAN " WHERE m.mailbox_id = ? AND m.uid = ?";

	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = db_stmt(db, fields & LOOKUP_STRINGS ? sql : lean_sql);
		int step;

		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
		sqlite3_bind_int64(st, 2, uids[i]);
		step = sqlite3_step(st);
		if (step == SQLITE_ROW)
			info_fill(st, mbox->acct, fields, a, &out[i]);
		sqlite3_reset(st);
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			return -1; /* SQLITE_DONE: expunged, uid stays 0 */
	}
	return 0;
}

int
store_message_lookup(struct store_mailbox *mbox, const uint32_t *uids, size_t n, unsigned fields,
                     struct arena *a, struct store_message_info *out, enum store_error *err_out)
{
	struct account *acct = mbox->acct;
	struct db *db;
	int rc;

	if (n == 0)
		return 0;
	memset(out, 0, n * sizeof(*out));
	if (db_get(acct, &db, err_out) < 0)
		return -1;
	/* One read transaction: a consistent picture of all n messages. */
	if (db_begin(db, false) < 0) {
		*err_out = db_error(db);
		db_put(acct, db);
		return -1;
	}
	if (is_dense(uids, n))
		rc = lookup_range(db, mbox, uids, n, fields, a, out);
	else
		rc = lookup_each(db, mbox, uids, n, fields, a, out);
	if (rc == 0)
		rc = lookup_retained(db, mbox, uids, n, fields, a, out);
	if (rc < 0)
		*err_out = db_error(db);
	db_rollback(db);
	db_put(acct, db);
	return rc;
}

/* Bytes of a reader's buffer kept from one message to the next: a FETCH
   of many small messages allocates nothing per message. */
#define READER_KEEP (1u << 20)

struct store_reader {
	bool is_open;
	uint64_t size;
	int fd;                          /* a file blob, or -1 */
	struct buf mem;                  /* ... or an inline blob's bytes */
	uint64_t account_id, mailbox_id; /* for the logs */
	uint32_t uid;
};

/* The blob hash and size of uid; -1 with _EXPUNGED or _TEMP. When the blob
   is inline, *is_inline_out is set and its bytes are appended to data. */
static int
blob_of(struct store_mailbox *mbox, uint32_t uid, char hash_out[65], uint64_t *size_out,
        bool *is_inline_out, struct buf *data, enum store_error *err_out)
{
	static const char sql[] = "SELECT b.hash, b.size, typeof(b.data) = 'blob', d.data"
	                          " FROM messages m JOIN blobs b ON b.id = m.blob_id"
	                          " LEFT JOIN blob_data d ON d.id = b.id"
	                          " WHERE m.mailbox_id = ? AND m.uid = ?";
	/* A retained message (expunged, still in this snapshot): by blob id. */
	static const char kept_sql[] = "SELECT b.hash, b.size, typeof(b.data) = 'blob', d.data"
	                               " FROM blobs b LEFT JOIN blob_data d ON d.id = b.id"
	                               " WHERE b.id = ?";
	struct db *db;
	sqlite3_stmt *st;
	struct retained r;
	int step = SQLITE_ERROR;

	*is_inline_out = false;
	if (db_get(mbox->acct, &db, err_out) < 0)
		return -1;
	st = db_stmt(db, sql);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
		sqlite3_bind_int64(st, 2, uid);
		step = sqlite3_step(st);
		if (step == SQLITE_DONE && retain_find(mbox, uid, &r)) {
			sqlite3_reset(st);
			st = db_stmt(db, kept_sql);
			if (st == NULL) {
				db_put(mbox->acct, db);
				*err_out = STORE_ERR_TEMP;
				return -1;
			}
			sqlite3_bind_int64(st, 1, r.blob_id);
			step = sqlite3_step(st);
		}
		if (step == SQLITE_ROW) {
			snprintf(hash_out, 65, "%s", (const char *)sqlite3_column_text(st, 0));
			*size_out = (uint64_t)sqlite3_column_int64(st, 1);
			*is_inline_out = sqlite3_column_int(st, 2) != 0;
			if (*is_inline_out) {
				const void *bytes = sqlite3_column_blob(st, 3);
				size_t len = (size_t)sqlite3_column_bytes(st, 3);

				if (len > 0 && bytes == NULL)
					step = SQLITE_NOMEM;
				else
					buf_append(data, bytes, len);
			}
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

/* An inline blob's bytes must have its recorded size; logs and fails with
   _CORRUPT otherwise. */
static int
inline_verify(const struct store_reader *r, const char *hash, enum store_error *err_out)
{
	if ((uint64_t)r->mem.len == r->size)
		return 0;
	log_error("store", "event=blob-bad account=%llu mailbox=%llu uid=%u hash=%s inline=1",
	          (unsigned long long)r->account_id, (unsigned long long)r->mailbox_id, r->uid,
	          hash);
	*err_out = STORE_ERR_CORRUPT;
	return -1;
}

/* Opens the blob named hash and checks its size; logs and fails with
   _CORRUPT (missing or wrong size) or _TEMP. *is_missing_out: ENOENT. */
static int
blob_open(struct store_mailbox *mbox, uint32_t uid, const char *hash, uint64_t size,
          bool log_missing, int *fd_out, bool *is_missing_out, enum store_error *err_out)
{
	const struct account *a = mbox->acct;
	struct stat st;
	int fd;

	/* By full path: a directory descriptor kept per open account cost one
	   descriptor per idle account (10,000 IDLE accounts and their sockets
	   passed a 20,000 limit), and only messages over store.inline_max are
	   files at all. */
	*is_missing_out = false;
	char *path = blob_path(a->blob_dir, hash);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size != size) {
		bool missing = fd < 0 && errno == ENOENT;

		*is_missing_out = missing;
		if (!missing || log_missing)
			log_error("store", "event=blob-%s account=%llu mailbox=%llu uid=%u hash=%s",
			          missing ? "missing" : "bad", (unsigned long long)a->id,
			          (unsigned long long)mbox->id, uid, hash);
		*err_out = missing || fd >= 0 ? STORE_ERR_CORRUPT : STORE_ERR_TEMP;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*fd_out = fd;
	return 0;
}

struct store_reader *
store_reader_new(void)
{
	struct store_reader *r = xcalloc(1, sizeof(*r));

	r->fd = -1;
	buf_init(&r->mem);
	return r;
}

void
store_reader_close(struct store_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->mem.cap > READER_KEEP)
		buf_deinit(&r->mem);
	else
		buf_reset(&r->mem);
	r->size = 0;
	r->is_open = false;
}

void
store_reader_free(struct store_reader **rp)
{
	struct store_reader *r = *rp;

	if (r == NULL)
		return;
	store_reader_close(r);
	buf_deinit(&r->mem);
	free(r);
	*rp = NULL;
}

/* Closes what r had and names the message it is to hold (for the logs). */
static void
reader_begin(struct store_reader *r, struct store_mailbox *mbox, uint32_t uid)
{
	store_reader_close(r);
	r->account_id = mbox->acct->id;
	r->mailbox_id = mbox->id;
	r->uid = uid;
}

/* Fills r for uid from the index (one read: the row and inline bytes). */
static int
reader_fill_uid(struct store_mailbox *mbox, struct store_reader *r, enum store_error *err_out)
{
	char hash[65];
	bool is_inline, missing;

	buf_reset(&r->mem);
	if (blob_of(mbox, r->uid, hash, &r->size, &is_inline, &r->mem, err_out) < 0)
		return -1;
	if (is_inline)
		return inline_verify(r, hash, err_out);
	return blob_open(mbox, r->uid, hash, r->size, true, &r->fd, &missing, err_out);
}

/* The inline bytes of the blob row info->storage_ref names, if it still
   has info's hash (a collected row's id can be taken again). *missing_out
   when it does not. */
static int
reader_fill_inline(struct store_mailbox *mbox, const struct store_message_info *info,
                   struct store_reader *r, bool *missing_out, enum store_error *err_out)
{
	static const char sql[] = "SELECT d.data FROM blobs b JOIN blob_data d ON d.id = b.id"
	                          " WHERE b.id = ? AND b.hash = ?";
	struct db *db;
	sqlite3_stmt *st;
	int step = SQLITE_ERROR, rc = -1;

	*missing_out = false;
	if (db_get(mbox->acct, &db, err_out) < 0)
		return -1;
	st = db_stmt(db, sql);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, (int64_t)(info->storage_ref >> 1));
		sqlite3_bind_text(st, 2, info->blob_hash, -1, SQLITE_STATIC);
		step = sqlite3_step(st);
		if (step == SQLITE_ROW) {
			const void *bytes = sqlite3_column_blob(st, 0);
			size_t len = (size_t)sqlite3_column_bytes(st, 0);

			if (len > 0 && bytes == NULL) {
				step = SQLITE_NOMEM;
			} else {
				buf_append(&r->mem, bytes, len);
				rc = inline_verify(r, info->blob_hash, err_out);
			}
		}
		sqlite3_reset(st);
	}
	if (step == SQLITE_DONE) {
		*missing_out = true;
		*err_out = STORE_ERR_EXPUNGED;
	} else if (step != SQLITE_ROW) {
		*err_out = db_error(db);
	}
	db_put(mbox->acct, db);
	return rc;
}

int
store_reader_open(struct store_reader *r, struct store_mailbox *mbox,
                  const struct store_message_info *info, enum store_error *err_out)
{
	bool missing;
	int rc;

	reader_begin(r, mbox, info->uid);
	if (info->uid == 0 || info->storage_ref == 0) {
		*err_out = STORE_ERR_EXPUNGED;
		return -1;
	}
	r->size = info->size;
	if (info->storage_ref & 1)
		rc = reader_fill_inline(mbox, info, r, &missing, err_out);
	else
		rc = blob_open(mbox, info->uid, info->blob_hash, info->size, false, &r->fd,
		               &missing, err_out);
	/* Gone since the lookup: expunged and collected (rows go before
	   files, docs/STORE.md), or really missing. Ask the index again. */
	if (rc < 0 && missing)
		rc = reader_fill_uid(mbox, r, err_out);
	if (rc < 0) {
		store_reader_close(r);
		return -1;
	}
	r->is_open = true;
	return 0;
}

uint64_t
store_reader_size(const struct store_reader *r)
{
	return r->size;
}

int
store_reader_fd(const struct store_reader *r)
{
	return r->fd;
}

int
store_reader_read(struct store_reader *r, uint64_t offset, uint64_t len, struct buf *out,
                  enum store_error *err_out)
{
	if (!r->is_open) {
		*err_out = STORE_ERR_EXPUNGED; /* a failed open: nothing to read */
		return -1;
	}
	if (offset >= r->size)
		return 0;
	if (len > r->size - offset)
		len = r->size - offset;
	if (r->fd < 0) {
		buf_append(out, r->mem.data + offset, (size_t)len);
		return 0;
	}
	while (len > 0) {
		/* Straight from the page cache into out, a MiB at a time. */
		size_t want = (size_t)MIN(len, (uint64_t)1 << 20);
		char *dst = buf_reserve(out, want);
		ssize_t got = pread(r->fd, dst, want, (off_t)offset);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			log_error(
			        "store",
			        "event=blob-read-failed account=%llu mailbox=%llu uid=%u err=\"%s\"",
			        (unsigned long long)r->account_id,
			        (unsigned long long)r->mailbox_id, r->uid,
			        got < 0 ? strerror(errno) : "short file");
			*err_out = got < 0 ? STORE_ERR_TEMP : STORE_ERR_CORRUPT;
			return -1;
		}
		buf_advance(out, (size_t)got);
		offset += (uint64_t)got;
		len -= (uint64_t)got;
	}
	return 0;
}

int
store_message_read(struct store_mailbox *mbox, uint32_t uid, uint64_t offset, uint64_t len,
                   struct buf *out, enum store_error *err_out)
{
	struct store_reader r = {.fd = -1};
	int rc;

	buf_init(&r.mem);
	reader_begin(&r, mbox, uid);
	rc = reader_fill_uid(mbox, &r, err_out);
	r.is_open = rc == 0;
	if (rc == 0)
		rc = store_reader_read(&r, offset, len, out, err_out);
	store_reader_close(&r);
	buf_deinit(&r.mem);
	return rc;
}
