/*
 * test_stun.c — unit tests for stun.h: the RFC 5769 test vectors (2.1
 * sample request with its short-term password, 2.2 IPv4 and 2.3 IPv6
 * responses, 2.4 request with long-term credentials), the builders back
 * through the parser with MESSAGE-INTEGRITY and FINGERPRINT checked both by
 * the library and by this file's own HMAC / CRC, every truncation and every
 * bit flip of the sample request, attribute lengths and padding, the
 * MESSAGE-INTEGRITY / FINGERPRINT placement rules, and unknown
 * comprehension-required attributes.
 *
 * The vectors are the RFC's bytes written out here; messages the tests need
 * beyond them are assembled by a small writer in this file whose CRC-32 is a
 * bitwise one, independent of the table in stun.c.  Single-threaded; no EAL.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "stun.h"
#include "unit.h"

/* RFC 5769 2.1: Binding request, short-term credentials. */
static const uint8_t rfc_request[108] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, /* Request type and length, cookie */
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, /* tid */
	0x80, 0x22, 0x00, 0x10, /* SOFTWARE "STUN test client" */
	0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
	0x69, 0x65, 0x6e, 0x74,
	0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, /* PRIORITY */
	0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, /* ICE-CONTROLLED */
	0x00, 0x06, 0x00, 0x09, /* USERNAME "evtj:h6vY", padded with spaces */
	0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20,
	0x00, 0x08, 0x00, 0x14, /* MESSAGE-INTEGRITY */
	0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5,
	0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2,
	0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf, /* FINGERPRINT */
};
#define RFC_REQ_MI_OFF 76
#define RFC_REQ_FP_OFF 100

/* RFC 5769 2.2: success response, XOR-MAPPED-ADDRESS 192.0.2.1:32853. */
static const uint8_t rfc_resp_v4[80] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x0b, /* SOFTWARE "test vector" */
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43, /* XOR-MAPPED */
	0x00, 0x08, 0x00, 0x14, /* MESSAGE-INTEGRITY */
	0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
	0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96, /* FINGERPRINT */
};
#define RFC_V4_XMA_OFF 36

/* RFC 5769 2.3: success response, XOR-MAPPED-ADDRESS
 * [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const uint8_t rfc_resp_v6[92] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, /* XOR-MAPPED, IPv6 */
	0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79,
	0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
	0x00, 0x08, 0x00, 0x14,
	0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c,
	0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

/* RFC 5769 2.4: request with long-term credentials, no FINGERPRINT. */
static const uint8_t rfc_long_term[116] = {
	0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42,
	0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e,
	0x00, 0x06, 0x00, 0x12, /* USERNAME, U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9 */
	0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88, 0xe3, 0x83, 0xaa, 0xe3, 0x83, 0x83,
	0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00,
	0x00, 0x15, 0x00, 0x1c, /* NONCE "f//499k954d6OL34oL9FSTvy64sA" */
	0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36,
	0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79,
	0x36, 0x34, 0x73, 0x41,
	0x00, 0x14, 0x00, 0x0b, /* REALM "example.org" */
	0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67, 0x00,
	0x00, 0x08, 0x00, 0x14,
	0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02, 0xb8, 0xe0, 0x71,
	0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66,
};

static const char rfc_pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t rfc_tid[12] = { 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
				     0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae };
static const uint8_t tid1[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

#define KEY(s) (const uint8_t *)(s), strlen(s)

/* ---- an independent little STUN writer for hand-made messages ---- */

struct tmsg {
	uint8_t b[2048];
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

static void t_setlen(struct tmsg *t)
{
	put16(t->b + 2, (unsigned int)(t->n - 20));
}

static void t_begin(struct tmsg *t, uint16_t type, const uint8_t tid[12])
{
	memset(t, 0, sizeof(*t));
	put16(t->b, type);
	put32(t->b + 4, 0x2112A442u);
	memcpy(t->b + 8, tid, 12);
	t->n = 20;
}

/* Attribute with declared length alen, value v (alen bytes), zero padding. */
static void t_attr(struct tmsg *t, uint16_t type, const void *v, size_t alen)
{
	put16(t->b + t->n, type);
	put16(t->b + t->n + 2, (unsigned int)alen);
	if (v && alen)
		memcpy(t->b + t->n + 4, v, alen);
	t->n += 4 + ((alen + 3) & ~(size_t)3);
	t_setlen(t);
}

static void t_u32(struct tmsg *t, uint16_t type, uint32_t v)
{
	uint8_t b[4];

	put32(b, v);
	t_attr(t, type, b, 4);
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

/* MESSAGE-INTEGRITY with the header length ending at it (RFC 5389 15.4). */
static void t_mi(struct tmsg *t, const char *key)
{
	unsigned int mlen = 20;
	size_t off = t->n;

	put16(t->b + off, 0x0008);
	put16(t->b + off + 2, 20);
	t->n += 24;
	t_setlen(t);
	HMAC(EVP_sha1(), key, (int)strlen(key), t->b, off, t->b + off + 4, &mlen);
}

static void t_fp(struct tmsg *t)
{
	size_t off = t->n;

	put16(t->b + off, 0x8028);
	put16(t->b + off + 2, 4);
	t->n += 8;
	t_setlen(t);
	put32(t->b + off + 4, crc32_bitwise(t->b, off) ^ 0x5354554eu);
}

/* This file's own verdicts on a message from the library's builders. */
static bool own_mi_ok(const uint8_t *p, size_t off, const char *key)
{
	uint8_t copy[2048], mac[20];
	unsigned int mlen = 20;

	memcpy(copy, p, off);
	put16(copy + 2, (unsigned int)(off + 24 - 20));
	HMAC(EVP_sha1(), key, (int)strlen(key), copy, off, mac, &mlen);
	return memcmp(mac, p + off + 4, 20) == 0;
}

static bool own_fp_ok(const uint8_t *p, size_t len)
{
	uint32_t want = crc32_bitwise(p, len - 8) ^ 0x5354554eu;

	return p[len - 8] == 0x80 && p[len - 7] == 0x28 &&
	       ((uint32_t)p[len - 4] << 24 | (uint32_t)p[len - 3] << 16 |
		(uint32_t)p[len - 2] << 8 | p[len - 1]) == want;
}

/* A fully valid ICE request written by the test writer. */
static void t_request(struct tmsg *t, const char *username, const char *key)
{
	t_begin(t, STUN_BINDING_REQUEST, tid1);
	t_attr(t, 0x0006, username, strlen(username));
	t_u32(t, 0x0024, 0x6e0001ff);
	t_mi(t, key);
	t_fp(t);
}

static int parse(const struct tmsg *t, struct stun_msg *m)
{
	return stun_parse(t->b, t->n, m);
}

/* ---- RFC 5769 ---- */

UT_TEST(rfc5769_sample_request)
{
	struct stun_msg m;
	const char *frag = NULL;

	UT_EQ(stun_parse(rfc_request, sizeof(rfc_request), &m), 0);
	UT_EQ(m.type, STUN_BINDING_REQUEST);
	UT_EQ(m.len, 0x58);
	UT_MEMEQ(m.tid, rfc_tid, 12);
	UT_EQ(m.username_len, 9);
	UT_CHECK(m.username && memcmp(m.username, "evtj:h6vY", 9) == 0);
	UT_CHECK(m.has_priority);
	UT_EQ(m.priority, 0x6e0001ffu);
	UT_CHECK(m.ice_controlled && !m.ice_controlling && !m.use_candidate);
	UT_CHECK(m.tiebreaker == 0x932ff9b151263b36ull);
	UT_CHECK(m.has_integrity && m.has_fingerprint);
	UT_EQ(m.integrity_off, RFC_REQ_MI_OFF);
	UT_EQ(m.fingerprint_off, RFC_REQ_FP_OFF);
	UT_EQ(m.unknown_required, 0);
	UT_EQ(m.error_code, 0);
	UT_CHECK(!m.has_xor_mapped);
	UT_CHECK(stun_fingerprint_ok(rfc_request, sizeof(rfc_request), &m));
	UT_CHECK(stun_integrity_ok(rfc_request, sizeof(rfc_request), &m, KEY(rfc_pwd)));
	UT_CHECK(!stun_integrity_ok(rfc_request, sizeof(rfc_request), &m, KEY("VOkJxbRl1RmTxUk/WvJxBu")));
	UT_CHECK(!stun_integrity_ok(rfc_request, sizeof(rfc_request), &m, KEY("")));
	UT_CHECK(!stun_integrity_ok(rfc_request, sizeof(rfc_request), &m, NULL, 0));
	UT_EQ(stun_username_local(&m, &frag), 4);
	UT_CHECK(frag == m.username);
}

UT_TEST(rfc5769_ipv4_response)
{
	struct stun_msg m;
	uint8_t out[128];
	size_t n;

	UT_EQ(stun_parse(rfc_resp_v4, sizeof(rfc_resp_v4), &m), 0);
	UT_EQ(m.type, STUN_BINDING_SUCCESS);
	UT_MEMEQ(m.tid, rfc_tid, 12);
	UT_CHECK(m.has_xor_mapped);
	UT_EQ(m.mapped_ip, 0xC0000201u); /* 192.0.2.1 */
	UT_EQ(m.mapped_port, 32853);
	UT_CHECK(stun_integrity_ok(rfc_resp_v4, sizeof(rfc_resp_v4), &m, KEY(rfc_pwd)));
	UT_CHECK(!stun_integrity_ok(rfc_resp_v4, sizeof(rfc_resp_v4), &m, KEY("x")));
	UT_CHECK(stun_fingerprint_ok(rfc_resp_v4, sizeof(rfc_resp_v4), &m));
	UT_EQ(m.unknown_required, 0);

	/* Our builder encodes the same address to the same XOR-MAPPED-ADDRESS bytes. */
	n = stun_build_success(out, sizeof(out), rfc_tid, 0xC0000201u, 32853, KEY(rfc_pwd));
	UT_EQ(n, 64);
	UT_MEMEQ(out + 20, rfc_resp_v4 + RFC_V4_XMA_OFF, 12);
}

UT_TEST(rfc5769_ipv6_response)
{
	struct stun_msg m;

	UT_EQ(stun_parse(rfc_resp_v6, sizeof(rfc_resp_v6), &m), 0);
	UT_EQ(m.type, STUN_BINDING_SUCCESS);
	UT_CHECK(!m.has_xor_mapped); /* IPv6: valid, but the SFU uses IPv4 only */
	UT_CHECK(stun_integrity_ok(rfc_resp_v6, sizeof(rfc_resp_v6), &m, KEY(rfc_pwd)));
	UT_CHECK(stun_fingerprint_ok(rfc_resp_v6, sizeof(rfc_resp_v6), &m));
	UT_EQ(m.unknown_required, 0);
}

UT_TEST(rfc5769_long_term)
{
	/* Long-term key = MD5(username ":" realm ":" password), RFC 5389 15.4;
	 * the password "TheMatrIX" is SASLprep("TheM\u00aatr\u2168"). */
	static const char ltk_input[] =
		"\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9"
		":example.org:TheMatrIX";
	uint8_t key[16];
	unsigned int klen = 0;
	struct stun_msg m;
	const char *frag;

	UT_EQ(stun_parse(rfc_long_term, sizeof(rfc_long_term), &m), 0);
	UT_EQ(m.type, STUN_BINDING_REQUEST);
	UT_EQ(m.username_len, 18);
	UT_CHECK(m.username && memcmp(m.username, rfc_long_term + 24, 18) == 0);
	UT_CHECK(m.has_integrity && !m.has_fingerprint);
	UT_EQ(m.integrity_off, 92);
	UT_EQ(m.unknown_required, 0); /* NONCE, REALM are understood */
	UT_CHECK(!m.has_priority);
	UT_CHECK(!stun_fingerprint_ok(rfc_long_term, sizeof(rfc_long_term), &m));
	UT_EQ(stun_username_local(&m, &frag), -EINVAL); /* no colon: not ICE */

	UT_CHECK(EVP_Digest(ltk_input, strlen(ltk_input), key, &klen, EVP_md5(), NULL) == 1);
	UT_EQ(klen, 16);
	UT_CHECK(stun_integrity_ok(rfc_long_term, sizeof(rfc_long_term), &m, key, sizeof(key)));
	key[0] ^= 1;
	UT_CHECK(!stun_integrity_ok(rfc_long_term, sizeof(rfc_long_term), &m, key, sizeof(key)));
	UT_CHECK(!stun_integrity_ok(rfc_long_term, sizeof(rfc_long_term), &m, KEY("TheMatrIX")));
}

/* ---- builders back through the parser ---- */

UT_TEST(build_success_roundtrip)
{
	uint8_t out[STUN_MSG_MAX];
	struct stun_msg m;
	size_t n = stun_build_success(out, sizeof(out), tid1, 0x0A000001u, 5004, KEY("pwd-1"));

	UT_EQ(n, 64);
	UT_EQ(stun_parse(out, n, &m), 0);
	UT_EQ(m.type, STUN_BINDING_SUCCESS);
	UT_MEMEQ(m.tid, tid1, 12);
	UT_CHECK(m.has_xor_mapped);
	UT_EQ(m.mapped_ip, 0x0A000001u);
	UT_EQ(m.mapped_port, 5004);
	UT_CHECK(m.has_integrity && m.has_fingerprint);
	UT_EQ(m.fingerprint_off, n - 8);
	UT_CHECK(stun_integrity_ok(out, n, &m, KEY("pwd-1")));
	UT_CHECK(!stun_integrity_ok(out, n, &m, KEY("pwd-2")));
	UT_CHECK(stun_fingerprint_ok(out, n, &m));
	UT_CHECK(own_mi_ok(out, m.integrity_off, "pwd-1"));
	UT_CHECK(own_fp_ok(out, n));

	/* Without a key: no MESSAGE-INTEGRITY, FINGERPRINT still right. */
	n = stun_build_success(out, sizeof(out), tid1, 0xFFFFFFFFu, 65535, NULL, 0);
	UT_EQ(n, 40);
	UT_EQ(stun_parse(out, n, &m), 0);
	UT_CHECK(!m.has_integrity && m.has_fingerprint);
	UT_EQ(m.mapped_ip, 0xFFFFFFFFu);
	UT_EQ(m.mapped_port, 65535);
	UT_CHECK(own_fp_ok(out, n));
}

/* ERROR-CODE value of a response: class, number and the padded reason. */
static void check_error_attr(const uint8_t *p, unsigned int code, const char *reason)
{
	size_t rlen = strlen(reason);

	UT_EQ(p[20] << 8 | p[21], 0x0009);
	UT_EQ(p[22] << 8 | p[23], 4 + rlen);
	UT_EQ(p[26], code / 100);
	UT_EQ(p[27], code % 100);
	UT_CHECK(memcmp(p + 28, reason, rlen) == 0);
	for (size_t i = rlen; i % 4; i++)
		UT_EQ(p[28 + i], 0);
}

UT_TEST(build_error_roundtrip)
{
	uint8_t out[STUN_MSG_MAX];
	struct stun_msg m;
	size_t n;

	/* "Unauthorized" is 12 bytes: no padding; "Bad Request" 11: one byte. */
	n = stun_build_error(out, sizeof(out), tid1, 401, "Unauthorized", NULL, 0);
	UT_EQ(n, 20 + 4 + 16 + 8);
	UT_EQ(stun_parse(out, n, &m), 0);
	UT_EQ(m.type, STUN_BINDING_ERROR);
	UT_EQ(m.error_code, 401);
	UT_CHECK(!m.has_integrity && stun_fingerprint_ok(out, n, &m));
	check_error_attr(out, 401, "Unauthorized");

	n = stun_build_error(out, sizeof(out), tid1, 400, "Bad Request", KEY("k"));
	UT_EQ(n, 20 + 4 + 16 + 24 + 8);
	UT_EQ(stun_parse(out, n, &m), 0);
	UT_EQ(m.error_code, 400);
	UT_CHECK(stun_integrity_ok(out, n, &m, KEY("k")));
	UT_CHECK(own_mi_ok(out, m.integrity_off, "k"));
	UT_CHECK(stun_fingerprint_ok(out, n, &m) && own_fp_ok(out, n));
	check_error_attr(out, 400, "Bad Request");

	n = stun_build_error(out, sizeof(out), tid1, 487, "Role Conflict", NULL, 0);
	UT_EQ(stun_parse(out, n, &m), 0);
	UT_EQ(m.error_code, 487);
	n = stun_build_error(out, sizeof(out), tid1, 500, NULL, NULL, 0);
	UT_EQ(n, 20 + 8 + 8);
	UT_EQ(stun_parse(out, n, &m), 0);
	UT_EQ(m.error_code, 500);

	/* Codes outside 300..699 and over-long reasons are refused. */
	UT_EQ(stun_build_error(out, sizeof(out), tid1, 200, "OK", NULL, 0), 0);
	UT_EQ(stun_build_error(out, sizeof(out), tid1, 700, "x", NULL, 0), 0);
	{
		char longr[200];

		memset(longr, 'a', sizeof(longr) - 1);
		longr[sizeof(longr) - 1] = '\0';
		UT_EQ(stun_build_error(out, sizeof(out), tid1, 400, longr, NULL, 0), 0);
		longr[127] = '\0';
		UT_CHECK(stun_build_error(out, sizeof(out), tid1, 400, longr, NULL, 0) > 0);
	}
}

UT_TEST(build_unknown_roundtrip)
{
	uint8_t out[STUN_MSG_MAX];
	struct stun_msg m;
	size_t n = stun_build_unknown(out, sizeof(out), tid1, 0x0003, KEY("k"));

	UT_CHECK(n > 0);
	UT_EQ(stun_parse(out, n, &m), 0);
	UT_EQ(m.type, STUN_BINDING_ERROR);
	UT_EQ(m.error_code, 420);
	UT_CHECK(stun_integrity_ok(out, n, &m, KEY("k")));
	UT_CHECK(stun_fingerprint_ok(out, n, &m));
	/* ERROR-CODE "Unknown Attribute" (17 bytes, 3 of padding), then
	 * UNKNOWN-ATTRIBUTES with the one type and 2 bytes of padding. */
	check_error_attr(out, 420, "Unknown Attribute");
	UT_EQ(out[48] << 8 | out[49], 0x000A);
	UT_EQ(out[50] << 8 | out[51], 2);
	UT_EQ(out[52] << 8 | out[53], 0x0003);
	UT_EQ(out[54] | out[55], 0);
	UT_EQ(m.integrity_off, 56);
}

UT_TEST(build_request_roundtrip)
{
	uint8_t out[STUN_MSG_MAX];
	struct stun_msg m;
	const char *frag;
	char longname[STUN_USERNAME_MAX + 2];
	size_t n;

	n = stun_build_request(out, sizeof(out), tid1, "abcd:wxyz", 0x7e7f00ff,
			       0x0102030405060708ull, false, KEY("secret"));
	UT_CHECK(n > 0);
	UT_EQ(stun_parse(out, n, &m), 0);
	UT_EQ(m.type, STUN_BINDING_REQUEST);
	UT_MEMEQ(m.tid, tid1, 12);
	UT_EQ(m.username_len, 9);
	UT_CHECK(memcmp(m.username, "abcd:wxyz", 9) == 0);
	UT_CHECK(m.has_priority && m.priority == 0x7e7f00ff);
	UT_CHECK(m.ice_controlling && !m.ice_controlled);
	UT_CHECK(m.tiebreaker == 0x0102030405060708ull);
	UT_CHECK(!m.use_candidate);
	UT_CHECK(stun_integrity_ok(out, n, &m, KEY("secret")));
	UT_CHECK(!stun_integrity_ok(out, n, &m, KEY("secreT")));
	UT_CHECK(stun_fingerprint_ok(out, n, &m));
	UT_CHECK(own_mi_ok(out, m.integrity_off, "secret") && own_fp_ok(out, n));
	UT_EQ(stun_username_local(&m, &frag), 4);
	UT_CHECK(memcmp(frag, "abcd", 4) == 0);

	n = stun_build_request(out, sizeof(out), tid1, "abcd:wxyz", 1, 2, true, KEY("secret"));
	UT_EQ(stun_parse(out, n, &m), 0);
	UT_CHECK(m.use_candidate);
	UT_CHECK(stun_integrity_ok(out, n, &m, KEY("secret")));

	/* USERNAME up to 513 bytes (RFC 5389 15.3), not more. */
	memset(longname, 'u', sizeof(longname));
	longname[STUN_USERNAME_MAX] = '\0';
	n = stun_build_request(out, sizeof(out), tid1, longname, 1, 2, false, KEY("k"));
	UT_CHECK(n > 0);
	UT_EQ(stun_parse(out, n, &m), 0);
	UT_EQ(m.username_len, STUN_USERNAME_MAX);
	longname[STUN_USERNAME_MAX] = 'u';
	longname[STUN_USERNAME_MAX + 1] = '\0';
	UT_EQ(stun_build_request(out, sizeof(out), tid1, longname, 1, 2, false, KEY("k")), 0);
	UT_EQ(stun_build_request(out, sizeof(out), tid1, NULL, 1, 2, false, KEY("k")), 0);
}

/* Every capacity short of the full message gives 0 and no overrun. */
UT_TEST(builders_respect_cap)
{
	uint8_t full[STUN_MSG_MAX];
	size_t n_succ = stun_build_success(full, sizeof(full), tid1, 1, 2, KEY("k"));
	size_t n_err = stun_build_error(full, sizeof(full), tid1, 401, "Unauthorized", KEY("k"));
	size_t n_unk = stun_build_unknown(full, sizeof(full), tid1, 3, KEY("k"));
	size_t n_req = stun_build_request(full, sizeof(full), tid1, "a:b", 1, 2, true, KEY("k"));

	UT_CHECK(n_succ && n_err && n_unk && n_req);
	for (size_t cap = 0; cap <= n_req; cap++) {
		uint8_t buf[STUN_MSG_MAX + 1];
		size_t want;

		memset(buf, 0xEE, sizeof(buf));
		want = cap >= n_succ ? n_succ : 0;
		UT_EQ(stun_build_success(buf, cap, tid1, 1, 2, KEY("k")), want);
		want = cap >= n_err ? n_err : 0;
		UT_EQ(stun_build_error(buf, cap, tid1, 401, "Unauthorized", KEY("k")), want);
		want = cap >= n_unk ? n_unk : 0;
		UT_EQ(stun_build_unknown(buf, cap, tid1, 3, KEY("k")), want);
		want = cap >= n_req ? n_req : 0;
		UT_EQ(stun_build_request(buf, cap, tid1, "a:b", 1, 2, true, KEY("k")), want);
		UT_EQ(buf[cap], 0xEE);
	}
	UT_EQ(stun_build_success(NULL, 100, tid1, 1, 2, KEY("k")), 0);
}

/* ---- hostile input ---- */

UT_TEST(every_truncation_rejected)
{
	uint8_t buf[sizeof(rfc_request)];
	struct stun_msg m;
	int accepted_unpatched = 0, authenticated = 0;

	for (size_t k = 0; k < sizeof(rfc_request); k++) {
		/* As sent: the header's length no longer matches the datagram. */
		if (stun_parse(rfc_request, k, &m) == 0)
			accepted_unpatched++;
		/* With the length patched to match: whatever parses must not pass
		 * both integrity and fingerprint. */
		memcpy(buf, rfc_request, k);
		if (k >= 4)
			put16(buf + 2, (unsigned int)(k >= 20 ? k - 20 : 0));
		if (stun_parse(buf, k, &m) == 0 &&
		    stun_integrity_ok(buf, k, &m, KEY(rfc_pwd)) && stun_fingerprint_ok(buf, k, &m))
			authenticated++;
	}
	UT_EQ(accepted_unpatched, 0);
	UT_EQ(authenticated, 0);
	/* And a non-vacuous control: the full message passes. */
	UT_EQ(stun_parse(rfc_request, sizeof(rfc_request), &m), 0);
}

UT_TEST(every_bit_flip_rejected)
{
	uint8_t buf[sizeof(rfc_request)];
	struct stun_msg m;
	int passed = 0, parsed = 0;

	for (size_t i = 0; i < sizeof(rfc_request) * 8; i++) {
		size_t byte = i / 8;
		bool ok;

		memcpy(buf, rfc_request, sizeof(buf));
		buf[byte] ^= (uint8_t)(1u << (i % 8));
		if (stun_parse(buf, sizeof(buf), &m) != 0)
			continue;
		parsed++;
		/* Before the FINGERPRINT attribute MESSAGE-INTEGRITY must catch it;
		 * inside it, the CRC must. */
		if (byte < RFC_REQ_FP_OFF)
			ok = stun_integrity_ok(buf, sizeof(buf), &m, KEY(rfc_pwd));
		else
			ok = stun_fingerprint_ok(buf, sizeof(buf), &m);
		if (ok)
			passed++;
	}
	UT_EQ(passed, 0);
	UT_CHECK(parsed > 400); /* most flips parse: the checks above did run */
}

UT_TEST(framing_rejected)
{
	struct tmsg t;
	struct stun_msg m;

	t_request(&t, "abcd:efgh", "pw");
	UT_EQ(parse(&t, &m), 0);

	/* Too short, top bits, cookie. */
	UT_EQ(stun_parse(t.b, 19, &m), -EINVAL);
	UT_EQ(stun_parse(t.b, 0, &m), -EINVAL);
	t.b[0] |= 0x40;
	UT_EQ(parse(&t, &m), -EINVAL);
	t.b[0] &= 0x3f;
	t.b[0] |= 0x80;
	UT_EQ(parse(&t, &m), -EINVAL);
	t.b[0] &= 0x3f;
	t.b[7] ^= 1;
	UT_EQ(parse(&t, &m), -EINVAL);
	t.b[7] ^= 1;
	UT_EQ(parse(&t, &m), 0);

	/* Length not a multiple of 4, longer or shorter than the datagram. */
	put16(t.b + 2, (unsigned int)(t.n - 20 + 1));
	t.b[t.n] = 0;
	UT_EQ(stun_parse(t.b, t.n + 1, &m), -EINVAL);
	put16(t.b + 2, (unsigned int)(t.n - 20 + 4));
	UT_EQ(parse(&t, &m), -EINVAL);
	put16(t.b + 2, (unsigned int)(t.n - 20 - 4));
	UT_EQ(parse(&t, &m), -EINVAL);
	put16(t.b + 2, (unsigned int)(t.n - 20));
	memset(t.b + t.n, 0, 4);
	UT_EQ(stun_parse(t.b, t.n + 4, &m), -EINVAL); /* trailing bytes */
	UT_EQ(parse(&t, &m), 0);

	/* Header only: a valid, empty message. */
	t_begin(&t, STUN_BINDING_INDICATION, tid1);
	UT_EQ(parse(&t, &m), 0);
	UT_EQ(m.type, STUN_BINDING_INDICATION);
	UT_CHECK(!m.has_integrity && !m.has_fingerprint && !m.username);
	UT_EQ(stun_parse(NULL, 20, &m), -EINVAL);
}

UT_TEST(attribute_lengths_and_padding)
{
	static const uint8_t zeros[64];
	uint8_t uname[STUN_USERNAME_MAX + 1];
	struct tmsg t;
	struct stun_msg m;

	/* An attribute whose value runs past the message. */
	t_request(&t, "abcd:efgh", "pw");
	put16(t.b + 22, 0x0100);
	UT_EQ(parse(&t, &m), -EINVAL);
	/* 13 + 3 of padding: the walk lands inside PRIORITY, whose value read as
	 * an attribute header (0x6e00, length 0x01ff) overruns. */
	put16(t.b + 22, 13);
	UT_EQ(parse(&t, &m), -EINVAL);

	/* Length 5 in a 4-byte slot: value and padding overrun the message. */
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x8022, "abcd", 4);
	put16(t.b + 22, 5);
	UT_EQ(parse(&t, &m), -EINVAL);
	put16(t.b + 22, 4);
	UT_EQ(parse(&t, &m), 0);
	put16(t.b + 22, 1); /* 1 byte + 3 of padding: fine */
	UT_EQ(parse(&t, &m), 0);

	/* Non-zero padding is ignored (RFC 5389 15), as the RFC 5769 vector shows. */
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x0006, "ab:c", 4);
	put16(t.b + 22, 3);
	t.b[27] = 0xff;
	UT_EQ(parse(&t, &m), 0);
	UT_EQ(m.username_len, 3);

	/* Fixed-size attributes with the wrong size. */
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x0024, zeros, 3); /* PRIORITY */
	UT_EQ(parse(&t, &m), -EINVAL);
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x0024, zeros, 8);
	UT_EQ(parse(&t, &m), -EINVAL);
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x0025, zeros, 4); /* USE-CANDIDATE */
	UT_EQ(parse(&t, &m), -EINVAL);
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x802A, zeros, 4); /* ICE-CONTROLLING */
	UT_EQ(parse(&t, &m), -EINVAL);
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x8029, zeros, 12); /* ICE-CONTROLLED */
	UT_EQ(parse(&t, &m), -EINVAL);
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x0008, zeros, 16); /* MESSAGE-INTEGRITY */
	UT_EQ(parse(&t, &m), -EINVAL);
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x0008, zeros, 32);
	UT_EQ(parse(&t, &m), -EINVAL);
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x8028, zeros, 8); /* FINGERPRINT */
	UT_EQ(parse(&t, &m), -EINVAL);
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x8028, zeros, 0);
	UT_EQ(parse(&t, &m), -EINVAL);

	/* USERNAME of 513 bytes is the limit. */
	memset(uname, 'x', sizeof(uname));
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x0006, uname, STUN_USERNAME_MAX);
	UT_EQ(parse(&t, &m), 0);
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x0006, uname, STUN_USERNAME_MAX + 1);
	UT_EQ(parse(&t, &m), -EINVAL);

	/* Zero-length attributes anywhere are fine (SOFTWARE, empty USERNAME). */
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x8022, NULL, 0);
	t_attr(&t, 0x0006, NULL, 0);
	UT_EQ(parse(&t, &m), 0);
	UT_CHECK(m.username != NULL && m.username_len == 0);
}

UT_TEST(address_and_error_values)
{
	static const uint8_t xma_bad_family[8] = { 0, 3, 0xa1, 0x47, 1, 2, 3, 4 };
	static const uint8_t xma_v4_long[20] = { 0, 1 };
	static const uint8_t xma_v6_short[8] = { 0, 2 };
	static const uint8_t ec_2xx[4] = { 0, 0, 2, 0 };
	static const uint8_t ec_7xx[4] = { 0, 0, 7, 0 };
	static const uint8_t ec_num100[4] = { 0, 0, 4, 100 };
	static const uint8_t ec_short[2] = { 0, 0 };
	static const uint8_t ec_438[8] = { 0, 0, 4, 38, 'S', 't', 'a', 'l' };
	struct tmsg t;
	struct stun_msg m;

	t_begin(&t, STUN_BINDING_SUCCESS, tid1);
	t_attr(&t, 0x0020, xma_bad_family, 8);
	UT_EQ(parse(&t, &m), -EINVAL);
	t_begin(&t, STUN_BINDING_SUCCESS, tid1);
	t_attr(&t, 0x0020, xma_v4_long, 20);
	UT_EQ(parse(&t, &m), -EINVAL);
	t_begin(&t, STUN_BINDING_SUCCESS, tid1);
	t_attr(&t, 0x0020, xma_v6_short, 8);
	UT_EQ(parse(&t, &m), -EINVAL);

	t_begin(&t, STUN_BINDING_ERROR, tid1);
	t_attr(&t, 0x0009, ec_2xx, 4);
	UT_EQ(parse(&t, &m), -EINVAL);
	t_begin(&t, STUN_BINDING_ERROR, tid1);
	t_attr(&t, 0x0009, ec_7xx, 4);
	UT_EQ(parse(&t, &m), -EINVAL);
	t_begin(&t, STUN_BINDING_ERROR, tid1);
	t_attr(&t, 0x0009, ec_num100, 4);
	UT_EQ(parse(&t, &m), -EINVAL);
	t_begin(&t, STUN_BINDING_ERROR, tid1);
	t_attr(&t, 0x0009, ec_short, 2);
	UT_EQ(parse(&t, &m), -EINVAL);
	t_begin(&t, STUN_BINDING_ERROR, tid1);
	t_attr(&t, 0x0009, ec_438, 8);
	UT_EQ(parse(&t, &m), 0);
	UT_EQ(m.error_code, 438);
}

UT_TEST(integrity_placement)
{
	static const uint8_t pri3[3];
	struct tmsg t;
	struct stun_msg m;

	/* RFC 5389 15.4: attributes after MESSAGE-INTEGRITY, but FINGERPRINT, are
	 * ignored — a USE-CANDIDATE or PRIORITY appended by someone without
	 * the key changes nothing, and integrity still holds. */
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x0006, "abcd:efgh", 9);
	t_u32(&t, 0x0024, 100);
	t_mi(&t, "pw");
	t_attr(&t, 0x0025, NULL, 0);
	t_u32(&t, 0x0024, 200);
	t_attr(&t, 0x0003, "\0\0\0\0", 4); /* unknown, comprehension-required */
	t_attr(&t, 0x0024, pri3, 3);        /* wrong size: not looked at */
	t_fp(&t);
	UT_EQ(parse(&t, &m), 0);
	UT_CHECK(!m.use_candidate);
	UT_EQ(m.priority, 100);
	UT_EQ(m.unknown_required, 0);
	UT_CHECK(stun_integrity_ok(t.b, t.n, &m, KEY("pw")));
	UT_CHECK(stun_fingerprint_ok(t.b, t.n, &m));

	/* A second MESSAGE-INTEGRITY is just another ignored attribute. */
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x0006, "abcd:efgh", 9);
	t_mi(&t, "pw");
	t_mi(&t, "other");
	UT_EQ(parse(&t, &m), 0);
	UT_EQ(m.integrity_off, 36);
	UT_CHECK(stun_integrity_ok(t.b, t.n, &m, KEY("pw")));
	UT_CHECK(!stun_integrity_ok(t.b, t.n, &m, KEY("other")));

	/* But framing after MESSAGE-INTEGRITY is still checked. */
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_mi(&t, "pw");
	t_attr(&t, 0x8022, "abcd", 4);
	put16(t.b + t.n - 6, 9);
	UT_EQ(parse(&t, &m), -EINVAL);
}

UT_TEST(fingerprint_last)
{
	struct tmsg t;
	struct stun_msg m;

	/* RFC 5389 15.5: nothing may follow FINGERPRINT. */
	t_request(&t, "abcd:efgh", "pw");
	t_attr(&t, 0x8022, "x", 1);
	UT_EQ(parse(&t, &m), -EINVAL);
	t_request(&t, "abcd:efgh", "pw");
	t_fp(&t);
	UT_EQ(parse(&t, &m), -EINVAL);
	/* MESSAGE-INTEGRITY after FINGERPRINT. */
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x0006, "abcd:efgh", 9);
	t_fp(&t);
	t_mi(&t, "pw");
	UT_EQ(parse(&t, &m), -EINVAL);
	/* FINGERPRINT alone, no MESSAGE-INTEGRITY: fine. */
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_fp(&t);
	UT_EQ(parse(&t, &m), 0);
	UT_CHECK(stun_fingerprint_ok(t.b, t.n, &m));
	UT_CHECK(!stun_integrity_ok(t.b, t.n, &m, KEY("pw")));
	/* A wrong CRC parses but does not check out. */
	t.b[t.n - 1] ^= 0x80;
	UT_EQ(parse(&t, &m), 0);
	UT_CHECK(!stun_fingerprint_ok(t.b, t.n, &m));
}

UT_TEST(unknown_comprehension_required)
{
	struct tmsg t;
	struct stun_msg m;

	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	t_attr(&t, 0x8055, "opt", 3);  /* comprehension-optional: fine */
	t_attr(&t, 0xC057, "abcd", 4); /* e.g. GOOG-NETWORK-INFO */
	t_attr(&t, 0x0014, "realm", 5); /* REALM: understood */
	UT_EQ(parse(&t, &m), 0);
	UT_EQ(m.unknown_required, 0);
	t_attr(&t, 0x0003, "\0\0\0\0", 4); /* CHANGE-REQUEST: not ours */
	t_attr(&t, 0x7fff, NULL, 0);
	UT_EQ(parse(&t, &m), 0);
	UT_EQ(m.unknown_required, 0x0003);
}

UT_TEST(username_local)
{
	struct tmsg t;
	struct stun_msg m;
	const char *frag = NULL;

	t_request(&t, "local:remote", "pw");
	UT_EQ(parse(&t, &m), 0);
	UT_EQ(stun_username_local(&m, &frag), 5);
	UT_CHECK(frag && memcmp(frag, "local", 5) == 0);
	t_request(&t, ":remote", "pw");
	UT_EQ(parse(&t, &m), 0);
	UT_EQ(stun_username_local(&m, &frag), 0);
	t_request(&t, "a:b:c", "pw"); /* the first colon ends the local part */
	UT_EQ(parse(&t, &m), 0);
	UT_EQ(stun_username_local(&m, &frag), 1);
	t_request(&t, "nocolon", "pw");
	UT_EQ(parse(&t, &m), 0);
	UT_EQ(stun_username_local(&m, &frag), -EINVAL);
	/* The colon must be inside the attribute, not in its padding. */
	t_request(&t, "abc", "pw");
	t.b[27] = ':';
	UT_EQ(parse(&t, &m), 0);
	UT_EQ(stun_username_local(&m, &frag), -EINVAL);
	t_begin(&t, STUN_BINDING_REQUEST, tid1);
	UT_EQ(parse(&t, &m), 0);
	UT_EQ(stun_username_local(&m, &frag), -EINVAL);
}

/* The writer of this file and the library agree on MI and FP of its messages. */
UT_TEST(hand_made_messages_verify)
{
	struct tmsg t;
	struct stun_msg m;

	t_request(&t, "abcd:efgh", "a longer password here");
	UT_EQ(parse(&t, &m), 0);
	UT_CHECK(stun_integrity_ok(t.b, t.n, &m, KEY("a longer password here")));
	UT_CHECK(stun_fingerprint_ok(t.b, t.n, &m));
	/* Integrity is checked against the bytes and the len given. */
	UT_CHECK(!stun_integrity_ok(t.b, m.integrity_off + 10, &m, KEY("a longer password here")));
	UT_CHECK(!stun_fingerprint_ok(t.b, t.n - 1, &m));
}

UT_MAIN("stun",
	UT_CASE(rfc5769_sample_request),
	UT_CASE(rfc5769_ipv4_response),
	UT_CASE(rfc5769_ipv6_response),
	UT_CASE(rfc5769_long_term),
	UT_CASE(build_success_roundtrip),
	UT_CASE(build_error_roundtrip),
	UT_CASE(build_unknown_roundtrip),
	UT_CASE(build_request_roundtrip),
	UT_CASE(builders_respect_cap),
	UT_CASE(every_truncation_rejected),
	UT_CASE(every_bit_flip_rejected),
	UT_CASE(framing_rejected),
	UT_CASE(attribute_lengths_and_padding),
	UT_CASE(address_and_error_values),
	UT_CASE(integrity_placement),
	UT_CASE(fingerprint_last),
	UT_CASE(unknown_comprehension_required),
	UT_CASE(username_local),
	UT_CASE(hand_made_messages_verify))
