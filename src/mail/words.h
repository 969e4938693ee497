/* SPDX-License-Identifier: MIT */
/*
 * words.h: words of message text for fuzzy search (SEARCH=FUZZY, RFC 6203):
 * a tokenizer that cuts UTF-8 text into lower-case words, and the
 * similarity of two words, which tolerates typos and inflections.
 *
 * Pure: bytes in, words out; no store. The store builds its vocabulary of
 * each account's words with the tokenizer and ranks the vocabulary words
 * it finds for a search word with the similarity (src/store/fuzzy.c).
 */
#ifndef TERN_MAIL_WORDS_H
#define TERN_MAIL_WORDS_H

#include <stdbool.h>
#include <stddef.h>

/* Words shorter than this are not kept: a trigram index cannot look them
   up, and one- or two-letter words carry no meaning to rank by. */
#define MAIL_WORD_MIN 3
/* Nor words longer than this (characters): they are hashes, base64 runs,
   URLs, and would fill the vocabulary with what nobody types. */
#define MAIL_WORD_MAX 32
/* A lower-cased word's bytes: MAIL_WORD_MAX characters, each at most 4
   bytes, and lower-casing can make one three (it never does more). */
#define MAIL_WORD_BUF (MAIL_WORD_MAX * 4 * 3 + 1)

struct mail_word_iter {
	const unsigned char *p, *end;
};

/* Starts cutting text[0..len) into words. Invalid UTF-8 separates words. */
void mail_word_iter_init(struct mail_word_iter *it, const char *text, size_t len);

/*
 * The next word: a run of letters and digits (Unicode), not all digits, of
 * MAIL_WORD_MIN..MAIL_WORD_MAX characters, in lower case (Unicode) in out,
 * NUL-terminated, *len_out bytes. False at the end.
 */
bool mail_word_iter_next(struct mail_word_iter *it, char out[MAIL_WORD_BUF], size_t *len_out);

/*
 * How close word is to needle (both lower-case words, as the iterator gives):
 * 100 when equal, 0 when too far apart, else 100 * (1 - d / max length) for
 * their optimal-string-alignment distance d (insertions, deletions,
 * substitutions, swaps of two neighbours). A needle of up to 4 characters
 * allows 1 edit, up to 7 allows 2, longer ones 3: "recieve" is 86 from
 * "receive", "helo" 80 from "hello", "help" 75. Linear
 * in the words' lengths times the edits allowed. Inflections add letters at
 * the end: when one word of 4+ characters starts the other, at most 4
 * shorter, the score is at least 100 - 10 per added letter ("meet" and
 * "meetings": 60, "report" and "reporting": 70).
 */
unsigned mail_word_similarity(const char *needle, const char *word);

#endif
