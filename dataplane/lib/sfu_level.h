/*
 * sfu_level.h — the RFC 6464 client-to-mixer audio level of an RTP packet and
 * the per-producer accumulator the data plane reports from.
 *
 * RFC 6464 section 3: the ssrc-audio-level header extension (RFC 8285,
 * one-byte or two-byte form) carries one byte: V (voice activity, the top bit)
 * and the level in -dBov (0 loudest .. 127 silence) in the low seven.
 *
 * Pure functions on caller buffers and caller state: no allocation, no EAL;
 * safe on any thread (the data plane calls them on a producer's owning
 * worker, per packet).
 */
#ifndef SFU_LEVEL_H
#define SFU_LEVEL_H

#include <stdbool.h>
#include <stdint.h>

#include "sfu_rtp.h"

/**
 * Read the audio level element `id` of a parsed RTP packet (ri from
 * sfu_rtp_parse() on the same buffer; the header is not encrypted by SRTP,
 * but call it after authentication so the level is the sender's).
 * @return 0 with *dbov (0..127) and *voice set; -ENOENT when the packet has
 *         no extension or no element `id` (including an opaque, non-RFC 8285
 *         profile); -EINVAL when the extension block is malformed before the
 *         element or the element is not exactly one byte long
 */
int sfu_level_read(const uint8_t *p, const struct sfu_rtp_info *ri, uint8_t id, uint8_t *dbov,
		   bool *voice);

/* One producer's levels over the current interval. */
struct sfu_level_acc {
	uint32_t sum;     /* of -dBov values */
	uint16_t packets; /* saturates at UINT16_MAX (the sum stays exact) */
	uint16_t voice;
};

static inline void sfu_level_add(struct sfu_level_acc *a, uint8_t dbov, bool voice)
{
	if (a->packets == UINT16_MAX)
		return;
	a->sum += dbov;
	a->packets++;
	a->voice += voice;
}

/**
 * The interval's mean level (rounded to nearest -dBov; 127 when no packet
 * came), packet and voice counts; resets the accumulator.
 */
static inline uint8_t sfu_level_take(struct sfu_level_acc *a, uint16_t *packets, uint16_t *voice)
{
	uint8_t mean = 127;

	if (a->packets > 0)
		mean = (uint8_t)((a->sum + a->packets / 2) / a->packets);
	*packets = a->packets;
	*voice = a->voice;
	a->sum = 0;
	a->packets = 0;
	a->voice = 0;
	return mean;
}

#endif /* SFU_LEVEL_H */
