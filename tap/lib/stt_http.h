/*
 * stt_http.h — asynchronous client of the speech-to-text HTTP contract
 * (tap/STT-API.md: POST /api/v1/stream-start, /api/v1/transcribe-stream,
 * /api/v1/stream-end under STT_SERVICE_URL) on the libcurl multi interface.
 *
 * The caller queues 100 ms PCM chunks per stream; stt_http_poll() moves them
 * to the service, at most one request in flight per stream so chunks arrive
 * in order, and hands back the recognised text with times in the stream's
 * media time.  Nothing here ever blocks for longer than the poll timeout the
 * caller gives: while the service is down each stream's queue fills and drops
 * its oldest chunk (counted), failed requests are retried with exponential
 * backoff, and when the service returns the streams are re-started on it
 * (a 404 for a chunk means the service lost the stream) and go on.
 *
 * Timeline: seq numbers are given when a chunk is sent, so the service always
 * sees consecutive seqs and a gap-free timeline; audio dropped here (queue
 * overflow, a chunk the service refused) or lost with a restarted service
 * shortens the service's timeline.  The client keeps, per stream, where each
 * stretch of the service's timeline lies in media time (the audio queued
 * since stt_http_stream_start, dropped chunks included), and maps every
 * result back: media time = service time + audio dropped before it.  A
 * chunk whose reply was lost (timeout, then 409 proving the service took it)
 * is not sent again: its results are lost, the timeline stays right.
 *
 * Threading: a struct stt_http belongs to one thread (the owner's loop):
 * every function, including the callback's invocations (made only from
 * inside stt_http_poll), runs on it; no locks and no threads of our own
 * (libcurl's threaded resolver may run its own).  The callback may call
 * stt_http_chunk, stt_http_stream_start and stt_http_stream_end, not
 * stt_http_free.
 */
#ifndef TAP_STT_HTTP_H
#define TAP_STT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STT_HTTP_ID_MAX 128                /* streamId: 1-128 of [A-Za-z0-9_.:/-] */
#define STT_HTTP_SAMPLE_RATE 16000         /* 16-bit mono PCM, the contract's rate */
#define STT_HTTP_MAX_CHUNK_SAMPLES 16000   /* 32 000 bytes: the service's limit (413) */

/* Every field may be left 0 / NULL for its default except base_url. */
struct stt_http_config {
	const char *base_url;            /* STT_SERVICE_URL, e.g. "http://stt:8001" */
	const char *language;            /* stream-start "language"; NULL: "en-US" */
	unsigned int connect_timeout_ms; /* TCP (+TLS) connect; 0: 2000 */
	unsigned int request_timeout_ms; /* whole request; 0: 5000 (the original's) */
	unsigned int max_queued_chunks;  /* per stream, >= 2; 0: 50 (5 s of audio) */
	unsigned int backoff_min_ms;     /* first retry delay; 0: 250 */
	unsigned int backoff_max_ms;     /* doubling stops here; 0: 5000 */
	unsigned int end_timeout_ms;     /* an ended stream is given up after; 0: 10000 */
	unsigned int max_streams;        /* open + ending streams; 0: 64 */
};

/* One result; text is valid only during the callback. */
struct stt_http_result {
	const char *text;  /* UTF-8 as the service sent it */
	bool final;        /* false: partial, replaced by later ones of the utterance */
	uint64_t start_ms; /* media time: ms of audio since stt_http_stream_start */
	uint64_t end_ms;
};

struct stt_http_stats {
	uint64_t requests;        /* HTTP requests started */
	uint64_t ok;              /* answered 2xx */
	uint64_t failed;          /* transport error, timeout, 5xx, 429, or a refused start */
	uint64_t timeouts;        /* of which connect or request timeouts */
	uint64_t retries;         /* requests repeating one that failed */
	uint64_t restarts;        /* 404 on a chunk: the stream was started again */
	uint64_t resyncs;         /* 409 with expectedSeq followed */
	uint64_t bad_replies;     /* 2xx/409 bodies that were not the contract's JSON */
	uint64_t chunks_queued;   /* accepted by stt_http_chunk */
	uint64_t chunks_sent;     /* taken by the service (200, or 409 proving it) */
	uint64_t chunks_dropped;  /* oldest dropped from a full queue, or left at give-up */
	uint64_t chunks_rejected; /* refused by the service with a 4xx: not retried */
	uint64_t results;         /* delivered to the callback */
	uint64_t streams_abandoned; /* ended streams given up after end_timeout_ms */
	uint64_t latency_us_sum;  /* request latency, add to completion */
	uint64_t latency_us_count;
	uint64_t latency_us_max;
	unsigned int streams;     /* streams held (open and ending) */
	bool service_up;          /* the last completed request got a non-5xx reply */
};

struct stt_http_stream_stats {
	unsigned int queued;      /* chunks waiting (the one in flight included) */
	uint64_t chunks_sent;
	uint64_t chunks_dropped;  /* queue overflow */
	uint64_t chunks_rejected; /* 4xx */
	uint64_t dropped_ms;      /* media the service never got: dropped + rejected */
	uint64_t next_seq;        /* seq of the next chunk sent */
	bool started;             /* the service knows the stream */
	bool ending;              /* stt_http_stream_end was called */
};

struct stt_http;

/**
 * Create a client.  Calls curl_global_init (reference counted by libcurl;
 * stt_http_free makes the matching cleanup).
 * @param cfg       configuration; copied
 * @param on_result called from stt_http_poll for each result of each stream
 * @param arg       passed to on_result
 * @return the client, or NULL (bad base_url or option, no memory, libcurl init)
 */
struct stt_http *stt_http_new(const struct stt_http_config *cfg,
			      void (*on_result)(void *arg, const char *stream_id,
						const struct stt_http_result *r),
			      void *arg);

/**
 * Open a stream; stream-start is sent by the next stt_http_poll.
 * @param stream_id 1-128 characters of A-Z a-z 0-9 _ - . / :
 * @return 0, -EINVAL (bad id), -EEXIST (open), -EBUSY (still ending),
 *         -ENOSPC (max_streams held), -ENOMEM
 */
int stt_http_stream_start(struct stt_http *h, const char *stream_id);

/**
 * Queue a copy of one chunk of 16 kHz mono PCM (100 ms = 1600 samples).
 * A full queue drops its oldest chunk not in flight, counted, and the
 * stream's dropped_ms grows; never blocks.
 * @return 0, -ENOENT (no such open stream), -EINVAL (no samples),
 *         -EMSGSIZE (more than STT_HTTP_MAX_CHUNK_SAMPLES), -ENOMEM
 */
int stt_http_chunk(struct stt_http *h, const char *stream_id, const int16_t *pcm,
		   size_t samples);

/**
 * End a stream: stream-end is sent after the chunks still queued, its
 * results are delivered, then the stream is forgotten.  Given up (counted in
 * streams_abandoned, its queue in chunks_dropped) when end_timeout_ms has
 * passed and no request of it is in flight, so within end_timeout_ms +
 * request_timeout_ms.  A stream the service never acknowledged and with
 * nothing queued is forgotten at once, without a request.
 * @return 0 or -ENOENT (no such open stream)
 */
int stt_http_stream_end(struct stt_http *h, const char *stream_id);

/**
 * Run the client for at most timeout_ms: start due requests, wait for
 * network activity (curl_multi_poll), complete transfers, call on_result.
 * Returns as soon as a transfer completed, or when timeout_ms has passed.
 * @return number of transfers completed (>= 0), or -EIO on a libcurl error
 */
int stt_http_poll(struct stt_http *h, int timeout_ms);

/** Milliseconds until the client next needs stt_http_poll (0: now), capped at cap_ms. */
int stt_http_next_timeout(struct stt_http *h, int cap_ms);

/** Copy the client's counters into *out. */
void stt_http_get_stats(const struct stt_http *h, struct stt_http_stats *out);

/**
 * Copy one stream's counters into *out.
 * @return 0 or -ENOENT
 */
int stt_http_get_stream_stats(const struct stt_http *h, const char *stream_id,
			      struct stt_http_stream_stats *out);

/** Abort every transfer and free the client (NULL is a no-op); no callbacks. */
void stt_http_free(struct stt_http *h);

#endif /* TAP_STT_HTTP_H */
