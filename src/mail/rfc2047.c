/* SPDX-License-Identifier: MIT */
/*
 * rfc2047.c: encoded-word decoding (RFC 2047 sections 2-6) for Subject,
 * display names and the full-text index. Adjacent encoded words of the same
 * charset are joined before conversion, because mailers split multi-byte
 * characters across words (against section 5, but common). Input is
 * hostile; an encoded word that does not parse is ordinary text.
 */
#include "mail/rfc2047.h"

#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/charset.h"
#include "mail/cte.h"

#define CHARSET_MAX 80

struct pending {
	char charset[CHARSET_MAX + 1]; /* "" when nothing is pending */
	struct buf raw;                /* decoded bytes, not yet converted */
	size_t orig_start, orig_end;   /* the encoded words, for unknown charsets */
	size_t gap_start, gap_end;     /* blanks before them, after another word */
	bool last_failed;              /* the previous group was left encoded */
};

struct word {
	size_t end; /* just after "?=" */
	char charset[CHARSET_MAX + 1];
	unsigned char enc; /* 'B' or 'Q' */
	size_t text_start, text_end;
};

/* Parses "=?charset?e?text?=" at in[i]; returns false when it is not one. */
static bool
word_parse(const unsigned char *in, size_t len, size_t i, struct word *w)
{
	size_t p = i + 2, cs_start = p;

	while (p < len && in[p] != '?' && in[p] > ' ' && in[p] < 127)
		p++;
	if (p >= len || in[p] != '?' || p == cs_start || p - cs_start > CHARSET_MAX)
		return false;
	size_t cs_len = p - cs_start;
	if (p + 2 >= len || in[p + 2] != '?')
		return false;
	unsigned char e = in[p + 1];
	if (e == 'b')
		e = 'B';
	if (e == 'q')
		e = 'Q';
	if (e != 'B' && e != 'Q')
		return false;
	size_t t = p + 3, q = t;
	while (q + 1 < len && !(in[q] == '?' && in[q + 1] == '=')) {
		if (in[q] <= ' ' || in[q] >= 127)
			return false;
		q++;
	}
	if (q + 1 >= len)
		return false;
	memcpy(w->charset, in + cs_start, cs_len);
	w->charset[cs_len] = '\0';
	/* RFC 2231 section 5: "charset*language". */
	char *star = strchr(w->charset, '*');
	if (star != NULL)
		*star = '\0';
	w->enc = e;
	w->text_start = t;
	w->text_end = q;
	w->end = q + 2;
	return true;
}

/* Appends raw text, without CR and LF. */
static void
text_append(const unsigned char *in, size_t start, size_t end, struct buf *out)
{
	size_t s = start;

	for (size_t i = start; i < end; i++) {
		if (in[i] == '\r' || in[i] == '\n') {
			mail_utf8_append_guess(out, in + s, i - s);
			s = i + 1;
		}
	}
	mail_utf8_append_guess(out, in + s, end - s);
}

static void
pending_flush(struct pending *pd, const unsigned char *in, struct buf *out)
{
	if (pd->charset[0] == '\0')
		return;
	size_t mark = out->len;
	if (pd->last_failed)
		text_append(in, pd->gap_start, pd->gap_end, out);
	if (mail_charset_to_utf8(pd->charset, (const unsigned char *)pd->raw.data, pd->raw.len,
	                         out) < 0) {
		/* Unknown charset: leave the words as they were written, and
		   the blanks before them, since they now separate text. */
		if (out->data != NULL) {
			out->len = mark;
			out->data[mark] = '\0';
		}
		text_append(in, pd->gap_start, pd->orig_end, out);
		pd->last_failed = true;
	} else {
		pd->last_failed = false;
	}
	pd->charset[0] = '\0';
	pd->gap_start = pd->gap_end = 0;
	buf_reset(&pd->raw);
}

void
mail_rfc2047_decode_buf(const unsigned char *in, size_t len, struct buf *out)
{
	struct pending pd;
	size_t text_start = 0; /* start of text not yet written */
	size_t i = 0;
	bool after_word = false;

	pd.charset[0] = '\0';
	pd.gap_start = pd.gap_end = 0;
	pd.last_failed = false;
	buf_init(&pd.raw);
	while (i < len) {
		struct word w;

		if (in[i] != '=' || i + 1 >= len || in[i + 1] != '?' ||
		    !word_parse(in, len, i, &w)) {
			bool blank =
			        in[i] == ' ' || in[i] == '\t' || in[i] == '\r' || in[i] == '\n';
			if (!blank && after_word) {
				pending_flush(&pd, in, out);
				after_word = false;
			}
			i++;
			continue;
		}
		/* Text between the previous word and this one: dropped when it is
		   only blanks between two words, else written out. */
		if (!after_word) {
			pending_flush(&pd, in, out);
			text_append(in, text_start, i, out);
		}
		if (pd.charset[0] != '\0' && strcasecmp(pd.charset, w.charset) != 0)
			pending_flush(&pd, in, out);
		if (pd.charset[0] == '\0') {
			memcpy(pd.charset, w.charset, sizeof(w.charset));
			pd.orig_start = i;
			pd.gap_start = after_word ? text_start : i;
			pd.gap_end = i;
		}
		pd.orig_end = w.end;
		if (w.enc == 'B')
			mail_base64_decode(in + w.text_start, w.text_end - w.text_start, &pd.raw);
		else
			mail_qp_decode(in + w.text_start, w.text_end - w.text_start, 1, &pd.raw);
		i = w.end;
		text_start = i;
		after_word = true;
	}
	pending_flush(&pd, in, out);
	text_append(in, text_start, len, out);
	buf_deinit(&pd.raw);
}

char *
mail_rfc2047_decode(struct arena *a, const unsigned char *in, size_t len)
{
	struct buf b;

	buf_init(&b);
	mail_rfc2047_decode_buf(in, len, &b);
	char *s = arena_strndup(a, b.data != NULL ? b.data : "", b.len);
	buf_deinit(&b);
	return s;
}
