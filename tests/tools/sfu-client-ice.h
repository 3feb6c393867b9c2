/*
 * sfu-client-ice.h — the test client's side of ICE and the UDP demux: it is
 * the controlling full agent facing an ICE-lite server (RFC 8445 2.5), so it
 * sends the connectivity checks and nominates (USE-CANDIDATE on every check
 * until one succeeds, which a lite agent accepts, RFC 8445 8.2.1), then keeps
 * sending checks without it for consent freshness (RFC 7675).  The STUN codec is
 * ctrl/lib/stun.h (RFC 5389), the same one the server uses; what this file adds
 * is the agent's view: USERNAME "REMOTE:LOCAL" (RFC 8445 7.2.2), PRIORITY of a
 * peer-reflexive candidate (RFC 8445 5.1.2.1, 7.1.1), and the checks on a
 * response: transaction id, MESSAGE-INTEGRITY with the server's password,
 * FINGERPRINT, XOR-MAPPED-ADDRESS.
 *
 * Pure functions plus one socket constructor; single-threaded like the client.
 */
#ifndef SFU_CLIENT_ICE_H
#define SFU_CLIENT_ICE_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stun.h"

/* RFC 7983 (updating RFC 5764 5.1.2): what the first byte of a datagram says. */
enum ci_kind {
	CI_STUN,  /* 0..3 */
	CI_DTLS,  /* 20..63 */
	CI_SRTP,  /* 128..191, RTP */
	CI_SRTCP, /* 128..191, RTCP packet types (RFC 5761 4) */
	CI_OTHER, /* ZRTP 16..19, TURN channels 64..79, anything else */
};

static inline enum ci_kind ci_classify(const uint8_t *p, size_t len)
{
	if (len == 0)
		return CI_OTHER;
	if (p[0] <= 3)
		return CI_STUN;
	if (p[0] >= 20 && p[0] <= 63)
		return CI_DTLS;
	if (p[0] >= 128 && p[0] <= 191)
		return len >= 2 && p[1] >= 192 && p[1] <= 223 ? CI_SRTCP : CI_SRTP;
	return CI_OTHER;
}

/* RFC 8445 5.1.2.1 with the peer-reflexive type preference (110), one component. */
#define CI_PRFLX_PRIORITY ((110u << 24) | (65535u << 8) | (256u - 1))

/**
 * One connectivity check: Binding request with USERNAME "rufrag:lufrag",
 * PRIORITY, ICE-CONTROLLING, USE-CANDIDATE when nominate, MESSAGE-INTEGRITY
 * keyed with the remote (server) password, FINGERPRINT.
 * @return bytes written, or -ENOSPC / -EINVAL
 */
static inline int ci_build_check(uint8_t *out, size_t cap, const uint8_t tid[12],
				 const char *rufrag, const char *lufrag, const char *rpwd,
				 uint64_t tiebreaker, bool nominate)
{
	char user[STUN_USERNAME_MAX];
	size_t n;
	int ulen;

	ulen = snprintf(user, sizeof(user), "%s:%s", rufrag, lufrag);
	if (ulen < 0 || (size_t)ulen >= sizeof(user))
		return -EINVAL;
	n = stun_build_request(out, cap, tid, user, CI_PRFLX_PRIORITY, tiebreaker, nominate,
			       (const uint8_t *)rpwd, strlen(rpwd));
	return n == 0 ? -ENOSPC : (int)n;
}

/* What a response to our check says. */
struct ci_response {
	bool success;       /* Binding success response */
	uint16_t error_code; /* Binding error response: its code */
	bool mapped;        /* XOR-MAPPED-ADDRESS present */
	uint32_t mapped_ip; /* host order */
	uint16_t mapped_port;
};

/**
 * Validate a STUN datagram as the response to transaction tid: structure,
 * FINGERPRINT, MESSAGE-INTEGRITY with the server's password (RFC 8445 7.2.5.2.1
 * needs it on a success; an error response without one is reported but not
 * trusted: r->success stays false).
 * @return 0 (r filled), -ENOENT for another transaction or not a response,
 *         -EBADMSG for a malformed message, -EACCES for a bad integrity/fingerprint
 */
static inline int ci_check_response(const uint8_t *p, size_t len, const uint8_t tid[12],
				    const char *rpwd, struct ci_response *r)
{
	struct stun_msg m;

	memset(r, 0, sizeof(*r));
	if (stun_parse(p, len, &m) != 0)
		return -EBADMSG;
	if ((m.type != STUN_BINDING_SUCCESS && m.type != STUN_BINDING_ERROR) ||
	    memcmp(m.tid, tid, 12) != 0)
		return -ENOENT;
	if (m.has_fingerprint && !stun_fingerprint_ok(p, len, &m))
		return -EACCES;
	if (m.type == STUN_BINDING_ERROR) {
		r->error_code = m.error_code;
		return 0;
	}
	if (!m.has_integrity ||
	    !stun_integrity_ok(p, len, &m, (const uint8_t *)rpwd, strlen(rpwd)))
		return -EACCES;
	r->success = true;
	r->mapped = m.has_xor_mapped;
	r->mapped_ip = m.mapped_ip;
	r->mapped_port = m.mapped_port;
	return 0;
}

/**
 * A non-blocking UDP socket bound to ip:0 (the test host's address); the chosen
 * port in *port (host order).  @return the fd, or -errno
 */
static inline int ci_udp_open(const char *ip, uint16_t *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd, err;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

#endif /* SFU_CLIENT_ICE_H */
