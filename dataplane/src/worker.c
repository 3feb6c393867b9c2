/*
 * worker.c — a worker lcore's poll loop: commands, RX burst, classify,
 * hand-over, TX.
 *
 * Loop shape (after DPDK l2fwd/l3fwd): apply pending commands from the main
 * lcore; queue what the main lcore asked us to send; RX a burst from our
 * queue and another from our hand-over ring; classify each frame (VPP style:
 * one verdict per packet, every failure a named counter); flush TX; every
 * SFU_AUDIO_LEVEL_INTERVAL_MS report the audio levels of its producers.
 *
 * RFC 7983 demux of UDP payloads: STUN (0-3) and DTLS (20-63) go to ctrl as
 * SFU_MSG_PACKET_IN (tagged with the bound transport, or only the 5-tuple);
 * RTP/RTCP (128-191) go to the transport's owner.  ARP and ICMP go to the
 * main lcore's slow ring.
 *
 * Threading: runs on one worker lcore; touches only its own queue pair, its
 * rings' consumer side, its route table and the slots it owns.  No locks,
 * no allocation besides mbufs/messages from pools, no syscalls except the
 * optional idle sleep.
 */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_prefetch.h>

#include "dp.h"
#include "sfu_rtp.h"

#define PREFETCH_OFFSET 3
#define IDLE_POLLS_BEFORE_SLEEP 256

void dp_worker_flush(struct dp_worker *w)
{
	uint16_t sent, i;
	uint64_t bytes = 0, t0;

	if (w->n_tx == 0)
		return;
	for (i = 0; i < w->n_tx; i++)
		bytes += w->tx[i]->pkt_len;
	t0 = rte_rdtsc();
	sent = rte_eth_tx_burst(dp.port_id, (uint16_t)w->index, w->tx, w->n_tx);
	dp_count(w->st, SFU_CNT_PORT_CYCLES, rte_rdtsc() - t0);
	/* What the device refused is freed and counted (l2fwd's send_burst). */
	for (i = sent; i < w->n_tx; i++) {
		bytes -= w->tx[i]->pkt_len;
		dp_drop(w->st, SFU_DROP_TX_FULL);
		rte_pktmbuf_free(w->tx[i]);
	}
	dp_count(w->st, SFU_CNT_TX_PKTS, sent);
	dp_count(w->st, SFU_CNT_TX_BYTES, bytes);
	w->n_tx = 0;
}

void dp_worker_tx(struct dp_worker *w, struct rte_mbuf *m)
{
	w->tx[w->n_tx++] = m;
	if (w->n_tx == DP_TX_BUF)
		dp_worker_flush(w);
}

/*
 * Make sure t's next-hop MAC is known.  The neighbour table's version tells
 * whether the cached MAC is still good; when the next hop is unknown the main
 * lcore is asked (at most every 100 ms per transport) to ARP for it.
 * @return 0 when t->flow.dst_mac is usable
 */
int dp_worker_next_hop(struct dp_worker *w, struct dp_transport *t)
{
	uint32_t ver = __atomic_load_n(&dp.neigh->version, __ATOMIC_ACQUIRE);
	uint64_t now;

	if (likely(t->has_mac && t->neigh_ver == ver))
		return 0;
	if (dp_neigh_lookup(dp.neigh, t->next_hop, &t->flow.dst_mac) == 0) {
		t->has_mac = true;
		t->neigh_ver = ver;
		return 0;
	}
	t->has_mac = false;
	now = rte_get_timer_cycles();
	if (now - t->resolve_tsc > dp.hz / 10) {
		t->resolve_tsc = now;
		if (rte_ring_enqueue(dp.resolve, (void *)(uintptr_t)t->next_hop) != 0)
			dp_drop(w->st, SFU_DROP_SLOW_RING_FULL);
	}
	return -1;
}

struct sfu_msg *dp_msg_take(struct dp_worker *w, struct rte_ring *to, enum sfu_drop full)
{
	void *obj;

	/* A stalled or slow consumer may hold only its share of the shared pool,
	 * and the last msg_reserve messages are left for clients' requests. */
	if (rte_ring_count(to) >= dp.msg_share) {
		dp_drop(w->st, full);
		return NULL;
	}
	if (rte_mempool_avail_count(dp.msg_pool) <= dp.msg_reserve ||
	    rte_mempool_get(dp.msg_pool, &obj) != 0) {
		dp_drop(w->st, SFU_DROP_MSG_POOL_EMPTY);
		return NULL;
	}
	return obj;
}

/* Copy a STUN/DTLS datagram into a PACKET_IN message for ctrl. */
static void to_ctrl(struct dp_worker *w, struct rte_mbuf *m, const struct dp_pkt_info *pi,
		    uint32_t transport_id)
{
	int ch = __atomic_load_n(&dp.ctrl_channel, __ATOMIC_ACQUIRE);
	struct sfu_msg *msg;

	if (ch < 0) {
		dp_drop(w->st, SFU_DROP_NO_CTRL);
		return;
	}
	if (pi->payload_len > SFU_MSG_DATA_MAX) {
		dp_drop(w->st, SFU_DROP_TOO_BIG);
		return;
	}
	msg = dp_msg_take(w, dp.evt[ch], SFU_DROP_CTRL_RING_FULL);
	if (msg == NULL)
		return;
	msg->type = SFU_MSG_PACKET_IN;
	msg->client = (uint16_t)ch;
	msg->req_id = 0;
	msg->u.packet.transport = transport_id;
	msg->u.packet.tuple.remote_ip = pi->src_ip;
	msg->u.packet.tuple.remote_port = pi->src_port;
	msg->u.packet.tuple.local_port = pi->dst_port;
	msg->u.packet.len = pi->payload_len;
	rte_memcpy(msg->u.packet.data, rte_pktmbuf_mtod_offset(m, uint8_t *, pi->payload_off),
		   pi->payload_len);
	if (rte_ring_enqueue(dp.evt[ch], msg) != 0) {
		rte_mempool_put(dp.msg_pool, msg);
		dp_drop(w->st, SFU_DROP_CTRL_RING_FULL);
		return;
	}
	dp_count(w->st, SFU_CNT_CTRL_OUT, 1);
}

/* Route lookup: the transport id and owner of a 5-tuple, or -1. */
static int route(struct dp_worker *w, const struct dp_pkt_info *pi, uint32_t *id,
		 unsigned int *owner)
{
	struct sfu_5tuple key = {
		.remote_ip = pi->src_ip,
		.remote_port = pi->src_port,
		.local_port = pi->dst_port,
	};
	void *data;

	if (rte_hash_lookup_data(w->routes, &key, &data) < 0)
		return -1;
	*id = (uint32_t)(uintptr_t)data;
	*owner = (unsigned int)((uintptr_t)data >> 32);
	return 0;
}

/* One UDP datagram: demux by first byte (RFC 7983). */
static void handle_udp(struct dp_worker *w, struct rte_mbuf *m, const struct dp_pkt_info *pi,
		       bool handed_over)
{
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, pi->payload_off);
	enum sfu_pkt_class cls = sfu_pkt_classify(p, pi->payload_len);
	unsigned int owner;
	uint32_t id;
	struct dp_transport *t;

	switch (cls) {
	case SFU_PKT_STUN:
	case SFU_PKT_DTLS:
		dp_count(w->st, cls == SFU_PKT_STUN ? SFU_CNT_STUN_IN : SFU_CNT_DTLS_IN, 1);
		to_ctrl(w, m, pi, route(w, pi, &id, &owner) == 0 ? id : 0);
		rte_pktmbuf_free(m);
		return;
	case SFU_PKT_RTP:
	case SFU_PKT_RTCP:
		break;
	default:
		dp_drop(w->st, SFU_DROP_PAYLOAD_UNKNOWN);
		rte_pktmbuf_free(m);
		return;
	}
	if (route(w, pi, &id, &owner) < 0) {
		dp_drop(w->st, SFU_DROP_NO_TRANSPORT);
		rte_pktmbuf_free(m);
		return;
	}
	if (owner != w->index) {
		/* Hand over once; a second hop means the tables disagree. */
		if (handed_over) {
			dp_drop(w->st, SFU_DROP_WRONG_OWNER);
			rte_pktmbuf_free(m);
		} else if (rte_ring_enqueue(dp.workers[owner].rx_hand, m) != 0) {
			dp_drop(w->st, SFU_DROP_HANDOVER_FULL);
			rte_pktmbuf_free(m);
		} else {
			dp_count(w->st, SFU_CNT_HANDOVER_OUT, 1);
		}
		return;
	}
	t = &dp.transports[dp_slot(id)];
	if (unlikely(t->id != id)) {
		dp_drop(w->st, SFU_DROP_NO_TRANSPORT);
		rte_pktmbuf_free(m);
		return;
	}
	t->rx_pkts++;
	t->rx_bytes += pi->payload_len;
	if (cls == SFU_PKT_RTP)
		dp_media_rtp(w, t, m, pi);
	else
		dp_media_rtcp(w, t, m, pi);
}

static void handle_frame(struct dp_worker *w, struct rte_mbuf *m, bool handed_over)
{
	struct dp_pkt_info pi;
	enum dp_pkt_kind kind;

	if (unlikely(m->nb_segs != 1)) {
		dp_drop(w->st, SFU_DROP_TOO_BIG);
		rte_pktmbuf_free(m);
		return;
	}
	kind = dp_parse_frame(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &dp.iface, &pi);
	switch (kind) {
	case DP_PKT_UDP:
		handle_udp(w, m, &pi, handed_over);
		return;
	case DP_PKT_ARP:
	case DP_PKT_ICMP_ECHO:
		if (rte_ring_enqueue(dp.slow, m) != 0) {
			dp_drop(w->st, SFU_DROP_SLOW_RING_FULL);
			rte_pktmbuf_free(m);
		}
		return;
	default:
		dp_drop(w->st, pi.drop);
		rte_pktmbuf_free(m);
		return;
	}
}

static void handle_burst(struct dp_worker *w, struct rte_mbuf **pkts, unsigned int n,
			 bool handed_over)
{
	unsigned int i;

	for (i = 0; i < PREFETCH_OFFSET && i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		if (i + PREFETCH_OFFSET < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_OFFSET], void *));
		handle_frame(w, pkts[i], handed_over);
	}
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct rte_mbuf *pkts[DP_BURST];
	void *objs[DP_BURST];
	uint64_t level_period = rte_get_tsc_hz() / 1000 * SFU_AUDIO_LEVEL_INTERVAL_MS;

	w->level_tsc = rte_rdtsc();
	while (!dp_force_quit) {
		uint64_t start = rte_rdtsc(), rx_tsc;
		unsigned int n, work = 0;
		uint64_t bytes = 0;

		n = rte_ring_dequeue_burst(w->cmd, objs, DP_BURST, NULL);
		for (unsigned int i = 0; i < n; i++)
			dp_apply(w, objs[i]);
		work += n;

		n = rte_ring_dequeue_burst(w->tx_hand, objs, DP_BURST, NULL);
		for (unsigned int i = 0; i < n; i++)
			dp_worker_tx(w, objs[i]);
		work += n;

		rx_tsc = rte_rdtsc();
		n = rte_eth_rx_burst(dp.port_id, (uint16_t)w->index, pkts, DP_BURST);
		if (n > 0) {
			/* The driver's share of a busy poll (kernel copies on af_packet). */
			dp_count(w->st, SFU_CNT_PORT_CYCLES, rte_rdtsc() - rx_tsc);
			for (unsigned int i = 0; i < n; i++)
				bytes += pkts[i]->pkt_len;
			dp_count(w->st, SFU_CNT_RX_PKTS, n);
			dp_count(w->st, SFU_CNT_RX_BYTES, bytes);
			handle_burst(w, pkts, n, false);
		}
		work += n;

		n = rte_ring_dequeue_burst(w->rx_hand, (void **)pkts, DP_BURST, NULL);
		if (n > 0) {
			dp_count(w->st, SFU_CNT_HANDOVER_IN, n);
			handle_burst(w, pkts, n, true);
		}
		work += n;

		dp_worker_flush(w);
		/* Level reports on a TSC timer (l2fwd's drain-timer shape). */
		if (unlikely(start - w->level_tsc >= level_period)) {
			w->level_tsc = start;
			if (w->n_levels > 0)
				dp_media_levels_report(w);
		}
		dp_count(w->st, SFU_CNT_POLLS, 1);
		if (work > 0) {
			w->idle_polls = 0;
			dp_count(w->st, SFU_CNT_BUSY_CYCLES, rte_rdtsc() - start);
		} else if (dp.conf.idle_sleep_us > 0 &&
			   ++w->idle_polls > IDLE_POLLS_BEFORE_SLEEP) {
			/* Optional: shared machines (tests, laptops) give the CPU back. */
			rte_delay_us_sleep(dp.conf.idle_sleep_us);
		}
	}
	dp_worker_flush(w);
	return 0;
}
