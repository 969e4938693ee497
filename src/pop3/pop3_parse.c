/* SPDX-License-Identifier: MIT */
/*
 * pop3_parse.c: command lines and the byte-stuffing writer (pop3_parse.h).
 * Input is hostile: any bytes, any length up to the session's line limit.
 *
 * The writer's header/body tracking for TOP: the header ends at the first
 * empty line (CRLF CRLF, or a message that starts with CRLF); the empty line
 * itself is sent, then body_lines lines. A message is CRLF-normalised by
 * the store, so a line ends at LF.
 */
#include "pop3/pop3_parse.h"

#include <ctype.h>
#include <string.h>

#include "lib/buf.h"

int
pop3_command_parse(char *line, size_t len, struct pop3_command *out, const char **error_out)
{
	size_t i = 0, k = 0;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		*error_out = "Empty command";
		return -1;
	}
	for (size_t j = 0; j < len; j++) {
		unsigned char c = (unsigned char)line[j];
		/* RFC 1939: printable ASCII; UTF-8 is allowed after UTF8
		   (RFC 6856) and in passwords, so only controls are refused. */
		if (c < 0x20 || c == 0x7f) {
			*error_out = "Invalid character in command";
			return -1;
		}
	}
	while (i < len && line[i] != ' ') {
		if (k == sizeof(out->keyword) - 1) {
			*error_out = "Unknown command";
			return -1;
		}
		out->keyword[k++] = (char)toupper((unsigned char)line[i++]);
	}
	out->keyword[k] = '\0';
	if (k == 0) {
		*error_out = "Missing command";
		return -1;
	}
	if (i == len)
		return 0;
	out->rest = line + i + 1; /* after the single space */
	/* RFC 1939 section 7: PASS has exactly one argument, so its spaces
	   are part of the password; it is not split. */
	if (strcmp(out->keyword, "PASS") == 0)
		return 0;
	/* Arguments: single spaces between, none empty. */
	char *p = line + i;
	while (*p == ' ') {
		*p++ = '\0';
		if (*p == '\0' || *p == ' ') {
			*error_out = "Extra space in command";
			return -1;
		}
		if (out->nargs == POP3_MAX_ARGS) {
			*error_out = "Too many arguments";
			return -1;
		}
		out->args[out->nargs++] = p;
		while (*p != '\0' && *p != ' ')
			p++;
	}
	return 0;
}

bool
pop3_number_parse(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n == 10)
			return false;
		v = v * 10 + (uint64_t)(s[n] - '0');
	}
	if (n == 0 || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

void
pop3_stuffer_init(struct pop3_stuffer *st, int64_t body_lines)
{
	memset(st, 0, sizeof(*st));
	st->at_line_start = true;
	st->body_lines = body_lines;
	st->last[0] = '\r';
	st->last[1] = '\n'; /* an empty message needs no CRLF added */
}

static void
remember(struct pop3_stuffer *st, const char *data, size_t n)
{
	if (n >= 2) {
		st->last[0] = data[n - 2];
		st->last[1] = data[n - 1];
	} else if (n == 1) {
		st->last[0] = st->last[1];
		st->last[1] = data[0];
	}
}

bool
pop3_stuffer_feed(struct pop3_stuffer *st, const char *data, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len && !st->done) {
		if (st->at_line_start) {
			/* The empty line that ends the header (TOP). */
			if (!st->in_body && (data[i] == '\r' || data[i] == '\n')) {
				st->in_body = true;
				st->at_line_start = false;
				if (st->body_lines == 0)
					st->body_lines = -2; /* send this line, then stop */
			} else if (st->in_body && st->body_lines >= 0) {
				if (st->body_lines == 0) {
					st->done = true;
					break;
				}
				st->body_lines--;
			}
			if (data[i] == '.')
				buf_putc(out, '.');
			st->at_line_start = false;
		}
		const char *lf = memchr(data + i, '\n', len - i);
		size_t n = lf != NULL ? (size_t)(lf - (data + i)) + 1 : len - i;
		buf_append(out, data + i, n);
		remember(st, data + i, n);
		i += n;
		if (lf != NULL) {
			st->at_line_start = true;
			if (st->body_lines == -2) {
				st->done = true;
			}
		}
	}
	return !st->done;
}

void
pop3_stuffer_end(struct pop3_stuffer *st, struct buf *out)
{
	if (st->last[0] != '\r' || st->last[1] != '\n')
		buf_append(out, "\r\n", 2);
	buf_append(out, ".\r\n", 3);
}
