/* SPDX-License-Identifier: MIT */
/*
 * imap_append.c: message literals into spool files (imap_append.h). Runs on
 * the worker as bytes arrive: store_spool_write normalises line ends, hashes
 * and writes through a small buffer, so a 50 MB APPEND costs the session a
 * few KiB. A literal8 first passes through mail_binary (binary parts to
 * base64, RFC 3516), which holds no more than one part header. fsync and
 * the commit come later, on the store pool.
 */
#include "imap/imap_append.h"

#include "imap/session.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "mail/binary.h"

static void
literal_free(void *p)
{
	struct imap_append_literal *lit = p;

	mail_binary_free(&lit->conv);
	store_spool_free(&lit->spool);
}

/* The converter's output, for a literal8. */
static void
spool_write(void *ctx, const void *data, size_t len)
{
	struct imap_append_literal *lit = ctx;

	if (lit->spool != NULL && lit->err == STORE_ERR_NONE &&
	    store_spool_write(lit->spool, data, len, &lit->err) < 0)
		store_spool_free(&lit->spool);
}

enum imap_literal_route
imap_append_literal_begin(struct imap_session *s, struct arena *a, size_t len, bool is_literal8,
                          void **handle_out)
{
	struct imap_append_literal *lit = arena_zalloc(a, sizeof(*lit));

	if (store_spool_new(s->srv->store, &lit->spool, &lit->err) < 0) {
		log_error("imap", "event=spool-failed err=\"%s\"", store_error_str(lit->err));
		lit->spool = NULL;
	} else if (is_literal8) {
		lit->conv = mail_binary_new(spool_write, lit);
	}
	lit->left = len;
	arena_on_free(a, literal_free, lit);
	*handle_out = lit;
	return IMAP_LITERAL_STREAM;
}

void
imap_append_literal_write(void *handle, const char *data, size_t len)
{
	struct imap_append_literal *lit = handle;

	if (lit->conv != NULL) {
		lit->left -= len;
		mail_binary_feed(lit->conv, data, len);
		if (lit->left == 0)
			mail_binary_finish(lit->conv);
		return;
	}
	spool_write(lit, data, len);
}
