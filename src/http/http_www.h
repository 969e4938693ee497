/* SPDX-License-Identifier: MIT */
/*
 * http_www.h: the files of the web admin page (src/http/www/), compiled in
 * by scripts/embed.sh, so tern serves them with no files on disk and no
 * separate build toolchain.
 */
#ifndef TERN_HTTP_WWW_H
#define TERN_HTTP_WWW_H

#include <stddef.h>

struct http_www_file {
	const char *name; /* "admin.js" */
	const unsigned char *data;
	size_t len;
};

extern const struct http_www_file http_www_files[];
extern const size_t http_www_count;

#endif
