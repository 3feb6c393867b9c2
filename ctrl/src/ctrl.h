/*
 * ctrl.h — sfu-ctrl's state: configuration, rooms, peers, WebRTC
 * transports, producers and consumers, and the functions between its files.
 *
 * Threading: everything runs on one libuv event loop (libwebsockets is
 * driven by the same loop).  Nothing here blocks on the network or Redis;
 * requests to the data plane are short synchronous ring round trips.
 *
 * Ownership: a peer owns its transports, producers and consumers; a room owns
 * its peers; ctrl_state owns the rooms.  The data plane owns the forwarding
 * state the dp_id fields name.
 */
#ifndef CTRL_H
#define CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "dtls.h"
#include "ice.h"
#include "sfu_msg.h"
#include "speaker.h"

struct lws;
struct lws_context;
struct sfu_client;
struct uv_loop_s;

#define CTRL_ID_LEN 24
#define CTRL_NAME_MAX 64
#define CTRL_ROOM_MAX 64
#define CTRL_MAX_TRANSPORTS_PER_PEER 4
#define CTRL_MAX_PRODUCERS_PER_PEER 4
#define CTRL_MAX_CHAT 2000

struct ctrl_config {
	char file_prefix[64];
	uint16_t port;            /* HTTPS + wss (PORT) */
	uint16_t http_port;       /* plain HTTP + ws on 127.0.0.1 (0: off) */
	char bind_addr[64];       /* interface for PORT ("" = all) */
	char tls_cert[256], tls_key[256];
	char web_root[256];
	char redis_host[128];
	uint16_t redis_port;
	uint32_t redis_retry_max_ms;
	char redis_password[128];
	char node_id[64];
	char admin_token[128];    /* "" = admin API on loopback only */
	uint32_t announced_ip;    /* 0: the data plane's */
	uint32_t max_peers_per_room;
	uint32_t max_msg_bytes;
	uint32_t msgs_per_sec;
	uint32_t drain_ms;
	uint32_t ice_consent_ms;  /* RFC 7675 consent lifetime */
	bool captions_enabled;
	/* active speaker (speaker.h) from the data plane's audio level reports */
	bool speaker_enabled;
	uint32_t speaker_threshold_dbov;
	uint32_t speaker_switch_intervals;
	uint32_t speaker_silence_ms;
};

enum ctrl_direction { CTRL_SEND = 1, CTRL_RECV = 2 };

struct ctrl_peer;

struct ctrl_transport {
	char id[CTRL_ID_LEN];
	struct ctrl_peer *peer;
	enum ctrl_direction dir;
	uint32_t dp_id;
	struct ice_lite ice;
	struct dtls_endpoint *dtls;
	enum dtls_role dtls_role;     /* ours */
	bool connect_requested;       /* connectWebRtcTransport received */
	bool bound;                   /* 5-tuple bound in the data plane */
	bool keys_installed;
	bool closed;
	char remote_fp[DTLS_FINGERPRINT_LEN + 1];
	uint64_t created_ms, connected_ms;
	struct ctrl_transport *next_all; /* ctrl_state.transports */
};

struct ctrl_producer {
	char id[CTRL_ID_LEN];
	struct ctrl_peer *peer;
	struct ctrl_transport *transport;
	enum sfu_media_kind kind;
	uint32_t dp_id;
	uint32_t ssrc;
	uint8_t pt;
	bool paused;
	uint8_t level_ext_id;     /* RFC 6464 extension id (audio), 0: not negotiated */
	/* the last audio level report of it (levels.c) */
	uint8_t level_dbov;
	uint16_t level_packets;
	bool level_fresh;         /* reported in the interval being collected */
	cJSON *codec;             /* the producer's codec (for consumers) */
	cJSON *header_exts;       /* its header extensions */
	cJSON *app_data;          /* the producer's appData (relayed), or NULL */
	char cname[64];
};

struct ctrl_consumer {
	char id[CTRL_ID_LEN];
	struct ctrl_peer *peer;
	struct ctrl_transport *transport;
	struct ctrl_producer *producer;
	uint32_t dp_id;
	uint32_t ssrc;
	bool paused;
	struct ctrl_consumer *next;   /* the consuming peer's list */
};

struct ctrl_room;

/* A WebSocket session; a peer once joined. */
struct ctrl_peer {
	char id[CTRL_ID_LEN];
	char name[CTRL_NAME_MAX * 4 + 1]; /* UTF-8 */
	struct ctrl_room *room;
	struct lws *wsi;              /* NULL after the socket closed */
	bool joined;
	bool captions;
	cJSON *rtp_caps;              /* what this peer can receive */
	struct ctrl_transport *transports[CTRL_MAX_TRANSPORTS_PER_PEER];
	struct ctrl_producer *producers[CTRL_MAX_PRODUCERS_PER_PEER];
	struct ctrl_consumer *consumers;
	/* outgoing frames, written when the socket is writable */
	struct ctrl_out *out_head, *out_tail;
	size_t out_bytes;
	/* request rate limit (token bucket) */
	double tokens;
	uint64_t tokens_ms;
	uint64_t limited_since_ms;
	uint16_t close_code;           /* close after the queued frames are sent */
	/* a fragmented incoming frame */
	char *rx;
	size_t rx_len;
	struct ctrl_peer *next;       /* room's list */
};

struct ctrl_room {
	char id[CTRL_ROOM_MAX + 1];
	uint32_t dp_room;             /* hash: the data plane keeps a room on one worker */
	unsigned int n_peers;
	struct ctrl_peer *peers;
	struct speaker_sel speaker;   /* current: a struct ctrl_peer *, 0 none */
	bool levels_pending;          /* level entries of an unfinished interval */
	uint32_t levels_worker;       /* the data plane worker reporting them */
	struct ctrl_room *next;
};

struct ctrl_out {
	struct ctrl_out *next;
	size_t len;
	unsigned char buf[];          /* LWS_PRE bytes, then the frame */
};

struct ctrl_state {
	struct ctrl_config cfg;
	struct uv_loop_s *loop;
	struct lws_context *lws;
	struct sfu_client *dp;
	const struct sfu_shared *sh;
	struct dtls_cert *cert;
	struct ctrl_room *rooms;
	struct ctrl_transport *transports; /* every live transport */
	unsigned int n_rooms, n_peers, n_sessions;
	uint64_t next_id;
	uint64_t started_ms;
	bool draining;
	/* counters for /metrics */
	uint64_t ws_requests, ws_errors, ws_rate_limited, ws_too_large;
	uint64_t stun_in, stun_unknown, dtls_in, dtls_failed, transports_connected;
	uint64_t ice_consent_expired;
	uint64_t dp_errors;
	uint64_t captions, captions_orphaned;
	uint64_t level_reports, level_orphaned, speaker_changes;
};

extern struct ctrl_state ctrl;

uint64_t ctrl_now_ms(void);
void ctrl_make_id(char *buf, const char *prefix);

/* config.c */
int ctrl_config_load(struct ctrl_config *cfg, int argc, char **argv, char *err, size_t errlen);

/* dpc.c: the data plane client */
int dpc_open(void);
void dpc_close(void);
/** A synchronous request; fills *id for *_ADD.  @return 0 or -errno */
int dpc_call(struct sfu_msg *m, uint32_t *id);
struct sfu_msg *dpc_msg(enum sfu_msg_type type);
void dpc_poll(void);
void dpc_packet_out(uint32_t transport_id, const struct sfu_5tuple *to, const uint8_t *data,
		    size_t len);
int dpc_remove(enum sfu_msg_type type, uint32_t id);
int dpc_flag(enum sfu_msg_type type, uint32_t id, bool on);

/* webrtc.c */
struct ctrl_transport *webrtc_transport_new(struct ctrl_peer *peer, enum ctrl_direction dir,
					    int *err);
void webrtc_transport_close(struct ctrl_transport *t, const char *reason, bool notify);
int webrtc_transport_connect(struct ctrl_transport *t, const char *role, const char *fp_alg,
			     const char *fp);
int webrtc_transport_restart_ice(struct ctrl_transport *t);
void webrtc_on_packet(const struct sfu_msg_packet *pkt);
void webrtc_tick(uint64_t now_ms);
cJSON *webrtc_transport_json(const struct ctrl_transport *t);

/* room.c */
struct ctrl_room *room_get(const char *id, bool create);
/** FNV-1a of a room id: the data plane keeps a room's transports on one worker. */
uint32_t room_hash(const char *s);
int room_join(struct ctrl_peer *p, const char *room_id, const char *name, cJSON *caps);
void room_leave(struct ctrl_peer *p);
struct ctrl_transport *peer_transport(struct ctrl_peer *p, const char *id);
struct ctrl_producer *room_producer(struct ctrl_room *r, const char *id);
struct ctrl_consumer *peer_consumer(struct ctrl_peer *p, const char *id);
void room_broadcast(struct ctrl_room *r, const struct ctrl_peer *except, const char *name,
		    cJSON *data);
void room_producer_close(struct ctrl_producer *pr, bool notify_owner);
void room_consumer_close(struct ctrl_consumer *c, bool notify);
void room_transport_closed(struct ctrl_transport *t);
void room_caption(const struct sfu_msg_caption *c);

/* levels.c: audio level reports -> active speaker per room */
void levels_on_report(const struct sfu_msg_audio_levels *al);
/** A peer leaves or closes an audio producer: it may no longer be the speaker. */
void levels_peer_gone(struct ctrl_peer *p, bool leaving);
/** Tell a newly joined peer who is speaking (nothing when nobody is). */
void levels_greet(struct ctrl_peer *p);

/* caps.c */
/** The ssrc-audio-level extension id among a producer's headerExtensions, 0 when absent. */
uint8_t caps_level_ext_id(const cJSON *header_exts);
cJSON *caps_router(void);
/** Validate a producer's rtpParameters; fills ssrc, pt, codec, exts. */
int caps_check_produce(enum sfu_media_kind kind, const cJSON *rtp, uint32_t *ssrc, uint8_t *pt,
		       cJSON **codec, cJSON **exts, char *cname, size_t cname_len,
		       char *why, size_t why_len);
/** Whether caps (a peer's rtpCapabilities) can receive the codec. */
bool caps_can_consume(const cJSON *caps, const cJSON *codec);
cJSON *caps_consumer_params(const struct ctrl_producer *pr, uint32_t ssrc);

/* ws.c: sending to a peer's socket */
void ws_send_json(struct ctrl_peer *p, cJSON *msg);
void ws_notify(struct ctrl_peer *p, const char *name, cJSON *data);
extern const struct lws_protocols ws_protocol;

/* signaling.c */
void signaling_handle(struct ctrl_peer *p, const char *text, size_t len);
void signaling_closed(struct ctrl_peer *p);

/* redis.c: multi-node coordination (optional: REDIS_HOST) */
int redis_start(void);
void redis_stop(void);
bool redis_connected(void);
void redis_room_active(const struct ctrl_room *r);
void redis_room_inactive(const struct ctrl_room *r);
void redis_publish(const struct ctrl_room *r, const char *type, const cJSON *data);
void redis_stats(cJSON *o);

/* admin.c: POST /admin (plain transports); returns the JSON reply (malloc'd) */
char *admin_handle(const char *body, size_t len);

/* http.c */
extern const struct lws_protocols http_protocol;

#endif /* CTRL_H */
