/* SPDX-License-Identifier: MIT */
/* imap_esearch.c: see imap_esearch.h. */
#include "imap/imap_esearch.h"

#include "imap/search.h"
#include "imap/seqset.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"

const uint32_t *
imap_esearch_numbers(struct imap_session *s, bool is_uid, const uint32_t *uids, size_t n,
                     struct arena *a)
{
	if (is_uid || n == 0)
		return uids;
	uint32_t *seqs = arena_alloc(a, n * sizeof(*seqs));
	for (size_t i = 0; i < n; i++)
		seqs[i] = store_mailbox_seq(s->mbox, uids[i]);
	return seqs;
}

void
imap_esearch_partial(int32_t lo, int32_t hi, size_t n, size_t *first_out, size_t *n_out)
{
	int64_t a = lo, b = hi; /* 1-based, inclusive */

	if (lo < 0) { /* -1 is the last result */
		a = (int64_t)n + lo + 1;
		b = (int64_t)n + hi + 1;
	}
	a = MAX(a, 1);
	b = MIN(b, (int64_t)n);
	*first_out = a <= b ? (size_t)(a - 1) : 0;
	*n_out = a <= b ? (size_t)(b - a + 1) : 0;
}

void
imap_esearch_append_result(struct buf *b, struct arena *a, struct store_mailbox *mbox,
                           const struct imap_search_program *prog, const uint32_t *nums,
                           const uint32_t *uids, size_t n)
{
	unsigned ret = prog->ret;

	if (n > 0 && (ret & IMAP_SEARCH_RET_MIN))
		buf_printf(b, " MIN %u", nums[0]);
	if (n > 0 && (ret & IMAP_SEARCH_RET_MAX))
		buf_printf(b, " MAX %u", nums[n - 1]);
	if (n > 0 && (ret & IMAP_SEARCH_RET_ALL))
		buf_printf(b, " ALL %s", imap_seqset_format(a, nums, n));
	if (ret & IMAP_SEARCH_RET_COUNT)
		buf_printf(b, " COUNT %zu", n);
	if (ret & IMAP_SEARCH_RET_PARTIAL) {
		size_t first, len;
		imap_esearch_partial(prog->partial_lo, prog->partial_hi, n, &first, &len);
		/* The range as asked; "-1:-100" reads from the end. */
		if (prog->partial_lo < 0)
			buf_printf(b, " PARTIAL (%d:%d ", prog->partial_hi, prog->partial_lo);
		else
			buf_printf(b, " PARTIAL (%d:%d ", prog->partial_lo, prog->partial_hi);
		buf_puts(b, len > 0 ? imap_seqset_format(a, nums + first, len) : "NIL");
		buf_putc(b, ')');
	}
	if ((ret & IMAP_SEARCH_RET_RELEVANCY) && prog->relevancy != NULL) {
		/* score-list (RFC 6203 section 7): one score per message the
		   reply lists, in its order; with PARTIAL those of the range. */
		size_t first = 0, len = n;
		if (ret & IMAP_SEARCH_RET_PARTIAL)
			imap_esearch_partial(prog->partial_lo, prog->partial_hi, n, &first, &len);
		buf_puts(b, " RELEVANCY (");
		for (size_t i = 0; i < len; i++)
			buf_printf(b, i > 0 ? " %u" : "%u", prog->relevancy[first + i]);
		buf_putc(b, ')');
	}
	if (prog->has_modseq && n > 0) {
		uint64_t m;
		if (!(ret &
		      (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT | IMAP_SEARCH_RET_PARTIAL))) {
			/* Only MIN and/or MAX: the modseq of what they name (RFC
			   4731 3.2). */
			uint32_t pick[2];
			size_t np = 0;
			if (ret & IMAP_SEARCH_RET_MIN)
				pick[np++] = uids[0];
			if (ret & IMAP_SEARCH_RET_MAX)
				pick[np++] = uids[n - 1];
			m = imap_search_max_modseq(mbox, pick, np);
		} else {
			m = imap_search_max_modseq(mbox, uids, n);
		}
		if (m > 0)
			buf_printf(b, " MODSEQ %llu", (unsigned long long)m);
	}
}

void
imap_esearch_reply(struct imap_cmd *cmd, const struct imap_search_program *prog,
                   const uint32_t *uids, size_t n)
{
	struct imap_session *s = cmd->session;
	const uint32_t *nums = imap_esearch_numbers(s, cmd->is_uid, uids, n, cmd->arena);
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "ESEARCH (TAG %s)%s", imap_quote(cmd->arena, cmd->tag),
	           cmd->is_uid ? " UID" : "");
	imap_esearch_append_result(&b, cmd->arena, s->mbox, prog, nums, uids, n);
	imap_reply_untagged(s, "%s", b.data);
	buf_deinit(&b);
}
