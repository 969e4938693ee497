/* SPDX-License-Identifier: MIT */
/*
 * cmd_dkim.c: `tern dkim keygen DOMAIN [--selector S] [--type rsa|ed25519]`:
 * makes a signing key under DIR/dkim/DOMAIN/ (smtp/smtp_dkim.h), which
 * turns on signing for mail from DOMAIN at the next delivery (no restart),
 * and prints the TXT record to publish. `tern dkim list` shows the keys.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "smtp/smtp_dkim.h"

static int
dkim_list(const char *data_dir)
{
	char *dir = xasprintf("%s/dkim", data_dir);
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char *sub = xasprintf("%s/%s", dir, de->d_name);
		DIR *k = opendir(sub);
		struct dirent *ke;
		while (k != NULL && (ke = readdir(k)) != NULL) {
			size_t n = strlen(ke->d_name);
			if (n > 4 && strcmp(ke->d_name + n - 4, ".pem") == 0)
				printf("%s %.*s\n", de->d_name, (int)(n - 4), ke->d_name);
		}
		if (k != NULL)
			closedir(k);
		free(sub);
	}
	if (d != NULL)
		closedir(d);
	free(dir);
	return 0;
}

int
cli_dkim(const char *data_dir, int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return dkim_list(data_dir);
	if (argc < 2 || strcmp(argv[0], "keygen") != 0)
		return cli_fail("dkim: expected keygen DOMAIN or list (see tern dkim --help)");
	const char *domain = argv[1], *selector = NULL, *type = "rsa";
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--selector") == 0 && i + 1 < argc)
			selector = argv[++i];
		else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc)
			type = argv[++i];
		else
			return cli_fail("dkim keygen: unknown option '%s'", argv[i]);
	}
	if (selector == NULL)
		selector = strcmp(type, "ed25519") == 0 ? "tern-ed25519" : "tern";
	struct buf out;
	char *error = NULL;
	buf_init(&out);
	if (smtp_dkim_keygen(data_dir, domain, selector, type, &out, &error) < 0) {
		cli_fail("%s", error);
		free(error);
		buf_deinit(&out);
		return 1;
	}
	fputs(out.data, stdout);
	buf_deinit(&out);
	return 0;
}
