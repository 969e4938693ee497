/* SPDX-License-Identifier: MIT */
/*
 * imap_copy.h: what COPY and MOVE share (cmd_copy.c, cmd_move.c): argument
 * checks, the store call and the COPYUID reply.
 */
#ifndef TERN_IMAP_COPY_H
#define TERN_IMAP_COPY_H

#include <stdbool.h>

#include "imap/session.h"

/* Runs [UID] COPY (move false) or [UID] MOVE on cmd; always replies. */
enum imap_cmd_status imap_copy_run(struct imap_cmd *cmd, bool move);

#endif
