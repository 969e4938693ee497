/* SPDX-License-Identifier: MIT */
/*
 * imap_copy.h: what COPY and MOVE share (cmd_copy.c, cmd_move.c): argument
 * checks, the store call and the COPYUID reply.
 */
#ifndef TERN_IMAP_COPY_H
#define TERN_IMAP_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/session.h"

/* Runs [UID] COPY (move false) or [UID] MOVE on cmd; always replies. */
enum imap_cmd_status imap_copy_run(struct imap_cmd *cmd, bool move);

/*
 * The same for uids (ascending, n > 0) into dest of another owner's
 * account dest_acct (imap_copy_across.c): bytes read and appended again,
 * on the store pool; returns IMAP_CMD_WAIT then, or DONE after replying.
 */
struct store_account;
enum imap_cmd_status imap_copy_across(struct imap_cmd *cmd, const uint32_t *uids, size_t n,
                                      struct store_account *dest_acct, const char *dest, bool move);

#endif
