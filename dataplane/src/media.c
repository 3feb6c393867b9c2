/*
 * media.c — the SRTP forwarding fast path on a transport's owning worker.
 *
 * RTP (RFC 3550, SRTP RFC 3711 / RFC 7714): find the producer by SSRC,
 * unprotect once in place, read the RFC 6464 audio level when the producer has
 * the extension (reported every SFU_AUDIO_LEVEL_INTERVAL_MS, batched, to the
 * channel that added the producer), mirror audio to the tap ring when captions are on,
 * then for every consumer build a new packet: our headers, the RTP header
 * rewritten for that consumer (SSRC, payload type, sequence number and
 * timestamp offsets), the payload encrypted straight from the decrypted source
 * with the consumer transport's outbound context.
 *
 * RTCP: unprotect; a producer's sender reports are translated per consumer
 * (SSRC, RTP timestamp, counts); PLI/FIR/NACK from a consumer (RFC 4585,
 * RFC 5104) are mapped back to the producer's SSRC (NACK sequence numbers
 * shifted back) and sent, protected, to the publisher.  Receiver reports end
 * here: each leg is its own RTP session.
 *
 * Threading: the owning worker only.  No locks, no malloc, no syscalls.
 */
#include <errno.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "sfu_rtp.h"

static const enum sfu_drop srtp_drop[] = {
	[-SFU_SRTP_ERR_TRUNCATED] = SFU_DROP_SRTP_TRUNCATED,
	[-SFU_SRTP_ERR_AUTH] = SFU_DROP_SRTP_AUTH,
	[-SFU_SRTP_ERR_REPLAY] = SFU_DROP_SRTP_REPLAY,
	[-SFU_SRTP_ERR_REPLAY_OLD] = SFU_DROP_SRTP_REPLAY_OLD,
	[-SFU_SRTP_ERR_INTERNAL] = SFU_DROP_SRTP_INTERNAL,
};

static const enum sfu_drop srtcp_drop[] = {
	[-SFU_SRTP_ERR_TRUNCATED] = SFU_DROP_SRTCP_TRUNCATED,
	[-SFU_SRTP_ERR_AUTH] = SFU_DROP_SRTCP_AUTH,
	[-SFU_SRTP_ERR_REPLAY] = SFU_DROP_SRTCP_REPLAY,
	[-SFU_SRTP_ERR_REPLAY_OLD] = SFU_DROP_SRTCP_REPLAY,
	[-SFU_SRTP_ERR_INTERNAL] = SFU_DROP_SRTP_INTERNAL,
};

static void drop_free(struct dp_worker *w, struct rte_mbuf *m, enum sfu_drop why)
{
	dp_drop(w->st, why);
	rte_pktmbuf_free(m);
}

/* Copy a decrypted audio packet to the tap ring; never waits. */
static void mirror_to_tap(struct dp_worker *w, const struct dp_producer *p,
			  const struct dp_transport *t, const uint8_t *rtp, uint32_t len)
{
	struct sfu_msg *msg;

	if (len > SFU_MSG_DATA_MAX)
		return;
	msg = dp_msg_take(w, dp.tap, SFU_DROP_TAP_RING_FULL);
	if (msg == NULL)
		return;
	msg->type = SFU_MSG_TAP_RTP;
	msg->client = 0;
	msg->req_id = 0;
	msg->u.tap_rtp.producer = p->id;
	msg->u.tap_rtp.transport = t->id;
	msg->u.tap_rtp.rx_tsc = rte_rdtsc();
	msg->u.tap_rtp.len = (uint16_t)len;
	rte_memcpy(msg->u.tap_rtp.data, rtp, len);
	if (rte_ring_enqueue(dp.tap, msg) != 0) {
		rte_mempool_put(dp.msg_pool, msg);
		dp_drop(w->st, SFU_DROP_TAP_RING_FULL);
		return;
	}
	dp_count(w->st, SFU_CNT_TAP_MIRRORED, 1);
}

/* The RFC 6464 level of an authenticated audio packet into p's interval.
 * A packet without it, or with a malformed extension, is still forwarded. */
static inline void read_level(struct dp_worker *w, struct dp_producer *p, const uint8_t *rtp,
			      const struct sfu_rtp_info *ri)
{
	uint8_t dbov;
	bool voice;
	int ret = sfu_level_read(rtp, ri, p->level_ext_id, &dbov, &voice);

	if (likely(ret == 0)) {
		sfu_level_add(&p->level, dbov, voice);
		dp_count(w->st, SFU_CNT_AUDIO_LEVELS, 1);
	} else {
		dp_count(w->st, ret == -ENOENT ? SFU_CNT_AUDIO_LEVEL_MISSING
					       : SFU_CNT_AUDIO_LEVEL_MALFORMED, 1);
	}
}

/* Send a level report (NULL-safe); a full ring is a counted drop. */
static void levels_send(struct dp_worker *w, unsigned int ch, struct sfu_msg *msg)
{
	if (msg == NULL)
		return;
	if (rte_ring_enqueue(dp.evt[ch], msg) != 0) {
		rte_mempool_put(dp.msg_pool, msg);
		dp_drop(w->st, SFU_DROP_LEVEL_RING_FULL);
		return;
	}
	dp_count(w->st, SFU_CNT_AUDIO_LEVEL_REPORTS, 1);
}

/*
 * One interval's levels of every level producer on this worker, batched per
 * owning channel (SFU_AUDIO_LEVELS_MAX entries a message, `more` on all but
 * the last).  Producers that sent nothing are reported too (packets 0): that
 * silence is what lets the receiver move the active speaker on.  An entry
 * whose message could not be taken is lost with its interval (counted).
 */
void dp_media_levels_report(struct dp_worker *w)
{
	struct sfu_msg *msg[SFU_MAX_CLIENTS] = { NULL };
	bool failed[SFU_MAX_CLIENTS] = { false };
	uint32_t alive = __atomic_load_n(&dp.channels_alive, __ATOMIC_ACQUIRE);

	w->level_seq++;
	for (uint32_t i = 0; i < w->n_levels; i++) {
		struct dp_producer *p = &dp.producers[w->level_slots[i]];
		unsigned int ch = p->level_channel;
		struct sfu_msg_audio_levels *al;
		struct sfu_audio_level *e;
		uint16_t packets, voice;
		uint8_t dbov = sfu_level_take(&p->level, &packets, &voice);

		if (ch >= SFU_MAX_CLIENTS || failed[ch])
			continue;
		if (!(alive & (1u << ch))) {
			/* The client that added it is gone: nobody to tell. */
			failed[ch] = true;
			dp_drop(w->st, SFU_DROP_NO_CTRL);
			continue;
		}
		if (msg[ch] != NULL && msg[ch]->u.audio_levels.n == SFU_AUDIO_LEVELS_MAX) {
			msg[ch]->u.audio_levels.more = 1;
			levels_send(w, ch, msg[ch]);
			msg[ch] = NULL;
		}
		if (msg[ch] == NULL) {
			msg[ch] = dp_msg_take(w, dp.evt[ch], SFU_DROP_LEVEL_RING_FULL);
			if (msg[ch] == NULL) {
				failed[ch] = true;
				continue;
			}
			msg[ch]->type = SFU_MSG_AUDIO_LEVELS;
			msg[ch]->client = (uint16_t)ch;
			msg[ch]->req_id = 0;
			al = &msg[ch]->u.audio_levels;
			al->worker = w->index;
			al->seq = w->level_seq;
			al->interval_ms = SFU_AUDIO_LEVEL_INTERVAL_MS;
			al->more = 0;
			al->n = 0;
		}
		al = &msg[ch]->u.audio_levels;
		e = &al->lv[al->n++];
		e->producer = p->id;
		e->packets = packets;
		e->voice = voice;
		e->dbov = dbov;
		memset(e->pad, 0, sizeof(e->pad));
	}
	for (unsigned int ch = 0; ch < SFU_MAX_CLIENTS; ch++)
		levels_send(w, ch, msg[ch]);
}

/* A new mbuf for t with room for headers; NULL (counted) when t can't send. */
static struct rte_mbuf *out_mbuf(struct dp_worker *w, struct dp_transport *t)
{
	struct rte_mbuf *m;

	if (unlikely(t->srtp_tx == NULL || !t->bound)) {
		dp_drop(w->st, SFU_DROP_CONSUMER_NOT_READY);
		return NULL;
	}
	if (unlikely(dp_worker_next_hop(w, t) < 0)) {
		dp_drop(w->st, SFU_DROP_NO_NEIGH);
		return NULL;
	}
	m = rte_pktmbuf_alloc(w->pool);
	if (unlikely(m == NULL))
		dp_drop(w->st, SFU_DROP_MBUF_EXHAUSTED);
	return m;
}

/* Headers on, lengths set, queued for TX. */
static void send_out(struct dp_worker *w, struct dp_transport *t, struct rte_mbuf *m,
		     uint32_t udp_len)
{
	dp_udp_build(rte_pktmbuf_mtod(m, uint8_t *), &t->flow, (uint16_t)udp_len,
		     dp.conf.udp_csum);
	m->data_len = (uint16_t)(DP_HDRS_LEN + udp_len);
	m->pkt_len = m->data_len;
	t->tx_pkts++;
	t->tx_bytes += udp_len;
	dp_worker_tx(w, m);
}

static struct dp_producer *producer_by_ssrc(struct dp_transport *t, uint32_t ssrc, bool *rtx)
{
	for (unsigned int i = 0; i < t->n_producers; i++) {
		struct dp_producer *p = &dp.producers[t->producers[i]];

		if (p->ssrc == ssrc) {
			*rtx = false;
			return p;
		}
		if (p->rtx_ssrc != 0 && p->rtx_ssrc == ssrc) {
			*rtx = true;
			return p;
		}
	}
	return NULL;
}

static struct dp_consumer *consumer_by_ssrc(struct dp_transport *t, uint32_t ssrc)
{
	for (unsigned int i = 0; i < t->n_consumers; i++) {
		struct dp_consumer *c = &dp.consumers[t->consumers[i]];

		if (c->ssrc == ssrc)
			return c;
	}
	return NULL;
}

/* Sequence numbers stay continuous for each consumer: the offset is set on
 * its first packet and re-anchored after a pause, so a resumed consumer sees
 * last + 1 rather than the jump the producer made meanwhile. */
static uint16_t consumer_seq(struct dp_consumer *c, uint16_t in_seq)
{
	uint16_t out;

	if (unlikely(!c->started || c->resync)) {
		c->seq_delta = c->started ? (uint16_t)(c->last_seq + 1 - in_seq) : 0;
		c->started = true;
		c->resync = false;
		c->last_seq = (uint16_t)(in_seq + c->seq_delta - 1);
	}
	out = (uint16_t)(in_seq + c->seq_delta);
	if ((int16_t)(out - c->last_seq) > 0)
		c->last_seq = out;
	return out;
}

static void fan_out(struct dp_worker *w, struct dp_producer *p, const uint8_t *rtp,
		    const struct sfu_rtp_info *ri, uint32_t len)
{
	const uint8_t *payload = rtp + ri->hdr_len;
	uint32_t payload_len = len - ri->hdr_len;

	for (unsigned int i = 0; i < p->n_consumers; i++) {
		struct dp_consumer *c = &dp.consumers[p->consumers[i]];
		struct dp_transport *ct;
		struct rte_mbuf *m;
		uint8_t *q;
		int n;

		if (i + 1 < p->n_consumers)
			rte_prefetch0(&dp.consumers[p->consumers[i + 1]]);
		if (c->paused)
			continue;
		ct = &dp.transports[c->transport];
		m = out_mbuf(w, ct);
		if (m == NULL)
			continue;
		q = rte_pktmbuf_mtod(m, uint8_t *) + DP_HDRS_LEN;
		rte_memcpy(q, rtp, ri->hdr_len);
		sfu_rtp_rewrite(q, c->pt, consumer_seq(c, ri->seq), ri->ts + c->ts_delta, c->ssrc);
		n = sfu_srtp_protect_rtp(ct->srtp_tx, &c->tx, q, ri->hdr_len, payload, payload_len);
		if (unlikely(n < 0)) {
			dp_drop(w->st, SFU_DROP_SRTP_INTERNAL);
			rte_pktmbuf_free(m);
			continue;
		}
		c->tx_pkts++;
		c->tx_octets += payload_len;
		send_out(w, ct, m, (uint32_t)n);
		dp_count(w->st, SFU_CNT_RTP_OUT, 1);
	}
}

void dp_media_rtp(struct dp_worker *w, struct dp_transport *t, struct rte_mbuf *m,
		  const struct dp_pkt_info *pi)
{
	uint8_t *rtp = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->payload_off);
	struct sfu_rtp_info ri;
	struct dp_producer *p;
	size_t plain_len;
	bool rtx;
	int ret;

	if (unlikely(t->srtp_rx == NULL))
		return drop_free(w, m, SFU_DROP_NO_KEYS);
	if (unlikely(sfu_rtp_parse(rtp, pi->payload_len, &ri) < 0))
		return drop_free(w, m, SFU_DROP_RTP_MALFORMED);
	p = producer_by_ssrc(t, ri.ssrc, &rtx);
	if (unlikely(p == NULL))
		return drop_free(w, m, SFU_DROP_UNKNOWN_SSRC);
	ret = sfu_srtp_unprotect_rtp(t->srtp_rx, rtx ? &p->rx_rtx : &p->rx, rtp, pi->payload_len,
				     ri.hdr_len, &plain_len);
	if (unlikely(ret < 0))
		return drop_free(w, m, srtp_drop[-ret]);
	dp_count(w->st, SFU_CNT_RTP_IN, 1);
	p->rx_pkts++;
	p->rx_bytes += plain_len;
	if (unlikely(p->paused))
		return drop_free(w, m, SFU_DROP_PRODUCER_PAUSED);
	/* RTX (RFC 4588) needs per-consumer RTX state: not forwarded yet. */
	if (unlikely(rtx)) {
		rte_pktmbuf_free(m);
		return;
	}
	if (p->level_ext_id != 0)
		read_level(w, p, rtp, &ri);
	if (p->tap && p->kind == SFU_MEDIA_AUDIO)
		mirror_to_tap(w, p, t, rtp, (uint32_t)plain_len);
	fan_out(w, p, rtp, &ri, (uint32_t)plain_len);
	rte_pktmbuf_free(m);
}

/* The inbound SRTCP replay state of a sender SSRC (small LRU per transport). */
static struct sfu_srtp_stream *rtcp_rx_stream(struct dp_transport *t, uint32_t ssrc)
{
	struct dp_rtcp_rx_stream *s;

	for (unsigned int i = 0; i < DP_RTCP_RX_STREAMS; i++)
		if (t->rtcp_rx[i].used && t->rtcp_rx[i].ssrc == ssrc)
			return &t->rtcp_rx[i].s;
	s = &t->rtcp_rx[t->rtcp_rx_next];
	t->rtcp_rx_next = (uint8_t)((t->rtcp_rx_next + 1) % DP_RTCP_RX_STREAMS);
	s->used = true;
	s->ssrc = ssrc;
	sfu_srtp_stream_init(&s->s);
	return &s->s;
}

/* Protect one RTCP packet built at q (in m) for t and queue it. */
static void send_rtcp(struct dp_worker *w, struct dp_transport *t, struct sfu_srtp_stream *s,
		      struct rte_mbuf *m, uint8_t *q, size_t len)
{
	int n = sfu_srtp_protect_rtcp(t->srtp_tx, s, q, len);

	if (unlikely(n < 0)) {
		dp_drop(w->st, SFU_DROP_SRTP_INTERNAL);
		rte_pktmbuf_free(m);
		return;
	}
	send_out(w, t, m, (uint32_t)n);
	dp_count(w->st, SFU_CNT_RTCP_OUT, 1);
}

/* A producer's SR, translated for each consumer's leg. */
static void forward_sr(struct dp_worker *w, struct dp_producer *p, const struct sfu_rtcp_sr *sr)
{
	for (unsigned int i = 0; i < p->n_consumers; i++) {
		struct dp_consumer *c = &dp.consumers[p->consumers[i]];
		struct dp_transport *ct = &dp.transports[c->transport];
		struct sfu_rtcp_sr out = {
			.ssrc = c->ssrc,
			.ntp = sr->ntp,
			.rtp_ts = sr->rtp_ts + c->ts_delta,
			.pkt_count = (uint32_t)c->tx_pkts,
			.octet_count = (uint32_t)c->tx_octets,
		};
		struct rte_mbuf *m;
		uint8_t *q;

		if (c->paused || !c->started)
			continue;
		m = out_mbuf(w, ct);
		if (m == NULL)
			continue;
		q = rte_pktmbuf_mtod(m, uint8_t *) + DP_HDRS_LEN;
		send_rtcp(w, ct, &c->tx, m, q, sfu_rtcp_sr_build(q, &out));
		dp_count(w->st, SFU_CNT_SR_FWD, 1);
	}
}

void dp_media_request_keyframe(struct dp_worker *w, struct dp_producer *p)
{
	struct dp_transport *pt = &dp.transports[p->transport];
	struct rte_mbuf *m;
	uint8_t *q;

	if (p->kind != SFU_MEDIA_VIDEO || p->id == 0)
		return;
	m = out_mbuf(w, pt);
	if (m == NULL)
		return;
	q = rte_pktmbuf_mtod(m, uint8_t *) + DP_HDRS_LEN;
	send_rtcp(w, pt, &pt->rtcp_tx, m, q, sfu_rtcp_pli_build(q, pt->rtcp_ssrc, p->ssrc));
	dp_count(w->st, SFU_CNT_FEEDBACK_FWD, 1);
}

/* PLI / FIR / NACK about consumer c, re-addressed to its producer's publisher. */
static void forward_feedback(struct dp_worker *w, const uint8_t *rtcp,
			     const struct sfu_rtcp_pkt *fb, struct dp_consumer *c)
{
	struct dp_producer *p = &dp.producers[c->producer];
	struct dp_transport *pt = &dp.transports[p->transport];
	struct rte_mbuf *m;
	uint8_t *q;
	size_t len;

	m = out_mbuf(w, pt);
	if (m == NULL)
		return;
	q = rte_pktmbuf_mtod(m, uint8_t *) + DP_HDRS_LEN;
	if (fb->pt == SFU_RTCP_PSFB && fb->fmt == SFU_RTCP_FMT_PLI) {
		len = sfu_rtcp_pli_build(q, pt->rtcp_ssrc, p->ssrc);
	} else if (fb->pt == SFU_RTCP_PSFB && fb->fmt == SFU_RTCP_FMT_FIR) {
		len = sfu_rtcp_fir_build(q, pt->rtcp_ssrc, p->ssrc, ++p->fir_seq);
	} else if (fb->len <= RTE_MBUF_DEFAULT_DATAROOM - DP_HDRS_LEN - SFU_SRTP_MAX_TRAILER) {
		/* Generic NACK: the consumer's sequence numbers back to the producer's. */
		rte_memcpy(q, rtcp + fb->off, fb->len);
		if (sfu_rtcp_nack_rewrite(q, fb, pt->rtcp_ssrc, p->ssrc, c->seq_delta) < 0) {
			rte_pktmbuf_free(m);
			dp_drop(w->st, SFU_DROP_RTCP_MALFORMED);
			return;
		}
		len = fb->len;
	} else {
		rte_pktmbuf_free(m);
		dp_drop(w->st, SFU_DROP_TOO_BIG);
		return;
	}
	send_rtcp(w, pt, &pt->rtcp_tx, m, q, len);
	dp_count(w->st, SFU_CNT_FEEDBACK_FWD, 1);
}

void dp_media_rtcp(struct dp_worker *w, struct dp_transport *t, struct rte_mbuf *m,
		   const struct dp_pkt_info *pi)
{
	uint8_t *rtcp = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->payload_off);
	struct sfu_srtp_stream *s;
	struct sfu_rtcp_pkt pkt;
	size_t len, off = 0;
	uint32_t sender;
	int ret;

	if (unlikely(t->srtp_rx == NULL))
		return drop_free(w, m, SFU_DROP_NO_KEYS);
	if (unlikely(pi->payload_len < 8))
		return drop_free(w, m, SFU_DROP_RTCP_MALFORMED);
	memcpy(&sender, rtcp + 4, sizeof(sender)); /* payloads need not be aligned */
	s = rtcp_rx_stream(t, rte_be_to_cpu_32(sender));
	ret = sfu_srtp_unprotect_rtcp(t->srtp_rx, s, rtcp, pi->payload_len, &len);
	if (unlikely(ret < 0))
		return drop_free(w, m, srtcp_drop[-ret]);
	if (unlikely(sfu_rtcp_validate(rtcp, len) < 0))
		return drop_free(w, m, SFU_DROP_RTCP_MALFORMED);
	dp_count(w->st, SFU_CNT_RTCP_IN, 1);

	while (sfu_rtcp_next(rtcp, len, &off, &pkt) > 0) {
		if (pkt.pt == SFU_RTCP_SR) {
			struct sfu_rtcp_sr sr;
			bool rtx;
			struct dp_producer *p = producer_by_ssrc(t, pkt.sender_ssrc, &rtx);

			if (p != NULL && !rtx &&
			    sfu_rtcp_sr_parse(rtcp + pkt.off, pkt.len, &sr) == 0)
				forward_sr(w, p, &sr);
		} else if ((pkt.pt == SFU_RTCP_PSFB &&
			    (pkt.fmt == SFU_RTCP_FMT_PLI || pkt.fmt == SFU_RTCP_FMT_FIR)) ||
			   (pkt.pt == SFU_RTCP_RTPFB && pkt.fmt == SFU_RTCP_FMT_NACK)) {
			uint32_t media = pkt.media_ssrc;
			struct dp_consumer *c;

			/* FIR names the target in its FCI, not in media SSRC (RFC 5104 4.3.1.1). */
			if (pkt.fmt == SFU_RTCP_FMT_FIR && pkt.pt == SFU_RTCP_PSFB) {
				uint8_t seq_nr;

				if (sfu_rtcp_fir_entry(rtcp, &pkt, 0, &media, &seq_nr) < 0)
					continue;
			}
			c = consumer_by_ssrc(t, media);
			if (c != NULL)
				forward_feedback(w, rtcp, &pkt, c);
		}
	}
	rte_pktmbuf_free(m);
}
