/*
 * admin.c — the admin API: plain (non-ICE, non-DTLS) transports with SRTP
 * keys given by the caller, like mediasoup's PlainTransport, and producers and
 * consumers on them — for sfu-pktgen and for ffmpeg/GStreamer ingest.
 *
 *   POST /admin  {"method": M, "data": {...}}  ->  {"ok": true, "data": {...}}
 *                                               or {"ok": false, "error": {code, message}}
 *   createPlainTransport {room?, remoteIp, remotePort, localPort?,
 *                         srtp: {profile, recvKey, sendKey}}   -> {transportId, ip, port}
 *     profile "AEAD_AES_128_GCM" | "AES_CM_128_HMAC_SHA1_80"; keys base64 of
 *     master key || salt (28 / 30 bytes); recvKey protects what the remote
 *     sends us, sendKey what we send it.  Transports of one room share a worker.
 *   produce {transportId, kind, ssrc, payloadType, audioLevelExtId?} -> {producerId}
 *     audioLevelExtId: the RFC 6464 ssrc-audio-level extension id the audio
 *     carries (1-255); the data plane then reads and counts its levels.
 *   consume {transportId, producerId, ssrc, payloadType, paused?} -> {consumerId}
 *   closeTransport {transportId}                                 -> {}
 * Ids are the data plane's.  Access: from loopback, or with
 * "Authorization: Bearer <ctrl.admin_token>" when a token is configured.
 *
 * Threading: ctrl's event loop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "ctrl.h"
#include "sfu_attach.h"
#include "sfu_config.h"

struct admin_ctx {
	const cJSON *data;
	const char *code;
	char msg[160];
};

static int fail(struct admin_ctx *a, const char *code, const char *msg)
{
	a->code = code;
	snprintf(a->msg, sizeof(a->msg), "%s", msg);
	return -1;
}

static int num(struct admin_ctx *a, const char *name, uint32_t max, bool required, uint32_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(a->data, name);

	if (v == NULL && !required) {
		*out = 0;
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max ||
	    v->valuedouble != (double)(uint32_t)v->valuedouble) {
		snprintf(a->msg, sizeof(a->msg), "%s: integer 0..%u required", name, max);
		a->code = "INVALID_PARAMS";
		return -1;
	}
	*out = (uint32_t)v->valuedouble;
	return 0;
}

static const char *str(struct admin_ctx *a, const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsString(v)) {
		snprintf(a->msg, sizeof(a->msg), "%s: string required", name);
		a->code = "INVALID_PARAMS";
		return NULL;
	}
	return v->valuestring;
}

static int key(struct admin_ctx *a, const cJSON *srtp, const char *name, size_t want,
	       uint8_t out[32])
{
	const char *b64 = str(a, srtp, name);
	uint8_t buf[64];
	size_t len;
	int n;

	if (b64 == NULL)
		return -1;
	len = strlen(b64);
	if (len == 0 || len > 64 || len % 4)
		return fail(a, "INVALID_PARAMS", "srtp keys: base64 of master key || salt");
	n = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)len);
	/* EVP_DecodeBlock counts '=' padding as zero bytes. */
	n -= (b64[len - 1] == '=') + (b64[len - 2] == '=');
	if (n != (int)want)
		return fail(a, "INVALID_PARAMS", "srtp keys: wrong length for the profile");
	memcpy(out, buf, want);
	return 0;
}

static int create_plain(struct admin_ctx *a, cJSON *out)
{
	const cJSON *srtp = cJSON_GetObjectItemCaseSensitive(a->data, "srtp");
	const cJSON *room = cJSON_GetObjectItemCaseSensitive(a->data, "room");
	const char *ip_s, *prof_s;
	uint32_t ip, rport, lport, id;
	uint16_t profile;
	size_t klen;
	struct sfu_msg *m;
	int ret;

	if ((ip_s = str(a, a->data, "remoteIp")) == NULL || num(a, "remotePort", 65535, true, &rport) ||
	    num(a, "localPort", 65535, false, &lport))
		return -1;
	if (sfu_parse_ipv4(ip_s, &ip) < 0 || ip == 0 || rport == 0)
		return fail(a, "INVALID_PARAMS", "remoteIp/remotePort: an IPv4 address and a port");
	if (!cJSON_IsObject(srtp) || (prof_s = str(a, srtp, "profile")) == NULL)
		return fail(a, "INVALID_PARAMS", "srtp: {profile, recvKey, sendKey} required");
	if (strcmp(prof_s, "AEAD_AES_128_GCM") == 0) {
		profile = 0x0007;
		klen = 28;
	} else if (strcmp(prof_s, "AES_CM_128_HMAC_SHA1_80") == 0) {
		profile = 0x0001;
		klen = 30;
	} else {
		return fail(a, "UNSUPPORTED", "srtp.profile: AEAD_AES_128_GCM or AES_CM_128_HMAC_SHA1_80");
	}
	m = dpc_msg(SFU_MSG_TRANSPORT_KEYS);
	if (m == NULL)
		return fail(a, "DATAPLANE", "message pool empty");
	if (key(a, srtp, "recvKey", klen, m->u.transport_keys.rx_key) < 0 ||
	    key(a, srtp, "sendKey", klen, m->u.transport_keys.tx_key) < 0) {
		sfu_msg_free(m);
		return -1;
	}
	{
		struct sfu_msg *add = dpc_msg(SFU_MSG_TRANSPORT_ADD);

		if (add != NULL) {
			add->u.transport_add.room = cJSON_IsString(room) ? room_hash(room->valuestring) : 0;
			add->u.transport_add.kind = SFU_TRANSPORT_PLAIN;
			add->u.transport_add.local_port = (uint16_t)lport;
		}
		ret = dpc_call(add, &id);
	}
	if (ret < 0) {
		sfu_msg_free(m);
		return fail(a, ret == -ERANGE ? "INVALID_PARAMS" : "DATAPLANE",
			    ret == -ERANGE ? "localPort: outside the RTC port range" : strerror(-ret));
	}
	m->u.transport_keys.id = id;
	m->u.transport_keys.profile = profile;
	ret = dpc_call(m, NULL);
	if (ret == 0) {
		m = dpc_msg(SFU_MSG_TRANSPORT_BIND);
		if (m != NULL) {
			m->u.transport_bind.id = id;
			m->u.transport_bind.tuple.remote_ip = ip;
			m->u.transport_bind.tuple.remote_port = (uint16_t)rport;
			m->u.transport_bind.tuple.local_port = (uint16_t)lport;
		}
		ret = dpc_call(m, NULL);
	}
	if (ret < 0) {
		dpc_remove(SFU_MSG_TRANSPORT_REMOVE, id);
		return fail(a, ret == -EADDRINUSE ? "INVALID_PARAMS" : "DATAPLANE",
			    ret == -EADDRINUSE ? "that 5-tuple is taken by another transport"
					       : strerror(-ret));
	}
	{
		uint32_t aip = ctrl.cfg.announced_ip ? ctrl.cfg.announced_ip : ctrl.sh->announced_ip;
		char addr[16];

		snprintf(addr, sizeof(addr), "%u.%u.%u.%u", aip >> 24, (aip >> 16) & 255,
			 (aip >> 8) & 255, aip & 255);
		cJSON_AddNumberToObject(out, "transportId", id);
		cJSON_AddStringToObject(out, "ip", addr);
		cJSON_AddNumberToObject(out, "port", lport ? lport : ctrl.sh->rtc_min_port);
	}
	return 0;
}

static int produce(struct admin_ctx *a, cJSON *out)
{
	uint32_t t, ssrc, pt, id, level = 0;
	const char *kind;
	struct sfu_msg *m;
	int ret;

	if (num(a, "transportId", UINT32_MAX, true, &t) || num(a, "ssrc", UINT32_MAX, true, &ssrc) ||
	    num(a, "payloadType", 127, true, &pt) || (kind = str(a, a->data, "kind")) == NULL)
		return -1;
	if (strcmp(kind, "audio") != 0 && strcmp(kind, "video") != 0)
		return fail(a, "INVALID_PARAMS", "kind: audio or video");
	if (num(a, "audioLevelExtId", 255, false, &level))
		return -1;
	if (level != 0 && kind[0] != 'a')
		return fail(a, "INVALID_PARAMS", "audioLevelExtId: audio only");
	m = dpc_msg(SFU_MSG_PRODUCER_ADD);
	if (m != NULL) {
		m->u.producer_add.transport = t;
		m->u.producer_add.kind = kind[0] == 'a' ? SFU_MEDIA_AUDIO : SFU_MEDIA_VIDEO;
		m->u.producer_add.ssrc = ssrc;
		m->u.producer_add.pt = (uint8_t)pt;
		m->u.producer_add.clock_rate = kind[0] == 'a' ? 48000 : 90000;
		m->u.producer_add.level_ext_id = (uint8_t)level;
	}
	ret = dpc_call(m, &id);
	if (ret < 0)
		return fail(a, ret == -ENOENT ? "NOT_FOUND" : ret == -EEXIST || ret == -EINVAL
				       ? "INVALID_PARAMS" : "DATAPLANE", strerror(-ret));
	cJSON_AddNumberToObject(out, "producerId", id);
	return 0;
}

static int consume(struct admin_ctx *a, cJSON *out)
{
	const cJSON *paused = cJSON_GetObjectItemCaseSensitive(a->data, "paused");
	uint32_t t, p, ssrc, pt, id;
	struct sfu_msg *m;
	int ret;

	if (num(a, "transportId", UINT32_MAX, true, &t) || num(a, "producerId", UINT32_MAX, true, &p) ||
	    num(a, "ssrc", UINT32_MAX, true, &ssrc) || num(a, "payloadType", 127, true, &pt))
		return -1;
	m = dpc_msg(SFU_MSG_CONSUMER_ADD);
	if (m != NULL) {
		m->u.consumer_add.transport = t;
		m->u.consumer_add.producer = p;
		m->u.consumer_add.ssrc = ssrc;
		m->u.consumer_add.pt = (uint8_t)pt;
		m->u.consumer_add.paused = cJSON_IsTrue(paused);
	}
	ret = dpc_call(m, &id);
	if (ret < 0)
		return fail(a, ret == -ENOENT ? "NOT_FOUND" : ret == -EXDEV
				       ? "INVALID_PARAMS" : ret == -ENOSPC ? "LIMIT" : "DATAPLANE",
			    ret == -EXDEV ? "producer and consumer transports must share a room"
					  : strerror(-ret));
	cJSON_AddNumberToObject(out, "consumerId", id);
	return 0;
}

static int close_transport(struct admin_ctx *a, cJSON *out)
{
	uint32_t t;
	int ret;

	(void)out;
	if (num(a, "transportId", UINT32_MAX, true, &t))
		return -1;
	/* Browser transports belong to their sessions, not to the admin API. */
	for (struct ctrl_transport *ct = ctrl.transports; ct; ct = ct->next_all)
		if (ct->dp_id == t)
			return fail(a, "INVALID_PARAMS", "a WebRTC transport: close its session");
	ret = dpc_remove(SFU_MSG_TRANSPORT_REMOVE, t);
	if (ret < 0)
		return fail(a, ret == -ENOENT ? "NOT_FOUND" : "DATAPLANE", strerror(-ret));
	return 0;
}

char *admin_handle(const char *body, size_t len)
{
	cJSON *req = cJSON_ParseWithLength(body, len), *res = cJSON_CreateObject(), *out;
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(req, "method");
	struct admin_ctx a = { .code = NULL };
	int ret = -1;
	char *text;

	out = cJSON_CreateObject();
	a.data = cJSON_GetObjectItemCaseSensitive(req, "data");
	if (!cJSON_IsObject(req) || !cJSON_IsString(method) || !cJSON_IsObject(a.data))
		fail(&a, "BAD_REQUEST", "expected {\"method\": string, \"data\": object}");
	else if (strcmp(method->valuestring, "createPlainTransport") == 0)
		ret = create_plain(&a, out);
	else if (strcmp(method->valuestring, "produce") == 0)
		ret = produce(&a, out);
	else if (strcmp(method->valuestring, "consume") == 0)
		ret = consume(&a, out);
	else if (strcmp(method->valuestring, "closeTransport") == 0)
		ret = close_transport(&a, out);
	else
		fail(&a, "UNKNOWN_METHOD", "createPlainTransport, produce, consume, closeTransport");
	cJSON_AddBoolToObject(res, "ok", ret == 0);
	if (ret == 0) {
		cJSON_AddItemToObject(res, "data", out);
	} else {
		cJSON *e = cJSON_AddObjectToObject(res, "error");

		cJSON_AddStringToObject(e, "code", a.code ? a.code : "INTERNAL");
		cJSON_AddStringToObject(e, "message", a.msg);
		cJSON_Delete(out);
	}
	text = cJSON_PrintUnformatted(res);
	cJSON_Delete(res);
	cJSON_Delete(req);
	return text;
}
