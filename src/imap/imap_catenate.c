/* SPDX-License-Identifier: MIT */
/*
 * imap_catenate.c: CATENATE messages (imap_catenate.h). One builder per
 * CATENATE list of the command being read, found by the list's position
 * among APPEND's arguments; builders live in the command arena, their
 * spools go with it unless the command takes them.
 */
#include "imap/imap_catenate.h"

#include <string.h>
#include <strings.h>

#include "imap/imap_append.h"
#include "imap/imap_url.h"
#include "imap/session.h"
#include "lib/arena.h"
#include "lib/log.h"

struct imap_catenate {
	struct imap_catenate *next;
	size_t index;                   /* the list's place among APPEND's arguments */
	struct imap_append_literal lit; /* the message's spool; TEXT literals' handle */
	const char *bad_url;            /* the first URL that named nothing */
	bool is_bad;                    /* what came is not cat-parts */
	size_t done;                    /* list elements already in the spool */
};

static void
builder_free(void *p)
{
	struct imap_catenate *b = p;

	store_spool_free(&b->lit.spool);
}

static struct imap_catenate *
builder_get(struct imap_session *s, struct arena *a, size_t index)
{
	struct imap_catenate *b;

	for (b = s->catenates; b != NULL; b = b->next)
		if (b->index == index)
			return b;
	b = arena_zalloc(a, sizeof(*b));
	b->index = index;
	if (store_spool_new(s->srv->store, &b->lit.spool, &b->lit.err) < 0) {
		log_error("imap", "event=spool-failed err=\"%s\"", store_error_str(b->lit.err));
		b->lit.spool = NULL;
	}
	arena_on_free(a, builder_free, b);
	b->next = s->catenates;
	s->catenates = b;
	return b;
}

static void
url_write(void *ctx, const void *data, size_t len)
{
	imap_append_literal_write(ctx, data, len);
}

/* A URL part: the bytes it names (this user's own messages; RFC 4469 5.1:
   anything else is BADURL), into the spool. */
static void
add_url(struct imap_session *s, struct arena *a, struct imap_catenate *b, const char *url)
{
	struct imap_url u;
	const char *error;

	if (b->bad_url != NULL)
		return; /* the message is refused anyway */
	if (!imap_url_parse(a, url, &u, &error) ||
	    (u.user != NULL && strcasecmp(u.user, s->user.address) != 0) ||
	    imap_url_fetch(s->account, &u, false, url_write, &b->lit, a, NULL, &error) < 0)
		b->bad_url = arena_strdup(a, url);
}

/* Adds parts[b->done .. upto) (cat-part pairs) to the spool. */
static void
add_parts(struct imap_session *s, struct arena *a, struct imap_catenate *b,
          const struct imap_arg *parts, size_t upto)
{
	for (size_t k = b->done; k < upto; k += 2) {
		const struct imap_arg *kind = &parts[k],
		                      *value = k + 1 < upto ? &parts[k + 1] : NULL;
		if (kind->type != IMAP_ARG_ATOM || value == NULL || value->type == IMAP_ARG_LIST) {
			b->is_bad = true;
		} else if (strcasecmp(kind->str, "URL") == 0) {
			add_url(s, a, b, value->str);
		} else if (strcasecmp(kind->str, "TEXT") != 0 || value->stream != &b->lit) {
			/* TEXT's literal streamed in already; anything else is wrong. */
			b->is_bad = true;
		}
	}
	b->done = MAX(b->done, upto);
}

enum imap_literal_route
imap_catenate_literal_begin(struct imap_session *s, struct arena *a,
                            const struct imap_literal_where *where, void **handle_out)
{
	struct imap_catenate *b = builder_get(s, a, where->n_outer);

	/* The URL parts before "TEXT" go first; this literal follows. */
	add_parts(s, a, b, where->siblings, where->index - 1);
	b->done = where->index + 1;
	*handle_out = &b->lit;
	return IMAP_LITERAL_STREAM;
}

enum imap_catenate_status
imap_catenate_finish(struct imap_cmd *cmd, size_t index, const struct imap_arg *list,
                     struct store_spool **spool_out, const char **bad_url_out,
                     enum store_error *err_out)
{
	struct imap_session *s = cmd->session;
	struct imap_catenate *b = builder_get(s, cmd->arena, index);

	*spool_out = NULL;
	if (list->type != IMAP_ARG_LIST || list->count == 0 || list->count % 2 != 0)
		return IMAP_CATENATE_BAD;
	/* Every part's syntax (those before the last literal were only
	   written), then the parts after the last literal. */
	for (size_t k = 0; k < b->done && k < list->count; k += 2) {
		const struct imap_arg *kind = &list->list[k], *value = &list->list[k + 1];
		bool is_text = kind->type == IMAP_ARG_ATOM && strcasecmp(kind->str, "TEXT") == 0;
		bool is_url = kind->type == IMAP_ARG_ATOM && strcasecmp(kind->str, "URL") == 0;
		if ((!is_text && !is_url) || (is_text && value->stream != &b->lit) ||
		    (is_url && value->type == IMAP_ARG_LIST))
			b->is_bad = true;
	}
	add_parts(s, cmd->arena, b, list->list, list->count);
	if (b->is_bad)
		return IMAP_CATENATE_BAD;
	if (b->bad_url != NULL) {
		*bad_url_out = b->bad_url;
		return IMAP_CATENATE_BADURL;
	}
	if (b->lit.spool == NULL || b->lit.err != STORE_ERR_NONE) {
		*err_out = b->lit.err != STORE_ERR_NONE ? b->lit.err : STORE_ERR_TEMP;
		return IMAP_CATENATE_FAILED;
	}
	*spool_out = b->lit.spool;
	b->lit.spool = NULL;
	return IMAP_CATENATE_OK;
}
