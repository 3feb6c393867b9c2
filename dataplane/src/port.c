/*
 * port.c — the media port: one RX and one TX queue per worker, RSS on UDP
 * where the device has it (af_packet spreads flows with PACKET_FANOUT
 * instead), the address the data plane answers for.
 *
 * Threading: main lcore, before workers start and after they stop.
 */
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dp.h"

int dp_port_init(struct dp *d)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nq = (uint16_t)d->n_workers, rxd = (uint16_t)d->conf.rx_desc,
		 txd = (uint16_t)d->conf.tx_desc;
	int ret;

	if (rte_eth_dev_count_avail() < 1) {
		fprintf(stderr, "sfu-dataplane: no port (check dataplane.port)\n");
		return -1;
	}
	d->port_id = 0;
	ret = rte_eth_dev_info_get(d->port_id, &info);
	if (ret < 0)
		return ret;
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		fprintf(stderr, "sfu-dataplane: %s has %u/%u queues, %u workers need %u\n",
			info.driver_name, info.max_rx_queues, info.max_tx_queues, nq, nq);
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	if (nq > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_UDP)) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
	}
	ret = rte_eth_dev_configure(d->port_id, nq, nq, &conf);
	if (ret < 0) {
		fprintf(stderr, "sfu-dataplane: configure %s: %s\n", info.driver_name,
			strerror(-ret));
		return ret;
	}
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(d->port_id, &rxd, &txd);
	if (ret < 0)
		return ret;
	for (uint16_t q = 0; q < nq; q++) {
		ret = rte_eth_rx_queue_setup(d->port_id, q, rxd, rte_eth_dev_socket_id(d->port_id),
					     NULL, d->pool);
		if (ret < 0)
			return ret;
		ret = rte_eth_tx_queue_setup(d->port_id, q, txd, rte_eth_dev_socket_id(d->port_id),
					     NULL);
		if (ret < 0)
			return ret;
	}
	if (d->conf.mac_set) {
		ret = rte_eth_dev_default_mac_addr_set(d->port_id, &d->conf.mac);
		if (ret < 0) {
			fprintf(stderr, "sfu-dataplane: cannot set MAC: %s\n", strerror(-ret));
			return ret;
		}
	}
	ret = rte_eth_dev_start(d->port_id);
	if (ret < 0) {
		fprintf(stderr, "sfu-dataplane: start %s: %s\n", info.driver_name, strerror(-ret));
		return ret;
	}
	rte_eth_macaddr_get(d->port_id, &d->iface.mac);
	d->iface.ip = d->conf.ip;
	d->iface.port_min = d->conf.rtc_min_port;
	d->iface.port_max = d->conf.rtc_max_port;
	d->iface.check_udp_csum = true;
	return 0;
}

void dp_port_close(struct dp *d)
{
	rte_eth_dev_stop(d->port_id);
	rte_eth_dev_close(d->port_id);
}
