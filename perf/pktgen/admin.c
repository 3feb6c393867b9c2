/*
 * admin.c — sfu-ctrl's admin API from the generator's side, and the test
 * topology: which transports, producers and consumers exist.
 *
 * Every request is one blocking libcurl POST (keep-alive on one handle) with
 * a connect timeout and a total timeout, so an unreachable or hung ctrl ends
 * the run with a clear error instead of a hang.  See ctrl/src/admin.c for the
 * methods; keys are base64 of master key || salt.
 *
 * Layout (pg_topo_plan):
 *   publishers/subscribers: per room P publishing transports, then S
 *     receive-only transports; every subscriber consumes every publisher's
 *     streams (fan-out S per stream).
 *   mesh (--room-size N): N transports per room, each publishes and consumes
 *     every other participant's streams (fan-out N-1).
 * Transport i (all rooms, in order) uses our UDP port base_port + i; producer
 * SSRC PG_SSRC_TX_BASE + stream index, consumer SSRC PG_SSRC_RX_BASE + index,
 * so RX finds a consumer from its SSRC without a lookup table.
 *
 * Threading: main lcore, before and after traffic.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "pktgen.h"

struct pg_admin {
	CURL *h;
	struct curl_slist *hdrs;
	char *url;
	char err[512];
	char curl_err[CURL_ERROR_SIZE];
	char *body;
	size_t len, cap;
	long timeout_ms;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct pg_admin *a = arg;
	size_t n = size * nmemb;

	/* A reply is small; anything past 1 MiB is not our admin API. */
	if (a->len + n + 1 > (1u << 20))
		return 0;
	if (a->len + n + 1 > a->cap) {
		size_t cap = (a->len + n + 1) * 2;
		char *b = realloc(a->body, cap);

		if (b == NULL)
			return 0;
		a->body = b;
		a->cap = cap;
	}
	memcpy(a->body + a->len, ptr, n);
	a->len += n;
	a->body[a->len] = '\0';
	return n;
}

struct pg_admin *pg_admin_open(const struct pg_config *cfg)
{
	struct pg_admin *a = calloc(1, sizeof(*a));
	char auth[300];

	if (a == NULL)
		return NULL;
	a->h = curl_easy_init();
	a->url = strdup(cfg->admin_url);
	if (a->h == NULL || a->url == NULL) {
		pg_admin_close(a);
		return NULL;
	}
	a->timeout_ms = (long)(cfg->admin_timeout * 1000);
	a->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (cfg->admin_token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cfg->admin_token);
		a->hdrs = curl_slist_append(a->hdrs, auth);
	}
	curl_easy_setopt(a->h, CURLOPT_URL, a->url);
	curl_easy_setopt(a->h, CURLOPT_HTTPHEADER, a->hdrs);
	curl_easy_setopt(a->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(a->h, CURLOPT_CONNECTTIMEOUT_MS, a->timeout_ms < 3000 ? a->timeout_ms : 3000L);
	curl_easy_setopt(a->h, CURLOPT_TIMEOUT_MS, a->timeout_ms);
	curl_easy_setopt(a->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(a->h, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(a->h, CURLOPT_ERRORBUFFER, a->curl_err);
	if (cfg->insecure) {
		curl_easy_setopt(a->h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(a->h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return a;
}

void pg_admin_close(struct pg_admin *a)
{
	if (a == NULL)
		return;
	if (a->h != NULL)
		curl_easy_cleanup(a->h);
	curl_slist_free_all(a->hdrs);
	free(a->url);
	free(a->body);
	free(a);
}

const char *pg_admin_error(const struct pg_admin *a)
{
	return a->err;
}

/* POST {"method": method, "data": data}; data is consumed.  On success *out
 * (if given) is the reply's "data" object, detached (caller frees). */
static int call(struct pg_admin *a, const char *method, cJSON *data, cJSON **out)
{
	cJSON *req = cJSON_CreateObject(), *res;
	const cJSON *ok, *err;
	char *text;
	long code = 0;
	CURLcode rc;

	cJSON_AddStringToObject(req, "method", method);
	cJSON_AddItemToObject(req, "data", data);
	text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (text == NULL) {
		snprintf(a->err, sizeof(a->err), "%s: out of memory", method);
		return -1;
	}
	a->len = 0;
	a->err[0] = '\0';
	a->curl_err[0] = '\0';
	curl_easy_setopt(a->h, CURLOPT_POSTFIELDS, text);
	rc = curl_easy_perform(a->h);
	free(text);
	if (rc != CURLE_OK) {
		snprintf(a->err, sizeof(a->err), "admin API %.200s unreachable (%s): %.200s", a->url,
			 method, a->curl_err[0] ? a->curl_err : curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(a->h, CURLINFO_RESPONSE_CODE, &code);
	res = a->len ? cJSON_Parse(a->body) : NULL;
	ok = cJSON_GetObjectItemCaseSensitive(res, "ok");
	if (!cJSON_IsBool(ok)) {
		snprintf(a->err, sizeof(a->err), "admin API %.200s: %s: HTTP %ld, not an admin reply%s%.120s",
			 a->url, method, code, a->len ? ": " : "", a->len ? a->body : "");
		cJSON_Delete(res);
		return -1;
	}
	if (!cJSON_IsTrue(ok)) {
		const cJSON *c, *m;

		err = cJSON_GetObjectItemCaseSensitive(res, "error");
		c = cJSON_GetObjectItemCaseSensitive(err, "code");
		m = cJSON_GetObjectItemCaseSensitive(err, "message");
		snprintf(a->err, sizeof(a->err), "admin API %s refused: %.60s: %.200s",
			 method, cJSON_IsString(c) ? c->valuestring : "?",
			 cJSON_IsString(m) ? m->valuestring : "?");
		cJSON_Delete(res);
		return -1;
	}
	if (out != NULL)
		*out = cJSON_DetachItemFromObjectCaseSensitive(res, "data");
	cJSON_Delete(res);
	return 0;
}

static int num_field(struct pg_admin *a, const cJSON *obj, const char *name, uint32_t *v)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > 4294967295.0) {
		snprintf(a->err, sizeof(a->err), "admin API reply without a valid %s", name);
		return -1;
	}
	*v = (uint32_t)n->valuedouble;
	return 0;
}

/* SplitMix64: distinct, reproducible key bytes per transport from the seed. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void derive_key(uint64_t seed, unsigned int tr, unsigned int dir, uint8_t out[30])
{
	for (unsigned int i = 0; i < 30; i++) {
		uint64_t w = mix(seed ^ ((uint64_t)tr << 20) ^ ((uint64_t)dir << 16) ^ (i / 8));

		out[i] = (uint8_t)(w >> (8 * (i % 8)));
	}
}

int pg_topo_plan(struct pg *g)
{
	const struct pg_config *c = &g->cfg;
	struct pg_topo *t = &g->topo;
	unsigned int kinds = (unsigned int)c->audio + (unsigned int)c->video;
	unsigned int pubs, consumers_per_stream, tx_per_room, rx_per_room;
	bool mesh = c->room_size > 0;

	t->tr_per_room = mesh ? c->room_size : c->publishers + c->subscribers;
	pubs = mesh ? c->room_size : c->publishers;
	consumers_per_stream = mesh ? c->room_size - 1 : c->subscribers;
	tx_per_room = pubs * kinds;
	rx_per_room = tx_per_room * consumers_per_stream;
	t->n_tr = c->rooms * t->tr_per_room;
	t->n_tx = c->rooms * tx_per_room;
	t->n_rx = c->rooms * rx_per_room;
	t->tr = calloc(t->n_tr, sizeof(*t->tr));
	t->tx = calloc(t->n_tx ? t->n_tx : 1, sizeof(*t->tx));
	t->rx = calloc(t->n_rx ? t->n_rx : 1, sizeof(*t->rx));
	if (t->tr == NULL || t->tx == NULL || t->rx == NULL)
		return -ENOMEM;

	for (unsigned int i = 0; i < t->n_tr; i++) {
		t->tr[i].room = i / t->tr_per_room;
		t->tr[i].port = (uint16_t)(c->base_port + i);
		derive_key(c->seed, i, 0, t->tr[i].recv_key);
		derive_key(c->seed, i, 1, t->tr[i].send_key);
	}
	{
		unsigned int s = 0, r = 0;

		for (unsigned int room = 0; room < c->rooms; room++) {
			unsigned int first = room * t->tr_per_room, s_room = s;

			for (unsigned int p = 0; p < pubs; p++)
				for (unsigned int k = 0; k < PG_KINDS; k++) {
					struct pg_tx_stream *x;

					if ((k == PG_AUDIO && !c->audio) || (k == PG_VIDEO && !c->video))
						continue;
					x = &t->tx[s];
					x->transport = first + p;
					x->room = room;
					x->kind = (enum pg_kind)k;
					x->ssrc = PG_SSRC_TX_BASE + s;
					x->fanout = consumers_per_stream;
					s++;
				}
			/* Consumers: mesh, every other participant; else every subscriber. */
			for (unsigned int si = s_room; si < s; si++)
				for (unsigned int j = 0; j < t->tr_per_room; j++) {
					unsigned int tr = first + j;
					struct pg_rx_stream *y;

					if (mesh ? tr == t->tx[si].transport : j < c->publishers)
						continue;
					y = &t->rx[r];
					y->transport = tr;
					y->src = si;
					y->kind = t->tx[si].kind;
					y->ssrc = PG_SSRC_RX_BASE + r;
					r++;
				}
		}
		t->n_tx = s;
		t->n_rx = r;
	}
	return 0;
}

static char *b64(const uint8_t *key, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, key, (int)len);
	return out;
}

int pg_topo_create(struct pg *g, struct pg_admin *a)
{
	const struct pg_config *c = &g->cfg;
	struct pg_topo *t = &g->topo;
	bool gcm = c->profile == SFU_SRTP_AEAD_AES_128_GCM;
	size_t klen = gcm ? 28 : 30;
	char ip[16];

	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", c->ip >> 24, (c->ip >> 16) & 255,
		 (c->ip >> 8) & 255, c->ip & 255);
	for (unsigned int i = 0; i < t->n_tr && !pg_quit; i++) {
		struct pg_transport *tr = &t->tr[i];
		cJSON *d = cJSON_CreateObject(), *srtp, *out = NULL;
		char room[64], k1[48], k2[48];
		uint32_t id, port = 0;

		snprintf(room, sizeof(room), "%s-%u", c->room_prefix, tr->room);
		cJSON_AddStringToObject(d, "room", room);
		cJSON_AddStringToObject(d, "remoteIp", ip);
		cJSON_AddNumberToObject(d, "remotePort", tr->port);
		srtp = cJSON_AddObjectToObject(d, "srtp");
		cJSON_AddStringToObject(srtp, "profile", gcm ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80");
		cJSON_AddStringToObject(srtp, "recvKey", b64(tr->recv_key, klen, k1));
		cJSON_AddStringToObject(srtp, "sendKey", b64(tr->send_key, klen, k2));
		if (call(a, "createPlainTransport", d, &out) < 0)
			return -1;
		if (num_field(a, out, "transportId", &id) < 0 || num_field(a, out, "port", &port) < 0 ||
		    id == 0 || port == 0 || port > 65535) {
			cJSON_Delete(out);
			return -1;
		}
		cJSON_Delete(out);
		tr->id = id;
		tr->sfu_port = (uint16_t)port;
	}
	for (unsigned int i = 0; i < t->n_tx && !pg_quit; i++) {
		struct pg_tx_stream *x = &t->tx[i];
		cJSON *d = cJSON_CreateObject(), *out = NULL;

		cJSON_AddNumberToObject(d, "transportId", t->tr[x->transport].id);
		cJSON_AddStringToObject(d, "kind", x->kind == PG_AUDIO ? "audio" : "video");
		cJSON_AddNumberToObject(d, "ssrc", x->ssrc);
		cJSON_AddNumberToObject(d, "payloadType", x->kind == PG_AUDIO ? PG_PT_AUDIO : PG_PT_VIDEO);
		if (call(a, "produce", d, &out) < 0)
			return -1;
		if (num_field(a, out, "producerId", &x->producer_id) < 0) {
			cJSON_Delete(out);
			return -1;
		}
		cJSON_Delete(out);
	}
	for (unsigned int i = 0; i < t->n_rx && !pg_quit; i++) {
		struct pg_rx_stream *y = &t->rx[i];
		cJSON *d = cJSON_CreateObject(), *out = NULL;

		cJSON_AddNumberToObject(d, "transportId", t->tr[y->transport].id);
		cJSON_AddNumberToObject(d, "producerId", t->tx[y->src].producer_id);
		cJSON_AddNumberToObject(d, "ssrc", y->ssrc);
		cJSON_AddNumberToObject(d, "payloadType", y->kind == PG_AUDIO ? PG_PT_AUDIO : PG_PT_VIDEO);
		if (call(a, "consume", d, &out) < 0)
			return -1;
		if (num_field(a, out, "consumerId", &y->consumer_id) < 0) {
			cJSON_Delete(out);
			return -1;
		}
		cJSON_Delete(out);
	}
	if (pg_quit) {
		snprintf(a->err, sizeof(a->err), "interrupted while creating transports");
		return -1;
	}
	return 0;
}

unsigned int pg_topo_close(struct pg *g, struct pg_admin *a)
{
	struct pg_topo *t = &g->topo;
	unsigned int failed = 0;

	for (unsigned int i = 0; i < t->n_tr; i++) {
		cJSON *d;

		if (t->tr[i].id == 0)
			continue;
		d = cJSON_CreateObject();
		cJSON_AddNumberToObject(d, "transportId", t->tr[i].id);
		if (call(a, "closeTransport", d, NULL) < 0) {
			failed++;
			/* An unreachable ctrl will not come back within this run. */
			if (strstr(a->err, "unreachable") != NULL) {
				for (unsigned int j = i + 1; j < t->n_tr; j++)
					failed += t->tr[j].id != 0;
				return failed;
			}
		}
		t->tr[i].id = 0;
	}
	return failed;
}

void pg_topo_free(struct pg *g)
{
	struct pg_topo *t = &g->topo;

	for (unsigned int i = 0; i < t->n_tr; i++) {
		sfu_srtp_ctx_free(t->tr[i].tx);
		sfu_srtp_ctx_free(t->tr[i].rx);
	}
	free(t->tr);
	free(t->tx);
	free(t->rx);
	memset(t, 0, sizeof(*t));
}
