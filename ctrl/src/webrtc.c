/*
 * webrtc.c — WebRTC transports: ICE-lite (ice.c) and DTLS-SRTP (dtls.c)
 * glued to a data plane transport.
 *
 * Life of a transport: createWebRtcTransport adds a WEBRTC transport in the
 * data plane (on the worker of the peer's room) and fresh ICE credentials.
 * STUN checks arrive as PACKET_IN (with transport 0 before binding: found by
 * the USERNAME's ufrag); the nominated pair (USE-CANDIDATE) binds the 5-tuple
 * in the data plane (RFC 8445 7.3.1.5, ICE-lite), so from then on DTLS and
 * media are tagged with the transport.  connectWebRtcTransport gives the
 * browser's fingerprint and role; the handshake runs over PACKET_IN /
 * PACKET_OUT; when it completes, the RFC 5764 keys go to the data plane and
 * media flows.  A transport whose browser stops checking for 30 s (RFC 7675
 * consent) or whose handshake fails is closed and its peer told.
 *
 * Threading: ctrl's event loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl.h"
#include "sfu_attach.h"
#include "sfu_rtp.h"
#include "stun.h"

#define DTLS_BUF 2048

static struct ctrl_transport *by_dp_id(uint32_t id)
{
	for (struct ctrl_transport *t = ctrl.transports; t; t = t->next_all)
		if (t->dp_id == id)
			return t;
	return NULL;
}

static struct ctrl_transport *by_ufrag(const char *frag, int len)
{
	for (struct ctrl_transport *t = ctrl.transports; t; t = t->next_all)
		if ((int)strlen(t->ice.ufrag) == len && memcmp(t->ice.ufrag, frag, (size_t)len) == 0)
			return t;
	return NULL;
}

static struct ctrl_transport *by_tuple(const struct sfu_5tuple *tu)
{
	for (struct ctrl_transport *t = ctrl.transports; t; t = t->next_all)
		if (t->ice.nominated && t->ice.selected.remote_ip == tu->remote_ip &&
		    t->ice.selected.remote_port == tu->remote_port &&
		    t->ice.selected.local_port == tu->local_port)
			return t;
	return NULL;
}

struct ctrl_transport *webrtc_transport_new(struct ctrl_peer *peer, enum ctrl_direction dir,
					    int *err)
{
	struct ctrl_transport *t = calloc(1, sizeof(*t));
	struct sfu_msg *m;

	if (t == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	if (ice_lite_init(&t->ice) < 0) {
		*err = -EIO;
		free(t);
		return NULL;
	}
	t->ice.consent_ms = ctrl.cfg.ice_consent_ms;
	m = dpc_msg(SFU_MSG_TRANSPORT_ADD);
	if (m != NULL) {
		m->u.transport_add.room = peer->room->dp_room;
		m->u.transport_add.kind = SFU_TRANSPORT_WEBRTC;
	}
	*err = dpc_call(m, &t->dp_id);
	if (*err < 0) {
		free(t);
		return NULL;
	}
	ctrl_make_id(t->id, "t");
	t->peer = peer;
	t->dir = dir;
	t->created_ms = ctrl_now_ms();
	t->next_all = ctrl.transports;
	ctrl.transports = t;
	return t;
}

cJSON *webrtc_transport_json(const struct ctrl_transport *t)
{
	uint32_t ip = ctrl.cfg.announced_ip ? ctrl.cfg.announced_ip : ctrl.sh->announced_ip;
	cJSON *o = cJSON_CreateObject(), *ice, *cands, *c, *dtls, *fps, *fp;
	char addr[16];

	snprintf(addr, sizeof(addr), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
		 ip & 255);
	cJSON_AddStringToObject(o, "id", t->id);
	ice = cJSON_AddObjectToObject(o, "iceParameters");
	cJSON_AddStringToObject(ice, "usernameFragment", t->ice.ufrag);
	cJSON_AddStringToObject(ice, "password", t->ice.pwd);
	cJSON_AddBoolToObject(ice, "iceLite", true);
	cands = cJSON_AddArrayToObject(o, "iceCandidates");
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "foundation", "udpcandidate");
	/* RFC 8445 5.1.2.1: type preference 126 (host), local preference 65535. */
	cJSON_AddNumberToObject(c, "priority", (126u << 24) | (65535u << 8) | 255u);
	cJSON_AddStringToObject(c, "ip", addr);
	cJSON_AddStringToObject(c, "address", addr);
	cJSON_AddStringToObject(c, "protocol", "udp");
	cJSON_AddNumberToObject(c, "port", ctrl.sh->rtc_min_port);
	cJSON_AddStringToObject(c, "type", "host");
	cJSON_AddItemToArray(cands, c);
	dtls = cJSON_AddObjectToObject(o, "dtlsParameters");
	cJSON_AddStringToObject(dtls, "role", "auto");
	fps = cJSON_AddArrayToObject(dtls, "fingerprints");
	fp = cJSON_CreateObject();
	cJSON_AddStringToObject(fp, "algorithm", "sha-256");
	cJSON_AddStringToObject(fp, "value", dtls_cert_fingerprint(ctrl.cert));
	cJSON_AddItemToArray(fps, fp);
	return o;
}

/* Send whatever DTLS wants to send, to the nominated pair. */
static void flush_dtls(struct ctrl_transport *t)
{
	uint8_t buf[DTLS_BUF];
	size_t n;

	while (t->dtls != NULL && (n = dtls_output(t->dtls, buf, sizeof(buf))) > 0)
		dpc_packet_out(t->bound ? t->dp_id : 0, &t->ice.selected, buf, n);
}

/* After any DTLS progress: keys to the data plane, or teardown on failure. */
static void check_dtls(struct ctrl_transport *t)
{
	enum dtls_state st;

	if (t->dtls == NULL || t->closed)
		return;
	st = dtls_state(t->dtls);
	if (st == DTLS_CONNECTED && !t->keys_installed) {
		struct sfu_msg *m = dpc_msg(SFU_MSG_TRANSPORT_KEYS);
		uint16_t profile;
		size_t klen;

		if (m == NULL || dtls_srtp_keys(t->dtls, &profile, m->u.transport_keys.rx_key,
						m->u.transport_keys.tx_key, &klen) < 0) {
			sfu_msg_free(m);
			webrtc_transport_close(t, "dtls", true);
			return;
		}
		m->u.transport_keys.id = t->dp_id;
		m->u.transport_keys.profile = profile;
		if (dpc_call(m, NULL) < 0) {
			webrtc_transport_close(t, "dataplane", true);
			return;
		}
		t->keys_installed = true;
		t->connected_ms = ctrl_now_ms();
		ctrl.transports_connected++;
	} else if (st == DTLS_FAILED || st == DTLS_CLOSED) {
		if (st == DTLS_FAILED) {
			ctrl.dtls_failed++;
			fprintf(stderr, "sfu-ctrl: transport %s: DTLS failed: %s\n", t->id,
				dtls_error(t->dtls));
		}
		webrtc_transport_close(t, "dtls", true);
	}
}

static void start_dtls(struct ctrl_transport *t)
{
	if (t->dtls == NULL || !t->ice.nominated || dtls_state(t->dtls) != DTLS_NEW)
		return;
	dtls_start(t->dtls, ctrl_now_ms());
	flush_dtls(t);
}

int webrtc_transport_connect(struct ctrl_transport *t, const char *role, const char *fp_alg,
			     const char *fp)
{
	if (t->connect_requested)
		return -EALREADY;
	/* The browser's role decides ours; "auto" from a browser means it will be
	 * the client (it is the controlling ICE agent and RFC 5763 5 active). */
	if (strcmp(role, "server") == 0)
		t->dtls_role = DTLS_ROLE_CLIENT;
	else if (strcmp(role, "client") == 0 || strcmp(role, "auto") == 0)
		t->dtls_role = DTLS_ROLE_SERVER;
	else
		return -EINVAL;
	t->dtls = dtls_endpoint_new(ctrl.cert, t->dtls_role, fp_alg, fp);
	if (t->dtls == NULL)
		return -EINVAL;
	snprintf(t->remote_fp, sizeof(t->remote_fp), "%s", fp);
	t->connect_requested = true;
	start_dtls(t);
	return 0;
}

int webrtc_transport_restart_ice(struct ctrl_transport *t)
{
	return ice_lite_restart(&t->ice);
}

/* Nominated: bind the pair in the data plane (a new pair replaces the old). */
static void bind_pair(struct ctrl_transport *t)
{
	struct sfu_msg *m = dpc_msg(SFU_MSG_TRANSPORT_BIND);

	if (m == NULL)
		return;
	m->u.transport_bind.id = t->dp_id;
	m->u.transport_bind.tuple = t->ice.selected;
	if (dpc_call(m, NULL) == 0)
		t->bound = true;
	start_dtls(t);
}

static void on_stun(const struct sfu_msg_packet *pkt)
{
	struct ctrl_transport *t = pkt->transport ? by_dp_id(pkt->transport) : NULL;
	uint8_t out[STUN_MSG_MAX];
	size_t out_len = 0;
	enum ice_verdict v;

	ctrl.stun_in++;
	if (t == NULL) {
		struct stun_msg sm;
		const char *frag;
		int flen;

		if (stun_parse(pkt->data, pkt->len, &sm) < 0 ||
		    (flen = stun_username_local(&sm, &frag)) < 0 ||
		    (t = by_ufrag(frag, flen)) == NULL) {
			ctrl.stun_unknown++;
			return;
		}
	}
	if (t->closed)
		return;
	v = ice_lite_input(&t->ice, pkt->data, pkt->len, &pkt->tuple, ctrl_now_ms(), out,
			   sizeof(out), &out_len);
	if (v == ICE_DROP)
		return;
	dpc_packet_out(0, &pkt->tuple, out, out_len);
	if (v == ICE_REPLY_NOMINATED)
		bind_pair(t);
}

static void on_dtls(const struct sfu_msg_packet *pkt)
{
	struct ctrl_transport *t = pkt->transport ? by_dp_id(pkt->transport) : by_tuple(&pkt->tuple);

	ctrl.dtls_in++;
	if (t == NULL || t->closed || t->dtls == NULL)
		return;
	if (dtls_state(t->dtls) == DTLS_NEW)
		start_dtls(t);
	dtls_input(t->dtls, pkt->data, pkt->len, ctrl_now_ms());
	flush_dtls(t);
	check_dtls(t);
}

void webrtc_on_packet(const struct sfu_msg_packet *pkt)
{
	switch (sfu_pkt_classify(pkt->data, pkt->len)) {
	case SFU_PKT_STUN:
		on_stun(pkt);
		break;
	case SFU_PKT_DTLS:
		on_dtls(pkt);
		break;
	default:
		break;
	}
}

void webrtc_tick(uint64_t now_ms)
{
	struct ctrl_transport *t, *next;

	for (t = ctrl.transports; t; t = next) {
		next = t->next_all;
		if (t->closed)
			continue;
		if (ice_lite_expired(&t->ice, now_ms)) {
			ctrl.ice_consent_expired++;
			webrtc_transport_close(t, "ice-consent", true);
			continue;
		}
		if (t->dtls != NULL && dtls_state(t->dtls) == DTLS_CONNECTING &&
		    dtls_timeout_ms(t->dtls, now_ms) == 0) {
			dtls_on_timer(t->dtls, now_ms);
			flush_dtls(t);
			check_dtls(t);
		}
	}
}

void webrtc_transport_close(struct ctrl_transport *t, const char *reason, bool notify)
{
	struct ctrl_transport **pp;

	if (t->closed)
		return;
	t->closed = true;
	/* Producers and consumers on it go first (they tell the others). */
	room_transport_closed(t);
	if (t->dtls != NULL && dtls_state(t->dtls) == DTLS_CONNECTED) {
		dtls_close(t->dtls);
		flush_dtls(t);
	}
	dpc_remove(SFU_MSG_TRANSPORT_REMOVE, t->dp_id);
	if (notify && t->peer != NULL && t->peer->wsi != NULL) {
		cJSON *d = cJSON_CreateObject();

		cJSON_AddStringToObject(d, "transportId", t->id);
		cJSON_AddStringToObject(d, "reason", reason);
		ws_notify(t->peer, "transportClosed", d);
	}
	for (pp = &ctrl.transports; *pp; pp = &(*pp)->next_all) {
		if (*pp == t) {
			*pp = t->next_all;
			break;
		}
	}
	if (t->peer != NULL)
		for (int i = 0; i < CTRL_MAX_TRANSPORTS_PER_PEER; i++)
			if (t->peer->transports[i] == t)
				t->peer->transports[i] = NULL;
	dtls_endpoint_free(t->dtls);
	free(t);
}
