/* SPDX-License-Identifier: MIT */
/*
 * imap_convert_parse.h: the CONVERT data item syntax (RFC 5259): a body
 * part, the media type to convert it to and the conversion parameters,
 *
 *   BINARY[<part> (<"type/subtype"> [(<"name"> <"value"> ...)])]<<partial>>
 *   BINARY.SIZE[<part> (<"type/subtype"> [(<params>)])]
 *   UID
 *
 * plus the CONVERSIONS arguments' media types. Pure: strings in, structs
 * out (tests/unit/test_imap_convert_parse.c, fuzz/fuzz_imap_convert.c). The
 * command parser (parser.c) hands over a data item as one atom, its "[...]"
 * with spaces, parentheses and quotes as sent.
 */
#ifndef TERN_IMAP_CONVERT_PARSE_H
#define TERN_IMAP_CONVERT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parser.h"
#include "mail/convert.h"

struct arena;

/* Longest media type or parameter name or value a client may send: far
   beyond any IANA registration (RFC 6838 section 4.2 caps names at 127). */
#define IMAP_CONVERT_MAX_TOKEN 256
/* Parameters in one item: the RFC's few, with room for others we refuse
   one by one. */
#define IMAP_CONVERT_MAX_PARAMS 16

enum imap_convert_kind {
	IMAP_CONVERT_BINARY,      /* the converted bytes */
	IMAP_CONVERT_BINARY_SIZE, /* their size */
	IMAP_CONVERT_UID,
};

struct imap_convert_param {
	const char *name, *value; /* name lower case */
};

struct imap_convert_item {
	enum imap_convert_kind kind;
	/* The name the response uses, partial origin excluded, in canonical
	   form: BINARY[1.2 ("text/plain" ("charset" "utf-8"))]. */
	const char *name;
	uint32_t *path; /* part numbers: "1.2" = {1, 2}; none for the message */
	size_t path_len;
	struct mail_convert_target target;
	struct imap_convert_param *params;
	size_t n_params;
	/* The first parameter this server cannot honour (an unknown name, a
	   second value for one), or NULL: the item is then not converted. */
	const char *bad_param;
	bool has_partial;
	uint64_t partial_offset, partial_length;
};

struct imap_convert_request {
	struct imap_convert_item *items;
	size_t n;
	size_t n_parts; /* BINARY and BINARY.SIZE items */
};

/*
 * Parses one data item from its atom, case-insensitively for the keywords.
 * Returns true, or false with *error_out static (BAD). Everything in a.
 */
bool imap_convert_item_parse(struct arena *a, const char *atom, struct imap_convert_item *out,
                             const char **error_out);

/*
 * Parses CONVERT's data item argument: one item atom or a parenthesised
 * list of them, at least one converting a part. Returns true, or false with
 * *error_out static. Everything in a.
 */
bool imap_convert_request_parse(struct arena *a, const struct imap_arg *arg,
                                struct imap_convert_request *out, const char **error_out);

/*
 * Splits a media type "type/subtype" (RFC 2045 section 5.1 tokens) into
 * lower-case halves in a; "*" is allowed for either half when wildcard
 * (CONVERSIONS). Returns false when it is not one.
 */
bool imap_convert_media_type_parse(struct arena *a, const char *s, bool wildcard,
                                   const char **type_out, const char **subtype_out);

#endif
