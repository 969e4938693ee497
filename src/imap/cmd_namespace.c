/* SPDX-License-Identifier: MIT */
/*
 * cmd_namespace.c: NAMESPACE (RFC 2342, RFC 9051 section 6.3.10): the
 * personal namespace (empty prefix), other users' ("Other Users/", each
 * owner's address one level below) and the public one ("Shared/"), all with
 * '/' as delimiter (imap_namespace.h); after LANGUAGE, with the prefixes'
 * translations (RFC 5255 3.4, imap_namespace_reply()).
 */
#include "imap/commands.h"
#include "imap/imap_namespace.h"

enum imap_cmd_status
imap_cmd_namespace(struct imap_cmd *cmd)
{
	if (!imap_args_end(cmd, 0)) {
		imap_reply_bad(cmd, "Expected: NAMESPACE");
		return IMAP_CMD_DONE;
	}
	imap_namespace_reply(cmd->session);
	imap_reply_ok(cmd, "NAMESPACE completed");
	return IMAP_CMD_DONE;
}
