/*
 * tap_opus.h — sfu-tap's per-producer audio path: decrypted Opus RTP in,
 * 100 ms chunks of 16 kHz mono 16-bit PCM out (what the STT contract in
 * tap/STT-API.md takes).
 *
 * One struct tap_opus_stream per producer:
 *   - a bounded reorder buffer by RTP sequence number (16-bit wrap handled);
 *     an in-order packet plays at once, a gap waits at most max_hold_ms or
 *     until reorder_window packets are queued behind it;
 *   - Opus (RFC 6716) carried one packet per RTP payload with a 48 kHz RTP
 *     clock (RFC 7587 4.1, 4.2), decoded by libopus straight to 16 kHz mono
 *     (the decoder folds a stereo stream down; nothing is resampled here);
 *   - a lost packet is recovered from the next packet's in-band FEC (LBRR,
 *     RFC 6716 4.2.4) when it carries one, else concealed by the decoder's PLC;
 *   - DTX (RFC 7587 3.1.3): a timestamp jump without a sequence gap is silence
 *     and filled as such, so output time follows the RTP timestamps;
 *   - malformed RTP or Opus, duplicates, late packets are counted, never fatal.
 *
 * Output length is the media duration: from the first packet played to the
 * end of the last, every 48 kHz RTP tick is one third of an output sample,
 * except that one gap fills at most max_gap_ms (the rest is skipped; chunk
 * start times still say where the audio sits in media time).
 *
 * Bounds: all memory is allocated in tap_opus_stream_new(), nothing after; one
 * packet makes at most max_gap_ms + 120 ms of output, and its gap at most
 * 200 ms of PLC decoding (silence past that), whatever its header says.
 *
 * Threading: a stream is used by one thread at a time (the tap worker that
 * owns the producer); separate streams are independent.  The chunk callback
 * runs on that thread from inside input/tick/flush and must not call into the
 * same stream.  No locks, no I/O, no DPDK.
 */
#ifndef TAP_OPUS_H
#define TAP_OPUS_H

#include <stddef.h>
#include <stdint.h>

#define TAP_OPUS_RATE 16000           /* output rate, Hz; mono */
#define TAP_OPUS_CHUNK_SAMPLES 1600   /* 100 ms: 3200 bytes of 16-bit PCM */
#define TAP_OPUS_CHUNK_MS 100
#define TAP_OPUS_DEFAULT_WINDOW 10    /* packets: 200 ms of 20 ms frames */
#define TAP_OPUS_MAX_WINDOW 64
#define TAP_OPUS_DEFAULT_HOLD_MS 60
#define TAP_OPUS_DEFAULT_MAX_GAP_MS 10000
#define TAP_OPUS_MAX_GAP_MS 600000    /* largest max_gap_ms accepted */
/* Longest payload held: any RTP packet of the tap ring fits (SFU_MSG_DATA_MAX). */
#define TAP_OPUS_MAX_PAYLOAD 1536

/* Stream parameters; a zero field (or a NULL pointer) takes the default. */
struct tap_opus_params {
	unsigned int reorder_window; /* packets a gap may have queued behind it, 1..64 */
	unsigned int max_hold_ms;    /* longest wait for a missing packet */
	unsigned int max_gap_ms;     /* most output one gap (loss or DTX) is filled with */
};

/*
 * Counters of one stream.  Once flushed, packets == decoded_frames + malformed
 * + late + duplicates + jumps: every input is counted exactly once.  "Frames"
 * of plc/fec/dtx are units of the last packet's duration (20 ms in WebRTC).
 */
struct tap_opus_stats {
	uint64_t packets;        /* tap_opus_stream_input() calls */
	uint64_t decoded_frames; /* packets decoded (DTX ones included) */
	uint64_t plc_frames;     /* frames concealed: lost, or undecodable payload */
	uint64_t fec_frames;     /* lost frames rebuilt from the next packet's FEC */
	uint64_t dtx_frames;     /* DTX packets (1-2 byte payloads) + silent frames of ts gaps */
	uint64_t malformed;      /* bad RTP, empty/oversized/undecodable Opus */
	uint64_t late;           /* older than what was already played out */
	uint64_t duplicates;     /* a sequence number already held or played */
	uint64_t reordered;      /* arrived after a higher sequence number, still in time */
	uint64_t jumps;          /* dropped: sequence number far off (RFC 3550 A.1) */
	uint64_t resyncs;        /* two jumps in a row: playout restarted there */
	uint64_t gaps_capped;    /* gaps longer than max_gap_ms (tail skipped) */
	uint64_t chunks;         /* callback calls */
	uint64_t samples_out;    /* samples passed to the callback */
};

/* Opaque: its layout is private to tap_opus.c. */
struct tap_opus_stream;

/**
 * Create a stream.
 * @param p         parameters, or NULL for the defaults (window 10, hold 60 ms,
 *                  gap cap 10 s)
 * @param on_chunk  called with each chunk: pcm holds `samples` mono samples at
 *                  16 kHz, TAP_OPUS_CHUNK_SAMPLES except possibly the last one
 *                  tap_opus_stream_flush() emits; start_ms is the media time of
 *                  pcm[0] since the first packet played (from the RTP
 *                  timestamps); seq counts chunks from 0.  pcm is valid only
 *                  during the call.
 * @param arg       passed to on_chunk
 * @return the stream, or NULL with errno EINVAL (no callback, window above
 *         TAP_OPUS_MAX_WINDOW, max_gap_ms above TAP_OPUS_MAX_GAP_MS) or ENOMEM
 */
struct tap_opus_stream *tap_opus_stream_new(const struct tap_opus_params *p,
					    void (*on_chunk)(void *arg, const int16_t *pcm,
							     size_t samples, uint64_t start_ms,
							     uint32_t seq),
					    void *arg);

/**
 * Take one decrypted RTP packet (header included) of this producer.  In-order
 * packets are decoded at once; others wait in the reorder buffer (released by
 * later input, tick or flush).  The caller demultiplexes by SSRC and payload
 * type; both are not checked here.
 * @param rtp     packet bytes (only read during the call)
 * @param len     its length
 * @param now_ms  arrival time, any monotonic millisecond clock
 * @return 0 (played or held); -EINVAL malformed RTP or Opus framing, or empty
 *         payload (RFC 6716 3.1: at least the TOC byte) — counted as malformed,
 *         the gap it leaves is concealed; -EMSGSIZE payload above
 *         TAP_OPUS_MAX_PAYLOAD (malformed); -EEXIST duplicate; -ETIME late;
 *         -ERANGE sequence number far off (a jump, see struct tap_opus_stats)
 */
int tap_opus_stream_input(struct tap_opus_stream *s, const uint8_t *rtp, size_t len,
			  uint64_t now_ms);

/**
 * Give up on missing packets waited for at least max_hold_ms: conceal them and
 * play what follows.  Call every few ms (the hold time is only as exact as
 * the calls to this and to input).
 * @param now_ms  same clock as tap_opus_stream_input()
 */
void tap_opus_stream_tick(struct tap_opus_stream *s, uint64_t now_ms);

/**
 * End of stream: play everything held (concealing gaps) and emit the last
 * partial chunk, if any.  The stream stays usable; later audio starts a new chunk.
 */
void tap_opus_stream_flush(struct tap_opus_stream *s);

/** @return the stream's counters (valid until tap_opus_stream_free()) */
const struct tap_opus_stats *tap_opus_stream_stats(const struct tap_opus_stream *s);

/** Free a stream (NULL is fine).  Held audio is dropped: flush first to keep it. */
void tap_opus_stream_free(struct tap_opus_stream *s);

#endif /* TAP_OPUS_H */
