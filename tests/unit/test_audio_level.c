/*
 * test_audio_level.c — the RFC 6464 audio level read (sfu_level.h) on packets
 * written out byte by byte: one-byte (0xBEDE) and two-byte (0x100x) forms,
 * after other elements and padding, missing extension or element, wrong id,
 * element lengths other than one byte, element and block lengths running past
 * the end, an opaque profile; and the per-interval accumulator (mean rounding,
 * reset, saturation).  The data plane's worker calls exactly these per packet:
 * a malformed packet is an error return (counted there), never a read past len.
 *
 * Single-threaded; no EAL.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_level.h"
#include "unit.h"

/* The 12-byte fixed header with X set, SSRC 0x01020304. */
#define HDR_X 0x90, 0x6f, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0x01, 0x02, 0x03, 0x04

/* One-byte form, 2 words: id 1 (MID "0"), id 10 (level V=1, 20 dBov), padding. */
static const uint8_t one_byte[] = {
	HDR_X, 0xbe, 0xde, 0x00, 0x02,
	0x10, '0', 0xa0, 0x80 | 20, 0x00, 0x00, 0x00, 0x00,
	0xaa, 0xbb,                                     /* payload */
};

/* Two-byte form (0x1000, appbits 0), 2 words: padding byte, id 1 len 2, id 200 len 1. */
static const uint8_t two_byte[] = {
	HDR_X, 0x10, 0x00, 0x00, 0x02,
	0x00, 0x01, 0x02, 'a', 'b', 0xc8, 0x01, 0x2d,
};

static int read_pkt(const uint8_t *p, size_t len, uint8_t id, uint8_t *dbov, bool *voice)
{
	struct sfu_rtp_info ri;

	if (sfu_rtp_parse(p, len, &ri) < 0)
		return -EBADMSG;
	return sfu_level_read(p, &ri, id, dbov, voice);
}

UT_TEST(one_byte_valid)
{
	uint8_t dbov = 0;
	bool voice = false;

	UT_EQ(read_pkt(one_byte, sizeof(one_byte), 10, &dbov, &voice), 0);
	UT_EQ(dbov, 20);
	UT_EQ(voice, true);
}

UT_TEST(two_byte_valid)
{
	uint8_t dbov = 0;
	bool voice = true;

	UT_EQ(read_pkt(two_byte, sizeof(two_byte), 200, &dbov, &voice), 0);
	UT_EQ(dbov, 0x2d);
	UT_EQ(voice, false);
	/* The id-1 element is two bytes: not a level. */
	UT_EQ(read_pkt(two_byte, sizeof(two_byte), 1, &dbov, &voice), -EINVAL);
}

UT_TEST(missing)
{
	static const uint8_t no_x[] = { 0x80, 0x6f, 0, 1, 0, 0, 0, 0x10, 1, 2, 3, 4, 0xaa };
	/* An opaque (non-RFC 8285) profile is not parsed. */
	static const uint8_t opaque[] = { HDR_X, 0x12, 0x34, 0x00, 0x01, 0xa0, 0x14, 0, 0 };
	uint8_t dbov;
	bool voice;

	UT_EQ(read_pkt(no_x, sizeof(no_x), 10, &dbov, &voice), -ENOENT);
	UT_EQ(read_pkt(opaque, sizeof(opaque), 10, &dbov, &voice), -ENOENT);
}

UT_TEST(wrong_id)
{
	uint8_t dbov = 99;
	bool voice;

	UT_EQ(read_pkt(one_byte, sizeof(one_byte), 3, &dbov, &voice), -ENOENT);
	UT_EQ(read_pkt(one_byte, sizeof(one_byte), 15, &dbov, &voice), -ENOENT);
	UT_EQ(read_pkt(one_byte, sizeof(one_byte), 0, &dbov, &voice), -ENOENT);
	UT_EQ(read_pkt(two_byte, sizeof(two_byte), 10, &dbov, &voice), -ENOENT);
	UT_EQ(dbov, 99); /* untouched */
}

UT_TEST(element_length_not_one)
{
	/* One-byte form: id 10 with length field 1 (two bytes). */
	static const uint8_t two[] = { HDR_X, 0xbe, 0xde, 0x00, 0x01, 0xa1, 0x14, 0x00, 0x00 };
	/* Two-byte form: id 10 with length 0. */
	static const uint8_t zero[] = { HDR_X, 0x10, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x00 };
	uint8_t dbov;
	bool voice;

	UT_EQ(read_pkt(two, sizeof(two), 10, &dbov, &voice), -EINVAL);
	UT_EQ(read_pkt(zero, sizeof(zero), 10, &dbov, &voice), -EINVAL);
}

UT_TEST(truncated)
{
	/* An element before ours claims 16 bytes in a 4-byte block. */
	static const uint8_t overrun[] = { HDR_X, 0xbe, 0xde, 0x00, 0x01, 0x1f, 0xa0, 0x14, 0x00 };
	/* Two-byte form: the length byte itself is missing (block of 4: pad pad pad id). */
	static const uint8_t no_len[] = { HDR_X, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0a };
	/* Two-byte form: id 10 claims 5 bytes. */
	static const uint8_t long2[] = { HDR_X, 0x10, 0x00, 0x00, 0x01, 0x0a, 0x05, 0x14, 0x00 };
	uint8_t dbov;
	bool voice;

	UT_EQ(read_pkt(overrun, sizeof(overrun), 10, &dbov, &voice), -EINVAL);
	UT_EQ(read_pkt(no_len, sizeof(no_len), 10, &dbov, &voice), -EINVAL);
	UT_EQ(read_pkt(long2, sizeof(long2), 10, &dbov, &voice), -EINVAL);
	/* The block length (2 words) running past the packet: the RTP parse refuses it. */
	UT_EQ(read_pkt(one_byte, 12 + 4 + 7, 10, &dbov, &voice), -EBADMSG);
	/* Every truncation of the valid packet, in a buffer of exactly that size:
	 * never a read past len (ASan and valgrind see one). */
	for (size_t len = 0; len < sizeof(one_byte); len++) {
		uint8_t *buf = malloc(len ? len : 1);
		int ret;

		UT_CHECK(buf != NULL);
		if (buf == NULL)
			return;
		memcpy(buf, one_byte, len);
		ret = read_pkt(buf, len, 10, &dbov, &voice);
		UT_CHECK(len < 24 ? ret == -EBADMSG : ret == 0); /* header + 8-byte block */
		free(buf);
	}
}

UT_TEST(accumulator)
{
	struct sfu_level_acc a = { 0 };
	uint16_t packets = 9, voice = 9;

	UT_EQ(sfu_level_take(&a, &packets, &voice), 127);
	UT_EQ(packets, 0);
	UT_EQ(voice, 0);
	sfu_level_add(&a, 20, true);
	sfu_level_add(&a, 21, false);
	sfu_level_add(&a, 21, true);
	UT_EQ(sfu_level_take(&a, &packets, &voice), 21); /* 62 / 3 = 20.67 */
	UT_EQ(packets, 3);
	UT_EQ(voice, 2);
	UT_EQ(sfu_level_take(&a, &packets, &voice), 127); /* reset */
	for (unsigned int i = 0; i < 70000; i++)
		sfu_level_add(&a, 127, true);
	UT_EQ(sfu_level_take(&a, &packets, &voice), 127);
	UT_EQ(packets, UINT16_MAX);
	UT_EQ(voice, UINT16_MAX);
}

UT_MAIN("audio_level", UT_CASE(one_byte_valid), UT_CASE(two_byte_valid), UT_CASE(missing),
	UT_CASE(wrong_id), UT_CASE(element_length_not_one), UT_CASE(truncated),
	UT_CASE(accumulator))
