/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mail_address.c: libFuzzer harness for src/mail/address.c, the RFC
 * 5322 section 3.4 address-list parser behind ENVELOPE and SMTP's From:
 * checks. The input is one header field value (folded or not). Checks what
 * the envelope writer relies on: groups open and close in pairs (a group end
 * never comes first), and every string survives the IMAP quoting every reply
 * uses, as a literal when it holds a CR or LF (a bare CR in a header stays in
 * the value: found by this harness, legal, and so the writer's business).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "mail/address.h"
#include "mail/imap_string.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_string(struct arena *a, const char *s)
{
	if (s == NULL)
		return;
	const char *q = mail_imap_string_quote(a, s, 0);
	if (q == NULL || q[0] == '\0')
		abort();
	if (strpbrk(s, "\r\n") != NULL && q[0] != '{')
		abort(); /* CR and LF cannot be quoted (RFC 9051 section 4.3) */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(4096);
	int open_groups = 0;

	for (struct mail_address *m = mail_address_parse(a, data, size); m != NULL; m = m->next) {
		check_string(a, m->name);
		check_string(a, m->route);
		check_string(a, m->mailbox);
		check_string(a, m->domain);
		if (m->domain == NULL && m->mailbox != NULL)
			open_groups++; /* group start */
		else if (m->domain == NULL && m->mailbox == NULL && --open_groups < 0)
			abort(); /* a group end without its start */
	}
	arena_free(&a);
	return 0;
}
