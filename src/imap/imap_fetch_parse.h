/* SPDX-License-Identifier: MIT */
/*
 * imap_fetch_parse.h: the FETCH attribute syntax (RFC 9051 sections 6.4.5,
 * 6.4.5.1 and the fetch-att grammar of section 9; RFC 3501 RFC822*; RFC 3516
 * BINARY; RFC 7162 MODSEQ; RFC 8474 EMAILID/THREADID; RFC 8514 SAVEDATE;
 * RFC 8970 PREVIEW) and
 * HEADER.FIELDS subsetting. Pure: strings in, structs out, nothing about
 * sessions or the store, so each rule has a unit test
 * (tests/unit/test_imap_fetch_parse.c).
 */
#ifndef TERN_IMAP_FETCH_PARSE_H
#define TERN_IMAP_FETCH_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parser.h"
#include "lib/util.h"

struct arena;
struct buf;
struct imap_annotate_fetch;

enum imap_fetch_kind {
	IMAP_FETCH_FLAGS,
	IMAP_FETCH_INTERNALDATE,
	IMAP_FETCH_RFC822_SIZE,
	IMAP_FETCH_ENVELOPE,
	IMAP_FETCH_BODY, /* BODYSTRUCTURE without extension data */
	IMAP_FETCH_BODYSTRUCTURE,
	IMAP_FETCH_UID,
	IMAP_FETCH_MODSEQ,      /* RFC 7162 */
	IMAP_FETCH_EMAILID,     /* RFC 8474 */
	IMAP_FETCH_THREADID,    /* RFC 8474 */
	IMAP_FETCH_SAVEDATE,    /* RFC 8514 */
	IMAP_FETCH_SECTION,     /* BODY[..], BODY.PEEK[..], RFC822, RFC822.HEADER, RFC822.TEXT */
	IMAP_FETCH_BINARY,      /* BINARY[..], BINARY.PEEK[..] (RFC 3516) */
	IMAP_FETCH_BINARY_SIZE, /* BINARY.SIZE[..] */
	IMAP_FETCH_PREVIEW,     /* RFC 8970 */
	IMAP_FETCH_ANNOTATION,  /* ANNOTATION (entries attribs) (RFC 5257) */
};

/* The non-numeric end of a section (section-msgtext / "MIME"). */
enum imap_section_text {
	IMAP_SECTION_WHOLE, /* "" or numbers only: the message, or the part's body */
	IMAP_SECTION_HEADER,
	IMAP_SECTION_HEADER_FIELDS,
	IMAP_SECTION_HEADER_FIELDS_NOT,
	IMAP_SECTION_TEXT,
	IMAP_SECTION_MIME,
};

struct imap_fetch_item {
	enum imap_fetch_kind kind;
	/* The name the response uses, partial origin excluded: "FLAGS",
	   "BODY[1.HEADER.FIELDS (FROM TO)]" (for BODY.PEEK too), "RFC822.TEXT". */
	const char *name;
	bool sets_seen; /* BODY[..], BINARY[..], RFC822, RFC822.TEXT */
	uint32_t *path; /* part numbers: "1.2" = {1, 2} */
	size_t path_len;
	enum imap_section_text text;
	const char **fields; /* HEADER.FIELDS(.NOT) names, upper case */
	size_t n_fields;
	bool has_partial; /* <offset.length> */
	uint64_t partial_offset, partial_length;
	bool is_lazy; /* PREVIEW (LAZY): NIL when not made yet (RFC 8970 3.2) */
	struct imap_annotate_fetch *annotate; /* IMAP_FETCH_ANNOTATION */
};

struct imap_fetch_request {
	struct imap_fetch_item *items;
	size_t n;
	bool sets_seen;        /* some item sets \Seen */
	bool has_uid;          /* UID was asked for */
	bool has_flags;        /* FLAGS was asked for */
	bool has_modseq;       /* MODSEQ was asked for */
	bool needs_content;    /* some item reads the message bytes */
	unsigned store_fields; /* enum store_fetch_fields the items need */
};

/*
 * Parses one fetch attribute from its atom ("BODY.PEEK[1.MIME]<0.10>"),
 * case-insensitively. Returns true, or false with *error_out static.
 * Everything in a.
 */
bool imap_fetch_item_parse(struct arena *a, const char *atom, struct imap_fetch_item *out,
                           const char **error_out);

/*
 * Parses FETCH's second argument: a macro (ALL, FAST, FULL), one attribute
 * atom, or a parenthesised list of attributes; in the list, the atom
 * ANNOTATION takes the list after it (RFC 5257, imap_annotate.h). Returns
 * true, or false with *error_out static (the client is told BAD).
 * Everything in a.
 */
bool imap_fetch_request_parse(struct arena *a, const struct imap_arg *arg,
                              struct imap_fetch_request *out, const char **error_out);

/*
 * How many of FETCH's arguments after the sequence set are attributes: 2
 * for a lone "PREVIEW (LAZY)" (fetch-att of RFC 8970 section 6, which
 * otherwise reads like fetch-modifiers), else 1. Give the 2 to
 * imap_fetch_request_parse() as one list.
 */
size_t imap_fetch_att_nargs(const struct imap_arg *args, size_t nargs);

/*
 * HEADER.FIELDS / HEADER.FIELDS.NOT subsetting: appends to out the fields
 * of header (len bytes, CRLF lines, the blank line optional) whose name
 * matches one of names (ASCII case-insensitive) when keep_matching, or
 * matches none of them when not, each with its continuation lines, then
 * the blank line "\r\n" (RFC 9051 6.4.5.1: subsetting keeps it).
 */
void imap_fetch_header_filter(const char *header, size_t len, const char *const *names,
                              size_t n_names, bool keep_matching, struct buf *out);

#endif
