/*
 * caps.c — the router's RTP capabilities (the shape mediasoup-client's
 * Device.load() validates), checking producers' rtpParameters against them,
 * and building each consumer's rtpParameters.
 *
 * Consumers get the producer's codec and only the header extensions whose
 * value the data plane forwards unchanged and that mean the same on the new
 * leg (audio level, abs-send-time).  The producer's MID and transport-wide
 * sequence numbers belong to the publisher's transport and are not declared
 * to receivers, who then demultiplex by SSRC (the a=ssrc lines
 * mediasoup-client writes).
 *
 * Threading: ctrl's event loop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ctrl.h"

#define URI_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define URI_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define URI_ABS "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define URI_TWCC "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

struct router_codec {
	const char *kind, *mime;
	int pt, clock, channels;
};

static const struct router_codec codecs[] = {
	{ "audio", "audio/opus", 100, 48000, 2 },
	{ "video", "video/VP8", 101, 90000, 0 },
	{ "video", "video/H264", 102, 90000, 0 },
};

static const struct {
	const char *kind, *uri;
	int id;
} exts[] = {
	{ "audio", URI_MID, 1 },   { "video", URI_MID, 1 },
	{ "audio", URI_LEVEL, 10 }, { "audio", URI_ABS, 4 },
	{ "video", URI_ABS, 4 },   { "audio", URI_TWCC, 5 },
	{ "video", URI_TWCC, 5 },
};

static void add_fb(cJSON *arr, const char *type, const char *param)
{
	cJSON *fb = cJSON_CreateObject();

	cJSON_AddStringToObject(fb, "type", type);
	if (param != NULL)
		cJSON_AddStringToObject(fb, "parameter", param);
	cJSON_AddItemToArray(arr, fb);
}

static cJSON *codec_json(const struct router_codec *c, bool router)
{
	cJSON *o = cJSON_CreateObject(), *params = cJSON_CreateObject(), *fb;

	if (router)
		cJSON_AddStringToObject(o, "kind", c->kind);
	cJSON_AddStringToObject(o, "mimeType", c->mime);
	cJSON_AddNumberToObject(o, router ? "preferredPayloadType" : "payloadType", c->pt);
	cJSON_AddNumberToObject(o, "clockRate", c->clock);
	if (c->channels)
		cJSON_AddNumberToObject(o, "channels", c->channels);
	if (strcmp(c->mime, "audio/opus") == 0) {
		cJSON_AddNumberToObject(params, "minptime", 10);
		cJSON_AddNumberToObject(params, "useinbandfec", 1);
	} else if (strcmp(c->mime, "video/H264") == 0) {
		cJSON_AddNumberToObject(params, "packetization-mode", 1);
		cJSON_AddStringToObject(params, "profile-level-id", "42e01f");
		cJSON_AddNumberToObject(params, "level-asymmetry-allowed", 1);
	}
	cJSON_AddItemToObject(o, "parameters", params);
	fb = cJSON_AddArrayToObject(o, "rtcpFeedback");
	if (strcmp(c->kind, "video") == 0) {
		add_fb(fb, "nack", NULL);
		add_fb(fb, "nack", "pli");
		add_fb(fb, "ccm", "fir");
	}
	add_fb(fb, "transport-cc", NULL);
	return o;
}

cJSON *caps_router(void)
{
	cJSON *caps = cJSON_CreateObject();
	cJSON *cs = cJSON_AddArrayToObject(caps, "codecs");
	cJSON *hs = cJSON_AddArrayToObject(caps, "headerExtensions");

	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
		cJSON_AddItemToArray(cs, codec_json(&codecs[i], true));
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		cJSON *h = cJSON_CreateObject();

		cJSON_AddStringToObject(h, "kind", exts[i].kind);
		cJSON_AddStringToObject(h, "uri", exts[i].uri);
		cJSON_AddNumberToObject(h, "preferredId", exts[i].id);
		cJSON_AddBoolToObject(h, "preferredEncrypt", false);
		cJSON_AddStringToObject(h, "direction", "sendrecv");
		cJSON_AddItemToArray(hs, h);
	}
	return caps;
}

/* The router codec a producer's codec is: by MIME type and clock rate.  The
 * browser may use its own payload type (mediasoup-client sends Chrome's);
 * consumers get the router's, which the data plane writes into every copy. */
static const struct router_codec *router_codec(const char *mime, int clock)
{
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
		if (strcasecmp(codecs[i].mime, mime) == 0 && codecs[i].clock == clock)
			return &codecs[i];
	return NULL;
}

static bool is_u32(const cJSON *n)
{
	return cJSON_IsNumber(n) && n->valuedouble >= 0 && n->valuedouble <= 4294967295.0 &&
	       n->valuedouble == (double)(uint32_t)n->valuedouble;
}

int caps_check_produce(enum sfu_media_kind kind, const cJSON *rtp, uint32_t *ssrc, uint8_t *pt,
		       cJSON **codec, cJSON **hexts, char *cname, size_t cname_len,
		       char *why, size_t why_len)
{
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(rtp, "codecs");
	const cJSON *encs = cJSON_GetObjectItemCaseSensitive(rtp, "encodings");
	const cJSON *hs = cJSON_GetObjectItemCaseSensitive(rtp, "headerExtensions");
	const cJSON *rtcp = cJSON_GetObjectItemCaseSensitive(rtp, "rtcp");
	const cJSON *c0, *mime, *cpt, *clock, *e0, *s, *cn;
	const struct router_codec *rc;

	if (!cJSON_IsObject(rtp)) {
		snprintf(why, why_len, "rtpParameters: object expected");
		return -EINVAL;
	}
	/* The first codec is the one sent; RTX and others may follow. */
	c0 = cJSON_IsArray(cs) ? cJSON_GetArrayItem(cs, 0) : NULL;
	mime = cJSON_GetObjectItemCaseSensitive(c0, "mimeType");
	cpt = cJSON_GetObjectItemCaseSensitive(c0, "payloadType");
	clock = cJSON_GetObjectItemCaseSensitive(c0, "clockRate");
	if (!cJSON_IsString(mime) || !cJSON_IsNumber(cpt) || cpt->valuedouble < 0 ||
	    cpt->valuedouble > 127 || !cJSON_IsNumber(clock)) {
		snprintf(why, why_len, "rtpParameters.codecs[0]: mimeType, payloadType (0-127) and "
			 "clockRate required");
		return -EINVAL;
	}
	rc = router_codec(mime->valuestring, clock->valueint);
	if (rc == NULL || strcmp(rc->kind, kind == SFU_MEDIA_AUDIO ? "audio" : "video") != 0) {
		snprintf(why, why_len, "codec %s/%d is not one of the router's %s codecs",
			 mime->valuestring, clock->valueint,
			 kind == SFU_MEDIA_AUDIO ? "audio" : "video");
		return -EOPNOTSUPP;
	}
	e0 = cJSON_IsArray(encs) ? cJSON_GetArrayItem(encs, 0) : NULL;
	s = cJSON_GetObjectItemCaseSensitive(e0, "ssrc");
	if (!is_u32(s) || s->valuedouble == 0) {
		snprintf(why, why_len, "rtpParameters.encodings[0].ssrc: a non-zero 32-bit integer "
			 "is required (simulcast by RID is not supported)");
		return -EINVAL;
	}
	if (cJSON_GetArraySize(encs) > 1) {
		snprintf(why, why_len, "rtpParameters.encodings: one encoding (no simulcast yet)");
		return -EOPNOTSUPP;
	}
	cn = cJSON_GetObjectItemCaseSensitive(rtcp, "cname");
	snprintf(cname, cname_len, "%s", cJSON_IsString(cn) ? cn->valuestring : "sfu");
	*ssrc = (uint32_t)s->valuedouble;
	*pt = (uint8_t)rc->pt;
	*codec = cJSON_Duplicate(c0, true);
	cJSON_ReplaceItemInObjectCaseSensitive(*codec, "payloadType", cJSON_CreateNumber(rc->pt));
	*hexts = cJSON_IsArray(hs) ? cJSON_Duplicate(hs, true) : cJSON_CreateArray();
	return 0;
}

uint8_t caps_level_ext_id(const cJSON *header_exts)
{
	const cJSON *h;

	cJSON_ArrayForEach(h, header_exts) {
		const cJSON *uri = cJSON_GetObjectItemCaseSensitive(h, "uri");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(h, "id");

		/* RFC 8285: ids 1-14 (one-byte form) or 1-255 (two-byte form). */
		if (cJSON_IsString(uri) && strcmp(uri->valuestring, URI_LEVEL) == 0 &&
		    cJSON_IsNumber(id) && id->valuedouble >= 1 && id->valuedouble <= 255 &&
		    id->valuedouble == (double)(int)id->valuedouble)
			return (uint8_t)id->valueint;
	}
	return 0;
}

bool caps_can_consume(const cJSON *caps, const cJSON *codec)
{
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(caps, "codecs"), *c;
	const cJSON *mime = cJSON_GetObjectItemCaseSensitive(codec, "mimeType");

	if (!cJSON_IsString(mime))
		return false;
	/* No capabilities given: assume the browser receives what it can send. */
	if (!cJSON_IsArray(cs))
		return true;
	cJSON_ArrayForEach(c, cs) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "mimeType");

		if (cJSON_IsString(m) && strcasecmp(m->valuestring, mime->valuestring) == 0)
			return true;
	}
	return false;
}

cJSON *caps_consumer_params(const struct ctrl_producer *pr, uint32_t ssrc)
{
	cJSON *rp = cJSON_CreateObject(), *cs, *hs, *encs, *enc, *rtcp, *h;

	cs = cJSON_AddArrayToObject(rp, "codecs");
	cJSON_AddItemToArray(cs, cJSON_Duplicate(pr->codec, true));
	hs = cJSON_AddArrayToObject(rp, "headerExtensions");
	cJSON_ArrayForEach(h, pr->header_exts) {
		const cJSON *uri = cJSON_GetObjectItemCaseSensitive(h, "uri");

		if (cJSON_IsString(uri) && (strcmp(uri->valuestring, URI_LEVEL) == 0 ||
					    strcmp(uri->valuestring, URI_ABS) == 0))
			cJSON_AddItemToArray(hs, cJSON_Duplicate(h, true));
	}
	encs = cJSON_AddArrayToObject(rp, "encodings");
	enc = cJSON_CreateObject();
	cJSON_AddNumberToObject(enc, "ssrc", ssrc);
	cJSON_AddItemToArray(encs, enc);
	rtcp = cJSON_AddObjectToObject(rp, "rtcp");
	cJSON_AddStringToObject(rtcp, "cname", pr->cname);
	cJSON_AddBoolToObject(rtcp, "reducedSize", true);
	cJSON_AddBoolToObject(rtcp, "mux", true);
	return rp;
}
