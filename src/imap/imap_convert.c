/* SPDX-License-Identifier: MIT */
/*
 * imap_convert.c: CONVERT and UID CONVERT responses (RFC 5259 sections 6,
 * 8.1). Per message: the part table cached at delivery (store_message_lookup
 * with STORE_FETCH_PARTS) says where each asked-for part lies
 * (imap_section_locate, as for FETCH BINARY[]); the part, from its MIME
 * header to the end of its body, is read through one store reader and
 * converted whole in memory (mail_convert_entity); then
 *
 *   * <seq> CONVERTED (TAG "<tag>") (UID <uid> BINARY[<part> (<params>)] {n}
 *   <bytes> BINARY.SIZE[<part> (<params>)] <n>)
 *
 * A literal8 (~{n}, RFC 3516 section 4.3) is used when the bytes hold a
 * NUL (UTF-16). A part that does not exist is NIL, as FETCH answers it; a
 * part that cannot be converted is NIL too, and the tagged reply is NO
 * with the reason's code (the first one), so the rest of the answer is
 * still of use. <partial> cuts the converted bytes, and the response name
 * gives the origin (RFC 3516 section 4.2, RFC 9051 7.5.2); BINARY.SIZE is
 * always the whole converted size, so a client can page through it.
 *
 * CONVERT does not set \Seen: a conversion is a view of the message, like
 * BINARY.PEEK. Cost: the command runs whole on the query pool
 * (IMAP_CMD_OFF_LOOP), its output gathered and sent when it is back; its
 * work is bounded by imap.max_session_memory: no part larger than a
 * quarter of it is read (the conversion holds the part and up to three
 * transformed copies), and the converted bytes of one command together
 * stay within it ([LIMIT] beyond); the request is bounded by
 * IMAP_CONVERT_MAX_MESSAGES and _PARTS. It stops early, between messages,
 * when its session is cancelled (server stop).
 */
#include "imap/imap_convert.h"

#include <string.h>

#include "imap/imap_mailbox.h"
#include "imap/imap_section.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "mail/convert.h"
#include "store/store.h"

#define BATCH 64 /* messages per metadata lookup */

/* Why a part was not converted: the first one's code is the tagged NO's. */
enum failure {
	FAIL_NONE,
	FAIL_UNSUPPORTED,
	FAIL_BADPARAMS,
	FAIL_CONVERSION,
	FAIL_LIMIT,
};

struct convert {
	struct imap_cmd *cmd;
	const struct imap_convert_request *req;
	struct store_reader *reader;
	const char *tag; /* quoted */
	struct buf part, out, line;
	uint64_t budget, used; /* converted bytes allowed, and so far */
	enum failure failure;
	const char *failure_item; /* the data item that failed first */
};

static void
note_failure(struct convert *c, enum failure f, const struct imap_convert_item *it)
{
	if (c->failure == FAIL_NONE) {
		c->failure = f;
		c->failure_item = it->name;
	}
}

static enum failure
failure_of(enum mail_convert_error err)
{
	switch (err) {
	case MAIL_CONVERT_UNSUPPORTED:
		return FAIL_UNSUPPORTED;
	case MAIL_CONVERT_BADPARAM:
		return FAIL_BADPARAMS;
	case MAIL_CONVERT_TOOBIG:
		return FAIL_LIMIT;
	case MAIL_CONVERT_OK:
	case MAIL_CONVERT_FAILED:
		break;
	}
	return FAIL_CONVERSION;
}

/*
 * Converts item it of the open message into c->out. 1: converted; 0: no
 * such part (NIL, not a failure); -1: not converted (noted); -2: the store
 * failed reading the message (*err_out).
 */
static int
convert_part(struct convert *c, const struct store_message_info *info,
             const struct imap_convert_item *it, enum store_error *err_out)
{
	struct imap_fetch_item where = {.kind = IMAP_FETCH_BINARY,
	                                .path = it->path,
	                                .path_len = it->path_len,
	                                .text = IMAP_SECTION_WHOLE};
	struct mail_section sec;
	uint64_t off, len;

	buf_reset(&c->out);
	if (it->bad_param != NULL) {
		note_failure(c, FAIL_BADPARAMS, it);
		return -1;
	}
	if (!imap_section_locate(info, &where, &sec, &off, &len))
		return 0;
	/* The entity: the part's MIME header on, or the whole message. */
	uint64_t eoff = it->path_len > 0 ? sec.header_off : 0;
	uint64_t elen =
	        it->path_len > 0 ? sec.body_off + sec.body_len - sec.header_off : info->size;
	if (c->budget > 0 && elen > c->budget / 4) {
		note_failure(c, FAIL_LIMIT, it);
		return -1;
	}
	buf_reset(&c->part);
	if (store_reader_read(c->reader, eoff, elen, &c->part, err_out) < 0)
		return -2;

	struct arena *a = arena_new(4096);
	enum mail_convert_error cerr;
	size_t room = c->budget > 0 ? (size_t)(c->budget - c->used) : SIZE_MAX;
	const unsigned char *entity =
	        (const unsigned char *)(c->part.data != NULL ? c->part.data : "");
	int rc = mail_convert_entity(a, entity, c->part.len, &it->target, room, &c->out, &cerr);
	arena_free(&a);
	if (rc < 0) {
		log_debug("imap", "event=convert-failed uid=%u item=%s why=%s", info->uid,
		          log_str(c->cmd->arena, it->name, strlen(it->name)),
		          mail_convert_error_name(cerr));
		note_failure(c, failure_of(cerr), it);
		return -1;
	}
	c->used += c->out.len;
	return 1;
}

/* The items of one message into c->line. 1: done; 0: expunged, skip; -1:
   the store failed (*err_out). */
static int
convert_message(struct convert *c, const struct store_message_info *info, enum store_error *err_out)
{
	struct imap_session *s = c->cmd->session;
	struct buf *l = &c->line;

	if (info->uid == 0)
		return 0;
	if (store_reader_open(c->reader, s->mbox, info, err_out) < 0)
		return *err_out == STORE_ERR_EXPUNGED ? 0 : -1;
	buf_reset(l);
	buf_printf(l, "%u CONVERTED (TAG ", store_mailbox_seq(s->mbox, info->uid));
	buf_puts(l, c->tag);
	buf_puts(l, ") (");
	bool first = true;
	/* RFC 9051 6.4.9: a UID command's responses carry the UID. */
	if (c->cmd->is_uid) {
		buf_printf(l, "UID %u", info->uid);
		first = false;
	}
	for (size_t i = 0; i < c->req->n; i++) {
		const struct imap_convert_item *it = &c->req->items[i];
		if (it->kind == IMAP_CONVERT_UID) {
			if (!c->cmd->is_uid) {
				buf_printf(l, "%sUID %u", first ? "" : " ", info->uid);
				first = false;
			}
			continue;
		}
		int rc = convert_part(c, info, it, err_out);
		if (rc == -2) {
			store_reader_close(c->reader);
			return -1;
		}
		buf_printf(l, "%s%s", first ? "" : " ", it->name);
		first = false;
		if (rc <= 0) {
			buf_puts(l, " NIL");
			continue;
		}
		if (it->kind == IMAP_CONVERT_BINARY_SIZE) {
			buf_printf(l, " %zu", c->out.len);
			continue;
		}
		uint64_t doff = 0, dlen = c->out.len;
		if (it->has_partial) {
			doff = MIN(it->partial_offset, dlen);
			dlen = MIN(dlen - doff, it->partial_length);
			buf_printf(l, "<%llu>", (unsigned long long)it->partial_offset);
		}
		const char *d = c->out.data != NULL ? c->out.data + doff : "";
		bool has_nul = dlen > 0 && memchr(d, '\0', dlen) != NULL;
		buf_printf(l, " %s{%llu}\r\n", has_nul ? "~" : "", (unsigned long long)dlen);
		buf_append(l, d, (size_t)dlen);
	}
	buf_putc(l, ')');
	store_reader_close(c->reader);
	imap_reply_untagged_data(s, l->data, l->len);
	return 1;
}

static void
reply_failure(struct convert *c)
{
	static const char *const codes[] = {
	        [FAIL_UNSUPPORTED] = "UNKNOWN-CVT",
	        [FAIL_BADPARAMS] = "BADPARAMS",
	        [FAIL_CONVERSION] = "CONVERSION-FAILED",
	        [FAIL_LIMIT] = "LIMIT",
	};
	static const char *const why[] = {
	        [FAIL_UNSUPPORTED] = "No such conversion for",
	        [FAIL_BADPARAMS] = "Conversion parameter not supported in",
	        [FAIL_CONVERSION] = "Could not convert",
	        [FAIL_LIMIT] = "Too large to convert",
	};
	imap_reply_no(c->cmd, "[%s] %s %s", codes[c->failure], why[c->failure],
	              imap_quote(c->cmd->arena, c->failure_item));
}

enum imap_cmd_status
imap_convert_run(struct imap_cmd *cmd, const struct imap_convert_request *req, const uint32_t *uids,
                 size_t n)
{
	struct imap_session *s = cmd->session;
	struct convert c = {.cmd = cmd, .req = req, .budget = s->settings.max_session_memory};
	struct store_message_info infos[BATCH];
	struct arena *batch = arena_new(8192);
	enum store_error err = STORE_ERR_TEMP;
	bool store_failed = false;

	c.tag = imap_quote(cmd->arena, cmd->tag);
	c.reader = store_reader_new();
	buf_init(&c.part);
	buf_init(&c.out);
	buf_init(&c.line);
	for (size_t i = 0; i < n; i++) {
		if (i % BATCH == 0) {
			arena_reset(batch);
			if (store_message_lookup(s->mbox, uids + i, MIN(n - i, (size_t)BATCH),
			                         STORE_FETCH_PARTS, batch, infos, &err) < 0) {
				store_failed = true;
				break;
			}
		}
		/* A big part takes a while: look between messages. */
		if (session_is_cancelled(&s->base))
			break;
		if (convert_message(&c, &infos[i % BATCH], &err) < 0) {
			store_failed = true;
			break;
		}
	}
	if (store_failed && err == STORE_ERR_TEMP) {
		/* RFC 5259 section 9: a transient failure the client may retry. */
		imap_reply_no(cmd, "[TEMPFAIL] Could not read the messages, try again later");
	} else if (store_failed) {
		imap_reply_store_error(cmd, err);
	} else if (c.failure != FAIL_NONE) {
		reply_failure(&c);
	} else {
		imap_reply_ok(cmd, "%s completed", cmd->name);
	}
	buf_deinit(&c.line);
	buf_deinit(&c.out);
	buf_deinit(&c.part);
	store_reader_free(&c.reader);
	arena_free(&batch);
	return IMAP_CMD_DONE;
}
