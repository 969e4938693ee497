/* SPDX-License-Identifier: MIT */
/* test_mail_rfc2047.c: tests for src/mail/rfc2047.c and src/mail/charset.c. */
#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/charset.h"
#include "mail/rfc2047.h"
#include "test.h"

static void
test_encoded_words_decode(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"plain text", "plain text"},
	        {"=?utf-8?Q?caf=C3=A9?=", "caf\xc3\xa9"},
	        {"=?UTF-8?q?hello_world?=", "hello world"}, /* Q: "_" is a space */
	        {"=?utf-8?B?SGVsbG8=?=", "Hello"},
	        {"=?utf-8?B?SGVs?= =?utf-8?B?bG8=?=", "Hello"}, /* adjacent: blank dropped */
	        {"=?utf-8?Q?a?=\r\n =?utf-8?Q?b?=", "ab"},      /* folded between words */
	        {"=?utf-8?Q?a?= b =?utf-8?Q?c?=", "a b c"},     /* text between is kept */
	        {"x =?utf-8?Q?a?=", "x a"},
	        {"=?utf-8?B?4oKs?=", "\xe2\x82\xac"},
	        {"=?utf-8?B?4oI=?= =?utf-8?B?rA==?=", "\xe2\x82\xac"}, /* char split across words */
	        {"=?iso-8859-1?q?J=F6rg?=", "J\xc3\xb6rg"},
	        {"=?ISO-8859-15?Q?=A4?=", "\xe2\x82\xac"},
	        {"=?utf-8*en?Q?hi?=", "hi"},                /* RFC 2231 language */
	        {"=?x-bogus?Q?raw?=", "=?x-bogus?Q?raw?="}, /* unknown charset kept */
	        {"=?utf-8?Q?a?= =?x-bogus?Q?b?=", "a =?x-bogus?Q?b?="},
	        {"=?utf-8?X?abc?=", "=?utf-8?X?abc?="}, /* unknown encoding */
	        {"=?utf-8?Q?no end", "=?utf-8?Q?no end"},
	        {"=?utf-8?Q?sp ace?=", "=?utf-8?Q?sp ace?="},
	        {"=??Q?x?=", "=??Q?x?="},
	        {"=?../../etc?Q?x?=", "=?../../etc?Q?x?="}, /* not a charset name */
	        {"Gr\xfc\xdf"
	         "e",
	         "Gr\xc3\xbc\xc3\x9f"
	         "e"},                            /* raw Latin-1 */
	        {"caf\xc3\xa9", "caf\xc3\xa9"},   /* raw UTF-8 */
	        {"a\r\n b", "a b"},               /* unfolded */
	        {"=?utf-8?Q?a=00b?=", "ab"},      /* no NUL in output */
	        {"=?utf-8?B?/w==?=", "\xc3\xbf"}, /* invalid UTF-8: Latin-1 */
	        /* Fuzzer crash 914b5599: a word decoding to nothing passed a
	           NULL buffer on (UB: NULL + 0). */
	        {"=?utf-8?B?!?=", ""},
	        {"a =?utf-8?B?!?= b", "a  b"},
	        /* Fuzzer crash 71ee930b: the same through iconv (a charset
	           other than UTF-8) with nothing converted. */
	        {"=?iso-2022-jp?B?3?=", ""},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const char *in = cases[i].in;
		test_str_eq(i, mail_rfc2047_decode(a, (const unsigned char *)in, strlen(in)),
		            cases[i].want);
	}
	arena_free(&a);
}

static void
test_utf8_validation(void)
{
	static const struct {
		const char *in;
		bool want;
	} cases[] = {
	        {"abc", true},
	        {"\xc3\xa9", true},
	        {"\xc3", false},
	        {"\xc0\xaf", false},
	        {"\xed\xa0\x80", false},
	        {"\xf4\x8f\xbf\xbf", true},
	        {"\xf4\x90\x80\x80", false},
	        {"\xe0\x80\xaf", false},
	        {"\xff", false},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_int_eq(
		        i,
		        mail_utf8_is_valid((const unsigned char *)cases[i].in, strlen(cases[i].in)),
		        cases[i].want);
}

static void
test_charset_conversion(void)
{
	static const struct {
		const char *charset, *in, *want;
		int rc;
	} cases[] = {
	        {"windows-1252", "\x80", "\xe2\x82\xac", 0},
	        {"koi8-r", "\xf0\xd2\xc9", "\xd0\x9f\xd1\x80\xd0\xb8", 0},
	        {"utf-8", "ok", "ok", 0},
	        {"us-ascii", "\xe9", "\xc3\xa9", 0}, /* 8-bit in "ascii": Latin-1 */
	        {"shift_jis", "\x82\xa0", "\xe3\x81\x82", 0},
	        {"iso-2022-jp", "\x1b$B$\"\x1b(B", "\xe3\x81\x82", 0}, /* stateful */
	        {"utf-16le", "a\0", "a", 0},
	        {"no-such-charset", "x", "", -1},
	        {"utf-8//TRANSLIT", "x", "", -1},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct buf b;
		size_t len = strlen(cases[i].in) + (strcmp(cases[i].charset, "utf-16le") == 0);
		buf_init(&b);
		test_int_eq(i,
		            mail_charset_to_utf8(cases[i].charset,
		                                 (const unsigned char *)cases[i].in, len, &b),
		            cases[i].rc);
		test_str_eq(i, b.data != NULL ? b.data : "", cases[i].want);
		buf_deinit(&b);
	}
}

int
main(void)
{
	TEST_RUN(test_encoded_words_decode);
	TEST_RUN(test_utf8_validation);
	TEST_RUN(test_charset_conversion);
	return TEST_DONE("test_mail_rfc2047");
}
