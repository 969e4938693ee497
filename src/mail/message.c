/* SPDX-License-Identifier: MIT */
/*
 * message.c: mail_parse(), the one entry point the store calls at delivery.
 * It runs the MIME parser once and derives from the tree everything later
 * commands read: ENVELOPE, BODY, BODYSTRUCTURE, the part table, the sort
 * keys, the indexed text and the PREVIEW text. The work is in the files named below; this
 * file only wires them.
 */
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/bodystructure.h"
#include "mail/envelope.h"
#include "mail/message.h"
#include "mail/mime.h"
#include "mail/parts.h"
#include "mail/preview.h"
#include "mail/sortkeys.h"
#include "mail/text.h"

static const char *
buf_to_arena(struct arena *a, struct buf *b)
{
	const char *s = arena_strndup(a, b->data != NULL ? b->data : "", b->len);

	buf_deinit(b);
	return s;
}

void
mail_parse(struct arena *a, const unsigned char *msg, size_t len, size_t max_text,
           struct mail_parsed *out)
{
	struct mail_envelope env;
	struct buf b;

	memset(out, 0, sizeof(*out));
	struct mail_mime_part *root = mail_mime_parse(a, msg, len); /* mime.c */
	out->header_size = root->header_len;
	out->body_size = len - root->header_len;

	mail_envelope_parse(a, msg + root->header_off, root->header_len, &env); /* envelope.c */
	buf_init(&b);
	mail_envelope_write(&env, &b);
	out->envelope = buf_to_arena(a, &b);

	buf_init(&b);
	mail_bodystructure_write(a, root, msg, true, &b); /* bodystructure.c */
	out->bodystructure = buf_to_arena(a, &b);
	buf_init(&b);
	mail_bodystructure_write(a, root, msg, false, &b);
	out->body = buf_to_arena(a, &b);

	out->parts = mail_parts_serialise(a, root, &out->parts_len); /* parts.c */
	mail_sortkeys_fill(a, &env, out);                            /* sortkeys.c */
	mail_text_extract(a, msg, root, max_text, &out->header_text, &out->body_text); /* text.c */
	out->preview = mail_preview_make(a, msg, root); /* preview.c */
}
