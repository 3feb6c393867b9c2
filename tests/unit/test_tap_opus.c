/*
 * test_tap_opus.c — unit tests for tap_opus.h: Opus RTP to 16 kHz PCM chunks.
 *
 * Test audio is analytic (speech-like harmonics under a syllable envelope
 * plus a sine sweep, all below 6 kHz), so the 16 kHz reference is the same
 * function sampled at 16 kHz.  It is encoded with libopus at 48 kHz, mono
 * and stereo, 20 ms frames, put in RTP (seq + 1, ts + 960, a one-byte header
 * extension as WebRTC sends), fed with simulated arrival times in 5 ms ticks:
 * in order, with loss, reordering, FEC, DTX, malformed and hostile input.
 * Checks: output length to the sample, byte-identity with a plain libopus
 * decode of the same packets, normalized cross-correlation with the reference
 * after aligning the codec delay, counters, chunk shape.  Measured figures
 * (correlations, decode cost) are printed, not asserted beyond the bounds.
 *
 * Single-threaded; no EAL.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <opus.h>

#include "tap_opus.h"
#include "unit.h"

#define IN_RATE 48000
#define FRAME_48 960
#define FRAME_16 320
#define N_FRAMES 153                     /* 3.06 s: 30 full chunks and a partial one */
#define MAX_OPUS 1275
#define SSRC 0x11223344u
#define TICK_MS 5
#define MAX_LAG 480                      /* codec delay search at 16 kHz (30 ms) */

struct opus_pkt {
	uint8_t data[MAX_OPUS];
	int len;
};

/* One packet to feed: RTP fields, payload, and when it arrives. */
struct feed {
	uint16_t seq;
	uint32_t ts;
	const uint8_t *pl;
	int plen;
	uint64_t arrival;
};

/* What the chunk callback saw. */
struct capture {
	int16_t *pcm;
	size_t n;
	size_t cap;
	unsigned int chunks;
	unsigned int bad_shape;   /* chunks not 1600 long before the last one */
	unsigned int bad_seq;     /* seq not consecutive from 0 */
	uint64_t *start_ms;
	size_t *len;
	size_t meta_cap;
};

static float sig48[N_FRAMES * FRAME_48];
static float ref16[N_FRAMES * FRAME_16];

/* ---- test audio ---- */

/* Formant-like weight of a harmonic at f Hz. */
static double formant(double f)
{
	return exp(-pow((f - 500) / 300, 2)) + 0.6 * exp(-pow((f - 1500) / 400, 2)) +
	       0.3 * exp(-pow((f - 2500) / 500, 2)) + 0.05;
}

/*
 * Speech-like: harmonics of f0(t) = 150 + 50 sin(pi t) (phase integrated
 * analytically) under a 4 Hz syllable envelope, plus a 200 -> 4000 Hz sweep.
 */
static double signal_at(double t)
{
	const double dur = (double)N_FRAMES * FRAME_48 / IN_RATE;
	double ph0 = 150 * t - (50 / M_PI) * (cos(M_PI * t) - 1);
	double f0 = 150 + 50 * sin(M_PI * t), env = 0.25 + 0.75 * pow(sin(M_PI * 4 * t), 2);
	double v = 0, sweep;

	for (int k = 1; k * f0 < 6000; k++)
		v += formant(k * f0) * sin(2 * M_PI * k * ph0 + 0.7 * k * k);
	sweep = sin(2 * M_PI * (200 * t + (4000 - 200) * t * t / (2 * dur)));
	return 0.12 * env * v + 0.15 * sweep;
}

static void make_signal(void)
{
	for (int i = 0; i < N_FRAMES * FRAME_48; i++)
		sig48[i] = (float)signal_at((double)i / IN_RATE);
	for (int i = 0; i < N_FRAMES * FRAME_16; i++)
		ref16[i] = (float)signal_at((double)i / 16000);
}

/* ---- encoding and RTP ---- */

struct enc_opts {
	int channels;
	int bitrate;
	int fec;
	int dtx;
};

/*
 * Encode src (48 kHz mono float; the right channel is 0.8 x left for stereo)
 * into n 20 ms packets.  @return 0 or -1.
 */
static int encode(const struct enc_opts *o, const float *src, int n, struct opus_pkt *out)
{
	float buf[FRAME_48 * 2];
	OpusEncoder *enc;
	int err;

	enc = opus_encoder_create(IN_RATE, o->channels, OPUS_APPLICATION_VOIP, &err);
	if (!enc)
		return -1;
	opus_encoder_ctl(enc, OPUS_SET_BITRATE(o->bitrate));
	opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(o->fec));
	if (o->fec)
		opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(20));
	opus_encoder_ctl(enc, OPUS_SET_DTX(o->dtx));
	for (int f = 0; f < n; f++) {
		for (int i = 0; i < FRAME_48; i++) {
			float x = src[f * FRAME_48 + i];

			if (o->channels == 2) {
				buf[2 * i] = x;
				buf[2 * i + 1] = 0.8f * x;
			} else {
				buf[i] = x;
			}
		}
		out[f].len = opus_encode_float(enc, buf, FRAME_48, out[f].data, MAX_OPUS);
		if (out[f].len < 0) {
			opus_encoder_destroy(enc);
			return -1;
		}
	}
	opus_encoder_destroy(enc);
	return 0;
}

/* RTP header (RFC 3550 5.1) with a one-byte extension (RFC 8285: id 1, audio level). */
static size_t rtp_build(uint8_t *b, uint16_t seq, uint32_t ts, const uint8_t *pl, int plen)
{
	static const uint8_t ext[8] = { 0xbe, 0xde, 0x00, 0x01, 0x10, 0x2a, 0x00, 0x00 };

	b[0] = 0x90;
	b[1] = 111;
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	b[4] = (uint8_t)(ts >> 24);
	b[5] = (uint8_t)(ts >> 16);
	b[6] = (uint8_t)(ts >> 8);
	b[7] = (uint8_t)ts;
	b[8] = (uint8_t)(SSRC >> 24);
	b[9] = (uint8_t)(SSRC >> 16);
	b[10] = (uint8_t)(SSRC >> 8);
	b[11] = (uint8_t)SSRC;
	memcpy(b + 12, ext, sizeof(ext));
	if (plen > 0)
		memcpy(b + 20, pl, (size_t)plen);
	return 20 + (size_t)(plen > 0 ? plen : 0);
}

static int input_one(struct tap_opus_stream *s, uint16_t seq, uint32_t ts, const uint8_t *pl,
		     int plen, uint64_t now)
{
	uint8_t b[20 + 2048];

	return tap_opus_stream_input(s, b, rtp_build(b, seq, ts, pl, plen), now);
}

/* ---- capture ---- */

static void on_chunk(void *arg, const int16_t *pcm, size_t samples, uint64_t start_ms,
		     uint32_t seq)
{
	struct capture *c = arg;

	if (c->n + samples > c->cap) {
		c->cap = (c->n + samples) * 2;
		c->pcm = realloc(c->pcm, c->cap * sizeof(*c->pcm));
	}
	if (c->chunks + 1 > c->meta_cap) {
		c->meta_cap = (c->chunks + 1) * 2;
		c->start_ms = realloc(c->start_ms, c->meta_cap * sizeof(*c->start_ms));
		c->len = realloc(c->len, c->meta_cap * sizeof(*c->len));
	}
	if (!c->pcm || !c->start_ms || !c->len)
		abort();
	/* Only the last chunk may be short: a short one followed by another is bad. */
	if (c->chunks && c->len[c->chunks - 1] != TAP_OPUS_CHUNK_SAMPLES)
		c->bad_shape++;
	if (samples == 0 || samples > TAP_OPUS_CHUNK_SAMPLES)
		c->bad_shape++;
	if (seq != c->chunks)
		c->bad_seq++;
	memcpy(c->pcm + c->n, pcm, samples * sizeof(*pcm));
	c->start_ms[c->chunks] = start_ms;
	c->len[c->chunks] = samples;
	c->n += samples;
	c->chunks++;
}

static void capture_free(struct capture *c)
{
	free(c->pcm);
	free(c->start_ms);
	free(c->len);
	memset(c, 0, sizeof(*c));
}

/* ---- feeding ---- */

static void sort_by_arrival(struct feed *f, int n)
{
	for (int i = 1; i < n; i++) {
		struct feed x = f[i];
		int j = i;

		while (j > 0 && f[j - 1].arrival > x.arrival) {
			f[j] = f[j - 1];
			j--;
		}
		f[j] = x;
	}
}

/* Feed packets in arrival order, ticking every TICK_MS, then flush. */
static void run_feed(struct tap_opus_stream *s, struct feed *f, int n)
{
	uint64_t t = 0, end;
	int i = 0;

	sort_by_arrival(f, n);
	end = n ? f[n - 1].arrival + 200 : 0;
	for (; i < n || t <= end; t += TICK_MS) {
		for (; i < n && f[i].arrival <= t; i++)
			input_one(s, f[i].seq, f[i].ts, f[i].pl, f[i].plen, f[i].arrival);
		tap_opus_stream_tick(s, t);
	}
	tap_opus_stream_flush(s);
}

/* Packets 0..n-1 from seq0/ts0, arriving every 20 ms from t = 0. */
static void feed_init(struct feed *f, const struct opus_pkt *p, int n, uint16_t seq0, uint32_t ts0)
{
	for (int i = 0; i < n; i++) {
		f[i].seq = (uint16_t)(seq0 + i);
		f[i].ts = ts0 + (uint32_t)i * FRAME_48;
		f[i].pl = p[i].data;
		f[i].plen = p[i].len;
		f[i].arrival = (uint64_t)i * 20;
	}
}

/* xorshift64*: deterministic loss and jitter. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

/* A plain libopus decode of packets in order at 16 kHz mono: the byte-exact reference. */
static size_t ref_decode(const struct opus_pkt *p, int n, int16_t *out)
{
	OpusDecoder *dec;
	size_t total = 0;
	int err;

	dec = opus_decoder_create(16000, 1, &err);
	if (!dec)
		return 0;
	for (int i = 0; i < n; i++) {
		int r = opus_decode(dec, p[i].data, p[i].len, out + total, 1920, 0);

		if (r < 0)
			break;
		total += (size_t)r;
	}
	opus_decoder_destroy(dec);
	return total;
}

/*
 * Normalized cross-correlation of out against the 16 kHz reference, at the
 * best lag in 0..MAX_LAG (the codec's delay), over the first n samples.
 */
static double best_ncc(const int16_t *out, size_t n_out, const float *ref, size_t n,
		       int *lag_out)
{
	double best = -1;
	size_t len;

	if (n_out < n)
		n = n_out;
	if (n <= MAX_LAG)
		return -1;
	len = n - MAX_LAG;
	for (int lag = 0; lag <= MAX_LAG; lag++) {
		double xy = 0, xx = 0, yy = 0, c;

		for (size_t i = 0; i < len; i++) {
			double x = out[i + (size_t)lag], y = ref[i];

			xy += x * y;
			xx += x * x;
			yy += y * y;
		}
		c = xx > 0 && yy > 0 ? xy / sqrt(xx * yy) : 0;
		if (c > best) {
			best = c;
			if (lag_out)
				*lag_out = lag;
		}
	}
	return best;
}

/* NCC at a known lag over [from, to) of the reference. */
static double ncc_range(const int16_t *out, size_t n_out, const float *ref, int lag, size_t from,
			size_t to)
{
	double xy = 0, xx = 0, yy = 0;

	for (size_t i = from; i < to && i + (size_t)lag < n_out; i++) {
		double x = out[i + (size_t)lag], y = ref[i];

		xy += x * y;
		xx += x * x;
		yy += y * y;
	}
	return xx > 0 && yy > 0 ? xy / sqrt(xx * yy) : 0;
}

static struct opus_pkt mono_pkts[N_FRAMES], stereo_pkts[N_FRAMES];
static int16_t mono_ref[N_FRAMES * FRAME_16], stereo_ref[N_FRAMES * FRAME_16];
static struct capture mono_out; /* case 1 output, the baseline of later cases */
static int mono_lag;

static struct tap_opus_stream *stream_new(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	return tap_opus_stream_new(NULL, on_chunk, c);
}

/* Every chunk 1600 samples but the last, seq 0, 1, ..., start_ms = 100 * seq. */
static void check_chunks(const struct capture *c, size_t total)
{
	UT_EQ(c->bad_shape, 0);
	UT_EQ(c->bad_seq, 0);
	UT_EQ(c->n, total);
	UT_EQ(c->chunks, (total + TAP_OPUS_CHUNK_SAMPLES - 1) / TAP_OPUS_CHUNK_SAMPLES);
	for (unsigned int i = 0; i < c->chunks; i++)
		if (c->start_ms[i] != (uint64_t)i * TAP_OPUS_CHUNK_MS) {
			UT_EQ(c->start_ms[i], (uint64_t)i * TAP_OPUS_CHUNK_MS);
			break;
		}
}

/* ---- tests ---- */

UT_TEST(test_setup)
{
	struct enc_opts mono = { 1, 32000, 0, 0 }, stereo = { 2, 64000, 0, 0 };
	struct tap_opus_params bad = { TAP_OPUS_MAX_WINDOW + 1, 0, 0 };
	struct tap_opus_params bad_gap = { 0, 0, TAP_OPUS_MAX_GAP_MS + 1 };
	struct capture c;

	make_signal();
	UT_EQ(encode(&mono, sig48, N_FRAMES, mono_pkts), 0);
	UT_EQ(encode(&stereo, sig48, N_FRAMES, stereo_pkts), 0);
	UT_EQ(ref_decode(mono_pkts, N_FRAMES, mono_ref), N_FRAMES * FRAME_16);
	UT_EQ(ref_decode(stereo_pkts, N_FRAMES, stereo_ref), N_FRAMES * FRAME_16);

	errno = 0;
	UT_CHECK(tap_opus_stream_new(&bad, on_chunk, &c) == NULL && errno == EINVAL);
	errno = 0;
	UT_CHECK(tap_opus_stream_new(&bad_gap, on_chunk, &c) == NULL && errno == EINVAL);
	errno = 0;
	UT_CHECK(tap_opus_stream_new(NULL, NULL, &c) == NULL && errno == EINVAL);
	tap_opus_stream_free(NULL);
}

/* (1) + (7): in order, mono and stereo. */
UT_TEST(test_in_order)
{
	static struct feed f[N_FRAMES];
	const struct tap_opus_stats *st;
	struct tap_opus_stream *s;
	struct capture c;
	double ncc;
	int lag = 0;

	s = stream_new(&mono_out);
	UT_CHECK(s != NULL);
	if (!s)
		return;
	feed_init(f, mono_pkts, N_FRAMES, 1000, 123456);
	run_feed(s, f, N_FRAMES);
	st = tap_opus_stream_stats(s);
	UT_EQ(st->packets, N_FRAMES);
	UT_EQ(st->decoded_frames, N_FRAMES);
	UT_EQ(st->plc_frames + st->fec_frames + st->malformed + st->late + st->duplicates, 0);
	UT_EQ(st->reordered, 0);
	UT_EQ(st->samples_out, N_FRAMES * FRAME_16);
	UT_EQ(st->chunks, mono_out.chunks);
	check_chunks(&mono_out, N_FRAMES * FRAME_16);
	if (mono_out.chunks)
		UT_EQ(mono_out.len[mono_out.chunks - 1],
		      (N_FRAMES * FRAME_16) % TAP_OPUS_CHUNK_SAMPLES);
	/* Byte-identical to a plain decode of the same packets. */
	if (mono_out.n == N_FRAMES * FRAME_16)
		UT_MEMEQ(mono_out.pcm, mono_ref, sizeof(mono_ref));
	ncc = best_ncc(mono_out.pcm, mono_out.n, ref16, N_FRAMES * FRAME_16, &lag);
	mono_lag = lag;
	printf("  mono 32 kbit/s in order: ncc %.4f at lag %d samples (%.2f ms)\n", ncc, lag,
	       lag / 16.0);
	UT_CHECK(ncc > 0.9);
	tap_opus_stream_free(s);

	s = stream_new(&c);
	UT_CHECK(s != NULL);
	if (!s)
		return;
	feed_init(f, stereo_pkts, N_FRAMES, 65000, 0xfffff000u); /* ts wraps too */
	run_feed(s, f, N_FRAMES);
	st = tap_opus_stream_stats(s);
	UT_EQ(st->decoded_frames, N_FRAMES);
	UT_EQ(st->plc_frames + st->malformed + st->late, 0);
	check_chunks(&c, N_FRAMES * FRAME_16);
	if (c.n == N_FRAMES * FRAME_16)
		UT_MEMEQ(c.pcm, stereo_ref, sizeof(stereo_ref));
	ncc = best_ncc(c.pcm, c.n, ref16, N_FRAMES * FRAME_16, &lag);
	printf("  stereo 64 kbit/s in order (downmixed): ncc %.4f at lag %d\n", ncc, lag);
	UT_CHECK(ncc > 0.9);
	tap_opus_stream_free(s);
	capture_free(&c);
}

/* (2): 10% random loss (never the first or last packet), and one very late packet. */
UT_TEST(test_loss)
{
	static struct feed f[N_FRAMES + 1];
	const struct tap_opus_stats *st;
	struct tap_opus_stream *s;
	struct capture c;
	int n = 0, lost = 0, lag = 0, late_i = -1;
	double ncc;

	rng_state = 42;
	feed_init(f, mono_pkts, N_FRAMES, 40000, 7);
	for (int i = 0; i < N_FRAMES; i++) {
		if (i > 0 && i < N_FRAMES - 1 && rnd() % 10 == 0) {
			lost++;
			if (late_i < 0 && i > 50) { /* this one comes 300 ms late instead */
				late_i = i;
				f[n] = f[i];
				f[n++].arrival += 300;
			}
			continue;
		}
		f[n++] = f[i];
	}
	s = stream_new(&c);
	UT_CHECK(s != NULL && lost > 5 && late_i > 0);
	if (!s)
		return;
	run_feed(s, f, n);
	st = tap_opus_stream_stats(s);
	UT_EQ(st->plc_frames, lost);
	UT_EQ(st->fec_frames, 0);
	UT_EQ(st->late, 1);
	UT_EQ(st->decoded_frames, N_FRAMES - lost);
	check_chunks(&c, N_FRAMES * FRAME_16);
	ncc = best_ncc(c.pcm, c.n, ref16, N_FRAMES * FRAME_16, &lag);
	printf("  10%% loss (%d of %d lost, PLC): ncc %.4f at lag %d\n", lost, N_FRAMES, ncc, lag);
	UT_CHECK(ncc > 0.7);
	tap_opus_stream_free(s);
	capture_free(&c);
}

/* (3): jitter 0-50 ms reorders packets (the first two swapped): same output as in order. */
UT_TEST(test_reorder)
{
	static struct feed f[N_FRAMES];
	const struct tap_opus_stats *st;
	struct tap_opus_stream *s;
	struct capture c;

	rng_state = 7;
	feed_init(f, mono_pkts, N_FRAMES, 65500, 99); /* crosses the sequence wrap */
	for (int i = 0; i < N_FRAMES; i++)
		f[i].arrival += rnd() % 50;
	f[0].arrival = 45;
	f[1].arrival = 20;
	s = stream_new(&c);
	UT_CHECK(s != NULL);
	if (!s)
		return;
	run_feed(s, f, N_FRAMES);
	st = tap_opus_stream_stats(s);
	printf("  jitter 0-50 ms: %llu of %d packets reordered\n",
	       (unsigned long long)st->reordered, N_FRAMES);
	UT_CHECK(st->reordered > 10);
	UT_EQ(st->plc_frames + st->late + st->duplicates, 0);
	UT_EQ(st->decoded_frames, N_FRAMES);
	check_chunks(&c, N_FRAMES * FRAME_16);
	UT_EQ(c.n, mono_out.n);
	if (c.n == mono_out.n)
		UT_MEMEQ(c.pcm, mono_out.pcm, c.n * sizeof(int16_t));
	tap_opus_stream_free(s);
	capture_free(&c);
}

/* Every packet twice, some of them after playout: duplicates counted, output unchanged. */
UT_TEST(test_duplicates)
{
	static struct feed f[2 * N_FRAMES];
	const struct tap_opus_stats *st;
	struct tap_opus_stream *s;
	struct capture c;

	feed_init(f, mono_pkts, N_FRAMES, 0, 0);
	for (int i = 0; i < N_FRAMES; i++) {
		f[N_FRAMES + i] = f[i];
		f[N_FRAMES + i].arrival += i % 2 ? 1 : 30; /* held, or already played */
	}
	s = stream_new(&c);
	UT_CHECK(s != NULL);
	if (!s)
		return;
	run_feed(s, f, 2 * N_FRAMES);
	st = tap_opus_stream_stats(s);
	UT_EQ(st->duplicates, N_FRAMES);
	UT_EQ(st->late + st->plc_frames, 0);
	UT_EQ(c.n, mono_out.n);
	if (c.n == mono_out.n)
		UT_MEMEQ(c.pcm, mono_out.pcm, c.n * sizeof(int16_t));
	tap_opus_stream_free(s);
	capture_free(&c);
}

/* (4): in-band FEC; every 10th packet dropped (isolated losses). */
UT_TEST(test_fec)
{
	static struct opus_pkt pk[N_FRAMES];
	static struct feed f[N_FRAMES];
	struct enc_opts o = { 1, 32000, 1, 0 };
	const struct tap_opus_stats *st;
	struct tap_opus_stream *s;
	struct capture c;
	int n = 0, lost = 0, lag = 0;
	double ncc;

	UT_EQ(encode(&o, sig48, N_FRAMES, pk), 0);
	feed_init(f, pk, N_FRAMES, 12345, 0);
	for (int i = 0; i < N_FRAMES; i++) {
		if (i % 10 == 5) {
			lost++;
			continue;
		}
		f[n++] = f[i];
	}
	s = stream_new(&c);
	UT_CHECK(s != NULL);
	if (!s)
		return;
	run_feed(s, f, n);
	st = tap_opus_stream_stats(s);
	printf("  FEC: %d lost, %llu rebuilt from FEC, %llu by PLC\n", lost,
	       (unsigned long long)st->fec_frames, (unsigned long long)st->plc_frames);
	UT_CHECK(st->fec_frames > 0);
	UT_EQ(st->fec_frames + st->plc_frames, lost);
	check_chunks(&c, N_FRAMES * FRAME_16);
	ncc = best_ncc(c.pcm, c.n, ref16, N_FRAMES * FRAME_16, &lag);
	printf("  FEC, 10%% isolated loss: ncc %.4f at lag %d\n", ncc, lag);
	UT_CHECK(ncc > 0.7);

	/*
	 * FEC must beat PLC where it matters: error energy against a lossless
	 * decode, over the lost frames, ours versus a PLC-only libopus decode.
	 */
	{
		static int16_t full[N_FRAMES * FRAME_16], plc[N_FRAMES * FRAME_16];
		OpusDecoder *dec;
		double e_fec = 0, e_plc = 0;
		int err;

		UT_EQ(ref_decode(pk, N_FRAMES, full), N_FRAMES * FRAME_16);
		dec = opus_decoder_create(16000, 1, &err);
		UT_CHECK(dec != NULL);
		for (int i = 0; dec && i < N_FRAMES; i++)
			UT_EQ(opus_decode(dec, i % 10 == 5 ? NULL : pk[i].data,
					  i % 10 == 5 ? 0 : pk[i].len, plc + i * FRAME_16, FRAME_16, 0),
			      FRAME_16);
		opus_decoder_destroy(dec);
		for (int i = 5; i < N_FRAMES && c.n == N_FRAMES * FRAME_16; i += 10)
			for (int k = i * FRAME_16; k < (i + 1) * FRAME_16; k++) {
				e_fec += pow((double)c.pcm[k] - full[k], 2);
				e_plc += pow((double)plc[k] - full[k], 2);
			}
		printf("  lost frames, error energy vs lossless decode: FEC %.3g, PLC only %.3g\n",
		       e_fec, e_plc);
		UT_CHECK(e_fec < 0.5 * e_plc);
	}
	tap_opus_stream_free(s);
	capture_free(&c);
}

/*
 * (5): DTX.  1 s of audio, 1.5 s of digital silence, the rest audio; the
 * encoder in DTX mode; packets sent as WebRTC does: a 1-2 byte (DTX) packet
 * only when it is the first of a run, none after it (seq does not advance,
 * ts does).
 */
UT_TEST(test_dtx)
{
	enum { SIL_FROM = 50, SIL_TO = 125 };
	static float src[N_FRAMES * FRAME_48];
	static struct opus_pkt pk[N_FRAMES];
	static struct feed f[N_FRAMES];
	struct enc_opts o = { 1, 32000, 0, 1 };
	const struct tap_opus_stats *st;
	struct tap_opus_stream *s;
	struct capture c;
	int n = 0, skipped = 0, lag = 0;
	bool in_dtx = false;
	double rms = 0, ncc_a, ncc_b;
	size_t from, to;

	memcpy(src, sig48, sizeof(src));
	memset(src + SIL_FROM * FRAME_48, 0, (SIL_TO - SIL_FROM) * FRAME_48 * sizeof(float));
	UT_EQ(encode(&o, src, N_FRAMES, pk), 0);
	for (int i = 0; i < N_FRAMES; i++) {
		if (pk[i].len <= 2) {
			if (in_dtx) {
				skipped++;
				continue;
			}
			in_dtx = true;
		} else {
			in_dtx = false;
		}
		f[n].seq = (uint16_t)(500 + n);
		f[n].ts = 1000 + (uint32_t)i * FRAME_48;
		f[n].pl = pk[i].data;
		f[n].plen = pk[i].len;
		f[n].arrival = (uint64_t)i * 20;
		n++;
	}
	/* The last frame must be sent for the length to be the full duration. */
	UT_CHECK(skipped > 20 && pk[N_FRAMES - 1].len > 2);
	s = stream_new(&c);
	UT_CHECK(s != NULL);
	if (!s)
		return;
	run_feed(s, f, n);
	st = tap_opus_stream_stats(s);
	printf("  DTX: %d frames not sent, %llu DTX frames filled, %d packets\n", skipped,
	       (unsigned long long)st->dtx_frames, n);
	UT_CHECK(st->dtx_frames >= (uint64_t)skipped);
	UT_EQ(st->plc_frames + st->late + st->malformed, 0);
	UT_EQ(st->decoded_frames, n);
	check_chunks(&c, N_FRAMES * FRAME_16);
	/* Quiet where the input was silent (past the codec's tail). */
	from = (SIL_FROM + 5) * FRAME_16;
	to = (SIL_TO - 1) * FRAME_16;
	for (size_t i = from; i < to && i < c.n; i++)
		rms += (double)c.pcm[i] * c.pcm[i];
	rms = sqrt(rms / (double)(to - from));
	best_ncc(mono_out.pcm, mono_out.n, ref16, N_FRAMES * FRAME_16, &lag);
	ncc_a = ncc_range(c.pcm, c.n, ref16, lag, 0, (SIL_FROM - 1) * FRAME_16);
	ncc_b = ncc_range(c.pcm, c.n, ref16, lag, (SIL_TO + 5) * FRAME_16,
			  N_FRAMES * FRAME_16 - MAX_LAG);
	printf("  DTX: silence rms %.1f, ncc before %.4f after %.4f\n", rms, ncc_a, ncc_b);
	UT_CHECK(rms < 100);
	UT_CHECK(ncc_a > 0.9 && ncc_b > 0.8);
	tap_opus_stream_free(s);
	capture_free(&c);
}

/* (6a): malformed RTP and Opus framing: each counted, the gap concealed, length exact. */
UT_TEST(test_malformed_rtp)
{
	static const uint8_t bad_opus[][4] = {
		{ 0x03, 0x00 },       /* code 3, zero frames (RFC 6716 3.2.5 R5) */
		{ 0x01, 0x11, 0x22, 0x33 }, /* code 1, odd length (R3) */
		{ 0x02, 0xff },       /* code 2, first frame longer than the packet (R4) */
		{ 0xfb, 0x30 },       /* code 3, 48 x 20 ms: above 120 ms (R5) */
	};
	static const int bad_len[] = { 2, 4, 2, 2 };
	static const uint8_t pad_only[4] = { 0x04, 0x00, 0x00, 0x04 };
	uint8_t b[2048], big[1600];
	const struct tap_opus_stats *st;
	struct tap_opus_stream *s;
	struct capture c;
	size_t len;
	int i, bad = 0;

	s = stream_new(&c);
	UT_CHECK(s != NULL);
	if (!s)
		return;
	memset(big, 0x11, sizeof(big));
	big[0] = 0x08; /* a plausible TOC */
	for (i = 0; i < 20; i++) {
		uint16_t seq = (uint16_t)i;
		uint32_t ts = (uint32_t)i * FRAME_48;
		uint64_t now = (uint64_t)i * 20;

		switch (i) {
		case 3: /* every truncation of the header */
			len = rtp_build(b, seq, ts, mono_pkts[i].data, mono_pkts[i].len);
			for (size_t k = 0; k < 20; k++, bad++)
				UT_EQ(tap_opus_stream_input(s, b, k, now), -EINVAL);
			break;
		case 4: /* version 1 */
			len = rtp_build(b, seq, ts, mono_pkts[i].data, mono_pkts[i].len);
			b[0] = 0x50;
			UT_EQ(tap_opus_stream_input(s, b, len, now), -EINVAL);
			bad++;
			break;
		case 5: /* empty payload */
			UT_EQ(input_one(s, seq, ts, NULL, 0, now), -EINVAL);
			bad++;
			break;
		case 6: /* padding only (RFC 3550 5.1): no TOC left */
			len = rtp_build(b, seq, ts, pad_only, (int)sizeof(pad_only));
			b[0] |= 0x20;
			UT_EQ(tap_opus_stream_input(s, b, len, now), -EINVAL);
			bad++;
			break;
		case 7: /* padding count past the payload */
			len = rtp_build(b, seq, ts, mono_pkts[i].data, mono_pkts[i].len);
			b[0] |= 0x20;
			b[len - 1] = 0xff;
			UT_EQ(tap_opus_stream_input(s, b, len, now), -EINVAL);
			bad++;
			break;
		case 8: /* larger than any tap ring packet */
			UT_EQ(input_one(s, seq, ts, big, (int)sizeof(big), now), -EMSGSIZE);
			bad++;
			break;
		case 9:
		case 10:
		case 11:
		case 12:
			UT_EQ(input_one(s, seq, ts, bad_opus[i - 9], bad_len[i - 9], now), -EINVAL);
			bad++;
			break;
		default:
			UT_EQ(input_one(s, seq, ts, mono_pkts[i].data, mono_pkts[i].len, now), 0);
			break;
		}
		tap_opus_stream_tick(s, now);
	}
	UT_EQ(tap_opus_stream_input(s, NULL, 0, 500), -EINVAL);
	bad++;
	tap_opus_stream_flush(s);
	st = tap_opus_stream_stats(s);
	UT_EQ(st->malformed, bad);
	UT_EQ(st->plc_frames, 10); /* seqs 3..12 never arrived intact */
	UT_EQ(st->decoded_frames, 10);
	UT_EQ(st->packets, st->decoded_frames + st->malformed);
	check_chunks(&c, 20 * FRAME_16);
	tap_opus_stream_free(s);
	capture_free(&c);
}

/* (6b): random payloads with valid and invalid TOCs: no crash, counted, bounded. */
UT_TEST(test_random_payloads)
{
	const struct tap_opus_stats *st;
	struct tap_opus_stream *s;
	uint8_t pl[400];
	struct capture c;
	int rc_ok = 0;

	rng_state = 1234;
	s = stream_new(&c);
	UT_CHECK(s != NULL);
	if (!s)
		return;
	for (int i = 0; i < 2000; i++) {
		int plen = 1 + (int)(rnd() % sizeof(pl));

		for (int k = 0; k < plen; k++)
			pl[k] = (uint8_t)rnd();
		if (input_one(s, (uint16_t)i, (uint32_t)i * FRAME_48, pl, plen,
			      (uint64_t)i * 20) == 0)
			rc_ok++;
		tap_opus_stream_tick(s, (uint64_t)i * 20);
	}
	tap_opus_stream_flush(s);
	st = tap_opus_stream_stats(s);
	printf("  random payloads: %d accepted, %llu decoded, %llu malformed, %llu plc\n",
	       rc_ok, (unsigned long long)st->decoded_frames, (unsigned long long)st->malformed,
	       (unsigned long long)st->plc_frames);
	UT_CHECK(st->malformed > 0 && st->decoded_frames > 0);
	UT_EQ(st->packets, st->decoded_frames + st->malformed + st->late + st->duplicates +
				   st->jumps);
	/* At most 120 ms per packet plus its share of the gaps the timestamps allow. */
	UT_CHECK(c.n <= 2000 * 1920 + 2000 * FRAME_16);
	UT_EQ(c.bad_shape + c.bad_seq, 0);
	tap_opus_stream_free(s);
	capture_free(&c);
}

/*
 * (6c): huge timestamp jumps with consecutive seq (DTX taken to extremes):
 * each gap fills max_gap_ms, media time (start_ms) jumps the full distance.
 */
UT_TEST(test_ts_jumps)
{
	const struct tap_opus_stats *st;
	struct tap_opus_stream *s;
	struct capture c;
	uint32_t ts = 0;
	int i;

	s = stream_new(&c);
	UT_CHECK(s != NULL);
	if (!s)
		return;
	for (i = 0; i < 30; i++) {
		if (i == 10)
			ts += 48000u * 30;      /* 30 s: capped to 10 s */
		if (i == 20)
			ts += 0x7fff0000u;      /* about 12.4 h: capped to 10 s */
		input_one(s, (uint16_t)(100 + i), ts, mono_pkts[i].data, mono_pkts[i].len,
			  (uint64_t)i * 20);
		ts += FRAME_48;
	}
	tap_opus_stream_flush(s);
	st = tap_opus_stream_stats(s);
	UT_EQ(st->gaps_capped, 2);
	UT_EQ(st->decoded_frames, 30);
	UT_EQ(c.n, 30 * FRAME_16 + 2 * 10 * 16000);
	UT_EQ(c.bad_shape + c.bad_seq, 0);
	/*
	 * Chunks 0-1: packets 0-9; 2-101: the 10 s filled; 102 starts at packet
	 * 10, 30 s after packet 9 ended in media time.
	 */
	if (c.chunks > 102) {
		UT_EQ(c.start_ms[101], 10100);
		UT_EQ(c.start_ms[102], 30200);
	}
	printf("  ts jumps: %zu samples out, last chunk at %llu ms of media time\n", c.n,
	       (unsigned long long)c.start_ms[c.chunks - 1]);
	tap_opus_stream_free(s);
	capture_free(&c);
}

/*
 * (6d): sequence numbers: a single stray far ahead is dropped (a jump), two in
 * a row restart playout (RFC 3550 A.1); a burst past the reorder window
 * forces the gap out without waiting.
 */
UT_TEST(test_seq_jumps)
{
	const struct tap_opus_stats *st;
	struct tap_opus_stream *s;
	struct capture c;
	int i;

	s = stream_new(&c);
	UT_CHECK(s != NULL);
	if (!s)
		return;
	for (i = 0; i < 40; i++) {
		uint64_t now = (uint64_t)i * 20;

		UT_EQ(input_one(s, (uint16_t)(65530 + i), (uint32_t)i * FRAME_48, mono_pkts[i].data,
				mono_pkts[i].len, now), 0);
		if (i == 10)
			UT_EQ(input_one(s, (uint16_t)(65530 + i + 20000), 0, mono_pkts[i].data,
					mono_pkts[i].len, now), -ERANGE);
		if (i == 12)
			UT_EQ(input_one(s, (uint16_t)(65530 + i - 500), 0, mono_pkts[i].data,
					mono_pkts[i].len, now), -ERANGE);
		tap_opus_stream_tick(s, now);
	}
	st = tap_opus_stream_stats(s);
	UT_EQ(st->jumps, 2);
	UT_EQ(st->resyncs, 0);
	UT_EQ(c.n, 8 * TAP_OPUS_CHUNK_SAMPLES); /* all 40 played: 8 full chunks */
	/* Sender restart: seq 30000, 30001, ... */
	for (i = 0; i < 20; i++)
		input_one(s, (uint16_t)(30000 + i), 5000000 + (uint32_t)i * FRAME_48,
			  mono_pkts[i].data, mono_pkts[i].len, 800 + (uint64_t)i * 20);
	tap_opus_stream_flush(s);
	st = tap_opus_stream_stats(s);
	UT_EQ(st->jumps, 3);
	UT_EQ(st->resyncs, 1);
	UT_EQ(st->decoded_frames, 40 + 19);
	UT_EQ(st->plc_frames + st->late, 0);
	UT_EQ(c.n, (40 + 19) * FRAME_16);
	tap_opus_stream_free(s);
	capture_free(&c);

	/* Window 4: a missing packet with 4 queued behind it is given up at once. */
	{
		struct tap_opus_params p = { 4, 1000, 0 };

		memset(&c, 0, sizeof(c));
		s = tap_opus_stream_new(&p, on_chunk, &c);
		UT_CHECK(s != NULL);
		if (!s)
			return;
		for (i = 0; i < 10; i++)
			if (i != 3)
				input_one(s, (uint16_t)i, (uint32_t)i * FRAME_48, mono_pkts[i].data,
					  mono_pkts[i].len, 1000);
		/* No tick, hold time far away: only the window released it. */
		st = tap_opus_stream_stats(s);
		UT_EQ(st->plc_frames, 1);
		UT_CHECK(st->decoded_frames >= 6);
		tap_opus_stream_flush(s);
		UT_EQ(st->decoded_frames, 9);
		UT_EQ(c.n, 10 * FRAME_16);
		tap_opus_stream_free(s);
		capture_free(&c);
	}
}

/* Decode cost: the in-order mono and stereo streams, repeated; printed only. */
UT_TEST(test_decode_cost)
{
	enum { REPS = 10 };
	static const struct {
		const char *name;
		const struct opus_pkt *pk;
	} runs[] = { { "mono 32 kbit/s", mono_pkts }, { "stereo 64 kbit/s", stereo_pkts } };

	for (unsigned int r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		struct tap_opus_stream *s;
		struct timespec t0, t1;
		struct capture c;
		double sec, audio = REPS * N_FRAMES * 0.02;

		s = stream_new(&c);
		UT_CHECK(s != NULL);
		if (!s)
			return;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int k = 0; k < REPS * N_FRAMES; k++)
			input_one(s, (uint16_t)k, (uint32_t)k * FRAME_48, runs[r].pk[k % N_FRAMES].data,
				  runs[r].pk[k % N_FRAMES].len, (uint64_t)k * 20);
		tap_opus_stream_flush(s);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("  decode cost, %s: %.1f us per 20 ms packet, %.0fx real time "
		       "(~%.0f streams per core)\n",
		       runs[r].name, sec / (REPS * N_FRAMES) * 1e6, audio / sec, audio / sec);
		UT_EQ(c.n, REPS * N_FRAMES * FRAME_16);
		tap_opus_stream_free(s);
		capture_free(&c);
	}
	capture_free(&mono_out);
}

UT_MAIN("tap_opus", UT_CASE(test_setup), UT_CASE(test_in_order), UT_CASE(test_loss),
	UT_CASE(test_reorder), UT_CASE(test_duplicates), UT_CASE(test_fec), UT_CASE(test_dtx),
	UT_CASE(test_malformed_rtp), UT_CASE(test_random_payloads), UT_CASE(test_ts_jumps),
	UT_CASE(test_seq_jumps), UT_CASE(test_decode_cost))
