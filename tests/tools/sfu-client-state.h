/*
 * sfu-client-state.h — the state of one sfu-client process (one WebRTC peer):
 * options, the signaling connection, its two WebRTC transports, our producers,
 * the peers and the consumers of their producers, and the counters the summary
 * prints.  Included by sfu-client.c and sfu-client-transport.h only.
 *
 * Threading: single-threaded.  Everything runs in the libwebsockets service
 * loop: the WebSocket callback, the adopted UDP sockets' callback and one
 * periodic timer (CL_TICK_MS); nothing blocks.
 */
#ifndef SFU_CLIENT_STATE_H
#define SFU_CLIENT_STATE_H

#include "sfu-client-speech.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <srtp2/srtp.h>

#include "dtls.h"
#include "sfu-client-json.h"
#include "sfu-client-pc.h"
#include "sfu-client-ws.h"

#define CL_TICK_MS 5
#define CL_REQUEST_TIMEOUT_MS 10000  /* a reply that takes longer is an error */
#define CL_CONSENT_MS 2500           /* RFC 7675 5.1: well under the 30 s consent */
#define CL_WRONG_FP_MIN_MS 12000     /* --wrong-fingerprint waits at least this long */
#define CL_SLACK_MS 15000            /* overall deadline: duration + this */
#define CL_LEAVE_WAIT_MS 2000
#define CL_MAX_MSG (1u << 20)        /* largest signaling message accepted */
#define CL_MAX_PEERS 128
#define CL_MAX_CONSUMERS 256
#define CL_MAX_PENDING 128
#define CL_ID_LEN 96
#define CL_NAME_LEN 260
#define CL_UFRAG_LEN 8
#define CL_MAX_LEVEL_CHANGES 8

struct cl_opts {
	char url[CW_URL_MAX];
	bool insecure, audio, video, wrong_fp, captions, timing, quiet, vanish;
	const char *room, *name, *bind_ip, *chat, *speech;
	uint32_t duration_ms, vanish_ms;
	uint32_t stop_consent_ms;  /* 0: never; else stop consent checks this long after ICE */
	int expect_producers; /* -1: not given */
	/* RFC 6464 audio level sent in -dBov (127 silence), changed at given times */
	uint8_t audio_level;
	int n_level_at;
	struct {
		uint32_t ms;       /* after connecting */
		uint8_t dbov;
	} level_at[CL_MAX_LEVEL_CHANGES];
};

enum cl_dir { CL_SEND = 0, CL_RECV = 1, CL_NDIR };

/* One WebRTC transport: its signaling state around the media connection (sfu-client-pc.h). */
struct cl_transport {
	struct pc_conn pc;         /* UDP socket, ICE, DTLS, SRTP, datagram counters */
	struct client *cl;
	enum cl_dir dir;
	bool created;              /* createWebRtcTransport answered */
	char id[CL_ID_LEN];
	bool connect_sent, connect_ok, closed;
	uint64_t created_ms;
};

/* One of our producers. */
struct cl_producer {
	const char *kind, *mime, *mid;
	bool wanted, requested, ready;
	char id[CL_ID_LEN];
	uint32_t ssrc, ts, counter, tag;
	uint16_t seq;
	struct cj_producer_wire w;
	uint8_t level_ext_id;      /* ssrc-audio-level id negotiated (audio), 0: none */
	uint64_t start_ms, frames, sent;
};

struct cl_peer {
	char id[CL_ID_LEN];
	char name[CL_NAME_LEN];
	bool left;
};

/* A consumer of another peer's producer, from its discovery to its end. */
struct cl_consumer {
	char producer_id[CL_ID_LEN], peer_id[CL_ID_LEN], id[CL_ID_LEN];
	char kind[8];
	bool requested, ready, resumed, closed, failed;
	uint32_t ssrc, tag;
	uint8_t pt;
	struct pc_rx_stats rx;
};

enum cl_method {
	CL_M_CAPS, CL_M_JOIN, CL_M_CREATE, CL_M_CONNECT, CL_M_PRODUCE, CL_M_CONSUME,
	CL_M_RESUME, CL_M_CHAT, CL_M_CAPTIONS, CL_M_LEAVE, CL_M_N
};

struct cl_pending {
	bool used;
	int64_t id;
	enum cl_method method;
	int arg;               /* transport direction, producer or consumer index */
	uint64_t deadline_ms;
};

enum cl_phase { CL_CONNECTING, CL_SETUP, CL_RUNNING, CL_LEAVING, CL_DONE };

struct client {
	struct cl_opts o;
	struct cl_speech speech;  /* --speech: Opus packets sent as the audio */
	struct cw_conn w;          /* the signaling WebSocket and the lws context */
	lws_sorted_usec_list_t tick;
	enum cl_phase phase;
	int exit_code;
	uint64_t t0, joined_ms, end_ms, deadline_ms, leave_deadline_ms;
	cJSON *router_caps;
	char peer_id[CL_ID_LEN];
	bool joined;
	struct dtls_cert *cert, *wrong_cert;
	struct cl_transport tr[CL_NDIR];
	struct cl_producer prod[2];
	struct cl_peer peers[CL_MAX_PEERS];
	int n_peers;
	struct cl_consumer cons[CL_MAX_CONSUMERS];
	int n_cons;
	struct cl_pending pend[CL_MAX_PENDING];
	int64_t next_id;
	bool timing_printed, chat_sent;
	/* notifications and events, for the summary */
	uint64_t peers_joined, peers_left, producers_closed, consumers_closed;
	uint64_t transports_closed, chat_rx, caption_rx, captions_changed, other_notes;
	uint64_t consume_errors;
	uint64_t speaker_rx;       /* activeSpeaker notifications */
};

/*
 * The RFC 6464 level byte to send at `now`: V (voice activity) unless silent,
 * then the level in -dBov -- the last --audio-level-at change due, else
 * --audio-level.
 */
static inline uint8_t cl_level_byte(const struct client *cl, uint64_t now)
{
	uint8_t dbov = cl->o.audio_level;

	for (int i = 0; i < cl->o.n_level_at; i++)
		if (now - cl->t0 >= cl->o.level_at[i].ms)
			dbov = cl->o.level_at[i].dbov;
	return (uint8_t)((dbov < 127 ? 0x80 : 0) | (dbov & 0x7f));
}

#endif /* SFU_CLIENT_STATE_H */
