/* SPDX-License-Identifier: MIT */
/*
 * cmd_store.c: STORE and UID STORE (RFC 9051 sections 6.4.6, 6.4.9) with the
 * UNCHANGEDSINCE modifier and MODIFIED response code (RFC 7162 section
 * 3.1.3). One store transaction changes every message of the set, with one
 * new modseq; other sessions hear of it at their next sync (FETCH FLAGS).
 *
 * store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags
 * store-modifiers = SP "(" "UNCHANGEDSINCE" SP mod-sequence-valzer ")"
 * store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
 *
 * Replies: "* n FETCH (FLAGS (...))" for every message of the set that is
 * still there, unless .SILENT; with UID for UID STORE and MODSEQ once
 * CONDSTORE is in use. UNCHANGEDSINCE makes the changed messages answer
 * with MODSEQ even under .SILENT (RFC 7162 3.1.3), and the messages that
 * failed the test are listed in OK [MODIFIED set] (sequence numbers, or
 * UIDs for UID STORE). Read-only mailbox (EXAMINE): NO, nothing changed.
 * STORE ANNOTATION (RFC 5257 section 4.4) goes to imap_annotate.c.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_annotate.h"
#include "imap/imap_condstore.h"
#include "imap/imap_flags.h"
#include "imap/imap_mailbox.h"
#include "imap/seqset.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/sorted.h"
#include "lib/util.h"

/* (UNCHANGEDSINCE n): true with *out, false when malformed. */
static bool
parse_modifier(const struct imap_arg *arg, uint64_t *out)
{
	return arg->count == 2 && arg->list[0].type == IMAP_ARG_ATOM &&
	       arg->list[1].type == IMAP_ARG_ATOM &&
	       strcasecmp(arg->list[0].str, "UNCHANGEDSINCE") == 0 &&
	       imap_modseq_parse(arg->list[1].str, true, out);
}

enum imap_cmd_status
imap_cmd_store(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct imap_seqset set;
	struct imap_flag_list fl;
	struct store_flags_change ch = {0};
	struct store_flags_result res;
	const char *error;
	bool has_unchanged = false, silent;
	size_t i = 1;
	uint32_t *uids;
	size_t n;
	enum store_error err;

	if (cmd->nargs < 3 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    !imap_seqset_parse(cmd->arena, cmd->args[0].str, &set)) {
		imap_reply_bad(
		        cmd,
		        "Expected: %s <set> [(UNCHANGEDSINCE <modseq>)] [+|-]FLAGS[.SILENT] (<flags>)",
		        cmd->name);
		return IMAP_CMD_DONE;
	}
	if (cmd->args[1].type == IMAP_ARG_LIST) {
		if (!parse_modifier(&cmd->args[1], &ch.unchanged_since)) {
			imap_reply_bad(cmd, "Expected: (UNCHANGEDSINCE <modseq>)");
			return IMAP_CMD_DONE;
		}
		has_unchanged = true;
		i++;
	}
	if (i + 1 >= cmd->nargs) {
		imap_reply_bad(cmd, "Expected flags");
		return IMAP_CMD_DONE;
	}
	const char *att = cmd->args[i].type == IMAP_ARG_ATOM ? cmd->args[i].str : "";
	if (strcasecmp(att, "ANNOTATION") == 0) {
		if (imap_mailbox_resolve_set(cmd, &set, &uids, &n))
			imap_annotate_store(cmd, &cmd->args[i + 1], cmd->nargs - i - 1, uids, n,
			                    has_unchanged, ch.unchanged_since);
		return IMAP_CMD_DONE;
	}
	ch.op = STORE_FLAGS_SET;
	if (*att == '+' || *att == '-')
		ch.op = *att++ == '+' ? STORE_FLAGS_ADD : STORE_FLAGS_REMOVE;
	silent = strcasecmp(att, "FLAGS.SILENT") == 0;
	if (!silent && strcasecmp(att, "FLAGS") != 0) {
		imap_reply_bad(cmd, "Expected [+|-]FLAGS[.SILENT]");
		return IMAP_CMD_DONE;
	}
	i++;
	/* Flags as one list, or as atoms (RFC 9051 9: flag *(SP flag)). */
	struct imap_arg list = {.type = IMAP_ARG_LIST,
	                        .list = (struct imap_arg *)&cmd->args[i],
	                        .count = cmd->nargs - i};
	const struct imap_arg *flags_arg = cmd->nargs - i == 1 ? &cmd->args[i] : &list;
	if (cmd->nargs - i > 1) {
		for (size_t j = i; j < cmd->nargs; j++) {
			if (cmd->args[j].type != IMAP_ARG_ATOM) {
				imap_reply_bad(cmd, "Flags must be atoms");
				return IMAP_CMD_DONE;
			}
		}
	}
	if (!imap_flag_list_parse(cmd->arena, flags_arg, &fl, &error)) {
		imap_reply_bad(cmd, "%s", error);
		return IMAP_CMD_DONE;
	}
	ch.flags = fl.flags;
	ch.keywords = (const char *const *)fl.keywords;
	ch.n_keywords = fl.n_keywords;

	if (!imap_mailbox_resolve_set(cmd, &set, &uids, &n))
		return IMAP_CMD_DONE;
	if (s->is_readonly) {
		imap_reply_no(cmd, "[READ-ONLY] Mailbox is read-only");
		return IMAP_CMD_DONE;
	}
	if (has_unchanged)
		imap_condstore_enable(s); /* RFC 7162 3.1: a CONDSTORE enabling command */
	if (n == 0) {
		imap_reply_ok(cmd, "%s completed", cmd->name);
		return IMAP_CMD_DONE;
	}
	if (has_unchanged && ch.unchanged_since == 0) {
		/* RFC 7162 3.1.3: UNCHANGEDSINCE 0 always fails (the store
		   reads 0 as "unconditional"); nothing is changed. */
		res = (struct store_flags_result){.failed = uids, .n_failed = n};
	} else if (store_flags_update(s->mbox, uids, n, &ch, cmd->arena, &res, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	if (res.n_changed > 1)
		qsort(res.changed, res.n_changed, sizeof(uint32_t), uid_cmp);
	if (res.n_failed > 1)
		qsort(res.failed, res.n_failed, sizeof(uint32_t), uid_cmp);

	struct buf line;
	buf_init(&line);
	for (size_t k = 0; k < n; k++) {
		uint32_t flags, seq;
		uint64_t kw, modseq;
		bool changed = sorted_u32_contains(res.changed, res.n_changed, uids[k]);
		if (sorted_u32_contains(res.failed, res.n_failed, uids[k]) ||
		    (silent && !(has_unchanged && changed)))
			continue;
		if (store_mailbox_flags_get(s->mbox, uids[k], &flags, &kw, &modseq, &err) < 0 ||
		    (seq = store_mailbox_seq(s->mbox, uids[k])) == 0)
			continue; /* expunged by someone else meanwhile */
		buf_reset(&line);
		/* RFC 7162 3.2.4: with QRESYNC every untagged FETCH has UID. */
		if (cmd->is_uid || s->qresync)
			buf_printf(&line, "UID %u ", uids[k]);
		if (!silent) {
			/* A keyword this STORE created: FLAGS first (RFC 9051 7.3.5). */
			imap_mailbox_announce_keywords(s, kw, NULL);
			buf_puts(&line, "FLAGS (");
			imap_flags_append(s, cmd->arena, &line, flags, kw,
			                  store_mailbox_is_recent(s->mbox, uids[k]));
			buf_puts(&line, ") ");
		}
		if (s->condstore)
			buf_printf(&line, "MODSEQ (%llu) ", (unsigned long long)modseq);
		line.data[--line.len] = '\0'; /* the trailing space */
		imap_reply_untagged(s, "%u FETCH (%s)", seq, line.data);
	}
	buf_deinit(&line);

	if (res.n_failed > 0) {
		uint32_t *failed = res.failed;
		if (!cmd->is_uid) {
			for (size_t k = 0; k < res.n_failed; k++)
				failed[k] = store_mailbox_seq(s->mbox, failed[k]);
			qsort(failed, res.n_failed, sizeof(uint32_t), uid_cmp);
		}
		imap_reply_ok(cmd, "[MODIFIED %s] Conditional STORE failed",
		              imap_seqset_format(cmd->arena, failed, res.n_failed));
		return IMAP_CMD_DONE;
	}
	imap_reply_ok(cmd, "%s completed", cmd->name);
	return IMAP_CMD_DONE;
}
