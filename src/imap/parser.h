/* SPDX-License-Identifier: MIT */
/*
 * parser.h: incremental parser for IMAP command lines (RFC 9051 section 9,
 * RFC 3501 section 9, literals of RFC 7888 and literal8 of RFC 3516).
 *
 * Bytes in, a tag, a command name and an argument tree out. It may be fed any
 * split of the input, down to one byte at a time, and says "need more" until a
 * command is complete. It never reads a socket and knows no command: argument
 * meaning is for the command handlers. Input is hostile: the line length, the
 * literal size and the list depth are bounded by the limits given at creation.
 *
 * One generic rule covers the FETCH attribute syntax: inside an atom, '[' opens
 * a section that runs to its matching ']' and may hold spaces and parentheses,
 * so "BODY[HEADER.FIELDS (FROM TO)]<0.100>" is one atom. '[' is also a plain
 * ATOM-CHAR: an atom whose '[' is still open at the end of the line, with no
 * space or parenthesis after it ("a[b"), is just an atom.
 */
#ifndef TERN_IMAP_PARSER_H
#define TERN_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct imap_parser;

enum imap_arg_type {
	IMAP_ARG_ATOM,    /* includes NIL, numbers, flags, sequence sets */
	IMAP_ARG_QUOTED,  /* "..." with escapes removed */
	IMAP_ARG_LITERAL, /* {n} / {n+} / ~{n} */
	IMAP_ARG_LIST,    /* ( ... ) */
};

struct imap_arg {
	enum imap_arg_type type;
	const char *str; /* NUL-terminated copy; a literal may also hold NULs: use len */
	size_t len;
	struct imap_arg *list; /* IMAP_ARG_LIST */
	size_t count;
	bool is_literal8;
	void *stream; /* a literal whose bytes went to the sink (str is ""): its handle */
};

struct imap_command {
	const char *tag;
	const char *name; /* as sent; compare case-insensitively */
	struct imap_arg *args;
	size_t nargs;
};

struct imap_parser_limits {
	size_t max_line;    /* bytes of command text, literals excluded */
	size_t max_literal; /* bytes in one literal */
	size_t max_depth;   /* parenthesis nesting */
	/* LITERAL- (RFC 7888 section 5): a non-synchronising literal over this
	   is refused like one over max_literal; 0 = no lower limit (LITERAL+). */
	size_t max_nonsync_literal;
};

/*
 * Where a literal's bytes go. When a literal's announcement has been read
 * (and its size checked against max_literal), begin() is asked, before any
 * of its bytes arrive: KEEP collects them in memory (growing as they come,
 * never allocated ahead), STREAM hands them to write() as they arrive (the
 * argument then carries *handle_out and no bytes), REFUSE fails the command
 * as too big (TOOBIG; a non-synchronising literal's bytes are skipped).
 * where says where the literal sits (struct imap_literal_where). begin()
 * owns cleaning up its handle (e.g. with arena_on_free on a), whether or
 * not the command completes.
 */
enum imap_literal_route { IMAP_LITERAL_KEEP, IMAP_LITERAL_STREAM, IMAP_LITERAL_REFUSE };

/* Where a literal sits, as far as the command has been read: valid during
   begin() only. */
struct imap_literal_where {
	const char *name; /* the command name, as sent */
	size_t depth;     /* list nesting: 0 is a command argument */
	/* The arguments before it at its level (index of them) and, when
	   nested, those of the level above, before the list it is in. */
	const struct imap_arg *siblings;
	size_t index;
	const struct imap_arg *outer;
	size_t n_outer;
};

struct imap_literal_sink {
	enum imap_literal_route (*begin)(void *ctx, struct arena *a,
	                                 const struct imap_literal_where *where, size_t len,
	                                 bool is_literal8, void **handle_out);
	void (*write)(void *ctx, void *handle, const char *data, size_t len);
	void *ctx;
};

enum imap_parse_status {
	IMAP_PARSE_MORE,         /* all input used; feed more */
	IMAP_PARSE_DONE,         /* *cmd_out holds a command */
	IMAP_PARSE_LITERAL_WAIT, /* a synchronising literal: send "+ ...", feed more */
	IMAP_PARSE_ERROR,        /* syntax error: answer BAD; the parser skips the line */
};

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits);
void imap_parser_free(struct imap_parser **pp);
/* Routes literals through sink (borrowed for the parser's life); without
   one, every literal is kept in memory. */
void imap_parser_set_sink(struct imap_parser *p, const struct imap_literal_sink *sink);
/* New limits from the next command on (a session that logged in gets its
   larger ones). */
void imap_parser_set_limits(struct imap_parser *p, const struct imap_parser_limits *limits);

/*
 * Consumes input from data (len bytes); *used_out says how many. Strings in
 * *cmd_out are allocated from arena a, which must stay the same until DONE or
 * ERROR. On ERROR, *error_out is a static message, cmd_out->tag the tag when
 * one was read (else NULL), and *error_is_toobig true when a literal exceeded
 * the limit (IMAP answers [TOOBIG]). After DONE or ERROR the parser is ready
 * for the next command: bytes after it are left unconsumed.
 */
enum imap_parse_status imap_parser_feed(struct imap_parser *p, struct arena *a, const char *data,
                                        size_t len, size_t *used_out, struct imap_command *cmd_out,
                                        const char **error_out, bool *error_is_toobig);

/* True while the parser is in the middle of a command (some bytes read). */
bool imap_parser_is_busy(const struct imap_parser *p);

/* Helpers for handlers. */
bool imap_arg_is_string(const struct imap_arg *arg); /* atom, quoted or literal */
bool imap_arg_is_nil(const struct imap_arg *arg);
/* The value as an astring: atom, quoted or literal; NULL for lists and NIL-as-atom is kept. */
const char *imap_arg_astring(const struct imap_arg *arg);

#endif
