/*
 * bench_tap.c — sfu-tap's per-core capacity, from one run:
 *   decode: Opus RTP (48 kHz, 20 ms, 32 kbit/s, speech-like signal) decoded to
 *           16 kHz and cut into 100 ms chunks by tap_opus.c — audio streams
 *           one core keeps up with in real time;
 *   embedded STT: the same chunks through pocketsphinx (stt_ps.c) — streams
 *           one core transcribes in real time.
 * Prints: tap_decode streams_per_core=N us_per_packet=X
 *         tap_stt streams_per_core=N ms_per_chunk=X
 *
 *   bench_tap [--seconds S]   (S of audio per measurement, default 10)
 * Threading: single-threaded.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <opus/opus.h>

#include "stt_ps.h"
#include "tap_opus.h"

#define FRAME 960

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct sink {
	int16_t *pcm;
	size_t n, cap;
};

static void on_chunk(void *arg, const int16_t *pcm, size_t samples, uint64_t start_ms, uint32_t seq)
{
	struct sink *k = arg;

	(void)start_ms;
	(void)seq;
	if (k->n + samples <= k->cap) {
		memcpy(k->pcm + k->n, pcm, samples * sizeof(*pcm));
		k->n += samples;
	}
}

int main(int argc, char **argv)
{
	unsigned int secs = 10, frames;
	uint8_t (*pkt)[1500];
	size_t *plen;
	struct sink sink;
	OpusEncoder *enc;
	char err[256];
	int e;
	double t0, t1, per_pkt_us, per_chunk_ms;

	if (argc == 3 && strcmp(argv[1], "--seconds") == 0)
		secs = (unsigned int)atoi(argv[2]);
	if (secs < 1 || secs > 120) {
		fprintf(stderr, "usage: bench_tap [--seconds 1..120]\n");
		return 2;
	}
	frames = secs * 50;
	pkt = calloc(frames, sizeof(*pkt));
	plen = calloc(frames, sizeof(*plen));
	sink.cap = (size_t)secs * 16000 + 16000;
	sink.pcm = calloc(sink.cap, sizeof(int16_t));
	enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &e);
	if (pkt == NULL || plen == NULL || sink.pcm == NULL || enc == NULL)
		return 1;
	opus_encoder_ctl(enc, OPUS_SET_BITRATE(32000));
	/* Speech-like: a voiced harmonic series with a syllable-rate envelope. */
	for (unsigned int f = 0; f < frames; f++) {
		int16_t pcm[FRAME];

		for (int i = 0; i < FRAME; i++) {
			double t = (double)(f * FRAME + (unsigned int)i) / 48000.0, v = 0;

			for (int h = 1; h <= 8; h++)
				v += sin(2 * M_PI * 140.0 * h * t) / h;
			pcm[i] = (int16_t)(6000 * v * (0.5 + 0.5 * sin(2 * M_PI * 4.0 * t)));
		}
		/* RTP header (12 bytes), then the Opus packet. */
		pkt[f][0] = 0x80;
		pkt[f][1] = 111;
		pkt[f][2] = (uint8_t)(f >> 8);
		pkt[f][3] = (uint8_t)f;
		pkt[f][4] = (uint8_t)((f * FRAME) >> 24);
		pkt[f][5] = (uint8_t)((f * FRAME) >> 16);
		pkt[f][6] = (uint8_t)((f * FRAME) >> 8);
		pkt[f][7] = (uint8_t)(f * FRAME);
		pkt[f][11] = 7;
		e = opus_encode(enc, pcm, FRAME, pkt[f] + 12, 1400);
		plen[f] = e > 0 ? (size_t)e + 12 : 12;
	}
	opus_encoder_destroy(enc);

	/* Decode: several passes for a stable figure. */
	t0 = now_s();
	for (int pass = 0; pass < 5; pass++) {
		struct tap_opus_stream *s = tap_opus_stream_new(NULL, on_chunk, &sink);

		sink.n = 0;
		for (unsigned int f = 0; f < frames; f++)
			tap_opus_stream_input(s, pkt[f], plen[f], (uint64_t)f * 20);
		tap_opus_stream_flush(s);
		tap_opus_stream_free(s);
	}
	t1 = now_s();
	per_pkt_us = (t1 - t0) * 1e6 / (5.0 * frames);
	printf("Opus RTP -> 16 kHz 100 ms chunks: %.1f us per 20 ms packet: %.0f streams per core\n",
	       per_pkt_us, 20000.0 / per_pkt_us);
	printf("tap_decode streams_per_core=%.0f us_per_packet=%.1f\n", 20000.0 / per_pkt_us,
	       per_pkt_us);

	/* Embedded STT on the decoded chunks. */
	{
		struct stt_ps_engine *eng = stt_ps_engine_new(NULL, err, sizeof(err));
		struct stt_ps_session *ss;
		struct stt_ps_result r[STT_PS_MAX_RESULTS];
		size_t chunks = sink.n / 1600;

		if (eng == NULL || (ss = stt_ps_session_new(eng)) == NULL) {
			fprintf(stderr, "bench_tap: recognizer: %s\n", err);
			return 1;
		}
		t0 = now_s();
		for (size_t c = 0; c < chunks; c++)
			stt_ps_feed(ss, sink.pcm + c * 1600, 1600, r, STT_PS_MAX_RESULTS);
		stt_ps_end(ss, r, STT_PS_MAX_RESULTS);
		t1 = now_s();
		per_chunk_ms = (t1 - t0) * 1000.0 / (double)chunks;
		printf("pocketsphinx on 100 ms chunks: %.2f ms per chunk: %.1f streams per core\n",
		       per_chunk_ms, 100.0 / per_chunk_ms);
		printf("tap_stt streams_per_core=%.1f ms_per_chunk=%.2f\n", 100.0 / per_chunk_ms,
		       per_chunk_ms);
		stt_ps_session_free(ss);
		stt_ps_engine_free(eng);
	}
	free(pkt);
	free(plen);
	free(sink.pcm);
	return 0;
}
