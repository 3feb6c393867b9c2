/*
 * stun.c — STUN (RFC 5389) for ICE-lite: the parser and validator of
 * stun.h, MESSAGE-INTEGRITY (HMAC-SHA1, RFC 5389 15.4) and FINGERPRINT
 * (CRC-32 xor 0x5354554e, RFC 5389 15.5), and the builders of the Binding
 * success / error responses and requests an ICE agent exchanges
 * (RFC 8445 7.2.2, 7.3).
 *
 * Threading: pure functions on caller buffers — no state, no allocation of
 * our own, no locks; callable from any thread.  HMAC goes through OpenSSL's
 * EVP_MAC (which allocates a context per call): this is ctrl's connectivity
 * check path, not the packet fast path.  Parsers check every read against the
 * length given; builders write exactly the byte count they return.
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "sfu_bytes.h"
#include "stun.h"

/* Attribute types (RFC 5389 18.2, RFC 8445 16.1). */
#define ATTR_MAPPED_ADDRESS 0x0001
#define ATTR_USERNAME 0x0006
#define ATTR_MESSAGE_INTEGRITY 0x0008
#define ATTR_ERROR_CODE 0x0009
#define ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define ATTR_REALM 0x0014
#define ATTR_NONCE 0x0015
#define ATTR_XOR_MAPPED_ADDRESS 0x0020
#define ATTR_PRIORITY 0x0024
#define ATTR_USE_CANDIDATE 0x0025
#define ATTR_FINGERPRINT 0x8028
#define ATTR_ICE_CONTROLLED 0x8029
#define ATTR_ICE_CONTROLLING 0x802A

#define ATTR_HDR_LEN 4
#define MI_LEN 20                  /* HMAC-SHA1 */
#define FP_LEN 4
#define FP_XOR 0x5354554eu         /* RFC 5389 15.5 */
#define ERROR_REASON_MAX 127       /* RFC 5389 15.6: fewer than 128 characters */
#define XOR_ADDR_V4_LEN 8
#define XOR_ADDR_V6_LEN 20
#define FAMILY_IPV4 0x01
#define FAMILY_IPV6 0x02

static inline size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/*
 * CRC-32 of IEEE 802.3 (reflected polynomial 0xEDB88320, initial value and
 * final xor all ones), the one RFC 5389 15.5 names.  The table is computed at
 * compile time by the macros below so no initialisation (and no race) exists.
 */
#define CRC_B(c) (((c) & 1u) ? 0xEDB88320u ^ ((c) >> 1) : ((c) >> 1))
#define CRC_8(c) CRC_B(CRC_B(CRC_B(CRC_B(CRC_B(CRC_B(CRC_B(CRC_B((uint32_t)(c)))))))))
#define CRC_R4(n) CRC_8(n), CRC_8((n) + 1), CRC_8((n) + 2), CRC_8((n) + 3)
#define CRC_R16(n) CRC_R4(n), CRC_R4((n) + 4), CRC_R4((n) + 8), CRC_R4((n) + 12)
#define CRC_R64(n) CRC_R16(n), CRC_R16((n) + 16), CRC_R16((n) + 32), CRC_R16((n) + 48)

static const uint32_t crc_table[256] = {
	CRC_R64(0), CRC_R64(64), CRC_R64(128), CRC_R64(192),
};

static uint32_t crc32_ieee(const uint8_t *p, size_t len)
{
	uint32_t c = 0xFFFFFFFFu;

	for (size_t i = 0; i < len; i++)
		c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

/*
 * HMAC-SHA1 (RFC 2104) over a || b with key.  Two segments so the checker
 * can hash a patched copy of the header followed by the message in place.
 * @return 0, or -EIO if OpenSSL fails
 */
static int hmac_sha1(const uint8_t *key, size_t key_len, const uint8_t *a, size_t a_len,
		     const uint8_t *b, size_t b_len, uint8_t out[MI_LEN])
{
	static const uint8_t empty_key[1];
	OSSL_PARAM params[2];
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx = NULL;
	size_t out_len = 0;
	int rc = -EIO;

	mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	if (!mac)
		return -EIO;
	ctx = EVP_MAC_CTX_new(mac);
	if (!ctx)
		goto err;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0);
	params[1] = OSSL_PARAM_construct_end();
	/* A NULL key means "keep the previous one" to EVP_MAC_init: never pass it. */
	if (!EVP_MAC_init(ctx, key ? key : empty_key, key ? key_len : 0, params))
		goto err;
	if (!EVP_MAC_update(ctx, a, a_len) || (b_len && !EVP_MAC_update(ctx, b, b_len)))
		goto err;
	if (!EVP_MAC_final(ctx, out, &out_len, MI_LEN) || out_len != MI_LEN)
		goto err;
	rc = 0;
err:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

/* Attributes this parser understands (RFC 5389 15, RFC 8445 16.1). */
static bool attr_known(uint16_t type)
{
	switch (type) {
	case ATTR_MAPPED_ADDRESS:
	case ATTR_USERNAME:
	case ATTR_MESSAGE_INTEGRITY:
	case ATTR_ERROR_CODE:
	case ATTR_UNKNOWN_ATTRIBUTES:
	case ATTR_REALM:
	case ATTR_NONCE:
	case ATTR_XOR_MAPPED_ADDRESS:
	case ATTR_PRIORITY:
	case ATTR_USE_CANDIDATE:
		return true;
	default:
		return false;
	}
}

/*
 * XOR-MAPPED-ADDRESS (RFC 5389 15.2): reserved byte, family, X-Port,
 * X-Address.  IPv4 is decoded; IPv6 is checked for size and skipped, since
 * the SFU's transports are IPv4 only.
 */
static int parse_xor_mapped(const uint8_t *v, uint16_t alen, struct stun_msg *m)
{
	if (alen == XOR_ADDR_V4_LEN && v[1] == FAMILY_IPV4) {
		if (!m->has_xor_mapped) {
			m->has_xor_mapped = true;
			m->mapped_port = (uint16_t)(rd16(v + 2) ^ (STUN_MAGIC >> 16));
			m->mapped_ip = rd32(v + 4) ^ STUN_MAGIC;
		}
		return 0;
	}
	if (alen == XOR_ADDR_V6_LEN && v[1] == FAMILY_IPV6)
		return 0;
	return -EINVAL;
}

/* ERROR-CODE (RFC 5389 15.6): 21 reserved bits, class 3..6, number 0..99, reason. */
static int parse_error_code(const uint8_t *v, uint16_t alen, struct stun_msg *m)
{
	unsigned int cls, num;

	if (alen < 4 || alen > 4 + 763)
		return -EINVAL;
	cls = v[2] & 0x07;
	num = v[3];
	if (cls < 3 || cls > 6 || num > 99)
		return -EINVAL;
	if (!m->error_code)
		m->error_code = (uint16_t)(cls * 100 + num);
	return 0;
}

/* One attribute before MESSAGE-INTEGRITY: fixed sizes checked, first occurrence kept. */
static int parse_attr(uint16_t type, const uint8_t *v, uint16_t alen, struct stun_msg *m)
{
	switch (type) {
	case ATTR_USERNAME:
		if (alen > STUN_USERNAME_MAX)
			return -EINVAL;
		if (!m->username) {
			m->username = (const char *)v;
			m->username_len = alen;
		}
		return 0;
	case ATTR_PRIORITY:
		if (alen != 4)
			return -EINVAL;
		if (!m->has_priority) {
			m->has_priority = true;
			m->priority = rd32(v);
		}
		return 0;
	case ATTR_USE_CANDIDATE:
		if (alen != 0)
			return -EINVAL;
		m->use_candidate = true;
		return 0;
	case ATTR_ICE_CONTROLLED:
	case ATTR_ICE_CONTROLLING:
		if (alen != 8)
			return -EINVAL;
		if (!m->ice_controlled && !m->ice_controlling)
			m->tiebreaker = (uint64_t)rd32(v) << 32 | rd32(v + 4);
		if (type == ATTR_ICE_CONTROLLED)
			m->ice_controlled = true;
		else
			m->ice_controlling = true;
		return 0;
	case ATTR_XOR_MAPPED_ADDRESS:
		return parse_xor_mapped(v, alen, m);
	case ATTR_ERROR_CODE:
		return parse_error_code(v, alen, m);
	default:
		if (type < 0x8000 && !attr_known(type) && !m->unknown_required)
			m->unknown_required = type;
		return 0;
	}
}

int stun_parse(const uint8_t *p, size_t len, struct stun_msg *m)
{
	size_t off, end;
	uint16_t mlen;

	if (!p || !m)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	/* RFC 5389 6: top two bits zero, magic cookie, length a multiple of 4. */
	if (len < STUN_HDR_LEN || (p[0] & 0xC0) || rd32(p + 4) != STUN_MAGIC)
		return -EINVAL;
	mlen = rd16(p + 2);
	/* Over UDP the message is the whole datagram: no short or trailing bytes. */
	if ((mlen & 3) || (size_t)mlen + STUN_HDR_LEN != len)
		return -EINVAL;
	m->type = rd16(p);
	m->len = mlen;
	memcpy(m->tid, p + 8, sizeof(m->tid));

	end = len;
	for (off = STUN_HDR_LEN; off < end;) {
		uint16_t type, alen;
		const uint8_t *v;

		if (end - off < ATTR_HDR_LEN)
			return -EINVAL;
		type = rd16(p + off);
		alen = rd16(p + off + 2);
		v = p + off + ATTR_HDR_LEN;
		/* RFC 5389 15: the value and its padding to 32 bits must fit. */
		if (pad4(alen) > end - off - ATTR_HDR_LEN)
			return -EINVAL;

		if (m->has_fingerprint) {
			/* RFC 5389 15.5: FINGERPRINT is the last attribute. */
			return -EINVAL;
		} else if (type == ATTR_FINGERPRINT) {
			if (alen != FP_LEN)
				return -EINVAL;
			m->has_fingerprint = true;
			m->fingerprint_off = (uint16_t)off;
		} else if (m->has_integrity) {
			/* RFC 5389 15.4: after MESSAGE-INTEGRITY only FINGERPRINT counts;
			 * the rest is not authenticated and is ignored. */
		} else if (type == ATTR_MESSAGE_INTEGRITY) {
			if (alen != MI_LEN)
				return -EINVAL;
			m->has_integrity = true;
			m->integrity_off = (uint16_t)off;
		} else if (parse_attr(type, v, alen, m) < 0) {
			return -EINVAL;
		}
		off += ATTR_HDR_LEN + pad4(alen);
	}
	return 0;
}

bool stun_fingerprint_ok(const uint8_t *p, size_t len, const struct stun_msg *m)
{
	size_t off;

	if (!p || !m || !m->has_fingerprint)
		return false;
	off = m->fingerprint_off;
	if (off < STUN_HDR_LEN || off > len || len - off < ATTR_HDR_LEN + FP_LEN ||
	    rd16(p + off) != ATTR_FINGERPRINT)
		return false;
	/* The CRC covers everything before the attribute, with the header's
	 * length already counting it as the last one (RFC 5389 15.5). */
	return (crc32_ieee(p, off) ^ FP_XOR) == rd32(p + off + ATTR_HDR_LEN);
}

bool stun_integrity_ok(const uint8_t *p, size_t len, const struct stun_msg *m,
		       const uint8_t *key, size_t key_len)
{
	uint8_t hdr[STUN_HDR_LEN], mac[MI_LEN];
	size_t off;

	if (!p || !m || !key || !m->has_integrity)
		return false;
	off = m->integrity_off;
	if (off < STUN_HDR_LEN || off > len || len - off < ATTR_HDR_LEN + MI_LEN ||
	    rd16(p + off) != ATTR_MESSAGE_INTEGRITY)
		return false;
	/* RFC 5389 15.4: the HMAC covers the message up to the attribute, with the
	 * header length set as if MESSAGE-INTEGRITY were the last attribute. */
	memcpy(hdr, p, STUN_HDR_LEN);
	wr16(hdr + 2, (uint16_t)(off + ATTR_HDR_LEN + MI_LEN - STUN_HDR_LEN));
	if (hmac_sha1(key, key_len, hdr, STUN_HDR_LEN, p + STUN_HDR_LEN, off - STUN_HDR_LEN,
		      mac) < 0)
		return false;
	return CRYPTO_memcmp(mac, p + off + ATTR_HDR_LEN, MI_LEN) == 0;
}

int stun_username_local(const struct stun_msg *m, const char **frag)
{
	const char *colon;

	if (!m || !m->username || !frag)
		return -EINVAL;
	colon = memchr(m->username, ':', m->username_len);
	if (!colon)
		return -EINVAL;
	*frag = m->username;
	return (int)(colon - m->username);
}

/*
 * A message under construction in a caller buffer: attributes are appended
 * with their padding zeroed; any overflow sets failed and later calls do
 * nothing, so builders check once at the end.
 */
struct stun_writer {
	uint8_t *buf;
	size_t cap, len;
	bool failed;
};

static void w_begin(struct stun_writer *w, uint8_t *out, size_t cap, uint16_t type,
		    const uint8_t tid[12])
{
	w->buf = out;
	w->cap = out ? cap : 0;
	w->len = 0;
	w->failed = !out || !tid || cap < STUN_HDR_LEN;
	if (w->failed)
		return;
	wr16(out, type);
	wr16(out + 2, 0);
	wr32(out + 4, STUN_MAGIC);
	memcpy(out + 8, tid, 12);
	w->len = STUN_HDR_LEN;
}

/* Append an attribute header and reserve its padded value; NULL on overflow. */
static uint8_t *w_attr(struct stun_writer *w, uint16_t type, size_t alen)
{
	uint8_t *v;
	size_t plen = pad4(alen);

	if (w->failed || alen > 0xFFFF || plen + ATTR_HDR_LEN > w->cap - w->len ||
	    w->len + ATTR_HDR_LEN + plen - STUN_HDR_LEN > 0xFFFF) {
		w->failed = true;
		return NULL;
	}
	wr16(w->buf + w->len, type);
	wr16(w->buf + w->len + 2, (uint16_t)alen);
	v = w->buf + w->len + ATTR_HDR_LEN;
	memset(v + alen, 0, plen - alen);
	w->len += ATTR_HDR_LEN + plen;
	wr16(w->buf + 2, (uint16_t)(w->len - STUN_HDR_LEN));
	return v;
}

static void w_bytes(struct stun_writer *w, uint16_t type, const void *data, size_t alen)
{
	uint8_t *v = w_attr(w, type, alen);

	if (v && alen)
		memcpy(v, data, alen);
}

/* MESSAGE-INTEGRITY over everything so far; the header length already ends
 * at this attribute because w_attr updated it (RFC 5389 15.4). */
static void w_integrity(struct stun_writer *w, const uint8_t *key, size_t key_len)
{
	uint8_t *v = w_attr(w, ATTR_MESSAGE_INTEGRITY, MI_LEN);
	size_t covered = w->len - ATTR_HDR_LEN - MI_LEN;

	if (v && hmac_sha1(key, key_len, w->buf, covered, NULL, 0, v) < 0)
		w->failed = true;
}

/* FINGERPRINT last, its CRC over everything before it (RFC 5389 15.5). */
static size_t w_finish(struct stun_writer *w)
{
	uint8_t *v = w_attr(w, ATTR_FINGERPRINT, FP_LEN);

	if (!v)
		return 0;
	wr32(v, crc32_ieee(w->buf, w->len - ATTR_HDR_LEN - FP_LEN) ^ FP_XOR);
	return w->failed ? 0 : w->len;
}

size_t stun_build_success(uint8_t *out, size_t cap, const uint8_t tid[12], uint32_t ip,
			  uint16_t port, const uint8_t *key, size_t key_len)
{
	struct stun_writer w;
	uint8_t *v;

	w_begin(&w, out, cap, STUN_BINDING_SUCCESS, tid);
	/* RFC 5389 15.2: port xor the cookie's top 16 bits, address xor the cookie. */
	v = w_attr(&w, ATTR_XOR_MAPPED_ADDRESS, XOR_ADDR_V4_LEN);
	if (v) {
		v[0] = 0;
		v[1] = FAMILY_IPV4;
		wr16(v + 2, (uint16_t)(port ^ (STUN_MAGIC >> 16)));
		wr32(v + 4, ip ^ STUN_MAGIC);
	}
	if (key)
		w_integrity(&w, key, key_len);
	return w_finish(&w);
}

/* RFC 5389 15.6: class in the hundreds digit, number below it, then the reason. */
static void w_error_code(struct stun_writer *w, uint16_t code, const char *reason)
{
	size_t rlen = reason ? strlen(reason) : 0;
	uint8_t *v;

	if (code < 300 || code > 699 || rlen > ERROR_REASON_MAX) {
		w->failed = true;
		return;
	}
	v = w_attr(w, ATTR_ERROR_CODE, 4 + rlen);
	if (!v)
		return;
	v[0] = 0;
	v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	if (rlen)
		memcpy(v + 4, reason, rlen);
}

size_t stun_build_error(uint8_t *out, size_t cap, const uint8_t tid[12], uint16_t code,
			const char *reason, const uint8_t *key, size_t key_len)
{
	struct stun_writer w;

	w_begin(&w, out, cap, STUN_BINDING_ERROR, tid);
	w_error_code(&w, code, reason);
	if (key)
		w_integrity(&w, key, key_len);
	return w_finish(&w);
}

size_t stun_build_unknown(uint8_t *out, size_t cap, const uint8_t tid[12], uint16_t attr,
			  const uint8_t *key, size_t key_len)
{
	struct stun_writer w;
	uint8_t *v;

	w_begin(&w, out, cap, STUN_BINDING_ERROR, tid);
	w_error_code(&w, 420, "Unknown Attribute");
	/* RFC 5389 15.9: the list of 16-bit types, padded like any value. */
	v = w_attr(&w, ATTR_UNKNOWN_ATTRIBUTES, 2);
	if (v)
		wr16(v, attr);
	if (key)
		w_integrity(&w, key, key_len);
	return w_finish(&w);
}

size_t stun_build_request(uint8_t *out, size_t cap, const uint8_t tid[12], const char *username,
			  uint32_t priority, uint64_t tiebreaker, bool nominate,
			  const uint8_t *key, size_t key_len)
{
	struct stun_writer w;
	size_t ulen = username ? strlen(username) : 0;
	uint8_t *v;

	w_begin(&w, out, cap, STUN_BINDING_REQUEST, tid);
	if (!username || ulen > STUN_USERNAME_MAX)
		return 0;
	/* RFC 8445 7.2.2: USERNAME "RFRAG:LFRAG" of the sender, PRIORITY, role. */
	w_bytes(&w, ATTR_USERNAME, username, ulen);
	v = w_attr(&w, ATTR_PRIORITY, 4);
	if (v)
		wr32(v, priority);
	v = w_attr(&w, ATTR_ICE_CONTROLLING, 8);
	if (v) {
		wr32(v, (uint32_t)(tiebreaker >> 32));
		wr32(v + 4, (uint32_t)tiebreaker);
	}
	if (nominate)
		w_attr(&w, ATTR_USE_CANDIDATE, 0);
	if (key)
		w_integrity(&w, key, key_len);
	return w_finish(&w);
}
