/*
 * dtls.h — DTLS 1.2 for DTLS-SRTP (RFC 5764) on OpenSSL with memory BIOs.
 *
 * One certificate per process (ECDSA P-256, self-signed, SHA-256
 * fingerprint advertised in signaling, like mediasoup).  One endpoint per
 * WebRTC transport, in either role; datagrams go in with dtls_input() and
 * come out of dtls_output(); the caller runs the retransmission timer
 * (dtls_timeout_ms / dtls_on_timer).  After the handshake the peer's
 * certificate is checked against the fingerprint it sent in signaling (a
 * mismatch fails the endpoint), the SRTP protection profile is the one
 * negotiated (AEAD_AES_128_GCM preferred, then AES_CM_128_HMAC_SHA1_80), and
 * the SRTP master keys come from the RFC 5705 exporter ("EXTRACTOR-dtls_srtp")
 * split as RFC 5764 4.2 says.
 *
 * Threading: an endpoint is used by one thread (ctrl's event loop).
 */
#ifndef CTRL_DTLS_H
#define CTRL_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DTLS_FINGERPRINT_LEN 96 /* "AB:CD:..." for SHA-256: 32 * 3 - 1 + NUL */
#define DTLS_HANDSHAKE_TIMEOUT_MS 30000

struct dtls_cert;
struct dtls_endpoint;

enum dtls_role { DTLS_ROLE_CLIENT = 1, DTLS_ROLE_SERVER = 2 };

enum dtls_state {
	DTLS_NEW = 0,
	DTLS_CONNECTING,
	DTLS_CONNECTED,   /* keys available */
	DTLS_FAILED,      /* handshake error, fingerprint mismatch or timeout */
	DTLS_CLOSED,      /* the peer sent close_notify */
};

/** A new ECDSA P-256 key and self-signed certificate.  @return NULL on failure */
struct dtls_cert *dtls_cert_new(void);
void dtls_cert_free(struct dtls_cert *cert);
/** "AB:CD:..." SHA-256 fingerprint of the certificate (upper-case hex). */
const char *dtls_cert_fingerprint(const struct dtls_cert *cert);
/**
 * The DTLS context (an OpenSSL SSL_CTX) endpoints of this certificate are
 * made from.  Internal, between dtls.c and dtls_cert.c.
 */
struct ssl_ctx_st;
struct ssl_ctx_st *dtls_cert_ssl_ctx(const struct dtls_cert *cert);

/**
 * Write a self-signed certificate and key (ECDSA P-256, PEM) for the HTTPS
 * server if the files do not exist yet.  @return 0, or -errno
 */
int dtls_write_tls_cert_files(const char *cert_path, const char *key_path, const char *cn);

/**
 * A new endpoint.  remote_fp is the peer's "sha-256" fingerprint from
 * signaling (upper or lower case hex with colons); the algorithm must be
 * sha-256 (others: NULL).  @return NULL on failure
 */
struct dtls_endpoint *dtls_endpoint_new(const struct dtls_cert *cert, enum dtls_role role,
					 const char *remote_fp_alg, const char *remote_fp);
void dtls_endpoint_free(struct dtls_endpoint *ep);

/** Start the handshake (the client queues its ClientHello); start the handshake timer. */
int dtls_start(struct dtls_endpoint *ep, uint64_t now_ms);

/** Feed one received datagram.  @return 0, or -EPROTO when the endpoint failed */
int dtls_input(struct dtls_endpoint *ep, const uint8_t *data, size_t len, uint64_t now_ms);

/** The next datagram to send (call until 0).  @return its length, 0 when none */
size_t dtls_output(struct dtls_endpoint *ep, uint8_t *buf, size_t cap);

/** Milliseconds until dtls_on_timer is due, or -1 when no timer runs. */
int dtls_timeout_ms(struct dtls_endpoint *ep, uint64_t now_ms);

/** Retransmit a flight if due; fail the endpoint after DTLS_HANDSHAKE_TIMEOUT_MS. */
void dtls_on_timer(struct dtls_endpoint *ep, uint64_t now_ms);

enum dtls_state dtls_state(const struct dtls_endpoint *ep);
/** Why the endpoint failed (a short message), or "". */
const char *dtls_error(const struct dtls_endpoint *ep);

/**
 * After DTLS_CONNECTED: the negotiated DTLS-SRTP profile (0x0001 or 0x0007)
 * and the master key||salt for each direction from this endpoint's view:
 * rx = what the peer protects with, tx = what we protect with.
 * @return 0, or -EAGAIN before the handshake completed
 */
int dtls_srtp_keys(const struct dtls_endpoint *ep, uint16_t *profile, uint8_t rx[32],
		   uint8_t tx[32], size_t *key_len);

/** Send close_notify (then dtls_output).  */
void dtls_close(struct dtls_endpoint *ep);

#endif /* CTRL_DTLS_H */
