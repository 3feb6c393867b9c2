/*
 * sfu_rtp.h — RTP/RTCP parsing, rewriting and building, and the RFC 7983
 * first-byte demultiplexer, on plain byte buffers.
 *
 * Pure functions: no allocation, no state, no EAL; safe on any thread.  Every
 * parser bounds-checks against the given length and rejects malformed input
 * with a negative return (never reads past len).  Multi-byte fields are in
 * network byte order in the buffers and host order in the structs.
 */
#ifndef SFU_RTP_H
#define SFU_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 7983 section 7: the first byte of a UDP payload says what it is. */
enum sfu_pkt_class {
	SFU_PKT_UNKNOWN = 0,
	SFU_PKT_STUN,  /* 0..3 */
	SFU_PKT_DTLS,  /* 20..63 */
	SFU_PKT_RTP,   /* 128..191, second byte not an RTCP type */
	SFU_PKT_RTCP,  /* 128..191, second byte 192..223 (RFC 5761 section 4) */
};

/**
 * Classify a UDP payload (len 0 gives SFU_PKT_UNKNOWN).  RTP/RTCP need the
 * second byte, so a 1-byte payload in 128..191 is SFU_PKT_UNKNOWN too; ZRTP
 * (16..19) and TURN channels (64..79) are SFU_PKT_UNKNOWN here.
 */
enum sfu_pkt_class sfu_pkt_classify(const uint8_t *p, size_t len);

/* Parsed fixed RTP header (RFC 3550 5.1) plus the header extension (RFC 8285). */
struct sfu_rtp_info {
	uint16_t hdr_len;      /* fixed header + CSRCs + extension */
	uint8_t pt;
	bool marker;
	uint8_t cc;
	bool has_ext;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint16_t ext_profile;  /* 0xBEDE one-byte, 0x100x two-byte, else opaque */
	uint16_t ext_off;      /* offset of the extension data (after the 4-byte ext header) */
	uint16_t ext_len;      /* extension data length in bytes */
};

/**
 * Parse an RTP header.  Works on SRTP too (the header is not encrypted).
 * A header may end exactly at len (empty payload).
 * @return 0, or -EINVAL (not version 2, shorter than 12 bytes, CSRC list or
 *         extension running past len, len above 65535 -- no UDP payload is)
 */
int sfu_rtp_parse(const uint8_t *p, size_t len, struct sfu_rtp_info *ri);

/**
 * Overwrite payload type (keeping the marker bit; pt's top bit is ignored),
 * sequence, timestamp and SSRC.  p must hold at least the 12-byte fixed header.
 */
void sfu_rtp_rewrite(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc);

/**
 * Find header extension element `id` (RFC 8285 one-byte or two-byte form).
 * ri must come from sfu_rtp_parse() on the same buffer.  The first element
 * with that id wins; elements are walked up to it, so a malformed element
 * after it is not seen.  Id 0 (padding), id 15 and above in the one-byte form,
 * no extension and an opaque (non-RFC 8285) profile all give -ENOENT.
 * @return 0 with *data and *len set, -ENOENT when absent, -EINVAL when malformed
 */
int sfu_rtp_ext_find(const uint8_t *p, const struct sfu_rtp_info *ri, uint8_t id,
		     const uint8_t **data, size_t *len);

/**
 * Payload length after removing RTP padding (RFC 3550 5.1 P bit); call on
 * decrypted packets only.  @return payload length, or -EINVAL on bad padding.
 */
int sfu_rtp_payload_len(const uint8_t *p, size_t len, const struct sfu_rtp_info *ri);

/* RTCP packet types (RFC 3550, RFC 4585). */
enum {
	SFU_RTCP_SR = 200,
	SFU_RTCP_RR = 201,
	SFU_RTCP_SDES = 202,
	SFU_RTCP_BYE = 203,
	SFU_RTCP_APP = 204,
	SFU_RTCP_RTPFB = 205, /* FMT 1 generic NACK, 15 transport-wide CC */
	SFU_RTCP_PSFB = 206,  /* FMT 1 PLI, 4 FIR, 15 application layer (REMB) */
};
#define SFU_RTCP_FMT_NACK 1
#define SFU_RTCP_FMT_PLI 1
#define SFU_RTCP_FMT_FIR 4

/* One packet inside a compound RTCP packet. */
struct sfu_rtcp_pkt {
	uint8_t pt;
	uint8_t fmt;           /* count / FMT field (5 bits) */
	uint16_t off;          /* offset of this packet in the compound */
	uint16_t len;          /* bytes, header included ((length + 1) * 4) */
	uint32_t sender_ssrc;  /* bytes 4..7 (0 if the packet is shorter) */
	uint32_t media_ssrc;   /* bytes 8..11 for RTPFB/PSFB, else 0 */
};

/**
 * Validate a compound RTCP packet (RFC 3550 A.2, relaxed for RFC 5506
 * reduced-size: any first type allowed): every part version 2, lengths
 * exactly cover len, padding only on the last part (and its count 1..length
 * of that part's body).  Per-type contents are checked by the accessors below.
 * @return number of packets (> 0) or -EINVAL (also for len 0 or above 65535)
 */
int sfu_rtcp_validate(const uint8_t *p, size_t len);

/**
 * Iterate a compound packet already validated.  *off starts at 0.
 * @return 1 with *pkt filled and *off advanced, 0 at the end, -EINVAL if malformed
 */
int sfu_rtcp_next(const uint8_t *p, size_t len, size_t *off, struct sfu_rtcp_pkt *pkt);

/*
 * The accessors below that take (p, pkt) read only p[pkt->off, pkt->off +
 * pkt->len), so pkt must come from sfu_rtcp_next() on the same compound p;
 * they check the type and FMT in pkt and ignore RTCP padding (RFC 3550 6.4.1).
 */

/* Sender report fields (RFC 3550 6.4.1). */
struct sfu_rtcp_sr {
	uint32_t ssrc;
	uint64_t ntp;
	uint32_t rtp_ts;
	uint32_t pkt_count;
	uint32_t octet_count;
};
/**
 * Parse the SR at p (e.g. compound + pkt.off, len = pkt.len or the rest of
 * the compound): version 2, type 200, its length field within len and, less
 * any padding, holding the 28-byte sender part and RC report blocks.
 * @return 0 or -EINVAL.
 */
int sfu_rtcp_sr_parse(const uint8_t *p, size_t len, struct sfu_rtcp_sr *sr);
/** Write a 28-byte SR with no report blocks; @return bytes written (28). */
size_t sfu_rtcp_sr_build(uint8_t *buf, const struct sfu_rtcp_sr *sr);

/** Write a PLI (RFC 4585 6.3.1); @return bytes written (12). */
size_t sfu_rtcp_pli_build(uint8_t *buf, uint32_t sender_ssrc, uint32_t media_ssrc);
/** Write a FIR with one FCI entry (RFC 5104 4.3.1); @return bytes written (20). */
size_t sfu_rtcp_fir_build(uint8_t *buf, uint32_t sender_ssrc, uint32_t media_ssrc,
			  uint8_t seq_nr);
/** FIR: the SSRC and sequence number of FCI entry i; @return 0 or -EINVAL. */
int sfu_rtcp_fir_entry(const uint8_t *p, const struct sfu_rtcp_pkt *pkt, unsigned int i,
		       uint32_t *ssrc, uint8_t *seq_nr);

/**
 * Rewrite a generic NACK (RFC 4585 6.2.1) in place for the publisher's leg:
 * media SSRC := media_ssrc, every PID := PID - seq_delta (mod 2^16); BLPs are
 * relative and stay.  The sender SSRC := sender_ssrc.  @return 0 or -EINVAL.
 */
int sfu_rtcp_nack_rewrite(uint8_t *p, const struct sfu_rtcp_pkt *pkt,
			  uint32_t sender_ssrc, uint32_t media_ssrc, uint16_t seq_delta);

/**
 * Write a generic NACK with n (PID, BLP) pairs; @return bytes written
 * (12 + 4 * n), or 0 (nothing written) when n is 0 or above
 * SFU_RTCP_NACK_MAX_PAIRS (RFC 4585 6.2.1 requires at least one FCI entry).
 */
size_t sfu_rtcp_nack_build(uint8_t *buf, uint32_t sender_ssrc, uint32_t media_ssrc,
			   const uint16_t *pid, const uint16_t *blp, unsigned int n);
#define SFU_RTCP_NACK_MAX_PAIRS 65533u /* 16-bit length field: 2 + n words */

/* ---- Additions (beyond the first interface) ---- */

/** Generic NACK: PID and BLP of FCI entry i (RFC 4585 6.2.1); @return 0 or -EINVAL. */
int sfu_rtcp_nack_entry(const uint8_t *p, const struct sfu_rtcp_pkt *pkt, unsigned int i,
			uint16_t *pid, uint16_t *blp);

/* One reception report block of an SR or RR (RFC 3550 6.4.1), host order. */
struct sfu_rtcp_rb {
	uint32_t ssrc;          /* source this block reports on */
	uint8_t fraction_lost;  /* fixed point, /256 */
	int32_t cum_lost;       /* 24-bit signed on the wire */
	uint32_t ext_high_seq;  /* cycles << 16 | highest sequence received */
	uint32_t jitter;
	uint32_t lsr;           /* middle 32 bits of the last SR's NTP time */
	uint32_t dlsr;          /* delay since that SR, 1/65536 s */
};
#define SFU_RTCP_MAX_RB 31 /* the 5-bit RC field */

/** Report block i of an SR or RR; @return 0, or -EINVAL (other type, i >= RC, past the packet). */
int sfu_rtcp_rb_get(const uint8_t *p, const struct sfu_rtcp_pkt *pkt, unsigned int i,
		    struct sfu_rtcp_rb *rb);

/**
 * Write an RR (RFC 3550 6.4.2) from `ssrc` with n report blocks; cum_lost is
 * clamped to the 24-bit signed range.  n may be 0 (the empty RR that starts a
 * compound).  @return bytes written (8 + 24 * n), or 0 when n > SFU_RTCP_MAX_RB.
 */
size_t sfu_rtcp_rr_build(uint8_t *buf, uint32_t ssrc, const struct sfu_rtcp_rb *rb,
			 unsigned int n);

#define SFU_RTCP_FMT_REMB 15 /* PSFB application layer FB carrying "REMB" */
#define SFU_RTCP_FMT_TWCC 15 /* RTPFB transport-wide congestion control */

/**
 * Parse a REMB (draft-alvestrand-rmcat-remb-03 2.2: PSFB FMT 15, "REMB",
 * Num SSRC, 6-bit exponent, 18-bit mantissa, SSRC list).  *bitrate gets
 * mantissa << exp in bit/s, saturated at UINT64_MAX; up to max_ssrcs SSRCs are
 * copied to ssrcs (may be NULL when max_ssrcs is 0).
 * @return the number of SSRCs the packet lists (>= 0), or -EINVAL (not a REMB,
 *         SSRC list past the packet)
 */
int sfu_rtcp_remb_parse(const uint8_t *p, const struct sfu_rtcp_pkt *pkt, uint64_t *bitrate,
			uint32_t *ssrcs, unsigned int max_ssrcs);

/**
 * Write a REMB for n SSRCs (media SSRC 0).  The bitrate is rounded down to
 * what the 18-bit mantissa can carry.  @return bytes written (20 + 4 * n), or
 * 0 when n > 255.
 */
size_t sfu_rtcp_remb_build(uint8_t *buf, uint32_t sender_ssrc, uint64_t bitrate,
			   const uint32_t *ssrcs, unsigned int n);

#endif /* SFU_RTP_H */
