/* SPDX-License-Identifier: MIT */
/*
 * html_text.h: the text of an HTML document, for CONVERT's text/html to
 * text/plain (RFC 5259), through libxml2's HTML parser (a maintained parser
 * of the HTML real mail holds: unclosed tags, stray entities, broken nesting).
 */
#ifndef TERN_MAIL_HTML_TEXT_H
#define TERN_MAIL_HTML_TEXT_H

#include <stddef.h>

struct buf;

/*
 * Appends the text of the HTML document html[0..len) (UTF-8) to out as
 * UTF-8 with CRLF line ends: entities decoded, whitespace collapsed as a
 * browser does (kept inside <pre>), a line break for <br> and around
 * blocks, a blank line between paragraphs, headings, lists and tables,
 * "* " before list items, a tab between table cells, an <img>'s alt text in
 * brackets, a link's absolute address after its text when it differs; no
 * <head>, <script>, <style> or <template>. Stops once out has grown by
 * max_out bytes and returns -1 (nothing is taken back); else 0. Never
 * fails on bad HTML. Thread-safe.
 */
int mail_html_to_text(const unsigned char *html, size_t len, size_t max_out, struct buf *out);

#endif
