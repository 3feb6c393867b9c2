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
 * Datagrams are classified by their first byte (RFC 7983).  Only datagrams
 * from Janus's candidate count; anything else is rx_foreign.
 *
 * Part of sfu-janus-client.c (static functions).  Threading: the lws service
 * thread only.
 */
#ifndef JC_LEG_H
#define JC_LEG_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/rand.h>
#include <srtp2/srtp.h>

#include "dtls.h"
#include "jc-sdp.h"
#include "../../tests/tools/sfu-client-ice.h"
#include "../../tests/tools/sfu-client-media.h"
#include "stun.h"

#define JC_MAX_STREAMS 64
#define JC_ICE_RETRANSMIT_MS 100
#define JC_ICE_TIMEOUT_MS 10000
#define JC_CONSENT_MS 2000
#define JC_DTLS_VERDICT_MS 10000
#define JC_RX_BURST 64
#define JC_AUDIO_PATTERN 100

enum jc_role { JC_PUB = 0, JC_SUB = 1, JC_NROLE };
enum jc_ice { JC_ICE_IDLE = 0, JC_ICE_CHECKING, JC_ICE_CONNECTED, JC_ICE_FAILED };

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
	uint64_t packets, bytes, decrypted, payload_ok, seq_gaps, auth_fail, replay_fail,
		other_fail, bad_payload, wrong_producer, pt_bad, rtx;
	bool have_seq;
	uint16_t next_seq;
};

/* Lifetime: the whole run (static in struct jc_client); fd and wsi owned by lws once adopted. */
struct jc_leg {
	enum jc_role role;
	const char *who; /* client name, for progress lines */
	bool quiet;
	const struct dtls_cert *cert;
	const struct cm_video_plan *video;

	bool used;        /* this role was asked for */
	uint64_t handle;  /* Janus plugin handle id */
	bool remote_set;  /* Janus's description is known */
	int fd;
	uint16_t lport;
	const char *bind_ip;
	struct lws *wsi;
	struct sockaddr_in remote;
	char lufrag[8], lpwd[32], rufrag[JC_TOKEN_MAX], rpwd[JC_TOKEN_MAX];
	char rfp[JC_FP_MAX];
	bool dtls_server;
	uint64_t tiebreaker;

	enum jc_ice ice;
	uint8_t tid[12];
	uint32_t checks_sent, checks_answered, stun_errors, stun_bad, consent_ok;
	uint64_t ice_start_ms, ice_done_ms, check_sent_ms, next_consent_ms;

	struct dtls_endpoint *dtls;
	bool dtls_connected, dtls_failed;
	uint64_t dtls_start_ms, dtls_done_ms;
	uint16_t profile;
	srtp_t srtp_tx, srtp_rx;
	bool srtp_ready;

	bool webrtcup, hangup; /* Janus's events for this handle */
	uint64_t media_start_ms;

	int n_streams;
	struct jc_stream st[JC_MAX_STREAMS];

	uint64_t rx_stun, rx_dtls, rx_rtp, rx_rtcp, rtcp_ok, rtcp_fail, rx_other, rx_foreign,
		unknown_ssrc, tx_fail;
};

static uint64_t jc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void __attribute__((format(printf, 2, 3))) leg_info(const struct jc_leg *l,
							    const char *fmt, ...)
{
	va_list ap;

	if (l->quiet)
		return;
	fprintf(stderr, "sfu-janus-client %s %s: ", l->who, jc_role_name[l->role]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void jc_random(void *p, size_t n)
{
	if (RAND_bytes(p, (int)n) != 1) {
		fputs("sfu-janus-client: RAND_bytes failed\n", stderr);
		_exit(1);
	}
}

/* Random ice-chars (RFC 8445 5.3), NUL-terminated: n + 1 bytes at out. */
static void jc_random_token(char *out, size_t n)
{
	static const char chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t r[64];
	size_t i;

	jc_random(r, n);
	for (i = 0; i < n; i++)
		out[i] = chars[r[i] % (sizeof(chars) - 1)];
	out[n] = '\0';
}

/** Credentials and the socket; then the leg can describe itself in SDP. @return 0 or -errno */
static int leg_open(struct jc_leg *l)
{
	jc_random_token(l->lufrag, 4);
	jc_random_token(l->lpwd, 24);
	jc_random(&l->tiebreaker, sizeof(l->tiebreaker));
	l->fd = ci_udp_open(l->bind_ip, &l->lport);
	return l->fd < 0 ? l->fd : 0;
}

static void leg_send(struct jc_leg *l, const uint8_t *p, size_t len)
{
	if (sendto(l->fd, p, len, 0, (const struct sockaddr *)&l->remote, sizeof(l->remote)) !=
	    (ssize_t)len)
		l->tx_fail++;
}

/**
 * Janus's description is known: its ICE credentials, fingerprint, candidate,
 * and the DTLS role (we_offered: our a=setup was actpass).
 * @return 0, or -EINVAL with *why set
 */
static int leg_set_remote(struct jc_leg *l, const struct jc_sdp *s, bool we_offered,
			  const char **why)
{
	if ((*why = jc_sdp_missing(s)) != NULL)
		return -EINVAL;
	if (strlen(s->ufrag) + strlen(l->lufrag) + 2 > STUN_USERNAME_MAX) {
		*why = "ice-ufrag too long";
		return -EINVAL;
	}
	snprintf(l->rufrag, sizeof(l->rufrag), "%s", s->ufrag);
	snprintf(l->rpwd, sizeof(l->rpwd), "%s", s->pwd);
	snprintf(l->rfp, sizeof(l->rfp), "%s", s->fp);
	memset(&l->remote, 0, sizeof(l->remote));
	l->remote.sin_family = AF_INET;
	l->remote.sin_port = htons(s->cand_port);
	inet_pton(AF_INET, s->cand_ip, &l->remote.sin_addr);
	/* RFC 8842 5: an answerer's "active" makes the offerer the DTLS server. */
	if (we_offered)
		l->dtls_server = strcmp(s->setup, "active") == 0;
	else
		l->dtls_server = false; /* we answer "active" */
	if (we_offered && strcmp(s->setup, "active") != 0 && strcmp(s->setup, "passive") != 0) {
		*why = "the answer's a=setup is neither active nor passive";
		return -EINVAL;
	}
	l->remote_set = true;
	return 0;
}

static void leg_dtls_flush(struct jc_leg *l)
{
	uint8_t buf[2048];
	size_t n;

	while ((n = dtls_output(l->dtls, buf, sizeof(buf))) > 0)
		leg_send(l, buf, n);
}

static void leg_dtls_fail(struct jc_leg *l, const char *why)
{
	if (l->dtls_failed)
		return;
	l->dtls_failed = true;
	l->srtp_ready = false;
	leg_info(l, "DTLS failed: %s", why);
}

/* DTLS connected: SRTP sessions from the exported keys (RFC 5764 4.2). */
static void leg_dtls_keys(struct jc_leg *l, uint64_t now)
{
	uint8_t rx[32], tx[32];
	size_t key_len = 0;
	uint16_t profile = 0;

	if (dtls_srtp_keys(l->dtls, &profile, rx, tx, &key_len) != 0 || cm_key_len(profile) == 0) {
		leg_dtls_fail(l, "no SRTP keys or unknown profile");
		return;
	}
	if (cm_srtp_session(&l->srtp_tx, profile, tx, false) != 0 ||
	    cm_srtp_session(&l->srtp_rx, profile, rx, true) != 0) {
		leg_dtls_fail(l, "libsrtp2 refused a key");
		return;
	}
	l->profile = profile;
	l->srtp_ready = true;
	l->dtls_connected = true;
	l->dtls_done_ms = now;
	l->media_start_ms = now;
	leg_info(l, "DTLS (%s) connected in %llu ms, profile 0x%04x",
		 l->dtls_server ? "server" : "client",
		 (unsigned long long)(now - l->dtls_start_ms), profile);
}

static void leg_dtls_poll(struct jc_leg *l, uint64_t now)
{
	enum dtls_state st = dtls_state(l->dtls);

	if (st == DTLS_CONNECTED && !l->dtls_connected && !l->dtls_failed)
		leg_dtls_keys(l, now);
	else if (st == DTLS_FAILED)
		leg_dtls_fail(l, dtls_error(l->dtls));
	else if (st == DTLS_CLOSED && !l->dtls_failed && !l->hangup)
		leg_dtls_fail(l, "Janus closed the DTLS session");
}

/* The DTLS endpoint: a server waits from the start, a client starts after ICE. */
static void leg_maybe_start_dtls(struct jc_leg *l, uint64_t now)
{
	if (l->dtls != NULL || !l->remote_set || (!l->dtls_server && l->ice != JC_ICE_CONNECTED))
		return;
	l->dtls = dtls_endpoint_new(l->cert, l->dtls_server ? DTLS_ROLE_SERVER : DTLS_ROLE_CLIENT,
				    "sha-256", l->rfp);
	if (l->dtls == NULL || dtls_start(l->dtls, now) != 0) {
		leg_dtls_fail(l, "cannot create the DTLS endpoint");
		return;
	}
	l->dtls_start_ms = now;
	leg_dtls_flush(l);
	leg_dtls_poll(l, now);
}

/* A check; a retransmission keeps its transaction id (RFC 5389 7.2.1). */
static void leg_send_check(struct jc_leg *l, bool retransmit, uint64_t now)
{
	uint8_t buf[STUN_MSG_MAX];
	int n;

	if (!retransmit)
		jc_random(l->tid, sizeof(l->tid));
	n = ci_build_check(buf, sizeof(buf), l->tid, l->rufrag, l->lufrag, l->rpwd,
			   l->tiebreaker, l->ice == JC_ICE_CHECKING);
	if (n < 0) {
		l->tx_fail++;
		return;
	}
	leg_send(l, buf, (size_t)n);
	l->checks_sent++;
	l->check_sent_ms = now;
}

/** Start ICE (after the remote description): first check now. */
static void leg_start_ice(struct jc_leg *l, uint64_t now)
{
	l->ice = JC_ICE_CHECKING;
	l->ice_start_ms = now;
	leg_send_check(l, false, now);
	leg_maybe_start_dtls(l, now);
}

/*
 * A Binding request from Janus (a full-ICE Janus checks us too): USERNAME
 * must be "OURS:THEIRS" and MESSAGE-INTEGRITY keyed with our password
 * (RFC 8445 7.3); the success response carries the source as
 * XOR-MAPPED-ADDRESS.  Anything else is counted, not answered.
 */
static void leg_answer_check(struct jc_leg *l, const uint8_t *p, size_t len,
			     const struct stun_msg *m)
{
	uint8_t out[STUN_MSG_MAX];
	const char *frag;
	int flen = stun_username_local(m, &frag);
	size_t n;

	if (flen < 0 || (size_t)flen != strlen(l->lufrag) || memcmp(frag, l->lufrag, (size_t)flen) != 0 ||
	    !m->has_integrity ||
	    !stun_integrity_ok(p, len, m, (const uint8_t *)l->lpwd, strlen(l->lpwd))) {
		l->stun_bad++;
		return;
	}
	n = stun_build_success(out, sizeof(out), m->tid, ntohl(l->remote.sin_addr.s_addr),
			       ntohs(l->remote.sin_port), (const uint8_t *)l->lpwd, strlen(l->lpwd));
	if (n == 0) {
		l->tx_fail++;
		return;
	}
	leg_send(l, out, n);
	l->checks_answered++;
}

static void leg_rx_stun(struct jc_leg *l, const uint8_t *p, size_t len, uint64_t now)
{
	struct ci_response r;
	struct stun_msg m;
	int rc;

	l->rx_stun++;
	if (stun_parse(p, len, &m) == 0 && m.type == STUN_BINDING_REQUEST) {
		leg_answer_check(l, p, len, &m);
		return;
	}
	rc = ci_check_response(p, len, l->tid, l->rpwd, &r);
	if (rc != 0) {
		l->stun_bad++;
		return;
	}
	if (!r.success) {
		l->stun_errors++;
		leg_info(l, "STUN error response %u", r.error_code);
		return;
	}
	if (l->ice == JC_ICE_CHECKING) {
		l->ice = JC_ICE_CONNECTED;
		l->ice_done_ms = now;
		l->next_consent_ms = now + JC_CONSENT_MS;
		leg_info(l, "ICE connected in %llu ms", (unsigned long long)(now - l->ice_start_ms));
		leg_maybe_start_dtls(l, now);
	} else {
		l->consent_ok++;
	}
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
static void leg_rx_rtp(struct jc_leg *l, uint8_t *p, size_t len)
{
	bool rtx = false;
	struct jc_stream *s = len >= CM_RTP_HDR ? leg_stream_by_ssrc(l, cm_get32(p + 8), &rtx) : NULL;
	struct cm_rtp_in r;
	srtp_err_status_t err;
	uint32_t counter;
	int n = (int)len, rc;

	l->rx_rtp++;
	if (s == NULL) {
		l->unknown_ssrc++;
		return;
	}
	if (rtx) {
		/* Retransmissions (RFC 4588) repeat what was lost: counted apart. */
		s->rtx++;
		return;
	}
	s->packets++;
	s->bytes += len;
	err = srtp_unprotect(l->srtp_rx, p, &n);
	if (err != srtp_err_status_ok) {
		if (err == srtp_err_status_auth_fail)
			s->auth_fail++;
		else if (err == srtp_err_status_replay_fail || err == srtp_err_status_replay_old)
			s->replay_fail++;
		else
			s->other_fail++;
		return;
	}
	s->decrypted++;
	if (cm_rtp_parse(p, (size_t)n, &r) != 0) {
		s->bad_payload++;
		return;
	}
	if (s->have_seq && r.seq != s->next_seq)
		s->seq_gaps++;
	s->have_seq = true;
	s->next_seq = (uint16_t)(r.seq + 1);
	if (r.pt != s->pt)
		s->pt_bad++;
	/* Video: the 1-byte VP8 payload descriptor first (RFC 7741 4.2). */
	if (strcmp(s->kind, "video") == 0) {
		if (r.payload_len < 1) {
			s->bad_payload++;
			return;
		}
		r.payload++;
		r.payload_len--;
	}
	rc = cm_pattern_check(r.payload, r.payload_len, s->tag, &counter);
	if (rc == 0 && r.pt == s->pt)
		s->payload_ok++;
	else if (rc == -EXDEV)
		s->wrong_producer++;
	else if (rc != 0)
		s->bad_payload++;
}

static void leg_rx_one(struct jc_leg *l, uint8_t *p, size_t len, uint64_t now)
{
	int n = (int)len;

	switch (ci_classify(p, len)) {
	case CI_STUN:
		leg_rx_stun(l, p, len, now);
		break;
	case CI_DTLS:
		l->rx_dtls++;
		leg_maybe_start_dtls(l, now);
		if (l->dtls == NULL)
			break;
		dtls_input(l->dtls, p, len, now);
		leg_dtls_flush(l);
		leg_dtls_poll(l, now);
		break;
	case CI_SRTP:
		if (l->srtp_ready && l->role == JC_SUB)
			leg_rx_rtp(l, p, len);
		else
			l->rx_other++;
		break;
	case CI_SRTCP:
		l->rx_rtcp++;
		if (l->srtp_ready && srtp_unprotect_rtcp(l->srtp_rx, p, &n) == srtp_err_status_ok)
			l->rtcp_ok++;
		else
			l->rtcp_fail++;
		break;
	case CI_OTHER:
		l->rx_other++;
		break;
	}
}

/* The socket is readable: a bounded burst; only Janus's candidate counts. */
static void leg_rx(struct jc_leg *l)
{
	uint8_t buf[CM_RTP_MAX + 512];
	struct sockaddr_in from;
	uint64_t now = jc_now_ms();
	int i;

	for (i = 0; i < JC_RX_BURST; i++) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(l->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n < 0)
			break;
		if (!l->remote_set || from.sin_addr.s_addr != l->remote.sin_addr.s_addr ||
		    from.sin_port != l->remote.sin_port) {
			l->rx_foreign++;
			continue;
		}
		leg_rx_one(l, buf, (size_t)n, now);
	}
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

	if (n < 0 || srtp_protect(l->srtp_tx, buf, &n) != srtp_err_status_ok) {
		l->tx_fail++;
		return;
	}
	leg_send(l, buf, (size_t)n);
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

	if (l->role != JC_PUB || !l->srtp_ready || l->hangup)
		return;
	for (i = 0; i < l->n_streams; i++) {
		struct jc_stream *s = &l->st[i];
		bool video = strcmp(s->kind, "video") == 0;
		uint32_t step_ms = video ? 1000 / vp->fps : 20;
		uint32_t k;

		for (;;) {
			uint64_t due = l->media_start_ms +
				       (video ? s->frames * 1000 / vp->fps : s->frames * 20);

			if (due > now)
				break;
			if (now - due > 200) {
				uint64_t skip = (now - due) / step_ms;

				s->frames += skip;
				s->ts += (uint32_t)(skip * (video ? 90000 / vp->fps : 960));
				continue;
			}
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

/* Timers: check retransmission, consent freshness, the DTLS flight timer. */
static void leg_tick(struct jc_leg *l, uint64_t now)
{
	if (!l->used || !l->remote_set)
		return;
	if (l->ice == JC_ICE_CHECKING) {
		if (now - l->ice_start_ms >= JC_ICE_TIMEOUT_MS) {
			l->ice = JC_ICE_FAILED;
			leg_info(l, "ICE failed: no response to %u checks", l->checks_sent);
		} else if (now - l->check_sent_ms >= JC_ICE_RETRANSMIT_MS) {
			leg_send_check(l, true, now);
		}
	} else if (l->ice == JC_ICE_CONNECTED && now >= l->next_consent_ms && !l->hangup) {
		leg_send_check(l, false, now);
		l->next_consent_ms = now + JC_CONSENT_MS;
	}
	if (l->dtls != NULL && !l->dtls_failed && !l->dtls_connected) {
		if (dtls_timeout_ms(l->dtls, now) == 0) {
			dtls_on_timer(l->dtls, now);
			leg_dtls_flush(l);
			leg_dtls_poll(l, now);
		}
		if (!l->dtls_connected && now - l->dtls_start_ms >= JC_DTLS_VERDICT_MS)
			leg_dtls_fail(l, "no keys within 10 s");
	}
	leg_media_tick(l, now);
}

/* Adopt the socket into the lws loop (protocol "jc-udp"). @return 0 or -ENOMEM */
static int leg_adopt(struct jc_leg *l, struct lws_vhost *vh)
{
	lws_adopt_desc_t ad;

	memset(&ad, 0, sizeof(ad));
	ad.vh = vh;
	ad.type = LWS_ADOPT_RAW_FILE_DESC;
	ad.fd.filefd = l->fd;
	ad.vh_prot_name = "jc-udp";
	ad.opaque = l;
	l->wsi = lws_adopt_descriptor_vhost_via_info(&ad);
	if (l->wsi == NULL) {
		l->fd = -1; /* lws closed it */
		return -ENOMEM;
	}
	return 0;
}

static void leg_free(struct jc_leg *l)
{
	if (l->dtls != NULL)
		dtls_endpoint_free(l->dtls);
	if (l->srtp_tx != NULL)
		srtp_dealloc(l->srtp_tx);
	if (l->srtp_rx != NULL)
		srtp_dealloc(l->srtp_rx);
	l->dtls = NULL;
	l->srtp_tx = l->srtp_rx = NULL;
}

#endif /* JC_LEG_H */
