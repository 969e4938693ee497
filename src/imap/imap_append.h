/* SPDX-License-Identifier: MIT */
/*
 * imap_append.h: APPEND's messages as they arrive. The parser hands each
 * message literal's bytes here (parser.h, IMAP_LITERAL_STREAM) and they go
 * straight into a store spool file: no message is ever held in memory, and
 * none is allocated before its bytes come. cmd_append.c then commits the
 * spools on the store pool.
 */
#ifndef TERN_IMAP_APPEND_H
#define TERN_IMAP_APPEND_H

#include <stddef.h>
#include <stdint.h>

#include "imap/parser.h"
#include "store/store.h"

struct arena;
struct imap_cmd;
struct imap_session;

struct mail_binary;

/* One message literal: its spool, or why it has none. */
struct imap_append_literal {
	struct store_spool *spool; /* NULL once taken by the commit, or on error */
	enum store_error err;      /* the first failure (TOOBIG, TEMP), else NONE */
	struct mail_binary *conv;  /* literal8: binary parts to base64 on the way */
	uint64_t left;             /* of the literal8 being converted, bytes still to come */
};

/* A message literal of len bytes is announced: makes its spool (freed with
   the command's arena). Always streams: a failure is kept for the command
   to report, and the bytes that follow are dropped. A literal8 (binary
   content, RFC 3516 section 4.4) has its binary parts base64 encoded on
   the way in (mail/binary.h). */
enum imap_literal_route imap_append_literal_begin(struct imap_session *s, struct arena *a,
                                                  size_t len, bool is_literal8, void **handle_out);
/* Bytes for the literal's spool, as they come; dropped after a failure,
   which lit->err keeps. */
void imap_append_literal_write(void *handle, const char *data, size_t len);

/*
 * APPEND's body, shared with REPLACE: args[mailbox_arg] is the mailbox, the
 * append-messages follow. Commits on the store pool and replies (WAIT), or
 * replies at once (DONE). replace_uid != 0 (REPLACE, RFC 8508): one message
 * only, and once it is committed that UID of the selected mailbox is removed.
 */
enum imap_cmd_status imap_append_start(struct imap_cmd *cmd, size_t mailbox_arg,
                                       uint32_t replace_uid);

#endif
