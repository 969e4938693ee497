/* SPDX-License-Identifier: MIT */
/*
 * message.h: parse a stored message once, at delivery, into everything IMAP
 * FETCH, SEARCH, SORT and THREAD need later, so nothing reparses a message.
 *
 * Input is the whole message in memory (the store maps the blob file), already
 * normalised to CRLF line ends by mail_crlf_*. Input is hostile: any bytes,
 * any size up to the configured message limit; malformed MIME is tolerated the
 * way real mail needs (missing boundaries, bad encodings, 8-bit headers) and
 * never makes parsing fail. Everything returned lives in the caller's arena.
 */
#ifndef TERN_MAIL_MESSAGE_H
#define TERN_MAIL_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct arena;

/* What the store caches per message. Strings are NUL-terminated, in the arena. */
struct mail_parsed {
	/* IMAP strings, ready to send (RFC 9051 section 7.5.2). */
	const char *envelope;      /* "(date subject from sender ...)" */
	const char *bodystructure; /* with extension data */
	const char *body;          /* BODY: without extension data */

	/*
	 * The MIME part tree as an opaque byte string (not NUL-safe: use
	 * parts_len) for mail_section_lookup(); the store keeps it as a BLOB.
	 */
	const unsigned char *parts;
	size_t parts_len;

	size_t header_size; /* bytes of the top header, including the blank line */
	size_t body_size;

	/* For SORT (RFC 5256) and THREAD; decoded to UTF-8; "" when absent. */
	time_t sent_date;         /* Date: header as UTC; 0 when missing or bad */
	const char *subject;      /* decoded */
	const char *base_subject; /* RFC 5256 section 2.1 */
	const char *from_addr;    /* first From mailbox, "local@domain", lowercased */
	const char *from_display; /* RFC 5957 display name, or addr when none */
	const char *to_addr, *to_display;
	const char *cc_addr;
	const char *message_id;  /* "<...>" or "" */
	const char *in_reply_to; /* first msg-id of In-Reply-To */
	const char *references;  /* msg-ids, space separated, in order */

	/*
	 * Text for the full-text index: decoded header field values and the
	 * text of every text/ part (transfer-decoded, charset-converted to
	 * UTF-8, HTML tags not stripped). Bounded by the max_text argument.
	 */
	const char *header_text;
	const char *body_text;

	/* RFC 8970 PREVIEW: at most 256 characters of UTF-8, "" when the
	   message has no text to show (mail_preview_make, preview.c). */
	const char *preview;
};

/* Parses msg (CRLF line ends). Cannot fail: bad input gives a best effort. */
void mail_parse(struct arena *a, const unsigned char *msg, size_t len, size_t max_text,
                struct mail_parsed *out);

/* Where a section of a message lies, for BODY[section] and BINARY[section]. */
struct mail_section {
	size_t header_off, header_len; /* the part's MIME header (or message header) */
	size_t body_off, body_len;     /* the part's body */
	bool is_message;               /* message/rfc822: HEADER/TEXT refer to the inner msg */
	size_t inner_header_off, inner_header_len; /* when is_message */
	size_t inner_body_off, inner_body_len;
	/* Content-Transfer-Encoding, lowercased ("7bit" default); points into
	   parts, so it lives as long as the part table does. */
	const char *encoding;
	bool is_multipart;
};

/*
 * Finds the part named by a section path of part numbers, e.g. {1, 2} for
 * "1.2" (n = 0 is the whole message: header and body are the message's,
 * is_message is false). Numbering is RFC 9051 section 6.4.5.1: a
 * non-multipart message (or one inside message/rfc822) has only part 1, its
 * body. Returns 0, or -1 when no such part or the table is corrupt.
 */
int mail_section_lookup(const unsigned char *parts, size_t parts_len, const uint32_t *path,
                        size_t n, struct mail_section *out);

/*
 * Bare LF to CRLF normalisation, incremental so a message can be streamed to
 * disk: feed chunks, each call appends the converted bytes to out (a
 * struct buf). A lone CR is kept as is. mail_crlf_init() before the first chunk.
 */
struct buf;
struct mail_crlf {
	bool last_was_cr;
};
void mail_crlf_init(struct mail_crlf *c);
void mail_crlf_feed(struct mail_crlf *c, const unsigned char *in, size_t len, struct buf *out);

/*
 * Decodes a transfer-encoded body (base64, quoted-printable; others as is)
 * for BINARY[]. Returns 0 with the decoded bytes in out, or -1 when the
 * encoding is unknown (IMAP answers UNKNOWN-CTE).
 */
int mail_decode_cte(const char *encoding, const unsigned char *in, size_t len, struct buf *out);
/* True for 7bit, 8bit, binary and none: the body is its own decoding. */
bool mail_cte_is_identity(const char *encoding);

#endif
