/*
 * tap_opus.c — per-producer Opus RTP to 16 kHz PCM chunks (see tap_opus.h).
 *
 * Playout model.  Packets wait in a small buffer of window + 1 slots kept
 * sorted by sequence number relative to next_seq (the next one to play).  The
 * lowest held packet plays when it is next_seq (no wait), when the span from
 * next_seq to the highest held packet reaches the window, when the oldest held
 * packet has waited max_hold_ms, or on flush.  Playing a packet first fills the
 * gap before it — lost packets (sequence gap) by FEC/PLC, DTX silence
 * (timestamp gap only) by comfort noise — then decodes it.  The very first
 * packet also waits (a hold time) so that a reordered start is not lost.
 *
 * Sequence numbers far from next_seq follow RFC 3550 A.1: ahead by
 * MAX_DROPOUT or more, or behind by more than MAX_MISORDER, is a jump: dropped,
 * unless the next packet continues it (the sender restarted), which restarts
 * playout there.
 *
 * Threading: one stream, one thread at a time; no locks, no allocation after
 * tap_opus_stream_new() (libopus does not allocate while decoding).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <opus.h>

#include "sfu_msg.h"
#include "sfu_rtp.h"
#include "tap_opus.h"

#define RTP_CLOCK 48000                     /* RFC 7587 4.1: always 48 kHz */
#define RATE_DIV (RTP_CLOCK / TAP_OPUS_RATE) /* RTP ticks per output sample */
#define MAX_PKT_16 (120 * TAP_OPUS_RATE / 1000) /* RFC 6716 3.2.5: 120 ms at most */
#define DEFAULT_FRAME_16 (20 * TAP_OPUS_RATE / 1000)
/* opus_decode() PLC and FEC sizes must be multiples of 2.5 ms. */
#define PLC_STEP_16 (TAP_OPUS_RATE / 400)
/* PLC decoding per gap, a CPU bound whatever a header claims: silence after it. */
#define PLC_MAX_16 (200 * TAP_OPUS_RATE / 1000)
/* RFC 3550 A.1 */
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100
/* A payload of 1-2 bytes is a DTX frame: the TOC and no coded audio (libopus). */
#define DTX_MAX_LEN 2
/* RFC 6716 3.1: configs 0-11 SILK-only, 12-15 hybrid, 16-31 CELT-only. */
#define TOC_CONFIG_CELT 16
#define TOC_STEREO 0x04

_Static_assert(TAP_OPUS_MAX_PAYLOAD >= SFU_MSG_DATA_MAX, "a tap ring packet must fit a slot");
_Static_assert(TAP_OPUS_MAX_WINDOW < 255, "slot indexes are uint8_t");

struct held_pkt {
	uint64_t arrival_ms;
	uint32_t ts;
	uint16_t seq;
	uint16_t len;
	uint8_t data[TAP_OPUS_MAX_PAYLOAD];
};

struct tap_opus_stream {
	OpusDecoder *dec;
	void (*on_chunk)(void *arg, const int16_t *pcm, size_t samples, uint64_t start_ms,
			 uint32_t seq);
	void *arg;
	unsigned int window;
	unsigned int hold_ms;
	unsigned int max_gap_16;

	/* Playout point: valid once playing; before that next_seq is the lowest held. */
	bool playing;
	uint16_t next_seq;
	uint32_t next_ts;          /* RTP timestamp where the last played packet ended */
	uint64_t played_bits;      /* bit i: next_seq - 1 - i was decoded (duplicates) */
	unsigned int frame_16;     /* duration of the last packet played */
	bool last_celt;            /* last decoded packet was CELT-only: no FEC after it */
	unsigned int plc_budget;   /* PLC samples left in the current gap */
	bool have_bad_seq;         /* RFC 3550 A.1 bad_seq */
	uint16_t bad_seq;

	/* Output: media time (48 kHz ticks since the first packet) of the next sample. */
	uint64_t media_48;
	uint64_t chunk_start_48;
	uint32_t chunk_seq;
	unsigned int chunk_fill;
	int16_t chunk[TAP_OPUS_CHUNK_SAMPLES];
	int16_t pcm[MAX_PKT_16];

	struct tap_opus_stats stats;

	/* Reorder buffer: order[0..n_held) sorted by seq - next_seq; free slots on a stack. */
	unsigned int n_held;
	unsigned int n_free;
	uint8_t order[TAP_OPUS_MAX_WINDOW + 1];
	uint8_t free_slots[TAP_OPUS_MAX_WINDOW + 1];
	struct held_pkt slots[]; /* window + 1 */
};

static uint16_t rel_seq(const struct tap_opus_stream *s, uint16_t seq)
{
	return (uint16_t)(seq - s->next_seq);
}

static struct held_pkt *held_at(struct tap_opus_stream *s, unsigned int i)
{
	return &s->slots[s->order[i]];
}

/* Deliver the chunk buffer to the callback. */
static void chunk_out(struct tap_opus_stream *s)
{
	s->on_chunk(s->arg, s->chunk, s->chunk_fill, s->chunk_start_48 / (RTP_CLOCK / 1000),
		    s->chunk_seq++);
	s->stats.chunks++;
	s->stats.samples_out += s->chunk_fill;
	s->chunk_fill = 0;
}

/* Append n samples (silence when pcm is NULL), cutting chunks as they fill. */
static void emit(struct tap_opus_stream *s, const int16_t *pcm, unsigned int n)
{
	while (n) {
		unsigned int k = TAP_OPUS_CHUNK_SAMPLES - s->chunk_fill;

		if (k > n)
			k = n;
		if (s->chunk_fill == 0)
			s->chunk_start_48 = s->media_48;
		if (pcm) {
			memcpy(s->chunk + s->chunk_fill, pcm, k * sizeof(*pcm));
			pcm += k;
		} else {
			memset(s->chunk + s->chunk_fill, 0, k * sizeof(*pcm));
		}
		s->chunk_fill += k;
		s->media_48 += (uint64_t)k * RATE_DIV;
		n -= k;
		if (s->chunk_fill == TAP_OPUS_CHUNK_SAMPLES)
			chunk_out(s);
	}
}

/*
 * Conceal n samples in steps of the last packet's duration, each step one
 * frame in *frames: decoder PLC (comfort noise after DTX) while the gap's PLC
 * budget lasts, silence after it and for a tail that is no 2.5 ms multiple.
 */
static void conceal(struct tap_opus_stream *s, unsigned int n, uint64_t *frames)
{
	while (n) {
		unsigned int k = n < s->frame_16 ? n : s->frame_16;
		unsigned int plc = k - k % PLC_STEP_16;

		(*frames)++;
		if (plc && plc <= s->plc_budget &&
		    opus_decode(s->dec, NULL, 0, s->pcm, (int)plc, 0) == (int)plc) {
			s->plc_budget -= plc;
			emit(s, s->pcm, plc);
			emit(s, NULL, k - plc);
		} else {
			emit(s, NULL, k);
		}
		n -= k;
	}
}

/*
 * RFC 6716 4.2.3: a SILK layer opens with, per channel, one VAD flag per 20 ms
 * SILK frame and then the LBRR (FEC) flag, all coded with probability 1/2, so
 * they are the leading bits of the first Opus frame's first byte.
 */
static bool has_lbrr(const uint8_t *p, unsigned int len)
{
	const unsigned char *frames[48];
	opus_int16 size[48];
	unsigned int nb;
	int spf;
	bool lbrr;

	if ((p[0] >> 3) >= TOC_CONFIG_CELT)
		return false;
	if (opus_packet_parse(p, (opus_int32)len, NULL, frames, size, NULL) <= 0 || size[0] <= 0)
		return false;
	spf = opus_packet_get_samples_per_frame(p, RTP_CLOCK);
	nb = spf > 960 ? (unsigned int)spf / 960 : 1; /* 40, 60 ms: 2, 3 SILK frames */
	lbrr = (frames[0][0] >> (7 - nb)) & 1;
	if (p[0] & TOC_STEREO)
		lbrr = lbrr || ((frames[0][0] >> (6 - 2 * nb)) & 1);
	return lbrr;
}

/*
 * Fill the gap before packet h (dur_16 long): a sequence gap is loss, a
 * timestamp gap alone is DTX silence (RFC 7587 3.1.3).  The timestamps give
 * the length; lost packets with a timestamp that does not move are taken to
 * be as long as the last one.  The last lost frame comes from h's FEC when h
 * has it and the decoder can use it (not after CELT-only, as in libopus).
 */
static void fill_gap(struct tap_opus_stream *s, uint16_t missing, int32_t ts_gap,
		     const struct held_pkt *h)
{
	uint64_t gap_48, gap_16;
	unsigned int fill_16, fec_16 = 0;
	int spf;

	if (missing == 0 && ts_gap <= 0)
		return;
	if (ts_gap > 0)
		gap_48 = (uint64_t)ts_gap;
	else
		gap_48 = (uint64_t)missing * s->frame_16 * RATE_DIV;
	gap_16 = gap_48 / RATE_DIV;
	fill_16 = gap_16 < s->max_gap_16 ? (unsigned int)gap_16 : s->max_gap_16;
	if (fill_16 < gap_16)
		s->stats.gaps_capped++;

	if (missing && fill_16 == gap_16 && !s->last_celt && has_lbrr(h->data, h->len)) {
		spf = opus_packet_get_samples_per_frame(h->data, RTP_CLOCK) / RATE_DIV;
		if (spf > 0 && (unsigned int)spf <= fill_16)
			fec_16 = (unsigned int)spf;
	}
	s->plc_budget = PLC_MAX_16;
	conceal(s, fill_16 - fec_16, missing ? &s->stats.plc_frames : &s->stats.dtx_frames);
	if (fec_16) {
		/* opus_decode FEC: frame_size is exactly the missing frame (h's frame size). */
		if (opus_decode(s->dec, h->data, h->len, s->pcm, (int)fec_16, 1) == (int)fec_16) {
			s->stats.fec_frames++;
			emit(s, s->pcm, fec_16);
		} else {
			conceal(s, fec_16, &s->stats.plc_frames);
		}
	}
	/* Past the cap, media time moves on without output. */
	s->media_48 += gap_48 - (uint64_t)fill_16 * RATE_DIV;
}

/* Play h: fill the gap before it, decode it (or conceal it), advance. */
static void play(struct tap_opus_stream *s, const struct held_pkt *h)
{
	int n48 = opus_packet_get_nb_samples(h->data, h->len, RTP_CLOCK);
	unsigned int dur_16 = n48 > 0 ? (unsigned int)n48 / RATE_DIV : s->frame_16;
	uint16_t missing;
	int ret;

	if (!s->playing) {
		s->playing = true;
		s->next_seq = h->seq;
		s->next_ts = h->ts;
	}
	missing = rel_seq(s, h->seq);
	fill_gap(s, missing, (int32_t)(h->ts - s->next_ts), h);

	s->played_bits = missing >= 63 ? 0 : s->played_bits << (missing + 1);
	ret = opus_decode(s->dec, h->data, h->len, s->pcm, MAX_PKT_16, 0);
	if (ret < 0) {
		/* Framing was checked on input; the coded data itself was bad. */
		s->stats.malformed++;
		s->plc_budget = PLC_MAX_16;
		conceal(s, dur_16, &s->stats.plc_frames);
	} else {
		s->stats.decoded_frames++;
		if (h->len <= DTX_MAX_LEN)
			s->stats.dtx_frames++;
		s->last_celt = (h->data[0] >> 3) >= TOC_CONFIG_CELT;
		s->played_bits |= 1;
		emit(s, s->pcm, (unsigned int)ret);
	}
	s->next_seq = (uint16_t)(h->seq + 1);
	s->next_ts = h->ts + (uint32_t)(n48 > 0 ? n48 : (int)dur_16 * RATE_DIV);
	if (dur_16 >= PLC_STEP_16 && dur_16 <= MAX_PKT_16)
		s->frame_16 = dur_16;
}

/* Take the lowest held packet out of the buffer and play it. */
static void release_head(struct tap_opus_stream *s)
{
	uint8_t idx = s->order[0];

	s->n_held--;
	memmove(s->order, s->order + 1, s->n_held);
	s->free_slots[s->n_free++] = idx;
	/* The slot is free but untouched until the next insert, after play returns. */
	play(s, &s->slots[idx]);
}

/* Has the oldest held packet waited max_hold_ms? */
static bool hold_expired(const struct tap_opus_stream *s, uint64_t now_ms)
{
	uint64_t oldest = UINT64_MAX;

	for (unsigned int i = 0; i < s->n_held; i++)
		if (s->slots[s->order[i]].arrival_ms < oldest)
			oldest = s->slots[s->order[i]].arrival_ms;
	return now_ms >= oldest && now_ms - oldest >= s->hold_ms;
}

/* Play what is due at now_ms (everything when all). */
static void drain(struct tap_opus_stream *s, uint64_t now_ms, bool all)
{
	while (s->n_held) {
		uint16_t head = held_at(s, 0)->seq;
		uint16_t span = rel_seq(s, held_at(s, s->n_held - 1)->seq);

		if (all || (s->playing && head == s->next_seq) || span >= s->window ||
		    hold_expired(s, now_ms))
			release_head(s);
		else
			break;
	}
}

/* The sender restarted its sequence: finish the old one, start afresh at seq. */
static void restart(struct tap_opus_stream *s, uint16_t seq)
{
	drain(s, 0, true);
	opus_decoder_ctl(s->dec, OPUS_RESET_STATE);
	s->playing = false;
	s->next_seq = seq;
	s->played_bits = 0;
	s->last_celt = false;
	s->frame_16 = DEFAULT_FRAME_16;
	s->stats.resyncs++;
}

/*
 * Classify an in-range-or-not sequence number against the playout point.
 * @return 0 to hold it (next_seq possibly moved back to it), or the -errno
 *         input returns, the packet counted
 */
static int admit_seq(struct tap_opus_stream *s, uint16_t seq)
{
	uint16_t d;

	if (!s->playing && s->n_held == 0)
		s->next_seq = seq;
	d = rel_seq(s, seq);
	if (d < MAX_DROPOUT) {
		s->have_bad_seq = false;
		return 0;
	}
	if (d <= 65536 - MAX_MISORDER) {
		if (s->have_bad_seq && seq == s->bad_seq) {
			s->have_bad_seq = false;
			restart(s, seq);
			return 0;
		}
		s->have_bad_seq = true;
		s->bad_seq = (uint16_t)(seq + 1);
		s->stats.jumps++;
		return -ERANGE;
	}
	/* Behind next_seq by at most MAX_MISORDER. */
	if (!s->playing &&
	    (uint16_t)(held_at(s, s->n_held - 1)->seq - seq) < s->window) {
		s->next_seq = seq; /* a reordered start: begin earlier */
		return 0;
	}
	if (65536 - d <= 64 && (s->played_bits >> (65536 - d - 1)) & 1) {
		s->stats.duplicates++;
		return -EEXIST;
	}
	s->stats.late++;
	return -ETIME;
}

/* Insert into the sorted buffer (a slot is free: n_held <= window < slots). */
static void hold(struct tap_opus_stream *s, const struct sfu_rtp_info *ri, const uint8_t *payload,
		 unsigned int plen, uint64_t now_ms)
{
	uint16_t d = rel_seq(s, ri->seq);
	unsigned int pos = s->n_held;
	uint8_t idx = s->free_slots[--s->n_free];
	struct held_pkt *h = &s->slots[idx];

	while (pos > 0 && rel_seq(s, held_at(s, pos - 1)->seq) > d)
		pos--;
	if (pos < s->n_held)
		s->stats.reordered++;
	memmove(s->order + pos + 1, s->order + pos, s->n_held - pos);
	s->order[pos] = idx;
	s->n_held++;
	h->arrival_ms = now_ms;
	h->seq = ri->seq;
	h->ts = ri->ts;
	h->len = (uint16_t)plen;
	memcpy(h->data, payload, plen);
}

static bool seq_held(const struct tap_opus_stream *s, uint16_t seq)
{
	for (unsigned int i = 0; i < s->n_held; i++)
		if (s->slots[s->order[i]].seq == seq)
			return true;
	return false;
}

struct tap_opus_stream *tap_opus_stream_new(const struct tap_opus_params *p,
					    void (*on_chunk)(void *arg, const int16_t *pcm,
							     size_t samples, uint64_t start_ms,
							     uint32_t seq),
					    void *arg)
{
	struct tap_opus_params d = { TAP_OPUS_DEFAULT_WINDOW, TAP_OPUS_DEFAULT_HOLD_MS,
				     TAP_OPUS_DEFAULT_MAX_GAP_MS };
	struct tap_opus_stream *s;
	int err;

	if (p) {
		d.reorder_window = p->reorder_window ? p->reorder_window : d.reorder_window;
		d.max_hold_ms = p->max_hold_ms ? p->max_hold_ms : d.max_hold_ms;
		d.max_gap_ms = p->max_gap_ms ? p->max_gap_ms : d.max_gap_ms;
	}
	if (!on_chunk || d.reorder_window > TAP_OPUS_MAX_WINDOW ||
	    d.max_gap_ms > TAP_OPUS_MAX_GAP_MS) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s) + (d.reorder_window + 1) * sizeof(s->slots[0]));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	/* RFC 6716 / libopus: any Opus stream decodes at 16 kHz mono directly. */
	s->dec = opus_decoder_create(TAP_OPUS_RATE, 1, &err);
	if (!s->dec || err != OPUS_OK) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->on_chunk = on_chunk;
	s->arg = arg;
	s->window = d.reorder_window;
	s->hold_ms = d.max_hold_ms;
	s->max_gap_16 = d.max_gap_ms * (TAP_OPUS_RATE / 1000);
	s->frame_16 = DEFAULT_FRAME_16;
	s->n_free = d.reorder_window + 1;
	for (unsigned int i = 0; i < s->n_free; i++)
		s->free_slots[i] = (uint8_t)i;
	return s;
}

int tap_opus_stream_input(struct tap_opus_stream *s, const uint8_t *rtp, size_t len,
			  uint64_t now_ms)
{
	const unsigned char *frames[48];
	opus_int16 size[48];
	struct sfu_rtp_info ri;
	const uint8_t *payload;
	int plen, rc;

	s->stats.packets++;
	if (!rtp || sfu_rtp_parse(rtp, len, &ri) < 0)
		goto malformed;
	plen = sfu_rtp_payload_len(rtp, len, &ri);
	if (plen <= 0) /* bad padding, or no TOC byte (RFC 6716 3.1) */
		goto malformed;
	if (plen > TAP_OPUS_MAX_PAYLOAD) {
		s->stats.malformed++;
		return -EMSGSIZE;
	}
	payload = rtp + ri.hdr_len;
	/* RFC 6716 3.2 framing (R1-R7) and the 120 ms limit, before it takes a slot. */
	if (opus_packet_parse(payload, plen, NULL, frames, size, NULL) <= 0 ||
	    opus_packet_get_nb_samples(payload, plen, RTP_CLOCK) <= 0)
		goto malformed;

	rc = admit_seq(s, ri.seq);
	if (rc < 0)
		return rc;
	if (seq_held(s, ri.seq)) {
		s->stats.duplicates++;
		return -EEXIST;
	}
	hold(s, &ri, payload, (unsigned int)plen, now_ms);
	drain(s, now_ms, false);
	return 0;

malformed:
	s->stats.malformed++;
	return -EINVAL;
}

void tap_opus_stream_tick(struct tap_opus_stream *s, uint64_t now_ms)
{
	drain(s, now_ms, false);
}

void tap_opus_stream_flush(struct tap_opus_stream *s)
{
	drain(s, 0, true);
	if (s->chunk_fill)
		chunk_out(s);
}

const struct tap_opus_stats *tap_opus_stream_stats(const struct tap_opus_stream *s)
{
	return &s->stats;
}

void tap_opus_stream_free(struct tap_opus_stream *s)
{
	if (!s)
		return;
	opus_decoder_destroy(s->dec);
	free(s);
}
