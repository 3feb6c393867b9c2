/*
 * redis.c — multi-node coordination through Redis (hiredis, async on the
 * libuv loop; nothing here ever blocks the loop, name resolution included).
 *
 * Keys (all with TTLs, so a dead node's entries vanish by themselves):
 *   sfu:node:<node>           JSON {node, ip, rooms, peers, ts}, EX 15, every 5 s
 *   sfu:room:<room>           the node hosting the room, EX 30, refreshed every 5 s
 * Channels:
 *   sfu:room:<room>:events    JSON {node, type, data}: chat and captions from
 *                             peers on other nodes, delivered to ours
 *
 * Redis down: calls go on (Redis is never in the media or signaling path);
 * we reconnect with exponential backoff (0.5 s .. ctrl.redis_retry_max_ms,
 * default 30 s) and, once connected,
 * write the state back (node, rooms) and subscribe again.
 *
 * Threading: ctrl's event loop.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include "ctrl.h"

#define HEARTBEAT_MS 5000
#define BACKOFF_MIN_MS 500
/* A black-holed connect never completes: we time connects out ourselves. */
#define CONNECT_TIMEOUT_MS 2000

enum conn_state { R_IDLE, R_RESOLVING, R_CONNECTING, R_READY };

static struct {
	bool enabled;
	char host[128];
	uint16_t port;
	char ip[64];
	enum conn_state state;
	redisAsyncContext *cmd, *sub;
	bool cmd_up, sub_up;
	uv_timer_t retry, beat, watchdog;
	uv_getaddrinfo_t gai;
	uint64_t backoff_ms;
	uint64_t connects, disconnects, published, received;
} rd;

static void connect_now(void);

/*
 * hiredis <-> libuv.  Written here rather than using hiredis 0.14's
 * adapters/libuv.h, which ignores poll errors: a refused connect then never
 * reports and the poll handle spins on the error.  Here an error event is
 * handed to hiredis, which reads the socket error and calls back.
 */
struct uv_redis {
	redisAsyncContext *ac;
	uv_poll_t poll;
	int events;
};

static void uvr_event(uv_poll_t *h, int status, int events)
{
	struct uv_redis *u = h->data;

	if (status < 0) {
		/* Let hiredis see the error: a pending connect learns it on write. */
		events = (u->ac->c.flags & REDIS_CONNECTED) ? UV_READABLE : UV_WRITABLE;
	}
	if (u->ac != NULL && (events & UV_READABLE))
		redisAsyncHandleRead(u->ac);
	if (u->ac != NULL && (events & UV_WRITABLE))
		redisAsyncHandleWrite(u->ac);
}

static void uvr_update(struct uv_redis *u, int add, int del)
{
	u->events = (u->events | add) & ~del;
	if (u->events)
		uv_poll_start(&u->poll, u->events, uvr_event);
	else
		uv_poll_stop(&u->poll);
}

static void uvr_add_read(void *d) { uvr_update(d, UV_READABLE, 0); }
static void uvr_del_read(void *d) { uvr_update(d, 0, UV_READABLE); }
static void uvr_add_write(void *d) { uvr_update(d, UV_WRITABLE, 0); }
static void uvr_del_write(void *d) { uvr_update(d, 0, UV_WRITABLE); }

static void uvr_closed(uv_handle_t *h)
{
	free(h->data);
}

static void uvr_cleanup(void *d)
{
	struct uv_redis *u = d;

	u->ac = NULL; /* hiredis frees the context right after */
	uv_close((uv_handle_t *)&u->poll, uvr_closed);
}

static int uvr_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
	struct uv_redis *u = calloc(1, sizeof(*u));

	if (u == NULL || uv_poll_init(loop, &u->poll, ac->c.fd) != 0) {
		free(u);
		return -1;
	}
	u->ac = ac;
	u->poll.data = u;
	ac->ev.data = u;
	ac->ev.addRead = uvr_add_read;
	ac->ev.delRead = uvr_del_read;
	ac->ev.addWrite = uvr_add_write;
	ac->ev.delWrite = uvr_del_write;
	ac->ev.cleanup = uvr_cleanup;
	return 0;
}

bool redis_connected(void)
{
	return rd.state == R_READY;
}

static void schedule_retry(void)
{
	rd.backoff_ms = rd.backoff_ms ? rd.backoff_ms * 2 : BACKOFF_MIN_MS;
	if (rd.backoff_ms > ctrl.cfg.redis_retry_max_ms)
		rd.backoff_ms = ctrl.cfg.redis_retry_max_ms;
	rd.state = R_IDLE;
	uv_timer_start(&rd.retry, (uv_timer_cb)connect_now, rd.backoff_ms, 0);
}

/* Either connection failing takes both down and retries. */
static void lost(void)
{
	redisAsyncContext *c = rd.cmd, *s = rd.sub;

	if (rd.state == R_IDLE && c == NULL && s == NULL)
		return;
	rd.disconnects++;
	rd.cmd = rd.sub = NULL;
	rd.cmd_up = rd.sub_up = false;
	if (c != NULL)
		redisAsyncDisconnect(c);
	if (s != NULL)
		redisAsyncDisconnect(s);
	if (!uv_is_active((uv_handle_t *)&rd.retry))
		schedule_retry();
}

static void room_key_refresh(const struct ctrl_room *r)
{
	if (rd.cmd == NULL)
		return;
	redisAsyncCommand(rd.cmd, NULL, NULL, "SET sfu:room:%s %s EX 30", r->id, ctrl.cfg.node_id);
}

static void heartbeat(uv_timer_t *t)
{
	cJSON *j;
	char *s;

	(void)t;
	if (rd.state != R_READY)
		return;
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "node", ctrl.cfg.node_id);
	cJSON_AddNumberToObject(j, "rooms", ctrl.n_rooms);
	cJSON_AddNumberToObject(j, "peers", ctrl.n_peers);
	cJSON_AddNumberToObject(j, "ts", (double)ctrl_now_ms());
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (s != NULL)
		redisAsyncCommand(rd.cmd, NULL, NULL, "SET sfu:node:%s %s EX 15", ctrl.cfg.node_id, s);
	free(s);
	for (struct ctrl_room *r = ctrl.rooms; r; r = r->next)
		room_key_refresh(r);
}

/* A message from another node on a room channel. */
static void on_sub(redisAsyncContext *c, void *reply, void *priv)
{
	redisReply *r = reply;
	const cJSON *node, *type, *data;
	struct ctrl_room *room;
	char room_id[CTRL_ROOM_MAX + 1];
	cJSON *j;

	(void)c;
	(void)priv;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0)
		return;
	if (sscanf(r->element[1]->str, "sfu:room:%64[^:]:events", room_id) != 1 ||
	    (room = room_get(room_id, false)) == NULL)
		return;
	j = cJSON_ParseWithLength(r->element[2]->str, r->element[2]->len);
	node = cJSON_GetObjectItemCaseSensitive(j, "node");
	type = cJSON_GetObjectItemCaseSensitive(j, "type");
	data = cJSON_GetObjectItemCaseSensitive(j, "data");
	/* Our own publications come back too: those peers were told already. */
	if (cJSON_IsString(node) && strcmp(node->valuestring, ctrl.cfg.node_id) != 0 &&
	    cJSON_IsString(type) && cJSON_IsObject(data) &&
	    (strcmp(type->valuestring, "chat") == 0 || strcmp(type->valuestring, "caption") == 0)) {
		rd.received++;
		room_broadcast(room, NULL, type->valuestring, cJSON_Duplicate(data, true));
	}
	cJSON_Delete(j);
}

static void subscribe(const struct ctrl_room *r)
{
	if (rd.sub != NULL && rd.sub_up)
		redisAsyncCommand(rd.sub, on_sub, NULL, "SUBSCRIBE sfu:room:%s:events", r->id);
}

/* Both connections up: write our state back. */
static void ready(void)
{
	if (!rd.cmd_up || !rd.sub_up)
		return;
	rd.state = R_READY;
	rd.backoff_ms = 0;
	uv_timer_stop(&rd.watchdog);
	rd.connects++;
	fprintf(stderr, "sfu-ctrl: redis %s:%u connected; restoring %u rooms\n", rd.ip, rd.port,
		ctrl.n_rooms);
	heartbeat(NULL);
	for (struct ctrl_room *r = ctrl.rooms; r; r = r->next)
		subscribe(r);
}

static void on_auth(redisAsyncContext *c, void *reply, void *priv)
{
	redisReply *r = reply;

	(void)priv;
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "sfu-ctrl: redis AUTH failed: %s\n", r ? r->str : "no reply");
		lost();
		return;
	}
	if (c == rd.cmd)
		rd.cmd_up = true;
	else
		rd.sub_up = true;
	ready();
}

static void on_connect(const redisAsyncContext *c, int status)
{
	if (status != REDIS_OK) {
		if (c == rd.cmd)
			rd.cmd = NULL; /* hiredis frees a context that failed to connect */
		else if (c == rd.sub)
			rd.sub = NULL;
		lost();
		return;
	}
	if (ctrl.cfg.redis_password[0] != '\0') {
		redisAsyncCommand((redisAsyncContext *)c, on_auth, NULL, "AUTH %s",
				  ctrl.cfg.redis_password);
		return;
	}
	on_auth((redisAsyncContext *)c, &(redisReply){ .type = REDIS_REPLY_STATUS }, NULL);
}

static void on_disconnect(const redisAsyncContext *c, int status)
{
	(void)status;
	if (!rd.enabled)
		return; /* redis_stop() */
	if (c == rd.cmd)
		rd.cmd = NULL;
	else if (c == rd.sub)
		rd.sub = NULL;
	else
		return; /* one we let go of in lost() */
	fprintf(stderr, "sfu-ctrl: redis connection lost (%s); calls go on, reconnecting\n",
		c->errstr[0] ? c->errstr : "closed");
	lost();
}

static redisAsyncContext *open_ctx(void)
{
	redisAsyncContext *c = redisAsyncConnect(rd.ip, rd.port);

	if (c == NULL || c->err) {
		if (c != NULL)
			redisAsyncFree(c);
		return NULL;
	}
	if (uvr_attach(c, ctrl.loop) < 0) {
		redisAsyncFree(c);
		return NULL;
	}
	redisAsyncSetConnectCallback(c, on_connect);
	redisAsyncSetDisconnectCallback(c, on_disconnect);
	return c;
}

static void on_watchdog(uv_timer_t *t)
{
	(void)t;
	if (rd.state != R_READY)
		lost();
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	(void)req;
	if (status != 0 || res == NULL) {
		if (res != NULL)
			uv_freeaddrinfo(res);
		schedule_retry();
		return;
	}
	inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, rd.ip, sizeof(rd.ip));
	uv_freeaddrinfo(res);
	rd.state = R_CONNECTING;
	uv_timer_start(&rd.watchdog, on_watchdog, CONNECT_TIMEOUT_MS, 0);
	rd.cmd = open_ctx();
	rd.sub = open_ctx();
	if (rd.cmd == NULL || rd.sub == NULL)
		lost();
}

static void connect_now(void)
{
	static const struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };

	rd.state = R_RESOLVING;
	if (uv_getaddrinfo(ctrl.loop, &rd.gai, on_resolved, rd.host, NULL, &hints) != 0)
		schedule_retry();
}

int redis_start(void)
{
	const char *colon;

	if (ctrl.cfg.redis_host[0] == '\0')
		return 0;
	/* REDIS_HOST is "host" or "host:port". */
	colon = strrchr(ctrl.cfg.redis_host, ':');
	snprintf(rd.host, sizeof(rd.host), "%.*s",
		 colon ? (int)(colon - ctrl.cfg.redis_host) : (int)strlen(ctrl.cfg.redis_host),
		 ctrl.cfg.redis_host);
	rd.port = colon ? (uint16_t)atoi(colon + 1) : ctrl.cfg.redis_port;
	rd.enabled = true;
	uv_timer_init(ctrl.loop, &rd.retry);
	uv_timer_init(ctrl.loop, &rd.beat);
	uv_timer_init(ctrl.loop, &rd.watchdog);
	uv_timer_start(&rd.beat, heartbeat, HEARTBEAT_MS, HEARTBEAT_MS);
	connect_now();
	return 0;
}

static void closed_cb(uv_handle_t *h)
{
	(void)h;
}

void redis_stop(void)
{
	if (!rd.enabled)
		return;
	if (rd.cmd != NULL && rd.state == R_READY)
		redisAsyncCommand(rd.cmd, NULL, NULL, "DEL sfu:node:%s", ctrl.cfg.node_id);
	rd.enabled = false;
	uv_timer_stop(&rd.retry);
	uv_timer_stop(&rd.beat);
	uv_timer_stop(&rd.watchdog);
	uv_close((uv_handle_t *)&rd.watchdog, closed_cb);
	uv_close((uv_handle_t *)&rd.retry, closed_cb);
	uv_close((uv_handle_t *)&rd.beat, closed_cb);
	{
		redisAsyncContext *c = rd.cmd, *sb = rd.sub;

		rd.cmd = rd.sub = NULL;
		if (c != NULL)
			redisAsyncDisconnect(c);
		if (sb != NULL)
			redisAsyncDisconnect(sb);
	}
}

void redis_room_active(const struct ctrl_room *r)
{
	if (rd.state != R_READY)
		return; /* written back on (re)connect */
	room_key_refresh(r);
	subscribe(r);
}

void redis_room_inactive(const struct ctrl_room *r)
{
	if (rd.state != R_READY)
		return;
	redisAsyncCommand(rd.cmd, NULL, NULL, "DEL sfu:room:%s", r->id);
	redisAsyncCommand(rd.sub, NULL, NULL, "UNSUBSCRIBE sfu:room:%s:events", r->id);
}

void redis_publish(const struct ctrl_room *r, const char *type, const cJSON *data)
{
	cJSON *j;
	char *s;

	if (rd.state != R_READY)
		return;
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "node", ctrl.cfg.node_id);
	cJSON_AddStringToObject(j, "type", type);
	cJSON_AddItemToObject(j, "data", cJSON_Duplicate(data, true));
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (s != NULL) {
		redisAsyncCommand(rd.cmd, NULL, NULL, "PUBLISH sfu:room:%s:events %s", r->id, s);
		rd.published++;
	}
	free(s);
}

void redis_stats(cJSON *o)
{
	cJSON_AddBoolToObject(o, "enabled", rd.enabled);
	cJSON_AddBoolToObject(o, "connected", rd.state == R_READY);
	cJSON_AddNumberToObject(o, "connects", (double)rd.connects);
	cJSON_AddNumberToObject(o, "disconnects", (double)rd.disconnects);
	cJSON_AddNumberToObject(o, "published", (double)rd.published);
	cJSON_AddNumberToObject(o, "received", (double)rd.received);
}
