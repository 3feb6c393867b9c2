/*
 * sfu-client-transport.h — one WebRTC transport of the test client, the way a
 * browser drives it against an ICE-lite SFU.  The media connection itself (the
 * UDP socket, ICE as the controlling agent, DTLS client, SRTP/SRTCP, RFC 7983
 * demux) is sfu-client-pc.h, shared with perf/janus/sfu-janus-client.c; this
 * file adds what is sfu-client's: the DTLS handshake waits for
 * connectWebRtcTransport too (the server must know our fingerprint, RFC 5764
 * 4.1), the received media is matched to our consumers, and the media clock
 * of our producers.
 *
 * Part of sfu-client.c (static functions; it calls back cl_on_dtls_connected()).
 * Threading: the libwebsockets service thread only.
 */
#ifndef SFU_CLIENT_TRANSPORT_H
#define SFU_CLIENT_TRANSPORT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu-client-media.h"
#include "sfu-client-pc.h"
#include "sfu-client-state.h"

static const char *const cl_dir_name[CL_NDIR] = {"send", "recv"};

static void cl_on_dtls_connected(struct client *cl, struct cl_transport *t);

static uint64_t cl_now_ms(void)
{
	return pc_now_ms();
}

/* Progress on stderr (not with --quiet); results go to stdout. */
static void __attribute__((format(printf, 2, 3))) cl_info(const struct client *cl,
							   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pc_vlog(cl->o.quiet, "sfu-client", cl->o.name, "", "", fmt, ap);
	va_end(ap);
}

static void tr_on_connected(struct pc_conn *pc)
{
	struct cl_transport *t = lws_container_of(pc, struct cl_transport, pc);

	pc_info(pc, "DTLS connected in %llu ms, profile 0x%04x",
		(unsigned long long)(pc->dtls_done_ms - pc->dtls_start_ms), pc->profile);
	cl_on_dtls_connected(t->cl, t);
}

static struct cl_consumer *tr_consumer_by_ssrc(struct client *cl, uint32_t ssrc)
{
	int i;

	for (i = 0; i < cl->n_cons; i++)
		if (cl->cons[i].ready && cl->cons[i].ssrc == ssrc)
			return &cl->cons[i];
	return NULL;
}

/* SRTP from the SFU: a consumer's media on the recv transport. */
static void tr_rx_rtp(struct pc_conn *pc, uint8_t *p, size_t len)
{
	struct cl_transport *t = lws_container_of(pc, struct cl_transport, pc);
	struct cl_consumer *c = len >= CM_RTP_HDR ? tr_consumer_by_ssrc(t->cl, cm_get32(p + 8))
						  : NULL;

	if (c == NULL) {
		pc->unknown_ssrc++;
		return;
	}
	pc_rx_verify(pc->srtp_rx, p, len, strcmp(c->kind, "video") == 0, c->pt, c->tag, &c->rx);
}

/* After the summary (leaving), the server closing the session is expected. */
static bool tr_ending(const struct pc_conn *pc)
{
	const struct cl_transport *t = lws_container_of(pc, struct cl_transport, pc);

	return t->cl->phase >= CL_LEAVING;
}

static const struct pc_hooks tr_hooks = {
	.connected = tr_on_connected, .rx_rtp = tr_rx_rtp, .ending = tr_ending,
};

/* The transport's fixed part, before signaling starts. */
static void tr_init(struct cl_transport *t, struct client *cl, enum cl_dir dir)
{
	t->cl = cl;
	t->dir = dir;
	t->pc = (struct pc_conn){
		.hooks = &tr_hooks, .prog = "sfu-client", .name = cl->o.name, .sep = ": ",
		.label = dir == CL_SEND ? "send transport" : "recv transport",
		.quiet = cl->o.quiet, .peer = "the server", .cert = cl->cert,
		.bind_ip = cl->o.bind_ip, .check_mapped = true, .consent_ms = CL_CONSENT_MS,
		.stop_consent_ms = cl->o.stop_consent_ms, .fd = -1,
	};
}

/* Timers of one transport: check retransmission, consent, DTLS. */
static void tr_tick(struct cl_transport *t, uint64_t now)
{
	if (!t->created || t->closed)
		return;
	pc_tick(&t->pc, now);
}

/* Whether the transport reached a verdict: DTLS connected, or it failed or closed. */
static bool tr_settled(const struct cl_transport *t)
{
	return t->pc.dtls_connected || t->pc.dtls_failed || t->pc.ice == PC_ICE_FAILED ||
	       t->closed;
}

/* ---- our producers' media clock ---- */

/* One RTP packet of producer p, protected and sent on the send transport. */
static void prod_send(struct cl_transport *t, struct cl_producer *p, bool video,
		      bool first, bool last, size_t pattern_len)
{
	uint8_t buf[CM_RTP_MAX + SRTP_MAX_TRAILER_LEN];
	struct cm_rtp_out o = {
		.pt = p->w.pt, .marker = video ? last : p->sent == 0, .seq = p->seq,
		.ts = p->ts, .ssrc = p->ssrc, .mid_id = p->w.mid_ext_id, .mid = p->mid,
		.vp8 = video, .vp8_start = first, .tag = p->tag, .counter = p->counter,
		.pattern_len = pattern_len,
		.level_id = video ? 0 : p->level_ext_id,
		.level = video ? 0 : cl_level_byte(t->cl, cl_now_ms()),
	};
	int n = cm_rtp_build(buf, sizeof(buf), &o);

	/* --speech: the pattern's place holds the next real Opus packet. */
	if (n > 0 && !video && t->cl->speech.n > 0) {
		size_t i = p->counter % t->cl->speech.n, hdr = (size_t)n - pattern_len;

		memcpy(buf + hdr, t->cl->speech.pkt[i], t->cl->speech.len[i]);
		n = (int)(hdr + t->cl->speech.len[i]);
		/* For the speech-to-caption latency: when the utterance ended. */
		if (i == t->cl->speech.last_speech)
			printf("speech_end at_ms=%llu\n", (unsigned long long)cl_now_ms());
	}
	if (n < 0 || srtp_protect(t->pc.srtp_tx, buf, &n) != srtp_err_status_ok) {
		t->pc.tx_fail++;
		return;
	}
	pc_send(&t->pc, buf, (size_t)n);
	p->seq++;
	p->counter++;
	p->sent++;
}

/*
 * The video shape: sfu-client's historical one, or SFU_CLIENT_VIDEO_KBPS
 * (environment, read once) for benchmarks that need a given bitrate in
 * ~1200-byte packets (perf/janus/compare runs the same shape through Janus).
 */
static const struct cm_video_plan *cl_video_plan(void)
{
	static struct cm_video_plan plan;
	static bool done;

	if (!done) {
		const char *env = getenv("SFU_CLIENT_VIDEO_KBPS");
		unsigned long kbps = env != NULL ? strtoul(env, NULL, 10) : 0;

		cm_video_plan_for(kbps <= 1000000 ? (uint32_t)kbps : 0, &plan);
		done = true;
	}
	return &plan;
}

/*
 * Send what is due: audio one ~100-byte packet every 20 ms (Opus 48 kHz: +960
 * per packet), video 30 frames/s of 3 packets (~1000 bytes each, or as
 * cl_video_plan says; marker on the frame's last, 90 kHz: +3000 per frame).  A
 * loop stalled over 200 ms skips ahead instead of bursting.
 */
static void prod_tick(struct cl_transport *t, struct cl_producer *p, uint64_t now)
{
	bool video = strcmp(p->kind, "video") == 0;
	int k;

	if (!p->ready || !t->pc.srtp_ready || t->closed)
		return;
	while (pc_frame_due(p->start_ms, video ? 30 : 50, video ? 34 : 20, video ? 3000 : 960,
			    &p->frames, &p->ts, now)) {
		if (video) {
			const struct cm_video_plan *vp = cl_video_plan();

			for (k = 0; k < (int)vp->packets; k++)
				prod_send(t, p, true, k == 0, k == (int)vp->packets - 1,
					  k == (int)vp->packets - 1 ? vp->last_len : vp->pattern_len);
			p->ts += 3000;
		} else {
			prod_send(t, p, false, true, true, 100);
			p->ts += 960;
		}
		p->frames++;
	}
}

#endif /* SFU_CLIENT_TRANSPORT_H */
