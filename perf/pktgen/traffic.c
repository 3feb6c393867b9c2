/*
 * traffic.c — what goes on the wire and what comes back.
 *
 * TX: every published stream is paced by the TSC.  Audio is one packet per
 * event (--audio-pps events/s); video is one frame per event (--fps), sent as
 * a burst of packets whose count gives --video-kbps.  A generator that falls
 * more than 50 ms behind skips events (counted as tx_skipped: the generator,
 * not the SFU, is then the bottleneck).  Each packet carries, in an RFC 8285
 * one-byte header extension (id 1, 12 bytes), the TSC at which it was built
 * and the index of its stream.  SRTP authenticates the extension but does not
 * encrypt it (RFC 3711 3.1, RFC 7714 8), and the SFU copies the whole header
 * (extension included) to every consumer before rewriting SSRC, PT, sequence
 * and timestamp (dataplane/src/media.c fan_out), so the stamp survives and
 * can be read from every received packet without decrypting it.
 *
 * RX: a consumer is found from its SSRC (PG_SSRC_RX_BASE + index).  Only
 * packets whose stamp lies inside the measurement window are counted, so
 * warm-up traffic and stragglers of an earlier trial never are.  Per stream a
 * sliding 1024-packet bitmap over the consumer's (extended) sequence numbers
 * tells duplicates and reordered packets apart; loss is what was sent in the
 * window times the fan-out less the distinct packets received.  One packet in
 * --auth-sample per stream goes through the full SRTP unprotect with the
 * consumer transport's key and its decrypted payload is compared with what
 * was sent.
 *
 * Threading: pg_tx_poll on the main lcore (TX side), pg_rx_poll on the RX
 * side (see pktgen.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "pktgen.h"
#include "sfu_rtp.h"

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

int pg_traffic_prepare(struct pg *g)
{
	const struct pg_config *c = &g->cfg;
	struct pg_topo *t = &g->topo;

	for (unsigned int i = 0; i < sizeof(g->pattern); i++)
		g->pattern[i] = (uint8_t)(i * 31 + 7);
	for (unsigned int i = 0; i < t->n_tr; i++) {
		struct pg_transport *tr = &t->tr[i];
		uint8_t rx_key[30];

		memcpy(rx_key, tr->send_key, sizeof(rx_key));
		/* --bad-auth: our receive key is not the one the SFU encrypts with. */
		if (c->bad_auth)
			rx_key[0] ^= 0x5a;
		tr->tx = sfu_srtp_ctx_create(c->profile, tr->recv_key,
					     tr->recv_key + SFU_SRTP_MASTER_KEY_LEN);
		tr->rx = sfu_srtp_ctx_create(c->profile, rx_key, rx_key + SFU_SRTP_MASTER_KEY_LEN);
		if (tr->tx == NULL || tr->rx == NULL)
			return -ENOMEM;
	}
	for (unsigned int i = 0; i < t->n_tx; i++) {
		struct pg_tx_stream *s = &t->tx[i];
		const struct pg_transport *tr = &t->tr[s->transport];
		uint64_t r = mix64(c->seed ^ i);

		if (s->kind == PG_AUDIO) {
			s->payload = (uint16_t)c->audio_bytes;
			s->pkts_per_event = 1;
			s->period = g->hz / c->audio_pps;
			s->ts_step = 48000 / c->audio_pps;
		} else {
			double frame = (double)c->video_kbps * 1000.0 / 8.0 / c->fps;
			unsigned int n = (unsigned int)(frame / c->video_bytes + 0.5);

			s->payload = (uint16_t)c->video_bytes;
			s->pkts_per_event = (uint16_t)(n ? n : 1);
			s->period = g->hz / c->fps;
			s->ts_step = 90000 / c->fps;
		}
		s->seq = (uint16_t)r;
		s->ts = (uint32_t)(r >> 16);
		sfu_srtp_stream_init(&s->srtp);
		s->flow.src_mac = g->port.mac;
		s->flow.dst_mac = g->port.hop_mac;
		s->flow.src_ip = c->ip;
		s->flow.dst_ip = c->sfu_ip;
		s->flow.src_port = tr->port;
		s->flow.dst_port = tr->sfu_port;
	}
	for (unsigned int i = 0; i < t->n_rx; i++)
		sfu_srtp_stream_init(&t->rx[i].srtp);
	g->behind_limit = g->hz / 20;
	return 0;
}

void pg_traffic_arm(struct pg *g, uint64_t now)
{
	struct pg_topo *t = &g->topo;
	unsigned int n = 0;

	/* Streams are laid out room by room: the active ones are a prefix.
	 * Each starts at a reproducible offset within its period, so frames of
	 * different streams do not all leave at once. */
	while (n < t->n_tx && t->tx[n].room < g->active_rooms)
		n++;
	g->n_tx_active = n;
	for (unsigned int i = 0; i < n; i++) {
		struct pg_tx_stream *s = &t->tx[i];

		s->next = now + mix64(g->cfg.seed + i * 7919u) % s->period;
		s->left = 0;
		s->win_sent = s->win_bytes = s->skipped = 0;
	}
	g->tx_due = now;
}

/* Write our RTP header (fixed 12 bytes + the stamp extension, PG_RTP_HDR). */
static void rtp_header(uint8_t *rtp, const struct pg_tx_stream *s, unsigned int idx, bool marker,
		       uint64_t tsc)
{
	uint8_t pt = s->kind == PG_AUDIO ? PG_PT_AUDIO : PG_PT_VIDEO;
	uint64_t be_tsc = rte_cpu_to_be_64(tsc);
	uint32_t v;

	rtp[0] = 0x90;                            /* V=2, X=1 */
	rtp[1] = (uint8_t)(pt | (marker ? 0x80 : 0));
	rtp[2] = (uint8_t)(s->seq >> 8);
	rtp[3] = (uint8_t)s->seq;
	v = rte_cpu_to_be_32(s->ts);
	memcpy(rtp + 4, &v, 4);
	v = rte_cpu_to_be_32(s->ssrc);
	memcpy(rtp + 8, &v, 4);
	/* RFC 8285 4.2: 0xBEDE, length 4 words; element id 1, L = 12 - 1. */
	rtp[12] = 0xBE;
	rtp[13] = 0xDE;
	rtp[14] = 0;
	rtp[15] = (PG_EXT_LEN - 4) / 4;
	rtp[16] = (uint8_t)((PG_EXT_ID << 4) | (12 - 1));
	memcpy(rtp + 17, &be_tsc, 8);
	v = rte_cpu_to_be_32(idx);
	memcpy(rtp + 25, &v, 4);
	rtp[29] = rtp[30] = rtp[31] = 0;          /* padding */
}

struct tx_burst {
	struct rte_mbuf *pkts[PG_BURST];
	uint32_t idx[PG_BURST];
	uint16_t len[PG_BURST];
	bool in_win[PG_BURST];
	unsigned int n;
};

static unsigned int flush(struct pg *g, struct tx_burst *b)
{
	unsigned int sent = 0;

	/* A full TX ring gets a few more chances; then the rest is refused. */
	for (int tries = 0; tries < 8 && sent < b->n; tries++)
		sent += rte_eth_tx_burst(g->port.port_id, 0, b->pkts + sent, (uint16_t)(b->n - sent));
	for (unsigned int i = 0; i < b->n; i++) {
		struct pg_tx_stream *s = &g->topo.tx[b->idx[i]];

		if (i >= sent) {
			rte_pktmbuf_free(b->pkts[i]);
			g->port.tx_refused++;
			continue;
		}
		s->sent++;
		s->sent_bytes += b->len[i];
		if (b->in_win[i]) {
			s->win_sent++;
			s->win_bytes += b->len[i];
		}
	}
	g->tx_total += sent;
	b->n = 0;
	return sent;
}

unsigned int pg_tx_poll(struct pg *g, uint64_t now)
{
	struct pg_topo *t = &g->topo;
	uint64_t due = UINT64_MAX, ws = g->win.start, we = g->win.end;
	struct tx_burst b;
	unsigned int sent = 0;

	if (now < g->tx_due)
		return 0;
	b.n = 0;
	for (unsigned int i = 0; i < g->n_tx_active; i++) {
		struct pg_tx_stream *s = &t->tx[i];
		struct sfu_srtp_ctx *ctx = t->tr[s->transport].tx;

		for (;;) {
			struct rte_mbuf *m;
			uint8_t *p;
			uint64_t tsc;
			int n;

			if (s->left == 0) {
				if (s->next > now)
					break;
				if (now - s->next > g->behind_limit) {
					uint64_t missed = (now - s->next) / s->period;

					s->skipped += missed * s->pkts_per_event;
					s->next += missed * s->period;
					s->ts += (uint32_t)missed * s->ts_step;
				}
				s->left = s->pkts_per_event;
				s->ts += s->ts_step;
				s->next += s->period;
			}
			m = rte_pktmbuf_alloc(g->port.pool);
			if (m == NULL) {
				/* Pool empty: the TX ring holds them; try next poll. */
				due = now;
				break;
			}
			p = rte_pktmbuf_mtod(m, uint8_t *);
			tsc = rte_rdtsc();
			rtp_header(p + DP_HDRS_LEN, s, i, s->kind == PG_VIDEO && s->left == 1, tsc);
			n = sfu_srtp_protect_rtp(ctx, &s->srtp, p + DP_HDRS_LEN, PG_RTP_HDR,
						 g->pattern, s->payload);
			s->seq++;
			s->left--;
			if (unlikely(n < 0)) {
				rte_pktmbuf_free(m);
				continue;
			}
			dp_udp_build(p, &s->flow, (uint16_t)n, false);
			m->data_len = (uint16_t)(DP_HDRS_LEN + n);
			m->pkt_len = m->data_len;
			b.pkts[b.n] = m;
			b.idx[b.n] = i;
			b.len[b.n] = m->data_len;
			b.in_win[b.n] = tsc >= ws && tsc < we;
			if (++b.n == PG_BURST)
				sent += flush(g, &b);
		}
		if (s->left == 0 && s->next < due)
			due = s->next;
		else if (s->left != 0)
			due = now;
	}
	if (b.n)
		sent += flush(g, &b);
	g->tx_due = due;
	return sent;
}

enum seq_verdict { SEQ_NEW, SEQ_REORDERED, SEQ_LATE, SEQ_DUP };

static inline bool seen_test_set(struct pg_rx_stream *y, uint64_t x)
{
	uint64_t *w = &y->seen[(x % PG_SEQ_WINDOW) / 64], bit = 1ull << (x % 64);
	bool was = (*w & bit) != 0;

	*w |= bit;
	return was;
}

/* Extend the consumer's 16-bit sequence number against the highest seen and
 * slide the window (RFC 3550 A.1 style, without the probation). */
static enum seq_verdict seq_track(struct pg_rx_stream *y, uint16_t seq)
{
	int16_t d;
	uint64_t x;

	if (unlikely(!y->started)) {
		y->started = true;
		y->hi = (1ull << 20) + seq;
		memset(y->seen, 0, sizeof(y->seen));
		seen_test_set(y, y->hi);
		return SEQ_NEW;
	}
	d = (int16_t)(seq - (uint16_t)y->hi);
	x = y->hi + (uint64_t)(int64_t)d;
	if (d > 0) {
		if (d >= PG_SEQ_WINDOW)
			memset(y->seen, 0, sizeof(y->seen));
		else
			for (uint64_t k = y->hi + 1; k < x; k++)
				y->seen[(k % PG_SEQ_WINDOW) / 64] &= ~(1ull << (k % 64));
		y->seen[(x % PG_SEQ_WINDOW) / 64] &= ~(1ull << (x % 64));
		y->hi = x;
		seen_test_set(y, x);
		return SEQ_NEW;
	}
	if (y->hi - x >= PG_SEQ_WINDOW)
		return SEQ_LATE;
	return seen_test_set(y, x) ? SEQ_DUP : SEQ_REORDERED;
}

static void rx_media(struct pg *g, struct rte_mbuf *m, const struct dp_pkt_info *pi, uint64_t now)
{
	struct pg_topo *t = &g->topo;
	uint8_t *rtp = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->payload_off);
	struct pg_rx_stats *st = &g->rxs;
	struct sfu_rtp_info ri;
	struct pg_rx_stream *y;
	struct pg_rx_counters *c;
	const uint8_t *ext;
	size_t ext_len;
	uint64_t tsc;
	uint32_t idx, src;
	bool in_win;
	enum seq_verdict v;

	switch (sfu_pkt_classify(rtp, pi->payload_len)) {
	case SFU_PKT_RTP:
		break;
	case SFU_PKT_RTCP:
		st->rtcp++;   /* the SFU's PLI/SR for our publishers: not measured */
		return;
	default:
		st->bad_rtp++;
		return;
	}
	if (unlikely(sfu_rtp_parse(rtp, pi->payload_len, &ri) < 0)) {
		st->bad_rtp++;
		return;
	}
	idx = ri.ssrc - PG_SSRC_RX_BASE;
	if (unlikely(idx >= t->n_rx)) {
		st->unknown_ssrc++;
		return;
	}
	y = &t->rx[idx];
	st->media++;
	if (unlikely(sfu_rtp_ext_find(rtp, &ri, PG_EXT_ID, &ext, &ext_len) < 0 || ext_len != 12)) {
		st->no_stamp++;
		return;
	}
	memcpy(&tsc, ext, 8);
	tsc = rte_be_to_cpu_64(tsc);
	memcpy(&src, ext + 8, 4);
	src = rte_be_to_cpu_32(src);
	in_win = tsc >= g->win.start && tsc < g->win.end;
	v = seq_track(y, ri.seq);
	c = &st->kind[y->kind];
	if (in_win) {
		if (v == SEQ_DUP) {
			c->dups++;
		} else {
			c->rx++;
			c->rx_bytes += m->pkt_len;
			c->reordered += v != SEQ_NEW;
			c->late += v == SEQ_LATE;
			pg_hist_add(&c->lat, now > tsc ? (uint64_t)((double)(now - tsc) * g->ns_per_tsc) : 0);
		}
		/* Delivered to the wrong address or from the wrong producer. */
		if (unlikely(src != y->src || t->tr[y->transport].port != pi->dst_port))
			c->misrouted++;
	}
	if (g->cfg.auth_sample && ++y->auth_ctr >= g->cfg.auth_sample) {
		size_t plain;
		int ret;
		bool ok;

		y->auth_ctr = 0;
		ret = sfu_srtp_unprotect_rtp(t->tr[y->transport].rx, &y->srtp, rtp, pi->payload_len,
					     ri.hdr_len, &plain);
		ok = ret == SFU_SRTP_OK && plain - ri.hdr_len == t->tx[y->src].payload &&
		     memcmp(rtp + ri.hdr_len, g->pattern, plain - ri.hdr_len) == 0;
		if (in_win) {
			c->auth_checked++;
			c->auth_failed += !ok;
		}
	}
}

unsigned int pg_rx_poll(struct pg *g)
{
	struct rte_mbuf *pkts[PG_BURST];
	uint16_t n = rte_eth_rx_burst(g->port.port_id, 0, pkts, PG_BURST);
	uint64_t now;

	if (n == 0)
		return 0;
	now = rte_rdtsc();
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct dp_pkt_info pi;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		g->rxs.pkts++;
		g->rxs.bytes += m->pkt_len;
		switch (dp_parse_frame(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
				       &g->port.iface, &pi)) {
		case DP_PKT_ARP:
			pg_port_arp(g, m);   /* consumes m */
			continue;
		case DP_PKT_UDP:
			rx_media(g, m, &pi, now);
			break;
		default:
			g->rxs.ignored++;
			break;
		}
		rte_pktmbuf_free(m);
	}
	return n;
}

int pg_rx_lcore(void *arg)
{
	struct pg *g = arg;

	while (!g->rx_stop)
		pg_rx_poll(g);
	return 0;
}
