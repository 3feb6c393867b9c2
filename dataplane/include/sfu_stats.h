/*
 * sfu_stats.h — the data plane's counters and the shared state block that
 * secondaries read (memzone SFU_SHARED_MZ).
 *
 * Every per-packet outcome is a named counter: the X-macro lists below are
 * the single source of the names used by the data plane, its telemetry
 * commands, sfu-dpctl and ctrl's /metrics.
 *
 * Threading: each lcore writes only its own struct sfu_lcore_stats (plain
 * stores, no atomics: 64-bit aligned stores do not tear on x86-64); anyone
 * may read them at any time and sum across lcores.  Gauges are written by
 * the data plane's main lcore only.  Client slots are claimed through an
 * flock on a lock file per channel (sfu_attach.c); pid and role here are
 * informational.
 */
#ifndef SFU_STATS_H
#define SFU_STATS_H

#include <stdint.h>

#include "sfu_msg.h"

/* Packet counters: _(ENUM_SUFFIX, "name"). */
#define SFU_FOREACH_COUNTER(_)                                                 \
	_(RX_PKTS, "rx_packets")                                               \
	_(RX_BYTES, "rx_bytes")                                                \
	_(TX_PKTS, "tx_packets")                                               \
	_(TX_BYTES, "tx_bytes")                                                \
	_(RTP_IN, "rtp_in")                                                    \
	_(RTCP_IN, "rtcp_in")                                                  \
	_(RTP_OUT, "rtp_out")                                                  \
	_(RTCP_OUT, "rtcp_out")                                                \
	_(STUN_IN, "stun_in")                                                  \
	_(DTLS_IN, "dtls_in")                                                  \
	_(CTRL_OUT, "ctrl_packets_out")                                        \
	_(ARP_IN, "arp_in")                                                    \
	_(ARP_REPLIES, "arp_replies_sent")                                     \
	_(ARP_REQUESTS, "arp_requests_sent")                                   \
	_(ICMP_ECHO, "icmp_echo_replies")                                      \
	_(HANDOVER_OUT, "handover_out")                                        \
	_(HANDOVER_IN, "handover_in")                                          \
	_(TAP_MIRRORED, "tap_mirrored")                                        \
	_(FEEDBACK_FWD, "rtcp_feedback_forwarded")                             \
	_(SR_FWD, "rtcp_sr_forwarded")                                         \
	_(AUDIO_LEVELS, "audio_level_packets")                                 \
	_(AUDIO_LEVEL_MISSING, "audio_level_missing")                          \
	_(AUDIO_LEVEL_MALFORMED, "audio_level_malformed")                      \
	_(AUDIO_LEVEL_REPORTS, "audio_level_reports")                          \
	_(BUSY_CYCLES, "busy_cycles")                                          \
	_(PORT_CYCLES, "port_cycles")                                          \
	_(POLLS, "polls")

/* Drop reasons: _(ENUM_SUFFIX, "name"); each a per-lcore counter. */
#define SFU_FOREACH_DROP(_)                                                    \
	_(ETH_SHORT, "eth_short")                                              \
	_(ETH_TYPE, "eth_type_unsupported")                                    \
	_(ETH_DST, "eth_dst_not_us")                                           \
	_(ARP_MALFORMED, "arp_malformed")                                      \
	_(ARP_NOT_US, "arp_not_for_us")                                        \
	_(IP_SHORT, "ip_short")                                                \
	_(IP_VERSION, "ip_version")                                            \
	_(IP_OPTIONS, "ip_options")                                            \
	_(IP_FRAGMENT, "ip_fragment")                                          \
	_(IP_LEN, "ip_bad_length")                                             \
	_(IP_CSUM, "ip_bad_checksum")                                          \
	_(IP_DST, "ip_dst_not_us")                                             \
	_(IP_PROTO, "ip_proto_unsupported")                                    \
	_(UDP_SHORT, "udp_short")                                              \
	_(UDP_LEN, "udp_bad_length")                                           \
	_(UDP_CSUM, "udp_bad_checksum")                                        \
	_(UDP_PORT, "udp_port_closed")                                         \
	_(ICMP_MALFORMED, "icmp_malformed")                                    \
	_(ICMP_UNSUPPORTED, "icmp_unsupported")                                \
	_(PAYLOAD_UNKNOWN, "payload_unknown")                                  \
	_(NO_TRANSPORT, "no_transport")                                        \
	_(NO_KEYS, "no_srtp_keys")                                             \
	_(RTP_MALFORMED, "rtp_malformed")                                      \
	_(RTCP_MALFORMED, "rtcp_malformed")                                    \
	_(UNKNOWN_SSRC, "unknown_ssrc")                                        \
	_(SRTP_AUTH, "srtp_auth")                                              \
	_(SRTP_REPLAY, "srtp_replay")                                          \
	_(SRTP_REPLAY_OLD, "srtp_replay_old")                                  \
	_(SRTP_TRUNCATED, "srtp_truncated")                                    \
	_(SRTP_INTERNAL, "srtp_internal")                                      \
	_(SRTCP_AUTH, "srtcp_auth")                                            \
	_(SRTCP_REPLAY, "srtcp_replay")                                        \
	_(SRTCP_TRUNCATED, "srtcp_truncated")                                  \
	_(PRODUCER_PAUSED, "producer_paused")                                  \
	_(CONSUMER_NOT_READY, "consumer_not_ready")                            \
	_(NO_NEIGH, "neigh_unresolved")                                        \
	_(MBUF_EXHAUSTED, "mbuf_exhausted")                                    \
	_(TX_FULL, "tx_full")                                                  \
	_(CTRL_RING_FULL, "ctrl_ring_full")                                    \
	_(TAP_RING_FULL, "tap_ring_full")                                      \
	_(LEVEL_RING_FULL, "level_ring_full")                                  \
	_(MSG_POOL_EMPTY, "msg_pool_empty")                                    \
	_(HANDOVER_FULL, "handover_ring_full")                                 \
	_(SLOW_RING_FULL, "slow_ring_full")                                    \
	_(WRONG_OWNER, "wrong_owner")                                          \
	_(NO_CTRL, "no_ctrl_attached")                                         \
	_(TOO_BIG, "packet_too_big")

#define SFU_ENUM_COUNTER(e, n) SFU_CNT_##e,
enum sfu_counter { SFU_FOREACH_COUNTER(SFU_ENUM_COUNTER) SFU_CNT_N };
#undef SFU_ENUM_COUNTER

#define SFU_ENUM_DROP(e, n) SFU_DROP_##e,
enum sfu_drop { SFU_FOREACH_DROP(SFU_ENUM_DROP) SFU_DROP_N };
#undef SFU_ENUM_DROP

/* One lcore's counters, on cache lines of their own. */
struct sfu_lcore_stats {
	uint64_t cnt[SFU_CNT_N];
	uint64_t drop[SFU_DROP_N];
} __attribute__((aligned(64)));

/* Gauges kept by the data plane's main lcore. */
struct sfu_gauges {
	uint64_t transports;
	uint64_t producers;
	uint64_t consumers;
	uint64_t neighbors;
	uint64_t workers;
	uint64_t started_unix_ms;
	uint64_t tsc_hz;
	/* The port's own counters (rte_eth_stats), refreshed once a second: what
	 * the NIC (or the kernel under af_packet) dropped before any lcore saw it. */
	uint64_t port_ipackets;
	uint64_t port_opackets;
	uint64_t port_imissed;   /* RX ring full: the workers did not keep up */
	uint64_t port_ierrors;
	uint64_t port_oerrors;
	uint64_t port_rx_nombuf; /* no mbuf for a received frame */
};

#define SFU_MAX_STAT_LCORES 128
#define SFU_SHARED_MAGIC 0x53465553u /* "SFUS" */

/* Claimed channel: pid of the owner (0 = free) and its role. */
struct sfu_client_slot {
	int32_t pid;
	uint32_t role;
};

/* The shared state block (memzone SFU_SHARED_MZ). */
struct sfu_shared {
	uint32_t magic;
	uint32_t version;        /* SFU_MSG_VERSION */
	int32_t primary_pid;
	uint32_t n_workers;
	uint32_t ip;             /* the data plane's IPv4 address, host order */
	uint16_t rtc_min_port;
	uint16_t rtc_max_port;
	uint32_t announced_ip;   /* host order */
	uint8_t mac[6];          /* the data plane port's MAC */
	uint16_t pad;
	struct sfu_client_slot clients[SFU_MAX_CLIENTS];
	struct sfu_gauges gauges;
	uint32_t lcore_ids[SFU_MAX_STAT_LCORES]; /* stats index -> EAL lcore id */
	uint32_t n_stat_lcores;  /* main lcore first, then workers */
	struct sfu_lcore_stats lcore[SFU_MAX_STAT_LCORES];
};

/*
 * sfu-tap's counters (memzone SFU_TAP_MZ, reserved by sfu-tap, read by ctrl
 * for /health and /metrics).  Written by the tap's one thread only.
 */
#define SFU_TAP_MZ "sfu_tap_stats"
#define SFU_LAT_BUCKETS 9 /* <=50, 100, 200, 500, 1000, 2000, 5000, 10000 ms, +Inf */
extern const unsigned int sfu_lat_bucket_ms[SFU_LAT_BUCKETS - 1];

struct sfu_tap_stats {
	int32_t pid;              /* 0 once the tap stopped */
	uint32_t backend;         /* 0 embedded, 1 http */
	uint64_t active_streams;
	uint64_t streams_total;
	uint64_t packets;         /* tap RTP messages taken from the ring */
	uint64_t malformed;       /* RTP/Opus the decoder refused */
	uint64_t concealed_ms;    /* PLC/FEC/DTX output */
	uint64_t chunks;          /* 100 ms chunks made */
	uint64_t chunks_sent;     /* handed to the STT backend and accepted */
	uint64_t chunks_dropped;  /* dropped (queue full, STT down) */
	uint64_t captions_partial, captions_final, captions_dropped;
	uint64_t stt_up;          /* 1 while the backend answers */
	uint64_t stt_latency[SFU_LAT_BUCKETS];     /* STT request / processing time */
	uint64_t stt_latency_sum_us, stt_latency_count;
	uint64_t caption_latency[SFU_LAT_BUCKETS]; /* last packet of a chunk -> its caption */
	uint64_t caption_latency_sum_us, caption_latency_count;
};

/** Index of the latency bucket for a duration in microseconds. */
unsigned int sfu_lat_bucket(uint64_t us);

/* Names, for tools and exporters. */
extern const char *const sfu_counter_names[SFU_CNT_N];
extern const char *const sfu_drop_names[SFU_DROP_N];

/** Sum one counter (or drop reason) over every lcore. */
uint64_t sfu_stats_sum_counter(const struct sfu_shared *sh, enum sfu_counter c);
uint64_t sfu_stats_sum_drop(const struct sfu_shared *sh, enum sfu_drop d);

#endif /* SFU_STATS_H */
