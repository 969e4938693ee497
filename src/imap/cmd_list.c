/* SPDX-License-Identifier: MIT */
/*
 * cmd_list.c: LIST (RFC 9051 section 6.3.9) with LIST-EXTENDED (RFC 5258:
 * selection options SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE; return
 * options SUBSCRIBED, CHILDREN, SPECIAL-USE), LIST-STATUS (RFC 5819) and
 * SPECIAL-USE (RFC 6154), LIST-MYRIGHTS (RFC 8440: RETURN (MYRIGHTS)), and
 * LSUB (RFC 3501 section 6.3.9). The mailboxes are those of every
 * namespace (imap_namespace.c); the shared namespaces' levels above the
 * mailboxes ("Other Users", "Other Users/<address>", "Shared") are listed
 * as \Noselect with children (RFC 2342 section 5).
 *
 * The store gives every mailbox with its attributes in one read; patterns
 * are matched by list_pattern.c ('*' matches anything, '%' anything but
 * the delimiter, in linear passes whatever the client sends). Names are
 * matched in UTF-8; INBOX case-insensitively.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imap/commands.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_special_use.h"
#include "imap/imap_namespace.h"
#include "imap/imap_status.h"
#include "imap/list_pattern.h"
#include "imap/mutf7.h"
#include "lib/arena.h"
#include "lib/buf.h"

enum {
	SEL_SUBSCRIBED = 1 << 0,
	SEL_RECURSIVEMATCH = 1 << 1,
	SEL_SPECIAL_USE = 1 << 2,
	RET_SUBSCRIBED = 1 << 3,
	RET_CHILDREN = 1 << 4,
	RET_SPECIAL_USE = 1 << 5,
	RET_STATUS = 1 << 6,
	RET_MYRIGHTS = 1 << 7,
};

static const struct {
	const char *name;
	unsigned bit;
} options[] =
        {
                {"SUBSCRIBED", SEL_SUBSCRIBED},
                {"REMOTE", 0},
                {"RECURSIVEMATCH", SEL_RECURSIVEMATCH},
                {"SPECIAL-USE", SEL_SPECIAL_USE},
},
  returns[] = {
          {"SUBSCRIBED", RET_SUBSCRIBED},   {"CHILDREN", RET_CHILDREN},
          {"SPECIAL-USE", RET_SPECIAL_USE}, {"STATUS", RET_STATUS},
          {"MYRIGHTS", RET_MYRIGHTS},
};

struct list_ctx {
	struct imap_cmd *cmd;
	bool lsub;
	unsigned opts;
	unsigned status_items;
	struct imap_list_pattern **patterns;
	bool *is_wire; /* pattern i matches the names' wire form (not mUTF-7) */
	size_t npatterns;
	struct store_mailbox_info *boxes;
	size_t nboxes;
	const char **subs;
	size_t nsubs;
};

static bool
any_pattern(struct list_ctx *c, const char *name)
{
	const char *wire = NULL;

	for (size_t i = 0; i < c->npatterns; i++) {
		if (c->is_wire[i] && wire == NULL)
			wire = imap_mailbox_encode(c->cmd->session, name);
		if (imap_list_pattern_matches(c->patterns[i], c->is_wire[i] ? wire : name))
			return true;
	}
	return false;
}

static const struct store_mailbox_info *
find_box(struct list_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->nboxes; i++)
		if (strcmp(c->boxes[i].name, name) == 0)
			return &c->boxes[i];
	return NULL;
}

static bool
is_subscribed(struct list_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->nsubs; i++)
		if (strcmp(c->subs[i], name) == 0)
			return true;
	return false;
}

/* True if a subscribed name lies below name (RECURSIVEMATCH, LSUB). */
static bool
has_subscribed_child(struct list_ctx *c, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < c->nsubs; i++)
		if (strncmp(c->subs[i], name, len) == 0 && c->subs[i][len] == '/')
			return true;
	return false;
}

static void
emit(struct list_ctx *c, const char *name, const struct store_mailbox_info *box, bool childinfo)
{
	struct imap_session *s = c->cmd->session;
	struct buf attrs;

	buf_init(&attrs);
	if (c->lsub) {
		if (box == NULL || !is_subscribed(c, name))
			buf_puts(&attrs, " \\Noselect");
	} else {
		if (box == NULL)
			buf_puts(&attrs, " \\NonExistent");
		else
			buf_puts(&attrs, box->has_children ? " \\HasChildren" : " \\HasNoChildren");
		if ((c->opts & (SEL_SUBSCRIBED | RET_SUBSCRIBED)) && is_subscribed(c, name))
			buf_puts(&attrs, " \\Subscribed");
		if (box != NULL && box->special_use != 0)
			imap_special_use_append(&attrs, box->special_use);
	}
	const char *ext = childinfo ? " (\"CHILDINFO\" (\"SUBSCRIBED\"))" : "";
	imap_reply_untagged(s, "%s (%s) \"/\" %s%s", c->lsub ? "LSUB" : "LIST",
	                    attrs.data ? attrs.data + 1 : "", imap_mailbox_wire(s, name), ext);
	buf_deinit(&attrs);
	if ((c->opts & RET_STATUS) && box != NULL && (box->rights & STORE_RIGHT_READ))
		imap_status_reply(s, name, c->status_items, box);
	/* RFC 8440 section 3: one MYRIGHTS per listed mailbox that exists. */
	if ((c->opts & RET_MYRIGHTS) && box != NULL) {
		char rights[16];
		imap_reply_untagged(s, "MYRIGHTS %s %s", imap_mailbox_wire(s, name),
		                    store_rights_format(box->rights, rights));
	}
}

/* The levels of a shared namespace above name that are not mailboxes:
   "Other Users", "Other Users/<address>", "Shared". Each once (*last is
   the deepest one already sent), when the patterns match it. */
static void
emit_namespace_levels(struct list_ctx *c, const char *name, const char **last)
{
	static const char other[] = IMAP_NS_OTHER "/", shared[] = IMAP_NS_SHARED "/";
	const char *levels[2];
	size_t n = 0;

	if (strncmp(name, other, sizeof(other) - 1) == 0) {
		const char *slash = strchr(name + sizeof(other) - 1, '/');
		levels[n++] = IMAP_NS_OTHER;
		if (slash != NULL)
			levels[n++] = arena_strndup(c->cmd->arena, name, (size_t)(slash - name));
	} else if (strncmp(name, shared, sizeof(shared) - 1) == 0) {
		levels[n++] = IMAP_NS_SHARED;
	}
	for (size_t i = 0; i < n; i++) {
		if (*last != NULL && strncmp(*last, levels[i], strlen(levels[i])) == 0 &&
		    ((*last)[strlen(levels[i])] == '\0' || (*last)[strlen(levels[i])] == '/'))
			continue;
		*last = levels[i];
		if (any_pattern(c, levels[i]))
			imap_reply_untagged(c->cmd->session,
			                    "LIST (\\Noselect \\HasChildren) \"/\" %s",
			                    imap_mailbox_wire(c->cmd->session, levels[i]));
	}
}

static void
list_subscribed(struct list_ctx *c)
{
	const char *last = NULL;

	for (size_t i = 0; i < c->nsubs; i++) {
		const char *name = c->subs[i];
		if (any_pattern(c, name)) {
			emit(c, name, find_box(c, name), false);
			continue;
		}
		/* A parent matched by '%' (LSUB) or RECURSIVEMATCH. */
		if (!c->lsub && !(c->opts & SEL_RECURSIVEMATCH))
			continue;
		for (const char *slash = strchr(name, '/'); slash != NULL;
		     slash = strchr(slash + 1, '/')) {
			const char *parent =
			        arena_strndup(c->cmd->arena, name, (size_t)(slash - name));
			if (is_subscribed(c, parent) || !any_pattern(c, parent) ||
			    (last != NULL && strcmp(last, parent) == 0))
				continue;
			last = parent;
			emit(c, parent, find_box(c, parent),
			     !c->lsub && has_subscribed_child(c, parent));
			break;
		}
	}
}

static bool
parse_options(struct imap_cmd *cmd, const struct imap_arg *list, bool is_return, struct list_ctx *c)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct imap_arg *o = &list->list[i];
		size_t k, n = is_return ? ARRAY_LEN(returns) : ARRAY_LEN(options);
		if (o->type != IMAP_ARG_ATOM) {
			imap_reply_bad(cmd, "Invalid LIST option");
			return false;
		}
		for (k = 0; k < n; k++)
			if (strcasecmp(o->str, is_return ? returns[k].name : options[k].name) == 0)
				break;
		if (k == n) {
			imap_reply_bad(cmd, "Unknown LIST option %s", is_return ? "in RETURN" : "");
			return false;
		}
		c->opts |= is_return ? returns[k].bit : options[k].bit;
		if (is_return && returns[k].bit == RET_STATUS) {
			if (i + 1 >= list->count) {
				imap_reply_bad(cmd, "RETURN STATUS needs a list of items");
				return false;
			}
			if (!imap_status_items_parse(cmd, &list->list[++i], &c->status_items))
				return false;
		}
	}
	/* RFC 5258 3.1: RECURSIVEMATCH alone is an error. */
	if ((c->opts & SEL_RECURSIVEMATCH) && !(c->opts & (SEL_SUBSCRIBED | SEL_SPECIAL_USE))) {
		imap_reply_bad(cmd, "RECURSIVEMATCH needs another selection option");
		return false;
	}
	return true;
}

static const char *
decode_pattern(struct imap_cmd *cmd, const char *ref, const char *pat)
{
	const char *full = arena_printf(cmd->arena, "%s%s", ref, pat);

	if (cmd->session->utf8_names)
		return full;
	return imap_mutf7_decode(cmd->arena, full);
}

enum imap_cmd_status
imap_cmd_list(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct list_ctx c = {.cmd = cmd, .lsub = strcasecmp(cmd->def->name, "LSUB") == 0};
	enum store_error err;
	size_t i = 0;
	const char *ref;

	if (!c.lsub && cmd->nargs > 0 && cmd->args[0].type == IMAP_ARG_LIST) {
		if (!parse_options(cmd, &cmd->args[0], false, &c))
			return IMAP_CMD_DONE;
		i = 1;
	}
	if (!imap_args_astring(cmd, i, &ref) || i + 1 >= cmd->nargs) {
		imap_reply_bad(cmd, "Expected: %s <reference> <pattern>", cmd->def->name);
		return IMAP_CMD_DONE;
	}
	const struct imap_arg *pats = &cmd->args[i + 1];
	size_t npats = pats->type == IMAP_ARG_LIST ? pats->count : 1;
	if (pats->type == IMAP_ARG_LIST && (c.lsub || npats == 0)) {
		imap_reply_bad(cmd, "Expected a mailbox pattern");
		return IMAP_CMD_DONE;
	}
	size_t rest = i + 2;
	if (!c.lsub && rest < cmd->nargs) {
		if (rest + 2 != cmd->nargs || cmd->args[rest].type != IMAP_ARG_ATOM ||
		    strcasecmp(cmd->args[rest].str, "RETURN") != 0 ||
		    cmd->args[rest + 1].type != IMAP_ARG_LIST) {
			imap_reply_bad(cmd, "Expected: RETURN (<options>)");
			return IMAP_CMD_DONE;
		}
		if (!parse_options(cmd, &cmd->args[rest + 1], true, &c))
			return IMAP_CMD_DONE;
	} else if (rest != cmd->nargs) {
		imap_reply_bad(cmd, "Too many arguments");
		return IMAP_CMD_DONE;
	}

	c.patterns = arena_alloc(cmd->arena, npats * sizeof(*c.patterns));
	c.is_wire = arena_zalloc(cmd->arena, npats * sizeof(*c.is_wire));
	for (size_t p = 0; p < npats; p++) {
		const struct imap_arg *pa = pats->type == IMAP_ARG_LIST ? &pats->list[p] : pats;
		if (pa->type == IMAP_ARG_LIST) {
			imap_reply_bad(cmd, "Expected a mailbox pattern");
			return IMAP_CMD_DONE;
		}
		/* RFC 9051 6.3.9: an empty pattern asks for the delimiter. */
		if (pa->str[0] == '\0' && npats == 1 && !c.lsub) {
			imap_reply_untagged(s, "LIST (\\Noselect) \"/\" \"\"");
			imap_reply_ok(cmd, "LIST completed");
			return IMAP_CMD_DONE;
		}
		const char *full = decode_pattern(cmd, ref, pa->str);
		if (full == NULL) {
			/* Not modified UTF-7 ("a&b*"): a pattern, not a name, so
			   not an error (ImapTest atoms); it is matched as it
			   is against the names as the client sees them. */
			full = arena_printf(cmd->arena, "%s%s", ref, pa->str);
			c.is_wire[c.npatterns] = true;
		}
		c.patterns[c.npatterns++] = imap_list_pattern_new(cmd->arena, full);
	}
	struct imap_ns_mailbox *all;
	if (imap_namespace_list(s, &all, &c.nboxes, &err) < 0 ||
	    ((c.lsub || (c.opts & (SEL_SUBSCRIBED | RET_SUBSCRIBED))) &&
	     store_subscription_list(s->account, cmd->arena, &c.subs, &c.nsubs, &err) < 0)) {
		imap_reply_store_error(cmd, err);
		return IMAP_CMD_DONE;
	}
	c.boxes = arena_alloc(cmd->arena, (c.nboxes ? c.nboxes : 1) * sizeof(*c.boxes));
	for (size_t b = 0; b < c.nboxes; b++) {
		c.boxes[b] = all[b].info;
		c.boxes[b].name = all[b].name;
	}
	if (c.lsub || (c.opts & SEL_SUBSCRIBED)) {
		list_subscribed(&c);
	} else {
		const char *level = NULL;
		for (size_t b = 0; b < c.nboxes; b++) {
			const struct store_mailbox_info *box = &c.boxes[b];
			if ((c.opts & SEL_SPECIAL_USE) && box->special_use == 0)
				continue;
			if (!(c.opts & SEL_SPECIAL_USE))
				emit_namespace_levels(&c, box->name, &level);
			if (any_pattern(&c, box->name))
				emit(&c, box->name, box, false);
		}
	}
	imap_reply_ok(cmd, "%s completed", cmd->def->name);
	return IMAP_CMD_DONE;
}
