/* SPDX-License-Identifier: MIT */
/*
 * cmd_copy.c: COPY and UID COPY (RFC 9051 sections 6.4.7, 6.4.9) with
 * COPYUID (RFC 4315 section 3; RFC 9051 7.1). The store copies by reference
 * (new rows pointing at the same blobs) in one transaction, so a COPY is all
 * or nothing, as 6.4.7 requires.
 *
 * copy = "COPY" SP sequence-set SP mailbox
 *
 * A missing destination is NO [TRYCREATE] (never created implicitly). A
 * set that names no message (UID COPY of UIDs that are gone) is OK without
 * COPYUID, after checking the destination exists.
 */
#include "imap/commands.h"
#include "imap/imap_copy.h"

enum imap_cmd_status
imap_cmd_copy(struct imap_cmd *cmd)
{
	return imap_copy_run(cmd, false);
}
