/* SPDX-License-Identifier: MIT */
/*
 * smtp_mailauth.c: SPF, DKIM verification and DMARC for mail arriving at
 * the MX (smtp_mailauth.h), on libspf2, libopendkim and libopendmarc, with
 * all DNS through libunbound.
 *
 * Each pool thread that runs smtp_mailauth_finish() keeps its own resolver
 * and libspf2 server (thread-specific data, freed when the thread ends):
 * libunbound contexts and libspf2 servers are not shared between threads,
 * and both keep a cache worth keeping across messages.
 *
 * The Authentication-Results field (RFC 8601 section 2.2) is
 *
 *   Authentication-Results: AUTHSERV-ID;
 *   	spf=RESULT smtp.mailfrom=DOMAIN (or smtp.helo=NAME);
 *   	dkim=RESULT header.d=DOMAIN header.s=SELECTOR header.a=ALG header.b=PREFIX;
 *   	dmarc=RESULT (p=POLICY) header.from=DOMAIN
 *
 * with one dkim= per signature (or dkim=none). Values are domain names,
 * selectors and base64 prefixes: anything else in them (they come from
 * the client and the signer) is left out, so the field cannot be used to
 * smuggle text past a reader.
 */
#include "smtp/smtp_mailauth.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <opendkim/dkim.h>
#include <opendmarc/dmarc.h>
#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_record.h>
#include <spf2/spf_response.h>
#include <unbound.h>

/* sys/param.h (from dkim.h and dmarc.h) has its own; util.h's are the same. */
#undef MIN
#undef MAX
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "smtp/smtp_mx.h"

/* Exported by libopendmarc 1.4, not declared in its header: the
   organizational domain of domain (RFC 7489 section 3.2) into tld. */
int opendmarc_get_tld(u_char *domain, u_char *tld, size_t tld_len);

#define RR_TXT         16
#define RCODE_SERVFAIL 2
#define TXT_MAX        4096 /* a DKIM key or DMARC record; RSA 4096 keys fit */
#define MAX_SIGS       8    /* signatures reported; more are counted once */

/* ---- the per-domain policy ---- */

static const char *const action_names[] = {"dmarc", "deliver", "junk", "reject"};

int
smtp_mailauth_policy_parse(const char *text, struct smtp_mailauth_policy *p, char **error_out)
{
	char *copy = xstrdup(text), *save = NULL;
	int rc = 0;

	for (char *t = strtok_r(copy, " ,\t", &save); t != NULL && rc == 0;
	     t = strtok_r(NULL, " ,\t", &save)) {
		char *colon = strrchr(t, ':');
		int action = -1;
		if (colon != NULL && colon != t) {
			*colon = '\0';
			for (size_t i = 0; i < ARRAY_LEN(action_names); i++)
				if (strcasecmp(colon + 1, action_names[i]) == 0)
					action = (int)i;
		}
		if (action < 0) {
			*error_out = xasprintf("mailauth.domains: \"%s%s%s\" is not DOMAIN:ACTION "
			                       "(deliver|junk|reject|dmarc)",
			                       t, colon ? ":" : "", colon ? colon + 1 : "");
			rc = -1;
			break;
		}
		p->domains = xrealloc(p->domains, (p->n_domains + 1) * sizeof(*p->domains));
		struct smtp_mailauth_domain *d = &p->domains[p->n_domains++];
		d->domain = xstrdup(t);
		for (char *c = d->domain; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		d->action = (enum smtp_mailauth_action)action;
	}
	free(copy);
	if (rc < 0)
		smtp_mailauth_policy_deinit(p);
	return rc;
}

void
smtp_mailauth_policy_deinit(struct smtp_mailauth_policy *p)
{
	for (size_t i = 0; i < p->n_domains; i++)
		free(p->domains[i].domain);
	free(p->domains);
	p->domains = NULL;
	p->n_domains = 0;
}

enum smtp_mailauth_action
smtp_mailauth_policy_get(const struct smtp_mailauth_policy *p, const char *domain)
{
	for (size_t i = 0; i < p->n_domains; i++)
		if (strcmp(p->domains[i].domain, domain) == 0)
			return p->domains[i].action;
	return p->fallback;
}

/* ---- per-thread DNS ---- */

struct thread_dns {
	char *nameservers;
	struct smtp_resolver *resolver;
	SPF_dns_server_t spf_dns; /* our layer, hook = resolver */
	SPF_server_t *spf;
};

static pthread_key_t dns_key;
static pthread_once_t dns_once = PTHREAD_ONCE_INIT;
static DKIM_LIB *dkim_lib;

static void
thread_dns_free(void *arg)
{
	struct thread_dns *t = arg;

	if (t == NULL)
		return;
	if (t->spf != NULL)
		SPF_server_free(t->spf);
	smtp_resolver_free(&t->resolver);
	free(t->nameservers);
	free(t);
}

static void
dns_key_create(void)
{
	if (pthread_key_create(&dns_key, thread_dns_free) != 0)
		abort();
}

/* An SPF_dns_rr_t that says the name has nothing, with herrno. */
static SPF_dns_rr_t *
spf_rr_empty(SPF_dns_server_t *d, const char *domain, ns_type type, int herrno)
{
	return SPF_dns_rr_new_init(d, domain, type, 0, herrno);
}

/*
 * libspf2's DNS layer on libunbound: the answer's records of the type
 * asked, in the shapes spf_dns_rr.h describes (in_addr, in6_addr, a name
 * for MX and PTR, the joined strings for TXT). herrno as libspf2's own
 * resolv layer sets it: HOST_NOT_FOUND for NXDOMAIN, NO_DATA for an empty
 * answer, TRY_AGAIN for a failure (RFC 7208 section 2.6.6 temperror).
 */
static SPF_dns_rr_t *
spf_dns_lookup(SPF_dns_server_t *d, const char *domain, ns_type type, int should_cache)
{
	struct smtp_resolver *r = d->hook;
	struct ub_result *res;

	if (smtp_resolver_query(r, domain, (int)type, &res) < 0)
		return spf_rr_empty(d, domain, type, TRY_AGAIN);
	if (res->rcode == RCODE_SERVFAIL) {
		ub_resolve_free(res);
		return spf_rr_empty(d, domain, type, TRY_AGAIN);
	}
	if (res->nxdomain) {
		ub_resolve_free(res);
		return SPF_dns_rr_new_nxdomain(d, domain);
	}
	if (!res->havedata) {
		ub_resolve_free(res);
		return spf_rr_empty(d, domain, type, NO_DATA);
	}
	SPF_dns_rr_t *rr = SPF_dns_rr_new_init(d, domain, type, res->ttl, NETDB_SUCCESS);
	if (rr == NULL) {
		ub_resolve_free(res);
		return NULL;
	}
	int n = 0;
	for (int i = 0; res->data[i] != NULL; i++) {
		const unsigned char *p = (const unsigned char *)res->data[i];
		size_t len = (size_t)res->len[i];
		char text[TXT_MAX];
		const void *src = NULL;
		size_t src_len = 0;

		switch (type) {
		case ns_t_a:
			if (len == sizeof(struct in_addr)) {
				src = p;
				src_len = len;
			}
			break;
		case ns_t_aaaa:
			if (len == sizeof(struct in6_addr)) {
				src = p;
				src_len = len;
			}
			break;
		case ns_t_mx:
			if (len > 2 &&
			    smtp_dns_wire_name(p + 2, len - 2, text, sizeof(text)) == 0) {
				src = text;
				src_len = strlen(text) + 1;
			}
			break;
		case ns_t_ptr:
			if (smtp_dns_wire_name(p, len, text, sizeof(text)) == 0) {
				src = text;
				src_len = strlen(text) + 1;
			}
			break;
		case ns_t_txt:
		case ns_t_spf:
			if (smtp_dns_txt_join(p, len, text, sizeof(text)) == 0) {
				src = text;
				src_len = strlen(text) + 1;
			}
			break;
		default:
			break;
		}
		if (src == NULL)
			continue;
		if (SPF_dns_rr_buf_realloc(rr, n, src_len) != SPF_E_SUCCESS)
			break;
		memcpy(rr->rr[n], src, src_len);
		n++;
	}
	rr->num_rr = n;
	if (n == 0)
		rr->herrno = NO_DATA;
	ub_resolve_free(res);
	return rr;
}

/* This thread's resolver for nameservers (made or remade on first use);
   NULL when it cannot be made (logged). */
static struct thread_dns *
thread_dns_get(const char *nameservers)
{
	pthread_once(&dns_once, dns_key_create);
	struct thread_dns *t = pthread_getspecific(dns_key);

	if (t != NULL && strcmp(t->nameservers, nameservers) == 0)
		return t;
	thread_dns_free(t);
	pthread_setspecific(dns_key, NULL);
	char *err = NULL;
	t = xcalloc(1, sizeof(*t));
	t->nameservers = xstrdup(nameservers);
	t->resolver = smtp_resolver_new(nameservers, &err);
	if (t->resolver == NULL) {
		log_error("smtp", "event=mailauth-dns-failed err=\"%s\"", err);
		free(err);
		thread_dns_free(t);
		return NULL;
	}
	t->spf_dns = (SPF_dns_server_t){
	        .destroy = NULL, /* ours: SPF_server_free leaves it alone */
	        .lookup = spf_dns_lookup,
	        .name = "unbound",
	        .hook = t->resolver,
	};
	t->spf = SPF_server_new_dns(&t->spf_dns, 0);
	if (t->spf == NULL) {
		log_error("smtp", "event=mailauth-spf-failed err=\"cannot create an SPF server\"");
		thread_dns_free(t);
		return NULL;
	}
	pthread_setspecific(dns_key, t);
	return t;
}

/* ---- DKIM key lookup ---- */

/* RFC 6376 section 3.6.2.2: the key record at SELECTOR._domainkey.DOMAIN,
   through the thread's resolver (the verifying handle's user context). */
static DKIM_CBSTAT
dkim_key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct smtp_resolver *r = dkim_get_user_context(dkim);
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	char name[512];
	struct ub_result *res;

	if (r == NULL || sel == NULL || dom == NULL)
		return DKIM_CBSTAT_ERROR;
	if ((size_t)snprintf(name, sizeof(name), "%s._domainkey.%s", sel, dom) >= sizeof(name))
		return DKIM_CBSTAT_NOTFOUND;
	if (smtp_resolver_query(r, name, RR_TXT, &res) < 0)
		return DKIM_CBSTAT_TRYAGAIN;
	DKIM_CBSTAT rc = DKIM_CBSTAT_NOTFOUND;
	if (res->rcode == RCODE_SERVFAIL)
		rc = DKIM_CBSTAT_TRYAGAIN;
	/* RFC 6376 section 3.6.2.2: several records make the result
	   undefined; take the first that parses. */
	for (int i = 0; rc == DKIM_CBSTAT_NOTFOUND && res->havedata && res->data[i] != NULL; i++) {
		if (smtp_dns_txt_join((const unsigned char *)res->data[i], (size_t)res->len[i],
		                      (char *)buf, buflen) == 0)
			rc = DKIM_CBSTAT_CONTINUE;
	}
	ub_resolve_free(res);
	return rc;
}

/* ---- library state ---- */

int
smtp_mailauth_init(const char *psl_file, char **error_out)
{
	OPENDMARC_LIB_T lib;

	dkim_lib = dkim_init(NULL, NULL);
	if (dkim_lib == NULL) {
		*error_out = xstrdup("mailauth: cannot initialise libopendkim");
		return -1;
	}
	/* Bare LF is accepted as a line end, as the store accepts it. */
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF | DKIM_LIBFLAGS_DELAYSIGPROC;
	(void)dkim_options(dkim_lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags));
	(void)dkim_set_key_lookup(dkim_lib, dkim_key_lookup);

	memset(&lib, 0, sizeof(lib));
	lib.tld_type = OPENDMARC_TLD_TYPE_NONE;
	if (psl_file[0] != '\0' && access(psl_file, R_OK) == 0 &&
	    strlen(psl_file) < sizeof(lib.tld_source_file)) {
		lib.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
		snprintf((char *)lib.tld_source_file, sizeof(lib.tld_source_file), "%s", psl_file);
	}
	if (opendmarc_policy_library_init(&lib) != DMARC_PARSE_OKAY) {
		*error_out = xasprintf("mailauth: cannot initialise libopendmarc (%s)",
		                       psl_file[0] ? psl_file : "no public suffix list");
		dkim_close(dkim_lib);
		dkim_lib = NULL;
		return -1;
	}
	return 0;
}

void
smtp_mailauth_deinit(void)
{
	if (dkim_lib == NULL)
		return;
	OPENDMARC_LIB_T lib;
	memset(&lib, 0, sizeof(lib));
	opendmarc_policy_library_shutdown(&lib);
	dkim_close(dkim_lib);
	dkim_lib = NULL;
}

/* ---- one message ---- */

struct smtp_mailauth {
	char ip[48];
	char helo[256];
	char *sender;
	DKIM *dkim;          /* NULL when it could not be set up */
	DKIM_STAT dkim_fail; /* a chunk the library refused */
	bool is_dkim_done;   /* no more input (error) */
};

struct smtp_mailauth *
smtp_mailauth_new(const char *ip, const char *helo, const char *sender)
{
	struct smtp_mailauth *m = xcalloc(1, sizeof(*m));
	DKIM_STAT st = DKIM_STAT_OK;

	snprintf(m->ip, sizeof(m->ip), "%s", ip);
	snprintf(m->helo, sizeof(m->helo), "%s", helo);
	m->sender = xstrdup(sender);
	if (dkim_lib != NULL)
		m->dkim = dkim_verify(dkim_lib, (const unsigned char *)"tern", NULL, &st);
	if (m->dkim == NULL)
		m->dkim_fail = st != DKIM_STAT_OK ? st : DKIM_STAT_INTERNAL;
	return m;
}

void
smtp_mailauth_write(struct smtp_mailauth *m, const char *data, size_t len)
{
	if (m->dkim == NULL || m->is_dkim_done || len == 0)
		return;
	DKIM_STAT st = dkim_chunk(m->dkim, (u_char *)data, len);
	if (st != DKIM_STAT_OK) {
		m->dkim_fail = st;
		m->is_dkim_done = true;
	}
}

void
smtp_mailauth_free(struct smtp_mailauth **mp)
{
	struct smtp_mailauth *m = *mp;

	if (m == NULL)
		return;
	*mp = NULL;
	if (m->dkim != NULL)
		dkim_free(m->dkim);
	free(m->sender);
	free(m);
}

/* True when s is a plain domain or selector (letters, digits, '-', '_',
   '.'): what may go into the header field unquoted. */
static bool
is_dns_token(const char *s)
{
	if (s == NULL || s[0] == '\0' || strlen(s) > 253)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* The domain of an address ("" when it has none). */
static const char *
address_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

struct spf_verdict {
	const char *result; /* RFC 8601 section 2.7.2 words */
	int dmarc_outcome;  /* DMARC_POLICY_SPF_OUTCOME_* */
	char domain[256];   /* the identity checked */
	bool is_helo;
	const char *helo_name; /* = domain */
};

/*
 * SPF_request_query_mailfrom() without its first step: libspf2 gives
 * every loopback client a pass without looking at the record ("a free
 * ride for localhost"). RFC 7208 knows no such exemption, a content
 * filter reinjecting over loopback would pass every domain's DMARC, and
 * the loopback tests need the real answer; the rest is the same two
 * calls libspf2 makes (get the record, interpret it).
 */
static SPF_response_t *
spf_query(SPF_server_t *spf, SPF_request_t *req)
{
	SPF_response_t *resp = SPF_response_new(req);
	SPF_record_t *rec = NULL;

	if (resp == NULL)
		return NULL;
	/* What the library's query sets before its lookup: the domain
	   checked, MAIL FROM's (or postmaster@HELO's) domain part. */
	req->cur_dom = req->env_from_dp;
	SPF_errcode_t e = SPF_server_get_record(spf, req, resp, &rec);
	if (e == SPF_E_SUCCESS && rec != NULL) {
		resp->spf_record_exp = rec; /* for exp= while interpreting */
		SPF_record_interpret(rec, req, resp, 0);
		resp->spf_record_exp = NULL;
	} else {
		SPF_i_done(resp, resp->result, resp->reason, resp->err);
	}
	if (rec != NULL)
		SPF_record_free(rec);
	return resp;
}

/* RFC 7208 section 2.4: MAIL FROM's domain, or for the null sender the
   HELO name ("postmaster@HELO"). */
static void
check_spf(struct smtp_mailauth *m, struct thread_dns *t, struct spf_verdict *v)
{
	const char *dom = address_domain(m->sender);

	v->is_helo = m->sender[0] == '\0' || dom[0] == '\0';
	snprintf(v->domain, sizeof(v->domain), "%s", v->is_helo ? m->helo : dom);
	lower(v->domain);
	v->helo_name = v->domain;
	v->result = "temperror";
	v->dmarc_outcome = DMARC_POLICY_SPF_OUTCOME_TMPFAIL;
	if (t == NULL)
		return;
	if (!is_dns_token(v->domain) || strchr(v->domain, '.') == NULL) {
		v->result = "none"; /* not a domain: nothing to check (section 4.3) */
		v->dmarc_outcome = DMARC_POLICY_SPF_OUTCOME_NONE;
		return;
	}
	SPF_request_t *req = SPF_request_new(t->spf);
	SPF_response_t *resp = NULL;
	if (req == NULL)
		return;
	struct in6_addr a6;
	struct in_addr a4;
	int ipok = inet_pton(AF_INET, m->ip, &a4) == 1
	                   ? (SPF_request_set_ipv4(req, a4) == SPF_E_SUCCESS)
	           : inet_pton(AF_INET6, m->ip, &a6) == 1
	                   ? (SPF_request_set_ipv6(req, a6) == SPF_E_SUCCESS)
	                   : 0;
	if (ipok && m->helo[0] != '\0')
		SPF_request_set_helo_dom(req, m->helo);
	if (ipok) {
		/* The null sender is "postmaster@HELO" (section 2.4), so the
		   macros of section 7 expand the same way. */
		char who[300];
		snprintf(who, sizeof(who), "%s%s", v->is_helo ? "postmaster@" : "",
		         v->is_helo ? v->helo_name : m->sender);
		ipok = SPF_request_set_env_from(req, who) == 0 && req->env_from_dp != NULL;
	}
	if (ipok)
		resp = spf_query(t->spf, req);
	if (ipok) {
		switch (resp != NULL ? SPF_response_result(resp) : SPF_RESULT_TEMPERROR) {
		case SPF_RESULT_PASS:
			v->result = "pass";
			v->dmarc_outcome = DMARC_POLICY_SPF_OUTCOME_PASS;
			break;
		case SPF_RESULT_FAIL:
			v->result = "fail";
			v->dmarc_outcome = DMARC_POLICY_SPF_OUTCOME_FAIL;
			break;
		case SPF_RESULT_SOFTFAIL:
			v->result = "softfail";
			v->dmarc_outcome = DMARC_POLICY_SPF_OUTCOME_FAIL;
			break;
		case SPF_RESULT_NEUTRAL:
			v->result = "neutral";
			v->dmarc_outcome = DMARC_POLICY_SPF_OUTCOME_NONE;
			break;
		case SPF_RESULT_NONE:
			v->result = "none";
			v->dmarc_outcome = DMARC_POLICY_SPF_OUTCOME_NONE;
			break;
		case SPF_RESULT_PERMERROR:
		case SPF_RESULT_INVALID:
			v->result = "permerror";
			v->dmarc_outcome = DMARC_POLICY_SPF_OUTCOME_NONE;
			break;
		default:
			break; /* temperror */
		}
	} else {
		v->result = "permerror";
		v->dmarc_outcome = DMARC_POLICY_SPF_OUTCOME_NONE;
	}
	if (resp != NULL)
		SPF_response_free(resp);
	SPF_request_free(req);
}

struct dkim_sig_verdict {
	const char *result;
	int dmarc_outcome; /* DMARC_POLICY_DKIM_OUTCOME_* */
	char domain[256], selector[64], alg[16], b[12];
};

/* RFC 6376 section 6.1 and RFC 8601 section 2.7.1: each signature's
   result into v (returns how many); with none, *overall_out is the one
   result for the message (none, temperror, permerror). */
static size_t
check_dkim(struct smtp_mailauth *m, struct thread_dns *t, struct dkim_sig_verdict *v,
           const char **overall_out)
{
	*overall_out = NULL;
	if (m->dkim == NULL || t == NULL) {
		*overall_out = "temperror";
		return 0;
	}
	dkim_set_user_context(m->dkim, t->resolver);
	if (!m->is_dkim_done) {
		DKIM_STAT st = dkim_chunk(m->dkim, NULL, 0); /* end of input */
		if (st == DKIM_STAT_OK)
			st = dkim_eom(m->dkim, NULL);
		if (st == DKIM_STAT_NOSIG) {
			*overall_out = "none";
			return 0;
		}
		m->dkim_fail = st;
	} else if (m->dkim_fail == DKIM_STAT_NOSIG) {
		*overall_out = "none";
		return 0;
	}
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	if (dkim_getsiglist(m->dkim, &sigs, &nsigs) != DKIM_STAT_OK || nsigs == 0) {
		/* A message the library could not parse (a header it refused):
		   RFC 8601 section 2.7.1 permerror; a resource failure: temperror. */
		*overall_out =
		        m->dkim_fail == DKIM_STAT_NORESOURCE || m->dkim_fail == DKIM_STAT_INTERNAL
		                ? "temperror"
		        : m->dkim_fail == DKIM_STAT_OK || m->dkim_fail == DKIM_STAT_NOSIG
		                ? "none"
		                : "permerror";
		return 0;
	}
	size_t n = 0;
	for (int i = 0; i < nsigs && n < MAX_SIGS; i++) {
		DKIM_SIGINFO *sig = sigs[i];
		struct dkim_sig_verdict *s = &v[n];
		unsigned int flags = dkim_sig_getflags(sig);
		int err = dkim_sig_geterror(sig);
		const char *d = (const char *)dkim_sig_getdomain(sig);
		const char *sel = (const char *)dkim_sig_getselector(sig);
		dkim_alg_t alg = DKIM_SIGN_UNKNOWN;

		memset(s, 0, sizeof(*s));
		snprintf(s->domain, sizeof(s->domain), "%s", is_dns_token(d) ? d : "");
		lower(s->domain);
		snprintf(s->selector, sizeof(s->selector), "%s", is_dns_token(sel) ? sel : "");
		(void)dkim_sig_getsignalg(sig, &alg);
		snprintf(s->alg, sizeof(s->alg), "%s",
		         alg == DKIM_SIGN_RSASHA256       ? "rsa-sha256"
		         : alg == DKIM_SIGN_ED25519SHA256 ? "ed25519-sha256"
		         : alg == DKIM_SIGN_RSASHA1       ? "rsa-sha1"
		                                          : "");
		/* header.b: the first 8 characters of b= tell signatures apart
		   (RFC 6008 section 2). */
		char bbuf[256];
		size_t blen = sizeof(bbuf);
		if (dkim_get_sigsubstring(m->dkim, sig, bbuf, &blen) == DKIM_STAT_OK) {
			size_t k = 0;
			for (size_t j = 0; j < blen && k < 8; j++)
				if (isalnum((unsigned char)bbuf[j]) || bbuf[j] == '+' ||
				    bbuf[j] == '/')
					s->b[k++] = bbuf[j];
			s->b[k] = '\0';
		}
		if ((flags & DKIM_SIGFLAG_PASSED) != 0 && dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH) {
			s->result = "pass";
			s->dmarc_outcome = DMARC_POLICY_DKIM_OUTCOME_PASS;
		} else if (err == DKIM_SIGERROR_KEYFAIL || m->dkim_fail == DKIM_STAT_CBTRYAGAIN ||
		           m->dkim_fail == DKIM_STAT_KEYFAIL) {
			s->result = "temperror";
			s->dmarc_outcome = DMARC_POLICY_DKIM_OUTCOME_TMPFAIL;
		} else if ((flags & DKIM_SIGFLAG_PROCESSED) != 0 &&
		           (err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_BADSIG)) {
			s->result = "fail"; /* the signature or body hash does not match */
			s->dmarc_outcome = DMARC_POLICY_DKIM_OUTCOME_FAIL;
		} else {
			s->result = "permerror"; /* no key, a bad key, a malformed signature */
			s->dmarc_outcome = DMARC_POLICY_DKIM_OUTCOME_FAIL;
		}
		n++;
	}
	return n;
}

/* The DMARC record of name ("_dmarc.DOMAIN"): 1 with it in out, 0 when
   there is none (RFC 7489 section 6.6.3: records not starting "v=DMARC1"
   are ignored), -1 on a temporary DNS failure. */
static int
dmarc_record(struct smtp_resolver *r, const char *domain, char *out, size_t cap)
{
	char name[300];
	struct ub_result *res;

	snprintf(name, sizeof(name), "_dmarc.%s", domain);
	if (smtp_resolver_query(r, name, RR_TXT, &res) < 0)
		return -1;
	if (res->rcode == RCODE_SERVFAIL) {
		ub_resolve_free(res);
		return -1;
	}
	int found = 0;
	for (int i = 0; res->havedata && res->data[i] != NULL; i++) {
		char txt[TXT_MAX];
		if (smtp_dns_txt_join((const unsigned char *)res->data[i], (size_t)res->len[i], txt,
		                      sizeof(txt)) < 0)
			continue;
		if (strncasecmp(txt, "v=DMARC1", 8) != 0 ||
		    !(txt[8] == '\0' || txt[8] == ';' || txt[8] == ' ' || txt[8] == '\t'))
			continue;
		if (found) {
			found = 0; /* more than one: as if none (section 6.6.3 step 5) */
			break;
		}
		snprintf(out, cap, "%s", txt);
		found = 1;
	}
	ub_resolve_free(res);
	return found;
}

static const char *
dmarc_policy_word(char p)
{
	return p == 'r' ? "reject" : p == 'q' ? "quarantine" : "none";
}

/* RFC 7489 section 6.6: the From: domain's record (or its organizational
   domain's), SPF and DKIM results with their alignment. */
static void
check_dmarc(struct smtp_mailauth *m, struct thread_dns *t, const char *from_domain,
            const struct spf_verdict *spf, const struct dkim_sig_verdict *sigs, size_t n_sigs,
            struct smtp_mailauth_result *out)
{
	char record[TXT_MAX], org[256] = "";
	u_char from[256];

	out->dmarc = SMTP_DMARC_NONE;
	if (from_domain == NULL || !is_dns_token(from_domain))
		return;
	snprintf((char *)from, sizeof(from), "%s", from_domain);
	lower((char *)from);
	if (t == NULL) {
		out->dmarc = SMTP_DMARC_TEMPERROR;
		return;
	}
	int found = dmarc_record(t->resolver, (char *)from, record, sizeof(record));
	bool at_org = false;
	if (found == 0 && opendmarc_get_tld(from, (u_char *)org, sizeof(org)) == 0 &&
	    is_dns_token(org) && strcasecmp(org, (char *)from) != 0) {
		found = dmarc_record(t->resolver, org, record, sizeof(record));
		at_org = true;
	}
	if (found < 0) {
		out->dmarc = SMTP_DMARC_TEMPERROR;
		return;
	}
	if (found == 0)
		return;

	int ipv =
	        strchr(m->ip, ':') != NULL ? DMARC_POLICY_IP_TYPE_IPV6 : DMARC_POLICY_IP_TYPE_IPV4;
	DMARC_POLICY_T *p = opendmarc_policy_connect_init((u_char *)m->ip, ipv);
	if (p == NULL) {
		out->dmarc = SMTP_DMARC_TEMPERROR;
		return;
	}
	if (opendmarc_policy_store_from_domain(p, from) != DMARC_PARSE_OKAY ||
	    opendmarc_policy_store_dmarc(p, (u_char *)record, from,
	                                 at_org ? (u_char *)org : NULL) != DMARC_PARSE_OKAY) {
		/* A record that does not parse is no policy (section 6.6.3). */
		opendmarc_policy_connect_shutdown(p);
		return;
	}
	if (spf->domain[0] != '\0')
		opendmarc_policy_store_spf(p, (u_char *)spf->domain, spf->dmarc_outcome,
		                           spf->is_helo ? DMARC_POLICY_SPF_ORIGIN_HELO
		                                        : DMARC_POLICY_SPF_ORIGIN_MAILFROM,
		                           NULL);
	for (size_t i = 0; i < n_sigs; i++)
		if (sigs[i].domain[0] != '\0')
			opendmarc_policy_store_dkim(p, (u_char *)sigs[i].domain,
			                            (u_char *)sigs[i].selector,
			                            sigs[i].dmarc_outcome, NULL);
	int published = DMARC_RECORD_P_UNSPECIFIED;
	(void)opendmarc_policy_fetch_p(p, &published);
	switch (opendmarc_get_policy_to_enforce(p)) {
	case DMARC_POLICY_PASS:
		out->dmarc = SMTP_DMARC_PASS;
		break;
	case DMARC_POLICY_REJECT:
		out->dmarc = SMTP_DMARC_FAIL;
		out->dmarc_policy = 'r';
		break;
	case DMARC_POLICY_QUARANTINE:
		out->dmarc = SMTP_DMARC_FAIL;
		out->dmarc_policy = 'q';
		break;
	case DMARC_POLICY_NONE:
		out->dmarc = SMTP_DMARC_FAIL;
		out->dmarc_policy = 'n';
		break;
	default:
		break; /* DMARC_POLICY_ABSENT */
	}
	opendmarc_policy_connect_shutdown(p);
}

void
smtp_mailauth_finish(struct smtp_mailauth *m, const char *nameservers, const char *authserv_id,
                     const char *from_domain, struct smtp_mailauth_result *out)
{
	struct thread_dns *t = thread_dns_get(nameservers);
	struct spf_verdict spf;
	struct dkim_sig_verdict sigs[MAX_SIGS];
	const char *dkim_overall;
	struct buf b;

	memset(out, 0, sizeof(*out));
	check_spf(m, t, &spf);
	size_t n_sigs = check_dkim(m, t, sigs, &dkim_overall);
	check_dmarc(m, t, from_domain, &spf, sigs, n_sigs, out);
	if (from_domain != NULL && is_dns_token(from_domain)) {
		snprintf(out->from_domain, sizeof(out->from_domain), "%s", from_domain);
		lower(out->from_domain);
	}

	/* RFC 8601 section 2.2; one resinfo per line, folded with a tab. */
	buf_init(&b);
	buf_printf(&b, "Authentication-Results: %s;\r\n\tspf=%s", authserv_id, spf.result);
	if (is_dns_token(spf.domain))
		buf_printf(&b, " smtp.%s=%s", spf.is_helo ? "helo" : "mailfrom", spf.domain);
	const char *dkim_word = dkim_overall;
	for (size_t i = 0; i < n_sigs; i++) {
		const struct dkim_sig_verdict *s = &sigs[i];
		buf_printf(&b, ";\r\n\tdkim=%s", s->result);
		if (s->domain[0])
			buf_printf(&b, " header.d=%s", s->domain);
		if (s->selector[0])
			buf_printf(&b, " header.s=%s", s->selector);
		if (s->alg[0])
			buf_printf(&b, " header.a=%s", s->alg);
		if (s->b[0])
			buf_printf(&b, " header.b=\"%s\"", s->b);
		if (i == 0 || strcmp(s->result, "pass") == 0)
			dkim_word = s->result;
	}
	if (n_sigs == 0)
		buf_printf(&b, ";\r\n\tdkim=%s", dkim_overall);
	static const char *const dmarc_words[] = {"none", "pass", "fail", "temperror"};
	buf_printf(&b, ";\r\n\tdmarc=%s", dmarc_words[out->dmarc]);
	if (out->dmarc == SMTP_DMARC_FAIL)
		buf_printf(&b, " (p=%s)", dmarc_policy_word(out->dmarc_policy));
	if (out->from_domain[0])
		buf_printf(&b, " header.from=%s", out->from_domain);
	buf_append(&b, "\r\n", 2);
	out->header = xstrndup(b.data, b.len);
	buf_deinit(&b);
	snprintf(out->summary, sizeof(out->summary), "spf=%s dkim=%s dmarc=%s", spf.result,
	         dkim_word != NULL ? dkim_word : "none", dmarc_words[out->dmarc]);
}

bool
smtp_mailauth_is_our_results(const char *field, size_t len, const char *authserv_id)
{
	static const char name[] = "Authentication-Results";
	size_t n = sizeof(name) - 1, i;

	if (len <= n || strncasecmp(field, name, n) != 0)
		return false;
	for (i = n; i < len && (field[i] == ' ' || field[i] == '\t'); i++)
		;
	if (i == len || field[i] != ':')
		return false;
	/* CFWS (RFC 5322 section 3.2.2): blanks, line folds, comments. */
	int depth = 0;
	for (i++; i < len; i++) {
		char c = field[i];
		if (depth > 0) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		} else if (c == '(') {
			depth++;
		} else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			break;
		}
	}
	size_t start = i;
	while (i < len && field[i] != ';' && field[i] != ' ' && field[i] != '\t' &&
	       field[i] != '\r' && field[i] != '\n' && field[i] != '(')
		i++;
	size_t id_len = strlen(authserv_id);
	return i - start == id_len && id_len > 0 &&
	       strncasecmp(field + start, authserv_id, id_len) == 0;
}
