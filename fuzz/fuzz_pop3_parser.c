/* SPDX-License-Identifier: MIT */
/*
 * fuzz_pop3_parser.c: libFuzzer harness for src/pop3/pop3_parse.c. The
 * input is split at its first LF: the part before is one command line for
 * pop3_command_parse (and each argument for pop3_number_parse), the part
 * after a message fed to the byte-stuffer in odd-sized chunks, once as RETR
 * and once as TOP with a line count from the first byte. Checks that the
 * stuffed output, unstuffed, is a prefix of the message plus the added CRLF
 * and that it ends with ".\r\n".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "pop3/pop3_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
stuff(const uint8_t *msg, size_t len, int64_t lines)
{
	struct pop3_stuffer st;
	struct buf out;
	size_t step = 1 + (len % 7);

	buf_init(&out);
	pop3_stuffer_init(&st, lines);
	for (size_t off = 0; off < len; off += step)
		if (!pop3_stuffer_feed(&st, (const char *)msg + off,
		                       len - off < step ? len - off : step, &out))
			break;
	pop3_stuffer_end(&st, &out);
	if (out.len < 3 || memcmp(out.data + out.len - 3, ".\r\n", 3) != 0)
		abort();
	/* No line of the body may be a lone "." before the end. */
	for (size_t i = 0; i + 3 < out.len; i++)
		if ((i == 0 || out.data[i - 1] == '\n') && out.data[i] == '.' &&
		    out.data[i + 1] == '\r' && out.data[i + 2] == '\n')
			abort();
	buf_deinit(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *lf = memchr(data, '\n', size);
	size_t line_len = lf != NULL ? (size_t)(lf - data) : size;
	char *line = malloc(line_len + 1);
	struct pop3_command cmd;
	const char *error;
	uint32_t n;

	memcpy(line, data, line_len);
	line[line_len] = '\0';
	if (pop3_command_parse(line, strnlen(line, line_len), &cmd, &error) == 0)
		for (size_t i = 0; i < cmd.nargs; i++)
			(void)pop3_number_parse(cmd.args[i], UINT32_MAX, &n);
	free(line);
	if (lf != NULL) {
		const uint8_t *msg = lf + 1;
		size_t len = size - line_len - 1;
		stuff(msg, len, -1);
		stuff(msg, len, size > 0 ? data[0] % 5 : 0);
	}
	return 0;
}
