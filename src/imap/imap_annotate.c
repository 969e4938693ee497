/* SPDX-License-Identifier: MIT */
/*
 * imap_annotate.c: the parts of ANNOTATE (RFC 5257) that need the session
 * and the store: the ANNOTATIONS response code of SELECT/EXAMINE (section
 * 4.1) and STORE ANNOTATION (section 4.4) with its limits (section 4.4.1:
 * [ANNOTATE TOOBIG], [ANNOTATE TOOMANY]), rights (section 5: 'r' for
 * value.priv, 'n' for value.shared) and modseq rules (section 6, RFC 7162
 * 3.1.3: UNCHANGEDSINCE and [MODIFIED]). The grammar is in
 * imap_annotate_parse.c; the values live in the mailbox owner's store
 * (store/annotation.c), private ones keyed by the session's user.
 */
#include "imap/imap_annotate.h"

#include <stdlib.h>
#include <string.h>

#include "imap/imap_condstore.h"
#include "imap/imap_mailbox.h"
#include "imap/seqset.h"
#include "imap/session.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

void
imap_annotate_select_code(struct imap_session *s)
{
	/* Section 4.1: READ-ONLY when no annotation can be changed here;
	   value.priv needs 'r', which SELECT already checked. */
	if (s->is_readonly || !(s->mbox_rights & (STORE_RIGHT_READ | STORE_RIGHT_ANNOTATE)))
		imap_reply_untagged(s, "OK [ANNOTATIONS READ-ONLY] Annotations cannot be changed");
	else
		imap_reply_untagged(s, "OK [ANNOTATIONS %llu] Largest annotation value",
		                    (unsigned long long)s->settings.annotation_max_size);
}

/* Section 3.1 and 4.4.1: settable entries, values within the size limit.
   Replies NO and returns false otherwise. */
static bool
changes_allowed(struct imap_cmd *cmd, const struct store_annotation *changes, size_t n)
{
	struct imap_session *s = cmd->session;

	for (size_t i = 0; i < n; i++) {
		if (!imap_annotate_entry_is_settable(changes[i].entry)) {
			imap_reply_no(cmd, "[CANNOT] Entry %s cannot be set (RFC 5257 section 3.1)",
			              changes[i].entry);
			return false;
		}
		if (changes[i].value != NULL && changes[i].len > s->settings.annotation_max_size) {
			imap_reply_no(cmd,
			              "[ANNOTATE TOOBIG] Largest annotation value is %llu octets",
			              (unsigned long long)s->settings.annotation_max_size);
			return false;
		}
	}
	return true;
}

bool
imap_annotate_append_take(struct imap_cmd *cmd, const struct imap_arg *list, struct arena *a,
                          struct store_append *m)
{
	struct imap_session *s = cmd->session;
	struct store_annotation *v;
	const char *error;
	size_t n, stored = 0;

	if (!imap_annotate_store_parse(a, list, &v, &n, &error)) {
		imap_reply_bad(cmd, "%s", error);
		return false;
	}
	if (!changes_allowed(cmd, v, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		stored += v[i].value != NULL;
		if (v[i].value != NULL)
			v[i].value = arena_memdup(a, v[i].value, v[i].len + 1);
	}
	if (stored > s->settings.annotation_max_entries) {
		imap_reply_no(cmd, "[ANNOTATE TOOMANY] At most %llu annotations per message",
		              (unsigned long long)s->settings.annotation_max_entries);
		return false;
	}
	m->annotations = v;
	m->n_annotations = n;
	m->annotation_user = arena_strdup(a, s->user.address);
	return true;
}

void
imap_annotate_store(struct imap_cmd *cmd, const struct imap_arg *args, size_t nargs,
                    const uint32_t *uids, size_t n, bool has_unchanged, uint64_t unchanged_since)
{
	struct imap_session *s = cmd->session;
	struct store_annotation *changes;
	struct store_flags_result res;
	enum store_error err;
	const char *error;
	size_t n_changes;

	if (nargs != 1 ||
	    !imap_annotate_store_parse(cmd->arena, &args[0], &changes, &n_changes, &error)) {
		imap_reply_bad(cmd, "%s",
		               nargs != 1 ? "Expected: ANNOTATION (<entry> (<attribute> <value>))"
		                          : error);
		return;
	}
	if (!changes_allowed(cmd, changes, n_changes))
		return;
	if (s->is_readonly) {
		imap_reply_no(cmd, "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (has_unchanged)
		imap_condstore_enable(s); /* RFC 7162 3.1: a CONDSTORE enabling command */
	if (has_unchanged && unchanged_since == 0) {
		/* RFC 7162 3.1.3: UNCHANGEDSINCE 0 always fails. */
		res = (struct store_flags_result){.failed = (uint32_t *)uids, .n_failed = n};
	} else if (store_annotation_set(s->mbox, uids, n, s->user.address, changes, n_changes,
	                                unchanged_since, s->settings.annotation_max_entries,
	                                cmd->arena, &res, &err) < 0) {
		if (err == STORE_ERR_LIMIT)
			imap_reply_no(cmd,
			              "[ANNOTATE TOOMANY] At most %llu annotations per message",
			              (unsigned long long)s->settings.annotation_max_entries);
		else
			imap_reply_store_error(cmd, err);
		return;
	}
	/* Section 4.4 sends no FETCH; CONDSTORE clients are told the new
	   MODSEQ of what changed (RFC 7162 3.1.3, 3.2.4 with UID). */
	if (s->condstore) {
		for (size_t k = 0; k < res.n_changed; k++) {
			uint32_t seq = store_mailbox_seq(s->mbox, res.changed[k]);
			if (seq == 0)
				continue;
			if (cmd->is_uid || s->qresync)
				imap_reply_untagged(s, "%u FETCH (UID %u MODSEQ (%llu))", seq,
				                    res.changed[k], (unsigned long long)res.modseq);
			else
				imap_reply_untagged(s, "%u FETCH (MODSEQ (%llu))", seq,
				                    (unsigned long long)res.modseq);
		}
	}
	if (res.n_failed > 0) {
		uint32_t *failed = arena_alloc(cmd->arena, res.n_failed * sizeof(*failed));
		size_t k = 0;
		for (size_t i = 0; i < res.n_failed; i++) {
			uint32_t x = cmd->is_uid ? res.failed[i]
			                         : store_mailbox_seq(s->mbox, res.failed[i]);
			if (x != 0)
				failed[k++] = x;
		}
		qsort(failed, k, sizeof(*failed), uid_cmp);
		imap_reply_ok(cmd, "[MODIFIED %s] Conditional STORE failed",
		              imap_seqset_format(cmd->arena, failed, k));
		return;
	}
	imap_reply_ok(cmd, "%s completed", cmd->name);
}

bool
imap_annotate_sort_key_parse(struct imap_cmd *cmd, const struct imap_arg *list, size_t *i,
                             struct store_sort *out)
{
	const struct imap_arg *e, *at;
	unsigned bits;

	if (*i + 2 >= list->count)
		return false;
	e = &list->list[*i + 1];
	at = &list->list[*i + 2];
	if (e->type == IMAP_ARG_LIST || e->stream != NULL || strlen(e->str) != e->len ||
	    at->type == IMAP_ARG_LIST || !imap_annotate_attr_parse(at->str, &bits) ||
	    (bits != IMAP_ANNOTATE_VALUE_PRIV && bits != IMAP_ANNOTATE_VALUE_SHARED))
		return false;
	out->entry = imap_annotate_entry_check(cmd->arena, e->str, e->len, false);
	if (out->entry == NULL)
		return false;
	out->key = STORE_SORT_ANNOTATION;
	out->is_shared = bits == IMAP_ANNOTATE_VALUE_SHARED;
	out->user = cmd->session->user.address;
	*i += 2;
	return true;
}

bool
imap_annotate_sort_is_changing(const struct store_sort *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i].key == STORE_SORT_ANNOTATION)
			return true;
	return false;
}
