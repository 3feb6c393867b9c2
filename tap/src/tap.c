/*
 * tap.c — sfu-tap: mirrored audio -> 16 kHz PCM -> speech to text -> captions.
 *
 * A DPDK secondary of the data plane.  The data plane copies the decrypted
 * RTP of every audio producer whose owner turned captions on to the tap ring
 * (SFU_MSG_TAP_RTP); here each producer gets a stream: Opus decoded with
 * reordering and concealment into 100 ms chunks (tap_opus.c), handed to the
 * STT backend — `embedded` (pocketsphinx in this process, stt_ps.c) or `http`
 * (the STT service contract, tap/STT-API.md, on libcurl multi, stt_http.c).
 * Results go to ctrl over the captions ring (SFU_MSG_CAPTION), which tells
 * the room.  A stream with no packets for 2 s (captions off, producer gone)
 * is finished: its last utterance is finalised, and it is freed.
 *
 * Never slows anyone: the tap ring and the captions ring drop and count when
 * full; the STT service being down fills bounded queues (oldest dropped,
 * counted) and captions pause until it returns.  ENABLE_AUDIO_PROCESSING=false
 * turns the whole tap off.
 *
 * Threading: one thread; the loop polls the ring every 1 ms when idle.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_memzone.h>
#include <rte_ring.h>

#include "sfu_attach.h"
#include "sfu_config.h"
#include "stt_http.h"
#include "stt_ps.h"
#include "tap_opus.h"

#define TAP_LCORE_ID 101
#define MAX_STREAMS 64
#define IDLE_END_MS 2000
#define BURST 32

struct tap_stream {
	uint32_t producer;            /* 0: free slot */
	char id[96];                  /* STT stream id */
	struct tap_opus_stream *opus;
	struct stt_ps_session *ps;    /* embedded backend */
	uint64_t last_rx_ms;
	uint64_t last_chunk_rx_ms;    /* arrival of the newest packet in the newest chunk */
};

static struct {
	char file_prefix[64];
	bool enabled;
	bool http;
	char stt_url[256];
	char model_dir[256];
	char node_id[64];
	struct sfu_client *dp;
	struct rte_ring *in, *out;
	struct sfu_tap_stats *st;
	struct stt_ps_engine *ps;
	struct stt_http *h;
	struct tap_stream streams[MAX_STREAMS];
	uint64_t stream_seq;
	volatile sig_atomic_t stop;
} tap;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void on_signal(int sig)
{
	(void)sig;
	tap.stop = 1;
}

static void record(uint64_t *buckets, uint64_t *sum, uint64_t *count, uint64_t us)
{
	buckets[sfu_lat_bucket(us)]++;
	*sum += us;
	(*count)++;
}

/* One caption to ctrl (a full ring or empty pool drops and counts). */
static void emit(const struct tap_stream *s, const char *text, bool final, uint64_t start_ms,
		 uint64_t end_ms)
{
	struct sfu_msg *m;
	uint64_t lat_us = s->last_chunk_rx_ms ? (now_ms() - s->last_chunk_rx_ms) * 1000 : 0;
	size_t len = strlen(text);

	if (len == 0)
		return;
	m = sfu_client_msg_alloc(tap.dp, SFU_MSG_CAPTION);
	if (m == NULL) {
		tap.st->captions_dropped++;
		return;
	}
	if (len >= SFU_CAPTION_TEXT_MAX)
		len = SFU_CAPTION_TEXT_MAX - 1;
	m->u.caption.producer = s->producer;
	m->u.caption.is_final = final;
	m->u.caption.start_ms = start_ms;
	m->u.caption.end_ms = end_ms;
	m->u.caption.latency_us = lat_us;
	m->u.caption.len = (uint16_t)len;
	memcpy(m->u.caption.text, text, len);
	m->u.caption.text[len] = '\0';
	if (rte_ring_enqueue(tap.out, m) != 0) {
		sfu_msg_free(m);
		tap.st->captions_dropped++;
		return;
	}
	if (final)
		tap.st->captions_final++;
	else
		tap.st->captions_partial++;
	record(tap.st->caption_latency, &tap.st->caption_latency_sum_us,
	       &tap.st->caption_latency_count, lat_us);
}

static void emit_ps(const struct tap_stream *s, const struct stt_ps_result *r, int n)
{
	for (int i = 0; i < n; i++)
		emit(s, r[i].text, r[i].final, r[i].start_ms, r[i].end_ms);
}

/* A 100 ms chunk of 16 kHz PCM from the decoder. */
static void on_chunk(void *arg, const int16_t *pcm, size_t samples, uint64_t start_ms, uint32_t seq)
{
	struct tap_stream *s = arg;

	(void)start_ms;
	(void)seq;
	tap.st->chunks++;
	s->last_chunk_rx_ms = s->last_rx_ms;
	if (tap.http) {
		if (stt_http_chunk(tap.h, s->id, pcm, samples) == 0)
			tap.st->chunks_sent++;
		else
			tap.st->chunks_dropped++;
		return;
	}
	{
		struct stt_ps_result r[STT_PS_MAX_RESULTS];
		uint64_t t0 = now_us();
		int n = stt_ps_feed(s->ps, pcm, samples, r, STT_PS_MAX_RESULTS);

		record(tap.st->stt_latency, &tap.st->stt_latency_sum_us,
		       &tap.st->stt_latency_count, now_us() - t0);
		if (n < 0) {
			tap.st->chunks_dropped++;
			return;
		}
		tap.st->chunks_sent++;
		emit_ps(s, r, n);
	}
}

/* The HTTP backend's results, already in stream media time. */
static void on_http_result(void *arg, const char *stream_id, const struct stt_http_result *r)
{
	(void)arg;
	for (int i = 0; i < MAX_STREAMS; i++)
		if (tap.streams[i].producer != 0 && strcmp(tap.streams[i].id, stream_id) == 0)
			emit(&tap.streams[i], r->text, r->final, r->start_ms, r->end_ms);
}

static struct tap_stream *stream_get(uint32_t producer, uint64_t now)
{
	struct tap_stream *free_slot = NULL;
	static const struct tap_opus_params params = { 0 }; /* defaults */

	for (int i = 0; i < MAX_STREAMS; i++) {
		if (tap.streams[i].producer == producer)
			return &tap.streams[i];
		if (tap.streams[i].producer == 0 && free_slot == NULL)
			free_slot = &tap.streams[i];
	}
	if (free_slot == NULL)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	snprintf(free_slot->id, sizeof(free_slot->id), "%s/pr%u/%lu", tap.node_id, producer,
		 (unsigned long)++tap.stream_seq);
	free_slot->opus = tap_opus_stream_new(&params, on_chunk, free_slot);
	if (free_slot->opus == NULL)
		return NULL;
	if (tap.http) {
		if (stt_http_stream_start(tap.h, free_slot->id) < 0) {
			tap_opus_stream_free(free_slot->opus);
			return NULL;
		}
	} else {
		free_slot->ps = stt_ps_session_new(tap.ps);
		if (free_slot->ps == NULL) {
			tap_opus_stream_free(free_slot->opus);
			return NULL;
		}
	}
	free_slot->producer = producer;
	free_slot->last_rx_ms = now;
	tap.st->active_streams++;
	tap.st->streams_total++;
	return free_slot;
}

/* No more audio: decode what is buffered, finalise, free. */
static void stream_end(struct tap_stream *s)
{
	const struct tap_opus_stats *os;

	tap_opus_stream_flush(s->opus);
	os = tap_opus_stream_stats(s->opus);
	tap.st->malformed += os->malformed;
	if (tap.http) {
		stt_http_stream_end(tap.h, s->id);
	} else {
		struct stt_ps_result r[STT_PS_MAX_RESULTS];
		int n = stt_ps_end(s->ps, r, STT_PS_MAX_RESULTS);

		if (n > 0)
			emit_ps(s, r, n);
		stt_ps_session_free(s->ps);
	}
	tap_opus_stream_free(s->opus);
	s->producer = 0;
	tap.st->active_streams--;
}

static void handle(struct sfu_msg *m, uint64_t now)
{
	struct tap_stream *s;

	if (m->type != SFU_MSG_TAP_RTP || m->u.tap_rtp.len > SFU_MSG_DATA_MAX) {
		tap.st->malformed++;
		return;
	}
	tap.st->packets++;
	s = stream_get(m->u.tap_rtp.producer, now);
	if (s == NULL) {
		tap.st->chunks_dropped++;
		return;
	}
	s->last_rx_ms = now;
	if (tap_opus_stream_input(s->opus, m->u.tap_rtp.data, m->u.tap_rtp.len, now) < 0)
		tap.st->malformed++;
}

#define USAGE                                                                            \
	"usage: sfu-tap [-c CONFIG] [-s section.key=value]...\n"                        \
	"Keys: tap/README.md.  Environment: ENABLE_AUDIO_PROCESSING STT_SERVICE_URL\n"   \
	"SFU_FILE_PREFIX\n"

static int load_config(int argc, char **argv)
{
	char err[256];
	struct sfu_config *cfg = sfu_config_from_args(argc, argv, USAGE, err, sizeof(err));
	const char *backend;
	int ret;

	if (cfg == NULL)
		goto out;
	if ((ret = sfu_config_bool(cfg, "tap", "enabled", true, &tap.enabled, err, sizeof(err))) < 0)
		goto out;
	snprintf(tap.file_prefix, sizeof(tap.file_prefix), "%s",
		 sfu_config_str(cfg, "common", "file_prefix", "sfu"));
	snprintf(tap.stt_url, sizeof(tap.stt_url), "%s", sfu_config_str(cfg, "tap", "stt_url", ""));
	snprintf(tap.model_dir, sizeof(tap.model_dir), "%s",
		 sfu_config_str(cfg, "tap", "model_dir", STT_PS_DEFAULT_MODEL_DIR));
	snprintf(tap.node_id, sizeof(tap.node_id), "%s", sfu_config_str(cfg, "ctrl", "node_id", "node"));
	/* The original deployment set only STT_SERVICE_URL: that means http. */
	backend = sfu_config_str(cfg, "tap", "backend", tap.stt_url[0] ? "http" : "embedded");
	if (strcmp(backend, "http") == 0) {
		tap.http = true;
		if (tap.stt_url[0] == '\0') {
			snprintf(err, sizeof(err), "tap.backend=http needs tap.stt_url (STT_SERVICE_URL)");
			goto out;
		}
	} else if (strcmp(backend, "embedded") != 0) {
		snprintf(err, sizeof(err), "tap.backend: 'embedded' or 'http'");
		goto out;
	}
	sfu_config_free(cfg);
	return 0;
out:
	fprintf(stderr, "sfu-tap: %s\n", err);
	sfu_config_free(cfg);
	return -EINVAL;
}

static int attach(void)
{
	const struct rte_memzone *mz;
	int ret = sfu_attach_eal("sfu-tap", tap.file_prefix, TAP_LCORE_ID);

	if (ret < 0)
		return ret;
	tap.dp = sfu_client_open(SFU_ROLE_TAP, 3000);
	tap.in = sfu_ring(SFU_RING_TAP);
	tap.out = sfu_ring(SFU_RING_CAPTIONS);
	if (tap.dp == NULL || tap.in == NULL || tap.out == NULL)
		return -ENOENT;
	/* The stats block outlives a tap restart (ctrl keeps reading it). */
	mz = rte_memzone_lookup(SFU_TAP_MZ);
	if (mz == NULL)
		mz = rte_memzone_reserve(SFU_TAP_MZ, sizeof(struct sfu_tap_stats), SOCKET_ID_ANY, 0);
	if (mz == NULL)
		return -ENOMEM;
	tap.st = mz->addr;
	memset(tap.st, 0, sizeof(*tap.st));
	tap.st->pid = (int32_t)getpid();
	tap.st->backend = tap.http;
	return 0;
}

static int start_backend(void)
{
	char err[256];

	if (tap.http) {
		struct stt_http_config hc = { .base_url = tap.stt_url };

		tap.h = stt_http_new(&hc, on_http_result, NULL);
		return tap.h ? 0 : -EINVAL;
	}
	tap.ps = stt_ps_engine_new(tap.model_dir, err, sizeof(err));
	if (tap.ps == NULL) {
		fprintf(stderr, "sfu-tap: recognizer: %s\n", err);
		return -EIO;
	}
	tap.st->stt_up = 1;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t last_tick = 0;
	int ret;

	if (load_config(argc, argv) < 0)
		return 2;
	if (!tap.enabled) {
		printf("sfu-tap: audio processing disabled (ENABLE_AUDIO_PROCESSING=false)\n");
		return 0;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ret = attach();
	if (ret < 0) {
		fprintf(stderr, "sfu-tap: cannot attach to the data plane '%s': %s\n", tap.file_prefix,
			strerror(-ret));
		return 1;
	}
	if (start_backend() < 0)
		return 1;
	printf("sfu-tap: ready: %s backend%s%s\n", tap.http ? "http" : "embedded",
	       tap.http ? " " : "", tap.http ? tap.stt_url : "");
	fflush(stdout);

	while (!tap.stop) {
		void *objs[BURST];
		uint64_t now = now_ms();
		unsigned int n = rte_ring_dequeue_burst(tap.in, objs, BURST, NULL);

		for (unsigned int i = 0; i < n; i++) {
			handle(objs[i], now);
			sfu_msg_free(objs[i]);
		}
		if (now - last_tick >= 20) {
			last_tick = now;
			for (int i = 0; i < MAX_STREAMS; i++) {
				struct tap_stream *s = &tap.streams[i];

				if (s->producer == 0)
					continue;
				if (now - s->last_rx_ms >= IDLE_END_MS)
					stream_end(s);
				else
					tap_opus_stream_tick(s->opus, now);
			}
		}
		if (tap.http) {
			struct stt_http_stats hs;

			stt_http_poll(tap.h, n ? 0 : 1);
			stt_http_get_stats(tap.h, &hs);
			tap.st->stt_up = hs.service_up;
			tap.st->chunks_dropped = hs.chunks_dropped;
			/* Request latency: stt_http keeps sum and count (no buckets). */
			tap.st->stt_latency_sum_us = hs.latency_us_sum;
			tap.st->stt_latency_count = hs.latency_us_count;
		} else if (n == 0) {
			usleep(1000);
		}
	}

	for (int i = 0; i < MAX_STREAMS; i++)
		if (tap.streams[i].producer != 0)
			stream_end(&tap.streams[i]);
	if (tap.http) {
		/* Let the stream-ends go out (bounded). */
		for (int i = 0; i < 20; i++)
			stt_http_poll(tap.h, 50);
		stt_http_free(tap.h);
	} else {
		stt_ps_engine_free(tap.ps);
	}
	tap.st->pid = 0;
	tap.st->active_streams = 0;
	sfu_client_close(tap.dp);
	rte_eal_cleanup();
	printf("sfu-tap: stopped\n");
	return 0;
}
