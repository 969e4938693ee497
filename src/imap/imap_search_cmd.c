/* SPDX-License-Identifier: MIT */
/* imap_search_cmd.c: see imap_search_cmd.h. */
#include "imap/imap_search_cmd.h"

#include <stdlib.h>
#include <time.h>

#include "imap/imap_filters.h"
#include "imap/imap_mailbox.h"
#include "lib/arena.h"
#include "lib/sorted.h"

void
imap_search_input_init(struct imap_search_input *in, struct imap_session *s)
{
	*in = (struct imap_search_input){
	        .mbox = s->mbox,
	        .acct = imap_mailbox_account(s), /* the keywords are the owner's */
	        .saved = s->saved_uids,
	        .n_saved = s->n_saved,
	        .now = (int64_t)time(NULL),
	        .cancel = &s->base.cancel,
	        .max_memory = s->settings.max_session_memory,
	};
}

bool
imap_search_keys_arg(struct imap_cmd *cmd, size_t charset_i, struct imap_search_program *prog)
{
	struct imap_search_filters filters = imap_filters_for(cmd->session);
	const char *error;

	switch (imap_search_parse_keys(cmd->arena, cmd->args + charset_i + 1,
	                               cmd->nargs - charset_i - 1, cmd->args[charset_i].str,
	                               &filters, prog, &error)) {
	case IMAP_SEARCH_OK:
		return true;
	case IMAP_SEARCH_UNDEFINED_FILTER:
		imap_reply_no(cmd, "[UNDEFINED-FILTER %s] No such filter", error);
		return false;
	case IMAP_SEARCH_BAD:
		imap_reply_bad(cmd, "%s", error);
		return false;
	case IMAP_SEARCH_BADCHARSET:
		imap_reply_no(cmd, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		return false;
	}
	return false;
}

/* A result by relevancy, ties kept in the order the other keys gave. */
struct ranked {
	uint32_t uid;
	uint8_t score;
	uint32_t pos;
};

static int
cmp_ranked_desc(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int
cmp_ranked_asc(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;

	if (a->score != b->score)
		return a->score < b->score ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

int
imap_search_result_scored(struct imap_session *s, const struct imap_search_key *root,
                          const struct store_sort *keys, size_t n_keys, struct arena *a,
                          uint32_t **uids_out, uint8_t **scores_out, size_t *n_out,
                          enum store_error *err_out)
{
	struct imap_search_input in;
	uint32_t *match, *sorted;
	uint8_t *match_scores = NULL, *scores = NULL;
	size_t n_match, n_sorted, k = 0;
	bool by_relevancy = n_keys > 0 && keys[0].key == STORE_SORT_RELEVANCY;

	imap_search_input_init(&in, s);
	if (imap_search_eval_scored(&in, root, a, &match,
	                            scores_out != NULL || by_relevancy ? &match_scores : NULL,
	                            &n_match, err_out) < 0)
		return -1;
	if (n_keys == 0) {
		*uids_out = match;
		if (scores_out != NULL)
			*scores_out = match_scores;
		*n_out = n_match;
		return 0;
	}
	/* The store orders the whole mailbox as it is now; keep what the
	   search found in the snapshot, by binary search: O(n log m). */
	if (store_sort_uids(s->mbox, keys, n_keys, a, &sorted, &n_sorted, err_out) < 0)
		return -1;
	if (match_scores != NULL)
		scores = arena_alloc(a, n_match + 1);
	for (size_t i = 0; i < n_sorted; i++) {
		size_t at = sorted_u32_lower_bound(match, n_match, sorted[i]);
		if (at < n_match && match[at] == sorted[i]) {
			if (scores != NULL)
				scores[k] = match_scores[at];
			sorted[k++] = sorted[i];
		}
	}
	if (by_relevancy && k > 1) {
		struct ranked *r = arena_alloc(a, k * sizeof(*r));
		for (size_t i = 0; i < k; i++)
			r[i] = (struct ranked){sorted[i], scores[i], (uint32_t)i};
		qsort(r, k, sizeof(*r), keys[0].reverse ? cmp_ranked_asc : cmp_ranked_desc);
		for (size_t i = 0; i < k; i++) {
			sorted[i] = r[i].uid;
			scores[i] = r[i].score;
		}
	}
	*uids_out = sorted;
	if (scores_out != NULL)
		*scores_out = scores;
	*n_out = k;
	return 0;
}

int
imap_search_result(struct imap_session *s, const struct imap_search_key *root,
                   const struct store_sort *keys, size_t n_keys, struct arena *a,
                   uint32_t **uids_out, size_t *n_out, enum store_error *err_out)
{
	return imap_search_result_scored(s, root, keys, n_keys, a, uids_out, NULL, n_out, err_out);
}
