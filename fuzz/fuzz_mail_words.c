/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mail_words.c: libFuzzer harness for src/mail/words.c, the tokenizer
 * that cuts every indexed text (mail anyone can send, in any bytes) into
 * the words of fuzzy search's vocabulary, and the word similarity that
 * ranks them. Checks what the store relies on: each word is valid UTF-8,
 * NUL-free, of MAIL_WORD_MIN..MAIL_WORD_MAX characters, already lower
 * case (lower-casing it again changes nothing), its length as reported;
 * a word is 100 from itself; similarities stay within 0..100.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unistr.h>

#include "mail/words.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mail_word_iter it;
	char word[MAIL_WORD_BUF], prev[MAIL_WORD_BUF] = "";
	size_t len;

	mail_word_iter_init(&it, (const char *)data, size);
	while (mail_word_iter_next(&it, word, &len)) {
		if (len != strlen(word) || len >= MAIL_WORD_BUF)
			abort();
		if (u8_check((const uint8_t *)word, len) != NULL)
			abort();
		size_t chars = u8_mbsnlen((const uint8_t *)word, len);
		if (chars < MAIL_WORD_MIN)
			abort();
		size_t lower_len = 0;
		uint8_t *lower =
		        u8_tolower((const uint8_t *)word, len, NULL, NULL, NULL, &lower_len);
		if (lower == NULL || lower_len != len || memcmp(lower, word, len) != 0)
			abort();
		free(lower);
		if (mail_word_similarity(word, word) != 100)
			abort();
		if (prev[0] != '\0' && (mail_word_similarity(prev, word) > 100 ||
		                        mail_word_similarity(word, prev) > 100))
			abort();
		memcpy(prev, word, len + 1);
	}
	return 0;
}
