/*
 * sttd.c — sfu-sttd: the speech-to-text HTTP service of tap/STT-API.md on the
 * embedded pocketsphinx recognizer, so the HTTP path of sfu-tap runs for real
 * and a faster-whisper service has a reference to match.
 *
 *   sfu-sttd [--port N] [--bind ADDR] [--max-streams N] [--model DIR]
 *
 * Defaults: port 8001, 127.0.0.1, 16 streams, Debian's pocketsphinx-en-us.
 * Bounds: streams (--max-streams, then 503), bodies (32000-byte chunks, 4 KB
 * of JSON, else 413), connections (STTD_MAX_FDS), idle streams (freed after
 * 60 s), header data (2 KB per request).  Prints one "listening" line when
 * ready; exits 0 on SIGTERM/SIGINT after freeing every stream.
 *
 * Threading: one thread, libwebsockets' service loop; the signal handler
 * only sets force_quit (the once-a-second sweep timer bounds how long the
 * loop can sleep before it sees it).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>

#include "sttd.h"

#define STTD_MAX_FDS 1024
#define SWEEP_US (1 * LWS_US_PER_SEC)

static volatile sig_atomic_t force_quit;

static void on_signal(int sig)
{
	(void)sig;
	force_quit = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sfu-sttd [--port N] [--bind ADDR] [--max-streams N] [--model DIR]\n"
		"  --port N         TCP port (default %d)\n"
		"  --bind ADDR      address to listen on (default %s)\n"
		"  --max-streams N  concurrent streams, 1-%d (default %d)\n"
		"  --model DIR      pocketsphinx model in Debian's layout (default %s)\n",
		STTD_DEFAULT_PORT, STTD_DEFAULT_BIND, STTD_MAX_STREAMS_LIMIT,
		STTD_DEFAULT_MAX_STREAMS, STT_PS_DEFAULT_MODEL_DIR);
}

static bool parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/*
 * libwebsockets waits (retrying every 30 s) for an address that is not
 * there yet; sfu-sttd wants to fail at once.  So bind a throwaway socket to
 * ADDR:0 first.  An interface name is left to libwebsockets.
 */
static bool bind_addr_usable(const char *addr, char *why, size_t len)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int fd, rc, err;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		sl = sizeof(*a4);
	} else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		sl = sizeof(*a6);
	} else if (if_nametoindex(addr) != 0) {
		return true;
	} else {
		snprintf(why, len, "not an IP address or interface name");
		return false;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true; /* let libwebsockets say */
	rc = bind(fd, (struct sockaddr *)&ss, sl);
	err = errno;
	close(fd);
	if (rc < 0) {
		snprintf(why, len, "%s", strerror(err));
		return false;
	}
	return true;
}

/* Free idle streams; runs every second, which also wakes the loop. */
static void sweep(lws_sorted_usec_list_t *sul)
{
	struct sttd *d = lws_container_of(sul, struct sttd, sweep);

	sttd_api_sweep(d, sttd_now_ms());
	lws_sul_schedule(d->ctx, 0, &d->sweep, sweep, SWEEP_US);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "max-streams", required_argument, NULL, 'm' },
		{ "model", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct lws_protocols protocols[2]; /* ours, then the terminator */
	struct lws_context_creation_info info;
	unsigned long port = STTD_DEFAULT_PORT, max_streams = STTD_DEFAULT_MAX_STREAMS;
	const char *bind_addr = STTD_DEFAULT_BIND, *model = NULL;
	struct in6_addr a6;
	struct sigaction sa;
	struct sttd d;
	char err[256];
	int opt, rc = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (!parse_uint(optarg, 1, 65535, &port)) {
				fprintf(stderr, "sfu-sttd: --port %s: want 1-65535\n", optarg);
				return 2;
			}
			break;
		case 'b':
			bind_addr = strcmp(optarg, "localhost") == 0 ? "127.0.0.1" : optarg;
			break;
		case 'm':
			if (!parse_uint(optarg, 1, STTD_MAX_STREAMS_LIMIT, &max_streams)) {
				fprintf(stderr, "sfu-sttd: --max-streams %s: want 1-%d\n", optarg,
					STTD_MAX_STREAMS_LIMIT);
				return 2;
			}
			break;
		case 'M':
			model = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	if (!bind_addr_usable(bind_addr, err, sizeof(err))) {
		fprintf(stderr, "sfu-sttd: --bind %s: %s\n", bind_addr, err);
		return 1;
	}
	memset(&d, 0, sizeof(d));
	d.engine = stt_ps_engine_new(model, err, sizeof(err));
	if (d.engine == NULL) {
		fprintf(stderr, "sfu-sttd: recognizer: %s\n", err);
		return 1;
	}
	if (sttd_api_init(&d, d.engine, (unsigned int)max_streams) < 0) {
		fprintf(stderr, "sfu-sttd: stream table: %s\n", strerror(ENOMEM));
		stt_ps_engine_free(d.engine);
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lws_set_log_level(LLL_ERR, NULL);
	protocols[0] = sttd_http_protocol;
	memset(&info, 0, sizeof(info));
	info.port = (int)port;
	info.iface = bind_addr;
	info.protocols = protocols;
	info.user = &d;
	info.fd_limit_per_thread = STTD_MAX_FDS;
	info.max_http_header_data = 2048;
	info.keepalive_timeout = 30;
	info.timeout_secs = 10;
	/* An IPv4 address can only be bound by an IPv4-only listener. */
	if (inet_pton(AF_INET6, bind_addr, &a6) != 1)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	d.ctx = lws_create_context(&info);
	if (d.ctx == NULL) {
		fprintf(stderr, "sfu-sttd: cannot listen on %s port %lu\n", bind_addr, port);
		sttd_api_fini(&d);
		stt_ps_engine_free(d.engine);
		return 1;
	}
	lws_sul_schedule(d.ctx, 0, &d.sweep, sweep, SWEEP_US);
	printf("sfu-sttd: listening on http://%s:%lu (max %lu streams)\n", bind_addr, port,
	       max_streams);
	fflush(stdout);

	while (!force_quit)
		if (lws_service(d.ctx, 0) < 0) {
			fprintf(stderr, "sfu-sttd: service loop failed\n");
			rc = 1;
			break;
		}

	lws_sul_cancel(&d.sweep);
	lws_context_destroy(d.ctx);
	printf("sfu-sttd: %llu requests (2xx %llu, 4xx %llu, 5xx %llu), %llu streams started, "
	       "%llu ended, %llu idle, %llu chunks, %llu results\n",
	       (unsigned long long)d.cnt.requests, (unsigned long long)d.cnt.status[2],
	       (unsigned long long)d.cnt.status[4], (unsigned long long)d.cnt.status[5],
	       (unsigned long long)d.cnt.streams_started, (unsigned long long)d.cnt.streams_ended,
	       (unsigned long long)d.cnt.streams_idle, (unsigned long long)d.cnt.chunks,
	       (unsigned long long)d.cnt.results);
	sttd_api_fini(&d);
	stt_ps_engine_free(d.engine);
	return rc;
}
