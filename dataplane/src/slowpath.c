/*
 * slowpath.c — ARP (RFC 826) and ICMP echo on the main lcore, and the
 * neighbour table's upkeep.
 *
 * Workers pass ARP and ICMP frames on the slow ring and next hops they cannot
 * resolve on the resolve ring.  Here ARP requests for our address are
 * answered and their senders learned; replies (and gratuitous ARP) refresh
 * entries we already have; entries age out after neigh_ttl_s unless a
 * refresh request is answered.  Requests we send are rate-limited per
 * address.  Everything built here is sent through worker 0's tx_hand ring.
 *
 * Threading: main lcore only (the neighbour table's single writer).
 */
#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "dp.h"

#define PENDING_ARP 64
#define ARP_RETRY_MS 100
#define REFRESH_PROBES 3

/* Recently requested next hops, so a burst of misses sends one request. */
static struct {
	uint32_t ip;
	uint64_t tsc;
} pending[PENDING_ARP];

int dp_main_send(struct dp *d, unsigned int worker, struct rte_mbuf *m)
{
	if (rte_ring_enqueue(d->workers[worker].tx_hand, m) != 0) {
		dp_drop(d->main_st, SFU_DROP_HANDOVER_FULL);
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	return 0;
}

static void send_arp(struct dp *d, uint32_t ip)
{
	static const struct rte_ether_addr none;
	struct rte_mbuf *m = rte_pktmbuf_alloc(d->pool);
	uint32_t len;

	if (m == NULL) {
		dp_drop(d->main_st, SFU_DROP_MBUF_EXHAUSTED);
		return;
	}
	len = dp_arp_build(rte_pktmbuf_mtod(m, uint8_t *), RTE_ARP_OP_REQUEST, &d->iface.mac,
			   d->conf.ip, &none, ip);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	if (dp_main_send(d, 0, m) == 0)
		dp_count(d->main_st, SFU_CNT_ARP_REQUESTS, 1);
}

void dp_slow_arp_request(struct dp *d, uint32_t ip)
{
	uint64_t now = rte_get_timer_cycles(), gap = d->hz * ARP_RETRY_MS / 1000;
	unsigned int oldest = 0;

	for (unsigned int i = 0; i < PENDING_ARP; i++) {
		if (pending[i].ip == ip) {
			if (now - pending[i].tsc < gap)
				return;
			pending[i].tsc = now;
			send_arp(d, ip);
			return;
		}
		if (pending[i].tsc < pending[oldest].tsc)
			oldest = i;
	}
	pending[oldest].ip = ip;
	pending[oldest].tsc = now;
	send_arp(d, ip);
}

static void handle_arp(struct dp *d, struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint64_t now = rte_get_timer_cycles();
	struct dp_arp arp;

	dp_count(d->main_st, SFU_CNT_ARP_IN, 1);
	if (dp_arp_parse(p, m->data_len, &arp) < 0) {
		dp_drop(d->main_st, SFU_DROP_ARP_MALFORMED);
		rte_pktmbuf_free(m);
		return;
	}
	/* RFC 826 merge: refresh a sender we know; learn one that asks for us. */
	if (arp.tpa == d->conf.ip || dp_neigh_present(d->neigh, arp.spa)) {
		if (arp.spa != 0 && arp.spa != d->conf.ip)
			dp_neigh_update(d->neigh, arp.spa, &arp.sha, now);
	}
	if (arp.tpa != d->conf.ip) {
		dp_drop(d->main_st, SFU_DROP_ARP_NOT_US);
		rte_pktmbuf_free(m);
		return;
	}
	if (arp.op != RTE_ARP_OP_REQUEST) {
		rte_pktmbuf_free(m);
		return;
	}
	/* Answer in place. */
	m->data_len = (uint16_t)dp_arp_build(p, RTE_ARP_OP_REPLY, &d->iface.mac, d->conf.ip,
					     &arp.sha, arp.spa);
	m->pkt_len = m->data_len;
	if (dp_main_send(d, 0, m) == 0)
		dp_count(d->main_st, SFU_CNT_ARP_REPLIES, 1);
}

static void handle_icmp(struct dp *d, struct rte_mbuf *m)
{
	struct dp_pkt_info pi;

	/* Parse again: the worker's verdict travelled without its offsets. */
	if (dp_parse_frame(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, &d->iface, &pi) !=
	    DP_PKT_ICMP_ECHO) {
		dp_drop(d->main_st, SFU_DROP_ICMP_MALFORMED);
		rte_pktmbuf_free(m);
		return;
	}
	dp_icmp_echo_reply(rte_pktmbuf_mtod(m, uint8_t *), &pi);
	if (dp_main_send(d, 0, m) == 0)
		dp_count(d->main_st, SFU_CNT_ICMP_ECHO, 1);
}

void dp_slow_poll(struct dp *d)
{
	struct rte_mbuf *pkts[DP_BURST];
	void *ips[DP_BURST];
	unsigned int n;

	n = rte_ring_dequeue_burst(d->slow, (void **)pkts, DP_BURST, NULL);
	for (unsigned int i = 0; i < n; i++) {
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(pkts[i], const struct rte_ether_hdr *);

		if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
			handle_arp(d, pkts[i]);
		else
			handle_icmp(d, pkts[i]);
	}
	n = rte_ring_dequeue_burst(d->resolve, ips, DP_BURST, NULL);
	for (unsigned int i = 0; i < n; i++)
		dp_slow_arp_request(d, (uint32_t)(uintptr_t)ips[i]);
}

static void probe(uint32_t ip, void *arg)
{
	send_arp(arg, ip);
}

void dp_slow_tick(struct dp *d)
{
	dp_neigh_age(d->neigh, rte_get_timer_cycles(), d->hz * d->conf.neigh_ttl_s,
		     REFRESH_PROBES, probe, d);
}
