/* SPDX-License-Identifier: MIT */
/*
 * search.c: the SEARCH evaluator (RFC 9051 section 6.4.4). Walks the tree
 * from search_parse.c over the session's snapshot, with the store's indexes
 * doing the work that would otherwise read every message.
 *
 * Each key narrows a candidate set: eval(key, cand) returns the members of
 * cand (ascending UIDs) that match. The root starts from the whole snapshot.
 *   AND  runs its children in order of cost (flags and sets first, index
 *        lookups next, per-message reads last), each on what the previous
 *        left, and stops early at an empty set;
 *   OR   is the union of the first child on cand and the second child on
 *        what the first did not take;
 *   NOT  is cand minus the child's matches.
 * Set operations are merges of sorted arrays: O(|a| + |b|).
 *
 * Where each key's answer comes from:
 *   sequence/UID sets, "$"     seqset.h over the snapshot, saved UIDs
 *   flags, keywords, \Recent   the shared view (store_mailbox_flags_get),
 *                              O(|cand|), no I/O
 *   BODY, TEXT, SUBJECT        store_search_text: FTS5 trigram lookups for
 *                              3+ characters, a scan of cached text below
 *   FROM, TO, CC               store_search_text on the cached first
 *                              address; messages the header index names but
 *                              the cache does not confirm (a second
 *                              recipient) are checked in the raw header
 *   BCC, HEADER f s            header index candidates (every message for an
 *                              empty s), checked in the raw header: fields
 *                              named f, RFC 2047 decoded and unfolded,
 *                              substring under the session's comparator
 *   dates, sizes, MODSEQ,      store_search_range on cached columns. The
 *   OLDER/YOUNGER              internal and save dates are whole UTC days
 *                              ("disregarding time and timezone": we keep
 *                              UTC seconds only, and INTERNALDATE is sent
 *                              as +0000, so that is the day clients see).
 *                              SENT* compare the day written in the Date:
 *                              field: messages within ZONE_MAX of a day's
 *                              edge are checked against the zone in their
 *                              cached ENVELOPE date; without a Date: the
 *                              INTERNALDATE counts
 *   EMAILID, THREADID          store_message_lookup of the candidates
 *   ANNOTATION (RFC 5257 4.3)  store_annotation_get of each candidate: the
 *                              values the user sees whose entry matches,
 *                              case-insensitive substring as for HEADER
 *   FUZZY key                  the key's text searches (BODY, TEXT,
 *                              SUBJECT, FROM, TO, CC) by store_search_fuzzy,
 *                              which scores each match; every other key
 *                              exact, as RFC 6203 section 5 allows (UIDs and
 *                              sets "probably" should be; a message outside
 *                              a date or size range is one the user did not
 *                              ask for)
 *
 * Relevancy (RFC 6203 section 4, "server-dependent" for several keys): each
 * fuzzy text key notes the score of every message it matched, unless it
 * is under a NOT (a message is not relevant for lacking a word); a result's
 * relevancy is the mean of its notes, and 1 when it has none (it matched
 * through an exact alternative of an OR, or a NOT).
 *
 * Runs on the query pool (IMAP_CMD_OFF_LOOP: SEARCH, SORT, THREAD), so a
 * scan-backed search (a 1-2 character needle, HEADER with an empty string)
 * holds a pool thread, not a worker's loop; it polls in->cancel so a stopped
 * session does not keep it. A raw header is read up to HEADER_READ_MAX bytes.
 */
#include "imap/search.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_annotate.h"
#include "imap/list_pattern.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/collation.h"
#include "lib/util.h"
#include "mail/header.h"
#include "mail/imap_string.h"
#include "mail/rfc2047.h"
#include "mail/sortkeys.h"

/* Raw header bytes read per message for HEADER/BCC checks: headers are
   rarely over a few KiB; a field past this point is not found. */
#define HEADER_READ_MAX (256 * 1024)
/* Messages looked up per store_message_lookup() call (EMAILID/THREADID). */
#define LOOKUP_BATCH 512
/* The farthest an RFC 5322 zone ("+9959") puts a Date: from UTC, seconds. */
#define ZONE_MAX ((99 * 60 + 59) * 60)

struct uidset {
	uint32_t *v;
	size_t n;
};

/* A fuzzy key's score of a message (heap array, any order). */
struct note {
	uint32_t uid;
	uint8_t score;
};

struct eval {
	const struct imap_search_input *in;
	struct arena *a;
	enum store_error err;
	const uint32_t *snap;
	uint32_t count;
	unsigned fuzzy; /* FUZZY keys we are inside */
	unsigned neg;   /* NOT keys we are inside */
	struct note *notes;
	size_t n_notes, cap_notes;
};

/* The session stopped: give up (search.h). */
static bool
is_cancelled(struct eval *e)
{
	if (e->in->cancel == NULL || !atomic_load(e->in->cancel))
		return false;
	e->err = STORE_ERR_TEMP;
	return true;
}

/* The sets so far took more than the session may use (search.h). */
static bool
is_over_budget(struct eval *e)
{
	/* The relevancy notes too: 256 FUZZY keys over 100,000 messages
	   would note 200 MB. */
	if (e->in->max_memory == 0 ||
	    arena_used(e->a) + e->cap_notes * sizeof(*e->notes) <= e->in->max_memory)
		return false;
	e->err = STORE_ERR_LIMIT;
	return true;
}

/* ---- sorted set operations ---- */

static struct uidset
intersect(struct arena *a, const uint32_t *x, size_t nx, const uint32_t *y, size_t ny)
{
	struct uidset r = {arena_alloc(a, (MIN(nx, ny) + 1) * sizeof(uint32_t)), 0};
	size_t i = 0, j = 0;

	while (i < nx && j < ny) {
		if (x[i] < y[j])
			i++;
		else if (x[i] > y[j])
			j++;
		else {
			r.v[r.n++] = x[i];
			i++;
			j++;
		}
	}
	return r;
}

static struct uidset
subtract(struct arena *a, const uint32_t *x, size_t nx, const uint32_t *y, size_t ny)
{
	struct uidset r = {arena_alloc(a, (nx + 1) * sizeof(uint32_t)), 0};
	size_t j = 0;

	for (size_t i = 0; i < nx; i++) {
		while (j < ny && y[j] < x[i])
			j++;
		if (j >= ny || y[j] != x[i])
			r.v[r.n++] = x[i];
	}
	return r;
}

static struct uidset
unite(struct arena *a, const uint32_t *x, size_t nx, const uint32_t *y, size_t ny)
{
	struct uidset r = {arena_alloc(a, (nx + ny + 1) * sizeof(uint32_t)), 0};
	size_t i = 0, j = 0;

	while (i < nx || j < ny) {
		if (j >= ny || (i < nx && x[i] < y[j]))
			r.v[r.n++] = x[i++];
		else if (i >= nx || y[j] < x[i])
			r.v[r.n++] = y[j++];
		else {
			r.v[r.n++] = x[i++];
			j++;
		}
	}
	return r;
}

/* ---- per-key evaluation ---- */

/* Cost rank for AND ordering: cheap filters first, reads of messages last. */
static int
cost(const struct imap_search_key *k)
{
	int c = 0;

	switch (k->type) {
	case IMAP_SK_AND:
	case IMAP_SK_OR:
	case IMAP_SK_NOT:
	case IMAP_SK_FUZZY:
		for (const struct imap_search_key *ch = k->child; ch != NULL; ch = ch->next)
			c = MAX(c, cost(ch));
		return c;
	case IMAP_SK_DATE:
	case IMAP_SK_LARGER:
	case IMAP_SK_SMALLER:
	case IMAP_SK_OLDER:
	case IMAP_SK_YOUNGER:
	case IMAP_SK_MODSEQ:
		return 1;
	case IMAP_SK_TEXT:
		return 2;
	case IMAP_SK_EMAILID:
	case IMAP_SK_THREADID:
	case IMAP_SK_ANNOTATION:
		return 3;
	case IMAP_SK_HEADER:
		return 4;
	default:
		return 0;
	}
}

static struct uidset eval_key(struct eval *e, const struct imap_search_key *k, struct uidset cand,
                              bool *ok);

/* Sequence numbers beyond the mailbox match nothing rather than fail: a
   SEARCH is a question, and "1:*" on an empty mailbox is a fair one. */
static struct uidset
eval_seqset(struct eval *e, const struct imap_seqset *set, struct uidset cand)
{
	struct imap_seqset clamped = {arena_alloc(e->a, (set->n + 1) * sizeof(*set->ranges)), 0,
	                              false};
	struct uidset r = {NULL, 0};

	for (size_t i = 0; i < set->n; i++) {
		uint32_t lo = set->ranges[i].lo, hi = set->ranges[i].hi;
		lo = lo == IMAP_SEQ_STAR ? e->count : lo;
		hi = hi == IMAP_SEQ_STAR ? e->count : hi;
		if (lo > hi) {
			uint32_t t = lo;
			lo = hi;
			hi = t;
		}
		if (lo == 0)
			lo = 1;
		if (hi > e->count)
			hi = e->count;
		if (lo <= hi)
			clamped.ranges[clamped.n++] = (struct imap_seq_range){lo, hi};
	}
	if (clamped.n == 0)
		return r;
	imap_seqset_resolve(&clamped, false, e->snap, e->count, e->a, &r.v, &r.n);
	return intersect(e->a, cand.v, cand.n, r.v, r.n);
}

static struct uidset
eval_set(struct eval *e, const struct imap_search_key *k, struct uidset cand)
{
	struct uidset r = {NULL, 0};

	if (k->set.is_saved)
		return intersect(e->a, cand.v, cand.n, e->in->saved, e->in->n_saved);
	if (k->type == IMAP_SK_SEQSET)
		return eval_seqset(e, &k->set, cand);
	imap_seqset_resolve(&k->set, true, e->snap, e->count, e->a, &r.v, &r.n);
	return intersect(e->a, cand.v, cand.n, r.v, r.n);
}

/* Flags, keywords, \Recent: one view read per candidate. */
static struct uidset
eval_flags(struct eval *e, const struct imap_search_key *k, struct uidset cand)
{
	struct uidset r = {arena_alloc(e->a, (cand.n + 1) * sizeof(uint32_t)), 0};
	uint64_t kw_mask = 0;

	if (k->type == IMAP_SK_KEYWORD || k->type == IMAP_SK_UNKEYWORD) {
		/* A keyword the account never used is set on no message. */
		kw_mask = store_keyword_mask(e->in->acct, &k->str, 1);
		if (kw_mask == 0)
			return k->type == IMAP_SK_KEYWORD ? r : cand;
	}
	for (size_t i = 0; i < cand.n; i++) {
		uint32_t flags = 0;
		uint64_t kw = 0, modseq;
		enum store_error err;
		bool match;

		if (k->type == IMAP_SK_RECENT) {
			match = store_mailbox_is_recent(e->in->mbox, cand.v[i]);
		} else {
			/* Expunged by another session meanwhile: no flags. */
			if (store_mailbox_flags_get(e->in->mbox, cand.v[i], &flags, &kw, &modseq,
			                            &err) < 0)
				flags = 0, kw = 0;
			switch (k->type) {
			case IMAP_SK_FLAG:
				match = (flags & k->flag) != 0;
				break;
			case IMAP_SK_UNFLAG:
				match = (flags & k->flag) == 0;
				break;
			case IMAP_SK_KEYWORD:
				match = (kw & kw_mask) != 0;
				break;
			default:
				match = (kw & kw_mask) == 0;
				break;
			}
		}
		if (match)
			r.v[r.n++] = cand.v[i];
	}
	return r;
}

static struct uidset
eval_range(struct eval *e, enum store_column col, int64_t min, int64_t max, struct uidset cand,
           bool *ok)
{
	struct uidset r = {NULL, 0};

	if (min > max)
		return r;
	if (store_search_range(e->in->mbox, col, min, max, e->a, &r.v, &r.n, &e->err) < 0) {
		*ok = false;
		return r;
	}
	return intersect(e->a, cand.v, cand.n, r.v, r.n);
}

/* Whether the message's Date: field, read in its own zone, lies in [lo, hi]
   (seconds of a UTC-like clock: UTC + zone). */
static bool
sent_local_in(const struct store_message_info *info, struct arena *a, int64_t lo, int64_t hi)
{
	const char *p = info->envelope;
	int zone;

	/* envelope = "(" env-date SP ...: the Date: field as received */
	if (p == NULL || *p++ != '(')
		return false;
	const char *date = mail_imap_nstring_read(a, &p);
	int64_t utc = (int64_t)mail_date_parse_zone(date, &zone);
	if (utc == 0 || utc != info->sent_date)
		return false;
	int64_t local = utc + (int64_t)zone * 60;
	return local >= lo && local <= hi;
}

/* The members of cand whose Date: field, in its own zone, lies in [lo, hi]. */
static struct uidset
verify_sent(struct eval *e, struct uidset cand, int64_t lo, int64_t hi, bool *ok)
{
	struct uidset r = {arena_alloc(e->a, (cand.n + 1) * sizeof(uint32_t)), 0};
	struct arena *tmp = arena_new(16 * 1024);

	for (size_t off = 0; off < cand.n; off += LOOKUP_BATCH) {
		size_t n = MIN(LOOKUP_BATCH, cand.n - off);
		struct store_message_info *info = arena_alloc(tmp, n * sizeof(*info));
		if (is_cancelled(e) ||
		    store_message_lookup(e->in->mbox, cand.v + off, n, STORE_FETCH_ENVELOPE, tmp,
		                         info, &e->err) < 0) {
			*ok = false;
			break;
		}
		for (size_t i = 0; i < n; i++)
			if (info[i].uid != 0 && sent_local_in(&info[i], tmp, lo, hi))
				r.v[r.n++] = cand.v[off + i];
		arena_reset(tmp);
	}
	arena_free(&tmp);
	return r;
}

/* x + d, where INT64_MIN and INT64_MAX stand for "no bound" and stay so. */
static int64_t
bound_add(int64_t x, int64_t d)
{
	return x == INT64_MIN || x == INT64_MAX ? x : x + d;
}

/*
 * SENTBEFORE/SENTON/SENTSINCE (RFC 9051 6.4.4): the Date: field's own day,
 * "disregarding time and timezone", so "Wed, 1 Mar 2023 23:30 -0800" is on
 * 1 March although it is 2 March in UTC. The store keeps UTC seconds: a
 * message whose UTC time lies ZONE_MAX inside [lo, hi] matches whatever its
 * zone; one within ZONE_MAX outside may, and its zone decides.
 */
static struct uidset
eval_sent_dated(struct eval *e, int64_t lo, int64_t hi, struct uidset cand, bool *ok)
{
	struct uidset sure = {NULL, 0}, maybe;

	maybe = eval_range(e, STORE_COL_SENT_DATE, MAX(1, bound_add(lo, -ZONE_MAX)),
	                   bound_add(hi, ZONE_MAX), cand, ok);
	if (!*ok || maybe.n == 0)
		return maybe;
	sure = eval_range(e, STORE_COL_SENT_DATE, MAX(1, bound_add(lo, ZONE_MAX)),
	                  bound_add(hi, -ZONE_MAX), maybe, ok);
	if (!*ok)
		return sure;
	struct uidset edge = subtract(e->a, maybe.v, maybe.n, sure.v, sure.n);
	struct uidset more = verify_sent(e, edge, lo, hi, ok);
	return unite(e->a, sure.v, sure.n, more.v, more.n);
}

/* A message without a usable Date: (stored as 0) is judged by its
   INTERNALDATE, as SORT does (RFC 5256 section 2.2) and as
   Dovecot does. */
static struct uidset
eval_sent_date(struct eval *e, int64_t lo, int64_t hi, struct uidset cand, bool *ok)
{
	struct uidset dated = eval_sent_dated(e, lo, hi, cand, ok);
	if (!*ok)
		return dated;
	struct uidset undated = eval_range(e, STORE_COL_SENT_DATE, 0, 0, cand, ok);
	if (!*ok || undated.n == 0)
		return dated;
	undated = eval_range(e, STORE_COL_INTERNAL_DATE, lo, hi, undated, ok);
	return unite(e->a, dated.v, dated.n, undated.v, undated.n);
}

static struct uidset
eval_date(struct eval *e, const struct imap_search_key *k, struct uidset cand, bool *ok)
{
	static const enum store_column cols[] = {
	        [IMAP_DATE_INTERNAL] = STORE_COL_INTERNAL_DATE,
	        [IMAP_DATE_SENT] = STORE_COL_SENT_DATE,
	        [IMAP_DATE_SAVED] = STORE_COL_SAVE_DATE,
	};
	int64_t day = k->num, min = INT64_MIN, max = INT64_MAX;

	switch (k->op) {
	case IMAP_OP_BEFORE:
		max = day - 1;
		break;
	case IMAP_OP_ON:
		min = day;
		max = day + 86399;
		break;
	case IMAP_OP_SINCE:
		min = day;
		break;
	}
	if (k->date == IMAP_DATE_SENT)
		return eval_sent_date(e, min, max, cand, ok);
	return eval_range(e, cols[k->date], min, max, cand, ok);
}

/* Whether uid's raw header has a field named field containing needle.
   -1: the store failed (a message expunged meanwhile is simply no match). */
static int
header_matches(struct eval *e, uint32_t uid, const char *field, const char *needle)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	struct buf raw;
	enum store_error err;
	int found = 0;

	buf_init(&raw);
	if (store_message_read(e->in->mbox, uid, 0, HEADER_READ_MAX, &raw, &err) < 0) {
		buf_deinit(&raw);
		if (err == STORE_ERR_EXPUNGED)
			return 0;
		e->err = err;
		return -1;
	}
	struct arena *tmp = arena_new(1024);
	mail_header_iter_init(&it, (const unsigned char *)raw.data, raw.len);
	while (found == 0 && mail_header_iter_next(&it, &f)) {
		if (!mail_header_field_is(&f, field))
			continue;
		const char *v = mail_rfc2047_decode(tmp, f.value, f.value_len);
		found = collation_contains(e->in->collation, v, strlen(v), needle, strlen(needle));
	}
	arena_free(&tmp);
	buf_deinit(&raw);
	return found;
}

static struct uidset
verify_header(struct eval *e, const char *field, const char *needle, struct uidset cand, bool *ok)
{
	struct uidset r = {arena_alloc(e->a, (cand.n + 1) * sizeof(uint32_t)), 0};

	for (size_t i = 0; i < cand.n; i++) {
		if (is_cancelled(e)) {
			*ok = false;
			return r;
		}
		int m = header_matches(e, cand.v[i], field, needle);
		if (m < 0) {
			*ok = false;
			return r;
		}
		if (m)
			r.v[r.n++] = cand.v[i];
	}
	return r;
}

/* store_search_text() for the input's mailbox, or its text_lookup. */
static int
search_text(struct eval *e, enum store_text_field field, const char *needle, struct uidset *out)
{
	const struct imap_search_input *in = e->in;

	if (in->text_lookup != NULL)
		return in->text_lookup(in->text_ctx, in, field, needle, e->a, &out->v, &out->n,
		                       &e->err);
	return store_search_text(in->mbox, field, needle, in->collation, e->a, &out->v, &out->n,
	                         &e->err);
}

static struct uidset
eval_header(struct eval *e, const struct imap_search_key *k, struct uidset cand, bool *ok)
{
	struct uidset idx;

	/* Presence test: the index cannot help, every candidate is read. */
	if (k->str[0] == '\0')
		return verify_header(e, k->field, "", cand, ok);
	if (search_text(e, STORE_TEXT_HEADERS, k->str, &idx) < 0) {
		*ok = false;
		return idx;
	}
	idx = intersect(e->a, cand.v, cand.n, idx.v, idx.n);
	return verify_header(e, k->field, k->str, idx, ok);
}

static const enum store_text_field text_fields[] = {
        [IMAP_SEARCH_BODY] = STORE_TEXT_BODY,       [IMAP_SEARCH_TEXT] = STORE_TEXT_TEXT,
        [IMAP_SEARCH_SUBJECT] = STORE_TEXT_SUBJECT, [IMAP_SEARCH_FROM] = STORE_TEXT_FROM,
        [IMAP_SEARCH_TO] = STORE_TEXT_TO,           [IMAP_SEARCH_CC] = STORE_TEXT_CC,
};

/* A text key under FUZZY: the store's fuzzy search, its scores noted for
   the candidates it matched (outside NOT). FROM, TO and CC look at the
   first address only (the cached one), unlike the exact search. */
static struct uidset
eval_fuzzy_text(struct eval *e, const struct imap_search_key *k, struct uidset cand, bool *ok)
{
	struct uidset r = {arena_alloc(e->a, (cand.n + 1) * sizeof(uint32_t)), 0};
	uint32_t *uids;
	uint8_t *scores;
	size_t n, j = 0;

	if (store_search_fuzzy(e->in->mbox, text_fields[k->text], k->str, e->a, &uids, &scores, &n,
	                       &e->err) < 0) {
		*ok = false;
		return r;
	}
	for (size_t i = 0; i < cand.n; i++) {
		while (j < n && uids[j] < cand.v[i])
			j++;
		if (j >= n)
			break;
		if (uids[j] != cand.v[i])
			continue;
		r.v[r.n++] = cand.v[i];
		if (e->neg > 0)
			continue;
		if (e->n_notes == e->cap_notes) {
			e->cap_notes = e->cap_notes ? e->cap_notes * 2 : 256;
			e->notes = xrealloc(e->notes, e->cap_notes * sizeof(*e->notes));
		}
		e->notes[e->n_notes++] = (struct note){cand.v[i], scores[j]};
	}
	return r;
}

static struct uidset
eval_text(struct eval *e, const struct imap_search_key *k, struct uidset cand, bool *ok)
{
	static const char *const header_names[] = {
	        [IMAP_SEARCH_FROM] = "From",
	        [IMAP_SEARCH_TO] = "To",
	        [IMAP_SEARCH_CC] = "Cc",
	};
	struct uidset r;

	if (e->fuzzy > 0)
		return eval_fuzzy_text(e, k, cand, ok);
	if (search_text(e, text_fields[k->text], k->str, &r) < 0) {
		*ok = false;
		return r;
	}
	r = intersect(e->a, cand.v, cand.n, r.v, r.n);
	if (k->text != IMAP_SEARCH_FROM && k->text != IMAP_SEARCH_TO && k->text != IMAP_SEARCH_CC)
		return r;
	/* The cache holds the first address of the field (RFC 5256 sort
	   keys); a match on a later address is found in the raw header. */
	struct imap_search_key hk = {
	        .type = IMAP_SK_HEADER, .field = header_names[k->text], .str = k->str};
	struct uidset rest = subtract(e->a, cand.v, cand.n, r.v, r.n);
	struct uidset more = eval_header(e, &hk, rest, ok);
	if (!*ok)
		return more;
	return unite(e->a, r.v, r.n, more.v, more.n);
}

static struct uidset
eval_objectid(struct eval *e, const struct imap_search_key *k, struct uidset cand, bool *ok)
{
	struct uidset r = {arena_alloc(e->a, (cand.n + 1) * sizeof(uint32_t)), 0};
	struct arena *tmp = arena_new(16 * 1024);

	for (size_t off = 0; off < cand.n; off += LOOKUP_BATCH) {
		size_t n = MIN(LOOKUP_BATCH, cand.n - off);
		struct store_message_info *info = arena_alloc(tmp, n * sizeof(*info));
		if (store_message_lookup(e->in->mbox, cand.v + off, n, STORE_FETCH_BASIC, tmp, info,
		                         &e->err) < 0) {
			*ok = false;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			const char *id =
			        k->type == IMAP_SK_EMAILID ? info[i].email_id : info[i].thread_id;
			if (info[i].uid != 0 && strcmp(id, k->str) == 0)
				r.v[r.n++] = cand.v[off + i];
		}
		arena_reset(tmp);
	}
	arena_free(&tmp);
	return r;
}

static struct uidset
eval_annotation(struct eval *e, const struct imap_search_key *k, struct uidset cand, bool *ok)
{
	struct uidset r = {arena_alloc(e->a, (cand.n + 1) * sizeof(uint32_t)), 0};
	struct imap_list_pattern *pat = imap_list_pattern_new(e->a, k->field);
	struct arena *tmp = arena_new(16 * 1024);

	for (size_t i = 0; i < cand.n; i++) {
		struct store_annotation *v;
		size_t n;
		bool hit = false;
		if (is_cancelled(e)) {
			*ok = false;
			break;
		}
		if (store_annotation_get(e->in->mbox, cand.v[i], e->in->user, tmp, &v, &n,
		                         &e->err) < 0) {
			*ok = false;
			break;
		}
		for (size_t j = 0; j < n && !hit; j++) {
			unsigned attr = v[j].is_shared ? IMAP_ANNOTATE_VALUE_SHARED
			                               : IMAP_ANNOTATE_VALUE_PRIV;
			hit = ((unsigned)k->num & attr) &&
			      imap_list_pattern_matches(pat, v[j].entry) &&
			      collation_contains(e->in->collation, (const char *)v[j].value,
			                         v[j].len, k->str, strlen(k->str));
		}
		if (hit)
			r.v[r.n++] = cand.v[i];
		arena_reset(tmp);
	}
	arena_free(&tmp);
	return r;
}

static struct uidset
eval_and(struct eval *e, const struct imap_search_key *k, struct uidset cand, bool *ok)
{
	const struct imap_search_key *order[16], **keys = order;
	size_t n = 0;

	for (const struct imap_search_key *ch = k->child; ch != NULL; ch = ch->next)
		n++;
	if (n > ARRAY_LEN(order))
		keys = arena_alloc(e->a, n * sizeof(*keys));
	n = 0;
	for (const struct imap_search_key *ch = k->child; ch != NULL; ch = ch->next) {
		/* insertion sort by cost, stable */
		size_t j = n++;
		int c = cost(ch);
		while (j > 0 && cost(keys[j - 1]) > c) {
			keys[j] = keys[j - 1];
			j--;
		}
		keys[j] = ch;
	}
	for (size_t i = 0; i < n && cand.n > 0 && *ok; i++)
		cand = eval_key(e, keys[i], cand, ok);
	return cand;
}

static struct uidset
eval_key(struct eval *e, const struct imap_search_key *k, struct uidset cand, bool *ok)
{
	struct uidset x, y;

	if (cand.n == 0 || !*ok)
		return cand;
	if (is_cancelled(e) || is_over_budget(e)) {
		*ok = false;
		return cand;
	}
	switch (k->type) {
	case IMAP_SK_ALL:
	case IMAP_SK_SAVEDATESUPPORTED: /* we keep a save date for every message */
		return cand;
	case IMAP_SK_AND:
		return eval_and(e, k, cand, ok);
	case IMAP_SK_OR:
		x = eval_key(e, k->child, cand, ok);
		if (!*ok)
			return x;
		y = subtract(e->a, cand.v, cand.n, x.v, x.n);
		y = eval_key(e, k->child->next, y, ok);
		return unite(e->a, x.v, x.n, y.v, y.n);
	case IMAP_SK_NOT:
		e->neg++;
		x = eval_key(e, k->child, cand, ok);
		e->neg--;
		return subtract(e->a, cand.v, cand.n, x.v, x.n);
	case IMAP_SK_FUZZY:
		e->fuzzy++;
		x = eval_key(e, k->child, cand, ok);
		e->fuzzy--;
		return x;
	case IMAP_SK_SEQSET:
	case IMAP_SK_UIDSET:
		return eval_set(e, k, cand);
	case IMAP_SK_FLAG:
	case IMAP_SK_UNFLAG:
	case IMAP_SK_KEYWORD:
	case IMAP_SK_UNKEYWORD:
	case IMAP_SK_RECENT:
		return eval_flags(e, k, cand);
	case IMAP_SK_TEXT:
		return eval_text(e, k, cand, ok);
	case IMAP_SK_HEADER:
		return eval_header(e, k, cand, ok);
	case IMAP_SK_DATE:
		return eval_date(e, k, cand, ok);
	case IMAP_SK_LARGER:
		return eval_range(e, STORE_COL_SIZE, k->num == INT64_MAX ? INT64_MAX : k->num + 1,
		                  INT64_MAX, cand, ok);
	case IMAP_SK_SMALLER:
		return eval_range(e, STORE_COL_SIZE, 0, k->num - 1, cand, ok);
	case IMAP_SK_OLDER: /* RFC 5032 section 2: "less recent than or equal" */
		return eval_range(e, STORE_COL_INTERNAL_DATE, INT64_MIN, e->in->now - k->num, cand,
		                  ok);
	case IMAP_SK_YOUNGER:
		return eval_range(e, STORE_COL_INTERNAL_DATE, e->in->now - k->num, INT64_MAX, cand,
		                  ok);
	case IMAP_SK_MODSEQ:
		/* One modseq per message: the entry name and type are ignored
		   (RFC 7162 3.1.5). */
		return eval_range(e, STORE_COL_MODSEQ, k->num, INT64_MAX, cand, ok);
	case IMAP_SK_EMAILID:
	case IMAP_SK_THREADID:
		return eval_objectid(e, k, cand, ok);
	case IMAP_SK_ANNOTATION:
		return eval_annotation(e, k, cand, ok);
	}
	return cand;
}

static int
cmp_note(const void *x, const void *y)
{
	const struct note *a = x, *b = y;

	return a->uid < b->uid ? -1 : a->uid > b->uid;
}

/* Each result's relevancy: the mean of its notes, 1 without any. */
static uint8_t *
relevancy_of(struct eval *e, const uint32_t *uids, size_t n)
{
	uint8_t *r = arena_alloc(e->a, n + 1);
	size_t j = 0;

	/* One FUZZY key notes in uid order; only several need sorting. */
	for (size_t i = 1; i < e->n_notes; i++) {
		if (e->notes[i - 1].uid > e->notes[i].uid) {
			qsort(e->notes, e->n_notes, sizeof(*e->notes), cmp_note);
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		unsigned sum = 0, count = 0;
		while (j < e->n_notes && e->notes[j].uid < uids[i])
			j++;
		for (; j < e->n_notes && e->notes[j].uid == uids[i]; j++, count++)
			sum += e->notes[j].score;
		r[i] = count > 0 ? (uint8_t)(sum / count) : 1;
	}
	return r;
}

int
imap_search_eval_scored(const struct imap_search_input *in, const struct imap_search_key *root,
                        struct arena *a, uint32_t **uids_out, uint8_t **scores_out, size_t *n_out,
                        enum store_error *err_out)
{
	struct eval e = {.in = in, .a = a};
	bool ok = true;

	e.snap = store_mailbox_uids(in->mbox, &e.count);
	struct uidset all = {(uint32_t *)e.snap, e.count};
	struct uidset r = eval_key(&e, root, all, &ok);
	if (!ok) {
		free(e.notes);
		*err_out = e.err;
		return -1;
	}
	/* The result may alias the snapshot (ALL): give the caller its own. */
	*uids_out = arena_alloc(a, (r.n + 1) * sizeof(uint32_t));
	if (r.n > 0)
		memcpy(*uids_out, r.v, r.n * sizeof(uint32_t));
	*n_out = r.n;
	if (scores_out != NULL)
		*scores_out = relevancy_of(&e, *uids_out, r.n);
	free(e.notes);
	return 0;
}

int
imap_search_eval(const struct imap_search_input *in, const struct imap_search_key *root,
                 struct arena *a, uint32_t **uids_out, size_t *n_out, enum store_error *err_out)
{
	return imap_search_eval_scored(in, root, a, uids_out, NULL, n_out, err_out);
}

uint64_t
imap_search_max_modseq(struct store_mailbox *mbox, const uint32_t *uids, size_t n)
{
	uint64_t max = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t flags;
		uint64_t kw, modseq;
		enum store_error err;
		if (store_mailbox_flags_get(mbox, uids[i], &flags, &kw, &modseq, &err) == 0 &&
		    modseq > max)
			max = modseq;
	}
	return max;
}

uint32_t *
imap_search_uids_to_seqs(struct store_mailbox *mbox, const uint32_t *uids, size_t n,
                         struct arena *a)
{
	uint32_t count, *seqs = arena_alloc(a, (n + 1) * sizeof(uint32_t));
	const uint32_t *snap = store_mailbox_uids(mbox, &count);
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		while (j < count && snap[j] < uids[i])
			j++;
		assert(j < count && snap[j] == uids[i]);
		seqs[i] = (uint32_t)j + 1;
	}
	return seqs;
}
