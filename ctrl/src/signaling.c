/*
 * signaling.c — the JSON methods of ctrl/PROTOCOL.md: validation of every
 * field, the room operations they map to, and error replies with the codes
 * the protocol lists.  A malformed request always gets an error reply and
 * never changes state.
 *
 * Threading: ctrl's event loop.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "ctrl.h"

struct req {
	struct ctrl_peer *peer;
	double id;
	cJSON *data;
};

static void reply_ok(const struct req *rq, cJSON *data)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddNumberToObject(m, "id", rq->id);
	cJSON_AddBoolToObject(m, "ok", true);
	cJSON_AddItemToObject(m, "data", data ? data : cJSON_CreateObject());
	ws_send_json(rq->peer, m);
}

/* An error reply; has_id false when the request had no usable id. */
static void send_error(struct ctrl_peer *p, bool has_id, double id, const char *code,
		       const char *fmt, va_list ap)
{
	cJSON *m = cJSON_CreateObject(), *e;
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (has_id)
		cJSON_AddNumberToObject(m, "id", id);
	else
		cJSON_AddNullToObject(m, "id");
	cJSON_AddBoolToObject(m, "ok", false);
	e = cJSON_AddObjectToObject(m, "error");
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", msg);
	ctrl.ws_errors++;
	ws_send_json(p, m);
}

static void reply_err(const struct req *rq, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_err(const struct req *rq, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_error(rq->peer, true, rq->id, code, fmt, ap);
	va_end(ap);
}

static void reply_err_id(struct ctrl_peer *p, const cJSON *id, const char *code,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void reply_err_id(struct ctrl_peer *p, const cJSON *id, const char *code,
			 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_error(p, id != NULL, id ? id->valuedouble : 0, code, fmt, ap);
	va_end(ap);
}

/* Field accessors: NULL (with an INVALID_PARAMS reply) when absent or wrong. */
static const char *str_field(const struct req *rq, const char *name, size_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rq->data, name);

	if (!cJSON_IsString(v)) {
		reply_err(rq, "INVALID_PARAMS", "%s: string required", name);
		return NULL;
	}
	if (v->valuestring[0] == '\0' || strlen(v->valuestring) > max) {
		reply_err(rq, "INVALID_PARAMS", "%s: 1 to %zu characters", name, max);
		return NULL;
	}
	return v->valuestring;
}

static const cJSON *obj_field(const struct req *rq, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rq->data, name);

	if (!cJSON_IsObject(v)) {
		reply_err(rq, "INVALID_PARAMS", "%s: object required", name);
		return NULL;
	}
	return v;
}

static bool joined(const struct req *rq)
{
	if (!rq->peer->joined) {
		reply_err(rq, "NOT_JOINED", "join a room first");
		return false;
	}
	return true;
}

/* UTF-8 characters (not bytes) in s: limits are in characters. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((uint8_t)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static bool room_id_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

static void m_caps(const struct req *rq)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddItemToObject(d, "rtpCapabilities", caps_router());
	reply_ok(rq, d);
}

static void m_join(const struct req *rq)
{
	struct ctrl_peer *p = rq->peer;
	const char *room, *name;
	const cJSON *caps;
	cJSON *d, *peers, *prods;
	int ret;

	if (p->joined) {
		reply_err(rq, "ALREADY_JOINED", "this connection is in room '%s'", p->room->id);
		return;
	}
	if (ctrl.draining) {
		reply_err(rq, "DRAINING", "this node is shutting down: connect to another");
		return;
	}
	if ((room = str_field(rq, "roomId", CTRL_ROOM_MAX)) == NULL ||
	    (name = str_field(rq, "displayName", CTRL_NAME_MAX * 4)) == NULL)
		return;
	if (!room_id_ok(room)) {
		reply_err(rq, "INVALID_PARAMS", "roomId: letters, digits, '_', '-' and '.' only");
		return;
	}
	if (utf8_chars(name) > CTRL_NAME_MAX) {
		reply_err(rq, "INVALID_PARAMS", "displayName: 1 to %d characters", CTRL_NAME_MAX);
		return;
	}
	caps = cJSON_GetObjectItemCaseSensitive(rq->data, "rtpCapabilities");
	if (caps != NULL && !cJSON_IsObject(caps)) {
		reply_err(rq, "INVALID_PARAMS", "rtpCapabilities: object required");
		return;
	}
	ret = room_join(p, room, name, caps ? cJSON_Duplicate(caps, true) : NULL);
	if (ret == -ENOSPC) {
		reply_err(rq, "ROOM_FULL", "room '%s' has %u peers", room,
			  ctrl.cfg.max_peers_per_room);
		return;
	}
	if (ret < 0) {
		reply_err(rq, "INTERNAL", "join failed");
		return;
	}
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "peerId", p->id);
	peers = cJSON_AddArrayToObject(d, "peers");
	prods = cJSON_AddArrayToObject(d, "producers");
	for (struct ctrl_peer *o = p->room->peers; o; o = o->next) {
		cJSON *e;

		if (o == p)
			continue;
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "peerId", o->id);
		cJSON_AddStringToObject(e, "displayName", o->name);
		cJSON_AddBoolToObject(e, "captions", o->captions);
		cJSON_AddItemToArray(peers, e);
		for (int i = 0; i < CTRL_MAX_PRODUCERS_PER_PEER; i++) {
			struct ctrl_producer *pr = o->producers[i];

			if (pr == NULL)
				continue;
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "producerId", pr->id);
			cJSON_AddStringToObject(e, "peerId", o->id);
			cJSON_AddStringToObject(e, "kind", pr->kind == SFU_MEDIA_AUDIO ? "audio" : "video");
			cJSON_AddBoolToObject(e, "paused", pr->paused);
			if (pr->app_data != NULL)
				cJSON_AddItemToObject(e, "appData", cJSON_Duplicate(pr->app_data, true));
			cJSON_AddItemToArray(prods, e);
		}
	}
	reply_ok(rq, d);
	levels_greet(p);
}

static void m_create_transport(const struct req *rq)
{
	struct ctrl_peer *p = rq->peer;
	const char *dir;
	struct ctrl_transport *t;
	int slot = -1, err;

	if (!joined(rq) || (dir = str_field(rq, "direction", 8)) == NULL)
		return;
	if (strcmp(dir, "send") != 0 && strcmp(dir, "recv") != 0) {
		reply_err(rq, "INVALID_PARAMS", "direction: \"send\" or \"recv\"");
		return;
	}
	for (int i = 0; i < CTRL_MAX_TRANSPORTS_PER_PEER && slot < 0; i++)
		if (p->transports[i] == NULL)
			slot = i;
	if (slot < 0) {
		reply_err(rq, "LIMIT", "at most %d transports per peer", CTRL_MAX_TRANSPORTS_PER_PEER);
		return;
	}
	t = webrtc_transport_new(p, dir[0] == 's' ? CTRL_SEND : CTRL_RECV, &err);
	if (t == NULL) {
		reply_err(rq, "DATAPLANE", "transport: %s", strerror(-err));
		return;
	}
	p->transports[slot] = t;
	reply_ok(rq, webrtc_transport_json(t));
}

static struct ctrl_transport *transport_field(const struct req *rq)
{
	const char *id = str_field(rq, "transportId", CTRL_ID_LEN - 1);
	struct ctrl_transport *t;

	if (id == NULL)
		return NULL;
	t = peer_transport(rq->peer, id);
	if (t == NULL)
		reply_err(rq, "NOT_FOUND", "transport '%s'", id);
	return t;
}

static void m_connect_transport(const struct req *rq)
{
	const cJSON *dtls, *role, *fps, *fp;
	const char *alg = NULL, *val = NULL;
	struct ctrl_transport *t;
	int ret;

	if (!joined(rq) || (t = transport_field(rq)) == NULL ||
	    (dtls = obj_field(rq, "dtlsParameters")) == NULL)
		return;
	role = cJSON_GetObjectItemCaseSensitive(dtls, "role");
	fps = cJSON_GetObjectItemCaseSensitive(dtls, "fingerprints");
	cJSON_ArrayForEach(fp, fps) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(fp, "algorithm");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(fp, "value");

		if (cJSON_IsString(a) && cJSON_IsString(v) && strcmp(a->valuestring, "sha-256") == 0) {
			alg = a->valuestring;
			val = v->valuestring;
		}
	}
	if (val == NULL) {
		reply_err(rq, "INVALID_PARAMS", "dtlsParameters.fingerprints: a sha-256 entry required");
		return;
	}
	ret = webrtc_transport_connect(t, cJSON_IsString(role) ? role->valuestring : "auto", alg, val);
	if (ret == -EALREADY)
		reply_err(rq, "INVALID_PARAMS", "transport '%s' is already connected", t->id);
	else if (ret < 0)
		reply_err(rq, "INVALID_PARAMS", "dtlsParameters: bad role or fingerprint");
	else
		reply_ok(rq, NULL);
}

static void m_produce(const struct req *rq)
{
	struct ctrl_peer *p = rq->peer;
	const char *kind;
	const cJSON *rtp;
	struct ctrl_transport *t;
	struct ctrl_producer *pr;
	struct sfu_msg *m;
	char why[160];
	int slot = -1, ret;
	cJSON *d;

	if (!joined(rq) || (t = transport_field(rq)) == NULL ||
	    (kind = str_field(rq, "kind", 8)) == NULL || (rtp = obj_field(rq, "rtpParameters")) == NULL)
		return;
	if (t->dir != CTRL_SEND) {
		reply_err(rq, "INVALID_PARAMS", "transport '%s' is not a send transport", t->id);
		return;
	}
	if (strcmp(kind, "audio") != 0 && strcmp(kind, "video") != 0) {
		reply_err(rq, "INVALID_PARAMS", "kind: \"audio\" or \"video\"");
		return;
	}
	for (int i = 0; i < CTRL_MAX_PRODUCERS_PER_PEER && slot < 0; i++)
		if (p->producers[i] == NULL)
			slot = i;
	if (slot < 0) {
		reply_err(rq, "LIMIT", "at most %d producers per peer", CTRL_MAX_PRODUCERS_PER_PEER);
		return;
	}
	pr = calloc(1, sizeof(*pr));
	if (pr == NULL) {
		reply_err(rq, "INTERNAL", "out of memory");
		return;
	}
	pr->kind = kind[0] == 'a' ? SFU_MEDIA_AUDIO : SFU_MEDIA_VIDEO;
	ret = caps_check_produce(pr->kind, rtp, &pr->ssrc, &pr->pt, &pr->codec, &pr->header_exts,
				 pr->cname, sizeof(pr->cname), why, sizeof(why));
	if (ret < 0) {
		reply_err(rq, ret == -EOPNOTSUPP ? "UNSUPPORTED" : "INVALID_PARAMS", "%s", why);
		free(pr);
		return;
	}
	m = dpc_msg(SFU_MSG_PRODUCER_ADD);
	if (m != NULL) {
		m->u.producer_add.transport = t->dp_id;
		m->u.producer_add.kind = pr->kind;
		m->u.producer_add.ssrc = pr->ssrc;
		m->u.producer_add.pt = pr->pt;
		m->u.producer_add.clock_rate = pr->kind == SFU_MEDIA_AUDIO ? 48000 : 90000;
		m->u.producer_add.tap = p->captions && pr->kind == SFU_MEDIA_AUDIO &&
					ctrl.cfg.captions_enabled;
		/* Levels for the active speaker: when the extension was negotiated. */
		if (pr->kind == SFU_MEDIA_AUDIO && ctrl.cfg.speaker_enabled)
			pr->level_ext_id = caps_level_ext_id(pr->header_exts);
		m->u.producer_add.level_ext_id = pr->level_ext_id;
	}
	ret = dpc_call(m, &pr->dp_id);
	if (ret < 0) {
		reply_err(rq, ret == -EEXIST ? "INVALID_PARAMS" : "DATAPLANE", "producer: %s%s",
			  strerror(-ret), ret == -EEXIST ? " (SSRC already used on this transport)" : "");
		cJSON_Delete(pr->codec);
		cJSON_Delete(pr->header_exts);
		free(pr);
		return;
	}
	ctrl_make_id(pr->id, "pr");
	pr->peer = p;
	pr->transport = t;
	{
		const cJSON *ad = cJSON_GetObjectItemCaseSensitive(rq->data, "appData");
		char *txt = cJSON_IsObject(ad) ? cJSON_PrintUnformatted(ad) : NULL;

		/* Relayed to the others (camera or screen...); small objects only. */
		if (txt != NULL && strlen(txt) <= 1024)
			pr->app_data = cJSON_Duplicate(ad, true);
		free(txt);
	}
	p->producers[slot] = pr;
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "id", pr->id);
	reply_ok(rq, d);
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "producerId", pr->id);
	cJSON_AddStringToObject(d, "peerId", p->id);
	cJSON_AddStringToObject(d, "kind", kind);
	cJSON_AddBoolToObject(d, "paused", false);
	if (pr->app_data != NULL)
		cJSON_AddItemToObject(d, "appData", cJSON_Duplicate(pr->app_data, true));
	room_broadcast(p->room, p, "newProducer", d);
}

static void m_consume(const struct req *rq)
{
	struct ctrl_peer *p = rq->peer;
	const char *pid;
	struct ctrl_transport *t;
	struct ctrl_producer *pr;
	struct ctrl_consumer *c;
	struct sfu_msg *m;
	uint32_t ssrc;
	cJSON *d;
	int ret;

	if (!joined(rq) || (t = transport_field(rq)) == NULL ||
	    (pid = str_field(rq, "producerId", CTRL_ID_LEN - 1)) == NULL)
		return;
	if (t->dir != CTRL_RECV) {
		reply_err(rq, "INVALID_PARAMS", "transport '%s' is not a recv transport", t->id);
		return;
	}
	pr = room_producer(p->room, pid);
	if (pr == NULL || pr->peer == p) {
		reply_err(rq, "NOT_FOUND", "producer '%s' (of another peer in this room)", pid);
		return;
	}
	if (!caps_can_consume(p->rtp_caps, pr->codec)) {
		reply_err(rq, "UNSUPPORTED", "your rtpCapabilities cannot receive %s",
			  cJSON_GetObjectItemCaseSensitive(pr->codec, "mimeType")->valuestring);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		reply_err(rq, "INTERNAL", "out of memory");
		return;
	}
	do {
		RAND_bytes((unsigned char *)&ssrc, sizeof(ssrc));
	} while (ssrc == 0);
	m = dpc_msg(SFU_MSG_CONSUMER_ADD);
	if (m != NULL) {
		m->u.consumer_add.transport = t->dp_id;
		m->u.consumer_add.producer = pr->dp_id;
		m->u.consumer_add.ssrc = ssrc;
		m->u.consumer_add.pt = pr->pt;
		m->u.consumer_add.paused = 1; /* until resumeConsumer */
	}
	ret = dpc_call(m, &c->dp_id);
	if (ret < 0) {
		reply_err(rq, ret == -ENOSPC ? "LIMIT" : "DATAPLANE", "consumer: %s", strerror(-ret));
		free(c);
		return;
	}
	ctrl_make_id(c->id, "c");
	c->peer = p;
	c->transport = t;
	c->producer = pr;
	c->ssrc = ssrc;
	c->paused = true;
	c->next = p->consumers;
	p->consumers = c;
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "id", c->id);
	cJSON_AddStringToObject(d, "producerId", pr->id);
	cJSON_AddStringToObject(d, "kind", pr->kind == SFU_MEDIA_AUDIO ? "audio" : "video");
	{
		cJSON *rp = caps_consumer_params(pr, ssrc);

		/* A MID per consumer, unique on the peer's recv transport (as
		 * mediasoup does); the browser names its m-section with it. */
		cJSON_AddStringToObject(rp, "mid", c->id);
		cJSON_AddItemToObject(d, "rtpParameters", rp);
	}
	if (pr->app_data != NULL)
		cJSON_AddItemToObject(d, "appData", cJSON_Duplicate(pr->app_data, true));
	cJSON_AddBoolToObject(d, "paused", pr->paused);
	reply_ok(rq, d);
}

static void m_consumer_pause(const struct req *rq, bool pause)
{
	const char *id;
	struct ctrl_consumer *c;

	if (!joined(rq) || (id = str_field(rq, "consumerId", CTRL_ID_LEN - 1)) == NULL)
		return;
	c = peer_consumer(rq->peer, id);
	if (c == NULL) {
		reply_err(rq, "NOT_FOUND", "consumer '%s'", id);
		return;
	}
	if (dpc_flag(SFU_MSG_CONSUMER_PAUSE, c->dp_id, pause) < 0) {
		reply_err(rq, "DATAPLANE", "consumer pause/resume failed");
		return;
	}
	c->paused = pause;
	reply_ok(rq, NULL);
}

static struct ctrl_producer *own_producer(const struct req *rq)
{
	const char *id = str_field(rq, "producerId", CTRL_ID_LEN - 1);

	if (id == NULL)
		return NULL;
	for (int i = 0; i < CTRL_MAX_PRODUCERS_PER_PEER; i++)
		if (rq->peer->producers[i] && strcmp(rq->peer->producers[i]->id, id) == 0)
			return rq->peer->producers[i];
	reply_err(rq, "NOT_FOUND", "producer '%s' (of yours)", id);
	return NULL;
}

static void m_producer_pause(const struct req *rq, bool pause)
{
	struct ctrl_producer *pr;
	cJSON *d;

	if (!joined(rq) || (pr = own_producer(rq)) == NULL)
		return;
	if (dpc_flag(SFU_MSG_PRODUCER_PAUSE, pr->dp_id, pause) < 0) {
		reply_err(rq, "DATAPLANE", "producer pause/resume failed");
		return;
	}
	pr->paused = pause;
	reply_ok(rq, NULL);
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "producerId", pr->id);
	cJSON_AddStringToObject(d, "peerId", rq->peer->id);
	room_broadcast(rq->peer->room, rq->peer, pause ? "producerPaused" : "producerResumed", d);
}

static void m_producer_close(const struct req *rq)
{
	struct ctrl_producer *pr;

	if (!joined(rq) || (pr = own_producer(rq)) == NULL)
		return;
	room_producer_close(pr, false);
	reply_ok(rq, NULL);
}

static void m_restart_ice(const struct req *rq)
{
	struct ctrl_transport *t;
	cJSON *d, *ice;

	if (!joined(rq) || (t = transport_field(rq)) == NULL)
		return;
	if (webrtc_transport_restart_ice(t) < 0) {
		reply_err(rq, "INTERNAL", "no randomness for new credentials");
		return;
	}
	d = cJSON_CreateObject();
	ice = cJSON_AddObjectToObject(d, "iceParameters");
	cJSON_AddStringToObject(ice, "usernameFragment", t->ice.ufrag);
	cJSON_AddStringToObject(ice, "password", t->ice.pwd);
	cJSON_AddBoolToObject(ice, "iceLite", true);
	reply_ok(rq, d);
}

static void m_set_captions(const struct req *rq)
{
	struct ctrl_peer *p = rq->peer;
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(rq->data, "enabled");
	cJSON *d;

	if (!joined(rq))
		return;
	if (!cJSON_IsBool(en)) {
		reply_err(rq, "INVALID_PARAMS", "enabled: boolean required");
		return;
	}
	p->captions = cJSON_IsTrue(en);
	for (int i = 0; i < CTRL_MAX_PRODUCERS_PER_PEER; i++) {
		struct ctrl_producer *pr = p->producers[i];

		if (pr != NULL && pr->kind == SFU_MEDIA_AUDIO)
			dpc_flag(SFU_MSG_PRODUCER_TAP, pr->dp_id,
				 p->captions && ctrl.cfg.captions_enabled);
	}
	reply_ok(rq, NULL);
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "peerId", p->id);
	cJSON_AddBoolToObject(d, "enabled", p->captions);
	room_broadcast(p->room, NULL, "captionsChanged", d);
}

static void m_chat(const struct req *rq)
{
	const char *text;
	struct timespec ts;
	cJSON *d;

	if (!joined(rq) || (text = str_field(rq, "text", CTRL_MAX_CHAT * 4)) == NULL)
		return;
	if (utf8_chars(text) > CTRL_MAX_CHAT) {
		reply_err(rq, "INVALID_PARAMS", "text: 1 to %d characters", CTRL_MAX_CHAT);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "peerId", rq->peer->id);
	cJSON_AddStringToObject(d, "displayName", rq->peer->name);
	cJSON_AddStringToObject(d, "text", text);
	cJSON_AddNumberToObject(d, "ts", (double)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	reply_ok(rq, NULL);
	redis_publish(rq->peer->room, "chat", d); /* peers on other nodes */
	room_broadcast(rq->peer->room, NULL, "chat", d);
}

static void m_leave(const struct req *rq)
{
	if (!joined(rq))
		return;
	room_leave(rq->peer);
	reply_ok(rq, NULL);
}

static const struct {
	const char *name;
	void (*fn)(const struct req *rq);
} methods[] = {
	{ "getRouterRtpCapabilities", m_caps },
	{ "join", m_join },
	{ "createWebRtcTransport", m_create_transport },
	{ "connectWebRtcTransport", m_connect_transport },
	{ "produce", m_produce },
	{ "consume", m_consume },
	{ "closeProducer", m_producer_close },
	{ "restartIce", m_restart_ice },
	{ "setCaptions", m_set_captions },
	{ "chat", m_chat },
	{ "leave", m_leave },
};

void signaling_handle(struct ctrl_peer *p, const char *text, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	const cJSON *id, *method, *data;
	struct req rq = { .peer = p };

	ctrl.ws_requests++;
	if (root == NULL || !cJSON_IsObject(root)) {
		reply_err_id(p, NULL, "BAD_REQUEST", "not a JSON object");
		cJSON_Delete(root);
		return;
	}
	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	method = cJSON_GetObjectItemCaseSensitive(root, "method");
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > 9007199254740992.0 ||
	    id->valuedouble != (double)(int64_t)id->valuedouble) {
		reply_err_id(p, NULL, "BAD_REQUEST", "id: a non-negative integer is required");
		goto out;
	}
	if (!cJSON_IsString(method)) {
		reply_err_id(p, id, "BAD_REQUEST", "method: string required");
		goto out;
	}
	if (data != NULL && !cJSON_IsObject(data)) {
		reply_err_id(p, id, "INVALID_PARAMS", "data: object required");
		goto out;
	}
	rq.id = id->valuedouble;
	rq.data = (cJSON *)data;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcmp(methods[i].name, method->valuestring) == 0) {
			methods[i].fn(&rq);
			goto out;
		}
	}
	if (strcmp(method->valuestring, "resumeConsumer") == 0 ||
	    strcmp(method->valuestring, "pauseConsumer") == 0)
		m_consumer_pause(&rq, method->valuestring[0] == 'p');
	else if (strcmp(method->valuestring, "pauseProducer") == 0 ||
		 strcmp(method->valuestring, "resumeProducer") == 0)
		m_producer_pause(&rq, method->valuestring[0] == 'p');
	else
		reply_err_id(p, id, "UNKNOWN_METHOD", "no method '%.64s'", method->valuestring);
out:
	cJSON_Delete(root);
}

void signaling_closed(struct ctrl_peer *p)
{
	room_leave(p);
}
