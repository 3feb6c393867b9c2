/*
 * sttd_api.c — the contract of tap/STT-API.md: the stream table and the
 * reply of each endpoint (status and JSON body), independent of HTTP
 * plumbing.  Error statuses: 400 malformed (bad JSON, bad id, wrong audio
 * format, odd byte count), 404 unknown stream, 409 chunk out of order (with
 * expectedSeq), 503 stream table full (with Retry-After), 500 the recognizer
 * failed (the stream is dropped).  413 is decided from Content-Length before
 * the body is read, in sttd_http.c.
 *
 * Threading: sfu-sttd's service loop only.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "sttd.h"

uint64_t sttd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int sttd_api_init(struct sttd *d, struct stt_ps_engine *engine, unsigned int max_streams)
{
	d->streams = calloc(max_streams, sizeof(*d->streams));
	if (d->streams == NULL)
		return -ENOMEM;
	d->engine = engine;
	d->max_streams = max_streams;
	d->n_streams = 0;
	return 0;
}

static void stream_free(struct sttd *d, struct sttd_stream *st)
{
	stt_ps_session_free(st->ps);
	memset(st, 0, sizeof(*st));
	d->n_streams--;
}

void sttd_api_fini(struct sttd *d)
{
	for (unsigned int i = 0; i < d->max_streams && d->streams != NULL; i++)
		if (d->streams[i].used)
			stream_free(d, &d->streams[i]);
	free(d->streams);
	d->streams = NULL;
}

unsigned int sttd_api_sweep(struct sttd *d, uint64_t now_ms)
{
	unsigned int freed = 0;

	for (unsigned int i = 0; i < d->max_streams; i++) {
		struct sttd_stream *st = &d->streams[i];

		if (st->used && now_ms - st->last_ms > STTD_IDLE_MS) {
			stream_free(d, st);
			freed++;
		}
	}
	d->cnt.streams_idle += freed;
	return freed;
}

/* 1-128 characters of A-Z a-z 0-9 _ - . / : */
static bool id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > STTD_ID_MAX)
		return false;
	return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./:") == n;
}

static struct sttd_stream *stream_find(struct sttd *d, const char *id)
{
	for (unsigned int i = 0; i < d->max_streams; i++)
		if (d->streams[i].used && strcmp(d->streams[i].id, id) == 0)
			return &d->streams[i];
	return NULL;
}

/* Serialise obj (consumed) as the reply's body. */
static void reply_json(struct sttd_reply *r, unsigned int status, cJSON *obj)
{
	free(r->body);
	r->body = obj != NULL ? cJSON_PrintUnformatted(obj) : NULL;
	cJSON_Delete(obj);
	r->status = status;
	if (r->body == NULL) {
		r->status = 500;
		r->body = strdup("{\"error\":\"out of memory\"}");
	}
}

void sttd_api_error(struct sttd_reply *r, unsigned int status, const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	if (o != NULL)
		cJSON_AddStringToObject(o, "error", msg);
	reply_json(r, status, o);
}

void sttd_api_health(struct sttd *d, struct sttd_reply *r)
{
	cJSON *o = cJSON_CreateObject();

	if (o != NULL) {
		cJSON_AddStringToObject(o, "status", "ok");
		cJSON_AddStringToObject(o, "engine", "pocketsphinx");
		cJSON_AddNumberToObject(o, "streams", d->n_streams);
		cJSON_AddNumberToObject(o, "maxStreams", d->max_streams);
	}
	reply_json(r, 200, o);
}

/*
 * Parse a JSON object body and its streamId.  On failure the reply is the
 * 400 and NULL is returned; else the caller owns the object and *id points
 * into it.
 */
static cJSON *parse_body(const char *body, size_t len, const char **id, struct sttd_reply *r)
{
	cJSON *o = cJSON_ParseWithLength(body, len), *v;

	if (o == NULL || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		sttd_api_error(r, 400, "body is not a JSON object");
		return NULL;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "streamId");
	if (!cJSON_IsString(v) || !id_valid(v->valuestring)) {
		cJSON_Delete(o);
		sttd_api_error(r, 400, "streamId: 1-128 characters of A-Z a-z 0-9 _ - . / :");
		return NULL;
	}
	*id = v->valuestring;
	return o;
}

/* The audio format fields, each optional, must say 16 kHz mono s16le. */
static const char *format_error(const cJSON *o)
{
	const cJSON *rate = cJSON_GetObjectItemCaseSensitive(o, "sampleRate");
	const cJSON *ch = cJSON_GetObjectItemCaseSensitive(o, "channels");
	const cJSON *enc = cJSON_GetObjectItemCaseSensitive(o, "encoding");
	const cJSON *lang = cJSON_GetObjectItemCaseSensitive(o, "language");

	if (rate != NULL && (!cJSON_IsNumber(rate) || rate->valuedouble != STT_PS_SAMPLE_RATE))
		return "sampleRate must be 16000";
	if (ch != NULL && (!cJSON_IsNumber(ch) || ch->valuedouble != 1))
		return "channels must be 1";
	if (enc != NULL && (!cJSON_IsString(enc) || strcmp(enc->valuestring, "pcm_s16le") != 0))
		return "encoding must be pcm_s16le";
	if (lang != NULL && !cJSON_IsString(lang))
		return "language must be a string";
	return NULL;
}

void sttd_api_stream_start(struct sttd *d, const char *body, size_t len, struct sttd_reply *r)
{
	struct sttd_stream *st;
	const char *id, *bad;
	cJSON *o = parse_body(body, len, &id, r), *out;

	if (o == NULL)
		return;
	bad = format_error(o);
	if (bad != NULL) {
		sttd_api_error(r, 400, bad);
		cJSON_Delete(o);
		return;
	}
	/* Starting an id that exists restarts it. */
	st = stream_find(d, id);
	if (st != NULL) {
		stream_free(d, st);
	} else if (d->n_streams >= d->max_streams) {
		sttd_api_error(r, 503, "too many streams");
		r->retry_after = STTD_RETRY_AFTER_S;
		cJSON_Delete(o);
		return;
	}
	for (st = d->streams; st->used; st++)
		;
	st->ps = stt_ps_session_new(d->engine);
	if (st->ps == NULL) {
		sttd_api_error(r, 500, "recognizer failed to start");
		cJSON_Delete(o);
		return;
	}
	st->used = true;
	snprintf(st->id, sizeof(st->id), "%s", id);
	st->next_seq = 0;
	st->last_ms = sttd_now_ms();
	d->n_streams++;
	d->cnt.streams_started++;
	out = cJSON_CreateObject();
	if (out != NULL)
		cJSON_AddStringToObject(out, "streamId", st->id);
	cJSON_Delete(o);
	reply_json(r, 200, out);
}

/* {"streamId": …, ["seq": …,] "results": [...]} */
static cJSON *results_json(const char *id, const uint64_t *seq, const struct stt_ps_result *res,
			   int n)
{
	cJSON *o = cJSON_CreateObject(), *arr;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "streamId", id);
	if (seq != NULL)
		cJSON_AddNumberToObject(o, "seq", (double)*seq);
	arr = cJSON_AddArrayToObject(o, "results");
	for (int i = 0; arr != NULL && i < n; i++) {
		cJSON *x = cJSON_CreateObject();

		if (x == NULL)
			break;
		cJSON_AddStringToObject(x, "text", res[i].text);
		cJSON_AddBoolToObject(x, "final", res[i].final);
		cJSON_AddNumberToObject(x, "startMs", (double)res[i].start_ms);
		cJSON_AddNumberToObject(x, "endMs", (double)res[i].end_ms);
		cJSON_AddItemToArray(arr, x);
	}
	return o;
}

/* seq: decimal, at most 15 digits (exact as a JSON number). */
static bool parse_seq(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = 0;

	for (; s[n] >= '0' && s[n] <= '9'; n++)
		v = v * 10 + (uint64_t)(s[n] - '0');
	if (n == 0 || n > 15 || s[n] != '\0')
		return false;
	*out = v;
	return true;
}

void sttd_api_chunk(struct sttd *d, const char *id, const char *seq, uint8_t *pcm, size_t len,
		    struct sttd_reply *r)
{
	struct stt_ps_result res[STT_PS_MAX_RESULTS];
	struct sttd_stream *st;
	uint64_t n_seq;
	int16_t *samples = (int16_t *)(void *)pcm;
	int n;

	if (id == NULL || !id_valid(id)) {
		sttd_api_error(r, 400, "streamId: 1-128 characters of A-Z a-z 0-9 _ - . / :");
		return;
	}
	if (seq == NULL || !parse_seq(seq, &n_seq)) {
		sttd_api_error(r, 400, "seq: a decimal number");
		return;
	}
	if (len % 2 != 0) {
		sttd_api_error(r, 400, "odd byte count: the body is 16-bit samples");
		return;
	}
	if (len > STTD_CHUNK_MAX) {
		sttd_api_error(r, 413, "chunk larger than 32000 bytes");
		return;
	}
	st = stream_find(d, id);
	if (st == NULL) {
		sttd_api_error(r, 404, "unknown stream");
		return;
	}
	st->last_ms = sttd_now_ms();
	if (n_seq != st->next_seq) {
		cJSON *o = cJSON_CreateObject();

		if (o != NULL) {
			cJSON_AddStringToObject(o, "error", "chunk out of order");
			cJSON_AddNumberToObject(o, "expectedSeq", (double)st->next_seq);
		}
		reply_json(r, 409, o);
		return;
	}
	/* The body is malloc'd, so aligned; samples are little-endian. */
	for (size_t i = 0; i < len / 2; i++)
		samples[i] = (int16_t)le16toh((uint16_t)samples[i]);
	n = stt_ps_feed(st->ps, len > 0 ? samples : NULL, len / 2, res, STT_PS_MAX_RESULTS);
	if (n < 0) {
		stream_free(d, st);
		sttd_api_error(r, 500, "recognizer failed; the stream is gone");
		return;
	}
	st->next_seq++;
	d->cnt.chunks++;
	d->cnt.results += (uint64_t)n;
	reply_json(r, 200, results_json(st->id, &n_seq, res, n));
}

void sttd_api_stream_end(struct sttd *d, const char *body, size_t len, struct sttd_reply *r)
{
	struct stt_ps_result res[1];
	struct sttd_stream *st;
	const char *id;
	cJSON *o = parse_body(body, len, &id, r), *out;
	int n;

	if (o == NULL)
		return;
	st = stream_find(d, id);
	cJSON_Delete(o);
	if (st == NULL) {
		sttd_api_error(r, 404, "unknown stream");
		return;
	}
	n = stt_ps_end(st->ps, res, 1);
	out = results_json(st->id, NULL, res, n > 0 ? n : 0);
	stream_free(d, st);
	d->cnt.streams_ended++;
	d->cnt.results += n > 0 ? (uint64_t)n : 0;
	reply_json(r, 200, out);
}
