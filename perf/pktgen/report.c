/*
 * report.c — results of a trial: computed from the TX streams' window counters
 * and the RX counters' delta over the trial, shown as the live progress line,
 * the human table (stdout) and the JSON object (see README.md for fields).
 *
 * Threading: main lcore.  Reads RX counters while the RX lcore may still
 * write them: only packets stamped inside the window count, and the window
 * is over (plus the drain time) when a result is filled.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "pktgen.h"

struct pg_kind_result {
	unsigned int streams_tx, streams_rx;
	double offered_pps;
	uint64_t tx_packets, tx_bytes, tx_skipped, expected, rx, rx_bytes, lost;
	uint64_t dups, reordered, late, misrouted, auth_checked, auth_failed;
	struct pg_hist lat;
};

struct pg_result {
	unsigned int active_rooms;
	double seconds;
	bool interrupted;
	struct pg_kind_result k[PG_KINDS], all;
	uint64_t tx_refused, rx_missed, rtcp, ignored, unknown_ssrc, no_stamp, bad_rtp;
};

static const char *const kind_name[PG_KINDS] = { "audio", "video" };

struct pg_result *pg_result_new(void)
{
	return calloc(1, sizeof(struct pg_result));
}

void pg_rx_stats_sub(struct pg_rx_stats *out, const struct pg_rx_stats *a,
		     const struct pg_rx_stats *b)
{
	for (int k = 0; k < PG_KINDS; k++) {
		const struct pg_rx_counters *x = &a->kind[k], *y = &b->kind[k];
		struct pg_rx_counters *o = &out->kind[k];

		o->rx = x->rx - y->rx;
		o->rx_bytes = x->rx_bytes - y->rx_bytes;
		o->dups = x->dups - y->dups;
		o->reordered = x->reordered - y->reordered;
		o->late = x->late - y->late;
		o->misrouted = x->misrouted - y->misrouted;
		o->auth_checked = x->auth_checked - y->auth_checked;
		o->auth_failed = x->auth_failed - y->auth_failed;
		pg_hist_sub(&o->lat, &x->lat, &y->lat);
	}
	out->pkts = a->pkts - b->pkts;
	out->bytes = a->bytes - b->bytes;
	out->media = a->media - b->media;
	out->rtcp = a->rtcp - b->rtcp;
	out->arp_requests = a->arp_requests - b->arp_requests;
	out->arp_replies = a->arp_replies - b->arp_replies;
	out->ignored = a->ignored - b->ignored;
	out->unknown_ssrc = a->unknown_ssrc - b->unknown_ssrc;
	out->bad_rtp = a->bad_rtp - b->bad_rtp;
	out->no_stamp = a->no_stamp - b->no_stamp;
	out->ctl_full = a->ctl_full - b->ctl_full;
}

static void add_kind(struct pg_kind_result *o, const struct pg_kind_result *k)
{
	o->streams_tx += k->streams_tx;
	o->streams_rx += k->streams_rx;
	o->offered_pps += k->offered_pps;
	o->tx_packets += k->tx_packets;
	o->tx_bytes += k->tx_bytes;
	o->tx_skipped += k->tx_skipped;
	o->expected += k->expected;
	o->rx += k->rx;
	o->rx_bytes += k->rx_bytes;
	o->lost += k->lost;
	o->dups += k->dups;
	o->reordered += k->reordered;
	o->late += k->late;
	o->misrouted += k->misrouted;
	o->auth_checked += k->auth_checked;
	o->auth_failed += k->auth_failed;
	for (unsigned int i = 0; i < PG_HIST_N; i++)
		o->lat.count[i] += k->lat.count[i];
	o->lat.total += k->lat.total;
	o->lat.sum_ns += k->lat.sum_ns;
	if (k->lat.max_ns > o->lat.max_ns)
		o->lat.max_ns = k->lat.max_ns;
}

void pg_result_fill(struct pg_result *r, const struct pg *g, const struct pg_rx_stats *rx,
		    double seconds, bool interrupted)
{
	const struct pg_topo *t = &g->topo;

	memset(r, 0, sizeof(*r));
	r->active_rooms = g->active_rooms;
	r->seconds = seconds;
	r->interrupted = interrupted;
	for (unsigned int i = 0; i < g->n_tx_active; i++) {
		const struct pg_tx_stream *s = &t->tx[i];
		struct pg_kind_result *k = &r->k[s->kind];

		k->streams_tx++;
		k->offered_pps += (double)s->pkts_per_event * (double)g->hz / (double)s->period;
		k->tx_packets += s->win_sent;
		k->tx_bytes += s->win_bytes;
		k->tx_skipped += s->skipped;
		k->expected += s->win_sent * s->fanout;
	}
	for (unsigned int i = 0; i < t->n_rx; i++)
		if (t->rx[i].src < g->n_tx_active)
			r->k[t->rx[i].kind].streams_rx++;
	for (int kk = 0; kk < PG_KINDS; kk++) {
		struct pg_kind_result *k = &r->k[kk];
		const struct pg_rx_counters *c = &rx->kind[kk];

		k->rx = c->rx;
		k->rx_bytes = c->rx_bytes;
		k->lost = k->expected > c->rx ? k->expected - c->rx : 0;
		k->dups = c->dups;
		k->reordered = c->reordered;
		k->late = c->late;
		k->misrouted = c->misrouted;
		k->auth_checked = c->auth_checked;
		k->auth_failed = c->auth_failed;
		k->lat = c->lat;
		add_kind(&r->all, k);
	}
	r->tx_refused = g->port.trial_refused;
	r->rx_missed = g->port.trial_missed;
	r->rtcp = rx->rtcp;
	r->ignored = rx->ignored;
	r->unknown_ssrc = rx->unknown_ssrc;
	r->no_stamp = rx->no_stamp;
	r->bad_rtp = rx->bad_rtp;
}

double pg_result_loss(const struct pg_result *r)
{
	return r->all.expected ? (double)r->all.lost / (double)r->all.expected : 0.0;
}

/* The generator, not the SFU, limited the load: it skipped events, the port
 * refused packets, its RX ring overflowed, or it sent under 95% of the offered
 * rate (descheduled). */
static bool generator_limited(const struct pg_result *r)
{
	return r->all.tx_skipped || r->tx_refused || r->rx_missed ||
	       (r->seconds > 0 && (double)r->all.tx_packets < 0.95 * r->all.offered_pps * r->seconds);
}

bool pg_result_pass(const struct pg_result *r, double max_loss)
{
	return !r->interrupted && r->all.expected > 0 && pg_result_loss(r) < max_loss;
}

void pg_result_copy(struct pg_result *dst, const struct pg_result *src)
{
	memcpy(dst, src, sizeof(*dst));
}

static double us(uint64_t ns)
{
	return round((double)ns / 100.0) / 10.0;
}

static void print_row(const char *name, const struct pg_kind_result *k, double secs)
{
	const struct pg_hist *h = &k->lat;

	printf("%-6s %7u %7u %11.0f %11llu %11llu %11llu %9llu %9.5f%% %6llu %6llu %7llu/%-7llu "
	       "%8.1f %8.1f %8.1f %9.1f\n",
	       name, k->streams_tx, k->streams_rx, secs > 0 ? (double)k->rx / secs : 0.0,
	       (unsigned long long)k->tx_packets, (unsigned long long)k->expected,
	       (unsigned long long)k->rx, (unsigned long long)k->lost,
	       k->expected ? 100.0 * (double)k->lost / (double)k->expected : 0.0,
	       (unsigned long long)k->dups, (unsigned long long)k->reordered,
	       (unsigned long long)k->auth_failed, (unsigned long long)k->auth_checked,
	       us(pg_hist_quantile(h, 0.5)), us(pg_hist_quantile(h, 0.99)),
	       us(pg_hist_quantile(h, 0.999)), us(h->max_ns));
}

void pg_result_print(const struct pg_result *r, const char *title)
{
	double s = r->seconds;

	printf("\n%s: %u active rooms, %.2f s measured%s\n", title, r->active_rooms, s,
	       r->interrupted ? " (interrupted)" : "");
	printf("%-6s %7s %7s %11s %11s %11s %11s %9s %10s %6s %6s %15s %8s %8s %8s %9s\n",
	       "kind", "str_tx", "str_rx", "rx_pps", "sent", "expected", "received", "lost",
	       "loss", "dup", "reord", "authfail/chk", "p50_us", "p99_us", "p999_us", "max_us");
	for (int k = 0; k < PG_KINDS; k++)
		if (r->k[k].streams_tx)
			print_row(kind_name[k], &r->k[k], s);
	print_row("total", &r->all, s);
	printf("offered %.0f pps; sent %.0f pps %.3f Gbps; received %.0f pps %.3f Gbps; "
	       "latency mean %.1f us p90 %.1f us\n",
	       r->all.offered_pps, s > 0 ? (double)r->all.tx_packets / s : 0.0,
	       s > 0 ? (double)r->all.tx_bytes * 8 / s / 1e9 : 0.0,
	       s > 0 ? (double)r->all.rx / s : 0.0, s > 0 ? (double)r->all.rx_bytes * 8 / s / 1e9 : 0.0,
	       r->all.lat.total ? (double)r->all.lat.sum_ns / (double)r->all.lat.total / 1000.0 : 0.0,
	       us(pg_hist_quantile(&r->all.lat, 0.9)));
	if (generator_limited(r))
		printf("WARNING: the generator fell behind (sent %.0f of %.0f offered pps, %llu packets "
		       "skipped, %llu refused by the port, %llu missed by its RX ring): it, not the "
		       "SFU, limited this load\n",
		       s > 0 ? (double)r->all.tx_packets / s : 0.0, r->all.offered_pps,
		       (unsigned long long)r->all.tx_skipped, (unsigned long long)r->tx_refused,
		       (unsigned long long)r->rx_missed);
	fflush(stdout);
}

static void kind_json(cJSON *o, const struct pg_kind_result *k, double s, bool hist)
{
	const struct pg_hist *h = &k->lat;
	cJSON *lat;

	cJSON_AddNumberToObject(o, "streams_tx", k->streams_tx);
	cJSON_AddNumberToObject(o, "streams_rx", k->streams_rx);
	cJSON_AddNumberToObject(o, "offered_pps", round(k->offered_pps));
	cJSON_AddNumberToObject(o, "tx_packets", (double)k->tx_packets);
	cJSON_AddNumberToObject(o, "tx_bytes", (double)k->tx_bytes);
	cJSON_AddNumberToObject(o, "tx_pps", s > 0 ? round((double)k->tx_packets / s) : 0);
	cJSON_AddNumberToObject(o, "tx_gbps", s > 0 ? (double)k->tx_bytes * 8 / s / 1e9 : 0);
	cJSON_AddNumberToObject(o, "tx_skipped", (double)k->tx_skipped);
	cJSON_AddNumberToObject(o, "expected_rx_packets", (double)k->expected);
	cJSON_AddNumberToObject(o, "rx_packets", (double)k->rx);
	cJSON_AddNumberToObject(o, "rx_bytes", (double)k->rx_bytes);
	cJSON_AddNumberToObject(o, "rx_pps", s > 0 ? round((double)k->rx / s) : 0);
	cJSON_AddNumberToObject(o, "rx_gbps", s > 0 ? (double)k->rx_bytes * 8 / s / 1e9 : 0);
	cJSON_AddNumberToObject(o, "lost", (double)k->lost);
	cJSON_AddNumberToObject(o, "loss_ratio", k->expected ? (double)k->lost / (double)k->expected : 0);
	cJSON_AddNumberToObject(o, "reordered", (double)k->reordered);
	cJSON_AddNumberToObject(o, "late", (double)k->late);
	cJSON_AddNumberToObject(o, "duplicates", (double)k->dups);
	cJSON_AddNumberToObject(o, "misrouted", (double)k->misrouted);
	cJSON_AddNumberToObject(o, "auth_checked", (double)k->auth_checked);
	cJSON_AddNumberToObject(o, "auth_failed", (double)k->auth_failed);
	lat = cJSON_AddObjectToObject(o, "latency_us");
	cJSON_AddNumberToObject(lat, "p50", us(pg_hist_quantile(h, 0.5)));
	cJSON_AddNumberToObject(lat, "p90", us(pg_hist_quantile(h, 0.9)));
	cJSON_AddNumberToObject(lat, "p99", us(pg_hist_quantile(h, 0.99)));
	cJSON_AddNumberToObject(lat, "p999", us(pg_hist_quantile(h, 0.999)));
	cJSON_AddNumberToObject(lat, "max", us(h->max_ns));
	cJSON_AddNumberToObject(lat, "mean", h->total ? round((double)h->sum_ns / (double)h->total / 100.0) / 10.0 : 0);
	if (hist) {
		/* [upper bound in us, count] of every non-empty bucket, in order. */
		cJSON *arr = cJSON_AddArrayToObject(o, "histogram");

		for (unsigned int i = 0; i < PG_HIST_N; i++)
			if (h->count[i]) {
				cJSON *b = cJSON_CreateArray();

				cJSON_AddItemToArray(b, cJSON_CreateNumber((double)pg_hist_upper(i) / 1000.0));
				cJSON_AddItemToArray(b, cJSON_CreateNumber((double)h->count[i]));
				cJSON_AddItemToArray(arr, b);
			}
	}
}

cJSON *pg_result_json(const struct pg_result *r)
{
	cJSON *o = cJSON_CreateObject(), *pk;

	cJSON_AddNumberToObject(o, "active_rooms", r->active_rooms);
	cJSON_AddNumberToObject(o, "duration_s", r->seconds);
	cJSON_AddBoolToObject(o, "interrupted", r->interrupted);
	kind_json(o, &r->all, r->seconds, true);
	cJSON_AddNumberToObject(o, "tx_refused", (double)r->tx_refused);
	cJSON_AddNumberToObject(o, "rx_port_missed", (double)r->rx_missed);
	cJSON_AddBoolToObject(o, "generator_limited", generator_limited(r));
	cJSON_AddNumberToObject(o, "rx_rtcp", (double)r->rtcp);
	cJSON_AddNumberToObject(o, "rx_ignored", (double)r->ignored);
	cJSON_AddNumberToObject(o, "rx_unknown_ssrc", (double)r->unknown_ssrc);
	cJSON_AddNumberToObject(o, "rx_no_stamp", (double)r->no_stamp);
	cJSON_AddNumberToObject(o, "rx_bad_rtp", (double)r->bad_rtp);
	pk = cJSON_AddObjectToObject(o, "per_kind");
	for (int k = 0; k < PG_KINDS; k++)
		if (r->k[k].streams_tx)
			kind_json(cJSON_AddObjectToObject(pk, kind_name[k]), &r->k[k], r->seconds, false);
	return o;
}

static cJSON *ip_json(uint32_t ip)
{
	char s[16];

	snprintf(s, sizeof(s), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	return cJSON_CreateString(s);
}

cJSON *pg_config_json(const struct pg *g)
{
	const struct pg_config *c = &g->cfg;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "admin", c->admin_url);
	cJSON_AddItemToObject(o, "ip", ip_json(c->ip));
	cJSON_AddItemToObject(o, "sfu_ip", ip_json(c->sfu_ip));
	cJSON_AddNumberToObject(o, "rooms", c->rooms);
	if (c->room_size) {
		cJSON_AddStringToObject(o, "layout", "mesh");
		cJSON_AddNumberToObject(o, "room_size", c->room_size);
	} else {
		cJSON_AddStringToObject(o, "layout", "publishers-subscribers");
		cJSON_AddNumberToObject(o, "publishers", c->publishers);
		cJSON_AddNumberToObject(o, "subscribers", c->subscribers);
	}
	cJSON_AddStringToObject(o, "media", c->audio && c->video ? "av" : c->audio ? "audio" : "video");
	cJSON_AddNumberToObject(o, "video_kbps", c->video_kbps);
	cJSON_AddNumberToObject(o, "fps", c->fps);
	cJSON_AddNumberToObject(o, "video_bytes", c->video_bytes);
	cJSON_AddNumberToObject(o, "audio_bytes", c->audio_bytes);
	cJSON_AddNumberToObject(o, "audio_pps", c->audio_pps);
	cJSON_AddStringToObject(o, "profile", c->profile == SFU_SRTP_AEAD_AES_128_GCM ? "gcm" : "cm");
	cJSON_AddNumberToObject(o, "duration", c->duration);
	cJSON_AddNumberToObject(o, "warmup", c->warmup);
	cJSON_AddNumberToObject(o, "drain", c->drain);
	cJSON_AddNumberToObject(o, "auth_sample", c->auth_sample);
	cJSON_AddBoolToObject(o, "search", c->search);
	cJSON_AddNumberToObject(o, "max_loss", c->max_loss);
	cJSON_AddNumberToObject(o, "max_trials", c->max_trials);
	cJSON_AddNumberToObject(o, "retries", c->retries);
	cJSON_AddBoolToObject(o, "bad_auth", c->bad_auth);
	cJSON_AddNumberToObject(o, "seed", (double)c->seed);
	cJSON_AddNumberToObject(o, "transports", g->topo.n_tr);
	cJSON_AddNumberToObject(o, "streams_tx", g->topo.n_tx);
	cJSON_AddNumberToObject(o, "streams_rx", g->topo.n_rx);
	cJSON_AddBoolToObject(o, "rx_lcore", !c->single_lcore);
	return o;
}

void pg_progress(const struct pg *g, const char *label, double t, double tx_pps, double rx_pps,
		 double rx_gbps, const struct pg_rx_stats *now, const struct pg_rx_stats *base,
		 bool tty)
{
	struct pg_hist h;
	uint64_t rx = 0, sent = 0, exp = 0;

	memset(&h, 0, sizeof(h));
	for (int k = 0; k < PG_KINDS; k++) {
		struct pg_hist d;

		pg_hist_sub(&d, &now->kind[k].lat, &base->kind[k].lat);
		for (unsigned int i = 0; i < PG_HIST_N; i++)
			h.count[i] += d.count[i];
		h.total += d.total;
		if (d.max_ns > h.max_ns)
			h.max_ns = d.max_ns;
		rx += now->kind[k].rx - base->kind[k].rx;
	}
	for (unsigned int i = 0; i < g->n_tx_active; i++) {
		sent += g->topo.tx[i].win_sent;
		exp += g->topo.tx[i].win_sent * g->topo.tx[i].fanout;
	}
	fprintf(stderr, "%s%s t=%5.1fs tx %9.0f pps  rx %9.0f pps %6.3f Gbps  window: sent %llu "
		"rx %llu/%llu  p50 %.0f us p99 %.0f us%s",
		tty ? "\r\033[K" : "", label, t, tx_pps, rx_pps, rx_gbps, (unsigned long long)sent,
		(unsigned long long)rx, (unsigned long long)exp,
		(double)pg_hist_quantile(&h, 0.5) / 1000.0, (double)pg_hist_quantile(&h, 0.99) / 1000.0,
		tty ? "" : "\n");
	fflush(stderr);
}
