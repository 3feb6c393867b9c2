/*
 * bench_forward.c — the data plane's forwarding rate on one worker lcore, for
 * one producer fanned out to N consumers, in SRTP packets out per second.
 *
 * Runs as a DPDK secondary of a data plane started on a `net_null` port (TX
 * discards, no RX: see perf/run-bench).  It creates one plain publisher
 * transport and N plain consumer transports in one room through the message
 * catalogue, like sfu-ctrl would, protects K RTP packets of the given size
 * with the publisher's key (our SRTP, checked byte-for-byte against libsrtp2
 * by tests/unit/test_srtp.c), then feeds them to the worker through its
 * hand-over ring — the path a packet RSS'd to another lcore takes — as fast
 * as the worker takes them.  The worker does everything it does for a wire
 * packet (L2-L4 checks, route lookup, unprotect, N x rewrite + protect +
 * headers, TX burst).  The rate is K*N / time until the data plane's rtp_out
 * counter has moved by K*N; cycles per packet come from the worker's own
 * busy-cycle counter.
 *
 *   bench_forward -p PREFIX -n N [-k K] [--profile gcm|cm] [--size BYTES]
 * Prints: forward profile=gcm fanout=N in=K out=K*N seconds=S pps=R gbps=G
 *         cycles_per_pkt=C drops=D
 *
 * Threading: single-threaded secondary.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp_net.h"
#include "sfu_attach.h"
#include "sfu_srtp.h"

#define BENCH_LCORE_ID 121
#define PUB_IP 0xC612000Bu   /* 198.18.0.11 */
#define SUB_IP 0xC6120015u   /* 198.18.0.21: one static neighbour for every consumer */
#define RTC_PORT 40000

static struct sfu_client *client;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t request(struct sfu_msg *m)
{
	struct sfu_msg_reply r;
	int ret = sfu_client_call(client, m, &r, 3000, NULL, NULL);

	if (ret < 0) {
		fprintf(stderr, "bench_forward: %s: %s\n", sfu_msg_type_name(r.req_type),
			strerror(-ret));
		exit(1);
	}
	return r.id;
}

static struct sfu_msg *msg(enum sfu_msg_type t)
{
	struct sfu_msg *m = sfu_client_msg_alloc(client, t);

	if (m == NULL) {
		fprintf(stderr, "bench_forward: message pool empty\n");
		exit(1);
	}
	return m;
}

static uint32_t add_transport(uint32_t ip, uint16_t port, uint16_t profile, const uint8_t *key)
{
	struct sfu_msg *m = msg(SFU_MSG_TRANSPORT_ADD);
	uint32_t id;

	m->u.transport_add.room = 1;
	m->u.transport_add.kind = SFU_TRANSPORT_PLAIN;
	m->u.transport_add.local_port = RTC_PORT;
	id = request(m);
	m = msg(SFU_MSG_TRANSPORT_BIND);
	m->u.transport_bind.id = id;
	m->u.transport_bind.tuple.remote_ip = ip;
	m->u.transport_bind.tuple.remote_port = port;
	m->u.transport_bind.tuple.local_port = RTC_PORT;
	request(m);
	m = msg(SFU_MSG_TRANSPORT_KEYS);
	m->u.transport_keys.id = id;
	m->u.transport_keys.profile = profile;
	memcpy(m->u.transport_keys.rx_key, key, 30);
	memcpy(m->u.transport_keys.tx_key, key, 30);
	request(m);
	return id;
}

static void remove_transport(uint32_t id)
{
	struct sfu_msg *m = msg(SFU_MSG_TRANSPORT_REMOVE);

	m->u.id.id = id;
	request(m);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'P' },
		{ "size", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prefix = "sfu-bench";
	enum sfu_srtp_profile profile = SFU_SRTP_AEAD_AES_128_GCM;
	unsigned int fanout = 1, count = 0, size = 1200;
	const struct sfu_shared *sh;
	struct rte_mempool *pool;
	struct rte_mbuf **pkts;
	struct rte_ring *feed;
	struct sfu_srtp_ctx *tx;
	struct sfu_srtp_stream st;
	struct dp_flow flow;
	uint8_t key[30];
	uint32_t pub, prod, *subs;
	uint64_t out0, cyc0, drops0, want;
	double t0, t1;
	int c;

	while ((c = getopt_long(argc, argv, "p:n:k:", opts, NULL)) != -1) {
		switch (c) {
		case 'p': prefix = optarg; break;
		case 'n': fanout = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'k': count = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 's': size = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'P':
			profile = strcmp(optarg, "cm") == 0 ? SFU_SRTP_AES128_CM_SHA1_80
							    : SFU_SRTP_AEAD_AES_128_GCM;
			break;
		default:
			fprintf(stderr, "usage: bench_forward -p PREFIX -n FANOUT [-k PACKETS] "
				"[--profile gcm|cm] [--size BYTES]\n");
			return 2;
		}
	}
	if (fanout < 1 || fanout > 250 || size < 16 || size > 1400) {
		fprintf(stderr, "bench_forward: fan-out 1..250, size 16..1400\n");
		return 2;
	}
	/* About two million packets out per run, at most 131072 in (two ROC wraps). */
	if (count == 0)
		count = RTE_MIN(131072u, 2000000u / fanout);

	if (sfu_attach_eal("bench_forward", prefix, BENCH_LCORE_ID) < 0) {
		fprintf(stderr, "bench_forward: no data plane with prefix %s\n", prefix);
		return 1;
	}
	client = sfu_client_open(SFU_ROLE_TOOL, 3000);
	if (client == NULL) {
		fprintf(stderr, "bench_forward: attach: %s\n", strerror(errno));
		return 1;
	}
	sh = sfu_client_shared(client);
	feed = sfu_ring("dp_rxh_0");
	if (feed == NULL) {
		fprintf(stderr, "bench_forward: worker 0's hand-over ring not found\n");
		return 1;
	}
	for (unsigned int i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 3);

	/* One room: the publisher and N subscribers on worker 0. */
	pub = add_transport(PUB_IP, 5000, (uint16_t)profile, key);
	{
		struct sfu_msg *m = msg(SFU_MSG_PRODUCER_ADD);

		m->u.producer_add.transport = pub;
		m->u.producer_add.kind = SFU_MEDIA_VIDEO;
		m->u.producer_add.ssrc = 1111;
		m->u.producer_add.pt = 96;
		m->u.producer_add.clock_rate = 90000;
		prod = request(m);
	}
	subs = calloc(fanout, sizeof(*subs));
	for (unsigned int i = 0; i < fanout; i++) {
		struct sfu_msg *m;

		subs[i] = add_transport(SUB_IP, (uint16_t)(6000 + i), (uint16_t)profile, key);
		m = msg(SFU_MSG_CONSUMER_ADD);
		m->u.consumer_add.transport = subs[i];
		m->u.consumer_add.producer = prod;
		m->u.consumer_add.ssrc = 2000 + i;
		m->u.consumer_add.pt = 100;
		request(m);
	}

	/* The packets, protected as the publisher would, in our own pool. */
	{
		char name[RTE_MEMPOOL_NAMESIZE];

		snprintf(name, sizeof(name), "bench_%d", (int)getpid());
		pool = rte_pktmbuf_pool_create(name, count + 1024, 256, 0,
				       RTE_PKTMBUF_HEADROOM + DP_HDRS_LEN + 1440, (int)rte_socket_id());
	}
	pkts = calloc(count, sizeof(*pkts));
	tx = sfu_srtp_ctx_create(profile, key, key + SFU_SRTP_MASTER_KEY_LEN);
	if (pool == NULL || pkts == NULL || tx == NULL ||
	    rte_pktmbuf_alloc_bulk(pool, pkts, count) != 0) {
		fprintf(stderr, "bench_forward: cannot prepare %u packets\n", count);
		return 1;
	}
	sfu_srtp_stream_init(&st);
	memset(&flow, 0, sizeof(flow));
	memcpy(flow.dst_mac.addr_bytes, sh->mac, 6);
	flow.src_mac.addr_bytes[0] = 0x02;
	flow.src_ip = PUB_IP;
	flow.dst_ip = sh->ip;
	flow.src_port = 5000;
	flow.dst_port = RTC_PORT;
	for (unsigned int i = 0; i < count; i++) {
		uint8_t *p = rte_pktmbuf_mtod(pkts[i], uint8_t *), *rtp = p + DP_HDRS_LEN;
		uint16_t seq = (uint16_t)i;
		uint32_t ts = i * 3000, ssrc = 1111;
		int n;

		rtp[0] = 0x80;
		rtp[1] = 96;
		rtp[2] = (uint8_t)(seq >> 8);
		rtp[3] = (uint8_t)seq;
		for (int b = 0; b < 4; b++) {
			rtp[4 + b] = (uint8_t)(ts >> (24 - 8 * b));
			rtp[8 + b] = (uint8_t)(ssrc >> (24 - 8 * b));
		}
		for (unsigned int b = 12; b < size; b++)
			rtp[b] = (uint8_t)(b + i);
		n = sfu_srtp_protect_rtp(tx, &st, rtp, 12, rtp + 12, size - 12);
		if (n < 0) {
			fprintf(stderr, "bench_forward: protect failed\n");
			return 1;
		}
		dp_udp_build(p, &flow, (uint16_t)n, true);
		pkts[i]->data_len = (uint16_t)(DP_HDRS_LEN + n);
		pkts[i]->pkt_len = pkts[i]->data_len;
	}

	/* Feed and time. */
	want = (uint64_t)count * fanout;
	out0 = sfu_stats_sum_counter(sh, SFU_CNT_RTP_OUT);
	cyc0 = sh->lcore[1].cnt[SFU_CNT_BUSY_CYCLES];
	drops0 = 0;
	for (int d = 0; d < SFU_DROP_N; d++)
		drops0 += sfu_stats_sum_drop(sh, (enum sfu_drop)d);
	t0 = now_s();
	for (unsigned int sent = 0; sent < count;) {
		sent += rte_ring_enqueue_burst(feed, (void **)pkts + sent,
					       RTE_MIN(64u, count - sent), NULL);
		if (now_s() - t0 > 120)
			break;
	}
	while (sfu_stats_sum_counter(sh, SFU_CNT_RTP_OUT) - out0 < want && now_s() - t0 < 120)
		;
	t1 = now_s();
	{
		uint64_t out = sfu_stats_sum_counter(sh, SFU_CNT_RTP_OUT) - out0;
		uint64_t cyc = sh->lcore[1].cnt[SFU_CNT_BUSY_CYCLES] - cyc0, drops = 0;
		double secs = t1 - t0, pps = (double)out / secs;

		for (int d = 0; d < SFU_DROP_N; d++)
			drops += sfu_stats_sum_drop(sh, (enum sfu_drop)d);
		printf("forward profile=%s fanout=%u in=%u out=%" PRIu64 " seconds=%.3f pps=%.0f "
		       "gbps=%.3f cycles_per_pkt=%.0f drops=%" PRIu64 "\n",
		       profile == SFU_SRTP_AEAD_AES_128_GCM ? "gcm" : "cm", fanout, count, out,
		       secs, pps, pps * (DP_HDRS_LEN + size + (profile == SFU_SRTP_AEAD_AES_128_GCM ? 16 : 10)) * 8 / 1e9,
		       out ? (double)cyc / (double)out : 0.0, drops - drops0);
		for (unsigned int i = 0; i < fanout; i++)
			remove_transport(subs[i]);
		remove_transport(pub);
		sfu_srtp_ctx_free(tx);
		/* Every packet has come back to the pool once rtp_out moved by K*N. */
		if (out == want)
			rte_mempool_free(pool);
		sfu_client_close(client);
		rte_eal_cleanup();
		return out == want ? 0 : 1;
	}
}
