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

/*
 * Answers cmd with req for uids (ascending, from the session's snapshot):
 * a CONVERTED response per message, each item's value or its error phrase,
 * then the tagged reply (OK when some item was answered with a value).
 * cmd_convert.c has checked the request against imap.convert_max_messages
 * and _parts. Returns IMAP_CMD_DONE.
 */
enum imap_cmd_status imap_convert_run(struct imap_cmd *cmd, const struct imap_convert_request *req,
                                      const uint32_t *uids, size_t n);

#endif
