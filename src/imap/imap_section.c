/* SPDX-License-Identifier: MIT */
/* imap_section.c: see imap_section.h. */
#include "imap/imap_section.h"

#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "mail/binary.h"

#define COPY_CHUNK (64 * 1024)

bool
imap_section_locate(const struct store_message_info *info, const struct imap_fetch_item *it,
                    struct mail_section *sec, uint64_t *off_out, uint64_t *len_out)
{
	if (mail_section_lookup(info->parts, info->parts_len, it->path, it->path_len, sec) < 0) {
		if (it->path_len > 0)
			return false;
		/* No part table (cannot happen for a stored message): the top
		   level is still known from the sizes. */
		memset(sec, 0, sizeof(*sec));
		sec->header_len = info->header_size;
		sec->body_off = info->header_size;
		sec->body_len = info->size - info->header_size;
		sec->encoding = "7bit";
	}
	uint64_t hoff = sec->header_off, hlen = sec->header_len;
	uint64_t boff = sec->body_off, blen = sec->body_len;
	if (it->path_len > 0 && it->text != IMAP_SECTION_WHOLE && it->text != IMAP_SECTION_MIME) {
		/* HEADER, TEXT, HEADER.FIELDS after numbers: the message
		   inside a message/rfc822 part (RFC 9051 6.4.5.1). */
		if (!sec->is_message)
			return false;
		hoff = sec->inner_header_off;
		hlen = sec->inner_header_len;
		boff = sec->inner_body_off;
		blen = sec->inner_body_len;
	}
	switch (it->text) {
	case IMAP_SECTION_WHOLE:
		if (it->path_len == 0) {
			*off_out = 0;
			*len_out = info->size;
		} else {
			*off_out = boff;
			*len_out = blen;
		}
		break;
	case IMAP_SECTION_MIME:
	case IMAP_SECTION_HEADER:
	case IMAP_SECTION_HEADER_FIELDS:
	case IMAP_SECTION_HEADER_FIELDS_NOT:
		*off_out = hoff;
		*len_out = hlen;
		break;
	case IMAP_SECTION_TEXT:
		*off_out = boff;
		*len_out = blen;
		break;
	}
	/* The part table comes from the store; never read past the file. */
	if (*off_out > info->size || *len_out > info->size - *off_out)
		return false;
	return true;
}

void
imap_section_partial(const struct imap_fetch_item *it, uint64_t *off, uint64_t *len)
{
	if (!it->has_partial)
		return;
	uint64_t start = it->partial_offset < *len ? it->partial_offset : *len;
	uint64_t n = *len - start < it->partial_length ? *len - start : it->partial_length;
	*off += start;
	*len = n;
}

int
imap_section_binary(struct arena *a, const struct imap_fetch_item *it,
                    const struct mail_section *sec, const unsigned char *raw, size_t len,
                    const unsigned char *entity, size_t entity_len, struct buf *out)
{
	/* BINARY[] is the whole message: there is no single encoding to undo. */
	if (it->path_len == 0)
		return mail_decode_cte("binary", raw, len, out);
	if (sec->is_multipart || sec->is_message)
		return mail_binary_decode_entity(a, entity, entity_len, 0, out);
	return mail_decode_cte(sec->encoding, raw, len, out);
}

int
imap_section_copy(struct store_mailbox *mbox, const struct store_message_info *info,
                  const struct imap_fetch_item *it, bool binary, imap_section_write_fn *write,
                  void *ctx, bool *unknown_cte_out, enum store_error *err_out)
{
	struct mail_section sec;
	uint64_t off, len;
	struct buf b;
	int rc = 0;

	*unknown_cte_out = false;
	if (!imap_section_locate(info, it, &sec, &off, &len))
		return 1;
	bool is_subset = it->text == IMAP_SECTION_HEADER_FIELDS ||
	                 it->text == IMAP_SECTION_HEADER_FIELDS_NOT;
	buf_init(&b);
	if (!binary && !is_subset) {
		/* A plain range: straight from the store, chunk by chunk. */
		imap_section_partial(it, &off, &len);
		for (uint64_t done = 0; done < len && rc == 0;) {
			uint64_t n = MIN(len - done, (uint64_t)COPY_CHUNK);
			buf_reset(&b);
			rc = store_message_read(mbox, info->uid, off + done, n, &b, err_out);
			if (rc == 0 && b.len == 0) {
				*err_out = STORE_ERR_CORRUPT; /* shorter than its part table */
				rc = -1;
			}
			if (rc == 0)
				write(ctx, b.data, b.len);
			done += b.len;
		}
		buf_deinit(&b);
		return rc;
	}
	/* Transformed: built whole, then cut to the partial. */
	struct buf done;
	buf_init(&done);
	if (is_subset) {
		rc = store_message_read(mbox, info->uid, off, len, &b, err_out);
		if (rc == 0)
			imap_fetch_header_filter(b.data != NULL ? b.data : "", b.len, it->fields,
			                         it->n_fields,
			                         it->text == IMAP_SECTION_HEADER_FIELDS, &done);
	} else {
		/* A composite part is decoded from its header on. */
		uint64_t eoff = sec.header_off, elen = sec.body_off + sec.body_len - sec.header_off;
		bool composite = it->path_len > 0 && (sec.is_multipart || sec.is_message);
		rc = composite ? store_message_read(mbox, info->uid, eoff, elen, &b, err_out)
		               : store_message_read(mbox, info->uid, off, len, &b, err_out);
		struct arena *a = arena_new(4096);
		const unsigned char *bytes = (const unsigned char *)(b.data != NULL ? b.data : "");
		if (rc == 0 &&
		    imap_section_binary(a, it, &sec, bytes, b.len, bytes, b.len, &done) < 0) {
			*unknown_cte_out = true;
			rc = -1;
		}
		arena_free(&a);
	}
	if (rc == 0) {
		uint64_t doff = 0, dlen = done.len;
		imap_section_partial(it, &doff, &dlen);
		for (uint64_t at = 0; at < dlen; at += COPY_CHUNK)
			write(ctx, done.data + doff + at,
			      (size_t)MIN(dlen - at, (uint64_t)COPY_CHUNK));
	}
	buf_deinit(&done);
	buf_deinit(&b);
	return rc;
}
