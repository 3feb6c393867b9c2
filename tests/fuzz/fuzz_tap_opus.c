/*
 * fuzz_tap_opus.c — fuzz target for tap_opus.h: one stream fed a sequence of
 * RTP packets (with Opus payloads) at fuzzed arrival times, ticked after each
 * packet, then flushed, with the invariants it promises checked by abort():
 * known return codes only; chunks of TAP_OPUS_CHUNK_SAMPLES except the last,
 * consecutive seq, media start times that never go back; every packet counted
 * exactly once; output bounded by what the packets can claim.
 *
 * Input layout (corpus files in tests/fuzz/corpus/tap_opus/ follow it):
 *   byte 0      reorder window 1..16 (low nibble + 1), hold (high nibble + 1) x 10 ms
 *   byte 1      max gap (byte x 40 + 20) ms
 *   then records: 2-byte big-endian length L, 1 byte ms to advance the clock,
 *   L bytes of RTP (cut short at the end of the input).
 *
 * Threading: single-threaded; driven by driver.c or libFuzzer.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tap_opus.h"

#define FUZZ_CHECK(cond)                 \
	do {                             \
		if (!(cond))             \
			abort();         \
	} while (0)

#define MAX_PKT_16 1920 /* 120 ms at 16 kHz */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	uint32_t chunks;
	uint64_t samples;
	uint64_t last_start;
	bool short_seen;
	volatile int16_t fold;
};

static void on_chunk(void *arg, const int16_t *pcm, size_t samples, uint64_t start_ms,
		     uint32_t seq)
{
	struct sink *k = arg;

	FUZZ_CHECK(samples >= 1 && samples <= TAP_OPUS_CHUNK_SAMPLES);
	FUZZ_CHECK(!k->short_seen); /* a short chunk only at the very end */
	k->short_seen = samples < TAP_OPUS_CHUNK_SAMPLES;
	FUZZ_CHECK(seq == k->chunks);
	FUZZ_CHECK(k->chunks == 0 || start_ms >= k->last_start);
	k->fold ^= pcm[0] ^ pcm[samples - 1]; /* the buffer is readable end to end */
	k->last_start = start_ms;
	k->chunks++;
	k->samples += samples;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tap_opus_params p;
	const struct tap_opus_stats *st;
	struct tap_opus_stream *s;
	struct sink k = { 0 };
	uint64_t now = 0;
	size_t off = 2;

	if (size < 2)
		return 0;
	p.reorder_window = (data[0] & 0x0f) + 1u;
	p.max_hold_ms = ((data[0] >> 4) + 1u) * 10;
	p.max_gap_ms = data[1] * 40u + 20;
	s = tap_opus_stream_new(&p, on_chunk, &k);
	FUZZ_CHECK(s != NULL);

	while (off + 3 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		int rc;

		now += data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		rc = tap_opus_stream_input(s, data + off, len, now);
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -EMSGSIZE || rc == -EEXIST ||
			   rc == -ETIME || rc == -ERANGE);
		off += len;
		tap_opus_stream_tick(s, now);
	}
	tap_opus_stream_flush(s);

	st = tap_opus_stream_stats(s);
	FUZZ_CHECK(st->packets == st->decoded_frames + st->malformed + st->late +
				      st->duplicates + st->jumps);
	FUZZ_CHECK(st->chunks == k.chunks && st->samples_out == k.samples);
	/* Each packet played brings at most one capped gap and 120 ms of its own. */
	FUZZ_CHECK(k.samples <= st->packets * ((uint64_t)p.max_gap_ms * 16 + MAX_PKT_16));
	tap_opus_stream_free(s);
	return 0;
}
