/*
 * test_ice.c — unit tests for the ICE-lite agent of ice.h: credentials,
 * answers to valid checks (XOR-MAPPED-ADDRESS is the sender, MESSAGE-
 * INTEGRITY with our password), nomination by USE-CANDIDATE and its
 * replacement, the 400 / 401 / 420 / 487 error responses and which carry
 * MESSAGE-INTEGRITY (RFC 5389 10.1.2), what is dropped, the error-response
 * rate limit, consent freshness (RFC 7675) and ICE restart (RFC 8445 9).
 *
 * Requests come from stun_build_request() or from a small writer in this
 * file (for the malformed and the unusual ones), with its own HMAC and a
 * bitwise CRC-32.  Single-threaded; no EAL.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ice.h"
#include "stun.h"
#include "unit.h"

static const uint8_t tid1[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
static const struct sfu_5tuple tuple_a = { 0xC0A80102u, 50000, 40000 };
static const struct sfu_5tuple tuple_b = { 0xC0A80103u, 50001, 40000 };
static const struct sfu_5tuple tuple_c = { 0xC0A80102u, 50000, 40001 }; /* a's remote, other local port */

#define KEY(s) (const uint8_t *)(s), strlen(s)

/* ---- a little STUN writer for requests the library's builder cannot make ---- */

struct tmsg {
	uint8_t b[1024];
	size_t n;
};

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static void t_begin(struct tmsg *t, uint16_t type, const uint8_t tid[12])
{
	memset(t, 0, sizeof(*t));
	put16(t->b, type);
	put32(t->b + 4, 0x2112A442u);
	memcpy(t->b + 8, tid, 12);
	t->n = 20;
}

static void t_attr(struct tmsg *t, uint16_t type, const void *v, size_t alen)
{
	put16(t->b + t->n, type);
	put16(t->b + t->n + 2, (unsigned int)alen);
	if (v && alen)
		memcpy(t->b + t->n + 4, v, alen);
	t->n += 4 + ((alen + 3) & ~(size_t)3);
	put16(t->b + 2, (unsigned int)(t->n - 20));
}

static void t_u32(struct tmsg *t, uint16_t type, uint32_t v)
{
	uint8_t b[4];

	put32(b, v);
	t_attr(t, type, b, 4);
}

static void t_mi(struct tmsg *t, const char *key)
{
	unsigned int mlen = 20;
	size_t off = t->n;

	t_attr(t, 0x0008, NULL, 20);
	HMAC(EVP_sha1(), key, (int)strlen(key), t->b, off, t->b + off + 4, &mlen);
}

static uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	return ~c;
}

static void t_fp(struct tmsg *t)
{
	size_t off = t->n;

	t_attr(t, 0x8028, NULL, 4);
	put32(t->b + off + 4, crc32_bitwise(t->b, off) ^ 0x5354554eu);
}

/* Which parts a hand-made request gets. */
enum {
	T_USERNAME = 1, T_PRIORITY = 2, T_MI = 4, T_FP = 8, T_CONTROLLING = 16,
	T_CONTROLLED = 32, T_USE_CANDIDATE = 64, T_UNKNOWN = 128,
	T_ALL = T_USERNAME | T_PRIORITY | T_MI | T_FP | T_CONTROLLING,
};

static void t_request(struct tmsg *t, unsigned int parts, const char *username, const char *pwd)
{
	static const uint8_t tb[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	t_begin(t, STUN_BINDING_REQUEST, tid1);
	if (parts & T_USERNAME)
		t_attr(t, 0x0006, username, strlen(username));
	if (parts & T_PRIORITY)
		t_u32(t, 0x0024, 0x6e0001ff);
	if (parts & T_CONTROLLING)
		t_attr(t, 0x802A, tb, 8);
	if (parts & T_CONTROLLED)
		t_attr(t, 0x8029, tb, 8);
	if (parts & T_USE_CANDIDATE)
		t_attr(t, 0x0025, NULL, 0);
	if (parts & T_UNKNOWN)
		t_u32(t, 0x0003, 0);
	if (parts & T_MI)
		t_mi(t, pwd);
	if (parts & T_FP)
		t_fp(t);
}

/* ---- helpers around the agent ---- */

static void username_for(const struct ice_lite *ice, char *out, size_t cap)
{
	snprintf(out, cap, "%s:remoteFrag", ice->ufrag);
}

/* A check as a browser sends it, with the agent's credentials. */
static size_t make_check(const struct ice_lite *ice, uint8_t *buf, size_t cap, bool nominate)
{
	char user[64];

	username_for(ice, user, sizeof(user));
	return stun_build_request(buf, cap, tid1, user, 0x6e0001ff, 0x1122334455667788ull,
				  nominate, KEY(ice->pwd));
}

static enum ice_verdict feed(struct ice_lite *ice, const uint8_t *pkt, size_t len,
			     const struct sfu_5tuple *from, uint64_t now, uint8_t *out, size_t *out_len)
{
	return ice_lite_input(ice, pkt, len, from, now, out, STUN_MSG_MAX, out_len);
}

static enum ice_verdict check(struct ice_lite *ice, bool nominate, const struct sfu_5tuple *from,
			      uint64_t now)
{
	uint8_t req[STUN_MSG_MAX], out[STUN_MSG_MAX];
	size_t n = make_check(ice, req, sizeof(req), nominate), out_len = 0;

	UT_CHECK(n > 0);
	return feed(ice, req, n, from, now, out, &out_len);
}

/* A success response to tid1 mapping `from`, authenticated with ice->pwd. */
static void expect_success(const struct ice_lite *ice, const uint8_t *out, size_t n,
			   const struct sfu_5tuple *from)
{
	struct stun_msg m;

	UT_EQ(stun_parse(out, n, &m), 0);
	UT_EQ(m.type, STUN_BINDING_SUCCESS);
	UT_MEMEQ(m.tid, tid1, 12);
	UT_CHECK(m.has_xor_mapped);
	UT_EQ(m.mapped_ip, from->remote_ip);
	UT_EQ(m.mapped_port, from->remote_port);
	UT_CHECK(stun_integrity_ok(out, n, &m, KEY(ice->pwd)));
	UT_CHECK(stun_fingerprint_ok(out, n, &m));
}

/* An error response to tid1 with code, with or without MESSAGE-INTEGRITY. */
static void expect_error(const struct ice_lite *ice, const uint8_t *out, size_t n, uint16_t code,
			 bool with_mi)
{
	struct stun_msg m;

	UT_CHECK(n > 0);
	UT_EQ(stun_parse(out, n, &m), 0);
	UT_EQ(m.type, STUN_BINDING_ERROR);
	UT_MEMEQ(m.tid, tid1, 12);
	UT_EQ(m.error_code, code);
	UT_EQ(m.has_integrity, with_mi);
	if (with_mi)
		UT_CHECK(stun_integrity_ok(out, n, &m, KEY(ice->pwd)));
	UT_CHECK(stun_fingerprint_ok(out, n, &m));
}

static bool tuple_eq(const struct sfu_5tuple *a, const struct sfu_5tuple *b)
{
	return a->remote_ip == b->remote_ip && a->remote_port == b->remote_port &&
	       a->local_port == b->local_port;
}

static bool all_ice_chars(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '+' || *s == '/'))
			return false;
	return true;
}

/* ---- tests ---- */

UT_TEST(init_credentials)
{
	struct ice_lite a, b;

	memset(&a, 0x5a, sizeof(a));
	UT_EQ(ice_lite_init(&a), 0);
	UT_EQ(ice_lite_init(&b), 0);
	UT_EQ(strlen(a.ufrag), ICE_UFRAG_LEN);
	UT_EQ(strlen(a.pwd), ICE_PWD_LEN);
	UT_CHECK(all_ice_chars(a.ufrag) && all_ice_chars(a.pwd));
	UT_CHECK(strcmp(a.ufrag, b.ufrag) != 0 && strcmp(a.pwd, b.pwd) != 0);
	UT_CHECK(!a.nominated);
	UT_EQ(a.checks, 0);
	UT_EQ(a.bad_checks, 0);
	UT_EQ(a.err_in_window, 0);
	UT_CHECK(!ice_lite_expired(&a, 1000000));
}

UT_TEST(valid_check_answered)
{
	struct ice_lite ice;
	uint8_t req[STUN_MSG_MAX], out[STUN_MSG_MAX];
	size_t n, out_len = 0;
	struct stun_msg m;

	UT_EQ(ice_lite_init(&ice), 0);
	n = make_check(&ice, req, sizeof(req), false);
	UT_EQ(feed(&ice, req, n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_success(&ice, out, out_len, &tuple_a);
	UT_EQ(stun_parse(out, out_len, &m), 0);
	UT_CHECK(!stun_integrity_ok(out, out_len, &m, KEY("not the password")));
	UT_CHECK(!ice.nominated);
	UT_EQ(ice.checks, 1);
	UT_EQ(ice.bad_checks, 0);

	/* A hand-written valid request (other attribute order) is as good. */
	{
		struct tmsg t;
		char user[64];

		username_for(&ice, user, sizeof(user));
		t_request(&t, T_ALL, user, ice.pwd);
		UT_EQ(feed(&ice, t.b, t.n, &tuple_b, 1000, out, &out_len), ICE_REPLY);
		expect_success(&ice, out, out_len, &tuple_b);
	}
}

UT_TEST(nomination)
{
	struct ice_lite ice;
	uint8_t req[STUN_MSG_MAX], out[STUN_MSG_MAX];
	size_t n, out_len = 0;

	UT_EQ(ice_lite_init(&ice), 0);
	n = make_check(&ice, req, sizeof(req), true);
	UT_EQ(feed(&ice, req, n, &tuple_a, 1000, out, &out_len), ICE_REPLY_NOMINATED);
	expect_success(&ice, out, out_len, &tuple_a);
	UT_CHECK(ice.nominated);
	UT_CHECK(tuple_eq(&ice.selected, &tuple_a));
	UT_EQ(ice.last_valid_ms, 1000);

	/* Again from the same pair: nothing new. */
	UT_EQ(check(&ice, true, &tuple_a, 1100), ICE_REPLY);
	UT_CHECK(tuple_eq(&ice.selected, &tuple_a));

	/* Another pair nominated replaces it; the verdict says so. */
	UT_EQ(check(&ice, true, &tuple_b, 1200), ICE_REPLY_NOMINATED);
	UT_CHECK(tuple_eq(&ice.selected, &tuple_b));
	UT_EQ(ice.last_valid_ms, 1200);
	/* A different local port is a different pair. */
	UT_EQ(check(&ice, true, &tuple_c, 1250), ICE_REPLY_NOMINATED);
	UT_CHECK(tuple_eq(&ice.selected, &tuple_c));
	UT_EQ(check(&ice, true, &tuple_a, 1300), ICE_REPLY_NOMINATED);
	UT_CHECK(tuple_eq(&ice.selected, &tuple_a));

	/* A plain check from elsewhere is answered but changes nothing. */
	UT_EQ(check(&ice, false, &tuple_b, 1400), ICE_REPLY);
	UT_CHECK(tuple_eq(&ice.selected, &tuple_a));
	UT_EQ(ice.last_valid_ms, 1300);
	UT_EQ(ice.checks, 6);
}

UT_TEST(wrong_password_401)
{
	struct ice_lite ice;
	uint8_t req[STUN_MSG_MAX], out[STUN_MSG_MAX];
	char user[64];
	size_t n, out_len = 0;

	UT_EQ(ice_lite_init(&ice), 0);
	username_for(&ice, user, sizeof(user));
	n = stun_build_request(req, sizeof(req), tid1, user, 1, 2, true, KEY("guessed-password-guessed-pwd"));
	UT_EQ(feed(&ice, req, n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	/* RFC 5389 10.1.2: 401, and no MESSAGE-INTEGRITY on it. */
	expect_error(&ice, out, out_len, 401, false);
	UT_CHECK(!ice.nominated);
	UT_EQ(ice.checks, 0);
	UT_EQ(ice.bad_checks, 1);

	/* The right username with a request whose body was changed in flight. */
	n = make_check(&ice, req, sizeof(req), false);
	/* USERNAME's value starts at 24: 16 ufrag chars, ':', then the remote
	 * part, which is changed; FINGERPRINT is redone so only
	 * MESSAGE-INTEGRITY can tell. */
	req[24 + ICE_UFRAG_LEN + 3] ^= 1;
	put32(req + n - 4, crc32_bitwise(req, n - 8) ^ 0x5354554eu);
	UT_EQ(feed(&ice, req, n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 401, false);
}

UT_TEST(unknown_ufrag_401)
{
	struct ice_lite ice;
	struct tmsg t;
	uint8_t out[STUN_MSG_MAX];
	size_t out_len = 0;
	char user[64];

	UT_EQ(ice_lite_init(&ice), 0);
	t_request(&t, T_ALL, "someoneElse:remoteFrag", ice.pwd);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 401, false);

	/* Our ufrag but one character short, one long, or as the remote part. */
	snprintf(user, sizeof(user), "%.*s:r", ICE_UFRAG_LEN - 1, ice.ufrag);
	t_request(&t, T_ALL, user, ice.pwd);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 401, false);
	snprintf(user, sizeof(user), "%sx:r", ice.ufrag);
	t_request(&t, T_ALL, user, ice.pwd);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 401, false);
	snprintf(user, sizeof(user), "r:%s", ice.ufrag);
	t_request(&t, T_ALL, user, ice.pwd);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 401, false);
	/* No colon at all. */
	t_request(&t, T_ALL, ice.ufrag, ice.pwd);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 401, false);
	UT_EQ(ice.bad_checks, 5);
	UT_EQ(ice.checks, 0);
}

UT_TEST(missing_attributes_400)
{
	struct ice_lite ice;
	struct tmsg t;
	uint8_t out[STUN_MSG_MAX];
	size_t out_len = 0;
	char user[64];

	UT_EQ(ice_lite_init(&ice), 0);
	username_for(&ice, user, sizeof(user));

	/* No USERNAME or no MESSAGE-INTEGRITY: not authenticated, 400 without MI. */
	t_request(&t, (T_ALL & ~T_USERNAME) | T_USE_CANDIDATE, user, ice.pwd);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 400, false);
	t_request(&t, (T_ALL & ~T_MI) | T_USE_CANDIDATE, user, ice.pwd);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 400, false);

	/* Authenticated but no PRIORITY, or no FINGERPRINT: 400 with MI. */
	t_request(&t, (T_ALL & ~T_PRIORITY) | T_USE_CANDIDATE, user, ice.pwd);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 400, true);
	t_request(&t, (T_ALL & ~T_FP) | T_USE_CANDIDATE, user, ice.pwd);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 400, true);

	/* None of these nominated anything. */
	UT_CHECK(!ice.nominated);
	UT_EQ(ice.checks, 0);
	UT_EQ(ice.bad_checks, 4);

	/* The control: with everything it nominates. */
	t_request(&t, T_ALL | T_USE_CANDIDATE, user, ice.pwd);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_REPLY_NOMINATED);
}

UT_TEST(malformed_request_400)
{
	struct ice_lite ice;
	uint8_t req[STUN_MSG_MAX], out[STUN_MSG_MAX];
	size_t n, out_len = 0;

	UT_EQ(ice_lite_init(&ice), 0);
	n = make_check(&ice, req, sizeof(req), true);
	/* USERNAME's length runs past the message: the header is fine, so 400. */
	put16(req + 22, 0x0400);
	UT_EQ(feed(&ice, req, n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 400, false);
	UT_CHECK(!ice.nominated);
}

UT_TEST(role_conflict_487)
{
	struct ice_lite ice;
	struct tmsg t;
	uint8_t out[STUN_MSG_MAX];
	size_t out_len = 0;
	char user[64];

	UT_EQ(ice_lite_init(&ice), 0);
	username_for(&ice, user, sizeof(user));
	/* A lite agent stays controlled (RFC 8445 6.1.1, 7.3.1.1). */
	t_request(&t, (T_ALL & ~T_CONTROLLING) | T_CONTROLLED | T_USE_CANDIDATE, user, ice.pwd);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 487, true);
	UT_CHECK(!ice.nominated);
	/* Neither role attribute: answered (RFC 5245 peers). */
	t_request(&t, T_ALL & ~T_CONTROLLING, user, ice.pwd);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_success(&ice, out, out_len, &tuple_a);
}

UT_TEST(rfc5769_request_to_agent)
{
	/* The RFC 5769 2.1 request is authenticated for ufrag "evtj" with its
	 * password, and claims ICE-CONTROLLED: a lite agent answers 487. */
	static const uint8_t rfc_request[108] = {
		0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
		0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10,
		0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
		0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
		0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
		0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
		0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
		0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
		0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
	};
	struct ice_lite ice;
	uint8_t out[STUN_MSG_MAX];
	size_t out_len = 0;
	struct stun_msg m;

	UT_EQ(ice_lite_init(&ice), 0);
	strcpy(ice.ufrag, "evtj");
	strcpy(ice.pwd, "VOkJxbRl1RmTxUk/WvJxBt");
	UT_EQ(feed(&ice, rfc_request, sizeof(rfc_request), &tuple_a, 1000, out, &out_len), ICE_REPLY);
	UT_EQ(stun_parse(out, out_len, &m), 0);
	UT_EQ(m.type, STUN_BINDING_ERROR);
	UT_EQ(m.error_code, 487);
	UT_MEMEQ(m.tid, rfc_request + 8, 12);
	UT_CHECK(stun_integrity_ok(out, out_len, &m, KEY(ice.pwd)));
	/* With another ufrag it is a stranger's: 401. */
	strcpy(ice.ufrag, "evtk");
	UT_EQ(feed(&ice, rfc_request, sizeof(rfc_request), &tuple_a, 1000, out, &out_len), ICE_REPLY);
	UT_EQ(stun_parse(out, out_len, &m), 0);
	UT_EQ(m.error_code, 401);
	UT_CHECK(!m.has_integrity);
}

UT_TEST(unknown_attribute_420)
{
	struct ice_lite ice;
	struct tmsg t;
	uint8_t out[STUN_MSG_MAX];
	size_t out_len = 0;
	char user[64];

	UT_EQ(ice_lite_init(&ice), 0);
	username_for(&ice, user, sizeof(user));
	t_request(&t, T_ALL | T_UNKNOWN | T_USE_CANDIDATE, user, ice.pwd);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 420, true);
	/* UNKNOWN-ATTRIBUTES after ERROR-CODE ("Unknown Attribute", 17 bytes). */
	UT_EQ(out[48] << 8 | out[49], 0x000A);
	UT_EQ(out[52] << 8 | out[53], 0x0003);
	UT_CHECK(!ice.nominated);
	/* Unauthenticated, the unknown attribute does not matter: 401 first. */
	t_request(&t, T_ALL | T_UNKNOWN, user, "wrong");
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 401, false);
}

UT_TEST(dropped_silently)
{
	struct ice_lite ice;
	struct tmsg t;
	uint8_t req[STUN_MSG_MAX], out[STUN_MSG_MAX];
	static const uint8_t rtp[24] = { 0x80, 0x60, 0x00, 0x01 };
	size_t n, out_len = 99;
	char user[64];

	UT_EQ(ice_lite_init(&ice), 0);
	username_for(&ice, user, sizeof(user));

	/* Responses (success, error) and indications: a lite agent sends none. */
	n = stun_build_success(req, sizeof(req), tid1, 1, 2, KEY(ice.pwd));
	UT_EQ(feed(&ice, req, n, &tuple_a, 1000, out, &out_len), ICE_DROP);
	UT_EQ(out_len, 0);
	n = stun_build_error(req, sizeof(req), tid1, 401, "Unauthorized", NULL, 0);
	UT_EQ(feed(&ice, req, n, &tuple_a, 1000, out, &out_len), ICE_DROP);
	t_begin(&t, STUN_BINDING_INDICATION, tid1);
	t_fp(&t);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_DROP);
	/* Even a fully valid check's bytes with the indication class. */
	n = make_check(&ice, req, sizeof(req), true);
	req[1] = 0x11;
	UT_EQ(feed(&ice, req, n, &tuple_a, 1000, out, &out_len), ICE_DROP);
	/* A method other than Binding (Allocate). */
	t_request(&t, T_ALL, user, ice.pwd);
	put16(t.b, 0x0003);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 1000, out, &out_len), ICE_DROP);

	/* Not STUN at all, or too short, or a wrong cookie. */
	UT_EQ(feed(&ice, rtp, sizeof(rtp), &tuple_a, 1000, out, &out_len), ICE_DROP);
	UT_EQ(feed(&ice, req, 10, &tuple_a, 1000, out, &out_len), ICE_DROP);
	n = make_check(&ice, req, sizeof(req), true);
	req[5] ^= 1;
	UT_EQ(feed(&ice, req, n, &tuple_a, 1000, out, &out_len), ICE_DROP);
	/* Truncated: the length no longer matches the datagram. */
	n = make_check(&ice, req, sizeof(req), true);
	UT_EQ(feed(&ice, req, n - 4, &tuple_a, 1000, out, &out_len), ICE_DROP);
	/* A wrong FINGERPRINT means "not STUN" (RFC 5389 8): no answer. */
	n = make_check(&ice, req, sizeof(req), true);
	req[n - 1] ^= 1;
	UT_EQ(feed(&ice, req, n, &tuple_a, 1000, out, &out_len), ICE_DROP);
	UT_EQ(out_len, 0);

	UT_CHECK(!ice.nominated);
	UT_EQ(ice.checks, 0);
	UT_EQ(ice.bad_checks, 10);
	UT_EQ(ice.err_in_window, 0); /* no error response was spent */
}

UT_TEST(small_buffer_dropped)
{
	struct ice_lite ice;
	uint8_t req[STUN_MSG_MAX], out[STUN_MSG_MAX];
	size_t n, out_len = 99;

	UT_EQ(ice_lite_init(&ice), 0);
	n = make_check(&ice, req, sizeof(req), true);
	UT_EQ(ice_lite_input(&ice, req, n, &tuple_a, 1000, out, 63, &out_len), ICE_DROP);
	UT_EQ(out_len, 0);
	UT_CHECK(!ice.nominated);
	UT_EQ(ice_lite_input(&ice, req, n, &tuple_a, 1000, out, 64, &out_len), ICE_REPLY_NOMINATED);
	UT_EQ(out_len, 64);
}

UT_TEST(error_rate_limit)
{
	struct ice_lite ice;
	struct tmsg t;
	uint8_t out[STUN_MSG_MAX];
	size_t out_len = 0;
	char user[64];
	int replies = 0, drops = 0;

	UT_EQ(ice_lite_init(&ice), 0);
	username_for(&ice, user, sizeof(user));
	t_request(&t, T_ALL, user, "wrong-password");
	for (int i = 0; i < ICE_ERRORS_PER_SEC + 5; i++) {
		enum ice_verdict v = feed(&ice, t.b, t.n, &tuple_a, 5000 + (uint64_t)i, out, &out_len);

		if (v == ICE_REPLY) {
			replies++;
			expect_error(&ice, out, out_len, 401, false);
		} else {
			drops++;
			UT_EQ(v, ICE_DROP);
			UT_EQ(out_len, 0);
		}
	}
	UT_EQ(replies, ICE_ERRORS_PER_SEC);
	UT_EQ(drops, 5);
	UT_EQ(ice.bad_checks, ICE_ERRORS_PER_SEC + 5);
	/* Other error kinds share the budget. */
	t_request(&t, T_ALL & ~T_USERNAME, user, ice.pwd);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 5500, out, &out_len), ICE_DROP);
	/* Valid checks are not limited. */
	UT_EQ(check(&ice, true, &tuple_a, 5999), ICE_REPLY_NOMINATED);
	/* The next second has a fresh budget. */
	t_request(&t, T_ALL, user, "wrong-password");
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 5999, out, &out_len), ICE_DROP);
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 6000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 401, false);
	/* A clock that went backwards opens a new window rather than stalling. */
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 100, out, &out_len), ICE_REPLY);
}

UT_TEST(consent_freshness)
{
	struct ice_lite ice;
	struct tmsg t;
	uint8_t out[STUN_MSG_MAX];
	size_t out_len = 0;
	char user[64];

	UT_EQ(ice_lite_init(&ice), 0);
	/* Nothing nominated: nothing to expire. */
	UT_EQ(check(&ice, false, &tuple_a, 1000), ICE_REPLY);
	UT_CHECK(!ice_lite_expired(&ice, 1000 + 10 * ICE_CONSENT_MS));

	UT_EQ(check(&ice, true, &tuple_a, 1000), ICE_REPLY_NOMINATED);
	UT_CHECK(!ice_lite_expired(&ice, 1000));
	UT_CHECK(!ice_lite_expired(&ice, 1000 + ICE_CONSENT_MS - 1));
	UT_CHECK(ice_lite_expired(&ice, 1000 + ICE_CONSENT_MS));

	/* A valid check on the selected pair refreshes it. */
	UT_EQ(check(&ice, false, &tuple_a, 20000), ICE_REPLY);
	UT_EQ(ice.last_valid_ms, 20000);
	UT_CHECK(!ice_lite_expired(&ice, 20000 + ICE_CONSENT_MS - 1));
	UT_CHECK(ice_lite_expired(&ice, 20000 + ICE_CONSENT_MS));

	/* Checks on another pair, or failing ones on this pair, do not. */
	UT_EQ(check(&ice, false, &tuple_b, 45000), ICE_REPLY);
	UT_EQ(check(&ice, false, &tuple_c, 45000), ICE_REPLY);
	username_for(&ice, user, sizeof(user));
	t_request(&t, T_ALL, user, "wrong-password");
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 46000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 401, false);
	t_request(&t, T_ALL & ~T_PRIORITY, user, ice.pwd); /* authenticated, but a 400 */
	UT_EQ(feed(&ice, t.b, t.n, &tuple_a, 47000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 400, true);
	UT_EQ(ice.last_valid_ms, 20000);
	UT_CHECK(ice_lite_expired(&ice, 50000));

	/* A time before the last check (caller's clocks disagree) is not expiry. */
	UT_CHECK(!ice_lite_expired(&ice, 10000));

	/* Nominating a new pair restarts the clock there. */
	UT_EQ(check(&ice, true, &tuple_b, 60000), ICE_REPLY_NOMINATED);
	UT_CHECK(!ice_lite_expired(&ice, 60000 + ICE_CONSENT_MS - 1));
	UT_EQ(check(&ice, false, &tuple_a, 70000), ICE_REPLY);
	UT_EQ(ice.last_valid_ms, 60000);
}

UT_TEST(restart)
{
	struct ice_lite ice;
	char old_ufrag[ICE_UFRAG_LEN + 1], old_pwd[ICE_PWD_LEN + 1], user[64];
	uint8_t req[STUN_MSG_MAX], out[STUN_MSG_MAX];
	size_t n, out_len = 0;

	UT_EQ(ice_lite_init(&ice), 0);
	UT_EQ(check(&ice, true, &tuple_a, 1000), ICE_REPLY_NOMINATED);
	memcpy(old_ufrag, ice.ufrag, sizeof(old_ufrag));
	memcpy(old_pwd, ice.pwd, sizeof(old_pwd));

	UT_EQ(ice_lite_restart(&ice), 0);
	UT_CHECK(strcmp(ice.ufrag, old_ufrag) != 0);
	UT_CHECK(strcmp(ice.pwd, old_pwd) != 0);
	UT_EQ(strlen(ice.ufrag), ICE_UFRAG_LEN);
	UT_EQ(strlen(ice.pwd), ICE_PWD_LEN);
	UT_CHECK(all_ice_chars(ice.ufrag) && all_ice_chars(ice.pwd));
	UT_CHECK(!ice.nominated);
	UT_CHECK(!ice_lite_expired(&ice, 1000 + 10 * ICE_CONSENT_MS));

	/* The old credentials are refused now. */
	snprintf(user, sizeof(user), "%s:remoteFrag", old_ufrag);
	n = stun_build_request(req, sizeof(req), tid1, user, 1, 2, true, KEY(old_pwd));
	UT_EQ(feed(&ice, req, n, &tuple_a, 2000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 401, false);
	/* Old ufrag, new password; new ufrag, old password. */
	n = stun_build_request(req, sizeof(req), tid1, user, 1, 2, true, KEY(ice.pwd));
	UT_EQ(feed(&ice, req, n, &tuple_a, 2000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 401, false);
	username_for(&ice, user, sizeof(user));
	n = stun_build_request(req, sizeof(req), tid1, user, 1, 2, true, KEY(old_pwd));
	UT_EQ(feed(&ice, req, n, &tuple_a, 2000, out, &out_len), ICE_REPLY);
	expect_error(&ice, out, out_len, 401, false);
	UT_CHECK(!ice.nominated);

	/* The new ones work, and the same pair is nominated afresh. */
	UT_EQ(check(&ice, true, &tuple_a, 3000), ICE_REPLY_NOMINATED);
	UT_CHECK(tuple_eq(&ice.selected, &tuple_a));
	UT_EQ(ice.last_valid_ms, 3000);
}

UT_MAIN("ice",
	UT_CASE(init_credentials),
	UT_CASE(valid_check_answered),
	UT_CASE(nomination),
	UT_CASE(wrong_password_401),
	UT_CASE(unknown_ufrag_401),
	UT_CASE(missing_attributes_400),
	UT_CASE(malformed_request_400),
	UT_CASE(role_conflict_487),
	UT_CASE(rfc5769_request_to_agent),
	UT_CASE(unknown_attribute_420),
	UT_CASE(dropped_silently),
	UT_CASE(small_buffer_dropped),
	UT_CASE(error_rate_limit),
	UT_CASE(consent_freshness),
	UT_CASE(restart))
