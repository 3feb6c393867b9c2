/*
 * sfu_srtp.c — the data plane's SRTP/SRTCP on OpenSSL: AES_CM_128_HMAC_SHA1_80
 * (RFC 3711) and AEAD_AES_128_GCM (RFC 7714), byte-identical to libsrtp2.
 *
 * Cost model: every OpenSSL object is made when the context is created (the
 * cipher contexts with their AES key schedules, the HMAC inner/outer SHA-1
 * states); a packet only sets the IV on a reused EVP_CIPHER_CTX, runs the
 * cipher, and for CM copies the two precomputed SHA-1 states.  Per-SSRC state
 * lives in the caller's struct sfu_srtp_stream; nothing is looked up.
 *
 * Failure contract: unprotect checks length, header and replay, then the tag,
 * and only then touches the stream.  CM verifies the HMAC over the ciphertext
 * before decrypting.  GCM decrypts in place while OpenSSL computes GHASH; when
 * the tag then fails, the same keystream is XORed back (GCM encryption is CTR
 * from J0 + 1, so encrypting the wrongly decrypted bytes under the same IV
 * gives the received ciphertext again).  The success path so pays nothing for
 * the guarantee and there is no size cap; a forged 1200-byte packet costs 670
 * ns instead of 362 (a second GCM pass), under twice a valid one.  The
 * alternative, decrypting into a bounded scratch buffer and copying back on
 * success, measured 454 ns for every good packet (see gcm_open()).
 *
 * Threading: a context and its streams belong to one thread at a time (the
 * lcore owning the transport).  create/free allocate; protect/unprotect never
 * allocate, lock or make syscalls (tests/unit/test_srtp.c counts OpenSSL's
 * allocations around them).
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA1_Init/Update/Final: see hmac_sha1() */

#include "sfu_srtp.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define RTP_HDR_MIN 12
#define RTCP_HDR_LEN 8          /* header word + sender SSRC, never encrypted */
#define SRTCP_TRAILER_LEN 4     /* E || SRTCP index (RFC 3711 3.4) */
#define SRTCP_E_BIT 0x80000000u
#define SRTCP_INDEX_MASK 0x7fffffffu
#define CM_TAG_LEN 10           /* HMAC-SHA1 truncated to 80 bits */
#define GCM_TAG_LEN 16
#define SHA1_LEN 20
#define SHA1_BLOCK 64

/* The RTP or the RTCP half of a context: each has its own session keys. */
struct srtp_leg {
	EVP_CIPHER_CTX *cipher;  /* AES-128-CTR (CM) or AES-128-GCM, key set once */
	uint8_t salt[16];        /* session salt, zero padded (k_s * 2^16 for CM) */
	SHA_CTX hmac_inner;      /* CM: SHA-1 state after (k_a XOR ipad) */
	SHA_CTX hmac_outer;      /* CM: SHA-1 state after (k_a XOR opad) */
};

struct sfu_srtp_ctx {
	enum sfu_srtp_profile profile;
	unsigned int tag_len;    /* 10 (CM) or 16 (GCM) */
	unsigned int iv_off;     /* where the SSRC goes in the IV: 4 (CM) or 2 (GCM) */
	struct srtp_leg rtp;
	struct srtp_leg rtcp;
};

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ------------------------------------------------------------------------ */
/* Context setup                                                            */

/* HMAC (RFC 2104) keyed once: hash the padded key blocks now, copy per packet. */
static void hmac_precompute(struct srtp_leg *l, const uint8_t auth[SHA1_LEN])
{
	uint8_t pad[SHA1_BLOCK];

	memset(pad, 0x36, sizeof(pad));
	for (int i = 0; i < SHA1_LEN; i++)
		pad[i] ^= auth[i];
	SHA1_Init(&l->hmac_inner);
	SHA1_Update(&l->hmac_inner, pad, sizeof(pad));
	memset(pad, 0x5c, sizeof(pad));
	for (int i = 0; i < SHA1_LEN; i++)
		pad[i] ^= auth[i];
	SHA1_Init(&l->hmac_outer);
	SHA1_Update(&l->hmac_outer, pad, sizeof(pad));
	OPENSSL_cleanse(pad, sizeof(pad));
}

static int leg_init(struct srtp_leg *l, enum sfu_srtp_profile profile,
		    const uint8_t *key, const uint8_t *salt, const uint8_t *auth)
{
	const EVP_CIPHER *cipher = profile == SFU_SRTP_AEAD_AES_128_GCM ?
		EVP_aes_128_gcm() : EVP_aes_128_ctr();

	l->cipher = EVP_CIPHER_CTX_new();
	if (l->cipher == NULL ||
	    EVP_CipherInit_ex(l->cipher, cipher, NULL, key, NULL, 1) != 1)
		return -1;
	memcpy(l->salt, salt, sfu_srtp_salt_len(profile));
	if (profile == SFU_SRTP_AES128_CM_SHA1_80)
		hmac_precompute(l, auth);
	return 0;
}

struct sfu_srtp_ctx *sfu_srtp_ctx_create_session(enum sfu_srtp_profile profile,
						 const struct sfu_srtp_session_keys *keys)
{
	struct sfu_srtp_ctx *ctx;

	if (sfu_srtp_salt_len(profile) == 0)
		return NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return NULL;
	ctx->profile = profile;
	ctx->tag_len = profile == SFU_SRTP_AEAD_AES_128_GCM ? GCM_TAG_LEN : CM_TAG_LEN;
	ctx->iv_off = profile == SFU_SRTP_AEAD_AES_128_GCM ? 2 : 4;
	if (leg_init(&ctx->rtp, profile, keys->rtp_key, keys->rtp_salt, keys->rtp_auth) ||
	    leg_init(&ctx->rtcp, profile, keys->rtcp_key, keys->rtcp_salt, keys->rtcp_auth)) {
		sfu_srtp_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

struct sfu_srtp_ctx *sfu_srtp_ctx_create(enum sfu_srtp_profile profile,
					 const uint8_t *key, const uint8_t *salt)
{
	struct sfu_srtp_session_keys keys;
	struct sfu_srtp_ctx *ctx = NULL;

	if (sfu_srtp_derive_keys(profile, key, salt, &keys) == 0)
		ctx = sfu_srtp_ctx_create_session(profile, &keys);
	OPENSSL_cleanse(&keys, sizeof(keys));
	return ctx;
}

void sfu_srtp_ctx_free(struct sfu_srtp_ctx *ctx)
{
	if (ctx == NULL)
		return;
	EVP_CIPHER_CTX_free(ctx->rtp.cipher);   /* wipes the key schedules */
	EVP_CIPHER_CTX_free(ctx->rtcp.cipher);
	OPENSSL_cleanse(ctx, sizeof(*ctx));     /* salts and HMAC states */
	free(ctx);
}

enum sfu_srtp_profile sfu_srtp_ctx_profile(const struct sfu_srtp_ctx *ctx)
{
	return ctx->profile;
}

size_t sfu_srtp_rtp_trailer_len(const struct sfu_srtp_ctx *ctx)
{
	return ctx->tag_len;
}

void sfu_srtp_stream_init(struct sfu_srtp_stream *s)
{
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------------------ */
/* Per-packet crypto                                                         */

/*
 * Per-packet IV, built from a 16-byte copy of the session salt.
 * CM (RFC 3711 4.1.1): IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16):
 *   SSRC at bytes 4..7, the 48-bit index at bytes 8..13.
 * GCM (RFC 7714 8.1 / 9.1): IV = (0x0000 || SSRC || ROC || SEQ) XOR salt, and
 *   for SRTCP (0x0000 || SSRC || 0x0000 || 0 || index) XOR salt: SSRC at
 *   bytes 2..5, the 48-bit index (ROC || SEQ, or the 31-bit SRTCP index) at 6..11.
 * The SRTCP index takes the place of i for CM too (RFC 3711 4.1.1, 3.4).
 */
static inline void make_iv(uint8_t iv[16], const struct sfu_srtp_ctx *ctx,
			   const struct srtp_leg *l, const uint8_t *ssrc, uint64_t index)
{
	uint8_t *p = iv + ctx->iv_off;

	memcpy(iv, l->salt, 16);
	p[0] ^= ssrc[0];
	p[1] ^= ssrc[1];
	p[2] ^= ssrc[2];
	p[3] ^= ssrc[3];
	for (int i = 0; i < 6; i++)
		p[9 - i] ^= (uint8_t)(index >> (8 * i));
}

/* AES-CM: XOR the keystream (in == out allowed). */
static inline int cm_xor(const struct srtp_leg *l, const uint8_t *iv,
			 const uint8_t *in, uint8_t *out, size_t n)
{
	int outl;

	if (unlikely(EVP_CipherInit_ex(l->cipher, NULL, NULL, NULL, iv, 1) != 1))
		return -1;
	if (n == 0)
		return 0;
	return EVP_CipherUpdate(l->cipher, out, &outl, in, (int)n) == 1 ? 0 : -1;
}

/*
 * HMAC-SHA1 over msg || tail (RFC 3711 4.2: tail is the ROC for SRTP, empty
 * for SRTCP), on the low-level SHA-1 API from precomputed states: a 96-byte
 * struct copy per state.  Measured for 1200 + 4 bytes (min of 30 x 100k, one
 * core, OpenSSL 3.0.19 with SHA-NI, 1330 ns without): this 700 ns; EVP_MD_CTX_copy_ex from
 * keyed states 768 ns; HMAC_CTX re-init 773 ns; EVP_MAC re-init 818 ns; a
 * bare SHA-1 of 1216 bytes 678 ns, so HMAC costs ~20 ns over the hash.
 */
static inline void hmac_sha1(const struct srtp_leg *l, const uint8_t *msg, size_t n,
			     const uint8_t *tail, size_t tail_len, uint8_t mac[SHA1_LEN])
{
	SHA_CTX c = l->hmac_inner;

	SHA1_Update(&c, msg, n);
	if (tail_len)
		SHA1_Update(&c, tail, tail_len);
	SHA1_Final(mac, &c);
	c = l->hmac_outer;
	SHA1_Update(&c, mac, SHA1_LEN);
	SHA1_Final(mac, &c);
}

/*
 * AES-GCM encrypt (in == out allowed); AAD is aad[aad_len] then aad2[4] if
 * given.  The tag moves through EVP_CIPHER_CTX_get/set_params rather than
 * EVP_CIPHER_CTX_ctrl, which builds the same OSSL_PARAM and then some: seal
 * of 12 + 1188 bytes 372 ns instead of 390, open 362 instead of 377 (min of
 * 30 x 100k, one core, OpenSSL 3.0.19).  The cipher itself is ~200 ns of
 * that (`openssl speed` does 5.8 GB/s in 16 KB blocks); the rest is EVP's
 * per-call cost: the IV reset alone is 65 ns.
 */
static inline int gcm_seal(const struct srtp_leg *l, const uint8_t *iv,
			   const uint8_t *aad, size_t aad_len, const uint8_t *aad2,
			   const uint8_t *in, uint8_t *out, size_t n, uint8_t *tag)
{
	OSSL_PARAM params[2] = {
		OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, GCM_TAG_LEN),
		OSSL_PARAM_END,
	};
	EVP_CIPHER_CTX *c = l->cipher;
	int outl;

	if (unlikely(EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, 1) != 1 ||
		     EVP_CipherUpdate(c, NULL, &outl, aad, (int)aad_len) != 1 ||
		     (aad2 && EVP_CipherUpdate(c, NULL, &outl, aad2, SRTCP_TRAILER_LEN) != 1) ||
		     (n && EVP_CipherUpdate(c, out, &outl, in, (int)n) != 1) ||
		     EVP_CipherFinal_ex(c, out + n, &outl) != 1 ||
		     EVP_CIPHER_CTX_get_params(c, params) != 1))
		return SFU_SRTP_ERR_INTERNAL;
	return SFU_SRTP_OK;
}

/*
 * AES-GCM decrypt buf[n] in place and check the tag; on a bad tag put the
 * ciphertext back (see the file comment) and return SFU_SRTP_ERR_AUTH.
 * In place and restore-on-failure measured 362 ns for 1188 bytes; decrypting
 * into a scratch buffer and copying back on success 454 ns (OpenSSL's
 * out-of-place GCM is slower here, besides the copy).
 */
static inline int gcm_open(const struct srtp_leg *l, const uint8_t *iv,
			   const uint8_t *aad, size_t aad_len, const uint8_t *aad2,
			   uint8_t *buf, size_t n, const uint8_t *tag)
{
	OSSL_PARAM params[2] = {
		/* read only by the provider */
		OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, (void *)tag, GCM_TAG_LEN),
		OSSL_PARAM_END,
	};
	EVP_CIPHER_CTX *c = l->cipher;
	int outl;

	if (unlikely(EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, 0) != 1 ||
		     EVP_CIPHER_CTX_set_params(c, params) != 1 ||
		     EVP_CipherUpdate(c, NULL, &outl, aad, (int)aad_len) != 1 ||
		     (aad2 && EVP_CipherUpdate(c, NULL, &outl, aad2, SRTCP_TRAILER_LEN) != 1)))
		return SFU_SRTP_ERR_INTERNAL;
	if (n && unlikely(EVP_CipherUpdate(c, buf, &outl, buf, (int)n) != 1))
		return SFU_SRTP_ERR_INTERNAL;
	if (likely(EVP_CipherFinal_ex(c, buf + n, &outl) == 1))
		return SFU_SRTP_OK;
	if (n && (EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, 1) != 1 ||
		  EVP_CipherUpdate(c, buf, &outl, buf, (int)n) != 1))
		return SFU_SRTP_ERR_INTERNAL;
	return SFU_SRTP_ERR_AUTH;
}

/* ------------------------------------------------------------------------ */
/* Index estimation and replay window                                        */

/*
 * Header length the RTP header itself gives (RFC 3550 5.1, 5.3.1), or -1 when
 * it is not version 2 or runs past avail (libsrtp2 does the same, bar the
 * version check).
 */
static inline long rtp_hdr_len(const uint8_t *p, size_t avail)
{
	size_t n;

	if (unlikely(avail < RTP_HDR_MIN || (p[0] >> 6) != 2))
		return -1;
	n = RTP_HDR_MIN + 4u * (p[0] & 0x0f);
	if (p[0] & 0x10) {
		if (unlikely(avail < n + 4))
			return -1;
		n += 4 + 4u * get_be16(p + n + 2);
	}
	return n <= avail ? (long)n : -1;
}

/*
 * The 48-bit index i = 2^16 * ROC + SEQ of a sequence number, guessed from
 * the highest one seen (RFC 3711 3.3.1 and Appendix A).  As libsrtp2 does, a
 * ROC of 0 is never decremented: while ROC is 0 a far-ahead SEQ is ahead.  A
 * stream not yet started takes the caller's ROC (0 unless set) as is.
 */
static inline uint64_t rtp_index(const struct sfu_srtp_stream *s, uint16_t seq)
{
	uint32_t v = s->roc;

	if (s->rtp_started) {
		if (s->s_l < 0x8000) {
			if ((int)seq - (int)s->s_l > 0x8000 && v != 0)
				v--;
		} else if ((int)s->s_l - 0x8000 > (int)seq) {
			v++;
		}
	}
	return (uint64_t)v << 16 | seq;
}

/*
 * Replay check (RFC 3711 3.3.2) against a 128-entry window ending at the
 * highest index hi: bit d of w is index hi - d.  Ahead of hi is new; d >= 128
 * is too old to tell (libsrtp2's replay_old); a set bit is a replay.
 */
static inline int replay_check(const uint64_t w[2], bool started, uint64_t hi,
			       uint64_t index)
{
	uint64_t d;

	if (!started || index > hi)
		return SFU_SRTP_OK;
	d = hi - index;
	if (d >= SFU_SRTP_REPLAY_WINDOW)
		return SFU_SRTP_ERR_REPLAY_OLD;
	return (w[d >> 6] >> (d & 63)) & 1 ? SFU_SRTP_ERR_REPLAY : SFU_SRTP_OK;
}

/* Record an authenticated index; returns the new highest. */
static inline uint64_t replay_add(uint64_t w[2], bool started, uint64_t hi,
				  uint64_t index)
{
	uint64_t d;

	if (!started) {
		w[0] = 1;
		w[1] = 0;
		return index;
	}
	if (index <= hi) {
		d = hi - index;
		w[d >> 6] |= 1ull << (d & 63);
		return hi;
	}
	d = index - hi;   /* slide the window forward by d >= 1 */
	if (d >= 128) {
		w[0] = 0;
		w[1] = 0;
	} else if (d >= 64) {
		w[1] = w[0] << (d - 64);
		w[0] = 0;
	} else {
		w[1] = w[1] << d | w[0] >> (64 - d);
		w[0] <<= d;
	}
	w[0] |= 1;
	return index;
}

/* Move the stream's ROC / s_l forward to index if it is the highest yet. */
static inline void rtp_advance(struct sfu_srtp_stream *s, uint64_t index)
{
	if (!s->rtp_started || index > s->rtp_hi) {
		s->rtp_hi = index;
		s->roc = (uint32_t)(index >> 16);
		s->s_l = (uint16_t)index;
		s->rtp_started = true;
	}
}

/* ------------------------------------------------------------------------ */
/* SRTP                                                                      */

/*
 * RFC 3711 3.3 (CM) and RFC 7714 8.2 (GCM, AAD = the RTP header).  The sender
 * keeps ROC / s_l as the highest index sent (3.3.1); a packet sent late
 * (reordered by the caller) is estimated against them like at the receiver,
 * as libsrtp2's sender does.
 */
int sfu_srtp_protect_rtp(struct sfu_srtp_ctx *ctx, struct sfu_srtp_stream *s,
			 uint8_t *pkt, size_t hdr_len,
			 const uint8_t *payload, size_t payload_len)
{
	uint8_t iv[16], mac[SHA1_LEN], roc[4];
	uint8_t *out = pkt + hdr_len;
	uint64_t index;
	long n;
	int rc;

	n = rtp_hdr_len(pkt, hdr_len);
	if (unlikely(n < 0 || (size_t)n != hdr_len))
		return SFU_SRTP_ERR_TRUNCATED;
	if (unlikely(payload_len > SFU_SRTP_MAX_PKT - hdr_len))
		return SFU_SRTP_ERR_INTERNAL;
	index = rtp_index(s, get_be16(pkt + 2));
	make_iv(iv, ctx, &ctx->rtp, pkt + 8, index);

	if (ctx->profile == SFU_SRTP_AEAD_AES_128_GCM) {
		rc = gcm_seal(&ctx->rtp, iv, pkt, hdr_len, NULL, payload, out,
			      payload_len, out + payload_len);
		if (unlikely(rc != SFU_SRTP_OK))
			return rc;
	} else {
		if (unlikely(cm_xor(&ctx->rtp, iv, payload, out, payload_len) != 0))
			return SFU_SRTP_ERR_INTERNAL;
		/* M = authenticated portion || ROC (RFC 3711 4.2) */
		put_be32(roc, (uint32_t)(index >> 16));
		hmac_sha1(&ctx->rtp, pkt, hdr_len + payload_len, roc, 4, mac);
		memcpy(out + payload_len, mac, CM_TAG_LEN);
	}
	rtp_advance(s, index);
	return (int)(hdr_len + payload_len + ctx->tag_len);
}

int sfu_srtp_unprotect_rtp(struct sfu_srtp_ctx *ctx, struct sfu_srtp_stream *s,
			   uint8_t *pkt, size_t len, size_t hdr_len,
			   size_t *out_len)
{
	uint8_t iv[16], mac[SHA1_LEN], roc[4];
	size_t body_len;
	uint64_t index;
	long n;
	int rc;

	if (unlikely(len > SFU_SRTP_MAX_PKT + SFU_SRTP_MAX_TRAILER))
		return SFU_SRTP_ERR_INTERNAL;
	n = rtp_hdr_len(pkt, len);
	if (unlikely(n < 0 || (size_t)n != hdr_len || len - hdr_len < ctx->tag_len))
		return SFU_SRTP_ERR_TRUNCATED;
	body_len = len - hdr_len - ctx->tag_len;
	index = rtp_index(s, get_be16(pkt + 2));
	rc = replay_check(s->rtp_window, s->rtp_started, s->rtp_hi, index);
	if (rc != SFU_SRTP_OK)
		return rc;
	make_iv(iv, ctx, &ctx->rtp, pkt + 8, index);

	if (ctx->profile == SFU_SRTP_AEAD_AES_128_GCM) {
		rc = gcm_open(&ctx->rtp, iv, pkt, hdr_len, NULL, pkt + hdr_len,
			      body_len, pkt + hdr_len + body_len);
		if (rc != SFU_SRTP_OK)
			return rc;
	} else {
		put_be32(roc, (uint32_t)(index >> 16));
		hmac_sha1(&ctx->rtp, pkt, hdr_len + body_len, roc, 4, mac);
		if (CRYPTO_memcmp(mac, pkt + hdr_len + body_len, CM_TAG_LEN) != 0)
			return SFU_SRTP_ERR_AUTH;
		if (unlikely(cm_xor(&ctx->rtp, iv, pkt + hdr_len, pkt + hdr_len,
				    body_len) != 0))
			return SFU_SRTP_ERR_INTERNAL;
	}
	/* Authenticated: now the window, ROC and s_l may move (RFC 3711 3.3.1). */
	replay_add(s->rtp_window, s->rtp_started, s->rtp_hi, index);
	rtp_advance(s, index);
	*out_len = hdr_len + body_len;
	return SFU_SRTP_OK;
}

/* ------------------------------------------------------------------------ */
/* SRTCP                                                                     */

/*
 * RFC 3711 3.4: header(8) || E(RTCP payload) || E||index || tag(10), the tag
 * over everything before it.  RFC 7714 9: header(8) || GCM(payload) || tag(16)
 * || E||index, AAD = header || E||index (9.2).
 */
int sfu_srtp_protect_rtcp(struct sfu_srtp_ctx *ctx, struct sfu_srtp_stream *s,
			  uint8_t *pkt, size_t len)
{
	uint32_t index = s->rtcp_index & SRTCP_INDEX_MASK;
	uint8_t iv[16], mac[SHA1_LEN], trailer[SRTCP_TRAILER_LEN];
	uint8_t *body = pkt + RTCP_HDR_LEN;
	size_t body_len;
	int rc;

	if (unlikely(len < RTCP_HDR_LEN))
		return SFU_SRTP_ERR_TRUNCATED;
	if (unlikely(len > SFU_SRTP_MAX_PKT))
		return SFU_SRTP_ERR_INTERNAL;
	body_len = len - RTCP_HDR_LEN;
	put_be32(trailer, SRTCP_E_BIT | index);
	make_iv(iv, ctx, &ctx->rtcp, pkt + 4, index);

	if (ctx->profile == SFU_SRTP_AEAD_AES_128_GCM) {
		rc = gcm_seal(&ctx->rtcp, iv, pkt, RTCP_HDR_LEN, trailer, body, body,
			      body_len, pkt + len);
		if (unlikely(rc != SFU_SRTP_OK))
			return rc;
		memcpy(pkt + len + GCM_TAG_LEN, trailer, SRTCP_TRAILER_LEN);
	} else {
		if (unlikely(cm_xor(&ctx->rtcp, iv, body, body, body_len) != 0))
			return SFU_SRTP_ERR_INTERNAL;
		memcpy(pkt + len, trailer, SRTCP_TRAILER_LEN);
		hmac_sha1(&ctx->rtcp, pkt, len + SRTCP_TRAILER_LEN, NULL, 0, mac);
		memcpy(pkt + len + SRTCP_TRAILER_LEN, mac, CM_TAG_LEN);
	}
	s->rtcp_index = (index + 1) & SRTCP_INDEX_MASK;
	return (int)(len + SRTCP_TRAILER_LEN + ctx->tag_len);
}

int sfu_srtp_unprotect_rtcp(struct sfu_srtp_ctx *ctx, struct sfu_srtp_stream *s,
			    uint8_t *pkt, size_t len, size_t *out_len)
{
	uint8_t iv[16], mac[SHA1_LEN];
	const uint8_t *trailer, *tag;
	uint32_t word, index;
	size_t rtcp_len;
	bool encrypted;
	int rc;

	if (unlikely(len < RTCP_HDR_LEN + SRTCP_TRAILER_LEN + ctx->tag_len))
		return SFU_SRTP_ERR_TRUNCATED;
	if (unlikely(len > SFU_SRTP_MAX_PKT + SFU_SRTP_MAX_TRAILER))
		return SFU_SRTP_ERR_INTERNAL;
	rtcp_len = len - SRTCP_TRAILER_LEN - ctx->tag_len;
	if (ctx->profile == SFU_SRTP_AEAD_AES_128_GCM) {
		tag = pkt + rtcp_len;
		trailer = tag + GCM_TAG_LEN;
	} else {
		trailer = pkt + rtcp_len;
		tag = trailer + SRTCP_TRAILER_LEN;
	}
	word = get_be32(trailer);
	index = word & SRTCP_INDEX_MASK;
	encrypted = (word & SRTCP_E_BIT) != 0;
	rc = replay_check(s->rtcp_window, s->rtcp_started, s->rtcp_index, index);
	if (rc != SFU_SRTP_OK)
		return rc;
	make_iv(iv, ctx, &ctx->rtcp, pkt + 4, index);

	if (ctx->profile == SFU_SRTP_AEAD_AES_128_GCM) {
		/* E clear: the whole RTCP packet is AAD (RFC 7714 9.3). */
		if (encrypted)
			rc = gcm_open(&ctx->rtcp, iv, pkt, RTCP_HDR_LEN, trailer,
				      pkt + RTCP_HDR_LEN, rtcp_len - RTCP_HDR_LEN, tag);
		else
			rc = gcm_open(&ctx->rtcp, iv, pkt, rtcp_len, trailer,
				      pkt + rtcp_len, 0, tag);
		if (rc != SFU_SRTP_OK)
			return rc;
	} else {
		hmac_sha1(&ctx->rtcp, pkt, rtcp_len + SRTCP_TRAILER_LEN, NULL, 0, mac);
		if (CRYPTO_memcmp(mac, tag, CM_TAG_LEN) != 0)
			return SFU_SRTP_ERR_AUTH;
		if (encrypted &&
		    unlikely(cm_xor(&ctx->rtcp, iv, pkt + RTCP_HDR_LEN, pkt + RTCP_HDR_LEN,
				    rtcp_len - RTCP_HDR_LEN) != 0))
			return SFU_SRTP_ERR_INTERNAL;
	}
	s->rtcp_index = (uint32_t)replay_add(s->rtcp_window, s->rtcp_started,
					     s->rtcp_index, index);
	s->rtcp_started = true;
	*out_len = rtcp_len;
	return SFU_SRTP_OK;
}
