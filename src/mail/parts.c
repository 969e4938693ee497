/* SPDX-License-Identifier: MIT */
/*
 * parts.c: the part table the store keeps as a BLOB so BODY[1.2.MIME] needs
 * no reparse, and the section lookup of RFC 9051 section 6.4.5.1 over it.
 *
 * Layout (little-endian), after the 4-byte magic "TPT1": the parts in
 * pre-order, each
 *	u8  flags (1 multipart, 2 message/rfc822 or message/global)
 *	u32 number of children
 *	u32 bytes of this part's record and all its descendants'
 *	u64 header_off, header_len, body_off, body_len
 *	u8  n, then n bytes: Content-Transfer-Encoding, lowercased, and a NUL
 * The subtree size lets a lookup step over a sibling without reading it.
 * The reader checks every length against the blob: it comes from the store,
 * but a corrupt row must give -1, not a crash.
 */
#include "mail/parts.h"

#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/message.h"
#include "mail/mime.h"

#define PARTS_MAGIC  "TPT1"
#define FLAG_MULTI   1
#define FLAG_MESSAGE 2
#define FIXED_LEN    (1 + 4 + 4 + 8 * 4 + 1)
#define ENC_MAX      255

static void
put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
get_u32(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static uint64_t
get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void
write_part(struct arena *a, const struct mail_mime_part *part, struct buf *out)
{
	unsigned char rec[FIXED_LEN];
	const char *enc = mail_mime_encoding(a, part);
	size_t enc_len = strlen(enc);
	size_t start = out->len;

	if (enc_len > ENC_MAX) {
		enc = "x-unknown"; /* no real encoding is this long */
		enc_len = strlen(enc);
	}
	rec[0] = (unsigned char)((part->kind == MAIL_MIME_MULTIPART ? FLAG_MULTI : 0) |
	                         (part->kind == MAIL_MIME_MESSAGE ? FLAG_MESSAGE : 0));
	put_u32(rec + 1, (uint32_t)part->nchildren);
	put_u32(rec + 5, 0); /* patched below */
	put_u64(rec + 9, part->header_off);
	put_u64(rec + 17, part->header_len);
	put_u64(rec + 25, part->body_off);
	put_u64(rec + 33, part->body_len);
	rec[41] = (unsigned char)enc_len;
	buf_append(out, rec, sizeof(rec));
	buf_append(out, enc, enc_len + 1);
	for (const struct mail_mime_part *ch = part->children; ch != NULL; ch = ch->next)
		write_part(a, ch, out);
	put_u32((unsigned char *)out->data + start + 5, (uint32_t)(out->len - start));
}

const unsigned char *
mail_parts_serialise(struct arena *a, const struct mail_mime_part *root, size_t *len_out)
{
	struct buf b;

	buf_init(&b);
	buf_append(&b, PARTS_MAGIC, 4);
	write_part(a, root, &b);
	unsigned char *p = arena_memdup(a, b.data, b.len);
	*len_out = b.len;
	buf_deinit(&b);
	return p;
}

struct node {
	size_t off; /* of the record */
	unsigned flags;
	uint32_t nchildren, subtree;
	uint64_t header_off, header_len, body_off, body_len;
	const unsigned char *enc;
	size_t enc_len;
};

static bool
node_read(const unsigned char *parts, size_t len, size_t off, struct node *n)
{
	if (off > len || len - off < FIXED_LEN)
		return false;
	const unsigned char *p = parts + off;
	n->off = off;
	n->flags = p[0];
	n->nchildren = get_u32(p + 1);
	n->subtree = get_u32(p + 5);
	n->header_off = get_u64(p + 9);
	n->header_len = get_u64(p + 17);
	n->body_off = get_u64(p + 25);
	n->body_len = get_u64(p + 33);
	n->enc_len = p[41];
	n->enc = p + FIXED_LEN;
	return len - off - FIXED_LEN > n->enc_len && n->enc[n->enc_len] == '\0' &&
	       n->subtree > FIXED_LEN + n->enc_len && n->subtree <= len - off;
}

/* Reads child number num (1-based) of parent into *child. */
static bool
node_child(const unsigned char *parts, size_t len, const struct node *parent, uint32_t num,
           struct node *child)
{
	if (num == 0 || num > parent->nchildren)
		return false;
	size_t off = parent->off + FIXED_LEN + parent->enc_len + 1;
	size_t end = parent->off + parent->subtree;
	for (uint32_t i = 1;; i++) {
		if (off >= end || !node_read(parts, end, off, child))
			return false;
		if (i == num)
			return true;
		off += child->subtree;
	}
}

int
mail_section_lookup(const unsigned char *parts, size_t parts_len, const uint32_t *path, size_t n,
                    struct mail_section *out)
{
	struct node node, next, inner;
	bool fresh = true; /* node is a message: its "1" may be itself */

	if (parts_len < 4 || memcmp(parts, PARTS_MAGIC, 4) != 0 ||
	    !node_read(parts, parts_len, 4, &node))
		return -1;
	for (size_t i = 0; i < n; i++) {
		/* RFC 9051 6.4.5.1: numbers index a multipart's parts; a
		   non-multipart message has only part 1, its body; after a
		   message/rfc822 part, numbers go on inside its message. */
		if (node.flags & FLAG_MULTI) {
			if (!node_child(parts, parts_len, &node, path[i], &next))
				return -1;
			node = next;
		} else if (!(fresh && path[i] == 1)) {
			return -1;
		}
		fresh = false;
		if (i + 1 < n && (node.flags & FLAG_MESSAGE)) {
			if (!node_child(parts, parts_len, &node, 1, &next))
				return -1;
			node = next;
			fresh = true;
		}
	}
	memset(out, 0, sizeof(*out));
	out->header_off = node.header_off;
	out->header_len = node.header_len;
	out->body_off = node.body_off;
	out->body_len = node.body_len;
	out->is_multipart = (node.flags & FLAG_MULTI) != 0;
	out->is_message = n > 0 && (node.flags & FLAG_MESSAGE) != 0;
	if (out->is_message) {
		if (!node_child(parts, parts_len, &node, 1, &inner))
			return -1;
		out->inner_header_off = inner.header_off;
		out->inner_header_len = inner.header_len;
		out->inner_body_off = inner.body_off;
		out->inner_body_len = inner.body_len;
	}
	/* NUL-terminated in the blob (node_read checked), so it can be
	   handed out as a string living as long as parts. */
	out->encoding = (const char *)node.enc;
	return 0;
}
