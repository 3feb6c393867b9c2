/*
 * sttd_http.c — sfu-sttd's HTTP/1.1 side on libwebsockets: route a request,
 * collect its body (bounded by the route before a byte of it is read), hand
 * it to sttd_api.c and write the JSON reply; connections are kept alive.
 *
 * Request lifetime: LWS_CALLBACK_HTTP routes and checks the headers; a
 * request that fails there is answered at once (its body, if any, is then
 * discarded by libwebsockets, or the connection closed when the body is over
 * STTD_DISCARD_MAX); otherwise the body arrives in LWS_CALLBACK_HTTP_BODY and
 * LWS_CALLBACK_HTTP_BODY_COMPLETION runs the endpoint ("Expect: 100-continue"
 * is answered before the body).  The reply goes out in
 * LWS_CALLBACK_HTTP_WRITEABLE, which then completes the transaction.
 *
 * Per-connection state (struct conn) lives for one transaction: libwebsockets
 * rebinds the protocol, and so frees and zeroes it, between keep-alive
 * requests; HTTP_DROP_PROTOCOL and CLOSED_HTTP free what it holds.
 *
 * Threading: sfu-sttd's service loop only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sttd.h"

enum route {
	ROUTE_NONE,
	ROUTE_HEALTH,
	ROUTE_STREAM_START,
	ROUTE_CHUNK,
	ROUTE_STREAM_END,
};

struct conn {
	enum route route;
	bool replying;               /* the reply is decided; ignore the body */
	bool close_after;            /* close the connection once it is written */
	bool have_id, have_seq;
	char id[STTD_ID_MAX + 2];    /* one more than allowed, to see overlong ones */
	char seq[24];
	uint8_t *body;
	size_t body_len, body_max;
	struct sttd_reply reply;
	size_t sent;
};

static const struct {
	const char *path;
	enum route route;
	int method;                  /* LWSHUMETH_* */
	size_t body_max;
} routes[] = {
	{ "/health", ROUTE_HEALTH, LWSHUMETH_GET, 0 },
	{ "/api/v1/stream-start", ROUTE_STREAM_START, LWSHUMETH_POST, STTD_JSON_MAX },
	{ "/api/v1/transcribe-stream", ROUTE_CHUNK, LWSHUMETH_POST, STTD_CHUNK_MAX },
	{ "/api/v1/stream-end", ROUTE_STREAM_END, LWSHUMETH_POST, STTD_JSON_MAX },
};

static struct sttd *server(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

static void conn_release(struct conn *c)
{
	free(c->body);
	free(c->reply.body);
	c->body = NULL;
	c->reply.body = NULL;
}

/* Write the status line and headers now, the body when writable. */
static int reply_send(struct lws *wsi, struct conn *c)
{
	unsigned char hdr[LWS_PRE + 512], *p = hdr + LWS_PRE, *end = hdr + sizeof(hdr);
	struct sttd *d = server(wsi);
	char num[16];
	size_t len;

	if (c->reply.body == NULL)
		return -1;
	c->replying = true;
	c->sent = 0;
	len = strlen(c->reply.body);
	d->cnt.status[c->reply.status / 100 < 6 ? c->reply.status / 100 : 5]++;
	if (lws_add_http_common_headers(wsi, c->reply.status, "application/json", len, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
					 (const unsigned char *)"no-store", 8, &p, end))
		return -1;
	if (c->reply.retry_after > 0) {
		snprintf(num, sizeof(num), "%u", c->reply.retry_after);
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)"retry-after:",
						(const unsigned char *)num, (int)strlen(num), &p,
						end))
			return -1;
	}
	if (c->reply.status == 405 &&
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:",
					(const unsigned char *)(c->route == ROUTE_HEALTH ? "GET"
											  : "POST"),
					c->route == ROUTE_HEALTH ? 3 : 4, &p, end))
		return -1;
	if (c->close_after &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
					 (const unsigned char *)"close", 5, &p, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, hdr + LWS_PRE, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int reply_error(struct lws *wsi, struct conn *c, unsigned int status, const char *msg)
{
	sttd_api_error(&c->reply, status, msg);
	return reply_send(wsi, c);
}

/* The query arguments of a chunk; absent or overlong ones stay unset. */
static void read_args(struct lws *wsi, struct conn *c)
{
	char buf[STTD_ID_MAX + 32];
	const char *v;

	v = lws_get_urlarg_by_name(wsi, "streamId=", buf, sizeof(buf));
	if (v != NULL && strlen(v) < sizeof(c->id)) {
		snprintf(c->id, sizeof(c->id), "%s", v);
		c->have_id = true;
	}
	v = lws_get_urlarg_by_name(wsi, "seq=", buf, sizeof(buf));
	if (v != NULL && strlen(v) < sizeof(c->seq)) {
		snprintf(c->seq, sizeof(c->seq), "%s", v);
		c->have_seq = true;
	}
}

/*
 * A client that sent "Expect: 100-continue" waits for this before the body
 * (RFC 9110 10.1.1; curl waits 1 s, then sends anyway); libwebsockets 4.1
 * does not send it.  Requests refused from their headers get their final
 * status instead, which the RFC allows.
 */
static int send_continue(struct lws *wsi)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	unsigned char buf[LWS_PRE + sizeof(cont)];
	char expect[32];

	if (lws_hdr_copy(wsi, expect, sizeof(expect), WSI_TOKEN_HTTP_EXPECT) <= 0 ||
	    strcasecmp(expect, "100-continue") != 0)
		return 0;
	memcpy(buf + LWS_PRE, cont, sizeof(cont) - 1);
	return lws_write(wsi, buf + LWS_PRE, sizeof(cont) - 1, LWS_WRITE_HTTP) ==
		       (int)(sizeof(cont) - 1) ? 0 : -1;
}

/* LWS_CALLBACK_HTTP: route, check method and Content-Length, size the body. */
static int on_request(struct lws *wsi, struct conn *c)
{
	char *uri = NULL, clen[24];
	int uri_len = 0, method = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
	size_t i, body_max = 0;
	unsigned long long want;
	char *endp;

	memset(c, 0, sizeof(*c));
	server(wsi)->cnt.requests++;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (uri != NULL && (size_t)uri_len == strlen(routes[i].path) &&
		    memcmp(uri, routes[i].path, (size_t)uri_len) == 0)
			break;
	}
	if (i == sizeof(routes) / sizeof(routes[0]))
		return reply_error(wsi, c, 404, "not found");
	c->route = routes[i].route;
	body_max = routes[i].body_max;
	if (method != routes[i].method)
		return reply_error(wsi, c, 405, "method not allowed");
	if (c->route == ROUTE_HEALTH) {
		sttd_api_health(server(wsi), &c->reply);
		return reply_send(wsi, c);
	}
	/* POST: the body's size must be known before any of it is read. */
	if (lws_hdr_copy(wsi, clen, sizeof(clen), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
		c->close_after = true;
		return reply_error(wsi, c, 411, "Content-Length required");
	}
	errno = 0;
	want = strtoull(clen, &endp, 10);
	if (errno != 0 || endp == clen || *endp != '\0') {
		c->close_after = true;
		return reply_error(wsi, c, 400, "bad Content-Length");
	}
	if (want > body_max) {
		c->close_after = want > STTD_DISCARD_MAX;
		return reply_error(wsi, c, 413,
				   c->route == ROUTE_CHUNK ? "chunk larger than 32000 bytes"
							   : "body larger than 4096 bytes");
	}
	if (c->route == ROUTE_CHUNK)
		read_args(wsi, c);
	if (send_continue(wsi) < 0)
		return -1;
	c->body_max = (size_t)want;
	c->body = malloc(c->body_max > 0 ? c->body_max : 1);
	if (c->body == NULL) {
		c->close_after = true;
		return reply_error(wsi, c, 503, "out of memory");
	}
	return 0; /* the body follows (or BODY_COMPLETION at once if it is empty) */
}

static int on_body(struct conn *c, const void *in, size_t len)
{
	if (c->replying || c->body == NULL || len == 0)
		return 0; /* an explicit Content-Length: 0 comes as (NULL, 0) */
	if (len > c->body_max - c->body_len)
		return -1; /* more than Content-Length: libwebsockets should not allow it */
	memcpy(c->body + c->body_len, in, len);
	c->body_len += len;
	return 0;
}

static int on_body_complete(struct lws *wsi, struct conn *c)
{
	struct sttd *d = server(wsi);

	if (c->replying || c->body == NULL)
		return 0;
	switch (c->route) {
	case ROUTE_STREAM_START:
		sttd_api_stream_start(d, (const char *)c->body, c->body_len, &c->reply);
		break;
	case ROUTE_CHUNK:
		sttd_api_chunk(d, c->have_id ? c->id : NULL, c->have_seq ? c->seq : NULL, c->body,
			       c->body_len, &c->reply);
		break;
	case ROUTE_STREAM_END:
		sttd_api_stream_end(d, (const char *)c->body, c->body_len, &c->reply);
		break;
	default:
		return -1;
	}
	free(c->body);
	c->body = NULL;
	return reply_send(wsi, c);
}

static int on_writeable(struct lws *wsi, struct conn *c)
{
	unsigned char buf[LWS_PRE + 4096];
	size_t len, n;

	if (c->reply.body == NULL)
		return 0;
	len = strlen(c->reply.body);
	n = len - c->sent;
	if (n > sizeof(buf) - LWS_PRE)
		n = sizeof(buf) - LWS_PRE;
	memcpy(buf + LWS_PRE, c->reply.body + c->sent, n);
	if (lws_write(wsi, buf + LWS_PRE, n,
		      c->sent + n == len ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
		return -1;
	c->sent += n;
	if (c->sent < len) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (c->close_after)
		return -1;
	conn_release(c);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return c != NULL ? on_request(wsi, c) : -1;
	case LWS_CALLBACK_HTTP_BODY:
		return c != NULL ? on_body(c, in, len) : -1;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return c != NULL ? on_body_complete(wsi, c) : -1;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return c != NULL ? on_writeable(wsi, c) : -1;
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (c != NULL)
			conn_release(c);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

const struct lws_protocols sttd_http_protocol = {
	.name = "http",
	.callback = callback,
	.per_session_data_size = sizeof(struct conn),
};
