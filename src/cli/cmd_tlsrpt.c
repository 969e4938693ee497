/* SPDX-License-Identifier: MIT */
/*
 * cmd_tlsrpt.c: `tern tlsrpt show [--json] | send [--today]`: the TLS-RPT
 * counts of DIR/tlsrpt.db (RFC 8460, smtp/smtp_tlsrpt_db.h) and sending
 * their reports now rather than at the runner's next hourly look
 * (smtp/smtp_tlsrpt_send.h). Safe while the server runs: SQLite locks,
 * and sending takes the rows out in one transaction, so a report is never
 * sent twice; report mail goes into the queue for the server's runner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/conf.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "smtp/smtp_https.h"
#include "smtp/smtp_mx.h"
#include "smtp/smtp_tlsrpt_db.h"
#include "smtp/smtp_tlsrpt_send.h"

/* Far enough ahead to include every day recorded. */
#define ALL_DAYS INT64_MAX

static struct smtp_tlsrpt_settings
settings(const char *data_dir, const struct tern_conf *conf)
{
	return (struct smtp_tlsrpt_settings){
	        .data_dir = data_dir,
	        .organization = conf->outbound.tlsrpt_organization,
	        .contact = conf->outbound.tlsrpt_contact,
	        .from = conf->outbound.tlsrpt_from,
	        .submitter = conf->hostname,
	        .ca_file = conf->delivery_ca_file,
	        .timeout_ms = MIN(conf->outbound.timeout_ms, 60000),
	};
}

static int
show_rows(const char *data_dir, const struct tern_conf *conf, struct smtp_tlsrpt_db *db, bool json)
{
	struct smtp_tlsrpt_rows *v;
	size_t n;
	struct smtp_tlsrpt_settings s = settings(data_dir, conf);
	int64_t now = time(NULL);

	if (smtp_tlsrpt_db_read(db, ALL_DAYS, false, &v, &n) < 0)
		return cli_fail("tlsrpt: cannot read %s/tlsrpt.db", data_dir);
	for (size_t i = 0; i < n; i++) {
		char day[16];
		time_t t = (time_t)v[i].day;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		if (json) {
			struct buf b;
			char id[160];
			buf_init(&b);
			smtp_tlsrpt_report_id(&s, v[i].day, id, sizeof(id));
			smtp_tlsrpt_report_build(&s, &v[i], id, now, &b);
			printf("%.*s\n", (int)b.len, b.data);
			buf_deinit(&b);
		}
		for (size_t j = 0; j < v[i].n && !json; j++) {
			const struct smtp_tlsrpt_row *r = &v[i].v[j];
			printf("%s %s %s %s %llu", day, v[i].domain, r->policy_type,
			       r->result[0] != '\0' ? r->result : "success",
			       (unsigned long long)r->count);
			if (r->receiving_mx[0] != '\0')
				printf(" mx=%s ip=%s", r->receiving_mx, r->receiving_ip);
			if (r->failure_code[0] != '\0')
				printf(" reason=\"%s\"", r->failure_code);
			printf("\n");
		}
		smtp_tlsrpt_rows_free(&v[i]);
	}
	free(v);
	return 0;
}

static int
send_reports(const char *data_dir, const struct tern_conf *conf, struct smtp_tlsrpt_db *db,
             bool today)
{
	char *error = NULL;
	struct smtp_resolver *r = smtp_resolver_new(conf->dns_nameservers, &error);
	struct smtp_tlsrpt_settings s = settings(data_dir, conf);
	int64_t now = time(NULL);

	if (r == NULL) {
		cli_fail("tlsrpt: %s", error);
		free(error);
		return 1;
	}
	smtp_https_global_init();
	int sent = smtp_tlsrpt_send(db, r, &s, smtp_tlsrpt_day(now) + (today ? 86400 : 0), now);
	smtp_resolver_free(&r);
	if (sent < 0)
		return cli_fail("tlsrpt: cannot read %s/tlsrpt.db", data_dir);
	printf("%d report%s sent\n", sent, sent == 1 ? "" : "s");
	return 0;
}

int
cli_tlsrpt(const char *data_dir, int argc, char **argv)
{
	bool is_show = argc >= 1 && strcmp(argv[0], "show") == 0;
	bool is_send = argc >= 1 && strcmp(argv[0], "send") == 0;
	bool flag = false;

	if (!is_show && !is_send)
		return cli_fail("tlsrpt: expected show or send (see tern tlsrpt --help)");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], is_show ? "--json" : "--today") != 0)
			return cli_fail("tlsrpt %s: unknown option '%s'", argv[0], argv[i]);
		flag = true;
	}
	/* Nothing counted yet: say so rather than create the database (the
	   CLI may run as another user than the server). */
	char *path = xasprintf("%s/tlsrpt.db", data_dir);
	struct stat st;
	bool exists = stat(path, &st) == 0;
	free(path);
	if (!exists) {
		if (is_send)
			printf("0 reports sent\n");
		return 0;
	}
	struct tern_conf conf;
	struct smtp_tlsrpt_db *db = NULL;
	char *error = NULL;
	if (conf_load(data_dir, &conf, &error) < 0) {
		cli_fail("%s", error);
		free(error);
		return 1;
	}
	if (smtp_tlsrpt_db_open(data_dir, &db, &error) < 0) {
		cli_fail("%s", error);
		free(error);
		conf_free(&conf);
		return 1;
	}
	int rc = is_show ? show_rows(data_dir, &conf, db, flag)
	                 : send_reports(data_dir, &conf, db, flag);
	smtp_tlsrpt_db_close(&db);
	conf_free(&conf);
	return rc;
}
