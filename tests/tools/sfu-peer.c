/*
 * sfu-peer.c — a test host's SRTP endpoint: sends and receives SRTP and SRTCP
 * over plain UDP sockets, protected and checked with Debian's libsrtp2, the
 * reference implementation.  The data plane has its own SRTP; integration tests
 * use this tool on the hosts so that every packet is checked by an independent one.
 *
 * Subcommands (usage() has the options):
 *   send       paced RTP (RFC 3550) with deterministic payloads, or malformed packets
 *   recv       unprotect, check SSRC/PT/payload/sequence, print one summary line
 *   rtcp       send SRTCP feedback: PLI, FIR or generic NACK (RFC 4585, RFC 5104)
 *   rtcp-recv  unprotect SRTCP, print one line per RTCP packet
 *
 * A payload is a 4-byte big-endian packet index followed by bytes generated from
 * (seed, index), so a receiver regenerates and compares it byte for byte whatever
 * the SFU rewrote in the header.
 *
 * Sharing a port: `send` also unprotects SRTCP arriving on its socket (feedback
 * from the SFU to a producer), and `recv` SRTCP arriving on its own; `rtcp` sends
 * from --bind's address and port through a raw socket, without binding it, so it
 * can run beside a `recv` on the same port without taking that port's packets.
 *
 * Threading: single-threaded.  Every loop is bounded by a packet count, a
 * deadline, or both; SIGINT/SIGTERM end a loop early and the summary is printed.
 * Exit status: 0 after the summary, 1 on a runtime error (socket, bind, libsrtp2
 * set-up), 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <srtp2/srtp.h>

#define PEER_MAX_PAYLOAD 9000
/* RTP header: 12 fixed + 15 CSRCs + one-byte extension block (4 + 4). */
#define PEER_MAX_HDR (12 + 15 * 4 + 8)
#define PEER_BUF_LEN (PEER_MAX_HDR + PEER_MAX_PAYLOAD + SRTP_MAX_TRAILER_LEN + 64)
#define PEER_RX_BURST 64       /* datagrams read per wake-up */
#define PEER_MAX_RTCP_PARTS 32 /* RTCP packets printed per compound */
#define PEER_MAX_INDEX_SKIP 1000000

#define NS_PER_S 1000000000ull
#define NS_PER_MS 1000000ull

enum peer_cmd {
	CMD_SEND = 1 << 0,
	CMD_RECV = 1 << 1,
	CMD_RTCP = 1 << 2,
	CMD_RTCP_RECV = 1 << 3,
};

enum peer_profile {
	PROFILE_NONE,
	PROFILE_GCM, /* AEAD_AES_128_GCM, RFC 7714: 16-byte key + 12-byte salt */
	PROFILE_CM,  /* AES_CM_128_HMAC_SHA1_80, RFC 3711: 16-byte key + 14-byte salt */
};

enum peer_bad {
	BAD_NONE,
	BAD_AUTH,     /* valid SRTP, last tag byte flipped */
	BAD_REPLAY,   /* a valid packet, then the same bytes again */
	BAD_TRUNCATE, /* a valid packet cut to 10 bytes */
	BAD_GARBAGE,  /* random bytes that look like RTP by their first byte */
	BAD_SHORT,    /* a 1-byte UDP payload */
	BAD_EXT,      /* valid SRTP whose extension's element (id 1) runs past its block */
};

enum peer_rtcp_type {
	RTCP_NONE,
	RTCP_PLI,  /* PSFB FMT 1, RFC 4585 6.3.1 */
	RTCP_FIR,  /* PSFB FMT 4, RFC 5104 4.3.1 */
	RTCP_NACK, /* RTPFB FMT 1, RFC 4585 6.2.1 */
};

struct peer_opts {
	enum peer_cmd cmd;
	struct sockaddr_in bind_addr, to_addr;
	bool has_bind, has_to;
	enum peer_profile profile;
	const char *key_hex, *rx_key_hex;
	uint8_t key[SRTP_MAX_KEY_LEN], rx_key[SRTP_MAX_KEY_LEN];
	uint32_t ssrc, pt, count, size, rate, seq, ts, ts_step, seed, csrc;
	bool ext;
	enum peer_bad bad;
	uint32_t timeout_ms, linger_ms, interval_ms;
	uint32_t expect_ssrc, expect_pt;
	bool has_ssrc, has_pt, has_count, has_expect_ssrc, has_expect_pt, has_media;
	enum peer_rtcp_type rtcp_type;
	uint32_t media_ssrc, nack_pid, nack_blp, index_skip;
	bool compound;
};

/* Counters of every receiving mode; printed as key=value. */
struct peer_stats {
	uint32_t received, decrypted, auth_fail, replay_fail, other_fail;
	uint32_t ssrc_ok, pt_ok, payload_ok, seq_gaps, ts_back;
	uint32_t seq_first, seq_last, ts_last, ssrc, pt;
	bool have_first;
	uint32_t rtcp_received, rtcp_packets, rtcp_auth_fail, rtcp_replay_fail, rtcp_other_fail;
};

static volatile sig_atomic_t stop_requested;

static const char usage_text[] =
	"usage: sfu-peer send --bind IP:PORT --to IP:PORT --profile gcm|cm --key HEX\n"
	"                --ssrc N --pt N --count N [--size BYTES] [--rate PPS] [--seq N]\n"
	"                [--ts N] [--ts-step N] [--seed N] [--csrc N] [--ext] [--bad MODE]\n"
	"                [--rx-key HEX] [--linger-ms T]\n"
	"       sfu-peer recv --bind IP:PORT --profile gcm|cm --key HEX --count N\n"
	"                --timeout-ms T [--expect-ssrc N] [--expect-pt N] [--seed N] [--size BYTES]\n"
	"       sfu-peer rtcp --bind IP:PORT --to IP:PORT --profile gcm|cm --key HEX\n"
	"                --ssrc SENDER --type pli|fir|nack --media-ssrc N [--nack-pid N]\n"
	"                [--nack-blp N] [--compound] [--count N] [--interval-ms T] [--index N]\n"
	"       sfu-peer rtcp-recv --bind IP:PORT --profile gcm|cm --key HEX --timeout-ms T\n"
	"                [--count N]\n"
	"\n"
	"HEX is the master key then salt: 56 hex digits for gcm (16+12 bytes), 60 for cm (16+14).\n"
	"send: payload = 4-byte big-endian index + bytes from (seed, index); --size counts both\n"
	"  (default 1200); --rate 0 sends unpaced (default 1000); --ts-step default 960;\n"
	"  --ext adds an RFC 8285 one-byte extension (id 1, audio level); --bad MODE sends\n"
	"  --count malformed packets instead: auth, replay (each packet twice), truncate,\n"
	"  garbage, short, ext (valid SRTP, the --ext element's length past its block).\n"
	"  SRTCP arriving on the socket is unprotected with --rx-key (default\n"
	"  --key) while sending and for --linger-ms after.  Prints sent=N (datagrams) ...\n"
	"recv: stops after --count RTP datagrams (0: no limit) or --timeout-ms; SRTCP arriving is\n"
	"  printed too.  Prints received= decrypted= auth_fail= replay_fail= other_fail=\n"
	"  ssrc_ok= pt_ok= payload_ok= seq_gaps= seq_first= seq_last= ts_back= ssrc= pt=\n"
	"  rtcp_received= rtcp_auth_fail=  (failures = auth_fail + replay_fail + other_fail)\n"
	"rtcp: --count packets (default 1) --interval-ms apart (default 20); --index N starts\n"
	"  the SRTCP index N higher, so a later run with the same keys is not a replay;\n"
	"  --compound puts an empty receiver report first.\n"
	"rtcp-recv: prints 'rtcp pt= fmt= sender= media=' per packet, then rtcp_received=\n"
	"  rtcp_packets= auth_fail= replay_fail= other_fail=\n"
	"Numbers are decimal or 0x hex.  Exit 0 after the summary, 1 on error, 2 on usage.\n";

static void __attribute__((noreturn)) usage_error(const char *fmt, const char *arg)
{
	fputs("sfu-peer: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n\n", stderr);
	fputs(usage_text, stderr);
	exit(2);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* SplitMix64 step: a small, well-mixed generator; the same everywhere. */
static uint64_t mix_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The payload of packet `index`: index (big-endian), then generated bytes. */
static void payload_fill(uint8_t *p, uint32_t size, uint32_t seed, uint32_t index)
{
	uint64_t state = (uint64_t)seed << 32 | index;
	uint32_t i, k;

	put32(p, index);
	for (i = 4; i < size; i += 8) {
		uint64_t r = mix_next(&state);

		for (k = 0; k < 8 && i + k < size; k++)
			p[i + k] = (uint8_t)(r >> (8 * k));
	}
}

/* ---- option parsing ---- */

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;
	int base = 10;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (*s == '\0')
			return -EINVAL;
	}
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static uint32_t opt_u32(const char *name, const char *arg, uint32_t max)
{
	char msg[96];
	uint32_t v;

	if (parse_u32(arg, max, &v) != 0) {
		snprintf(msg, sizeof(msg), "--%s: '%%s' is not a number in 0..%u", name, max);
		usage_error(msg, arg);
	}
	return v;
}

static void opt_addr(const char *name, const char *arg, bool port0_ok, struct sockaddr_in *sa)
{
	char host[INET_ADDRSTRLEN], msg[80];
	const char *colon = strrchr(arg, ':');
	uint32_t port;

	snprintf(msg, sizeof(msg), "--%s: '%%s' is not IPv4:PORT", name);
	if (colon == NULL || (size_t)(colon - arg) >= sizeof(host))
		usage_error(msg, arg);
	memcpy(host, arg, (size_t)(colon - arg));
	host[colon - arg] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1 ||
	    parse_u32(colon + 1, 65535, &port) != 0 || (port == 0 && !port0_ok))
		usage_error(msg, arg);
	sa->sin_port = htons((uint16_t)port);
}

static size_t profile_key_len(enum peer_profile profile)
{
	return profile == PROFILE_GCM ? 16 + 12 : 16 + 14;
}

static void key_decode(const char *name, const char *hex, enum peer_profile profile,
		       uint8_t *key)
{
	size_t i, n = profile_key_len(profile);
	char msg[96];

	snprintf(msg, sizeof(msg), "--%s: want %zu hex digits for this profile, got '%%s'",
		 name, 2 * n);
	if (strlen(hex) != 2 * n)
		usage_error(msg, hex);
	for (i = 0; i < 2 * n; i++) {
		char c = hex[i];
		int v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			usage_error(msg, hex);
		key[i / 2] = (uint8_t)(i % 2 ? key[i / 2] | v : v << 4);
	}
}

enum {
	OPT_BIND = 256, OPT_TO, OPT_PROFILE, OPT_KEY, OPT_RX_KEY, OPT_SSRC, OPT_PT, OPT_COUNT,
	OPT_SIZE, OPT_RATE, OPT_SEQ, OPT_TS, OPT_TS_STEP, OPT_SEED, OPT_CSRC, OPT_EXT, OPT_BAD,
	OPT_LINGER, OPT_TIMEOUT, OPT_EXPECT_SSRC, OPT_EXPECT_PT, OPT_TYPE, OPT_MEDIA,
	OPT_NACK_PID, OPT_NACK_BLP, OPT_COMPOUND, OPT_INTERVAL, OPT_INDEX, OPT_END
};

/* Which subcommands take each option. */
#define CMD_ANY (CMD_SEND | CMD_RECV | CMD_RTCP | CMD_RTCP_RECV)
static const struct peer_optdef {
	const char *name;
	int has_arg;
	unsigned int cmds;
} optdefs[OPT_END - OPT_BIND] = {
	[OPT_BIND - OPT_BIND] = {"bind", 1, CMD_ANY},
	[OPT_TO - OPT_BIND] = {"to", 1, CMD_SEND | CMD_RTCP},
	[OPT_PROFILE - OPT_BIND] = {"profile", 1, CMD_ANY},
	[OPT_KEY - OPT_BIND] = {"key", 1, CMD_ANY},
	[OPT_RX_KEY - OPT_BIND] = {"rx-key", 1, CMD_SEND},
	[OPT_SSRC - OPT_BIND] = {"ssrc", 1, CMD_SEND | CMD_RTCP},
	[OPT_PT - OPT_BIND] = {"pt", 1, CMD_SEND},
	[OPT_COUNT - OPT_BIND] = {"count", 1, CMD_ANY},
	[OPT_SIZE - OPT_BIND] = {"size", 1, CMD_SEND | CMD_RECV},
	[OPT_RATE - OPT_BIND] = {"rate", 1, CMD_SEND},
	[OPT_SEQ - OPT_BIND] = {"seq", 1, CMD_SEND},
	[OPT_TS - OPT_BIND] = {"ts", 1, CMD_SEND},
	[OPT_TS_STEP - OPT_BIND] = {"ts-step", 1, CMD_SEND},
	[OPT_SEED - OPT_BIND] = {"seed", 1, CMD_SEND | CMD_RECV},
	[OPT_CSRC - OPT_BIND] = {"csrc", 1, CMD_SEND},
	[OPT_EXT - OPT_BIND] = {"ext", 0, CMD_SEND},
	[OPT_BAD - OPT_BIND] = {"bad", 1, CMD_SEND},
	[OPT_LINGER - OPT_BIND] = {"linger-ms", 1, CMD_SEND},
	[OPT_TIMEOUT - OPT_BIND] = {"timeout-ms", 1, CMD_RECV | CMD_RTCP_RECV},
	[OPT_EXPECT_SSRC - OPT_BIND] = {"expect-ssrc", 1, CMD_RECV},
	[OPT_EXPECT_PT - OPT_BIND] = {"expect-pt", 1, CMD_RECV},
	[OPT_TYPE - OPT_BIND] = {"type", 1, CMD_RTCP},
	[OPT_MEDIA - OPT_BIND] = {"media-ssrc", 1, CMD_RTCP},
	[OPT_NACK_PID - OPT_BIND] = {"nack-pid", 1, CMD_RTCP},
	[OPT_NACK_BLP - OPT_BIND] = {"nack-blp", 1, CMD_RTCP},
	[OPT_COMPOUND - OPT_BIND] = {"compound", 0, CMD_RTCP},
	[OPT_INTERVAL - OPT_BIND] = {"interval-ms", 1, CMD_RTCP},
	[OPT_INDEX - OPT_BIND] = {"index", 1, CMD_RTCP},
};

static int pick(const char *name, const char *arg, const char *const *words, int n)
{
	char msg[80];
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(arg, words[i]) == 0)
			return i;
	snprintf(msg, sizeof(msg), "--%s: unknown value '%%s'", name);
	usage_error(msg, arg);
}

static void opt_apply(struct peer_opts *o, int id, const char *arg)
{
	static const char *const profiles[] = {"gcm", "cm"};
	static const char *const bads[] = {"auth", "replay", "truncate", "garbage", "short", "ext"};
	static const char *const types[] = {"pli", "fir", "nack"};
	const char *name = optdefs[id - OPT_BIND].name;

	switch (id) {
	case OPT_BIND:
		opt_addr(name, arg, true, &o->bind_addr);
		o->has_bind = true;
		break;
	case OPT_TO:
		opt_addr(name, arg, false, &o->to_addr);
		o->has_to = true;
		break;
	case OPT_PROFILE:
		o->profile = pick(name, arg, profiles, 2) == 0 ? PROFILE_GCM : PROFILE_CM;
		break;
	case OPT_KEY: o->key_hex = arg; break;
	case OPT_RX_KEY: o->rx_key_hex = arg; break;
	case OPT_SSRC:
		o->ssrc = opt_u32(name, arg, UINT32_MAX);
		o->has_ssrc = true;
		break;
	case OPT_PT:
		o->pt = opt_u32(name, arg, 127);
		o->has_pt = true;
		break;
	case OPT_COUNT:
		o->count = opt_u32(name, arg, 100000000);
		o->has_count = true;
		break;
	case OPT_SIZE: o->size = opt_u32(name, arg, PEER_MAX_PAYLOAD); break;
	case OPT_RATE: o->rate = opt_u32(name, arg, 10000000); break;
	case OPT_SEQ: o->seq = opt_u32(name, arg, 65535); break;
	case OPT_TS: o->ts = opt_u32(name, arg, UINT32_MAX); break;
	case OPT_TS_STEP: o->ts_step = opt_u32(name, arg, UINT32_MAX); break;
	case OPT_SEED: o->seed = opt_u32(name, arg, UINT32_MAX); break;
	case OPT_CSRC: o->csrc = opt_u32(name, arg, 15); break;
	case OPT_EXT: o->ext = true; break;
	case OPT_BAD: o->bad = (enum peer_bad)(BAD_AUTH + pick(name, arg, bads, 6)); break;
	case OPT_LINGER: o->linger_ms = opt_u32(name, arg, 3600000); break;
	case OPT_TIMEOUT: o->timeout_ms = opt_u32(name, arg, 3600000); break;
	case OPT_EXPECT_SSRC:
		o->expect_ssrc = opt_u32(name, arg, UINT32_MAX);
		o->has_expect_ssrc = true;
		break;
	case OPT_EXPECT_PT:
		o->expect_pt = opt_u32(name, arg, 127);
		o->has_expect_pt = true;
		break;
	case OPT_TYPE:
		o->rtcp_type = (enum peer_rtcp_type)(RTCP_PLI + pick(name, arg, types, 3));
		break;
	case OPT_MEDIA:
		o->media_ssrc = opt_u32(name, arg, UINT32_MAX);
		o->has_media = true;
		break;
	case OPT_NACK_PID: o->nack_pid = opt_u32(name, arg, 65535); break;
	case OPT_NACK_BLP: o->nack_blp = opt_u32(name, arg, 65535); break;
	case OPT_COMPOUND: o->compound = true; break;
	case OPT_INTERVAL: o->interval_ms = opt_u32(name, arg, 60000); break;
	case OPT_INDEX: o->index_skip = opt_u32(name, arg, PEER_MAX_INDEX_SKIP); break;
	}
}

static void require(bool present, const char *what)
{
	if (!present)
		usage_error("missing %s", what);
}

static void parse_args(int argc, char **argv, struct peer_opts *o)
{
	static const char *const cmds[] = {"send", "recv", "rtcp", "rtcp-recv"};
	struct option longopts[OPT_END - OPT_BIND + 1];
	unsigned int i;
	int c;

	memset(o, 0, sizeof(*o));
	o->size = 1200;
	o->rate = 1000;
	o->ts_step = 960; /* 20 ms at 48 kHz */
	o->interval_ms = 20;
	if (argc < 2)
		usage_error("missing subcommand%s", "");
	for (i = 0; i < 4; i++)
		if (strcmp(argv[1], cmds[i]) == 0)
			o->cmd = (enum peer_cmd)(1u << i);
	if (o->cmd == 0)
		usage_error("unknown subcommand '%s'", argv[1]);

	memset(longopts, 0, sizeof(longopts));
	for (i = 0; i < OPT_END - OPT_BIND; i++) {
		longopts[i].name = optdefs[i].name;
		longopts[i].has_arg = optdefs[i].has_arg;
		longopts[i].val = (int)(OPT_BIND + i);
	}
	opterr = 0;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c < OPT_BIND || c >= OPT_END)
			usage_error("unknown option or missing value: '%s'", argv[optind - 1]);
		if (!(optdefs[c - OPT_BIND].cmds & o->cmd))
			usage_error("--%s does not apply to this subcommand", optdefs[c - OPT_BIND].name);
		opt_apply(o, c, optarg);
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);

	require(o->profile != PROFILE_NONE, "--profile");
	require(o->key_hex != NULL, "--key");
	key_decode("key", o->key_hex, o->profile, o->key);
	key_decode("rx-key", o->rx_key_hex ? o->rx_key_hex : o->key_hex, o->profile, o->rx_key);
	if (o->cmd & (CMD_RECV | CMD_RTCP_RECV)) {
		require(o->has_bind && o->bind_addr.sin_port != 0, "--bind with a port");
		require(o->timeout_ms > 0, "--timeout-ms");
	}
	if (o->cmd & (CMD_SEND | CMD_RTCP)) {
		require(o->has_to, "--to");
		require(o->has_ssrc, "--ssrc");
	}
	if (o->cmd == CMD_SEND) {
		require(o->has_pt, "--pt");
		require(o->has_count, "--count");
	}
	if (o->cmd == CMD_RECV)
		require(o->has_count, "--count");
	if (o->cmd & (CMD_SEND | CMD_RECV) && o->size < 4)
		usage_error("--size: at least 4 (the packet index)%s", "");
	if (o->cmd == CMD_RTCP) {
		require(o->rtcp_type != RTCP_NONE, "--type");
		require(o->has_media, "--media-ssrc");
		if (!o->has_count)
			o->count = 1;
	}
}

/* ---- sockets and libsrtp2 ---- */

static int udp_open(const struct peer_opts *o)
{
	int fd, one = 1, bufsz = 4 << 20;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("sfu-peer: socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A deep receive queue: the test reads in bursts, the SFU sends in bursts. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (o->has_bind &&
	    bind(fd, (const struct sockaddr *)&o->bind_addr, sizeof(o->bind_addr)) != 0) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &o->bind_addr.sin_addr, a, sizeof(a));
		fprintf(stderr, "sfu-peer: bind %s:%u: %s\n", a, ntohs(o->bind_addr.sin_port),
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* One libsrtp2 session for one direction; any SSRC (the tool is a test host). */
static srtp_t srtp_session(enum peer_profile profile, const uint8_t *key, bool inbound)
{
	srtp_policy_t pol;
	srtp_t session = NULL;
	srtp_err_status_t err;

	memset(&pol, 0, sizeof(pol));
	if (profile == PROFILE_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
	} else {
		srtp_crypto_policy_set_rtp_default(&pol.rtp);
		srtp_crypto_policy_set_rtcp_default(&pol.rtcp);
	}
	pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	pol.key = (unsigned char *)(uintptr_t)key;
	pol.window_size = 128;
	err = srtp_create(&session, &pol);
	if (err != srtp_err_status_ok) {
		fprintf(stderr, "sfu-peer: srtp_create (%s): error %d\n",
			profile == PROFILE_GCM ? "gcm" : "cm", (int)err);
		return NULL;
	}
	return session;
}

/* ---- receiving ---- */

/* Payload offset and length of a decrypted RTP packet (RFC 3550 5.1, 5.3.1). */
static int rtp_payload(const uint8_t *p, size_t len, size_t *off, size_t *plen)
{
	size_t o = 12 + 4 * (size_t)(p[0] & 0x0f), end = len;

	if (len < o)
		return -EINVAL;
	if (p[0] & 0x10) {
		if (len < o + 4)
			return -EINVAL;
		o += 4 + 4 * (size_t)get16(p + o + 2);
		if (len < o)
			return -EINVAL;
	}
	if (p[0] & 0x20) {
		uint8_t pad = p[len - 1];

		if (pad == 0 || pad > end - o)
			return -EINVAL;
		end -= pad;
	}
	*off = o;
	*plen = end - o;
	return 0;
}

static void rx_rtp_checks(const struct peer_opts *o, struct peer_stats *st, const uint8_t *p,
			  size_t len)
{
	static uint8_t expect[PEER_MAX_PAYLOAD];
	uint16_t seq = get16(p + 2);
	uint32_t ts = get32(p + 4), ssrc = get32(p + 8), pt = p[1] & 0x7f;
	size_t off, plen;

	if (!st->have_first) {
		st->have_first = true;
		st->seq_first = seq;
		st->ssrc = ssrc;
		st->pt = pt;
	} else {
		/* RFC 3550 A.1: the next packet carries the previous sequence + 1 (mod 2^16). */
		if (seq != (uint16_t)(st->seq_last + 1))
			st->seq_gaps++;
		if ((int32_t)(ts - st->ts_last) < 0)
			st->ts_back++;
	}
	st->seq_last = seq;
	st->ts_last = ts;
	if (ssrc == (o->has_expect_ssrc ? o->expect_ssrc : st->ssrc))
		st->ssrc_ok++;
	if (pt == (o->has_expect_pt ? o->expect_pt : st->pt))
		st->pt_ok++;
	if (rtp_payload(p, len, &off, &plen) != 0 || plen != o->size)
		return;
	payload_fill(expect, o->size, o->seed, get32(p + off));
	if (memcmp(expect, p + off, plen) == 0)
		st->payload_ok++;
}

static void rx_rtcp_print(const uint8_t *p, size_t len, struct peer_stats *st)
{
	size_t off = 0;
	unsigned int parts = 0;

	while (off + 4 <= len && parts++ < PEER_MAX_RTCP_PARTS) {
		const uint8_t *q = p + off;
		size_t plen = 4 * ((size_t)get16(q + 2) + 1);
		uint8_t pt = q[1], fmt = q[0] & 0x1f;

		if (q[0] >> 6 != 2 || off + plen > len) {
			printf("rtcp malformed at offset %zu\n", off);
			return;
		}
		st->rtcp_packets++;
		printf("rtcp pt=%u fmt=%u sender=%u media=%u", pt, fmt,
		       plen >= 8 ? get32(q + 4) : 0,
		       (pt == 205 || pt == 206) && plen >= 12 ? get32(q + 8) : 0);
		if (pt == 205 && fmt == 1 && plen >= 16)
			printf(" pid=%u blp=%u", get16(q + 12), get16(q + 14));
		if (pt == 206 && fmt == 4 && plen >= 20)
			printf(" fci_ssrc=%u fir_seq=%u", get32(q + 12), q[16]);
		putchar('\n');
		off += plen;
	}
}

/* Classify one datagram (RFC 5761 4: RTCP by its second byte), unprotect, count. */
static void rx_datagram(const struct peer_opts *o, srtp_t rx, struct peer_stats *st,
			uint8_t *p, size_t len)
{
	int n = (int)len;
	srtp_err_status_t err;

	if (len >= 2 && (p[0] & 0xc0) == 0x80 && p[1] >= 192 && p[1] <= 223) {
		err = len >= 8 ? srtp_unprotect_rtcp(rx, p, &n) : srtp_err_status_bad_param;
		if (err == srtp_err_status_ok) {
			st->rtcp_received++;
			rx_rtcp_print(p, (size_t)n, st);
		} else if (err == srtp_err_status_auth_fail) {
			st->rtcp_auth_fail++;
		} else if (err == srtp_err_status_replay_fail || err == srtp_err_status_replay_old) {
			st->rtcp_replay_fail++;
		} else {
			st->rtcp_other_fail++;
		}
		return;
	}
	if (o->cmd != CMD_RECV) {
		st->rtcp_other_fail++; /* not RTCP where only RTCP is expected */
		return;
	}
	st->received++;
	err = len >= 12 && (p[0] & 0xc0) == 0x80 ? srtp_unprotect(rx, p, &n)
						  : srtp_err_status_bad_param;
	switch (err) {
	case srtp_err_status_ok:
		st->decrypted++;
		rx_rtp_checks(o, st, p, (size_t)n);
		break;
	case srtp_err_status_auth_fail:
		st->auth_fail++;
		break;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		st->replay_fail++;
		break;
	default:
		st->other_fail++;
		break;
	}
}

/*
 * Wait for datagrams until `deadline` (monotonic ns) and handle each; return
 * early once `*counter` reaches `limit` (limit 0: never) or on a signal.
 */
static void rx_until(const struct peer_opts *o, int fd, srtp_t rx, struct peer_stats *st,
		     uint64_t deadline, const uint32_t *counter, uint32_t limit)
{
	static uint8_t buf[PEER_BUF_LEN];

	while (!stop_requested && (limit == 0 || *counter < limit)) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint64_t now = now_ns(), left;
		struct timespec ts;
		int i;

		if (now >= deadline)
			break;
		left = deadline - now;
		ts.tv_sec = (time_t)(left / NS_PER_S);
		ts.tv_nsec = (long)(left % NS_PER_S);
		if (ppoll(&pfd, 1, &ts, NULL) <= 0)
			continue; /* timeout or EINTR: the loop head decides */
		for (i = 0; i < PEER_RX_BURST && (limit == 0 || *counter < limit); i++) {
			ssize_t n = recv(fd, buf, sizeof(buf) - SRTP_MAX_TRAILER_LEN, MSG_DONTWAIT);

			if (n < 0)
				break;
			rx_datagram(o, rx, st, buf, (size_t)n);
		}
	}
}

/* ---- sending ---- */

/* RTP header for packet `index` (RFC 3550 5.1; RFC 8285 4.2 one-byte extension). */
static size_t rtp_header(const struct peer_opts *o, uint32_t index, uint8_t *p)
{
	size_t off = 12;
	uint32_t k;

	bool ext = o->ext || o->bad == BAD_EXT;

	p[0] = (uint8_t)(0x80 | (ext ? 0x10 : 0) | o->csrc);
	p[1] = (uint8_t)o->pt;
	put16(p + 2, (uint16_t)(o->seq + index));
	put32(p + 4, o->ts + index * o->ts_step);
	put32(p + 8, o->ssrc);
	for (k = 0; k < o->csrc; k++, off += 4)
		put32(p + off, 0x0c5c0000u + k);
	if (ext) {
		/* ssrc-audio-level (RFC 6464): id 1, one byte: V flag + level in -dBov.
		 * --bad ext: its length field says 16 bytes in a 4-byte block. */
		put16(p + off, 0xbede);
		put16(p + off + 2, 1);
		p[off + 4] = o->bad == BAD_EXT ? 0x1f : 1 << 4;
		p[off + 5] = (uint8_t)(0x80 | (index % 128));
		p[off + 6] = 0;
		p[off + 7] = 0;
		off += 8;
	}
	return off;
}

static int rtp_protect(const struct peer_opts *o, srtp_t tx, uint32_t index, uint8_t *p)
{
	size_t hdr = rtp_header(o, index, p);
	int n = (int)(hdr + o->size);
	srtp_err_status_t err;

	payload_fill(p + hdr, o->size, o->seed, index);
	err = srtp_protect(tx, p, &n);
	if (err != srtp_err_status_ok) {
		fprintf(stderr, "sfu-peer: srtp_protect: error %d\n", (int)err);
		return -1;
	}
	return n;
}

/* A malformed datagram for --bad garbage: RTP's first byte, not RTCP's second. */
static size_t garbage(uint64_t *rng, uint8_t *p)
{
	size_t len = 20 + (size_t)(mix_next(rng) % 200), i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)mix_next(rng);
	p[0] = (uint8_t)(128 + p[0] % 64);
	if (p[1] >= 192 && p[1] <= 223)
		p[1] &= 0x7f;
	return len;
}

static int send_one(int fd, const struct peer_opts *o, const uint8_t *p, size_t len)
{
	return sendto(fd, p, len, 0, (const struct sockaddr *)&o->to_addr, sizeof(o->to_addr)) ==
			       (ssize_t)len ? 0 : -1;
}

static int cmd_send(const struct peer_opts *o)
{
	static uint8_t buf[PEER_BUF_LEN];
	struct peer_stats st;
	uint64_t rng = (uint64_t)o->seed << 32 | 0xbadu, start, period;
	uint32_t i, sent = 0, send_err = 0;
	srtp_t tx, rx;
	int fd, n;

	memset(&st, 0, sizeof(st));
	fd = udp_open(o);
	tx = srtp_session(o->profile, o->key, false);
	rx = srtp_session(o->profile, o->rx_key, true);
	if (fd < 0 || tx == NULL || rx == NULL)
		return 1;
	period = o->rate ? NS_PER_S / o->rate : 0;
	start = now_ns();
	for (i = 0; i < o->count && !stop_requested; i++) {
		/* Pace on an absolute schedule; SRTCP arriving meanwhile is handled. */
		rx_until(o, fd, rx, &st, start + i * period, NULL, 0);
		if (stop_requested)
			break;
		n = 0;
		if (o->bad == BAD_GARBAGE)
			n = (int)garbage(&rng, buf);
		else if (o->bad == BAD_SHORT)
			buf[n++] = 0x80;
		else if ((n = rtp_protect(o, tx, i, buf)) < 0)
			break;
		if (o->bad == BAD_AUTH)
			buf[n - 1] ^= 0x01; /* the last byte is always the tag's */
		else if (o->bad == BAD_TRUNCATE)
			n = 10;
		if (send_one(fd, o, buf, (size_t)n) == 0)
			sent++;
		else
			send_err++;
		if (o->bad == BAD_REPLAY) {
			if (send_one(fd, o, buf, (size_t)n) == 0)
				sent++;
			else
				send_err++;
		}
	}
	rx_until(o, fd, rx, &st, now_ns() + o->linger_ms * NS_PER_MS, NULL, 0);
	printf("sent=%u send_err=%u rtcp_received=%u rtcp_auth_fail=%u rtcp_other_fail=%u\n",
	       sent, send_err, st.rtcp_received, st.rtcp_auth_fail,
	       st.rtcp_replay_fail + st.rtcp_other_fail);
	srtp_dealloc(tx);
	srtp_dealloc(rx);
	close(fd);
	return 0;
}

static int cmd_recv(const struct peer_opts *o)
{
	struct peer_stats st;
	srtp_t rx;
	int fd;

	memset(&st, 0, sizeof(st));
	fd = udp_open(o);
	rx = srtp_session(o->profile, o->key, true);
	if (fd < 0 || rx == NULL)
		return 1;
	rx_until(o, fd, rx, &st, now_ns() + o->timeout_ms * NS_PER_MS, &st.received, o->count);
	printf("received=%u decrypted=%u auth_fail=%u replay_fail=%u other_fail=%u ssrc_ok=%u "
	       "pt_ok=%u payload_ok=%u seq_gaps=%u seq_first=%u seq_last=%u ts_back=%u ssrc=%u "
	       "pt=%u rtcp_received=%u rtcp_auth_fail=%u\n",
	       st.received, st.decrypted, st.auth_fail, st.replay_fail, st.other_fail, st.ssrc_ok,
	       st.pt_ok, st.payload_ok, st.seq_gaps, st.seq_first, st.seq_last, st.ts_back,
	       st.ssrc, st.pt, st.rtcp_received, st.rtcp_auth_fail);
	srtp_dealloc(rx);
	close(fd);
	return 0;
}

static int cmd_rtcp_recv(const struct peer_opts *o)
{
	struct peer_stats st;
	srtp_t rx;
	int fd;

	memset(&st, 0, sizeof(st));
	fd = udp_open(o);
	rx = srtp_session(o->profile, o->key, true);
	if (fd < 0 || rx == NULL)
		return 1;
	rx_until(o, fd, rx, &st, now_ns() + o->timeout_ms * NS_PER_MS, &st.rtcp_received,
		 o->count);
	printf("rtcp_received=%u rtcp_packets=%u auth_fail=%u replay_fail=%u other_fail=%u\n",
	       st.rtcp_received, st.rtcp_packets, st.rtcp_auth_fail, st.rtcp_replay_fail,
	       st.rtcp_other_fail);
	srtp_dealloc(rx);
	close(fd);
	return 0;
}

/* ---- rtcp: build, protect, send from IP:PORT without binding it ---- */

/* Feedback packet k of the run, optionally after an empty RR (RFC 3550 6.4.2). */
static size_t rtcp_build(const struct peer_opts *o, uint32_t k, uint8_t *p)
{
	size_t off = 0;

	if (o->compound) {
		p[0] = 0x80; /* RC = 0 */
		p[1] = 201;
		put16(p + 2, 1);
		put32(p + 4, o->ssrc);
		off = 8;
	}
	p[off + 0] = 0x80;
	put32(p + off + 4, o->ssrc);
	put32(p + off + 8, o->media_ssrc);
	switch (o->rtcp_type) {
	case RTCP_PLI:
		p[off] |= 1;
		p[off + 1] = 206;
		put16(p + off + 2, 2);
		return off + 12;
	case RTCP_FIR:
		/* RFC 5104 4.3.1.1: media SSRC 0, the target goes in the FCI. */
		p[off] |= 4;
		p[off + 1] = 206;
		put16(p + off + 2, 4);
		put32(p + off + 8, 0);
		put32(p + off + 12, o->media_ssrc);
		p[off + 16] = (uint8_t)k;
		p[off + 17] = p[off + 18] = p[off + 19] = 0;
		return off + 20;
	default:
		p[off] |= 1;
		p[off + 1] = 205;
		put16(p + off + 2, 3);
		put16(p + off + 12, (uint16_t)o->nack_pid);
		put16(p + off + 14, (uint16_t)o->nack_blp);
		return off + 16;
	}
}

static uint16_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* IPv4 + UDP around the payload (RFC 791, RFC 768); the kernel fills the IP checksum. */
static int raw_send(int fd, const struct peer_opts *o, const uint8_t *payload, size_t len)
{
	static uint8_t pkt[28 + PEER_BUF_LEN];
	uint8_t pseudo[12];
	uint16_t sum;

	memset(pkt, 0, 28);
	pkt[0] = 0x45;
	put16(pkt + 2, (uint16_t)(28 + len));
	pkt[8] = 64;
	pkt[9] = IPPROTO_UDP;
	memcpy(pkt + 12, &o->bind_addr.sin_addr, 4);
	memcpy(pkt + 16, &o->to_addr.sin_addr, 4);
	memcpy(pkt + 20, &o->bind_addr.sin_port, 2);
	memcpy(pkt + 22, &o->to_addr.sin_port, 2);
	put16(pkt + 24, (uint16_t)(8 + len));
	memcpy(pkt + 28, payload, len);
	memcpy(pseudo, pkt + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_UDP;
	put16(pseudo + 10, (uint16_t)(8 + len));
	sum = (uint16_t)~csum_add(csum_add(0, pseudo, sizeof(pseudo)), pkt + 20, 8 + len);
	put16(pkt + 26, sum ? sum : 0xffff);
	return sendto(fd, pkt, 28 + len, 0, (const struct sockaddr *)&o->to_addr,
		      sizeof(o->to_addr)) == (ssize_t)(28 + len) ? 0 : -1;
}

static int cmd_rtcp(const struct peer_opts *o)
{
	static uint8_t buf[PEER_BUF_LEN];
	uint32_t k, sent = 0, send_err = 0;
	bool raw = false;
	srtp_t tx;
	int fd = -1, n;

	/* Raw needs a concrete source address and CAP_NET_RAW; otherwise plain UDP. */
	if (o->has_bind && o->bind_addr.sin_addr.s_addr != htonl(INADDR_ANY) &&
	    o->bind_addr.sin_port != 0) {
		fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
		raw = fd >= 0;
		if (!raw)
			fprintf(stderr, "sfu-peer: raw socket: %s; binding the port instead\n",
				strerror(errno));
	}
	if (!raw)
		fd = udp_open(o);
	tx = srtp_session(o->profile, o->key, false);
	if (fd < 0 || tx == NULL)
		return 1;
	/* Advance the SRTCP index (RFC 3711 3.4) by protecting packets not sent. */
	for (k = 0; k < o->index_skip; k++) {
		n = (int)rtcp_build(o, 0, buf);
		if (srtp_protect_rtcp(tx, buf, &n) != srtp_err_status_ok)
			break;
	}
	for (k = 0; k < o->count && !stop_requested; k++) {
		srtp_err_status_t err;

		if (k > 0) {
			struct timespec ts = {.tv_sec = o->interval_ms / 1000,
					      .tv_nsec = (long)(o->interval_ms % 1000) * 1000000};

			nanosleep(&ts, NULL);
		}
		n = (int)rtcp_build(o, k, buf);
		err = srtp_protect_rtcp(tx, buf, &n);
		if (err != srtp_err_status_ok) {
			fprintf(stderr, "sfu-peer: srtp_protect_rtcp: error %d\n", (int)err);
			break;
		}
		if ((raw ? raw_send(fd, o, buf, (size_t)n) : send_one(fd, o, buf, (size_t)n)) == 0)
			sent++;
		else
			send_err++;
	}
	printf("sent=%u send_err=%u\n", sent, send_err);
	srtp_dealloc(tx);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct peer_opts o;
	int rc;

	parse_args(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: ppoll returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (srtp_init() != srtp_err_status_ok) {
		fprintf(stderr, "sfu-peer: srtp_init failed\n");
		return 1;
	}
	switch (o.cmd) {
	case CMD_SEND: rc = cmd_send(&o); break;
	case CMD_RECV: rc = cmd_recv(&o); break;
	case CMD_RTCP: rc = cmd_rtcp(&o); break;
	default: rc = cmd_rtcp_recv(&o); break;
	}
	srtp_shutdown();
	return rc;
}
