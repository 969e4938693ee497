/* SPDX-License-Identifier: MIT */
/*
 * smtp_outbound.c: the queue runner (smtp_outbound.h). The scheduler
 * thread decides what is due; delivery threads take ids from `todo` and
 * deliver. Shared state (todo, busy, the per-domain counts, stopping) is
 * under one mutex; everything else belongs to the thread that made it.
 * `busy` holds every id waiting for or in delivery, so no message is ever
 * delivered by two threads at once.
 */
#include "smtp/smtp_outbound.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/util.h"
#include "auth/accounts.h"
#include "smtp/smtp_accounts.h"
#include "smtp/smtp_client.h"
#include "smtp/smtp_dane.h"
#include "smtp/smtp_dkim.h"
#include "smtp/smtp_downgrade.h"
#include "smtp/smtp_dsn.h"
#include "smtp/smtp_https.h"
#include "smtp/smtp_mta_sts.h"
#include "smtp/smtp_mx.h"
#include "smtp/smtp_queue.h"
#include "smtp/smtp_queue_item.h"
#include "smtp/smtp_tlsrpt.h"
#include "smtp/smtp_tlsrpt_db.h"
#include "smtp/smtp_tlsrpt_send.h"

#define SCAN_INTERVAL_S 1

/* tern_queue_messages's states, as scan() sees each message. */
enum { QUEUE_DUE, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HELD, QUEUE_GAUGES };
/* Files without an envelope are removed after this (a commit renames the
   .msg a moment before the .env). */
#define ORPHAN_AGE_S (60 * 60)

typedef char queue_id[40];

struct domain_count {
	char name[256];
	unsigned busy;
};

struct worker {
	struct smtp_outbound *o;
	pthread_t thread;
	_Atomic int fd; /* its open connection, -1 when none (smtp_client.h) */
};

struct smtp_outbound {
	char *data_dir, *queue_dir;
	struct store *store; /* where bounces go */
	struct smtp_outbound_settings s;
	pthread_t scheduler;
	struct worker *workers;
	size_t n_workers;
	pthread_mutex_t mu;
	pthread_cond_t wake_scheduler, wake_workers;
	bool stopping;
	queue_id *todo, *busy;
	size_t n_todo, n_busy, cap;
	struct domain_count *domains;
	size_t n_domains;
	int64_t gauge[QUEUE_GAUGES]; /* what tern_queue_messages says now (scheduler only) */
	char *sts_dir;
	struct smtp_sts_settings sts;
	struct smtp_tlsrpt_db *tlsrpt; /* NULL: TLS-RPT off */
	struct smtp_tlsrpt_settings rpt;
	pthread_t rpt_thread;
	pthread_cond_t wake_rpt;
};

uint64_t
smtp_outbound_backoff_ms(unsigned attempts, uint64_t first_ms, uint64_t max_ms)
{
	uint64_t d = first_ms;

	for (unsigned i = 1; i < attempts && d < max_ms; i++)
		d *= 2;
	return d < max_ms ? d : max_ms;
}

/* ---- shared state, under mu ---- */

static bool
is_busy(struct smtp_outbound *o, const char *id)
{
	for (size_t i = 0; i < o->n_busy; i++)
		if (strcmp(o->busy[i], id) == 0)
			return true;
	return false;
}

static void
unbusy(struct smtp_outbound *o, const char *id)
{
	for (size_t i = 0; i < o->n_busy; i++) {
		if (strcmp(o->busy[i], id) == 0) {
			memcpy(o->busy[i], o->busy[--o->n_busy], sizeof(queue_id));
			return;
		}
	}
}

/* Takes a connection slot for domain; false when it has per_domain. */
static bool
domain_acquire(struct smtp_outbound *o, const char *domain)
{
	bool ok = true;

	pthread_mutex_lock(&o->mu);
	size_t i;
	for (i = 0; i < o->n_domains; i++)
		if (strcasecmp(o->domains[i].name, domain) == 0)
			break;
	if (i == o->n_domains) {
		o->domains = xrealloc(o->domains, (o->n_domains + 1) * sizeof(*o->domains));
		snprintf(o->domains[i].name, sizeof(o->domains[i].name), "%s", domain);
		o->domains[o->n_domains++].busy = 0;
	}
	if (o->domains[i].busy >= o->s.per_domain)
		ok = false;
	else
		o->domains[i].busy++;
	pthread_mutex_unlock(&o->mu);
	return ok;
}

static void
domain_release(struct smtp_outbound *o, const char *domain)
{
	pthread_mutex_lock(&o->mu);
	for (size_t i = 0; i < o->n_domains; i++) {
		if (strcasecmp(o->domains[i].name, domain) == 0) {
			/* Dropped when idle, so the table holds only busy domains. */
			if (--o->domains[i].busy == 0)
				o->domains[i] = o->domains[--o->n_domains];
			break;
		}
	}
	pthread_mutex_unlock(&o->mu);
}

/* ---- one delivery ---- */

/* A delivery thread's last connection, kept for the next message to the
   same host (the scheduler hands out messages as they come, so a run of
   messages to one smarthost or MX reuses it) and closed after
   IDLE_CLOSE_S without use. */
#define IDLE_CLOSE_S 5
struct conn_cache {
	struct smtp_client *c;
	char key[96]; /* "ip port tls-required" */
	time_t used;
};

static void
cache_put(struct conn_cache *k, struct smtp_client *c, const char *key)
{
	smtp_client_close(&k->c);
	k->c = c;
	snprintf(k->key, sizeof(k->key), "%s", key);
	k->used = time(NULL);
}

/* What a recipient's outcome in this run asks to report (smtp_dsn.h). */
enum report {
	REPORT_NONE,
	REPORT_FAILED,
	REPORT_RELAYED,
	REPORT_DELAYED,
};

struct delivery {
	struct smtp_outbound *o;
	struct smtp_resolver *resolver;
	struct auth_db **db; /* the thread's, opened on first use */
	struct conn_cache *cache;
	_Atomic int *fd_slot;
	enum report *report; /* per recipient */
	struct smtp_queue_item *it;
	int fd;
	struct buf dkim; /* DKIM-Signature fields sent before the message */
	/* The 7-bit copy for servers without 8BITMIME, made on first need:
	   state 0 not yet, 1 made (fd, size, its own signatures), -1 cannot. */
	int down_state;
	int down_fd;
	uint64_t down_size;
	struct buf down_dkim;
	const char *down_why;
	bool tried; /* a connection was attempted: counts as an attempt */
};

static const char *
domain_of(const char *address)
{
	const char *at = strrchr(address, '@');

	return at != NULL ? at + 1 : "";
}

/* The hosts for domain: the relayhost (getaddrinfo), or its MX. Sets the
   recipients' outcome and returns 0 hosts when there is nothing to try. */
static size_t
hosts_for(struct delivery *d, const char *domain, struct smtp_mx_host *hosts, uint16_t *port_out,
          int *code_out, char *why, size_t why_len)
{
	const struct smtp_outbound_settings *s = &d->o->s;
	size_t n = 0;

	*port_out = (uint16_t)s->mx_port;
	if (s->relayhost[0] != '\0') {
		char host[256];
		const char *colon = strrchr(s->relayhost, ':');
		snprintf(host, sizeof(host), "%.*s",
		         (int)(colon != NULL ? (size_t)(colon - s->relayhost)
		                             : strlen(s->relayhost)),
		         s->relayhost);
		*port_out = colon != NULL ? (uint16_t)atoi(colon + 1) : 25;
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai, *p;
		int err = getaddrinfo(host, NULL, &hints, &ai);
		if (err != 0) {
			snprintf(why, why_len, "4.4.3 relayhost %s: %s", host, gai_strerror(err));
			*code_out = 451;
			return 0;
		}
		for (p = ai; p != NULL && n < SMTP_MX_MAX_HOSTS; p = p->ai_next) {
			const void *addr =
			        p->ai_family == AF_INET
			                ? (const void *)&((struct sockaddr_in *)p->ai_addr)
			                          ->sin_addr
			                : (const void *)&((struct sockaddr_in6 *)p->ai_addr)
			                          ->sin6_addr;
			snprintf(hosts[n].name, sizeof(hosts[n].name), "%s", host);
			inet_ntop(p->ai_family, addr, hosts[n].ip, sizeof(hosts[n].ip));
			hosts[n].is_secure = false; /* getaddrinfo: no DNSSEC, no DANE */
			hosts[n++].pref = 0;
		}
		freeaddrinfo(ai);
		return n;
	}
	char text[300];
	switch (smtp_mx_lookup(d->resolver, domain, hosts, &n, text, sizeof(text))) {
	case SMTP_MX_OK:
		return n;
	case SMTP_MX_TEMPFAIL:
		snprintf(why, why_len, "4.4.3 %s", text);
		*code_out = 451;
		return 0;
	case SMTP_MX_NO_DOMAIN:
		snprintf(why, why_len, "5.1.2 %s", text);
		*code_out = 550;
		return 0;
	case SMTP_MX_NULL:
		snprintf(why, why_len, "5.1.10 %s", text);
		*code_out = 556;
		return 0;
	}
	return 0;
}

static void
outcome(struct delivery *d, struct smtp_queue_item_rcpt *r, const struct smtp_reply *reply,
        const char *host, bool remote_has_dsn)
{
	int code = reply->code;
	enum smtp_rcpt_state st = code >= 200 && code < 300 ? SMTP_RCPT_DELIVERED
	                          : code >= 500             ? SMTP_RCPT_FAILED
	                                                    : SMTP_RCPT_PENDING;

	smtp_queue_item_set(r, st, code != 0 ? code : 451, reply->text, host);
	metrics_add(METRICS_OUTBOUND_TOTAL,
	            st == SMTP_RCPT_DELIVERED ? "delivered"
	            : st == SMTP_RCPT_FAILED  ? "failed"
	                                      : "deferred",
	            NULL, NULL, 1);
	/* A server with DSN reports success itself (RFC 3461 section 5.2.2). */
	size_t i = (size_t)(r - d->it->rcpts);
	if (st == SMTP_RCPT_FAILED)
		d->report[i] = REPORT_FAILED;
	else if (st == SMTP_RCPT_DELIVERED && !remote_has_dsn)
		d->report[i] = REPORT_RELAYED;
	log_info("outbound", "event=%s id=%s rcpt=%s host=%s reply=\"%s\"",
	         st == SMTP_RCPT_DELIVERED ? "delivered"
	         : st == SMTP_RCPT_FAILED  ? "failed"
	                                   : "deferred",
	         d->it->id, r->address, host != NULL ? host : "-", r->last);
}

/* Opportunistic TLS (RFC 7435): a host whose TLS handshake failed is
   tried once more in plaintext, unless the message requires TLS. True
   with *c_out when that worked. */
static bool
retry_plain(const struct smtp_client_settings *cs, struct smtp_reply *reply, const char *ip,
            uint16_t port, const char *name, struct smtp_client **c_out)
{
	if (cs->tls_required || cs->tls_mandatory || reply->code != 0 ||
	    strncmp(reply->text, "4.7.5 ", 6) != 0)
		return false;
	struct smtp_client_settings plain = *cs;
	plain.no_starttls = true;
	plain.tls_out = NULL; /* the same session, counted already */
	log_info("outbound", "event=tls-failed host=%s ip=%s action=plaintext", name, ip);
	return smtp_client_open(ip, port, name, &plain, c_out, reply) == 0;
}

static int
fd_put(void *arg, const void *data, size_t len)
{
	return fd_write_all(*(int *)arg, data, len);
}

/* The 7-bit copy of the message (smtp_downgrade.h) in an unnamed file,
   signed anew (the old signatures cover the 8-bit body). 0, or -1 with
   d->down_why. Made once per attempt. */
static int
downgrade(struct delivery *d)
{
	if (d->down_state != 0)
		return d->down_state > 0 ? 0 : -1;
	d->down_state = -1;
	d->down_why = "cannot read the message";
	if (d->it->size == 0)
		return -1;
	void *map = mmap(NULL, d->it->size, PROT_READ, MAP_PRIVATE, d->fd, 0);
	if (map == MAP_FAILED)
		return -1;
	d->down_fd = memfd_create("tern-7bit", MFD_CLOEXEC);
	if (d->down_fd >= 0 &&
	    smtp_downgrade(map, d->it->size, fd_put, &d->down_fd, &d->down_why) == 0) {
		struct stat st;
		if (fstat(d->down_fd, &st) == 0) {
			d->down_size = (uint64_t)st.st_size;
			d->down_state = 1;
			smtp_dkim_sign(d->o->data_dir, domain_of(d->it->sender), d->down_fd,
			               time(NULL), &d->down_dkim);
		}
	}
	munmap(map, d->it->size);
	return d->down_state > 0 ? 0 : -1;
}

/* ---- TLS-RPT (RFC 8460) ---- */

/* The policy a host is tried under (section 4.3), as the report names it. */
struct rpt_policy {
	enum smtp_tlsrpt_policy type;
	struct buf string, mx_host; /* '\n'-joined lines */
	bool mx_mismatch;           /* the host is not in the MTA-STS policy */
};

/* Section 4.3: "policy-string" is the policy as published, one array
   entry per line; the cache keeps what matters, so the lines are made
   again from it in the order of RFC 8461 section 3.2. */
static void
rpt_sts(struct rpt_policy *p, const struct smtp_sts_policy *sts)
{
	buf_reset(&p->string);
	buf_reset(&p->mx_host);
	p->type = SMTP_TLSRPT_STS;
	buf_printf(&p->string, "version: STSv1\nmode: %s",
	           sts->mode == SMTP_STS_ENFORCE ? "enforce" : "testing");
	for (size_t i = 0; i < sts->n_mx; i++) {
		buf_printf(&p->string, "\nmx: %s", sts->mx[i]);
		buf_printf(&p->mx_host, "%s%s", i > 0 ? "\n" : "", sts->mx[i]);
	}
	buf_printf(&p->string, "\nmax_age: %llu", (unsigned long long)sts->max_age);
}

/* A DANE host: its TLSA records in presentation form ("3 1 1 HEX"). */
static void
rpt_tlsa(struct rpt_policy *p, const struct smtp_dane *dane, const char *host)
{
	buf_reset(&p->string);
	buf_reset(&p->mx_host);
	p->type = SMTP_TLSRPT_TLSA;
	for (size_t i = 0; dane != NULL && i < dane->n; i++) {
		const struct smtp_tlsa *t = &dane->tlsa[i];
		buf_printf(&p->string, "%s%u %u %u ", i > 0 ? "\n" : "", t->usage, t->selector,
		           t->mtype);
		for (size_t j = 0; j < t->len; j++)
			buf_printf(&p->string, "%02X", t->data[j]);
	}
	buf_puts(&p->mx_host, host);
}

/* Counts one session (or one refusal before any) of domain. */
static void
rpt_count(struct delivery *d, const char *domain, const struct rpt_policy *p,
          enum smtp_tlsrpt_result result, const struct smtp_mx_host *host, const char *local_ip,
          const char *code)
{
	if (d->o->tlsrpt == NULL)
		return;
	bool failed = result != SMTP_TLSRPT_SUCCESS;
	struct smtp_tlsrpt_row row = {
	        .policy_type = smtp_tlsrpt_policy_name(p->type),
	        .policy_string = p->string.len > 0 ? p->string.data : "",
	        .mx_host = p->mx_host.len > 0 ? p->mx_host.data : "",
	        .result = smtp_tlsrpt_result_name(result),
	        .sending_ip = failed && local_ip != NULL ? local_ip : "",
	        .receiving_mx = failed && host != NULL ? host->name : "",
	        .receiving_ip = failed && host != NULL ? host->ip : "",
	        .failure_code = failed && code != NULL ? code : "",
	        .count = 1,
	};
	smtp_tlsrpt_db_add(d->o->tlsrpt, smtp_tlsrpt_day(time(NULL)), domain, &row);
}

/* The session smtp_client_open just made (or failed to make), once:
   nothing when the server never answered EHLO (no TLS to speak of) or the
   connection was a kept one. */
static void
rpt_session(struct delivery *d, const char *domain, const struct rpt_policy *p,
            const struct smtp_mx_host *host, struct smtp_client_tls *t)
{
	if (!t->reached)
		return;
	t->reached = false;
	enum smtp_tlsrpt_result r = SMTP_TLSRPT_SUCCESS;
	const char *code = t->error;
	if (!t->offered) {
		r = SMTP_TLSRPT_STARTTLS_NOT_SUPPORTED;
	} else if (!t->established || (t->checked && !t->verified)) {
		r = t->verify_error != 0 || t->dane
		            ? smtp_tlsrpt_verify_result(t->verify_error, t->dane)
		            : SMTP_TLSRPT_VALIDATION_FAILURE;
	} else if (p->mx_mismatch) {
		r = SMTP_TLSRPT_VALIDATION_FAILURE; /* testing: delivered anyway */
		code = "MX host not in the MTA-STS policy";
	}
	rpt_count(d, domain, p, r, host, t->local_ip, code);
}

static void
deliver_domain(struct delivery *d, const char *domain)
{
	struct smtp_queue_item *it = d->it;
	const struct smtp_outbound_settings *s = &d->o->s;
	struct smtp_mx_host hosts[SMTP_MX_MAX_HOSTS];
	struct smtp_client_rcpt *rr = xcalloc(it->n_rcpts, sizeof(*rr));
	struct smtp_queue_item_rcpt **who = xcalloc(it->n_rcpts, sizeof(*who));
	size_t n = 0;
	uint16_t port;
	int code = 0;
	char why[400] = ""; /* hosts_for writes it only when it finds no host */

	for (size_t i = 0; i < it->n_rcpts; i++) {
		struct smtp_queue_item_rcpt *r = &it->rcpts[i];
		if (r->state != SMTP_RCPT_PENDING ||
		    (s->relayhost[0] == '\0' && strcasecmp(domain_of(r->address), domain) != 0))
			continue;
		rr[n] = (struct smtp_client_rcpt){.address = r->address,
		                                  .notify = r->notify,
		                                  .orcpt_type = r->orcpt_type,
		                                  .orcpt = r->orcpt};
		who[n++] = r;
	}
	size_t n_hosts = hosts_for(d, domain, hosts, &port, &code, why, sizeof(why));
	struct smtp_reply last = {code, ""};
	snprintf(last.text, sizeof(last.text), "%s", why);
	const char *last_host = NULL;
	if (n_hosts == 0 && code == 451)
		d->tried = true;
	struct smtp_client_settings cs = {
	        .helo_name = s->hostname,
	        .timeout_ms = s->timeout_ms,
	        .tls_required = it->requiretls,
	        .auth_user =
	                s->relayhost[0] != '\0' && s->relay_user[0] != '\0' ? s->relay_user : NULL,
	        .auth_password = s->relay_password,
	        .fd_slot = d->fd_slot,
	        .ca_file = s->ca_file,
	};
	struct smtp_client_message m = {
	        .sender = it->sender,
	        .body = it->body,
	        .smtputf8 = it->smtputf8,
	        .requiretls = it->requiretls,
	        .ret = it->ret,
	        .envid = it->envid,
	        .prefix = d->dkim.data,
	        .prefix_len = d->dkim.len,
	        .fd = d->fd,
	        .size = it->size + d->dkim.len,
	};
	bool finished = false;
	/* MTA-STS (RFC 8461) for the recipient domain; a smarthost's would be
	   the smarthost's domain's (section 3.4), not looked up. */
	struct smtp_sts_policy sts;
	enum smtp_sts_failure sts_failure = SMTP_STS_OK;
	/* RFC 8460 section 5.3: a TLS-RPT report goes out "despite any
	   TLS-related failures" (the report may be what tells the domain its
	   TLS is broken): no MTA-STS, no DANE, opportunistic TLS, and its
	   sessions are not counted. */
	bool policies = !it->is_tlsrpt;
	bool has_sts =
	        policies && n_hosts > 0 && s->mta_sts && s->relayhost[0] == '\0' &&
	        smtp_sts_policy_get(d->resolver, &d->o->sts, domain, &sts, &sts_failure) == 1 &&
	        sts.mode != SMTP_STS_NONE;
	bool sts_enforce = has_sts && sts.mode == SMTP_STS_ENFORCE;
	struct smtp_dane *dane = s->dane ? xmalloc(sizeof(*dane)) : NULL; /* 16 KiB */
	/* TLS-RPT: the policy of the domain, or per host for DANE. A policy
	   the TXT record announced but that could not be had is reported
	   once (section 4.4), and the hosts count under no policy. */
	struct rpt_policy domain_pol = {.type = SMTP_TLSRPT_NO_POLICY}, host_pol = {0};
	buf_init(&domain_pol.string);
	buf_init(&domain_pol.mx_host);
	buf_init(&host_pol.string);
	buf_init(&host_pol.mx_host);
	bool report = d->o->tlsrpt != NULL && s->relayhost[0] == '\0' && policies;
	if (report && has_sts)
		rpt_sts(&domain_pol, &sts);
	else if (report && n_hosts > 0 && !has_sts && sts_failure != SMTP_STS_OK) {
		struct rpt_policy failed = {.type = SMTP_TLSRPT_STS};
		buf_init(&failed.string);
		buf_init(&failed.mx_host);
		rpt_count(d, domain, &failed,
		          sts_failure == SMTP_STS_POLICY_INVALID ? SMTP_TLSRPT_STS_POLICY_INVALID
		          : sts_failure == SMTP_STS_WEBPKI_INVALID
		                  ? SMTP_TLSRPT_STS_WEBPKI_INVALID
		                  : SMTP_TLSRPT_STS_POLICY_FETCH_ERROR,
		          NULL, NULL, NULL);
		buf_deinit(&failed.string);
		buf_deinit(&failed.mx_host);
	}
	/* Every host in order before a temporary failure (RFC 5321 section
	   5.1); a host that answers ends the search, whatever it says. */
	for (size_t h = 0; h < n_hosts && !finished; h++) {
		struct smtp_client *c = NULL;
		struct smtp_reply reply;
		char key[96];
		bool reused = false;
		last_host = hosts[h].name;
		/* DANE (RFC 7672) for a host whose MX and address records were
		   validated; it takes precedence over MTA-STS (RFC 8461
		   section 2). A failed or bogus TLSA lookup rules the host out. */
		int dane_rc = 0;
		char dwhy[300] = "";
		if (policies && s->dane && hosts[h].is_secure && s->relayhost[0] == '\0') {
			dane_rc = smtp_dane_lookup(d->resolver, hosts[h].name, hosts[h].expanded,
			                           port, dane, dwhy, sizeof(dwhy));
			if (dane_rc < 0) {
				log_info("outbound",
				         "event=dane-refused id=%s host=%s reason=\"%s\"", it->id,
				         hosts[h].name, dwhy);
				if (report) {
					rpt_tlsa(&host_pol, NULL, hosts[h].name);
					rpt_count(d, domain, &host_pol, SMTP_TLSRPT_DNSSEC_INVALID,
					          &hosts[h], NULL, dwhy);
				}
				d->tried = true;
				last = (struct smtp_reply){451, ""};
				snprintf(last.text, sizeof(last.text), "4.7.5 %.300s", dwhy);
				continue;
			}
		}
		/* Section 2.2: TLSA records none of which is usable still
		   say the server does TLS: mandatory, unauthenticated (and
		   MTA-STS, where the domain has it, still checks). */
		cs.dane = dane_rc == 1 ? dane : NULL;
		cs.tls_mandatory = dane_rc == 2;
		if (dane_rc == 2)
			log_info("outbound", "event=dane-unusable id=%s host=%s reason=\"%s\"",
			         it->id, hosts[h].name, dwhy);
		const struct rpt_policy *pol = &domain_pol;
		if (report && (dane_rc == 1 || (dane_rc == 2 && !has_sts))) {
			rpt_tlsa(&host_pol, dane_rc == 1 ? dane : NULL, hosts[h].name);
			pol = &host_pol;
		}
		domain_pol.mx_mismatch = false;
		if (dane_rc == 1) {
			/* verified against TLSA, never plaintext */
		} else if (has_sts && !smtp_sts_mx_matches(&sts, hosts[h].name)) {
			/* Section 4.1; enforce: not this host (section 5). */
			log_info("outbound", "event=mta-sts-%s id=%s domain=%s host=%s reason=mx",
			         sts_enforce ? "refused" : "testing", it->id, domain,
			         hosts[h].name);
			domain_pol.mx_mismatch = true;
			if (sts_enforce) {
				rpt_count(d, domain, &domain_pol, SMTP_TLSRPT_VALIDATION_FAILURE,
				          &hosts[h], NULL, "MX host not in the MTA-STS policy");
				d->tried = true;
				last = (struct smtp_reply){451, ""};
				snprintf(
				        last.text, sizeof(last.text),
				        "4.7.5 %.150s is not an MX host of the MTA-STS policy of %.150s",
				        hosts[h].name, domain);
				continue;
			}
		}
		d->tried = true;
		/* Enforce: STARTTLS with a certificate valid for the host
		   (section 4.2), else the next host, and a temporary failure
		   at the end (section 5: the policy may be updated). Testing:
		   the certificate is checked and a failure only logged. */
		cs.tls_required = it->requiretls || (sts_enforce && dane_rc != 1) || dane_rc == 1;
		cs.tls_temporary = !it->requiretls;
		cs.tls_check = has_sts && dane_rc != 1;
		snprintf(key, sizeof(key), "%s %u %d %d", hosts[h].ip, port, cs.tls_required,
		         dane_rc);
		if (d->cache->c != NULL && strcmp(d->cache->key, key) == 0) {
			c = d->cache->c;
			d->cache->c = NULL;
			reused = true;
		}
		struct smtp_client_tls tls;
		cs.tls_out = report ? &tls : NULL;
	again:
		tls = (struct smtp_client_tls){0};
		if (c == NULL &&
		    smtp_client_open(hosts[h].ip, port, hosts[h].name, &cs, &c, &reply) < 0 &&
		    (rpt_session(d, domain, pol, &hosts[h], &tls),
		     !retry_plain(&cs, &reply, hosts[h].ip, port, hosts[h].name, &c))) {
			log_info("outbound",
			         "event=host-failed id=%s host=%s ip=%s reply=\"%d %s\"", it->id,
			         hosts[h].name, hosts[h].ip, reply.code, reply.text);
			last = reply;
			continue;
		}
		rpt_session(d, domain, pol, &hosts[h], &tls);
		if (dane_rc == 1)
			log_info("outbound", "event=dane-verified id=%s host=%s", it->id,
			         hosts[h].name);
		else if (has_sts && !sts_enforce && !smtp_client_caps(c)->tls_verified)
			log_info("outbound",
			         "event=mta-sts-testing id=%s domain=%s host=%s reason=tls", it->id,
			         domain, hosts[h].name);
		struct smtp_client_message sm = m;
		if (it->body == SMTP_BODY_8BITMIME && !smtp_client_caps(c)->eightbit) {
			/* RFC 6152 section 3: convert, or do not relay. */
			if (downgrade(d) < 0) {
				log_info("outbound",
				         "event=downgrade-failed id=%s host=%s why=\"%s\"", it->id,
				         hosts[h].name, d->down_why);
				last = (struct smtp_reply){554, ""};
				snprintf(last.text, sizeof(last.text),
				         "5.6.3 %.100s lacks 8BITMIME and the message cannot be "
				         "converted: %.100s",
				         hosts[h].name, d->down_why);
				if (smtp_client_is_usable(c))
					cache_put(d->cache, c, key);
				else
					smtp_client_close(&c);
				continue;
			}
			sm.body = SMTP_BODY_7BIT;
			sm.fd = d->down_fd;
			sm.prefix = d->down_dkim.data;
			sm.prefix_len = d->down_dkim.len;
			sm.size = d->down_size + d->down_dkim.len;
		}
		int rc = smtp_client_send(c, &sm, rr, n, &reply);
		bool has_dsn = smtp_client_caps(c)->dsn;
		if (rc < 0 && reply.code == 0 && reused) {
			/* The kept connection had gone stale: once more, fresh. */
			smtp_client_close(&c);
			reused = false;
			goto again;
		}
		if (smtp_client_is_usable(c))
			cache_put(d->cache, c, key);
		else
			smtp_client_close(&c);
		if (rc == 0) {
			for (size_t i = 0; i < n; i++)
				outcome(d, who[i], &rr[i].reply, hosts[h].name, has_dsn);
			finished = true;
		} else if (reply.code != 0) {
			for (size_t i = 0; i < n; i++)
				outcome(d, who[i], &reply, hosts[h].name, has_dsn);
			finished = true;
		} else {
			last = reply;
		}
	}
	if (!finished) {
		if (last.code == 0)
			last.code = 451;
		for (size_t i = 0; i < n; i++)
			outcome(d, who[i], &last, last_host, false);
	}
	buf_deinit(&domain_pol.string);
	buf_deinit(&domain_pol.mx_host);
	buf_deinit(&host_pol.string);
	buf_deinit(&host_pol.mx_host);
	free(dane);
	free(rr);
	free(who);
}

/*
 * A local redelivery (smtp_envelope.is_local): the message from ID.msg into
 * each pending recipient's INBOX, through a store spool and store_deliver
 * as SMTP's DATA does. Refusals the store may get over (quota, a
 * temporary error) stay pending and are retried with the usual backoff
 * until queue.max_age, then bounced; an account that no longer exists
 * fails at once.
 */
static void
deliver_local(struct delivery *d)
{
	struct smtp_queue_item *it = d->it;
	struct store_spool *sp = NULL;
	enum store_error err = STORE_ERR_TEMP;
	char *error = NULL, buf[16384];
	size_t n = 0;

	if (d->o->store == NULL)
		return;
	d->tried = true;
	struct store_delivery_target *t = xcalloc(it->n_rcpts, sizeof(*t));
	struct smtp_queue_item_rcpt **who = xcalloc(it->n_rcpts, sizeof(*who));
	struct smtp_reply reply = {451, "4.3.0 the store is unavailable, try again later"};
	if (*d->db == NULL && auth_db_open(d->o->data_dir, d->db, &error) < 0) {
		log_error("outbound", "event=local-failed id=%s err=\"%s\"", it->id, error);
		free(error);
		goto fail_all;
	}
	if (store_spool_new(d->o->store, &sp, &err) < 0 || lseek(d->fd, 0, SEEK_SET) < 0)
		goto fail_all;
	for (;;) {
		ssize_t got = read(d->fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || (got > 0 && store_spool_write(sp, buf, (size_t)got, &err) < 0))
			goto fail_all;
		if (got == 0)
			break;
	}
	for (size_t i = 0; i < it->n_rcpts; i++) {
		struct smtp_queue_item_rcpt *r = &it->rcpts[i];
		struct auth_account a;
		enum auth_error aerr;
		if (r->state != SMTP_RCPT_PENDING)
			continue;
		if (auth_account_lookup(*d->db, r->address, &a, &aerr) < 0) {
			struct smtp_reply gone = {aerr == AUTH_ERR_NOTFOUND ? 550 : 451, ""};
			snprintf(gone.text, sizeof(gone.text), "%s",
			         aerr == AUTH_ERR_NOTFOUND ? "5.1.1 no such account any more"
			                                   : "4.3.0 account lookup failed");
			outcome(d, r, &gone, "local", true);
			continue;
		}
		uint64_t id = a.id;
		auth_account_clear(&a);
		t[n].acct = smtp_account_get(d->o->store, id, &err);
		t[n].mailbox = "INBOX";
		if (t[n].acct == NULL) {
			outcome(d, r, &reply, "local", true);
			continue;
		}
		who[n++] = r;
	}
	if (n > 0)
		store_deliver(sp, t, n);
	for (size_t i = 0; i < n; i++) {
		struct smtp_reply rr = {250, "2.0.0 stored"};
		if (t[i].err == STORE_ERR_TOOBIG)
			rr = (struct smtp_reply){552, "5.3.4 message too big for the account"};
		else if (t[i].err == STORE_ERR_QUOTA)
			rr = (struct smtp_reply){452, "4.2.2 mailbox full"};
		else if (t[i].err != STORE_ERR_NONE)
			snprintf(rr.text, sizeof(rr.text), "4.3.0 %s", store_error_str(t[i].err)),
			        rr.code = 451;
		outcome(d, who[i], &rr, "local", true);
	}
	goto out;
fail_all:
	for (size_t i = 0; i < it->n_rcpts; i++)
		if (it->rcpts[i].state == SMTP_RCPT_PENDING)
			outcome(d, &it->rcpts[i], &reply, "local", true);
out:
	store_spool_free(&sp);
	free(t);
	free(who);
}

static int
queue_put(void *arg, const void *data, size_t len)
{
	return smtp_queue_msg_write(arg, data, len);
}

/* A bounce for a sender that is not a local account (mail that came in at
   the MX and was queued for local redelivery): a new queue entry from the
   null sender to it, delivered like any other (RFC 3461 section 6.2: a
   DSN's envelope sender is null, so it never bounces itself). */
static void
queue_bounce(struct delivery *d, const struct smtp_dsn *dsn)
{
	struct smtp_queue *q = NULL;
	struct smtp_queue_msg *m = NULL;
	char *error = NULL, id[40];
	struct smtp_mail_params mp = {.body = SMTP_BODY_8BITMIME};
	struct smtp_queue_rcpt r = {.address = d->it->sender, .notify = SMTP_NOTIFY_NEVER};
	struct smtp_envelope env = {
	        .sender = "", .account = "", .mail = &mp, .rcpts = &r, .n_rcpts = 1};

	if (smtp_queue_open(d->o->data_dir, &q, &error) < 0 || smtp_queue_msg_new(q, &m) < 0 ||
	    smtp_dsn_write(dsn, queue_put, m) < 0 || smtp_queue_msg_commit(m, &env, id) < 0) {
		log_error("outbound", "event=bounce-failed id=%s err=\"%s\"", d->it->id,
		          error != NULL ? error : "cannot queue it");
	} else {
		log_info("outbound", "event=bounce id=%s to=%s queue=%s", d->it->id, d->it->sender,
		         id);
	}
	free(error);
	smtp_queue_msg_free(&m);
	smtp_queue_close(&q);
}

static int
spool_put(void *arg, const void *data, size_t len)
{
	enum store_error err;

	return store_spool_write(arg, data, len, &err);
}

/* The account that submitted the message, on this thread's handles. */
static struct store_account *
sender_account(struct delivery *d)
{
	struct auth_account a;
	enum auth_error aerr;
	enum store_error serr;
	char *error = NULL;

	if (*d->db == NULL && auth_db_open(d->o->data_dir, d->db, &error) < 0) {
		log_error("outbound", "event=bounce-failed id=%s err=\"%s\"", d->it->id, error);
		free(error);
		return NULL;
	}
	if (auth_account_lookup(*d->db, d->it->account, &a, &aerr) < 0) {
		log_warn("outbound", "event=bounce-dropped id=%s account=%s reason=%s", d->it->id,
		         d->it->account, auth_error_str(aerr));
		return NULL;
	}
	uint64_t id = a.id;
	auth_account_clear(&a);
	struct store_account *acct = smtp_account_get(d->o->store, id, &serr);
	if (acct == NULL)
		log_error("outbound", "event=bounce-failed id=%s err=%s", d->it->id,
		          store_error_str(serr));
	return acct;
}

/* The DSN this run's outcomes ask for, into the sender's INBOX: the sender
   is always a local account's (submission checks it). */
static void
send_reports(struct delivery *d)
{
	struct smtp_queue_item *it = d->it;
	struct smtp_dsn_rcpt *v = xcalloc(it->n_rcpts, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < it->n_rcpts; i++) {
		const struct smtp_queue_item_rcpt *r = &it->rcpts[i];
		enum smtp_dsn_action action = d->report[i] == REPORT_FAILED    ? SMTP_DSN_FAILED
		                              : d->report[i] == REPORT_RELAYED ? SMTP_DSN_RELAYED
		                                                               : SMTP_DSN_DELAYED;
		if (d->report[i] == REPORT_NONE || !smtp_dsn_wanted(r->notify, action, it->sender))
			continue;
		v[n++] = (struct smtp_dsn_rcpt){r->address, r->orcpt_type, r->orcpt, action,
		                                r->last};
	}
	/* Submitted mail: the report goes into the sender's INBOX; mail that
	   came in at the MX (no account): queued back to the sender. */
	bool to_account = it->account[0] != '\0';
	struct store_account *acct =
	        n > 0 && to_account && d->o->store != NULL ? sender_account(d) : NULL;
	if (n == 0 || (to_account && acct == NULL)) {
		free(v);
		return;
	}
	struct smtp_dsn dsn = {
	        .reporting_mta = d->o->s.hostname,
	        .to = it->sender,
	        .queue_id = it->id,
	        .envid = it->envid,
	        .arrival = it->created,
	        .now = time(NULL),
	        .headers_only = it->ret == SMTP_RET_HDRS,
	        .fd = d->fd,
	        .rcpts = v,
	        .n_rcpts = n,
	};
	if (!to_account) {
		queue_bounce(d, &dsn);
		free(v);
		return;
	}
	struct store_spool *sp = NULL;
	enum store_error err;
	struct store_delivery_target t = {.acct = acct, .mailbox = "INBOX"};
	if (store_spool_new(d->o->store, &sp, &err) < 0 ||
	    smtp_dsn_write(&dsn, spool_put, sp) < 0 || store_deliver(sp, &t, 1) != 1)
		log_error("outbound", "event=bounce-failed id=%s err=%s", it->id,
		          store_error_str(sp == NULL ? err : t.err));
	else
		log_info("outbound", "event=bounce id=%s to=%s rcpts=%zu", it->id, it->account, n);
	store_spool_free(&sp);
	free(v);
}

static void
deliver(struct worker *w, struct smtp_resolver *resolver, struct auth_db **db,
        struct conn_cache *cache, const char *id)
{
	struct smtp_outbound *o = w->o;
	struct delivery d = {.o = o,
	                     .resolver = resolver,
	                     .db = db,
	                     .cache = cache,
	                     .fd_slot = &w->fd,
	                     .fd = -1,
	                     .down_fd = -1};

	buf_init(&d.dkim);
	buf_init(&d.down_dkim);
	const struct smtp_outbound_settings *s = &o->s;
	bool limited = false;

	if (smtp_queue_item_read(o->queue_dir, id, &d.it) < 0)
		return; /* deleted meanwhile */
	struct smtp_queue_item *it = d.it;
	d.report = xcalloc(it->n_rcpts, sizeof(*d.report));
	char *msg = xasprintf("%s/%s.msg", o->queue_dir, id);
	d.fd = open(msg, O_RDONLY | O_CLOEXEC);
	free(msg);
	struct stat st;
	if (d.fd < 0 || fstat(d.fd, &st) < 0) {
		log_error("outbound", "event=message-unreadable id=%s err=\"%s\"", id,
		          strerror(errno));
		it->next = time(NULL) + (int64_t)(s->retry_max_ms / 1000);
		smtp_queue_item_save(it);
		goto out;
	}
	it->size = (uint64_t)st.st_size;
	if (it->is_local) {
		deliver_local(&d);
		smtp_queue_item_save(it);
	} else {
		/* Signed once per attempt, for every destination alike. */
		smtp_dkim_sign(o->data_dir, domain_of(it->sender), d.fd, time(NULL), &d.dkim);
	}
	/* Domain by domain (the relayhost takes them all at once). */
	bool *visited = xcalloc(it->n_rcpts, sizeof(*visited));
	for (size_t i = 0; i < it->n_rcpts && !it->is_local; i++) {
		if (visited[i] || it->rcpts[i].state != SMTP_RCPT_PENDING)
			continue;
		const char *domain =
		        s->relayhost[0] != '\0' ? s->relayhost : domain_of(it->rcpts[i].address);
		for (size_t j = i; j < it->n_rcpts; j++)
			visited[j] = visited[j] || s->relayhost[0] != '\0' ||
			             strcasecmp(domain_of(it->rcpts[j].address), domain) == 0;
		if (!domain_acquire(o, domain)) {
			limited = true;
			continue;
		}
		deliver_domain(&d, domain);
		domain_release(o, domain);
		smtp_queue_item_save(it); /* at once: a crash repeats no more */
	}
	free(visited);
	size_t pending = 0;
	int64_t now = time(NULL);
	for (size_t i = 0; i < it->n_rcpts; i++)
		pending += it->rcpts[i].state == SMTP_RCPT_PENDING;
	if (pending > 0 && d.tried && now - it->created >= (int64_t)(s->max_age_ms / 1000)) {
		for (size_t i = 0; i < it->n_rcpts; i++) {
			struct smtp_queue_item_rcpt *r = &it->rcpts[i];
			if (r->state != SMTP_RCPT_PENDING)
				continue;
			char *last = xstrdup(r->last != NULL ? r->last : "");
			smtp_queue_item_set(r, SMTP_RCPT_FAILED, 550, "5.4.7 gave up: ", NULL);
			char *text = xasprintf("%s%s", r->last, last);
			free(r->last);
			r->last = text;
			free(last);
			d.report[i] = REPORT_FAILED;
			metrics_add(METRICS_OUTBOUND_TOTAL, "failed", NULL, NULL, 1);
			log_info("outbound", "event=expired id=%s rcpt=%s", id, r->address);
			pending--;
		}
	}
	if (pending > 0 && !it->delay_sent && s->delay_warning_ms > 0 &&
	    now - it->created >= (int64_t)(s->delay_warning_ms / 1000)) {
		for (size_t i = 0; i < it->n_rcpts; i++)
			if (it->rcpts[i].state == SMTP_RCPT_PENDING)
				d.report[i] = REPORT_DELAYED;
		it->delay_sent = true;
	}
	send_reports(&d);
	if (pending == 0) {
		log_info("outbound", "event=done id=%s attempts=%u", id, it->attempts + 1);
		smtp_queue_item_remove(o->queue_dir, id);
		goto out;
	}
	if (d.tried) {
		it->attempts++;
		it->next = now + (int64_t)(smtp_outbound_backoff_ms(it->attempts, s->retry_first_ms,
		                                                    s->retry_max_ms) /
		                           1000);
	} else if (limited) {
		it->next = now + SCAN_INTERVAL_S;
	}
	smtp_queue_item_save(it);
out:
	if (d.fd >= 0)
		close(d.fd);
	if (d.down_fd >= 0)
		close(d.down_fd);
	buf_deinit(&d.down_dkim);
	free(d.report);
	buf_deinit(&d.dkim);
	smtp_queue_item_free(&d.it);
}

/* ---- threads ---- */

/* A delivery thread's resolver: dns.nameservers, and the trust anchors
   DANE needs validated answers from. */
static struct smtp_resolver *
resolver_new(const struct smtp_outbound_settings *s, char **error_out)
{
	struct smtp_resolver *r = smtp_resolver_new(s->nameservers, error_out);

	if (r != NULL && s->trust_anchor_file[0] != '\0' &&
	    smtp_resolver_add_trust_anchors(r, s->trust_anchor_file, error_out) < 0)
		smtp_resolver_free(&r);
	return r;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct smtp_outbound *o = w->o;

	thread_block_signals();
	struct smtp_resolver *resolver = NULL;
	struct auth_db *db = NULL;
	struct conn_cache cache = {0};
	queue_id id;

	pthread_mutex_lock(&o->mu);
	for (;;) {
		while (!o->stopping && o->n_todo == 0) {
			if (cache.c != NULL && time(NULL) - cache.used >= IDLE_CLOSE_S) {
				pthread_mutex_unlock(&o->mu);
				smtp_client_close(&cache.c); /* QUIT: not under the lock */
				pthread_mutex_lock(&o->mu);
				continue;
			}
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&o->wake_workers, &o->mu, &until);
		}
		if (o->stopping)
			break;
		memcpy(id, o->todo[0], sizeof(id));
		memmove(o->todo[0], o->todo[1], (o->n_todo - 1) * sizeof(queue_id));
		o->n_todo--;
		pthread_mutex_unlock(&o->mu);
		if (resolver == NULL && o->s.relayhost[0] == '\0') {
			char *err = NULL;
			resolver = resolver_new(&o->s, &err);
			if (resolver == NULL) {
				log_error("outbound", "event=resolver-failed err=\"%s\"", err);
				free(err);
			}
		}
		if (resolver != NULL || o->s.relayhost[0] != '\0')
			deliver(w, resolver, &db, &cache, id);
		pthread_mutex_lock(&o->mu);
		unbusy(o, id);
	}
	pthread_mutex_unlock(&o->mu);
	smtp_client_close(&cache.c);
	smtp_resolver_free(&resolver);
	auth_db_close(&db);
	return NULL;
}

static bool
has_file(const char *dir, const char *id, const char *ext, time_t *mtime_out)
{
	char *p = xasprintf("%s/%s.%s", dir, id, ext);
	struct stat st;
	bool yes = stat(p, &st) == 0;

	free(p);
	if (yes && mtime_out != NULL)
		*mtime_out = st.st_mtime;
	return yes;
}

static void
remove_file(const char *dir, const char *id, const char *ext)
{
	char *p = xasprintf("%s/%s.%s", dir, id, ext);

	unlink(p);
	free(p);
}

/* tern_queue_messages is set from each scan's counts: the scan reads
   every message's state anyway, so a scrape costs nothing. */
static void
queue_gauges_set(struct smtp_outbound *o, const int64_t counts[QUEUE_GAUGES])
{
	static const char *const names[QUEUE_GAUGES] = {"queued", "active", "deferred", "held"};

	for (int i = 0; i < QUEUE_GAUGES; i++) {
		if (counts[i] != o->gauge[i])
			metrics_add(METRICS_QUEUE_MESSAGES, names[i], NULL, NULL,
			            counts[i] - o->gauge[i]);
		o->gauge[i] = counts[i];
	}
}

/* One look at the queue directory: the ids due now. */
static void
scan(struct smtp_outbound *o)
{
	DIR *dir = opendir(o->queue_dir);
	struct dirent *de;
	int64_t now = time(NULL);
	int64_t counts[QUEUE_GAUGES] = {0};

	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		char *dot = strrchr(de->d_name, '.');
		if (dot == NULL || dot - de->d_name >= (long)sizeof(queue_id) ||
		    de->d_name[0] == '.')
			continue;
		queue_id id;
		snprintf(id, sizeof(id), "%.*s", (int)(dot - de->d_name), de->d_name);
		const char *ext = dot + 1;
		time_t mtime;
		if (strcmp(ext, "env") != 0) {
			/* An .env-less leftover of a crash or a delete. */
			if ((strcmp(ext, "msg") == 0 || strcmp(ext, "state") == 0) &&
			    !has_file(o->queue_dir, id, "env", NULL) &&
			    has_file(o->queue_dir, id, ext, &mtime) && now - mtime > ORPHAN_AGE_S)
				remove_file(o->queue_dir, id, ext);
			continue;
		}
		if (has_file(o->queue_dir, id, "hold", NULL)) {
			counts[QUEUE_HELD]++;
			continue;
		}
		pthread_mutex_lock(&o->mu);
		bool busy = is_busy(o, id);
		pthread_mutex_unlock(&o->mu);
		if (busy) {
			counts[QUEUE_ACTIVE]++;
			continue;
		}
		bool due = has_file(o->queue_dir, id, "retry", NULL);
		if (due)
			remove_file(o->queue_dir, id, "retry");
		else
			due = smtp_queue_item_next(o->queue_dir, id) <= now;
		if (!due) {
			counts[QUEUE_DEFERRED]++;
			continue;
		}
		counts[QUEUE_DUE]++;
		pthread_mutex_lock(&o->mu);
		if (o->n_busy == o->cap) {
			o->cap = o->cap ? 2 * o->cap : 64;
			o->todo = xrealloc(o->todo, o->cap * sizeof(queue_id));
			o->busy = xrealloc(o->busy, o->cap * sizeof(queue_id));
		}
		memcpy(o->todo[o->n_todo++], id, sizeof(id));
		memcpy(o->busy[o->n_busy++], id, sizeof(id));
		pthread_cond_signal(&o->wake_workers);
		pthread_mutex_unlock(&o->mu);
	}
	closedir(dir);
	queue_gauges_set(o, counts);
}

static void
clean_tmp(struct smtp_outbound *o)
{
	char *tmp = xasprintf("%s/tmp", o->queue_dir);
	DIR *dir = opendir(tmp);
	struct dirent *de;
	time_t now = time(NULL);

	while (dir != NULL && (de = readdir(dir)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.' || fstatat(dirfd(dir), de->d_name, &st, 0) < 0)
			continue;
		if (now - st.st_mtime > ORPHAN_AGE_S)
			unlinkat(dirfd(dir), de->d_name, 0);
	}
	if (dir != NULL)
		closedir(dir);
	free(tmp);
}

static void *
scheduler_main(void *arg)
{
	struct smtp_outbound *o = arg;

	thread_block_signals(); /* signals are the main loop's */
	clean_tmp(o);
	pthread_mutex_lock(&o->mu);
	while (!o->stopping) {
		pthread_mutex_unlock(&o->mu);
		scan(o);
		pthread_mutex_lock(&o->mu);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += SCAN_INTERVAL_S;
		if (!o->stopping)
			pthread_cond_timedwait(&o->wake_scheduler, &o->mu, &until);
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

/* Sends the reports of the days before today (RFC 8460 section 4.1: one
   report per day), at start and then once an hour: the reports of a day
   go out within the hour after it ends, and a domain whose DNS failed
   for the moment is tried an hour later, not every minute. */
#define RPT_INTERVAL_S 3600

static void *
rpt_main(void *arg)
{
	struct smtp_outbound *o = arg;
	struct smtp_resolver *resolver = NULL;

	thread_block_signals();
	pthread_mutex_lock(&o->mu);
	while (!o->stopping) {
		pthread_mutex_unlock(&o->mu);
		char *err = NULL;
		if (resolver == NULL && (resolver = resolver_new(&o->s, &err)) == NULL) {
			log_error("outbound", "event=resolver-failed err=\"%s\"", err);
			free(err);
		}
		int64_t now = time(NULL);
		if (resolver != NULL)
			smtp_tlsrpt_send(o->tlsrpt, resolver, &o->rpt, smtp_tlsrpt_day(now), now);
		pthread_mutex_lock(&o->mu);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += RPT_INTERVAL_S;
		while (!o->stopping &&
		       pthread_cond_timedwait(&o->wake_rpt, &o->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&o->mu);
	smtp_resolver_free(&resolver);
	return NULL;
}

struct smtp_outbound *
smtp_outbound_start(const char *data_dir, struct store *store,
                    const struct smtp_outbound_settings *s, char **error_out)
{
	struct smtp_outbound *o = xcalloc(1, sizeof(*o));

	o->data_dir = xstrdup(data_dir);
	o->store = store;
	o->queue_dir = xasprintf("%s/queue", data_dir);
	o->s = *s;
	o->s.hostname = xstrdup(s->hostname);
	o->s.relayhost = xstrdup(s->relayhost);
	o->s.relay_user = xstrdup(s->relay_user);
	o->s.relay_password = xstrdup(s->relay_password);
	o->s.nameservers = xstrdup(s->nameservers);
	o->s.ca_file = xstrdup(s->ca_file);
	o->s.trust_anchor_file = xstrdup(s->trust_anchor_file);
	o->s.tlsrpt_organization = xstrdup(s->tlsrpt_organization);
	o->s.tlsrpt_contact = xstrdup(s->tlsrpt_contact);
	o->s.tlsrpt_from = xstrdup(s->tlsrpt_from);
	o->rpt = (struct smtp_tlsrpt_settings){
	        .data_dir = o->data_dir,
	        .organization = o->s.tlsrpt_organization,
	        .contact = o->s.tlsrpt_contact,
	        .from = o->s.tlsrpt_from,
	        .submitter = o->s.hostname,
	        .ca_file = o->s.ca_file,
	        .timeout_ms = MIN(o->s.timeout_ms, 60000),
	};
	/* A relayhost takes everything: no MX sessions to report on. */
	if (o->s.tlsrpt && s->relayhost[0] == '\0' &&
	    smtp_tlsrpt_db_open(data_dir, &o->tlsrpt, error_out) < 0) {
		smtp_outbound_stop(&o);
		return NULL;
	}
	o->sts_dir = xasprintf("%s/mta-sts", data_dir);
	o->sts = (struct smtp_sts_settings){
	        .cache_dir = o->sts_dir,
	        .ca_file = o->s.ca_file,
	        .https_port = (uint16_t)o->s.mta_sts_port,
	        .timeout_ms = MIN(o->s.timeout_ms, 60000), /* section 3.3: a minute */
	};
	if (o->s.mta_sts || o->s.tlsrpt)
		smtp_https_global_init();
	if (o->s.workers == 0)
		o->s.workers = 1;
	if (o->s.per_domain == 0)
		o->s.per_domain = 1;
	if (s->relayhost[0] == '\0') {
		/* Fail at start, not at the first message, on a bad setting. */
		struct smtp_resolver *r = resolver_new(&o->s, error_out);
		if (r == NULL) {
			smtp_outbound_stop(&o);
			return NULL;
		}
		smtp_resolver_free(&r);
	}
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->wake_scheduler, NULL);
	pthread_cond_init(&o->wake_workers, NULL);
	pthread_cond_init(&o->wake_rpt, NULL);
	o->workers = xcalloc(o->s.workers, sizeof(*o->workers));
	for (; o->n_workers < o->s.workers; o->n_workers++) {
		struct worker *w = &o->workers[o->n_workers];
		w->o = o;
		atomic_init(&w->fd, -1);
		pthread_create(&w->thread, NULL, worker_main, w);
	}
	pthread_create(&o->scheduler, NULL, scheduler_main, o);
	if (o->tlsrpt != NULL)
		pthread_create(&o->rpt_thread, NULL, rpt_main, o);
	log_info("outbound", "event=started workers=%zu via=%s", o->n_workers,
	         s->relayhost[0] != '\0' ? s->relayhost : "mx");
	return o;
}

void
smtp_outbound_stop(struct smtp_outbound **op)
{
	struct smtp_outbound *o = *op;

	if (o == NULL)
		return;
	*op = NULL;
	if (o->workers != NULL) {
		pthread_mutex_lock(&o->mu);
		o->stopping = true;
		pthread_cond_broadcast(&o->wake_workers);
		pthread_cond_signal(&o->wake_scheduler);
		pthread_cond_signal(&o->wake_rpt);
		pthread_mutex_unlock(&o->mu);
		pthread_join(o->scheduler, NULL);
		if (o->tlsrpt != NULL)
			pthread_join(o->rpt_thread, NULL); /* a report being sent finishes */
		/* A delivery blocked on a slow server ends now, not after
		   delivery.timeout: its recipients stay pending for the next
		   start. */
		for (size_t i = 0; i < o->n_workers; i++) {
			int fd = atomic_load(&o->workers[i].fd);
			if (fd >= 0)
				shutdown(fd, SHUT_RDWR);
		}
		for (size_t i = 0; i < o->n_workers; i++)
			pthread_join(o->workers[i].thread, NULL);
		pthread_mutex_destroy(&o->mu);
		pthread_cond_destroy(&o->wake_scheduler);
		pthread_cond_destroy(&o->wake_workers);
		pthread_cond_destroy(&o->wake_rpt);
	}
	smtp_tlsrpt_db_close(&o->tlsrpt);
	free((char *)o->s.tlsrpt_organization);
	free((char *)o->s.tlsrpt_contact);
	free((char *)o->s.tlsrpt_from);
	free(o->workers);
	free(o->todo);
	free(o->busy);
	free(o->domains);
	free(o->queue_dir);
	free(o->data_dir);
	free((char *)o->s.hostname);
	free((char *)o->s.relayhost);
	free((char *)o->s.relay_user);
	if (o->s.relay_password != NULL)
		explicit_bzero((char *)o->s.relay_password, strlen(o->s.relay_password));
	free((char *)o->s.relay_password);
	free((char *)o->s.nameservers);
	free((char *)o->s.ca_file);
	free((char *)o->s.trust_anchor_file);
	free(o->sts_dir);
	free(o);
}
