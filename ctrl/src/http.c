/*
 * http.c — sfu-ctrl's HTTP endpoints (the static web client is a plain
 * libwebsockets file mount, see main.c):
 *   GET /health   the original gateway's JSON shape
 *   GET /metrics  Prometheus text: the original gateway_* names and sfu_* ones
 *   GET /stats    JSON: ctrl's counters, rooms, and the data plane's counters
 *
 * Per-request state: the response body, built when the request arrives and
 * written when the socket is writable.
 *
 * Threading: ctrl's event loop (libwebsockets callbacks).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>
#include <rte_memzone.h>

#include "ctrl.h"
#include "sfu_attach.h"

struct http_session {
	char *body;
	size_t len, sent;
	char *req;            /* admin request body */
	size_t req_len;
	bool req_too_big;
	bool denied;          /* answer 403 once the body is read (clean on HTTP/2) */
	const char *type;
	unsigned int status;
};

/* A growing text buffer for /metrics. */
struct text {
	char *buf;
	size_t len, cap;
};

static void tprintf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tprintf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (t->buf != NULL && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		t->cap = (t->cap + (size_t)n + 1) * 2;
		t->buf = realloc(t->buf, t->cap);
		if (t->buf == NULL)
			return;
	}
}

/* sfu-tap's counters, when a tap has run. */
static const struct sfu_tap_stats *tap_stats(void)
{
	const struct rte_memzone *mz = rte_memzone_lookup(SFU_TAP_MZ);

	return mz ? mz->addr : NULL;
}

static bool dataplane_up(void)
{
	return ctrl.sh != NULL && __atomic_load_n(&ctrl.sh->magic, __ATOMIC_ACQUIRE) == SFU_SHARED_MAGIC;
}

static char *health_json(void)
{
	cJSON *h = cJSON_CreateObject(), *w, *r, *a;
	char ts[32], *out;
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(h, "status", dataplane_up() ? "healthy" : "unhealthy");
	cJSON_AddStringToObject(h, "timestamp", ts);
	cJSON_AddNumberToObject(h, "uptime", (double)(ctrl_now_ms() - ctrl.started_ms) / 1000.0);
	w = cJSON_AddObjectToObject(h, "workers");
	cJSON_AddNumberToObject(w, "totalWorkers", ctrl.sh ? ctrl.sh->n_workers : 0);
	cJSON_AddStringToObject(w, "dataplane", dataplane_up() ? "up" : "down");
	r = cJSON_AddObjectToObject(h, "rooms");
	cJSON_AddNumberToObject(r, "totalRooms", ctrl.n_rooms);
	cJSON_AddNumberToObject(r, "totalPeers", ctrl.n_peers);
	a = cJSON_AddObjectToObject(h, "audioStreaming");
	{
		const struct sfu_tap_stats *tst = tap_stats();

		cJSON_AddNumberToObject(a, "activeStreams", tst ? (double)tst->active_streams : 0);
		cJSON_AddBoolToObject(a, "enabled", ctrl.cfg.captions_enabled);
		cJSON_AddBoolToObject(a, "tapRunning", tst != NULL && tst->pid != 0);
		cJSON_AddBoolToObject(a, "sttUp", tst != NULL && tst->stt_up);
	}
	cJSON_AddBoolToObject(h, "draining", ctrl.draining);
	cJSON_AddBoolToObject(h, "redis", redis_connected());
	out = cJSON_PrintUnformatted(h);
	cJSON_Delete(h);
	return out;
}

static void histogram(struct text *t, const char *name, const uint64_t *b, uint64_t sum_us,
		      uint64_t count)
{
	uint64_t cum = 0;

	tprintf(t, "# TYPE %s histogram\n", name);
	for (unsigned int i = 0; i < SFU_LAT_BUCKETS; i++) {
		cum += b[i];
		if (i < SFU_LAT_BUCKETS - 1)
			tprintf(t, "%s_bucket{le=\"%.3f\"} %lu\n", name, sfu_lat_bucket_ms[i] / 1000.0,
				(unsigned long)cum);
		else
			tprintf(t, "%s_bucket{le=\"+Inf\"} %lu\n", name, (unsigned long)cum);
	}
	tprintf(t, "%s_sum %.6f\n%s_count %lu\n", name, sum_us / 1e6, name, (unsigned long)count);
}

static void tap_metrics(struct text *t, const struct sfu_tap_stats *ts)
{
	tprintf(t, "# TYPE sfu_tap_packets_total counter\nsfu_tap_packets_total %lu\n",
		(unsigned long)ts->packets);
	tprintf(t, "# TYPE sfu_tap_chunks_total counter\nsfu_tap_chunks_total %lu\n",
		(unsigned long)ts->chunks);
	tprintf(t, "# TYPE sfu_tap_chunks_sent_total counter\nsfu_tap_chunks_sent_total %lu\n",
		(unsigned long)ts->chunks_sent);
	tprintf(t, "# TYPE sfu_tap_chunks_dropped_total counter\nsfu_tap_chunks_dropped_total %lu\n",
		(unsigned long)ts->chunks_dropped);
	tprintf(t, "# TYPE sfu_tap_malformed_total counter\nsfu_tap_malformed_total %lu\n",
		(unsigned long)ts->malformed);
	tprintf(t, "# TYPE sfu_tap_stt_up gauge\nsfu_tap_stt_up %lu\n", (unsigned long)ts->stt_up);
	histogram(t, "sfu_tap_stt_latency_seconds", ts->stt_latency, ts->stt_latency_sum_us,
		  ts->stt_latency_count);
	histogram(t, "sfu_tap_caption_latency_seconds", ts->caption_latency,
		  ts->caption_latency_sum_us, ts->caption_latency_count);
}

static char *metrics_text(void)
{
	struct text t = { 0 };

	tprintf(&t, "# HELP gateway_workers_total Data plane worker lcores.\n"
		    "# TYPE gateway_workers_total gauge\ngateway_workers_total %u\n",
		ctrl.sh ? ctrl.sh->n_workers : 0);
	tprintf(&t, "# HELP gateway_rooms_total Rooms with at least one peer.\n"
		    "# TYPE gateway_rooms_total gauge\ngateway_rooms_total %u\n", ctrl.n_rooms);
	{
		const struct sfu_tap_stats *ts = tap_stats();
		unsigned long streams = ts ? (unsigned long)ts->active_streams : 0;

		tprintf(&t, "# HELP gateway_audio_streams_total Audio streams being transcribed.\n"
			    "# TYPE gateway_audio_streams_total gauge\ngateway_audio_streams_total %lu\n",
			streams);
		tprintf(&t, "# TYPE sfu_tap_audio_streams gauge\nsfu_tap_audio_streams %lu\n", streams);
		if (ts != NULL)
			tap_metrics(&t, ts);
	}
	tprintf(&t, "# TYPE sfu_captions_total counter\nsfu_captions_total %lu\n",
		(unsigned long)ctrl.captions);
	tprintf(&t, "# TYPE sfu_peers gauge\nsfu_peers %u\n", ctrl.n_peers);
	tprintf(&t, "# TYPE sfu_websocket_sessions gauge\nsfu_websocket_sessions %u\n",
		ctrl.n_sessions);
	tprintf(&t, "# TYPE sfu_signaling_requests_total counter\nsfu_signaling_requests_total %lu\n",
		(unsigned long)ctrl.ws_requests);
	tprintf(&t, "# TYPE sfu_signaling_errors_total counter\nsfu_signaling_errors_total %lu\n",
		(unsigned long)ctrl.ws_errors);
	tprintf(&t, "# TYPE sfu_signaling_rate_limited_total counter\n"
		    "sfu_signaling_rate_limited_total %lu\n", (unsigned long)ctrl.ws_rate_limited);
	tprintf(&t, "# TYPE sfu_stun_packets_total counter\nsfu_stun_packets_total %lu\n",
		(unsigned long)ctrl.stun_in);
	tprintf(&t, "# TYPE sfu_dtls_failures_total counter\nsfu_dtls_failures_total %lu\n",
		(unsigned long)ctrl.dtls_failed);
	tprintf(&t, "# TYPE sfu_transports_connected_total counter\n"
		    "sfu_transports_connected_total %lu\n", (unsigned long)ctrl.transports_connected);
	tprintf(&t, "# TYPE sfu_ice_consent_expired_total counter\n"
		    "sfu_ice_consent_expired_total %lu\n", (unsigned long)ctrl.ice_consent_expired);
	tprintf(&t, "# TYPE sfu_audio_level_reports_total counter\n"
		    "sfu_audio_level_reports_total %lu\n", (unsigned long)ctrl.level_reports);
	tprintf(&t, "# TYPE sfu_active_speaker_changes_total counter\n"
		    "sfu_active_speaker_changes_total %lu\n", (unsigned long)ctrl.speaker_changes);
	tprintf(&t, "# TYPE sfu_dataplane_up gauge\nsfu_dataplane_up %d\n", dataplane_up());
	tprintf(&t, "# TYPE sfu_redis_connected gauge\nsfu_redis_connected %d\n", redis_connected());
	if (ctrl.sh != NULL) {
		tprintf(&t, "# TYPE sfu_dataplane_transports gauge\nsfu_dataplane_transports %lu\n",
			(unsigned long)ctrl.sh->gauges.transports);
		tprintf(&t, "# TYPE sfu_port_packets_total counter\n"
			    "sfu_port_packets_total{dir=\"rx\"} %lu\nsfu_port_packets_total{dir=\"tx\"} %lu\n",
			(unsigned long)ctrl.sh->gauges.port_ipackets,
			(unsigned long)ctrl.sh->gauges.port_opackets);
		tprintf(&t, "# TYPE sfu_port_drops_total counter\n"
			    "sfu_port_drops_total{reason=\"rx_missed\"} %lu\n"
			    "sfu_port_drops_total{reason=\"rx_errors\"} %lu\n"
			    "sfu_port_drops_total{reason=\"tx_errors\"} %lu\n"
			    "sfu_port_drops_total{reason=\"rx_nombuf\"} %lu\n",
			(unsigned long)ctrl.sh->gauges.port_imissed,
			(unsigned long)ctrl.sh->gauges.port_ierrors,
			(unsigned long)ctrl.sh->gauges.port_oerrors,
			(unsigned long)ctrl.sh->gauges.port_rx_nombuf);
		tprintf(&t, "# TYPE sfu_dataplane_packets_total counter\n");
		for (int i = 0; i < SFU_CNT_N; i++)
			tprintf(&t, "sfu_dataplane_packets_total{counter=\"%s\"} %lu\n",
				sfu_counter_names[i],
				(unsigned long)sfu_stats_sum_counter(ctrl.sh, (enum sfu_counter)i));
		tprintf(&t, "# TYPE sfu_dataplane_drops_total counter\n");
		for (int i = 0; i < SFU_DROP_N; i++)
			tprintf(&t, "sfu_dataplane_drops_total{reason=\"%s\"} %lu\n", sfu_drop_names[i],
				(unsigned long)sfu_stats_sum_drop(ctrl.sh, (enum sfu_drop)i));
	}
	return t.buf;
}

static char *stats_json(void)
{
	cJSON *s = cJSON_CreateObject(), *c, *rooms, *dp;
	char *out;

	c = cJSON_AddObjectToObject(s, "ctrl");
	cJSON_AddNumberToObject(c, "sessions", ctrl.n_sessions);
	cJSON_AddNumberToObject(c, "peers", ctrl.n_peers);
	cJSON_AddNumberToObject(c, "requests", (double)ctrl.ws_requests);
	cJSON_AddNumberToObject(c, "errors", (double)ctrl.ws_errors);
	cJSON_AddNumberToObject(c, "rateLimited", (double)ctrl.ws_rate_limited);
	cJSON_AddNumberToObject(c, "stunIn", (double)ctrl.stun_in);
	cJSON_AddNumberToObject(c, "stunUnknown", (double)ctrl.stun_unknown);
	cJSON_AddNumberToObject(c, "dtlsIn", (double)ctrl.dtls_in);
	cJSON_AddNumberToObject(c, "dtlsFailed", (double)ctrl.dtls_failed);
	cJSON_AddNumberToObject(c, "transportsConnected", (double)ctrl.transports_connected);
	cJSON_AddNumberToObject(c, "dataplaneErrors", (double)ctrl.dp_errors);
	cJSON_AddNumberToObject(c, "audioLevelReports", (double)ctrl.level_reports);
	cJSON_AddNumberToObject(c, "speakerChanges", (double)ctrl.speaker_changes);
	cJSON_AddNumberToObject(c, "audioLevelsOrphaned", (double)ctrl.level_orphaned);
	rooms = cJSON_AddArrayToObject(s, "rooms");
	for (struct ctrl_room *r = ctrl.rooms; r; r = r->next) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", r->id);
		cJSON_AddNumberToObject(o, "peers", r->n_peers);
		if (r->speaker.current != 0)
			cJSON_AddStringToObject(o, "activeSpeaker",
						((struct ctrl_peer *)r->speaker.current)->id);
		cJSON_AddItemToArray(rooms, o);
	}
	redis_stats(cJSON_AddObjectToObject(s, "redis"));
	dp = cJSON_AddObjectToObject(s, "dataplane");
	cJSON_AddBoolToObject(dp, "up", dataplane_up());
	if (ctrl.sh != NULL) {
		cJSON_AddNumberToObject(dp, "transports", (double)ctrl.sh->gauges.transports);
		cJSON_AddNumberToObject(dp, "producers", (double)ctrl.sh->gauges.producers);
		cJSON_AddNumberToObject(dp, "consumers", (double)ctrl.sh->gauges.consumers);
		for (int i = 0; i < SFU_CNT_N; i++)
			cJSON_AddNumberToObject(dp, sfu_counter_names[i],
						(double)sfu_stats_sum_counter(ctrl.sh, (enum sfu_counter)i));
	}
	out = cJSON_PrintUnformatted(s);
	cJSON_Delete(s);
	return out;
}

static int respond(struct lws *wsi, struct http_session *s);

/* An error as a small JSON body through the normal response path (clean on
 * HTTP/1.1 and HTTP/2 alike). */
static int http_status(struct lws *wsi, struct http_session *s, unsigned int code,
		       const char *msg)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "{\"error\":\"%s\"}", msg);
	free(s->body);
	s->body = strdup(buf);
	s->type = "application/json";
	s->status = code;
	s->len = s->body ? strlen(s->body) : 0;
	s->sent = 0;
	return respond(wsi, s);
}

static int respond(struct lws *wsi, struct http_session *s)
{
	unsigned char hdr[LWS_PRE + 1024], *p = hdr + LWS_PRE, *end = hdr + sizeof(hdr);

	if (s->body == NULL)
		return -1;
	if (lws_add_http_common_headers(wsi, s->status, s->type, s->len, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
					 (unsigned char *)"no-store", 8, &p, end) ||
	    lws_finalize_write_http_header(wsi, hdr + LWS_PRE, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

#define ADMIN_MAX_BODY 65536


/* Admin requests: from loopback, or with the configured bearer token. */
static bool admin_allowed(struct lws *wsi)
{
	char peer[64] = "", auth[256];

	if (ctrl.cfg.admin_token[0] != '\0' &&
	    lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) > 7 &&
	    strncmp(auth, "Bearer ", 7) == 0 && strcmp(auth + 7, ctrl.cfg.admin_token) == 0)
		return true;
	lws_get_peer_simple(wsi, peer, sizeof(peer));
	return strcmp(peer, "127.0.0.1") == 0 || strcmp(peer, "::1") == 0 ||
	       strcmp(peer, "::ffff:127.0.0.1") == 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct http_session *s = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP: {
		const char *path = in;
		char uri[64];

		/* The mount strips its prefix; the full URI is the path asked for. */
		if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) > 0 ||
		    lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_POST_URI) > 0)
			path = uri;
		s->status = HTTP_STATUS_OK;
		if (strcmp(path, "/health") == 0) {
			s->body = health_json();
			s->type = "application/json";
			if (!dataplane_up())
				s->status = HTTP_STATUS_SERVICE_UNAVAILABLE;
		} else if (strcmp(path, "/metrics") == 0) {
			s->body = metrics_text();
			s->type = "text/plain; version=0.0.4";
		} else if (strcmp(path, "/stats") == 0) {
			s->body = stats_json();
			s->type = "application/json";
		} else if (strcmp(path, "/admin") == 0) {
			s->denied = !admin_allowed(wsi);
			if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) <= 0) {
				return http_status(wsi, s, HTTP_STATUS_METHOD_NOT_ALLOWED, "POST only");
			}
			s->req = NULL;
			s->req_len = 0;
			s->req_too_big = false;
			return 0; /* the body follows */
		} else {
			return http_status(wsi, s, HTTP_STATUS_NOT_FOUND, "not found");
		}
		s->len = s->body ? strlen(s->body) : 0;
		s->sent = 0;
		return respond(wsi, s);
	}
	case LWS_CALLBACK_HTTP_BODY: {
		char *n;

		if (s->denied)
			return 0; /* read and discarded */
		if (s->req_too_big || s->req_len + len > ADMIN_MAX_BODY) {
			s->req_too_big = true;
			return 0;
		}
		n = realloc(s->req, s->req_len + len + 1);
		if (n == NULL)
			return -1;
		s->req = n;
		memcpy(s->req + s->req_len, in, len);
		s->req_len += len;
		return 0;
	}
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (s->denied) {
			free(s->req);
			s->req = NULL;
			return http_status(wsi, s, HTTP_STATUS_FORBIDDEN, "forbidden");
		}
		if (s->req_too_big) {
			free(s->req);
			s->req = NULL;
			return http_status(wsi, s, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "body too large");
		}
		s->body = admin_handle(s->req ? s->req : "", s->req_len);
		free(s->req);
		s->req = NULL;
		s->type = "application/json";
		s->status = HTTP_STATUS_OK;
		s->len = s->body ? strlen(s->body) : 0;
		s->sent = 0;
		return respond(wsi, s);
	case LWS_CALLBACK_HTTP_WRITEABLE: {
		unsigned char buf[LWS_PRE + 8192];
		size_t n;

		if (s == NULL || s->body == NULL)
			return -1;
		n = s->len - s->sent;
		if (n > sizeof(buf) - LWS_PRE)
			n = sizeof(buf) - LWS_PRE;
		memcpy(buf + LWS_PRE, s->body + s->sent, n);
		if (lws_write(wsi, buf + LWS_PRE, n,
			      s->sent + n == s->len ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
			return -1;
		s->sent += n;
		if (s->sent < s->len) {
			lws_callback_on_writable(wsi);
			return 0;
		}
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;
	}
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (s != NULL) {
			free(s->body);
			free(s->req);
			s->body = NULL;
			s->req = NULL;
		}
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

const struct lws_protocols http_protocol = {
	.name = "http",
	.callback = callback,
	.per_session_data_size = sizeof(struct http_session),
	.rx_buffer_size = 0,
};
