/*
 * fuzz_rtcp.c — fuzz target for the RTCP half of sfu_rtp.h: compound
 * validation and iteration, then every accessor on every packet (SR parse,
 * report blocks, FIR entries, NACK entries, REMB) and the NACK rewrite on an
 * exact-size copy; parsed values are pushed back through the builders (SR, RR,
 * PLI, FIR, NACK, REMB) and re-parsed.  Broken invariants abort().
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

#define MAX_PKTS_CHECKED 256 /* enough to cover any corpus-shaped compound */
#define NACK_ROUND_TRIP 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sr(const uint8_t *data, size_t size, const struct sfu_rtcp_pkt *pkt)
{
	struct sfu_rtcp_sr sr, back;
	uint8_t buf[28];
	int rc;

	/* Both ways a caller may bound it: the packet, or the rest of the compound. */
	rc = sfu_rtcp_sr_parse(data + pkt->off, pkt->len, &sr);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	FUZZ_CHECK(sfu_rtcp_sr_parse(data + pkt->off, size - pkt->off, &back) == rc);
	if (rc < 0)
		return;
	FUZZ_CHECK(pkt->pt == SFU_RTCP_SR && pkt->len >= 28 && sr.ssrc == pkt->sender_ssrc);
	FUZZ_CHECK(sfu_rtcp_sr_build(buf, &sr) == sizeof(buf));
	FUZZ_CHECK(sfu_rtcp_sr_parse(buf, sizeof(buf), &back) == 0);
	FUZZ_CHECK(sr.ssrc == back.ssrc && sr.ntp == back.ntp && sr.rtp_ts == back.rtp_ts &&
		   sr.pkt_count == back.pkt_count && sr.octet_count == back.octet_count);
}

static void check_rb(const uint8_t *data, const struct sfu_rtcp_pkt *pkt)
{
	struct sfu_rtcp_rb rb[SFU_RTCP_MAX_RB], got, back;
	uint8_t buf[8 + 24 * SFU_RTCP_MAX_RB];
	struct sfu_rtcp_pkt bp;
	unsigned int n = 0;
	size_t off = 0, blen;

	for (unsigned int i = 0; i <= SFU_RTCP_MAX_RB; i++) {
		int rc = sfu_rtcp_rb_get(data, pkt, i, &got);

		FUZZ_CHECK(rc == 0 || rc == -EINVAL);
		if (rc < 0)
			continue;
		FUZZ_CHECK(i < SFU_RTCP_MAX_RB && i < pkt->fmt && n == i);
		FUZZ_CHECK(pkt->pt == SFU_RTCP_SR || pkt->pt == SFU_RTCP_RR);
		FUZZ_CHECK(got.cum_lost >= -0x800000 && got.cum_lost <= 0x7fffff);
		rb[n++] = got;
	}
	if (n == 0)
		return;
	/* Round trip through the RR builder. */
	blen = sfu_rtcp_rr_build(buf, pkt->sender_ssrc, rb, n);
	FUZZ_CHECK(blen == 8 + 24 * n && sfu_rtcp_validate(buf, blen) == 1);
	FUZZ_CHECK(sfu_rtcp_next(buf, blen, &off, &bp) == 1 && bp.fmt == n);
	for (unsigned int i = 0; i < n; i++) {
		FUZZ_CHECK(sfu_rtcp_rb_get(buf, &bp, i, &back) == 0);
		FUZZ_CHECK(back.ssrc == rb[i].ssrc && back.cum_lost == rb[i].cum_lost &&
			   back.fraction_lost == rb[i].fraction_lost &&
			   back.ext_high_seq == rb[i].ext_high_seq &&
			   back.jitter == rb[i].jitter && back.lsr == rb[i].lsr &&
			   back.dlsr == rb[i].dlsr);
	}
}

static void check_fir(const uint8_t *data, const struct sfu_rtcp_pkt *pkt)
{
	unsigned int n = 0;

	for (;;) {
		uint32_t ssrc;
		uint8_t seq;
		int rc = sfu_rtcp_fir_entry(data, pkt, n, &ssrc, &seq);

		FUZZ_CHECK(rc == 0 || rc == -EINVAL);
		if (rc < 0)
			break;
		FUZZ_CHECK(pkt->pt == SFU_RTCP_PSFB && pkt->fmt == SFU_RTCP_FMT_FIR);
		n++;
		FUZZ_CHECK(12 + 8 * (size_t)n <= pkt->len);
	}
	if (n > 0) {
		uint8_t buf[20];
		uint32_t ssrc, ssrc2;
		uint8_t seq, seq2;
		struct sfu_rtcp_pkt bp;
		size_t off = 0;

		FUZZ_CHECK(sfu_rtcp_fir_entry(data, pkt, 0, &ssrc, &seq) == 0);
		FUZZ_CHECK(sfu_rtcp_fir_build(buf, pkt->sender_ssrc, ssrc, seq) == sizeof(buf));
		FUZZ_CHECK(sfu_rtcp_validate(buf, sizeof(buf)) == 1);
		FUZZ_CHECK(sfu_rtcp_next(buf, sizeof(buf), &off, &bp) == 1);
		FUZZ_CHECK(sfu_rtcp_fir_entry(buf, &bp, 0, &ssrc2, &seq2) == 0);
		FUZZ_CHECK(ssrc2 == ssrc && seq2 == seq && bp.media_ssrc == 0);
		FUZZ_CHECK(sfu_rtcp_fir_entry(buf, &bp, 1, &ssrc2, &seq2) == -EINVAL);
	}
}

static void check_nack(const uint8_t *data, size_t size, const struct sfu_rtcp_pkt *pkt)
{
	const uint16_t delta = (uint16_t)(pkt->sender_ssrc ^ 0x8001);
	unsigned int n = 0;
	uint16_t pid, blp, pid2, blp2;
	uint8_t *copy;
	int rc;

	while ((rc = sfu_rtcp_nack_entry(data, pkt, n, &pid, &blp)) == 0)
		n++;
	FUZZ_CHECK(rc == -EINVAL && (n == 0 || 12 + 4 * (size_t)n <= pkt->len));

	/* The first few entries, rebuilt, read back the same. */
	if (n > 0) {
		uint16_t pids[NACK_ROUND_TRIP], blps[NACK_ROUND_TRIP];
		uint8_t buf[12 + 4 * NACK_ROUND_TRIP];
		unsigned int k = n < NACK_ROUND_TRIP ? n : NACK_ROUND_TRIP;
		struct sfu_rtcp_pkt bp;
		size_t off = 0;

		for (unsigned int i = 0; i < k; i++)
			FUZZ_CHECK(sfu_rtcp_nack_entry(data, pkt, i, &pids[i], &blps[i]) == 0);
		FUZZ_CHECK(sfu_rtcp_nack_build(buf, pkt->sender_ssrc, pkt->media_ssrc, pids, blps,
					       k) == 12 + 4 * (size_t)k);
		FUZZ_CHECK(sfu_rtcp_validate(buf, 12 + 4 * (size_t)k) == 1);
		FUZZ_CHECK(sfu_rtcp_next(buf, 12 + 4 * (size_t)k, &off, &bp) == 1);
		FUZZ_CHECK(bp.sender_ssrc == pkt->sender_ssrc && bp.media_ssrc == pkt->media_ssrc);
		for (unsigned int i = 0; i < k; i++) {
			FUZZ_CHECK(sfu_rtcp_nack_entry(buf, &bp, i, &pid2, &blp2) == 0);
			FUZZ_CHECK(pid2 == pids[i] && blp2 == blps[i]);
		}
		FUZZ_CHECK(sfu_rtcp_nack_entry(buf, &bp, k, &pid2, &blp2) == -EINVAL);
	}

	copy = malloc(size);
	if (!copy)
		return;
	memcpy(copy, data, size);
	rc = sfu_rtcp_nack_rewrite(copy, pkt, 0x11111111, 0x22222222, delta);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	FUZZ_CHECK((rc == 0) == (n > 0));
	if (rc < 0) {
		/* A refused rewrite leaves the buffer alone. */
		FUZZ_CHECK(memcmp(copy, data, size) == 0);
	} else {
		FUZZ_CHECK(memcmp(copy, data, pkt->off + 4u) == 0);
		FUZZ_CHECK(memcmp(copy + pkt->off + pkt->len, data + pkt->off + pkt->len,
				  size - pkt->off - pkt->len) == 0);
		for (unsigned int i = 0; i < n; i++) {
			FUZZ_CHECK(sfu_rtcp_nack_entry(data, pkt, i, &pid, &blp) == 0);
			FUZZ_CHECK(sfu_rtcp_nack_entry(copy, pkt, i, &pid2, &blp2) == 0);
			FUZZ_CHECK(pid2 == (uint16_t)(pid - delta) && blp2 == blp);
		}
	}
	free(copy);
}

static void check_remb(const uint8_t *data, const struct sfu_rtcp_pkt *pkt)
{
	uint32_t ssrcs[4], ssrcs2[4];
	uint64_t br, br2;
	uint8_t buf[20 + 4 * 4];
	struct sfu_rtcp_pkt bp;
	size_t off = 0, blen;
	unsigned int k;
	int n;

	n = sfu_rtcp_remb_parse(data, pkt, &br, ssrcs, 4);
	FUZZ_CHECK(n >= 0 || n == -EINVAL);
	FUZZ_CHECK(sfu_rtcp_remb_parse(data, pkt, &br2, NULL, 0) == n);
	if (n < 0)
		return;
	FUZZ_CHECK(pkt->pt == SFU_RTCP_PSFB && pkt->fmt == SFU_RTCP_FMT_REMB && n <= 255);
	FUZZ_CHECK(20 + 4 * (size_t)n <= pkt->len && br2 == br);
	/* Every value the wire form can carry, bar saturation, rebuilds exactly. */
	k = n < 4 ? (unsigned int)n : 4;
	blen = sfu_rtcp_remb_build(buf, pkt->sender_ssrc, br, ssrcs, k);
	FUZZ_CHECK(blen == 20 + 4 * k && sfu_rtcp_validate(buf, blen) == 1);
	FUZZ_CHECK(sfu_rtcp_next(buf, blen, &off, &bp) == 1);
	FUZZ_CHECK(sfu_rtcp_remb_parse(buf, &bp, &br2, ssrcs2, 4) == (int)k);
	FUZZ_CHECK(memcmp(ssrcs, ssrcs2, k * sizeof(ssrcs[0])) == 0);
	if (br != UINT64_MAX)
		FUZZ_CHECK(br2 == br);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sfu_rtcp_pkt pkt;
	size_t off = 0, prev_end = 0;
	int n, seen = 0, rc = 0;

	(void)sfu_pkt_classify(data, size);
	n = sfu_rtcp_validate(data, size);
	FUZZ_CHECK(n > 0 || n == -EINVAL);

	/* Iterate whether or not validation passed: next() must hold up alone. */
	while (seen < MAX_PKTS_CHECKED && (rc = sfu_rtcp_next(data, size, &off, &pkt)) == 1) {
		FUZZ_CHECK(pkt.off == prev_end && pkt.len >= 4 && pkt.len % 4 == 0);
		FUZZ_CHECK((size_t)pkt.off + pkt.len == off && off <= size);
		FUZZ_CHECK((data[pkt.off] >> 6) == 2 && pkt.pt == data[pkt.off + 1]);
		prev_end = off;
		seen++;

		check_sr(data, size, &pkt);
		check_rb(data, &pkt);
		check_fir(data, &pkt);
		check_nack(data, size, &pkt);
		check_remb(data, &pkt);
	}
	if (seen < MAX_PKTS_CHECKED) {
		FUZZ_CHECK(rc == 0 || rc == -EINVAL);
		/* Validated compounds iterate to exactly their count. */
		if (n > 0)
			FUZZ_CHECK(rc == 0 && seen == n);
	}

	/* The feedback builders, fed from the input, parse back. */
	if (size >= 8) {
		uint32_t a = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
			     (uint32_t)data[2] << 8 | data[3];
		uint32_t b = (uint32_t)data[4] << 24 | (uint32_t)data[5] << 16 |
			     (uint32_t)data[6] << 8 | data[7];
		uint8_t buf[12];

		FUZZ_CHECK(sfu_rtcp_pli_build(buf, a, b) == sizeof(buf));
		off = 0;
		FUZZ_CHECK(sfu_rtcp_validate(buf, sizeof(buf)) == 1);
		FUZZ_CHECK(sfu_rtcp_next(buf, sizeof(buf), &off, &pkt) == 1);
		FUZZ_CHECK(pkt.pt == SFU_RTCP_PSFB && pkt.fmt == SFU_RTCP_FMT_PLI);
		FUZZ_CHECK(pkt.sender_ssrc == a && pkt.media_ssrc == b);
	}
	return 0;
}
