/* SPDX-License-Identifier: MIT */
/*
 * cmd_notify.c: NOTIFY (RFC 5465 section 3.1): checks the request and
 * hands it to imap_notify.c, which delivers the events.
 *
 * notify = "NOTIFY" SP (notify-set / notify-none)
 * notify-set = "SET" [SP "STATUS"] SP event-group *(SP event-group)
 * event-group = "(" filter-mailboxes SP events ")"
 * filter-mailboxes = "selected" / "selected-delayed" / "inboxes" /
 *                    "personal" / "subscribed" /
 *                    ("subtree" / "mailboxes") SP one-or-more-mailbox
 * events = "(" event *(SP event) ")" / "NONE"
 *
 * Lenient where clients are: MessageNew without MessageExpunge (or
 * FlagChange without both) is taken as asked, not refused as section 5
 * would have it (Dovecot takes it too, and ImapTest asks so).
 */
#include <string.h>
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_fetch_parse.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_notify.h"
#include "imap/mutf7.h"
#include "lib/arena.h"

#define BADEVENT                                                                                   \
	"[BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange "          \
	"MailboxMetadataChange ServerMetadataChange)]"

enum parse_result { OK, BAD, UNSUPPORTED };

static const struct {
	const char *name;
	unsigned bit; /* 0: an event we do not support (no METADATA) */
} event_names[] = {
        {"MessageNew", IMAP_NOTIFY_NEW},
        {"MessageExpunge", IMAP_NOTIFY_EXPUNGE},
        {"FlagChange", IMAP_NOTIFY_FLAGS},
        {"MailboxName", IMAP_NOTIFY_MAILBOXNAME},
        {"SubscriptionChange", IMAP_NOTIFY_SUBSCRIPTION},
        {"AnnotationChange", 0},
        {"MailboxMetadataChange", IMAP_NOTIFY_MAILBOX_METADATA},
        {"ServerMetadataChange", IMAP_NOTIFY_SERVER_METADATA},
};

/* A mailbox argument, as UTF-8 ("INBOX" in any case made INBOX). */
static const char *
mailbox_name(struct imap_cmd *cmd, const struct imap_arg *a)
{
	if (a->type == IMAP_ARG_LIST || strlen(a->str) != a->len)
		return NULL;
	const char *name =
	        cmd->session->utf8_names ? a->str : imap_mutf7_decode(cmd->arena, a->str);
	if (name == NULL || !imap_utf8_is_valid(name))
		return NULL;
	if (strcasecmp(name, "INBOX") == 0)
		return "INBOX";
	if (strncasecmp(name, "INBOX/", 6) == 0)
		return arena_printf(cmd->arena, "INBOX/%s", name + 6);
	return name;
}

/* events at a, into *bits; MessageNew's fetch-atts (selected only) into spec. */
static enum parse_result
parse_events(struct imap_cmd *cmd, const struct imap_arg *a, bool is_selected, unsigned *bits,
             struct imap_notify_spec *spec)
{
	*bits = 0;
	if (a->type == IMAP_ARG_ATOM && strcasecmp(a->str, "NONE") == 0)
		return OK;
	if (a->type != IMAP_ARG_LIST || a->count == 0)
		return BAD;
	for (size_t i = 0; i < a->count; i++) {
		const struct imap_arg *e = &a->list[i];
		size_t k = 0;
		if (e->type != IMAP_ARG_ATOM)
			return BAD;
		while (k < ARRAY_LEN(event_names) && strcasecmp(e->str, event_names[k].name) != 0)
			k++;
		if (k == ARRAY_LEN(event_names) || event_names[k].bit == 0)
			return UNSUPPORTED; /* 3.1: NO [BADEVENT], not BAD */
		unsigned bit = event_names[k].bit;
		/* 6.1: SELECTED takes message events only. */
		if (is_selected && !(bit & IMAP_NOTIFY_MESSAGE_EVENTS))
			return BAD;
		*bits |= bit;
		if (bit == IMAP_NOTIFY_NEW && i + 1 < a->count &&
		    a->list[i + 1].type == IMAP_ARG_LIST) {
			/* MessageNew (fetch-att ...): for the selected mailbox. */
			const struct imap_arg *atts = &a->list[++i];
			struct imap_fetch_request req;
			const char *error;
			if (!is_selected || atts->count == 0 ||
			    !imap_fetch_request_parse(cmd->arena, atts, &req, &error))
				return BAD;
			spec->new_atts = arena_alloc(cmd->arena, atts->count * sizeof(char *));
			for (size_t j = 0; j < atts->count; j++)
				spec->new_atts[j] = atts->list[j].str;
			spec->n_new_atts = atts->count;
		}
	}
	return OK;
}

static enum parse_result
parse_group(struct imap_cmd *cmd, const struct imap_arg *g, struct imap_notify_spec *spec)
{
	static const struct {
		const char *name;
		enum imap_notify_filter filter;
		bool takes_names;
	} filters[] = {
	        {"inboxes", IMAP_NOTIFY_INBOXES, false},
	        {"personal", IMAP_NOTIFY_PERSONAL, false},
	        {"subscribed", IMAP_NOTIFY_SUBSCRIBED, false},
	        {"subtree", IMAP_NOTIFY_SUBTREE, true},
	        {"mailboxes", IMAP_NOTIFY_MAILBOXES, true},
	};
	if (g->type != IMAP_ARG_LIST || g->count < 2 || g->list[0].type != IMAP_ARG_ATOM)
		return BAD;
	const char *f = g->list[0].str;
	bool delayed = strcasecmp(f, "selected-delayed") == 0;
	if (delayed || strcasecmp(f, "selected") == 0) {
		/* 6.1: one of SELECTED and SELECTED-DELAYED, once. */
		if (g->count != 2 || spec->has_selected)
			return BAD;
		spec->has_selected = true;
		spec->selected_delayed = delayed;
		return parse_events(cmd, &g->list[1], true, &spec->selected_events, spec);
	}
	size_t k = 0;
	while (k < ARRAY_LEN(filters) && strcasecmp(f, filters[k].name) != 0)
		k++;
	if (k == ARRAY_LEN(filters) || g->count != (filters[k].takes_names ? 3u : 2u))
		return BAD;
	struct imap_notify_group *gr = &spec->groups[spec->n_groups++];
	gr->filter = filters[k].filter;
	if (filters[k].takes_names) {
		/* one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")" */
		const struct imap_arg *m = &g->list[1];
		size_t n = m->type == IMAP_ARG_LIST ? m->count : 1;
		if (n == 0)
			return BAD;
		gr->names = arena_alloc(cmd->arena, n * sizeof(char *));
		for (size_t i = 0; i < n; i++) {
			gr->names[i] =
			        mailbox_name(cmd, m->type == IMAP_ARG_LIST ? &m->list[i] : m);
			if (gr->names[i] == NULL)
				return BAD;
		}
		gr->n_names = n;
	}
	return parse_events(cmd, &g->list[g->count - 1], false, &gr->events, spec);
}

enum imap_cmd_status
imap_cmd_notify(struct imap_cmd *cmd)
{
	struct imap_notify_spec spec = {0};
	size_t i = 1;
	bool overflow;

	if (cmd->nargs == 1 && cmd->args[0].type == IMAP_ARG_ATOM &&
	    strcasecmp(cmd->args[0].str, "NONE") == 0) {
		imap_notify_set(cmd, NULL, &overflow);
		imap_reply_ok(cmd, "NOTIFY completed");
		return IMAP_CMD_DONE;
	}
	if (cmd->nargs < 2 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    strcasecmp(cmd->args[0].str, "SET") != 0) {
		imap_reply_bad(cmd, "Expected: NOTIFY SET [STATUS] (<mailboxes> <events>) ... "
		                    "or NOTIFY NONE");
		return IMAP_CMD_DONE;
	}
	if (cmd->args[1].type == IMAP_ARG_ATOM && strcasecmp(cmd->args[1].str, "STATUS") == 0) {
		spec.status = true;
		i++;
	}
	if (i >= cmd->nargs) {
		imap_reply_bad(cmd, "NOTIFY SET needs event groups");
		return IMAP_CMD_DONE;
	}
	spec.groups = arena_zalloc(cmd->arena, (cmd->nargs - i) * sizeof(*spec.groups));
	for (; i < cmd->nargs; i++) {
		switch (parse_group(cmd, &cmd->args[i], &spec)) {
		case OK:
			break;
		case BAD:
			imap_reply_bad(cmd, "Invalid NOTIFY event group");
			return IMAP_CMD_DONE;
		case UNSUPPORTED:
			imap_reply_no(cmd, BADEVENT " Unsupported event");
			return IMAP_CMD_DONE;
		}
	}
	if (imap_notify_set(cmd, &spec, &overflow) < 0) {
		if (overflow)
			imap_reply_no(cmd, "[NOTIFICATIONOVERFLOW] Too many mailboxes to watch");
		else
			imap_reply_no(cmd, "[UNAVAILABLE] Temporary failure, try again");
		return IMAP_CMD_DONE;
	}
	/* 3.1: NOTIFY SET implies NOOP: the reply carries pending changes. */
	imap_reply_ok(cmd, "NOTIFY completed");
	return IMAP_CMD_DONE;
}
