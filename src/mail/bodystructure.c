/* SPDX-License-Identifier: MIT */
/*
 * bodystructure.c: writes BODY / BODYSTRUCTURE (RFC 9051 section 7.5.2 and
 * the "body" grammar of section 9). Field by field as Dovecot writes them,
 * so a client sees the same structure after a migration: type and subtype
 * as written; text parts get ("charset" "us-ascii") when they name no
 * charset; encoding defaults to "7bit"; sizes are octets of the body as
 * stored (CRLF); text and message/rfc822 parts add their line count; the
 * MD5 is the Content-MD5 value (never computed). A part read as text/plain
 * because of a limit is written as one, without its Content-Type
 * parameters.
 */
#include "mail/bodystructure.h"

#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "mail/envelope.h"
#include "mail/imap_string.h"
#include "mail/mime.h"

static void
write_params(const struct mail_param *p, size_t n, bool add_charset, struct buf *out)
{
	bool has_charset = false;

	if (n == 0 && !add_charset) {
		buf_puts(out, "NIL");
		return;
	}
	buf_putc(out, '(');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(out, ' ');
		mail_imap_nstring_append(out, p[i].name);
		buf_putc(out, ' ');
		mail_imap_nstring_append(out, p[i].value);
		if (strcasecmp(p[i].name, "charset") == 0)
			has_charset = true;
	}
	if (add_charset && !has_charset)
		buf_puts(out, n > 0 ? " \"charset\" \"us-ascii\"" : "\"charset\" \"us-ascii\"");
	buf_putc(out, ')');
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void
write_dsp_lang_loc(const struct mail_mime_content *mc, struct buf *out)
{
	if (mc->disposition == NULL) {
		buf_puts(out, "NIL");
	} else {
		buf_putc(out, '(');
		mail_imap_nstring_append(out, mc->disposition);
		buf_putc(out, ' ');
		write_params(mc->dparams, mc->ndparams, false, out);
		buf_putc(out, ')');
	}
	buf_putc(out, ' ');
	if (mc->nlanguages == 0) {
		buf_puts(out, "NIL");
	} else {
		buf_putc(out, '(');
		for (size_t i = 0; i < mc->nlanguages; i++) {
			if (i > 0)
				buf_putc(out, ' ');
			mail_imap_nstring_append(out, mc->languages[i]);
		}
		buf_putc(out, ')');
	}
	buf_putc(out, ' ');
	mail_imap_nstring_append(out, mc->location);
}

static void
write_multipart(struct arena *a, const struct mail_mime_part *part, const unsigned char *msg,
                bool extended, struct buf *out)
{
	const struct mail_mime_content *mc = &part->c;

	/* body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart] */
	for (const struct mail_mime_part *ch = part->children; ch != NULL; ch = ch->next)
		mail_bodystructure_write(a, ch, msg, extended, out);
	buf_putc(out, ' ');
	mail_imap_nstring_append(out, mc->subtype);
	if (!extended)
		return;
	buf_putc(out, ' ');
	write_params(mc->params, mc->nparams, false, out);
	buf_putc(out, ' ');
	write_dsp_lang_loc(mc, out);
}

static void
write_leaf(struct arena *a, const struct mail_mime_part *part, const unsigned char *msg,
           bool extended, struct buf *out)
{
	const struct mail_mime_content *mc = &part->c;
	bool typed = mc->type != NULL && !part->is_demoted;

	if (part->kind == MAIL_MIME_MESSAGE) {
		bool global = typed && strcasecmp(mc->subtype, "global") == 0;
		buf_puts(out, global ? "\"message\" \"global\"" : "\"message\" \"rfc822\"");
	} else if (!typed) {
		buf_puts(out, "\"text\" \"plain\"");
	} else {
		mail_imap_nstring_append(out, mc->type);
		buf_putc(out, ' ');
		mail_imap_nstring_append(out, mc->subtype);
	}
	buf_putc(out, ' ');
	/* body-fields = param SP id SP desc SP enc SP octets */
	if (typed)
		write_params(mc->params, mc->nparams, part->is_text, out);
	else
		write_params(NULL, 0, part->is_text, out);
	buf_putc(out, ' ');
	mail_imap_nstring_append(out, mc->id);
	buf_putc(out, ' ');
	mail_imap_nstring_append(out, mc->description);
	buf_putc(out, ' ');
	mail_imap_nstring_append(out, mc->encoding != NULL ? mc->encoding : "7bit");
	buf_printf(out, " %zu", part->body_len);

	if (part->kind == MAIL_MIME_MESSAGE) {
		/* body-type-msg: ... SP envelope SP body SP body-fld-lines */
		const struct mail_mime_part *inner = part->children;
		struct mail_envelope env;
		mail_envelope_parse(a, msg + inner->header_off, inner->header_len, &env);
		buf_putc(out, ' ');
		mail_envelope_write(&env, out);
		buf_putc(out, ' ');
		mail_bodystructure_write(a, inner, msg, extended, out);
		buf_printf(out, " %zu", part->body_lines);
	} else if (part->is_text) {
		buf_printf(out, " %zu", part->body_lines);
	}
	if (!extended)
		return;
	/* body-ext-1part = md5 SP dsp SP lang SP loc */
	buf_putc(out, ' ');
	mail_imap_nstring_append(out, mc->md5);
	buf_putc(out, ' ');
	write_dsp_lang_loc(mc, out);
}

void
mail_bodystructure_write(struct arena *a, const struct mail_mime_part *part,
                         const unsigned char *msg, bool extended, struct buf *out)
{
	buf_putc(out, '(');
	if (part->kind == MAIL_MIME_MULTIPART)
		write_multipart(a, part, msg, extended, out);
	else
		write_leaf(a, part, msg, extended, out);
	buf_putc(out, ')');
}
