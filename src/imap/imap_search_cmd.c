/* SPDX-License-Identifier: MIT */
/* imap_search_cmd.c: see imap_search_cmd.h. */
#include "imap/imap_search_cmd.h"

#include <time.h>

void
imap_search_input_init(struct imap_search_input *in, struct imap_session *s)
{
	*in = (struct imap_search_input){
	        .mbox = s->mbox,
	        .acct = s->account,
	        .saved = s->saved_uids,
	        .n_saved = s->n_saved,
	        .now = (int64_t)time(NULL),
	};
}

bool
imap_search_keys_arg(struct imap_cmd *cmd, size_t charset_i, struct imap_search_program *prog)
{
	const char *error;

	switch (imap_search_parse_keys(cmd->arena, cmd->args + charset_i + 1,
	                               cmd->nargs - charset_i - 1, cmd->args[charset_i].str, prog,
	                               &error)) {
	case IMAP_SEARCH_OK:
		return true;
	case IMAP_SEARCH_BAD:
		imap_reply_bad(cmd, "%s", error);
		return false;
	case IMAP_SEARCH_BADCHARSET:
		imap_reply_no(cmd, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		return false;
	}
	return false;
}
