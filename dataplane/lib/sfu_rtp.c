/*
 * sfu_rtp.c — RTP half of sfu_rtp.h: the RFC 7983 first-byte demultiplexer,
 * RTP fixed header parse and rewrite (RFC 3550 5.1), RFC 8285 header extension
 * lookup and RTP padding removal.  RTCP lives in sfu_rtcp.c.
 *
 * Threading: pure functions on caller buffers — no state, no allocation, no
 * locks, no EAL; callable from any thread, including the lcore fast path.
 * Every read is checked against the length the caller gave (for ext_find, the
 * extension bounds sfu_rtp_parse() checked).
 */
#include <errno.h>

#include "sfu_bytes.h"
#include "sfu_rtp.h"

#define RTP_FIXED_HDR_LEN 12
#define RTP_EXT_HDR_LEN 4
#define RTP_VERSION 2
#define RTP_MAX_LEN 65535u /* largest UDP payload there could be */

/* RFC 8285 4.2 / 4.3: the "defined by profile" values of the two forms. */
#define RTP_EXT_ONE_BYTE 0xBEDEu
#define RTP_EXT_TWO_BYTE_MASK 0xFFF0u
#define RTP_EXT_TWO_BYTE 0x1000u


enum sfu_pkt_class sfu_pkt_classify(const uint8_t *p, size_t len)
{
	uint8_t b;

	if (len == 0)
		return SFU_PKT_UNKNOWN;
	b = p[0];
	/* RFC 7983 7: 0..3 STUN, 20..63 DTLS, 128..191 RTP/RTCP. */
	if (b <= 3)
		return SFU_PKT_STUN;
	if (b >= 20 && b <= 63)
		return SFU_PKT_DTLS;
	if (b < 128 || b > 191 || len < 2)
		return SFU_PKT_UNKNOWN;
	/*
	 * RFC 5761 4: RTCP packet types 192..223 cannot collide with RTP
	 * payload types 0..63 and 96..127 (M bit included), so the second byte
	 * in 192..223 means RTCP.
	 */
	if (p[1] >= 192 && p[1] <= 223)
		return SFU_PKT_RTCP;
	return SFU_PKT_RTP;
}

int sfu_rtp_parse(const uint8_t *p, size_t len, struct sfu_rtp_info *ri)
{
	size_t hdr_len;

	if (len < RTP_FIXED_HDR_LEN || len > RTP_MAX_LEN || p[0] >> 6 != RTP_VERSION)
		return -EINVAL;

	ri->cc = p[0] & 0x0f;
	ri->has_ext = (p[0] & 0x10) != 0;
	ri->marker = (p[1] & 0x80) != 0;
	ri->pt = p[1] & 0x7f;
	ri->seq = rd16(p + 2);
	ri->ts = rd32(p + 4);
	ri->ssrc = rd32(p + 8);
	ri->ext_profile = 0;
	ri->ext_off = 0;
	ri->ext_len = 0;

	/* RFC 3550 5.1: CC 32-bit CSRC identifiers follow the fixed header. */
	hdr_len = RTP_FIXED_HDR_LEN + 4u * ri->cc;
	if (hdr_len > len)
		return -EINVAL;

	/* RFC 3550 5.3.1: profile word, then length in 32-bit words excluding it. */
	if (ri->has_ext) {
		size_t ext_len;

		if (len - hdr_len < RTP_EXT_HDR_LEN)
			return -EINVAL;
		ext_len = 4u * rd16(p + hdr_len + 2);
		if (len - hdr_len - RTP_EXT_HDR_LEN < ext_len)
			return -EINVAL;
		ri->ext_profile = rd16(p + hdr_len);
		ri->ext_off = (uint16_t)(hdr_len + RTP_EXT_HDR_LEN);
		ri->ext_len = (uint16_t)ext_len;
		hdr_len += RTP_EXT_HDR_LEN + ext_len;
	}
	/* len <= 65535 bounds hdr_len, so the narrowing below is exact. */
	ri->hdr_len = (uint16_t)hdr_len;
	return 0;
}

void sfu_rtp_rewrite(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	p[1] = (uint8_t)((p[1] & 0x80) | (pt & 0x7f));
	wr16(p + 2, seq);
	wr32(p + 4, ts);
	wr32(p + 8, ssrc);
}

/*
 * RFC 8285 4.2 one-byte form: ID (4 bits) and length-1 (4 bits), then the
 * data.  A zero ID byte is padding (skipped alone, whatever its length bits,
 * as 8285 4.2 reserves ID 0 for padding); ID 15 ends the walk.
 */
static int ext_find_one_byte(const uint8_t *ext, size_t ext_len, uint8_t id,
			     const uint8_t **data, size_t *len)
{
	size_t off = 0;

	if (id == 0 || id >= 15)
		return -ENOENT;
	while (off < ext_len) {
		uint8_t eid = ext[off] >> 4;
		size_t elen = (size_t)(ext[off] & 0x0f) + 1;

		if (eid == 0) {
			off++;
			continue;
		}
		if (eid == 15)
			return -ENOENT;
		if (ext_len - off - 1 < elen)
			return -EINVAL;
		if (eid == id) {
			*data = ext + off + 1;
			*len = elen;
			return 0;
		}
		off += 1 + elen;
	}
	return -ENOENT;
}

/*
 * RFC 8285 4.3 two-byte form: ID byte, length byte (0..255 data bytes, zero
 * allowed), then the data.  A zero ID byte is a single padding byte.
 */
static int ext_find_two_byte(const uint8_t *ext, size_t ext_len, uint8_t id,
			     const uint8_t **data, size_t *len)
{
	size_t off = 0;

	if (id == 0)
		return -ENOENT;
	while (off < ext_len) {
		uint8_t eid = ext[off];
		size_t elen;

		if (eid == 0) {
			off++;
			continue;
		}
		if (ext_len - off < 2)
			return -EINVAL;
		elen = ext[off + 1];
		if (ext_len - off - 2 < elen)
			return -EINVAL;
		if (eid == id) {
			*data = ext + off + 2;
			*len = elen;
			return 0;
		}
		off += 2 + elen;
	}
	return -ENOENT;
}

int sfu_rtp_ext_find(const uint8_t *p, const struct sfu_rtp_info *ri, uint8_t id,
		     const uint8_t **data, size_t *len)
{
	const uint8_t *ext = p + ri->ext_off;

	if (!ri->has_ext)
		return -ENOENT;
	if (ri->ext_profile == RTP_EXT_ONE_BYTE)
		return ext_find_one_byte(ext, ri->ext_len, id, data, len);
	if ((ri->ext_profile & RTP_EXT_TWO_BYTE_MASK) == RTP_EXT_TWO_BYTE)
		return ext_find_two_byte(ext, ri->ext_len, id, data, len);
	return -ENOENT;
}

int sfu_rtp_payload_len(const uint8_t *p, size_t len, const struct sfu_rtp_info *ri)
{
	size_t payload, pad = 0;

	if (ri->hdr_len > len || len > RTP_MAX_LEN)
		return -EINVAL;
	payload = len - ri->hdr_len;
	/*
	 * RFC 3550 5.1: with P set the last octet counts the padding octets,
	 * itself included, so it is at least 1 and cannot reach into the header.
	 */
	if (p[0] & 0x20) {
		if (payload == 0)
			return -EINVAL;
		pad = p[len - 1];
		if (pad == 0 || pad > payload)
			return -EINVAL;
	}
	return (int)(payload - pad);
}
