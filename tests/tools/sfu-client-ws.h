/*
 * sfu-client-ws.h — the WebSocket client plumbing of the two WebRTC test
 * clients, tests/tools/sfu-client.c (ctrl/PROTOCOL.md) and
 * perf/janus/sfu-janus-client.c (Janus's API): the lws context, the connection
 * to a ws:// or wss:// URL, a queue of outgoing text frames (lws writes one
 * frame per WRITEABLE callback), the reassembly of a message from its
 * fragments (RFC 6455 5.4), and the protocol callback, which hands the owner
 * four events through struct cw_ops.  What the messages say is the owner's.
 *
 * Static functions; threading: the lws service thread only.
 */
#ifndef SFU_CLIENT_WS_H
#define SFU_CLIENT_WS_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#define CW_URL_MAX 512 /* the longest URL cw_connect takes, NUL included */

struct cw_conn;

/* What the owner of a connection is told; the owner finds itself with lws_container_of(). */
struct cw_ops {
	const char *protocol;  /* the subprotocol asked for, and the lws protocol's name */
	size_t max_msg;        /* a longer message is the error too_large */
	const char *too_large; /* its message text */
	bool text_only;        /* binary messages are dropped */
	void (*established)(struct cw_conn *w);
	void (*message)(struct cw_conn *w, const char *text, size_t len);
	void (*closed)(struct cw_conn *w);                 /* by the peer or the network */
	void (*fail)(struct cw_conn *w, const char *req, const char *code, const char *msg);
};

/* A queued outgoing text frame, LWS_PRE bytes of headroom before the text. */
struct cw_out {
	struct cw_out *next;
	size_t len;
	unsigned char buf[];
};

/* One client connection.  Lifetime: the process (inside the owner's static state). */
struct cw_conn {
	const struct cw_ops *ops;
	struct lws_context *ctx;
	struct lws *wsi; /* set while connecting and connected */
	bool up;         /* established and not closed */
	struct cw_out *out_head, *out_tail;
	char *rx;        /* the message being reassembled */
	size_t rx_len, rx_cap;
};

/**
 * The lws context for w (no listening port); protocols' WebSocket entry is
 * served by cw_callback.  tls: wss may be used; insecure: no certificate
 * chain is verified, so the system CA store is not loaded (~35 ms a process).
 * @return 0 or -ENOMEM
 */
static int cw_context(struct cw_conn *w, const struct lws_protocols *protocols, bool tls,
		      bool insecure)
{
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	if (tls)
		info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if (insecure)
		info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	info.user = w;
	w->ctx = lws_create_context(&info);
	return w->ctx != NULL ? 0 : -ENOMEM;
}

/**
 * Connect to url (ws:// or wss://; insecure: accept a self-signed certificate).
 * @return 0, -EINVAL for a URL lws cannot parse, -ECONNREFUSED
 */
static int cw_connect(struct cw_conn *w, const char *url, bool insecure)
{
	struct lws_client_connect_info ci;
	char buf[CW_URL_MAX], path[CW_URL_MAX + 1];
	const char *prot, *addr, *p;
	int port;

	if (strlen(url) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, url);
	if (lws_parse_uri(buf, &prot, &addr, &port, &p) != 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/%s", p);
	memset(&ci, 0, sizeof(ci));
	ci.context = w->ctx;
	ci.address = addr;
	ci.port = port;
	ci.path = path;
	ci.host = addr;
	ci.origin = addr;
	ci.protocol = w->ops->protocol;
	ci.local_protocol_name = w->ops->protocol;
	ci.pwsi = &w->wsi;
	if (strcmp(prot, "wss") == 0) {
		ci.ssl_connection = LCCSCF_USE_SSL;
		ci.alpn = "http/1.1";
		if (insecure)
			ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED |
					     LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
					     LCCSCF_ALLOW_INSECURE;
	}
	return lws_client_connect_via_info(&ci) == NULL ? -ECONNREFUSED : 0;
}

/** Queue one text frame (copied); the WRITEABLE callback sends it. @return 0 or -ENOMEM */
static int cw_queue(struct cw_conn *w, const char *text)
{
	size_t len = strlen(text);
	struct cw_out *o = malloc(sizeof(*o) + LWS_PRE + len);

	if (o == NULL)
		return -ENOMEM;
	o->next = NULL;
	o->len = len;
	memcpy(o->buf + LWS_PRE, text, len);
	if (w->out_tail != NULL)
		w->out_tail->next = o;
	else
		w->out_head = o;
	w->out_tail = o;
	if (w->wsi != NULL && w->up)
		lws_callback_on_writable(w->wsi);
	return 0;
}

/* Reassemble a message from its fragments; a whole one goes to ops->message. */
static void cw_receive(struct cw_conn *w, struct lws *wsi, const void *in, size_t len)
{
	if (lws_is_first_fragment(wsi))
		w->rx_len = 0;
	if (w->rx_len + len + 1 > w->ops->max_msg) {
		w->ops->fail(w, "-", "TOO_LARGE", w->ops->too_large);
		return;
	}
	if (w->rx_len + len + 1 > w->rx_cap) {
		size_t cap = w->rx_cap * 2 > w->rx_len + len + 1 ? w->rx_cap * 2
								 : w->rx_len + len + 1;
		char *p = realloc(w->rx, cap);

		if (p == NULL) {
			w->ops->fail(w, "-", "CLIENT", "out of memory");
			return;
		}
		w->rx = p;
		w->rx_cap = cap;
	}
	memcpy(w->rx + w->rx_len, in, len);
	w->rx_len += len;
	if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0 &&
	    !(w->ops->text_only && lws_frame_is_binary(wsi)))
		w->ops->message(w, w->rx, w->rx_len);
}

/* The socket can take a frame: the queue's first; ask again while more wait. */
static int cw_writeable(struct cw_conn *w, struct lws *wsi)
{
	struct cw_out *o = w->out_head;
	int n;

	if (o == NULL)
		return 0;
	w->out_head = o->next;
	if (w->out_head == NULL)
		w->out_tail = NULL;
	n = lws_write(wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT);
	free(o);
	if (n < 0)
		return -1;
	if (w->out_head != NULL)
		lws_callback_on_writable(wsi);
	return 0;
}

/* The lws protocol callback of the WebSocket (the context's user is the cw_conn). */
static int cw_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		       size_t len)
{
	struct cw_conn *w = lws_context_user(lws_get_context(wsi));

	(void)user;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		w->wsi = NULL;
		w->ops->fail(w, "connect", "CONNECT",
			     in != NULL ? (const char *)in : "connection failed");
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		w->up = true;
		w->ops->established(w);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		cw_receive(w, wsi, in, len);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return cw_writeable(w, wsi);
	case LWS_CALLBACK_CLIENT_CLOSED:
		w->wsi = NULL;
		w->up = false;
		w->ops->closed(w);
		break;
	default:
		break;
	}
	return 0;
}

/* The context (closing every socket it serves), then the queue and the buffer. */
static void cw_free(struct cw_conn *w)
{
	if (w->ctx != NULL)
		lws_context_destroy(w->ctx);
	w->ctx = NULL;
	while (w->out_head != NULL) {
		struct cw_out *o = w->out_head;

		w->out_head = o->next;
		free(o);
	}
	w->out_tail = NULL;
	free(w->rx);
	w->rx = NULL;
}

#endif /* SFU_CLIENT_WS_H */
