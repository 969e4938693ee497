/* SPDX-License-Identifier: MIT */
/*
 * fuzz_imap_thread.c: libFuzzer harness for THREAD (src/imap/thread.c) over
 * hostile headers. The first byte picks the algorithm; then each line is a
 * message, "Message-ID|References|Subject|day", the fields normalised as the
 * store caches them at delivery (mail_msgids, mail_base_subject), so
 * duplicate ids, loops, self-references and deep chains all reach the tree
 * code. The output must be a balanced thread-list naming each message once.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/thread.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/sortkeys.h"

#define MAX_MSGS 2000

/* The next '|'-separated field of line[0..len) at *pos, in a. */
static const char *
field(struct arena *a, const char *line, size_t len, size_t *pos)
{
	size_t start = *pos;

	while (*pos < len && line[*pos] != '|')
		(*pos)++;
	const char *f = arena_strndup(a, line + start, *pos - start);
	if (*pos < len)
		(*pos)++;
	return f;
}

static void
check_output(const struct buf *b, size_t n)
{
	unsigned char *seen = calloc(n + 1, 1);
	long depth = 0;

	for (size_t i = 0; i < b->len; i++) {
		char c = b->data[i];
		if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (--depth < 0)
				abort();
		} else if (c >= '1' && c <= '9') {
			size_t v = 0;
			while (i < b->len && b->data[i] >= '0' && b->data[i] <= '9')
				v = v * 10 + (size_t)(b->data[i++] - '0');
			i--;
			if (v == 0 || v > n || seen[v]++)
				abort();
		} else if (c != ' ') {
			abort();
		}
	}
	for (size_t v = 1; v <= n; v++)
		if (!seen[v])
			abort();
	if (depth != 0)
		abort();
	free(seen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a;
	struct imap_thread_msg *m;
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	size_t n = 0;
	struct buf b;

	if (size < 1)
		return 0;
	a = arena_new(16 * 1024);
	m = arena_zalloc(a, MAX_MSGS * sizeof(*m));
	while (p < end && n < MAX_MSGS) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p), pos = 0;
		const char *id = field(a, p, len, &pos);
		const char *refs = field(a, p, len, &pos);
		const char *subject = field(a, p, len, &pos);
		const char *day = field(a, p, len, &pos);
		m[n].num = m[n].seq = (uint32_t)n + 1;
		long d = strtol(day, NULL, 10) % 1000000; /* days: the date's range */
		m[n].date = (int64_t)d * 86400;
		m[n].subject = subject;
		m[n].base_subject = mail_base_subject(a, subject);
		m[n].message_id = mail_msgids(a, id, true, false);
		m[n].references = mail_msgids(a, refs, false, true);
		m[n].in_reply_to = m[n].references;
		n++;
		p += len + (nl != NULL);
	}
	buf_init(&b);
	imap_thread_format(a, data[0] & 1 ? IMAP_THREAD_REFERENCES : IMAP_THREAD_ORDEREDSUBJECT,
	                   (enum collation)((data[0] >> 1) % COLLATION_COUNT), m, n, &b);
	check_output(&b, n);
	buf_deinit(&b);
	arena_free(&a);
	return 0;
}
