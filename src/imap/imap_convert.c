/* SPDX-License-Identifier: MIT */
/*
 * imap_convert.c: CONVERT and UID CONVERT responses (RFC 5259 sections 6,
 * 8, 9). Per message: the part table cached at delivery
 * (store_message_lookup with STORE_FETCH_PARTS) says where each asked-for
 * section lies (imap_section_locate, as for FETCH); a part, from its MIME
 * header to the end of its body, is read through one store reader and
 * converted whole in memory (mail_convert_entity), once for all the items
 * naming it; then
 *
 *   * <seq> CONVERTED (TAG "<tag>") (UID <uid> BODYPARTSTRUCTURE[<part>]
 *   (...) BINARY[<part>] {n}
 *   <bytes> BINARY.SIZE[<part>] <n> AVAILABLECONVERSIONS[<part>] (...))
 *
 * UID first (always for UID CONVERT: section 6), BODYPARTSTRUCTURE before
 * any BINARY (section 8.2), the rest as asked. An item that fails has, in
 * place of its value, a converterror-phrase (section 9):
 *
 *   (ERROR "<text>" BADPARAMETERS <"from"|NIL> "<to>" (<name> <value> ...))
 *   (ERROR "<text>" MISSINGPARAMETERS "<from>" "<to>" (<name> ...))
 *   (ERROR "<text>" TEMPFAIL)
 *
 * from NIL when the part does not exist. The tagged reply is OK when an
 * item was answered with a value (section 9: MUST), NO when none was (a
 * MAY); NO [TEMPFAIL] when the store failed in a way worth retrying.
 *
 * A literal8 (~{n}, RFC 3516 section 4.3) is used when the bytes hold a
 * NUL (UTF-16). <partial> cuts the converted bytes, and the response name
 * gives the origin (RFC 3516 section 4.2); BINARY.SIZE and the structure's
 * size are always the whole converted size, so a client can page.
 *
 * CONVERT never sets \Seen (section 6). Cost: the command runs whole on
 * the query pool (IMAP_CMD_OFF_LOOP), its output gathered and sent when it
 * is back; no part larger than a quarter of imap.max_session_memory is
 * read (the conversion holds the part and up to three transformed
 * copies), and the converted bytes of one command together stay within it
 * (TEMPFAIL beyond: fewer at a time will do); the request is bounded by
 * imap.convert_max_messages and _parts (cmd_convert.c). It stops early,
 * between messages, when its session is cancelled (server stop).
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

#define BATCH       64 /* messages per metadata lookup */
#define MAX_TARGETS 8  /* AVAILABLECONVERSIONS answers */

/* What became of a section of the message. */
enum outcome {
	OUT_OK,
	OUT_NO_PART,       /* no such section: BADPARAMETERS NIL */
	OUT_UNSUPPORTED,   /* no conversion of this type to the target */
	OUT_BAD_VALUE,     /* a parameter value we cannot do (charset, encoding) */
	OUT_BAD_PARAM,     /* a parameter we do not know, or twice */
	OUT_FAILED,        /* the bytes would not convert */
	OUT_PART_TOO_BIG,  /* beyond a quarter of imap.max_session_memory */
	OUT_OVER_BUDGET,   /* the command's converted bytes past it: TEMPFAIL */
	OUT_NEEDS_CHARSET, /* a header conversion without CHARSET */
};

/* One section's conversion, shared by the items naming it. */
struct result {
	const struct imap_convert_item *item; /* the first naming it */
	enum outcome outcome;
	struct mail_convert_source src; /* when the part exists */
	const char *to;                 /* "type/subtype" the conversion made, or would */
	struct buf out;
};

struct convert {
	struct imap_cmd *cmd;
	const struct imap_convert_request *req;
	const struct imap_convert_params *params;
	struct store_reader *reader;
	const char *tag; /* quoted */
	struct arena *msg_arena;
	struct buf part, line;
	struct result *results; /* req->n of them, n_results used for this message */
	size_t n_results;
	uint64_t budget, used; /* converted bytes allowed (0: no limit), and so far */
	size_t answered;       /* items answered with a value */
};

static bool
is_header(const struct imap_convert_item *it)
{
	return it->kind == IMAP_CONVERT_HEADER || it->kind == IMAP_CONVERT_MIME;
}

static const char *
media_type(struct arena *a, const char *type, const char *subtype)
{
	return arena_printf(a, "%s/%s", type, subtype);
}

static const unsigned char *
part_bytes(const struct convert *c)
{
	return (const unsigned char *)(c->part.data != NULL ? c->part.data : "");
}

/* The part's bytes, from its MIME header on (or the whole message), into
   c->part. 1: read; 0: no such part; -1: too big (noted in r); -2: the
   store failed (*err_out). */
static int
read_entity(struct convert *c, const struct store_message_info *info,
            const struct imap_convert_item *it, struct result *r, enum store_error *err_out)
{
	struct imap_fetch_item where = {.kind = IMAP_FETCH_BINARY,
	                                .path = it->path,
	                                .path_len = it->path_len,
	                                .text = IMAP_SECTION_WHOLE};
	struct mail_section sec;
	uint64_t off, len;

	if (!imap_section_locate(info, &where, &sec, &off, &len))
		return 0;
	uint64_t eoff = it->path_len > 0 ? sec.header_off : 0;
	uint64_t elen =
	        it->path_len > 0 ? sec.body_off + sec.body_len - sec.header_off : info->size;
	bool too_big = c->budget > 0 && elen > c->budget / 4;
	/* Too big to convert: its header still says what it is. */
	if (too_big)
		elen = sec.body_off > eoff ? sec.body_off - eoff : 0;
	buf_reset(&c->part);
	if (store_reader_read(c->reader, eoff, elen, &c->part, err_out) < 0)
		return -2;
	if (too_big) {
		mail_convert_source_of(c->msg_arena, part_bytes(c), c->part.len, &r->src);
		r->outcome = OUT_PART_TOO_BIG;
		return -1;
	}
	return 1;
}

static enum outcome
outcome_of(enum mail_convert_error err)
{
	switch (err) {
	case MAIL_CONVERT_UNSUPPORTED:
		return OUT_UNSUPPORTED;
	case MAIL_CONVERT_BADPARAM:
		return OUT_BAD_VALUE;
	case MAIL_CONVERT_TOOBIG:
		return OUT_OVER_BUDGET;
	case MAIL_CONVERT_OK:
	case MAIL_CONVERT_FAILED:
		break;
	}
	return OUT_FAILED;
}

/* Converts the body section of it into r. 0, or -2 when the store failed. */
static int
convert_body(struct convert *c, const struct store_message_info *info,
             const struct imap_convert_item *it, struct result *r, enum store_error *err_out)
{
	struct mail_convert_target t = c->params->target;
	int rc = read_entity(c, info, it, r, err_out);

	if (rc == 0)
		r->outcome = OUT_NO_PART;
	if (rc <= 0)
		return rc == -2 ? -2 : 0;
	mail_convert_source_of(c->msg_arena, part_bytes(c), c->part.len, &r->src);
	if (c->params->is_default && !mail_convert_default_target(&r->src, &t.type, &t.subtype)) {
		r->to = media_type(c->msg_arena, r->src.type, r->src.subtype);
		r->outcome = OUT_UNSUPPORTED;
		return 0;
	}
	r->to = media_type(c->msg_arena, t.type, t.subtype);
	if (c->params->bad_param != NULL) {
		r->outcome = OUT_BAD_PARAM;
		return 0;
	}
	struct arena *a = arena_new(4096);
	enum mail_convert_error cerr;
	size_t room = c->budget > 0 ? (size_t)(c->budget - MIN(c->used, c->budget)) : SIZE_MAX;
	rc = mail_convert_entity(a, part_bytes(c), c->part.len, &t, room, &r->out, &cerr);
	arena_free(&a);
	if (rc < 0) {
		log_debug("imap", "event=convert-failed uid=%u item=%s why=%s", info->uid,
		          log_str(c->cmd->arena, it->name, strlen(it->name)),
		          mail_convert_error_name(cerr));
		r->outcome = outcome_of(cerr);
		return 0;
	}
	c->used += r->out.len;
	r->outcome = OUT_OK;
	return 0;
}

/* Converts the header section of it (BODY[HEADER], BODY[n.MIME]) into r. */
static int
convert_header(struct convert *c, const struct store_message_info *info,
               const struct imap_convert_item *it, struct result *r, enum store_error *err_out)
{
	struct imap_fetch_item where = {
	        .kind = IMAP_FETCH_SECTION,
	        .path = it->path,
	        .path_len = it->path_len,
	        .text = it->kind == IMAP_CONVERT_MIME ? IMAP_SECTION_MIME : IMAP_SECTION_HEADER};
	struct mail_section sec;
	uint64_t off, len;

	/* The type the header belongs to, for the error phrases: the part's
	   for MIME, a message's for HEADER. */
	if (!imap_section_locate(info, &where, &sec, &off, &len)) {
		r->outcome = OUT_NO_PART;
		r->to = "message/rfc822";
		return 0;
	}
	buf_reset(&c->part);
	r->src.type = "message";
	r->src.subtype = "rfc822";
	if (c->budget > 0 && len > c->budget / 4) {
		r->outcome = OUT_PART_TOO_BIG; /* a header of megabytes */
		r->to = "message/rfc822";
		return 0;
	}
	if (store_reader_read(c->reader, off, len, &c->part, err_out) < 0)
		return -2;
	/* The MIME header alone parses as the part's type. */
	if (it->kind == IMAP_CONVERT_MIME)
		mail_convert_source_of(c->msg_arena, part_bytes(c), c->part.len, &r->src);
	r->to = media_type(c->msg_arena, r->src.type, r->src.subtype);
	if (c->params->bad_param != NULL) {
		r->outcome = OUT_BAD_PARAM;
		return 0;
	}
	/* RFC 5259 section 6: "The CHARSET parameter is REQUIRED". */
	if (c->params->target.charset == NULL) {
		r->outcome = OUT_NEEDS_CHARSET;
		return 0;
	}
	if (mail_convert_header(part_bytes(c), c->part.len, c->params->target.charset, &r->out) <
	    0) {
		r->outcome = OUT_BAD_VALUE;
		return 0;
	}
	c->used += r->out.len;
	r->outcome = OUT_OK;
	return 0;
}

/* The result for it's section, converted on first use. NULL when the
   store failed (*err_out). */
static struct result *
result_for(struct convert *c, const struct store_message_info *info,
           const struct imap_convert_item *it, enum store_error *err_out)
{
	for (size_t i = 0; i < c->n_results; i++)
		if (imap_convert_same_section(c->results[i].item, it))
			return &c->results[i];
	struct result *r = &c->results[c->n_results++];
	buf_reset(&r->out);
	r->item = it;
	r->outcome = OUT_OK;
	r->src = (struct mail_convert_source){0};
	r->to = NULL;
	int rc = is_header(it) ? convert_header(c, info, it, r, err_out)
	                       : convert_body(c, info, it, r, err_out);
	return rc == -2 ? NULL : r;
}

static void
put_quoted(struct convert *c, const char *s)
{
	buf_puts(&c->line, imap_quote(c->msg_arena, s));
}

/* The parameters an error names: the one not known, the values we could
   not do, or all of them. */
static void
put_params(struct convert *c, enum outcome o)
{
	const struct imap_convert_params *p = c->params;
	bool first = true;

	buf_putc(&c->line, '(');
	for (size_t i = 0; i < p->n_params; i++) {
		const char *name = p->params[i].name;
		if (o == OUT_BAD_PARAM && strcmp(name, p->bad_param) != 0)
			continue;
		if (o == OUT_BAD_VALUE && strcmp(name, "charset") != 0 &&
		    strcmp(name, "content-transfer-encoding") != 0)
			continue;
		if (!first)
			buf_putc(&c->line, ' ');
		put_quoted(c, name);
		buf_putc(&c->line, ' ');
		put_quoted(c, p->params[i].value);
		first = false;
	}
	buf_putc(&c->line, ')');
}

/* The converterror-phrase of r (RFC 5259 section 9). */
static void
put_error(struct convert *c, const struct result *r)
{
	static const char *const why[] = {
	        [OUT_NO_PART] = "No such body part",
	        [OUT_UNSUPPORTED] = "No such conversion for this part",
	        [OUT_BAD_VALUE] = "Conversion parameter value not supported",
	        [OUT_BAD_PARAM] = "Conversion parameter not supported",
	        [OUT_FAILED] = "The part's data could not be converted so",
	        [OUT_PART_TOO_BIG] = "Part too large to convert",
	        [OUT_OVER_BUDGET] = "Too much converted data in one command, ask for fewer",
	        [OUT_NEEDS_CHARSET] = "A header conversion needs CHARSET",
	};
	struct buf *l = &c->line;

	buf_puts(l, "(ERROR ");
	put_quoted(c, why[r->outcome]);
	if (r->outcome == OUT_OVER_BUDGET) {
		buf_puts(l, " TEMPFAIL)");
		return;
	}
	const char *to = r->to;
	if (to == NULL) /* the default conversion of a part not there */
		to = c->params->is_default ? "text/plain"
		                           : media_type(c->msg_arena, c->params->target.type,
		                                        c->params->target.subtype);
	bool has_from = r->outcome != OUT_NO_PART && r->src.type != NULL;
	const char *from = has_from ? media_type(c->msg_arena, r->src.type, r->src.subtype) : NULL;
	if (r->outcome == OUT_NEEDS_CHARSET) {
		buf_puts(l, " MISSINGPARAMETERS ");
		put_quoted(c, from);
		buf_putc(l, ' ');
		put_quoted(c, to);
		buf_puts(l, " (\"charset\"))");
		return;
	}
	buf_puts(l, " BADPARAMETERS ");
	if (from != NULL)
		put_quoted(c, from);
	else
		buf_puts(l, "NIL");
	buf_putc(l, ' ');
	put_quoted(c, to);
	buf_putc(l, ' ');
	put_params(c, r->outcome);
	buf_putc(l, ')');
}

/* "text/plain" into body-type-text's "text" "plain". */
static void
put_split_type(struct convert *c, const char *type)
{
	const char *slash = strchr(type, '/');
	put_quoted(c, arena_strndup(c->msg_arena, type, (size_t)(slash - type)));
	buf_putc(&c->line, ' ');
	put_quoted(c, slash + 1);
}

/* The converted part's structure (RFC 5259 section 8.2): a single text
   part, body-type-text of RFC 9051 section 9. */
static void
put_structure(struct convert *c, const struct result *r)
{
	const char *enc = c->params->target.encoding;
	const char *d = r->out.data != NULL ? r->out.data : "";
	size_t lines = 0;
	bool eight = false, nul = false;

	for (size_t i = 0; i < r->out.len; i++) {
		lines += d[i] == '\n';
		eight |= (unsigned char)d[i] >= 0x80;
		nul |= d[i] == '\0';
	}
	if (enc == NULL || strcmp(enc, "binary") == 0 || strcmp(enc, "8bit") == 0)
		enc = nul ? "binary" : eight ? "8bit" : "7bit";
	buf_putc(&c->line, '(');
	put_split_type(c, r->to);
	buf_puts(&c->line, " (\"charset\" ");
	put_quoted(c, c->params->target.charset != NULL ? c->params->target.charset : "utf-8");
	buf_puts(&c->line, ") NIL NIL ");
	put_quoted(c, enc);
	buf_printf(&c->line, " %zu %zu)", r->out.len, lines);
}

static void
put_targets(struct convert *c, const struct mail_convert_source *src)
{
	const char *targets[MAX_TARGETS];
	size_t n = mail_convert_targets(c->msg_arena, src, targets, MAX_TARGETS);

	buf_putc(&c->line, '(');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&c->line, ' ');
		put_quoted(c, targets[i]);
	}
	buf_putc(&c->line, ')');
}

/* AVAILABLECONVERSIONS[part]: what the part's type converts to, read from
   its MIME header alone (no conversion, so no size limit but the
   header's). 0, or -2 when the store failed. */
static int
put_available(struct convert *c, const struct store_message_info *info,
              const struct imap_convert_item *it, enum store_error *err_out)
{
	struct imap_fetch_item where = {.kind = IMAP_FETCH_BINARY,
	                                .path = it->path,
	                                .path_len = it->path_len,
	                                .text = IMAP_SECTION_WHOLE};
	struct mail_section sec;
	uint64_t off, len;
	struct mail_convert_source src;

	if (!imap_section_locate(info, &where, &sec, &off, &len)) {
		struct result r = {.item = it, .outcome = OUT_NO_PART};
		put_error(c, &r);
		return 0;
	}
	uint64_t hoff = it->path_len > 0 ? sec.header_off : 0;
	uint64_t hlen = sec.body_off > hoff ? sec.body_off - hoff : 0;
	buf_reset(&c->part);
	if (store_reader_read(c->reader, hoff, hlen, &c->part, err_out) < 0)
		return -2;
	mail_convert_source_of(c->msg_arena, part_bytes(c), c->part.len, &src);
	put_targets(c, &src);
	c->answered++;
	return 0;
}

/* The value of data item it into c->line. 0, or -2 when the store failed. */
static int
put_item(struct convert *c, const struct store_message_info *info,
         const struct imap_convert_item *it, enum store_error *err_out)
{
	struct buf *l = &c->line;

	buf_putc(l, ' ');
	buf_puts(l, it->name);
	if (it->kind == IMAP_CONVERT_AVAILABLECONVERSIONS) {
		buf_putc(l, ' ');
		return put_available(c, info, it, err_out);
	}
	struct result *r = result_for(c, info, it, err_out);
	if (r == NULL)
		return -2;
	if (r->outcome != OUT_OK) {
		buf_putc(l, ' ');
		put_error(c, r);
		return 0;
	}
	c->answered++;
	if (it->kind == IMAP_CONVERT_BINARY_SIZE) {
		buf_printf(l, " %zu", r->out.len);
		return 0;
	}
	if (it->kind == IMAP_CONVERT_BODYPARTSTRUCTURE) {
		buf_putc(l, ' ');
		put_structure(c, r);
		return 0;
	}
	uint64_t doff = 0, dlen = r->out.len;
	if (it->has_partial) {
		doff = MIN(it->partial_offset, dlen);
		dlen = MIN(dlen - doff, it->partial_length);
		buf_printf(l, "<%llu>", (unsigned long long)it->partial_offset);
	}
	const char *d = r->out.data != NULL ? r->out.data + doff : "";
	bool has_nul = dlen > 0 && memchr(d, '\0', dlen) != NULL;
	buf_printf(l, " %s{%llu}\r\n", has_nul ? "~" : "", (unsigned long long)dlen);
	buf_append(l, d, (size_t)dlen);
	return 0;
}

/* The CONVERTED response of one message. 1: sent; 0: expunged, skip; -1:
   the store failed (*err_out). */
static int
convert_message(struct convert *c, const struct store_message_info *info, enum store_error *err_out)
{
	struct imap_session *s = c->cmd->session;
	struct buf *l = &c->line;
	bool uid_asked = c->cmd->is_uid;

	if (info->uid == 0)
		return 0;
	if (store_reader_open(c->reader, s->mbox, info, err_out) < 0)
		return *err_out == STORE_ERR_EXPUNGED ? 0 : -1;
	arena_reset(c->msg_arena);
	c->n_results = 0;
	buf_reset(l);
	buf_printf(l, "%u CONVERTED (TAG ", store_mailbox_seq(s->mbox, info->uid));
	buf_puts(l, c->tag);
	buf_puts(l, ") (");
	for (size_t i = 0; i < c->req->n; i++)
		uid_asked |= c->req->items[i].kind == IMAP_CONVERT_UID;
	/* The UID first, then every BODYPARTSTRUCTURE (RFC 5259 8.2: before
	   the BINARY data, after the UID), then the rest as asked. The
	   leading space of the first item is taken out after. */
	size_t open = l->len;
	if (uid_asked)
		buf_printf(l, " UID %u", info->uid);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->req->n; i++) {
			const struct imap_convert_item *it = &c->req->items[i];
			bool structure = it->kind == IMAP_CONVERT_BODYPARTSTRUCTURE;
			if (it->kind == IMAP_CONVERT_UID || structure != (pass == 0))
				continue;
			if (put_item(c, info, it, err_out) < 0) {
				store_reader_close(c->reader);
				return -1;
			}
		}
	}
	memmove(l->data + open, l->data + open + 1, l->len - open - 1);
	l->len--;
	buf_putc(l, ')');
	store_reader_close(c->reader);
	imap_reply_untagged_data(s, l->data, l->len);
	return 1;
}

enum imap_cmd_status
imap_convert_run(struct imap_cmd *cmd, const struct imap_convert_request *req, const uint32_t *uids,
                 size_t n)
{
	struct imap_session *s = cmd->session;
	struct convert c = {.cmd = cmd,
	                    .req = req,
	                    .params = &req->params,
	                    .budget = s->settings.max_session_memory};
	struct store_message_info infos[BATCH];
	struct arena *batch = arena_new(8192);
	enum store_error err = STORE_ERR_TEMP;
	bool store_failed = false;

	c.tag = imap_quote(cmd->arena, cmd->tag);
	c.reader = store_reader_new();
	c.msg_arena = arena_new(4096);
	c.results = arena_alloc(cmd->arena, req->n * sizeof(*c.results));
	for (size_t i = 0; i < req->n; i++)
		buf_init(&c.results[i].out);
	buf_init(&c.part);
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
	} else if (n > 0 && c.answered == 0) {
		/* Section 9: "If all conversions fail, the server MAY return OK
		   or NO"; NO tells a client that checks only the tagged reply. */
		imap_reply_no(cmd, "No conversion succeeded");
	} else {
		imap_reply_ok(cmd, "%s completed", cmd->name);
	}
	buf_deinit(&c.line);
	buf_deinit(&c.part);
	for (size_t i = 0; i < req->n; i++)
		buf_deinit(&c.results[i].out);
	arena_free(&c.msg_arena);
	store_reader_free(&c.reader);
	arena_free(&batch);
	return IMAP_CMD_DONE;
}
