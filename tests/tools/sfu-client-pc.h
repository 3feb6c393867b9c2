/*
 * sfu-client-pc.h — the media side of one PeerConnection of the two WebRTC
 * test clients (a transport of tests/tools/sfu-client.c, a leg of
 * perf/janus/sfu-janus-client.c), the way a browser runs it: one UDP socket on
 * the test host's address, adopted into the lws loop;
 *  - ICE as the controlling full agent (RFC 8445 2.5, 6.1.1): checks that
 *    nominate until one succeeds (RFC 8445 8.2.1), then consent checks
 *    (RFC 7675); optionally the peer's own checks answered (RFC 8445 7.3);
 *  - DTLS (RFC 5764, ctrl/lib/dtls.h) as client once ICE succeeded, or as
 *    server from the start, with the fingerprint the peer advertised;
 *  - SRTP/SRTCP sessions (libsrtp2, RFC 3711, RFC 7714) from the exported keys
 *    (RFC 5764 4.2), and the check of every received byte against the
 *    sender's pattern (sfu-client-media.h).
 * Datagrams are told apart by their first byte (RFC 7983); only the peer's
 * candidate counts, anything else is rx_foreign.  What a connection means to
 * its owner (signaling, which streams, what to print) comes through pc_hooks.
 *
 * Static functions; threading: the lws service thread only.
 */
#ifndef SFU_CLIENT_PC_H
#define SFU_CLIENT_PC_H

#include <arpa/inet.h>
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
#include "sfu-client-ice.h"
#include "sfu-client-media.h"
#include "stun.h"

#define PC_ICE_RETRANSMIT_MS 100
#define PC_ICE_TIMEOUT_MS 10000
#define PC_DTLS_VERDICT_MS 10000 /* no keys this long after DTLS started: failed */
#define PC_RX_BURST 64
#define PC_CRED_LEN 257          /* the peer's ice-ufrag or ice-pwd, NUL included */
#define PC_STALL_MS 200          /* a media clock this late skips ahead */

enum pc_ice { PC_ICE_IDLE, PC_ICE_CHECKING, PC_ICE_CONNECTED, PC_ICE_FAILED };

/* What one received stream's packets came to (RFC 3711 failures counted apart). */
struct pc_rx_stats {
	uint64_t packets, decrypted, payload_ok, seq_gaps, auth_fail, replay_fail, other_fail;
	uint64_t bad_payload, wrong_producer, pt_bad;
	bool have_seq;
	uint16_t next_seq;
};

struct pc_conn;

/* What the owner of a connection is told; it finds itself with lws_container_of(). */
struct pc_hooks {
	/* The SRTP sessions are in place (at pc->dtls_done_ms). */
	void (*connected)(struct pc_conn *pc);
	/* An SRTP packet from the peer; NULL: such packets count as rx_other. */
	void (*rx_rtp)(struct pc_conn *pc, uint8_t *p, size_t len);
	/* Whether the owner is ending anyway: a DTLS failure then gets no progress line (NULL: no). */
	bool (*ending)(const struct pc_conn *pc);
};

/*
 * One connection.  Lifetime: the process (in the owner's static state); fd and
 * wsi belong to lws once adopted.
 */
struct pc_conn {
	/* set by the owner before pc_open */
	const struct pc_hooks *hooks;
	const char *prog, *name, *sep, *label; /* progress lines: "PROG NAME<SEP>LABEL: ..." */
	bool quiet;                 /* no progress lines */
	const char *peer;           /* who the peer is, in "... closed the DTLS session" */
	const struct dtls_cert *cert;
	const char *bind_ip;        /* NULL: 0.0.0.0 */
	bool answer_checks;         /* answer the peer's checks (a full-ICE peer sends them) */
	bool check_mapped;          /* XOR-MAPPED-ADDRESS must be ours (no NAT): mapped_ok */
	uint32_t consent_ms;        /* consent check interval (RFC 7675 5.1: well under 30 s) */
	uint32_t stop_consent_ms;   /* 0: never; else no consent checks this long after ICE */
	/* set by the owner as signaling goes */
	bool remote_set;            /* remote, rufrag, rpwd, rfp known */
	bool dtls_allowed;          /* the peer knows our fingerprint: DTLS may start */
	bool dtls_server;           /* our DTLS role (RFC 8842 5) */
	bool hangup;                /* the peer ended the session: a DTLS close is expected */
	struct sockaddr_in remote;  /* the peer's candidate */
	char rufrag[PC_CRED_LEN], rpwd[PC_CRED_LEN];
	char rfp[DTLS_FINGERPRINT_LEN + 32];

	int fd;
	uint16_t lport;
	struct lws *wsi;            /* the adopted socket */
	char lufrag[9], lpwd[25];
	uint64_t tiebreaker;
	/* ICE (RFC 8445), consent (RFC 7675) */
	enum pc_ice ice;
	uint8_t tid[12];
	uint32_t checks_sent, checks_answered, stun_errors, stun_bad, consent_ok;
	bool mapped_ok;
	uint64_t ice_start_ms, ice_done_ms, check_sent_ms, next_consent_ms;
	/* DTLS (RFC 5764) */
	struct dtls_endpoint *dtls;
	bool dtls_connected, dtls_failed;
	uint64_t dtls_start_ms, dtls_done_ms;
	uint16_t profile;
	/* SRTP (RFC 3711 / 7714) */
	srtp_t srtp_tx, srtp_rx;
	bool srtp_ready;
	/* datagrams by RFC 7983 class, and failures */
	uint64_t rx_stun, rx_dtls, rx_rtp, rx_rtcp, rtcp_ok, rtcp_fail, rx_other, rx_foreign;
	uint64_t unknown_ssrc, tx_fail;
};

static uint64_t pc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Random bytes for ids and keys; the process cannot go on without them. */
static void pc_random(void *p, size_t n)
{
	if (RAND_bytes(p, (int)n) != 1) {
		fprintf(stderr, "%s: RAND_bytes failed\n", program_invocation_short_name);
		_exit(1);
	}
}

/* Random ice-chars (RFC 8445 5.3), NUL-terminated: n + 1 bytes at out. */
static void pc_random_token(char *out, size_t n)
{
	static const char chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t r[64];
	size_t i;

	pc_random(r, n);
	for (i = 0; i < n; i++)
		out[i] = chars[r[i] % (sizeof(chars) - 1)];
	out[n] = '\0';
}

/* Progress on stderr (not when quiet); results go to stdout. */
/* Progress on stderr, "PROG NAME<sep><label>: text" (nothing when quiet); both
 * clients' own loggers are wrappers of this. */
static void pc_vlog(bool quiet, const char *prog, const char *name, const char *sep,
		    const char *label, const char *fmt, va_list ap)
{
	if (quiet)
		return;
	fprintf(stderr, "%s %s%s%s: ", prog, name, sep, label);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* A string from the network or the user on one line: control characters (and,
 * in names, blanks) as '_'. */
static void pc_put_clean(const char *s, bool name)
{
	for (; s != NULL && *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f || (name && *s == ' ') ? '_' : *s);
}

static void __attribute__((format(printf, 2, 3))) pc_info(const struct pc_conn *pc,
							   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pc_vlog(pc->quiet, pc->prog, pc->name, pc->sep, pc->label, fmt, ap);
	va_end(ap);
}

/**
 * Our credentials (ufrag_len ice-chars, a 24-char password), the tie-breaker,
 * and the socket, adopted into vh's loop under protocol prot.
 * @return 0 or -errno
 */
static int pc_open(struct pc_conn *pc, struct lws_vhost *vh, const char *prot, size_t ufrag_len)
{
	lws_adopt_desc_t ad;
	int fd;

	pc_random_token(pc->lufrag, ufrag_len);
	pc_random_token(pc->lpwd, sizeof(pc->lpwd) - 1);
	pc_random(&pc->tiebreaker, sizeof(pc->tiebreaker));
	fd = ci_udp_open(pc->bind_ip != NULL ? pc->bind_ip : "0.0.0.0", &pc->lport);
	if (fd < 0)
		return fd;
	pc->fd = fd;
	memset(&ad, 0, sizeof(ad));
	ad.vh = vh;
	ad.type = LWS_ADOPT_RAW_FILE_DESC;
	ad.fd.filefd = fd;
	ad.vh_prot_name = prot;
	ad.opaque = pc;
	pc->wsi = lws_adopt_descriptor_vhost_via_info(&ad);
	if (pc->wsi == NULL) {
		pc->fd = -1; /* lws closed it */
		return -ENOMEM;
	}
	return 0;
}

static void pc_send(struct pc_conn *pc, const uint8_t *p, size_t len)
{
	if (sendto(pc->fd, p, len, 0, (const struct sockaddr *)&pc->remote, sizeof(pc->remote)) !=
	    (ssize_t)len)
		pc->tx_fail++;
}

/*
 * A connectivity check; a retransmission keeps the transaction id (RFC 5389
 * 7.2.1).  Until ICE succeeds every check nominates (USE-CANDIDATE: a lite
 * peer then selects the pair, RFC 8445 8.2.1); consent checks afterwards do
 * not, as browsers send them (RFC 7675 5.1).
 */
static void pc_send_check(struct pc_conn *pc, bool retransmit, uint64_t now)
{
	uint8_t buf[STUN_MSG_MAX];
	int n;

	if (!retransmit)
		pc_random(pc->tid, sizeof(pc->tid));
	n = ci_build_check(buf, sizeof(buf), pc->tid, pc->rufrag, pc->lufrag, pc->rpwd,
			   pc->tiebreaker, pc->ice == PC_ICE_CHECKING);
	if (n < 0) {
		pc->tx_fail++;
		return;
	}
	pc_send(pc, buf, (size_t)n);
	pc->checks_sent++;
	pc->check_sent_ms = now;
}

static void pc_dtls_flush(struct pc_conn *pc)
{
	uint8_t buf[2048];
	size_t n;

	while ((n = dtls_output(pc->dtls, buf, sizeof(buf))) > 0)
		pc_send(pc, buf, n);
}

static void pc_dtls_fail(struct pc_conn *pc, const char *why)
{
	if (pc->dtls_failed)
		return;
	pc->dtls_failed = true;
	pc->srtp_ready = false;
	if (pc->hooks->ending == NULL || !pc->hooks->ending(pc))
		pc_info(pc, "DTLS failed: %s", why);
}

/* DTLS connected: SRTP sessions from the exported keys (RFC 5764 4.2). */
static void pc_dtls_keys(struct pc_conn *pc, uint64_t now)
{
	uint8_t rx[32], tx[32];
	size_t key_len = 0;
	uint16_t profile = 0;

	if (dtls_srtp_keys(pc->dtls, &profile, rx, tx, &key_len) != 0 ||
	    cm_key_len(profile) == 0) {
		pc_dtls_fail(pc, "no SRTP keys or unknown profile");
		return;
	}
	if (cm_srtp_session(&pc->srtp_tx, profile, tx, false) != 0) {
		pc_dtls_fail(pc, "libsrtp2 refused the outbound key");
		return;
	}
	if (cm_srtp_session(&pc->srtp_rx, profile, rx, true) != 0) {
		srtp_dealloc(pc->srtp_tx);
		pc->srtp_tx = NULL;
		pc_dtls_fail(pc, "libsrtp2 refused the inbound key");
		return;
	}
	pc->profile = profile;
	pc->srtp_ready = true;
	pc->dtls_connected = true;
	pc->dtls_done_ms = now;
	pc->hooks->connected(pc);
}

/* Look at the endpoint after input or a timer. */
static void pc_dtls_poll(struct pc_conn *pc, uint64_t now)
{
	enum dtls_state st = dtls_state(pc->dtls);
	char why[64];

	if (st == DTLS_CONNECTED && !pc->dtls_connected && !pc->dtls_failed) {
		pc_dtls_keys(pc, now);
	} else if (st == DTLS_FAILED) {
		pc_dtls_fail(pc, dtls_error(pc->dtls));
	} else if (st == DTLS_CLOSED && !pc->dtls_failed && !pc->hangup) {
		snprintf(why, sizeof(why), "%s closed the DTLS session", pc->peer);
		pc_dtls_fail(pc, why);
	}
}

/*
 * The DTLS endpoint, once allowed: a client after ICE succeeded, a server at
 * once (it waits for the ClientHello).
 */
static void pc_maybe_start_dtls(struct pc_conn *pc, uint64_t now)
{
	if (pc->dtls != NULL || pc->dtls_failed || !pc->dtls_allowed ||
	    (!pc->dtls_server && pc->ice != PC_ICE_CONNECTED))
		return;
	pc->dtls = dtls_endpoint_new(pc->cert, pc->dtls_server ? DTLS_ROLE_SERVER : DTLS_ROLE_CLIENT,
				     "sha-256", pc->rfp);
	if (pc->dtls == NULL || dtls_start(pc->dtls, now) != 0) {
		pc_dtls_fail(pc, "cannot create the DTLS endpoint");
		return;
	}
	pc->dtls_start_ms = now;
	pc_dtls_flush(pc);
	pc_dtls_poll(pc, now);
}

/* Start ICE (the remote is set): the first check now. */
static void pc_start_ice(struct pc_conn *pc, uint64_t now)
{
	pc->ice = PC_ICE_CHECKING;
	pc->ice_start_ms = now;
	pc_send_check(pc, false, now);
	pc_maybe_start_dtls(pc, now);
}

/*
 * A Binding request from the peer: USERNAME must be "OURS:THEIRS" and
 * MESSAGE-INTEGRITY keyed with our password (RFC 8445 7.3); the success
 * response carries the source as XOR-MAPPED-ADDRESS.  Anything else is
 * counted, not answered.
 */
static void pc_answer_check(struct pc_conn *pc, const uint8_t *p, size_t len,
			    const struct stun_msg *m)
{
	uint8_t out[STUN_MSG_MAX];
	const char *frag;
	int flen = stun_username_local(m, &frag);
	size_t n;

	if (flen < 0 || (size_t)flen != strlen(pc->lufrag) ||
	    memcmp(frag, pc->lufrag, (size_t)flen) != 0 || !m->has_integrity ||
	    !stun_integrity_ok(p, len, m, (const uint8_t *)pc->lpwd, strlen(pc->lpwd))) {
		pc->stun_bad++;
		return;
	}
	n = stun_build_success(out, sizeof(out), m->tid, ntohl(pc->remote.sin_addr.s_addr),
			       ntohs(pc->remote.sin_port), (const uint8_t *)pc->lpwd,
			       strlen(pc->lpwd));
	if (n == 0) {
		pc->tx_fail++;
		return;
	}
	pc_send(pc, out, n);
	pc->checks_answered++;
}

static void pc_rx_stun(struct pc_conn *pc, const uint8_t *p, size_t len, uint64_t now)
{
	struct ci_response r;
	struct stun_msg m;
	struct in_addr bound;
	int rc;

	pc->rx_stun++;
	if (pc->answer_checks && stun_parse(p, len, &m) == 0 && m.type == STUN_BINDING_REQUEST) {
		pc_answer_check(pc, p, len, &m);
		return;
	}
	rc = ci_check_response(p, len, pc->tid, pc->rpwd, &r);
	if (rc != 0) {
		pc->stun_bad++;
		return;
	}
	if (!r.success) {
		pc->stun_errors++;
		pc_info(pc, "STUN error response %u", r.error_code);
		return;
	}
	/* XOR-MAPPED-ADDRESS must be our own address: no NAT on the test network. */
	if (pc->check_mapped)
		pc->mapped_ok = r.mapped && r.mapped_port == pc->lport &&
				(pc->bind_ip == NULL ||
				 (inet_pton(AF_INET, pc->bind_ip, &bound) == 1 &&
				  ntohl(bound.s_addr) == r.mapped_ip));
	if (pc->ice == PC_ICE_CHECKING) {
		pc->ice = PC_ICE_CONNECTED;
		pc->ice_done_ms = now;
		pc->next_consent_ms = now + pc->consent_ms;
		pc_info(pc, "ICE connected in %llu ms%s", (unsigned long long)(now - pc->ice_start_ms),
			!pc->check_mapped ? "" : pc->mapped_ok ? " (mapped ok)" : " (mapped WRONG)");
		pc_maybe_start_dtls(pc, now);
	} else {
		pc->consent_ok++;
	}
}

/*
 * One SRTP packet of a stream we expect (payload type pt, the sender's pattern
 * tag; video: VP8-shaped): unprotect, sequence continuity (RFC 3550 A.1,
 * simplified: every jump or repeat is a gap), then every byte checked.
 */
static void pc_rx_verify(srtp_t srtp_rx, uint8_t *p, size_t len, bool video, uint8_t pt,
			 uint32_t tag, struct pc_rx_stats *s)
{
	struct cm_rtp_in r;
	srtp_err_status_t err;
	uint32_t counter;
	int n = (int)len, rc;

	s->packets++;
	err = srtp_unprotect(srtp_rx, p, &n);
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
	if (r.pt != pt)
		s->pt_bad++;
	/* Video carries the 1-byte VP8 payload descriptor first (RFC 7741 4.2). */
	if (video) {
		if (r.payload_len < 1) {
			s->bad_payload++;
			return;
		}
		r.payload++;
		r.payload_len--;
	}
	rc = cm_pattern_check(r.payload, r.payload_len, tag, &counter);
	if (rc == 0 && r.pt == pt)
		s->payload_ok++;
	else if (rc == -EXDEV)
		s->wrong_producer++;
	else if (rc != 0)
		s->bad_payload++;
}

static void pc_rx_one(struct pc_conn *pc, uint8_t *p, size_t len, uint64_t now)
{
	int n = (int)len;

	switch (ci_classify(p, len)) {
	case CI_STUN:
		pc_rx_stun(pc, p, len, now);
		break;
	case CI_DTLS:
		pc->rx_dtls++;
		pc_maybe_start_dtls(pc, now);
		if (pc->dtls == NULL)
			break;
		dtls_input(pc->dtls, p, len, now);
		pc_dtls_flush(pc);
		pc_dtls_poll(pc, now);
		break;
	case CI_SRTP:
		if (pc->srtp_ready && pc->hooks->rx_rtp != NULL) {
			pc->rx_rtp++;
			pc->hooks->rx_rtp(pc, p, len);
		} else {
			pc->rx_other++;
		}
		break;
	case CI_SRTCP:
		pc->rx_rtcp++;
		if (pc->srtp_ready && srtp_unprotect_rtcp(pc->srtp_rx, p, &n) == srtp_err_status_ok)
			pc->rtcp_ok++;
		else
			pc->rtcp_fail++;
		break;
	case CI_OTHER:
		pc->rx_other++;
		break;
	}
}

/* The socket is readable: drain a bounded burst; only the peer's candidate counts. */
static void pc_rx(struct pc_conn *pc)
{
	uint8_t buf[CM_RTP_MAX + 512];
	struct sockaddr_in from;
	uint64_t now = pc_now_ms();
	int i;

	for (i = 0; i < PC_RX_BURST; i++) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(pc->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n < 0)
			break;
		if (!pc->remote_set || from.sin_addr.s_addr != pc->remote.sin_addr.s_addr ||
		    from.sin_port != pc->remote.sin_port) {
			pc->rx_foreign++;
			continue;
		}
		pc_rx_one(pc, buf, (size_t)n, now);
	}
}

/* Timers: check retransmission, consent freshness, the DTLS flight timer and verdict. */
static void pc_tick(struct pc_conn *pc, uint64_t now)
{
	if (pc->ice == PC_ICE_CHECKING) {
		if (now - pc->ice_start_ms >= PC_ICE_TIMEOUT_MS) {
			pc->ice = PC_ICE_FAILED;
			pc_info(pc, "ICE failed: no response to %u checks", pc->checks_sent);
		} else if (now - pc->check_sent_ms >= PC_ICE_RETRANSMIT_MS) {
			pc_send_check(pc, true, now);
		}
	} else if (pc->ice == PC_ICE_CONNECTED && now >= pc->next_consent_ms && !pc->hangup &&
		   !(pc->stop_consent_ms && now - pc->ice_done_ms >= pc->stop_consent_ms)) {
		pc_send_check(pc, false, now);
		pc->next_consent_ms = now + pc->consent_ms;
	}
	if (pc->dtls == NULL || pc->dtls_failed || pc->dtls_connected)
		return;
	if (dtls_timeout_ms(pc->dtls, now) == 0) {
		dtls_on_timer(pc->dtls, now);
		pc_dtls_flush(pc);
		pc_dtls_poll(pc, now);
	}
	if (!pc->dtls_connected && now - pc->dtls_start_ms >= PC_DTLS_VERDICT_MS)
		pc_dtls_fail(pc, "no keys within 10 s");
}

/*
 * A stream's media clock: frame k is due at start_ms + k * 1000 / rate.
 * @return whether a frame is due now; a clock over PC_STALL_MS late first
 * skips ahead by whole frames (of skip_ms each, ts_step RTP ticks each)
 * instead of bursting.
 */
static bool pc_frame_due(uint64_t start_ms, uint32_t rate, uint32_t skip_ms, uint32_t ts_step,
			 uint64_t *frames, uint32_t *ts, uint64_t now)
{
	for (;;) {
		uint64_t due = start_ms + *frames * 1000 / rate, skip;

		if (due > now)
			return false;
		if (now - due <= PC_STALL_MS)
			return true;
		skip = (now - due) / skip_ms;
		*frames += skip;
		*ts += (uint32_t)(skip * ts_step);
	}
}

/* The lws callback of the adopted UDP sockets (the descriptor's opaque data is the pc_conn). */
static int pc_udp_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			   void *in, size_t len)
{
	struct pc_conn *pc = lws_get_opaque_user_data(wsi);

	(void)user;
	(void)in;
	(void)len;
	if (reason == LWS_CALLBACK_RAW_RX_FILE && pc != NULL)
		pc_rx(pc);
	else if (reason == LWS_CALLBACK_RAW_CLOSE_FILE && pc != NULL)
		pc->wsi = NULL;
	return 0;
}

static void pc_free(struct pc_conn *pc)
{
	if (pc->dtls != NULL)
		dtls_endpoint_free(pc->dtls);
	if (pc->srtp_tx != NULL)
		srtp_dealloc(pc->srtp_tx);
	if (pc->srtp_rx != NULL)
		srtp_dealloc(pc->srtp_rx);
	pc->dtls = NULL;
	pc->srtp_tx = pc->srtp_rx = NULL;
}

#endif /* SFU_CLIENT_PC_H */
