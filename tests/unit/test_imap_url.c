/* SPDX-License-Identifier: MIT */
/* test_imap_url.c: tests for src/imap/imap_url.c: RFC 5092 URLs with the
   URLAUTH parts of RFC 4467, row by row. */
#include "imap/imap_url.h"
#include "imap/imap_urlauth.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "test.h"

static const char *
parse(struct arena *a, const char *url)
{
	struct imap_url u;
	const char *error;

	if (!imap_url_parse(a, url, &u, &error))
		return arena_printf(a, "ERR %s", error);
	struct buf b;
	buf_init(&b);
	if (u.is_absolute)
		buf_printf(&b, "user=%s host=%s ", u.user ? u.user : "-", u.host);
	buf_printf(&b, "box=%s uidv=%u uid=%u", u.mailbox, u.uidvalidity, u.uid);
	if (u.section)
		buf_printf(&b, " sec=%s", u.section);
	if (u.has_partial)
		buf_printf(&b, " partial=%llu.%lld", (unsigned long long)u.partial_offset,
		           u.partial_length == UINT64_MAX ? -1LL : (long long)u.partial_length);
	if (u.expire)
		buf_printf(&b, " expire=%lld", (long long)u.expire);
	if (u.access)
		buf_printf(&b, " access=%s rump=%zu", u.access, u.rump_len);
	if (u.mechanism)
		buf_printf(&b, " mech=%s token=%s", u.mechanism, u.token);
	const char *r = arena_strdup(a, b.data);
	buf_deinit(&b);
	return r;
}

static void
test_urls(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"/INBOX/;UID=20", "box=INBOX uidv=0 uid=20"},
	        {"/INBOX;UIDVALIDITY=7/;uid=20/;section=1.2.MIME/;PARTIAL=0.100",
	         "box=INBOX uidv=7 uid=20 sec=1.2.MIME partial=0.100"},
	        {"/a%20b%26c/;UID=1/;PARTIAL=5", "box=a b&c uidv=0 uid=1 partial=5.-1"},
	        {"/Caf%C3%A9/;UID=1", "box=Caf\xc3\xa9 uidv=0 uid=1"},
	        /* enc-mailbox holds '/' (bchar): hierarchical and shared names */
	        {"/INBOX/Sub/;UID=2", "box=INBOX/Sub uidv=0 uid=2"},
	        {"/Other%20Users/bob%40x.org/Team;UIDVALIDITY=9/;UID=4",
	         "box=Other Users/bob@x.org/Team uidv=9 uid=4"},
	        {"/Shared/news/;UID=1/;SECTION=1", "box=Shared/news uidv=0 uid=1 sec=1"},
	        {"imap://fred@example.org/INBOX/;UID=3",
	         "user=fred host=example.org box=INBOX uidv=0 uid=3"},
	        {"imap://fred;AUTH=*@example.org:143/INBOX/;UID=3",
	         "user=fred host=example.org:143 box=INBOX uidv=0 uid=3"},
	        {"imap://u%40d.org@h/INBOX/;uid=1;urlauth=user+u%40d.org",
	         "user=u@d.org host=h box=INBOX uidv=0 uid=1 access=user+u@d.org rump=54"},
	        {"imap://u@h/INBOX/;uid=1;EXPIRE=2030-01-01T00:00:00Z;URLAUTH=authuser:INTERNAL:0a1b",
	         "user=u host=h box=INBOX uidv=0 uid=1 expire=1893456000 access=authuser rump=68 "
	         "mech=INTERNAL token=0a1b"},
	        {"/INBOX", "ERR The URL names no message"},
	        {"INBOX/;UID=1", "ERR Invalid IMAP URL"},
	        {"/INBOX/;UID=0", "ERR Invalid IMAP URL"},
	        {"/INBOX/;UID=4294967296", "ERR Invalid IMAP URL"},
	        {"/IN%00BOX/;UID=1", "ERR Invalid IMAP URL"},
	        {"/IN%4/;UID=1", "ERR Invalid IMAP URL"},
	        {"/%FF/;UID=1", "ERR Invalid IMAP URL"},
	        {"/INBOX/;UID=1/;SECTION=", "ERR Invalid IMAP URL"},
	        {"/INBOX/;UID=1;URLAUTH=nobody", "ERR Invalid IMAP URL"},
	        {"/INBOX/;UID=1;URLAUTH=user+", "ERR Invalid IMAP URL"},
	        {"/INBOX/;UID=1;URLAUTH=authuser:INTERNAL", "ERR Invalid IMAP URL"},
	        {"/INBOX/;UID=1;EXPIRE=yesterday;URLAUTH=authuser", "ERR Invalid IMAP URL"},
	        {"/INBOX/;UID=1 trailing", "ERR Invalid IMAP URL"},
	        {"imap:///INBOX/;UID=1", "ERR Invalid IMAP URL"},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, parse(a, cases[i].in), cases[i].want);
	arena_free(&a);
}

/* The verifier is HMAC-SHA256 in hex (RFC 4231 test case 2 shape: a known
   key and text), and the owner of a URL is its user, or user@host. */
static void
test_urlauth_parts(void)
{
	unsigned char key[32] = "Jefe";
	char out[65];
	struct arena *a = arena_new(1024);
	struct imap_url u;
	const char *error;

	memset(key + 4, 0, sizeof(key) - 4);
	imap_urlauth_token(key, "what do ya want for nothing?", 28, out);
	test_str_eq(0, out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	test_assert(1, imap_url_parse(a, "imap://fred@h.example:143/INBOX/;UID=1;URLAUTH=authuser",
	                              &u, &error));
	test_str_eq(1, imap_urlauth_owner(a, &u), "fred@h.example");
	test_assert(2, imap_url_parse(a, "imap://fred%40x.org@h/INBOX/;UID=1", &u, &error));
	test_str_eq(2, imap_urlauth_owner(a, &u), "fred@x.org");
	test_assert(3, imap_url_parse(a, "/INBOX/;UID=1", &u, &error));
	test_assert(3, imap_urlauth_owner(a, &u) == NULL);
	arena_free(&a);
}

int
main(void)
{
	TEST_RUN(test_urls);
	TEST_RUN(test_urlauth_parts);
	return TEST_DONE("test_imap_url");
}
