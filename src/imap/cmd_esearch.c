/* SPDX-License-Identifier: MIT */
/*
 * cmd_esearch.c: ESEARCH (RFC 7377 MULTISEARCH): SEARCH over the mailboxes
 * its source options name, answered in UIDs with one ESEARCH response per
 * mailbox that has matches (imap_multisearch.c runs it).
 *
 * esearch = "ESEARCH" [SP esearch-source-opts] [SP search-return-opts]
 *           SP search-program
 *
 * Checked here, before anything runs (section 2.2): no source options
 * means "selected", which needs a selected mailbox; SAVE only with
 * "selected" as the sole source (and "$", which is that mailbox's, too);
 * UPDATE (RFC 5267) only in the selected mailbox, and it stays with SEARCH
 * here (see docs/IMAP.md); CONTEXT is a hint. Syntax errors are BAD, an
 * unknown charset NO [BADCHARSET], an unknown FILTER NO [UNDEFINED-FILTER],
 * as for SEARCH. "UID ESEARCH" is the same command (section 2 writes it so).
 */
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_condstore.h"
#include "imap/imap_esearch_source.h"
#include "imap/imap_filters.h"
#include "imap/imap_multisearch.h"
#include "imap/imap_search_cmd.h"
#include "imap/search_parse.h"
#include "lib/util.h"

/* Whether the search program's arguments (from i) start with CHARSET. */
static bool
has_charset(const struct imap_cmd *cmd, size_t i)
{
	if (i < cmd->nargs && cmd->args[i].type == IMAP_ARG_ATOM &&
	    strcasecmp(cmd->args[i].str, "RETURN") == 0)
		i += 2;
	return i < cmd->nargs && cmd->args[i].type == IMAP_ARG_ATOM &&
	       strcasecmp(cmd->args[i].str, "CHARSET") == 0;
}

static bool
is_only_selected(const struct imap_esearch_source *src)
{
	for (size_t i = 0; i < src->n_filters; i++)
		if (src->filters[i].kind != IMAP_ESEARCH_SELECTED)
			return false;
	return true;
}

enum imap_cmd_status
imap_cmd_esearch(struct imap_cmd *cmd)
{
	static struct imap_esearch_filter selected = {.kind = IMAP_ESEARCH_SELECTED};
	struct imap_session *s = cmd->session;
	struct imap_esearch_source src = {
	        .filters = &selected, .n_filters = 1, .has_selected = true};
	struct imap_search_program prog;
	const char *error;
	size_t first = 0;

	if (cmd->nargs >= 2 && cmd->args[0].type == IMAP_ARG_ATOM &&
	    strcasecmp(cmd->args[0].str, "IN") == 0) {
		if (!imap_esearch_source_parse(cmd->arena, &cmd->args[1], s->utf8_names, &src,
		                               &error)) {
			imap_reply_bad(cmd, "%s", error);
			return IMAP_CMD_DONE;
		}
		first = 2;
	}
	if (src.has_selected && s->state != IMAP_STATE_SELECTED) {
		imap_reply_bad(cmd, "No mailbox selected: give IN (<mailboxes>) (RFC 7377 2.2)");
		return IMAP_CMD_DONE;
	}
	/* RFC 6855 section 3, as for SEARCH. */
	if (s->utf8_accept && has_charset(cmd, first)) {
		imap_reply_bad(cmd, "No CHARSET after ENABLE UTF8=ACCEPT: strings are UTF-8");
		return IMAP_CMD_DONE;
	}
	struct imap_search_filters filters = imap_filters_for(s);
	switch (imap_search_parse(cmd->arena, cmd->args + first, cmd->nargs - first, true, &filters,
	                          &prog, &error)) {
	case IMAP_SEARCH_OK:
		break;
	case IMAP_SEARCH_UNDEFINED_FILTER:
		imap_reply_no(cmd, "[UNDEFINED-FILTER %s] No such filter", error);
		return IMAP_CMD_DONE;
	case IMAP_SEARCH_BAD:
		imap_reply_bad(cmd, "%s", error);
		return IMAP_CMD_DONE;
	case IMAP_SEARCH_BADCHARSET:
		imap_reply_no(cmd, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		return IMAP_CMD_DONE;
	}
	bool only_selected = is_only_selected(&src);
	if ((prog.ret & IMAP_SEARCH_RET_SAVE) && !only_selected) {
		imap_reply_bad(cmd, "SAVE needs the selected mailbox as the only source "
		                    "(RFC 7377 2.2)");
		return IMAP_CMD_DONE;
	}
	if (prog.uses_saved && !only_selected) {
		imap_reply_bad(cmd, "$ is the selected mailbox's result: only with IN (selected)");
		return IMAP_CMD_DONE;
	}
	if (prog.ret & IMAP_SEARCH_RET_UPDATE) {
		imap_reply_bad(cmd, "UPDATE is not offered by ESEARCH: use SEARCH RETURN (UPDATE)");
		return IMAP_CMD_DONE;
	}
	/* Section 2.1: no result option means ALL (RETURN () already is). */
	if (!prog.has_return)
		prog.ret = IMAP_SEARCH_RET_ALL;
	if (prog.has_modseq)
		imap_condstore_enable(s);
	return imap_multisearch_run(cmd, &src, &prog);
}
