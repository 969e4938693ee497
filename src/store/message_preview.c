/* SPDX-License-Identifier: MIT */
/*
 * message_preview.c: the RFC 8970 PREVIEW of a message stored before
 * previews were kept (index.db schema 7 and older: blobs.preview is NULL).
 * Delivery and APPEND make the preview with the rest of the cached columns
 * (mail_parse, message_append.c); this is the fallback for the old rows,
 * made on the first FETCH PREVIEW from the message's bytes and written back
 * so that FETCH is the only one to pay.
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

#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "mail/mime.h"
#include "mail/preview.h"

#define PREFIX (1024 * 1024)

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
		struct mail_mime_part *root = mail_mime_parse(tmp, msg, bytes.len);

		*preview_out = arena_strdup(a, mail_preview_make(tmp, msg, root));
		arena_free(&tmp);
		preview_cache(mbox, info, *preview_out);
		rc = 0;
	}
	buf_deinit(&bytes);
	store_reader_free(&r);
	return rc;
}
