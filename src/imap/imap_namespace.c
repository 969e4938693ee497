/* SPDX-License-Identifier: MIT */
/*
 * imap_namespace.c: namespaces (RFC 2342) over the store's accounts. A
 * name is split once, here; every command then calls the store with the
 * owner's handle and the owner's own mailbox name, and the store checks
 * the rights (store_mailbox_rights(), RFC 4314): this file decides only
 * whose account a name is in, never what may be done there.
 *
 * Addresses in "Other Users/<address>/" are account addresses (lowercase,
 * no '/', auth_address_is_valid), looked up in accounts.db on the worker
 * thread (one indexed read, as URLFETCH does). The handles stay open for
 * the session (a few per user at most: one per owner used), so a shared
 * mailbox's view is the owner's, shared with the owner's own sessions:
 * changes reach IDLE at once.
 */
#include "imap/imap_namespace.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "imap/imap_language.h"
#include "imap/mutf7.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"

struct imap_shared_handle {
	struct imap_shared_handle *next;
	uint64_t owner_id;
	struct store_account *acct;
};

void
imap_namespace_login(struct imap_session *s)
{
	if (auth_account_groups(s->srv->auth, s->user.address, &s->groups, &s->n_groups) < 0) {
		/* Without them only "$group" entries are missed: fewer rights,
		   never more. */
		log_warn("imap", "event=groups-unreadable");
		s->groups = NULL;
		s->n_groups = 0;
	}
	s->identity.account_id = s->user.account_id;
	s->identity.name = s->user.address;
	s->identity.groups = (const char *const *)s->groups;
	s->identity.n_groups = s->n_groups;
}

void
imap_namespace_free(struct imap_session *s)
{
	while (s->shared != NULL) {
		struct imap_shared_handle *h = s->shared;
		s->shared = h->next;
		store_account_close(&h->acct);
		free(h);
	}
	auth_groups_free(s->groups, s->n_groups);
	s->groups = NULL;
	s->n_groups = 0;
}

int
imap_namespace_handle(struct imap_session *s, uint64_t owner_id, struct store_account **acct_out,
                      enum store_error *err_out)
{
	if (owner_id == s->user.account_id) {
		*acct_out = s->account;
		return 0;
	}
	for (struct imap_shared_handle *h = s->shared; h != NULL; h = h->next)
		if (h->owner_id == owner_id) {
			*acct_out = h->acct;
			return 0;
		}
	struct imap_shared_handle *h = xcalloc(1, sizeof(*h));
	if (store_account_open_as(s->srv->store, owner_id, &s->identity, &h->acct, err_out) < 0) {
		free(h);
		return -1;
	}
	h->owner_id = owner_id;
	h->next = s->shared;
	s->shared = h;
	*acct_out = h->acct;
	return 0;
}

/* What name means for a session that logged in to one mailbox: INBOX is
   that mailbox, INBOX/x its child x; nothing else exists. */
static const char *
login_box_name(struct imap_session *s, const char *name)
{
	if (strcmp(name, "INBOX") == 0)
		return s->login_box;
	if (strncmp(name, "INBOX/", 6) == 0)
		return arena_printf(s->cmd_arena, "%s%s", s->login_box, name + 5);
	return NULL;
}

int
imap_box_resolve(struct imap_session *s, const char *name, struct imap_box *out,
                 enum store_error *err_out)
{
	static const char other[] = IMAP_NS_OTHER "/", shared[] = IMAP_NS_SHARED "/";
	struct arena *a = s->cmd_arena;
	uint64_t owner;

	if (s->login_box != NULL && s->state != IMAP_STATE_NOT_AUTH &&
	    (name = login_box_name(s, name)) == NULL) {
		*err_out = STORE_ERR_NOTFOUND;
		return -1;
	}

	if (strncmp(name, shared, sizeof(shared) - 1) == 0) {
		out->prefix = shared;
		out->name = name + sizeof(shared) - 1;
		owner = STORE_SHARED_ACCOUNT;
	} else if (strncmp(name, other, sizeof(other) - 1) == 0) {
		const char *addr = name + sizeof(other) - 1, *slash = strchr(addr, '/');
		if (slash == NULL || slash == addr) {
			*err_out = STORE_ERR_NOTFOUND;
			return -1;
		}
		char *address = arena_strndup(a, addr, (size_t)(slash - addr));
		if (auth_account_id_lookup(s->srv->auth, address, &owner) < 0 ||
		    owner == s->user.account_id) {
			*err_out = STORE_ERR_NOTFOUND;
			return -1;
		}
		out->prefix = arena_strndup(a, name, (size_t)(slash + 1 - name));
		out->name = slash + 1;
	} else {
		out->acct = s->account;
		out->name = name;
		out->prefix = "";
		return 0;
	}
	if (*out->name == '\0') {
		*err_out = STORE_ERR_NOTFOUND;
		return -1;
	}
	/* "Other Users/x/inbox" names x's INBOX. */
	if (strcasecmp(out->name, "INBOX") == 0)
		out->name = "INBOX";
	else if (strncasecmp(out->name, "INBOX/", 6) == 0)
		out->name = arena_printf(a, "INBOX/%s", out->name + 6);
	return imap_namespace_handle(s, owner, &out->acct, err_out);
}

/* Appends acct's listable mailboxes, their names behind prefix. */
static int
list_account(struct imap_session *s, struct store_account *acct, const char *prefix,
             struct imap_ns_mailbox **v, size_t *n, size_t *cap, enum store_error *err_out)
{
	struct store_mailbox_info *boxes;
	size_t nb;

	if (store_mailbox_list(acct, s->cmd_arena, &boxes, &nb, err_out) < 0)
		return -1;
	for (size_t i = 0; i < nb; i++) {
		if (*n == *cap) {
			struct imap_ns_mailbox *bigger;
			*cap = *cap ? *cap * 2 : 32;
			bigger = arena_alloc(s->cmd_arena, *cap * sizeof(*bigger));
			if (*n > 0)
				memcpy(bigger, *v, *n * sizeof(*bigger));
			*v = bigger;
		}
		(*v)[*n].info = boxes[i];
		(*v)[*n].name = *prefix ? arena_printf(s->cmd_arena, "%s%s", prefix, boxes[i].name)
		                        : boxes[i].name;
		(*n)++;
	}
	return 0;
}

struct owner {
	uint64_t id;
	char address[256];
};

static int
owner_cmp(const void *x, const void *y)
{
	return strcmp(((const struct owner *)x)->address, ((const struct owner *)y)->address);
}

int
imap_namespace_list(struct imap_session *s, struct imap_ns_mailbox **list_out, size_t *n_out,
                    enum store_error *err_out)
{
	struct imap_ns_mailbox *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t *ids = NULL;
	size_t n_ids = 0;

	if (list_account(s, s->account, "", &v, &n, &cap, err_out) < 0)
		return -1;
	if (store_shared_owners(s->srv->store, &s->identity, &ids, &n_ids, err_out) < 0)
		return -1;
	struct owner *owners = xcalloc(n_ids ? n_ids : 1, sizeof(*owners));
	size_t n_owners = 0;
	bool has_public = false;
	for (size_t i = 0; i < n_ids; i++) {
		if (ids[i] == STORE_SHARED_ACCOUNT) {
			has_public = true;
			continue;
		}
		owners[n_owners].id = ids[i];
		if (auth_account_address_lookup(s->srv->auth, ids[i], owners[n_owners].address,
		                                sizeof(owners[n_owners].address)) == 0)
			n_owners++; /* a deleted account's leftovers are not shown */
	}
	qsort(owners, n_owners, sizeof(*owners), owner_cmp);
	for (size_t i = 0; i <= n_owners; i++) {
		uint64_t id = i < n_owners ? owners[i].id : STORE_SHARED_ACCOUNT;
		const char *prefix = i < n_owners ? arena_printf(s->cmd_arena, IMAP_NS_OTHER "/%s/",
		                                                 owners[i].address)
		                                  : IMAP_NS_SHARED "/";
		struct store_account *acct;
		enum store_error err;
		if (i == n_owners && !has_public)
			break;
		if (imap_namespace_handle(s, id, &acct, &err) < 0 ||
		    list_account(s, acct, prefix, &v, &n, &cap, &err) < 0)
			log_warn("imap", "event=shared-list-failed owner=%llu err=\"%s\"",
			         (unsigned long long)id, store_error_str(err));
	}
	free(owners);
	free(ids);
	if (s->login_box != NULL) {
		/* Only the mailbox logged in to, as INBOX, and its children. */
		size_t len = strlen(s->login_box), k = 0;
		for (size_t i = 0; i < n; i++) {
			if (strncmp(v[i].name, s->login_box, len) != 0 ||
			    (v[i].name[len] != '\0' && v[i].name[len] != '/'))
				continue;
			v[k] = v[i];
			v[k].name = arena_printf(s->cmd_arena, "INBOX%s", v[i].name + len);
			v[k].info.special_use = 0;
			k++;
		}
		n = k;
	}
	*list_out = v;
	*n_out = n;
	return 0;
}

int
imap_namespace_enter(struct imap_session *s)
{
	char *want = s->login_box;
	const char *candidates[3];
	size_t n = 0;

	/* The state is not AUTH yet: names resolve as written. */
	s->login_box = NULL;
	if (strchr(want, '@') != NULL && strchr(want, '/') == NULL)
		candidates[n++] = arena_printf(s->cmd_arena, IMAP_NS_OTHER "/%s/INBOX", want);
	candidates[n++] = want;
	candidates[n++] = arena_printf(s->cmd_arena, IMAP_NS_SHARED "/%s", want);
	for (size_t i = 0; i < n; i++) {
		struct imap_box box;
		enum store_error err;
		unsigned rights;
		if (imap_box_resolve(s, candidates[i], &box, &err) == 0 &&
		    store_mailbox_rights(box.acct, box.name, &rights, &err) == 0 &&
		    (rights & STORE_RIGHT_READ)) {
			s->login_box = xasprintf("%s%s", box.prefix, box.name);
			free(want);
			return 0;
		}
	}
	free(want);
	return -1;
}

/* ("Other Users/" "/" "TRANSLATION" ("...")): the translated prefix keeps
   the delimiter, and is modified UTF-7 (RFC 5255 3.5) unless names travel
   as UTF-8 in this session (RFC 6855, RFC 9051). */
static void
namespace_put(struct imap_session *s, struct buf *b, const char *prefix, const char *translated)
{
	buf_printf(b, "((\"%s/\" \"/\"", prefix);
	if (translated != NULL) {
		const char *t = arena_printf(s->cmd_arena, "%s/", translated);
		if (!s->utf8_names)
			t = imap_mutf7_encode(s->cmd_arena, t);
		buf_printf(b, " \"TRANSLATION\" (%s)", imap_quote_utf8(s->cmd_arena, t, true));
	}
	buf_puts(b, "))");
}

void
imap_namespace_reply(struct imap_session *s)
{
	const struct imap_language *l = s->language;
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "NAMESPACE ((\"\" \"/\")) ");
	namespace_put(s, &b, IMAP_NS_OTHER, l != NULL ? l->other_users : NULL);
	buf_putc(&b, ' ');
	namespace_put(s, &b, IMAP_NS_SHARED, l != NULL ? l->shared : NULL);
	imap_reply_untagged(s, "%s", b.data);
	buf_deinit(&b);
}
