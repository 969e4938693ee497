/* SPDX-License-Identifier: MIT */
/*
 * pop3_parse.h: the pure parts of POP3 (RFC 1939, RFC 2449): splitting a
 * command line into keyword and arguments, message numbers, and the
 * multi-line writer that byte-stuffs a message for RETR and cuts it for TOP.
 * No socket, store or session: bytes in, results out (fuzz/fuzz_pop3_parser.c).
 */
#ifndef TERN_POP3_PARSE_H
#define TERN_POP3_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

#define POP3_MAX_ARGS 4

struct pop3_command {
	char keyword[9];                 /* upper-cased; RFC 2449 allows 3-4, we take 1-8 */
	const char *args[POP3_MAX_ARGS]; /* into the line */
	size_t nargs;
	const char *rest; /* everything after "KEYWORD "; PASS has only this (spaces allowed) */
};

/*
 * Splits line (len bytes, NUL-terminated; modified in place: the spaces
 * between arguments become NULs). Keyword and arguments are separated by
 * single spaces (RFC 1939 section 3); arguments are printable, non-space.
 * Returns 0, or -1 with a static *error_out for an empty line, a control
 * character or NUL, an over-long keyword or more than POP3_MAX_ARGS
 * arguments. rest keeps its spaces (it is parsed before the split).
 */
int pop3_command_parse(char *line, size_t len, struct pop3_command *out, const char **error_out);

/* A message number or line count: decimal digits only, no sign, at most
   ten digits and at most max. */
bool pop3_number_parse(const char *s, uint32_t max, uint32_t *out);

/*
 * The multi-line writer for RETR and TOP (RFC 1939 section 3): feeds a
 * message in chunks of any size, appends to out the bytes to send with
 * lines that begin with "." stuffed with another ".", and, with
 * body_lines >= 0 (TOP), stops after the header and that many body lines.
 * pop3_stuffer_end() adds a CRLF if the message did not end with one and
 * the terminating ".\r\n".
 */
struct pop3_stuffer {
	bool at_line_start;
	bool in_body;
	bool done;          /* TOP has what it wants: feeding more is a no-op */
	int64_t body_lines; /* lines still to send after the header; -1 = all */
	char last[2];       /* the last two bytes sent */
};
void pop3_stuffer_init(struct pop3_stuffer *st, int64_t body_lines);
/* Returns true while more input is wanted. */
bool pop3_stuffer_feed(struct pop3_stuffer *st, const char *data, size_t len, struct buf *out);
void pop3_stuffer_end(struct pop3_stuffer *st, struct buf *out);

#endif
