/* SPDX-License-Identifier: MIT */
/*
 * pop3_retr.c: RETR and TOP (RFC 1939 sections 7 and 9). The message is
 * streamed from the store in 64 KiB reads, byte-stuffed as it goes
 * (pop3_stuffer), and the session waits for the client whenever the output
 * queue is full, so a 50 MB message costs the session a few buffers. A
 * message another session expunged after this maildrop was opened gets a
 * clear -ERR (its number stays valid until QUIT).
 */
#include "lib/buf.h"
#include "lib/log.h"
#include "net/net.h"
#include "pop3/pop3_session.h"

#define READ_CHUNK (64 * 1024)

static void
retr_end(struct pop3_session *s)
{
	if (s->reader != NULL)
		store_reader_close(s->reader);
}

/* Sends until the message is done (true) or the client is behind. */
static bool
retr_pump(struct pop3_session *s)
{
	struct buf chunk, out;
	enum store_error err;

	buf_init(&chunk);
	buf_init(&out);
	while (!net_conn_output_full(s->base.conn)) {
		buf_reset(&chunk);
		if (store_reader_read(s->reader, s->retr_offset, READ_CHUNK, &chunk, &err) < 0) {
			log_error("pop3", "event=read-failed uid=%u err=\"%s\"",
			          s->md.uids[s->retr_index], store_error_str(err));
			buf_deinit(&chunk);
			buf_deinit(&out);
			retr_end(s);
			/* Part of the message went out: the response cannot be
			   ended cleanly, only the connection. */
			pop3_session_end(s, "-ERR [SYS/TEMP] Error reading the message");
			return true;
		}
		s->retr_offset += chunk.len;
		bool more = chunk.len > 0 &&
		            pop3_stuffer_feed(&s->stuffer, chunk.data, chunk.len, &out);
		if (!more) {
			pop3_stuffer_end(&s->stuffer, &out);
			/* RETR (TOP never leaves body_lines at -1): read whole. */
			if (s->stuffer.body_lines == -1)
				s->md.retrieved[s->retr_index] = true;
		}
		size_t len = out.len;
		if (len > 0)
			net_conn_write_take(s->base.conn, buf_steal(&out), len);
		if (!more) {
			buf_deinit(&chunk);
			retr_end(s);
			return true;
		}
	}
	buf_deinit(&chunk);
	buf_deinit(&out);
	return false;
}

static void
retr_resume(struct session *base)
{
	struct pop3_session *s = (struct pop3_session *)base;

	if (retr_pump(s))
		pop3_command_finish(s);
	else
		session_resume_on_drain(&s->base, retr_resume);
}

static bool
send_message(struct pop3_session *s, uint32_t i, int64_t body_lines)
{
	struct store_message_info info;
	enum store_error err;

	if (s->reader == NULL)
		s->reader = store_reader_new();
	struct arena *a = s->arena;
	if (store_message_lookup(s->md.mbox, &s->md.uids[i], 1, STORE_FETCH_BASIC, a, &info, &err) <
	            0 ||
	    store_reader_open(s->reader, s->md.mbox, &info, &err) < 0) {
		if (err == STORE_ERR_EXPUNGED)
			pop3_reply_err(s, "Message %u was deleted by another session", i + 1);
		else
			pop3_reply_err(s, "[SYS/TEMP] Cannot read message %u (sid %s)", i + 1,
			               s->base.log.sid);
		return true;
	}
	s->retr_index = i;
	s->retr_offset = 0;
	pop3_stuffer_init(&s->stuffer, body_lines);
	if (body_lines < 0)
		pop3_reply_ok(s, "%llu octets", (unsigned long long)s->md.sizes[i]);
	else
		pop3_reply_ok(s, "Top of message follows");
	if (retr_pump(s))
		return true;
	session_resume_on_drain(&s->base, retr_resume);
	return false;
}

bool
pop3_cmd_retr(struct pop3_session *s, const struct pop3_command *cmd)
{
	uint32_t i;

	if (cmd->nargs != 1) {
		pop3_reply_err(s, "Expected: RETR <message>");
		return true;
	}
	if (!pop3_message_arg(s, cmd->args[0], &i))
		return true;
	return send_message(s, i, -1);
}

bool
pop3_cmd_top(struct pop3_session *s, const struct pop3_command *cmd)
{
	uint32_t i, lines;

	if (cmd->nargs != 2) {
		pop3_reply_err(s, "Expected: TOP <message> <lines>");
		return true;
	}
	if (!pop3_message_arg(s, cmd->args[0], &i))
		return true;
	if (!pop3_number_parse(cmd->args[1], UINT32_MAX, &lines)) {
		pop3_reply_err(s, "Invalid number of lines");
		return true;
	}
	return send_message(s, i, lines);
}
