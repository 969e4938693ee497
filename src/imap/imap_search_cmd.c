/* SPDX-License-Identifier: MIT */
/* imap_search_cmd.c: see imap_search_cmd.h. */
#include "imap/imap_search_cmd.h"

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
	        .user = s->user.address,
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
	if (store_sort_uids(s->mbox, keys, n_keys, a, &sorted, &n_sorted, err_out) < 0)
		return -1;
	for (size_t i = 0; i < n_sorted; i++)
		if (sorted_u32_contains(match, n_match, sorted[i]))
			sorted[k++] = sorted[i];
	*uids_out = sorted;
	*n_out = k;
	return 0;
}
