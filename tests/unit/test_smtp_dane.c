/* SPDX-License-Identifier: MIT */
/*
 * test_smtp_dane.c: TLSA rdata (RFC 6698 section 2.1) as DANE for SMTP
 * takes it (RFC 7672 section 3.1): DANE-TA and DANE-EE usable, PKIX
 * usages and unknown selectors or matching types not, digests of the
 * wrong length malformed.
 */
#include "test.h"

#include "lib/util.h"
#include "smtp/smtp_dane.h"

static void
test_tlsa_parse(void)
{
	unsigned char rd[3 + 64];
	struct smtp_tlsa t;
	static const struct {
		uint8_t usage, selector, mtype;
		size_t dlen;
		int want;
	} rows[] = {
	        {3, 1, 1, 32, 0},  {2, 0, 1, 32, 0},  {3, 0, 2, 64, 0},
	        {3, 1, 0, 40, 0},  {0, 1, 1, 32, 1}, /* PKIX-TA */
	        {1, 1, 1, 32, 1},                    /* PKIX-EE */
	        {3, 2, 1, 32, 1},                    /* selector */
	        {3, 1, 3, 32, 1},                    /* matching type */
	        {3, 1, 1, 31, -1}, {3, 1, 2, 32, -1}, {3, 1, 0, 0, -1},
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		rd[0] = rows[i].usage;
		rd[1] = rows[i].selector;
		rd[2] = rows[i].mtype;
		for (size_t k = 0; k < rows[i].dlen; k++)
			rd[3 + k] = (unsigned char)k;
		memset(&t, 0, sizeof(t));
		test_int_eq(i, smtp_tlsa_parse(rd, 3 + rows[i].dlen, &t), rows[i].want);
		if (rows[i].want == 0) {
			test_int_eq(i, t.usage, rows[i].usage);
			test_int_eq(i, t.len, rows[i].dlen);
			test_assert(i, memcmp(t.data, rd + 3, t.len) == 0);
		}
	}
}

int
main(void)
{
	TEST_RUN(test_tlsa_parse);
	return TEST_DONE("test_smtp_dane");
}
