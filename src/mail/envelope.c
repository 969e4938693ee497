/* SPDX-License-Identifier: MIT */
/*
 * envelope.c: ENVELOPE (RFC 9051 section 7.5.2). Strings are sent as they
 * appear in the header, unfolded but not RFC 2047 decoded, which is what
 * the RFC asks and clients expect; present-but-empty Date, Subject,
 * In-Reply-To and Message-ID give "", absent ones NIL. When a field occurs
 * twice the first one counts.
 */
#include "mail/envelope.h"

#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/header.h"
#include "mail/imap_string.h"

enum field {
	F_DATE,
	F_SUBJECT,
	F_FROM,
	F_SENDER,
	F_REPLY_TO,
	F_TO,
	F_CC,
	F_BCC,
	F_IN_REPLY_TO,
	F_MESSAGE_ID,
	F_REFERENCES,
	F_COUNT
};

static const char *const field_names[F_COUNT] = {
        "Date", "Subject", "From",        "Sender",     "Reply-To",   "To",
        "Cc",   "Bcc",     "In-Reply-To", "Message-ID", "References",
};

void
mail_envelope_parse(struct arena *a, const unsigned char *hdr, size_t len,
                    struct mail_envelope *out)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	bool seen[F_COUNT] = {false};

	memset(out, 0, sizeof(*out));
	mail_header_iter_init(&it, hdr, len);
	while (mail_header_iter_next(&it, &f)) {
		size_t k;
		for (k = 0; k < F_COUNT; k++) {
			if (mail_header_field_is(&f, field_names[k]))
				break;
		}
		if (k == F_COUNT || seen[k])
			continue;
		seen[k] = true;
		struct mail_address *addr = NULL;
		if (k >= F_FROM && k <= F_BCC)
			addr = mail_address_parse(a, f.value, f.value_len);
		switch ((enum field)k) {
		case F_DATE:
			out->date = mail_header_unfold(a, f.value, f.value_len);
			break;
		case F_SUBJECT:
			out->subject = mail_header_unfold(a, f.value, f.value_len);
			break;
		case F_IN_REPLY_TO:
			out->in_reply_to = mail_header_unfold(a, f.value, f.value_len);
			break;
		case F_MESSAGE_ID:
			out->message_id = mail_header_unfold(a, f.value, f.value_len);
			break;
		case F_REFERENCES:
			out->references = mail_header_unfold(a, f.value, f.value_len);
			break;
		case F_FROM:
			out->from = addr;
			break;
		case F_SENDER:
			out->sender = addr;
			break;
		case F_REPLY_TO:
			out->reply_to = addr;
			break;
		case F_TO:
			out->to = addr;
			break;
		case F_CC:
			out->cc = addr;
			break;
		case F_BCC:
			out->bcc = addr;
			break;
		case F_COUNT:
			break;
		}
	}
}

static void
write_addresses(const struct mail_address *ad, struct buf *out)
{
	if (ad == NULL) {
		buf_puts(out, "NIL");
		return;
	}
	buf_putc(out, '(');
	for (; ad != NULL; ad = ad->next) {
		const char *mailbox = ad->mailbox, *domain = ad->domain;
		if (domain != NULL) {
			/* A mailbox: NIL parts would read as group syntax. */
			if (*mailbox == '\0')
				mailbox = "MISSING_MAILBOX";
			if (*domain == '\0')
				domain = "MISSING_DOMAIN";
		}
		buf_putc(out, '(');
		mail_imap_nstring_append(out, ad->name);
		buf_putc(out, ' ');
		mail_imap_nstring_append(out, ad->route);
		buf_putc(out, ' ');
		mail_imap_nstring_append(out, mailbox);
		buf_putc(out, ' ');
		mail_imap_nstring_append(out, domain);
		buf_putc(out, ')');
	}
	buf_putc(out, ')');
}

void
mail_envelope_write(const struct mail_envelope *env, struct buf *out)
{
	buf_putc(out, '(');
	mail_imap_nstring_append(out, env->date);
	buf_putc(out, ' ');
	mail_imap_nstring_append(out, env->subject);
	buf_putc(out, ' ');
	write_addresses(env->from, out);
	buf_putc(out, ' ');
	write_addresses(env->sender != NULL ? env->sender : env->from, out);
	buf_putc(out, ' ');
	write_addresses(env->reply_to != NULL ? env->reply_to : env->from, out);
	buf_putc(out, ' ');
	write_addresses(env->to, out);
	buf_putc(out, ' ');
	write_addresses(env->cc, out);
	buf_putc(out, ' ');
	write_addresses(env->bcc, out);
	buf_putc(out, ' ');
	mail_imap_nstring_append(out, env->in_reply_to);
	buf_putc(out, ' ');
	mail_imap_nstring_append(out, env->message_id);
	buf_putc(out, ')');
}
