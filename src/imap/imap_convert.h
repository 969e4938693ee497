/* SPDX-License-Identifier: MIT */
/*
 * imap_convert.h: the CONVERT response writer (RFC 5259 sections 6, 8.1):
 * a parsed request and the UIDs it names become "* n CONVERTED (TAG ...)
 * (...)" responses, each part converted by mail_convert_entity(). Runs on
 * the query pool (IMAP_CMD_OFF_LOOP), its work bounded by
 * imap.max_session_memory. cmd_convert.c checks the command first.
 */
#ifndef TERN_IMAP_CONVERT_H
#define TERN_IMAP_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "imap/imap_convert_parse.h"
#include "imap/session.h"

/* Messages and parts one CONVERT may name (RFC 5259 section 9:
   [MAXCONVERTMESSAGES n], [MAXCONVERTPARTS n] beyond). A conversion works
   on the whole part in memory: these keep one command's work, and the
   output it holds until it is back on the loop, a few parts' worth. */
#define IMAP_CONVERT_MAX_MESSAGES 100
#define IMAP_CONVERT_MAX_PARTS    10

/*
 * Answers cmd with req for uids (ascending, from the session's snapshot),
 * then sends the tagged reply: OK when every part converted; else NO with
 * the code of the first that did not, its data item answered NIL
 * ([UNKNOWN-CVT] no such conversion, [BADPARAMS] a parameter not
 * honoured, [CONVERSION-FAILED] data that would not convert, [LIMIT] past
 * imap.max_session_memory, [TEMPFAIL] a store failure worth a retry).
 * Returns IMAP_CMD_DONE.
 */
enum imap_cmd_status imap_convert_run(struct imap_cmd *cmd, const struct imap_convert_request *req,
                                      const uint32_t *uids, size_t n);

#endif
