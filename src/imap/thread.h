/* SPDX-License-Identifier: MIT */
/*
 * thread.h: the THREAD algorithms of RFC 5256 section 3, ORDEREDSUBJECT and
 * REFERENCES, as a pure function: message keys in, the THREAD response's
 * thread-lists out. No store, no session (cmd_thread.c gathers the keys),
 * so tests/unit/test_imap_thread.c can feed it any set of headers.
 */
#ifndef TERN_IMAP_THREAD_H
#define TERN_IMAP_THREAD_H

#include <stddef.h>
#include <stdint.h>

#include "lib/collation.h"

struct arena;
struct buf;

enum imap_thread_algorithm {
	IMAP_THREAD_ORDEREDSUBJECT,
	IMAP_THREAD_REFERENCES,
};

/* One message's threading keys, as the store caches them (sortkeys.h). */
struct imap_thread_msg {
	uint32_t num;             /* what the reply shows: sequence number or UID; not 0 */
	uint32_t seq;             /* equal dates are ordered by it (RFC 5256 section 2.2) */
	int64_t date;             /* sent date, else the internal date (section 2.2) */
	const char *subject;      /* decoded Subject: tells replies apart; NULL none */
	const char *base_subject; /* section 2.1 base subject; NULL or "" none */
	/* space-separated msg-ids (mail_msgids()); NULL or "" none */
	const char *message_id, *in_reply_to, *references;
};

/*
 * Appends the thread-lists of msgs[0..n) for alg to out: "(1 2)(3 (4)(5))",
 * nothing when n is 0; base subjects are compared under coll. Scratch
 * memory comes from a. Deep or looping References from hostile mail are
 * handled without recursion.
 */
void imap_thread_format(struct arena *a, enum imap_thread_algorithm alg, enum collation coll,
                        const struct imap_thread_msg *msgs, size_t n, struct buf *out);

#endif
