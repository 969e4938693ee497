/* SPDX-License-Identifier: MIT */
/*
 * cmd_sort.c: SORT and UID SORT (RFC 5256 BASE.6.4.SORT) with DISPLAYFROM
 * and DISPLAYTO (RFC 5957), RELEVANCY with FUZZY keys (RFC 6203 section 6)
 * and the MODSEQ reply data (RFC 7162 3.1.9).
 *
 * sort = ["UID" SP] "SORT" SP sort-criteria SP search-criteria
 * sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"
 * sort-criterion = ["REVERSE" SP] sort-key
 * sort-key =/ "ANNOTATION" SP entry SP att-sort   (RFC 5257 section 4.3)
 * search-criteria = charset 1*(SP search-key)
 *
 * The store orders the whole mailbox by the cached sort keys (SQL over
 * indexed columns, ties by UID = arrival order in the mailbox, as RFC 5256
 * wants); the search program's matches then filter that order by binary
 * search: O(n log m) (imap_search_result). No EXPUNGE while answering SORT
 * (commands.c).
 *
 * With RETURN (ESORT, CONTEXT=SORT: RFC 5267 3, 4; PARTIAL: RFC 9394) the
 * answer is an ESEARCH response in sort order; UPDATE keeps a context
 * whose changes later come as ADDTO/REMOVEFROM with their positions.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap/commands.h"
#include "imap/imap_annotate.h"
#include "imap/imap_condstore.h"
#include "imap/imap_context.h"
#include "imap/imap_esearch.h"
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
	        {"RELEVANCY", STORE_SORT_RELEVANCY},
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
		if (strcasecmp(a->str, "ANNOTATION") == 0) {
			if (!imap_annotate_sort_key_parse(cmd, list, &i, &keys[n]))
				return false;
			keys[n++].reverse = reverse;
			reverse = false;
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

/* RETURN (SAVE) keeps the result as a set (RFC 5182: "$" is a set of
   UIDs, whatever order the command gave them in). */
static void
save_sorted(struct imap_session *s, const uint32_t *sorted, size_t n)
{
	free(s->saved_uids);
	s->saved_uids = n > 0 ? xmalloc(n * sizeof(uint32_t)) : NULL;
	s->n_saved = n;
	if (n > 0) {
		memcpy(s->saved_uids, sorted, n * sizeof(uint32_t));
		qsort(s->saved_uids, n, sizeof(uint32_t), uid_cmp);
	}
}

enum imap_cmd_status
imap_cmd_sort(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct imap_search_program prog = {0}, ret = {0};
	const struct imap_arg *args = cmd->args;
	size_t nargs = cmd->nargs;
	struct store_sort *keys;
	size_t n_keys, n;
	uint32_t *sorted;
	const char *error;
	enum store_error err;

	/* extended-sort = ["UID" SP] "SORT" search-return-opts SP sort-criteria
	   SP search-criteria (RFC 5267 section 5) */
	if (nargs > 0 && args[0].type == IMAP_ARG_ATOM && strcasecmp(args[0].str, "RETURN") == 0) {
		if (nargs < 2 || !imap_search_parse_return(&args[1], &ret, &error)) {
			imap_reply_bad(cmd, "%s", nargs < 2 ? "RETURN needs options" : error);
			return IMAP_CMD_DONE;
		}
		args += 2;
		nargs -= 2;
	}
	if (nargs < 3 || args[0].type != IMAP_ARG_LIST ||
	    !parse_criteria(cmd, &args[0], &keys, &n_keys)) {
		imap_reply_bad(cmd, "Expected: SORT [RETURN (<options>)] (<criteria>) <charset> "
		                    "<search keys>");
		return IMAP_CMD_DONE;
	}
	if (args[1].type != IMAP_ARG_ATOM && args[1].type != IMAP_ARG_QUOTED) {
		imap_reply_bad(cmd, "SORT needs a charset");
		return IMAP_CMD_DONE;
	}
	/* The keys follow the charset; SORT's own arguments end there. */
	cmd->args = args;
	cmd->nargs = nargs;
	if (!imap_search_keys_arg(cmd, 1, &prog))
		return IMAP_CMD_DONE;
	if ((ret.ret & IMAP_SEARCH_RET_UPDATE) && imap_annotate_sort_is_changing(keys, n_keys)) {
		/* An annotation order changes without the message changing
		   place: no context keeps it (RFC 5267 4.2 allows refusing). */
		imap_reply_untagged(s, "NO [NOUPDATE %s] Annotation order is not kept",
		                    imap_quote(cmd->arena, cmd->tag));
		ret.ret &= ~(unsigned)IMAP_SEARCH_RET_UPDATE;
	}
	/* RFC 6203 section 6: RELEVANCY, as a sort key or a return option,
	   "MUST NOT be used unless a FUZZY search key is also given". */
	bool by_relevancy = ret.ret & IMAP_SEARCH_RET_RELEVANCY;
	for (size_t i = 0; i < n_keys; i++)
		by_relevancy |= keys[i].key == STORE_SORT_RELEVANCY;
	if (by_relevancy && !prog.has_fuzzy) {
		imap_reply_bad(cmd, "RELEVANCY needs a FUZZY search key");
		return IMAP_CMD_DONE;
	}
	if ((ret.ret & IMAP_SEARCH_RET_UPDATE) && imap_context_tag_in_use(s, cmd->tag)) {
		imap_reply_bad(cmd, "Tag already names a search context");
		return IMAP_CMD_DONE;
	}
	if (prog.has_modseq)
		imap_condstore_enable(s);

	uint8_t *scores = NULL;
	if (imap_search_result_scored(s, prog.root, keys, n_keys, cmd->arena, &sorted,
	                              prog.has_fuzzy ? &scores : NULL, &n, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	if (ret.has_return) {
		/* ESORT: the ESEARCH response, in sort order (RFC 5267 3.1). */
		prog.has_return = true;
		prog.ret = ret.ret;
		prog.partial_lo = ret.partial_lo;
		prog.partial_hi = ret.partial_hi;
		prog.relevancy = scores;
		if (prog.ret != IMAP_SEARCH_RET_SAVE)
			imap_esearch_reply(cmd, &prog, sorted, n);
		if (prog.ret & IMAP_SEARCH_RET_SAVE)
			save_sorted(s, sorted, n);
		if (prog.ret & IMAP_SEARCH_RET_UPDATE)
			(void)imap_context_add(cmd, &prog, keys, n_keys, sorted, n);
		imap_reply_ok(cmd, "%s completed", cmd->name);
		return IMAP_CMD_DONE;
	}

	struct buf b;
	buf_init(&b);
	buf_puts(&b, "SORT");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, " %u",
		           cmd->is_uid ? sorted[i] : store_mailbox_seq(s->mbox, sorted[i]));
	if (prog.has_modseq && n > 0)
		buf_printf(&b, " (MODSEQ %llu)",
		           (unsigned long long)imap_search_max_modseq(s->mbox, sorted, n));
	imap_reply_untagged(s, "%s", b.data);
	buf_deinit(&b);
	imap_reply_ok(cmd, "%s completed", cmd->name);
	return IMAP_CMD_DONE;
}
