/*
 * port.c — the generator's port: one RX and one TX queue, the mbuf pool, and
 * the little L2 it needs: answer ARP for --ip (RFC 826), resolve the next hop
 * (the SFU, or the gateway when the SFU is off-link) and ignore the rest.
 *
 * The kernel may own another address on the same interface (the admin API
 * runs over it); the generator's --ip must not be the kernel's, so the two
 * never answer for the same address.
 *
 * Threading: pg_port_init/fini/resolve on the main lcore before and after
 * traffic.  pg_port_arp runs on the RX side; replies it builds go through the
 * single-producer/single-consumer ring port->ctl to the TX side, the only
 * user of the TX queue (pg_port_ctl_flush).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "pktgen.h"

#define PG_NB_DESC 1024

int pg_port_init(struct pg *g)
{
	struct pg_port *pt = &g->port;
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t rxd = PG_NB_DESC, txd = PG_NB_DESC;
	int ret;

	if (rte_eth_dev_count_avail() < 1) {
		fprintf(stderr, "sfu-pktgen: no port: give one to the EAL "
			"(e.g. --vdev net_af_packet0,iface=eth1, or a PCI device bound to vfio-pci)\n");
		return -ENODEV;
	}
	pt->port_id = (uint16_t)rte_eth_find_next(0);
	pt->pool = rte_pktmbuf_pool_create("pg_pool", g->cfg.mbufs, 256, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (pt->pool == NULL) {
		fprintf(stderr, "sfu-pktgen: mbuf pool: %s (more hugepage memory: -m)\n",
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	pt->ctl = rte_ring_create("pg_ctl", 256, (int)rte_socket_id(),
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (pt->ctl == NULL) {
		fprintf(stderr, "sfu-pktgen: control ring: %s\n", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	ret = rte_eth_dev_info_get(pt->port_id, &info);
	if (ret < 0)
		goto err;
	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_configure(pt->port_id, 1, 1, &conf);
	if (ret < 0)
		goto err;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(pt->port_id, &rxd, &txd);
	if (ret < 0)
		goto err;
	ret = rte_eth_rx_queue_setup(pt->port_id, 0, rxd, rte_eth_dev_socket_id(pt->port_id), NULL,
				     pt->pool);
	if (ret < 0)
		goto err;
	ret = rte_eth_tx_queue_setup(pt->port_id, 0, txd, rte_eth_dev_socket_id(pt->port_id), NULL);
	if (ret < 0)
		goto err;
	ret = rte_eth_dev_start(pt->port_id);
	if (ret < 0)
		goto err;
	rte_eth_macaddr_get(pt->port_id, &pt->mac);
	pt->iface.mac = pt->mac;
	pt->iface.ip = g->cfg.ip;
	pt->iface.port_min = (uint16_t)g->cfg.base_port;
	pt->iface.port_max = (uint16_t)(g->cfg.base_port + (g->topo.n_tr ? g->topo.n_tr - 1 : 0));
	pt->iface.check_udp_csum = false;
	/* Off-link SFU: everything goes through the gateway. */
	{
		uint32_t mask = g->cfg.prefix_len ? ~0u << (32 - g->cfg.prefix_len) : 0;

		pt->hop_ip = g->cfg.sfu_ip;
		if ((g->cfg.sfu_ip & mask) != (g->cfg.ip & mask)) {
			if (g->cfg.gateway == 0) {
				fprintf(stderr, "sfu-pktgen: the SFU %u.%u.%u.%u is not in our /%u and no "
					"--gateway given\n", g->cfg.sfu_ip >> 24, (g->cfg.sfu_ip >> 16) & 255,
					(g->cfg.sfu_ip >> 8) & 255, g->cfg.sfu_ip & 255, g->cfg.prefix_len);
				return -EINVAL;
			}
			pt->hop_ip = g->cfg.gateway;
		}
	}
	return 0;
err:
	fprintf(stderr, "sfu-pktgen: port %u start failed: %s\n", pt->port_id, rte_strerror(-ret));
	return ret;
}

void pg_port_fini(struct pg *g)
{
	struct pg_port *pt = &g->port;
	struct rte_mbuf *m;

	if (pt->ctl != NULL) {
		while (rte_ring_dequeue(pt->ctl, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(pt->ctl);
		pt->ctl = NULL;
	}
	rte_eth_dev_stop(pt->port_id);
	rte_eth_dev_close(pt->port_id);
}

/* Send one frame now (main lcore only, before RX/TX split). */
static void send_now(struct pg *g, struct rte_mbuf *m)
{
	if (rte_eth_tx_burst(g->port.port_id, 0, &m, 1) != 1)
		rte_pktmbuf_free(m);
}

static void arp_request(struct pg *g)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->port.pool);
	static const struct rte_ether_addr zero;

	if (m == NULL)
		return;
	m->data_len = (uint16_t)dp_arp_build(rte_pktmbuf_mtod(m, uint8_t *), 1, &g->port.mac,
					     g->cfg.ip, &zero, g->port.hop_ip);
	m->pkt_len = m->data_len;
	send_now(g, m);
}

int pg_port_resolve(struct pg *g, double timeout_s)
{
	uint64_t start = rte_rdtsc(), end = start + (uint64_t)(timeout_s * (double)g->hz);
	uint64_t next = start;

	while (!g->port.hop_known && !pg_quit) {
		uint64_t now = rte_rdtsc();

		if (now >= end)
			return -ETIMEDOUT;
		/* A request every 200 ms; it also teaches the SFU our MAC. */
		if (now >= next) {
			arp_request(g);
			next = now + g->hz / 5;
		}
		pg_rx_poll(g);
		pg_port_ctl_flush(g);
	}
	return g->port.hop_known ? 0 : -EINTR;
}

void pg_port_arp(struct pg *g, struct rte_mbuf *m)
{
	struct pg_port *pt = &g->port;
	struct dp_arp arp;

	if (dp_arp_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &arp) < 0) {
		g->rxs.ignored++;
		rte_pktmbuf_free(m);
		return;
	}
	if (arp.spa == pt->hop_ip && arp.spa != 0) {
		pt->hop_mac = arp.sha;
		pt->hop_known = true;
	}
	if (arp.op == 1 && arp.tpa == g->cfg.ip) {
		g->rxs.arp_requests++;
		m->data_len = (uint16_t)dp_arp_build(rte_pktmbuf_mtod(m, uint8_t *), 2, &pt->mac,
						     g->cfg.ip, &arp.sha, arp.spa);
		m->pkt_len = m->data_len;
		if (rte_ring_sp_enqueue(pt->ctl, m) != 0) {
			g->rxs.ctl_full++;
			rte_pktmbuf_free(m);
		}
		return;
	}
	if (arp.op == 2 && arp.tpa == g->cfg.ip)
		g->rxs.arp_replies++;
	else
		g->rxs.ignored++;
	rte_pktmbuf_free(m);
}

void pg_port_ctl_flush(struct pg *g)
{
	struct rte_mbuf *pkts[8];
	unsigned int n = rte_ring_sc_dequeue_burst(g->port.ctl, (void **)pkts, 8, NULL);
	uint16_t sent;

	if (n == 0)
		return;
	sent = rte_eth_tx_burst(g->port.port_id, 0, pkts, (uint16_t)n);
	for (unsigned int i = sent; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
}
