/*
 * sfu_rtcp.c — RTCP half of sfu_rtp.h: compound validation and iteration
 * (RFC 3550 6.1, A.2; RFC 5506 reduced-size), SR/RR (RFC 3550 6.4), PLI and
 * generic NACK (RFC 4585 6.3.1, 6.2.1), FIR (RFC 5104 4.3.1) and REMB
 * (draft-alvestrand-rmcat-remb-03) builders and accessors, and the NACK
 * rewrite that maps a subscriber's NACK onto the publisher's leg.
 *
 * Threading: pure functions on caller buffers — no state, no allocation, no
 * locks, no EAL; callable from any thread, including the lcore fast path.
 * Parsers check every read against the length given (or, for accessors taking
 * a struct sfu_rtcp_pkt, against the packet sfu_rtcp_next() delimited).
 * Builders write exactly the byte count they return; the caller sizes buf.
 */
#include <errno.h>

#include "sfu_bytes.h"
#include "sfu_rtp.h"

#define RTCP_VERSION 2
#define RTCP_HDR_LEN 4
#define RTCP_MAX_LEN 65535u     /* largest UDP payload there could be */
#define RTCP_SR_LEN 28          /* header, SSRC, 20-byte sender info */
#define RTCP_RR_LEN 8           /* header, SSRC */
#define RTCP_RB_LEN 24          /* one report block */
#define RTCP_FB_LEN 12          /* header, sender SSRC, media SSRC (RFC 4585 6.1) */
#define RTCP_FIR_FCI_LEN 8      /* SSRC, seq nr, 3 reserved (RFC 5104 4.3.1.1) */
#define RTCP_NACK_FCI_LEN 4     /* PID, BLP (RFC 4585 6.2.1) */
#define RTCP_REMB_FIXED_LEN 20  /* FB header, "REMB", num/exp/mantissa */
#define RTCP_REMB_MAX_SSRCS 255 /* 8-bit Num SSRC */
#define RTCP_REMB_MANTISSA_BITS 18
#define RTCP_CUM_LOST_MAX 0x7fffff
#define RTCP_CUM_LOST_MIN (-0x800000)


/* RFC 3550 6.4.1: V=2, P, 5-bit count/FMT, packet type, length in words - 1. */
static void hdr_write(uint8_t *buf, uint8_t count, uint8_t pt, size_t len)
{
	buf[0] = (uint8_t)(RTCP_VERSION << 6 | (count & 0x1f));
	buf[1] = pt;
	wr16(buf + 2, (uint16_t)(len / 4 - 1));
}

/*
 * Bytes of one RTCP packet of plen bytes at hdr that are not padding
 * (RFC 3550 6.4.1: with P set, the last octet counts the padding octets,
 * itself included; it may not reach into the 4-byte header).
 * @return the content length, or -EINVAL on a bad padding count
 */
static int content_len(const uint8_t *hdr, size_t plen)
{
	size_t pad;

	if (!(hdr[0] & 0x20))
		return (int)plen;
	pad = hdr[plen - 1];
	if (pad == 0 || pad > plen - RTCP_HDR_LEN)
		return -EINVAL;
	return (int)(plen - pad);
}

/*
 * Start and content length of the packet pkt delimits, after checking that
 * it has type pt (and FMT fmt unless fmt < 0) and at least min bytes.
 */
static int pkt_body(const uint8_t *p, const struct sfu_rtcp_pkt *pkt, uint8_t pt, int fmt,
		    size_t min, const uint8_t **start)
{
	int clen;

	if (pkt->pt != pt || (fmt >= 0 && pkt->fmt != fmt) || pkt->len < RTCP_HDR_LEN)
		return -EINVAL;
	*start = p + pkt->off;
	clen = content_len(*start, pkt->len);
	if (clen < 0 || (size_t)clen < min)
		return -EINVAL;
	return clen;
}

int sfu_rtcp_validate(const uint8_t *p, size_t len)
{
	size_t off = 0;
	int n = 0;

	if (len == 0 || len > RTCP_MAX_LEN)
		return -EINVAL;
	/* RFC 3550 A.2: walk the length fields; they must land exactly on len. */
	while (off < len) {
		const uint8_t *h = p + off;
		size_t plen;

		if (len - off < RTCP_HDR_LEN || h[0] >> 6 != RTCP_VERSION)
			return -EINVAL;
		plen = 4u * ((size_t)rd16(h + 2) + 1);
		if (plen > len - off)
			return -EINVAL;
		/* Padding only on the last packet of the compound (RFC 3550 6.4.1). */
		if (h[0] & 0x20) {
			if (off + plen != len || content_len(h, plen) < 0)
				return -EINVAL;
		}
		off += plen;
		n++;
	}
	return n;
}

int sfu_rtcp_next(const uint8_t *p, size_t len, size_t *off, struct sfu_rtcp_pkt *pkt)
{
	const uint8_t *h;
	size_t plen;

	if (*off == len)
		return 0;
	if (len > RTCP_MAX_LEN || *off > len || len - *off < RTCP_HDR_LEN)
		return -EINVAL;
	h = p + *off;
	if (h[0] >> 6 != RTCP_VERSION)
		return -EINVAL;
	plen = 4u * ((size_t)rd16(h + 2) + 1);
	if (plen > len - *off)
		return -EINVAL;

	pkt->pt = h[1];
	pkt->fmt = h[0] & 0x1f;
	pkt->off = (uint16_t)*off;
	pkt->len = (uint16_t)plen;
	pkt->sender_ssrc = plen >= 8 ? rd32(h + 4) : 0;
	pkt->media_ssrc = 0;
	if ((pkt->pt == SFU_RTCP_RTPFB || pkt->pt == SFU_RTCP_PSFB) && plen >= RTCP_FB_LEN)
		pkt->media_ssrc = rd32(h + 8);
	*off += plen;
	return 1;
}

int sfu_rtcp_sr_parse(const uint8_t *p, size_t len, struct sfu_rtcp_sr *sr)
{
	size_t plen;
	int clen;

	if (len < RTCP_SR_LEN || p[0] >> 6 != RTCP_VERSION || p[1] != SFU_RTCP_SR)
		return -EINVAL;
	plen = 4u * ((size_t)rd16(p + 2) + 1);
	if (plen > len)
		return -EINVAL;
	clen = content_len(p, plen);
	/* RFC 3550 6.4.1: sender info, then RC report blocks, all inside the length. */
	if (clen < 0 || (size_t)clen < RTCP_SR_LEN + RTCP_RB_LEN * (size_t)(p[0] & 0x1f))
		return -EINVAL;

	sr->ssrc = rd32(p + 4);
	sr->ntp = (uint64_t)rd32(p + 8) << 32 | rd32(p + 12);
	sr->rtp_ts = rd32(p + 16);
	sr->pkt_count = rd32(p + 20);
	sr->octet_count = rd32(p + 24);
	return 0;
}

size_t sfu_rtcp_sr_build(uint8_t *buf, const struct sfu_rtcp_sr *sr)
{
	hdr_write(buf, 0, SFU_RTCP_SR, RTCP_SR_LEN);
	wr32(buf + 4, sr->ssrc);
	wr32(buf + 8, (uint32_t)(sr->ntp >> 32));
	wr32(buf + 12, (uint32_t)sr->ntp);
	wr32(buf + 16, sr->rtp_ts);
	wr32(buf + 20, sr->pkt_count);
	wr32(buf + 24, sr->octet_count);
	return RTCP_SR_LEN;
}

/* RFC 4585 6.1: the common feedback header. */
static void fb_hdr_write(uint8_t *buf, uint8_t fmt, uint8_t pt, size_t len,
			 uint32_t sender_ssrc, uint32_t media_ssrc)
{
	hdr_write(buf, fmt, pt, len);
	wr32(buf + 4, sender_ssrc);
	wr32(buf + 8, media_ssrc);
}

size_t sfu_rtcp_pli_build(uint8_t *buf, uint32_t sender_ssrc, uint32_t media_ssrc)
{
	/* RFC 4585 6.3.1: PLI has no FCI. */
	fb_hdr_write(buf, SFU_RTCP_FMT_PLI, SFU_RTCP_PSFB, RTCP_FB_LEN, sender_ssrc, media_ssrc);
	return RTCP_FB_LEN;
}

size_t sfu_rtcp_fir_build(uint8_t *buf, uint32_t sender_ssrc, uint32_t media_ssrc,
			  uint8_t seq_nr)
{
	const size_t len = RTCP_FB_LEN + RTCP_FIR_FCI_LEN;

	/*
	 * RFC 5104 4.3.1.2: the header's media source SSRC is unused (SHALL be
	 * 0); the target SSRC goes in the FCI entry with the command sequence
	 * number and 24 reserved bits set to 0.
	 */
	fb_hdr_write(buf, SFU_RTCP_FMT_FIR, SFU_RTCP_PSFB, len, sender_ssrc, 0);
	wr32(buf + 12, media_ssrc);
	buf[16] = seq_nr;
	buf[17] = 0;
	buf[18] = 0;
	buf[19] = 0;
	return len;
}

int sfu_rtcp_fir_entry(const uint8_t *p, const struct sfu_rtcp_pkt *pkt, unsigned int i,
		       uint32_t *ssrc, uint8_t *seq_nr)
{
	const uint8_t *h;
	size_t fci;
	int clen;

	clen = pkt_body(p, pkt, SFU_RTCP_PSFB, SFU_RTCP_FMT_FIR, RTCP_FB_LEN, &h);
	if (clen < 0)
		return clen;
	/* RFC 5104 4.3.1.1: one 8-byte entry per target SSRC. */
	if (i >= ((size_t)clen - RTCP_FB_LEN) / RTCP_FIR_FCI_LEN)
		return -EINVAL;
	fci = RTCP_FB_LEN + (size_t)i * RTCP_FIR_FCI_LEN;
	*ssrc = rd32(h + fci);
	*seq_nr = h[fci + 4];
	return 0;
}

/* Generic NACK FCI bounds: whole 4-byte (PID, BLP) entries, at least one. */
static int nack_fci_count(const uint8_t *p, const struct sfu_rtcp_pkt *pkt, const uint8_t **h)
{
	int clen;

	clen = pkt_body(p, pkt, SFU_RTCP_RTPFB, SFU_RTCP_FMT_NACK,
			RTCP_FB_LEN + RTCP_NACK_FCI_LEN, h);
	if (clen < 0)
		return clen;
	if (((size_t)clen - RTCP_FB_LEN) % RTCP_NACK_FCI_LEN)
		return -EINVAL;
	return (int)(((size_t)clen - RTCP_FB_LEN) / RTCP_NACK_FCI_LEN);
}

int sfu_rtcp_nack_rewrite(uint8_t *p, const struct sfu_rtcp_pkt *pkt,
			  uint32_t sender_ssrc, uint32_t media_ssrc, uint16_t seq_delta)
{
	const uint8_t *ch;
	uint8_t *h;
	int n;

	n = nack_fci_count(p, pkt, &ch);
	if (n < 0)
		return n;
	h = p + pkt->off;
	wr32(h + 4, sender_ssrc);
	wr32(h + 8, media_ssrc);
	/*
	 * RFC 4585 6.2.1: the BLP bits are offsets from the PID, so moving the
	 * PID into the publisher's sequence space moves the whole entry; the
	 * 16-bit arithmetic wraps as sequence numbers do.
	 */
	for (int i = 0; i < n; i++) {
		uint8_t *fci = h + RTCP_FB_LEN + (size_t)i * RTCP_NACK_FCI_LEN;

		wr16(fci, (uint16_t)(rd16(fci) - seq_delta));
	}
	return 0;
}

size_t sfu_rtcp_nack_build(uint8_t *buf, uint32_t sender_ssrc, uint32_t media_ssrc,
			   const uint16_t *pid, const uint16_t *blp, unsigned int n)
{
	size_t len;

	if (n == 0 || n > SFU_RTCP_NACK_MAX_PAIRS)
		return 0;
	len = RTCP_FB_LEN + (size_t)n * RTCP_NACK_FCI_LEN;
	fb_hdr_write(buf, SFU_RTCP_FMT_NACK, SFU_RTCP_RTPFB, len, sender_ssrc, media_ssrc);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *fci = buf + RTCP_FB_LEN + (size_t)i * RTCP_NACK_FCI_LEN;

		wr16(fci, pid[i]);
		wr16(fci + 2, blp[i]);
	}
	return len;
}

int sfu_rtcp_nack_entry(const uint8_t *p, const struct sfu_rtcp_pkt *pkt, unsigned int i,
			uint16_t *pid, uint16_t *blp)
{
	const uint8_t *h, *fci;
	int n;

	n = nack_fci_count(p, pkt, &h);
	if (n < 0)
		return n;
	if (i >= (unsigned int)n)
		return -EINVAL;
	fci = h + RTCP_FB_LEN + (size_t)i * RTCP_NACK_FCI_LEN;
	*pid = rd16(fci);
	*blp = rd16(fci + 2);
	return 0;
}

int sfu_rtcp_rb_get(const uint8_t *p, const struct sfu_rtcp_pkt *pkt, unsigned int i,
		    struct sfu_rtcp_rb *rb)
{
	const uint8_t *h, *b;
	size_t first;
	uint32_t lost;
	int clen;

	if (pkt->pt == SFU_RTCP_SR)
		first = RTCP_SR_LEN;
	else if (pkt->pt == SFU_RTCP_RR)
		first = RTCP_RR_LEN;
	else
		return -EINVAL;
	clen = pkt_body(p, pkt, pkt->pt, -1, first, &h);
	if (clen < 0)
		return clen;
	/* RFC 3550 6.4.1: RC blocks of 24 bytes after the sender part. */
	if (i >= (h[0] & 0x1fu) || first + ((size_t)i + 1) * RTCP_RB_LEN > (size_t)clen)
		return -EINVAL;
	b = h + first + (size_t)i * RTCP_RB_LEN;
	rb->ssrc = rd32(b);
	rb->fraction_lost = b[4];
	/* Cumulative number of packets lost: 24-bit two's complement. */
	lost = rd32(b + 4) & 0xffffff;
	rb->cum_lost = lost & 0x800000 ? (int32_t)lost - 0x1000000 : (int32_t)lost;
	rb->ext_high_seq = rd32(b + 8);
	rb->jitter = rd32(b + 12);
	rb->lsr = rd32(b + 16);
	rb->dlsr = rd32(b + 20);
	return 0;
}

size_t sfu_rtcp_rr_build(uint8_t *buf, uint32_t ssrc, const struct sfu_rtcp_rb *rb,
			 unsigned int n)
{
	size_t len;

	if (n > SFU_RTCP_MAX_RB)
		return 0;
	len = RTCP_RR_LEN + (size_t)n * RTCP_RB_LEN;
	hdr_write(buf, (uint8_t)n, SFU_RTCP_RR, len);
	wr32(buf + 4, ssrc);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *b = buf + RTCP_RR_LEN + (size_t)i * RTCP_RB_LEN;
		int32_t lost = rb[i].cum_lost;

		/* RFC 3550 6.4.1: the 24-bit field saturates rather than wraps. */
		if (lost > RTCP_CUM_LOST_MAX)
			lost = RTCP_CUM_LOST_MAX;
		if (lost < RTCP_CUM_LOST_MIN)
			lost = RTCP_CUM_LOST_MIN;
		wr32(b, rb[i].ssrc);
		wr32(b + 4, (uint32_t)rb[i].fraction_lost << 24 | ((uint32_t)lost & 0xffffff));
		wr32(b + 8, rb[i].ext_high_seq);
		wr32(b + 12, rb[i].jitter);
		wr32(b + 16, rb[i].lsr);
		wr32(b + 20, rb[i].dlsr);
	}
	return len;
}

int sfu_rtcp_remb_parse(const uint8_t *p, const struct sfu_rtcp_pkt *pkt, uint64_t *bitrate,
			uint32_t *ssrcs, unsigned int max_ssrcs)
{
	const uint8_t *h;
	unsigned int num, exp;
	uint64_t mantissa;
	int clen;

	clen = pkt_body(p, pkt, SFU_RTCP_PSFB, SFU_RTCP_FMT_REMB, RTCP_REMB_FIXED_LEN, &h);
	if (clen < 0)
		return clen;
	/* remb-03 2.2: FMT 15 is any application layer FB; "REMB" names this one. */
	if (h[12] != 'R' || h[13] != 'E' || h[14] != 'M' || h[15] != 'B')
		return -EINVAL;
	num = h[16];
	if (RTCP_REMB_FIXED_LEN + 4u * num > (size_t)clen)
		return -EINVAL;
	exp = h[17] >> 2;
	mantissa = (uint64_t)(h[17] & 0x03) << 16 | (uint64_t)h[18] << 8 | h[19];
	/* An 18-bit mantissa shifted by up to 63 can overflow: saturate. */
	if (exp > 64 - RTCP_REMB_MANTISSA_BITS && mantissa >> (64 - exp) != 0)
		*bitrate = UINT64_MAX;
	else
		*bitrate = mantissa << exp;
	for (unsigned int i = 0; i < num && i < max_ssrcs; i++)
		ssrcs[i] = rd32(h + RTCP_REMB_FIXED_LEN + 4 * i);
	return (int)num;
}

size_t sfu_rtcp_remb_build(uint8_t *buf, uint32_t sender_ssrc, uint64_t bitrate,
			   const uint32_t *ssrcs, unsigned int n)
{
	unsigned int exp = 0;
	size_t len;

	if (n > RTCP_REMB_MAX_SSRCS)
		return 0;
	len = RTCP_REMB_FIXED_LEN + 4u * n;
	while (bitrate >> RTCP_REMB_MANTISSA_BITS) {
		bitrate >>= 1;
		exp++;
	}
	/* remb-03 2.2: media source SSRC is 0; the list names the streams. */
	fb_hdr_write(buf, SFU_RTCP_FMT_REMB, SFU_RTCP_PSFB, len, sender_ssrc, 0);
	buf[12] = 'R';
	buf[13] = 'E';
	buf[14] = 'M';
	buf[15] = 'B';
	buf[16] = (uint8_t)n;
	buf[17] = (uint8_t)(exp << 2 | (unsigned int)(bitrate >> 16));
	buf[18] = (uint8_t)(bitrate >> 8);
	buf[19] = (uint8_t)bitrate;
	for (unsigned int i = 0; i < n; i++)
		wr32(buf + RTCP_REMB_FIXED_LEN + 4 * i, ssrcs[i]);
	return len;
}
