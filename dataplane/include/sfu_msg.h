/*
 * sfu_msg.h — the one message catalogue between the three processes.
 *
 * sfu-dataplane (DPDK primary) creates every ring and the message pool;
 * sfu-ctrl, sfu-tap and tools (DPDK secondaries) look them up by name through
 * the attach library (sfu_attach.h).  Every message is one fixed-size struct
 * sfu_msg taken from the shared pool SFU_MSG_POOL; rings carry pointers to it.
 * The receiver of a message frees it back to the pool.
 *
 * Channels.  The primary creates SFU_MAX_CLIENTS channels; a client claims one
 * (sfu_attach.h) and gets a request ring (client -> data plane, single
 * producer) and an event ring (data plane -> client, multi producer: workers
 * and the main lcore both write).  Requests carry a req_id; the data plane
 * answers each one with SFU_MSG_REPLY carrying the same req_id — except
 * PACKET_OUT, which is fire-and-forget (failures are counted, not answered).
 * Packets from the wire for ctrl (STUN, DTLS) arrive as SFU_MSG_PACKET_IN on
 * the event ring of the client that said role SFU_ROLE_CTRL in its HELLO.
 *
 * Audio levels.  An audio producer added with level_ext_id != 0 carries the
 * RFC 6464 ssrc-audio-level header extension under that id; its owning worker
 * reads the level of every authenticated packet and, every
 * SFU_AUDIO_LEVEL_INTERVAL_MS, sends SFU_MSG_AUDIO_LEVELS to the channel that
 * added the producer: one entry per such producer of that worker (also those
 * that sent nothing), split over several messages when more than
 * SFU_AUDIO_LEVELS_MAX (all but the last of one interval have `more` set).
 *
 * Two more rings: SFU_RING_TAP (data plane -> tap, SFU_MSG_TAP_RTP: decrypted
 * audio of producers with captions on) and SFU_RING_CAPTIONS (tap -> ctrl,
 * SFU_MSG_CAPTION).  Full rings drop and count: nobody waits.
 *
 * Ids.  Transports, producers and consumers are named by 32-bit ids the data
 * plane assigns: slot index in the low 20 bits, a generation in the high 12,
 * so a stale id never reaches a reused slot.  0 is never a valid id.
 *
 * All fields are host byte order except where a name says _be.  The layout
 * is shared memory between binaries built from this one header:
 * SFU_MSG_VERSION changes whenever it does, and HELLO refuses a mismatch.
 */
#ifndef SFU_MSG_H
#define SFU_MSG_H

#include <stdbool.h>
#include <stdint.h>

#define SFU_MSG_VERSION 3

/* Shared object names (one set per --file-prefix). */
#define SFU_MSG_POOL "sfu_msg_pool"
#define SFU_SHARED_MZ "sfu_shared"
#define SFU_RING_REQ_FMT "sfu_req_%u"
#define SFU_RING_EVT_FMT "sfu_evt_%u"
#define SFU_RING_TAP "sfu_tap"
#define SFU_RING_CAPTIONS "sfu_captions"

#define SFU_MAX_CLIENTS 8
/* Largest payload a message carries: a full-MTU UDP datagram. */
#define SFU_MSG_DATA_MAX 1536
#define SFU_CAPTION_TEXT_MAX 1024
#define SFU_NAME_MAX 64

enum sfu_role {
	SFU_ROLE_TOOL = 0, /* sfu-dpctl, tests, perf: requests and replies only */
	SFU_ROLE_CTRL = 1, /* also receives PACKET_IN */
	SFU_ROLE_TAP = 2,
};

enum sfu_msg_type {
	SFU_MSG_NONE = 0,
	/* client -> data plane requests; each but PACKET_OUT gets one SFU_MSG_REPLY */
	SFU_MSG_HELLO,            /* hello: role, pid, version */
	SFU_MSG_TRANSPORT_ADD,    /* transport_add */
	SFU_MSG_TRANSPORT_BIND,   /* transport_bind: the ICE-nominated / configured 5-tuple */
	SFU_MSG_TRANSPORT_KEYS,   /* transport_keys: SRTP profile and both directions' keys */
	SFU_MSG_TRANSPORT_REMOVE, /* id: removes its producers and consumers too */
	SFU_MSG_PRODUCER_ADD,     /* producer_add */
	SFU_MSG_PRODUCER_REMOVE,  /* id: removes its consumers too */
	SFU_MSG_PRODUCER_PAUSE,   /* flag: id, on = paused */
	SFU_MSG_PRODUCER_TAP,     /* flag: id, on = mirror to the tap ring */
	SFU_MSG_CONSUMER_ADD,     /* consumer_add */
	SFU_MSG_CONSUMER_REMOVE,  /* id */
	SFU_MSG_CONSUMER_PAUSE,   /* flag: id, on = paused */
	SFU_MSG_PACKET_OUT,       /* packet: send data over UDP (transport or 5-tuple) */
	SFU_MSG_REQ_MAX,

	/* data plane -> client */
	SFU_MSG_REPLY = 64,       /* reply: req_id, status, assigned id */
	SFU_MSG_PACKET_IN,        /* packet: STUN/DTLS from the wire */
	SFU_MSG_TRANSPORT_CLOSED, /* id: removed by the data plane itself */
	SFU_MSG_AUDIO_LEVELS,     /* audio_levels: one worker's interval of producer levels */

	/* data plane -> tap, tap -> ctrl */
	SFU_MSG_TAP_RTP = 96,     /* tap_rtp: a decrypted audio RTP packet */
	SFU_MSG_CAPTION,          /* caption */
};

enum sfu_transport_kind {
	SFU_TRANSPORT_WEBRTC = 1, /* ICE-lite + DTLS: bound by ctrl after nomination */
	SFU_TRANSPORT_PLAIN = 2,  /* keys and remote given up front (admin API, perf) */
};

enum sfu_media_kind {
	SFU_MEDIA_AUDIO = 1,
	SFU_MEDIA_VIDEO = 2,
};

/* UDP 5-tuple as seen by the data plane (its own address is implied). */
struct sfu_5tuple {
	uint32_t remote_ip;   /* IPv4, host order */
	uint16_t remote_port;
	uint16_t local_port;
};

struct sfu_msg_hello {
	uint32_t version;     /* SFU_MSG_VERSION */
	uint32_t role;        /* enum sfu_role */
	int32_t pid;
};

struct sfu_msg_transport_add {
	uint32_t room;        /* transports of one room share one worker lcore */
	uint32_t kind;        /* enum sfu_transport_kind */
	uint16_t local_port;  /* 0: the first configured RTC port */
	uint16_t pad;
};

struct sfu_msg_transport_bind {
	uint32_t id;
	struct sfu_5tuple tuple;
};

struct sfu_msg_transport_keys {
	uint32_t id;
	uint16_t profile;     /* enum sfu_srtp_profile (DTLS-SRTP profile id) */
	uint16_t pad;
	uint8_t rx_key[32];   /* master key || salt for what the peer sends us */
	uint8_t tx_key[32];   /* master key || salt for what we send the peer */
};

struct sfu_msg_producer_add {
	uint32_t transport;
	uint32_t kind;        /* enum sfu_media_kind */
	uint32_t ssrc;
	uint32_t rtx_ssrc;    /* 0: none */
	uint8_t pt;
	uint8_t rtx_pt;
	uint8_t paused;
	uint8_t tap;
	uint32_t clock_rate;
	uint8_t level_ext_id; /* RFC 6464 ssrc-audio-level extension id (RFC 8285), 0: none */
	uint8_t pad[3];
};

struct sfu_msg_consumer_add {
	uint32_t transport;
	uint32_t producer;
	uint32_t ssrc;        /* the consumer's own SSRC on its leg */
	uint32_t rtx_ssrc;
	uint8_t pt;
	uint8_t rtx_pt;
	uint8_t paused;
	uint8_t pad;
};

struct sfu_msg_flag {
	uint32_t id;
	uint8_t on;
};

struct sfu_msg_id {
	uint32_t id;
};

/*
 * A UDP datagram between ctrl and the wire.  PACKET_IN: transport is the
 * bound transport of the 5-tuple or 0 when none is bound (ICE checks before
 * nomination).  PACKET_OUT: sent to the transport's bound remote when
 * transport != 0, else to tuple.
 */
struct sfu_msg_packet {
	uint32_t transport;
	struct sfu_5tuple tuple;
	uint16_t len;
	uint16_t pad;
	uint8_t data[SFU_MSG_DATA_MAX];
};

struct sfu_msg_reply {
	uint32_t req_type;    /* enum sfu_msg_type of the request */
	int32_t status;       /* 0 or -errno */
	uint32_t id;          /* the id assigned by an *_ADD */
	uint32_t worker;      /* lcore index owning it (transport add) */
};

/* Decrypted audio RTP of a tapped producer (RTP header included). */
struct sfu_msg_tap_rtp {
	uint32_t producer;
	uint32_t transport;
	uint64_t rx_tsc;      /* data plane receive time, rte_rdtsc() */
	uint16_t len;
	uint16_t pad;
	uint8_t data[SFU_MSG_DATA_MAX];
};

/* Audio levels (RFC 6464): reports every SFU_AUDIO_LEVEL_INTERVAL_MS. */
#define SFU_AUDIO_LEVEL_INTERVAL_MS 300
#define SFU_AUDIO_LEVELS_MAX 120
#define SFU_AUDIO_LEVEL_SILENT 127 /* -dBov of digital silence / nothing received */

struct sfu_audio_level {
	uint32_t producer;
	uint16_t packets;       /* authenticated packets with a level this interval */
	uint16_t voice;         /* of them, with the V (voice activity) bit set */
	uint8_t dbov;           /* mean level in -dBov (0 loudest .. 127); 127 when packets == 0 */
	uint8_t pad[3];
};

struct sfu_msg_audio_levels {
	uint32_t worker;        /* the reporting worker (a room's producers share one) */
	uint32_t seq;           /* that worker's interval number */
	uint16_t interval_ms;   /* time the counts cover */
	uint8_t more;           /* 1: more entries of this interval follow */
	uint8_t pad;
	uint32_t n;             /* entries used */
	struct sfu_audio_level lv[SFU_AUDIO_LEVELS_MAX];
};

struct sfu_msg_caption {
	uint32_t producer;
	uint32_t is_final;
	uint64_t start_ms;    /* utterance-relative times, ms since the stream started */
	uint64_t end_ms;
	uint64_t latency_us;  /* last packet of the chunk to caption */
	uint16_t len;
	char text[SFU_CAPTION_TEXT_MAX];
};

struct sfu_msg {
	uint16_t type;        /* enum sfu_msg_type */
	uint16_t client;      /* channel index of the sender (requests) */
	uint32_t req_id;      /* chosen by the client; echoed in the reply */
	union {
		struct sfu_msg_hello hello;
		struct sfu_msg_transport_add transport_add;
		struct sfu_msg_transport_bind transport_bind;
		struct sfu_msg_transport_keys transport_keys;
		struct sfu_msg_producer_add producer_add;
		struct sfu_msg_consumer_add consumer_add;
		struct sfu_msg_flag flag;
		struct sfu_msg_id id;
		struct sfu_msg_packet packet;
		struct sfu_msg_reply reply;
		struct sfu_msg_tap_rtp tap_rtp;
		struct sfu_msg_caption caption;
		struct sfu_msg_audio_levels audio_levels;
	} u;
};

/* Name of a message type for logs and tools ("?" when unknown). */
const char *sfu_msg_type_name(unsigned int type);

#endif /* SFU_MSG_H */
