/* SPDX-License-Identifier: MIT */
/*
 * message_preview.c: the RFC 8970 PREVIEW of a message stored before
 * previews were kept (index.db schema 7 and older: blobs.preview is NULL).
 * Delivery and APPEND make the preview with the rest of the cached columns
 * (mail_parse, message_append.c); this is the fallback for the old rows,
 * made on the first FETCH PREVIEW from the message's bytes and written back
 * so that FETCH is the only one to pay.
 *
 * The indexer thread makes them for every old row in the background
 * (preview_backfill_batch, after its other work), so that PREVIEW (LAZY),
 * which never waits for one, gets them too.
 *
 * Only the first PREFIX bytes are read and parsed: the text a preview shows
 * comes first in real mail (after at most a few headers and a boundary),
 * and the MIME parser reads a cut message as one whose last part is short.
 * So an old 50 MB message costs a 1 MiB read, not 50. The cache write is
 * opportunistic: it takes the account's write lock only if no writer holds
 * it (a FETCH runs on an event loop and must not wait for a group commit's
 * fsync); when it is busy, the next FETCH makes the preview again.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "mail/mime.h"
#include "mail/preview.h"

#define PREFIX (1024 * 1024)

/* The preview of the message (or its first PREFIX bytes) msg, in a. */
static const char *
preview_of(struct arena *a, const unsigned char *msg, size_t len)
{
	struct mail_mime_part *root = mail_mime_parse(a, msg, len);

	return mail_preview_make(a, msg, root);
}

/*
 * A preview is a cache: its write needs no fsync of its own. With WAL and
 * synchronous=NORMAL a commit is consistent at once and reaches the disk
 * with the next durable commit or checkpoint; lost in a crash, the preview
 * is made again. One fsync per message made an uncached FETCH 1:200
 * PREVIEW take 570 ms. Returns the level to give back to cache_sync_end.
 */
static int
cache_sync_begin(struct db *db)
{
	sqlite3_stmt *st = db_stmt(db, "PRAGMA synchronous");
	int level = -1;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		level = sqlite3_column_int(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	if (level == 2 && db_exec(db, "PRAGMA synchronous=NORMAL") < 0)
		level = -1;
	return level;
}

static void
cache_sync_end(struct db *db, int level)
{
	if (level == 2)
		(void)db_exec(db, "PRAGMA synchronous=FULL");
}

/* Writes preview into the blob row of info if it has none yet. */
static void
preview_cache(struct store_mailbox *mbox, const struct store_message_info *info,
              const char *preview)
{
	static const char sql[] =
	        "UPDATE blobs SET preview = ? WHERE id = ? AND hash = ? AND preview IS NULL";
	struct account *a = mbox->acct;
	enum store_error err;
	struct db *db;

	sqlite3_stmt *st;
	bool ok = false;

	if (pthread_mutex_trylock(&a->write_lock) != 0)
		return;
	if (db_get(a, &db, &err) < 0) {
		pthread_mutex_unlock(&a->write_lock);
		return;
	}
	int level = cache_sync_begin(db);
	if (db_begin(db, true) == 0 && (st = db_stmt(db, sql)) != NULL) {
		sqlite3_bind_text(st, 1, preview, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)(info->storage_ref >> 1));
		sqlite3_bind_text(st, 3, info->blob_hash, -1, SQLITE_STATIC);
		ok = db_step_done(db, st) == 0 && db_commit(db) == 0;
	}
	if (!ok) {
		/* Only a cache: the preview is made again next time. */
		log_info("store", "event=preview-cache-failed account=%llu uid=%u",
		         (unsigned long long)a->id, info->uid);
		db_rollback(db);
	}
	cache_sync_end(db, level);
	db_put(a, db);
	pthread_mutex_unlock(&a->write_lock);
}

int
store_message_preview_make(struct store_mailbox *mbox, const struct store_message_info *info,
                           struct arena *a, const char **preview_out, enum store_error *err_out)
{
	struct store_reader *r = store_reader_new();
	struct buf bytes;
	int rc = -1;

	buf_init(&bytes);
	if (store_reader_open(r, mbox, info, err_out) == 0 &&
	    store_reader_read(r, 0, PREFIX, &bytes, err_out) == 0) {
		struct arena *tmp = arena_new(16 * 1024);
		const unsigned char *msg =
		        (const unsigned char *)(bytes.data != NULL ? bytes.data : "");

		*preview_out = arena_strdup(a, preview_of(tmp, msg, bytes.len));
		arena_free(&tmp);
		preview_cache(mbox, info, *preview_out);
		rc = 0;
	}
	buf_deinit(&bytes);
	store_reader_free(&r);
	return rc;
}

/* Appends the first PREFIX bytes of the blob file hash to out. 0, or -1
   when it cannot be read (missing: tern check reports it). */
static int
file_prefix(struct account *a, const char *hash, struct buf *out)
{
	char *path = blob_path(a->blob_dir, hash);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	free(path);
	if (fd < 0)
		return -1;
	while (got < PREFIX) {
		char *dst = buf_reserve(out, PREFIX - got);
		ssize_t n = pread(fd, dst, PREFIX - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_advance(out, (size_t)n);
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

struct pick {
	int64_t id;
	const char *hash;
	const unsigned char *data; /* an inline blob's first bytes, or NULL */
	size_t len;
	const char *preview;
};

int
preview_backfill_batch(struct account *a, struct db *db, unsigned max)
{
	/* blobs_no_preview holds exactly these rows (schema.c). */
	static const char pick_sql[] = "SELECT b.id, b.hash, d.data FROM blobs b"
	                               " LEFT JOIN blob_data d ON d.id = b.id"
	                               " WHERE b.preview IS NULL LIMIT ?";
	static const char set_sql[] =
	        "UPDATE blobs SET preview = ? WHERE id = ? AND preview IS NULL";
	struct arena *tmp = arena_new(64 * 1024);
	struct pick *p = arena_zalloc(tmp, max * sizeof(*p));
	sqlite3_stmt *st = db_stmt(db, pick_sql);
	size_t n = 0;
	int rc = -1;

	if (st == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, max);
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *hash = sqlite3_column_text(st, 1);
		p[n].id = sqlite3_column_int64(st, 0);
		p[n].hash = arena_strdup(tmp, hash != NULL ? (const char *)hash : "");
		if (sqlite3_column_type(st, 2) == SQLITE_BLOB) {
			size_t len = (size_t)sqlite3_column_bytes(st, 2);
			p[n].len = len < PREFIX ? len : PREFIX;
			p[n].data = arena_memdup(tmp, sqlite3_column_blob(st, 2) ?: "", p[n].len);
		}
		n++;
	}
	sqlite3_reset(st);

	/* The work, with no lock and no transaction held. */
	for (size_t i = 0; i < n; i++) {
		struct buf bytes;
		buf_init(&bytes);
		if (p[i].data != NULL)
			buf_append(&bytes, p[i].data, p[i].len);
		if (p[i].data != NULL || file_prefix(a, p[i].hash, &bytes) == 0)
			p[i].preview = preview_of(
			        tmp, (const unsigned char *)(bytes.data != NULL ? bytes.data : ""),
			        bytes.len);
		else
			p[i].preview = ""; /* no bytes, nothing to show; and not tried again */
		buf_deinit(&bytes);
	}

	pthread_mutex_lock(&a->write_lock);
	int level = n > 0 ? cache_sync_begin(db) : -1;
	if (n == 0) {
		a->preview_pending = false;
		rc = 0;
	} else if (db_begin(db, true) == 0) {
		size_t i;
		for (i = 0; i < n; i++) {
			st = db_stmt(db, set_sql);
			if (st == NULL)
				break;
			sqlite3_bind_text(st, 1, p[i].preview, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, p[i].id);
			if (db_step_done(db, st) < 0)
				break;
		}
		if (i == n && db_commit(db) == 0) {
			rc = (int)n;
		} else {
			log_error("store", "event=preview-backfill-failed account=%llu",
			          (unsigned long long)a->id);
			db_rollback(db);
		}
	}
	cache_sync_end(db, level);
	pthread_mutex_unlock(&a->write_lock);
out:
	arena_free(&tmp);
	return rc;
}
