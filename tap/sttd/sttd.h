/*
 * sttd.h — sfu-sttd, the speech-to-text HTTP server of tap/STT-API.md on top
 * of the embedded pocketsphinx recognizer (stt_ps.h).
 *
 *   sttd.c       options, the libwebsockets context, the service loop, signals
 *   sttd_http.c  HTTP/1.1 plumbing: routing, bodies, replies, keep-alive
 *   sttd_api.c   the contract: the stream table and each endpoint's reply
 *
 * Threading: one thread.  Everything runs in libwebsockets' service loop;
 * recognition runs inline in the request (a 100 ms chunk costs ~15 ms of CPU,
 * the end of a stream's first utterance up to ~0.8 s, see stt_ps.c).
 */
#ifndef SFU_STTD_H
#define SFU_STTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "stt_ps.h"

#define STTD_DEFAULT_PORT 8001
#define STTD_DEFAULT_BIND "127.0.0.1"
#define STTD_DEFAULT_MAX_STREAMS 16
#define STTD_MAX_STREAMS_LIMIT 1024

#define STTD_ID_MAX 128           /* streamId: 1-128 of A-Z a-z 0-9 _ - . / : */
#define STTD_CHUNK_MAX 32000      /* bytes of PCM in one transcribe-stream body (1 s) */
#define STTD_JSON_MAX 4096        /* bytes of a stream-start / stream-end body */
#define STTD_DISCARD_MAX (1 << 20) /* larger refused bodies close the connection unread */
#define STTD_IDLE_MS 60000        /* streams without a request this long are freed */
#define STTD_RETRY_AFTER_S 5      /* Retry-After of a 503 */

/** One stream: its recognizer session and where its chunks are. */
struct sttd_stream {
	bool used;
	char id[STTD_ID_MAX + 1];
	uint64_t next_seq;           /* seq the next chunk must carry */
	uint64_t last_ms;            /* monotonic ms of its last request */
	struct stt_ps_session *ps;
};

/** Counters, printed at exit. */
struct sttd_counters {
	uint64_t requests;
	uint64_t status[6];          /* replies by class: [2] = 2xx ... [5] = 5xx */
	uint64_t streams_started;
	uint64_t streams_ended;
	uint64_t streams_idle;       /* freed by the idle sweep */
	uint64_t chunks;
	uint64_t results;
};

/** The server: one per process, owned by main. */
struct sttd {
	struct stt_ps_engine *engine;
	struct sttd_stream *streams; /* max_streams slots */
	unsigned int max_streams;
	unsigned int n_streams;
	struct sttd_counters cnt;
	struct lws_context *ctx;
	lws_sorted_usec_list_t sweep; /* idle sweep timer, every second */
};

/** A reply built by the API layer: status, JSON body (malloc'd), extras. */
struct sttd_reply {
	unsigned int status;
	char *body;
	unsigned int retry_after;    /* seconds, sent when nonzero */
};

/* sttd_api.c */

/** Monotonic clock in ms. */
uint64_t sttd_now_ms(void);

/**
 * Allocate the stream table.
 * @return 0 or -ENOMEM
 */
int sttd_api_init(struct sttd *d, struct stt_ps_engine *engine, unsigned int max_streams);

/** Free every stream and the table. */
void sttd_api_fini(struct sttd *d);

/**
 * Free streams idle longer than STTD_IDLE_MS.
 * @return how many were freed
 */
unsigned int sttd_api_sweep(struct sttd *d, uint64_t now_ms);

/** GET /health. */
void sttd_api_health(struct sttd *d, struct sttd_reply *r);

/** POST /api/v1/stream-start with its JSON body. */
void sttd_api_stream_start(struct sttd *d, const char *body, size_t len, struct sttd_reply *r);

/**
 * POST /api/v1/transcribe-stream?streamId=&seq=.
 * @param id   the streamId argument, NULL if absent
 * @param seq  the seq argument, NULL if absent
 * @param pcm  the body, little-endian s16 (converted in place)
 */
void sttd_api_chunk(struct sttd *d, const char *id, const char *seq, uint8_t *pcm, size_t len,
		    struct sttd_reply *r);

/** POST /api/v1/stream-end with its JSON body. */
void sttd_api_stream_end(struct sttd *d, const char *body, size_t len, struct sttd_reply *r);

/**
 * An error reply {"error": msg}.
 * @param r       reply to fill (its body is replaced)
 * @param status  HTTP status
 * @param msg     what went wrong, for a person
 */
void sttd_api_error(struct sttd_reply *r, unsigned int status, const char *msg);

/* sttd_http.c */

/** The one protocol of the vhost: every HTTP request lands here. */
extern const struct lws_protocols sttd_http_protocol;

#endif /* SFU_STTD_H */
