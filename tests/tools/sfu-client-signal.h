/*
 * sfu-client-signal.h — the test client's side of ctrl/PROTOCOL.md: requests
 * by id with a deadline each, their replies, and the server's notifications, in
 * the order mediasoup-client goes: getRouterRtpCapabilities → join →
 * createWebRtcTransport (send, recv) → connectWebRtcTransport → produce once
 * the send transport's DTLS is up; consume → resumeConsumer for every producer
 * of the others (from join and newProducer).
 *
 * Part of sfu-client.c (static functions; it calls cl_fail() and tr_*()).
 * Threading: the libwebsockets service thread only.
 */
#ifndef SFU_CLIENT_SIGNAL_H
#define SFU_CLIENT_SIGNAL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#include "sfu-client-json.h"
#include "sfu-client-state.h"
#include "sfu-client-transport.h"

#define CL_LEVEL_URI "urn:ietf:params:rtp-hdrext:ssrc-audio-level" /* RFC 6464 */

static void cl_fail(struct client *cl, const char *method, const char *code, const char *msg);

static const char *const sig_method_name[CL_M_N] = {
	[CL_M_CAPS] = "getRouterRtpCapabilities", [CL_M_JOIN] = "join",
	[CL_M_CREATE] = "createWebRtcTransport", [CL_M_CONNECT] = "connectWebRtcTransport",
	[CL_M_PRODUCE] = "produce", [CL_M_CONSUME] = "consume",
	[CL_M_RESUME] = "resumeConsumer", [CL_M_CHAT] = "chat",
	[CL_M_CAPTIONS] = "setCaptions", [CL_M_LEAVE] = "leave",
};

/* Copy a string member into a fixed field.  @return false when absent, empty or too long */
static bool sig_copy(char *dst, size_t cap, const cJSON *obj, const char *name)
{
	const char *s = cj_str(obj, name);

	if (s == NULL || s[0] == '\0' || strlen(s) >= cap)
		return false;
	memcpy(dst, s, strlen(s) + 1);
	return true;
}

/* Send a request; data (owned by the call, may be NULL) is its "data". */
static void sig_request(struct client *cl, enum cl_method m, int arg, cJSON *data)
{
	cJSON *root = cJSON_CreateObject();
	char *text = NULL;
	int i;

	for (i = 0; i < CL_MAX_PENDING && cl->pend[i].used; i++)
		;
	if (data == NULL)
		data = cJSON_CreateObject();
	if (root == NULL || data == NULL || i == CL_MAX_PENDING) {
		cJSON_Delete(data);
		cJSON_Delete(root);
		cl_fail(cl, sig_method_name[m], "CLIENT",
			i == CL_MAX_PENDING ? "too many requests outstanding" : "out of memory");
		return;
	}
	if (!cJSON_AddItemToObject(root, "data", data)) {
		cJSON_Delete(data);
		data = NULL;
	}
	if (data == NULL || cJSON_AddNumberToObject(root, "id", (double)cl->next_id) == NULL ||
	    cJSON_AddStringToObject(root, "method", sig_method_name[m]) == NULL) {
		cJSON_Delete(root);
		cl_fail(cl, sig_method_name[m], "CLIENT", "out of memory");
		return;
	}
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (text == NULL || cw_queue(&cl->w, text) != 0) {
		free(text);
		cl_fail(cl, sig_method_name[m], "CLIENT", "out of memory");
		return;
	}
	free(text);
	cl->pend[i] = (struct cl_pending){
		.used = true, .id = cl->next_id++, .method = m, .arg = arg,
		.deadline_ms = cl_now_ms() + CL_REQUEST_TIMEOUT_MS,
	};
}

static struct cl_peer *sig_peer(struct client *cl, const char *id)
{
	int i;

	for (i = 0; id != NULL && i < cl->n_peers; i++)
		if (strcmp(cl->peers[i].id, id) == 0)
			return &cl->peers[i];
	return NULL;
}

static void sig_add_peer(struct client *cl, const cJSON *p)
{
	struct cl_peer *peer;

	if (sig_peer(cl, cj_str(p, "peerId")) != NULL || cl->n_peers == CL_MAX_PEERS)
		return;
	peer = &cl->peers[cl->n_peers];
	if (!sig_copy(peer->id, sizeof(peer->id), p, "peerId") ||
	    !sig_copy(peer->name, sizeof(peer->name), p, "displayName"))
		return;
	cl->n_peers++;
}

static void sig_consume(struct client *cl, int idx)
{
	struct cl_consumer *c = &cl->cons[idx];
	cJSON *d = cJSON_CreateObject();

	c->requested = true;
	if (d == NULL || cJSON_AddStringToObject(d, "transportId", cl->tr[CL_RECV].id) == NULL ||
	    cJSON_AddStringToObject(d, "producerId", c->producer_id) == NULL) {
		cJSON_Delete(d);
		cl_fail(cl, "consume", "CLIENT", "out of memory");
		return;
	}
	sig_request(cl, CL_M_CONSUME, idx, d);
}

/* A producer of another peer (from join or newProducer): consume it once recv exists. */
static void sig_add_producer(struct client *cl, const cJSON *p)
{
	const char *peer_id = cj_str(p, "peerId"), *pid = cj_str(p, "producerId");
	struct cl_consumer *c;
	int i;

	if (peer_id == NULL || pid == NULL || strcmp(peer_id, cl->peer_id) == 0)
		return;
	for (i = 0; i < cl->n_cons; i++)
		if (strcmp(cl->cons[i].producer_id, pid) == 0)
			return;
	if (cl->n_cons == CL_MAX_CONSUMERS)
		return;
	c = &cl->cons[cl->n_cons];
	memset(c, 0, sizeof(*c));
	if (!sig_copy(c->producer_id, sizeof(c->producer_id), p, "producerId") ||
	    !sig_copy(c->peer_id, sizeof(c->peer_id), p, "peerId"))
		return;
	sig_copy(c->kind, sizeof(c->kind), p, "kind");
	cl->n_cons++;
	if (cl->tr[CL_RECV].created && !cl->tr[CL_RECV].closed)
		sig_consume(cl, cl->n_cons - 1);
}

static void sig_on_caps(struct client *cl, const cJSON *data)
{
	const cJSON *caps = cJSON_GetObjectItemCaseSensitive(data, "rtpCapabilities");
	cJSON *d = cJSON_CreateObject();

	cl->router_caps = cJSON_IsObject(caps) ? cJSON_Duplicate(caps, true) : NULL;
	if (cl->router_caps == NULL || d == NULL ||
	    cJSON_AddStringToObject(d, "roomId", cl->o.room) == NULL ||
	    cJSON_AddStringToObject(d, "displayName", cl->o.name) == NULL ||
	    !cJSON_AddItemToObject(d, "rtpCapabilities", cj_join_caps(cl->router_caps))) {
		cJSON_Delete(d);
		cl_fail(cl, "getRouterRtpCapabilities", "BAD_REPLY", "no usable rtpCapabilities");
		return;
	}
	sig_request(cl, CL_M_JOIN, 0, d);
}

/* A request whose data has one member. */
static void sig_request_one(struct client *cl, enum cl_method m, int arg, const char *key,
			    cJSON *v)
{
	cJSON *d = cJSON_CreateObject();

	if (d == NULL || v == NULL || !cJSON_AddItemToObject(d, key, v)) {
		cJSON_Delete(d);
		cJSON_Delete(v);
		cl_fail(cl, sig_method_name[m], "CLIENT", "out of memory");
		return;
	}
	sig_request(cl, m, arg, d);
}

static void sig_on_join(struct client *cl, const cJSON *data)
{
	const cJSON *it;
	uint64_t run_ms = cl->o.duration_ms;
	int dir;

	if (!sig_copy(cl->peer_id, sizeof(cl->peer_id), data, "peerId")) {
		cl_fail(cl, "join", "BAD_REPLY", "no peerId");
		return;
	}
	cl->joined = true;
	cl->joined_ms = cl_now_ms();
	if (cl->o.wrong_fp && run_ms < CL_WRONG_FP_MIN_MS)
		run_ms = CL_WRONG_FP_MIN_MS;
	cl->end_ms = cl->joined_ms + run_ms;
	cl->phase = CL_RUNNING;
	cl_info(cl, "joined room %s as %s in %llu ms", cl->o.room, cl->peer_id,
		(unsigned long long)(cl->joined_ms - cl->t0));
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(data, "peers"))
		sig_add_peer(cl, it);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(data, "producers"))
		sig_add_producer(cl, it);
	for (dir = 0; dir < CL_NDIR; dir++)
		sig_request_one(cl, CL_M_CREATE, dir, "direction",
				cJSON_CreateString(cl_dir_name[dir]));
	if (cl->o.captions)
		sig_request_one(cl, CL_M_CAPTIONS, 0, "enabled", cJSON_CreateTrue());
}

/* dtlsParameters we connect with: role client, our fingerprint (or another, to fail). */
static cJSON *sig_dtls_params(struct client *cl, enum cl_dir dir)
{
	const struct dtls_cert *c = cl->o.wrong_fp && dir == CL_SEND ? cl->wrong_cert : cl->cert;
	cJSON *d = cJSON_CreateObject(), *fps, *fp;

	if (d == NULL || cJSON_AddStringToObject(d, "role", "client") == NULL ||
	    (fps = cJSON_AddArrayToObject(d, "fingerprints")) == NULL ||
	    (fp = cJSON_CreateObject()) == NULL)
		goto err;
	if (!cJSON_AddItemToArray(fps, fp) ||
	    cJSON_AddStringToObject(fp, "algorithm", "sha-256") == NULL ||
	    cJSON_AddStringToObject(fp, "value", dtls_cert_fingerprint(c)) == NULL)
		goto err;
	return d;
err:
	cJSON_Delete(d);
	return NULL;
}

/* The first UDP candidate (ICE-lite servers give host candidates only). */
static bool sig_candidate(struct cl_transport *t, const cJSON *data)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(data, "iceCandidates")) {
		const char *proto = cj_str(c, "protocol"), *ip = cj_str(c, "ip");
		int64_t port;

		if (ip == NULL)
			ip = cj_str(c, "address");
		if (proto == NULL || strcasecmp(proto, "udp") != 0 || ip == NULL ||
		    !cj_int(c, "port", 1, 65535, &port))
			continue;
		memset(&t->pc.remote, 0, sizeof(t->pc.remote));
		t->pc.remote.sin_family = AF_INET;
		t->pc.remote.sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, ip, &t->pc.remote.sin_addr) == 1)
			return true;
	}
	return false;
}

static bool sig_fingerprint(struct cl_transport *t, const cJSON *data)
{
	const cJSON *f, *dtls = cJSON_GetObjectItemCaseSensitive(data, "dtlsParameters");

	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(dtls, "fingerprints")) {
		const char *alg = cj_str(f, "algorithm");

		if (alg != NULL && strcasecmp(alg, "sha-256") == 0 &&
		    sig_copy(t->pc.rfp, sizeof(t->pc.rfp), f, "value"))
			return true;
	}
	return false;
}

static void sig_on_create(struct client *cl, const cJSON *data, enum cl_dir dir)
{
	const cJSON *ice = cJSON_GetObjectItemCaseSensitive(data, "iceParameters");
	struct cl_transport *t = &cl->tr[dir];
	uint64_t now = cl_now_ms();
	cJSON *d;
	int rc, i;

	if (!sig_copy(t->id, sizeof(t->id), data, "id") ||
	    !sig_copy(t->pc.rufrag, sizeof(t->pc.rufrag), ice, "usernameFragment") ||
	    !sig_copy(t->pc.rpwd, sizeof(t->pc.rpwd), ice, "password") || !sig_candidate(t, data) ||
	    !sig_fingerprint(t, data)) {
		cl_fail(cl, "createWebRtcTransport", "BAD_REPLY",
			"need id, iceParameters, a udp candidate and a sha-256 fingerprint");
		return;
	}
	t->pc.remote_set = true;
	rc = pc_open(&t->pc, lws_get_vhost(cl->w.wsi), "sfu-udp", CL_UFRAG_LEN);
	if (rc != 0) {
		cl_fail(cl, "createWebRtcTransport", "SOCKET", strerror(-rc));
		return;
	}
	t->created = true;
	t->created_ms = now;
	pc_start_ice(&t->pc, now);
	cl_info(cl, "%s transport %s: checks from port %u to %s:%u", cl_dir_name[dir], t->id,
		t->pc.lport, inet_ntoa(t->pc.remote.sin_addr), ntohs(t->pc.remote.sin_port));
	d = cJSON_CreateObject();
	if (d == NULL || cJSON_AddStringToObject(d, "transportId", t->id) == NULL ||
	    !cJSON_AddItemToObject(d, "dtlsParameters", sig_dtls_params(cl, dir))) {
		cJSON_Delete(d);
		cl_fail(cl, "connectWebRtcTransport", "CLIENT", "out of memory");
		return;
	}
	t->connect_sent = true;
	sig_request(cl, CL_M_CONNECT, dir, d);
	if (dir == CL_RECV)
		for (i = 0; i < cl->n_cons; i++)
			if (!cl->cons[i].requested && !cl->cons[i].closed)
				sig_consume(cl, i);
}

/* The ssrc-audio-level id our produce rtpParameters declare (1-14), 0: none. */
static uint8_t sig_level_ext_id(const cJSON *params)
{
	const cJSON *e;
	int64_t id;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(params, "headerExtensions")) {
		const char *uri = cj_str(e, "uri");

		if (uri != NULL && strcmp(uri, CL_LEVEL_URI) == 0 && cj_int(e, "id", 1, 14, &id))
			return (uint8_t)id;
	}
	return 0;
}

/* The send transport's DTLS is up: publish (not with --wrong-fingerprint). */
static void sig_produce_all(struct client *cl)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct cl_producer *p = &cl->prod[i];
		struct cj_producer_desc desc = {
			.kind = p->kind, .mime = p->mime, .mid = p->mid, .ssrc = p->ssrc,
			.cname = cl->tr[CL_SEND].pc.lufrag,
		};
		cJSON *d, *params;

		if (!p->wanted || p->requested)
			continue;
		p->requested = true;
		params = cj_rtp_parameters(cl->router_caps, &desc, &p->w);
		if (params == NULL) {
			cl_fail(cl, "produce", "NO_CODEC", "the router does not offer the codec");
			return;
		}
		if (strcmp(p->kind, "audio") == 0)
			p->level_ext_id = sig_level_ext_id(params);
		d = cJSON_CreateObject();
		if (d == NULL || cJSON_AddStringToObject(d, "transportId", cl->tr[CL_SEND].id) == NULL ||
		    cJSON_AddStringToObject(d, "kind", p->kind) == NULL ||
		    !cJSON_AddItemToObject(d, "rtpParameters", params)) {
			cJSON_Delete(d);
			cl_fail(cl, "produce", "CLIENT", "out of memory");
			return;
		}
		sig_request(cl, CL_M_PRODUCE, i, d);
	}
}

static void sig_on_consume(struct client *cl, const cJSON *data, int idx)
{
	struct cl_consumer *c = &cl->cons[idx];
	const cJSON *rp = cJSON_GetObjectItemCaseSensitive(data, "rtpParameters");
	const cJSON *enc = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rp, "encodings"), 0);
	const cJSON *codec = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rp, "codecs"), 0);
	const struct cl_peer *peer = sig_peer(cl, c->peer_id);
	int64_t ssrc, pt;

	if (!sig_copy(c->id, sizeof(c->id), data, "id") ||
	    !sig_copy(c->kind, sizeof(c->kind), data, "kind") ||
	    !cj_int(enc, "ssrc", 0, UINT32_MAX, &ssrc) ||
	    !cj_int(codec, "payloadType", 0, 127, &pt)) {
		cl_fail(cl, "consume", "BAD_REPLY",
			"need id, kind, rtpParameters.encodings[0].ssrc, codecs[0].payloadType");
		return;
	}
	c->ssrc = (uint32_t)ssrc;
	c->pt = (uint8_t)pt;
	c->tag = cm_tag(peer != NULL ? peer->name : "?", c->kind);
	c->ready = true;
	sig_request_one(cl, CL_M_RESUME, idx, "consumerId", cJSON_CreateString(c->id));
}

#endif /* SFU_CLIENT_SIGNAL_H */
