/*
 * sfu-client.c — a non-browser WebRTC peer for the integration tests: one
 * process is one participant.  It speaks ctrl/PROTOCOL.md over wss
 * (libwebsockets client, subprotocol "sfu-v1", JSON with cJSON), runs ICE as
 * the controlling agent against the ICE-lite server (RFC 8445, STUN RFC 5389
 * via ctrl/lib/stun.h), DTLS-SRTP as the DTLS client (RFC 5764, OpenSSL via
 * ctrl/lib/dtls.h), publishes synthetic Opus/VP8-shaped RTP protected with
 * Debian's libsrtp2 (RFC 3711, RFC 7714), consumes every producer of the other
 * peers and checks every decrypted byte (sfu-client-media.h has the payload
 * pattern).  Datagrams are demultiplexed by their first byte (RFC 7983).
 *
 * Files: sfu-client-state.h (state), sfu-client-signal.h (requests, replies),
 * sfu-client-transport.h (ICE, DTLS, SRTP, media clock), sfu-client-report.h
 * (output lines), sfu-client-opts.h (command line; usage_text documents the
 * options and every output key), and the pure helpers sfu-client-ice.h,
 * sfu-client-media.h and sfu-client-json.h.
 *
 * Threading: single-threaded.  One lws context runs everything: the WebSocket,
 * both transports' UDP sockets (adopted as raw descriptors) and a 5 ms timer
 * that drives retransmissions, consent, DTLS timers, media pacing and every
 * deadline; nothing blocks, and the whole run is bounded by duration + 15 s.
 * Exit status: 0 after the summary, 1 on a set-up error (no connection, an error
 * reply, a timeout), 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <srtp2/srtp.h>

#include "dtls.h"
#include "sfu-client-opts.h"
#include "sfu-client-report.h"
#include "sfu-client-signal.h"
#include "sfu-client-state.h"
#include "sfu-client-transport.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Stop after a set-up error (already printed): summarise, exit 1. */
static void cl_abort(struct client *cl, bool timeout)
{
	if (cl->phase == CL_DONE)
		return;
	if (cl->phase != CL_LEAVING)
		print_summary(cl, timeout);
	cl->exit_code = 1;
	cl->phase = CL_DONE;
}

/* A set-up error: say what, summarise, stop (exit 1). */
static void cl_fail(struct client *cl, const char *method, const char *code, const char *msg)
{
	if (cl->phase == CL_DONE)
		return;
	print_error(method, code, msg);
	cl_abort(cl, strcmp(code, "TIMEOUT") == 0);
}

/* The normal end: summary, then leave (the reply or CL_LEAVE_WAIT_MS ends the run). */
static void cl_finish(struct client *cl)
{
	if (cl->phase == CL_LEAVING || cl->phase == CL_DONE)
		return;
	print_summary(cl, false);
	if (!cl->w.up) {
		cl->phase = CL_DONE;
		return;
	}
	cl->phase = CL_LEAVING;
	cl->leave_deadline_ms = cl_now_ms() + CL_LEAVE_WAIT_MS;
	sig_request(cl, CL_M_LEAVE, 0, NULL);
}

static void cl_on_dtls_connected(struct client *cl, struct cl_transport *t)
{
	uint64_t now = t->pc.dtls_done_ms;

	if (t->dir != CL_SEND)
		return;
	/* With --wrong-fingerprint the keys come before the server's verdict: no timing. */
	if (cl->o.timing && !cl->o.wrong_fp && !cl->timing_printed) {
		cl->timing_printed = true;
		printf("timing join_ms=%llu ice_ms=%llu dtls_ms=%llu total_ms=%llu\n",
		       (unsigned long long)(cl->joined_ms - cl->t0),
		       (unsigned long long)(t->pc.ice_done_ms - t->created_ms),
		       (unsigned long long)(now - t->pc.dtls_start_ms),
		       (unsigned long long)(now - cl->t0));
	}
	if (!cl->o.wrong_fp)
		sig_produce_all(cl);
}

static struct cl_consumer *find_consumer(struct client *cl, const char *key, const char *id)
{
	int i;

	for (i = 0; id != NULL && i < cl->n_cons; i++) {
		struct cl_consumer *c = &cl->cons[i];

		if (strcmp(key[0] == 'c' ? c->id : c->producer_id, id) == 0)
			return c;
	}
	return NULL;
}

static void on_transport_closed(struct client *cl, const cJSON *d)
{
	const char *id = cj_str(d, "transportId"), *reason = cj_str(d, "reason");
	int i;

	cl->transports_closed++;
	for (i = 0; id != NULL && i < CL_NDIR; i++) {
		struct cl_transport *t = &cl->tr[i];

		if (!t->created || strcmp(t->id, id) != 0)
			continue;
		t->closed = true;
		t->pc.dtls_allowed = false;
		cl_info(cl, "%s transport closed by the server: %s", cl_dir_name[i],
			reason != NULL ? reason : "?");
		if ((reason != NULL && strcmp(reason, "dtls") == 0) ||
		    (cl->o.wrong_fp && t->dir == CL_SEND))
			pc_dtls_fail(&t->pc, "transportClosed");
	}
}

static void on_notification(struct client *cl, const char *name, const cJSON *d)
{
	struct cl_consumer *c;
	struct cl_peer *p;

	if (strcmp(name, "peerJoined") == 0) {
		cl->peers_joined++;
		sig_add_peer(cl, d);
	} else if (strcmp(name, "peerLeft") == 0) {
		cl->peers_left++;
		if ((p = sig_peer(cl, cj_str(d, "peerId"))) != NULL)
			p->left = true;
	} else if (strcmp(name, "newProducer") == 0) {
		sig_add_producer(cl, d);
	} else if (strcmp(name, "producerClosed") == 0) {
		cl->producers_closed++;
		if ((c = find_consumer(cl, "p", cj_str(d, "producerId"))) != NULL)
			c->closed = true;
	} else if (strcmp(name, "consumerClosed") == 0) {
		cl->consumers_closed++;
		if ((c = find_consumer(cl, "c", cj_str(d, "consumerId"))) != NULL)
			c->closed = true;
	} else if (strcmp(name, "transportClosed") == 0) {
		on_transport_closed(cl, d);
	} else if (strcmp(name, "chat") == 0) {
		cl->chat_rx++;
		fputs("chat from=", stdout);
		pc_put_clean(cj_str(d, "displayName"), true);
		fputs(" text=", stdout);
		pc_put_clean(cj_str(d, "text"), false);
		putchar('\n');
	} else if (strcmp(name, "caption") == 0) {
		cl->caption_rx++;
		fputs("caption from=", stdout);
		pc_put_clean(cj_str(d, "displayName"), true);
		/* at_ms: CLOCK_MONOTONIC, comparable with another client's speech_end. */
		printf(" final=%d at_ms=%llu text=", cj_true(d, "final"),
		       (unsigned long long)cl_now_ms());
		pc_put_clean(cj_str(d, "text"), false);
		putchar('\n');
	} else if (strcmp(name, "activeSpeaker") == 0) {
		const char *id = cj_str(d, "peerId");

		cl->speaker_rx++;
		printf("speaker at_ms=%llu peer=", (unsigned long long)cl_now_ms());
		pc_put_clean(id != NULL ? peer_name(cl, id) : "-", true);
		fputs(" peer_id=", stdout);
		pc_put_clean(id != NULL ? id : "-", true);
		putchar('\n');
		fflush(stdout);
	} else if (strcmp(name, "captionsChanged") == 0) {
		cl->captions_changed++;
	} else {
		cl->other_notes++;
		cl_info(cl, "notification %s", name);
	}
}

static void on_reply(struct client *cl, struct cl_pending *pd, const cJSON *msg)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(msg, "data");
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(msg, "error");
	const char *method = sig_method_name[pd->method];
	struct cl_pending p = *pd;

	pd->used = false;
	if (!cj_true(msg, "ok")) {
		const char *code = cj_str(err, "code");

		print_error(method, code != NULL ? code : "?", cj_str(err, "message"));
		/* A producer that closed while we asked for it is a race, not a failure. */
		if ((p.method == CL_M_CONSUME || p.method == CL_M_RESUME) && code != NULL &&
		    strcmp(code, "NOT_FOUND") == 0) {
			cl->cons[p.arg].failed = true;
			cl->consume_errors++;
			return;
		}
		if (p.method == CL_M_LEAVE) {
			cl->phase = CL_DONE;
			return;
		}
		cl_abort(cl, false);
		return;
	}
	switch (p.method) {
	case CL_M_CAPS: sig_on_caps(cl, data); break;
	case CL_M_JOIN: sig_on_join(cl, data); break;
	case CL_M_CREATE: sig_on_create(cl, data, (enum cl_dir)p.arg); break;
	case CL_M_CONNECT:
		cl->tr[p.arg].connect_ok = true;
		cl->tr[p.arg].pc.dtls_allowed = !cl->tr[p.arg].closed;
		pc_maybe_start_dtls(&cl->tr[p.arg].pc, cl_now_ms());
		break;
	case CL_M_PRODUCE:
		if (!sig_copy(cl->prod[p.arg].id, CL_ID_LEN, data, "id")) {
			cl_fail(cl, method, "BAD_REPLY", "no producer id");
			break;
		}
		cl->prod[p.arg].ready = true;
		cl->prod[p.arg].start_ms = cl_now_ms();
		cl_info(cl, "producing %s as %s", cl->prod[p.arg].kind, cl->prod[p.arg].id);
		break;
	case CL_M_CONSUME: sig_on_consume(cl, data, p.arg); break;
	case CL_M_RESUME: cl->cons[p.arg].resumed = true; break;
	case CL_M_LEAVE: cl->phase = CL_DONE; break;
	case CL_M_CHAT:
	case CL_M_CAPTIONS:
	case CL_M_N:
		break;
	}
}

static void on_message(struct client *cl, const char *text, size_t len)
{
	cJSON *msg = cJSON_ParseWithLength(text, len);
	const char *note = cj_str(msg, "notification");
	int64_t id;
	int i;

	if (!cJSON_IsObject(msg)) {
		cl_fail(cl, "-", "BAD_FRAME", "the server sent something that is not a JSON object");
	} else if (note != NULL) {
		on_notification(cl, note, cJSON_GetObjectItemCaseSensitive(msg, "data"));
	} else if (cj_int(msg, "id", 0, 9007199254740992.0, &id)) {
		for (i = 0; i < CL_MAX_PENDING; i++)
			if (cl->pend[i].used && cl->pend[i].id == id)
				break;
		if (i < CL_MAX_PENDING)
			on_reply(cl, &cl->pend[i], msg);
		else
			cl_fail(cl, "-", "BAD_FRAME", "a reply to no request of ours");
	} else {
		cl_fail(cl, "-", "BAD_FRAME", "neither a notification nor a reply");
	}
	cJSON_Delete(msg);
}

/* The WebSocket's events (sfu-client-ws.h). */
static void ws_on_established(struct cw_conn *w)
{
	struct client *cl = lws_container_of(w, struct client, w);

	cl->phase = CL_SETUP;
	cl_info(cl, "connected in %llu ms", (unsigned long long)(cl_now_ms() - cl->t0));
	sig_request(cl, CL_M_CAPS, 0, NULL);
}

static void ws_on_message(struct cw_conn *w, const char *text, size_t len)
{
	on_message(lws_container_of(w, struct client, w), text, len);
}

static void ws_on_closed(struct cw_conn *w)
{
	struct client *cl = lws_container_of(w, struct client, w);

	if (cl->phase == CL_LEAVING)
		cl->phase = CL_DONE;
	else
		cl_fail(cl, "-", "CLOSED", "the server closed the WebSocket");
}

static void ws_on_fail(struct cw_conn *w, const char *req, const char *code, const char *msg)
{
	cl_fail(lws_container_of(w, struct client, w), req, code, msg);
}

static const struct cw_ops cl_ws_ops = {
	.protocol = "sfu-v1", .max_msg = CL_MAX_MSG,
	.too_large = "a signaling message over 1 MiB", .text_only = true,
	.established = ws_on_established, .message = ws_on_message, .closed = ws_on_closed,
	.fail = ws_on_fail,
};

static const struct lws_protocols cl_protocols[] = {
	{"sfu-v1", cw_callback, 0, 65536, 0, NULL, 0},
	{"sfu-udp", pc_udp_callback, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

/* --chat: after joining, or once --expect-producers K consumers exist. */
static void maybe_chat(struct client *cl)
{
	int i, ready = 0;

	if (cl->o.chat == NULL || cl->chat_sent)
		return;
	for (i = 0; i < cl->n_cons; i++)
		ready += cl->cons[i].ready;
	if (cl->o.expect_producers >= 0 && ready < cl->o.expect_producers)
		return;
	cl->chat_sent = true;
	sig_request_one(cl, CL_M_CHAT, 0, "text", cJSON_CreateString(cl->o.chat));
}

/* Every CL_TICK_MS: deadlines, then the transports' timers and the media clock. */
static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct client *cl = lws_container_of(sul, struct client, tick);
	uint64_t now = cl_now_ms();
	int i;

	if (cl->o.vanish && now - cl->t0 >= cl->o.vanish_ms) {
		printf("vanish after_ms=%llu\n", (unsigned long long)(now - cl->t0));
		fflush(stdout);
		_exit(0);
	}
	/* Leaving has its own (short) deadline: the summary is out already. */
	if (cl->phase == CL_LEAVING && now >= cl->leave_deadline_ms)
		cl->phase = CL_DONE;
	else if (cl->phase != CL_LEAVING && now >= cl->deadline_ms)
		cl_fail(cl, "-", "TIMEOUT", "the run did not finish in duration + 15 s");
	for (i = 0; i < CL_MAX_PENDING; i++)
		if (cl->pend[i].used && now >= cl->pend[i].deadline_ms &&
		    cl->pend[i].method != CL_M_LEAVE)
			cl_fail(cl, sig_method_name[cl->pend[i].method], "TIMEOUT", "no reply in 10 s");
	if (cl->phase == CL_DONE)
		return;
	for (i = 0; i < CL_NDIR; i++)
		tr_tick(&cl->tr[i], now);
	for (i = 0; i < 2 && cl->phase == CL_RUNNING; i++)
		prod_tick(&cl->tr[CL_SEND], &cl->prod[i], now);
	if (cl->phase == CL_RUNNING) {
		const struct cl_transport *s = &cl->tr[CL_SEND], *r = &cl->tr[CL_RECV];

		maybe_chat(cl);
		/* --timing waits for the send transport's verdict (the deadline bounds it);
		 * --wrong-fingerprint ends once send failed and recv has a verdict. */
		if (stop_requested ||
		    (now >= cl->end_ms && (!cl->o.timing || cl->o.wrong_fp || tr_settled(s))) ||
		    (cl->o.wrong_fp && s->pc.dtls_failed && tr_settled(r)))
			cl_finish(cl);
	} else if (stop_requested && cl->phase != CL_LEAVING) {
		cl_fail(cl, "-", "INTERRUPTED", "stopped by a signal before joining");
	}
	lws_sul_schedule(cl->w.ctx, 0, &cl->tick, on_tick, CL_TICK_MS * LWS_US_PER_MS);
}

/* Our producers: random SSRCs (RFC 3550 8.1), sequence and timestamp starts. */
static void init_producers(struct client *cl)
{
	static const char *const kinds[2] = {"audio", "video"};
	static const char *const mimes[2] = {"audio/opus", "video/VP8"};
	static const char *const mids[2] = {"0", "1"};
	int i;

	for (i = 0; i < 2; i++) {
		struct cl_producer *p = &cl->prod[i];

		p->kind = kinds[i];
		p->mime = mimes[i];
		p->mid = mids[i];
		p->wanted = i == 0 ? cl->o.audio : cl->o.video;
		p->tag = cm_tag(cl->o.name, p->kind);
		do
			pc_random(&p->ssrc, sizeof(p->ssrc));
		while (p->ssrc == 0 || (i == 1 && p->ssrc == cl->prod[0].ssrc));
		pc_random(&p->seq, sizeof(p->seq));
		pc_random(&p->ts, sizeof(p->ts));
	}
}

static void cl_cleanup(struct client *cl)
{
	int i;

	cw_free(&cl->w);
	for (i = 0; i < CL_NDIR; i++)
		pc_free(&cl->tr[i].pc);
	cJSON_Delete(cl->router_caps);
	dtls_cert_free(cl->cert);
	dtls_cert_free(cl->wrong_cert);
	srtp_shutdown();
}

int main(int argc, char **argv)
{
	static struct client cl; /* large: not on the stack */
	struct sigaction sa;
	uint64_t run_ms;
	int i, rc;

	parse_opts(&cl.o, argc, argv);
	if (cl.o.speech != NULL && speech_load(&cl.speech, cl.o.speech) < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	run_ms = cl.o.wrong_fp && cl.o.duration_ms < CL_WRONG_FP_MIN_MS ? CL_WRONG_FP_MIN_MS
									: cl.o.duration_ms;
	if (srtp_init() != srtp_err_status_ok) {
		fputs("sfu-client: srtp_init failed\n", stderr);
		return 1;
	}
	cl.cert = dtls_cert_new();
	cl.wrong_cert = cl.o.wrong_fp ? dtls_cert_new() : NULL;
	if (cl.cert == NULL || (cl.o.wrong_fp && cl.wrong_cert == NULL)) {
		fputs("sfu-client: cannot create the DTLS certificate\n", stderr);
		cl_cleanup(&cl);
		return 1;
	}
	for (i = 0; i < CL_NDIR; i++)
		tr_init(&cl.tr[i], &cl, (enum cl_dir)i);
	init_producers(&cl);

	lws_set_log_level(cl.o.quiet ? LLL_ERR : LLL_ERR | LLL_WARN, NULL);
	cl.w.ops = &cl_ws_ops;
	if (cw_context(&cl.w, cl_protocols, true, cl.o.insecure) != 0) {
		fputs("sfu-client: lws_create_context failed\n", stderr);
		cl_cleanup(&cl);
		return 1;
	}
	/* Timings start here: our own start-up (certificate, libraries) is not the server's. */
	cl.t0 = cl_now_ms();
	cl.deadline_ms = cl.t0 + run_ms + CL_SLACK_MS;
	rc = cw_connect(&cl.w, cl.o.url, cl.o.insecure);
	if (rc != 0)
		cl_fail(&cl, "connect", "CONNECT", rc == -EINVAL ? "bad --url" : "connection refused");
	lws_sul_schedule(cl.w.ctx, 0, &cl.tick, on_tick, CL_TICK_MS * LWS_US_PER_MS);
	while (cl.phase != CL_DONE && lws_service(cl.w.ctx, 0) >= 0)
		;
	rc = cl.exit_code;
	cl_cleanup(&cl);
	return rc;
}
