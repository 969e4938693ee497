/* SPDX-License-Identifier: MIT */
/*
 * imap_fetch.c: writes FETCH responses (RFC 9051 sections 6.4.5, 7.5.2;
 * RFC 3516 BINARY; RFC 7162 MODSEQ; RFC 8474 EMAILID/THREADID; RFC 8514
 * SAVEDATE; RFC 8970 PREVIEW; RFC 5257 ANNOTATION), one message at a time,
 * with bounded memory.
 *
 * Flow: metadata from the store cache (store_message_lookup, nothing
 * reparsed) for a batch of messages in one read transaction, and only when
 * an item needs it: FLAGS, UID and MODSEQ come from the shared view
 * (store_mailbox_flags_get) with no index read at all. Per message, a
 * store reader (one per command) opens it (store_reader_open, from what
 * the lookup gave; it survives an expunge, so a literal whose length is sent
 * can always be finished), then a list of pieces is made: response text,
 * transformed bytes in memory, or byte ranges of the message. The pump
 * copies at most CHUNK bytes of a piece at a time into one output buffer
 * (the reader reads message bytes straight into it, whether the store
 * keeps them in its index or in a file) and hands that block to net once FLUSH
 * bytes have gathered (net_conn_write_take: no copy), so a FETCH 1:* is a
 * few large writes rather than one per response. When
 * net_conn_output_full() says the client is behind, the command parks
 * (imap_cmd_resume_on_drain) and goes on from the same piece and offset
 * when the queue has drained. So a session holds at most one
 * batch's metadata, one message's transformed sections (HEADER.FIELDS
 * subsets, BINARY decoding), FLUSH + CHUNK gathered bytes and
 * limits.max_output of queued output, whatever the FETCH asks for.
 *
 * Sections: the store's part table (mail_section_lookup) gives each part's
 * header and body offsets. HEADER/TEXT/HEADER.FIELDS after part numbers
 * need a message/rfc822 part; a part that does not exist, or a section
 * that does not apply to it, is answered NIL (as Dovecot does) rather
 * than failing the whole FETCH (imap_section.c). BINARY of a multipart or
 * message part is its content with every encoded part inside decoded (as
 * Dovecot answers it); an unknown Content-Transfer-Encoding fails the
 * command with NO [UNKNOWN-CTE].
 *
 * PREVIEW is cached at delivery; a message stored before that has none
 * until its first PREVIEW without LAZY makes it (store_message_preview_make,
 * a bounded read), or the store's indexer thread does. PREVIEW (LAZY) never
 * makes one: it answers NIL, which RFC 8970 section 3.2 allows only with
 * LAZY. After MADE_PER_TURN made here the pump gives the worker back for a
 * turn (session_delay 0), so a FETCH 1:* PREVIEW of 10,000 old messages
 * does not hold the other sessions for seconds.
 *
 * Expunged by another session: until this session is sent the EXPUNGE,
 * its snapshot still numbers the message, and the store keeps the row as it
 * was and the immutable bytes (RFC 2180 4.1.1, as Dovecot and Cyrus do), so
 * the FETCH is answered as if nothing happened. Only a message the store
 * could not find at all is skipped, before any of its bytes are sent: FETCH
 * then ends with NO [EXPUNGEISSUED], UID FETCH with OK (a UID that is gone
 * is simply ignored, RFC 9051 6.4.9).
 */
#include "imap/imap_fetch.h"

#include <string.h>

#include "imap/imap_annotate.h"
#include "imap/imap_flags.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_section.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/sorted.h"
#include "mail/imap_string.h"
#include "mail/message.h"
#include "net/net.h"
#include "session/session.h"
#include "store/store.h"

#define CHUNK       (64 * 1024) /* bytes of one piece copied per step */
#define FLUSH       (64 * 1024) /* gathered output handed to net at once */
#define BATCH       64          /* messages per metadata lookup */
#define BATCH_TEXTS 16          /* ... when ENVELOPE, BODYSTRUCTURE etc. are copied too */
#define MSG_ARENA   8192
/* Previews made from the bytes (messages stored before they were kept:
   a read of up to 1 MiB and a parse each) before the pump lets the
   worker's other sessions in for a turn. */
#define MADE_PER_TURN 16

/* What a message's response is made of, in order. */
enum piece_kind {
	PIECE_TEXT, /* bytes [off, off + len) of the message's response text */
	PIECE_MEM,  /* len bytes at data (message arena): transformed sections */
	PIECE_FILE, /* bytes [off, off + len) of the message (store reader) */
};

struct piece {
	enum piece_kind kind;
	const char *data;
	uint64_t off, len;
};

struct fetch {
	struct imap_fetch_request req;
	const uint32_t *uids;
	size_t n, next;
	const uint32_t *seen_set;
	size_t n_seen_set;
	bool needs_meta;           /* some item needs store_message_lookup() */
	struct arena *batch_arena; /* metadata of uids[batch_start, +batch_n) */
	struct store_message_info *infos;
	size_t batch_start, batch_n, batch_max;
	struct arena *msg_arena;     /* one message's transformed bytes, pieces */
	struct buf text;             /* one message's response text */
	struct store_reader *reader; /* the current message's bytes (needs_content) */
	struct buf scratch;          /* a section read for HEADER.FIELDS or BINARY */
	struct piece *pieces;
	size_t n_pieces, cap_pieces, cur;
	uint64_t done;     /* bytes of pieces[cur] copied */
	struct buf out;    /* gathered output, not yet handed to net */
	uint32_t seq_next; /* snapshot index after the last message sent */
	uint64_t kw_mask;  /* keywords last formatted, and their names */
	struct buf kw_names;
	bool skipped_expunged;
	unsigned n_made;                     /* previews made since the last turn */
	const char *fail_status, *fail_text; /* a tagged reply other than OK */
	const char *ok_text;                 /* the tagged OK's text, or NULL */
};

static void
fetch_release(struct imap_cmd *cmd)
{
	struct fetch *f = cmd->data;

	store_reader_free(&f->reader);
	buf_deinit(&f->scratch);
	arena_free(&f->msg_arena);
	arena_free(&f->batch_arena);
	buf_deinit(&f->text);
	buf_deinit(&f->out);
	buf_deinit(&f->kw_names);
}

static void
add_piece(struct fetch *f, enum piece_kind kind, const char *data, uint64_t off, uint64_t len)
{
	if (len == 0)
		return;
	if (f->n_pieces == f->cap_pieces) {
		size_t cap = f->cap_pieces ? f->cap_pieces * 2 : 8;
		struct piece *p = arena_alloc(f->msg_arena, cap * sizeof(*p));
		if (f->n_pieces > 0)
			memcpy(p, f->pieces, f->n_pieces * sizeof(*p));
		f->pieces = p;
		f->cap_pieces = cap;
	}
	f->pieces[f->n_pieces++] = (struct piece){kind, data, off, len};
}

/* Ends the text piece that started at *mark: the text gathered since. */
static void
flush_text(struct fetch *f, size_t *mark)
{
	add_piece(f, PIECE_TEXT, NULL, *mark, f->text.len - *mark);
	*mark = f->text.len;
}

/* Reads [off, off + len) of the open message, NUL-terminated; valid until
   the next call. NULL when the message is shorter (never trusted). */
static const char *
read_range(struct fetch *f, uint64_t off, uint64_t len)
{
	enum store_error err;

	buf_reset(&f->scratch);
	if (store_reader_read(f->reader, off, len, &f->scratch, &err) < 0 || f->scratch.len != len)
		return NULL;
	return f->scratch.data != NULL ? f->scratch.data : "";
}

/* Clamps the range at *off (*len bytes) to the item's <partial>; adds "<origin>" to text. */
static void
apply_partial(const struct imap_fetch_item *it, struct buf *text, uint64_t *off, uint64_t *len)
{
	if (!it->has_partial)
		return;
	/* RFC 9051 6.4.5: beyond the end gives an empty string; the origin
	   is echoed even when the data was truncated. */
	imap_section_partial(it, off, len);
	buf_printf(text, "<%llu>", (unsigned long long)it->partial_offset);
}

static void
literal_header(struct buf *text, uint64_t len, bool literal8)
{
	buf_printf(text, " %s{%llu}\r\n", literal8 ? "~" : "", (unsigned long long)len);
}

/* ANNOTATION (RFC 5257 section 4.2): the values this session's user sees,
   read from the owner's store for this message. -1 when it cannot be read. */
static int
add_annotation(struct imap_session *s, struct fetch *f, uint32_t uid,
               const struct imap_fetch_item *it)
{
	struct store_annotation *v;
	size_t n;
	enum store_error err;

	if (store_annotation_get(s->mbox, uid, s->user.address, f->msg_arena, &v, &n, &err) < 0) {
		log_error("imap", "event=fetch-annotation-failed uid=%u err=\"%s\"", uid,
		          store_error_str(err));
		return -1;
	}
	imap_annotate_fetch_append(f->msg_arena, &f->text, it->annotate, v, n);
	return 0;
}

/*
 * BODY[...] and RFC822*: a range of the file, or, for HEADER.FIELDS, the
 * subset built in memory. *mark: where the current text piece starts.
 */
static void
add_section(struct fetch *f, const struct store_message_info *info,
            const struct imap_fetch_item *it, size_t *mark)
{
	struct buf *text = &f->text;
	struct mail_section sec;
	uint64_t off, len;

	buf_puts(text, it->name);
	if (!imap_section_locate(info, it, &sec, &off, &len)) {
		if (it->has_partial)
			buf_printf(text, "<%llu>", (unsigned long long)it->partial_offset);
		buf_puts(text, " NIL");
		return;
	}
	if (it->text == IMAP_SECTION_HEADER_FIELDS || it->text == IMAP_SECTION_HEADER_FIELDS_NOT) {
		const char *hdr = read_range(f, off, len);
		struct buf sub;
		buf_init(&sub);
		if (hdr != NULL)
			imap_fetch_header_filter(hdr, len, it->fields, it->n_fields,
			                         it->text == IMAP_SECTION_HEADER_FIELDS, &sub);
		/* RFC 9051 6.4.5: the partial applies after subsetting. */
		uint64_t soff = 0, slen = sub.len;
		apply_partial(it, text, &soff, &slen);
		literal_header(text, slen, false);
		flush_text(f, mark);
		if (slen > 0)
			add_piece(f, PIECE_MEM, arena_memdup(f->msg_arena, sub.data + soff, slen),
			          0, slen);
		buf_deinit(&sub);
		return;
	}
	apply_partial(it, text, &off, &len);
	literal_header(text, len, false);
	flush_text(f, mark);
	add_piece(f, PIECE_FILE, NULL, off, len);
}

/*
 * BINARY[...] and BINARY.SIZE[...]: the part's body decoded. Returns -1
 * when the encoding is unknown (the command fails with UNKNOWN-CTE).
 */
static int
add_binary(struct fetch *f, const struct store_message_info *info, const struct imap_fetch_item *it,
           size_t *mark)
{
	struct buf *text = &f->text;
	struct mail_section sec;
	uint64_t off, len;

	buf_puts(text, it->name);
	if (!imap_section_locate(info, it, &sec, &off, &len)) {
		if (it->has_partial)
			buf_printf(text, "<%llu>", (unsigned long long)it->partial_offset);
		buf_puts(text, it->kind == IMAP_FETCH_BINARY_SIZE ? " 0" : " NIL");
		return 0;
	}
	/* A multipart or message/rfc822 part is decoded whole, from its own
	   header on (imap_section_binary). */
	bool composite = it->path_len > 0 && (sec.is_multipart || sec.is_message);
	uint64_t eoff = composite ? sec.header_off : off;
	uint64_t elen = composite ? sec.body_off + sec.body_len - sec.header_off : len;
	const char *raw = read_range(f, eoff, elen);
	struct buf dec;
	buf_init(&dec);
	if (raw == NULL ||
	    imap_section_binary(f->msg_arena, it, &sec, (const unsigned char *)raw + (off - eoff),
	                        len, (const unsigned char *)raw, elen, &dec) < 0) {
		buf_deinit(&dec);
		return raw == NULL ? 0 : -1;
	}
	if (it->kind == IMAP_FETCH_BINARY_SIZE) {
		buf_printf(text, " %zu", dec.len);
		buf_deinit(&dec);
		return 0;
	}
	uint64_t doff = 0, dlen = dec.len;
	apply_partial(it, text, &doff, &dlen);
	/* RFC 3516 4.3: literal8 only when the data holds NUL. */
	literal_header(text, dlen, dlen > 0 && memchr(dec.data + doff, '\0', dlen) != NULL);
	flush_text(f, mark);
	if (dlen > 0)
		add_piece(f, PIECE_MEM, arena_memdup(f->msg_arena, dec.data + doff, dlen), 0, dlen);
	buf_deinit(&dec);
	return 0;
}

/* "FLAGS (...)": system flags, \Recent, then keywords, whose names are
   formatted once per distinct mask (the store takes a lock for them). */
static void
add_flags(struct imap_session *s, struct fetch *f, uint32_t uid, uint32_t flags, uint64_t keywords)
{
	struct buf *text = &f->text;
	size_t start;

	buf_puts(text, "FLAGS (");
	start = text->len;
	imap_flags_append(s, f->msg_arena, text, flags, 0, store_mailbox_is_recent(s->mbox, uid));
	if (keywords != 0) {
		if (keywords != f->kw_mask) {
			buf_reset(&f->kw_names);
			imap_flags_append(s, f->msg_arena, &f->kw_names, 0, keywords, false);
			f->kw_mask = keywords;
		}
		if (text->len > start && f->kw_names.len > 0)
			buf_putc(text, ' ');
		buf_append(text, f->kw_names.data, f->kw_names.len);
	}
	buf_putc(text, ')');
}

/* Sequence number of uid. uids ascend through the session's snapshot,
   which does not move during the command, so the index after the last one
   is nearly always right; otherwise search. */
static uint32_t
seq_of(struct imap_session *s, struct fetch *f, uint32_t uid)
{
	uint32_t count, seq;
	const uint32_t *all = store_mailbox_uids(s->mbox, &count);

	if (f->seq_next < count && all[f->seq_next] == uid)
		seq = f->seq_next + 1;
	else
		seq = store_mailbox_seq(s->mbox, uid);
	if (seq != 0)
		f->seq_next = seq;
	return seq;
}

/* The metadata of uids[i]: looked up with the next messages when not in
   the current batch. NULL with *err_out when the store failed. */
static const struct store_message_info *
batch_info(struct imap_session *s, struct fetch *f, size_t i, enum store_error *err_out)
{
	if (i < f->batch_start || i >= f->batch_start + f->batch_n) {
		size_t n = f->n - i < f->batch_max ? f->n - i : f->batch_max;
		arena_reset(f->batch_arena);
		f->batch_n = 0;
		if (store_message_lookup(s->mbox, f->uids + i, n, f->req.store_fields,
		                         f->batch_arena, f->infos, err_out) < 0)
			return NULL;
		f->batch_start = i;
		f->batch_n = n;
	}
	return &f->infos[i - f->batch_start];
}

/* "PREVIEW <nstring>" (RFC 8970 section 3.1). 0, or -1 with *err_out. */
static int
add_preview(struct imap_session *s, struct fetch *f, const struct store_message_info *info,
            const struct imap_fetch_item *it, enum store_error *err_out)
{
	const char *preview = info->preview;

	buf_puts(&f->text, "PREVIEW ");
	if (preview == NULL && it->is_lazy) {
		buf_puts(&f->text, "NIL");
		return 0;
	}
	if (preview == NULL) {
		f->n_made++;
		if (store_message_preview_make(s->mbox, info, f->msg_arena, &preview, err_out) < 0)
			return -1;
	}
	/* Valid UTF-8 without NUL: quoted where the session takes UTF-8 in
	   quoted strings, else a literal. Cannot fail. */
	(void)mail_imap_string_append(&f->text, preview, strlen(preview),
	                              s->utf8_names ? MAIL_IMAP_STRING_UTF8 : 0);
	return 0;
}

/* The FETCH ends NO [UNAVAILABLE] (a store failure: try again). */
static void
fail_temporarily(struct imap_session *s, struct fetch *f, struct imap_cmd *cmd)
{
	f->fail_status = "NO";
	f->fail_text = arena_printf(cmd->arena,
	                            imap_reply_text(s, "[UNAVAILABLE] Temporary failure (sid %s)"),
	                            s->base.log.sid);
}

/* "* seq FETCH (...)" for uids[i]. 1: pieces ready; 0: expunged, skip; -1: failed. */
static int
prepare_message(struct imap_cmd *cmd, struct fetch *f, size_t i)
{
	struct imap_session *s = cmd->session;
	uint32_t uid = f->uids[i];
	struct store_message_info none = {.uid = uid};
	const struct store_message_info *info = &none;
	uint32_t flags;
	uint64_t keywords, modseq, size;
	enum store_error err;

	if (f->needs_meta) {
		info = batch_info(s, f, i, &err);
		if (info == NULL) {
			log_error("imap", "event=fetch-lookup-failed uid=%u err=\"%s\"", uid,
			          store_error_str(err));
			fail_temporarily(s, f, cmd);
			return -1;
		}
	}
	if (info->uid == 0)
		return 0;
	if (store_mailbox_flags_get(s->mbox, uid, &flags, &keywords, &modseq, &err) < 0) {
		/* Expunged by another session, and this one not told yet: the
		   store kept the row as it was (RFC 2180 4.1.1). */
		struct store_message_info *kept = arena_zalloc(f->msg_arena, sizeof(*kept));
		if (!f->needs_meta &&
		    store_message_lookup(s->mbox, &uid, 1, STORE_FETCH_BASIC, f->msg_arena, kept,
		                         &err) == 0 &&
		    kept->uid != 0)
			info = kept;
		else if (!f->needs_meta)
			return 0;
		flags = info->flags;
		keywords = info->keywords;
		modseq = info->modseq;
	}
	size = info->size;
	if (f->req.needs_content) {
		if (store_reader_open(f->reader, s->mbox, info, &err) < 0) {
			if (err == STORE_ERR_EXPUNGED)
				return 0;
			log_error("imap", "event=fetch-open-failed uid=%u err=\"%s\"", uid,
			          store_error_str(err));
			fail_temporarily(s, f, cmd);
			if (err == STORE_ERR_CORRUPT)
				f->fail_text = arena_printf(
				        cmd->arena,
				        imap_reply_text(s, "[SERVERBUG] Internal error (sid %s)"),
				        s->base.log.sid);
			return -1;
		}
		if (store_reader_size(f->reader) < size)
			size = store_reader_size(f->reader); /* never promise bytes it lacks */
	}
	struct store_message_info sized;
	if (size != info->size) {
		sized = *info;
		sized.size = size;
		info = &sized;
	}

	bool seen_now = sorted_u32_contains(f->seen_set, f->n_seen_set, uid);
	bool first = true;
	struct buf *text = &f->text;
	size_t mark = 0;
	int rc = 1;

	buf_reset(text);
	/* A keyword another session just created is announced first, in
	   order with the rest of the output (RFC 9051 7.3.5). */
	if (f->req.has_flags || seen_now)
		imap_mailbox_announce_keywords(s, keywords, text);
	buf_puts(text, "* ");
	buf_put_u64(text, seq_of(s, f, uid));
	buf_puts(text, " FETCH (");
	/* RFC 9051 6.4.9: UID FETCH responses always carry UID; with QRESYNC
	   so does one that reports the \Seen it set (RFC 7162 3.2.4). */
	if ((cmd->is_uid || (seen_now && s->qresync)) && !f->req.has_uid) {
		buf_puts(text, "UID ");
		buf_put_u64(text, uid);
		first = false;
	}
	for (size_t k = 0; k < f->req.n && rc > 0; k++) {
		const struct imap_fetch_item *it = &f->req.items[k];
		if (!first)
			buf_putc(text, ' ');
		first = false;
		switch (it->kind) {
		case IMAP_FETCH_FLAGS:
			add_flags(s, f, uid, flags, keywords);
			break;
		case IMAP_FETCH_INTERNALDATE:
			buf_printf(text, "INTERNALDATE \"%s\"",
			           imap_date_time_format(f->msg_arena, info->internal_date));
			break;
		case IMAP_FETCH_RFC822_SIZE:
			buf_puts(text, "RFC822.SIZE ");
			buf_put_u64(text, info->size);
			break;
		case IMAP_FETCH_ENVELOPE:
			buf_puts(text, "ENVELOPE ");
			buf_puts(text, info->envelope ? info->envelope : "NIL");
			break;
		case IMAP_FETCH_BODY:
			buf_puts(text, "BODY ");
			buf_puts(text, info->body ? info->body : "NIL");
			break;
		case IMAP_FETCH_BODYSTRUCTURE:
			buf_puts(text, "BODYSTRUCTURE ");
			buf_puts(text, info->bodystructure ? info->bodystructure : "NIL");
			break;
		case IMAP_FETCH_UID:
			buf_puts(text, "UID ");
			buf_put_u64(text, uid);
			break;
		case IMAP_FETCH_MODSEQ:
			buf_puts(text, "MODSEQ (");
			buf_put_u64(text, modseq);
			buf_putc(text, ')');
			break;
		case IMAP_FETCH_EMAILID:
			buf_printf(text, "EMAILID (%s)", info->email_id);
			break;
		case IMAP_FETCH_THREADID:
			if (info->thread_id[0] != '\0')
				buf_printf(text, "THREADID (%s)", info->thread_id);
			else
				buf_puts(text, "THREADID NIL");
			break;
		case IMAP_FETCH_SAVEDATE:
			if (info->save_date != 0)
				buf_printf(text, "SAVEDATE \"%s\"",
				           imap_date_time_format(f->msg_arena, info->save_date));
			else
				buf_puts(text, "SAVEDATE NIL");
			break;
		case IMAP_FETCH_SECTION:
			add_section(f, info, it, &mark);
			break;
		case IMAP_FETCH_PREVIEW:
			if (add_preview(s, f, info, it, &err) < 0) {
				if (err == STORE_ERR_EXPUNGED)
					return 0;
				log_error("imap", "event=fetch-preview-failed uid=%u err=\"%s\"",
				          uid, store_error_str(err));
				fail_temporarily(s, f, cmd);
				rc = -1;
			}
			break;
		case IMAP_FETCH_ANNOTATION:
			if (add_annotation(s, f, uid, it) < 0) {
				fail_temporarily(s, f, cmd);
				rc = -1;
			}
			break;
		case IMAP_FETCH_BINARY:
		case IMAP_FETCH_BINARY_SIZE:
			if (add_binary(f, info, it, &mark) < 0) {
				f->fail_status = "NO";
				f->fail_text =
				        "[UNKNOWN-CTE] Cannot decode this Content-Transfer-Encoding";
				rc = -1;
			}
			break;
		}
	}
	if (rc > 0) {
		/* RFC 9051 6.4.5: the \Seen this FETCH set goes out with it; with
		   CONDSTORE so does the new MODSEQ (RFC 7162 3.2). */
		if (seen_now && !f->req.has_flags) {
			if (!first)
				buf_putc(text, ' ');
			add_flags(s, f, uid, flags, keywords);
			first = false;
		}
		if (seen_now && s->condstore && !f->req.has_modseq) {
			buf_puts(text, first ? "MODSEQ (" : " MODSEQ (");
			buf_put_u64(text, modseq);
			buf_putc(text, ')');
		}
		buf_puts(text, ")\r\n");
		flush_text(f, &mark);
	}
	return rc;
}

/* Copies up to CHUNK bytes of the current piece into the output buffer.
   -1 when the file fails. */
static int
write_some(struct fetch *f)
{
	struct piece *p = &f->pieces[f->cur];
	uint64_t left = p->len - f->done;
	size_t n = left < CHUNK ? (size_t)left : CHUNK;

	switch (p->kind) {
	case PIECE_TEXT:
		buf_append(&f->out, f->text.data + p->off + f->done, n);
		break;
	case PIECE_MEM:
		buf_append(&f->out, p->data + f->done, n);
		break;
	case PIECE_FILE: {
		/* Straight from the store into the output buffer. */
		size_t before = f->out.len;
		enum store_error err;
		if (store_reader_read(f->reader, p->off + f->done, n, &f->out, &err) < 0 ||
		    f->out.len == before)
			return -1;
		n = f->out.len - before;
		break;
	}
	}
	f->done += n;
	if (f->done == p->len) {
		f->cur++;
		f->done = 0;
	}
	return 0;
}

/* Hands the gathered output to net. */
static void
flush_out(struct imap_session *s, struct fetch *f)
{
	size_t len = f->out.len;

	if (len == 0)
		return;
	/* Handed over, not copied: net frees the block once it is sent. */
	char *data = buf_steal(&f->out);
	net_conn_write_take(s->base.conn, xrealloc(data, len), len);
	buf_reserve(&f->out, FLUSH + CHUNK - 1); /* one allocation, not a doubling series */
}

static void
end_message(struct fetch *f)
{
	if (f->reader != NULL)
		store_reader_close(f->reader);
	f->pieces = NULL;
	f->n_pieces = f->cap_pieces = f->cur = 0;
	f->done = 0;
	arena_reset(f->msg_arena);
}

static enum imap_cmd_status fetch_pump(struct imap_cmd *cmd);

/* The next turn, after the other sessions' (MADE_PER_TURN). */
static void
fetch_resume(struct session *base)
{
	struct imap_session *s = (struct imap_session *)base;

	if (fetch_pump(&s->cmd) == IMAP_CMD_DONE)
		imap_cmd_finish(&s->cmd);
}

static enum imap_cmd_status
fetch_pump(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct fetch *f = cmd->data;

	for (;;) {
		if (f->out.len >= FLUSH)
			flush_out(s, f);
		if (net_conn_output_full(s->base.conn)) {
			/* Whatever is still gathered goes after the drain. */
			imap_cmd_resume_on_drain(cmd, fetch_pump);
			return IMAP_CMD_WAIT;
		}
		if (f->cur < f->n_pieces) {
			if (write_some(f) < 0) {
				/* The literal's length is out; nothing correct can
				   follow. Dovecot disconnects here too. */
				log_error("imap", "event=fetch-read-failed uid=%u",
				          f->uids[f->next - 1]);
				flush_out(s, f);
				fetch_release(cmd);
				imap_session_bye(s, "Internal error reading a message");
				return IMAP_CMD_DONE;
			}
			continue;
		}
		end_message(f);
		if (f->fail_status != NULL || f->next == f->n)
			break;
		if (f->n_made >= MADE_PER_TURN) {
			f->n_made = 0;
			flush_out(s, f);
			session_delay(&s->base, 0, fetch_resume);
			return IMAP_CMD_WAIT;
		}
		int rc = prepare_message(cmd, f, f->next++);
		if (rc == 0) {
			f->skipped_expunged = true;
			end_message(f);
		} else if (rc < 0) {
			end_message(f);
		}
	}
	flush_out(s, f);
	fetch_release(cmd);
	if (f->fail_status != NULL)
		imap_reply_tagged(cmd, f->fail_status, "%s", f->fail_text);
	else if (f->skipped_expunged && !cmd->is_uid)
		imap_reply_no(cmd, "[EXPUNGEISSUED] Some messages were expunged meanwhile");
	else if (f->ok_text != NULL)
		imap_reply_ok(cmd, "%s", f->ok_text);
	else
		imap_reply_ok(cmd, "%s completed", cmd->name);
	return IMAP_CMD_DONE;
}

/* True when some item needs more than the view has (FLAGS, UID, MODSEQ)
   or reads its own table (ANNOTATION). */
static bool
needs_meta(const struct imap_fetch_request *req)
{
	for (size_t i = 0; i < req->n; i++) {
		enum imap_fetch_kind k = req->items[i].kind;
		if (k != IMAP_FETCH_FLAGS && k != IMAP_FETCH_UID && k != IMAP_FETCH_MODSEQ &&
		    k != IMAP_FETCH_ANNOTATION)
			return true;
	}
	return false;
}

enum imap_cmd_status
imap_fetch_run(struct imap_cmd *cmd, const struct imap_fetch_request *req, const uint32_t *uids,
               size_t n, const uint32_t *seen_set, size_t n_seen_set, const char *ok_text)
{
	struct fetch *f = arena_zalloc(cmd->arena, sizeof(*f));

	f->ok_text = ok_text;
	f->req = *req;
	f->uids = uids;
	f->n = n;
	f->seen_set = seen_set;
	f->n_seen_set = n_seen_set;
	f->msg_arena = arena_new(MSG_ARENA);
	if (req->needs_content)
		f->reader = store_reader_new();
	f->needs_meta = needs_meta(req);
	if (f->needs_meta) {
		/* Cached strings can be long (a BODYSTRUCTURE of many parts):
		   smaller batches keep the metadata held at once small. */
		f->batch_max = req->store_fields & (STORE_FETCH_ENVELOPE | STORE_FETCH_STRUCTURE |
		                                    STORE_FETCH_SORT)
		                       ? BATCH_TEXTS
		                       : BATCH;
		f->batch_arena = arena_new(MSG_ARENA);
		f->infos = arena_alloc(cmd->arena, f->batch_max * sizeof(*f->infos));
	}
	buf_init(&f->text);
	buf_init(&f->scratch);
	buf_init(&f->out);
	buf_init(&f->kw_names);
	cmd->data = f;
	cmd->on_free = fetch_release;
	return fetch_pump(cmd);
}
