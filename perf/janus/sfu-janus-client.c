/*
 * sfu-janus-client.c — the WebRTC test participant of tests/tools/sfu-client.c,
 * speaking Janus's API instead of ctrl/PROTOCOL.md, so that the same room can be
 * run through Janus's VideoRoom plugin and through our SFU (perf/janus/compare).
 *
 * Signaling: Janus's JSON API over a WebSocket (libwebsockets client,
 * subprotocol "janus-protocol", cJSON): create a session, attach one
 * janus.plugin.videoroom handle per role, keepalives; the publisher joins the
 * room (ptype "publisher") and publishes with our JSEP offer (RFC 8829) and
 * takes Janus's answer; the subscriber lists the room's participants until the
 * publishers it expects are there, joins as a subscriber to all of them,
 * takes Janus's offer and sends "start" with our answer.  Candidates travel in
 * the SDP (one host candidate each way, then an end-of-candidates trickle).
 * Media: jc-leg.h (ICE controlling, DTLS in the role the SDP gives, SRTP with
 * libsrtp2; payloads from tests/tools/sfu-client-media.h so every byte is
 * verified against the publisher's display name and kind).
 *
 * Files: jc-sdp.h (SDP parser and writers), jc-leg.h (one PeerConnection),
 * this file (options, Janus requests and events, output); shared with
 * sfu-client: tests/tools/sfu-client-pc.h (ICE, DTLS, SRTP of a connection),
 * sfu-client-ws.h (the WebSocket), sfu-client-media.h, sfu-client-json.h.
 *
 * Threading: single-threaded: one lws context runs the WebSocket, the legs'
 * UDP sockets (adopted raw descriptors) and a 5 ms timer for retransmissions,
 * consent, DTLS timers, media pacing and every deadline.  The run is bounded
 * by duration + 20 s.  Exit status: 0 after the summary, 1 on a set-up error
 * (the error line and the summary are printed), 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <x86intrin.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <srtp2/srtp.h>

#include "dtls.h"
#include "jc-leg.h"
#include "jc-sdp.h"
#include "../../tests/tools/sfu-client-json.h"
#include "../../tests/tools/sfu-client-media.h"
#include "../../tests/tools/sfu-client-ws.h"

#define JC_TICK_MS 5
#define JC_REQ_TIMEOUT_MS 10000
#define JC_SLACK_MS 20000
#define JC_LIST_EVERY_MS 250
#define JC_WAIT_PUBLISHERS_MS 15000
#define JC_KEEPALIVE_MS 25000
#define JC_LEAVE_WAIT_MS 1000
#define JC_MAX_PENDING 16
#define JC_MAX_MSG (1u << 20)
#define JC_SDP_MAX 32768
#define JC_MAX_FEEDS 32
#define JC_AUDIO_PT 111
#define JC_VIDEO_PT 96
#define JC_MID_EXT_ID 4

static const char usage_text[] =
	"usage: sfu-janus-client --url ws://HOST:PORT/ --room N --name NAME\n"
	"                        [--publish] [--subscribe] [--video-kbps K] [--no-video]\n"
	"                        [--duration S] [--expect-publishers K] [--bind-ip IP] [--quiet]\n"
	"       sfu-janus-client --tsc-hz\n"
	"\n"
	"A participant of Janus's VideoRoom (janus.plugin.videoroom) room N:\n"
	"  --publish        publish audio (Opus-shaped, 50 packets/s of ~100 bytes) and\n"
	"                   video (VP8-shaped, 30 frames/s in ~1200-byte packets)\n"
	"  --subscribe      subscribe to every other publisher of the room (after waiting\n"
	"                   up to 15 s for --expect-publishers K of them, default 1) and\n"
	"                   verify every byte received\n"
	"  --video-kbps K   video bitrate in kbit/s (default 2000; 0: sfu-client's 3 packets\n"
	"                   of ~1000 bytes a frame)\n"
	"  --no-video       publish audio only\n"
	"  --duration S     run S seconds after joining (default 10), then print the summary\n"
	"                   and destroy the session; the run is bounded by S + 20 s\n"
	"  --bind-ip IP     the UDP sockets bind to IP (the test host; default 0.0.0.0 is\n"
	"                   not usable: the SDP candidate needs an address)\n"
	"  --quiet          no progress on stderr\n"
	"  --tsc-hz         print tsc_hz=N (the TSC rate, measured over 200 ms) and exit:\n"
	"                   perf/janus/compare turns the data plane's busy_cycles into seconds\n"
	"\n"
	"stdout, key=value lines:\n"
	"  timing role= ice_ms= dtls_ms= setup_ms=    (join->ICE success, DTLS start->keys,\n"
	"                                              WebSocket connected->SRTP keys)\n"
	"  error request=R code=C message=TEXT         (an error reply, or a local failure)\n"
	"  stream kind= feed= mid= ssrc= pt= packets= bytes= decrypted= payload_ok= seq_gaps=\n"
	"      auth_fail= replay_fail= other_fail= bad_payload= wrong_producer= pt_bad= rtx=\n"
	"  leg role=publish|subscribe ice=idle|checking|connected|failed checks=\n"
	"      checks_answered= stun_errors= stun_bad= consent_ok= dtls=none|connected|failed\n"
	"      dtls_role=client|server profile= webrtcup=0|1 hangup=0|1 rx_stun= rx_dtls=\n"
	"      rx_rtp= rx_rtcp= rtcp_ok= rtcp_fail= rx_other= rx_foreign= unknown_ssrc= tx_fail=\n"
	"  summary name= room= joined=0|1 legs= ice_connected= legs_connected= ice_failed=\n"
	"      dtls_failed= sent_audio= sent_video= sent_bytes= streams= received_ok=\n"
	"      audio_packets= audio_bytes= video_packets= video_bytes= packets_ok=\n"
	"      decrypt_failures= bad_payload= events= timeout=0|1\n"
	"      [expect_publishers= publishers= expect_ok=0|1]\n"
	"received_ok counts streams whose every packet decrypted and verified (at least\n"
	"one); bytes are SRTP bytes on the wire.  Exit 0 after the summary, 1 on a set-up\n"
	"error (no connection, an error reply, a timeout), 2 on a usage error.\n";

struct jc_opts {
	char url[256];
	const char *name, *bind_ip;
	uint64_t room;
	bool publish, subscribe, video, quiet;
	uint32_t video_kbps, duration_ms;
	int expect_publishers;
};

enum jc_req {
	JC_R_CREATE, JC_R_ATTACH, JC_R_PUB_JOIN, JC_R_PUBLISH, JC_R_LIST, JC_R_SUB_JOIN,
	JC_R_START, JC_R_TRICKLE, JC_R_KEEPALIVE, JC_R_DESTROY,
};

static const char *const jc_req_name[] = {
	"create", "attach", "join", "publish", "listparticipants", "join", "start", "trickle",
	"keepalive", "destroy",
};

/* A request waiting for its answer ("success"/"error", or "ack" then "event"). */
struct jc_pending {
	bool used;
	enum jc_req req;
	enum jc_role role;
	uint64_t tid;
	uint64_t deadline_ms;
};

enum jc_phase { JC_CONNECTING, JC_SETUP, JC_LEAVING, JC_DONE };

/* A publisher of the room as listparticipants reports it. */
struct jc_feed {
	uint64_t id;
	char display[64];
};

/* The whole client; static in main.  Lifetime: the process. */
struct jc_client {
	struct jc_opts o;
	struct cw_conn w; /* the WebSocket to Janus and the lws context */
	enum jc_phase phase;
	int exit_code;
	lws_sorted_usec_list_t tick;
	struct dtls_cert *cert;
	struct cm_video_plan video;

	uint64_t session;
	uint64_t next_tid;
	struct jc_pending pend[JC_MAX_PENDING];

	struct jc_leg leg[JC_NROLE];
	uint64_t pub_id; /* our publisher id in the room */
	bool joined;
	int n_feeds;
	struct jc_feed feeds[JC_MAX_FEEDS];
	uint64_t next_list_ms, list_until_ms;
	uint64_t t0, ws_up_ms, join_ms, end_ms, deadline_ms, leave_deadline_ms, next_keepalive_ms;
	uint64_t events;
	bool timeout;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void info(const struct jc_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void info(const struct jc_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pc_vlog(c->o.quiet, "sfu-janus-client", c->o.name, "", "", fmt, ap);
	va_end(ap);
}


/* ---- output ---- */

static void print_error(const char *req, const char *code, const char *msg)
{
	printf("error request=%s code=%s message=", req, code);
	for (; msg != NULL && *msg != '\0'; msg++)
		putchar((unsigned char)*msg < 0x20 || *msg == 0x7f ? '_' : *msg);
	putchar('\n');
	fflush(stdout);
}

static void print_leg(const struct jc_leg *l)
{
	static const char *const ice_name[] = {"idle", "checking", "connected", "failed"};
	const struct pc_conn *pc = &l->pc;

	printf("leg role=%s ice=%s checks=%u checks_answered=%u stun_errors=%u stun_bad=%u"
	       " consent_ok=%u dtls=%s dtls_role=%s profile=0x%04x webrtcup=%d hangup=%d"
	       " rx_stun=%" PRIu64 " rx_dtls=%" PRIu64 " rx_rtp=%" PRIu64 " rx_rtcp=%" PRIu64
	       " rtcp_ok=%" PRIu64 " rtcp_fail=%" PRIu64 " rx_other=%" PRIu64 " rx_foreign=%" PRIu64
	       " unknown_ssrc=%" PRIu64 " tx_fail=%" PRIu64 "\n",
	       jc_role_name[l->role], ice_name[pc->ice], pc->checks_sent, pc->checks_answered,
	       pc->stun_errors, pc->stun_bad, pc->consent_ok,
	       pc->dtls_failed ? "failed" : pc->dtls_connected ? "connected" : "none",
	       pc->dtls_server ? "server" : "client", pc->profile, l->webrtcup, pc->hangup, pc->rx_stun,
	       pc->rx_dtls, pc->rx_rtp, pc->rx_rtcp, pc->rtcp_ok, pc->rtcp_fail, pc->rx_other,
	       pc->rx_foreign, pc->unknown_ssrc, pc->tx_fail);
	if (pc->ice_done_ms != 0 && pc->dtls_done_ms != 0)
		printf("timing role=%s ice_ms=%" PRIu64 " dtls_ms=%" PRIu64 " setup_ms=%" PRIu64 "\n",
		       jc_role_name[l->role], pc->ice_done_ms - pc->ice_start_ms,
		       pc->dtls_done_ms - pc->dtls_start_ms, pc->dtls_done_ms - pc->ice_start_ms);
}

static void print_summary(struct jc_client *c)
{
	uint64_t legs = 0, ice = 0, conn = 0, ifail = 0, dfail = 0, sent[2] = {0, 0}, sent_bytes = 0;
	uint64_t streams = 0, rx_ok = 0, pk[2] = {0, 0}, by[2] = {0, 0}, ok = 0, dec_fail = 0;
	uint64_t bad = 0;
	int r, i;

	for (r = 0; r < JC_NROLE; r++) {
		const struct jc_leg *l = &c->leg[r];

		if (!l->used)
			continue;
		for (i = 0; i < l->n_streams; i++) {
			const struct jc_stream *s = &l->st[i];
			int v = strcmp(s->kind, "video") == 0;

			if (r == JC_PUB) {
				sent[v] += s->sent;
				sent_bytes += s->sent_bytes;
				continue;
			}
			streams++;
			pk[v] += s->rx.packets;
			by[v] += s->bytes;
			ok += s->rx.payload_ok;
			dec_fail += s->rx.auth_fail + s->rx.replay_fail + s->rx.other_fail;
			bad += s->rx.bad_payload + s->rx.wrong_producer + s->rx.pt_bad;
			rx_ok += s->rx.payload_ok > 0 && s->rx.payload_ok == s->rx.packets;
			fputs("stream kind=", stdout);
			pc_put_clean(s->kind, true);
			fputs(" feed=", stdout);
			pc_put_clean(s->feed, true);
			fputs(" mid=", stdout);
			pc_put_clean(s->mid, true);
			printf(" ssrc=%u pt=%u packets=%" PRIu64 " bytes=%" PRIu64 " decrypted=%" PRIu64
			       " payload_ok=%" PRIu64 " seq_gaps=%" PRIu64 " auth_fail=%" PRIu64
			       " replay_fail=%" PRIu64 " other_fail=%" PRIu64 " bad_payload=%" PRIu64
			       " wrong_producer=%" PRIu64 " pt_bad=%" PRIu64 " rtx=%" PRIu64 "\n",
			       s->ssrc, s->pt, s->rx.packets, s->bytes, s->rx.decrypted, s->rx.payload_ok,
			       s->rx.seq_gaps, s->rx.auth_fail, s->rx.replay_fail, s->rx.other_fail,
			       s->rx.bad_payload, s->rx.wrong_producer, s->rx.pt_bad, s->rtx);
		}
		legs++;
		ice += l->pc.ice_done_ms != 0;
		conn += l->pc.dtls_connected && !l->pc.dtls_failed;
		ifail += l->pc.ice == PC_ICE_FAILED;
		dfail += l->pc.dtls_failed;
		print_leg(l);
	}
	fputs("summary name=", stdout);
	pc_put_clean(c->o.name, true);
	printf(" room=%" PRIu64 " joined=%d legs=%" PRIu64 " ice_connected=%" PRIu64
	       " legs_connected=%" PRIu64 " ice_failed=%" PRIu64 " dtls_failed=%" PRIu64
	       " sent_audio=%" PRIu64 " sent_video=%" PRIu64 " sent_bytes=%" PRIu64
	       " streams=%" PRIu64 " received_ok=%" PRIu64 " audio_packets=%" PRIu64
	       " audio_bytes=%" PRIu64 " video_packets=%" PRIu64 " video_bytes=%" PRIu64
	       " packets_ok=%" PRIu64 " decrypt_failures=%" PRIu64 " bad_payload=%" PRIu64
	       " events=%" PRIu64 " timeout=%d",
	       c->o.room, c->joined, legs, ice, conn, ifail, dfail, sent[0], sent[1], sent_bytes,
	       streams, rx_ok, pk[0], by[0], pk[1], by[1], ok, dec_fail, bad, c->events,
	       c->timeout);
	if (c->o.subscribe)
		printf(" expect_publishers=%d publishers=%d expect_ok=%d", c->o.expect_publishers,
		       c->n_feeds, c->n_feeds == c->o.expect_publishers);
	putchar('\n');
	fflush(stdout);
}

/* ---- the WebSocket ---- */

static int ws_queue(struct jc_client *c, cJSON *msg)
{
	char *text = cJSON_PrintUnformatted(msg);
	int rc;

	cJSON_Delete(msg);
	if (text == NULL)
		return -ENOMEM;
	rc = cw_queue(&c->w, text);
	free(text);
	return rc;
}

/* Janus ids are integers up to 2^53 (JavaScript-safe): printed exactly, not as doubles. */
static void add_id(cJSON *o, const char *name, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	cJSON_AddItemToObject(o, name, cJSON_CreateRaw(buf));
}

static bool get_id(const cJSON *o, const char *name, uint64_t *v)
{
	int64_t x;

	if (!cj_int(o, name, 1, 9007199254740992.0, &x))
		return false;
	*v = (uint64_t)x;
	return true;
}

/* The end of a run that failed (error already printed): summary, exit 1. */
static void jc_abort(struct jc_client *c)
{
	if (c->phase == JC_DONE || c->phase == JC_LEAVING)
		return;
	print_summary(c);
	c->exit_code = 1;
	c->phase = JC_DONE;
}

static void jc_fail(struct jc_client *c, const char *req, const char *code, const char *msg)
{
	if (c->phase == JC_DONE || c->phase == JC_LEAVING)
		return;
	print_error(req, code, msg);
	if (strcmp(code, "TIMEOUT") == 0)
		c->timeout = true;
	jc_abort(c);
}

/* A request: {"janus": VERB, "transaction", session/handle ids, body, jsep}. */
static void jc_request(struct jc_client *c, enum jc_req req, enum jc_role role, const char *verb,
		       cJSON *body, const char *jsep_type, const char *sdp)
{
	cJSON *m = cJSON_CreateObject(), *j;
	char tid[24];
	int i;

	for (i = 0; i < JC_MAX_PENDING && c->pend[i].used; i++)
		;
	if (m == NULL || i == JC_MAX_PENDING) {
		cJSON_Delete(m);
		cJSON_Delete(body);
		jc_fail(c, jc_req_name[req], "CLIENT", "too many requests pending");
		return;
	}
	c->pend[i] = (struct jc_pending){.used = true, .req = req, .role = role,
					 .tid = ++c->next_tid,
					 .deadline_ms = jc_now_ms() + JC_REQ_TIMEOUT_MS};
	snprintf(tid, sizeof(tid), "t%" PRIu64, c->next_tid);
	cJSON_AddStringToObject(m, "janus", verb);
	cJSON_AddStringToObject(m, "transaction", tid);
	if (req != JC_R_CREATE)
		add_id(m, "session_id", c->session);
	if (c->leg[role].handle != 0 && req != JC_R_CREATE && req != JC_R_ATTACH &&
	    req != JC_R_KEEPALIVE && req != JC_R_DESTROY)
		add_id(m, "handle_id", c->leg[role].handle);
	if (body != NULL)
		cJSON_AddItemToObject(m, req == JC_R_TRICKLE ? "candidate" : "body", body);
	if (jsep_type != NULL) {
		j = cJSON_AddObjectToObject(m, "jsep");
		cJSON_AddStringToObject(j, "type", jsep_type);
		cJSON_AddStringToObject(j, "sdp", sdp);
	}
	if (req == JC_R_ATTACH)
		cJSON_AddStringToObject(m, "plugin", "janus.plugin.videoroom");
	if (ws_queue(c, m) != 0)
		jc_fail(c, jc_req_name[req], "CLIENT", "out of memory");
}

static cJSON *body_of(const char *request)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "request", request);
	return b;
}

/* ---- the legs' set-up ---- */

static void leg_trickle_done(struct jc_client *c, enum jc_role role)
{
	cJSON *cand = cJSON_CreateObject();

	cJSON_AddBoolToObject(cand, "completed", true);
	jc_request(c, JC_R_TRICKLE, role, "trickle", cand, NULL, NULL);
}

static struct jc_local leg_local(const struct jc_client *c, const struct jc_leg *l,
				 const char *setup)
{
	return (struct jc_local){.ufrag = l->pc.lufrag, .pwd = l->pc.lpwd,
				 .fp = dtls_cert_fingerprint(c->cert), .setup = setup,
				 .ip = c->o.bind_ip, .cname = c->o.name, .port = l->pc.lport};
}

/* Publisher: our streams, then join the room. */
static void pub_begin(struct jc_client *c)
{
	struct jc_leg *l = &c->leg[JC_PUB];
	cJSON *b = body_of("join");
	int i;

	l->n_streams = c->o.video ? 2 : 1;
	for (i = 0; i < l->n_streams; i++) {
		struct jc_stream *s = &l->st[i];

		snprintf(s->kind, sizeof(s->kind), "%s", i == 0 ? "audio" : "video");
		snprintf(s->mid, sizeof(s->mid), "%d", i);
		snprintf(s->feed, sizeof(s->feed), "%s", c->o.name);
		s->pt = i == 0 ? JC_AUDIO_PT : JC_VIDEO_PT;
		s->tag = cm_tag(c->o.name, s->kind);
		do
			jc_random(&s->ssrc, sizeof(s->ssrc));
		while (s->ssrc == 0 || (i == 1 && s->ssrc == l->st[0].ssrc));
		jc_random(&s->seq, sizeof(s->seq));
		jc_random(&s->ts, sizeof(s->ts));
	}
	add_id(b, "room", c->o.room);
	cJSON_AddStringToObject(b, "ptype", "publisher");
	cJSON_AddStringToObject(b, "display", c->o.name);
	jc_request(c, JC_R_PUB_JOIN, JC_PUB, "message", b, NULL, NULL);
}

/* Joined as a publisher: publish with our offer (sendonly audio + video, BUNDLE). */
static void pub_publish(struct jc_client *c)
{
	struct jc_leg *l = &c->leg[JC_PUB];
	struct jc_offer_media md[2];
	struct jc_local loc = leg_local(c, l, "actpass");
	static char sdp[JC_SDP_MAX];
	uint64_t sess;
	cJSON *b;
	int i;

	for (i = 0; i < l->n_streams; i++)
		md[i] = (struct jc_offer_media){.kind = l->st[i].kind, .mid = l->st[i].mid,
						.pt = l->st[i].pt, .ssrc = l->st[i].ssrc,
						.mid_ext = JC_MID_EXT_ID};
	jc_random(&sess, sizeof(sess));
	if (jc_sdp_write_offer(sdp, sizeof(sdp), sess >> 2, &loc, md, l->n_streams) < 0) {
		jc_fail(c, "publish", "CLIENT", "offer too large");
		return;
	}
	b = body_of("publish");
	cJSON_AddBoolToObject(b, "audio", true);
	cJSON_AddBoolToObject(b, "video", c->o.video);
	jc_request(c, JC_R_PUBLISH, JC_PUB, "message", b, "offer", sdp);
}

/* Janus's answer to our offer: accepted streams, the mid extension, then ICE. */
static void pub_answer(struct jc_client *c, const char *sdp)
{
	struct jc_leg *l = &c->leg[JC_PUB];
	static struct jc_sdp s;
	const char *why = NULL;
	int i, j;

	if (jc_sdp_parse(sdp, &s) != 0 || leg_set_remote(l, &s, true, &why) != 0) {
		jc_fail(c, "publish", "BAD_SDP", why != NULL ? why : "no m-section in the answer");
		return;
	}
	for (i = 0; i < l->n_streams; i++) {
		struct jc_stream *st = &l->st[i];

		for (j = 0; j < s.n_m && strcmp(s.m[j].mid, st->mid) != 0; j++)
			;
		if (j == s.n_m || s.m[j].port == 0 || s.m[j].pt != st->pt) {
			jc_fail(c, "publish", "BAD_SDP", "Janus rejected or changed one of our streams");
			return;
		}
		st->mid_ext = (uint8_t)s.m[j].mid_ext;
	}
	pc_start_ice(&l->pc, jc_now_ms());
	leg_trickle_done(c, JC_PUB);
}

/* Subscriber: ask who publishes (a synchronous request, repeated until enough do). */
static void sub_list(struct jc_client *c)
{
	cJSON *b = body_of("listparticipants");

	add_id(b, "room", c->o.room);
	c->next_list_ms = 0;
	jc_request(c, JC_R_LIST, JC_SUB, "message", b, NULL, NULL);
}

static void sub_join(struct jc_client *c)
{
	cJSON *b = body_of("join"), *arr;
	int i;

	add_id(b, "room", c->o.room);
	cJSON_AddStringToObject(b, "ptype", "subscriber");
	arr = cJSON_AddArrayToObject(b, "streams");
	for (i = 0; i < c->n_feeds; i++) {
		cJSON *f = cJSON_CreateObject();

		add_id(f, "feed", c->feeds[i].id);
		cJSON_AddItemToArray(arr, f);
	}
	jc_request(c, JC_R_SUB_JOIN, JC_SUB, "message", b, NULL, NULL);
}

/* The participants list: keep the other publishers; join once the expected number is there. */
static void sub_on_list(struct jc_client *c, const cJSON *data)
{
	const cJSON *p;
	uint64_t now = jc_now_ms();

	c->n_feeds = 0;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(data, "participants")) {
		struct jc_feed *f = &c->feeds[c->n_feeds];
		const char *d = cj_str(p, "display");

		if (!cj_true(p, "publisher") || !get_id(p, "id", &f->id) ||
		    (c->pub_id != 0 && f->id == c->pub_id) || c->n_feeds == JC_MAX_FEEDS)
			continue;
		snprintf(f->display, sizeof(f->display), "%s", d != NULL ? d : "");
		c->n_feeds++;
	}
	if (c->n_feeds >= c->o.expect_publishers && c->n_feeds > 0) {
		sub_join(c);
		return;
	}
	if (now >= c->list_until_ms) {
		char msg[96];

		snprintf(msg, sizeof(msg), "%d publishers in the room after 15 s, expected %d",
			 c->n_feeds, c->o.expect_publishers);
		jc_fail(c, "listparticipants", "NO_PUBLISHERS", msg);
		return;
	}
	c->next_list_ms = now + JC_LIST_EVERY_MS;
}

/* "attached": Janus's offer and the streams it carries; answer it with "start". */
static void sub_offer(struct jc_client *c, const cJSON *data, const char *sdp)
{
	struct jc_leg *l = &c->leg[JC_SUB];
	static struct jc_sdp s;
	static char ans[JC_SDP_MAX];
	struct jc_local loc = leg_local(c, l, "active");
	const char *why = NULL;
	const cJSON *st;
	uint64_t sess;
	int i, n;

	if (jc_sdp_parse(sdp, &s) != 0 || leg_set_remote(l, &s, false, &why) != 0) {
		jc_fail(c, "join", "BAD_SDP", why != NULL ? why : "no m-section in the offer");
		return;
	}
	l->n_streams = 0;
	for (i = 0; i < s.n_m && l->n_streams < JC_MAX_STREAMS; i++) {
		const struct jc_sdp_m *m = &s.m[i];
		struct jc_stream *x = &l->st[l->n_streams];

		if (!jc_sdp_accepts(m) || m->ssrc == 0)
			continue;
		memset(x, 0, sizeof(*x));
		snprintf(x->kind, sizeof(x->kind), "%s", m->kind);
		snprintf(x->mid, sizeof(x->mid), "%s", m->mid);
		x->pt = (uint8_t)m->pt;
		x->ssrc = m->ssrc;
		x->rtx_ssrc = m->rtx_ssrc;
		/* The publisher of this mid: "streams" of the attached event. */
		cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(data, "streams")) {
			const char *mid = cj_str(st, "mid"), *d = cj_str(st, "feed_display");

			if (mid != NULL && strcmp(mid, m->mid) == 0 && d != NULL)
				snprintf(x->feed, sizeof(x->feed), "%s", d);
		}
		x->tag = cm_tag(x->feed, x->kind);
		l->n_streams++;
	}
	jc_random(&sess, sizeof(sess));
	n = jc_sdp_write_answer(ans, sizeof(ans), sess >> 2, &loc, &s);
	if (n < 0 || l->n_streams == 0) {
		jc_fail(c, "start", "BAD_SDP",
			n == -ENOSPC ? "answer too large" : "no audio/video stream we can receive");
		return;
	}
	jc_request(c, JC_R_START, JC_SUB, "message", body_of("start"), "answer", ans);
	pc_start_ice(&l->pc, jc_now_ms());
	leg_trickle_done(c, JC_SUB);
}

/* A plugin handle exists: the role begins. */
static void leg_attached(struct jc_client *c, enum jc_role role)
{
	struct lws_vhost *vh = lws_get_vhost_by_name(c->w.ctx, "default");
	struct jc_leg *l = &c->leg[role];
	int rc = pc_open(&l->pc, vh, "jc-udp", 4);

	if (rc != 0) {
		jc_fail(c, "attach", "CLIENT", "cannot open the UDP socket");
		return;
	}
	if (role == JC_PUB) {
		pub_begin(c);
	} else if (!c->o.publish || c->pub_id != 0) {
		/* Both roles: the list waits for our publisher id, to leave ourselves out. */
		c->list_until_ms = jc_now_ms() + JC_WAIT_PUBLISHERS_MS;
		sub_list(c);
	}
}

static void on_joined(struct jc_client *c)
{
	if (c->joined)
		return;
	c->joined = true;
	c->join_ms = jc_now_ms();
	c->end_ms = c->join_ms + c->o.duration_ms;
	c->deadline_ms = c->end_ms + JC_SLACK_MS;
}

/* ---- Janus's messages ---- */

static struct jc_pending *pending_of(struct jc_client *c, const cJSON *msg)
{
	const char *t = cj_str(msg, "transaction");
	uint64_t tid;
	char *end;
	int i;

	if (t == NULL || t[0] != 't')
		return NULL;
	tid = strtoull(t + 1, &end, 10);
	if (*end != '\0')
		return NULL;
	for (i = 0; i < JC_MAX_PENDING; i++)
		if (c->pend[i].used && c->pend[i].tid == tid)
			return &c->pend[i];
	return NULL;
}

/* The plugin's answer (plugindata.data) to one of our requests; jsep may be NULL. */
static void on_plugin_reply(struct jc_client *c, struct jc_pending *pd, const cJSON *data,
			    const cJSON *jsep)
{
	const char *what = cj_str(data, "videoroom"), *sdp = cj_str(jsep, "sdp");
	const char *err = cj_str(data, "error");
	int64_t code;
	char codes[24];

	if (err != NULL || cj_int(data, "error_code", 0, 1e9, &code)) {
		if (!cj_int(data, "error_code", 0, 1e9, &code))
			code = 0;
		snprintf(codes, sizeof(codes), "%" PRId64, code);
		jc_fail(c, jc_req_name[pd->req], codes, err != NULL ? err : "plugin error");
		return;
	}
	switch (pd->req) {
	case JC_R_PUB_JOIN:
		if (what == NULL || strcmp(what, "joined") != 0 || !get_id(data, "id", &c->pub_id)) {
			jc_fail(c, "join", "BAD_REPLY", "no joined event with our id");
			return;
		}
		on_joined(c);
		info(c, "joined room %" PRIu64 " as publisher %" PRIu64, c->o.room, c->pub_id);
		pub_publish(c);
		if (c->o.subscribe && c->leg[JC_SUB].handle != 0) {
			c->list_until_ms = jc_now_ms() + JC_WAIT_PUBLISHERS_MS;
			sub_list(c);
		}
		break;
	case JC_R_PUBLISH:
		if (sdp == NULL || strcmp(cj_str(jsep, "type") ? cj_str(jsep, "type") : "", "answer")) {
			jc_fail(c, "publish", "BAD_REPLY", "no JSEP answer");
			return;
		}
		pub_answer(c, sdp);
		break;
	case JC_R_LIST:
		sub_on_list(c, data);
		break;
	case JC_R_SUB_JOIN:
		if (what == NULL || strcmp(what, "attached") != 0 || sdp == NULL) {
			jc_fail(c, "join", "BAD_REPLY", "no attached event with an offer");
			return;
		}
		on_joined(c);
		info(c, "subscribed to %d publishers", c->n_feeds);
		sub_offer(c, data, sdp);
		break;
	case JC_R_START:
		break;
	default:
		break;
	}
}

/* Events about a handle without a transaction: webrtcup, media, hangup, ... */
static void on_handle_event(struct jc_client *c, const char *verb, const cJSON *msg)
{
	uint64_t sender = 0;
	int r;

	c->events++;
	get_id(msg, "sender", &sender);
	for (r = 0; r < JC_NROLE; r++) {
		struct jc_leg *l = &c->leg[r];

		if (!l->used || l->handle != sender)
			continue;
		if (strcmp(verb, "webrtcup") == 0) {
			l->webrtcup = true;
		} else if (strcmp(verb, "hangup") == 0 || strcmp(verb, "detached") == 0) {
			l->pc.hangup = true;
			if (c->phase == JC_SETUP)
				pc_info(&l->pc, "Janus hung up: %s",
					cj_str(msg, "reason") ? cj_str(msg, "reason") : verb);
		}
	}
}

static void on_message(struct jc_client *c, const char *text, size_t len)
{
	cJSON *msg = cJSON_ParseWithLength(text, len);
	const char *verb = cj_str(msg, "janus");
	struct jc_pending *pd;
	const cJSON *pdata, *err;

	if (verb == NULL) {
		cJSON_Delete(msg);
		jc_fail(c, "-", "BAD_FRAME", "not a Janus message");
		return;
	}
	pd = pending_of(c, msg);
	pdata = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(msg, "plugindata"), "data");
	if (strcmp(verb, "ack") == 0) {
		/* Trickles and keepalives end with their ack; messages await their event. */
		if (pd != NULL && (pd->req == JC_R_TRICKLE || pd->req == JC_R_KEEPALIVE))
			pd->used = false;
	} else if (strcmp(verb, "error") == 0) {
		char code[24];
		int64_t n = 0;

		err = cJSON_GetObjectItemCaseSensitive(msg, "error");
		cj_int(err, "code", 0, 1e9, &n);
		snprintf(code, sizeof(code), "%" PRId64, n);
		if (c->phase == JC_LEAVING)
			c->phase = JC_DONE;
		else
			jc_fail(c, pd != NULL ? jc_req_name[pd->req] : "-", code,
				cj_str(err, "reason") ? cj_str(err, "reason") : "error");
		if (pd != NULL)
			pd->used = false;
	} else if (pd != NULL && strcmp(verb, "success") == 0) {
		const cJSON *data = cJSON_GetObjectItemCaseSensitive(msg, "data");

		pd->used = false;
		if (pd->req == JC_R_CREATE) {
			if (!get_id(data, "id", &c->session)) {
				jc_fail(c, "create", "BAD_REPLY", "no session id");
			} else {
				c->next_keepalive_ms = jc_now_ms() + JC_KEEPALIVE_MS;
				if (c->leg[JC_PUB].used)
					jc_request(c, JC_R_ATTACH, JC_PUB, "attach", NULL, NULL, NULL);
				if (c->leg[JC_SUB].used)
					jc_request(c, JC_R_ATTACH, JC_SUB, "attach", NULL, NULL, NULL);
			}
		} else if (pd->req == JC_R_ATTACH) {
			if (!get_id(data, "id", &c->leg[pd->role].handle))
				jc_fail(c, "attach", "BAD_REPLY", "no handle id");
			else
				leg_attached(c, pd->role);
		} else if (pd->req == JC_R_DESTROY) {
			c->phase = JC_DONE;
		} else if (pdata != NULL) {
			on_plugin_reply(c, pd, pdata, NULL);
		}
	} else if (pd != NULL && strcmp(verb, "event") == 0) {
		pd->used = false;
		on_plugin_reply(c, pd, pdata, cJSON_GetObjectItemCaseSensitive(msg, "jsep"));
	} else if (strcmp(verb, "timeout") == 0) {
		jc_fail(c, "-", "SESSION_TIMEOUT", "Janus timed the session out");
	} else {
		on_handle_event(c, verb, msg);
	}
	cJSON_Delete(msg);
}

/* The WebSocket's events (tests/tools/sfu-client-ws.h). */
static void ws_on_established(struct cw_conn *w)
{
	struct jc_client *c = lws_container_of(w, struct jc_client, w);

	c->ws_up_ms = jc_now_ms();
	c->phase = JC_SETUP;
	info(c, "connected in %" PRIu64 " ms", c->ws_up_ms - c->t0);
	jc_request(c, JC_R_CREATE, JC_PUB, "create", NULL, NULL, NULL);
}

static void ws_on_message(struct cw_conn *w, const char *text, size_t len)
{
	on_message(lws_container_of(w, struct jc_client, w), text, len);
}

static void ws_on_closed(struct cw_conn *w)
{
	struct jc_client *c = lws_container_of(w, struct jc_client, w);

	if (c->phase == JC_LEAVING)
		c->phase = JC_DONE;
	else
		jc_fail(c, "-", "CLOSED", "Janus closed the WebSocket");
}

static void ws_on_fail(struct cw_conn *w, const char *req, const char *code, const char *msg)
{
	jc_fail(lws_container_of(w, struct jc_client, w), req, code, msg);
}

static const struct cw_ops jc_ws_ops = {
	.protocol = "janus-protocol", .max_msg = JC_MAX_MSG, .too_large = "a message over 1 MiB",
	.established = ws_on_established, .message = ws_on_message, .closed = ws_on_closed,
	.fail = ws_on_fail,
};

static const struct lws_protocols jc_protocols[] = {
	{"janus-protocol", cw_callback, 0, 65536, 0, NULL, 0},
	{"jc-udp", pc_udp_callback, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

/* The normal end: summary, then destroy the session (its reply or 1 s ends the run). */
static void jc_finish(struct jc_client *c)
{
	if (c->phase == JC_LEAVING || c->phase == JC_DONE)
		return;
	print_summary(c);
	if (!c->w.up || c->session == 0) {
		c->phase = JC_DONE;
		return;
	}
	c->phase = JC_LEAVING;
	c->leave_deadline_ms = jc_now_ms() + JC_LEAVE_WAIT_MS;
	jc_request(c, JC_R_DESTROY, JC_PUB, "destroy", NULL, NULL, NULL);
}

/* Whether every leg asked for reached a verdict (connected or failed). */
static bool legs_failed(const struct jc_client *c)
{
	int r;

	for (r = 0; r < JC_NROLE; r++)
		if (c->leg[r].used && (c->leg[r].pc.ice == PC_ICE_FAILED || c->leg[r].pc.dtls_failed))
			return true;
	return false;
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct jc_client *c = lws_container_of(sul, struct jc_client, tick);
	uint64_t now = jc_now_ms();
	int i;

	if (c->phase == JC_LEAVING && now >= c->leave_deadline_ms)
		c->phase = JC_DONE;
	else if (c->phase != JC_LEAVING && now >= c->deadline_ms)
		jc_fail(c, "-", "TIMEOUT", "the run did not finish in duration + 20 s");
	for (i = 0; i < JC_MAX_PENDING; i++)
		if (c->pend[i].used && now >= c->pend[i].deadline_ms && c->pend[i].req != JC_R_DESTROY)
			jc_fail(c, jc_req_name[c->pend[i].req], "TIMEOUT", "no reply in 10 s");
	if (c->phase == JC_DONE)
		return;
	if (c->phase == JC_SETUP) {
		if (c->next_list_ms != 0 && now >= c->next_list_ms)
			sub_list(c);
		if (c->session != 0 && now >= c->next_keepalive_ms) {
			c->next_keepalive_ms = now + JC_KEEPALIVE_MS;
			jc_request(c, JC_R_KEEPALIVE, JC_PUB, "keepalive", NULL, NULL, NULL);
		}
		for (i = 0; i < JC_NROLE; i++)
			leg_tick(&c->leg[i], now);
		if (legs_failed(c)) {
			jc_fail(c, "-", "TRANSPORT", "ICE or DTLS failed");
		} else if (stop_requested || (c->joined && now >= c->end_ms)) {
			jc_finish(c);
		}
	} else if (stop_requested && c->phase == JC_CONNECTING) {
		jc_fail(c, "-", "INTERRUPTED", "stopped by a signal before connecting");
	}
	lws_sul_schedule(c->w.ctx, 0, &c->tick, on_tick, JC_TICK_MS * LWS_US_PER_MS);
}

/* ---- command line ---- */

static void __attribute__((noreturn)) usage_error(const char *fmt, const char *arg)
{
	fputs("sfu-janus-client: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n\n", stderr);
	fputs(usage_text, stderr);
	exit(2);
}

static unsigned long opt_num(const char *msg, const char *arg, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' || v > max)
		usage_error(msg, arg);
	return v;
}

static void parse_opts(struct jc_opts *o, int argc, char **argv)
{
	static const struct option lopts[] = {
		{"url", 1, NULL, 'u'}, {"room", 1, NULL, 'r'}, {"name", 1, NULL, 'n'},
		{"publish", 0, NULL, 'p'}, {"subscribe", 0, NULL, 's'},
		{"video-kbps", 1, NULL, 'k'}, {"no-video", 0, NULL, 'V'},
		{"duration", 1, NULL, 'd'}, {"expect-publishers", 1, NULL, 'e'},
		{"bind-ip", 1, NULL, 'b'}, {"quiet", 0, NULL, 'q'}, {"help", 0, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct in_addr ia;
	char *end;
	double d;
	int ch;

	memset(o, 0, sizeof(*o));
	o->video = true;
	o->video_kbps = 2000;
	o->duration_ms = 10000;
	o->expect_publishers = 1;
	while ((ch = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			if (strlen(optarg) >= sizeof(o->url) || strncmp(optarg, "ws://", 5) != 0)
				usage_error("--url: '%s' is not ws://HOST:PORT/...", optarg);
			strcpy(o->url, optarg);
			break;
		case 'r':
			o->room = opt_num("--room: '%s' is not a room number (1..2^53)", optarg,
					  9007199254740991ul);
			if (o->room == 0)
				usage_error("--room: '%s' is not a room number (1..2^53)", optarg);
			break;
		case 'n':
			if (optarg[0] == '\0' || strlen(optarg) >= 64)
				usage_error("--name: '%s' is not 1..63 characters", optarg);
			o->name = optarg;
			break;
		case 'p': o->publish = true; break;
		case 's': o->subscribe = true; break;
		case 'k':
			o->video_kbps = (uint32_t)opt_num("--video-kbps: '%s' is not 0..100000", optarg,
							  100000);
			break;
		case 'V': o->video = false; break;
		case 'd':
			errno = 0;
			d = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || !(d > 0) || d > 3600)
				usage_error("--duration: '%s' is not 0..3600 seconds", optarg);
			o->duration_ms = (uint32_t)llround(d * 1000.0);
			break;
		case 'e':
			o->expect_publishers = (int)opt_num("--expect-publishers: '%s' is not 1..32",
							    optarg, JC_MAX_FEEDS);
			if (o->expect_publishers == 0)
				usage_error("--expect-publishers: '%s' is not 1..32", optarg);
			break;
		case 'b':
			if (inet_pton(AF_INET, optarg, &ia) != 1 || ia.s_addr == 0)
				usage_error("--bind-ip: '%s' is not a usable IPv4 address", optarg);
			o->bind_ip = optarg;
			break;
		case 'q': o->quiet = true; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: usage_error("%s", "unknown option");
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (o->url[0] == '\0' || o->room == 0 || o->name == NULL || o->bind_ip == NULL)
		usage_error("%s", "--url, --room, --name and --bind-ip are required");
	if (!o->publish && !o->subscribe)
		usage_error("%s", "--publish and/or --subscribe");
}

/*
 * The TSC rate against CLOCK_MONOTONIC_RAW over 200 ms (an invariant TSC, as
 * DPDK's rte_get_tsc_hz() assumes on x86): the data plane counts busy time in
 * TSC cycles and sfu-dpctl does not print its tsc_hz.
 */
static int print_tsc_hz(void)
{
	struct timespec a, b, pause = {.tv_sec = 0, .tv_nsec = 200000000};
	uint64_t t0, t1;
	double ns;

	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	t0 = __rdtsc();
	nanosleep(&pause, NULL);
	clock_gettime(CLOCK_MONOTONIC_RAW, &b);
	t1 = __rdtsc();
	ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
	if (ns <= 0 || t1 <= t0)
		return 1;
	printf("tsc_hz=%.0f\n", (double)(t1 - t0) * 1e9 / ns);
	return 0;
}

static void jc_cleanup(struct jc_client *c)
{
	int r;

	cw_free(&c->w);
	for (r = 0; r < JC_NROLE; r++)
		pc_free(&c->leg[r].pc);
	dtls_cert_free(c->cert);
	srtp_shutdown();
}

int main(int argc, char **argv)
{
	static struct jc_client c; /* large: not on the stack */
	struct sigaction sa;
	int r, rc;

	if (argc == 2 && strcmp(argv[1], "--tsc-hz") == 0)
		return print_tsc_hz();
	parse_opts(&c.o, argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	cm_video_plan_for(c.o.video_kbps, &c.video);
	if (srtp_init() != srtp_err_status_ok) {
		fputs("sfu-janus-client: srtp_init failed\n", stderr);
		return 1;
	}
	c.cert = dtls_cert_new();
	if (c.cert == NULL) {
		fputs("sfu-janus-client: cannot create the DTLS certificate\n", stderr);
		jc_cleanup(&c);
		return 1;
	}
	for (r = 0; r < JC_NROLE; r++)
		leg_init(&c.leg[r], (enum jc_role)r, r == JC_PUB ? c.o.publish : c.o.subscribe,
			 c.o.name, c.o.quiet, c.cert, &c.video, c.o.bind_ip);
	lws_set_log_level(LLL_ERR, NULL);
	c.w.ops = &jc_ws_ops;
	if (cw_context(&c.w, jc_protocols, false, false) != 0) {
		fputs("sfu-janus-client: lws_create_context failed\n", stderr);
		jc_cleanup(&c);
		return 1;
	}
	c.t0 = jc_now_ms();
	/* Until joined, the set-up has the slack alone. */
	c.deadline_ms = c.t0 + JC_SLACK_MS;
	rc = cw_connect(&c.w, c.o.url, false);
	if (rc != 0)
		jc_fail(&c, "connect", "CONNECT", rc == -EINVAL ? "bad --url" : "connection refused");
	lws_sul_schedule(c.w.ctx, 0, &c.tick, on_tick, JC_TICK_MS * LWS_US_PER_MS);
	while (c.phase != JC_DONE && lws_service(c.w.ctx, 0) >= 0)
		;
	rc = c.exit_code;
	jc_cleanup(&c);
	return rc;
}
