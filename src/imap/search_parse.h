/* SPDX-License-Identifier: MIT */
/*
 * search_parse.h: the search program of SEARCH, SORT and THREAD as a tree
 * (RFC 9051 section 6.4.4 and the "search-key" grammar of section 9, the
 * RFC 3501 keys RECENT/NEW/OLD, OLDER/YOUNGER of RFC 5032, MODSEQ of RFC
 * 7162, SAVEDBEFORE/SAVEDON/SAVEDSINCE/SAVEDATESUPPORTED of RFC 8514,
 * EMAILID/THREADID of RFC 8474, FILTER of RFC 5466, FUZZY of RFC 6203) and
 * the RETURN options of RFC 4731/5182, RFC 5267 (CONTEXT, UPDATE), RFC 9394
 * (PARTIAL) and RFC 6203 (RELEVANCY).
 *
 * Pure: parser arguments in, a tree in the caller's arena out; no store, no
 * session. search.c evaluates the tree. Strings are converted to UTF-8 from
 * the CHARSET the client named, so the evaluator sees only UTF-8.
 */
#ifndef TERN_IMAP_SEARCH_PARSE_H
#define TERN_IMAP_SEARCH_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parser.h"
#include "imap/seqset.h"

struct arena;
struct buf;

/* Deepest nesting of NOT/OR/parentheses accepted; the parser and the
   evaluator recurse, so this bounds their stack (about 200 bytes a level).
   Machine-written OR chains (one OR per term) stay far below it. */
#define IMAP_SEARCH_MAX_DEPTH 256

enum imap_search_type {
	IMAP_SK_ALL,
	IMAP_SK_AND,       /* children: every one must match */
	IMAP_SK_OR,        /* children: two */
	IMAP_SK_NOT,       /* children: one */
	IMAP_SK_SEQSET,    /* set: message sequence numbers (or "$") */
	IMAP_SK_UIDSET,    /* set: UIDs (or "$") */
	IMAP_SK_FLAG,      /* flag (enum store_flag bit) is set */
	IMAP_SK_UNFLAG,    /* ... is not set */
	IMAP_SK_KEYWORD,   /* str */
	IMAP_SK_UNKEYWORD, /* str */
	IMAP_SK_RECENT,
	IMAP_SK_TEXT,   /* text field contains str */
	IMAP_SK_HEADER, /* header field `field` contains str (BCC is HEADER Bcc) */
	IMAP_SK_DATE,   /* date (which) compared (op) with the day starting at num */
	IMAP_SK_LARGER, /* size > num */
	IMAP_SK_SMALLER,
	IMAP_SK_OLDER,   /* internal date <= now - num */
	IMAP_SK_YOUNGER, /* internal date >= now - num */
	IMAP_SK_MODSEQ,  /* modseq >= num (field/str: entry name and type, ignored) */
	IMAP_SK_SAVEDATESUPPORTED,
	IMAP_SK_EMAILID, /* str, exact */
	IMAP_SK_THREADID,
	IMAP_SK_ANNOTATION, /* RFC 5257: field entry-match, num attributes, str needle */
	IMAP_SK_FUZZY, /* children: one, matched fuzzily (RFC 6203 section 3) */
};

enum imap_search_text {
	IMAP_SEARCH_BODY,
	IMAP_SEARCH_TEXT,
	IMAP_SEARCH_SUBJECT,
	IMAP_SEARCH_FROM,
	IMAP_SEARCH_TO,
	IMAP_SEARCH_CC,
};

enum imap_search_date { IMAP_DATE_INTERNAL, IMAP_DATE_SENT, IMAP_DATE_SAVED };
enum imap_search_op { IMAP_OP_BEFORE, IMAP_OP_ON, IMAP_OP_SINCE };

struct imap_search_key {
	enum imap_search_type type;
	struct imap_search_key *child; /* AND, OR, NOT: first child */
	struct imap_search_key *next;  /* next sibling */
	struct imap_seqset set;        /* SEQSET, UIDSET */
	uint32_t flag;                 /* FLAG, UNFLAG */
	enum imap_search_text text;    /* TEXT */
	enum imap_search_date date;    /* DATE */
	enum imap_search_op op;        /* DATE */
	const char *field;             /* HEADER field name; MODSEQ entry name or NULL */
	const char *str;               /* UTF-8 needle, keyword, object id; MODSEQ entry type */
	int64_t num;                   /* day start, size, seconds, modseq */
};

enum imap_search_return {
	IMAP_SEARCH_RET_MIN = 1 << 0,
	IMAP_SEARCH_RET_MAX = 1 << 1,
	IMAP_SEARCH_RET_ALL = 1 << 2,
	IMAP_SEARCH_RET_COUNT = 1 << 3,
	IMAP_SEARCH_RET_SAVE = 1 << 4,
	IMAP_SEARCH_RET_PARTIAL = 1 << 5,   /* RFC 9394: partial_lo..partial_hi */
	IMAP_SEARCH_RET_UPDATE = 1 << 6,    /* RFC 5267 4.3: ADDTO/REMOVEFROM later */
	IMAP_SEARCH_RET_CONTEXT = 1 << 7,   /* RFC 5267 4.2: a hint, ignored */
	IMAP_SEARCH_RET_RELEVANCY = 1 << 8, /* RFC 6203 4: the FUZZY scores */
};

struct imap_search_program {
	bool has_return; /* RETURN (...) was given: answer with ESEARCH */
	unsigned ret;    /* enum imap_search_return bits; RETURN () means ALL */
	/* PARTIAL's range, 1-based positions in the result, lo <= hi; both
	   negative ("-1:-100": from the end, RFC 9394 section 3.1) or both
	   positive. */
	int32_t partial_lo, partial_hi;
	const char *charset; /* as given, or NULL */
	struct imap_search_key *root;
	bool has_modseq; /* a MODSEQ key: replies carry the highest modseq */
	bool uses_saved; /* "$" somewhere */
	bool has_fuzzy;  /* a FUZZY key: RELEVANCY may be asked for */
	/* RELEVANCY: each result's score 1..100, in the result's order; set
	   by the command after evaluation (imap_search_eval_scored). */
	const uint8_t *relevancy;
};

enum imap_search_status {
	IMAP_SEARCH_OK,
	IMAP_SEARCH_BAD,        /* syntax: the client gets BAD */
	IMAP_SEARCH_BADCHARSET, /* NO [BADCHARSET (UTF-8 US-ASCII)] */
	/* RFC 5466 3.1: NO [UNDEFINED-FILTER name], the name in *error_out */
	IMAP_SEARCH_UNDEFINED_FILTER,
};

/* Substitution passes of FILTER inside filters (RFC 5466 3.1 asks for at
   least 3; with no more than that, a loop needs no detection: it just
   runs out of passes and the filter is undefined). */
#define IMAP_SEARCH_FILTER_PASSES 3

/*
 * Where FILTER name (RFC 5466) finds its search criteria: resolve() gives
 * the stored value parsed into arguments (in a), or false when there is no
 * such filter (or its value does not parse). Without one (NULL), FILTER is
 * an unknown key.
 */
struct imap_search_filters {
	bool (*resolve)(void *ctx, struct arena *a, const char *name,
	                const struct imap_arg **args_out, size_t *nargs_out);
	void *ctx;
};

/*
 * SEARCH's arguments: [RETURN (opts)] [CHARSET name] key *(key). With
 * allow_return false (SORT, THREAD) RETURN is not recognised. filters (may
 * be NULL) resolves FILTER keys; a filter's keys are parsed in its place,
 * as if in parentheses, and must make a whole search criterion. On
 * failure *error_out is a message for the client. Tree in a.
 */
enum imap_search_status imap_search_parse(struct arena *a, const struct imap_arg *args,
                                          size_t nargs, bool allow_return,
                                          const struct imap_search_filters *filters,
                                          struct imap_search_program *out, const char **error_out);

/*
 * RETURN's option list (search-return-opts, RFC 4731, 5182, 5267, 9394)
 * into out->ret and the PARTIAL range; for SORT, which takes it before its
 * sort criteria (RFC 5267 section 3). False with *error_out for BAD: an
 * unknown option, a bad range, PARTIAL with ALL.
 */
bool imap_search_parse_return(const struct imap_arg *list, struct imap_search_program *out,
                              const char **error_out);

/* A copy of the tree under key in a, strings and sets included (UPDATE
   contexts outlive the command's arena). */
struct imap_search_key *imap_search_key_copy(struct arena *a, const struct imap_search_key *key);

/*
 * The keys alone, their strings in charset (SORT and THREAD name the
 * charset without the CHARSET word). Same results as imap_search_parse().
 */
enum imap_search_status imap_search_parse_keys(struct arena *a, const struct imap_arg *args,
                                               size_t nargs, const char *charset,
                                               const struct imap_search_filters *filters,
                                               struct imap_search_program *out,
                                               const char **error_out);

/* Appends a one-line S-expression of the tree to b ("(AND SEEN (BODY \"x\"))"):
   for tests and debug logs. */
void imap_search_dump(struct buf *b, const struct imap_search_key *key);

#endif
