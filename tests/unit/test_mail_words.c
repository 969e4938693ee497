/* SPDX-License-Identifier: MIT */
/* test_mail_words.c: tests for src/mail/words.c: the words the tokenizer
   cuts (and what it leaves out), and the similarity that fuzzy search
   ranks variants by. */
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "mail/words.h"
#include "test.h"

/* The words of text, joined by '|'. */
static char *
words_of(struct arena *a, const char *text, size_t len)
{
	struct mail_word_iter it;
	char word[MAIL_WORD_BUF];
	size_t n;
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "");
	mail_word_iter_init(&it, text, len);
	while (mail_word_iter_next(&it, word, &n)) {
		if (strlen(word) != n)
			buf_puts(&b, "<len mismatch>");
		if (b.len > 0)
			buf_putc(&b, '|');
		buf_puts(&b, word);
	}
	char *r = arena_strdup(a, b.data);
	buf_deinit(&b);
	return r;
}

static void
test_words_are_cut_and_folded(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"Hello, World!", "hello|world"},
	        {"a an the", "the"},                 /* under 3 letters: left out */
	        {"2024 1234567 x86 mp3", "x86|mp3"}, /* digits only: left out */
	        {"needleword42 was here", "needleword42|was|here"},
	        {"e-mail user@example.com", "mail|user|example|com"},
	        {"Straße STRASSE", "straße|strasse"},       /* lower case, as FTS5 folds */
	        {"Привет МИР", "привет|мир"},               /* Cyrillic letters */
	        {"Zażółć gęślą jaźń", "zażółć|gęślą|jaźń"}, /* Polish */
	        {"caf\xc3\xa9\xff"
	         "bar",
	         "café|bar"}, /* invalid UTF-8 separates */
	        {"abcdefghijklmnopqrstuvwxyzabcdef ok", "abcdefghijklmnopqrstuvwxyzabcdef"},
	        {"abcdefghijklmnopqrstuvwxyzabcdefg end", "end"}, /* over 32 letters */
	        {"", ""},
	        {"   \r\n\t", ""},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, words_of(a, cases[i].in, strlen(cases[i].in)), cases[i].want);
	/* A NUL inside the text is a separator like any other. */
	test_str_eq(-1, words_of(a, "abc\0def", 7), "abc|def");
	arena_free(&a);
}

static void
test_similarity(void)
{
	static const struct {
		const char *needle, *word;
		unsigned want;
	} cases[] = {
	        {"receive", "receive", 100},
	        {"recieve", "receive", 86},  /* a swap is one edit */
	        {"meetings", "meeting", 90}, /* inflection: one letter more */
	        {"meeting", "meetings", 90},
	        {"helo", "hello", 80},
	        {"helo", "help", 75},
	        {"wrok", "work", 75},
	        {"gardnening", "gardening", 90},
	        {"recieve", "deceive", 72}, /* two edits in seven letters: allowed */
	        {"recieve", "deceived", 0}, /* three: too far */
	        {"helo", "halo", 75},
	        {"helo", "shell", 0}, /* two edits in four letters: too far */
	        {"cat", "dog", 0},
	        {"budget", "gadget", 67},
	        {"budget", "xylophone", 0}, /* lengths alone rule it out */
	        {"zażółć", "zazółć", 84},   /* code points, not bytes */
	        {"мир", "мор", 67},
	        {"meet", "meetings", 60}, /* inflection: the word starts the other */
	        {"meetings", "meet", 60},
	        {"report", "reporting", 70},
	        {"report", "reportingly", 0}, /* five letters more: too far */
	        {"the", "there", 0},          /* three letters do not make a stem */
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_int_eq(i, mail_word_similarity(cases[i].needle, cases[i].word), cases[i].want);
}

/* The full optimal-string-alignment programme, no band, ASCII only. */
static unsigned
reference_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned d[16][16];

	for (size_t i = 0; i <= n; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			unsigned v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			v = MIN(v, d[i - 1][j] + 1);
			v = MIN(v, d[i][j - 1] + 1);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				v = MIN(v, d[i - 2][j - 2] + 1);
			d[i][j] = v;
		}
	}
	return d[n][m];
}

/* The band cut-off must not change the answer: random words over a small
   alphabet (so edits, swaps and repeats are common) against the whole
   programme. */
static void
test_similarity_matches_full_distance(void)
{
	uint32_t r = 12345;
	char a[16], b[16];

	for (int round = 0; round < 20000; round++) {
		size_t n = 3 + (r = r * 1103515245u + 12345u) % 10;
		size_t m = 3 + (r = r * 1103515245u + 12345u) % 10;
		for (size_t i = 0; i < n; i++)
			a[i] = (char)('a' + (r = r * 1103515245u + 12345u) % 3);
		/* b: often a copy of a with a few edits, else random */
		memcpy(b, a, n);
		m = round % 2 ? n : m;
		for (size_t i = 0; i < m; i++)
			if (round % 2 == 0 || (r = r * 1103515245u + 12345u) % 4 == 0)
				b[i] = (char)('a' + (r = r * 1103515245u + 12345u) % 3);
		a[n] = b[m] = '\0';
		unsigned max = n <= 4 ? 1 : n <= 7 ? 2 : 3;
		unsigned d = reference_distance(a, b);
		unsigned want = d == 0 ? 100 : d > max ? 0 : 100 - 100 * d / (unsigned)MAX(n, m);
		size_t shorter = MIN(n, m), extra = MAX(n, m) - shorter;
		if (d > 0 && shorter >= 4 && extra <= 4 && memcmp(a, b, shorter) == 0)
			want = MAX(want, 100 - 10 * (unsigned)extra);
		unsigned got = mail_word_similarity(a, b);
		if (got != want) {
			test_fail_(round, "%s ~ %s: got %u, wanted %u (distance %u)", a, b, got,
			           want, d);
			return;
		}
	}
}

int
main(void)
{
	TEST_RUN(test_words_are_cut_and_folded);
	TEST_RUN(test_similarity);
	TEST_RUN(test_similarity_matches_full_distance);
	return TEST_DONE("test_mail_words");
}
