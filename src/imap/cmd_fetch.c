/* SPDX-License-Identifier: MIT */
/*
 * cmd_fetch.c: FETCH and UID FETCH (RFC 9051 sections 6.4.5, 6.4.9) with the
 * CHANGEDSINCE modifier (RFC 7162 section 3.1.4.1) and, for UID FETCH with
 * QRESYNC enabled, VANISHED (3.2.6): the UIDs of the set expunged since
 * that modseq, as "* VANISHED (EARLIER)" before any FETCH. Checks the arguments,
 * resolves the set against the session's snapshot, sets \Seen where the
 * request implies it, then hands over to the response writer (imap_fetch.c),
 * which streams the answers.
 *
 * fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" /
 *         fetch-att / "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]
 * fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")"
 * (a lone fetch-att "PREVIEW (LAZY)", RFC 8970, is two arguments here)
 *
 * A sequence number beyond the mailbox is BAD; a UID that is not there is
 * ignored. FETCH by sequence number is IMAP_CMD_NO_EXPUNGE (commands.c): no
 * EXPUNGE may reach the client while it is answered (RFC 9051 7.5.1).
 * The implicit \Seen (BODY[], BINARY[], RFC822, RFC822.TEXT on a read-write
 * mailbox) is set for the whole set in one store transaction before the
 * first response, so every response can carry the new FLAGS.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_condstore.h"
#include "imap/imap_fetch.h"
#include "imap/imap_mailbox.h"
#include "imap/seqset.h"
#include "lib/arena.h"
#include "lib/util.h"

/* Keeps the uids of set that are also in sub (both ascending). */
static size_t
intersect(uint32_t *set, size_t n, const uint32_t *sub, size_t n_sub)
{
	size_t i = 0, j = 0, out = 0;

	while (i < n && j < n_sub) {
		if (set[i] < sub[j])
			i++;
		else if (set[i] > sub[j])
			j++;
		else {
			set[out++] = set[i++];
			j++;
		}
	}
	return out;
}

/* (CHANGEDSINCE modseq [VANISHED]): true with *since_out, or false (BAD). */
static bool
parse_modifiers(const struct imap_arg *arg, uint64_t *since_out, bool *vanished_out)
{
	bool has_since = false;

	if (arg->type != IMAP_ARG_LIST || arg->count == 0)
		return false;
	for (size_t i = 0; i < arg->count; i++) {
		const struct imap_arg *m = &arg->list[i];
		if (m->type != IMAP_ARG_ATOM)
			return false;
		if (strcasecmp(m->str, "CHANGEDSINCE") == 0 && i + 1 < arg->count &&
		    arg->list[i + 1].type == IMAP_ARG_ATOM) {
			if (!imap_modseq_parse(arg->list[++i].str, true, since_out))
				return false;
			has_since = true;
		} else if (strcasecmp(m->str, "VANISHED") == 0) {
			*vanished_out = true;
		} else {
			return false;
		}
	}
	return has_since;
}

enum imap_cmd_status
imap_cmd_fetch(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct imap_seqset set;
	struct imap_fetch_request req;
	const char *error;
	uint64_t since = 0;
	bool vanished = false;
	uint32_t *uids;
	size_t n;
	enum store_error err;

	size_t n_att = cmd->nargs >= 2 ? imap_fetch_att_nargs(cmd->args + 1, cmd->nargs - 1) : 1;
	/* "PREVIEW (LAZY)" unparenthesised is one attribute of two arguments. */
	struct imap_arg att_list = {.type = IMAP_ARG_LIST, .count = 2};
	if (n_att == 2)
		att_list.list = arena_memdup(cmd->arena, cmd->args + 1, 2 * sizeof(*cmd->args));
	bool has_modifiers = cmd->nargs == 2 + n_att;

	if (cmd->nargs < 2 || cmd->nargs > 2 + n_att || cmd->args[0].type != IMAP_ARG_ATOM ||
	    !imap_seqset_parse(cmd->arena, cmd->args[0].str, &set)) {
		imap_reply_bad(cmd, "Expected: %s <sequence set> <attributes> [(<modifiers>)]",
		               cmd->name);
		return IMAP_CMD_DONE;
	}
	if (!imap_fetch_request_parse(cmd->arena, n_att == 2 ? &att_list : &cmd->args[1], &req,
	                              &error)) {
		imap_reply_bad(cmd, "%s", error);
		return IMAP_CMD_DONE;
	}
	if (has_modifiers && !parse_modifiers(&cmd->args[1 + n_att], &since, &vanished)) {
		imap_reply_bad(cmd, "Expected: (CHANGEDSINCE <modseq>)");
		return IMAP_CMD_DONE;
	}
	/* RFC 7162 3.2.6: VANISHED needs UID FETCH and QRESYNC. */
	if (vanished && (!cmd->is_uid || !s->qresync || set.is_saved)) {
		imap_reply_bad(cmd, "VANISHED needs UID FETCH with QRESYNC enabled");
		return IMAP_CMD_DONE;
	}

	if (!imap_mailbox_resolve_set(cmd, &set, &uids, &n))
		return IMAP_CMD_DONE;
	if (vanished && !imap_condstore_vanished(cmd, since, &set))
		return IMAP_CMD_DONE;

	/* RFC 7162 3.1: MODSEQ and CHANGEDSINCE are CONDSTORE enabling; from
	   now on flag updates carry MODSEQ. CHANGEDSINCE implies MODSEQ. */
	if (req.has_modseq || has_modifiers)
		imap_condstore_enable(s);
	if (has_modifiers) {
		uint32_t *changed;
		size_t n_changed;
		if (store_changed_since(s->mbox, since, cmd->arena, &changed, &n_changed, &err) <
		    0) {
			imap_reply_store_error(cmd, err);
			return IMAP_CMD_DONE;
		}
		if (n_changed > 1)
			qsort(changed, n_changed, sizeof(uint32_t), uid_cmp);
		n = intersect(uids, n, changed, n_changed);
		if (!req.has_modseq) {
			struct imap_fetch_item *items =
			        arena_alloc(cmd->arena, (req.n + 1) * sizeof(*items));
			memcpy(items, req.items, req.n * sizeof(*items));
			if (!imap_fetch_item_parse(cmd->arena, "MODSEQ", &items[req.n], &error))
				abort();
			req.items = items;
			req.n++;
			req.has_modseq = true;
		}
	}

	const uint32_t *seen_set = NULL;
	size_t n_seen_set = 0;
	/* RFC 4314 section 4: without 's' a BODY[] fetch must not set \Seen. */
	if (req.sets_seen && !s->is_readonly && n > 0 &&
	    (store_mailbox_my_rights(s->mbox) & STORE_RIGHT_SEEN)) {
		struct store_flags_change ch = {.op = STORE_FLAGS_ADD, .flags = STORE_FLAG_SEEN};
		struct store_flags_result res;
		if (store_flags_update(s->mbox, uids, n, &ch, cmd->arena, &res, &err) < 0) {
			imap_reply_store_error(cmd, err);
			return IMAP_CMD_DONE;
		}
		seen_set = res.changed;
		n_seen_set = res.n_changed;
	}
	return imap_fetch_run(cmd, &req, uids, n, seen_set, n_seen_set, NULL);
}
