/*
 * ws.c — the "sfu-v1" WebSocket protocol: one session per browser (a
 * struct ctrl_peer from the first frame to the close), frame reassembly with
 * a size limit, a token-bucket request rate limit, and a bounded queue of
 * outgoing frames written when the socket is writable.
 *
 * Session lifetime: created at LWS_CALLBACK_ESTABLISHED, freed at
 * LWS_CALLBACK_CLOSED after the room forgot it (signaling_closed).
 *
 * Threading: ctrl's event loop (libwebsockets callbacks).
 */
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "ctrl.h"

#define OUT_MAX_BYTES (4u << 20) /* a browser that stops reading is dropped */
#define BURST_FACTOR 2.0
#define FLOOD_CLOSE_MS 5000

struct ws_session {
	struct ctrl_peer *peer;
};

void ws_send_json(struct ctrl_peer *p, cJSON *msg)
{
	char *text = cJSON_PrintUnformatted(msg);
	struct ctrl_out *o;
	size_t len;

	cJSON_Delete(msg);
	if (text == NULL || p->wsi == NULL) {
		free(text);
		return;
	}
	len = strlen(text);
	if (p->out_bytes + len > OUT_MAX_BYTES) {
		free(text);
		lws_set_timeout(p->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
		return;
	}
	o = malloc(sizeof(*o) + LWS_PRE + len);
	if (o == NULL) {
		free(text);
		return;
	}
	o->next = NULL;
	o->len = len;
	memcpy(o->buf + LWS_PRE, text, len);
	free(text);
	if (p->out_tail != NULL)
		p->out_tail->next = o;
	else
		p->out_head = o;
	p->out_tail = o;
	p->out_bytes += len;
	lws_callback_on_writable(p->wsi);
}

void ws_notify(struct ctrl_peer *p, const char *name, cJSON *data)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "notification", name);
	cJSON_AddItemToObject(m, "data", data ? data : cJSON_CreateObject());
	ws_send_json(p, m);
}

static void error_frame(struct ctrl_peer *p, const char *code, const char *message)
{
	cJSON *m = cJSON_CreateObject(), *e;

	cJSON_AddNullToObject(m, "id");
	cJSON_AddBoolToObject(m, "ok", false);
	e = cJSON_AddObjectToObject(m, "error");
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	ws_send_json(p, m);
}

/* Token bucket: msgs_per_sec, bursts up to twice that.  @return allowed */
static bool take_token(struct ctrl_peer *p, uint64_t now)
{
	double rate = ctrl.cfg.msgs_per_sec, cap = rate * BURST_FACTOR;

	p->tokens += (double)(now - p->tokens_ms) * rate / 1000.0;
	if (p->tokens > cap)
		p->tokens = cap;
	p->tokens_ms = now;
	if (p->tokens < 1.0)
		return false;
	p->tokens -= 1.0;
	p->limited_since_ms = 0;
	return true;
}

static void free_peer(struct ctrl_peer *p)
{
	while (p->out_head != NULL) {
		struct ctrl_out *o = p->out_head;

		p->out_head = o->next;
		free(o);
	}
	free(p->rx);
	free(p);
}

/* @return -1 to close the connection */
static int on_receive(struct lws *wsi, struct ctrl_peer *p, const void *in, size_t len)
{
	uint64_t now = ctrl_now_ms();
	char *nrx;

	if (lws_frame_is_binary(wsi)) {
		error_frame(p, "BAD_REQUEST", "binary frames are not accepted");
		return 0;
	}
	if (p->close_code != 0)
		return 0; /* closing: the rest is ignored */
	if (p->rx_len + len > ctrl.cfg.max_msg_bytes) {
		ctrl.ws_too_large++;
		error_frame(p, "TOO_LARGE", "message over the size limit");
		p->close_code = LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE;
		return 0;
	}
	nrx = realloc(p->rx, p->rx_len + len + 1);
	if (nrx == NULL)
		return -1;
	p->rx = nrx;
	memcpy(p->rx + p->rx_len, in, len);
	p->rx_len += len;
	if (!lws_is_final_fragment(wsi))
		return 0;
	p->rx[p->rx_len] = '\0';
	if (!take_token(p, now)) {
		ctrl.ws_rate_limited++;
		if (p->limited_since_ms == 0)
			p->limited_since_ms = now;
		p->rx_len = 0;
		error_frame(p, "RATE_LIMITED", "too many requests: slow down");
		if (now - p->limited_since_ms > FLOOD_CLOSE_MS)
			p->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
		return 0;
	}
	signaling_handle(p, p->rx, p->rx_len);
	p->rx_len = 0;
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct ws_session *s = user;
	struct ctrl_peer *p = s ? s->peer : NULL;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		p = calloc(1, sizeof(*p));
		if (p == NULL)
			return -1;
		p->wsi = wsi;
		p->tokens = ctrl.cfg.msgs_per_sec * BURST_FACTOR;
		p->tokens_ms = ctrl_now_ms();
		s->peer = p;
		ctrl.n_sessions++;
		if (ctrl.draining) {
			error_frame(p, "DRAINING", "this node is shutting down: connect to another");
			lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, 1);
		}
		return 0;
	case LWS_CALLBACK_RECEIVE:
		return p ? on_receive(wsi, p, in, len) : -1;
	case LWS_CALLBACK_SERVER_WRITEABLE: {
		struct ctrl_out *o = p ? p->out_head : NULL;

		if (o == NULL) {
			if (p != NULL && p->close_code != 0) {
				lws_close_reason(wsi, (enum lws_close_status)p->close_code,
						 (unsigned char *)"limit", 5);
				return -1;
			}
			return 0;
		}
		if (lws_write(wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT) < (int)o->len)
			return -1;
		p->out_head = o->next;
		if (p->out_head == NULL)
			p->out_tail = NULL;
		p->out_bytes -= o->len;
		free(o);
		if (p->out_head != NULL || p->close_code != 0)
			lws_callback_on_writable(wsi);
		return 0;
	}
	case LWS_CALLBACK_CLOSED:
		if (p == NULL)
			return 0;
		p->wsi = NULL;
		signaling_closed(p);
		free_peer(p);
		s->peer = NULL;
		ctrl.n_sessions--;
		return 0;
	default:
		return 0;
	}
}

const struct lws_protocols ws_protocol = {
	.name = "sfu-v1",
	.callback = callback,
	.per_session_data_size = sizeof(struct ws_session),
	.rx_buffer_size = 16384,
};
