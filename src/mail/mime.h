/* SPDX-License-Identifier: MIT */
/*
 * mime.h: the MIME part tree of a message (RFC 2045, RFC 2046 section 5),
 * as offsets into the message plus the parsed Content-* header fields.
 * Built once per message by mail_mime_parse(); bodystructure.c, parts.c and
 * text.c read it.
 */
#ifndef TERN_MAIL_MIME_H
#define TERN_MAIL_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "mail/rfc2231.h"

struct arena;

/* Nesting beyond this (multipart in multipart, or message/rfc822) is read
   as a text/plain leaf: deep enough for any real mail, shallow enough to
   bound recursion and the BODYSTRUCTURE size. Dovecot uses the same. */
#define MAIL_MIME_MAX_DEPTH 100
/* Parts beyond this many are left in the epilogue of their multipart. */
#define MAIL_MIME_MAX_PARTS 10000
/* RFC 2046 section 5.1.1 allows 70; longer ones are not boundaries. */
#define MAIL_MIME_MAX_BOUNDARY 200

/* The Content-* fields of a part; NULL (or 0 counts) when absent or bad. */
struct mail_mime_content {
	const char *type, *subtype; /* as written, from a valid Content-Type */
	struct mail_param *params;
	size_t nparams;
	const char *encoding; /* Content-Transfer-Encoding token, as written */
	const char *id, *description, *md5, *location; /* unfolded values */
	const char *disposition;
	struct mail_param *dparams;
	size_t ndparams;
	const char **languages;
	size_t nlanguages;
};

enum mail_mime_kind {
	MAIL_MIME_LEAF,
	MAIL_MIME_MULTIPART, /* children are the body parts */
	MAIL_MIME_MESSAGE,   /* message/rfc822 or message/global: one child, the message */
};

struct mail_mime_part {
	struct mail_mime_part *parent, *children, *next;
	size_t nchildren;
	size_t header_off, header_len; /* header including its blank line */
	size_t body_off, body_len;     /* CRLF before a boundary excluded */
	size_t body_lines;             /* LFs in the body */
	enum mail_mime_kind kind;
	bool is_text;         /* text/<any>, including the default text/plain */
	bool is_demoted;      /* multipart or message read as text/plain (limits,
	                         no boundary): Content-Type is to be ignored */
	bool is_message_root; /* header is a message header (top, or in message/rfc822) */
	bool is_synthetic;    /* the empty part a multipart with no parts is given */
	struct mail_mime_content c;
	const char *charset; /* the charset parameter, decoded, or NULL */
};

/*
 * Parses msg[0..len) (a whole message) into its part tree; the root is the
 * message itself (is_message_root). Never fails: missing or wrong
 * boundaries, missing headers and bad fields give a best effort. All in
 * the arena; offsets refer to msg.
 */
struct mail_mime_part *mail_mime_parse(struct arena *a, const unsigned char *msg, size_t len);

/* Returns the Content-Transfer-Encoding, lowercased, "7bit" by default. */
const char *mail_mime_encoding(struct arena *a, const struct mail_mime_part *part);

#endif
