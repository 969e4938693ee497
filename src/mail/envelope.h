/* SPDX-License-Identifier: MIT */
/*
 * envelope.h: the header fields of a message that ENVELOPE (RFC 9051
 * section 7.5.2) and the SORT keys need, read in one pass over the header.
 */
#ifndef TERN_MAIL_ENVELOPE_H
#define TERN_MAIL_ENVELOPE_H

#include <stddef.h>

#include "mail/address.h"

struct arena;
struct buf;

/* Values are the first field of each name, unfolded, undecoded; NULL when
   the field is absent. Address lists are NULL when absent or empty. */
struct mail_envelope {
	const char *date, *subject, *in_reply_to, *message_id, *references;
	struct mail_address *from, *sender, *reply_to, *to, *cc, *bcc;
};

/* Reads the fields from the header block hdr[0..len). In the arena. */
void mail_envelope_parse(struct arena *a, const unsigned char *hdr, size_t len,
                         struct mail_envelope *out);

/*
 * Appends "(date subject from sender reply-to to cc bcc in-reply-to
 * message-id)": Sender and Reply-To default to From; a mailbox without
 * local part or domain gets "MISSING_MAILBOX" / "MISSING_DOMAIN", as
 * Dovecot writes them, since NIL there would mean group syntax.
 */
void mail_envelope_write(const struct mail_envelope *env, struct buf *out);

#endif
