/* SPDX-License-Identifier: MIT */
/*
 * imap_fetch.h: the FETCH response writer (RFC 9051 section 7.5.2): turns a
 * parsed request and a list of UIDs into "* n FETCH (...)" responses,
 * streaming message bodies with bounded memory. cmd_fetch.c parses and
 * checks the command, then hands over here.
 */
#ifndef TERN_IMAP_FETCH_H
#define TERN_IMAP_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "imap/imap_fetch_parse.h"
#include "imap/session.h"

/*
 * Answers cmd with req for uids (ascending, from the session's snapshot),
 * then sends the tagged reply. seen_set (ascending, may be NULL) are the
 * uids whose \Seen this command just set: their responses carry FLAGS
 * (RFC 9051 6.4.5). Everything lives in cmd->arena or is released through
 * cmd->on_free. The tagged OK says ok_text (in cmd->arena), or "<command>
 * completed" when it is NULL. Returns IMAP_CMD_DONE (tagged reply sent) or
 * IMAP_CMD_WAIT (the client is slow; continues on the drained callback).
 */
enum imap_cmd_status imap_fetch_run(struct imap_cmd *cmd, const struct imap_fetch_request *req,
                                    const uint32_t *uids, size_t n, const uint32_t *seen_set,
                                    size_t n_seen_set, const char *ok_text);

#endif
