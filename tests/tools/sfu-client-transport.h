/*
 * sfu-client-transport.h — one WebRTC transport of the test client, the way a
 * browser drives it against an ICE-lite SFU: a UDP socket on the test host's
 * address, connectivity checks as the controlling agent until an authenticated
 * success (RFC 8445 7.2.5), consent checks afterwards (RFC 7675), the DTLS
 * client handshake once ICE and connectWebRtcTransport are both done (RFC 5764
 * 4.1: the SRTP keys come from it), then SRTP/SRTCP (RFC 3711, RFC 7714) for our
 * producers' media and the consumers' media.  Datagrams are told apart by their
 * first byte (RFC 7983).  Also the media clock of our producers.
 *
 * Part of sfu-client.c (static functions; it calls back cl_on_dtls_connected()).
 * Threading: the libwebsockets service thread only.
 */
#ifndef SFU_CLIENT_TRANSPORT_H
#define SFU_CLIENT_TRANSPORT_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/rand.h>

#include "sfu-client-ice.h"
#include "sfu-client-media.h"
#include "sfu-client-state.h"

static const char *const cl_dir_name[CL_NDIR] = {"send", "recv"};

static void cl_on_dtls_connected(struct client *cl, struct cl_transport *t);

static uint64_t cl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Progress on stderr (not with --quiet); results go to stdout. */
static void __attribute__((format(printf, 2, 3))) cl_info(const struct client *cl,
							   const char *fmt, ...)
{
	va_list ap;

	if (cl->o.quiet)
		return;
	fprintf(stderr, "sfu-client %s: ", cl->o.name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void cl_random(void *p, size_t n)
{
	if (RAND_bytes(p, (int)n) != 1) {
		fputs("sfu-client: RAND_bytes failed\n", stderr);
		_exit(1);
	}
}

/* Random ice-chars (RFC 8445 5.3: ALPHA / DIGIT / "+" / "/"), NUL-terminated. */
static void cl_random_token(char *out, size_t n)
{
	static const char chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t r[64];
	size_t i;

	cl_random(r, n);
	for (i = 0; i < n; i++)
		out[i] = chars[r[i] % (sizeof(chars) - 1)];
	out[n] = '\0';
}

static void tr_send(struct cl_transport *t, const uint8_t *p, size_t len)
{
	if (sendto(t->fd, p, len, 0, (const struct sockaddr *)&t->remote, sizeof(t->remote)) !=
	    (ssize_t)len)
		t->tx_fail++;
}

/*
 * A connectivity check; a retransmission keeps the transaction id (RFC 5389
 * 7.2.1).  Until ICE succeeds every check nominates (USE-CANDIDATE: the lite
 * server then selects the pair, RFC 8445 8.2.1); consent checks afterwards do
 * not, as browsers send them (RFC 7675 5.1).
 */
static void tr_send_check(struct cl_transport *t, bool retransmit, uint64_t now)
{
	uint8_t buf[STUN_MSG_MAX];
	int n;

	if (!retransmit)
		cl_random(t->tid, sizeof(t->tid));
	n = ci_build_check(buf, sizeof(buf), t->tid, t->rufrag, t->lufrag, t->rpwd,
			   t->tiebreaker, t->ice == CL_ICE_CHECKING);
	if (n < 0) {
		t->tx_fail++;
		return;
	}
	tr_send(t, buf, (size_t)n);
	t->checks_sent++;
	t->check_sent_ms = now;
}

static void tr_dtls_flush(struct cl_transport *t)
{
	uint8_t buf[2048];
	size_t n;

	while ((n = dtls_output(t->dtls, buf, sizeof(buf))) > 0)
		tr_send(t, buf, n);
}

static void tr_dtls_fail(struct cl_transport *t, const char *why)
{
	if (t->dtls_failed)
		return;
	t->dtls_failed = true;
	t->srtp_ready = false;
	/* After the summary (leaving), the server closing the session is expected. */
	if (t->cl->phase < CL_LEAVING)
		cl_info(t->cl, "%s transport: DTLS failed: %s", cl_dir_name[t->dir], why);
}

/* DTLS connected: SRTP sessions from the exported keys (RFC 5764 4.2). */
static void tr_dtls_keys(struct cl_transport *t, uint64_t now)
{
	uint8_t rx[32], tx[32];
	size_t key_len = 0;
	uint16_t profile = 0;

	if (dtls_srtp_keys(t->dtls, &profile, rx, tx, &key_len) != 0 ||
	    cm_key_len(profile) == 0) {
		tr_dtls_fail(t, "no SRTP keys or unknown profile");
		return;
	}
	if (cm_srtp_session(&t->srtp_tx, profile, tx, false) != 0) {
		tr_dtls_fail(t, "libsrtp2 refused the outbound key");
		return;
	}
	if (cm_srtp_session(&t->srtp_rx, profile, rx, true) != 0) {
		srtp_dealloc(t->srtp_tx);
		t->srtp_tx = NULL;
		tr_dtls_fail(t, "libsrtp2 refused the inbound key");
		return;
	}
	t->profile = profile;
	t->srtp_ready = true;
	t->dtls_connected = true;
	t->dtls_done_ms = now;
	cl_info(t->cl, "%s transport: DTLS connected in %llu ms, profile 0x%04x",
		cl_dir_name[t->dir], (unsigned long long)(now - t->dtls_start_ms), profile);
	cl_on_dtls_connected(t->cl, t);
}

/* Look at the endpoint after input or a timer. */
static void tr_dtls_poll(struct cl_transport *t, uint64_t now)
{
	enum dtls_state st = dtls_state(t->dtls);

	if (st == DTLS_CONNECTED && !t->dtls_connected && !t->dtls_failed)
		tr_dtls_keys(t, now);
	else if (st == DTLS_FAILED)
		tr_dtls_fail(t, dtls_error(t->dtls));
	else if (st == DTLS_CLOSED)
		tr_dtls_fail(t, "the server closed the DTLS session");
}

/* The DTLS client starts once ICE has a nominated pair and the server knows our fingerprint. */
static void tr_maybe_start_dtls(struct cl_transport *t, uint64_t now)
{
	struct client *cl = t->cl;

	if (t->dtls != NULL || t->ice != CL_ICE_CONNECTED || !t->connect_ok || t->closed)
		return;
	/* Our real certificate, whatever fingerprint --wrong-fingerprint advertised. */
	t->dtls = dtls_endpoint_new(cl->cert, DTLS_ROLE_CLIENT, "sha-256", t->server_fp);
	if (t->dtls == NULL || dtls_start(t->dtls, now) != 0) {
		tr_dtls_fail(t, "cannot create the DTLS endpoint");
		return;
	}
	t->dtls_start_ms = now;
	tr_dtls_flush(t);
	tr_dtls_poll(t, now);
}

static void tr_rx_stun(struct cl_transport *t, const uint8_t *p, size_t len, uint64_t now)
{
	struct ci_response r;
	struct in_addr bound;
	int rc = ci_check_response(p, len, t->tid, t->rpwd, &r);

	t->rx_stun++;
	if (rc != 0) {
		t->stun_bad++;
		return;
	}
	if (!r.success) {
		t->stun_errors++;
		cl_info(t->cl, "%s transport: STUN error response %u", cl_dir_name[t->dir],
			r.error_code);
		return;
	}
	/* XOR-MAPPED-ADDRESS must be our own address: no NAT on the test network. */
	t->mapped_ok = r.mapped && r.mapped_port == t->lport &&
		       (t->cl->o.bind_ip == NULL ||
			(inet_pton(AF_INET, t->cl->o.bind_ip, &bound) == 1 &&
			 ntohl(bound.s_addr) == r.mapped_ip));
	if (t->ice == CL_ICE_CHECKING) {
		t->ice = CL_ICE_CONNECTED;
		t->ice_done_ms = now;
		t->next_consent_ms = now + CL_CONSENT_MS;
		cl_info(t->cl, "%s transport: ICE connected in %llu ms (mapped %s)",
			cl_dir_name[t->dir], (unsigned long long)(now - t->ice_start_ms),
			t->mapped_ok ? "ok" : "WRONG");
		tr_maybe_start_dtls(t, now);
	} else {
		t->consent_ok++;
	}
}

static struct cl_consumer *tr_consumer_by_ssrc(struct client *cl, uint32_t ssrc)
{
	int i;

	for (i = 0; i < cl->n_cons; i++)
		if (cl->cons[i].ready && cl->cons[i].ssrc == ssrc)
			return &cl->cons[i];
	return NULL;
}

/* Sequence continuity (RFC 3550 A.1, simplified): every jump or repeat is a gap. */
static void tr_seq(struct cl_consumer *c, uint16_t seq)
{
	if (c->have_seq && seq != c->next_seq)
		c->seq_gaps++;
	c->have_seq = true;
	c->next_seq = (uint16_t)(seq + 1);
}

/* SRTP from the SFU: a consumer's media on the recv transport. */
static void tr_rx_rtp(struct cl_transport *t, uint8_t *p, size_t len)
{
	struct cl_consumer *c = len >= CM_RTP_HDR ? tr_consumer_by_ssrc(t->cl, cm_get32(p + 8))
						  : NULL;
	struct cm_rtp_in r;
	srtp_err_status_t err;
	uint32_t counter;
	int n = (int)len, rc;

	t->rx_rtp++;
	if (c == NULL) {
		t->rtp_unknown_ssrc++;
		return;
	}
	c->packets++;
	err = srtp_unprotect(t->srtp_rx, p, &n);
	if (err != srtp_err_status_ok) {
		if (err == srtp_err_status_auth_fail)
			c->auth_fail++;
		else if (err == srtp_err_status_replay_fail || err == srtp_err_status_replay_old)
			c->replay_fail++;
		else
			c->other_fail++;
		return;
	}
	c->decrypted++;
	if (cm_rtp_parse(p, (size_t)n, &r) != 0) {
		c->bad_payload++;
		return;
	}
	tr_seq(c, r.seq);
	if (r.pt != c->pt)
		c->pt_bad++;
	/* Video carries the 1-byte VP8 payload descriptor first (RFC 7741 4.2). */
	if (strcmp(c->kind, "video") == 0) {
		if (r.payload_len < 1) {
			c->bad_payload++;
			return;
		}
		r.payload++;
		r.payload_len--;
	}
	rc = cm_pattern_check(r.payload, r.payload_len, c->tag, &counter);
	if (rc == 0 && r.pt == c->pt)
		c->payload_ok++;
	else if (rc == -EXDEV)
		c->wrong_producer++;
	else if (rc != 0)
		c->bad_payload++;
}

static void tr_rx_one(struct cl_transport *t, uint8_t *p, size_t len, uint64_t now)
{
	int n = (int)len;

	switch (ci_classify(p, len)) {
	case CI_STUN:
		tr_rx_stun(t, p, len, now);
		break;
	case CI_DTLS:
		t->rx_dtls++;
		if (t->dtls == NULL)
			break;
		dtls_input(t->dtls, p, len, now);
		tr_dtls_flush(t);
		tr_dtls_poll(t, now);
		break;
	case CI_SRTP:
		if (t->srtp_ready)
			tr_rx_rtp(t, p, len);
		else
			t->rx_other++;
		break;
	case CI_SRTCP:
		t->rx_rtcp++;
		if (t->srtp_ready && srtp_unprotect_rtcp(t->srtp_rx, p, &n) == srtp_err_status_ok)
			t->rtcp_ok++;
		else
			t->rtcp_fail++;
		break;
	case CI_OTHER:
		t->rx_other++;
		break;
	}
}

/* The socket is readable: drain a bounded burst; only the server's candidate counts. */
static void tr_rx(struct cl_transport *t)
{
	uint8_t buf[CM_RTP_MAX + 512];
	struct sockaddr_in from;
	uint64_t now = cl_now_ms();
	int i;

	for (i = 0; i < CL_RX_BURST; i++) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(t->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n < 0)
			break;
		if (from.sin_addr.s_addr != t->remote.sin_addr.s_addr ||
		    from.sin_port != t->remote.sin_port) {
			t->rx_foreign++;
			continue;
		}
		tr_rx_one(t, buf, (size_t)n, now);
	}
}

/* Timers of one transport: check retransmission, consent, DTLS. */
static void tr_tick(struct cl_transport *t, uint64_t now)
{
	int ms;

	if (!t->created || t->closed)
		return;
	if (t->ice == CL_ICE_CHECKING) {
		if (now - t->ice_start_ms >= CL_ICE_TIMEOUT_MS) {
			t->ice = CL_ICE_FAILED;
			cl_info(t->cl, "%s transport: ICE failed: no response to %u checks",
				cl_dir_name[t->dir], t->checks_sent);
		} else if (now - t->check_sent_ms >= CL_ICE_RETRANSMIT_MS) {
			tr_send_check(t, true, now);
		}
	} else if (t->ice == CL_ICE_CONNECTED && now >= t->next_consent_ms &&
		   !(t->cl->o.stop_consent_ms && now - t->ice_done_ms >= t->cl->o.stop_consent_ms)) {
		tr_send_check(t, false, now);
		t->next_consent_ms = now + CL_CONSENT_MS;
	}
	if (t->dtls == NULL || t->dtls_failed || t->dtls_connected)
		return;
	ms = dtls_timeout_ms(t->dtls, now);
	if (ms == 0) {
		dtls_on_timer(t->dtls, now);
		tr_dtls_flush(t);
		tr_dtls_poll(t, now);
	}
	if (!t->dtls_connected && now - t->dtls_start_ms >= CL_DTLS_VERDICT_MS)
		tr_dtls_fail(t, "no keys within 10 s");
}

/* Whether the transport reached a verdict: DTLS connected, or it failed or closed. */
static bool tr_settled(const struct cl_transport *t)
{
	return t->dtls_connected || t->dtls_failed || t->ice == CL_ICE_FAILED || t->closed;
}

/* The transport's UDP socket, adopted into the lws loop (protocol "sfu-udp"). */
static int tr_open(struct cl_transport *t, struct lws_vhost *vh)
{
	lws_adopt_desc_t ad;
	int fd = ci_udp_open(t->cl->o.bind_ip != NULL ? t->cl->o.bind_ip : "0.0.0.0", &t->lport);

	if (fd < 0)
		return fd;
	t->fd = fd;
	memset(&ad, 0, sizeof(ad));
	ad.vh = vh;
	ad.type = LWS_ADOPT_RAW_FILE_DESC;
	ad.fd.filefd = fd;
	ad.vh_prot_name = "sfu-udp";
	ad.opaque = t;
	t->wsi = lws_adopt_descriptor_vhost_via_info(&ad);
	if (t->wsi == NULL) {
		t->fd = -1; /* lws closed it */
		return -ENOMEM;
	}
	return 0;
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
	if (n < 0 || srtp_protect(t->srtp_tx, buf, &n) != srtp_err_status_ok) {
		t->tx_fail++;
		return;
	}
	tr_send(t, buf, (size_t)n);
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
	uint64_t due;
	int k;

	if (!p->ready || !t->srtp_ready || t->closed)
		return;
	for (;;) {
		due = p->start_ms + (video ? p->frames * 100 / 3 : p->frames * 20);
		if (due > now)
			break;
		if (now - due > 200) {
			uint64_t skip = (now - due) / (video ? 34 : 20);

			p->frames += skip;
			p->ts += (uint32_t)(skip * (video ? 3000 : 960));
			continue;
		}
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
