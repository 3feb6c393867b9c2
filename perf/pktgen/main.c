/*
 * main.c — sfu-pktgen: options, set-up, one run or an RFC 2544-style search
 * over the number of active rooms, results, teardown.
 *
 *   sfu-pktgen [EAL args] -- --admin URL --ip A.B.C.D --sfu-ip A.B.C.D
 *              --rooms R (--publishers P --subscribers S | --room-size N) ...
 * (usage() lists every option; perf/pktgen/README.md explains the model.)
 *
 * Order: EAL, port, ARP for the next hop, admin API (transports, producers,
 * consumers), RX lcore, trials, results, closeTransport for everything.  Any
 * failure after transports exist still closes them.  Exit status: 0 done,
 * 1 run-time error (admin API, ARP, port), 2 usage, 128+N after signal N
 * (results are still printed and written).
 *
 * Threading: the main lcore runs everything here plus TX; RX runs on the
 * next lcore when the EAL has one (see pktgen.h).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "pktgen.h"
#include "sfu_config.h"

volatile bool pg_quit;
static volatile int quit_signal;

static void on_signal(int sig)
{
	quit_signal = sig;
	pg_quit = true;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: sfu-pktgen [EAL args] -- --admin URL --ip A.B.C.D --sfu-ip A.B.C.D --rooms R\n"
"                  (--publishers P --subscribers S | --room-size N) [options]\n"
"  --admin URL            sfu-ctrl's admin API, e.g. https://198.18.0.2:8443/admin\n"
"  --admin-token T        bearer token (ctrl.admin_token)      --insecure  skip TLS checks\n"
"  --admin-timeout SEC    per request (default 5)\n"
"  --ip A.B.C.D           our media address (answered by us, not the kernel)\n"
"  --prefix-len N         (default 24)     --gateway A.B.C.D  next hop when the SFU is off-link\n"
"  --sfu-ip A.B.C.D       the data plane's address\n"
"  --rooms R | -R R       rooms (all created up front)\n"
"  --publishers P --subscribers S | -P P -S S\n"
"                         per room; every subscriber consumes every publisher\n"
"  --room-size N | -N N   mesh: N participants, each publishes and consumes the others\n"
"  --media audio|video|av (default av)\n"
"  --video-kbps K (1500) --fps F (30) --video-bytes B (1200, RTP payload)\n"
"  --audio-bytes B (100)  --audio-pps N (50)\n"
"  --profile gcm|cm       (default gcm)\n"
"  --duration SEC (10)    --warmup SEC (1)    --drain SEC (0.5)\n"
"  --auth-sample N        SRTP-authenticate 1 packet in N per stream (default 10; 0 none)\n"
"  --search               highest number of active rooms with loss < --max-loss (0.001),\n"
"                         at most --max-trials (8) trials of --duration each\n"
"  --retries N            search: try a load failing by < 20x --max-loss N more times\n"
"                         (default 0); it passes if one attempt does\n"
"  --json FILE            results\n"
"  --progress | --no-progress   live line on stderr (default on)\n"
"  --bad-auth             receive with a wrong key (every authentication must fail)\n"
"  --single-lcore         RX on the main lcore even if the EAL gives two\n"
"  --seed N (1)  --base-port N (20000)  --room-prefix S (pg<pid>)\n"
"  --mbufs N              mbuf pool size (16383; ~2.2 KiB of hugepage memory each)\n");
}

enum {
	O_ADMIN = 256, O_TOKEN, O_INSECURE, O_ADMIN_TIMEOUT, O_IP, O_PREFIX, O_GW, O_SFU, O_ROOMS,
	O_PUB, O_SUB, O_ROOMSIZE, O_MEDIA, O_VKBPS, O_FPS, O_VBYTES, O_ABYTES, O_APPS,
	O_PROFILE, O_DURATION, O_WARMUP, O_DRAIN, O_AUTH, O_SEARCH, O_MAXLOSS, O_MAXTRIALS, O_RETRIES,
	O_JSON, O_PROGRESS, O_NOPROGRESS, O_BADAUTH, O_SINGLE, O_SEED, O_BASEPORT, O_ROOMPREFIX, O_MBUFS,
	O_HELP,
};

static int bad(const char *opt, const char *v)
{
	fprintf(stderr, "sfu-pktgen: %s: bad value '%s'\n", opt, v);
	return -1;
}

static int uint_arg(const char *opt, const char *v, unsigned int lo, unsigned int hi,
		    unsigned int *out)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi) {
		fprintf(stderr, "sfu-pktgen: %s: want an integer %u..%u, got '%s'\n", opt, lo, hi, v);
		return -1;
	}
	*out = (unsigned int)x;
	return 0;
}

static int dbl_arg(const char *opt, const char *v, double lo, double hi, double *out)
{
	char *end;
	double x = strtod(v, &end);

	if (end == v || *end || !(x >= lo && x <= hi)) {
		fprintf(stderr, "sfu-pktgen: %s: want a number %g..%g, got '%s'\n", opt, lo, hi, v);
		return -1;
	}
	*out = x;
	return 0;
}

static int ip_arg(const char *opt, const char *v, uint32_t *out)
{
	if (sfu_parse_ipv4(v, out) < 0 || *out == 0)
		return bad(opt, v);
	return 0;
}

static int parse_args(struct pg_config *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "admin", required_argument, NULL, O_ADMIN },
		{ "admin-token", required_argument, NULL, O_TOKEN },
		{ "insecure", no_argument, NULL, O_INSECURE },
		{ "admin-timeout", required_argument, NULL, O_ADMIN_TIMEOUT },
		{ "ip", required_argument, NULL, O_IP },
		{ "prefix-len", required_argument, NULL, O_PREFIX },
		{ "gateway", required_argument, NULL, O_GW },
		{ "sfu-ip", required_argument, NULL, O_SFU },
		{ "rooms", required_argument, NULL, O_ROOMS },
		{ "publishers", required_argument, NULL, O_PUB },
		{ "subscribers", required_argument, NULL, O_SUB },
		{ "room-size", required_argument, NULL, O_ROOMSIZE },
		{ "media", required_argument, NULL, O_MEDIA },
		{ "video-kbps", required_argument, NULL, O_VKBPS },
		{ "fps", required_argument, NULL, O_FPS },
		{ "video-bytes", required_argument, NULL, O_VBYTES },
		{ "audio-bytes", required_argument, NULL, O_ABYTES },
		{ "audio-pps", required_argument, NULL, O_APPS },
		{ "profile", required_argument, NULL, O_PROFILE },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "drain", required_argument, NULL, O_DRAIN },
		{ "auth-sample", required_argument, NULL, O_AUTH },
		{ "search", no_argument, NULL, O_SEARCH },
		{ "max-loss", required_argument, NULL, O_MAXLOSS },
		{ "max-trials", required_argument, NULL, O_MAXTRIALS },
		{ "retries", required_argument, NULL, O_RETRIES },
		{ "json", required_argument, NULL, O_JSON },
		{ "progress", no_argument, NULL, O_PROGRESS },
		{ "no-progress", no_argument, NULL, O_NOPROGRESS },
		{ "bad-auth", no_argument, NULL, O_BADAUTH },
		{ "corrupt-keys", no_argument, NULL, O_BADAUTH },
		{ "single-lcore", no_argument, NULL, O_SINGLE },
		{ "seed", required_argument, NULL, O_SEED },
		{ "base-port", required_argument, NULL, O_BASEPORT },
		{ "room-prefix", required_argument, NULL, O_ROOMPREFIX },
		{ "mbufs", required_argument, NULL, O_MBUFS },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool have_ps = false;
	int o, rc = 0;

	optind = 1;
	while ((o = getopt_long(argc, argv, "hR:P:S:N:", opts, NULL)) != -1) {
		const char *v = optarg, *name = "";

		/* Short forms: -R rooms, -P publishers, -S subscribers, -N room size. */
		o = o == 'R' ? O_ROOMS : o == 'P' ? O_PUB : o == 'S' ? O_SUB : o == 'N' ? O_ROOMSIZE
		  : o == 'h' ? O_HELP : o;

		for (const struct option *p = opts; p->name; p++)
			if (p->val == o)
				name = p->name;
		switch (o) {
		case O_ADMIN: c->admin_url = v; break;
		case O_TOKEN: c->admin_token = v; break;
		case O_INSECURE: c->insecure = true; break;
		case O_ADMIN_TIMEOUT: rc |= dbl_arg(name, v, 0.1, 600, &c->admin_timeout); break;
		case O_IP: rc |= ip_arg(name, v, &c->ip); break;
		case O_PREFIX: rc |= uint_arg(name, v, 1, 32, &c->prefix_len); break;
		case O_GW: rc |= ip_arg(name, v, &c->gateway); break;
		case O_SFU: rc |= ip_arg(name, v, &c->sfu_ip); break;
		case O_ROOMS: rc |= uint_arg(name, v, 1, 100000, &c->rooms); break;
		case O_PUB: rc |= uint_arg(name, v, 1, 1000, &c->publishers); have_ps = true; break;
		case O_SUB: rc |= uint_arg(name, v, 0, 1000, &c->subscribers); have_ps = true; break;
		case O_ROOMSIZE: rc |= uint_arg(name, v, 2, 1000, &c->room_size); break;
		case O_MEDIA:
			c->audio = strcmp(v, "audio") == 0 || strcmp(v, "av") == 0;
			c->video = strcmp(v, "video") == 0 || strcmp(v, "av") == 0;
			if (!c->audio && !c->video)
				rc |= bad(name, v);
			break;
		case O_VKBPS: rc |= uint_arg(name, v, 1, 1000000, &c->video_kbps); break;
		case O_FPS: rc |= uint_arg(name, v, 1, 1000, &c->fps); break;
		case O_VBYTES: rc |= uint_arg(name, v, 16, PG_MAX_PAYLOAD, &c->video_bytes); break;
		case O_ABYTES: rc |= uint_arg(name, v, 16, PG_MAX_PAYLOAD, &c->audio_bytes); break;
		case O_APPS: rc |= uint_arg(name, v, 1, 1000, &c->audio_pps); break;
		case O_PROFILE:
			if (strcmp(v, "gcm") == 0)
				c->profile = SFU_SRTP_AEAD_AES_128_GCM;
			else if (strcmp(v, "cm") == 0)
				c->profile = SFU_SRTP_AES128_CM_SHA1_80;
			else
				rc |= bad(name, v);
			break;
		case O_DURATION: rc |= dbl_arg(name, v, 0.1, 86400, &c->duration); break;
		case O_WARMUP: rc |= dbl_arg(name, v, 0, 3600, &c->warmup); break;
		case O_DRAIN: rc |= dbl_arg(name, v, 0.05, 60, &c->drain); break;
		case O_AUTH: rc |= uint_arg(name, v, 0, 1000000, &c->auth_sample); break;
		case O_SEARCH: c->search = true; break;
		case O_MAXLOSS: rc |= dbl_arg(name, v, 0, 1, &c->max_loss); break;
		case O_MAXTRIALS: rc |= uint_arg(name, v, 1, 64, &c->max_trials); break;
		case O_RETRIES: rc |= uint_arg(name, v, 0, 8, &c->retries); break;
		case O_JSON: c->json_path = v; break;
		case O_PROGRESS: c->progress = 1; break;
		case O_NOPROGRESS: c->progress = 0; break;
		case O_BADAUTH: c->bad_auth = true; break;
		case O_SINGLE: c->single_lcore = true; break;
		case O_SEED: {
			char *end;

			c->seed = strtoull(v, &end, 0);
			if (end == v || *end)
				rc |= bad(name, v);
			break;
		}
		case O_MBUFS: rc |= uint_arg(name, v, 2047, 1u << 22, &c->mbufs); break;
		case O_BASEPORT: rc |= uint_arg(name, v, 1024, 65000, &c->base_port); break;
		case O_ROOMPREFIX:
			if (strlen(v) == 0 || strlen(v) >= sizeof(c->room_prefix))
				rc |= bad(name, v);
			else
				snprintf(c->room_prefix, sizeof(c->room_prefix), "%s", v);
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default: return -1;
		}
	}
	if (rc)
		return -1;
	if (optind < argc) {
		fprintf(stderr, "sfu-pktgen: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (c->admin_url == NULL || c->ip == 0 || c->sfu_ip == 0 || c->rooms == 0) {
		fprintf(stderr, "sfu-pktgen: --admin, --ip, --sfu-ip and --rooms are required\n");
		return -1;
	}
	if ((c->room_size != 0) == have_ps || (have_ps && c->publishers == 0)) {
		fprintf(stderr, "sfu-pktgen: give either --publishers/--subscribers or --room-size\n");
		return -1;
	}
	if (c->ip == c->sfu_ip) {
		fprintf(stderr, "sfu-pktgen: --ip and --sfu-ip must differ\n");
		return -1;
	}
	return 0;
}

static void defaults(struct pg_config *c)
{
	memset(c, 0, sizeof(*c));
	c->prefix_len = 24;
	c->audio = c->video = true;
	c->video_kbps = 1500;
	c->fps = 30;
	c->video_bytes = 1200;
	c->audio_bytes = 100;
	c->audio_pps = 50;
	c->profile = SFU_SRTP_AEAD_AES_128_GCM;
	c->duration = 10;
	c->warmup = 1;
	c->drain = 0.5;
	c->auth_sample = 10;
	c->max_loss = 0.001;
	c->max_trials = 8;
	c->progress = -1;
	c->seed = 1;
	c->base_port = 20000;
	c->mbufs = 16383;
	c->admin_timeout = 5;
	snprintf(c->room_prefix, sizeof(c->room_prefix), "pg%d", (int)getpid());
}

/* One trial with `rooms` active rooms: warm-up, measured window, drain. */
/* Frames our port dropped before RX polled them (its ring was full). */
static uint64_t port_missed(struct pg *g)
{
	struct rte_eth_stats st;

	return rte_eth_stats_get(g->port.port_id, &st) == 0 ? st.imissed : 0;
}

static void run_trial(struct pg *g, unsigned int rooms, const char *label, struct pg_result *res)
{
	const struct pg_config *c = &g->cfg;
	bool rx_here = c->single_lcore, tty = isatty(2), show = c->progress != 0;
	struct pg_rx_stats *base = malloc(sizeof(*base)), *now_st = malloc(sizeof(*now_st)),
			   *d = malloc(sizeof(*d));
	uint64_t t0, start, end, stop, next_show, last_tx = 0, last_rx = 0, last_rxb = 0, last_t;
	uint64_t missed0, refused0;
	bool interrupted = false;

	if (base == NULL || now_st == NULL || d == NULL) {
		fprintf(stderr, "sfu-pktgen: out of memory\n");
		exit(1);
	}
	memcpy(base, &g->rxs, sizeof(*base));
	missed0 = port_missed(g);
	refused0 = g->port.tx_refused;
	/* The window is closed while it moves: RX counts nothing half-set. */
	g->win.start = UINT64_MAX;
	g->win.end = 0;
	g->active_rooms = rooms;
	t0 = rte_rdtsc();
	pg_traffic_arm(g, t0);
	start = t0 + (uint64_t)(c->warmup * (double)g->hz);
	end = start + (uint64_t)(c->duration * (double)g->hz);
	stop = end + (uint64_t)(c->drain * (double)g->hz);
	g->win.end = end;
	g->win.start = start;
	next_show = t0 + g->hz;
	last_t = t0;
	last_tx = g->tx_total;
	last_rx = g->rxs.media;
	last_rxb = g->rxs.bytes;
	for (;;) {
		uint64_t now = rte_rdtsc();

		if (pg_quit && !interrupted) {
			interrupted = true;
			if (now < end) {
				end = now > start ? now : start;
				g->win.end = end;
				stop = now + (uint64_t)(0.2 * (double)g->hz);
			}
		}
		if (now >= stop)
			break;
		if (now < end)
			pg_tx_poll(g, now);
		pg_port_ctl_flush(g);
		if (rx_here)
			pg_rx_poll(g);
		if (show && now >= next_show) {
			double dt = (double)(now - last_t) / (double)g->hz;

			memcpy(now_st, &g->rxs, sizeof(*now_st));
			pg_progress(g, label, (double)(now - t0) / (double)g->hz,
				    (double)(g->tx_total - last_tx) / dt,
				    (double)(now_st->media - last_rx) / dt,
				    (double)(now_st->bytes - last_rxb) * 8 / dt / 1e9, now_st, base, tty);
			last_t = now;
			last_tx = g->tx_total;
			last_rx = now_st->media;
			last_rxb = now_st->bytes;
			next_show = now + g->hz;
		}
	}
	if (show && tty)
		fputc('\n', stderr);
	memcpy(now_st, &g->rxs, sizeof(*now_st));
	pg_rx_stats_sub(d, now_st, base);
	g->port.trial_missed = port_missed(g) - missed0;
	g->port.trial_refused = g->port.tx_refused - refused0;
	pg_result_fill(res, g, d, end > start ? (double)(end - start) / (double)g->hz : 0.0,
		       interrupted);
	free(base);
	free(now_st);
	free(d);
}

static int write_json(const char *path, cJSON *root)
{
	char *text = cJSON_Print(root);
	FILE *f;
	int ok;

	if (text == NULL)
		return -ENOMEM;
	f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "sfu-pktgen: %s: %s\n", path, strerror(errno));
		free(text);
		return -errno;
	}
	ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
	ok = (fclose(f) == 0) && ok;
	free(text);
	if (!ok)
		fprintf(stderr, "sfu-pktgen: %s: write failed\n", path);
	return ok ? 0 : -EIO;
}

/* Single run, or the search; fills root with the results. */
static void run(struct pg *g, cJSON *root)
{
	const struct pg_config *c = &g->cfg;
	struct pg_result *res = pg_result_new(), *best = pg_result_new();
	char label[64];

	if (res == NULL || best == NULL) {
		fprintf(stderr, "sfu-pktgen: out of memory\n");
		exit(1);
	}
	if (!c->search) {
		snprintf(label, sizeof(label), "[rooms %u]", c->rooms);
		run_trial(g, c->rooms, label, res);
		pg_result_print(res, "sfu-pktgen");
		cJSON_AddStringToObject(root, "mode", "single");
		{
			cJSON *r = pg_result_json(res), *it;

			/* The result's fields sit beside "config" in the top object. */
			while ((it = r->child) != NULL)
				cJSON_AddItemToObject(root, it->string,
						      cJSON_DetachItemViaPointer(r, it));
			cJSON_Delete(r);
		}
	} else {
		/* RFC 2544 26.1 style: full load first, then bisect on rooms.
		 * lo passes (0 = none yet), hi fails.  A load failing by less than
		 * 20x the limit may be tried again (--retries); every attempt counts
		 * against --max-trials. */
		cJSON *trials = cJSON_CreateArray();
		unsigned int lo = 0, hi = c->rooms + 1, mid = c->rooms, n = 0;
		bool have_best = false;

		cJSON_AddStringToObject(root, "mode", "search");
		while (n < c->max_trials && hi - lo > 1 && !pg_quit) {
			bool pass = false;

			for (unsigned int attempt = 0; attempt <= c->retries && n < c->max_trials &&
			     !pass && !pg_quit; attempt++, n++) {
				cJSON *j;

				snprintf(label, sizeof(label), "[trial %u rooms %u]", n + 1, mid);
				run_trial(g, mid, label, res);
				pass = pg_result_pass(res, c->max_loss);
				snprintf(label, sizeof(label), "trial %u (%s)", n + 1,
					 pass ? "pass" : "fail");
				pg_result_print(res, label);
				j = pg_result_json(res);
				cJSON_AddBoolToObject(j, "passed", pass);
				cJSON_AddNumberToObject(j, "attempt", attempt + 1);
				cJSON_AddItemToArray(trials, j);
				/* Far above the limit is the SFU's answer, not a hiccup. */
				if (!pass && pg_result_loss(res) > 20 * c->max_loss)
					attempt = c->retries;
			}
			if (pass) {
				lo = mid;
				pg_result_copy(best, res);
				have_best = true;
			} else {
				hi = mid;
			}
			mid = lo + (hi - lo) / 2;
		}
		cJSON_AddItemToObject(root, "trials", trials);
		if (have_best) {
			cJSON *j = pg_result_json(best);

			cJSON_AddBoolToObject(j, "passed", true);
			cJSON_AddItemToObject(root, "best", j);
			pg_result_print(best, "best (highest passing load)");
		} else {
			cJSON_AddNullToObject(root, "best");
			printf("\nno trial passed (loss < %g)\n", c->max_loss);
		}
	}
	free(res);
	free(best);
}

int main(int argc, char **argv)
{
	static struct pg g;
	struct pg_admin *admin = NULL;
	unsigned int rx_lcore = RTE_MAX_LCORE;
	cJSON *root = NULL;
	int ret, status = 1, n;

	defaults(&g.cfg);
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "sfu-pktgen: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	argv[0] = (char *)"sfu-pktgen";
	if (parse_args(&g.cfg, argc, argv) < 0) {
		usage(stderr);
		rte_eal_cleanup();
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	g.hz = rte_get_tsc_hz();
	g.ns_per_tsc = 1e9 / (double)g.hz;

	if (pg_topo_plan(&g) < 0) {
		fprintf(stderr, "sfu-pktgen: out of memory planning %u rooms\n", g.cfg.rooms);
		goto out;
	}
	if (g.cfg.base_port + g.topo.n_tr > 65536) {
		fprintf(stderr, "sfu-pktgen: %u transports do not fit above --base-port %u\n",
			g.topo.n_tr, g.cfg.base_port);
		goto out;
	}
	if (g.topo.n_rx == 0)
		fprintf(stderr, "sfu-pktgen: warning: no subscribers, nothing will be received\n");
	if (pg_port_init(&g) < 0)
		goto out;
	if (!g.cfg.single_lcore) {
		rx_lcore = rte_get_next_lcore(-1, 1, 0);
		if (rx_lcore >= RTE_MAX_LCORE)
			g.cfg.single_lcore = true;
	}
	ret = pg_port_resolve(&g, 3.0);
	if (ret < 0) {
		fprintf(stderr, "sfu-pktgen: %s: %u.%u.%u.%u did not answer ARP within 3 s\n",
			ret == -EINTR ? "interrupted" : "ARP not resolved",
			g.port.hop_ip >> 24, (g.port.hop_ip >> 16) & 255, (g.port.hop_ip >> 8) & 255,
			g.port.hop_ip & 255);
		goto out_port;
	}
	admin = pg_admin_open(&g.cfg);
	if (admin == NULL) {
		fprintf(stderr, "sfu-pktgen: libcurl init failed\n");
		goto out_port;
	}
	fprintf(stderr, "sfu-pktgen: creating %u transports, %u producers, %u consumers in %u rooms\n",
		g.topo.n_tr, g.topo.n_tx, g.topo.n_rx, g.cfg.rooms);
	if (pg_topo_create(&g, admin) < 0) {
		fprintf(stderr, "sfu-pktgen: %s\n", pg_admin_error(admin));
		goto out_close;
	}
	if (pg_traffic_prepare(&g) < 0) {
		fprintf(stderr, "sfu-pktgen: SRTP contexts: out of memory\n");
		goto out_close;
	}
	if (!g.cfg.single_lcore &&
	    rte_eal_remote_launch(pg_rx_lcore, &g, rx_lcore) != 0) {
		fprintf(stderr, "sfu-pktgen: RX lcore %u busy: RX on the main lcore\n", rx_lcore);
		g.cfg.single_lcore = true;
	}
	root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "config", pg_config_json(&g));
	run(&g, root);
	if (!g.cfg.single_lcore) {
		g.rx_stop = true;
		rte_eal_wait_lcore(rx_lcore);
	}
	status = quit_signal ? 128 + quit_signal : 0;
	if (g.cfg.json_path != NULL && write_json(g.cfg.json_path, root) < 0 && status == 0)
		status = 1;
out_close:
	{
		unsigned int failed = pg_topo_close(&g, admin);

		if (failed)
			fprintf(stderr, "sfu-pktgen: %u transports could not be closed: %s\n", failed,
				pg_admin_error(admin));
	}
	pg_admin_close(admin);
out_port:
	pg_port_fini(&g);
out:
	cJSON_Delete(root);
	pg_topo_free(&g);
	curl_global_cleanup();
	rte_eal_cleanup();
	return status;
}
