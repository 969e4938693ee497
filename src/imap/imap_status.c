/* SPDX-License-Identifier: MIT */
/*
 * imap_status.c: STATUS item names and the STATUS response (RFC 9051
 * section 7.3.1 and the extensions named in imap_status.h).
 */
#include "imap/imap_status.h"

#include <strings.h>

#include "imap/imap_mailbox.h"
#include "lib/buf.h"

static const struct {
	const char *name;
	unsigned bit;
} items[] = {
        {"MESSAGES", IMAP_STATUS_MESSAGES},
        {"UIDNEXT", IMAP_STATUS_UIDNEXT},
        {"UIDVALIDITY", IMAP_STATUS_UIDVALIDITY},
        {"UNSEEN", IMAP_STATUS_UNSEEN},
        {"DELETED", IMAP_STATUS_DELETED},
        {"SIZE", IMAP_STATUS_SIZE},
        {"RECENT", IMAP_STATUS_RECENT},
        {"HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ},
        {"APPENDLIMIT", IMAP_STATUS_APPENDLIMIT},
        {"MAILBOXID", IMAP_STATUS_MAILBOXID},
        {"DELETED-STORAGE", IMAP_STATUS_DELETED_STORAGE},
};

bool
imap_status_items_parse(struct imap_cmd *cmd, const struct imap_arg *arg, unsigned *items_out)
{
	*items_out = 0;
	if (arg->type != IMAP_ARG_LIST || arg->count == 0) {
		imap_reply_bad(cmd, "Expected a list of STATUS items");
		return false;
	}
	for (size_t i = 0; i < arg->count; i++) {
		size_t k;
		for (k = 0; k < sizeof(items) / sizeof(items[0]); k++)
			if (arg->list[i].type == IMAP_ARG_ATOM &&
			    strcasecmp(arg->list[i].str, items[k].name) == 0)
				break;
		if (k == sizeof(items) / sizeof(items[0])) {
			imap_reply_bad(cmd, "Unknown STATUS item");
			return false;
		}
		*items_out |= items[k].bit;
	}
	return true;
}

void
imap_status_reply(struct imap_session *s, const char *name, unsigned want,
                  const struct store_mailbox_info *info)
{
	struct buf b;

	buf_init(&b);
	for (size_t k = 0; k < sizeof(items) / sizeof(items[0]); k++) {
		if (!(want & items[k].bit))
			continue;
		if (b.len > 0)
			buf_putc(&b, ' ');
		switch (items[k].bit) {
		case IMAP_STATUS_MESSAGES:
			buf_printf(&b, "MESSAGES %u", info->messages);
			break;
		case IMAP_STATUS_UIDNEXT:
			buf_printf(&b, "UIDNEXT %u", info->uidnext);
			break;
		case IMAP_STATUS_UIDVALIDITY:
			buf_printf(&b, "UIDVALIDITY %u", info->uidvalidity);
			break;
		case IMAP_STATUS_UNSEEN:
			buf_printf(&b, "UNSEEN %u", info->unseen);
			break;
		case IMAP_STATUS_DELETED:
			buf_printf(&b, "DELETED %u", info->deleted);
			break;
		case IMAP_STATUS_SIZE:
			buf_printf(&b, "SIZE %llu", (unsigned long long)info->size);
			break;
		case IMAP_STATUS_RECENT:
			buf_printf(&b, "RECENT %u", info->recent);
			break;
		case IMAP_STATUS_HIGHESTMODSEQ:
			buf_printf(&b, "HIGHESTMODSEQ %llu",
			           (unsigned long long)info->highestmodseq);
			break;
		case IMAP_STATUS_APPENDLIMIT:
			buf_printf(&b, "APPENDLIMIT %llu",
			           (unsigned long long)s->settings.max_literal);
			break;
		case IMAP_STATUS_MAILBOXID:
			buf_printf(&b, "MAILBOXID (%s)", info->objectid);
			break;
		case IMAP_STATUS_DELETED_STORAGE:
			/* Octets: the sum of the \Deleted messages' RFC822.SIZE,
			   which is exactly what EXPUNGE gives back to STORAGE
			   (RFC 9208 4.1.4; Cyrus also answers octets). */
			buf_printf(&b, "DELETED-STORAGE %llu",
			           (unsigned long long)info->deleted_size);
			break;
		}
	}
	imap_reply_untagged(s, "STATUS %s (%s)", imap_mailbox_wire(s, name), b.data ? b.data : "");
	buf_deinit(&b);
}
