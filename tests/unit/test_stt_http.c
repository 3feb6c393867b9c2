/*
 * test_stt_http.c — the STT HTTP client (tap/lib/stt_http.c) against a fake
 * STT service run in this process.
 *
 * The fake service is one thread with a listening socket on 127.0.0.1 (an
 * ephemeral port) speaking just enough HTTP/1.1 with keep-alive: request
 * line, Content-Length, body, a reply per the contract (tap/STT-API.md) or
 * per the behaviour a test scripts (down, slow, 400, 409 rewind, 503,
 * malformed bodies).  Every chunk body carries its "marker" (the index of
 * the chunk on its stream) in its first sample; the service answers each
 * chunk with one result "c<marker>" spanning the chunk on ITS timeline
 * (seq * 100 ms), so the client's mapping back to media time must give
 * exactly marker * 100 ms — checked for every result, whatever was dropped,
 * refused or lost before.
 *
 * Threading: the client runs on the main thread (stt_http_poll); the fake
 * service on its own thread; they share only the service's state under its
 * mutex.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "stt_http.h"
#include "unit.h"

#define SRV_MAX_CONN 64
#define SRV_MAX_STREAMS 64
#define SRV_LOG_MAX 256
#define SRV_BUF (40 * 1024)
#define CHUNK_SAMPLES 1600
#define POLL_SLACK_MS 100 /* a poll may overrun its timeout by scheduling noise only */

/* What the fake service knows of one stream id (its log survives restarts). */
struct srv_stream {
	char id[STT_HTTP_ID_MAX + 1];
	bool active;     /* started and not ended, not lost to a restart */
	int expected_seq;
	int starts, ends;
	int n;           /* chunks taken, over every incarnation */
	int markers[SRV_LOG_MAX];
	int seqs[SRV_LOG_MAX];
};

struct srv_conn {
	int fd;
	size_t len;
	char buf[SRV_BUF];
};

struct fake_srv {
	pthread_t thr;
	pthread_mutex_t mu;
	int port;
	int lfd;
	bool stop;
	bool want_up, is_up;   /* down: listening socket and connections closed */
	struct srv_conn conns[SRV_MAX_CONN];
	struct srv_stream streams[SRV_MAX_STREAMS];
	int n_streams;
	/* scripted behaviour */
	int slow_marker, slow_ms;  /* take this chunk, then sleep before replying */
	int reject_marker;         /* 400 for this chunk */
	int rewind_marker;         /* after taking this chunk, expect seq 0 again */
	int fail_next;             /* this many requests get 503 Retry-After: 1 */
	int malformed_from, malformed_to; /* take these chunks, reply garbage */
	int bad409_marker;         /* 409 without expectedSeq, once */
	/* counters */
	int accepted, requests;
};

/* ---- fake service ---------------------------------------------------- */

static struct srv_stream *srv_find(struct fake_srv *fs, const char *id, bool create)
{
	for (int i = 0; i < fs->n_streams; i++)
		if (strcmp(fs->streams[i].id, id) == 0)
			return &fs->streams[i];
	if (!create || fs->n_streams == SRV_MAX_STREAMS)
		return NULL;
	struct srv_stream *st = &fs->streams[fs->n_streams++];
	memset(st, 0, sizeof(*st));
	snprintf(st->id, sizeof(st->id), "%s", id);
	return st;
}

static int srv_listen(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void srv_send(int fd, int code, const char *extra, const char *body)
{
	const char *reason = code == 200 ? "OK" : code == 400 ? "Bad Request" :
			     code == 404 ? "Not Found" : code == 409 ? "Conflict" :
			     "Service Unavailable";
	char out[2048];
	int n = snprintf(out, sizeof(out),
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n%s"
			 "Content-Length: %zu\r\n\r\n%s",
			 code, reason, extra, strlen(body), body);

	if (n > 0 && (size_t)n < sizeof(out))
		(void)!send(fd, out, (size_t)n, MSG_NOSIGNAL);
}

/* The "streamId" of a JSON body, into id; false if there is none. */
static bool json_id(const char *body, size_t len, char *id, size_t cap)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "streamId");
	bool ok = cJSON_IsString(v) && strlen(v->valuestring) < cap;

	if (ok)
		snprintf(id, cap, "%s", v->valuestring);
	cJSON_Delete(root);
	return ok;
}

/* A fixed reply body; @return code */
static int reply(char *out, size_t cap, int code, const char *body)
{
	snprintf(out, cap, "%s", body);
	return code;
}

/*
 * Decide the reply to one request (under the mutex): code, extra headers,
 * body; *sleep_ms for a slow reply.
 */
static int srv_dispatch(struct fake_srv *fs, const char *target, const char *body, size_t len,
			char *extra, char *out, size_t cap, int *sleep_ms)
{
	char id[STT_HTTP_ID_MAX + 1];
	struct srv_stream *st;

	fs->requests++;
	if (fs->fail_next > 0) {
		fs->fail_next--;
		strcpy(extra, "Retry-After: 1\r\n");
		snprintf(out, cap, "{\"error\":\"busy\"}");
		return 503;
	}
	if (strcmp(target, "/api/v1/stream-start") == 0) {
		if (!json_id(body, len, id, sizeof(id)) || !(st = srv_find(fs, id, true)))
			return reply(out, cap, 400, "{\"error\":\"bad\"}");
		st->active = true;
		st->expected_seq = 0;
		st->starts++;
		snprintf(out, cap, "{\"streamId\":\"%s\"}", id);
		return 200;
	}
	if (strcmp(target, "/api/v1/stream-end") == 0) {
		if (!json_id(body, len, id, sizeof(id)))
			return reply(out, cap, 400, "{\"error\":\"bad\"}");
		st = srv_find(fs, id, false);
		if (!st || !st->active)
			return reply(out, cap, 404, "{\"error\":\"unknown\"}");
		st->active = false;
		st->ends++;
		if (st->expected_seq > 0)
			snprintf(out, cap,
				 "{\"streamId\":\"%s\",\"results\":[{\"text\":\"end\",\"final\":true,"
				 "\"startMs\":%d,\"endMs\":%d}]}",
				 id, (st->expected_seq - 1) * 100, st->expected_seq * 100);
		else
			snprintf(out, cap, "{\"streamId\":\"%s\",\"results\":[]}", id);
		return 200;
	}
	if (strncmp(target, "/api/v1/transcribe-stream?streamId=", 35) == 0) {
		const char *p = target + 35, *amp = strchr(p, '&');
		int seq, marker;

		if (!amp || (size_t)(amp - p) >= sizeof(id) || strncmp(amp, "&seq=", 5) != 0 ||
		    len != CHUNK_SAMPLES * 2)
			return reply(out, cap, 400, "{\"error\":\"bad\"}");
		memcpy(id, p, (size_t)(amp - p));
		id[amp - p] = '\0';
		seq = atoi(amp + 5);
		marker = (int16_t)((uint8_t)body[0] | (uint8_t)body[1] << 8);
		st = srv_find(fs, id, false);
		if (!st || !st->active)
			return reply(out, cap, 404, "{\"error\":\"unknown stream\"}");
		if (marker == fs->bad409_marker) {
			fs->bad409_marker = -1;
			return reply(out, cap, 409, "conflict!");
		}
		if (seq != st->expected_seq) {
			snprintf(out, cap, "{\"error\":\"order\",\"expectedSeq\":%d}",
				 st->expected_seq);
			return 409;
		}
		if (marker == fs->reject_marker)
			return reply(out, cap, 400, "{\"error\":\"odd chunk\"}");
		if (st->n < SRV_LOG_MAX) {
			st->markers[st->n] = marker;
			st->seqs[st->n] = seq;
			st->n++;
		}
		st->expected_seq++;
		if (marker == fs->rewind_marker)
			st->expected_seq = 0;
		if (marker == fs->slow_marker)
			*sleep_ms = fs->slow_ms;
		if (marker >= fs->malformed_from && marker <= fs->malformed_to) {
			static const char *const garbage[] = {
				"not json", "[1,2]", "{\"results\":5}",
				"{\"results\":[{\"text\":7,\"startMs\":0,\"endMs\":1}]}",
				"{\"results\":[{\"text\":\"x\",\"startMs\":",
			};
			snprintf(out, cap, "%s", garbage[(marker - fs->malformed_from) % 5]);
			return 200;
		}
		snprintf(out, cap,
			 "{\"streamId\":\"%s\",\"seq\":%d,\"results\":[{\"text\":\"c%d\","
			 "\"final\":%s,\"startMs\":%d,\"endMs\":%d}]}",
			 id, seq, marker, marker % 5 == 4 ? "true" : "false", seq * 100,
			 seq * 100 + 100);
		return 200;
	}
	return reply(out, cap, 404, "{\"error\":\"no such path\"}");
}

/* Answer every complete request in c's buffer; false: close the connection. */
static bool srv_serve(struct fake_srv *fs, struct srv_conn *c)
{
	for (;;) {
		char *end = memmem(c->buf, c->len, "\r\n\r\n", 4), *cl, *sp;
		char target[512], extra[64] = "", out[1024];
		size_t hlen, blen = 0;
		int code, sleep_ms = 0;

		if (!end)
			return c->len < sizeof(c->buf);
		hlen = (size_t)(end - c->buf) + 4;
		*end = '\0';
		cl = strcasestr(c->buf, "\r\ncontent-length:");
		if (cl)
			blen = strtoul(cl + 17, NULL, 10);
		if (hlen + blen > sizeof(c->buf))
			return false;
		if (c->len < hlen + blen) {
			*end = '\r';
			return true;
		}
		sp = strchr(c->buf, ' ');
		if (!sp || sscanf(sp + 1, "%511s", target) != 1)
			return false;
		pthread_mutex_lock(&fs->mu);
		code = srv_dispatch(fs, target, c->buf + hlen, blen, extra, out, sizeof(out),
				    &sleep_ms);
		pthread_mutex_unlock(&fs->mu);
		if (sleep_ms)
			usleep((useconds_t)sleep_ms * 1000);
		srv_send(c->fd, code, extra, out);
		memmove(c->buf, c->buf + hlen + blen, c->len - hlen - blen);
		c->len -= hlen + blen;
	}
}

static void srv_close_all(struct fake_srv *fs)
{
	if (fs->lfd >= 0)
		close(fs->lfd);
	fs->lfd = -1;
	for (int i = 0; i < SRV_MAX_CONN; i++) {
		if (fs->conns[i].fd >= 0)
			close(fs->conns[i].fd);
		fs->conns[i].fd = -1;
	}
}

static void *srv_main(void *arg)
{
	struct fake_srv *fs = arg;

	for (;;) {
		struct pollfd pfd[SRV_MAX_CONN + 1];
		int idx[SRV_MAX_CONN + 1], n = 0;
		bool stop, want;

		pthread_mutex_lock(&fs->mu);
		stop = fs->stop;
		want = fs->want_up;
		if (!want && fs->is_up) {
			/* down, and when it comes back it has lost every stream */
			srv_close_all(fs);
			for (int i = 0; i < fs->n_streams; i++)
				fs->streams[i].active = false;
			fs->is_up = false;
		} else if (want && !fs->is_up) {
			fs->lfd = srv_listen(fs->port);
			fs->is_up = fs->lfd >= 0;
		}
		pthread_mutex_unlock(&fs->mu);
		if (stop)
			break;
		if (fs->lfd >= 0) {
			pfd[n] = (struct pollfd){ .fd = fs->lfd, .events = POLLIN };
			idx[n++] = -1;
		}
		for (int i = 0; i < SRV_MAX_CONN; i++) {
			if (fs->conns[i].fd >= 0) {
				pfd[n] = (struct pollfd){ .fd = fs->conns[i].fd, .events = POLLIN };
				idx[n++] = i;
			}
		}
		if (poll(pfd, (nfds_t)n, 5) <= 0)
			continue;
		for (int k = 0; k < n; k++) {
			if (!pfd[k].revents)
				continue;
			if (idx[k] < 0) {
				int fd = accept4(fs->lfd, NULL, NULL, SOCK_CLOEXEC), slot = -1;

				for (int i = 0; i < SRV_MAX_CONN && fd >= 0 && slot < 0; i++)
					if (fs->conns[i].fd < 0)
						slot = i;
				if (slot < 0) {
					if (fd >= 0)
						close(fd);
					continue;
				}
				fs->conns[slot].fd = fd;
				fs->conns[slot].len = 0;
				pthread_mutex_lock(&fs->mu);
				fs->accepted++;
				pthread_mutex_unlock(&fs->mu);
				continue;
			}
			struct srv_conn *c = &fs->conns[idx[k]];
			ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);

			if (r <= 0 || (c->len += (size_t)r, !srv_serve(fs, c))) {
				close(c->fd);
				c->fd = -1;
			}
		}
	}
	srv_close_all(fs);
	return NULL;
}

static struct fake_srv *srv_new(void)
{
	struct fake_srv *fs = calloc(1, sizeof(*fs));
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	if (!fs)
		return NULL;
	pthread_mutex_init(&fs->mu, NULL);
	for (int i = 0; i < SRV_MAX_CONN; i++)
		fs->conns[i].fd = -1;
	fs->slow_marker = fs->reject_marker = fs->rewind_marker = fs->bad409_marker = -1;
	fs->malformed_from = fs->malformed_to = -1;
	fs->lfd = srv_listen(0);
	if (fs->lfd < 0 || getsockname(fs->lfd, (struct sockaddr *)&sa, &sl) < 0) {
		free(fs);
		return NULL;
	}
	fs->port = ntohs(sa.sin_port);
	fs->want_up = fs->is_up = true;
	if (pthread_create(&fs->thr, NULL, srv_main, fs) != 0) {
		close(fs->lfd);
		free(fs);
		return NULL;
	}
	return fs;
}

static void srv_free(struct fake_srv *fs)
{
	pthread_mutex_lock(&fs->mu);
	fs->stop = true;
	pthread_mutex_unlock(&fs->mu);
	pthread_join(fs->thr, NULL);
	pthread_mutex_destroy(&fs->mu);
	free(fs);
}

/* Bring the service down or up and wait until it is (at most 2 s). */
static bool srv_set_up(struct fake_srv *fs, bool up)
{
	for (int i = 0; i < 400; i++) {
		bool done;

		pthread_mutex_lock(&fs->mu);
		fs->want_up = up;
		done = fs->is_up == up;
		pthread_mutex_unlock(&fs->mu);
		if (done)
			return true;
		usleep(5000);
	}
	return false;
}

/* A copy of the service's record of one stream (zeroed if unknown). */
static struct srv_stream srv_stream_copy(struct fake_srv *fs, const char *id)
{
	struct srv_stream out, *st;

	memset(&out, 0, sizeof(out));
	pthread_mutex_lock(&fs->mu);
	st = srv_find(fs, id, false);
	if (st)
		out = *st;
	pthread_mutex_unlock(&fs->mu);
	return out;
}

static int srv_counter(struct fake_srv *fs, const int *field)
{
	int v;

	pthread_mutex_lock(&fs->mu);
	v = *field;
	pthread_mutex_unlock(&fs->mu);
	return v;
}

/* ---- client side ----------------------------------------------------- */

struct rec {
	char stream[32];
	int marker;          /* -1: the stream-end result */
	uint64_t start_ms, end_ms;
	bool final;
};

static struct rec recs[2048];
static int n_recs, bad_times, finals;
static long max_overrun_ms;

static void on_result(void *arg, const char *stream_id, const struct stt_http_result *r)
{
	struct rec *x;
	int marker = -1;

	(void)arg;
	if (n_recs == (int)(sizeof(recs) / sizeof(recs[0])))
		return;
	x = &recs[n_recs++];
	snprintf(x->stream, sizeof(x->stream), "%s", stream_id);
	if (r->text[0] == 'c')
		marker = atoi(r->text + 1);
	x->marker = marker;
	x->start_ms = r->start_ms;
	x->end_ms = r->end_ms;
	x->final = r->final;
	finals += r->final;
	/* every chunk's result must land exactly on its own media time */
	if (marker >= 0 && (r->start_ms != (uint64_t)marker * 100 ||
			    r->end_ms != (uint64_t)marker * 100 + 100))
		bad_times++;
}

static void reset_recs(void)
{
	n_recs = bad_times = finals = 0;
	max_overrun_ms = 0;
}

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static struct stt_http *client_new(const struct fake_srv *fs, unsigned int queue,
				   unsigned int max_streams)
{
	struct stt_http_config cfg = {
		.connect_timeout_ms = 200,
		.request_timeout_ms = 300,
		.max_queued_chunks = queue,
		.backoff_min_ms = 20,
		.backoff_max_ms = 160,
		.end_timeout_ms = 400,
		.max_streams = max_streams,
	};
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", fs ? fs->port : 1);
	cfg.base_url = url;
	return stt_http_new(&cfg, on_result, NULL);
}

static int feed(struct stt_http *h, const char *id, int marker)
{
	int16_t pcm[CHUNK_SAMPLES];

	for (int i = 0; i < CHUNK_SAMPLES; i++)
		pcm[i] = (int16_t)(i * 7);
	pcm[0] = (int16_t)marker;
	return stt_http_chunk(h, id, pcm, CHUNK_SAMPLES);
}

/* One poll, recording how far it overran its timeout. */
static void poll_once(struct stt_http *h, int timeout_ms)
{
	long t0 = mono_ms(), over;

	UT_CHECK(stt_http_poll(h, timeout_ms) >= 0);
	over = mono_ms() - t0 - timeout_ms;
	if (over > max_overrun_ms)
		max_overrun_ms = over;
}

/* Poll until every queued chunk has left (sent, dropped or refused) and no
 * request is in flight, at most max_ms. */
static bool pump_sent(struct stt_http *h, long max_ms)
{
	long end = mono_ms() + max_ms;

	while (mono_ms() < end) {
		struct stt_http_stats st;

		poll_once(h, 10);
		stt_http_get_stats(h, &st);
		if (st.chunks_sent + st.chunks_dropped + st.chunks_rejected == st.chunks_queued &&
		    st.latency_us_count == st.requests)
			return true;
	}
	return false;
}

/* Poll until no stream is held, at most max_ms. */
static bool pump_streams_gone(struct stt_http *h, long max_ms)
{
	long end = mono_ms() + max_ms;

	while (mono_ms() < end) {
		struct stt_http_stats st;

		poll_once(h, 10);
		stt_http_get_stats(h, &st);
		if (st.streams == 0)
			return true;
	}
	return false;
}

static void pump_for(struct stt_http *h, long ms)
{
	long end = mono_ms() + ms;

	while (mono_ms() < end)
		poll_once(h, 10);
}

/* The service took markers first..first+n-1 in order with seqs from seq0. */
static bool log_is(const struct srv_stream *st, int from, int first, int n, int seq0)
{
	for (int i = 0; i < n; i++)
		if (from + i >= st->n || st->markers[from + i] != first + i ||
		    st->seqs[from + i] != seq0 + i)
			return false;
	return true;
}

static bool strictly_increasing(const struct srv_stream *st)
{
	for (int i = 1; i < st->n; i++)
		if (st->markers[i] <= st->markers[i - 1])
			return false;
	return true;
}

/* ---- tests ----------------------------------------------------------- */

UT_TEST(test_config_and_api_errors)
{
	struct stt_http_config cfg = { .base_url = "http://127.0.0.1:1" };
	struct stt_http_stream_stats ss;
	struct stt_http_stats st;
	struct stt_http *h;
	char longid[STT_HTTP_ID_MAX + 2];
	int16_t big[STT_HTTP_MAX_CHUNK_SAMPLES + 1] = { 0 };

	UT_CHECK(stt_http_new(&cfg, NULL, NULL) == NULL);
	cfg.base_url = NULL;
	UT_CHECK(stt_http_new(&cfg, on_result, NULL) == NULL);
	cfg.base_url = "ftp://stt:8001";
	UT_CHECK(stt_http_new(&cfg, on_result, NULL) == NULL);
	cfg.base_url = "http://stt :8001";
	UT_CHECK(stt_http_new(&cfg, on_result, NULL) == NULL);
	cfg.base_url = "http://stt:8001";
	cfg.max_queued_chunks = 1;
	UT_CHECK(stt_http_new(&cfg, on_result, NULL) == NULL);
	cfg.max_queued_chunks = 0;
	cfg.backoff_min_ms = 900;
	cfg.backoff_max_ms = 100;
	UT_CHECK(stt_http_new(&cfg, on_result, NULL) == NULL);
	cfg.backoff_min_ms = cfg.backoff_max_ms = 0;
	cfg.language = "en US\"";
	UT_CHECK(stt_http_new(&cfg, on_result, NULL) == NULL);

	h = client_new(NULL, 4, 2);
	UT_CHECK(h != NULL);
	if (!h)
		return;
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	UT_EQ(stt_http_stream_start(h, ""), -EINVAL);
	UT_EQ(stt_http_stream_start(h, longid), -EINVAL);
	UT_EQ(stt_http_stream_start(h, "a b"), -EINVAL);
	UT_EQ(stt_http_stream_start(h, "a\"b"), -EINVAL);
	longid[STT_HTTP_ID_MAX] = '\0';
	UT_EQ(stt_http_stream_start(h, longid), 0);
	UT_EQ(stt_http_stream_start(h, "node-a/pr12/1:x_y.z"), 0);
	UT_EQ(stt_http_stream_start(h, "node-a/pr12/1:x_y.z"), -EEXIST);
	UT_EQ(stt_http_stream_start(h, "third"), -ENOSPC);
	UT_EQ(feed(h, "nope", 0), -ENOENT);
	UT_EQ(stt_http_chunk(h, "node-a/pr12/1:x_y.z", big, 0), -EINVAL);
	UT_EQ(stt_http_chunk(h, "node-a/pr12/1:x_y.z", big, STT_HTTP_MAX_CHUNK_SAMPLES + 1),
	      -EMSGSIZE);
	UT_EQ(stt_http_chunk(h, "node-a/pr12/1:x_y.z", big, STT_HTTP_MAX_CHUNK_SAMPLES), 0);
	UT_EQ(stt_http_get_stream_stats(h, "nope", &ss), -ENOENT);
	UT_EQ(stt_http_get_stream_stats(h, "node-a/pr12/1:x_y.z", &ss), 0);
	UT_EQ(ss.queued, 1);
	UT_CHECK(!ss.started && !ss.ending);

	/* ended before the service ever saw it: forgotten without a request */
	UT_EQ(stt_http_stream_end(h, longid), 0);
	UT_EQ(stt_http_stream_end(h, longid), -ENOENT);
	UT_EQ(feed(h, longid, 0), -ENOENT);
	UT_EQ(stt_http_stream_start(h, longid), -EBUSY);
	stt_http_get_stats(h, &st);
	UT_EQ(st.streams, 2);
	UT_CHECK(stt_http_poll(h, 0) >= 0);
	stt_http_get_stats(h, &st);
	UT_EQ(st.streams, 1);
	UT_EQ(stt_http_stream_start(h, longid), 0);
	UT_CHECK(stt_http_next_timeout(h, 1000) >= 0);
	stt_http_free(h); /* with streams and maybe a request in flight */
	stt_http_free(NULL);
}

UT_TEST(test_order_results_and_end)
{
	struct fake_srv *fs = srv_new();
	struct stt_http *h = fs ? client_new(fs, 50, 8) : NULL;
	struct stt_http_stats st;
	struct srv_stream ss;

	UT_CHECK(h != NULL);
	if (!h)
		goto out;
	reset_recs();
	UT_EQ(stt_http_stream_start(h, "room1/peer1/audio"), 0);
	for (int i = 0; i < 30; i++)
		UT_EQ(feed(h, "room1/peer1/audio", i), 0);
	UT_CHECK(pump_sent(h, 3000));
	ss = srv_stream_copy(fs, "room1/peer1/audio");
	UT_EQ(ss.starts, 1);
	UT_EQ(ss.n, 30);
	UT_CHECK(log_is(&ss, 0, 0, 30, 0));
	UT_EQ(n_recs, 30);
	UT_EQ(bad_times, 0);
	UT_EQ(finals, 6);
	UT_EQ(stt_http_stream_end(h, "room1/peer1/audio"), 0);
	UT_CHECK(pump_streams_gone(h, 2000));
	ss = srv_stream_copy(fs, "room1/peer1/audio");
	UT_EQ(ss.ends, 1);
	UT_EQ(n_recs, 31);
	UT_EQ(recs[30].marker, -1);
	UT_EQ(recs[30].start_ms, 2900);
	UT_EQ(recs[30].end_ms, 3000);
	UT_CHECK(recs[30].final);
	stt_http_get_stats(h, &st);
	UT_EQ(st.requests, 32);
	UT_EQ(st.ok, 32);
	UT_EQ(st.failed, 0);
	UT_EQ(st.retries, 0);
	UT_EQ(st.chunks_sent, 30);
	UT_EQ(st.chunks_dropped, 0);
	UT_EQ(st.results, 31);
	UT_EQ(st.latency_us_count, 32);
	UT_CHECK(st.latency_us_max > 0 && st.latency_us_sum >= st.latency_us_max);
	UT_CHECK(st.service_up);
	UT_EQ(st.streams, 0);
	stt_http_free(h);
out:
	if (fs)
		srv_free(fs);
}

UT_TEST(test_keepalive)
{
	struct fake_srv *fs = srv_new();
	struct stt_http *h = fs ? client_new(fs, 50, 8) : NULL;
	struct stt_http_stats st;
	struct srv_stream ss;

	UT_CHECK(h != NULL);
	if (!h)
		goto out;
	reset_recs();
	UT_EQ(stt_http_stream_start(h, "ka"), 0);
	/* live pacing: one chunk, then the loop runs a little */
	for (int i = 0; i < 40; i++) {
		UT_EQ(feed(h, "ka", i), 0);
		poll_once(h, 5);
		poll_once(h, 5);
	}
	UT_CHECK(pump_sent(h, 2000));
	UT_EQ(stt_http_stream_end(h, "ka"), 0);
	UT_CHECK(pump_streams_gone(h, 2000));
	stt_http_get_stats(h, &st);
	ss = srv_stream_copy(fs, "ka");
	UT_CHECK(log_is(&ss, 0, 0, 40, 0));
	UT_EQ(st.requests, 42);
	UT_EQ(srv_counter(fs, &fs->requests), 42);
	/* one persistent connection carries them all */
	UT_EQ(srv_counter(fs, &fs->accepted), 1);
	UT_EQ(bad_times, 0);
	stt_http_free(h);
out:
	if (fs)
		srv_free(fs);
}

UT_TEST(test_service_down_then_back)
{
	struct fake_srv *fs = srv_new();
	struct stt_http *h = fs ? client_new(fs, 10, 8) : NULL;
	struct stt_http_stream_stats sst;
	struct stt_http_stats st, st0;
	struct srv_stream ss;

	UT_CHECK(h != NULL);
	if (!h)
		goto out;
	reset_recs();
	UT_EQ(stt_http_stream_start(h, "d"), 0);
	for (int i = 0; i < 5; i++)
		UT_EQ(feed(h, "d", i), 0);
	UT_CHECK(pump_sent(h, 2000));
	stt_http_get_stats(h, &st0);

	/* down: connections refused; 60 chunks of live audio keep coming */
	UT_CHECK(srv_set_up(fs, false));
	max_overrun_ms = 0;
	for (int i = 5; i < 65; i++) {
		UT_EQ(feed(h, "d", i), 0);
		poll_once(h, 10);
	}
	UT_CHECK(max_overrun_ms < POLL_SLACK_MS);
	stt_http_get_stats(h, &st);
	UT_EQ(stt_http_get_stream_stats(h, "d", &sst), 0);
	UT_EQ(sst.queued, 10);
	UT_EQ(sst.chunks_dropped, 50);
	UT_EQ(sst.dropped_ms, 5000);
	UT_EQ(st.chunks_dropped, 50);
	UT_CHECK(!st.service_up);
	/* backoff 20 -> 160 ms over >= 600 ms: a handful of attempts, not 60 */
	UT_CHECK(st.failed - st0.failed >= 3);
	UT_CHECK(st.failed - st0.failed <= 12);
	UT_CHECK(st.retries - st0.retries >= 2);

	/* back, having lost the stream: 404, stream-start again, seq from 0 */
	UT_CHECK(srv_set_up(fs, true));
	UT_CHECK(pump_sent(h, 3000));
	stt_http_get_stats(h, &st);
	UT_CHECK(st.restarts >= 1);
	UT_CHECK(st.service_up);
	UT_EQ(st.chunks_sent, 15);
	ss = srv_stream_copy(fs, "d");
	UT_EQ(ss.starts, 2);
	UT_EQ(ss.n, 15);
	UT_CHECK(log_is(&ss, 0, 0, 5, 0));
	UT_CHECK(strictly_increasing(&ss));
	/* the newest chunks survived; seq restarted at 0 on the new service */
	UT_CHECK(log_is(&ss, 6, 56, 9, 1));
	UT_EQ(ss.seqs[5], 0);
	UT_EQ(n_recs, 15);
	UT_EQ(bad_times, 0);

	/* and the stream goes on */
	for (int i = 65; i < 70; i++)
		UT_EQ(feed(h, "d", i), 0);
	UT_CHECK(pump_sent(h, 2000));
	UT_EQ(stt_http_stream_end(h, "d"), 0);
	UT_CHECK(pump_streams_gone(h, 2000));
	ss = srv_stream_copy(fs, "d");
	UT_CHECK(log_is(&ss, 15, 65, 5, 10));
	UT_EQ(recs[n_recs - 1].marker, -1);
	UT_EQ(recs[n_recs - 1].start_ms, 6900);
	UT_EQ(bad_times, 0);
	stt_http_free(h);
out:
	if (fs)
		srv_free(fs);
}

UT_TEST(test_drop_oldest_keeps_inflight)
{
	struct fake_srv *fs = srv_new();
	struct stt_http *h = fs ? client_new(fs, 3, 8) : NULL;
	struct stt_http_stream_stats sst;
	struct srv_stream ss;
	long end;

	UT_CHECK(h != NULL);
	if (!h)
		goto out;
	reset_recs();
	/* chunk 0 is answered 150 ms late (within the timeout): it is in flight
	 * while chunks 1-5 arrive at a queue of 3 */
	pthread_mutex_lock(&fs->mu);
	fs->slow_marker = 0;
	fs->slow_ms = 150;
	pthread_mutex_unlock(&fs->mu);
	UT_EQ(stt_http_stream_start(h, "q"), 0);
	UT_EQ(feed(h, "q", 0), 0);
	end = mono_ms() + 2000;
	while (srv_counter(fs, &fs->requests) < 2 && mono_ms() < end)
		poll_once(h, 5);
	UT_EQ(srv_counter(fs, &fs->requests), 2);
	for (int i = 1; i < 6; i++)
		UT_EQ(feed(h, "q", i), 0);
	UT_EQ(stt_http_get_stream_stats(h, "q", &sst), 0);
	UT_EQ(sst.queued, 3);
	UT_EQ(sst.chunks_dropped, 3);
	UT_CHECK(pump_sent(h, 2000));
	ss = srv_stream_copy(fs, "q");
	UT_EQ(ss.n, 3);
	UT_EQ(ss.markers[0], 0);
	UT_EQ(ss.markers[1], 4);
	UT_EQ(ss.markers[2], 5);
	UT_EQ(ss.seqs[2], 2);
	UT_EQ(n_recs, 3);
	UT_EQ(bad_times, 0); /* chunk 4 at service time 100 is media time 400 */
	stt_http_free(h);
out:
	if (fs)
		srv_free(fs);
}

UT_TEST(test_slow_service_timeout)
{
	struct fake_srv *fs = srv_new();
	struct stt_http *h = fs ? client_new(fs, 50, 8) : NULL;
	struct stt_http_stats st;
	struct srv_stream ss;

	UT_CHECK(h != NULL);
	if (!h)
		goto out;
	reset_recs();
	/* takes chunk 3, answers 450 ms later: after the client's 300 ms timeout */
	pthread_mutex_lock(&fs->mu);
	fs->slow_marker = 3;
	fs->slow_ms = 450;
	pthread_mutex_unlock(&fs->mu);
	UT_EQ(stt_http_stream_start(h, "slow"), 0);
	for (int i = 0; i < 8; i++)
		UT_EQ(feed(h, "slow", i), 0);
	UT_CHECK(pump_sent(h, 3000));
	UT_CHECK(max_overrun_ms < POLL_SLACK_MS);
	stt_http_get_stats(h, &st);
	/* At least one timeout and retry (a loaded machine can add another). */
	UT_CHECK(st.timeouts >= 1);
	UT_CHECK(st.failed >= 1);
	UT_CHECK(st.retries >= 1);
	/* the retry learns with 409 expectedSeq 4 that chunk 3 was taken */
	UT_CHECK(st.resyncs >= 1);
	UT_EQ(st.chunks_sent, 8);
	ss = srv_stream_copy(fs, "slow");
	UT_CHECK(log_is(&ss, 0, 0, 8, 0));
	UT_EQ(n_recs, 7); /* chunk 3's reply was lost */
	UT_EQ(bad_times, 0);
	/* the timeout, not the late reply, ended it (libcurl may fire ~1 ms early) */
	UT_CHECK(st.latency_us_max >= 290000 && st.latency_us_max < 440000);
	stt_http_free(h);
out:
	if (fs)
		srv_free(fs);
}

UT_TEST(test_conflict_resync)
{
	struct fake_srv *fs = srv_new();
	struct stt_http *h = fs ? client_new(fs, 50, 8) : NULL;
	struct stt_http_stats st;
	struct srv_stream ss;

	UT_CHECK(h != NULL);
	if (!h)
		goto out;
	reset_recs();
	/* after chunk 4 the service wants seq 0 again: 409 expectedSeq 0 */
	pthread_mutex_lock(&fs->mu);
	fs->rewind_marker = 4;
	pthread_mutex_unlock(&fs->mu);
	UT_EQ(stt_http_stream_start(h, "r"), 0);
	for (int i = 0; i < 10; i++)
		UT_EQ(feed(h, "r", i), 0);
	UT_CHECK(pump_sent(h, 3000));
	stt_http_get_stats(h, &st);
	UT_EQ(st.resyncs, 1);
	UT_EQ(st.failed, 0);
	UT_EQ(st.chunks_sent, 10);
	ss = srv_stream_copy(fs, "r");
	UT_CHECK(log_is(&ss, 0, 0, 5, 0));
	UT_CHECK(log_is(&ss, 5, 5, 5, 0));
	/* results on the rewound timeline still map to their media time */
	UT_EQ(n_recs, 10);
	UT_EQ(bad_times, 0);
	stt_http_free(h);
out:
	if (fs)
		srv_free(fs);
}

UT_TEST(test_rejected_chunk)
{
	struct fake_srv *fs = srv_new();
	struct stt_http *h = fs ? client_new(fs, 50, 8) : NULL;
	struct stt_http_stream_stats sst;
	struct stt_http_stats st;
	struct srv_stream ss;

	UT_CHECK(h != NULL);
	if (!h)
		goto out;
	reset_recs();
	pthread_mutex_lock(&fs->mu);
	fs->reject_marker = 3;
	pthread_mutex_unlock(&fs->mu);
	UT_EQ(stt_http_stream_start(h, "x"), 0);
	for (int i = 0; i < 8; i++)
		UT_EQ(feed(h, "x", i), 0);
	UT_CHECK(pump_sent(h, 3000));
	stt_http_get_stats(h, &st);
	UT_EQ(st.chunks_rejected, 1);
	UT_EQ(st.chunks_sent, 7);
	UT_EQ(st.failed, 0);
	UT_EQ(st.retries, 0);
	UT_EQ(stt_http_get_stream_stats(h, "x", &sst), 0);
	UT_EQ(sst.chunks_rejected, 1);
	UT_EQ(sst.dropped_ms, 100);
	UT_EQ(sst.next_seq, 7);
	ss = srv_stream_copy(fs, "x");
	UT_CHECK(log_is(&ss, 0, 0, 3, 0));
	UT_CHECK(log_is(&ss, 3, 4, 4, 3)); /* seqs stay consecutive */
	UT_EQ(n_recs, 7);
	UT_EQ(bad_times, 0); /* chunk 4 at service time 300 is media time 400 */
	stt_http_free(h);
out:
	if (fs)
		srv_free(fs);
}

UT_TEST(test_unavailable_retry_after)
{
	struct fake_srv *fs = srv_new();
	struct stt_http *h = fs ? client_new(fs, 50, 8) : NULL;
	struct stt_http_stats st;
	struct srv_stream ss;
	long t0;

	UT_CHECK(h != NULL);
	if (!h)
		goto out;
	reset_recs();
	UT_EQ(stt_http_stream_start(h, "u"), 0);
	UT_EQ(feed(h, "u", 0), 0);
	UT_CHECK(pump_sent(h, 2000));
	pthread_mutex_lock(&fs->mu);
	fs->fail_next = 3;
	pthread_mutex_unlock(&fs->mu);
	t0 = mono_ms();
	for (int i = 1; i < 6; i++)
		UT_EQ(feed(h, "u", i), 0);
	UT_CHECK(pump_sent(h, 3000));
	/* Retry-After: 1 is honoured up to backoff_max (160 ms), three times */
	UT_CHECK(mono_ms() - t0 >= 3 * 160 - 20);
	stt_http_get_stats(h, &st);
	UT_EQ(st.failed, 3);
	UT_EQ(st.timeouts, 0);
	UT_EQ(st.retries, 3);
	UT_CHECK(st.service_up);
	ss = srv_stream_copy(fs, "u");
	UT_CHECK(log_is(&ss, 0, 0, 6, 0));
	UT_EQ(n_recs, 6);
	UT_EQ(bad_times, 0);
	stt_http_free(h);
out:
	if (fs)
		srv_free(fs);
}

UT_TEST(test_many_streams)
{
	enum { NS = 24, NC = 15 };
	struct fake_srv *fs = srv_new();
	struct stt_http *h = fs ? client_new(fs, 50, 32) : NULL;
	struct stt_http_stats st;
	char id[32];
	int per[NS] = { 0 };

	UT_CHECK(h != NULL);
	if (!h)
		goto out;
	reset_recs();
	for (int s = 0; s < NS; s++) {
		snprintf(id, sizeof(id), "room%d/s%d", s % 3, s);
		UT_EQ(stt_http_stream_start(h, id), 0);
	}
	for (int round = 0; round < NC; round += 5) {
		for (int s = 0; s < NS; s++) {
			snprintf(id, sizeof(id), "room%d/s%d", s % 3, s);
			for (int i = round; i < round + 5; i++)
				UT_EQ(feed(h, id, i), 0);
		}
		poll_once(h, 10);
	}
	UT_CHECK(pump_sent(h, 5000));
	for (int s = 0; s < NS; s++) {
		struct srv_stream ss;

		snprintf(id, sizeof(id), "room%d/s%d", s % 3, s);
		ss = srv_stream_copy(fs, id);
		UT_CHECK(log_is(&ss, 0, 0, NC, 0));
		UT_EQ(stt_http_stream_end(h, id), 0);
	}
	UT_CHECK(pump_streams_gone(h, 3000));
	for (int i = 0; i < n_recs; i++) {
		int s = atoi(strchr(recs[i].stream, 's') + 1);

		if (s >= 0 && s < NS && recs[i].marker >= 0)
			per[s]++;
	}
	for (int s = 0; s < NS; s++)
		UT_EQ(per[s], NC);
	UT_EQ(bad_times, 0);
	stt_http_get_stats(h, &st);
	UT_EQ(st.requests, NS * (NC + 2));
	UT_EQ(st.ok, NS * (NC + 2));
	UT_EQ(st.results, NS * (NC + 1));
	/* at most one connection per concurrent stream, kept across its requests */
	UT_CHECK(srv_counter(fs, &fs->accepted) <= NS);
	UT_CHECK(srv_counter(fs, &fs->accepted) * 10 < (int)st.requests);
	stt_http_free(h);
out:
	if (fs)
		srv_free(fs);
}

UT_TEST(test_malformed_replies)
{
	struct fake_srv *fs = srv_new();
	struct stt_http *h = fs ? client_new(fs, 50, 8) : NULL;
	struct stt_http_stats st;
	struct srv_stream ss;

	UT_CHECK(h != NULL);
	if (!h)
		goto out;
	reset_recs();
	/* chunks 1-5 are taken but answered with garbage; chunk 6 first gets a
	 * 409 without expectedSeq, which makes the client start the stream again */
	pthread_mutex_lock(&fs->mu);
	fs->malformed_from = 1;
	fs->malformed_to = 5;
	fs->bad409_marker = 6;
	pthread_mutex_unlock(&fs->mu);
	UT_EQ(stt_http_stream_start(h, "m"), 0);
	for (int i = 0; i < 10; i++)
		UT_EQ(feed(h, "m", i), 0);
	UT_CHECK(pump_sent(h, 3000));
	stt_http_get_stats(h, &st);
	UT_EQ(st.bad_replies, 6);
	UT_EQ(st.chunks_sent, 10);
	UT_EQ(st.failed, 0);
	ss = srv_stream_copy(fs, "m");
	UT_EQ(ss.starts, 2);
	UT_CHECK(log_is(&ss, 0, 0, 6, 0));
	UT_CHECK(log_is(&ss, 6, 6, 4, 0));
	UT_EQ(n_recs, 5); /* 0, 6, 7, 8, 9 */
	UT_EQ(bad_times, 0);
	stt_http_free(h);
out:
	if (fs)
		srv_free(fs);
}

UT_TEST(test_end_while_down_gives_up)
{
	struct fake_srv *fs = srv_new();
	struct stt_http *h = fs ? client_new(fs, 50, 8) : NULL;
	struct stt_http_stats st;
	long t0;

	UT_CHECK(h != NULL);
	if (!h)
		goto out;
	reset_recs();
	UT_EQ(stt_http_stream_start(h, "e"), 0);
	for (int i = 0; i < 3; i++)
		UT_EQ(feed(h, "e", i), 0);
	UT_CHECK(pump_sent(h, 2000));
	UT_CHECK(srv_set_up(fs, false));
	UT_EQ(feed(h, "e", 3), 0);
	UT_EQ(feed(h, "e", 4), 0);
	UT_EQ(stt_http_stream_end(h, "e"), 0);
	t0 = mono_ms();
	UT_CHECK(pump_streams_gone(h, 2000));
	/* end_timeout_ms is 400 */
	UT_CHECK(mono_ms() - t0 >= 390);
	UT_CHECK(max_overrun_ms < POLL_SLACK_MS);
	stt_http_get_stats(h, &st);
	UT_EQ(st.streams_abandoned, 1);
	UT_EQ(st.chunks_dropped, 2);
	UT_EQ(st.streams, 0);
	UT_CHECK(!st.service_up);
	pump_for(h, 50); /* nothing left to do */
	stt_http_get_stats(h, &st);
	UT_EQ(st.streams, 0);
	stt_http_free(h);
out:
	if (fs)
		srv_free(fs);
}

UT_MAIN("stt_http", UT_CASE(test_config_and_api_errors), UT_CASE(test_order_results_and_end),
	UT_CASE(test_keepalive), UT_CASE(test_service_down_then_back),
	UT_CASE(test_drop_oldest_keeps_inflight),
	UT_CASE(test_slow_service_timeout), UT_CASE(test_conflict_resync),
	UT_CASE(test_rejected_chunk), UT_CASE(test_unavailable_retry_after),
	UT_CASE(test_many_streams), UT_CASE(test_malformed_replies),
	UT_CASE(test_end_while_down_gives_up))
