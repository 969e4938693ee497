/* SPDX-License-Identifier: MIT */
/*
 * imap_quota_parse.c: the SETQUOTA resource list (RFC 9208 section 7,
 * setquota-list). Pure: an argument tree from the IMAP parser in, limits
 * out; no session or store, so it has a unit test and a fuzzer
 * (fuzz/fuzz_imap_meta.c). Input is hostile: names are compared, never
 * copied, and numbers are checked against number64's range.
 */
#include "imap/imap_quota.h"

#include <string.h>
#include <strings.h>

#include "lib/util.h"

static const struct {
	const char *name;
	unsigned bit;
} resources[] = {
        {"STORAGE", STORE_QUOTA_STORAGE},
        {"MESSAGE", STORE_QUOTA_MESSAGES},
        {"MAILBOX", STORE_QUOTA_MAILBOXES},
};

/* RFC 9051 number64: digits, at most 2^63 - 1. */
static bool
number64(const struct imap_arg *a, uint64_t *out)
{
	return a->type == IMAP_ARG_ATOM && str_to_u64(a->str, INT64_MAX, out);
}

enum imap_quota_parse_result
imap_quota_list_parse(const struct imap_arg *list, struct imap_quota_limits *out,
                      const char **error_out)
{
	enum imap_quota_parse_result result = IMAP_QUOTA_PARSE_OK;

	memset(out, 0, sizeof(*out));
	if (list->type != IMAP_ARG_LIST || list->count % 2 != 0) {
		*error_out = "Expected a list of resource names and limits";
		return IMAP_QUOTA_PARSE_BAD;
	}
	for (size_t i = 0; i < list->count; i += 2) {
		const struct imap_arg *name = &list->list[i];
		uint64_t limit;
		size_t k;

		if (name->type != IMAP_ARG_ATOM || !number64(&list->list[i + 1], &limit)) {
			*error_out = "Expected: resource-name SP number64";
			return IMAP_QUOTA_PARSE_BAD;
		}
		for (k = 0; k < ARRAY_LEN(resources); k++)
			if (strcasecmp(name->str, resources[k].name) == 0)
				break;
		if (k == ARRAY_LEN(resources)) {
			/* Keep parsing: a later syntax error still wins (BAD). */
			*error_out = "[CANNOT] Unknown quota resource";
			result = IMAP_QUOTA_PARSE_UNKNOWN;
			continue;
		}
		if (out->which & resources[k].bit) {
			*error_out = "A resource is named twice";
			return IMAP_QUOTA_PARSE_BAD;
		}
		out->which |= resources[k].bit;
		if (resources[k].bit == STORE_QUOTA_STORAGE)
			out->storage_kib = limit;
		else if (resources[k].bit == STORE_QUOTA_MESSAGES)
			out->messages = limit;
		else
			out->mailboxes = limit;
	}
	return result;
}
