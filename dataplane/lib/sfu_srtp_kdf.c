/*
 * sfu_srtp_kdf.c — SRTP session key derivation (RFC 3711 4.3) for sfu_srtp.
 *
 * The AES-CM PRF with key derivation rate 0: each session key is the AES-128
 * counter-mode keystream under the master key, started at
 * IV = (label || r XOR master_salt) * 2^16 with r = 0.  The AEAD_AES_128_GCM
 * profile (RFC 7714 section 11) keeps this PRF; its 96-bit master salt is
 * zero-padded on the right to the PRF's 112 bits, as libsrtp2 does, and only
 * 96 bits of session salt are kept.
 *
 * Threading: pure function of its inputs; safe on any thread.  Runs when a
 * context is created (control path): it allocates an OpenSSL context.
 */
#include "sfu_srtp.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* RFC 3711 4.3.1 / 4.3.2 labels. */
enum {
	KDF_LABEL_RTP_ENC = 0x00,
	KDF_LABEL_RTP_AUTH = 0x01,
	KDF_LABEL_RTP_SALT = 0x02,
	KDF_LABEL_RTCP_ENC = 0x03,
	KDF_LABEL_RTCP_AUTH = 0x04,
	KDF_LABEL_RTCP_SALT = 0x05,
};

size_t sfu_srtp_salt_len(enum sfu_srtp_profile profile)
{
	switch (profile) {
	case SFU_SRTP_AES128_CM_SHA1_80:
		return SFU_SRTP_SALT_LEN_CM;
	case SFU_SRTP_AEAD_AES_128_GCM:
		return SFU_SRTP_SALT_LEN_GCM;
	}
	return 0;
}

/*
 * One PRF output: key_id = label || r (56 bits, r = 0) is XORed into the low
 * 56 bits of the 112-bit salt, so the label lands on salt byte 7 (4.3.1); the
 * keystream of AES-CM from that IV (times 2^16) is the derived key (4.3.3).
 */
static int kdf_prf(EVP_CIPHER_CTX *c, const uint8_t salt14[SFU_SRTP_SALT_LEN_CM],
		   uint8_t label, uint8_t *out, int n)
{
	static const uint8_t zero[32];
	uint8_t iv[16] = { 0 };
	int outl;

	memcpy(iv, salt14, SFU_SRTP_SALT_LEN_CM);
	iv[7] ^= label;
	if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(c, out, &outl, zero, n) != 1 || outl != n)
		return -ENOMEM;
	return 0;
}

int sfu_srtp_derive_keys(enum sfu_srtp_profile profile, const uint8_t *key,
			 const uint8_t *salt, struct sfu_srtp_session_keys *out)
{
	size_t salt_len = sfu_srtp_salt_len(profile);
	uint8_t salt14[SFU_SRTP_SALT_LEN_CM] = { 0 };
	EVP_CIPHER_CTX *c;
	int rc = -ENOMEM;

	if (salt_len == 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memcpy(salt14, salt, salt_len);

	c = EVP_CIPHER_CTX_new();
	if (c == NULL)
		goto out;
	if (EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, key, NULL) != 1)
		goto out;

	/* Session salts are as long as the profile's master salt (14 or 12). */
	if (kdf_prf(c, salt14, KDF_LABEL_RTP_ENC, out->rtp_key, sizeof(out->rtp_key)) ||
	    kdf_prf(c, salt14, KDF_LABEL_RTP_SALT, out->rtp_salt, (int)salt_len) ||
	    kdf_prf(c, salt14, KDF_LABEL_RTCP_ENC, out->rtcp_key, sizeof(out->rtcp_key)) ||
	    kdf_prf(c, salt14, KDF_LABEL_RTCP_SALT, out->rtcp_salt, (int)salt_len))
		goto out;
	/* HMAC-SHA1 keys (160 bits, RFC 3711 8.2) only where the profile has them. */
	if (profile == SFU_SRTP_AES128_CM_SHA1_80 &&
	    (kdf_prf(c, salt14, KDF_LABEL_RTP_AUTH, out->rtp_auth, sizeof(out->rtp_auth)) ||
	     kdf_prf(c, salt14, KDF_LABEL_RTCP_AUTH, out->rtcp_auth, sizeof(out->rtcp_auth))))
		goto out;
	rc = 0;
out:
	if (rc != 0)
		OPENSSL_cleanse(out, sizeof(*out));
	OPENSSL_cleanse(salt14, sizeof(salt14));
	EVP_CIPHER_CTX_free(c);
	return rc;
}
