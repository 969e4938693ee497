/* SPDX-License-Identifier: MIT */
/*
 * cmd_convert.c: CONVERT and UID CONVERT (RFC 5259 section 6).
 *
 * convert = ["UID" SP] "CONVERT" SP sequence-set SP convert-params SP
 *           ( convert-att / "(" convert-att *(SP convert-att) ")" )
 *
 * (the last two in either order: imap_convert_parse.h). Checks the
 * arguments and the request's size against imap.convert_max_parts and
 * imap.convert_max_messages (RFC 5259 section 8.5: NO [MAXCONVERTPARTS n],
 * [MAXCONVERTMESSAGES n], before anything is converted), resolves the set
 * like FETCH does (a sequence number beyond the mailbox is BAD, a UID that
 * is gone is ignored), then hands over to the writer (imap_convert.c).
 * Runs off the loop (commands.c): a conversion of a big part takes time.
 */
#include "imap/commands.h"
#include "imap/imap_convert.h"
#include "imap/imap_mailbox.h"
#include "imap/seqset.h"

enum imap_cmd_status
imap_cmd_convert(struct imap_cmd *cmd)
{
	struct imap_seqset set;
	struct imap_convert_request req;
	const char *error;
	uint32_t *uids;
	size_t n;

	if (cmd->nargs != 3 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    !imap_seqset_parse(cmd->arena, cmd->args[0].str, &set)) {
		imap_reply_bad(cmd,
		               "Expected: %s <sequence set> (<\"type/subtype\"> or NIL "
		               "[(<parameters>)]) <data items>",
		               cmd->name);
		return IMAP_CMD_DONE;
	}
	if (!imap_convert_request_parse(cmd->arena, &cmd->args[1], 2, &req, &error)) {
		imap_reply_bad(cmd, "%s", error);
		return IMAP_CMD_DONE;
	}
	const struct imap_settings *cfg = &cmd->session->settings;
	if (req.n_parts > cfg->convert_max_parts) {
		imap_reply_no(cmd, "[MAXCONVERTPARTS %llu] Too many parts to convert at once",
		              (unsigned long long)cfg->convert_max_parts);
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_resolve_set(cmd, &set, &uids, &n))
		return IMAP_CMD_DONE;
	if (n > cfg->convert_max_messages) {
		imap_reply_no(cmd, "[MAXCONVERTMESSAGES %llu] Too many messages to convert at once",
		              (unsigned long long)cfg->convert_max_messages);
		return IMAP_CMD_DONE;
	}
	return imap_convert_run(cmd, &req, uids, n);
}
