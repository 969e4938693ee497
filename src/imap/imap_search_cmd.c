/* SPDX-License-Identifier: MIT */
/* imap_search_cmd.c: see imap_search_cmd.h. */
#include "imap/imap_search_cmd.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imap/imap_esearch.h"
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
	        .user = s->user.address,
	        .saved = s->saved_uids,
	        .n_saved = s->n_saved,
	        .now = (int64_t)time(NULL),
	        .cancel = &s->base.cancel,
	        .max_memory = s->settings.max_session_memory,
	        .collation = s->comparator,
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

/* A result by relevancy: within its group of equal keys before RELEVANCY,
   by score, ties kept in the order the other keys gave (pos). */
struct ranked {
	uint32_t uid;
	uint32_t group;
	uint32_t pos;
	uint8_t score;
	bool reverse;
};

static int
cmp_ranked(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;

	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	if (a->score != b->score)
		return (a->score > b->score) != a->reverse ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

struct uid_pos {
	uint32_t uid, pos;
};

static int
cmp_uid_pos(const void *x, const void *y)
{
	const struct uid_pos *a = x, *b = y;

	return a->uid < b->uid ? -1 : a->uid > b->uid;
}

/*
 * The group of each message of the mailbox (*uids_out, in the order of
 * keys[0..n)) among those equal in every one of those keys, numbered in
 * that order. The store breaks ties by uid and tells no groups, so it
 * sorts twice, the second time with every key reversed: that reverses the
 * groups but not the uid order inside one, so a message starts a group
 * unless it follows its predecessor in both orders. In a.
 */
static int
sort_groups(struct store_mailbox *mbox, const struct store_sort *keys, size_t n,
            enum collation coll, struct arena *a, uint32_t **uids_out, uint32_t **groups_out,
            size_t *n_out, enum store_error *err_out)
{
	struct store_sort *rev = arena_alloc(a, (n + 1) * sizeof(*rev));
	uint32_t *fwd, *back;
	size_t n_fwd, n_back;

	for (size_t i = 0; i < n; i++) {
		rev[i] = keys[i]; /* an ANNOTATION key's entry and owner too */
		rev[i].reverse = !keys[i].reverse;
	}
	if (store_sort_uids(mbox, keys, n, coll, a, &fwd, &n_fwd, err_out) < 0 ||
	    store_sort_uids(mbox, rev, n, coll, a, &back, &n_back, err_out) < 0)
		return -1;
	struct uid_pos *at = arena_alloc(a, (n_back + 1) * sizeof(*at));
	for (size_t i = 0; i < n_back; i++)
		at[i] = (struct uid_pos){back[i], (uint32_t)i};
	qsort(at, n_back, sizeof(*at), cmp_uid_pos);
	uint32_t *groups = arena_alloc(a, (n_fwd + 1) * sizeof(*groups)), group = 0, prev = 0;
	for (size_t i = 0; i < n_fwd; i++) {
		struct uid_pos key = {fwd[i], 0};
		const struct uid_pos *p = bsearch(&key, at, n_back, sizeof(*at), cmp_uid_pos);
		uint32_t pos = p != NULL ? p->pos : UINT32_MAX;
		if (i > 0 && (prev == UINT32_MAX || pos != prev + 1))
			group++;
		groups[i] = group;
		prev = pos;
	}
	*uids_out = fwd;
	*groups_out = groups;
	*n_out = n_fwd;
	return 0;
}

/* sorted[0..k) (in the order of every key but RELEVANCY) by the first
   RELEVANCY key, keys[j], within the groups keys[0..j) make. */
static int
order_by_relevancy(struct imap_session *s, const struct store_sort *keys, size_t j, struct arena *a,
                   uint32_t *sorted, uint8_t *scores, size_t k, enum store_error *err_out)
{
	struct ranked *r = arena_alloc(a, (k + 1) * sizeof(*r));
	uint32_t *group_uids = NULL, *groups = NULL;
	struct uid_pos *group_of = NULL;
	size_t n_groups = 0;

	if (j > 0) {
		if (sort_groups(s->mbox, keys, j, s->comparator, a, &group_uids, &groups, &n_groups, err_out) < 0)
			return -1;
		group_of = arena_alloc(a, (n_groups + 1) * sizeof(*group_of));
		for (size_t i = 0; i < n_groups; i++)
			group_of[i] = (struct uid_pos){group_uids[i], groups[i]};
		qsort(group_of, n_groups, sizeof(*group_of), cmp_uid_pos);
	}
	for (size_t i = 0; i < k; i++) {
		uint32_t group = 0;
		if (j > 0) {
			struct uid_pos key = {sorted[i], 0};
			const struct uid_pos *p =
			        bsearch(&key, group_of, n_groups, sizeof(*group_of), cmp_uid_pos);
			group = p != NULL ? p->pos : UINT32_MAX;
		}
		r[i] = (struct ranked){sorted[i], group, (uint32_t)i, scores[i], keys[j].reverse};
	}
	qsort(r, k, sizeof(*r), cmp_ranked);
	for (size_t i = 0; i < k; i++) {
		sorted[i] = r[i].uid;
		scores[i] = r[i].score;
	}
	return 0;
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
	size_t n_match, n_sorted, k = 0, j = 0;

	/* RFC 6203 section 6: RELEVANCY is a sort key like the others. */
	while (j < n_keys && keys[j].key != STORE_SORT_RELEVANCY)
		j++;
	bool by_relevancy = j < n_keys;
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
	/* The store orders the whole mailbox as it is now (by every key but
	   RELEVANCY); keep what the search found in the snapshot, by binary
	   search: O(n log m). */
	if (store_sort_uids(s->mbox, keys, n_keys, s->comparator, a, &sorted, &n_sorted, err_out) <
	    0)
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
	if (by_relevancy && k > 1 &&
	    order_by_relevancy(s, keys, j, a, sorted, scores, k, err_out) < 0)
		return -1;
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

void
imap_search_save(struct imap_session *s, const uint32_t *uids, size_t n)
{
	free(s->saved_uids);
	s->saved_uids = NULL;
	s->n_saved = n;
	if (n > 0) {
		s->saved_uids = xmalloc(n * sizeof(uint32_t));
		memcpy(s->saved_uids, uids, n * sizeof(uint32_t));
	}
}

/* RFC 5182 section 2.4 (RFC 9051 6.4.4.1 table 4). */
void
imap_search_save_for_options(struct imap_session *s, const struct imap_search_program *prog,
                             unsigned ret, const uint32_t *uids, size_t n)
{
	uint32_t pick[2];
	size_t np = 0;

	if ((ret & IMAP_SEARCH_RET_PARTIAL) &&
	    !(ret & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT))) {
		size_t first, len;
		imap_esearch_partial(prog->partial_lo, prog->partial_hi, n, &first, &len);
		imap_search_save(s, uids + first, len);
		return;
	}
	if ((ret & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT)) ||
	    !(ret & (IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX)) || n == 0) {
		imap_search_save(s, uids, n);
		return;
	}
	if (ret & IMAP_SEARCH_RET_MIN)
		pick[np++] = uids[0];
	if ((ret & IMAP_SEARCH_RET_MAX) && (np == 0 || uids[n - 1] != pick[0]))
		pick[np++] = uids[n - 1];
	imap_search_save(s, pick, np);
}
