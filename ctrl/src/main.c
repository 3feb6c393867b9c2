/*
 * main.c — sfu-ctrl: the control process, a DPDK secondary of the data plane.
 *
 * One libuv loop drives everything: libwebsockets (HTTPS + wss on PORT, and
 * plain HTTP + ws on 127.0.0.1:http_port for the local browser), a 2 ms timer
 * draining the data plane's event ring (STUN/DTLS packets), a 20 ms timer for
 * ICE consent and DTLS retransmissions, and the signals.  SIGTERM/SIGINT
 * drain: new joins are refused (DRAINING), peers are told (serverShutdown),
 * and after ctrl.drain_ms (or once the last peer left) everything is torn
 * down in the data plane and the process exits.
 *
 * Threading: single-threaded (the loop).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libwebsockets.h>
#include <uv.h>

#include "ctrl.h"
#include "sfu_attach.h"

struct ctrl_state ctrl;

static uv_loop_t loop;
static uv_timer_t poll_timer, tick_timer, drain_timer;
static uv_signal_t sig_int, sig_term;
static uint64_t drain_deadline;

uint64_t ctrl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void ctrl_make_id(char *buf, const char *prefix)
{
	snprintf(buf, CTRL_ID_LEN, "%s%lu", prefix, (unsigned long)++ctrl.next_id);
}

static void on_poll(uv_timer_t *t)
{
	(void)t;
	dpc_poll();
}

static void on_tick(uv_timer_t *t)
{
	(void)t;
	webrtc_tick(ctrl_now_ms());
}

static void on_closed(uv_handle_t *h)
{
	(void)h;
}

static void stop_all(void)
{
	/* Everyone leaves: their transports, producers and consumers go from
	 * the data plane too. */
	while (ctrl.rooms != NULL && ctrl.rooms->peers != NULL)
		room_leave(ctrl.rooms->peers); /* the last one out frees the room */
	uv_timer_stop(&poll_timer);
	uv_timer_stop(&tick_timer);
	uv_timer_stop(&drain_timer);
	uv_close((uv_handle_t *)&poll_timer, on_closed);
	uv_close((uv_handle_t *)&tick_timer, on_closed);
	uv_close((uv_handle_t *)&drain_timer, on_closed);
	uv_close((uv_handle_t *)&sig_int, on_closed);
	uv_close((uv_handle_t *)&sig_term, on_closed);
	redis_stop();
	lws_context_destroy(ctrl.lws);
	ctrl.lws = NULL;
}

static void on_drain(uv_timer_t *t)
{
	(void)t;
	if (ctrl.n_peers == 0 || ctrl_now_ms() >= drain_deadline)
		stop_all();
}

static void on_signal(uv_signal_t *s, int signum)
{
	(void)s;
	if (ctrl.draining) {
		stop_all(); /* a second signal: now */
		return;
	}
	fprintf(stderr, "sfu-ctrl: signal %d: draining (%u peers)\n", signum, ctrl.n_peers);
	ctrl.draining = true;
	for (struct ctrl_room *r = ctrl.rooms; r; r = r->next) {
		cJSON *d = cJSON_CreateObject();

		cJSON_AddNumberToObject(d, "retryAfterMs", 1000);
		room_broadcast(r, NULL, "serverShutdown", d);
	}
	drain_deadline = ctrl_now_ms() + ctrl.cfg.drain_ms;
	uv_timer_start(&drain_timer, on_drain, 50, 50);
}

/* http, sfu-v1, terminator: filled in main() (the structs live in http.c, ws.c) */
static struct lws_protocols vh_protocols[3];

static const struct lws_protocol_vhost_options mime_js = {
	NULL, NULL, ".mjs", "text/javascript",
};

static struct lws_http_mount mounts[5];

static void setup_mounts(void)
{
	static const char *const dyn[] = { "/health", "/metrics", "/stats", "/admin" };

	for (int i = 0; i < 4; i++) {
		mounts[i].mount_next = &mounts[i + 1];
		mounts[i].mountpoint = dyn[i];
		mounts[i].mountpoint_len = (unsigned char)strlen(dyn[i]);
		mounts[i].origin = "http";
		mounts[i].origin_protocol = LWSMPRO_CALLBACK;
	}
	mounts[4].mountpoint = "/";
	mounts[4].mountpoint_len = 1;
	mounts[4].origin = ctrl.cfg.web_root;
	mounts[4].def = "index.html";
	mounts[4].origin_protocol = LWSMPRO_FILE;
	mounts[4].extra_mimetypes = &mime_js;
}

static int make_vhost(const char *name, uint16_t port, const char *iface, bool tls)
{
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof(info));
	info.vhost_name = name;
	info.port = port;
	info.iface = (iface && *iface) ? iface : NULL;
	info.protocols = vh_protocols;
	info.mounts = mounts;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	if (tls) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = ctrl.cfg.tls_cert;
		info.ssl_private_key_filepath = ctrl.cfg.tls_key;
	}
	if (lws_create_vhost(ctrl.lws, &info) == NULL) {
		fprintf(stderr, "sfu-ctrl: cannot listen on %s:%u (%s)\n",
			info.iface ? info.iface : "*", port, name);
		return -1;
	}
	return 0;
}

static int ensure_tls_files(void)
{
	char dir[256], *slash;

	snprintf(dir, sizeof(dir), "%s", ctrl.cfg.tls_cert);
	slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		mkdir(dir, 0700);
	}
	return dtls_write_tls_cert_files(ctrl.cfg.tls_cert, ctrl.cfg.tls_key, "sfu-ctrl");
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	void *foreign[1] = { &loop };
	char err[256];
	int ret;

	ret = ctrl_config_load(&ctrl.cfg, argc, argv, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "sfu-ctrl: %s\n", err);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	ctrl.started_ms = ctrl_now_ms();
	ret = dpc_open();
	if (ret < 0) {
		fprintf(stderr, "sfu-ctrl: cannot attach to the data plane '%s': %s\n",
			ctrl.cfg.file_prefix, strerror(-ret));
		return 1;
	}
	ctrl.cert = dtls_cert_new();
	if (ctrl.cert == NULL) {
		fprintf(stderr, "sfu-ctrl: cannot create the DTLS certificate\n");
		return 1;
	}
	if (ensure_tls_files() < 0) {
		fprintf(stderr, "sfu-ctrl: cannot write %s / %s\n", ctrl.cfg.tls_cert,
			ctrl.cfg.tls_key);
		return 1;
	}

	uv_loop_init(&loop);
	ctrl.loop = &loop;
	vh_protocols[0] = http_protocol;
	vh_protocols[1] = ws_protocol;
	setup_mounts();
	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		       LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.foreign_loops = foreign;
	info.protocols = vh_protocols;
	ctrl.lws = lws_create_context(&info);
	if (ctrl.lws == NULL) {
		fprintf(stderr, "sfu-ctrl: libwebsockets init failed\n");
		return 1;
	}
	if (make_vhost("tls", ctrl.cfg.port, ctrl.cfg.bind_addr, true) < 0 ||
	    (ctrl.cfg.http_port && make_vhost("local", ctrl.cfg.http_port, "127.0.0.1", false) < 0)) {
		lws_context_destroy(ctrl.lws);
		return 1;
	}
	uv_timer_init(&loop, &poll_timer);
	uv_timer_init(&loop, &tick_timer);
	uv_timer_init(&loop, &drain_timer);
	uv_timer_start(&poll_timer, on_poll, 2, 2);
	uv_timer_start(&tick_timer, on_tick, 20, 20);
	uv_signal_init(&loop, &sig_int);
	uv_signal_init(&loop, &sig_term);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	redis_start();

	printf("sfu-ctrl: ready: https/wss on port %u, http on 127.0.0.1:%u, data plane '%s' "
	       "(%u workers), DTLS fingerprint %s\n",
	       ctrl.cfg.port, ctrl.cfg.http_port, ctrl.cfg.file_prefix, ctrl.sh->n_workers,
	       dtls_cert_fingerprint(ctrl.cert));
	fflush(stdout);

	uv_run(&loop, UV_RUN_DEFAULT);

	uv_loop_close(&loop);
	dtls_cert_free(ctrl.cert);
	dpc_close();
	printf("sfu-ctrl: stopped\n");
	return 0;
}
