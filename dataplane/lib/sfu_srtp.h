/*
 * sfu_srtp.h — the data plane's SRTP/SRTCP implementation on OpenSSL EVP.
 *
 * Profiles: AES_CM_128_HMAC_SHA1_80 (RFC 3711) and AEAD_AES_128_GCM (RFC 7714).
 * Output is byte-identical to libsrtp2 for the same keys and packets
 * (tests/unit/test_srtp.c checks it).
 *
 * Model: a context (struct sfu_srtp_ctx) holds one direction of one session:
 * the session keys derived from the master key/salt (RFC 3711 4.3, key
 * derivation rate 0) and the reused OpenSSL cipher/MAC state.  Per-SSRC state
 * (rollover counter, highest sequence, replay window, SRTCP index) lives in a
 * struct sfu_srtp_stream the caller owns and embeds in its own tables (the
 * producer for inbound media, the consumer for outbound media), so there is no
 * allocation and no lookup on the fast path.
 *
 * Threading: a context and its streams are used by one thread at a time (the
 * lcore that owns the transport).  create/free may allocate; protect/unprotect
 * never allocate, lock, or make syscalls.
 */
#ifndef SFU_SRTP_H
#define SFU_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Values are the DTLS-SRTP protection profile ids (RFC 5764 4.1.2, RFC 7714 14.2). */
enum sfu_srtp_profile {
	SFU_SRTP_AES128_CM_SHA1_80 = 0x0001,
	SFU_SRTP_AEAD_AES_128_GCM = 0x0007,
};

#define SFU_SRTP_MASTER_KEY_LEN 16
#define SFU_SRTP_SALT_LEN_CM 14
#define SFU_SRTP_SALT_LEN_GCM 12
#define SFU_SRTP_MAX_KEYING_LEN (SFU_SRTP_MASTER_KEY_LEN + SFU_SRTP_SALT_LEN_CM)
/* Most bytes protect may append: RTP: GCM tag 16 / HMAC tag 10;
 * RTCP: tag + 4-byte E||SRTCP index. */
#define SFU_SRTP_MAX_TRAILER 20
#define SFU_SRTP_REPLAY_WINDOW 128

/* Return codes of unprotect/protect (negative), mirroring libsrtp2's separate
 * auth (7), replay (9) and replay_old (10) failures. */
enum sfu_srtp_err {
	SFU_SRTP_OK = 0,
	SFU_SRTP_ERR_TRUNCATED = -1,  /* shorter than header + tag, or bad header */
	SFU_SRTP_ERR_AUTH = -2,       /* tag mismatch */
	SFU_SRTP_ERR_REPLAY = -3,     /* index already seen inside the window */
	SFU_SRTP_ERR_REPLAY_OLD = -4, /* index older than the window */
	SFU_SRTP_ERR_INTERNAL = -5,   /* OpenSSL refused (never expected), or a
				       * length beyond SFU_SRTP_MAX_PKT (caller bug) */
};

/* Longest packet protect/unprotect accept (before protect appends its trailer):
 * anything longer is no UDP datagram and is refused with SFU_SRTP_ERR_INTERNAL. */
#define SFU_SRTP_MAX_PKT (65535 - SFU_SRTP_MAX_TRAILER)

struct sfu_srtp_ctx;

/* Per-SSRC state of one direction.  Zero it (sfu_srtp_stream_init) when the
 * SSRC is created; the first packet seen sets the starting index. */
struct sfu_srtp_stream {
	uint32_t roc;          /* rollover counter (RFC 3711 3.3.1) */
	uint16_t s_l;          /* highest sequence number seen / sent */
	bool rtp_started;      /* s_l and roc valid */
	bool rtcp_started;     /* rtcp_hi valid */
	uint64_t rtp_window[SFU_SRTP_REPLAY_WINDOW / 64];  /* bit i = index (hi - i) seen */
	uint64_t rtp_hi;       /* highest 48-bit index accepted */
	uint32_t rtcp_index;   /* outbound: next SRTCP index; inbound: highest seen */
	uint64_t rtcp_window[SFU_SRTP_REPLAY_WINDOW / 64];
};

/**
 * Derive session keys and prepare cipher state for one direction of a session.
 * @param profile  SFU_SRTP_AES128_CM_SHA1_80 or SFU_SRTP_AEAD_AES_128_GCM
 * @param key      16-byte master key
 * @param salt     master salt: 14 bytes (CM) or 12 bytes (GCM)
 * @return a context, or NULL (bad profile, or OpenSSL failure)
 */
struct sfu_srtp_ctx *sfu_srtp_ctx_create(enum sfu_srtp_profile profile,
					 const uint8_t *key, const uint8_t *salt);
/** Free a context (NULL is a no-op); its key material is wiped first. */
void sfu_srtp_ctx_free(struct sfu_srtp_ctx *ctx);

/* Session keys of one direction, as derived by RFC 3711 4.3 (labels 0..5).
 * GCM uses 12 of the 14 salt bytes (the rest zero) and no auth keys. */
struct sfu_srtp_session_keys {
	uint8_t rtp_key[SFU_SRTP_MASTER_KEY_LEN];
	uint8_t rtp_salt[SFU_SRTP_SALT_LEN_CM];
	uint8_t rtp_auth[20];
	uint8_t rtcp_key[SFU_SRTP_MASTER_KEY_LEN];
	uint8_t rtcp_salt[SFU_SRTP_SALT_LEN_CM];
	uint8_t rtcp_auth[20];
};

/**
 * Run the AES-CM key derivation (RFC 3711 4.3.1/4.3.3, key derivation rate 0)
 * for one master key/salt.  sfu_srtp_ctx_create() does this itself; exposed for
 * known-answer tests (RFC 3711 B.3).  May allocate.
 * @param profile  SFU_SRTP_AES128_CM_SHA1_80 or SFU_SRTP_AEAD_AES_128_GCM
 * @param key      16-byte master key
 * @param salt     master salt: 14 bytes (CM) or 12 bytes (GCM)
 * @param out      the six session keys
 * @return 0, or -EINVAL (bad profile), -ENOMEM (OpenSSL failure)
 */
int sfu_srtp_derive_keys(enum sfu_srtp_profile profile, const uint8_t *key,
			 const uint8_t *salt, struct sfu_srtp_session_keys *out);

/**
 * Like sfu_srtp_ctx_create() but from session keys already derived (RFC 7714
 * section 16/17 test vectors give session keys).
 * @return a context, or NULL (bad profile, or OpenSSL failure)
 */
struct sfu_srtp_ctx *sfu_srtp_ctx_create_session(enum sfu_srtp_profile profile,
						 const struct sfu_srtp_session_keys *keys);

/** The profile a context was created with. */
enum sfu_srtp_profile sfu_srtp_ctx_profile(const struct sfu_srtp_ctx *ctx);
/** Salt length for a profile (14 or 12), 0 for an unknown profile. */
size_t sfu_srtp_salt_len(enum sfu_srtp_profile profile);
/** Bytes protect appends to an RTP packet (10 or 16). */
size_t sfu_srtp_rtp_trailer_len(const struct sfu_srtp_ctx *ctx);

/** Reset per-SSRC state (all zero: ROC 0, nothing seen, SRTCP index 0). */
void sfu_srtp_stream_init(struct sfu_srtp_stream *s);

/**
 * Protect an RTP packet whose header (hdr_len bytes, CSRCs and extension
 * included, already final) is at pkt.  The plaintext payload is read from
 * payload (which may be pkt + hdr_len for in-place, or another buffer for
 * out-of-place encryption straight into a new packet); the ciphertext is
 * written at pkt + hdr_len and the tag after it.  The caller guarantees room
 * for hdr_len + payload_len + SFU_SRTP_MAX_TRAILER bytes at pkt.
 * SSRC and sequence number are read from the header; hdr_len must be the
 * length the header itself gives (12 + 4 * CC [+ extension]), else
 * SFU_SRTP_ERR_TRUNCATED.  A repeated sequence number is not refused (as
 * libsrtp2 with allow_repeat_tx): resend only identical payloads under it.
 * @return total SRTP packet length (> 0) or a negative enum sfu_srtp_err
 */
int sfu_srtp_protect_rtp(struct sfu_srtp_ctx *ctx, struct sfu_srtp_stream *s,
			 uint8_t *pkt, size_t hdr_len,
			 const uint8_t *payload, size_t payload_len);

/**
 * Authenticate, replay-check and decrypt an SRTP packet in place.
 * @param len      whole SRTP packet length (header + ciphertext + tag)
 * @param hdr_len  RTP header length as parsed by the caller
 * @param out_len  on success, the RTP packet length without the tag
 * @return SFU_SRTP_OK or a negative enum sfu_srtp_err; on failure the packet
 *         bytes and the stream state are unchanged
 */
int sfu_srtp_unprotect_rtp(struct sfu_srtp_ctx *ctx, struct sfu_srtp_stream *s,
			   uint8_t *pkt, size_t len, size_t hdr_len,
			   size_t *out_len);

/**
 * Protect a (compound) RTCP packet in place: encrypt after the first 8 bytes,
 * append E||SRTCP index and the tag.  The index comes from s->rtcp_index,
 * which is incremented (mod 2^31); a zeroed stream sends index 0 first as
 * RFC 3711 3.4 says (libsrtp2 sends 1 first).  Room for len +
 * SFU_SRTP_MAX_TRAILER bytes required.
 * @return SRTCP length (> 0) or a negative enum sfu_srtp_err
 */
int sfu_srtp_protect_rtcp(struct sfu_srtp_ctx *ctx, struct sfu_srtp_stream *s,
			  uint8_t *pkt, size_t len);

/**
 * Authenticate, replay-check and decrypt an SRTCP packet in place.
 * The stream is the one of the sender SSRC (bytes 4..7).  A packet with the
 * E bit clear (authenticated, not encrypted; RFC 3711 3.4) is accepted too.
 * @return SFU_SRTP_OK with *out_len = RTCP length, or a negative enum
 *         sfu_srtp_err; on failure the packet bytes and the stream state are
 *         unchanged
 */
int sfu_srtp_unprotect_rtcp(struct sfu_srtp_ctx *ctx, struct sfu_srtp_stream *s,
			    uint8_t *pkt, size_t len, size_t *out_len);

#endif /* SFU_SRTP_H */
