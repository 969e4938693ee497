/* SPDX-License-Identifier: MIT */
/*
 * binary.h: a message APPENDed as binary (an IMAP literal8, RFC 3516 section
 * 4.4) made fit for IMAP4 as it streams in: every leaf part with
 * Content-Transfer-Encoding: binary gets base64 instead. RFC 3516 section 6
 * wants BODYSTRUCTURE and BODY[] to describe binary parts "as though [they]
 * are encoded in a CTE acceptable to the IMAP4 base specification", and a
 * BODY[] literal cannot carry a NUL; BINARY[] decodes the base64 again, so
 * nothing is lost (the RFC allows the change "when absolutely necessary").
 * Dovecot converts the same way when it saves a literal8.
 *
 * Push in any split of the message, take the converted bytes from the write
 * callback; everything but the binary parts passes through unchanged, so
 * the caller normalises line ends as for any message (store_spool_write).
 * Memory is bounded: one header (MAIL_BINARY_MAX_HEADER; past it the rest
 * passes through unconverted), one line start and the boundary stack.
 */
#ifndef TERN_MAIL_BINARY_H
#define TERN_MAIL_BINARY_H

#include <stddef.h>

/* A part header longer than this is not parsed (nor is anything after it). */
#define MAIL_BINARY_MAX_HEADER (64 * 1024)

struct mail_binary;

typedef void mail_binary_write_fn(void *ctx, const void *data, size_t len);

/* A converter whose output goes to write(ctx, ...). Cannot fail. */
struct mail_binary *mail_binary_new(mail_binary_write_fn *write, void *ctx);
/* Converts the next len bytes of the message. */
void mail_binary_feed(struct mail_binary *b, const void *data, size_t len);
/* The message is complete: writes what was held back. */
void mail_binary_finish(struct mail_binary *b);
void mail_binary_free(struct mail_binary **bp);

/*
 * The other way, for BINARY[n] of a multipart or message/rfc822 part (RFC
 * 3516 defines BINARY for leaves; this is how Dovecot answers it): entity
 * is the part, header and body (len bytes); appends to out its body with
 * every base64 or quoted-printable leaf inside decoded and that leaf's
 * Content-Transfer-Encoding field saying "binary" where it stood. Returns
 * 0, or -1 when a leaf's encoding is unknown (IMAP: NO [UNKNOWN-CTE]).
 * Scratch memory from a. Flags: MAIL_BINARY_WITH_HEADER also writes the
 * entity's own header; MAIL_BINARY_KEEP_CTE leaves the fields as they
 * were (for the structure of decoded data, RFC 5524 BODYPARTSTRUCTURE
 * with BINARY, which keeps naming the original encodings).
 */
enum mail_binary_flags {
	MAIL_BINARY_WITH_HEADER = 1 << 0,
	MAIL_BINARY_KEEP_CTE = 1 << 1,
};
struct arena;
struct buf;
int mail_binary_decode_entity(struct arena *a, const unsigned char *entity, size_t len,
                              unsigned flags, struct buf *out);

#endif
