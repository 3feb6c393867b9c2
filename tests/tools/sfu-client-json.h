/*
 * sfu-client-json.h — the JSON the test client sends (ctrl/PROTOCOL.md): the
 * capabilities it joins with and the rtpParameters of a producer, shaped as
 * mediasoup-client 3.x builds them from the router's capabilities, plus small
 * typed getters on cJSON objects.
 *
 * Pure functions (static inline, header-only so a unit test can include it);
 * returned cJSON trees belong to the caller.  Any thread.
 */
#ifndef SFU_CLIENT_JSON_H
#define SFU_CLIENT_JSON_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <strings.h>

#include <cjson/cJSON.h>

#define CJ_MID_URI "urn:ietf:params:rtp-hdrext:sdes:mid"

/** A string member, or NULL when absent or not a string. */
static inline const char *cj_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/** An integer member in [min, max] into *out.  @return true when present and valid */
static inline bool cj_int(const cJSON *obj, const char *name, double min, double max,
			  int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max ||
	    floor(v->valuedouble) != v->valuedouble)
		return false;
	*out = (int64_t)v->valuedouble;
	return true;
}

/** Whether a member is boolean true. */
static inline bool cj_true(const cJSON *obj, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

/**
 * The capabilities this peer joins with: what mediasoup-client's device reports
 * after load(): the router's codecs and header extensions, which a client that
 * can receive everything the router offers reports back unchanged.
 * @return a new tree, or NULL
 */
static inline cJSON *cj_join_caps(const cJSON *router_caps)
{
	cJSON *caps = cJSON_CreateObject();
	const cJSON *codecs = cJSON_GetObjectItemCaseSensitive(router_caps, "codecs");
	const cJSON *exts = cJSON_GetObjectItemCaseSensitive(router_caps, "headerExtensions");

	if (caps == NULL || !cJSON_IsArray(codecs) ||
	    !cJSON_AddItemToObject(caps, "codecs", cJSON_Duplicate(codecs, true)) ||
	    !cJSON_AddItemToObject(caps, "headerExtensions",
				   cJSON_IsArray(exts) ? cJSON_Duplicate(exts, true)
						       : cJSON_CreateArray())) {
		cJSON_Delete(caps);
		return NULL;
	}
	return caps;
}

/* The router codec of this kind and MIME type (case-insensitive, RFC 6838), or NULL. */
static inline const cJSON *cj_router_codec(const cJSON *router_caps, const char *kind,
					   const char *mime)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(router_caps, "codecs")) {
		const char *k = cj_str(c, "kind"), *m = cj_str(c, "mimeType");

		if (m != NULL && strcasecmp(m, mime) == 0 && (k == NULL || strcmp(k, kind) == 0))
			return c;
	}
	return NULL;
}

/* The input to cj_rtp_parameters. */
struct cj_producer_desc {
	const char *kind;  /* "audio" / "video" */
	const char *mime;  /* "audio/opus" / "video/VP8" */
	const char *mid;
	uint32_t ssrc;
	const char *cname;
};

/* What cj_rtp_parameters chose, for the packets it will describe. */
struct cj_producer_wire {
	uint8_t pt;
	uint32_t clock_rate;
	uint8_t mid_ext_id; /* 0 when the router has no MID extension */
};

static inline bool cj_add_dup(cJSON *to, const char *name, const cJSON *from, bool array)
{
	cJSON *v = from != NULL ? cJSON_Duplicate(from, true)
				: array ? cJSON_CreateArray() : cJSON_CreateObject();

	return v != NULL && cJSON_AddItemToObject(to, name, v);
}

/*
 * The codec entry of produce.rtpParameters: mimeType, payloadType (the router's
 * preferredPayloadType), clockRate, channels (audio), parameters, rtcpFeedback.
 */
static inline cJSON *cj_codec_params(const cJSON *rc, struct cj_producer_wire *w)
{
	cJSON *c = cJSON_CreateObject();
	int64_t pt, clock, channels;

	if (c == NULL || !cj_int(rc, "preferredPayloadType", 0, 127, &pt) ||
	    !cj_int(rc, "clockRate", 1, UINT32_MAX, &clock))
		goto err;
	w->pt = (uint8_t)pt;
	w->clock_rate = (uint32_t)clock;
	if (cJSON_AddStringToObject(c, "mimeType", cj_str(rc, "mimeType")) == NULL ||
	    cJSON_AddNumberToObject(c, "payloadType", (double)pt) == NULL ||
	    cJSON_AddNumberToObject(c, "clockRate", (double)clock) == NULL)
		goto err;
	if (cj_int(rc, "channels", 1, 255, &channels) &&
	    cJSON_AddNumberToObject(c, "channels", (double)channels) == NULL)
		goto err;
	if (!cj_add_dup(c, "parameters", cJSON_GetObjectItemCaseSensitive(rc, "parameters"),
			false) ||
	    !cj_add_dup(c, "rtcpFeedback", cJSON_GetObjectItemCaseSensitive(rc, "rtcpFeedback"),
			true))
		goto err;
	return c;
err:
	cJSON_Delete(c);
	return NULL;
}

/* headerExtensions: the router's extensions for this kind, each {uri, id, encrypt, parameters}. */
static inline cJSON *cj_ext_params(const cJSON *router_caps, const char *kind,
				   struct cj_producer_wire *w)
{
	cJSON *arr = cJSON_CreateArray();
	const cJSON *e;

	if (arr == NULL)
		return NULL;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(router_caps, "headerExtensions")) {
		const char *k = cj_str(e, "kind"), *uri = cj_str(e, "uri"), *dir;
		int64_t id;
		cJSON *x;

		dir = cj_str(e, "direction");
		if (uri == NULL || !cj_int(e, "preferredId", 1, 14, &id) ||
		    (k != NULL && strcmp(k, kind) != 0) || (dir != NULL && strcmp(dir, "recvonly") == 0))
			continue;
		x = cJSON_CreateObject();
		if (x == NULL || !cJSON_AddItemToArray(arr, x) ||
		    cJSON_AddStringToObject(x, "uri", uri) == NULL ||
		    cJSON_AddNumberToObject(x, "id", (double)id) == NULL ||
		    cJSON_AddBoolToObject(x, "encrypt", false) == NULL ||
		    cJSON_AddObjectToObject(x, "parameters") == NULL) {
			cJSON_Delete(arr);
			return NULL;
		}
		if (strcmp(uri, CJ_MID_URI) == 0)
			w->mid_ext_id = (uint8_t)id;
	}
	return arr;
}

/**
 * produce.rtpParameters as mediasoup-client sends them: mid, one codec of the
 * router's (its preferred payload type), the router's header extensions for the
 * kind, one encoding with our SSRC, rtcp {cname, reducedSize}.
 * @return a new tree (wire details in *w), or NULL when the router lacks the codec
 */
static inline cJSON *cj_rtp_parameters(const cJSON *router_caps,
				       const struct cj_producer_desc *d,
				       struct cj_producer_wire *w)
{
	const cJSON *rc = cj_router_codec(router_caps, d->kind, d->mime);
	cJSON *p = cJSON_CreateObject(), *arr, *enc, *rtcp;

	memset(w, 0, sizeof(*w));
	if (p == NULL || rc == NULL || cJSON_AddStringToObject(p, "mid", d->mid) == NULL)
		goto err;
	arr = cJSON_AddArrayToObject(p, "codecs");
	if (arr == NULL || !cJSON_AddItemToArray(arr, cj_codec_params(rc, w)) ||
	    cJSON_GetArraySize(arr) != 1)
		goto err;
	if (!cJSON_AddItemToObject(p, "headerExtensions", cj_ext_params(router_caps, d->kind, w)))
		goto err;
	arr = cJSON_AddArrayToObject(p, "encodings");
	if (arr == NULL)
		goto err;
	enc = cJSON_CreateObject();
	if (enc == NULL || !cJSON_AddItemToArray(arr, enc) ||
	    cJSON_AddNumberToObject(enc, "ssrc", (double)d->ssrc) == NULL)
		goto err;
	rtcp = cJSON_AddObjectToObject(p, "rtcp");
	if (rtcp == NULL || cJSON_AddStringToObject(rtcp, "cname", d->cname) == NULL ||
	    cJSON_AddBoolToObject(rtcp, "reducedSize", true) == NULL)
		goto err;
	return p;
err:
	cJSON_Delete(p);
	return NULL;
}

#endif /* SFU_CLIENT_JSON_H */
