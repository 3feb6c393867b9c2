/*
 * test_rtcp.c — unit tests for the RTCP half of sfu_rtp.h: compound
 * validation (every truncation, length fields that overshoot or undershoot,
 * padding rules, version), iteration, SR parse/build, RR report blocks,
 * PLI/FIR/NACK/REMB builders against hand-written bytes and back through the
 * parsers, FIR entries, and the NACK rewrite including sequence wrap.
 *
 * Reference packets are written out byte by byte here, independent of the
 * code under test.  Single-threaded; no EAL.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "sfu_rtp.h"
#include "unit.h"

/* SR with one report block (RFC 3550 6.4.1), then SDES with one CNAME chunk. */
static const uint8_t sr_sdes[] = {
	/* SR: V=2 RC=1 PT=200 length 12 */
	0x81, 0xc8, 0x00, 0x0c,
	0x11, 0x22, 0x33, 0x44,                         /* sender SSRC */
	0xe8, 0xa1, 0xb2, 0xc3, 0x40, 0x00, 0x00, 0x00, /* NTP */
	0x00, 0x0e, 0xa6, 0x00,                         /* RTP ts 960000 */
	0x00, 0x00, 0x04, 0xd2,                         /* packets 1234 */
	0x00, 0x01, 0x81, 0xcd,                         /* octets 98765 */
	0xaa, 0xbb, 0xcc, 0xdd,                         /* block: SSRC */
	0x0c, 0xff, 0xff, 0xfe,                         /* fraction 12, lost -2 */
	0x00, 0x01, 0x10, 0x00,                         /* ext highest seq */
	0x00, 0x00, 0x00, 0x28,                         /* jitter 40 */
	0x12, 0x34, 0x56, 0x78,                         /* LSR */
	0x00, 0x01, 0x00, 0x00,                         /* DLSR */
	/* SDES: V=2 SC=1 PT=202 length 3 */
	0x81, 0xca, 0x00, 0x03,
	0x11, 0x22, 0x33, 0x44, 0x01, 0x03, 'a', 'b', 'c', 0x00, 0x00, 0x00,
};
#define SR_LEN 52

/* Empty RR, then a PLI (RFC 4585 6.3.1). */
static const uint8_t rr_pli[] = {
	0x80, 0xc9, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04,
	0x81, 0xce, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb, 0xcc, 0xdd,
};

/* Empty RR, then a FIR (RFC 5104 4.3.1) with two entries. */
static const uint8_t rr_fir2[] = {
	0x80, 0xc9, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04,
	0x84, 0xce, 0x00, 0x06, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00,
	0xaa, 0xbb, 0xcc, 0xdd, 0x07, 0x00, 0x00, 0x00,
	0x11, 0x22, 0x33, 0x44, 0xc8, 0x00, 0x00, 0x00,
};

/* Empty RR, then a generic NACK (RFC 4585 6.2.1) with three entries. */
static const uint8_t rr_nack3[] = {
	0x80, 0xc9, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04,
	0x81, 0xcd, 0x00, 0x05, 0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb, 0xcc, 0xdd,
	0x00, 0x05, 0x80, 0x01,
	0xff, 0xfe, 0x00, 0x00,
	0x00, 0x64, 0xff, 0xff,
};

static void get_pkt(const uint8_t *p, size_t len, unsigned int idx, struct sfu_rtcp_pkt *pkt)
{
	size_t off = 0;

	for (unsigned int i = 0; i <= idx; i++)
		UT_EQ(sfu_rtcp_next(p, len, &off, pkt), 1);
}

UT_TEST(validate_compound)
{
	UT_EQ(sfu_rtcp_validate(sr_sdes, sizeof(sr_sdes)), 2);
	UT_EQ(sfu_rtcp_validate(sr_sdes, SR_LEN), 1);
	UT_EQ(sfu_rtcp_validate(rr_pli, sizeof(rr_pli)), 2);
	UT_EQ(sfu_rtcp_validate(rr_fir2, sizeof(rr_fir2)), 2);
	UT_EQ(sfu_rtcp_validate(rr_nack3, sizeof(rr_nack3)), 2);
	/* RFC 5506 reduced size: a lone feedback packet first. */
	UT_EQ(sfu_rtcp_validate(rr_pli + 8, sizeof(rr_pli) - 8), 1);
}

UT_TEST(validate_every_truncation)
{
	/* Only packet boundaries are valid ends; everything else is -EINVAL. */
	for (size_t l = 0; l <= sizeof(sr_sdes); l++) {
		uint8_t buf[sizeof(sr_sdes)];
		int want = l == SR_LEN ? 1 : l == sizeof(sr_sdes) ? 2 : -EINVAL;

		memcpy(buf, sr_sdes, l);
		UT_EQ(sfu_rtcp_validate(buf, l), want);
	}
	for (size_t l = 0; l <= sizeof(rr_nack3); l++) {
		int want = l == 8 ? 1 : l == sizeof(rr_nack3) ? 2 : -EINVAL;

		UT_EQ(sfu_rtcp_validate(rr_nack3, l), want);
	}
}

UT_TEST(validate_length_fields)
{
	uint8_t p[sizeof(sr_sdes) + 4];

	/* Overshoot: the SR claims one word more, the SDES one more than is left. */
	memcpy(p, sr_sdes, sizeof(sr_sdes));
	p[3] = 13;
	UT_EQ(sfu_rtcp_validate(p, sizeof(sr_sdes)), -EINVAL);
	memcpy(p, sr_sdes, sizeof(sr_sdes));
	p[SR_LEN + 3] = 4;
	UT_EQ(sfu_rtcp_validate(p, sizeof(sr_sdes)), -EINVAL);
	p[SR_LEN + 2] = 0xff;
	UT_EQ(sfu_rtcp_validate(p, sizeof(sr_sdes)), -EINVAL);

	/* Undershoot: the next "packet" starts inside the report block (V=0). */
	memcpy(p, sr_sdes, sizeof(sr_sdes));
	p[3] = 11;
	UT_EQ(sfu_rtcp_validate(p, sizeof(sr_sdes)), -EINVAL);
	/* Undershoot of the last packet leaves 4 stray bytes. */
	memcpy(p, sr_sdes, sizeof(sr_sdes));
	p[SR_LEN + 3] = 2;
	UT_EQ(sfu_rtcp_validate(p, sizeof(sr_sdes)), -EINVAL);
	/* Trailing bytes after a correct compound: 1..3 bytes, and a V=0 word. */
	memcpy(p, sr_sdes, sizeof(sr_sdes));
	memset(p + sizeof(sr_sdes), 0, 4);
	for (size_t extra = 1; extra <= 4; extra++)
		UT_EQ(sfu_rtcp_validate(p, sizeof(sr_sdes) + extra), -EINVAL);
	/* A trailing header-only packet (length 0) is a packet. */
	p[sizeof(sr_sdes)] = 0x80;
	p[sizeof(sr_sdes) + 1] = 203;
	UT_EQ(sfu_rtcp_validate(p, sizeof(sr_sdes) + 4), 3);
}

UT_TEST(validate_version)
{
	uint8_t p[sizeof(sr_sdes)];

	for (unsigned int v = 0; v < 4; v++) {
		memcpy(p, sr_sdes, sizeof(p));
		p[0] = (uint8_t)((p[0] & 0x3f) | v << 6);
		UT_EQ(sfu_rtcp_validate(p, sizeof(p)), v == 2 ? 2 : -EINVAL);
		memcpy(p, sr_sdes, sizeof(p));
		p[SR_LEN] = (uint8_t)((p[SR_LEN] & 0x3f) | v << 6);
		UT_EQ(sfu_rtcp_validate(p, sizeof(p)), v == 2 ? 2 : -EINVAL);
	}
}

UT_TEST(validate_padding)
{
	/* RR, then a PLI padded by 8 bytes (PLI length 4 words + ... = 20 bytes). */
	uint8_t p[28] = {
		0x80, 0xc9, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04,
		0xa1, 0xce, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb, 0xcc, 0xdd,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
	};
	struct sfu_rtcp_pkt pkt;
	uint8_t q[sizeof(sr_sdes)];

	UT_EQ(sfu_rtcp_validate(p, sizeof(p)), 2);
	/* Count 0, and counts reaching into the 4-byte header, are bad. */
	p[27] = 0;
	UT_EQ(sfu_rtcp_validate(p, sizeof(p)), -EINVAL);
	p[27] = 16;
	UT_EQ(sfu_rtcp_validate(p, sizeof(p)), 2);
	p[27] = 17;
	UT_EQ(sfu_rtcp_validate(p, sizeof(p)), -EINVAL);
	p[27] = 255;
	UT_EQ(sfu_rtcp_validate(p, sizeof(p)), -EINVAL);
	p[27] = 8;
	/* Padding on a packet that is not last (RFC 3550 A.2). */
	p[0] |= 0x20;
	UT_EQ(sfu_rtcp_validate(p, sizeof(p)), -EINVAL);
	memcpy(q, sr_sdes, sizeof(q));
	q[0] |= 0x20;
	UT_EQ(sfu_rtcp_validate(q, sizeof(q)), -EINVAL);
	/* The padded packet's length still includes its padding. */
	p[0] &= (uint8_t)~0x20;
	get_pkt(p, sizeof(p), 1, &pkt);
	UT_EQ(pkt.len, 20);
}

UT_TEST(validate_zero_and_huge)
{
	static uint8_t big[65540];

	UT_EQ(sfu_rtcp_validate(NULL, 0), -EINVAL);
	UT_EQ(sfu_rtcp_validate(sr_sdes, 0), -EINVAL);
	/* 16383 header-only packets fill 65532 bytes; 65536 is over any UDP payload. */
	for (size_t off = 0; off < sizeof(big); off += 4) {
		big[off] = 0x80;
		big[off + 1] = SFU_RTCP_BYE;
	}
	UT_EQ(sfu_rtcp_validate(big, 65532), 16383);
	UT_EQ(sfu_rtcp_validate(big, 65536), -EINVAL);
}

UT_TEST(next_iterates)
{
	struct sfu_rtcp_pkt pkt;
	size_t off = 0;

	UT_EQ(sfu_rtcp_next(sr_sdes, sizeof(sr_sdes), &off, &pkt), 1);
	UT_EQ(pkt.pt, SFU_RTCP_SR);
	UT_EQ(pkt.fmt, 1);
	UT_EQ(pkt.off, 0);
	UT_EQ(pkt.len, SR_LEN);
	UT_EQ(pkt.sender_ssrc, 0x11223344);
	UT_EQ(pkt.media_ssrc, 0);
	UT_EQ(off, SR_LEN);
	UT_EQ(sfu_rtcp_next(sr_sdes, sizeof(sr_sdes), &off, &pkt), 1);
	UT_EQ(pkt.pt, SFU_RTCP_SDES);
	UT_EQ(pkt.off, SR_LEN);
	UT_EQ(pkt.len, 16);
	UT_EQ(pkt.sender_ssrc, 0x11223344);
	UT_EQ(off, sizeof(sr_sdes));
	UT_EQ(sfu_rtcp_next(sr_sdes, sizeof(sr_sdes), &off, &pkt), 0);
	UT_EQ(sfu_rtcp_next(sr_sdes, sizeof(sr_sdes), &off, &pkt), 0);

	off = 0;
	UT_EQ(sfu_rtcp_next(rr_nack3, sizeof(rr_nack3), &off, &pkt), 1);
	UT_EQ(pkt.pt, SFU_RTCP_RR);
	UT_EQ(pkt.fmt, 0);
	UT_EQ(pkt.sender_ssrc, 0x01020304);
	UT_EQ(pkt.media_ssrc, 0);
	UT_EQ(sfu_rtcp_next(rr_nack3, sizeof(rr_nack3), &off, &pkt), 1);
	UT_EQ(pkt.pt, SFU_RTCP_RTPFB);
	UT_EQ(pkt.fmt, SFU_RTCP_FMT_NACK);
	UT_EQ(pkt.media_ssrc, 0xaabbccddu);
	UT_EQ(sfu_rtcp_next(rr_nack3, sizeof(rr_nack3), &off, &pkt), 0);

	get_pkt(rr_pli, sizeof(rr_pli), 1, &pkt);
	UT_EQ(pkt.pt, SFU_RTCP_PSFB);
	UT_EQ(pkt.fmt, SFU_RTCP_FMT_PLI);
	UT_EQ(pkt.sender_ssrc, 0x01020304);
	UT_EQ(pkt.media_ssrc, 0xaabbccddu);
}

UT_TEST(next_short_packets)
{
	/* BYE with SC 0 (4 bytes), then an 8-byte RTPFB too short for a media SSRC. */
	static const uint8_t p[] = {
		0x80, 0xcb, 0x00, 0x00,
		0x81, 0xcd, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04,
	};
	struct sfu_rtcp_pkt pkt;
	size_t off = 0;

	UT_EQ(sfu_rtcp_validate(p, sizeof(p)), 2);
	UT_EQ(sfu_rtcp_next(p, sizeof(p), &off, &pkt), 1);
	UT_EQ(pkt.pt, SFU_RTCP_BYE);
	UT_EQ(pkt.len, 4);
	UT_EQ(pkt.sender_ssrc, 0);
	UT_EQ(sfu_rtcp_next(p, sizeof(p), &off, &pkt), 1);
	UT_EQ(pkt.sender_ssrc, 0x01020304);
	UT_EQ(pkt.media_ssrc, 0);
	/* Accessors refuse feedback this short. */
	{
		uint16_t pid, blp;
		uint8_t q[sizeof(p)];

		memcpy(q, p, sizeof(q));
		UT_EQ(sfu_rtcp_nack_entry(q, &pkt, 0, &pid, &blp), -EINVAL);
		UT_EQ(sfu_rtcp_nack_rewrite(q, &pkt, 1, 2, 3), -EINVAL);
		UT_MEMEQ(q, p, sizeof(q));
	}
}

UT_TEST(next_malformed)
{
	uint8_t p[sizeof(sr_sdes)];
	struct sfu_rtcp_pkt pkt;
	size_t off;

	memcpy(p, sr_sdes, sizeof(p));
	off = sizeof(p) + 4;
	UT_EQ(sfu_rtcp_next(p, sizeof(p), &off, &pkt), -EINVAL);
	off = sizeof(p) - 3;
	UT_EQ(sfu_rtcp_next(p, sizeof(p), &off, &pkt), -EINVAL);
	/* Truncated inside the SDES. */
	off = SR_LEN;
	UT_EQ(sfu_rtcp_next(p, sizeof(p) - 4, &off, &pkt), -EINVAL);
	UT_EQ(off, SR_LEN);
	/* Wrong version. */
	p[SR_LEN] = 0x41;
	off = SR_LEN;
	UT_EQ(sfu_rtcp_next(p, sizeof(p), &off, &pkt), -EINVAL);
	/* Empty input is simply the end. */
	off = 0;
	UT_EQ(sfu_rtcp_next(NULL, 0, &off, &pkt), 0);
	/* Longer than any UDP payload. */
	{
		static uint8_t big[65536];

		memcpy(big, sr_sdes, sizeof(sr_sdes));
		off = 0;
		UT_EQ(sfu_rtcp_next(big, sizeof(big), &off, &pkt), -EINVAL);
		UT_EQ(sfu_rtcp_next(big, sizeof(big) - 1, &off, &pkt), 1);
	}
}

UT_TEST(accessors_refuse_bogus_pkt)
{
	/* A pkt not from sfu_rtcp_next(): too short to hold even a header. */
	struct sfu_rtcp_pkt pkt = { SFU_RTCP_PSFB, SFU_RTCP_FMT_FIR, 0, 0, 0, 0 };
	struct sfu_rtcp_rb rb;
	uint32_t ssrc;
	uint8_t seq, p[sizeof(rr_nack3)];
	uint16_t pid, blp;
	uint64_t br;

	memcpy(p, rr_nack3, sizeof(p));
	UT_EQ(sfu_rtcp_fir_entry(p, &pkt, 0, &ssrc, &seq), -EINVAL);
	pkt.fmt = SFU_RTCP_FMT_REMB;
	UT_EQ(sfu_rtcp_remb_parse(p, &pkt, &br, NULL, 0), -EINVAL);
	pkt.pt = SFU_RTCP_RTPFB;
	pkt.fmt = SFU_RTCP_FMT_NACK;
	UT_EQ(sfu_rtcp_nack_entry(p, &pkt, 0, &pid, &blp), -EINVAL);
	UT_EQ(sfu_rtcp_nack_rewrite(p, &pkt, 1, 2, 3), -EINVAL);
	pkt.pt = SFU_RTCP_RR;
	pkt.fmt = 1;
	UT_EQ(sfu_rtcp_rb_get(p, &pkt, 0, &rb), -EINVAL);
	UT_MEMEQ(p, rr_nack3, sizeof(p));
}

UT_TEST(sr_parse_fields)
{
	struct sfu_rtcp_sr sr;

	UT_EQ(sfu_rtcp_sr_parse(sr_sdes, sizeof(sr_sdes), &sr), 0);
	UT_EQ(sr.ssrc, 0x11223344);
	UT_EQ(sr.ntp, 0xe8a1b2c340000000ull);
	UT_EQ(sr.rtp_ts, 960000);
	UT_EQ(sr.pkt_count, 1234);
	UT_EQ(sr.octet_count, 98765);
	UT_EQ(sfu_rtcp_sr_parse(sr_sdes, SR_LEN, &sr), 0);
	for (size_t l = 0; l < SR_LEN; l++)
		UT_EQ(sfu_rtcp_sr_parse(sr_sdes, l, &sr), -EINVAL);
}

UT_TEST(sr_parse_malformed)
{
	uint8_t p[sizeof(sr_sdes)];
	struct sfu_rtcp_sr sr;

	/* Not an SR. */
	UT_EQ(sfu_rtcp_sr_parse(sr_sdes + SR_LEN, sizeof(sr_sdes) - SR_LEN, &sr), -EINVAL);
	UT_EQ(sfu_rtcp_sr_parse(rr_pli, sizeof(rr_pli), &sr), -EINVAL);
	UT_EQ(sfu_rtcp_sr_parse(rr_nack3, sizeof(rr_nack3), &sr), -EINVAL);
	/* Wrong version. */
	memcpy(p, sr_sdes, sizeof(p));
	p[0] = 0x41;
	UT_EQ(sfu_rtcp_sr_parse(p, sizeof(p), &sr), -EINVAL);
	/* Length field shorter than the sender info. */
	memcpy(p, sr_sdes, sizeof(p));
	p[0] = 0x80;
	p[3] = 5;
	UT_EQ(sfu_rtcp_sr_parse(p, sizeof(p), &sr), -EINVAL);
	p[3] = 6;
	UT_EQ(sfu_rtcp_sr_parse(p, sizeof(p), &sr), 0);
	/* RC promises two blocks; the length holds one. */
	memcpy(p, sr_sdes, sizeof(p));
	p[0] = 0x82;
	UT_EQ(sfu_rtcp_sr_parse(p, sizeof(p), &sr), -EINVAL);
	/* Length field running past len. */
	memcpy(p, sr_sdes, sizeof(p));
	p[3] = 17;
	UT_EQ(sfu_rtcp_sr_parse(p, sizeof(p), &sr), -EINVAL);
	/* Padding: a bad count, and one that eats into the report block. */
	memcpy(p, sr_sdes, sizeof(p));
	p[0] |= 0x20;
	p[SR_LEN - 1] = 0;
	UT_EQ(sfu_rtcp_sr_parse(p, SR_LEN, &sr), -EINVAL);
	p[SR_LEN - 1] = 4;
	UT_EQ(sfu_rtcp_sr_parse(p, SR_LEN, &sr), -EINVAL);
	/* With RC 0 the same 24 bytes are all padding: fine. */
	p[0] = 0xa0;
	p[SR_LEN - 1] = 24;
	UT_EQ(sfu_rtcp_sr_parse(p, SR_LEN, &sr), 0);
	UT_EQ(sr.octet_count, 98765);
}

UT_TEST(sr_build_bytes_and_round_trip)
{
	static const uint8_t want[28] = {
		0x80, 0xc8, 0x00, 0x06, 0x11, 0x22, 0x33, 0x44,
		0xe8, 0xa1, 0xb2, 0xc3, 0x40, 0x00, 0x00, 0x00,
		0x00, 0x0e, 0xa6, 0x00, 0x00, 0x00, 0x04, 0xd2, 0x00, 0x01, 0x81, 0xcd,
	};
	struct sfu_rtcp_sr in = { 0x11223344, 0xe8a1b2c340000000ull, 960000, 1234, 98765 };
	struct sfu_rtcp_sr out;
	struct sfu_rtcp_pkt pkt;
	uint8_t buf[28];

	UT_EQ(sfu_rtcp_sr_build(buf, &in), 28);
	UT_MEMEQ(buf, want, sizeof(want));
	UT_EQ(sfu_rtcp_validate(buf, sizeof(buf)), 1);
	get_pkt(buf, sizeof(buf), 0, &pkt);
	UT_EQ(pkt.pt, SFU_RTCP_SR);
	UT_EQ(pkt.fmt, 0);
	UT_EQ(pkt.sender_ssrc, in.ssrc);
	UT_EQ(sfu_rtcp_sr_parse(buf, sizeof(buf), &out), 0);
	UT_EQ(out.ssrc, in.ssrc);
	UT_EQ(out.ntp, in.ntp);
	UT_EQ(out.rtp_ts, in.rtp_ts);
	UT_EQ(out.pkt_count, in.pkt_count);
	UT_EQ(out.octet_count, in.octet_count);
}

UT_TEST(pli_build_bytes_and_round_trip)
{
	uint8_t buf[12];
	struct sfu_rtcp_pkt pkt;

	UT_EQ(sfu_rtcp_pli_build(buf, 0x01020304, 0xaabbccdd), 12);
	UT_MEMEQ(buf, rr_pli + 8, 12);
	UT_EQ(sfu_rtcp_validate(buf, sizeof(buf)), 1);
	get_pkt(buf, sizeof(buf), 0, &pkt);
	UT_EQ(pkt.pt, SFU_RTCP_PSFB);
	UT_EQ(pkt.fmt, SFU_RTCP_FMT_PLI);
	UT_EQ(pkt.sender_ssrc, 0x01020304);
	UT_EQ(pkt.media_ssrc, 0xaabbccddu);
	UT_EQ(sfu_pkt_classify(buf, sizeof(buf)), SFU_PKT_RTCP);
}

UT_TEST(fir_build_bytes_and_round_trip)
{
	static const uint8_t want[20] = {
		0x84, 0xce, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00,
		0xaa, 0xbb, 0xcc, 0xdd, 0x07, 0x00, 0x00, 0x00,
	};
	uint8_t buf[20];
	struct sfu_rtcp_pkt pkt;
	uint32_t ssrc = 0;
	uint8_t seq = 0;

	UT_EQ(sfu_rtcp_fir_build(buf, 0x01020304, 0xaabbccdd, 7), 20);
	UT_MEMEQ(buf, want, sizeof(want));
	UT_EQ(sfu_rtcp_validate(buf, sizeof(buf)), 1);
	get_pkt(buf, sizeof(buf), 0, &pkt);
	UT_EQ(pkt.fmt, SFU_RTCP_FMT_FIR);
	UT_EQ(pkt.media_ssrc, 0); /* RFC 5104 4.3.1.2: unused in FIR */
	UT_EQ(sfu_rtcp_fir_entry(buf, &pkt, 0, &ssrc, &seq), 0);
	UT_EQ(ssrc, 0xaabbccddu);
	UT_EQ(seq, 7);
	UT_EQ(sfu_rtcp_fir_entry(buf, &pkt, 1, &ssrc, &seq), -EINVAL);
}

UT_TEST(fir_entries)
{
	struct sfu_rtcp_pkt pkt;
	uint32_t ssrc;
	uint8_t seq, p[sizeof(rr_fir2)];

	get_pkt(rr_fir2, sizeof(rr_fir2), 1, &pkt);
	UT_EQ(sfu_rtcp_fir_entry(rr_fir2, &pkt, 0, &ssrc, &seq), 0);
	UT_EQ(ssrc, 0xaabbccddu);
	UT_EQ(seq, 7);
	UT_EQ(sfu_rtcp_fir_entry(rr_fir2, &pkt, 1, &ssrc, &seq), 0);
	UT_EQ(ssrc, 0x11223344);
	UT_EQ(seq, 200);
	UT_EQ(sfu_rtcp_fir_entry(rr_fir2, &pkt, 2, &ssrc, &seq), -EINVAL);
	UT_EQ(sfu_rtcp_fir_entry(rr_fir2, &pkt, 0xffffffffu, &ssrc, &seq), -EINVAL);
	/* Other packet types. */
	get_pkt(rr_fir2, sizeof(rr_fir2), 0, &pkt);
	UT_EQ(sfu_rtcp_fir_entry(rr_fir2, &pkt, 0, &ssrc, &seq), -EINVAL);
	get_pkt(rr_pli, sizeof(rr_pli), 1, &pkt);
	UT_EQ(sfu_rtcp_fir_entry(rr_pli, &pkt, 0, &ssrc, &seq), -EINVAL);
	/* A FIR whose length leaves half an entry: only whole entries count. */
	memcpy(p, rr_fir2, sizeof(p));
	p[11] = 5;
	UT_EQ(sfu_rtcp_validate(p, sizeof(p) - 4), 2);
	get_pkt(p, sizeof(p) - 4, 1, &pkt);
	UT_EQ(sfu_rtcp_fir_entry(p, &pkt, 0, &ssrc, &seq), 0);
	UT_EQ(sfu_rtcp_fir_entry(p, &pkt, 1, &ssrc, &seq), -EINVAL);
	/* No FCI at all. */
	p[11] = 2;
	get_pkt(p, 20, 1, &pkt);
	UT_EQ(sfu_rtcp_fir_entry(p, &pkt, 0, &ssrc, &seq), -EINVAL);
	/* Padding is not an entry: 2 entries' worth of length, the second padding. */
	memcpy(p, rr_fir2, sizeof(p));
	p[8] |= 0x20;
	p[sizeof(p) - 1] = 8;
	get_pkt(p, sizeof(p), 1, &pkt);
	UT_EQ(sfu_rtcp_fir_entry(p, &pkt, 0, &ssrc, &seq), 0);
	UT_EQ(sfu_rtcp_fir_entry(p, &pkt, 1, &ssrc, &seq), -EINVAL);
}

UT_TEST(nack_build_bytes_and_entries)
{
	static const uint16_t pid[3] = { 5, 0xfffe, 100 }, blp[3] = { 0x8001, 0, 0xffff };
	uint8_t buf[24];
	struct sfu_rtcp_pkt pkt;
	uint16_t a, b;

	UT_EQ(sfu_rtcp_nack_build(buf, 0x01020304, 0xaabbccdd, pid, blp, 3), 24);
	UT_MEMEQ(buf, rr_nack3 + 8, 24);
	UT_EQ(sfu_rtcp_validate(buf, sizeof(buf)), 1);
	get_pkt(buf, sizeof(buf), 0, &pkt);
	UT_EQ(pkt.media_ssrc, 0xaabbccddu);
	for (unsigned int i = 0; i < 3; i++) {
		UT_EQ(sfu_rtcp_nack_entry(buf, &pkt, i, &a, &b), 0);
		UT_EQ(a, pid[i]);
		UT_EQ(b, blp[i]);
	}
	UT_EQ(sfu_rtcp_nack_entry(buf, &pkt, 3, &a, &b), -EINVAL);
	/* At least one FCI entry (RFC 4585 6.2.1); nothing is written otherwise. */
	memset(buf, 0x5a, sizeof(buf));
	UT_EQ(sfu_rtcp_nack_build(buf, 1, 2, pid, blp, 0), 0);
	UT_EQ(buf[0], 0x5a);
	UT_EQ(sfu_rtcp_nack_build(buf, 1, 2, pid, blp, SFU_RTCP_NACK_MAX_PAIRS + 1), 0);
	UT_EQ(buf[0], 0x5a);
	UT_EQ(sfu_rtcp_nack_build(buf, 1, 2, pid, blp, 1), 16);
	UT_EQ(buf[3], 3);
}

UT_TEST(nack_build_max_pairs)
{
	static uint16_t pid[SFU_RTCP_NACK_MAX_PAIRS], blp[SFU_RTCP_NACK_MAX_PAIRS];
	static uint8_t buf[12 + 4 * SFU_RTCP_NACK_MAX_PAIRS];
	const uint8_t *last = buf + sizeof(buf) - 4;

	for (unsigned int i = 0; i < SFU_RTCP_NACK_MAX_PAIRS; i++) {
		pid[i] = (uint16_t)i;
		blp[i] = (uint16_t)~i;
	}
	UT_EQ(sfu_rtcp_nack_build(buf, 1, 2, pid, blp, SFU_RTCP_NACK_MAX_PAIRS), sizeof(buf));
	UT_EQ(sizeof(buf), 262144);
	/* The 16-bit length field is exactly full, and the last pair is in place. */
	UT_EQ(buf[2], 0xff);
	UT_EQ(buf[3], 0xff);
	UT_EQ(last[0] << 8 | last[1], SFU_RTCP_NACK_MAX_PAIRS - 1);
	UT_EQ(last[2] << 8 | last[3], (uint16_t)~(SFU_RTCP_NACK_MAX_PAIRS - 1));
	/* Bigger than any UDP payload, so the parsers refuse it. */
	UT_EQ(sfu_rtcp_validate(buf, sizeof(buf)), -EINVAL);
}

UT_TEST(nack_rewrite_with_wrap)
{
	uint8_t p[sizeof(rr_nack3)];
	struct sfu_rtcp_pkt pkt;
	uint16_t pid, blp;

	memcpy(p, rr_nack3, sizeof(p));
	get_pkt(p, sizeof(p), 1, &pkt);
	UT_EQ(sfu_rtcp_nack_rewrite(p, &pkt, 0x99887766, 0x55443322, 10), 0);
	/* The RR before it is untouched. */
	UT_MEMEQ(p, rr_nack3, 8);
	UT_EQ(p[8], rr_nack3[8]);
	get_pkt(p, sizeof(p), 1, &pkt);
	UT_EQ(pkt.sender_ssrc, 0x99887766u);
	UT_EQ(pkt.media_ssrc, 0x55443322u);
	/* 5 - 10 wraps below zero; BLPs stay. */
	UT_EQ(sfu_rtcp_nack_entry(p, &pkt, 0, &pid, &blp), 0);
	UT_EQ(pid, 0xfffb);
	UT_EQ(blp, 0x8001);
	UT_EQ(sfu_rtcp_nack_entry(p, &pkt, 1, &pid, &blp), 0);
	UT_EQ(pid, 0xfff4);
	UT_EQ(blp, 0);
	UT_EQ(sfu_rtcp_nack_entry(p, &pkt, 2, &pid, &blp), 0);
	UT_EQ(pid, 90);
	UT_EQ(blp, 0xffff);

	/* A "negative" delta (publisher ahead) wraps above 0xffff. */
	memcpy(p, rr_nack3, sizeof(p));
	get_pkt(p, sizeof(p), 1, &pkt);
	UT_EQ(sfu_rtcp_nack_rewrite(p, &pkt, 1, 2, (uint16_t)-10), 0);
	UT_EQ(sfu_rtcp_nack_entry(p, &pkt, 1, &pid, &blp), 0);
	UT_EQ(pid, 8);
	UT_EQ(sfu_rtcp_nack_entry(p, &pkt, 0, &pid, &blp), 0);
	UT_EQ(pid, 15);

	/* Delta 0 only moves the SSRCs. */
	memcpy(p, rr_nack3, sizeof(p));
	get_pkt(p, sizeof(p), 1, &pkt);
	UT_EQ(sfu_rtcp_nack_rewrite(p, &pkt, 0x01020304, 0xaabbccdd, 0), 0);
	UT_MEMEQ(p, rr_nack3, sizeof(p));
}

UT_TEST(nack_rewrite_refuses)
{
	uint8_t p[sizeof(rr_pli)], q[20];
	struct sfu_rtcp_pkt pkt;

	/* Not a NACK: PLI and RR; the buffer is left alone. */
	memcpy(p, rr_pli, sizeof(p));
	get_pkt(p, sizeof(p), 1, &pkt);
	UT_EQ(sfu_rtcp_nack_rewrite(p, &pkt, 1, 2, 3), -EINVAL);
	get_pkt(p, sizeof(p), 0, &pkt);
	UT_EQ(sfu_rtcp_nack_rewrite(p, &pkt, 1, 2, 3), -EINVAL);
	UT_MEMEQ(p, rr_pli, sizeof(p));
	/* RTPFB FMT 15 (transport-wide CC) is not a NACK either. */
	memcpy(q, rr_nack3 + 8, sizeof(q));
	q[0] = 0x8f;
	q[3] = 3;
	get_pkt(q, 16, 0, &pkt);
	UT_EQ(sfu_rtcp_nack_rewrite(q, &pkt, 1, 2, 3), -EINVAL);
	/* A NACK with no FCI. */
	memcpy(q, rr_nack3 + 8, sizeof(q));
	q[3] = 2;
	get_pkt(q, 12, 0, &pkt);
	UT_EQ(sfu_rtcp_nack_rewrite(q, &pkt, 1, 2, 3), -EINVAL);
	UT_MEMEQ(q + 4, rr_nack3 + 12, 8);
}

UT_TEST(nack_rewrite_padded)
{
	/* NACK with one entry then 4 bytes of padding (last in compound). */
	uint8_t p[20] = {
		0xa1, 0xcd, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb, 0xcc, 0xdd,
		0x00, 0x05, 0xff, 0xff, 0x00, 0x00, 0x00, 0x04,
	};
	struct sfu_rtcp_pkt pkt;
	uint16_t pid, blp;

	UT_EQ(sfu_rtcp_validate(p, sizeof(p)), 1);
	get_pkt(p, sizeof(p), 0, &pkt);
	UT_EQ(sfu_rtcp_nack_entry(p, &pkt, 1, &pid, &blp), -EINVAL);
	UT_EQ(sfu_rtcp_nack_rewrite(p, &pkt, 1, 2, 6), 0);
	UT_EQ(sfu_rtcp_nack_entry(p, &pkt, 0, &pid, &blp), 0);
	UT_EQ(pid, 0xffff);
	UT_EQ(blp, 0xffff);
	/* The padding is left as it was. */
	UT_EQ(p[16], 0);
	UT_EQ(p[19], 4);
	/* Padding that splits an entry, or a bad count, is refused. */
	p[19] = 2;
	UT_EQ(sfu_rtcp_nack_rewrite(p, &pkt, 1, 2, 6), -EINVAL);
	p[19] = 0;
	UT_EQ(sfu_rtcp_nack_rewrite(p, &pkt, 1, 2, 6), -EINVAL);
	UT_EQ(sfu_rtcp_nack_entry(p, &pkt, 0, &pid, &blp), -EINVAL);
}

UT_TEST(rr_build_and_report_blocks)
{
	static const uint8_t want[32] = {
		0x81, 0xc9, 0x00, 0x07, 0x01, 0x02, 0x03, 0x04,
		0xaa, 0xbb, 0xcc, 0xdd, 0x0c, 0xff, 0xff, 0xfe, 0x00, 0x01, 0x10, 0x00,
		0x00, 0x00, 0x00, 0x28, 0x12, 0x34, 0x56, 0x78, 0x00, 0x01, 0x00, 0x00,
	};
	struct sfu_rtcp_rb in[3] = {
		{ 0xaabbccdd, 12, -2, 0x00011000, 40, 0x12345678, 0x00010000 },
		{ 1, 255, 0x1000000, 2, 3, 4, 5 },      /* clamps to 0x7fffff */
		{ 2, 0, -0x900000, 6, 7, 8, 9 },        /* clamps to -0x800000 */
	};
	struct sfu_rtcp_rb out;
	struct sfu_rtcp_pkt pkt;
	uint8_t buf[8 + 24 * 3];

	UT_EQ(sfu_rtcp_rr_build(buf, 0x01020304, in, 1), 32);
	UT_MEMEQ(buf, want, sizeof(want));
	UT_EQ(sfu_rtcp_rr_build(buf, 0x01020304, in, 3), sizeof(buf));
	UT_EQ(sfu_rtcp_validate(buf, sizeof(buf)), 1);
	get_pkt(buf, sizeof(buf), 0, &pkt);
	UT_EQ(pkt.pt, SFU_RTCP_RR);
	UT_EQ(pkt.fmt, 3);
	UT_EQ(sfu_rtcp_rb_get(buf, &pkt, 0, &out), 0);
	UT_EQ(out.ssrc, 0xaabbccddu);
	UT_EQ(out.fraction_lost, 12);
	UT_EQ(out.cum_lost, -2);
	UT_EQ(out.ext_high_seq, 0x00011000);
	UT_EQ(out.jitter, 40);
	UT_EQ(out.lsr, 0x12345678);
	UT_EQ(out.dlsr, 0x00010000);
	UT_EQ(sfu_rtcp_rb_get(buf, &pkt, 1, &out), 0);
	UT_EQ(out.fraction_lost, 255);
	UT_EQ(out.cum_lost, 0x7fffff);
	UT_EQ(out.dlsr, 5);
	UT_EQ(sfu_rtcp_rb_get(buf, &pkt, 2, &out), 0);
	UT_EQ(out.cum_lost, -0x800000);
	UT_EQ(out.lsr, 8);
	UT_EQ(sfu_rtcp_rb_get(buf, &pkt, 3, &out), -EINVAL);
	/* Empty RR and too many blocks. */
	UT_EQ(sfu_rtcp_rr_build(buf, 0x01020304, NULL, 0), 8);
	UT_MEMEQ(buf, rr_pli, 8);
	UT_EQ(sfu_rtcp_rr_build(buf, 1, in, SFU_RTCP_MAX_RB + 1), 0);
}

UT_TEST(report_blocks_in_sr_and_malformed)
{
	struct sfu_rtcp_rb out;
	struct sfu_rtcp_pkt pkt;
	uint8_t p[sizeof(sr_sdes)];

	get_pkt(sr_sdes, sizeof(sr_sdes), 0, &pkt);
	UT_EQ(sfu_rtcp_rb_get(sr_sdes, &pkt, 0, &out), 0);
	UT_EQ(out.ssrc, 0xaabbccddu);
	UT_EQ(out.cum_lost, -2);
	UT_EQ(out.jitter, 40);
	UT_EQ(sfu_rtcp_rb_get(sr_sdes, &pkt, 1, &out), -EINVAL);
	/* SDES, PLI are not reports. */
	get_pkt(sr_sdes, sizeof(sr_sdes), 1, &pkt);
	UT_EQ(sfu_rtcp_rb_get(sr_sdes, &pkt, 0, &out), -EINVAL);
	get_pkt(rr_pli, sizeof(rr_pli), 1, &pkt);
	UT_EQ(sfu_rtcp_rb_get(rr_pli, &pkt, 0, &out), -EINVAL);
	/* RC says 2 but the length holds 1: the second is refused. */
	memcpy(p, sr_sdes, sizeof(p));
	p[0] = 0x82;
	get_pkt(p, sizeof(p), 0, &pkt);
	UT_EQ(sfu_rtcp_rb_get(p, &pkt, 0, &out), 0);
	UT_EQ(sfu_rtcp_rb_get(p, &pkt, 1, &out), -EINVAL);
	/* RC 0 with a block's worth of length: the bytes are not a block. */
	memcpy(p, sr_sdes, sizeof(p));
	p[0] = 0x80;
	get_pkt(p, sizeof(p), 0, &pkt);
	UT_EQ(sfu_rtcp_rb_get(p, &pkt, 0, &out), -EINVAL);
	/* An SR shorter than its sender info. */
	p[0] = 0x81;
	p[3] = 5;
	get_pkt(p, 24, 0, &pkt);
	UT_EQ(sfu_rtcp_rb_get(p, &pkt, 0, &out), -EINVAL);
}

UT_TEST(remb_build_bytes_and_round_trip)
{
	static const uint8_t want[28] = {
		0x8f, 0xce, 0x00, 0x06, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00,
		'R', 'E', 'M', 'B', 0x02, 0x0b, 0xd0, 0x90,
		0xaa, 0xbb, 0xcc, 0xdd, 0x11, 0x22, 0x33, 0x44,
	};
	static const uint32_t ssrcs[2] = { 0xaabbccdd, 0x11223344 };
	uint32_t got[2] = { 0, 0 };
	uint8_t buf[28];
	struct sfu_rtcp_pkt pkt;
	uint64_t br = 0;

	/* 1 000 000 = 0x3d090 << 2 (RFC-draft remb-03 2.2 exponent/mantissa). */
	UT_EQ(sfu_rtcp_remb_build(buf, 0x01020304, 1000000, ssrcs, 2), 28);
	UT_MEMEQ(buf, want, sizeof(want));
	UT_EQ(sfu_rtcp_validate(buf, sizeof(buf)), 1);
	get_pkt(buf, sizeof(buf), 0, &pkt);
	UT_EQ(sfu_rtcp_remb_parse(buf, &pkt, &br, got, 2), 2);
	UT_EQ(br, 1000000);
	UT_EQ(got[0], ssrcs[0]);
	UT_EQ(got[1], ssrcs[1]);
	/* Fewer slots than SSRCs: the count is still the packet's. */
	got[0] = got[1] = 0;
	UT_EQ(sfu_rtcp_remb_parse(buf, &pkt, &br, got, 1), 2);
	UT_EQ(got[0], ssrcs[0]);
	UT_EQ(got[1], 0);
	UT_EQ(sfu_rtcp_remb_parse(buf, &pkt, &br, NULL, 0), 2);

	/* Rounded down to what 18 bits carry; small values exactly. */
	UT_EQ(sfu_rtcp_remb_build(buf, 1, 1000003, NULL, 0), 20);
	get_pkt(buf, 20, 0, &pkt);
	UT_EQ(sfu_rtcp_remb_parse(buf, &pkt, &br, NULL, 0), 0);
	UT_EQ(br, 1000000);
	UT_EQ(sfu_rtcp_remb_build(buf, 1, 0x3ffff, NULL, 0), 20);
	UT_EQ(sfu_rtcp_remb_parse(buf, &pkt, &br, NULL, 0), 0);
	UT_EQ(br, 0x3ffff);
	UT_EQ(buf[17], 0x03);
	/* The largest: exponent 46 still fits in 64 bits. */
	UT_EQ(sfu_rtcp_remb_build(buf, 1, UINT64_MAX, NULL, 0), 20);
	UT_EQ(sfu_rtcp_remb_parse(buf, &pkt, &br, NULL, 0), 0);
	UT_CHECK(br == (uint64_t)0x3ffff << 46);
	UT_EQ(sfu_rtcp_remb_build(buf, 1, 0, ssrcs, 256), 0);
}

UT_TEST(remb_parse_malformed)
{
	uint8_t p[28];
	struct sfu_rtcp_pkt pkt;
	uint64_t br;
	uint32_t s[2];
	static const uint32_t ssrcs[2] = { 5, 6 };

	UT_EQ(sfu_rtcp_remb_build(p, 1, 1000000, ssrcs, 2), 28);
	get_pkt(p, sizeof(p), 0, &pkt);
	/* Exponent 63 overflows 64 bits: saturate. */
	p[17] = 0xff;
	UT_EQ(sfu_rtcp_remb_parse(p, &pkt, &br, s, 2), 2);
	UT_CHECK(br == UINT64_MAX);
	/* Exponent 47 with the top mantissa bit set just overflows; with it clear it fits. */
	p[17] = (uint8_t)(47 << 2 | 0x02);
	UT_EQ(sfu_rtcp_remb_parse(p, &pkt, &br, s, 2), 2);
	UT_CHECK(br == UINT64_MAX);
	p[17] = (uint8_t)(47 << 2 | 0x01);
	p[18] = 0xff;
	p[19] = 0xff;
	UT_EQ(sfu_rtcp_remb_parse(p, &pkt, &br, s, 2), 2);
	UT_CHECK(br == (uint64_t)0x1ffff << 47);
	/* Num SSRC past the packet. */
	p[16] = 3;
	UT_EQ(sfu_rtcp_remb_parse(p, &pkt, &br, s, 2), -EINVAL);
	p[16] = 2;
	/* Not "REMB", whichever letter differs. */
	for (unsigned int i = 12; i < 16; i++) {
		uint8_t keep = p[i];

		p[i] = 'X';
		UT_EQ(sfu_rtcp_remb_parse(p, &pkt, &br, s, 2), -EINVAL);
		p[i] = keep;
	}
	UT_EQ(sfu_rtcp_remb_parse(p, &pkt, &br, s, 2), 2);
	/* Too short for the fixed part. */
	p[3] = 3;
	get_pkt(p, 16, 0, &pkt);
	UT_EQ(sfu_rtcp_remb_parse(p, &pkt, &br, s, 2), -EINVAL);
	/* Other FMT / type. */
	get_pkt(rr_pli, sizeof(rr_pli), 1, &pkt);
	UT_EQ(sfu_rtcp_remb_parse(rr_pli, &pkt, &br, s, 2), -EINVAL);
}

UT_MAIN("rtcp",
	UT_CASE(validate_compound),
	UT_CASE(validate_every_truncation),
	UT_CASE(validate_length_fields),
	UT_CASE(validate_version),
	UT_CASE(validate_padding),
	UT_CASE(validate_zero_and_huge),
	UT_CASE(next_iterates),
	UT_CASE(next_short_packets),
	UT_CASE(next_malformed),
	UT_CASE(accessors_refuse_bogus_pkt),
	UT_CASE(sr_parse_fields),
	UT_CASE(sr_parse_malformed),
	UT_CASE(sr_build_bytes_and_round_trip),
	UT_CASE(pli_build_bytes_and_round_trip),
	UT_CASE(fir_build_bytes_and_round_trip),
	UT_CASE(fir_entries),
	UT_CASE(nack_build_bytes_and_entries),
	UT_CASE(nack_build_max_pairs),
	UT_CASE(nack_rewrite_with_wrap),
	UT_CASE(nack_rewrite_refuses),
	UT_CASE(nack_rewrite_padded),
	UT_CASE(rr_build_and_report_blocks),
	UT_CASE(report_blocks_in_sr_and_malformed),
	UT_CASE(remb_build_bytes_and_round_trip),
	UT_CASE(remb_parse_malformed))
