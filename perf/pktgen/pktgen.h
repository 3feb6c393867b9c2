/*
 * pktgen.h — sfu-pktgen, the capacity-testing packet generator: shared types.
 *
 * sfu-pktgen is a DPDK primary of its own (own --file-prefix, own port).  It
 * creates plain transports with known SRTP keys through sfu-ctrl's admin API,
 * publishes paced SRTP audio/video into the SFU, receives what the SFU fans
 * out on the subscribers' addresses and measures throughput, loss,
 * reordering, duplicates, authentication and forwarding latency.
 *
 * Modules: main.c (options, run and search orchestration), admin.c (admin
 * API client, topology create/close), port.c (port, ARP, control TX ring),
 * traffic.c (TX pacing and packet building, RX measurement), hist.c (log
 * histogram), report.c (progress line, table, JSON).
 *
 * Threading: the main lcore does set-up, TX and reporting; RX runs on a
 * second lcore when the EAL gives one, else on the main lcore between TX
 * polls.  TX state (struct pg_tx_stream, struct pg_tx_counters) is written by
 * the TX side only, RX state (struct pg_rx_stream, struct pg_rx_counters) by
 * the RX side only; each side reads the other's counters only to report
 * (aligned 64-bit loads, never torn on x86-64/arm64).  The measurement window
 * (struct pg_window) is written by the main lcore between trials.
 */
#ifndef PG_PKTGEN_H
#define PG_PKTGEN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp_net.h"
#include "sfu_srtp.h"

#define PG_BURST 32
#define PG_SEQ_WINDOW 1024            /* per received stream, for dups/reorder */
#define PG_EXT_ID 1                   /* RFC 8285 one-byte element carrying our stamp */
#define PG_EXT_LEN 20                 /* extension: 4-byte header + 16 bytes of elements */
#define PG_RTP_HDR (12 + PG_EXT_LEN)  /* our RTP header: fixed + extension */
#define PG_MAX_PAYLOAD 1400
#define PG_SSRC_TX_BASE 0x50000000u
#define PG_SSRC_RX_BASE 0x60000000u
#define PG_PT_AUDIO 111
#define PG_PT_VIDEO 96

enum pg_kind { PG_AUDIO = 0, PG_VIDEO = 1, PG_KINDS };

struct pg_config {
	const char *admin_url;
	const char *admin_token;
	bool insecure;
	uint32_t ip, gateway, sfu_ip;  /* host order */
	unsigned int prefix_len;
	unsigned int rooms, publishers, subscribers, room_size;  /* room_size > 0: mesh */
	bool audio, video;
	unsigned int video_kbps, fps, video_bytes, audio_bytes, audio_pps;
	enum sfu_srtp_profile profile;
	double duration, warmup, drain;
	unsigned int auth_sample;
	bool search;
	double max_loss;
	unsigned int max_trials;
	unsigned int retries;         /* search: attempts more at a failing load */
	const char *json_path;
	int progress;                 /* -1 auto (tty), 0 off, 1 on */
	bool bad_auth;                /* our receive keys differ from the SFU's send keys */
	bool single_lcore;            /* RX on the main lcore even if another is given */
	uint64_t seed;
	unsigned int base_port;       /* our UDP port of transport i is base_port + i */
	unsigned int mbufs;           /* mbuf pool size */
	char room_prefix[32];
	double admin_timeout;         /* seconds per admin request */
};

/* HDR-style log histogram of nanoseconds: 16 linear sub-buckets per power of 2
 * (<= 6.25% relative error), values up to 2^40 ns (~18 min). */
#define PG_HIST_SUB 16
#define PG_HIST_N (38 * PG_HIST_SUB)
struct pg_hist {
	uint64_t count[PG_HIST_N];
	uint64_t total;
	uint64_t sum_ns;
	uint64_t max_ns;
};

/** Add one value (ns). */
void pg_hist_add(struct pg_hist *h, uint64_t ns);
/** Exclusive upper bound (ns) of bucket i. */
uint64_t pg_hist_upper(unsigned int i);
/** Value (ns) at quantile q in [0,1]: the upper bound of its bucket, capped at max. */
uint64_t pg_hist_quantile(const struct pg_hist *h, double q);
/** out = a - b, bucket by bucket (max is a's). */
void pg_hist_sub(struct pg_hist *out, const struct pg_hist *a, const struct pg_hist *b);

/* One plain transport on the SFU: our address is (cfg.ip, port). */
struct pg_transport {
	uint32_t id;                  /* the data plane's id, 0 until created */
	unsigned int room;
	uint16_t port;                /* ours */
	uint16_t sfu_port;            /* the SFU's, from createPlainTransport */
	uint8_t recv_key[30];         /* the SFU's recvKey: we protect with it */
	uint8_t send_key[30];         /* the SFU's sendKey: we unprotect with it */
	struct sfu_srtp_ctx *tx, *rx;
};

/* One published stream (a producer).  TX side. */
struct pg_tx_stream {
	unsigned int transport, room;
	enum pg_kind kind;
	uint32_t ssrc, producer_id;
	unsigned int fanout;          /* consumers of it */
	uint16_t seq;
	uint32_t ts;
	uint16_t payload;             /* RTP payload bytes */
	uint16_t pkts_per_event;      /* 1 for audio, packets per frame for video */
	uint16_t left;                /* packets of the current event not sent yet */
	uint32_t ts_step;
	uint64_t period;              /* TSC cycles between events */
	uint64_t next;                /* TSC of the next event */
	struct dp_flow flow;
	struct sfu_srtp_stream srtp;
	uint64_t sent, sent_bytes;    /* all, frame bytes */
	uint64_t win_sent, win_bytes; /* sent inside the measurement window */
	uint64_t skipped;             /* events dropped because the generator fell behind */
};

/* One received stream (a consumer).  RX side. */
struct pg_rx_stream {
	unsigned int transport;
	unsigned int src;             /* index of the pg_tx_stream it carries */
	enum pg_kind kind;
	uint32_t ssrc, consumer_id;
	struct sfu_srtp_stream srtp;
	bool started;
	uint64_t hi;                  /* highest extended sequence number seen */
	uint64_t seen[PG_SEQ_WINDOW / 64];
	uint32_t auth_ctr;
};

/* RX counters of one kind, in-window packets only (see struct pg_window). */
struct pg_rx_counters {
	uint64_t rx, rx_bytes, dups, reordered, late, misrouted;
	uint64_t auth_checked, auth_failed;
	struct pg_hist lat;
};

/* Everything the RX side counts, in and out of the window. */
struct pg_rx_stats {
	struct pg_rx_counters kind[PG_KINDS];
	uint64_t pkts, bytes;         /* every frame received */
	uint64_t media;               /* RTP for one of our consumers, any time */
	uint64_t rtcp, arp_requests, arp_replies, ignored, unknown_ssrc, bad_rtp, no_stamp;
	uint64_t ctl_full;
};

/* The measurement window: only packets whose send TSC (stamped in the
 * header extension) falls inside [start, end) count, on both sides. */
struct pg_window {
	volatile uint64_t start, end;
};

struct pg_topo {
	struct pg_transport *tr;
	unsigned int n_tr;
	struct pg_tx_stream *tx;
	unsigned int n_tx;
	struct pg_rx_stream *rx;
	unsigned int n_rx;
	unsigned int tr_per_room;
};

struct pg_port {
	uint16_t port_id;
	struct rte_mempool *pool;
	struct rte_ether_addr mac;
	struct rte_ether_addr hop_mac;   /* the SFU's or the gateway's */
	uint32_t hop_ip;
	volatile bool hop_known;
	struct rte_ring *ctl;            /* RX -> TX: ARP replies to send */
	struct dp_iface iface;
	uint64_t tx_refused;
	uint64_t trial_missed;           /* our RX ring's drops (rte_eth_stats imissed) in the last trial */
	uint64_t trial_refused;          /* tx_refused in the last trial */
};

/* The whole generator; one instance, owned by main.c. */
struct pg {
	struct pg_config cfg;
	struct pg_topo topo;
	struct pg_port port;
	struct pg_window win;
	struct pg_rx_stats rxs;          /* RX side */
	uint64_t hz;
	double ns_per_tsc;
	unsigned int active_rooms;       /* TX streams of rooms below this send */
	unsigned int n_tx_active;        /* = the streams of those rooms (a prefix) */
	uint64_t tx_due;                 /* no stream is due before this TSC */
	uint64_t behind_limit;           /* TSC: later than this, events are skipped */
	uint64_t tx_total;               /* TX side: every packet sent, any time */
	volatile bool rx_stop;           /* ends the RX lcore */
	uint8_t pattern[PG_MAX_PAYLOAD]; /* every payload; checked after decryption */
};

extern volatile bool pg_quit;

/* admin.c */
struct pg_admin;
/** Connect settings for the admin API; NULL on allocation failure. */
struct pg_admin *pg_admin_open(const struct pg_config *cfg);
void pg_admin_close(struct pg_admin *a);
/** Last error text of a failed call. */
const char *pg_admin_error(const struct pg_admin *a);
/** Lay out transports and streams from the config (no network). @return 0 or -ENOMEM. */
int pg_topo_plan(struct pg *g);
/** Create every transport, producer and consumer. @return 0 or -1 (pg_admin_error). */
int pg_topo_create(struct pg *g, struct pg_admin *a);
/** closeTransport every created transport; @return how many failed. */
unsigned int pg_topo_close(struct pg *g, struct pg_admin *a);
void pg_topo_free(struct pg *g);

/* port.c */
/** Configure and start the first port. @return 0 or -errno (message printed). */
int pg_port_init(struct pg *g);
void pg_port_fini(struct pg *g);
/** ARP for the next hop until answered or timeout_s passes. @return 0 or -ETIMEDOUT. */
int pg_port_resolve(struct pg *g, double timeout_s);
/** Handle an ARP frame (reply for our IP, learn the next hop); consumes m. */
void pg_port_arp(struct pg *g, struct rte_mbuf *m);
/** Send queued control frames (TX side). */
void pg_port_ctl_flush(struct pg *g);

/* traffic.c */
/** Templates, keys and pacing for the active rooms; starts events spread over a period. */
int pg_traffic_prepare(struct pg *g);
void pg_traffic_arm(struct pg *g, uint64_t now);
/** Send what is due (TX side). @return packets sent. */
unsigned int pg_tx_poll(struct pg *g, uint64_t now);
/** Receive one burst (RX side). @return frames received. */
unsigned int pg_rx_poll(struct pg *g);
/** The RX lcore's loop (runs until g->rx_stop). */
int pg_rx_lcore(void *arg);

/* report.c */
struct pg_result;
struct pg_result *pg_result_new(void);
/** Fill a result from counters: rx is the RX delta of this trial. */
void pg_result_fill(struct pg_result *r, const struct pg *g, const struct pg_rx_stats *rx,
		    double seconds, bool interrupted);
double pg_result_loss(const struct pg_result *r);
/** A search trial passes: not interrupted, something expected, loss below max_loss. */
bool pg_result_pass(const struct pg_result *r, double max_loss);
void pg_result_copy(struct pg_result *dst, const struct pg_result *src);
void pg_result_print(const struct pg_result *r, const char *title);
/** The JSON object of one result (caller owns). */
struct cJSON *pg_result_json(const struct pg_result *r);
struct cJSON *pg_config_json(const struct pg *g);
/** One progress line (\r-overwritten on a tty). */
void pg_progress(const struct pg *g, const char *label, double t, double tx_pps, double rx_pps,
		 double rx_gbps, const struct pg_rx_stats *now, const struct pg_rx_stats *base,
		 bool tty);
void pg_rx_stats_sub(struct pg_rx_stats *out, const struct pg_rx_stats *a,
		     const struct pg_rx_stats *b);

#endif /* PG_PKTGEN_H */
