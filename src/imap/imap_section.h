/* SPDX-License-Identifier: MIT */
/*
 * imap_section.h: where a BODY[section] or BINARY[section] lies in a stored
 * message and what its bytes are (RFC 9051 6.4.5.1, RFC 3516), for FETCH
 * and for IMAP URLs (CATENATE, URLFETCH: RFC 5092 ";SECTION=" and
 * ";PARTIAL="). The part table cached at delivery says where each part's
 * header and body are; nothing is reparsed but what a transformation needs.
 */
#ifndef TERN_IMAP_SECTION_H
#define TERN_IMAP_SECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/imap_fetch_parse.h"
#include "mail/message.h"
#include "store/store.h"

/*
 * Where item's section lies: *off_out and *len_out in the message (for
 * HEADER.FIELDS the header to subset); *sec_out has the part's encoding
 * and kind. False when the message has no such section (answered NIL).
 * info needs STORE_FETCH_PARTS (or _STRUCTURE).
 */
bool imap_section_locate(const struct store_message_info *info, const struct imap_fetch_item *it,
                         struct mail_section *sec_out, uint64_t *off_out, uint64_t *len_out);

/* Clamps [*off, *off + *len) to item's <partial>, if it has one (beyond
   the end: empty). */
void imap_section_partial(const struct imap_fetch_item *it, uint64_t *off, uint64_t *len);

/*
 * BINARY[section] of the bytes raw (len, the section as located): the
 * decoded body of a leaf, the decoded content of a multipart or message
 * part (mail_binary_decode_entity: entity is then the part from its header
 * on, entity_len bytes), the whole message as stored for BINARY[]. Appends
 * to out; -1 when an encoding is unknown (NO [UNKNOWN-CTE]).
 */
int imap_section_binary(struct arena *a, const struct imap_fetch_item *it,
                        const struct mail_section *sec, const unsigned char *raw, size_t len,
                        const unsigned char *entity, size_t entity_len, struct buf *out);

typedef void imap_section_write_fn(void *ctx, const void *data, size_t len);

/*
 * The bytes of item (BODY[section]<partial>, or with binary BINARY[..]) of
 * the message info describes in mbox, to write() in pieces of at most 64
 * KiB: a plain range is read from the store chunk by chunk, a subset or a
 * decoding is built in memory first. Returns 0, 1 when the message has no
 * such section, or -1 with *err_out (_EXPUNGED, _CORRUPT, _TEMP) or, with
 * *unknown_cte_out set, for an encoding that cannot be undone.
 */
int imap_section_copy(struct store_mailbox *mbox, const struct store_message_info *info,
                      const struct imap_fetch_item *it, bool binary, imap_section_write_fn *write,
                      void *ctx, bool *unknown_cte_out, enum store_error *err_out);

#endif
