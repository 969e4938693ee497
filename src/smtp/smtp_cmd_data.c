/* SPDX-License-Identifier: MIT */
/*
 * smtp_cmd_data.c: the two ways a message arrives. DATA (RFC 5321 section
 * 4.1.1.4): "354", then bytes through the dot decoder (smtp_parse.h) up to
 * CRLF.CRLF, never buffered whole: each piece goes to the spool as it comes.
 * BDAT (RFC 3030 CHUNKING, needed for BINARYMIME): chunks of a stated size,
 * each answered once read; the last one ends the message. A refused BDAT
 * (no recipients, a failed earlier chunk) still reads its chunk, so the
 * client and the server stay in step (RFC 3030 section 2).
 *
 * While the bytes arrive the command waits only for the client
 * (session_command_wait_client): a shutdown then ends the session at once
 * with 421, and the message, never acknowledged, is the client's to retry.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "lib/log.h"
#include "smtp/smtp_session.h"

void
smtp_cmd_data(struct smtp_session *s, const struct smtp_command *c)
{
	if (c->arg[0] != '\0') {
		smtp_reply_error(s, 501, "5.5.4", "Syntax: DATA");
	} else if (s->tx.is_bdat) {
		smtp_reply_error(s, 503, "5.5.1", "DATA not allowed after BDAT");
	} else if (s->tx.n_rcpts == 0) {
		/* RFC 2920 section 3.1: all RCPTs of a pipelined batch failed. */
		smtp_reply_error(s, 554, "5.5.1", "No valid recipients");
	} else if (s->tx.mail.body == SMTP_BODY_BINARYMIME) {
		smtp_reply_error(s, 503, "5.5.1", "BODY=BINARYMIME requires BDAT");
	} else if (smtp_message_begin(s)) {
		smtp_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
		if (s->decode_buf == NULL)
			s->decode_buf = xmalloc(SMTP_DECODE_CHUNK);
		smtp_dot_decoder_init(&s->dot);
		s->mode = SMTP_MODE_DATA;
		session_command_wait_client(&s->base);
		return;
	}
	smtp_cmd_done(s);
}

bool
smtp_data_input(struct smtp_session *s)
{
	struct evbuffer *in = session_input(&s->base);
	struct evbuffer_iovec vec;

	while (evbuffer_peek(in, -1, NULL, &vec, 1) >= 1 && vec.iov_len > 0) {
		size_t len = MIN(vec.iov_len, SMTP_DECODE_CHUNK), out_len;
		size_t used = smtp_dot_decode(&s->dot, vec.iov_base, len, s->decode_buf, &out_len);
		if (out_len > 0)
			smtp_message_write(s, s->decode_buf, out_len);
		evbuffer_drain(in, used);
		if (s->dot.is_done) {
			s->mode = SMTP_MODE_COMMAND;
			/* The command runs again: stops wait for the delivery. */
			session_command_begin(&s->base, NULL);
			smtp_message_end(s);
			return true;
		}
	}
	return false;
}

static void
bdat_sink(void *arg, const char *data, size_t len)
{
	struct smtp_session *s = arg;

	if (!s->bdat_discard)
		smtp_message_write(s, data, len);
}

void
smtp_cmd_bdat(struct smtp_session *s, const struct smtp_command *c)
{
	uint64_t size;
	bool last;

	if (!smtp_bdat_parse(c->arg, &size, &last)) {
		/* Without a size the chunk cannot be skipped: the bytes that
		   follow will read as (bad) commands. */
		smtp_reply_error(s, 501, "5.5.4", "Syntax: BDAT size [LAST]");
		smtp_cmd_done(s);
		return;
	}
	s->bdat_left = size;
	s->bdat_last = last;
	s->bdat_discard = false;
	s->bdat_refusal = NULL;
	if (s->state == SMTP_STATE_GREETED || s->state == SMTP_STATE_READY) {
		s->bdat_discard = true;
		s->bdat_refusal = "Send MAIL first";
	} else if (s->tx.n_rcpts == 0) {
		s->bdat_discard = true;
		s->bdat_refusal = "No valid recipients";
	} else if (!s->tx.is_bdat) {
		if (!smtp_message_begin(s)) {
			/* 451 was sent; the chunk still has to be read. */
			s->bdat_discard = true;
			s->bdat_refusal = "";
		} else {
			s->tx.is_bdat = true;
		}
	}
	s->mode = SMTP_MODE_BDAT;
	session_command_wait_client(&s->base);
}

bool
smtp_bdat_input(struct smtp_session *s)
{
	if (s->bdat_left > 0) {
		s->bdat_left -= session_read_bytes(&s->base, s->bdat_left, bdat_sink, s);
		if (s->bdat_left > 0)
			return false;
	}
	s->mode = SMTP_MODE_COMMAND;
	session_command_begin(&s->base, NULL);
	if (s->bdat_discard) {
		if (s->bdat_refusal[0] != '\0')
			smtp_reply_error(s, 503, "5.5.1", "%s", s->bdat_refusal);
		if (s->tx.is_bdat || s->bdat_refusal[0] == '\0')
			smtp_tx_reset(s);
		smtp_cmd_done(s);
		return true;
	}
	if (s->bdat_last) {
		smtp_message_end(s);
		return true;
	}
	if (s->data_error != SMTP_DATA_OK) {
		/* Say so now; the client must not send more (RFC 3030 section 2). */
		if (s->data_error == SMTP_DATA_TOOBIG)
			smtp_reply(s, 552, "5.3.4", "Message too big (limit %llu bytes)",
			           (unsigned long long)s->cfg->s.max_message_size);
		else
			smtp_reply(s, 451, "4.3.0", "Temporary failure, try again later (sid %s)",
			           s->base.log.sid);
		smtp_tx_reset(s);
		smtp_cmd_done(s);
		return true;
	}
	smtp_reply(s, 250, "2.0.0", "Chunk received");
	smtp_cmd_done(s);
	return true;
}
