/*
 * sfu-wsprobe.c — a raw WebSocket client for signaling tests: sends frames
 * exactly as given (malformed ones included) and prints every frame the
 * server sends back, one per line.
 *
 *   sfu-wsprobe --url ws[s]://HOST:PORT/ws [--insecure] [--idle-ms T]
 *               [--big N] [--flood N] [--binary] < frames.txt
 * stdin: one frame per line, sent in order (an empty line sends an empty frame).
 * --big N sends one text frame of N bytes ('{' then spaces), --flood N sends N
 * getRouterRtpCapabilities requests back to back, --binary one binary frame.
 * It exits when the server has been silent for --idle-ms (default 1000) after
 * the last frame, or the server closed: "closed" is printed then.
 *
 * Threading: single-threaded libwebsockets client.
 */
#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#define MAX_FRAMES 100000

static char **frames;
static size_t *frame_len;
static unsigned int n_frames, next_frame;
static bool binary_frame, closed, connected, failed;
static uint64_t last_rx_ms;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	(void)user;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		connected = true;
		last_rx_ms = now_ms();
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		fwrite(in, 1, len, stdout);
		if (lws_is_final_fragment(wsi))
			fputc('\n', stdout);
		fflush(stdout);
		last_rx_ms = now_ms();
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE: {
		unsigned char *buf;
		size_t l;
		int n;

		if (next_frame >= n_frames)
			break;
		l = frame_len[next_frame];
		buf = malloc(LWS_PRE + l + 1);
		if (buf == NULL)
			return -1;
		memcpy(buf + LWS_PRE, frames[next_frame], l);
		n = lws_write(wsi, buf + LWS_PRE, l, binary_frame && next_frame == 0 ? LWS_WRITE_BINARY
										   : LWS_WRITE_TEXT);
		free(buf);
		if (n < (int)l)
			return -1;
		next_frame++;
		last_rx_ms = now_ms();
		if (next_frame < n_frames)
			lws_callback_on_writable(wsi);
		break;
	}
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		fprintf(stderr, "sfu-wsprobe: connection error: %s\n", in ? (char *)in : "?");
		failed = true;
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		printf("closed\n");
		fflush(stdout);
		closed = true;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "sfu-v1", callback, 0, 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void add_frame(char *data, size_t len)
{
	if (n_frames == MAX_FRAMES) {
		free(data);
		return;
	}
	frames[n_frames] = data;
	frame_len[n_frames++] = len;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "idle-ms", required_argument, NULL, 'i' },
		{ "big", required_argument, NULL, 'b' },
		{ "flood", required_argument, NULL, 'f' },
		{ "binary", no_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	struct lws_context_creation_info info;
	struct lws_client_connect_info cc;
	struct lws_context *ctx;
	const char *url = NULL, *prot, *path;
	char urlbuf[256], line[65536];
	unsigned long idle = 1000, big = 0, flood = 0;
	bool insecure = false;
	uint64_t deadline;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'k': insecure = true; break;
		case 'i': idle = strtoul(optarg, NULL, 10); break;
		case 'b': big = strtoul(optarg, NULL, 10); break;
		case 'f': flood = strtoul(optarg, NULL, 10); break;
		case 'B': binary_frame = true; break;
		default:
			fprintf(stderr, "usage: sfu-wsprobe --url ws[s]://HOST:PORT/ws [--insecure] "
				"[--idle-ms T] [--big N] [--flood N] [--binary] < frames\n");
			return 2;
		}
	}
	if (url == NULL || strlen(url) >= sizeof(urlbuf) || flood > MAX_FRAMES - 1) {
		fprintf(stderr, "sfu-wsprobe: --url required\n");
		return 2;
	}
	frames = calloc(MAX_FRAMES, sizeof(*frames));
	frame_len = calloc(MAX_FRAMES, sizeof(*frame_len));
	if (binary_frame)
		add_frame(strdup("\x01\x02\x03"), 3);
	if (big > 0) {
		char *b = malloc(big);

		memset(b, ' ', big);
		b[0] = '{';
		add_frame(b, big);
	}
	for (unsigned long i = 0; i < flood; i++) {
		char *f = malloc(96);

		add_frame(f, (size_t)snprintf(f, 96, "{\"id\":%lu,\"method\":\"getRouterRtpCapabilities\"}", i));
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t l = strcspn(line, "\n");

		add_frame(strndup(line, l), l);
	}

	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	ctx = lws_create_context(&info);
	if (ctx == NULL)
		return 1;
	strcpy(urlbuf, url);
	memset(&cc, 0, sizeof(cc));
	cc.context = ctx;
	if (lws_parse_uri(urlbuf, &prot, &cc.address, &cc.port, &path)) {
		fprintf(stderr, "sfu-wsprobe: bad url\n");
		return 2;
	}
	snprintf(line, sizeof(line), "/%s", path);
	cc.path = line;
	cc.host = cc.address;
	cc.origin = cc.address;
	cc.protocol = "sfu-v1";
	if (strcmp(prot, "wss") == 0)
		cc.ssl_connection = LCCSCF_USE_SSL | (insecure ? LCCSCF_ALLOW_SELFSIGNED |
					LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_INSECURE : 0);
	if (lws_client_connect_via_info(&cc) == NULL) {
		fprintf(stderr, "sfu-wsprobe: cannot connect\n");
		return 1;
	}
	/* Bounded: 30 s at most whatever happens. */
	deadline = now_ms() + 30000;
	last_rx_ms = now_ms();
	while (!closed && !failed && now_ms() < deadline) {
		lws_service(ctx, 50);
		if (connected && next_frame >= n_frames && now_ms() - last_rx_ms > idle)
			break;
		if (!connected && now_ms() - last_rx_ms > 5000)
			failed = true;
	}
	lws_context_destroy(ctx);
	return failed ? 1 : 0;
}
