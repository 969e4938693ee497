/* SPDX-License-Identifier: MIT */
/*
 * imap_catenate.h: CATENATE (RFC 4469) messages built as the command
 * arrives. An APPEND message may be
 *
 *   "CATENATE" SP "(" cat-part *(SP cat-part) ")"
 *   cat-part = "TEXT" SP literal / "URL" SP astring
 *
 * and each list becomes one spool, written in order: a URL's part is read
 * from the store (imap_url.c) when the parser reaches the next TEXT literal
 * (or the end of the list), and a TEXT literal's bytes stream in as they
 * arrive, like any APPEND message (imap_append.c). So a message assembled
 * from big attachments by reference is never held in memory, and neither
 * are its TEXT parts.
 */
#ifndef TERN_IMAP_CATENATE_H
#define TERN_IMAP_CATENATE_H

#include <stdbool.h>
#include <stddef.h>

#include "imap/parser.h"
#include "store/store.h"

struct arena;
struct imap_cmd;
struct imap_session;

/* A literal of where (depth 1, after "TEXT", in a list after "CATENATE")
   is announced: URL parts before it go into its message's spool, then its
   bytes stream in. Always streams; failures are kept for the command. */
enum imap_literal_route imap_catenate_literal_begin(struct imap_session *s, struct arena *a,
                                                    const struct imap_literal_where *where,
                                                    void **handle_out);

enum imap_catenate_status {
	IMAP_CATENATE_OK,
	IMAP_CATENATE_BAD,    /* the list is not cat-parts */
	IMAP_CATENATE_BADURL, /* a URL names nothing here: *bad_url_out */
	IMAP_CATENATE_FAILED, /* the spool failed: *err_out (_TOOBIG, _TEMP) */
};

/*
 * APPEND's argument list (args[index], after "CATENATE") is complete: the
 * URL parts after its last literal are added and the message's spool is
 * handed over (*spool_out, the caller's to free). A NUL in a TEXT literal
 * is refused like in a plain APPEND (BAD).
 */
enum imap_catenate_status imap_catenate_finish(struct imap_cmd *cmd, size_t index,
                                               const struct imap_arg *list,
                                               struct store_spool **spool_out,
                                               const char **bad_url_out, enum store_error *err_out);

#endif
