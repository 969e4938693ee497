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

int
imap_search_result(struct imap_session *s, const struct imap_search_key *root,
                   const struct store_sort *keys, size_t n_keys, struct arena *a,
                   uint32_t **uids_out, size_t *n_out, enum store_error *err_out)
{
	struct imap_search_input in;
	uint32_t *match, *sorted;
	size_t n_match, n_sorted, k = 0;

	imap_search_input_init(&in, s);
	if (imap_search_eval(&in, root, a, &match, &n_match, err_out) < 0)
		return -1;
	if (n_keys == 0) {
		*uids_out = match;
		*n_out = n_match;
		return 0;
	}
	/* The store orders the whole mailbox as it is now; keep what the
	   search found in the snapshot, by binary search: O(n log m). */
	if (store_sort_uids(s->mbox, keys, n_keys, s->comparator, a, &sorted, &n_sorted, err_out) <
	    0)
		return -1;
	for (size_t i = 0; i < n_sorted; i++)
		if (sorted_u32_contains(match, n_match, sorted[i]))
			sorted[k++] = sorted[i];
	*uids_out = sorted;
	*n_out = k;
	return 0;
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
