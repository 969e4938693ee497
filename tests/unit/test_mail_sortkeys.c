/* SPDX-License-Identifier: MIT */
/* test_mail_sortkeys.c: tests for src/mail/sortkeys.c and src/mail/header.c. */
#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/header.h"
#include "mail/sortkeys.h"
#include "test.h"

static void
test_dates_parse(void)
{
	static const struct {
		const char *in;
		long long want;
	} cases[] = {
	        {"Mon, 3 Feb 2020 10:00:00 +0100", 1580720400},
	        {"3 Feb 2020 09:00:00 +0000", 1580720400},
	        {"Mon, 03 Feb 2020 04:00 -0500", 1580720400}, /* no seconds */
	        {"Mon, 3 Feb 2020 09:00:00 GMT", 1580720400},
	        {"Mon, 3 Feb 2020 01:00:00 PST", 1580720400},
	        {"Mon, 3 Feb 2020 04:00:00 EST (Eastern)", 1580720400},
	        {" (c) Mon (c) , 3 (c) Feb 2020 09 : 00 : 00 (c) +0000", 1580720400},
	        {"Mon, 3 feb 2020 09:00:00 Z", 1580720400},
	        {"Mon, 3 Feb 2020 09:00:00 A", 1580720400},      /* military: -0000 */
	        {"Mon, 3 Feb 2020 09:00:00", 1580720400},        /* no zone: UTC */
	        {"Fri, 1 Jan 99 00:00 EST", 915166800},          /* 2-digit year */
	        {"1 Jan 49 00:00:00 +0000", 2493072000},         /* 49 is 2049 */
	        {"1 Jan 101 00:00:00 +0000", 978307200},         /* 3 digits: +1900 */
	        {"Thu, 29 Feb 2024 23:59:60 +0000", 1709251200}, /* leap day, leap second */
	        {"3 February 2020 09:00:00 +0000", 1580720400},
	        {"", 0},
	        {"garbage", 0},
	        {"32 Feb 2020 09:00:00 +0000", 0},
	        {"3 Foo 2020 09:00:00 +0000", 0},
	        {"3 Feb 2020 24:00:00 +0000", 0},
	        {"3 Feb 2020 09:00:00 +01", 0},
	        {"3 Feb 2020 09:00:00 +0160", 0},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_int_eq(i, mail_date_parse(cases[i].in), cases[i].want);
	test_int_eq(-1, mail_date_parse(NULL), 0);
}

/* Zones far from UTC, both ways, and what each date says as written. */
static void
test_dates_in_odd_zones(void)
{
	static const struct {
		const char *in;
		long long utc;
		int zone; /* minutes east */
	} cases[] = {
	        {"Wed, 1 Mar 2023 23:30:00 -0800", 1677742200, -480},
	        {"Thu, 2 Mar 2023 09:00:00 +1400", 1677697200, 840},
	        {"Thu, 2 Mar 2023 05:00:00 +0530", 1677713400, 330},
	        {"Wed, 1 Mar 2023 13:00:00 -1200", 1677718800, -720},
	        {"Sat, 31 Dec 2022 23:59:59 +0545", 1672510499, 345}, /* Nepal, across a year */
	        {"Tue, 28 Feb 2023 23:59:59 -0100", 1677632399, -60},
	        {"1 Mar 2023 00:00:00 +9959", 1677268860, 5999}, /* the largest RFC 5322 allows */
	        {"1 Mar 2023 00:00:00 -0000", 1677628800, 0},
	        {"1 Mar 2023 00:00:00 PDT", 1677654000, -420},
	        {"1 Mar 2023 00:00:00 +1460", 0, 0}, /* not a date: no zone either */
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int zone = 12345;
		test_int_eq(i, mail_date_parse_zone(cases[i].in, &zone), cases[i].utc);
		test_int_eq(i, zone, cases[i].zone);
		test_int_eq(i, mail_date_parse(cases[i].in), cases[i].utc);
	}
}

static void
test_base_subject(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"Hello", "Hello"},
	        {"Re: Hello", "Hello"},
	        {"RE: re: Re:Hello", "Hello"},
	        {"Fwd: Hello", "Hello"},
	        {"Fw: Hello", "Hello"},
	        {"Re [2]: Hello", "Hello"},    /* subj-refwd with a blob */
	        {"[list] Re: Hello", "Hello"}, /* blob before refwd */
	        {"[list] Hello", "Hello"},     /* step 4 */
	        {"[list]", "[list]"},          /* blob kept when base would be empty */
	        {"[a][b] Hello", "Hello"},
	        {"Hello (fwd)", "Hello"},
	        {"Hello (fwd) (FWD)  ", "Hello"},
	        {"[fwd: Hello]", "Hello"}, /* step 6 */
	        {"Re: [fwd: Re: Hello (fwd)]", "Hello"},
	        {"  Hello \t  world  ", "Hello world"}, /* step 1 */
	        {"Rebecca: hi", "Rebecca: hi"},         /* "re" must be followed by ":" */
	        {"Re:", ""},
	        {"", ""},
	        {"Re: [fwd: ]", ""},
	        /* ImapTest sort-subject */
	        {"[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)", "b"},
	        {"re: [fwd: [fwd: re: [fwd: babylon]]]", "babylon"},
	        {"Ad: Re: Ad: Re: Ad: x", "Ad: Re: Ad: Re: Ad: x"},
	        {"Re: [FWD: c]", "c"},
	        {"[xyz]", "[xyz]"},
	        {" ", ""},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, mail_base_subject(a, cases[i].in), cases[i].want);
	arena_free(&a);
}

static void
test_msgids(void)
{
	static const struct {
		const char *in;
		bool first_only, need_at;
		const char *want;
	} cases[] = {
	        {"<a@b>", true, false, "<a@b>"},
	        {"  <a@b> (comment)", true, false, "<a@b>"},
	        {"a@b", true, false, "<a@b>"}, /* bare Message-ID */
	        {"<no-at>", true, false, "<no-at>"},
	        {"<no-at>", true, true, ""},
	        {"<a@b>\r\n <c@d> <e@f>", false, true, "<a@b> <c@d> <e@f>"},
	        {"<a@b> <broken <c@d>", false, true, "<a@b> <c@d>"},
	        {"Your message of <x@y>", true, true, "<x@y>"},
	        {"(<in@comment>) <real@id>", true, true, "<real@id>"},
	        {"< a@b >", true, true, "<a@b>"},
	        {"<>", true, false, ""},
	        {"", true, false, ""},
	        {NULL, true, false, ""},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, mail_msgids(a, cases[i].in, cases[i].first_only, cases[i].need_at),
		            cases[i].want);
	arena_free(&a);
}

static void
test_header_fields_iterate(void)
{
	static const struct {
		const char *in, *want; /* want: "name=value|..." with values unfolded */
	} cases[] = {
	        {"A: 1\r\nB: 2\r\n\r\nbody", "A=1|B=2|"},
	        {"A: 1\nB: 2\n\nbody", "A=1|B=2|"},                       /* bare LF */
	        {"Subject: a\r\n  b\r\n\tc\r\n\r\n", "Subject=a  b\tc|"}, /* folding */
	        {"From nobody Mon\r\nA: 1\r\n\r\n", "A=1|"},              /* mbox line skipped */
	        {"garbage\r\nA: 1\r\n", "A=1|"},
	        {"Subject : x\r\n", "Subject=x|"}, /* obs blank before colon */
	        {"Bad Name: x\r\nA:\r\n", "A=|"},
	        {"A:x", "A=x|"}, /* no line end */
	        {"A: \xff\xfe\r\n", "A=\xff\xfe|"},
	        {"\r\nA: 1\r\n", ""}, /* empty header */
	        {" cont\r\nA: 1\r\n", "A=1|"},
	        {":x\r\nA: 1\r\n", "A=1|"},
	        {"A:\r\n folded-first\r\n", "A=folded-first|"},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct mail_header_iter it;
		struct mail_header_field f;
		struct buf b;
		buf_init(&b);
		buf_puts(&b, "");
		mail_header_iter_init(&it, (const unsigned char *)cases[i].in, strlen(cases[i].in));
		while (mail_header_iter_next(&it, &f)) {
			buf_append(&b, f.name, f.name_len);
			buf_printf(&b, "=%s|", mail_header_unfold(a, f.value, f.value_len));
		}
		test_str_eq(i, b.data, cases[i].want);
		buf_deinit(&b);
	}
	arena_free(&a);
}

static void
test_header_field_is(void)
{
	struct mail_header_field f = {(const unsigned char *)"content-TYPE", 12, NULL, 0};

	test_assert(-1, mail_header_field_is(&f, "Content-Type"));
	test_assert(-1, !mail_header_field_is(&f, "Content-Typ"));
	test_assert(-1, !mail_header_field_is(&f, "Content-Types"));
}

int
main(void)
{
	TEST_RUN(test_dates_parse);
	TEST_RUN(test_dates_in_odd_zones);
	TEST_RUN(test_base_subject);
	TEST_RUN(test_msgids);
	TEST_RUN(test_header_fields_iterate);
	TEST_RUN(test_header_field_is);
	return TEST_DONE("test_mail_sortkeys");
}
