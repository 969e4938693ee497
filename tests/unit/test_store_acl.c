/* SPDX-License-Identifier: MIT */
/* test_store_acl.c: tests for src/store/acl.c: the rights and identifier
   parsers (RFC 4314 sections 2.1.1, 3.1), the rights of a non-owner's
   handle (anyone, authenticated, the name, groups, negative rights), the
   checks each store call makes through such a handle, ACL inheritance on
   CREATE, removal on DELETE, and the shares index. */
#include "store_test_util.h"
#include "test.h"

static const char msg[] = "From: a@example.org\r\nSubject: s\r\n\r\nbody\r\n";

static const char *
fmt(unsigned rights)
{
	static char out[16];
	return store_rights_format(rights, out);
}

static void
test_rights_parse(void)
{
	static const struct {
		const char *in;
		int rc;
		const char *out; /* formatted, or the bad character */
		enum store_rights_mod mod;
	} cases[] = {
	        {"lrswipkxtea", 0, "lrswipkxteacd", STORE_RIGHTS_REPLACE},
	        {"", 0, "", STORE_RIGHTS_REPLACE},
	        {"lr", 0, "lr", STORE_RIGHTS_REPLACE},
	        /* Section 2.1.1's examples: d = et, c = kx here; letters come
	           back in lrswipkxtea order, then c and d. */
	        {"lrswida", 0, "lrswitead", STORE_RIGHTS_REPLACE},
	        {"+cda", 0, "kxteacd", STORE_RIGHTS_ADD},
	        {"-w", 0, "w", STORE_RIGHTS_REMOVE},
	        {"lrQswicda", -1, "Q", 0},
	        {"lrqswicda", -1, "q", 0},
	        {"l0", -1, "0", 0},
	        {"++l", -1, "+", 0},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		unsigned rights = 0;
		enum store_rights_mod mod = STORE_RIGHTS_REPLACE;
		char bad = 0;
		int rc = store_rights_parse(cases[i].in, true, &rights, &mod, &bad);
		test_int_eq((int)i, rc, cases[i].rc);
		if (rc == 0) {
			test_int_eq((int)i, mod, cases[i].mod);
			test_str_eq((int)i, fmt(rights), cases[i].out);
		} else {
			test_int_eq((int)i, bad, cases[i].out[0]);
		}
	}
	/* Without allow_mod a leading '+' is a bad right. */
	unsigned r;
	enum store_rights_mod mod;
	char bad;
	test_int_eq(-1, store_rights_parse("+l", false, &r, &mod, &bad), -1);
}

static void
test_identifiers(void)
{
	test_assert(-1, store_acl_identifier_is_valid("anyone"));
	test_assert(-1, store_acl_identifier_is_valid("-fred@example.org"));
	test_assert(-1, store_acl_identifier_is_valid("$team"));
	test_assert(-1, !store_acl_identifier_is_valid(""));
	test_assert(-1, !store_acl_identifier_is_valid("-"));
	test_assert(-1, !store_acl_identifier_is_valid("$"));
	test_assert(-1, !store_acl_identifier_is_valid("--x"));
	test_assert(-1, !store_acl_identifier_is_valid("a b"));
	test_assert(-1, !store_acl_identifier_is_valid("a\x01"));
	test_assert(-1, !store_acl_identifier_is_valid("\xff\xfe"));
	char long_id[300];
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	test_assert(-1, !store_acl_identifier_is_valid(long_id));
}

/* bob's rights on box of the owner (account 7). */
static unsigned
rights_of(struct tstore *t, const struct store_identity *who, const char *box)
{
	struct store_account *h;
	enum store_error err;
	unsigned r = 0;

	if (store_account_open_as(t->store, 7, who, &h, &err) < 0)
		return 0xdead;
	if (store_mailbox_rights(h, box, &r, &err) < 0)
		r = err == STORE_ERR_NOTFOUND ? 0xf00d : 0xdead;
	store_account_close(&h);
	return r;
}

static void
test_rights_combination(void)
{
	struct tstore t;
	enum store_error err;
	const char *groups[] = {"team"};
	struct store_identity bob = {8, "bob@example.org", groups, 1};
	struct store_identity carol = {9, "carol@example.org", NULL, 0};

	tstore_open(&t);
	/* The owner's own handle has everything, with no ACL at all. */
	unsigned r;
	test_int_eq(-1, store_mailbox_rights(t.acct, "INBOX", &r, &err), 0);
	test_int_eq(-1, r, STORE_RIGHTS_ALL);
	test_int_eq(-1, rights_of(&t, &bob, "INBOX"), 0);
	test_int_eq(-1,
	            store_acl_set(t.acct, "INBOX", "anyone", STORE_RIGHTS_REPLACE,
	                          STORE_RIGHT_LOOKUP, &err),
	            0);
	test_int_eq(-1,
	            store_acl_set(t.acct, "INBOX", "$team", STORE_RIGHTS_REPLACE,
	                          STORE_RIGHT_READ | STORE_RIGHT_WRITE, &err),
	            0);
	test_int_eq(-1,
	            store_acl_set(t.acct, "INBOX", "bob@example.org", STORE_RIGHTS_REPLACE,
	                          STORE_RIGHT_INSERT | STORE_RIGHT_DELMSG, &err),
	            0);
	test_str_eq(-1, fmt(rights_of(&t, &bob, "INBOX")), "lrwitd");
	test_str_eq(-1, fmt(rights_of(&t, &carol, "INBOX")), "l");
	/* Negative rights take away what any entry gave (section 2). */
	test_int_eq(-1,
	            store_acl_set(t.acct, "INBOX", "-bob@example.org", STORE_RIGHTS_REPLACE,
	                          STORE_RIGHT_WRITE | STORE_RIGHT_LOOKUP, &err),
	            0);
	test_str_eq(-1, fmt(rights_of(&t, &bob, "INBOX")), "ritd");
	test_str_eq(-1, fmt(rights_of(&t, &carol, "INBOX")), "l");
	/* +/- modify the existing entry; all removed deletes it. */
	test_int_eq(
	        -1,
	        store_acl_set(t.acct, "INBOX", "$team", STORE_RIGHTS_ADD, STORE_RIGHT_SEEN, &err),
	        0);
	test_int_eq(-1,
	            store_acl_set(t.acct, "INBOX", "$team", STORE_RIGHTS_REMOVE, STORE_RIGHT_WRITE,
	                          &err),
	            0);
	struct arena *a = arena_new(1024);
	struct store_acl_entry *v;
	size_t n;
	test_int_eq(-1, store_acl_get(t.acct, "INBOX", a, &v, &n, &err), 0);
	test_int_eq(-1, n, 4);
	test_str_eq(-1, v[0].identifier, "$team");
	test_str_eq(-1, fmt(v[0].rights), "rs");
	test_str_eq(-1, v[1].identifier, "-bob@example.org");
	test_str_eq(-1, v[2].identifier, "anyone");
	test_str_eq(-1, v[3].identifier, "bob@example.org");
	test_int_eq(-1,
	            store_acl_set(t.acct, "INBOX", "anyone", STORE_RIGHTS_REMOVE,
	                          STORE_RIGHT_LOOKUP, &err),
	            0);
	test_int_eq(-1, store_acl_get(t.acct, "INBOX", a, &v, &n, &err), 0);
	test_int_eq(-1, n, 3);
	/* Without l or r the mailbox does not exist for carol (section 6). */
	test_int_eq(-1, rights_of(&t, &carol, "INBOX"), 0);
	test_int_eq(-1, store_acl_set(t.acct, "Nope", "anyone", STORE_RIGHTS_REPLACE, 1, &err), -1);
	test_int_eq(-1, err, STORE_ERR_NOTFOUND);
	test_int_eq(-1, store_acl_set(t.acct, "INBOX", "a b", STORE_RIGHTS_REPLACE, 1, &err), -1);
	test_int_eq(-1, err, STORE_ERR_BADNAME);
	arena_free(&a);
	tstore_close(&t);
}

static void
test_checks_through_handle(void)
{
	struct tstore t;
	enum store_error err;
	struct store_identity bob = {8, "bob@example.org", NULL, 0};
	struct store_account *h;
	struct store_mailbox *m;

	tstore_open(&t);
	test_assert(-1, tappend(&t, "INBOX", msg, STORE_FLAG_SEEN) != 0);
	test_int_eq(-1, store_account_open_as(t.store, 7, &bob, &h, &err), 0);
	test_assert(-1, !store_account_is_owner(h));
	/* Nothing shared: every call fails as if nothing were there. */
	test_int_eq(-1, store_mailbox_open(h, "INBOX", 0, &m, &err), -1);
	test_int_eq(-1, err, STORE_ERR_NOTFOUND);
	struct store_mailbox_info info, *list;
	size_t n;
	struct arena *a = arena_new(4096);
	test_int_eq(-1, store_mailbox_status(h, "INBOX", a, &info, &err), -1);
	test_int_eq(-1, err, STORE_ERR_NOTFOUND);
	test_int_eq(-1, store_mailbox_list(h, a, &list, &n, &err), 0);
	test_int_eq(-1, n, 0);
	test_int_eq(-1, store_mailbox_create(h, "Mine", 0, &err), -1);
	test_int_eq(-1, store_mailbox_delete(h, "Trash", &err), -1);
	/* 'l' only: listed, but not readable. */
	test_int_eq(-1,
	            store_acl_set(t.acct, "INBOX", "bob@example.org", STORE_RIGHTS_REPLACE,
	                          STORE_RIGHT_LOOKUP, &err),
	            0);
	test_int_eq(-1, store_mailbox_list(h, a, &list, &n, &err), 0);
	test_int_eq(-1, n, 1);
	test_str_eq(-1, list[0].name, "INBOX");
	test_int_eq(-1, list[0].rights, STORE_RIGHT_LOOKUP);
	test_int_eq(-1, store_mailbox_open(h, "INBOX", 0, &m, &err), -1);
	test_int_eq(-1, err, STORE_ERR_NORIGHTS);
	/* 'r': open, but no flag, expunge or insert. */
	test_int_eq(-1,
	            store_acl_set(t.acct, "INBOX", "bob@example.org", STORE_RIGHTS_ADD,
	                          STORE_RIGHT_READ, &err),
	            0);
	test_int_eq(-1, store_mailbox_open(h, "INBOX", 0, &m, &err), 0);
	struct store_flags_change ch = {.op = STORE_FLAGS_ADD, .flags = STORE_FLAG_FLAGGED};
	struct store_flags_result res;
	uint32_t uid = 1, *gone;
	test_int_eq(-1, store_flags_update(m, &uid, 1, &ch, a, &res, &err), -1);
	test_int_eq(-1, err, STORE_ERR_NORIGHTS);
	test_int_eq(-1, store_message_expunge(m, NULL, 0, a, &gone, &n, &err), -1);
	test_int_eq(-1, err, STORE_ERR_NORIGHTS);
	struct store_append ap = {.data = (const unsigned char *)msg, .len = strlen(msg)};
	test_int_eq(-1, store_message_append(h, "INBOX", &ap, 1, NULL, NULL, &err), -1);
	test_int_eq(-1, err, STORE_ERR_NORIGHTS);
	store_mailbox_close(&m);
	/* 'w' and 'i': STORE of \Flagged and \Seen changes only \Flagged;
	   APPEND keeps only the flags the rights allow. */
	test_int_eq(-1,
	            store_acl_set(t.acct, "INBOX", "bob@example.org", STORE_RIGHTS_ADD,
	                          STORE_RIGHT_WRITE | STORE_RIGHT_INSERT, &err),
	            0);
	test_int_eq(-1, store_mailbox_open(h, "INBOX", 0, &m, &err), 0);
	ch.op = STORE_FLAGS_SET;
	ch.flags = STORE_FLAG_FLAGGED;
	test_int_eq(-1, store_flags_update(m, &uid, 1, &ch, a, &res, &err), 0);
	uint32_t flags;
	uint64_t kw, modseq;
	store_mailbox_close(&m);
	ap.flags = STORE_FLAG_SEEN | STORE_FLAG_DELETED | STORE_FLAG_ANSWERED;
	uint32_t new_uid;
	test_int_eq(-1, store_message_append(h, "INBOX", &ap, 1, NULL, &new_uid, &err), 0);
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &m, &err), 0);
	test_int_eq(-1, store_mailbox_flags_get(m, 1, &flags, &kw, &modseq, &err), 0);
	test_int_eq(-1, flags, STORE_FLAG_SEEN | STORE_FLAG_FLAGGED); /* \Seen stayed */
	test_int_eq(-1, store_mailbox_flags_get(m, new_uid, &flags, &kw, &modseq, &err), 0);
	test_int_eq(-1, flags, STORE_FLAG_ANSWERED);
	store_mailbox_close(&m);
	/* 'k' on INBOX: a child, which inherits INBOX's ACL (section 4);
	   'x' on it: delete; the ACL goes with it. */
	test_int_eq(-1, store_mailbox_create(h, "INBOX/sub", 0, &err), -1);
	test_int_eq(-1, err, STORE_ERR_NORIGHTS);
	test_int_eq(-1,
	            store_acl_set(t.acct, "INBOX", "bob@example.org", STORE_RIGHTS_ADD,
	                          STORE_RIGHT_CREATE | STORE_RIGHT_DELETE, &err),
	            0);
	test_int_eq(-1, store_mailbox_create(h, "INBOX/sub", 0, &err), 0);
	unsigned r;
	test_int_eq(-1, store_mailbox_rights(h, "INBOX/sub", &r, &err), 0);
	test_str_eq(-1, fmt(r), "lrwikxc");
	test_int_eq(-1, store_mailbox_rename(h, "INBOX/sub", "Top", &err), -1);
	test_int_eq(-1, err, STORE_ERR_NORIGHTS); /* no 'k' on the root */
	test_int_eq(-1, store_mailbox_rename(h, "INBOX/sub", "INBOX/other", &err), 0);
	test_int_eq(-1, store_mailbox_delete(h, "INBOX/other", &err), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM acl"), 1);
	/* Shares: bob sees account 7 among those sharing with him. */
	uint64_t *ids;
	test_int_eq(-1, store_shared_owners(t.store, &bob, &ids, &n, &err), 0);
	test_int_eq(-1, n, 1);
	test_int_eq(-1, ids[0], 7);
	free(ids);
	struct store_identity me = {7, "owner@example.org", NULL, 0};
	test_int_eq(-1, store_shared_owners(t.store, &me, &ids, &n, &err), 0);
	test_int_eq(-1, n, 0);
	free(ids);
	arena_free(&a);
	store_account_close(&h);
	tstore_close(&t);
}

int
main(void)
{
	TEST_RUN(test_rights_parse);
	TEST_RUN(test_identifiers);
	TEST_RUN(test_rights_combination);
	TEST_RUN(test_checks_through_handle);
	return TEST_DONE("test_store_acl");
}
