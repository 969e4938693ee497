/* SPDX-License-Identifier: MIT */
/*
 * cmd_conversions.c: CONVERSIONS (RFC 5259 section 5.1), the discovery of
 * the conversions CONVERT can make, answered with one CONVERSION response
 * (5.2) per source and target media type matching the arguments, each with
 * the conversion parameters the server honours for it. A concrete source
 * type is answered with what mail_convert_targets() says it converts to
 * (the list AVAILABLECONVERSIONS gives), a wildcard one from the table of
 * pairs (mail_convert_pairs).
 *
 * conversions = "CONVERSIONS" SP source SP target
 * source, target = astring: "type/subtype", "type/ *" or "*"
 */
#include <string.h>

#include "imap/commands.h"
#include "imap/imap_convert_parse.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "mail/convert.h"

/* "*", or type/subtype with "*" for either half; false when neither. */
static bool
parse_pattern(struct imap_cmd *cmd, size_t i, const char **type_out, const char **subtype_out)
{
	const char *s;

	if (!imap_args_astring(cmd, i, &s))
		return false;
	if (strcmp(s, "*") == 0) {
		*type_out = *subtype_out = "*";
		return true;
	}
	return imap_convert_media_type_parse(cmd->arena, s, true, type_out, subtype_out);
}

static bool
matches(const char *pattern, const char *name)
{
	return strcmp(pattern, "*") == 0 || strcmp(pattern, name) == 0;
}

enum imap_cmd_status
imap_cmd_conversions(struct imap_cmd *cmd)
{
	const char *ft, *fs, *tt, *ts;
	size_t n;

	if (!parse_pattern(cmd, 0, &ft, &fs) || !parse_pattern(cmd, 1, &tt, &ts) ||
	    !imap_args_end(cmd, 2)) {
		imap_reply_bad(cmd,
		               "Expected: CONVERSIONS <source media type> <target media type>");
		return IMAP_CMD_DONE;
	}
	if (strcmp(ft, "*") != 0 && strcmp(fs, "*") != 0) {
		/* A concrete source: every target it converts to, as
		   AVAILABLECONVERSIONS names them (text/csv too). */
		struct mail_convert_source src = {.type = ft, .subtype = fs, .is_leaf = true};
		const char *targets[8];
		n = mail_convert_targets(cmd->arena, &src, targets, ARRAY_LEN(targets));
		for (size_t i = 0; i < n; i++) {
			const char *slash = strchr(targets[i], '/');
			const char *to_type =
			        arena_strndup(cmd->arena, targets[i], (size_t)(slash - targets[i]));
			if (matches(tt, to_type) && matches(ts, slash + 1))
				imap_reply_untagged(cmd->session,
				                    "CONVERSION \"%s/%s\" \"%s\" (\"charset\" "
				                    "\"content-transfer-encoding\")",
				                    ft, fs, targets[i]);
		}
		imap_reply_ok(cmd, "CONVERSIONS completed");
		return IMAP_CMD_DONE;
	}
	const struct mail_convert_pair *pairs = mail_convert_pairs(&n);
	for (size_t i = 0; i < n; i++) {
		const struct mail_convert_pair *p = &pairs[i];
		if (matches(ft, p->from_type) && matches(fs, p->from_subtype) &&
		    matches(tt, p->to_type) && matches(ts, p->to_subtype))
			imap_reply_untagged(cmd->session,
			                    "CONVERSION \"%s/%s\" \"%s/%s\" (\"charset\" "
			                    "\"content-transfer-encoding\")",
			                    p->from_type, p->from_subtype, p->to_type,
			                    p->to_subtype);
	}
	imap_reply_ok(cmd, "CONVERSIONS completed");
	return IMAP_CMD_DONE;
}
