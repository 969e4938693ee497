/* SPDX-License-Identifier: MIT */
/*
 * cmd_search.c: SEARCH and UID SEARCH (RFC 9051 section 6.4.4, RFC 3501
 * 6.4.4), with ESEARCH result options (RFC 4731), SEARCHRES (RFC 5182: RETURN
 * (SAVE) and "$"), the MODSEQ key's reply data (RFC 7162 3.1.5, 3.1.6) and
 * RETURN (RELEVANCY) with FUZZY keys (RFC 6203 section 4).
 *
 * search = "SEARCH" [search-return-opts] SP search-program
 *
 * RETURN also takes PARTIAL (RFC 9394) and CONTEXT and UPDATE (RFC 5267
 * 4.2, 4.3): UPDATE leaves a context that reports later changes to the
 * result as ESEARCH ADDTO/REMOVEFROM (imap_context.c).
 *
 * Answers: an IMAP4rev1 session without RETURN gets "* SEARCH n n n"; a
 * RETURN, or any IMAP4rev2 session (RFC 9051 6.4.4: ESEARCH replaces
 * SEARCH), gets "* ESEARCH (TAG "t") [UID] MIN.. MAX.. ALL.. COUNT..". The
 * numbers are sequence numbers, or UIDs for UID SEARCH. SEARCH by number
 * carries no EXPUNGE (IMAP_CMD_NO_EXPUNGE in commands.c).
 *
 * The saved result ("$") is kept as ascending UIDs whatever the command,
 * so it survives renumbering; expunged UIDs in it simply match nothing.
 * Parsing is search_parse.c, evaluation search.c.
 */
#include <strings.h>
#include <time.h>

#include "imap/commands.h"
#include "imap/imap_filters.h"
#include "imap/imap_condstore.h"
#include "imap/imap_context.h"
#include "imap/imap_esearch.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_search_cmd.h"
#include "imap/search.h"
#include "imap/search_parse.h"
#include "imap/seqset.h"
#include "lib/arena.h"
#include "lib/buf.h"

/* "* SEARCH 2 3 5" (RFC 3501 7.2.5) with "(MODSEQ n)" (RFC 7162 3.1.6). */
static void
reply_search(struct imap_cmd *cmd, bool has_modseq, const uint32_t *uids, size_t n)
{
	struct imap_session *s = cmd->session;
	const uint32_t *nums =
	        cmd->is_uid ? uids : imap_search_uids_to_seqs(s->mbox, uids, n, cmd->arena);
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "SEARCH");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, " %u", nums[i]);
	if (has_modseq && n > 0)
		buf_printf(&b, " (MODSEQ %llu)",
		           (unsigned long long)imap_search_max_modseq(s->mbox, uids, n));
	imap_reply_untagged(s, "%s", b.data);
	buf_deinit(&b);
}

/* search = "SEARCH" [search-return-opts] [SP "CHARSET" SP charset] ... */
static bool
has_charset(const struct imap_cmd *cmd)
{
	size_t i = 0;

	if (cmd->nargs > 0 && cmd->args[0].type == IMAP_ARG_ATOM &&
	    strcasecmp(cmd->args[0].str, "RETURN") == 0)
		i = 2;
	return i < cmd->nargs && cmd->args[i].type == IMAP_ARG_ATOM &&
	       strcasecmp(cmd->args[i].str, "CHARSET") == 0;
}

enum imap_cmd_status
imap_cmd_search(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct imap_search_program prog;
	const char *error;
	enum store_error err;
	uint32_t *uids;
	size_t n;

	/* RFC 6855 section 3: after ENABLE UTF8=ACCEPT a CHARSET conflicts
	   with the UTF-8 the strings are now in. */
	if (s->utf8_accept && has_charset(cmd)) {
		imap_reply_bad(cmd, "No CHARSET after ENABLE UTF8=ACCEPT: strings are UTF-8");
		return IMAP_CMD_DONE;
	}
	struct imap_search_filters filters = imap_filters_for(s);
	switch (imap_search_parse(cmd->arena, cmd->args, cmd->nargs, true, &filters, &prog,
	                          &error)) {
	case IMAP_SEARCH_OK:
		break;
	case IMAP_SEARCH_UNDEFINED_FILTER:
		if (prog.ret & IMAP_SEARCH_RET_SAVE)
			imap_search_save(s, NULL, 0);
		imap_reply_no(cmd, "[UNDEFINED-FILTER %s] No such filter", error);
		return IMAP_CMD_DONE;
	case IMAP_SEARCH_BAD:
		/* RFC 5182 2.1: a BAD SEARCH leaves the saved result alone. */
		imap_reply_bad(cmd, "%s", error);
		return IMAP_CMD_DONE;
	case IMAP_SEARCH_BADCHARSET:
		if (prog.ret & IMAP_SEARCH_RET_SAVE)
			imap_search_save(s, NULL, 0);
		imap_reply_no(cmd, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		return IMAP_CMD_DONE;
	}

	/* RFC 5267 4.3: UPDATE with the tag of a live context is BAD. */
	if ((prog.ret & IMAP_SEARCH_RET_UPDATE) && imap_context_tag_in_use(s, cmd->tag)) {
		imap_reply_bad(cmd, "Tag already names a search context");
		return IMAP_CMD_DONE;
	}
	if (prog.has_modseq)
		imap_condstore_enable(s);
	struct imap_search_input in;
	imap_search_input_init(&in, s);
	uint8_t *scores = NULL;
	if (imap_search_eval_scored(&in, prog.root, cmd->arena, &uids,
	                            prog.has_fuzzy ? &scores : NULL, &n, &err) < 0) {
		/* RFC 5182 2.1: a failed SEARCH with SAVE empties "$". */
		if (prog.ret & IMAP_SEARCH_RET_SAVE)
			imap_search_save(s, NULL, 0);
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}

	if (prog.has_return || s->is_rev2) {
		unsigned ret = prog.has_return ? prog.ret : IMAP_SEARCH_RET_ALL;
		/* SAVE alone suppresses the ESEARCH response (RFC 9051 6.4.4). */
		if (ret != IMAP_SEARCH_RET_SAVE) {
			prog.ret = ret;
			prog.relevancy = scores;
			imap_esearch_reply(cmd, &prog, uids, n);
		}
		if (ret & IMAP_SEARCH_RET_SAVE)
			imap_search_save_for_options(s, &prog, ret, uids, n);
		if (ret & IMAP_SEARCH_RET_UPDATE)
			(void)imap_context_add(cmd, &prog, NULL, 0, uids, n);
	} else {
		reply_search(cmd, prog.has_modseq, uids, n);
	}
	imap_reply_ok(cmd, "%s completed", cmd->name);
	return IMAP_CMD_DONE;
}
