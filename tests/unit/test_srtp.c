/*
 * test_srtp.c — unit tests of sfu_srtp (dataplane/lib/sfu_srtp.c).
 *
 * Known answers: RFC 3711 B.2 (AES-CM keystream) and B.3 (key derivation),
 * RFC 7714 16.1 / 17.1 / 17.3 (AEAD_AES_128_GCM SRTP and SRTCP).  Above all,
 * byte-for-byte agreement with Debian's libsrtp2 on random keys and thousands
 * of packets (CSRCs, header extensions, several SSRCs, the 65535 -> 0 wrap,
 * reordering), unprotect both ways, and the same replay verdicts.  Then the
 * failure contract: tampering, replays and truncation leave packet and stream
 * untouched, and the fast path makes no OpenSSL allocation.
 *
 * Single-threaded.  Deterministic: a fixed-seed PRNG makes every packet.
 */
#include "unit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include "sfu_srtp.h"

#define BUF_LEN 2048
#define LIB_ROOM (SRTP_MAX_TRAILER_LEN + 16)

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

static size_t salt_len(enum sfu_srtp_profile p)
{
	return sfu_srtp_salt_len(p);
}

/* Build an RTP packet: cc CSRCs, ext_words words of RFC 8285 one-byte extension
 * (none if 0), payload_len random bytes.  Returns the length; *hdr_len set. */
static size_t build_rtp(uint8_t *p, uint32_t ssrc, uint16_t seq, unsigned int cc,
			unsigned int ext_words, size_t payload_len, size_t *hdr_len)
{
	size_t n = 12;

	p[0] = (uint8_t)(0x80 | (ext_words ? 0x10 : 0) | cc);
	p[1] = (uint8_t)((rnd() & 0x80) | 96);
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	rnd_bytes(p + 4, 4);
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	rnd_bytes(p + n, 4 * cc);
	n += 4 * cc;
	if (ext_words) {
		p[n] = 0xbe;
		p[n + 1] = 0xde;
		p[n + 2] = (uint8_t)(ext_words >> 8);
		p[n + 3] = (uint8_t)ext_words;
		rnd_bytes(p + n + 4, 4 * ext_words);
		n += 4 + 4 * ext_words;
	}
	*hdr_len = n;
	rnd_bytes(p + n, payload_len);
	return n + payload_len;
}

/* Build a compound-looking RTCP packet of len bytes (a multiple of 4, >= 8). */
static size_t build_rtcp(uint8_t *p, uint32_t ssrc, size_t len)
{
	p[0] = 0x80;
	p[1] = 200;
	p[2] = (uint8_t)((len / 4 - 1) >> 8);
	p[3] = (uint8_t)(len / 4 - 1);
	p[4] = (uint8_t)(ssrc >> 24);
	p[5] = (uint8_t)(ssrc >> 16);
	p[6] = (uint8_t)(ssrc >> 8);
	p[7] = (uint8_t)ssrc;
	rnd_bytes(p + 8, len - 8);
	return len;
}

/* A libsrtp2 session with one ssrc_specific stream per SSRC (no ssrc_any_*:
 * those allocate on the first packet; see /work/shared/style.md). */
static srtp_t lib_session_rtcp(enum sfu_srtp_profile profile, const uint8_t *key,
			       const uint8_t *salt, const uint32_t *ssrcs, int n,
			       srtp_sec_serv_t rtcp_serv)
{
	srtp_policy_t pol[8];
	uint8_t keysalt[SFU_SRTP_MAX_KEYING_LEN];
	srtp_t session = NULL;

	if (n > 8)
		return NULL;
	memcpy(keysalt, key, SFU_SRTP_MASTER_KEY_LEN);
	memcpy(keysalt + SFU_SRTP_MASTER_KEY_LEN, salt, salt_len(profile));
	memset(pol, 0, sizeof(pol));
	for (int i = 0; i < n; i++) {
		if (profile == SFU_SRTP_AEAD_AES_128_GCM) {
			srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol[i].rtp);
			srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol[i].rtcp);
		} else {
			srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol[i].rtp);
			srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol[i].rtcp);
		}
		pol[i].rtcp.sec_serv = rtcp_serv;
		pol[i].ssrc.type = ssrc_specific;
		pol[i].ssrc.value = ssrcs[i];
		pol[i].key = keysalt;
		pol[i].window_size = SFU_SRTP_REPLAY_WINDOW;
		pol[i].allow_repeat_tx = 0;
		pol[i].next = i + 1 < n ? &pol[i + 1] : NULL;
	}
	if (srtp_create(&session, pol) != srtp_err_status_ok)
		return NULL;
	return session;
}

static srtp_t lib_session(enum sfu_srtp_profile profile, const uint8_t *key,
			  const uint8_t *salt, const uint32_t *ssrcs, int n)
{
	return lib_session_rtcp(profile, key, salt, ssrcs, n, sec_serv_conf_and_auth);
}

static void lib_init(void)
{
	static bool done;

	if (!done) {
		UT_EQ(srtp_init(), srtp_err_status_ok);
		done = true;
	}
}

/* Our verdict for a libsrtp2 status (for comparing replay decisions). */
static int lib_to_ours(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return SFU_SRTP_OK;
	case srtp_err_status_auth_fail:
		return SFU_SRTP_ERR_AUTH;
	case srtp_err_status_replay_fail:
		return SFU_SRTP_ERR_REPLAY;
	case srtp_err_status_replay_old:
		return SFU_SRTP_ERR_REPLAY_OLD;
	default:
		return 100 + (int)st;
	}
}

static const enum sfu_srtp_profile profiles[] = {
	SFU_SRTP_AES128_CM_SHA1_80, SFU_SRTP_AEAD_AES_128_GCM,
};

/* ------------------------------------------------------------------------ */
/* The fast path never allocates (counted through OpenSSL's hooks).  Listed
 * first: the hooks can only be installed before OpenSSL's first allocation. */

static unsigned long ossl_allocs;

static void *count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

UT_TEST(fast_path_does_not_allocate)
{
	uint8_t key[16], salt[14], pkt[BUF_LEN], copy[BUF_LEN];
	struct sfu_srtp_stream tx, rx;
	size_t hdr_len, len, out_len;

	UT_EQ(CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free), 1);
	for (size_t k = 0; k < 2; k++) {
		enum sfu_srtp_profile prof = profiles[k];
		struct sfu_srtp_ctx *s, *r;
		unsigned long before;

		rnd_bytes(key, sizeof(key));
		rnd_bytes(salt, sizeof(salt));
		s = sfu_srtp_ctx_create(prof, key, salt);
		r = sfu_srtp_ctx_create(prof, key, salt);
		UT_CHECK(s != NULL && r != NULL);
		if (s == NULL || r == NULL)
			return;
		UT_CHECK(ossl_allocs > 0);   /* the hooks do see OpenSSL */
		sfu_srtp_stream_init(&tx);
		sfu_srtp_stream_init(&rx);
		before = ossl_allocs;
		for (int i = 0; i < 200; i++) {
			int n;

			len = build_rtp(pkt, 0x1234, (uint16_t)(65500 + i), 1, 2, 1000, &hdr_len);
			n = sfu_srtp_protect_rtp(s, &tx, pkt, hdr_len, pkt + hdr_len, len - hdr_len);
			UT_CHECK(n > 0);
			memcpy(copy, pkt, (size_t)n);
			copy[n - 1] ^= 1;   /* a failure path too */
			UT_EQ(sfu_srtp_unprotect_rtp(r, &rx, copy, (size_t)n, hdr_len, &out_len),
			      SFU_SRTP_ERR_AUTH);
			UT_EQ(sfu_srtp_unprotect_rtp(r, &rx, pkt, (size_t)n, hdr_len, &out_len),
			      SFU_SRTP_OK);
			len = build_rtcp(pkt, 0x1234, 80);
			n = sfu_srtp_protect_rtcp(s, &tx, pkt, len);
			UT_CHECK(n > 0);
			UT_EQ(sfu_srtp_unprotect_rtcp(r, &rx, pkt, (size_t)n, &out_len), SFU_SRTP_OK);
		}
		UT_EQ(ossl_allocs - before, 0);
		sfu_srtp_ctx_free(s);
		sfu_srtp_ctx_free(r);
	}
}

/* ------------------------------------------------------------------------ */
/* Known answers                                                             */

/* RFC 3711 Appendix B.3: key derivation, AES-CM PRF. */
UT_TEST(rfc3711_b3_key_derivation)
{
	uint8_t key[16], salt[14], want[32];
	struct sfu_srtp_session_keys k;

	unhex("E1F97A0D3E018BE0D64FA32C06DE4139", key);
	unhex("0EC675AD498AFEEBB6960B3AABE6", salt);
	UT_EQ(sfu_srtp_derive_keys(SFU_SRTP_AES128_CM_SHA1_80, key, salt, &k), 0);
	UT_EQ(unhex("C61E7A93744F39EE10734AFE3FF7A087", want), 16);
	UT_MEMEQ(k.rtp_key, want, 16);
	UT_EQ(unhex("30CBBC08863D8C85D49DB34A9AE1", want), 14);
	UT_MEMEQ(k.rtp_salt, want, 14);
	UT_EQ(unhex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4", want), 20);
	UT_MEMEQ(k.rtp_auth, want, 20);
	/* The RTCP labels give other keys. */
	UT_CHECK(memcmp(k.rtcp_key, k.rtp_key, 16) != 0);
	UT_CHECK(memcmp(k.rtcp_auth, k.rtp_auth, 20) != 0);

	UT_EQ(sfu_srtp_derive_keys((enum sfu_srtp_profile)3, key, salt, &k), -EINVAL);
}

/* RFC 3711 Appendix B.2: AES-CM keystream for SSRC 0, index 0 (the IV is the
 * salt shifted by 16 bits), seen as the ciphertext of a zero payload. */
UT_TEST(rfc3711_b2_cm_keystream)
{
	struct sfu_srtp_session_keys k;
	struct sfu_srtp_stream s;
	struct sfu_srtp_ctx *ctx;
	uint8_t pkt[128] = { 0x80 }, want[48];
	int n;

	memset(&k, 0, sizeof(k));
	unhex("2B7E151628AED2A6ABF7158809CF4F3C", k.rtp_key);
	unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD", k.rtp_salt);
	ctx = sfu_srtp_ctx_create_session(SFU_SRTP_AES128_CM_SHA1_80, &k);
	UT_CHECK(ctx != NULL);
	if (ctx == NULL)
		return;
	sfu_srtp_stream_init(&s);
	n = sfu_srtp_protect_rtp(ctx, &s, pkt, 12, pkt + 12, 48);
	UT_EQ(n, 12 + 48 + 10);
	unhex("E03EAD0935C95E80E166B16DD92B4EB4"
	      "D23513162B02D0F72A43A2FE4A5F97AB"
	      "41E95B3BB0A2E8DD477901E4FCA894C0", want);
	UT_MEMEQ(pkt + 12, want, 48);
	sfu_srtp_ctx_free(ctx);
}

static struct sfu_srtp_ctx *rfc7714_ctx(void)
{
	struct sfu_srtp_session_keys k;

	memset(&k, 0, sizeof(k));
	unhex("000102030405060708090a0b0c0d0e0f", k.rtp_key);
	unhex("517569642070726f2071756f", k.rtp_salt);
	memcpy(k.rtcp_key, k.rtp_key, 16);
	memcpy(k.rtcp_salt, k.rtp_salt, 12);
	return sfu_srtp_ctx_create_session(SFU_SRTP_AEAD_AES_128_GCM, &k);
}

/* RFC 7714 16.1.1 / 16.1.2: AEAD_AES_128_GCM SRTP, SSRC 0x5501a0b2, SEQ
 * 0xf17b, ROC 0. */
UT_TEST(rfc7714_16_srtp_gcm)
{
	static const char plain_hex[] =
		"8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973"
		"20646976 69736120 696e2070 61727465 73207472 6573";
	static const char srtp_hex[] =
		"8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca"
		"be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1"
		"6a9152cf 765ee439 0cce";
	struct sfu_srtp_ctx *tx = rfc7714_ctx(), *rx = rfc7714_ctx();
	uint8_t plain[128], want[128], pkt[BUF_LEN];
	size_t plain_len = unhex(plain_hex, plain), want_len = unhex(srtp_hex, want);
	struct sfu_srtp_stream ts, rs;
	size_t out_len = 0;
	int n;

	UT_CHECK(tx != NULL && rx != NULL);
	if (tx == NULL || rx == NULL)
		return;
	sfu_srtp_stream_init(&ts);
	sfu_srtp_stream_init(&rs);
	memcpy(pkt, plain, plain_len);
	n = sfu_srtp_protect_rtp(tx, &ts, pkt, 12, pkt + 12, plain_len - 12);
	UT_EQ(n, want_len);
	UT_MEMEQ(pkt, want, want_len);

	memcpy(pkt, want, want_len);
	UT_EQ(sfu_srtp_unprotect_rtp(rx, &rs, pkt, want_len, 12, &out_len), SFU_SRTP_OK);
	UT_EQ(out_len, plain_len);
	UT_MEMEQ(pkt, plain, plain_len);
	sfu_srtp_ctx_free(tx);
	sfu_srtp_ctx_free(rx);
}

/* RFC 7714 17.1 (SRTCP encrypted, index 0x5d4) and 17.3 (E bit clear,
 * authenticated only). */
UT_TEST(rfc7714_17_srtcp_gcm)
{
	static const char plain_hex[] =
		"81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930"
		"4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef";
	static const char enc_hex[] =
		"81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7"
		"6c06f32d c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458"
		"96cf4d2f c5abf872 45d9eade 800005d4";
	static const char auth_only_hex[] =
		"81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930"
		"4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968"
		"3dd78ec9 2ae58790 125f62b3 000005d4";
	struct sfu_srtp_ctx *tx = rfc7714_ctx(), *rx = rfc7714_ctx();
	uint8_t plain[128], want[128], pkt[BUF_LEN];
	size_t plain_len = unhex(plain_hex, plain), want_len = unhex(enc_hex, want);
	struct sfu_srtp_stream ts, rs;
	size_t out_len = 0;
	int n;

	UT_CHECK(tx != NULL && rx != NULL);
	if (tx == NULL || rx == NULL)
		return;
	sfu_srtp_stream_init(&ts);
	sfu_srtp_stream_init(&rs);
	ts.rtcp_index = 0x5d4;
	memcpy(pkt, plain, plain_len);
	n = sfu_srtp_protect_rtcp(tx, &ts, pkt, plain_len);
	UT_EQ(n, want_len);
	UT_MEMEQ(pkt, want, want_len);
	UT_EQ(ts.rtcp_index, 0x5d5);

	UT_EQ(sfu_srtp_unprotect_rtcp(rx, &rs, pkt, want_len, &out_len), SFU_SRTP_OK);
	UT_EQ(out_len, plain_len);
	UT_MEMEQ(pkt, plain, plain_len);

	/* 17.3 comes with the same index: a fresh stream, then a replay. */
	sfu_srtp_stream_init(&rs);
	want_len = unhex(auth_only_hex, want);
	memcpy(pkt, want, want_len);
	UT_EQ(sfu_srtp_unprotect_rtcp(rx, &rs, pkt, want_len, &out_len), SFU_SRTP_OK);
	UT_EQ(out_len, plain_len);
	UT_MEMEQ(pkt, plain, plain_len);
	memcpy(pkt, want, want_len);
	UT_EQ(sfu_srtp_unprotect_rtcp(rx, &rs, pkt, want_len, &out_len), SFU_SRTP_ERR_REPLAY);
	/* Clearing E on the encrypted packet breaks its tag. */
	sfu_srtp_stream_init(&rs);
	want_len = unhex(enc_hex, want);
	want[want_len - 4] &= 0x7f;
	memcpy(pkt, want, want_len);
	UT_EQ(sfu_srtp_unprotect_rtcp(rx, &rs, pkt, want_len, &out_len), SFU_SRTP_ERR_AUTH);
	UT_MEMEQ(pkt, want, want_len);
	sfu_srtp_ctx_free(tx);
	sfu_srtp_ctx_free(rx);
}

UT_TEST(api_basics)
{
	uint8_t key[16] = { 1 }, salt[14] = { 2 };
	struct sfu_srtp_ctx *cm = sfu_srtp_ctx_create(SFU_SRTP_AES128_CM_SHA1_80, key, salt);
	struct sfu_srtp_ctx *gcm = sfu_srtp_ctx_create(SFU_SRTP_AEAD_AES_128_GCM, key, salt);
	struct sfu_srtp_stream s;

	UT_CHECK(cm != NULL && gcm != NULL);
	if (cm == NULL || gcm == NULL)
		return;
	UT_EQ(sfu_srtp_ctx_profile(cm), SFU_SRTP_AES128_CM_SHA1_80);
	UT_EQ(sfu_srtp_ctx_profile(gcm), SFU_SRTP_AEAD_AES_128_GCM);
	UT_EQ(sfu_srtp_rtp_trailer_len(cm), 10);
	UT_EQ(sfu_srtp_rtp_trailer_len(gcm), 16);
	UT_EQ(sfu_srtp_salt_len(SFU_SRTP_AES128_CM_SHA1_80), 14);
	UT_EQ(sfu_srtp_salt_len(SFU_SRTP_AEAD_AES_128_GCM), 12);
	UT_EQ(sfu_srtp_salt_len((enum sfu_srtp_profile)2), 0);
	UT_CHECK(sfu_srtp_ctx_create((enum sfu_srtp_profile)2, key, salt) == NULL);
	memset(&s, 0xa5, sizeof(s));
	sfu_srtp_stream_init(&s);
	UT_EQ(s.roc, 0);
	UT_EQ(s.rtp_started, 0);
	UT_EQ(s.rtcp_index, 0);
	sfu_srtp_ctx_free(cm);
	sfu_srtp_ctx_free(gcm);
	sfu_srtp_ctx_free(NULL);
}

/* ------------------------------------------------------------------------ */
/* Byte-for-byte against libsrtp2                                            */

#define X_SSRCS 4
#define X_PKTS 1500   /* per SSRC; starts near 65535 so every SSRC wraps */

static void rtp_vs_libsrtp2(enum sfu_srtp_profile prof)
{
	static const uint32_t ssrcs[X_SSRCS] = { 0x11111111, 0xdeadbeef, 0x00000001, 0x8badf00d };
	uint8_t key[16], salt[14];
	uint8_t plain[BUF_LEN], ours[BUF_LEN + LIB_ROOM], lib[BUF_LEN + LIB_ROOM];
	uint8_t work[BUF_LEN + LIB_ROOM];
	struct sfu_srtp_stream tx[X_SSRCS], rx[X_SSRCS];
	struct sfu_srtp_ctx *otx, *orx;
	srtp_t ltx, lrx;
	unsigned long sent = 0, mismatch = 0, ours_rx_fail = 0, lib_rx_fail = 0, wrapped = 0;

	lib_init();
	rnd_bytes(key, sizeof(key));
	rnd_bytes(salt, sizeof(salt));
	otx = sfu_srtp_ctx_create(prof, key, salt);
	orx = sfu_srtp_ctx_create(prof, key, salt);
	ltx = lib_session(prof, key, salt, ssrcs, X_SSRCS);
	lrx = lib_session(prof, key, salt, ssrcs, X_SSRCS);
	UT_CHECK(otx && orx && ltx && lrx);
	if (!(otx && orx && ltx && lrx))
		return;

	for (int i = 0; i < X_SSRCS; i++) {
		sfu_srtp_stream_init(&tx[i]);
		sfu_srtp_stream_init(&rx[i]);
	}
	for (int step = 0; step < X_PKTS; step++) {
		for (int i = 0; i < X_SSRCS; i++) {
			/* SSRC i starts at 65535 - 200 * (i + 1); every 16th pair is
			 * sent swapped; SSRC 1 loses 65535 and 0 (a gap over the wrap). */
			int pos = step ^ ((step >> 1) % 8 == 3 ? 1 : 0);
			uint16_t seq = (uint16_t)(65535 - 200 * (i + 1) + pos);
			unsigned int cc = rnd() % 4, ext = rnd() % 3 ? 0 : 1 + rnd() % 4;
			size_t payload = rnd() % 1201, hdr_len, len;
			int on, ol;
			int lb;
			size_t out_len;

			if (i == 1 && (seq == 65535 || seq == 0))
				continue;
			if (step % 97 == 5)
				payload = 0;
			len = build_rtp(plain, ssrcs[i], seq, cc, ext, payload, &hdr_len);
			memcpy(lib, plain, len);
			/* Alternate in-place and out-of-place protect. */
			if (step & 1) {
				memcpy(ours, plain, hdr_len);
				on = sfu_srtp_protect_rtp(otx, &tx[i], ours, hdr_len, plain + hdr_len,
							  len - hdr_len);
			} else {
				memcpy(ours, plain, len);
				on = sfu_srtp_protect_rtp(otx, &tx[i], ours, hdr_len, ours + hdr_len,
							  len - hdr_len);
			}
			lb = (int)len;
			if (srtp_protect(ltx, lib, &lb) != srtp_err_status_ok || on != lb ||
			    memcmp(ours, lib, (size_t)lb) != 0) {
				if (mismatch++ == 0)
					fprintf(stderr, "  first protect mismatch: ssrc %08x seq %u len %zu (%d vs %d)\n",
						ssrcs[i], seq, len, on, lb);
				continue;
			}
			sent++;
			/* Ours unprotects libsrtp2's output... */
			memcpy(work, lib, (size_t)lb);
			if (sfu_srtp_unprotect_rtp(orx, &rx[i], work, (size_t)lb, hdr_len, &out_len) !=
				    SFU_SRTP_OK || out_len != len || memcmp(work, plain, len) != 0)
				ours_rx_fail++;
			/* ...and libsrtp2 ours. */
			memcpy(work, ours, (size_t)on);
			ol = on;
			if (srtp_unprotect(lrx, work, &ol) != srtp_err_status_ok || ol != (int)len ||
			    memcmp(work, plain, len) != 0)
				lib_rx_fail++;
		}
	}
	for (int i = 0; i < X_SSRCS; i++) {
		wrapped += tx[i].roc == 1 && rx[i].roc == 1;
		UT_EQ(tx[i].roc, rx[i].roc);
		UT_EQ(tx[i].s_l, rx[i].s_l);
	}
	UT_EQ(mismatch, 0);
	UT_EQ(ours_rx_fail, 0);
	UT_EQ(lib_rx_fail, 0);
	UT_EQ(wrapped, X_SSRCS);
	UT_CHECK(sent > X_SSRCS * (X_PKTS - 10));
	srtp_dealloc(ltx);
	srtp_dealloc(lrx);
	sfu_srtp_ctx_free(otx);
	sfu_srtp_ctx_free(orx);
}

UT_TEST(rtp_cm_matches_libsrtp2)
{
	rtp_vs_libsrtp2(SFU_SRTP_AES128_CM_SHA1_80);
}

UT_TEST(rtp_gcm_matches_libsrtp2)
{
	rtp_vs_libsrtp2(SFU_SRTP_AEAD_AES_128_GCM);
}

static void rtcp_vs_libsrtp2(enum sfu_srtp_profile prof)
{
	static const uint32_t ssrcs[3] = { 0xcafebabe, 0x0badcafe, 0x7fffffff };
	uint8_t key[16], salt[14];
	uint8_t plain[BUF_LEN], ours[BUF_LEN + LIB_ROOM], lib[BUF_LEN + LIB_ROOM];
	uint8_t work[BUF_LEN + LIB_ROOM];
	struct sfu_srtp_stream tx[3], rx[3];
	struct sfu_srtp_ctx *otx, *orx;
	srtp_t ltx, lrx;
	unsigned long mismatch = 0, ours_rx_fail = 0, lib_rx_fail = 0;

	lib_init();
	rnd_bytes(key, sizeof(key));
	rnd_bytes(salt, sizeof(salt));
	otx = sfu_srtp_ctx_create(prof, key, salt);
	orx = sfu_srtp_ctx_create(prof, key, salt);
	ltx = lib_session(prof, key, salt, ssrcs, 3);
	lrx = lib_session(prof, key, salt, ssrcs, 3);
	UT_CHECK(otx && orx && ltx && lrx);
	if (!(otx && orx && ltx && lrx))
		return;
	for (int i = 0; i < 3; i++) {
		sfu_srtp_stream_init(&tx[i]);
		sfu_srtp_stream_init(&rx[i]);
		tx[i].rtcp_index = 1;   /* libsrtp2 sends index 1 first */
	}
	for (int step = 0; step < 600; step++) {
		for (int i = 0; i < 3; i++) {
			size_t len = build_rtcp(plain, ssrcs[i], 8 + 4 * (rnd() % 300)), out_len;
			int on, lb, ol;

			memcpy(ours, plain, len);
			memcpy(lib, plain, len);
			on = sfu_srtp_protect_rtcp(otx, &tx[i], ours, len);
			lb = (int)len;
			if (srtp_protect_rtcp(ltx, lib, &lb) != srtp_err_status_ok || on != lb ||
			    memcmp(ours, lib, (size_t)lb) != 0) {
				if (mismatch++ == 0)
					fprintf(stderr, "  first SRTCP mismatch: ssrc %08x len %zu (%d vs %d)\n",
						ssrcs[i], len, on, lb);
				continue;
			}
			memcpy(work, lib, (size_t)lb);
			if (sfu_srtp_unprotect_rtcp(orx, &rx[i], work, (size_t)lb, &out_len) !=
				    SFU_SRTP_OK || out_len != len || memcmp(work, plain, len) != 0)
				ours_rx_fail++;
			memcpy(work, ours, (size_t)on);
			ol = on;
			if (srtp_unprotect_rtcp(lrx, work, &ol) != srtp_err_status_ok ||
			    ol != (int)len || memcmp(work, plain, len) != 0)
				lib_rx_fail++;
		}
	}
	UT_EQ(mismatch, 0);
	UT_EQ(ours_rx_fail, 0);
	UT_EQ(lib_rx_fail, 0);
	UT_EQ(tx[0].rtcp_index, 601);
	UT_EQ(rx[0].rtcp_index, 600);
	srtp_dealloc(ltx);
	srtp_dealloc(lrx);
	sfu_srtp_ctx_free(otx);
	sfu_srtp_ctx_free(orx);
}

UT_TEST(rtcp_cm_matches_libsrtp2)
{
	rtcp_vs_libsrtp2(SFU_SRTP_AES128_CM_SHA1_80);
}

UT_TEST(rtcp_gcm_matches_libsrtp2)
{
	rtcp_vs_libsrtp2(SFU_SRTP_AEAD_AES_128_GCM);
}

/*
 * Jumps that stress the ROC guess (RFC 3711 Appendix A): far ahead while ROC
 * is still 0 (never ROC - 1), back over half the sequence space, the wrap.
 * Senders and receivers must agree with libsrtp2's packet for packet.
 */
static void seq_walk(enum sfu_srtp_profile prof)
{
	static const uint16_t seqs[] = {
		100, 40000, 100, 7000, 30000, 65000, 10, 20, 33000, 32000, 65535, 0,
		1, 50000, 17000, 17001, 60000, 27000, 26999, 59000, 65534, 2, 3,
	};
	static const uint32_t ssrc = 0x600dcafe;
	uint8_t key[16], salt[14];
	uint8_t plain[512], ours[512 + LIB_ROOM], lib[512 + LIB_ROOM], work[512 + LIB_ROOM];
	struct sfu_srtp_stream ts, rs;
	struct sfu_srtp_ctx *otx, *orx;
	srtp_t ltx, lrx;
	unsigned long compared = 0;

	lib_init();
	rnd_bytes(key, sizeof(key));
	rnd_bytes(salt, sizeof(salt));
	otx = sfu_srtp_ctx_create(prof, key, salt);
	orx = sfu_srtp_ctx_create(prof, key, salt);
	ltx = lib_session(prof, key, salt, &ssrc, 1);
	lrx = lib_session(prof, key, salt, &ssrc, 1);
	UT_CHECK(otx && orx && ltx && lrx);
	if (!(otx && orx && ltx && lrx))
		return;
	sfu_srtp_stream_init(&ts);
	sfu_srtp_stream_init(&rs);
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		size_t hdr_len, len = build_rtp(plain, ssrc, seqs[i], 1, 1, 100, &hdr_len), out_len;
		int on, lb = (int)len, ol;

		memcpy(ours, plain, len);
		memcpy(lib, plain, len);
		on = sfu_srtp_protect_rtp(otx, &ts, ours, hdr_len, ours + hdr_len, len - hdr_len);
		if (srtp_protect(ltx, lib, &lb) != srtp_err_status_ok)
			continue;   /* libsrtp2's sender refuses what it takes for a repeat */
		compared++;
		UT_EQ(on, lb);
		UT_MEMEQ(ours, lib, (size_t)lb);
		memcpy(work, lib, (size_t)lb);
		on = sfu_srtp_unprotect_rtp(orx, &rs, work, (size_t)lb, hdr_len, &out_len);
		memcpy(work, lib, (size_t)lb);
		ol = lb;
		UT_EQ(on, lib_to_ours(srtp_unprotect(lrx, work, &ol)));
	}
	UT_CHECK(compared > 15);
	UT_EQ(ts.roc, rs.roc);
	srtp_dealloc(ltx);
	srtp_dealloc(lrx);
	sfu_srtp_ctx_free(otx);
	sfu_srtp_ctx_free(orx);
}

UT_TEST(seq_walk_matches_libsrtp2_cm)
{
	seq_walk(SFU_SRTP_AES128_CM_SHA1_80);
}

UT_TEST(seq_walk_matches_libsrtp2_gcm)
{
	seq_walk(SFU_SRTP_AEAD_AES_128_GCM);
}

/* SRTCP with the E bit clear (RFC 3711 3.4, RFC 7714 9.3), as libsrtp2 sends
 * it with RTCP confidentiality off: accepted, body left as sent. */
static void srtcp_unencrypted(enum sfu_srtp_profile prof)
{
	static const uint32_t ssrc = 0x0e0e0e0e;
	uint8_t key[16], salt[14], plain[256], pkt[256 + LIB_ROOM], bad[256 + LIB_ROOM];
	struct sfu_srtp_stream rs;
	struct sfu_srtp_ctx *orx;
	size_t len, out_len;
	srtp_t ltx;
	int lb;

	lib_init();
	rnd_bytes(key, sizeof(key));
	rnd_bytes(salt, sizeof(salt));
	orx = sfu_srtp_ctx_create(prof, key, salt);
	ltx = lib_session_rtcp(prof, key, salt, &ssrc, 1, sec_serv_auth);
	UT_CHECK(orx && ltx);
	if (!(orx && ltx))
		return;
	sfu_srtp_stream_init(&rs);
	for (int i = 0; i < 20; i++) {
		len = build_rtcp(plain, ssrc, 8 + 4 * (size_t)(1 + i * 3));
		memcpy(pkt, plain, len);
		lb = (int)len;
		UT_EQ(srtp_protect_rtcp(ltx, pkt, &lb), srtp_err_status_ok);
		UT_MEMEQ(pkt, plain, len);   /* not encrypted */
		memcpy(bad, pkt, (size_t)lb);
		bad[8] ^= 0x20;
		UT_EQ(sfu_srtp_unprotect_rtcp(orx, &rs, bad, (size_t)lb, &out_len), SFU_SRTP_ERR_AUTH);
		UT_EQ(sfu_srtp_unprotect_rtcp(orx, &rs, pkt, (size_t)lb, &out_len), SFU_SRTP_OK);
		UT_EQ(out_len, len);
		UT_MEMEQ(pkt, plain, len);
	}
	srtp_dealloc(ltx);
	sfu_srtp_ctx_free(orx);
}

UT_TEST(srtcp_unencrypted_cm)
{
	srtcp_unencrypted(SFU_SRTP_AES128_CM_SHA1_80);
}

UT_TEST(srtcp_unencrypted_gcm)
{
	srtcp_unencrypted(SFU_SRTP_AEAD_AES_128_GCM);
}

/*
 * Same packets, same arrival order (new, reordered, replayed, far too old,
 * across the wrap): our receiver's verdicts equal libsrtp2's.
 */
#define R_PKTS 1200

static void replay_vs_libsrtp2(enum sfu_srtp_profile prof)
{
	static const uint32_t ssrc = 0x31415926;
	static uint8_t srtp[R_PKTS][256], srtcp[R_PKTS][256];
	static int srtp_len[R_PKTS], srtcp_len[R_PKTS];
	uint8_t key[16], salt[14], work[512];
	struct sfu_srtp_stream rx;
	struct sfu_srtp_ctx *orx;
	srtp_t ltx, lrx;
	unsigned long differ = 0, seen[6] = { 0 };
	int hi = 0;

	lib_init();
	rnd_bytes(key, sizeof(key));
	rnd_bytes(salt, sizeof(salt));
	orx = sfu_srtp_ctx_create(prof, key, salt);
	ltx = lib_session(prof, key, salt, &ssrc, 1);
	lrx = lib_session(prof, key, salt, &ssrc, 1);
	UT_CHECK(orx && ltx && lrx);
	if (!(orx && ltx && lrx))
		return;
	for (int j = 0; j < R_PKTS; j++) {
		size_t hdr_len;

		srtp_len[j] = (int)build_rtp(srtp[j], ssrc, (uint16_t)(65000 + j), 0, 0,
					     40 + rnd() % 100, &hdr_len);
		UT_EQ(srtp_protect(ltx, srtp[j], &srtp_len[j]), srtp_err_status_ok);
		srtcp_len[j] = (int)build_rtcp(srtcp[j], ssrc, 8 + 4 * (1 + rnd() % 20));
		UT_EQ(srtp_protect_rtcp(ltx, srtcp[j], &srtcp_len[j]), srtp_err_status_ok);
	}
	sfu_srtp_stream_init(&rx);
	for (int step = 0; step < 4 * R_PKTS; step++) {
		int r = (int)(rnd() % 100), j;
		size_t out_len;
		int ours, theirs, ol;

		if (r < 40 && hi < R_PKTS - 4)
			j = hi + 1 + (int)(rnd() % 3);    /* ahead, with gaps */
		else if (r < 80)
			j = hi - (int)(rnd() % 128);      /* inside the window */
		else
			j = hi - 120 - (int)(rnd() % 30); /* around its edge */
		if (j < 0)
			j = 0;
		if (j > hi)
			hi = j;
		memcpy(work, srtp[j], (size_t)srtp_len[j]);
		ours = sfu_srtp_unprotect_rtp(orx, &rx, work, (size_t)srtp_len[j], 12, &out_len);
		memcpy(work, srtp[j], (size_t)srtp_len[j]);
		ol = srtp_len[j];
		theirs = lib_to_ours(srtp_unprotect(lrx, work, &ol));
		differ += ours != theirs;
		seen[-ours]++;

		memcpy(work, srtcp[j], (size_t)srtcp_len[j]);
		ours = sfu_srtp_unprotect_rtcp(orx, &rx, work, (size_t)srtcp_len[j], &out_len);
		memcpy(work, srtcp[j], (size_t)srtcp_len[j]);
		ol = srtcp_len[j];
		theirs = lib_to_ours(srtp_unprotect_rtcp(lrx, work, &ol));
		differ += ours != theirs;
	}
	UT_EQ(differ, 0);
	/* The walk did exercise every verdict. */
	UT_CHECK(seen[0] > 100);
	UT_CHECK(seen[-SFU_SRTP_ERR_REPLAY] > 100);
	UT_CHECK(seen[-SFU_SRTP_ERR_REPLAY_OLD] > 10);
	UT_EQ(rx.roc, 1);
	srtp_dealloc(ltx);
	srtp_dealloc(lrx);
	sfu_srtp_ctx_free(orx);
}

UT_TEST(replay_verdicts_match_libsrtp2_cm)
{
	replay_vs_libsrtp2(SFU_SRTP_AES128_CM_SHA1_80);
}

UT_TEST(replay_verdicts_match_libsrtp2_gcm)
{
	replay_vs_libsrtp2(SFU_SRTP_AEAD_AES_128_GCM);
}

/* ------------------------------------------------------------------------ */
/* Failure contract                                                          */

struct pair {
	struct sfu_srtp_ctx *tx, *rx;
	struct sfu_srtp_stream ts, rs;
};

static bool pair_open(struct pair *p, enum sfu_srtp_profile prof)
{
	uint8_t key[16], salt[14];

	rnd_bytes(key, sizeof(key));
	rnd_bytes(salt, sizeof(salt));
	p->tx = sfu_srtp_ctx_create(prof, key, salt);
	p->rx = sfu_srtp_ctx_create(prof, key, salt);
	sfu_srtp_stream_init(&p->ts);
	sfu_srtp_stream_init(&p->rs);
	return p->tx != NULL && p->rx != NULL;
}

static void pair_close(struct pair *p)
{
	sfu_srtp_ctx_free(p->tx);
	sfu_srtp_ctx_free(p->rx);
}

/* Unprotect a copy of pkt; expect rc; on failure the copy and the stream must
 * be untouched.  Returns rc. */
static int rx_rtp(struct pair *p, const uint8_t *pkt, size_t len, size_t hdr_len, int want)
{
	uint8_t work[BUF_LEN];
	struct sfu_srtp_stream before = p->rs;
	size_t out_len = 12345;
	int rc;

	memcpy(work, pkt, len);
	rc = sfu_srtp_unprotect_rtp(p->rx, &p->rs, work, len, hdr_len, &out_len);
	UT_EQ(rc, want);
	if (rc != SFU_SRTP_OK) {
		UT_MEMEQ(work, pkt, len);
		UT_MEMEQ(&before, &p->rs, sizeof(before));
		UT_EQ(out_len, 12345);
	}
	return rc;
}

static int rx_rtcp(struct pair *p, const uint8_t *pkt, size_t len, int want)
{
	uint8_t work[BUF_LEN];
	struct sfu_srtp_stream before = p->rs;
	size_t out_len = 12345;
	int rc;

	memcpy(work, pkt, len);
	rc = sfu_srtp_unprotect_rtcp(p->rx, &p->rs, work, len, &out_len);
	UT_EQ(rc, want);
	if (rc != SFU_SRTP_OK) {
		UT_MEMEQ(work, pkt, len);
		UT_MEMEQ(&before, &p->rs, sizeof(before));
		UT_EQ(out_len, 12345);
	}
	return rc;
}

/* Refused as forged or replayed (which one depends on the index the damage
 * names), never OK, nothing changed. */
static void rx_fails(struct pair *p, const uint8_t *pkt, size_t len, size_t hdr_len)
{
	uint8_t work[BUF_LEN];
	struct sfu_srtp_stream before = p->rs;
	size_t out_len;
	int rc;

	memcpy(work, pkt, len);
	rc = sfu_srtp_unprotect_rtp(p->rx, &p->rs, work, len, hdr_len, &out_len);
	UT_CHECK(rc == SFU_SRTP_ERR_AUTH || rc == SFU_SRTP_ERR_REPLAY ||
		 rc == SFU_SRTP_ERR_REPLAY_OLD);
	UT_MEMEQ(work, pkt, len);
	UT_MEMEQ(&before, &p->rs, sizeof(before));
}

static void rx_rtcp_fails(struct pair *p, const uint8_t *pkt, size_t len)
{
	uint8_t work[BUF_LEN];
	struct sfu_srtp_stream before = p->rs;
	size_t out_len;
	int rc;

	memcpy(work, pkt, len);
	rc = sfu_srtp_unprotect_rtcp(p->rx, &p->rs, work, len, &out_len);
	UT_CHECK(rc == SFU_SRTP_ERR_AUTH || rc == SFU_SRTP_ERR_REPLAY ||
		 rc == SFU_SRTP_ERR_REPLAY_OLD);
	UT_MEMEQ(work, pkt, len);
	UT_MEMEQ(&before, &p->rs, sizeof(before));
}

/* Every single-bit flip of header, payload, tag (and SRTCP trailer) is AUTH
 * with packet and stream unchanged; the genuine packet still passes after. */
static void tamper(enum sfu_srtp_profile prof)
{
	uint8_t pkt[BUF_LEN], bad[BUF_LEN];
	size_t hdr_len, len;
	struct pair p;
	int n;

	UT_CHECK(pair_open(&p, prof));
	/* Let the receiver have state first, so "unchanged" means something. */
	for (int i = 0; i < 3; i++) {
		len = build_rtp(pkt, 0xabcdef01, (uint16_t)(100 + i), 0, 0, 50, &hdr_len);
		n = sfu_srtp_protect_rtp(p.tx, &p.ts, pkt, hdr_len, pkt + hdr_len, len - hdr_len);
		rx_rtp(&p, pkt, (size_t)n, hdr_len, SFU_SRTP_OK);
		len = build_rtcp(pkt, 0xabcdef01, 28);
		n = sfu_srtp_protect_rtcp(p.tx, &p.ts, pkt, len);
		rx_rtcp(&p, pkt, (size_t)n, SFU_SRTP_OK);
	}

	len = build_rtp(pkt, 0xabcdef01, 110, 2, 1, 300, &hdr_len);
	n = sfu_srtp_protect_rtp(p.tx, &p.ts, pkt, hdr_len, pkt + hdr_len, len - hdr_len);
	UT_CHECK(n > 0);
	for (int byte = 0; byte < n; byte++) {
		/* Byte 0 (version/CC/X) and the extension length would change the
		 * header length (TRUNCATED, tested below). */
		if (byte == 0 || byte == 22 || byte == 23)
			continue;
		memcpy(bad, pkt, (size_t)n);
		bad[byte] ^= (uint8_t)(1u << (byte % 8));
		/* A flipped sequence number may name an index already seen. */
		if (byte == 2 || byte == 3)
			rx_fails(&p, bad, (size_t)n, hdr_len);
		else
			rx_rtp(&p, bad, (size_t)n, hdr_len, SFU_SRTP_ERR_AUTH);
	}
	rx_rtp(&p, pkt, (size_t)n, hdr_len, SFU_SRTP_OK);

	len = build_rtcp(pkt, 0xabcdef01, 200);
	n = sfu_srtp_protect_rtcp(p.tx, &p.ts, pkt, len);
	UT_CHECK(n > 0);
	for (int byte = 0; byte < n; byte++) {
		memcpy(bad, pkt, (size_t)n);
		bad[byte] ^= (uint8_t)(1u << (byte % 8));
		/* A flipped index bit may name an index seen or too old. */
		if ((prof == SFU_SRTP_AEAD_AES_128_GCM && byte >= n - 4) ||
		    (prof == SFU_SRTP_AES128_CM_SHA1_80 && byte >= n - 14 && byte < n - 10))
			rx_rtcp_fails(&p, bad, (size_t)n);
		else
			rx_rtcp(&p, bad, (size_t)n, SFU_SRTP_ERR_AUTH);
	}
	rx_rtcp(&p, pkt, (size_t)n, SFU_SRTP_OK);
	pair_close(&p);
}

UT_TEST(tamper_cm)
{
	tamper(SFU_SRTP_AES128_CM_SHA1_80);
}

UT_TEST(tamper_gcm)
{
	tamper(SFU_SRTP_AEAD_AES_128_GCM);
}

/* Replay window of 128: replays, too-old packets, out-of-order once. */
static void replay(enum sfu_srtp_profile prof)
{
	static uint8_t rtp[400][128], rtcp[400][128];
	int rtp_len[400], rtcp_len[400];
	size_t hdr_len;
	struct pair p;

	UT_CHECK(pair_open(&p, prof));
	for (int i = 0; i < 400; i++) {
		size_t len = build_rtp(rtp[i], 0x5eed, (uint16_t)(1000 + i), 0, 0, 20, &hdr_len);

		rtp_len[i] = sfu_srtp_protect_rtp(p.tx, &p.ts, rtp[i], hdr_len, rtp[i] + hdr_len,
						  len - hdr_len);
		len = build_rtcp(rtcp[i], 0x5eed, 24);
		rtcp_len[i] = sfu_srtp_protect_rtcp(p.tx, &p.ts, rtcp[i], len);
	}
	UT_EQ(p.ts.rtcp_index, 400);

	rx_rtp(&p, rtp[300], (size_t)rtp_len[300], 12, SFU_SRTP_OK);
	rx_rtp(&p, rtp[300], (size_t)rtp_len[300], 12, SFU_SRTP_ERR_REPLAY);
	rx_rtp(&p, rtp[172], (size_t)rtp_len[172], 12, SFU_SRTP_ERR_REPLAY_OLD);
	rx_rtp(&p, rtp[173], (size_t)rtp_len[173], 12, SFU_SRTP_OK);      /* 127 back */
	rx_rtp(&p, rtp[173], (size_t)rtp_len[173], 12, SFU_SRTP_ERR_REPLAY);
	rx_rtp(&p, rtp[290], (size_t)rtp_len[290], 12, SFU_SRTP_OK);
	rx_rtp(&p, rtp[295], (size_t)rtp_len[295], 12, SFU_SRTP_OK);
	rx_rtp(&p, rtp[290], (size_t)rtp_len[290], 12, SFU_SRTP_ERR_REPLAY);
	rx_rtp(&p, rtp[399], (size_t)rtp_len[399], 12, SFU_SRTP_OK);      /* slide by 99 */
	rx_rtp(&p, rtp[295], (size_t)rtp_len[295], 12, SFU_SRTP_ERR_REPLAY);
	rx_rtp(&p, rtp[296], (size_t)rtp_len[296], 12, SFU_SRTP_OK);
	rx_rtp(&p, rtp[271], (size_t)rtp_len[271], 12, SFU_SRTP_ERR_REPLAY_OLD);
	rx_rtp(&p, rtp[300], (size_t)rtp_len[300], 12, SFU_SRTP_ERR_REPLAY);
	UT_EQ(p.rs.s_l, 1399);

	rx_rtcp(&p, rtcp[300], (size_t)rtcp_len[300], SFU_SRTP_OK);
	rx_rtcp(&p, rtcp[300], (size_t)rtcp_len[300], SFU_SRTP_ERR_REPLAY);
	rx_rtcp(&p, rtcp[172], (size_t)rtcp_len[172], SFU_SRTP_ERR_REPLAY_OLD);
	rx_rtcp(&p, rtcp[173], (size_t)rtcp_len[173], SFU_SRTP_OK);
	rx_rtcp(&p, rtcp[173], (size_t)rtcp_len[173], SFU_SRTP_ERR_REPLAY);
	rx_rtcp(&p, rtcp[0], (size_t)rtcp_len[0], SFU_SRTP_ERR_REPLAY_OLD);
	rx_rtcp(&p, rtcp[364], (size_t)rtcp_len[364], SFU_SRTP_OK);  /* slide by 64 */
	rx_rtcp(&p, rtcp[300], (size_t)rtcp_len[300], SFU_SRTP_ERR_REPLAY);
	rx_rtcp(&p, rtcp[301], (size_t)rtcp_len[301], SFU_SRTP_OK);
	rx_rtcp(&p, rtcp[236], (size_t)rtcp_len[236], SFU_SRTP_ERR_REPLAY_OLD);
	rx_rtcp(&p, rtcp[237], (size_t)rtcp_len[237], SFU_SRTP_OK);
	UT_EQ(p.rs.rtcp_index, 364);
	pair_close(&p);
}

UT_TEST(replay_cm)
{
	replay(SFU_SRTP_AES128_CM_SHA1_80);
}

UT_TEST(replay_gcm)
{
	replay(SFU_SRTP_AEAD_AES_128_GCM);
}

/* The ROC is authenticated: a receiver that believes another ROC refuses the
 * packet; one given the sender's ROC up front accepts it (RFC 3711 3.3.1). */
static void roc_sync(enum sfu_srtp_profile prof)
{
	uint8_t pkt[BUF_LEN];
	size_t hdr_len, len;
	struct pair p;
	int n;

	UT_CHECK(pair_open(&p, prof));
	p.ts.roc = 5;
	len = build_rtp(pkt, 42, 7, 0, 0, 100, &hdr_len);
	n = sfu_srtp_protect_rtp(p.tx, &p.ts, pkt, hdr_len, pkt + hdr_len, len - hdr_len);
	UT_CHECK(n > 0);
	rx_rtp(&p, pkt, (size_t)n, hdr_len, SFU_SRTP_ERR_AUTH);
	p.rs.roc = 5;
	rx_rtp(&p, pkt, (size_t)n, hdr_len, SFU_SRTP_OK);
	UT_EQ(p.rs.roc, 5);
	UT_EQ(p.rs.s_l, 7);

	/* Sender over the wrap: 65534, 65535, 0, a late 65535, 1. */
	sfu_srtp_stream_init(&p.ts);
	sfu_srtp_stream_init(&p.rs);
	static const uint16_t seqs[] = { 65534, 65535, 0, 65535, 1 };
	static const uint32_t rocs[] = { 0, 0, 1, 1, 1 };
	static const int verdict[] = { 0, 0, 0, SFU_SRTP_ERR_REPLAY, 0 };
	for (int i = 0; i < 5; i++) {
		len = build_rtp(pkt, 42, seqs[i], 0, 0, 100, &hdr_len);
		n = sfu_srtp_protect_rtp(p.tx, &p.ts, pkt, hdr_len, pkt + hdr_len, len - hdr_len);
		UT_EQ(p.ts.roc, rocs[i]);
		rx_rtp(&p, pkt, (size_t)n, hdr_len, verdict[i]);
		UT_EQ(p.rs.roc, rocs[i]);
	}
	pair_close(&p);
}

UT_TEST(roc_cm)
{
	roc_sync(SFU_SRTP_AES128_CM_SHA1_80);
}

UT_TEST(roc_gcm)
{
	roc_sync(SFU_SRTP_AEAD_AES_128_GCM);
}

/* Every truncation of a valid packet is TRUNCATED.  Each is handed over in a
 * heap buffer of exactly its length, so ASan sees any read past it. */
static void truncated(enum sfu_srtp_profile prof)
{
	uint8_t pkt[BUF_LEN];
	size_t hdr_len, len, out_len, tag = prof == SFU_SRTP_AEAD_AES_128_GCM ? 16 : 10;
	struct pair p;
	int n;

	UT_CHECK(pair_open(&p, prof));
	len = build_rtp(pkt, 77, 1, 3, 2, 64, &hdr_len);   /* 12 + 12 + 12 = 36 */
	UT_EQ(hdr_len, 36);
	n = sfu_srtp_protect_rtp(p.tx, &p.ts, pkt, hdr_len, pkt + hdr_len, len - hdr_len);
	UT_EQ(n, (int)(len + tag));
	for (size_t l = 0; l < hdr_len + tag; l++) {
		uint8_t *b = malloc(l ? l : 1);

		memcpy(b, pkt, l);
		UT_EQ(sfu_srtp_unprotect_rtp(p.rx, &p.rs, b, l, hdr_len, &out_len),
		      SFU_SRTP_ERR_TRUNCATED);
		UT_MEMEQ(b, pkt, l);
		free(b);
	}
	/* A header length other than the header's own is refused too. */
	rx_rtp(&p, pkt, (size_t)n, 12, SFU_SRTP_ERR_TRUNCATED);
	rx_rtp(&p, pkt, (size_t)n, 40, SFU_SRTP_ERR_TRUNCATED);
	{
		uint8_t *b = malloc((size_t)n);

		memcpy(b, pkt, (size_t)n);
		UT_EQ(sfu_srtp_unprotect_rtp(p.rx, &p.rs, b, (size_t)n, hdr_len, &out_len),
		      SFU_SRTP_OK);
		UT_EQ(out_len, len);
		free(b);
	}

	len = build_rtcp(pkt, 77, 64);
	n = sfu_srtp_protect_rtcp(p.tx, &p.ts, pkt, len);
	UT_EQ(n, (int)(len + 4 + tag));
	for (size_t l = 0; l < 8 + 4 + tag; l++) {
		uint8_t *b = malloc(l ? l : 1);

		memcpy(b, pkt, l);
		UT_EQ(sfu_srtp_unprotect_rtcp(p.rx, &p.rs, b, l, &out_len),
		      SFU_SRTP_ERR_TRUNCATED);
		free(b);
	}
	{
		uint8_t *b = malloc((size_t)n);

		memcpy(b, pkt, (size_t)n);
		UT_EQ(sfu_srtp_unprotect_rtcp(p.rx, &p.rs, b, (size_t)n, &out_len), SFU_SRTP_OK);
		UT_EQ(out_len, len);
		free(b);
	}

	/* protect: bad header lengths, short RTCP, oversize; stream untouched. */
	{
		struct sfu_srtp_stream before = p.ts;

		len = build_rtp(pkt, 77, 2, 1, 0, 10, &hdr_len);
		UT_EQ(sfu_srtp_protect_rtp(p.tx, &p.ts, pkt, 12, pkt + 12, len - 12),
		      SFU_SRTP_ERR_TRUNCATED);
		UT_EQ(sfu_srtp_protect_rtp(p.tx, &p.ts, pkt, 8, pkt + 8, len - 8),
		      SFU_SRTP_ERR_TRUNCATED);
		pkt[0] = 0x40;   /* version 1 */
		UT_EQ(sfu_srtp_protect_rtp(p.tx, &p.ts, pkt, 12, pkt + 12, len - 12),
		      SFU_SRTP_ERR_TRUNCATED);
		pkt[0] = 0x80;
		UT_EQ(sfu_srtp_protect_rtp(p.tx, &p.ts, pkt, 12, pkt + 12, SFU_SRTP_MAX_PKT),
		      SFU_SRTP_ERR_INTERNAL);
		UT_EQ(sfu_srtp_protect_rtcp(p.tx, &p.ts, pkt, 7), SFU_SRTP_ERR_TRUNCATED);
		UT_MEMEQ(&before, &p.ts, sizeof(before));
	}
	pair_close(&p);
}

UT_TEST(truncated_cm)
{
	truncated(SFU_SRTP_AES128_CM_SHA1_80);
}

UT_TEST(truncated_gcm)
{
	truncated(SFU_SRTP_AEAD_AES_128_GCM);
}

UT_MAIN("srtp",
	UT_CASE(fast_path_does_not_allocate),
	UT_CASE(rfc3711_b3_key_derivation),
	UT_CASE(rfc3711_b2_cm_keystream),
	UT_CASE(rfc7714_16_srtp_gcm),
	UT_CASE(rfc7714_17_srtcp_gcm),
	UT_CASE(api_basics),
	UT_CASE(rtp_cm_matches_libsrtp2),
	UT_CASE(rtp_gcm_matches_libsrtp2),
	UT_CASE(rtcp_cm_matches_libsrtp2),
	UT_CASE(rtcp_gcm_matches_libsrtp2),
	UT_CASE(seq_walk_matches_libsrtp2_cm),
	UT_CASE(seq_walk_matches_libsrtp2_gcm),
	UT_CASE(srtcp_unencrypted_cm),
	UT_CASE(srtcp_unencrypted_gcm),
	UT_CASE(replay_verdicts_match_libsrtp2_cm),
	UT_CASE(replay_verdicts_match_libsrtp2_gcm),
	UT_CASE(tamper_cm),
	UT_CASE(tamper_gcm),
	UT_CASE(replay_cm),
	UT_CASE(replay_gcm),
	UT_CASE(roc_cm),
	UT_CASE(roc_gcm),
	UT_CASE(truncated_cm),
	UT_CASE(truncated_gcm))
