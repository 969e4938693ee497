/* SPDX-License-Identifier: MIT */
/*
 * convert.h: conversion of one body part for IMAP CONVERT (RFC 5259): a
 * text part of any charset to UTF-8 or another charset iconv writes,
 * text/html to text/plain, text/plain to text/html, each optionally
 * re-encoded in base64 or quoted-printable. Pure: a MIME entity in memory
 * in, bytes out; no store, no session, so it has unit tests and a fuzzer.
 */
#ifndef TERN_MAIL_CONVERT_H
#define TERN_MAIL_CONVERT_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct buf;

/* What a conversion is asked to produce; names lower case. */
struct mail_convert_target {
	const char *type, *subtype; /* "text", "plain" */
	const char *charset;        /* NULL: UTF-8 */
	const char *encoding;       /* NULL: the decoded bytes (as BINARY[]) */
};

enum mail_convert_error {
	MAIL_CONVERT_OK,
	MAIL_CONVERT_UNSUPPORTED, /* no conversion from this part's type to the target */
	MAIL_CONVERT_BADPARAM,    /* a parameter value we cannot do (unknown charset, encoding) */
	MAIL_CONVERT_FAILED,      /* these bytes cannot become the target (unknown source
	                             encoding or charset, a character the target charset
	                             lacks, 8-bit data for 7bit) */
	MAIL_CONVERT_TOOBIG,      /* the result would pass max_out */
};

/* Whether a conversion from type/subtype to target's type may exist (for
   CONVERSIONS and before any data is read). */
bool mail_convert_is_supported(const char *type, const char *subtype,
                               const struct mail_convert_target *target);

/* A conversion offered by name (CONVERSIONS): source and target media
   types, lower case. */
struct mail_convert_pair {
	const char *from_type, *from_subtype, *to_type, *to_subtype;
};
/* The pairs tern names when asked (others of text/<any> work too, see
   mail_convert_is_supported); *n_out of them, static. */
const struct mail_convert_pair *mail_convert_pairs(size_t *n_out);

/* Whether encoding is one CONVERT can write: 7bit, 8bit, binary, base64,
   quoted-printable (any case). */
bool mail_convert_encoding_is_known(const char *encoding);

/*
 * Converts the part entity[0..len) (its MIME header, then its body: as a
 * part's header_off..body end, or a whole message) to target, appending to
 * out at most max_out bytes. Returns 0, or -1 with *err_out (out is then
 * as it was). Scratch memory from a and the heap, freed before return.
 */
int mail_convert_entity(struct arena *a, const unsigned char *entity, size_t len,
                        const struct mail_convert_target *target, size_t max_out, struct buf *out,
                        enum mail_convert_error *err_out);

/* A part's media type as mail_convert_entity() reads it (none, or one
   read as text: text/plain), lower case; is_leaf false for a multipart or
   message/rfc822. */
struct mail_convert_source {
	const char *type, *subtype;
	bool is_leaf;
};
void mail_convert_source_of(struct arena *a, const unsigned char *entity, size_t len,
                            struct mail_convert_source *out);

/* The target the default conversion (RFC 5259 section 6: NIL) picks for a
   part: text/plain for any text leaf (text/html by its text); false when
   there is none (not text). Static strings. */
bool mail_convert_default_target(const struct mail_convert_source *src, const char **type_out,
                                 const char **subtype_out);

/* The target media types ("type/subtype", static or in a) a part of src's
   type converts to, for AVAILABLECONVERSIONS (RFC 5259 section 8.4): at
   most max of them into out; returns how many. */
size_t mail_convert_targets(struct arena *a, const struct mail_convert_source *src,
                            const char **out, size_t max);

/*
 * Header conversion for CONVERT BODY[HEADER] and BODY[n.MIME] (RFC 5259
 * section 6): hdr[0..len) with each RFC 2047 encoded word in another
 * charset decoded and encoded again in charset (B encoding, split into
 * words of at most 75 characters, RFC 2047 section 2); a word that will not
 * decode, or has a character charset lacks, is kept as it was. Appends to
 * out; -1 (nothing appended) when iconv does not know charset.
 */
int mail_convert_header(const unsigned char *hdr, size_t len, const char *charset, struct buf *out);

/* The error as the short word docs and logs use ("unsupported", ...). */
const char *mail_convert_error_name(enum mail_convert_error err);

#endif
