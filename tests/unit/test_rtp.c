/*
 * test_rtp.c — unit tests for the RTP half of sfu_rtp.h: the RFC 7983
 * classifier at every range boundary, sfu_rtp_parse on valid and malformed
 * headers (every truncation, wrong version, CSRC list and extension past the
 * end), the rewrite, RFC 8285 extension lookup in both forms, and padding.
 *
 * Packets are written out byte by byte here, independent of the code under
 * test.  Single-threaded; no EAL.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "sfu_rtp.h"
#include "unit.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* V=2, PT 111, seq 0x1234, ts 0x01020304, SSRC 0xa1b2c3d4, 4-byte payload. */
static const uint8_t pkt_plain[] = {
	0x80, 0x6f, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04, 0xa1, 0xb2, 0xc3, 0xd4,
	0xde, 0xad, 0xbe, 0xef,
};

/* Marker, PT 96, two CSRCs, 2-byte payload. */
static const uint8_t pkt_csrc[] = {
	0x82, 0xe0, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
	0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
	0x55, 0x66,
};

/*
 * One-byte extension (RFC 8285 4.2), 4 words: id 1 "0", a padding byte,
 * id 3 (3 bytes), id 5 (2 bytes), id 2 "x", two padding bytes, and id 14
 * ending exactly at the extension's end.  One CSRC.
 */
static const uint8_t pkt_ext1[] = {
	0x91, 0x60, 0x00, 0x07, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x09,
	0xcc, 0xcc, 0xcc, 0xcc,                         /* CSRC */
	0xbe, 0xde, 0x00, 0x04,                         /* profile, 4 words */
	0x10, '0', 0x00, 0x32, 0xaa, 0xbb, 0xcc, 0x51,  /* id1 "0", pad, id3 3B, id5 2B.. */
	0x01, 0x02, 0x20, 'x', 0x00, 0x00, 0xe0, 0xee,  /* ..id5, id2 "x", pad, pad, id14 */
	0x01, 0x02, 0x03,                               /* payload */
};

/* Two-byte extension (RFC 8285 4.3), appbits 0x5: id 1 len 0, pad, id 20 len 5, id 255 len 1. */
static const uint8_t pkt_ext2[] = {
	0x90, 0x60, 0x00, 0x08, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x09,
	0x10, 0x05, 0x00, 0x04,                         /* profile, 4 words */
	0x01, 0x00, 0x00, 0x14, 0x05, 'r', 'i', 'd',
	'-', 'h', 0xff, 0x01, 0x7e, 0x00, 0x00, 0x00,
	0x42,                                           /* payload */
};

/* Padding: P bit, payload 3 bytes then 5 bytes of padding ending in 5. */
static const uint8_t pkt_pad[] = {
	0xa0, 0x60, 0x00, 0x09, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0x09,
	0x01, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00, 0x05,
};

/* Copy into a buffer sized exactly for the case, so tests stay honest under ASan. */
static void copy_pkt(uint8_t *dst, const uint8_t *src, size_t len)
{
	memcpy(dst, src, len);
}

UT_TEST(classify_rfc7983_boundaries)
{
	/* RFC 7983 7, with byte 2 an RTP payload type (96). */
	static const struct {
		uint8_t b;
		enum sfu_pkt_class want;
	} cases[] = {
		{ 0, SFU_PKT_STUN },     { 3, SFU_PKT_STUN },    { 4, SFU_PKT_UNKNOWN },
		{ 19, SFU_PKT_UNKNOWN }, { 20, SFU_PKT_DTLS },   { 63, SFU_PKT_DTLS },
		{ 64, SFU_PKT_UNKNOWN }, { 127, SFU_PKT_UNKNOWN }, { 128, SFU_PKT_RTP },
		{ 191, SFU_PKT_RTP },    { 192, SFU_PKT_UNKNOWN }, { 255, SFU_PKT_UNKNOWN },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint8_t p[2] = { cases[i].b, 96 };

		UT_EQ(sfu_pkt_classify(p, sizeof(p)), cases[i].want);
	}
}

UT_TEST(classify_every_first_byte)
{
	for (unsigned int b = 0; b < 256; b++) {
		uint8_t p[2] = { (uint8_t)b, 0x00 };
		enum sfu_pkt_class want = SFU_PKT_UNKNOWN;

		if (b <= 3)
			want = SFU_PKT_STUN;
		else if (b >= 20 && b <= 63)
			want = SFU_PKT_DTLS;
		else if (b >= 128 && b <= 191)
			want = SFU_PKT_RTP;
		UT_EQ(sfu_pkt_classify(p, sizeof(p)), want);
	}
}

UT_TEST(classify_rtp_vs_rtcp_second_byte)
{
	/* RFC 5761 4: second byte 192..223 is RTCP, in both first-byte edges. */
	static const uint8_t firsts[] = { 128, 0x81, 191 };

	for (size_t f = 0; f < ARRAY_LEN(firsts); f++) {
		for (unsigned int b = 0; b < 256; b++) {
			uint8_t p[2] = { firsts[f], (uint8_t)b };
			enum sfu_pkt_class want =
				b >= 192 && b <= 223 ? SFU_PKT_RTCP : SFU_PKT_RTP;

			UT_EQ(sfu_pkt_classify(p, sizeof(p)), want);
		}
	}
	/* The named edges once more, readably. */
	{
		uint8_t p191[2] = { 0x80, 191 }, p192[2] = { 0x80, 192 };
		uint8_t p223[2] = { 0x80, 223 }, p224[2] = { 0x80, 224 };
		uint8_t sr[2] = { 0x80, 200 }, psfb[2] = { 0x81, 206 };

		UT_EQ(sfu_pkt_classify(p191, 2), SFU_PKT_RTP);
		UT_EQ(sfu_pkt_classify(p192, 2), SFU_PKT_RTCP);
		UT_EQ(sfu_pkt_classify(p223, 2), SFU_PKT_RTCP);
		UT_EQ(sfu_pkt_classify(p224, 2), SFU_PKT_RTP);
		UT_EQ(sfu_pkt_classify(sr, 2), SFU_PKT_RTCP);
		UT_EQ(sfu_pkt_classify(psfb, 2), SFU_PKT_RTCP);
	}
	UT_EQ(sfu_pkt_classify(pkt_plain, sizeof(pkt_plain)), SFU_PKT_RTP);
}

UT_TEST(classify_short)
{
	static const uint8_t stun[1] = { 0x01 }, dtls[1] = { 22 }, rtp[1] = { 0x80 };

	UT_EQ(sfu_pkt_classify(NULL, 0), SFU_PKT_UNKNOWN);
	UT_EQ(sfu_pkt_classify(pkt_plain, 0), SFU_PKT_UNKNOWN);
	UT_EQ(sfu_pkt_classify(stun, 1), SFU_PKT_STUN);
	UT_EQ(sfu_pkt_classify(dtls, 1), SFU_PKT_DTLS);
	/* RTP vs RTCP needs byte 2. */
	UT_EQ(sfu_pkt_classify(rtp, 1), SFU_PKT_UNKNOWN);
}

UT_TEST(parse_plain)
{
	struct sfu_rtp_info ri;

	memset(&ri, 0xff, sizeof(ri));
	UT_EQ(sfu_rtp_parse(pkt_plain, sizeof(pkt_plain), &ri), 0);
	UT_EQ(ri.hdr_len, 12);
	UT_EQ(ri.pt, 111);
	UT_CHECK(!ri.marker);
	UT_EQ(ri.cc, 0);
	UT_CHECK(!ri.has_ext);
	UT_EQ(ri.seq, 0x1234);
	UT_EQ(ri.ts, 0x01020304);
	UT_EQ(ri.ssrc, 0xa1b2c3d4u);
	UT_EQ(ri.ext_profile, 0);
	UT_EQ(ri.ext_off, 0);
	UT_EQ(ri.ext_len, 0);
	/* A header with no payload at all is still a header. */
	UT_EQ(sfu_rtp_parse(pkt_plain, 12, &ri), 0);
	UT_EQ(ri.hdr_len, 12);
}

UT_TEST(parse_csrc_marker)
{
	struct sfu_rtp_info ri;

	UT_EQ(sfu_rtp_parse(pkt_csrc, sizeof(pkt_csrc), &ri), 0);
	UT_EQ(ri.hdr_len, 20);
	UT_EQ(ri.cc, 2);
	UT_CHECK(ri.marker);
	UT_EQ(ri.pt, 96);
	UT_EQ(ri.seq, 0xffff);
	UT_EQ(ri.ts, 1);
	UT_EQ(ri.ssrc, 2);
}

UT_TEST(parse_extensions)
{
	struct sfu_rtp_info ri;

	UT_EQ(sfu_rtp_parse(pkt_ext1, sizeof(pkt_ext1), &ri), 0);
	UT_CHECK(ri.has_ext);
	UT_EQ(ri.cc, 1);
	UT_EQ(ri.ext_profile, 0xBEDE);
	UT_EQ(ri.ext_off, 20);
	UT_EQ(ri.ext_len, 16);
	UT_EQ(ri.hdr_len, 36);

	UT_EQ(sfu_rtp_parse(pkt_ext2, sizeof(pkt_ext2), &ri), 0);
	UT_EQ(ri.ext_profile, 0x1005);
	UT_EQ(ri.ext_off, 16);
	UT_EQ(ri.ext_len, 16);
	UT_EQ(ri.hdr_len, 32);
}

UT_TEST(parse_empty_extension)
{
	/* RFC 3550 5.3.1: length 0 is valid, the extension is just its header. */
	static const uint8_t p[] = {
		0x90, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x00,
	};
	struct sfu_rtp_info ri;
	const uint8_t *d;
	size_t n;

	UT_EQ(sfu_rtp_parse(p, sizeof(p), &ri), 0);
	UT_EQ(ri.hdr_len, 16);
	UT_EQ(ri.ext_off, 16);
	UT_EQ(ri.ext_len, 0);
	UT_EQ(sfu_rtp_ext_find(p, &ri, 1, &d, &n), -ENOENT);
}

/* Every truncation of a valid packet: valid iff it still holds the header. */
static void check_truncations(const uint8_t *pkt, size_t len, size_t hdr_len)
{
	for (size_t l = 0; l <= len; l++) {
		uint8_t buf[128];
		struct sfu_rtp_info ri;
		int rc;

		copy_pkt(buf, pkt, l);
		rc = sfu_rtp_parse(buf, l, &ri);
		if (l >= hdr_len) {
			UT_EQ(rc, 0);
			UT_EQ(ri.hdr_len, hdr_len);
		} else {
			UT_EQ(rc, -EINVAL);
		}
	}
}

UT_TEST(parse_every_truncation)
{
	check_truncations(pkt_plain, sizeof(pkt_plain), 12);
	check_truncations(pkt_csrc, sizeof(pkt_csrc), 20);
	check_truncations(pkt_ext1, sizeof(pkt_ext1), 36);
	check_truncations(pkt_ext2, sizeof(pkt_ext2), 32);
	check_truncations(pkt_pad, sizeof(pkt_pad), 12);
}

UT_TEST(parse_wrong_version)
{
	for (unsigned int v = 0; v < 4; v++) {
		uint8_t p[sizeof(pkt_plain)];
		struct sfu_rtp_info ri;

		copy_pkt(p, pkt_plain, sizeof(p));
		p[0] = (uint8_t)((p[0] & 0x3f) | v << 6);
		UT_EQ(sfu_rtp_parse(p, sizeof(p), &ri), v == 2 ? 0 : -EINVAL);
	}
}

UT_TEST(parse_csrc_past_end)
{
	uint8_t p[sizeof(pkt_csrc)];
	struct sfu_rtp_info ri;

	/* CC 15 claims 60 bytes of CSRCs; the packet has 10 after the header. */
	copy_pkt(p, pkt_csrc, sizeof(p));
	p[0] = 0x8f;
	UT_EQ(sfu_rtp_parse(p, sizeof(p), &ri), -EINVAL);
	/* CC 3 needs 24 bytes; 22 are there. */
	p[0] = 0x83;
	UT_EQ(sfu_rtp_parse(p, sizeof(p), &ri), -EINVAL);
	/* CC 2 plus an X bit whose extension header would start at the payload. */
	p[0] = 0x92;
	UT_EQ(sfu_rtp_parse(p, sizeof(p), &ri), -EINVAL);
}

UT_TEST(parse_extension_past_end)
{
	uint8_t p[sizeof(pkt_ext1)];
	struct sfu_rtp_info ri;

	copy_pkt(p, pkt_ext1, sizeof(p));
	/* 4 words + 3 payload bytes: 4 words fits, 5 does not. */
	p[19] = 5;
	UT_EQ(sfu_rtp_parse(p, sizeof(p), &ri), -EINVAL);
	p[19] = 0xff;
	p[18] = 0xff;
	UT_EQ(sfu_rtp_parse(p, sizeof(p), &ri), -EINVAL);
	/* A header ending exactly at len is valid; one byte short is not. */
	p[18] = 0;
	p[19] = 4;
	UT_EQ(sfu_rtp_parse(p, 36, &ri), 0);
	UT_EQ(sfu_rtp_parse(p, 35, &ri), -EINVAL);
	/* X bit set on a bare 12-byte header: no room for the extension header. */
	{
		uint8_t q[12];

		copy_pkt(q, pkt_plain, sizeof(q));
		q[0] |= 0x10;
		UT_EQ(sfu_rtp_parse(q, sizeof(q), &ri), -EINVAL);
	}
}

UT_TEST(parse_too_long)
{
	static uint8_t big[65536];
	struct sfu_rtp_info ri;

	copy_pkt(big, pkt_plain, sizeof(pkt_plain));
	UT_EQ(sfu_rtp_parse(big, 65535, &ri), 0);
	UT_EQ(sfu_rtp_parse(big, 65536, &ri), -EINVAL);
	/* The largest extension that fits a UDP payload still parses exactly. */
	big[0] = 0x90;
	big[12] = 0xbe;
	big[13] = 0xde;
	big[14] = 0x3f;
	big[15] = 0xfc; /* 16380 words = 65520 bytes: 12 + 4 + 65520 = 65536 */
	UT_EQ(sfu_rtp_parse(big, 65535, &ri), -EINVAL);
	big[15] = 0xfb; /* 65516 bytes: header ends at 65532 */
	UT_EQ(sfu_rtp_parse(big, 65535, &ri), 0);
	UT_EQ(ri.hdr_len, 65532);
	UT_EQ(ri.ext_len, 65516);
	UT_EQ(sfu_rtp_payload_len(big, 65535, &ri), 3);
	UT_EQ(sfu_rtp_payload_len(big, 65536, &ri), -EINVAL);
}

UT_TEST(rewrite_fields)
{
	uint8_t p[sizeof(pkt_ext1)], orig[sizeof(pkt_ext1)];
	struct sfu_rtp_info ri;

	copy_pkt(p, pkt_ext1, sizeof(p));
	copy_pkt(orig, pkt_ext1, sizeof(orig));
	sfu_rtp_rewrite(p, 100, 0xfffe, 0xdeadbeef, 0x01020304);
	UT_EQ(sfu_rtp_parse(p, sizeof(p), &ri), 0);
	UT_EQ(ri.pt, 100);
	UT_CHECK(!ri.marker);
	UT_EQ(ri.seq, 0xfffe);
	UT_EQ(ri.ts, 0xdeadbeefu);
	UT_EQ(ri.ssrc, 0x01020304);
	UT_EQ(p[0], orig[0]);
	UT_MEMEQ(p + 12, orig + 12, sizeof(p) - 12);

	/* The marker bit survives; pt's top bit never lands in it. */
	copy_pkt(p, pkt_csrc, sizeof(pkt_csrc));
	sfu_rtp_rewrite(p, 0xff, 1, 2, 3);
	UT_EQ(p[1], 0xff);
	copy_pkt(p, pkt_plain, sizeof(pkt_plain));
	sfu_rtp_rewrite(p, 0x80 | 8, 1, 2, 3);
	UT_EQ(p[1], 8);
	{
		static const uint8_t want[12] = { 0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
						  0x00, 0x00, 0x00, 0x03 };

		UT_MEMEQ(p, want, sizeof(want));
	}
}

UT_TEST(ext_find_one_byte)
{
	struct sfu_rtp_info ri;
	const uint8_t *d = NULL;
	size_t n = 0;

	UT_EQ(sfu_rtp_parse(pkt_ext1, sizeof(pkt_ext1), &ri), 0);
	UT_EQ(sfu_rtp_ext_find(pkt_ext1, &ri, 1, &d, &n), 0);
	UT_EQ(n, 1);
	UT_CHECK(d == pkt_ext1 + 21);
	UT_EQ(d[0], '0');
	/* Behind a padding byte. */
	UT_EQ(sfu_rtp_ext_find(pkt_ext1, &ri, 3, &d, &n), 0);
	UT_EQ(n, 3);
	UT_CHECK(d == pkt_ext1 + 24);
	UT_EQ(sfu_rtp_ext_find(pkt_ext1, &ri, 5, &d, &n), 0);
	UT_EQ(n, 2);
	UT_EQ(d[0], 0x01);
	UT_EQ(d[1], 0x02);
	UT_EQ(sfu_rtp_ext_find(pkt_ext1, &ri, 2, &d, &n), 0);
	UT_EQ(n, 1);
	UT_EQ(d[0], 'x');
	UT_EQ(sfu_rtp_ext_find(pkt_ext1, &ri, 14, &d, &n), 0);
	UT_EQ(n, 1);
	UT_EQ(d[0], 0xee);
	/* Absent, padding id, reserved id and ids beyond the form. */
	UT_EQ(sfu_rtp_ext_find(pkt_ext1, &ri, 4, &d, &n), -ENOENT);
	UT_EQ(sfu_rtp_ext_find(pkt_ext1, &ri, 0, &d, &n), -ENOENT);
	UT_EQ(sfu_rtp_ext_find(pkt_ext1, &ri, 15, &d, &n), -ENOENT);
	UT_EQ(sfu_rtp_ext_find(pkt_ext1, &ri, 16, &d, &n), -ENOENT);
	UT_EQ(sfu_rtp_ext_find(pkt_ext1, &ri, 255, &d, &n), -ENOENT);
}

UT_TEST(ext_find_one_byte_id15_stops)
{
	/*
	 * RFC 8285 4.2: id 15 ends processing and its length is ignored; read as
	 * an element (1 data byte) it would expose id 2 right after it.
	 */
	static const uint8_t p[] = {
		0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x02,
		0x10, 0xaa, 0xf0, 0x00, 0x20, 0xbb, 0x00, 0x00,
	};
	struct sfu_rtp_info ri;
	const uint8_t *d;
	size_t n;

	UT_EQ(sfu_rtp_parse(p, sizeof(p), &ri), 0);
	UT_EQ(sfu_rtp_ext_find(p, &ri, 1, &d, &n), 0);
	UT_EQ(d[0], 0xaa);
	UT_EQ(sfu_rtp_ext_find(p, &ri, 2, &d, &n), -ENOENT);
}

UT_TEST(ext_find_one_byte_malformed)
{
	/* id 1 claims 16 bytes; the extension holds 7 after its ID byte. */
	static const uint8_t p[] = {
		0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x02,
		0x2f, 1, 2, 3, 4, 5, 6, 7, 0x99,
	};
	/* A last element whose data would start exactly at the end. */
	static const uint8_t q[] = {
		0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x01,
		0x10, 0xaa, 0x00, 0x30, 0x42,
	};
	struct sfu_rtp_info ri;
	const uint8_t *d;
	size_t n;

	UT_EQ(sfu_rtp_parse(p, sizeof(p), &ri), 0);
	UT_EQ(sfu_rtp_ext_find(p, &ri, 2, &d, &n), -EINVAL);
	UT_EQ(sfu_rtp_ext_find(p, &ri, 3, &d, &n), -EINVAL);
	UT_EQ(sfu_rtp_parse(q, sizeof(q), &ri), 0);
	UT_EQ(sfu_rtp_ext_find(q, &ri, 1, &d, &n), 0);
	UT_EQ(sfu_rtp_ext_find(q, &ri, 3, &d, &n), -EINVAL);
	UT_EQ(sfu_rtp_ext_find(q, &ri, 4, &d, &n), -EINVAL);
}

UT_TEST(ext_find_two_byte)
{
	struct sfu_rtp_info ri;
	const uint8_t *d = NULL;
	size_t n = 99;

	UT_EQ(sfu_rtp_parse(pkt_ext2, sizeof(pkt_ext2), &ri), 0);
	/* Zero-length elements are allowed in the two-byte form. */
	UT_EQ(sfu_rtp_ext_find(pkt_ext2, &ri, 1, &d, &n), 0);
	UT_EQ(n, 0);
	UT_CHECK(d == pkt_ext2 + 18);
	UT_EQ(sfu_rtp_ext_find(pkt_ext2, &ri, 20, &d, &n), 0);
	UT_EQ(n, 5);
	UT_MEMEQ(d, "rid-h", 5);
	UT_EQ(sfu_rtp_ext_find(pkt_ext2, &ri, 255, &d, &n), 0);
	UT_EQ(n, 1);
	UT_EQ(d[0], 0x7e);
	UT_EQ(sfu_rtp_ext_find(pkt_ext2, &ri, 0, &d, &n), -ENOENT);
	UT_EQ(sfu_rtp_ext_find(pkt_ext2, &ri, 2, &d, &n), -ENOENT);
	UT_EQ(sfu_rtp_ext_find(pkt_ext2, &ri, 15, &d, &n), -ENOENT);
}

UT_TEST(ext_find_two_byte_malformed)
{
	/* id 7 claims 9 bytes, 4 remain; then (q) an id byte with no length byte. */
	static const uint8_t p[] = {
		0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x10, 0x00, 0x00, 0x02,
		0x03, 0x00, 0x07, 0x09, 1, 2, 3, 4,
	};
	static const uint8_t q[] = {
		0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x10, 0x00, 0x00, 0x01,
		0x03, 0x01, 0xaa, 0x05, 0x42,
	};
	struct sfu_rtp_info ri;
	const uint8_t *d;
	size_t n;

	UT_EQ(sfu_rtp_parse(p, sizeof(p), &ri), 0);
	UT_EQ(sfu_rtp_ext_find(p, &ri, 3, &d, &n), 0);
	UT_EQ(n, 0);
	UT_EQ(sfu_rtp_ext_find(p, &ri, 7, &d, &n), -EINVAL);
	UT_EQ(sfu_rtp_ext_find(p, &ri, 8, &d, &n), -EINVAL);
	UT_EQ(sfu_rtp_parse(q, sizeof(q), &ri), 0);
	UT_EQ(sfu_rtp_ext_find(q, &ri, 3, &d, &n), 0);
	UT_EQ(d[0], 0xaa);
	UT_EQ(sfu_rtp_ext_find(q, &ri, 5, &d, &n), -EINVAL);
}

UT_TEST(ext_find_no_or_opaque_extension)
{
	static const uint8_t opaque[] = {
		0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x00, 0x01, 0x00, 0x01,
		0x10, 0xaa, 0x00, 0x00,
	};
	struct sfu_rtp_info ri;
	const uint8_t *d;
	size_t n;

	UT_EQ(sfu_rtp_parse(pkt_plain, sizeof(pkt_plain), &ri), 0);
	for (unsigned int id = 0; id < 256; id++)
		UT_EQ(sfu_rtp_ext_find(pkt_plain, &ri, (uint8_t)id, &d, &n), -ENOENT);
	UT_EQ(sfu_rtp_parse(opaque, sizeof(opaque), &ri), 0);
	UT_EQ(ri.ext_profile, 1);
	UT_EQ(sfu_rtp_ext_find(opaque, &ri, 1, &d, &n), -ENOENT);
}

UT_TEST(ext_find_duplicate_first_wins)
{
	static const uint8_t p[] = {
		0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0x00, 0x01,
		0x40, 0x11, 0x40, 0x22,
	};
	struct sfu_rtp_info ri;
	const uint8_t *d;
	size_t n;

	UT_EQ(sfu_rtp_parse(p, sizeof(p), &ri), 0);
	UT_EQ(sfu_rtp_ext_find(p, &ri, 4, &d, &n), 0);
	UT_EQ(d[0], 0x11);
}

UT_TEST(payload_len_plain)
{
	struct sfu_rtp_info ri;

	UT_EQ(sfu_rtp_parse(pkt_plain, sizeof(pkt_plain), &ri), 0);
	UT_EQ(sfu_rtp_payload_len(pkt_plain, sizeof(pkt_plain), &ri), 4);
	UT_EQ(sfu_rtp_payload_len(pkt_plain, 12, &ri), 0);
	UT_EQ(sfu_rtp_parse(pkt_ext1, sizeof(pkt_ext1), &ri), 0);
	UT_EQ(sfu_rtp_payload_len(pkt_ext1, sizeof(pkt_ext1), &ri), 3);
	/* A len shorter than the parsed header is refused. */
	UT_EQ(sfu_rtp_payload_len(pkt_ext1, 35, &ri), -EINVAL);
}

UT_TEST(payload_len_padding)
{
	uint8_t p[sizeof(pkt_pad)];
	struct sfu_rtp_info ri;

	copy_pkt(p, pkt_pad, sizeof(p));
	UT_EQ(sfu_rtp_parse(p, sizeof(p), &ri), 0);
	UT_EQ(sfu_rtp_payload_len(p, sizeof(p), &ri), 3);
	/* Padding covering the whole payload is allowed: payload 0. */
	p[sizeof(p) - 1] = 8;
	UT_EQ(sfu_rtp_payload_len(p, sizeof(p), &ri), 0);
	/* One more than the payload reaches into the header. */
	p[sizeof(p) - 1] = 9;
	UT_EQ(sfu_rtp_payload_len(p, sizeof(p), &ri), -EINVAL);
	p[sizeof(p) - 1] = 255;
	UT_EQ(sfu_rtp_payload_len(p, sizeof(p), &ri), -EINVAL);
	/* Count 0 cannot be: it includes itself (RFC 3550 5.1). */
	p[sizeof(p) - 1] = 0;
	UT_EQ(sfu_rtp_payload_len(p, sizeof(p), &ri), -EINVAL);
	/* P set with no payload at all. */
	UT_EQ(sfu_rtp_parse(p, 12, &ri), 0);
	UT_EQ(sfu_rtp_payload_len(p, 12, &ri), -EINVAL);
	/* Count 1: just the count byte. */
	p[sizeof(p) - 1] = 1;
	UT_EQ(sfu_rtp_parse(p, sizeof(p), &ri), 0);
	UT_EQ(sfu_rtp_payload_len(p, sizeof(p), &ri), 7);
	/* Without the P bit the last byte is payload. */
	p[0] &= (uint8_t)~0x20;
	p[sizeof(p) - 1] = 0;
	UT_EQ(sfu_rtp_payload_len(p, sizeof(p), &ri), 8);
}

UT_TEST(payload_len_padding_after_extension)
{
	/* Padding is counted from the end of the packet, after CSRCs and extension. */
	uint8_t p[sizeof(pkt_ext1) + 2];
	struct sfu_rtp_info ri;

	copy_pkt(p, pkt_ext1, sizeof(pkt_ext1));
	p[0] |= 0x20;
	p[sizeof(p) - 2] = 0;
	p[sizeof(p) - 1] = 3;
	UT_EQ(sfu_rtp_parse(p, sizeof(p), &ri), 0);
	UT_EQ(sfu_rtp_payload_len(p, sizeof(p), &ri), 2);
	p[sizeof(p) - 1] = 5;
	UT_EQ(sfu_rtp_payload_len(p, sizeof(p), &ri), 0);
	p[sizeof(p) - 1] = 6;
	UT_EQ(sfu_rtp_payload_len(p, sizeof(p), &ri), -EINVAL);
}

UT_MAIN("rtp",
	UT_CASE(classify_rfc7983_boundaries),
	UT_CASE(classify_every_first_byte),
	UT_CASE(classify_rtp_vs_rtcp_second_byte),
	UT_CASE(classify_short),
	UT_CASE(parse_plain),
	UT_CASE(parse_csrc_marker),
	UT_CASE(parse_extensions),
	UT_CASE(parse_empty_extension),
	UT_CASE(parse_every_truncation),
	UT_CASE(parse_wrong_version),
	UT_CASE(parse_csrc_past_end),
	UT_CASE(parse_extension_past_end),
	UT_CASE(parse_too_long),
	UT_CASE(rewrite_fields),
	UT_CASE(ext_find_one_byte),
	UT_CASE(ext_find_one_byte_id15_stops),
	UT_CASE(ext_find_one_byte_malformed),
	UT_CASE(ext_find_two_byte),
	UT_CASE(ext_find_two_byte_malformed),
	UT_CASE(ext_find_no_or_opaque_extension),
	UT_CASE(ext_find_duplicate_first_wins),
	UT_CASE(payload_len_plain),
	UT_CASE(payload_len_padding),
	UT_CASE(payload_len_padding_after_extension))
