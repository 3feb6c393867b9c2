/*
 * sfu-client-media.h — the test client's media: RTP packets (RFC 3550) with a
 * MID header extension (RFC 8285 one-byte form, RFC 8843 sdes:mid), payloads a
 * receiver can verify byte for byte, and libsrtp2 sessions for the DTLS-SRTP
 * profiles (RFC 5764 4.1.2: 0x0001 AES_CM_128_HMAC_SHA1_80 of RFC 3711, 0x0007
 * AEAD_AES_128_GCM of RFC 7714).
 *
 * Payload pattern (after a 1-byte VP8 payload descriptor for video, RFC 7741
 * 4.2, so the packet looks like VP8 to anything that peeks):
 *   0  "SFUC"                     magic
 *   4  tag (32-bit, big-endian)   FNV-1a of "DISPLAYNAME/KIND" of the producer
 *   8  counter (32-bit)           per producer, +1 per packet
 *   12 length (16-bit)            bytes of the pattern, header included
 *   14 bytes from SplitMix64 seeded with (tag, counter)
 * The receiver knows the producer's display name and kind from signaling, so it
 * checks that media came from the producer it consumes, not only that it is intact,
 * without knowing the sender's SSRC (the SFU gives each consumer its own).
 *
 * Pure functions on caller buffers (static inline, header-only so a unit test can
 * include it); no state, any thread.  libsrtp2 must be initialised (srtp_init)
 * before cm_srtp_session().
 */
#ifndef SFU_CLIENT_MEDIA_H
#define SFU_CLIENT_MEDIA_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <srtp2/srtp.h>

#define CM_MAGIC 0x53465543u /* "SFUC" */
#define CM_PATTERN_HDR 14
#define CM_RTP_HDR 12
#define CM_RTP_MAX 1500
#define CM_PROFILE_CM 0x0001 /* SRTP_AES128_CM_HMAC_SHA1_80 */
#define CM_PROFILE_GCM 0x0007 /* SRTP_AEAD_AES_128_GCM */

static inline void cm_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void cm_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t cm_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t cm_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* FNV-1a over "name/kind": the producer's tag. */
static inline uint32_t cm_tag(const char *name, const char *kind)
{
	uint32_t h = 2166136261u;
	const char *s;

	for (s = name; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (s = kind; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* SplitMix64 step: small and well mixed; the same on both ends. */
static inline uint64_t cm_mix_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint8_t cm_pattern_byte(uint64_t *state, uint64_t *word, size_t i)
{
	if (i % 8 == 0)
		*word = cm_mix_next(state);
	return (uint8_t)(*word >> (8 * (i % 8)));
}

/**
 * Write the pattern of packet `counter` of the producer `tag`.
 * @return 0, or -EINVAL when len is below the header or above 65535
 */
static inline int cm_pattern_fill(uint8_t *p, size_t len, uint32_t tag, uint32_t counter)
{
	uint64_t state = (uint64_t)tag << 32 | counter, word = 0;
	size_t i;

	if (len < CM_PATTERN_HDR || len > UINT16_MAX)
		return -EINVAL;
	cm_put32(p, CM_MAGIC);
	cm_put32(p + 4, tag);
	cm_put32(p + 8, counter);
	cm_put16(p + 12, (uint16_t)len);
	for (i = CM_PATTERN_HDR; i < len; i++)
		p[i] = cm_pattern_byte(&state, &word, i - CM_PATTERN_HDR);
	return 0;
}

/**
 * Check a received pattern against the expected producer tag; every byte.
 * @return 0 (counter in *counter), -EBADMSG for a malformed or altered payload,
 *         -EXDEV for an intact payload of another producer
 */
static inline int cm_pattern_check(const uint8_t *p, size_t len, uint32_t tag,
				   uint32_t *counter)
{
	uint64_t state, word = 0;
	uint32_t got_tag;
	size_t i;

	if (len < CM_PATTERN_HDR || cm_get32(p) != CM_MAGIC || cm_get16(p + 12) != len)
		return -EBADMSG;
	got_tag = cm_get32(p + 4);
	*counter = cm_get32(p + 8);
	state = (uint64_t)got_tag << 32 | *counter;
	for (i = CM_PATTERN_HDR; i < len; i++)
		if (p[i] != cm_pattern_byte(&state, &word, i - CM_PATTERN_HDR))
			return -EBADMSG;
	return got_tag == tag ? 0 : -EXDEV;
}

/* What one outgoing packet carries (RFC 3550 5.1). */
struct cm_rtp_out {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts, ssrc;
	uint8_t mid_id;  /* 0: no MID extension */
	const char *mid; /* 1-16 characters */
	uint8_t level_id; /* 0: no ssrc-audio-level extension (RFC 6464) */
	uint8_t level;    /* its byte: V (0x80) | level in -dBov */
	bool vp8;        /* prefix the pattern with a VP8 payload descriptor */
	bool vp8_start;  /* S bit: first packet of the frame */
	uint32_t tag, counter;
	size_t pattern_len;
};

/**
 * Build an RTP packet into buf (cap must leave SRTP_MAX_TRAILER_LEN for srtp_protect).
 * @return its length, or -EINVAL
 */
static inline int cm_rtp_build(uint8_t *buf, size_t cap, const struct cm_rtp_out *o)
{
	size_t mid_len = o->mid_id != 0 ? strlen(o->mid) : 0;
	size_t ext_bytes = (mid_len != 0 ? 1 + mid_len : 0) + (o->level_id != 0 ? 2 : 0);
	size_t ext_words = (ext_bytes + 3) / 4;
	size_t off = CM_RTP_HDR, total;

	if (o->mid_id > 14 || mid_len > 16 || (o->mid_id != 0 && mid_len == 0) ||
	    o->level_id > 14)
		return -EINVAL;
	total = CM_RTP_HDR + (ext_words ? 4 + 4 * ext_words : 0) + (o->vp8 ? 1 : 0) +
		o->pattern_len;
	if (total + SRTP_MAX_TRAILER_LEN > cap || total > CM_RTP_MAX)
		return -EINVAL;
	buf[0] = (uint8_t)(0x80 | (ext_words ? 0x10 : 0));
	buf[1] = (uint8_t)((o->marker ? 0x80 : 0) | (o->pt & 0x7f));
	cm_put16(buf + 2, o->seq);
	cm_put32(buf + 4, o->ts);
	cm_put32(buf + 8, o->ssrc);
	if (ext_words != 0) {
		/* RFC 8285 4.2: 0xBEDE, length in words, then ID (4 bits) | len - 1 (4 bits). */
		cm_put16(buf + off, 0xBEDE);
		cm_put16(buf + off + 2, (uint16_t)ext_words);
		size_t e = off + 4;

		memset(buf + off + 4, 0, 4 * ext_words);
		if (mid_len != 0) {
			buf[e] = (uint8_t)(o->mid_id << 4 | (mid_len - 1));
			memcpy(buf + e + 1, o->mid, mid_len);
			e += 1 + mid_len;
		}
		if (o->level_id != 0) {
			/* RFC 6464 3: one byte, so the length field is 0. */
			buf[e] = (uint8_t)(o->level_id << 4);
			buf[e + 1] = o->level;
		}
		off += 4 + 4 * ext_words;
	}
	if (o->vp8)
		buf[off++] = o->vp8_start ? 0x10 : 0x00; /* RFC 7741 4.2: S bit, PID 0 */
	if (cm_pattern_fill(buf + off, o->pattern_len, o->tag, o->counter) != 0)
		return -EINVAL;
	return (int)total;
}

/* A parsed (decrypted) RTP packet: payload points into the caller's buffer. */
struct cm_rtp_in {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts, ssrc;
	const uint8_t *payload;
	size_t payload_len;
};

/** Parse an RTP packet (CSRCs, extension and padding skipped). @return 0 or -EBADMSG */
static inline int cm_rtp_parse(const uint8_t *p, size_t len, struct cm_rtp_in *r)
{
	size_t off = CM_RTP_HDR + 4 * (size_t)(p[0] & 0x0f), pad = 0;

	if (len < CM_RTP_HDR || (p[0] & 0xc0) != 0x80 || off > len)
		return -EBADMSG;
	if (p[0] & 0x10) {
		if (off + 4 > len)
			return -EBADMSG;
		off += 4 + 4 * (size_t)cm_get16(p + off + 2);
		if (off > len)
			return -EBADMSG;
	}
	if (p[0] & 0x20) {
		pad = len > off ? p[len - 1] : 0;
		if (pad == 0 || off + pad > len)
			return -EBADMSG;
	}
	r->marker = (p[1] & 0x80) != 0;
	r->pt = p[1] & 0x7f;
	r->seq = cm_get16(p + 2);
	r->ts = cm_get32(p + 4);
	r->ssrc = cm_get32(p + 8);
	r->payload = p + off;
	r->payload_len = len - off - pad;
	return 0;
}

/** RTCP rather than RTP on a muxed port (RFC 5761 4: packet type 192-223). */
static inline bool cm_is_rtcp(const uint8_t *p, size_t len)
{
	return len >= 2 && p[1] >= 192 && p[1] <= 223;
}

/** Master key || salt length of a DTLS-SRTP profile, or 0 when unsupported. */
static inline size_t cm_key_len(uint16_t profile)
{
	return profile == CM_PROFILE_GCM ? 16 + 12 : profile == CM_PROFILE_CM ? 16 + 14 : 0;
}

/**
 * A libsrtp2 session for one direction of a transport: any outbound SSRC (we
 * protect with our key) or any inbound SSRC (the SFU's key).
 * @return 0, or -EINVAL for an unknown profile, -EIO when libsrtp2 refuses
 */
static inline int cm_srtp_session(srtp_t *out, uint16_t profile, const uint8_t *key,
				  bool inbound)
{
	uint8_t key_copy[SRTP_MAX_KEY_LEN];
	srtp_policy_t pol;

	if (cm_key_len(profile) == 0)
		return -EINVAL;
	memset(&pol, 0, sizeof(pol));
	if (profile == CM_PROFILE_GCM) {
		/* RFC 7714: 16-byte key, 12-byte salt, 16-byte tag. */
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
	} else {
		srtp_crypto_policy_set_rtp_default(&pol.rtp);
		srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
	}
	memcpy(key_copy, key, cm_key_len(profile));
	pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	pol.key = key_copy;
	pol.window_size = 1024;
	pol.next = NULL;
	return srtp_create(out, &pol) == srtp_err_status_ok ? 0 : -EIO;
}

/*
 * The shape of synthetic video: fps frames per second of `packets` RTP packets
 * whose patterns are pattern_len bytes (the frame's last: last_len).  kbps 0
 * is sfu-client's historical shape (30 frames of 1000 + 1000 + 900 bytes,
 * ~0.7 Mbit/s); otherwise the frame is split into packets of at most
 * CM_VIDEO_PATTERN_MAX pattern bytes (~1200-byte RTP packets, as browsers
 * packetise VP8 under the usual 1200-byte MTU budget).
 */
#define CM_VIDEO_FPS 30
#define CM_VIDEO_PATTERN_MAX 1180

struct cm_video_plan {
	uint32_t fps, packets;
	size_t pattern_len, last_len;
};

/** The plan for kbps (0: the historical shape; 1..1000000 kbit/s of pattern bytes). */
static inline void cm_video_plan_for(uint32_t kbps, struct cm_video_plan *p)
{
	size_t frame;

	p->fps = CM_VIDEO_FPS;
	if (kbps == 0) {
		p->packets = 3;
		p->pattern_len = 1000;
		p->last_len = 900;
		return;
	}
	if (kbps > 1000000)
		kbps = 1000000;
	frame = (size_t)kbps * 125 / CM_VIDEO_FPS;
	if (frame < CM_PATTERN_HDR)
		frame = CM_PATTERN_HDR;
	p->packets = (uint32_t)((frame + CM_VIDEO_PATTERN_MAX - 1) / CM_VIDEO_PATTERN_MAX);
	p->pattern_len = frame / p->packets;
	if (p->pattern_len < CM_PATTERN_HDR)
		p->pattern_len = CM_PATTERN_HDR;
	p->last_len = frame - (size_t)(p->packets - 1) * p->pattern_len;
	if (p->last_len < CM_PATTERN_HDR)
		p->last_len = CM_PATTERN_HDR;
}

#endif /* SFU_CLIENT_MEDIA_H */
