/*
 * fuzz_rtp.c — fuzz target for the RTP half of sfu_rtp.h: the RFC 7983
 * classifier, sfu_rtp_parse, sfu_rtp_ext_find for every id, payload length
 * and the header rewrite (on a copy), with the invariants they promise
 * checked by abort(): results stay inside the packet, the rewrite changes
 * only the fields it names, and parsing is stable across it.
 *
 * Threading: single-threaded; driven by driver.c or libFuzzer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_rtp.h"

#define FUZZ_CHECK(cond)                 \
	do {                             \
		if (!(cond))             \
			abort();         \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Folded into so reads of returned pointers are not optimised away. */
static volatile uint8_t sink;

static void check_ext(const uint8_t *data, const struct sfu_rtp_info *ri)
{
	const uint8_t *ext_lo = data + ri->ext_off, *ext_hi = ext_lo + ri->ext_len;

	/* Every id, so ids outside the form's range and padding are covered too. */
	for (unsigned int id = 0; id <= 255; id++) {
		const uint8_t *d = NULL;
		size_t n = 0;
		int rc = sfu_rtp_ext_find(data, ri, (uint8_t)id, &d, &n);

		FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL);
		if (rc != 0)
			continue;
		FUZZ_CHECK(ri->has_ext && id != 0);
		FUZZ_CHECK(d >= ext_lo && d <= ext_hi && n <= (size_t)(ext_hi - d));
		if (ri->ext_profile == 0xBEDE)
			FUZZ_CHECK(id < 15 && n >= 1 && n <= 16);
		else
			FUZZ_CHECK(n <= 255);
		for (size_t i = 0; i < n; i++)
			sink ^= d[i];
	}
}

static void check_rewrite(const uint8_t *data, size_t size, const struct sfu_rtp_info *ri)
{
	struct sfu_rtp_info after;
	uint8_t *copy = malloc(size);

	if (!copy)
		return;
	memcpy(copy, data, size);
	sfu_rtp_rewrite(copy, (uint8_t)(ri->pt ^ 0xff), (uint16_t)(ri->seq + 1), ~ri->ts,
			ri->ssrc ^ 0x5a5a5a5a);
	FUZZ_CHECK(sfu_rtp_parse(copy, size, &after) == 0);
	FUZZ_CHECK(after.pt == ((ri->pt ^ 0xff) & 0x7f) && after.marker == ri->marker);
	FUZZ_CHECK(after.seq == (uint16_t)(ri->seq + 1) && after.ts == ~ri->ts);
	FUZZ_CHECK(after.ssrc == (ri->ssrc ^ 0x5a5a5a5a));
	FUZZ_CHECK(after.hdr_len == ri->hdr_len && after.cc == ri->cc);
	FUZZ_CHECK(after.ext_off == ri->ext_off && after.ext_len == ri->ext_len);
	/* Only bytes 1..11 may change, and byte 1 only below the marker bit. */
	FUZZ_CHECK(copy[0] == data[0] && (copy[1] & 0x80) == (data[1] & 0x80));
	FUZZ_CHECK(memcmp(copy + 12, data + 12, size - 12) == 0);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sfu_rtp_info ri;
	enum sfu_pkt_class cls = sfu_pkt_classify(data, size);
	int rc, plen;

	FUZZ_CHECK(cls >= SFU_PKT_UNKNOWN && cls <= SFU_PKT_RTCP);
	memset(&ri, 0xa5, sizeof(ri));
	rc = sfu_rtp_parse(data, size, &ri);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc < 0)
		return 0;

	/* A parsed header fits, and is a version-2 packet by RFC 7983 too. */
	FUZZ_CHECK(cls == SFU_PKT_RTP || cls == SFU_PKT_RTCP);
	FUZZ_CHECK(ri.hdr_len >= 12 + 4 * ri.cc && ri.hdr_len <= size);
	if (ri.has_ext)
		FUZZ_CHECK(ri.ext_off + (size_t)ri.ext_len == ri.hdr_len);
	else
		FUZZ_CHECK(ri.hdr_len == 12 + 4 * ri.cc && ri.ext_len == 0);

	check_ext(data, &ri);

	plen = sfu_rtp_payload_len(data, size, &ri);
	FUZZ_CHECK(plen == -EINVAL || (plen >= 0 && (size_t)plen <= size - ri.hdr_len));
	if (!(data[0] & 0x20))
		FUZZ_CHECK((size_t)plen == size - ri.hdr_len);

	check_rewrite(data, size, &ri);
	return 0;
}
