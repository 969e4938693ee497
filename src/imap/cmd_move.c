/* SPDX-License-Identifier: MIT */
/*
 * cmd_move.c: MOVE and UID MOVE (RFC 6851; RFC 9051 sections 6.4.8, 6.4.9).
 * The store copies and expunges the source rows in one transaction, so each
 * message is in exactly one of the two mailboxes, whatever happens.
 *
 * move = "MOVE" SP sequence-set SP mailbox
 *
 * Order on the wire (RFC 6851 section 4.3, RFC 9051 6.4.8): the COPYUID goes
 * out in an untagged OK first, then the EXPUNGE (or VANISHED) responses,
 * which come from the session's own sync just before the tagged OK
 * (reply.c -> imap_mailbox_sync: MOVE is not IMAP_CMD_NO_EXPUNGE). The
 * source must be read-write (the move expunges from it).
 */
#include "imap/commands.h"
#include "imap/imap_copy.h"

enum imap_cmd_status
imap_cmd_move(struct imap_cmd *cmd)
{
	return imap_copy_run(cmd, true);
}
