/*
 * stt_http.c — the client side of the STT HTTP contract (tap/STT-API.md) on
 * the libcurl multi interface (stt_http.h).
 *
 * Per stream: one CURL easy handle, reused for every request so its
 * connection goes back to the multi handle's cache and the next request
 * finds it there (HTTP/1.1 keep-alive, TCP keep-alive on the socket); a ring
 * of max_queued_chunks chunk slots whose PCM buffers are kept and reused; at
 * most one request in flight, always for the head of the ring, so the
 * service sees the chunks in order.  A chunk leaves the ring only when the
 * service has it (200, or a 409 whose expectedSeq shows it was taken before
 * a lost reply), when the service refuses it (4xx: dropped and counted), or
 * when a full ring drops its oldest chunk not in flight.
 *
 * Failures (connect error, timeout, 5xx, 408, 429) leave the request's
 * subject in place and retry it after an exponential backoff
 * (backoff_min_ms doubling to backoff_max_ms, or the service's Retry-After
 * if longer, capped at backoff_max_ms); any answer from the service resets
 * it.  A 404 for a chunk means the service lost the stream (it restarted):
 * stream-start again, seq from 0, same chunk.  Repeated 404/409 anomalies
 * without progress back off too, so a confused service cannot spin us.
 *
 * Timeline mapping: anchors (service sample position -> media sample
 * position) are recorded whenever a chunk taken by the service does not
 * continue the previous stretch (audio dropped or refused before it, or a
 * new service-side stream); a result time t maps through the last anchor
 * at or before t.  At most STT_ANCHORS are kept; older times use the oldest.
 *
 * Threading: one owner thread (stt_http.h); the fields below are touched
 * only from the public calls and from stt_http_poll.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "stt_http.h"

#define STT_ANCHORS 32
#define STT_URL_MAX 512          /* base URL */
#define STT_LANG_MAX 35          /* BCP 47 tag */
#define STT_REPLY_MAX (64 * 1024) /* a longer reply is aborted and counted bad */
#define STT_CHUNK_MS 100         /* the contract's chunk: seq N starts at N * 100 ms */
#define STT_ANOMALY_STREAK 3     /* 404/409 in a row without progress before backing off */
#define STT_KEEPIDLE_S 30L
#define STT_KEEPINTVL_S 10L

enum stt_req {
	STT_REQ_NONE = 0,
	STT_REQ_START,
	STT_REQ_CHUNK,
	STT_REQ_END,
};

/* One queued chunk; pcm stays allocated with its slot for reuse. */
struct stt_chunk {
	int16_t *pcm;          /* little-endian samples, the request body */
	size_t cap;            /* samples pcm holds */
	size_t samples;
	uint64_t media_start;  /* samples queued on the stream before this one */
};

/* Service sample position `server` is media sample position `media`. */
struct stt_anchor {
	uint64_t server;
	uint64_t media;
};

/*
 * One stream, from stt_http_stream_start until its stream-end completes (or
 * it is given up); owned by the client's stream table.
 */
struct stt_stream {
	char id[STT_HTTP_ID_MAX + 1];
	CURL *easy;
	enum stt_req inflight;
	uint64_t sent_us;          /* when the request in flight was started */
	bool started;              /* the service acknowledged stream-start */
	bool ending;
	bool failing;              /* the last request failed: the next is a retry */
	unsigned int backoff_ms;   /* next backoff delay; 0 after a success */
	unsigned int anomalies;    /* 404/409 in a row */
	uint64_t next_attempt_ms;
	uint64_t end_deadline_ms;

	struct stt_chunk *q;       /* ring of max_queued_chunks */
	unsigned int q_head, q_len;
	uint64_t media_samples;    /* queued since the start, dropped ones included */

	uint64_t next_seq;
	uint64_t server_samples;   /* audio the service holds on its timeline */
	struct stt_anchor anchors[STT_ANCHORS];
	unsigned int n_anchors;

	char body[384];            /* JSON request body (POSTFIELDS does not copy) */
	char *reply;
	size_t reply_len, reply_cap;

	uint64_t chunks_sent, chunks_dropped, chunks_rejected, dropped_samples;
};

struct stt_http {
	CURLM *multi;
	struct curl_slist *hdr_json, *hdr_pcm;
	char base[STT_URL_MAX + 1];
	char lang[STT_LANG_MAX + 1];
	unsigned int connect_ms, request_ms, max_queued, backoff_min, backoff_max;
	unsigned int end_ms, max_streams;
	void (*on_result)(void *arg, const char *stream_id, const struct stt_http_result *r);
	void *arg;
	struct stt_stream **streams;
	unsigned int n_streams;
	struct stt_http_stats stats;
	char url[STT_URL_MAX + 64 + STT_HTTP_ID_MAX + 32];
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t now_ms(void)
{
	return now_us() / 1000u;
}

static bool valid_id(const char *id)
{
	size_t n = 0;

	if (!id)
		return false;
	for (; id[n]; n++) {
		char c = id[n];

		if (n >= STT_HTTP_ID_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == '/' || c == ':'))
			return false;
	}
	return n > 0;
}

static bool valid_lang(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > STT_LANG_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* http(s)://, printable, no spaces; the trailing '/' is dropped. */
static int set_base_url(struct stt_http *h, const char *url)
{
	size_t n;

	if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
		return -EINVAL;
	n = strlen(url);
	if (n > STT_URL_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 0x7f)
			return -EINVAL;
	memcpy(h->base, url, n + 1);
	while (n > 8 && h->base[n - 1] == '/')
		h->base[--n] = '\0';
	return 0;
}

static struct stt_stream *find_stream(const struct stt_http *h, const char *id)
{
	for (unsigned int i = 0; i < h->n_streams; i++)
		if (strcmp(h->streams[i]->id, id) == 0)
			return h->streams[i];
	return NULL;
}

static struct stt_chunk *q_at(const struct stt_http *h, const struct stt_stream *s,
			      unsigned int i)
{
	return &s->q[(s->q_head + i) % h->max_queued];
}

static void q_pop(const struct stt_http *h, struct stt_stream *s)
{
	s->q_head = (s->q_head + 1) % h->max_queued;
	s->q_len--;
}

/*
 * Drop the oldest chunk not in flight.  The head may be in flight, its
 * buffer being the request body: then its slot trades places with the next
 * one (the buffers move with the slots, no byte is copied) and the new head
 * is the dropped chunk.
 */
static void q_drop_oldest(struct stt_http *h, struct stt_stream *s)
{
	struct stt_chunk *c;

	if (s->inflight == STT_REQ_CHUNK) {
		struct stt_chunk *a = q_at(h, s, 0), *b = q_at(h, s, 1), t = *a;

		*a = *b;
		*b = t;
	}
	c = q_at(h, s, 0);
	s->chunks_dropped++;
	s->dropped_samples += c->samples;
	h->stats.chunks_dropped++;
	q_pop(h, s);
}

/* Media sample position of service time t_ms, through the anchors. */
static uint64_t map_ms(const struct stt_stream *s, uint64_t t_ms)
{
	uint64_t t = t_ms * (STT_HTTP_SAMPLE_RATE / 1000);
	const struct stt_anchor *a;
	unsigned int i;

	if (s->n_anchors == 0)
		return t_ms;
	for (i = s->n_anchors; i > 1 && s->anchors[i - 1].server > t; i--)
		;
	a = &s->anchors[i - 1];
	if (t >= a->server)
		return (a->media + (t - a->server)) / (STT_HTTP_SAMPLE_RATE / 1000);
	/* before the oldest anchor kept: its offset is the best guess */
	return (a->media > a->server - t ? a->media - (a->server - t) : 0) /
	       (STT_HTTP_SAMPLE_RATE / 1000);
}

/* The service took the head chunk at server_samples: anchor it if it does not continue. */
static void take_head(struct stt_http *h, struct stt_stream *s)
{
	struct stt_chunk *c = q_at(h, s, 0);
	struct stt_anchor *last = s->n_anchors ? &s->anchors[s->n_anchors - 1] : NULL;

	if (!last || last->media + (s->server_samples - last->server) != c->media_start) {
		if (s->n_anchors == STT_ANCHORS) {
			memmove(&s->anchors[0], &s->anchors[1],
				(STT_ANCHORS - 1) * sizeof(s->anchors[0]));
			s->n_anchors--;
		}
		s->anchors[s->n_anchors].server = s->server_samples;
		s->anchors[s->n_anchors].media = c->media_start;
		s->n_anchors++;
	}
	s->server_samples += c->samples;
	s->next_seq++;
	s->chunks_sent++;
	h->stats.chunks_sent++;
	q_pop(h, s);
}

/* A fresh service-side stream: seq 0 at its time 0. */
static void reset_timeline(struct stt_stream *s)
{
	s->next_seq = 0;
	s->server_samples = 0;
	s->n_anchors = 0;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct stt_stream *s = userdata;
	size_t n = size * nmemb;

	if (n > STT_REPLY_MAX - s->reply_len)
		return 0; /* CURLE_WRITE_ERROR: counted as a bad reply */
	if (s->reply_len + n + 1 > s->reply_cap) {
		size_t cap = s->reply_cap ? s->reply_cap : 1024;
		char *p;

		while (cap < s->reply_len + n + 1)
			cap *= 2;
		p = realloc(s->reply, cap);
		if (!p)
			return 0;
		s->reply = p;
		s->reply_cap = cap;
	}
	memcpy(s->reply + s->reply_len, ptr, n);
	s->reply_len += n;
	s->reply[s->reply_len] = '\0';
	return n;
}

static int setup_easy(struct stt_http *h, struct stt_stream *s)
{
	CURL *e = curl_easy_init();
	int rc = CURLE_OK;

	if (!e)
		return -ENOMEM;
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)h->connect_ms);
	rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)h->request_ms);
	rc |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	rc |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, STT_KEEPIDLE_S);
	rc |= curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, STT_KEEPINTVL_S);
	rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, "sfu-tap stt_http");
#if LIBCURL_VERSION_NUM >= 0x075500
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (rc != CURLE_OK) {
		curl_easy_cleanup(e);
		return -EINVAL;
	}
	s->easy = e;
	return 0;
}

static void free_stream(struct stt_http *h, struct stt_stream *s)
{
	if (s->q)
		for (unsigned int i = 0; i < h->max_queued; i++)
			free(s->q[i].pcm);
	free(s->q);
	free(s->reply);
	if (s->easy)
		curl_easy_cleanup(s->easy);
	free(s);
}

/* Remove s from the table and free it; s must have nothing in flight. */
static void forget_stream(struct stt_http *h, struct stt_stream *s)
{
	for (unsigned int i = 0; i < h->n_streams; i++) {
		if (h->streams[i] == s) {
			h->streams[i] = h->streams[--h->n_streams];
			break;
		}
	}
	free_stream(h, s);
}

/* Next attempt after the current backoff delay (or retry_after_ms if longer). */
static void back_off(struct stt_http *h, struct stt_stream *s, uint64_t retry_after_ms)
{
	uint64_t delay = s->backoff_ms ? s->backoff_ms : h->backoff_min;

	s->backoff_ms = delay * 2 > h->backoff_max ? h->backoff_max : (unsigned int)delay * 2;
	if (retry_after_ms > h->backoff_max)
		retry_after_ms = h->backoff_max;
	if (retry_after_ms > delay)
		delay = retry_after_ms;
	s->next_attempt_ms = now_ms() + delay;
}

static void request_failed(struct stt_http *h, struct stt_stream *s, uint64_t retry_after_ms)
{
	h->stats.failed++;
	s->failing = true;
	back_off(h, s, retry_after_ms);
}

/* The service answered sensibly: retry delays start over. */
static void request_ok(struct stt_stream *s)
{
	s->failing = false;
	s->backoff_ms = 0;
	s->next_attempt_ms = 0;
}

/* A 404/409 that is followed at once, unless they keep coming. */
static void anomaly(struct stt_http *h, struct stt_stream *s)
{
	s->failing = false;
	if (++s->anomalies >= STT_ANOMALY_STREAK)
		back_off(h, s, 0);
	else
		s->next_attempt_ms = 0;
}

static int start_request(struct stt_http *h, struct stt_stream *s, enum stt_req kind)
{
	const struct curl_slist *hdr = h->hdr_json;
	const void *body = s->body;
	long len;
	int n;

	switch (kind) {
	case STT_REQ_START:
		n = snprintf(h->url, sizeof(h->url), "%s/api/v1/stream-start", h->base);
		len = snprintf(s->body, sizeof(s->body),
			       "{\"streamId\":\"%s\",\"sampleRate\":%d,\"channels\":1,"
			       "\"encoding\":\"pcm_s16le\",\"language\":\"%s\"}",
			       s->id, STT_HTTP_SAMPLE_RATE, h->lang);
		break;
	case STT_REQ_CHUNK: {
		const struct stt_chunk *c = q_at(h, s, 0);

		/* every id character is legal in a query (RFC 3986 3.4): sent as is */
		n = snprintf(h->url, sizeof(h->url),
			     "%s/api/v1/transcribe-stream?streamId=%s&seq=%" PRIu64, h->base, s->id,
			     s->next_seq);
		hdr = h->hdr_pcm;
		body = c->pcm;
		len = (long)(c->samples * sizeof(int16_t));
		break;
	}
	case STT_REQ_END:
		n = snprintf(h->url, sizeof(h->url), "%s/api/v1/stream-end", h->base);
		len = snprintf(s->body, sizeof(s->body), "{\"streamId\":\"%s\"}", s->id);
		break;
	default:
		return -EINVAL;
	}
	if (n < 0 || (size_t)n >= sizeof(h->url) || len < 0 || (kind != STT_REQ_CHUNK &&
							      (size_t)len >= sizeof(s->body)))
		return -EINVAL;

	s->reply_len = 0;
	if (curl_easy_setopt(s->easy, CURLOPT_URL, h->url) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, hdr) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, len) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_multi_add_handle(h->multi, s->easy) != CURLM_OK)
		return -EIO;
	s->inflight = kind;
	s->sent_us = now_us();
	h->stats.requests++;
	if (s->failing)
		h->stats.retries++;
	return 0;
}

/*
 * Deliver the "results" array of a reply.  A missing array is an empty one.
 * @return 0, or -EINVAL when something in it is not the contract's shape
 */
static int deliver_results(struct stt_http *h, struct stt_stream *s, const cJSON *root)
{
	const cJSON *results = cJSON_GetObjectItemCaseSensitive(root, "results");
	const cJSON *r;
	int ret = 0;

	if (!results)
		return 0;
	if (!cJSON_IsArray(results))
		return -EINVAL;
	cJSON_ArrayForEach(r, results) {
		const cJSON *text = cJSON_GetObjectItemCaseSensitive(r, "text");
		const cJSON *fin = cJSON_GetObjectItemCaseSensitive(r, "final");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "startMs");
		const cJSON *en = cJSON_GetObjectItemCaseSensitive(r, "endMs");
		struct stt_http_result res;

		if (!cJSON_IsString(text) || !text->valuestring || !cJSON_IsNumber(st) ||
		    !cJSON_IsNumber(en) || (fin && !cJSON_IsBool(fin)) || !(st->valuedouble >= 0) ||
		    !(en->valuedouble >= st->valuedouble) || en->valuedouble > 1e12) {
			ret = -EINVAL;
			continue;
		}
		res.text = text->valuestring;
		res.final = cJSON_IsTrue(fin);
		res.start_ms = map_ms(s, (uint64_t)st->valuedouble);
		res.end_ms = map_ms(s, (uint64_t)en->valuedouble);
		if (res.end_ms < res.start_ms) /* a dropped stretch inside the result */
			res.end_ms = res.start_ms;
		h->stats.results++;
		h->on_result(h->arg, s->id, &res);
	}
	return ret;
}

/* Parse the reply as a JSON object; NULL (and counted) if it is not one. */
static cJSON *parse_reply(struct stt_http *h, const struct stt_stream *s, bool complete)
{
	cJSON *root = NULL;

	if (complete && s->reply_len)
		root = cJSON_ParseWithLength(s->reply, s->reply_len);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		h->stats.bad_replies++;
		return NULL;
	}
	return root;
}

/* 2xx to a chunk: the service has it; its results follow. */
static void chunk_taken(struct stt_http *h, struct stt_stream *s, bool body_ok)
{
	cJSON *root;

	take_head(h, s);
	request_ok(s);
	s->anomalies = 0;
	root = parse_reply(h, s, body_ok);
	if (root && deliver_results(h, s, root) < 0)
		h->stats.bad_replies++;
	cJSON_Delete(root);
}

/*
 * 409: the service expects another seq.  expectedSeq == ours + 1 means it
 * took this chunk and its reply was lost (a timeout): the chunk is done.
 * Otherwise continue from the service's seq, its timeline at seq * 100 ms
 * (the contract's chunk); a step back invalidates the anchors.  No usable
 * expectedSeq: start the stream again.
 */
static void chunk_conflict(struct stt_http *h, struct stt_stream *s, bool body_ok)
{
	cJSON *root = parse_reply(h, s, body_ok);
	const cJSON *exp = root ? cJSON_GetObjectItemCaseSensitive(root, "expectedSeq") : NULL;

	if (!cJSON_IsNumber(exp) || !(exp->valuedouble >= 0) || exp->valuedouble > 1e12) {
		if (root)
			h->stats.bad_replies++;
		s->started = false;
	} else {
		uint64_t want = (uint64_t)exp->valuedouble;
		uint64_t pos = want * (STT_HTTP_SAMPLE_RATE / 1000) * STT_CHUNK_MS;

		h->stats.resyncs++;
		if (want == s->next_seq + 1) {
			take_head(h, s);
			request_ok(s);
			s->anomalies = 0;
			cJSON_Delete(root);
			return;
		}
		if (pos < s->server_samples)
			s->n_anchors = 0;
		s->next_seq = want;
		s->server_samples = pos;
	}
	cJSON_Delete(root);
	anomaly(h, s);
}

/* One finished transfer of stream s. */
static void complete(struct stt_http *h, struct stt_stream *s, CURLcode rc)
{
	enum stt_req kind = s->inflight;
	uint64_t lat = now_us() - s->sent_us;
	curl_off_t retry_after = 0;
	long code = 0;
	bool body_ok = rc == CURLE_OK;
	cJSON *root;

	curl_multi_remove_handle(h->multi, s->easy);
	s->inflight = STT_REQ_NONE;
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	h->stats.latency_us_sum += lat;
	h->stats.latency_us_count++;
	if (lat > h->stats.latency_us_max)
		h->stats.latency_us_max = lat;

	/* no HTTP answer, or an overlong body whose status is still known */
	if ((rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && code >= 200)) || code < 200 ||
	    code >= 500 || code == 408 || code == 429 || (code >= 300 && code < 400)) {
		if (rc == CURLE_OPERATION_TIMEDOUT)
			h->stats.timeouts++;
		if (code == 429 || code == 503)
			curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &retry_after);
		h->stats.service_up = code >= 200 && code < 500;
		request_failed(h, s, retry_after > 0 ? (uint64_t)retry_after * 1000u : 0);
		return;
	}
	h->stats.service_up = true;
	if (code < 300)
		h->stats.ok++;

	switch (kind) {
	case STT_REQ_START:
		if (code >= 300) {
			/* refused (bad id, wrong path): nothing else can go; keep trying slowly */
			request_failed(h, s, 0);
			break;
		}
		s->started = true;
		reset_timeline(s);
		request_ok(s);
		break;
	case STT_REQ_CHUNK:
		if (code < 300) {
			chunk_taken(h, s, body_ok);
		} else if (code == 404) {
			/* the service lost the stream (restarted): start it again, same chunk */
			h->stats.restarts++;
			s->started = false;
			anomaly(h, s);
		} else if (code == 409) {
			chunk_conflict(h, s, body_ok);
		} else {
			/* refused for good (400, 413, ...): drop it, the next one goes */
			struct stt_chunk *c = q_at(h, s, 0);

			s->chunks_rejected++;
			s->dropped_samples += c->samples;
			h->stats.chunks_rejected++;
			q_pop(h, s);
			request_ok(s);
		}
		break;
	case STT_REQ_END:
		if (code < 300) {
			root = parse_reply(h, s, body_ok);
			if (root && deliver_results(h, s, root) < 0)
				h->stats.bad_replies++;
			cJSON_Delete(root);
		}
		/* 2xx, 404 (already gone) or another 4xx: either way the stream is over */
		forget_stream(h, s);
		break;
	default:
		break;
	}
}

static bool has_work(const struct stt_stream *s)
{
	return !s->started || s->q_len > 0 || s->ending;
}

/*
 * Start the next request of an idle stream if it is due, or let an ended
 * stream go.  @return true if s was freed
 */
static bool kick_stream(struct stt_http *h, struct stt_stream *s, uint64_t now)
{
	enum stt_req kind;

	if (s->inflight != STT_REQ_NONE)
		return false;
	if (s->ending && !s->started && s->q_len == 0) {
		/* the service does not know it: nothing to end */
		forget_stream(h, s);
		return true;
	}
	if (s->ending && now >= s->end_deadline_ms) {
		h->stats.streams_abandoned++;
		h->stats.chunks_dropped += s->q_len;
		forget_stream(h, s);
		return true;
	}
	if (!has_work(s) || now < s->next_attempt_ms)
		return false;
	kind = !s->started ? STT_REQ_START : s->q_len ? STT_REQ_CHUNK : STT_REQ_END;
	if (start_request(h, s, kind) < 0)
		request_failed(h, s, 0);
	return false;
}

static void kick_all(struct stt_http *h)
{
	uint64_t now = now_ms();

	for (unsigned int i = 0; i < h->n_streams;)
		if (!kick_stream(h, h->streams[i], now))
			i++;
}

/* Complete every finished transfer; @return how many */
static int drain(struct stt_http *h)
{
	CURLMsg *m;
	int left, n = 0;

	while ((m = curl_multi_info_read(h->multi, &left))) {
		char *priv = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv) != CURLE_OK || !priv)
			continue;
		complete(h, (struct stt_stream *)priv, m->data.result);
		n++;
	}
	return n;
}

/* ms until the earliest idle stream needs a kick (0: now), at most cap. */
static uint64_t next_due_ms(const struct stt_http *h, uint64_t cap)
{
	uint64_t now = now_ms(), due = now + cap;

	for (unsigned int i = 0; i < h->n_streams; i++) {
		const struct stt_stream *s = h->streams[i];

		if (s->inflight != STT_REQ_NONE)
			continue;
		if (s->ending && !s->started && s->q_len == 0)
			return 0; /* to be forgotten */
		if (s->ending && s->end_deadline_ms < due)
			due = s->end_deadline_ms;
		if (has_work(s) && s->next_attempt_ms < due)
			due = s->next_attempt_ms;
	}
	return due > now ? due - now : 0;
}

struct stt_http *stt_http_new(const struct stt_http_config *cfg,
			      void (*on_result)(void *arg, const char *stream_id,
						const struct stt_http_result *r),
			      void *arg)
{
	struct stt_http *h;

	if (!cfg || !on_result)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->connect_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 2000;
	h->request_ms = cfg->request_timeout_ms ? cfg->request_timeout_ms : 5000;
	h->max_queued = cfg->max_queued_chunks ? cfg->max_queued_chunks : 50;
	h->backoff_min = cfg->backoff_min_ms ? cfg->backoff_min_ms : 250;
	h->backoff_max = cfg->backoff_max_ms ? cfg->backoff_max_ms : 5000;
	h->end_ms = cfg->end_timeout_ms ? cfg->end_timeout_ms : 10000;
	h->max_streams = cfg->max_streams ? cfg->max_streams : 64;
	h->on_result = on_result;
	h->arg = arg;
	snprintf(h->lang, sizeof(h->lang), "%s", cfg->language ? cfg->language : "en-US");
	if (set_base_url(h, cfg->base_url) < 0 || h->max_queued < 2 ||
	    h->backoff_min > h->backoff_max || h->backoff_max > 3600 * 1000 ||
	    (cfg->language && !valid_lang(cfg->language))) {
		free(h);
		return NULL;
	}
	h->streams = calloc(h->max_streams, sizeof(*h->streams));
	if (!h->streams) {
		free(h);
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(h->streams);
		free(h);
		return NULL;
	}
	h->multi = curl_multi_init();
	/* "Expect:" off: no 100-continue round trip before a body */
	h->hdr_json = curl_slist_append(NULL, "Content-Type: application/json");
	if (h->hdr_json)
		h->hdr_json = curl_slist_append(h->hdr_json, "Expect:");
	h->hdr_pcm = curl_slist_append(NULL, "Content-Type: application/octet-stream");
	if (h->hdr_pcm)
		h->hdr_pcm = curl_slist_append(h->hdr_pcm, "Expect:");
	/* one cached connection per stream, so each keeps its own alive */
	if (!h->multi || !h->hdr_json || !h->hdr_pcm ||
	    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->max_streams + 4) !=
		    CURLM_OK) {
		stt_http_free(h);
		return NULL;
	}
	return h;
}

int stt_http_stream_start(struct stt_http *h, const char *stream_id)
{
	struct stt_stream *s;
	int ret;

	if (!valid_id(stream_id))
		return -EINVAL;
	s = find_stream(h, stream_id);
	if (s)
		return s->ending ? -EBUSY : -EEXIST;
	if (h->n_streams >= h->max_streams)
		return -ENOSPC;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	snprintf(s->id, sizeof(s->id), "%s", stream_id);
	s->q = calloc(h->max_queued, sizeof(*s->q));
	if (!s->q) {
		free_stream(h, s);
		return -ENOMEM;
	}
	ret = setup_easy(h, s);
	if (ret < 0) {
		free_stream(h, s);
		return ret;
	}
	h->streams[h->n_streams++] = s;
	return 0;
}

int stt_http_chunk(struct stt_http *h, const char *stream_id, const int16_t *pcm,
		   size_t samples)
{
	struct stt_stream *s = find_stream(h, stream_id);
	struct stt_chunk *c;

	if (!s || s->ending)
		return -ENOENT;
	if (!pcm || samples == 0)
		return -EINVAL;
	if (samples > STT_HTTP_MAX_CHUNK_SAMPLES)
		return -EMSGSIZE;
	if (s->q_len == h->max_queued)
		q_drop_oldest(h, s);
	c = q_at(h, s, s->q_len);
	if (c->cap < samples) {
		size_t cap = samples < 1600 ? 1600 : samples;
		int16_t *p = realloc(c->pcm, cap * sizeof(int16_t));

		if (!p)
			return -ENOMEM;
		c->pcm = p;
		c->cap = cap;
	}
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	for (size_t i = 0; i < samples; i++)
		c->pcm[i] = (int16_t)__builtin_bswap16((uint16_t)pcm[i]);
#else
	memcpy(c->pcm, pcm, samples * sizeof(int16_t));
#endif
	c->samples = samples;
	c->media_start = s->media_samples;
	s->media_samples += samples;
	s->q_len++;
	h->stats.chunks_queued++;
	return 0;
}

int stt_http_stream_end(struct stt_http *h, const char *stream_id)
{
	struct stt_stream *s = find_stream(h, stream_id);

	if (!s || s->ending)
		return -ENOENT;
	s->ending = true;
	s->end_deadline_ms = now_ms() + h->end_ms;
	return 0;
}

int stt_http_poll(struct stt_http *h, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	int done = 0, running, n;

	for (;;) {
		uint64_t now;

		kick_all(h);
		if (curl_multi_perform(h->multi, &running) != CURLM_OK)
			return -EIO;
		n = drain(h);
		done += n;
		if (n > 0) {
			/* follow-up requests leave now; their completions wait for the next poll */
			kick_all(h);
			if (curl_multi_perform(h->multi, &running) != CURLM_OK)
				return -EIO;
			break;
		}
		now = now_ms();
		if (now >= deadline)
			break;
		if (curl_multi_poll(h->multi, NULL, 0, (int)next_due_ms(h, deadline - now), NULL) !=
		    CURLM_OK)
			return -EIO;
	}
	return done;
}

int stt_http_next_timeout(struct stt_http *h, int cap_ms)
{
	uint64_t due = next_due_ms(h, (uint64_t)(cap_ms > 0 ? cap_ms : 0));
	long curl_ms = -1;

	if (curl_multi_timeout(h->multi, &curl_ms) == CURLM_OK && curl_ms >= 0 &&
	    (uint64_t)curl_ms < due)
		due = (uint64_t)curl_ms;
	return (int)due;
}

void stt_http_get_stats(const struct stt_http *h, struct stt_http_stats *out)
{
	*out = h->stats;
	out->streams = h->n_streams;
}

int stt_http_get_stream_stats(const struct stt_http *h, const char *stream_id,
			      struct stt_http_stream_stats *out)
{
	const struct stt_stream *s = find_stream(h, stream_id);

	if (!s)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->queued = s->q_len;
	out->chunks_sent = s->chunks_sent;
	out->chunks_dropped = s->chunks_dropped;
	out->chunks_rejected = s->chunks_rejected;
	out->dropped_ms = s->dropped_samples / (STT_HTTP_SAMPLE_RATE / 1000);
	out->next_seq = s->next_seq;
	out->started = s->started;
	out->ending = s->ending;
	return 0;
}

void stt_http_free(struct stt_http *h)
{
	if (!h)
		return;
	for (unsigned int i = 0; i < h->n_streams; i++) {
		struct stt_stream *s = h->streams[i];

		if (s->inflight != STT_REQ_NONE)
			curl_multi_remove_handle(h->multi, s->easy);
		free_stream(h, s);
	}
	free(h->streams);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	curl_slist_free_all(h->hdr_json);
	curl_slist_free_all(h->hdr_pcm);
	curl_global_cleanup();
	free(h);
}
