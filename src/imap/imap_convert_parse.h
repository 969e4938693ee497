/* SPDX-License-Identifier: MIT */
/*
 * imap_convert_parse.h: the arguments of CONVERT and UID CONVERT (RFC 5259
 * sections 6, 8 and 10): one conversion, given by its convert-params, and
 * the data items to answer with it,
 *
 *   convert-params = "(" (quoted-to-mime-type / "NIL") [SP "(" name SP value
 *                    *(SP name SP value) ")"] ")"
 *   data items     = convert-att / "(" convert-att *(SP convert-att) ")"
 *   convert-att    = "UID" / "BINARY" section-convert [partial] /
 *                    "BINARY.SIZE" section-convert /
 *                    "BODYPARTSTRUCTURE" section-convert /
 *                    "AVAILABLECONVERSIONS" section-convert /
 *                    "BODY[HEADER]" / "BODY[" section-part ".HEADER]" /
 *                    "BODY[" section-part ".MIME]"
 *   section-convert = "[" [section-part] "]"
 *
 * in either order (docs/IMAP.md "CONVERT details" says why), plus the
 * CONVERSIONS arguments' media types. Pure: parsed arguments in, structs
 * out (tests/unit/test_imap_convert_parse.c, fuzz/fuzz_imap_convert.c).
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
/* Parameters of one conversion: the few we know, with room for others we
   answer BADPARAMETERS to. */
#define IMAP_CONVERT_MAX_PARAMS 16
/* Data items of one command: the limit on converted parts
   (imap.convert_max_parts) is what a client meets first. */
#define IMAP_CONVERT_MAX_ITEMS 64

enum imap_convert_kind {
	IMAP_CONVERT_BINARY,               /* the converted bytes */
	IMAP_CONVERT_BINARY_SIZE,          /* their size */
	IMAP_CONVERT_BODYPARTSTRUCTURE,    /* their body structure (RFC 5259 8.2) */
	IMAP_CONVERT_AVAILABLECONVERSIONS, /* the target types the part can become (8.4) */
	IMAP_CONVERT_HEADER,               /* BODY[HEADER], BODY[n.HEADER]: encoded words */
	IMAP_CONVERT_MIME,                 /* BODY[n.MIME] */
	IMAP_CONVERT_UID,
};

struct imap_convert_param {
	const char *name, *value; /* name lower case, value as sent */
};

/* The one conversion of a command. */
struct imap_convert_params {
	bool is_default; /* NIL: the server picks the target (RFC 5259 section 6) */
	/* type and subtype lower case (NULL when is_default); charset and
	   encoding from the parameters, NULL when not given. */
	struct mail_convert_target target;
	struct imap_convert_param *params;
	size_t n_params;
	/* The first parameter this server cannot honour (an unknown name, a
	   second value for one), or NULL: every item is then answered
	   BADPARAMETERS. */
	const char *bad_param;
};

struct imap_convert_item {
	enum imap_convert_kind kind;
	/* The name the response uses, partial origin excluded:
	   "BINARY[1.2]", "BODYPARTSTRUCTURE[]", "BODY[1.MIME]". */
	const char *name;
	uint32_t *path; /* part numbers: "1.2" = {1, 2}; none for the message */
	size_t path_len;
	bool has_partial; /* BINARY only */
	uint64_t partial_offset, partial_length;
};

struct imap_convert_request {
	struct imap_convert_params params;
	struct imap_convert_item *items;
	size_t n;
	/* Distinct sections converted (BINARY, BINARY.SIZE and
	   BODYPARTSTRUCTURE of one part count once; AVAILABLECONVERSIONS
	   converts nothing): what MAXCONVERTPARTS bounds. */
	size_t n_parts;
};

/*
 * Parses one data item from its atom, case-insensitively. Returns true, or
 * false with *error_out static (BAD). Everything in a.
 */
bool imap_convert_item_parse(struct arena *a, const char *atom, struct imap_convert_item *out,
                             const char **error_out);

/* Parses convert-params from a list argument. Returns true, or false with
 *error_out static. Everything in a. */
bool imap_convert_params_parse(struct arena *a, const struct imap_arg *arg,
                               struct imap_convert_params *out, const char **error_out);

/*
 * Parses CONVERT's two arguments after the set, convert-params and the
 * data items in either order, and checks them together (a header item
 * takes the default conversion only, RFC 5259 section 6). Returns true, or
 * false with *error_out static. Everything in a.
 */
bool imap_convert_request_parse(struct arena *a, const struct imap_arg *args, size_t nargs,
                                struct imap_convert_request *out, const char **error_out);

/* Whether x and y convert the same section (one conversion serves both):
   BINARY, BINARY.SIZE and BODYPARTSTRUCTURE of one part do. */
bool imap_convert_same_section(const struct imap_convert_item *x,
                               const struct imap_convert_item *y);

/*
 * Splits a media type "type/subtype" (RFC 2045 section 5.1 tokens) into
 * lower-case halves in a; "*" is allowed for either half when wildcard
 * (CONVERSIONS). Returns false when it is not one.
 */
bool imap_convert_media_type_parse(struct arena *a, const char *s, bool wildcard,
                                   const char **type_out, const char **subtype_out);

#endif
