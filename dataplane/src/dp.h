/*
 * dp.h — sfu-dataplane's internal state: per-lcore contexts, the media
 * tables (transports, producers, consumers) and the commands that change them.
 *
 * Ownership (one owner per piece of state):
 *  - The main lcore owns the control view (struct dp_ctl: ids, which worker
 *    owns what, relations) and the neighbour table.  It turns requests from
 *    clients into struct dp_cmd and sends them to the owning worker's command
 *    ring; it never writes a transport, producer or consumer slot.
 *  - A worker lcore owns every slot of the transports of the rooms it was
 *    given, with their SRTP contexts and streams, and its private route table
 *    (5-tuple -> transport slot and owner).  All of a room's transports live
 *    on one worker, so fan-out never crosses lcores.
 *  - A packet that RSS lands on another worker is handed over through the
 *    owner's rx_hand ring; the owner looks it up again in its own table.
 *  - Only workers touch the port queues: the main lcore sends what it builds
 *    (ARP, ICMP, ctrl's packets) through a worker's tx_hand ring.
 */
#ifndef DP_H
#define DP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <string.h>

#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dp_neigh.h"
#include "dp_net.h"
#include "sfu_level.h"
#include "sfu_msg.h"
#include "sfu_srtp.h"
#include "sfu_stats.h"

#define DP_BURST 32
#define DP_MAX_WORKERS 16
#define DP_TX_BUF 64
#define DP_PRODUCERS_PER_TRANSPORT 16
#define DP_CONSUMERS_PER_TRANSPORT 256
#define DP_MAX_FANOUT 256
#define DP_RTCP_RX_STREAMS 4
#define DP_SLOT_BITS 20
#define DP_SLOT_MASK ((1u << DP_SLOT_BITS) - 1)

extern volatile bool dp_force_quit;

/* Configuration after validation (config.c). */
struct dp_conf {
	char file_prefix[64];
	char lcores[128];          /* EAL --lcores; the first is main */
	uint32_t workers;          /* lcores - 1 */
	char port[256];            /* vdev args or a PCI address */
	bool port_is_pci;
	uint32_t memory_mb;
	char extra_eal[256];
	struct rte_ether_addr mac;
	bool mac_set;
	uint32_t ip, prefix_len, gateway, announced_ip;
	uint16_t rtc_min_port, rtc_max_port;
	uint32_t rx_desc, tx_desc, mbufs, msg_pool;
	uint32_t ring_size;        /* client, handover and tap rings */
	uint32_t max_transports, max_producers, max_consumers;
	uint32_t idle_sleep_us;    /* 0: poll without ever sleeping */
	uint32_t neigh_ttl_s;
	char static_neigh[1024];   /* "IP=MAC,IP=MAC": never aged, never ARPed */
	bool udp_csum;
	char log_level[32];
	char base_virtaddr[32];    /* EAL --base-virtaddr */
};

/* A producer: one inbound RTP stream (and its RTX) on a transport. */
struct dp_producer {
	uint32_t id;               /* 0: free slot */
	uint32_t transport;        /* slot */
	uint32_t ssrc, rtx_ssrc;
	uint32_t clock_rate;
	uint8_t pt, rtx_pt, kind;
	bool paused, tap;
	uint8_t fir_seq;
	uint16_t n_consumers;
	/* RFC 6464 levels (audio with the extension negotiated): read per packet,
	 * reported every SFU_AUDIO_LEVEL_INTERVAL_MS to the channel that added it */
	uint8_t level_ext_id;      /* 0: none */
	uint8_t level_channel;
	uint32_t level_idx;        /* position in the worker's level_slots */
	struct sfu_level_acc level;
	struct sfu_srtp_stream rx;
	struct sfu_srtp_stream rx_rtx;
	uint64_t rx_pkts, rx_bytes;
	uint32_t consumers[DP_MAX_FANOUT]; /* slots */
};

/* A consumer: the copy of one producer sent to one transport. */
struct dp_consumer {
	uint32_t id;
	uint32_t transport, producer; /* slots */
	uint32_t ssrc, rtx_ssrc;
	uint8_t pt, rtx_pt;
	bool paused;
	bool started;              /* last_seq / deltas valid */
	bool resync;               /* next packet re-anchors seq_delta (after a pause) */
	uint16_t seq_delta;
	uint16_t last_seq;
	uint32_t ts_delta;
	struct sfu_srtp_stream tx;
	uint64_t tx_pkts, tx_octets;
};

struct dp_rtcp_rx_stream {
	uint32_t ssrc;
	bool used;
	struct sfu_srtp_stream s;
};

struct dp_transport {
	uint32_t id;
	uint16_t worker;           /* index into dp.workers */
	uint8_t kind;
	bool bound;
	struct sfu_5tuple tuple;
	struct sfu_srtp_ctx *srtp_rx, *srtp_tx;
	uint32_t rtcp_ssrc;        /* sender SSRC of the RTCP we originate */
	struct sfu_srtp_stream rtcp_tx;
	struct dp_rtcp_rx_stream rtcp_rx[DP_RTCP_RX_STREAMS];
	uint8_t rtcp_rx_next;
	bool has_mac;
	uint32_t neigh_ver;
	uint32_t next_hop;
	uint64_t resolve_tsc;
	struct dp_flow flow;
	uint16_t n_producers, n_consumers;
	uint32_t producers[DP_PRODUCERS_PER_TRANSPORT]; /* slots */
	uint32_t consumers[DP_CONSUMERS_PER_TRANSPORT]; /* slots */
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
};

/* Commands from the main lcore to a worker (struct dp_cmd in dp_cmd_pool). */
enum dp_cmd_type {
	DP_CMD_TRANSPORT_ADD,
	DP_CMD_TRANSPORT_BIND,     /* owner: remote address and next hop */
	DP_CMD_ROUTE_ADD,          /* every worker: 5-tuple -> slot, owner */
	DP_CMD_ROUTE_DEL,
	DP_CMD_TRANSPORT_KEYS,
	DP_CMD_TRANSPORT_REMOVE,
	DP_CMD_PRODUCER_ADD,
	DP_CMD_PRODUCER_REMOVE,
	DP_CMD_PRODUCER_PAUSE,
	DP_CMD_PRODUCER_TAP,
	DP_CMD_CONSUMER_ADD,
	DP_CMD_CONSUMER_REMOVE,
	DP_CMD_CONSUMER_PAUSE,
};

struct dp_cmd {
	uint16_t type;
	uint16_t worker;           /* route owner (ROUTE_ADD) */
	uint32_t slot;
	uint32_t id;
	union {
		struct {
			uint8_t kind;
			uint32_t rtcp_ssrc;
		} t_add;
		struct {
			struct sfu_5tuple tuple;
			uint32_t next_hop;
		} bind;
		struct {
			struct sfu_srtp_ctx *rx, *tx;
		} keys;
		struct {
			struct sfu_msg_producer_add a;
			uint16_t channel;  /* the client that added it (level reports) */
		} p_add;
		struct {
			struct sfu_msg_consumer_add c;
			uint32_t producer_slot;
		} c_add;
		bool on;
	} u;
};

/* One worker lcore. */
struct dp_worker {
	unsigned int index;        /* 0.. n_workers-1; also RX/TX queue id */
	unsigned int lcore_id;
	struct sfu_lcore_stats *st;
	struct rte_mempool *pool;
	struct rte_ring *cmd;      /* main -> worker: struct dp_cmd (SP/SC) */
	struct rte_ring *rx_hand;  /* other workers -> owner: mbufs to process (MP/SC) */
	struct rte_ring *tx_hand;  /* main -> worker: mbufs ready to send (SP/SC) */
	struct rte_hash *routes;   /* private: sfu_5tuple -> (owner << 32 | transport id) */
	uint16_t n_tx;
	struct rte_mbuf *tx[DP_TX_BUF];
	unsigned int idle_polls;
	/* producers of this worker with an audio level extension (slots, unordered) */
	uint32_t *level_slots;     /* max_producers entries */
	uint32_t n_levels;
	uint32_t level_seq;
	uint64_t level_tsc;        /* last report */
} __rte_cache_aligned;

/* The whole data plane (one instance, in dp_main.c). */
struct dp {
	struct dp_conf conf;
	uint16_t port_id;
	struct dp_iface iface;
	struct rte_mempool *pool;
	struct rte_mempool *msg_pool;
	struct rte_mempool *cmd_pool;
	struct sfu_shared *sh;
	struct dp_neigh_table *neigh;
	struct rte_ring *slow;     /* workers -> main: ARP and ICMP mbufs (MP/SC) */
	struct rte_ring *resolve;  /* workers -> main: next hops to ARP for (MP/SC) */
	struct rte_ring *tap;      /* SFU_RING_TAP */
	struct rte_ring *captions; /* SFU_RING_CAPTIONS (created here, used by tap and ctrl) */
	struct rte_ring *req[SFU_MAX_CLIENTS];
	struct rte_ring *evt[SFU_MAX_CLIENTS];
	int ctrl_channel;          /* channel receiving PACKET_IN, -1 when none */
	uint32_t channels_alive;   /* bit per channel held by a live client (main lcore writes) */
	unsigned int n_workers;
	struct dp_worker workers[DP_MAX_WORKERS];
	struct sfu_lcore_stats *main_st;
	uint64_t hz;
	/* Messages the data plane originates (PACKET_IN, TAP_RTP) stop while the
	 * shared pool is below msg_reserve, so clients can always send requests
	 * and get replies; one consumer's ring may hold at most msg_share. */
	unsigned int msg_reserve, msg_share;
	/* media tables, indexed by slot; written by the owning worker only */
	struct dp_transport *transports;
	struct dp_producer *producers;
	struct dp_consumer *consumers;
};

extern struct dp dp;

/* config.c */
int dp_conf_from_args(struct dp_conf *c, int argc, char **argv, char *err, size_t errlen);
int dp_parse_mac(const char *s, struct rte_ether_addr *mac);
/** Call fn for each "IP=MAC" of a static_neigh list (fn may be NULL: validate). */
int dp_static_neigh_each(const char *list, void (*fn)(uint32_t ip, const struct rte_ether_addr *mac,
							void *arg),
			 void *arg, char *err, size_t errlen);
int dp_conf_eal_args(const struct dp_conf *c, char **argv, int max,
		     char *store, size_t store_len);

/* port.c */
int dp_port_init(struct dp *d);
void dp_port_close(struct dp *d);

/* worker.c */
int dp_worker_main(void *arg);
void dp_worker_tx(struct dp_worker *w, struct rte_mbuf *m);
void dp_worker_flush(struct dp_worker *w);
int dp_worker_next_hop(struct dp_worker *w, struct dp_transport *t);
/** A message for ring `to` from the shared pool, or NULL (counted: `full`
 * when that consumer already holds its share, else msg_pool_empty). */
struct sfu_msg *dp_msg_take(struct dp_worker *w, struct rte_ring *to, enum sfu_drop full);

/* media.c: fast path for one RTP / RTCP packet on the owning worker */
void dp_media_rtp(struct dp_worker *w, struct dp_transport *t, struct rte_mbuf *m,
		  const struct dp_pkt_info *pi);
void dp_media_rtcp(struct dp_worker *w, struct dp_transport *t, struct rte_mbuf *m,
		   const struct dp_pkt_info *pi);
/** Every SFU_AUDIO_LEVEL_INTERVAL_MS: level reports of this worker's producers. */
void dp_media_levels_report(struct dp_worker *w);
/** PLI to a video producer's publisher: a consumer starts or resumes and
 * needs a keyframe to decode from (no-op for audio or an unready transport). */
void dp_media_request_keyframe(struct dp_worker *w, struct dp_producer *p);

/* apply.c: a worker applies commands from the main lcore */
void dp_apply(struct dp_worker *w, struct dp_cmd *cmd);

/* control.c: main lcore request handling */
int dp_control_init(struct dp *d);
void dp_control_poll(struct dp *d);
void dp_control_tick(struct dp *d);
void dp_control_free(struct dp *d);

/* slowpath.c: ARP, ICMP, neighbour resolution on the main lcore */
void dp_slow_poll(struct dp *d);
void dp_slow_tick(struct dp *d);
void dp_slow_arp_request(struct dp *d, uint32_t ip);
int dp_main_send(struct dp *d, unsigned int worker, struct rte_mbuf *m);
uint32_t dp_next_hop(const struct dp *d, uint32_t ip);

/* telemetry.c */
int dp_telemetry_init(void);

static inline void dp_count(struct sfu_lcore_stats *st, enum sfu_counter c, uint64_t n)
{
	st->cnt[c] += n;
}

static inline void dp_drop(struct sfu_lcore_stats *st, enum sfu_drop d)
{
	st->drop[d]++;
}

/* rte_hash function for struct sfu_5tuple keys: one CRC32 instruction on the
 * 8 bytes, read with memcpy since keys need only 4-byte alignment. */
_Static_assert(sizeof(struct sfu_5tuple) == 8, "route keys are 8 bytes, no padding");

static inline uint32_t dp_tuple_hash(const void *key, uint32_t len, uint32_t init)
{
	uint64_t k;

	(void)len;
	memcpy(&k, key, sizeof(k));
	return rte_hash_crc_8byte(k, init);
}

static inline uint32_t dp_slot(uint32_t id)
{
	return id & DP_SLOT_MASK;
}

#endif /* DP_H */
