/* SPDX-License-Identifier: MIT */
/*
 * cmd_namespace.c: NAMESPACE (RFC 2342, RFC 9051 section 6.3.10). One
 * personal namespace with an empty prefix and '/' as delimiter; no shared
 * or other-users namespaces yet.
 */
#include "imap/commands.h"

enum imap_cmd_status
imap_cmd_namespace(struct imap_cmd *cmd)
{
	if (!imap_args_end(cmd, 0)) {
		imap_reply_bad(cmd, "Expected: NAMESPACE");
		return IMAP_CMD_DONE;
	}
	imap_reply_untagged(cmd->session, "NAMESPACE ((\"\" \"/\")) NIL NIL");
	imap_reply_ok(cmd, "NAMESPACE completed");
	return IMAP_CMD_DONE;
}
