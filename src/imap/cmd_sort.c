/* SPDX-License-Identifier: MIT */
/*
 * cmd_sort.c: SORT and UID SORT (RFC 5256 BASE.6.4.SORT) with DISPLAYFROM
 * and DISPLAYTO (RFC 5957), and the MODSEQ reply data (RFC 7162 3.1.9).
 *
 * sort = ["UID" SP] "SORT" SP sort-criteria SP search-criteria
 * sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"
 * sort-criterion = ["REVERSE" SP] sort-key
 * search-criteria = charset 1*(SP search-key)
 *
 * The store orders the whole mailbox by the cached sort keys (SQL over
 * indexed columns, ties by UID = arrival order in the mailbox, as RFC 5256
 * wants); the search program's matches then filter that order by binary
 * search: O(n log m). No EXPUNGE while answering SORT (commands.c).
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap/commands.h"
#include "imap/imap_condstore.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_search_cmd.h"
#include "imap/search.h"
#include "imap/search_parse.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/sorted.h"

static bool
parse_criteria(struct imap_cmd *cmd, const struct imap_arg *list, struct store_sort **keys_out,
               size_t *n_out)
{
	static const struct {
		const char *name;
		enum store_sort_key key;
	} names[] = {
	        {"ARRIVAL", STORE_SORT_ARRIVAL},
	        {"CC", STORE_SORT_CC},
	        {"DATE", STORE_SORT_DATE},
	        {"FROM", STORE_SORT_FROM},
	        {"SIZE", STORE_SORT_SIZE},
	        {"SUBJECT", STORE_SORT_SUBJECT},
	        {"TO", STORE_SORT_TO},
	        {"DISPLAYFROM", STORE_SORT_DISPLAYFROM},
	        {"DISPLAYTO", STORE_SORT_DISPLAYTO},
	};
	struct store_sort *keys = arena_zalloc(cmd->arena, (list->count + 1) * sizeof(*keys));
	size_t n = 0;
	bool reverse = false;

	for (size_t i = 0; i < list->count; i++) {
		const struct imap_arg *a = &list->list[i];
		size_t j = 0;
		if (a->type != IMAP_ARG_ATOM)
			return false;
		if (strcasecmp(a->str, "REVERSE") == 0) {
			if (reverse)
				return false;
			reverse = true;
			continue;
		}
		while (j < ARRAY_LEN(names) && strcasecmp(a->str, names[j].name) != 0)
			j++;
		if (j == ARRAY_LEN(names))
			return false;
		keys[n].key = names[j].key;
		keys[n].reverse = reverse;
		n++;
		reverse = false;
	}
	if (n == 0 || reverse)
		return false;
	*keys_out = keys;
	*n_out = n;
	return true;
}

enum imap_cmd_status
imap_cmd_sort(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct imap_search_program prog = {0};
	struct store_sort *keys;
	size_t n_keys, n_match, n_sorted;
	uint32_t *match, *sorted;
	enum store_error err;

	if (cmd->nargs < 3 || cmd->args[0].type != IMAP_ARG_LIST ||
	    !parse_criteria(cmd, &cmd->args[0], &keys, &n_keys)) {
		imap_reply_bad(cmd, "Expected: SORT (<criteria>) <charset> <search keys>");
		return IMAP_CMD_DONE;
	}
	if (cmd->args[1].type != IMAP_ARG_ATOM && cmd->args[1].type != IMAP_ARG_QUOTED) {
		imap_reply_bad(cmd, "SORT needs a charset");
		return IMAP_CMD_DONE;
	}
	if (!imap_search_keys_arg(cmd, 1, &prog))
		return IMAP_CMD_DONE;
	if (prog.has_modseq)
		imap_condstore_enable(s);

	struct imap_search_input in;
	imap_search_input_init(&in, s);
	if (imap_search_eval(&in, prog.root, cmd->arena, &match, &n_match, &err) < 0 ||
	    store_sort_uids(s->mbox, keys, n_keys, cmd->arena, &sorted, &n_sorted, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}

	/* The sorted list covers the mailbox as it is now; keep what the
	   search found in the session's snapshot. */
	struct buf b;
	size_t n_out = 0;
	buf_init(&b);
	buf_puts(&b, "SORT");
	for (size_t i = 0; i < n_sorted; i++) {
		if (!sorted_u32_contains(match, n_match, sorted[i]))
			continue;
		buf_printf(&b, " %u",
		           cmd->is_uid ? sorted[i] : store_mailbox_seq(s->mbox, sorted[i]));
		n_out++;
	}
	if (prog.has_modseq && n_out > 0)
		buf_printf(&b, " (MODSEQ %llu)",
		           (unsigned long long)imap_search_max_modseq(s->mbox, match, n_match));
	imap_reply_untagged(s, "%s", b.data);
	buf_deinit(&b);
	imap_reply_ok(cmd, "%s completed", cmd->name);
	return IMAP_CMD_DONE;
}
