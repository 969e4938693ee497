/* SPDX-License-Identifier: MIT */
/*
 * fuzz_smtp_downgrade.c: libFuzzer harness for the 8BITMIME to 7-bit
 * conversion (src/smtp/smtp_downgrade.c) over any message: it either fails
 * with a reason or writes a message with no 8-bit byte; a 7-bit input
 * never fails (at most its 8bit and binary labels become 7bit).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "smtp/smtp_downgrade.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
put(void *arg, const void *p, size_t len)
{
	buf_append(arg, p, len);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out;
	const char *why = NULL;

	buf_init(&out);
	if (smtp_downgrade(data, size, put, &out, &why) == 0) {
		if (smtp_has_8bit((const unsigned char *)out.data, out.len))
			abort();
	} else if (why == NULL || !smtp_has_8bit(data, size)) {
		abort();
	}
	buf_deinit(&out);
	return 0;
}
