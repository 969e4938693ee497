/* SPDX-License-Identifier: MIT */
/* test_mail_rfc2231.c: tests for src/mail/rfc2231.c. */
#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/imap_string.h"
#include "mail/rfc2231.h"
#include "test.h"

/* "token|name=value|name=value" for comparison. */
static const char *
params_str(struct arena *a, const char *value)
{
	const char *token;
	struct mail_param *p;
	size_t n;
	struct buf b;

	mail_params_parse(a, value, &token, &p, &n);
	buf_init(&b);
	buf_puts(&b, token != NULL ? token : "(null)");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "|%s=%s", p[i].name, p[i].value);
	const char *s = arena_strdup(a, b.data);
	buf_deinit(&b);
	return s;
}

static void
test_params_parse(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"text/plain", "text/plain"},
	        {"text/plain; charset=us-ascii", "text/plain|charset=us-ascii"},
	        {"text/plain ; charset = \"utf-8\" ; format=flowed",
	         "text/plain|charset=utf-8|format=flowed"},
	        {"multipart/mixed; boundary=\"----=_Part_1\"",
	         "multipart/mixed|boundary=----=_Part_1"},
	        {"multipart/mixed; boundary=----=_Part_1", "multipart/mixed|boundary=----=_Part_1"},
	        {"text/plain; charset=utf-8 format=flowed",
	         "text/plain|charset=utf-8|format=flowed"},
	        {"text/plain; (comment) charset=x", "text/plain|charset=x"},
	        {"a/b; q=\"with \\\"quote\\\" inside\"", "a/b|q=with \"quote\" inside"},
	        {"a/b; q=\"unclosed", "a/b|q=unclosed"},
	        {"a/b; novalue; x=1", "a/b|x=1"},
	        {"a/b; ;;; x=1;", "a/b|x=1"},
	        {"", "(null)"},
	        /* RFC 2231 section 3: continuations, in any order. */
	        {"a/b; t*1=\"World\"; t*0=\"Hello \"", "a/b|t=Hello World"},
	        /* Section 4: charset and language, Dovecot's merged form. */
	        {"a/b; title*=us-ascii'en-us'This%20is", "a/b|title*=us-ascii'en-us'This%20is"},
	        {"a/b; t*0*=us-ascii'en'This%20is%20; t*1*=%2A%2Afun; t*2=\"isn't 100%\"",
	         "a/b|t*=us-ascii'en'This%20is%20%2A%2Afunisn't 100%25"},
	        {"a/b; t*0=\"50%\"; t*1*=%41", "a/b|t*=''50%25%41"},
	        /* A missing index: kept as written. */
	        {"a/b; t*0=x; t*2=z", "a/b|t*0=x|t*2=z"},
	        /* Merged ones come after the plain ones. */
	        {"a/b; f*0=x; name=n; f*1=y", "a/b|name=n|f=xy"},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, params_str(a, cases[i].in), cases[i].want);
	arena_free(&a);
}

static void
test_params_get_decodes(void)
{
	static const struct {
		const char *in, *name, *want;
	} cases[] = {
	        {"attachment; filename*0*=utf-8''%C3%A9t%C3%A9; filename*1=\".pdf\"", "filename",
	         "\xc3\xa9t\xc3\xa9.pdf"},
	        {"attachment; filename*=iso-8859-1''K%F6ln.txt", "filename", "K\xc3\xb6ln.txt"},
	        {"attachment; filename=\"plain.txt\"; filename*=utf-8''better.txt", "FILENAME",
	         "better.txt"},
	        {"attachment; filename*=x-bogus''caf%C3%A9", "filename", "caf\xc3\xa9"},
	        {"attachment; filename=a.txt", "name", NULL},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const char *token;
		struct mail_param *p;
		size_t n;
		mail_params_parse(a, cases[i].in, &token, &p, &n);
		test_str_eq(i, mail_params_get(a, p, n, cases[i].name), cases[i].want);
	}
	arena_free(&a);
}

static void
test_imap_string_forms(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"abc", "\"abc\""},
	        {"", "\"\""},
	        {"a \"b\" \\c", "\"a \\\"b\\\" \\\\c\""},
	        {"caf\xc3\xa9", "{5}\r\ncaf\xc3\xa9"},
	        {"a\r\nb", "{4}\r\na\r\nb"},
	        {NULL, "NIL"},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct buf b;
		buf_init(&b);
		mail_imap_nstring_append(&b, cases[i].in);
		test_str_eq(i, b.data, cases[i].want);
		buf_deinit(&b);
	}
}

int
main(void)
{
	TEST_RUN(test_params_parse);
	TEST_RUN(test_params_get_decodes);
	TEST_RUN(test_imap_string_forms);
	return TEST_DONE("test_mail_rfc2231");
}
