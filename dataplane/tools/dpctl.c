/*
 * dpctl.c — sfu-dpctl: a command-line client of the data plane over the
 * attach library.  It creates plain transports, producers and consumers with
 * given SRTP keys, reads counters, and stays attached on request; tests and
 * perf drive the data plane with it until (and beside) sfu-ctrl.
 *
 *   sfu-dpctl [-p PREFIX] COMMAND [ARGS]      one command
 *   sfu-dpctl [-p PREFIX] batch FILE|-        one command per line; "NAME = COMMAND"
 *                                             keeps the printed id as $NAME
 *   sfu-dpctl [-p PREFIX] telemetry CMD       DPDK telemetry query (no attach)
 *
 * Threading: single-threaded DPDK secondary.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ring.h>

#include "sfu_attach.h"
#include "sfu_config.h"
#include "sfu_srtp.h"

#define CALL_TIMEOUT_MS 3000
#define MAX_VARS 256
#define DPCTL_LCORE_ID 120

static struct sfu_client *client;
static struct {
	char name[32];
	char value[32];
} vars[MAX_VARS];
static unsigned int n_vars;
static volatile sig_atomic_t stop;
static uint32_t last_id; /* the id the last *-add printed, for batch variables */
static const char *cur_name; /* batch: the variable the current line assigns */

static void usage(void)
{
	fprintf(stderr,
		"usage: sfu-dpctl [-p FILE_PREFIX] COMMAND ...\n"
		"  ping\n"
		"  transport-add [room=N] [kind=plain|webrtc] [port=N]     prints the id\n"
		"  transport-bind ID IP:PORT [local=N]\n"
		"  transport-keys ID gcm|cm RX_KEY_HEX TX_KEY_HEX          key||salt each\n"
		"  transport-remove ID\n"
		"  producer-add TRANSPORT ssrc=N pt=N [kind=audio|video] [rtx_ssrc=N rtx_pt=N]\n"
		"               [clock=N] [tap=1] [paused=1]               prints the id\n"
		"  producer-remove ID | producer-pause ID 0|1 | producer-tap ID 0|1\n"
		"  consumer-add TRANSPORT PRODUCER ssrc=N pt=N [paused=1]  prints the id\n"
		"  consumer-remove ID | consumer-pause ID 0|1\n"
		"  packet-out IP:PORT HEX [local=N]                         send a datagram\n"
		"  listen SECONDS                  attach as ctrl, print PACKET_IN for SECONDS\n"
		"  tap-listen SECONDS              read the tap ring as sfu-tap would\n"
		"  stats [all]                     counters (non-zero unless 'all') and gauges\n"
		"  hold SECONDS                    stay attached (tests kill it to play a crash)\n"
		"  batch FILE|-                    many commands over one attach\n"
		"  telemetry CMD                   query DPDK telemetry, e.g. /sfu/stats\n");
}

static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s == '\0' || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end != '\0' || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_addr(const char *s, uint32_t *ip, uint16_t *port)
{
	char buf[64], *colon;
	uint32_t p;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	colon = strrchr(buf, ':');
	if (colon == NULL)
		return -EINVAL;
	*colon = '\0';
	if (sfu_parse_ipv4(buf, ip) < 0 || parse_u32(colon + 1, &p) < 0 || p == 0 || p > 65535)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

static int parse_hex(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > max)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		out[i] = (uint8_t)b;
	}
	*len = n / 2;
	return 0;
}

/* key=value options after the positional arguments. */
static const char *opt(int argc, char **argv, const char *key)
{
	size_t kl = strlen(key);

	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], key, kl) == 0 && argv[i][kl] == '=')
			return argv[i] + kl + 1;
	return NULL;
}

static int opt_u32(int argc, char **argv, const char *key, uint32_t def, uint32_t *out)
{
	const char *v = opt(argc, argv, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (parse_u32(v, out) < 0) {
		fprintf(stderr, "sfu-dpctl: %s=%s: not a number\n", key, v);
		return -EINVAL;
	}
	return 0;
}

static int call(struct sfu_msg *m, uint32_t *id)
{
	struct sfu_msg_reply r;
	const char *what = sfu_msg_type_name(m->type);
	int ret = sfu_client_call(client, m, &r, CALL_TIMEOUT_MS, NULL, NULL);

	if (ret < 0) {
		fprintf(stderr, "sfu-dpctl: %s: %s (%d)\n", what, strerror(-ret), ret);
		return ret;
	}
	if (id != NULL)
		*id = r.id;
	last_id = r.id;
	return 0;
}

/* An *-add's result: "ID", or "NAME = ID" on a batch line that assigns. */
static void print_id(uint32_t id)
{
	if (cur_name != NULL)
		printf("%s = %u\n", cur_name, id);
	else
		printf("%u\n", id);
}

static struct sfu_msg *msg(enum sfu_msg_type type)
{
	struct sfu_msg *m = sfu_client_msg_alloc(client, type);

	if (m == NULL)
		fprintf(stderr, "sfu-dpctl: message pool empty\n");
	return m;
}

static int print_stats(bool all)
{
	const struct sfu_shared *sh = sfu_client_shared(client);

	for (int i = 0; i < SFU_CNT_N; i++) {
		uint64_t v = sfu_stats_sum_counter(sh, (enum sfu_counter)i);

		if (v || all)
			printf("%s %" PRIu64 "\n", sfu_counter_names[i], v);
	}
	for (int i = 0; i < SFU_DROP_N; i++) {
		uint64_t v = sfu_stats_sum_drop(sh, (enum sfu_drop)i);

		if (v || all)
			printf("drop_%s %" PRIu64 "\n", sfu_drop_names[i], v);
	}
	printf("transports %" PRIu64 "\nproducers %" PRIu64 "\nconsumers %" PRIu64
	       "\nneighbors %" PRIu64 "\nworkers %" PRIu64 "\ntsc_hz %" PRIu64 "\n",
	       sh->gauges.transports, sh->gauges.producers, sh->gauges.consumers,
	       sh->gauges.neighbors, sh->gauges.workers, sh->gauges.tsc_hz);
	printf("port_ipackets %" PRIu64 "\nport_opackets %" PRIu64 "\nport_imissed %" PRIu64
	       "\nport_ierrors %" PRIu64 "\nport_oerrors %" PRIu64 "\nport_rx_nombuf %" PRIu64 "\n",
	       sh->gauges.port_ipackets, sh->gauges.port_opackets, sh->gauges.port_imissed,
	       sh->gauges.port_ierrors, sh->gauges.port_oerrors, sh->gauges.port_rx_nombuf);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int listen_ctrl(uint32_t seconds)
{
	for (uint64_t t = 0; t < (uint64_t)seconds * 1000 && !stop; t++) {
		struct sfu_msg *m;

		while ((m = sfu_client_recv(client)) != NULL) {
			if (m->type == SFU_MSG_PACKET_IN) {
				const struct sfu_msg_packet *p = &m->u.packet;

				printf("packet_in transport=%u from=%u.%u.%u.%u:%u local=%u len=%u "
				       "first=%u\n", p->transport, p->tuple.remote_ip >> 24,
				       (p->tuple.remote_ip >> 16) & 255,
				       (p->tuple.remote_ip >> 8) & 255, p->tuple.remote_ip & 255,
				       p->tuple.remote_port, p->tuple.local_port, p->len,
				       p->len ? p->data[0] : 0);
				fflush(stdout);
			}
			sfu_msg_free(m);
		}
		usleep(1000);
	}
	return 0;
}

/* Read the tap ring as sfu-tap would: one line per mirrored packet. */
static int tap_listen(uint32_t seconds)
{
	struct rte_ring *r = sfu_ring(SFU_RING_TAP);
	unsigned int n = 0;

	if (r == NULL) {
		fprintf(stderr, "sfu-dpctl: no tap ring\n");
		return -ENOENT;
	}
	for (uint64_t t = 0; t < (uint64_t)seconds * 1000 && !stop; t++) {
		void *obj;

		while (rte_ring_dequeue(r, &obj) == 0) {
			struct sfu_msg *m = obj;
			const struct sfu_msg_tap_rtp *tr = &m->u.tap_rtp;
			const uint8_t *d = tr->data;

			if (m->type == SFU_MSG_TAP_RTP && tr->len >= 12) {
				unsigned int cc = d[0] & 0x0f, off = 12 + 4 * cc;

				if ((d[0] & 0x10) && off + 4 <= tr->len)
					off += 4 + 4 * (((unsigned int)d[off + 2] << 8) | d[off + 3]);
				printf("tap producer=%u transport=%u len=%u ssrc=%u seq=%u payload=",
				       tr->producer, tr->transport, tr->len,
				       (unsigned int)d[8] << 24 | (unsigned int)d[9] << 16 |
				       (unsigned int)d[10] << 8 | d[11],
				       (unsigned int)d[2] << 8 | d[3]);
				for (unsigned int i = off; i < off + 8 && i < tr->len; i++)
					printf("%02x", d[i]);
				printf("\n");
				n++;
			}
			sfu_msg_free(m);
		}
		usleep(1000);
	}
	printf("tap_received=%u\n", n);
	return 0;
}

static int run(int argc, char **argv);

/* Substitute $NAME arguments from earlier "NAME = command" lines. */
static int run_line(char *line)
{
	char *args[32], *save = NULL, *eq, *name = NULL;
	int n = 0, ret;

	line[strcspn(line, "\n#")] = '\0';
	eq = strstr(line, " = ");
	if (eq != NULL) {
		*eq = '\0';
		name = line;
		line = eq + 3;
	}
	for (char *tok = strtok_r(line, " \t", &save); tok && n < 31;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (tok[0] == '$') {
			unsigned int i;

			for (i = 0; i < n_vars && strcmp(vars[i].name, tok + 1) != 0; i++)
				;
			if (i == n_vars) {
				fprintf(stderr, "sfu-dpctl: unknown variable %s\n", tok);
				return -EINVAL;
			}
			tok = vars[i].value;
		}
		args[n++] = tok;
	}
	if (n == 0)
		return 0;
	args[n] = NULL;
	last_id = 0;
	cur_name = name;
	ret = run(n, args);
	cur_name = NULL;
	if (ret == 0 && name != NULL) {
		if (n_vars == MAX_VARS || strlen(name) >= sizeof(vars[0].name)) {
			fprintf(stderr, "sfu-dpctl: too many variables or name too long\n");
			return -EINVAL;
		}
		strcpy(vars[n_vars].name, name);
		snprintf(vars[n_vars].value, sizeof(vars[0].value), "%u", last_id);
		n_vars++;
	}
	return ret;
}

static int batch(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char line[1024];
	int ret = 0;

	if (f == NULL) {
		fprintf(stderr, "sfu-dpctl: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while (ret == 0 && fgets(line, sizeof(line), f) != NULL)
		ret = run_line(line);
	if (f != stdin)
		fclose(f);
	return ret;
}

static int cmd_transport_add(int argc, char **argv)
{
	const char *kind = opt(argc, argv, "kind");
	struct sfu_msg *m;
	uint32_t room, port, id;

	if (opt_u32(argc, argv, "room", 0, &room) || opt_u32(argc, argv, "port", 0, &port) ||
	    port > 65535)
		return -EINVAL;
	m = msg(SFU_MSG_TRANSPORT_ADD);
	if (m == NULL)
		return -ENOMEM;
	m->u.transport_add.room = room;
	m->u.transport_add.kind = (kind && strcmp(kind, "webrtc") == 0) ? SFU_TRANSPORT_WEBRTC
									  : SFU_TRANSPORT_PLAIN;
	m->u.transport_add.local_port = (uint16_t)port;
	if (call(m, &id) < 0)
		return -EIO;
	print_id(id);
	return 0;
}

static int cmd_transport_bind(int argc, char **argv)
{
	struct sfu_msg *m;
	uint32_t id, ip, local;
	uint16_t port;

	if (argc < 3 || parse_u32(argv[1], &id) < 0 || parse_addr(argv[2], &ip, &port) < 0 ||
	    opt_u32(argc, argv, "local", 0, &local) < 0 || local > 65535)
		return -EINVAL;
	m = msg(SFU_MSG_TRANSPORT_BIND);
	if (m == NULL)
		return -ENOMEM;
	m->u.transport_bind.id = id;
	m->u.transport_bind.tuple.remote_ip = ip;
	m->u.transport_bind.tuple.remote_port = port;
	m->u.transport_bind.tuple.local_port = (uint16_t)local;
	return call(m, NULL) < 0 ? -EIO : 0;
}

static int cmd_transport_keys(int argc, char **argv)
{
	struct sfu_msg *m;
	enum sfu_srtp_profile prof;
	size_t want, rl, tl;
	uint8_t rx[32], tx[32];
	uint32_t id;

	if (argc < 5 || parse_u32(argv[1], &id) < 0)
		return -EINVAL;
	if (strcmp(argv[2], "gcm") == 0)
		prof = SFU_SRTP_AEAD_AES_128_GCM;
	else if (strcmp(argv[2], "cm") == 0)
		prof = SFU_SRTP_AES128_CM_SHA1_80;
	else
		return -EINVAL;
	want = SFU_SRTP_MASTER_KEY_LEN + sfu_srtp_salt_len(prof);
	if (parse_hex(argv[3], rx, sizeof(rx), &rl) < 0 || parse_hex(argv[4], tx, sizeof(tx), &tl) < 0 ||
	    rl != want || tl != want) {
		fprintf(stderr, "sfu-dpctl: keys must be %zu bytes of hex (key||salt)\n", want);
		return -EINVAL;
	}
	m = msg(SFU_MSG_TRANSPORT_KEYS);
	if (m == NULL)
		return -ENOMEM;
	m->u.transport_keys.id = id;
	m->u.transport_keys.profile = (uint16_t)prof;
	memcpy(m->u.transport_keys.rx_key, rx, rl);
	memcpy(m->u.transport_keys.tx_key, tx, tl);
	return call(m, NULL) < 0 ? -EIO : 0;
}

static int cmd_producer_add(int argc, char **argv)
{
	const char *kind = opt(argc, argv, "kind");
	struct sfu_msg_producer_add *a;
	struct sfu_msg *m;
	uint32_t t, ssrc, pt, rtx_ssrc, rtx_pt, clock, tap, paused, id;

	if (argc < 2 || parse_u32(argv[1], &t) < 0 || opt_u32(argc, argv, "ssrc", 0, &ssrc) ||
	    opt_u32(argc, argv, "pt", 0, &pt) || opt_u32(argc, argv, "rtx_ssrc", 0, &rtx_ssrc) ||
	    opt_u32(argc, argv, "rtx_pt", 0, &rtx_pt) || opt_u32(argc, argv, "clock", 0, &clock) ||
	    opt_u32(argc, argv, "tap", 0, &tap) || opt_u32(argc, argv, "paused", 0, &paused) ||
	    pt > 255 || rtx_pt > 255)
		return -EINVAL;
	m = msg(SFU_MSG_PRODUCER_ADD);
	if (m == NULL)
		return -ENOMEM;
	a = &m->u.producer_add;
	a->transport = t;
	a->kind = (kind && strcmp(kind, "audio") == 0) ? SFU_MEDIA_AUDIO : SFU_MEDIA_VIDEO;
	a->ssrc = ssrc;
	a->rtx_ssrc = rtx_ssrc;
	a->pt = (uint8_t)pt;
	a->rtx_pt = (uint8_t)rtx_pt;
	a->clock_rate = clock ? clock : (a->kind == SFU_MEDIA_AUDIO ? 48000 : 90000);
	a->tap = tap != 0;
	a->paused = paused != 0;
	if (call(m, &id) < 0)
		return -EIO;
	print_id(id);
	return 0;
}

static int cmd_consumer_add(int argc, char **argv)
{
	struct sfu_msg_consumer_add *a;
	struct sfu_msg *m;
	uint32_t t, p, ssrc, pt, rtx_ssrc, rtx_pt, paused, id;

	if (argc < 3 || parse_u32(argv[1], &t) < 0 || parse_u32(argv[2], &p) < 0 ||
	    opt_u32(argc, argv, "ssrc", 0, &ssrc) || opt_u32(argc, argv, "pt", 0, &pt) ||
	    opt_u32(argc, argv, "rtx_ssrc", 0, &rtx_ssrc) ||
	    opt_u32(argc, argv, "rtx_pt", 0, &rtx_pt) ||
	    opt_u32(argc, argv, "paused", 0, &paused) || pt > 255 || rtx_pt > 255)
		return -EINVAL;
	m = msg(SFU_MSG_CONSUMER_ADD);
	if (m == NULL)
		return -ENOMEM;
	a = &m->u.consumer_add;
	a->transport = t;
	a->producer = p;
	a->ssrc = ssrc;
	a->pt = (uint8_t)pt;
	a->rtx_ssrc = rtx_ssrc;
	a->rtx_pt = (uint8_t)rtx_pt;
	a->paused = paused != 0;
	if (call(m, &id) < 0)
		return -EIO;
	print_id(id);
	return 0;
}

static int cmd_id(enum sfu_msg_type type, int argc, char **argv)
{
	struct sfu_msg *m;
	uint32_t id;

	if (argc < 2 || parse_u32(argv[1], &id) < 0)
		return -EINVAL;
	m = msg(type);
	if (m == NULL)
		return -ENOMEM;
	m->u.id.id = id;
	return call(m, NULL) < 0 ? -EIO : 0;
}

static int cmd_flag(enum sfu_msg_type type, int argc, char **argv)
{
	struct sfu_msg *m;
	uint32_t id, on;

	if (argc < 3 || parse_u32(argv[1], &id) < 0 || parse_u32(argv[2], &on) < 0 || on > 1)
		return -EINVAL;
	m = msg(type);
	if (m == NULL)
		return -ENOMEM;
	m->u.flag.id = id;
	m->u.flag.on = (uint8_t)on;
	return call(m, NULL) < 0 ? -EIO : 0;
}

static int cmd_packet_out(int argc, char **argv)
{
	struct sfu_msg *m;
	uint32_t ip, local;
	uint16_t port;
	uint8_t data[SFU_MSG_DATA_MAX];
	size_t len;

	if (argc < 3 || parse_addr(argv[1], &ip, &port) < 0 ||
	    parse_hex(argv[2], data, sizeof(data), &len) < 0 || len == 0 ||
	    opt_u32(argc, argv, "local", 0, &local) < 0 || local > 65535)
		return -EINVAL;
	m = msg(SFU_MSG_PACKET_OUT);
	if (m == NULL)
		return -ENOMEM;
	m->u.packet.tuple.remote_ip = ip;
	m->u.packet.tuple.remote_port = port;
	m->u.packet.tuple.local_port = (uint16_t)local;
	m->u.packet.len = (uint16_t)len;
	memcpy(m->u.packet.data, data, len);
	return sfu_client_send(client, m) < 0 ? -ENOBUFS : 0;
}

static int run(int argc, char **argv)
{
	const char *c = argv[0];
	uint32_t secs;

	if (strcmp(c, "ping") == 0) {
		printf("ok channel=%u workers=%u\n", sfu_client_channel(client),
		       sfu_client_shared(client)->n_workers);
		return 0;
	}
	if (strcmp(c, "transport-add") == 0)
		return cmd_transport_add(argc, argv);
	if (strcmp(c, "transport-bind") == 0)
		return cmd_transport_bind(argc, argv);
	if (strcmp(c, "transport-keys") == 0)
		return cmd_transport_keys(argc, argv);
	if (strcmp(c, "transport-remove") == 0)
		return cmd_id(SFU_MSG_TRANSPORT_REMOVE, argc, argv);
	if (strcmp(c, "producer-add") == 0)
		return cmd_producer_add(argc, argv);
	if (strcmp(c, "producer-remove") == 0)
		return cmd_id(SFU_MSG_PRODUCER_REMOVE, argc, argv);
	if (strcmp(c, "producer-pause") == 0)
		return cmd_flag(SFU_MSG_PRODUCER_PAUSE, argc, argv);
	if (strcmp(c, "producer-tap") == 0)
		return cmd_flag(SFU_MSG_PRODUCER_TAP, argc, argv);
	if (strcmp(c, "consumer-add") == 0)
		return cmd_consumer_add(argc, argv);
	if (strcmp(c, "consumer-remove") == 0)
		return cmd_id(SFU_MSG_CONSUMER_REMOVE, argc, argv);
	if (strcmp(c, "consumer-pause") == 0)
		return cmd_flag(SFU_MSG_CONSUMER_PAUSE, argc, argv);
	if (strcmp(c, "packet-out") == 0)
		return cmd_packet_out(argc, argv);
	if (strcmp(c, "stats") == 0)
		return print_stats(argc > 1 && strcmp(argv[1], "all") == 0);
	if (strcmp(c, "listen") == 0 && argc > 1 && parse_u32(argv[1], &secs) == 0)
		return listen_ctrl(secs);
	if (strcmp(c, "tap-listen") == 0 && argc > 1 && parse_u32(argv[1], &secs) == 0)
		return tap_listen(secs);
	if (strcmp(c, "hold") == 0 && argc > 1 && parse_u32(argv[1], &secs) == 0) {
		printf("holding\n");
		fflush(stdout);
		for (uint64_t t = 0; t < (uint64_t)secs * 10 && !stop; t++)
			usleep(100000);
		return 0;
	}
	if (strcmp(c, "batch") == 0 && argc > 1)
		return batch(argv[1]);
	usage();
	return -EINVAL;
}

/* DPDK telemetry v2: a SOCK_SEQPACKET socket; the server greets, then
 * answers one JSON object per command. */
static int telemetry(const char *prefix, const char *cmd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[65536];
	ssize_t n;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "/var/run/dpdk/%s/dpdk_telemetry.v2", prefix);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "sfu-dpctl: telemetry %s: %s\n", sun.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0 || write(fd, cmd, strlen(cmd)) < 0 || (n = read(fd, buf, sizeof(buf) - 1)) <= 0) {
		fprintf(stderr, "sfu-dpctl: telemetry: no answer\n");
		close(fd);
		return 1;
	}
	buf[n] = '\0';
	printf("%s\n", buf);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *prefix = getenv("SFU_FILE_PREFIX");
	enum sfu_role role = SFU_ROLE_TOOL;
	int opt_c, ret;

	if (prefix == NULL)
		prefix = "sfu";
	while ((opt_c = getopt(argc, argv, "+p:h")) != -1) {
		if (opt_c == 'p') {
			prefix = optarg;
		} else {
			usage();
			return opt_c == 'h' ? 0 : 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage();
		return 2;
	}
	if (strcmp(argv[0], "telemetry") == 0)
		return argc > 1 ? telemetry(prefix, argv[1]) : 2;
	if (strcmp(argv[0], "listen") == 0)
		role = SFU_ROLE_CTRL;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ret = sfu_attach_eal("sfu-dpctl", prefix, DPCTL_LCORE_ID);
	if (ret < 0) {
		fprintf(stderr, "sfu-dpctl: cannot attach to the data plane '%s': %s\n", prefix,
			strerror(-ret));
		return 1;
	}
	client = sfu_client_open(role, CALL_TIMEOUT_MS);
	if (client == NULL) {
		fprintf(stderr, "sfu-dpctl: no channel to the data plane: %s\n", strerror(errno));
		rte_eal_cleanup();
		return 1;
	}
	ret = run(argc, argv);
	if (ret == -EINVAL)
		fprintf(stderr, "sfu-dpctl: bad arguments to '%s'\n", argv[0]);
	sfu_client_close(client);
	rte_eal_cleanup();
	return ret < 0 ? 1 : 0;
}
