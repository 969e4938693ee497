/* SPDX-License-Identifier: MIT */
/*
 * html_text.c: HTML to plain text (see html_text.h). libxml2 parses (with
 * HTML_PARSE_RECOVER, no network, no error output) into a tree; this file
 * only walks it, iteratively (next/parent pointers, no recursion, whatever
 * the nesting a hostile message builds), and lays the text out.
 *
 * Layout state: breaks owed (0, 1 = end the line, 2 = a blank line), a
 * space owed between words, and whether the output line is empty. A break
 * owed is written only before the next text, so blocks in a row or empty
 * paragraphs never pile up blank lines and the text never starts with one.
 */
#include "mail/html_text.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "lib/buf.h"

struct layout {
	struct buf *out;
	size_t start, max;
	int breaks;     /* owed: 1 = new line, 2 = blank line */
	bool space;     /* a space owed before the next word */
	bool line_used; /* something is on the current line */
	int pre;        /* inside <pre> (depth) */
};

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void
xml_init(void)
{
	xmlInitParser(); /* once, before threads share the parser's tables */
}

static bool
name_is(const xmlNode *n, const char *name)
{
	return n->name != NULL && strcasecmp((const char *)n->name, name) == 0;
}

static bool
name_in(const xmlNode *n, const char *const *names)
{
	for (size_t i = 0; names[i] != NULL; i++)
		if (name_is(n, names[i]))
			return true;
	return false;
}

/* Not text for a reader. */
static const char *const skipped[] = {"head", "script", "style", "template", "title", NULL};
/* Separated from what is around them by a blank line. */
static const char *const paragraphs[] = {"p",  "h1",         "h2",     "h3",      "h4", "h5",
                                         "h6", "blockquote", "pre",    "table",   "ul", "ol",
                                         "dl", "hr",         "figure", "address", NULL};
/* On lines of their own. */
static const char *const blocks[] = {
        "div",     "li",     "tr",     "dt",      "dd",      "section",    "article",
        "header",  "footer", "nav",    "main",    "aside",   "form",       "fieldset",
        "caption", "body",   "center", "details", "summary", "figcaption", NULL};

static void
owe_break(struct layout *l, int n)
{
	if (l->out->len == l->start)
		return; /* no blank lines at the top */
	if (n > l->breaks)
		l->breaks = n;
	l->space = false;
}

static void
put_text(struct layout *l, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (l->pre == 0 && (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f')) {
			if (l->line_used)
				l->space = true;
			continue;
		}
		if (l->pre > 0 && c == '\r')
			continue;
		if (l->breaks > 0) {
			for (int k = 0; k < l->breaks; k++)
				buf_append(l->out, "\r\n", 2);
			l->breaks = 0;
			l->line_used = false;
			l->space = false;
		}
		if (l->pre > 0 && c == '\n') {
			buf_append(l->out, "\r\n", 2);
			l->line_used = false;
			continue;
		}
		if (l->space && l->line_used)
			buf_putc(l->out, ' ');
		l->space = false;
		buf_putc(l->out, c);
		l->line_used = true;
	}
}

static void
put_str(struct layout *l, const char *s)
{
	put_text(l, s, strlen(s));
}

static const char *
attr(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
		if (a->name != NULL && strcasecmp((const char *)a->name, name) == 0 &&
		    a->children != NULL && a->children->type == XML_TEXT_NODE)
			return (const char *)a->children->content;
	return NULL;
}

/* Entering element n; returns false when its content is not text. */
static bool
enter(struct layout *l, const xmlNode *n)
{
	if (name_in(n, skipped))
		return false;
	if (name_in(n, paragraphs))
		owe_break(l, 2);
	else if (name_in(n, blocks))
		owe_break(l, 1);
	if (name_is(n, "br")) {
		/* A break even on an empty line: <br><br> is a blank line. */
		if (l->breaks > 0 || !l->line_used) {
			l->breaks++;
			if (l->out->len == l->start)
				l->breaks = 0;
		} else {
			l->breaks = 1;
		}
		l->space = false;
	} else if (name_is(n, "li")) {
		put_str(l, "* "); /* the space is owed to the item's text */
	} else if ((name_is(n, "td") || name_is(n, "th")) && n->prev != NULL) {
		const xmlNode *p = n->prev;
		while (p != NULL && p->type != XML_ELEMENT_NODE)
			p = p->prev;
		if (p != NULL && l->breaks == 0 && l->line_used) {
			buf_putc(l->out, '\t');
			l->space = false;
		}
	} else if (name_is(n, "img")) {
		const char *alt = attr(n, "alt");
		if (alt != NULL && alt[0] != '\0') {
			put_str(l, "[");
			put_str(l, alt);
			put_str(l, "]");
		}
	} else if (name_is(n, "pre")) {
		l->pre++;
	}
	return true;
}

/* Text of element n's subtree, as plain bytes, for comparing with a link's
   address. */
static bool
text_is(const xmlNode *n, const char *want)
{
	xmlChar *t = xmlNodeGetContent(n);
	bool same = t != NULL && strcmp((const char *)t, want) == 0;
	xmlFree(t);
	return same;
}

static void
leave(struct layout *l, const xmlNode *n)
{
	if (name_is(n, "pre") && l->pre > 0)
		l->pre--;
	if (name_is(n, "a")) {
		const char *href = attr(n, "href");
		/* Absolute addresses only: a fragment or relative path means
		   nothing outside the page. */
		if (href != NULL && strchr(href, ':') != NULL &&
		    strncasecmp(href, "javascript:", 11) != 0 && !text_is(n, href)) {
			l->space = l->line_used;
			put_str(l, "<");
			put_str(l, href);
			put_str(l, ">");
		}
	}
	if (name_in(n, paragraphs))
		owe_break(l, 2);
	else if (name_in(n, blocks))
		owe_break(l, 1);
}

int
mail_html_to_text(const unsigned char *html, size_t len, size_t max_out, struct buf *out)
{
	struct layout l = {.out = out, .start = out->len, .max = max_out};
	int rc = 0;

	pthread_once(&xml_once, xml_init);
	if (len > INT_MAX)
		return -1;
	/* The caller has made it UTF-8: a <meta charset> must not override. */
	htmlDocPtr doc = htmlReadMemory((const char *)html, (int)len, NULL, "UTF-8",
	                                HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
	                                        HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
	if (doc == NULL)
		return 0; /* nothing a parser could read: no text */

	xmlNode *n = xmlDocGetRootElement(doc);
	while (n != NULL) {
		bool descend = false;
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (n->content != NULL)
				put_text(&l, (const char *)n->content,
				         strlen((const char *)n->content));
		} else if (n->type == XML_ELEMENT_NODE) {
			descend = enter(&l, n) && n->children != NULL;
			if (!descend)
				leave(&l, n);
		}
		if (out->len - l.start > l.max) {
			rc = -1;
			break;
		}
		if (descend) {
			n = n->children;
			continue;
		}
		/* Up until there is a next sibling, leaving each element. */
		while (n != NULL && n->next == NULL) {
			n = n->parent;
			if (n == NULL || n->type == XML_DOCUMENT_NODE ||
			    n->type == XML_HTML_DOCUMENT_NODE) {
				n = NULL;
				break;
			}
			leave(&l, n);
		}
		if (n != NULL)
			n = n->next;
	}
	if (rc == 0 && l.line_used)
		buf_append(out, "\r\n", 2);
	xmlFreeDoc(doc);
	return rc;
}
