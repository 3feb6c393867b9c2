/*
 * jc-leg.h — one PeerConnection of sfu-janus-client ("leg": the publisher's
 * or the subscriber's), the way a browser runs it against Janus configured
 * with ice_lite: one UDP socket on the test host's address, all m-sections
 * bundled on it (RFC 8843) with RTCP muxed (RFC 5761).
 *  - ICE: we are the controlling full agent (RFC 8445 2.5, 6.1.1: the full
 *    agent facing a lite one controls), so we send the connectivity checks,
 *    nominating until one succeeds, then consent checks (RFC 7675); any check
 *    Janus sends us is answered (authenticated with our password), which a
 *    full-ICE Janus would need.  Checks and their validation are
 *    tests/tools/sfu-client-ice.h and ctrl/lib/stun.h.
 *  - DTLS (RFC 5764, ctrl/lib/dtls.h): the role follows the a=setup of the
 *    two descriptions (RFC 8842 5): Janus "active" makes us the server,
 *    "passive" or "actpass" (we answer "active") the client.  The client
 *    starts once ICE has succeeded; the server waits for the ClientHello.
 *  - SRTP (libsrtp2) from the exported keys: the publisher protects its
 *    synthetic media (tests/tools/sfu-client-media.h), the subscriber
 *    unprotects and verifies every byte of each stream Janus offered.
 *
 * The ICE/DTLS/SRTP machinery itself is tests/tools/sfu-client-pc.h, shared
 * with sfu-client; this file adds what is Janus's: the DTLS role from the SDP,
 * the streams of each leg, the publisher's media clock and Janus's hangup.
 *
 * Part of sfu-janus-client.c (static functions).  Threading: the lws service
 * thread only.
 */
#ifndef JC_LEG_H
#define JC_LEG_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libwebsockets.h>
#include <srtp2/srtp.h>

#include "dtls.h"
#include "jc-sdp.h"
#include "../../tests/tools/sfu-client-media.h"
#include "../../tests/tools/sfu-client-pc.h"
#include "stun.h"

#define JC_MAX_STREAMS 64
#define JC_CONSENT_MS 2000
#define JC_AUDIO_PATTERN 100

enum jc_role { JC_PUB = 0, JC_SUB = 1, JC_NROLE };

static const char *const jc_role_name[JC_NROLE] = {"publish", "subscribe"};

/*
 * One media stream of a leg.  Publisher: our audio or video (ssrc, seq, ts
 * ours).  Subscriber: one m-section of Janus's offer (ssrc Janus's, tag from
 * the publisher's display name and kind, as sfu-client-media.h defines it).
 */
struct jc_stream {
	char kind[8];
	char mid[32];
	char feed[64]; /* the publisher's display name */
	uint8_t pt;
	uint32_t ssrc, rtx_ssrc, tag;
	/* publisher */
	uint8_t mid_ext;
	uint16_t seq;
	uint32_t ts, counter;
	uint64_t frames, sent, sent_bytes;
	/* subscriber */
	struct pc_rx_stats rx;
	uint64_t bytes, rtx;
};

/* Lifetime: the whole run (static in struct jc_client). */
struct jc_leg {
	struct pc_conn pc; /* UDP socket, ICE, DTLS, SRTP (pc.hangup: Janus's hangup) */
	enum jc_role role;
	const struct cm_video_plan *video;

	bool used;        /* this role was asked for */
	uint64_t handle;  /* Janus plugin handle id */
	bool webrtcup;    /* Janus's event for this handle */
	uint64_t media_start_ms;

	int n_streams;
	struct jc_stream st[JC_MAX_STREAMS];
};

static uint64_t jc_now_ms(void)
{
	return pc_now_ms();
}

static void jc_random(void *p, size_t n)
{
	pc_random(p, n);
}

/**
 * Janus's description is known: its ICE credentials, fingerprint, candidate,
 * and the DTLS role (we_offered: our a=setup was actpass).
 * @return 0, or -EINVAL with *why set
 */
static int leg_set_remote(struct jc_leg *l, const struct jc_sdp *s, bool we_offered,
			  const char **why)
{
	struct pc_conn *pc = &l->pc;

	if ((*why = jc_sdp_missing(s)) != NULL)
		return -EINVAL;
	if (strlen(s->ufrag) + strlen(pc->lufrag) + 2 > STUN_USERNAME_MAX) {
		*why = "ice-ufrag too long";
		return -EINVAL;
	}
	snprintf(pc->rufrag, sizeof(pc->rufrag), "%s", s->ufrag);
	snprintf(pc->rpwd, sizeof(pc->rpwd), "%s", s->pwd);
	snprintf(pc->rfp, sizeof(pc->rfp), "%s", s->fp);
	memset(&pc->remote, 0, sizeof(pc->remote));
	pc->remote.sin_family = AF_INET;
	pc->remote.sin_port = htons(s->cand_port);
	inet_pton(AF_INET, s->cand_ip, &pc->remote.sin_addr);
	/* RFC 8842 5: an answerer's "active" makes the offerer the DTLS server. */
	if (we_offered)
		pc->dtls_server = strcmp(s->setup, "active") == 0;
	else
		pc->dtls_server = false; /* we answer "active" */
	if (we_offered && strcmp(s->setup, "active") != 0 && strcmp(s->setup, "passive") != 0) {
		*why = "the answer's a=setup is neither active nor passive";
		return -EINVAL;
	}
	pc->remote_set = true;
	pc->dtls_allowed = true; /* Janus has our fingerprint from our offer or answer */
	return 0;
}

static void leg_on_connected(struct pc_conn *pc)
{
	struct jc_leg *l = lws_container_of(pc, struct jc_leg, pc);

	l->media_start_ms = pc->dtls_done_ms;
	pc_info(pc, "DTLS (%s) connected in %llu ms, profile 0x%04x",
		pc->dtls_server ? "server" : "client",
		(unsigned long long)(pc->dtls_done_ms - pc->dtls_start_ms), pc->profile);
}

static struct jc_stream *leg_stream_by_ssrc(struct jc_leg *l, uint32_t ssrc, bool *rtx)
{
	int i;

	for (i = 0; i < l->n_streams; i++) {
		if (l->st[i].ssrc == ssrc) {
			*rtx = false;
			return &l->st[i];
		}
		if (l->st[i].rtx_ssrc != 0 && l->st[i].rtx_ssrc == ssrc) {
			*rtx = true;
			return &l->st[i];
		}
	}
	return NULL;
}

/* SRTP from Janus on the subscriber leg: unprotect, then every byte checked. */
static void leg_rx_rtp(struct pc_conn *pc, uint8_t *p, size_t len)
{
	struct jc_leg *l = lws_container_of(pc, struct jc_leg, pc);
	bool rtx = false;
	struct jc_stream *s = len >= CM_RTP_HDR ? leg_stream_by_ssrc(l, cm_get32(p + 8), &rtx) : NULL;

	if (s == NULL) {
		pc->unknown_ssrc++;
		return;
	}
	if (rtx) {
		/* Retransmissions (RFC 4588) repeat what was lost: counted apart. */
		s->rtx++;
		return;
	}
	s->bytes += len;
	pc_rx_verify(pc->srtp_rx, p, len, strcmp(s->kind, "video") == 0, s->pt, s->tag, &s->rx);
}

/* The publisher receives no media: its SRTP counts as rx_other. */
static const struct pc_hooks leg_hooks[JC_NROLE] = {
	[JC_PUB] = {.connected = leg_on_connected},
	[JC_SUB] = {.connected = leg_on_connected, .rx_rtp = leg_rx_rtp},
};

/* The leg's fixed part, before signaling starts. */
static void leg_init(struct jc_leg *l, enum jc_role role, bool used, const char *who, bool quiet,
		     const struct dtls_cert *cert, const struct cm_video_plan *video,
		     const char *bind_ip)
{
	l->role = role;
	l->used = used;
	l->video = video;
	l->pc = (struct pc_conn){
		.hooks = &leg_hooks[role], .prog = "sfu-janus-client", .name = who, .sep = " ",
		.label = jc_role_name[role], .quiet = quiet, .peer = "Janus", .cert = cert,
		.bind_ip = bind_ip, .answer_checks = true, .consent_ms = JC_CONSENT_MS, .fd = -1,
	};
}

/* One RTP packet of stream s, protected and sent. */
static void leg_send_rtp(struct jc_leg *l, struct jc_stream *s, bool video, bool first, bool last,
			 size_t pattern_len)
{
	uint8_t buf[CM_RTP_MAX + SRTP_MAX_TRAILER_LEN];
	struct cm_rtp_out o = {
		.pt = s->pt, .marker = video ? last : s->sent == 0, .seq = s->seq, .ts = s->ts,
		.ssrc = s->ssrc, .mid_id = s->mid_ext, .mid = s->mid, .vp8 = video,
		.vp8_start = first, .tag = s->tag, .counter = s->counter,
		.pattern_len = pattern_len,
	};
	int n = cm_rtp_build(buf, sizeof(buf), &o);

	if (n < 0 || srtp_protect(l->pc.srtp_tx, buf, &n) != srtp_err_status_ok) {
		l->pc.tx_fail++;
		return;
	}
	pc_send(&l->pc, buf, (size_t)n);
	s->seq++;
	s->counter++;
	s->sent++;
	s->sent_bytes += (uint64_t)n;
}

/*
 * The publisher's media clock: audio one ~100-byte packet every 20 ms (Opus
 * 48 kHz: +960), video l->video->fps frames of the plan's packets (marker on
 * the last, 90 kHz).  A loop stalled over 200 ms skips ahead instead of bursting.
 */
static void leg_media_tick(struct jc_leg *l, uint64_t now)
{
	const struct cm_video_plan *vp = l->video;
	int i;

	if (l->role != JC_PUB || !l->pc.srtp_ready || l->pc.hangup)
		return;
	for (i = 0; i < l->n_streams; i++) {
		struct jc_stream *s = &l->st[i];
		bool video = strcmp(s->kind, "video") == 0;
		uint32_t k;

		while (pc_frame_due(l->media_start_ms, video ? vp->fps : 50,
				    video ? 1000 / vp->fps : 20, video ? 90000 / vp->fps : 960,
				    &s->frames, &s->ts, now)) {
			if (video) {
				for (k = 0; k < vp->packets; k++)
					leg_send_rtp(l, s, true, k == 0, k == vp->packets - 1,
						     k == vp->packets - 1 ? vp->last_len
									  : vp->pattern_len);
				s->ts += 90000 / vp->fps;
			} else {
				leg_send_rtp(l, s, false, true, true, JC_AUDIO_PATTERN);
				s->ts += 960;
			}
			s->frames++;
		}
	}
}

/* Timers: ICE, consent, DTLS (sfu-client-pc.h), then the publisher's media. */
static void leg_tick(struct jc_leg *l, uint64_t now)
{
	if (!l->used || !l->pc.remote_set)
		return;
	pc_tick(&l->pc, now);
	leg_media_tick(l, now);
}

#endif /* JC_LEG_H */
