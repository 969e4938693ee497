/* SPDX-License-Identifier: MIT */
/*
 * http_autoconfig.c: client autoconfiguration, so a user types an address
 * and a password and nothing else:
 *   - Mozilla autoconfig (Thunderbird, K-9/FairEmail):
 *     GET /.well-known/autoconfig/mail/config-v1.1.xml and
 *     GET /mail/config-v1.1.xml?emailaddress=..., the clientConfig 1.1
 *     format (wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat);
 *   - Microsoft Autodiscover: POST /autodiscover/autodiscover.xml with the
 *     Outlook request schema (2006), answered with the 2006a response schema
 *     ([MS-OXDSCLI] section 2.2.4);
 *   - Apple: GET /apple/mobileconfig?emailaddress=... gives a
 *     configuration profile with one com.apple.mail.managed payload, signed
 *     (CMS, with the TLS certificate) unless http.sign_mobileconfig = no;
 *   - MTA-STS: GET /.well-known/mta-sts.txt (RFC 8461 section 3.2).
 * Every answer lists only the listeners this server runs (a port of 0 is
 * left out), with the server's own name. Addresses come from the client:
 * they must pass auth_address_is_valid() and are XML-escaped; no account is
 * looked up, so the answer says nothing about which accounts exist.
 */
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/accounts.h"
#include "http/http_session.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "net/tls.h"

static void
xml_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		case '\'':
			buf_puts(b, "&apos;");
			break;
		default:
			buf_putc(b, *s);
		}
	}
}

bool
http_domain_is_valid(const char *d)
{
	size_t n = strlen(d);

	if (n == 0 || n > 253 || d[0] == '.' || d[0] == '-' || d[n - 1] == '.' ||
	    strstr(d, "..") != NULL)
		return false;
	for (; *d != '\0'; d++)
		if (!((*d >= 'a' && *d <= 'z') || (*d >= 'A' && *d <= 'Z') ||
		      (*d >= '0' && *d <= '9') || *d == '-' || *d == '.'))
			return false;
	return true;
}

/* The address from ?emailaddress=, or NULL (then 400 was sent when
   required). */
static const char *
query_address(struct http_session *s, bool required)
{
	const char *addr =
	        http_query_get(s->arena, s->req.query, strlen(s->req.query), "emailaddress");

	if (addr != NULL && !auth_address_is_valid(addr)) {
		http_respond_error(s, 400, "emailaddress is not a valid address");
		return NULL;
	}
	if (addr == NULL && required)
		http_respond_error(s, 400, "emailaddress is required");
	return addr;
}

/* The mail domain a Thunderbird request is about: the address's, else
   the Host the client asked (autoconfig.DOMAIN), port and prefix removed. */
static const char *
request_domain(struct http_session *s, const char *addr)
{
	if (addr != NULL)
		return strrchr(addr, '@') + 1;
	const char *host = http_header_get(&s->req, "host");
	if (host == NULL)
		return NULL;
	char *d = arena_strndup(s->arena, host, strcspn(host, ":"));
	if (strncasecmp(d, "autoconfig.", 11) == 0)
		d += 11;
	return http_domain_is_valid(d) ? d : NULL;
}

static void
mozilla_server(struct buf *b, const char *tag, const char *type, const char *host, uint16_t port,
               const char *socket)
{
	if (port == 0)
		return;
	buf_printf(b, "    <%s type=\"%s\">\n      <hostname>", tag, type);
	xml_escape(b, host);
	buf_printf(b,
	           "</hostname>\n      <port>%u</port>\n      <socketType>%s</socketType>\n"
	           "      <username>%%EMAILADDRESS%%</username>\n"
	           "      <authentication>password-cleartext</authentication>\n    </%s>\n",
	           port, socket, tag);
}

void
http_autoconfig_get(struct http_session *s)
{
	const struct http_settings *cfg = &s->site->s;
	const char *addr = query_address(s, false);

	if (addr == NULL && s->status != 0)
		return;
	const char *domain = request_domain(s, addr);
	if (domain == NULL) {
		http_respond_error(s, 400, "no emailaddress and no usable Host");
		return;
	}
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n"
	             "  <emailProvider id=\"");
	xml_escape(&b, domain);
	buf_puts(&b, "\">\n    <domain>");
	xml_escape(&b, domain);
	buf_puts(&b, "</domain>\n    <displayName>");
	xml_escape(&b, domain);
	buf_puts(&b, "</displayName>\n    <displayShortName>");
	xml_escape(&b, domain);
	buf_puts(&b, "</displayShortName>\n");
	/* Implicit TLS first: clients take the first server they can reach. */
	mozilla_server(&b, "incomingServer", "imap", cfg->hostname, cfg->imaps_port, "SSL");
	mozilla_server(&b, "incomingServer", "imap", cfg->hostname, cfg->imap_port, "STARTTLS");
	mozilla_server(&b, "incomingServer", "pop3", cfg->hostname, cfg->pop3s_port, "SSL");
	mozilla_server(&b, "incomingServer", "pop3", cfg->hostname, cfg->pop3_port, "STARTTLS");
	mozilla_server(&b, "outgoingServer", "smtp", cfg->hostname, cfg->submissions_port, "SSL");
	mozilla_server(&b, "outgoingServer", "smtp", cfg->hostname, cfg->submission_port,
	               "STARTTLS");
	buf_puts(&b, "  </emailProvider>\n</clientConfig>\n");
	http_respond(s, 200, "application/xml; charset=utf-8", b.data, b.len);
	buf_deinit(&b);
}

/* The text of the first element named name (any namespace prefix), or NULL. */
static char *
xml_element_text(struct arena *a, const char *xml, size_t len, const char *name)
{
	size_t nl = strlen(name);
	const char *end = xml + len;

	for (const char *p = xml; p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL; p++) {
		const char *q = p + 1;
		const char *gt = memchr(q, '>', (size_t)(end - q));
		if (gt == NULL)
			return NULL;
		const char *colon = memchr(q, ':', (size_t)(gt - q));
		if (colon != NULL)
			q = colon + 1;
		if ((size_t)(gt - q) != nl || memcmp(q, name, nl) != 0)
			continue;
		const char *text = gt + 1;
		const char *lt = memchr(text, '<', (size_t)(end - text));
		if (lt == NULL)
			return NULL;
		while (text < lt &&
		       (*text == ' ' || *text == '\n' || *text == '\r' || *text == '\t'))
			text++;
		while (lt > text &&
		       (lt[-1] == ' ' || lt[-1] == '\n' || lt[-1] == '\r' || lt[-1] == '\t'))
			lt--;
		return arena_strndup(a, text, (size_t)(lt - text));
	}
	return NULL;
}

static void
outlook_protocol(struct buf *b, const char *type, const char *host, uint16_t port, bool ssl,
                 const char *login)
{
	if (port == 0)
		return;
	buf_printf(b, "      <Protocol>\n        <Type>%s</Type>\n        <Server>", type);
	xml_escape(b, host);
	buf_printf(
	        b,
	        "</Server>\n        <Port>%u</Port>\n        <DomainRequired>off</DomainRequired>\n"
	        "        <LoginName>",
	        port);
	xml_escape(b, login);
	buf_printf(b,
	           "</LoginName>\n        <SPA>off</SPA>\n        <SSL>%s</SSL>\n"
	           "%s        <AuthRequired>on</AuthRequired>\n      </Protocol>\n",
	           ssl ? "on" : "off", ssl ? "" : "        <Encryption>TLS</Encryption>\n");
}

void
http_autodiscover_post(struct http_session *s)
{
	const struct http_settings *cfg = &s->site->s;
	const char *addr = xml_element_text(s->arena, s->body.data != NULL ? s->body.data : "",
	                                    s->body.len, "EMailAddress");

	if (addr == NULL || !auth_address_is_valid(addr)) {
		http_respond_error(s, 400, "expected an Autodiscover request with an EMailAddress");
		return;
	}
	struct buf b;
	buf_init(&b);
	buf_puts(&b,
	         "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	         "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/"
	         "responseschema/2006\">\n"
	         "  <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/"
	         "responseschema/2006a\">\n    <User>\n      <DisplayName>");
	xml_escape(&b, addr);
	buf_puts(
	        &b,
	        "</DisplayName>\n    </User>\n    <Account>\n      <AccountType>email</AccountType>\n"
	        "      <Action>settings</Action>\n");
	uint16_t imap = cfg->imaps_port != 0 ? cfg->imaps_port : cfg->imap_port;
	uint16_t pop3 = cfg->pop3s_port != 0 ? cfg->pop3s_port : cfg->pop3_port;
	uint16_t smtp = cfg->submissions_port != 0 ? cfg->submissions_port : cfg->submission_port;
	outlook_protocol(&b, "IMAP", cfg->hostname, imap, imap == cfg->imaps_port, addr);
	outlook_protocol(&b, "POP3", cfg->hostname, pop3, pop3 == cfg->pop3s_port, addr);
	outlook_protocol(&b, "SMTP", cfg->hostname, smtp, smtp == cfg->submissions_port, addr);
	buf_puts(&b, "    </Account>\n  </Response>\n</Autodiscover>\n");
	http_respond(s, 200, "application/xml; charset=utf-8", b.data, b.len);
	buf_deinit(&b);
}

/* A UUID made from what it names, so the same account's profile keeps its
   identifiers and a reinstall replaces rather than duplicates it. */
static void
stable_uuid(char out[37], const char *what, const char *name)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char *input = xasprintf("%s\n%s", what, name);

	SHA256((const unsigned char *)input, strlen(input), md);
	free(input);
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x50); /* version 5 layout */
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X",
	         md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10],
	         md[11], md[12], md[13], md[14], md[15]);
}

static void
plist_string(struct buf *b, const char *key, const char *value)
{
	buf_printf(b, "      <key>%s</key>\n      <string>", key);
	xml_escape(b, value);
	buf_puts(b, "</string>\n");
}

static void
plist_int(struct buf *b, const char *key, unsigned value)
{
	buf_printf(b, "      <key>%s</key>\n      <integer>%u</integer>\n", key, value);
}

static void
plist_bool(struct buf *b, const char *key, bool value)
{
	buf_printf(b, "      <key>%s</key>\n      <%s/>\n", key, value ? "true" : "false");
}

/*
 * The profile as CMS SignedData (RFC 5652) with the profile inside, DER:
 * what iOS and macOS install as a signed profile (they show the signer,
 * and "Verified" when its chain leads to a trusted root). Signed with the
 * TLS certificate, its key and its chain. Returns 0 with a heap *out, or
 * -1 (logged) so the caller sends the profile unsigned rather than none.
 */
static int
profile_sign(struct net_tls *tls, const struct buf *plist, unsigned char **out, size_t *len_out)
{
	SSL_CTX *ctx = net_tls_ctx(tls);
	X509 *cert = SSL_CTX_get0_certificate(ctx);
	EVP_PKEY *key = SSL_CTX_get0_privatekey(ctx);
	STACK_OF(X509) *chain = NULL;
	BIO *in = NULL, *der = NULL;
	CMS_ContentInfo *cms = NULL;
	int rc = -1;

	if (cert == NULL || key == NULL || SSL_CTX_get0_chain_certs(ctx, &chain) != 1)
		goto out;
	in = BIO_new_mem_buf(plist->data, (int)plist->len);
	der = BIO_new(BIO_s_mem());
	/* CMS_BINARY: the XML is signed byte for byte (no MIME canonical
	   CRLFs); the content is included (no CMS_DETACHED). */
	if (in == NULL || der == NULL ||
	    (cms = CMS_sign(cert, key, chain, in, CMS_BINARY)) == NULL ||
	    i2d_CMS_bio(der, cms) != 1)
		goto out;
	char *data;
	long n = BIO_get_mem_data(der, &data);
	*out = xmalloc((size_t)n);
	memcpy(*out, data, (size_t)n);
	*len_out = (size_t)n;
	rc = 0;
out:
	if (rc < 0) {
		log_error("http", "event=profile-sign-failed err=\"%s\"",
		          ERR_reason_error_string(ERR_peek_last_error()));
		ERR_clear_error();
	}
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	BIO_free(der);
	return rc;
}

void
http_mobileconfig_get(struct http_session *s)
{
	const struct http_settings *cfg = &s->site->s;
	const char *addr = query_address(s, true);
	char uuid_profile[37], uuid_mail[37];

	if (addr == NULL)
		return;
	uint16_t imap = cfg->imaps_port != 0 ? cfg->imaps_port : cfg->imap_port;
	uint16_t pop3 = cfg->pop3s_port != 0 ? cfg->pop3s_port : cfg->pop3_port;
	uint16_t smtp = cfg->submissions_port != 0 ? cfg->submissions_port : cfg->submission_port;
	if (imap == 0 && pop3 == 0) {
		http_respond_error(s, 404, "no IMAP or POP3 listener to configure");
		return;
	}
	stable_uuid(uuid_profile, "profile", addr);
	stable_uuid(uuid_mail, "mail", addr);
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	             "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
	             "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
	             "<plist version=\"1.0\">\n<dict>\n  <key>PayloadContent</key>\n  <array>\n"
	             "    <dict>\n");
	plist_string(&b, "EmailAccountDescription", addr);
	plist_string(&b, "EmailAccountType", imap != 0 ? "EmailTypeIMAP" : "EmailTypePOP");
	plist_string(&b, "EmailAddress", addr);
	plist_string(&b, "IncomingMailServerAuthentication", "EmailAuthPassword");
	plist_string(&b, "IncomingMailServerHostName", cfg->hostname);
	plist_int(&b, "IncomingMailServerPortNumber", imap != 0 ? imap : pop3);
	plist_bool(&b, "IncomingMailServerUseSSL",
	           imap != 0 ? imap == cfg->imaps_port : pop3 == cfg->pop3s_port);
	plist_string(&b, "IncomingMailServerUsername", addr);
	/* Apple requires the outgoing keys; with submission switched off they
	   still name this host, and sending fails until it is switched on. */
	plist_string(&b, "OutgoingMailServerAuthentication", "EmailAuthPassword");
	plist_string(&b, "OutgoingMailServerHostName", cfg->hostname);
	plist_int(&b, "OutgoingMailServerPortNumber", smtp != 0 ? smtp : 465);
	plist_bool(&b, "OutgoingMailServerUseSSL", smtp == 0 || smtp == cfg->submissions_port);
	plist_string(&b, "OutgoingMailServerUsername", addr);
	plist_bool(&b, "OutgoingPasswordSameAsIncomingPassword", true);
	plist_string(&b, "PayloadDisplayName", addr);
	char *id = arena_printf(s->arena, "tern.%s.mail.%s", cfg->hostname, addr);
	plist_string(&b, "PayloadIdentifier", id);
	plist_string(&b, "PayloadType", "com.apple.mail.managed");
	plist_string(&b, "PayloadUUID", uuid_mail);
	plist_int(&b, "PayloadVersion", 1);
	buf_puts(&b, "    </dict>\n  </array>\n");
	/* The profile's own keys, indented like the payload's for the helper. */
	plist_string(&b, "PayloadDisplayName", arena_printf(s->arena, "Mail: %s", addr));
	plist_string(&b, "PayloadIdentifier",
	             arena_printf(s->arena, "tern.%s.%s", cfg->hostname, addr));
	plist_bool(&b, "PayloadRemovalDisallowed", false);
	plist_string(&b, "PayloadType", "Configuration");
	plist_string(&b, "PayloadUUID", uuid_profile);
	plist_int(&b, "PayloadVersion", 1);
	buf_puts(&b, "</dict>\n</plist>\n");
	char *file = arena_printf(s->arena, "%s.mobileconfig", addr);
	for (char *p = file; *p != '\0'; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			*p = '_';
	http_header_add(s, "Content-Disposition: attachment; filename=\"%s\"", file);
	struct net_tls *tls = cfg->sign_mobileconfig ? http_server_tls(s->srv) : NULL;
	unsigned char *signed_der = NULL;
	size_t signed_len = 0;
	if (tls != NULL && profile_sign(tls, &b, &signed_der, &signed_len) == 0)
		http_respond(s, 200, "application/x-apple-aspen-config", (const char *)signed_der,
		             signed_len);
	else
		http_respond(s, 200, "application/x-apple-aspen-config", b.data, b.len);
	net_tls_unref(&tls);
	free(signed_der);
	buf_deinit(&b);
}

void
http_mta_sts_policy(const struct http_settings *settings, struct buf *out)
{
	static const char *const modes[] = {"none", "testing", "enforce"};

	/* RFC 8461 section 3.2: CRLF line endings; mx patterns may use
	   wildcards, tern publishes its one host name. */
	buf_printf(out, "version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: %llu\r\n",
	           modes[settings->mta_sts_mode], settings->hostname,
	           (unsigned long long)settings->mta_sts_max_age_s);
}

void
http_mta_sts_get(struct http_session *s)
{
	struct buf b;

	buf_init(&b);
	http_mta_sts_policy(&s->site->s, &b);
	http_respond(s, 200, "text/plain; charset=utf-8", b.data, b.len);
	buf_deinit(&b);
}
