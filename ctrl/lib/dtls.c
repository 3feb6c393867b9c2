/*
 * dtls.c — DTLS 1.2 endpoints for DTLS-SRTP (RFC 5764) on OpenSSL 3.0.
 *
 * Identity follows RFC 5763 5 / RFC 8827 6.5: certificates are self-signed
 * and carry no trust; each side checks, once the handshake is done, that the
 * SHA-256 digest of the peer's certificate is the fingerprint the peer sent in
 * signaling (RFC 8122 5), and a mismatch fails the endpoint and closes the
 * association, as Janus does.  The verify callback therefore accepts any
 * certificate but a peer certificate is required of both roles.
 *
 * Transport: OpenSSL never sees a socket.  Received datagrams are written to a
 * memory BIO one at a time; outgoing ones are caught by a small BIO of our own
 * (out_bio_*) that keeps each BIO write as one datagram.  That boundary is
 * right because OpenSSL 3.0 sizes every DTLS write to the MTU itself (RFC 6347
 * 4.1.1): during the handshake it stacks a buffering BIO on ours and flushes
 * it whenever the next record would not fit, so one write is one datagram of
 * whole records; after the handshake each record is written on its own.  A
 * plain memory BIO would glue them together (BIO_s_dgram_mem came in 3.2).
 *
 * Time: the caller passes a monotonic now_ms for the handshake deadline;
 * OpenSSL's retransmission timer (RFC 6347 4.2.4: 1 s, doubling) runs on the
 * wall clock internally and is only read and fired from here.
 *
 * The certificate and the DTLS context endpoints are made from: dtls_cert.c.
 *
 * Threading: an endpoint is used by one thread (ctrl's event loop).  Nothing
 * is global but the BIO method, made once under pthread_once.
 */
#include "dtls.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define DTLS_DGRAM_MTU 1200      /* whole UDP payload: fits any path with ICE/TURN */
#define DTLS_OUT_SLOTS 32        /* datagrams waiting for dtls_output */
#define DTLS_MAX_DGRAM 65535     /* larger cannot be one UDP datagram */
#define DTLS_DIGEST_LEN 32       /* SHA-256 */
#define DTLS_SRTP_KEY_LEN 16     /* both profiles: AES-128 */
#define DTLS_SRTP_SALT_CM 14     /* RFC 3711 4.3.1 */
#define DTLS_SRTP_SALT_GCM 12    /* RFC 7714 12 */
#define DTLS_EXPORT_LABEL "EXTRACTOR-dtls_srtp" /* RFC 5764 4.2 */
#define DTLS_RECORD_HDR 13       /* RFC 6347 4.1 */
#define DTLS_HS_HDR 12           /* RFC 6347 4.2.2 */
#define DTLS_SEALED_MIN_GCM 24   /* explicit nonce 8 + tag 16 (RFC 5288 3) */
#define DTLS_SEALED_MIN_CHACHA 16 /* tag 16 (RFC 7905 2) */

struct dtls_dgram {
	uint8_t *data;
	size_t len;
};

/* Datagrams OpenSSL wrote and dtls_output has not returned yet.  When full,
 * new ones are dropped as the network would; DTLS retransmits. */
struct dtls_out_queue {
	struct dtls_dgram slot[DTLS_OUT_SLOTS];
	unsigned int head;
	unsigned int count;
};

/* Lifetime: dtls_endpoint_new .. dtls_endpoint_free, on one thread. */
struct dtls_endpoint {
	SSL *ssl;                  /* owns rbio and its out BIO */
	BIO *rbio;                 /* memory BIO: holds at most one datagram */
	struct dtls_out_queue out;
	enum dtls_role role;
	enum dtls_state state;
	uint64_t deadline_ms;      /* handshake must be done by then */
	uint8_t remote_fp[DTLS_DIGEST_LEN];
	bool keys_ready;
	uint16_t profile;
	size_t key_len;            /* key || salt: 30 (CM) or 28 (GCM) */
	uint8_t rx_key[32];
	uint8_t tx_key[32];
	char err[320];
};

/* ------------------------------------------------------------------------ */
/* Outgoing datagram BIO                                                     */

static BIO_METHOD *out_bio_method;
static pthread_once_t out_bio_once = PTHREAD_ONCE_INIT;

static int out_bio_write(BIO *b, const char *data, size_t len, size_t *written)
{
	struct dtls_out_queue *q = BIO_get_data(b);
	struct dtls_dgram *d;

	BIO_clear_retry_flags(b);
	*written = len;
	if (len == 0 || q->count == DTLS_OUT_SLOTS)
		return 1;
	d = &q->slot[(q->head + q->count) % DTLS_OUT_SLOTS];
	d->data = malloc(len);
	if (d->data == NULL)
		return 0;
	memcpy(d->data, data, len);
	d->len = len;
	q->count++;
	return 1;
}

/*
 * Flushing succeeds at once and nothing is ever pending: what is queued is
 * already separate datagrams, so OpenSSL must not count it against the MTU
 * of the datagram it is filling.  No MTU query (SSL_OP_NO_QUERY_MTU) and no
 * per-datagram overhead: the MTU set is the UDP payload.
 */
static long out_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	default:
		return 0;
	}
}

static int out_bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void out_bio_method_init(void)
{
	int type = BIO_get_new_index();
	BIO_METHOD *m;

	if (type == -1)
		return;
	m = BIO_meth_new(type | BIO_TYPE_SOURCE_SINK, "sfu dtls datagrams");
	if (m == NULL)
		return;
	if (!BIO_meth_set_write_ex(m, out_bio_write) || !BIO_meth_set_ctrl(m, out_bio_ctrl) ||
	    !BIO_meth_set_create(m, out_bio_create)) {
		BIO_meth_free(m);
		return;
	}
	out_bio_method = m;
}

static void out_queue_clear(struct dtls_out_queue *q)
{
	while (q->count) {
		free(q->slot[q->head].data);
		q->head = (q->head + 1) % DTLS_OUT_SLOTS;
		q->count--;
	}
}

/* ------------------------------------------------------------------------ */
/* Fingerprints                                                              */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 8122 5: hex pairs (either case) separated by colons, nothing else. */
static int fingerprint_parse(const char *s, uint8_t md[DTLS_DIGEST_LEN])
{
	for (int i = 0; i < DTLS_DIGEST_LEN; i++) {
		int hi = hex_value(s[0]), lo = hi < 0 ? -1 : hex_value(s[1]);

		if (lo < 0)
			return -EINVAL;
		md[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < DTLS_DIGEST_LEN - 1 && *s++ != ':')
			return -EINVAL;
	}
	return *s == '\0' ? 0 : -EINVAL;
}

/* ------------------------------------------------------------------------ */
/* Datagrams OpenSSL must not see                                            */

/* The least a protected record can be under the negotiated suite; before one
 * is chosen, the largest of our suites (no real protected record can arrive
 * then, and a forged one would be kept for later). */
static size_t sealed_min_len(const struct dtls_endpoint *ep)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ep->ssl);

	if (c == NULL)
		c = SSL_get_pending_cipher(ep->ssl);
	if (c && SSL_CIPHER_get_cipher_nid(c) == NID_chacha20_poly1305)
		return DTLS_SEALED_MIN_CHACHA;
	return DTLS_SEALED_MIN_GCM;
}

/* RFC 6347 4.2.2: a plaintext handshake record is whole fragments, each
 * within its message. */
static bool handshake_fragments_ok(const uint8_t *p, size_t len)
{
	do {
		size_t msg_len, frag_off, frag_len;

		if (len < DTLS_HS_HDR)
			return false;
		msg_len = (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
		frag_off = (size_t)p[6] << 16 | (size_t)p[7] << 8 | p[8];
		frag_len = (size_t)p[9] << 16 | (size_t)p[10] << 8 | p[11];
		if (frag_off + frag_len > msg_len || frag_len > len - DTLS_HS_HDR)
			return false;
		p += DTLS_HS_HDR + frag_len;
		len -= DTLS_HS_HDR + frag_len;
	} while (len);
	return true;
}

/* One record: p holds its header and rlen bytes of body. */
static bool record_acceptable(const uint8_t *p, size_t rlen, size_t sealed_min)
{
	unsigned int type = p[0], epoch = (unsigned int)p[3] << 8 | p[4];
	const uint8_t *body = p + DTLS_RECORD_HDR;

	if (epoch != 0)
		return rlen >= sealed_min;
	switch (type) {
	case SSL3_RT_CHANGE_CIPHER_SPEC:
		return rlen == 1 && body[0] == SSL3_MT_CCS;
	case SSL3_RT_ALERT:
		return rlen == 2 && (body[0] == SSL3_AL_WARNING || body[0] == SSL3_AL_FATAL);
	case SSL3_RT_HANDSHAKE:
		return handshake_fragments_ok(body, rlen);
	default:
		return false; /* application data is never plaintext */
	}
}

/*
 * RFC 6347 4.1.2.7 has invalid records dropped silently, which matters over
 * UDP where anyone can forge the peer's address.  OpenSSL 3.0 fails the
 * association instead on a protected record shorter than its AEAD overhead
 * (internal_error, openssl#25290) and, during the handshake, on any
 * malformed plaintext record or unknown content type (openssl#25840).  A
 * correct peer sends none of these, so a datagram holding one is dropped
 * whole.  What is left to OpenSSL: records truncated by the datagram end and
 * protected ones it cannot authenticate (both dropped), and well-formed
 * plaintext handshake messages, which DTLS 1.2 cannot authenticate before
 * the Finished.  (CBC suites are not offered at all: with encrypt-then-MAC
 * any forged record is fatal, openssl#24972.)
 */
static bool dgram_acceptable(const struct dtls_endpoint *ep, const uint8_t *p, size_t len)
{
	size_t sealed_min = sealed_min_len(ep);

	while (len >= DTLS_RECORD_HDR) {
		size_t rlen = (size_t)p[11] << 8 | p[12];

		if (p[0] < SSL3_RT_CHANGE_CIPHER_SPEC || p[0] > SSL3_RT_APPLICATION_DATA)
			return false;
		if (rlen > len - DTLS_RECORD_HDR)
			break;
		if (!record_acceptable(p, rlen, sealed_min))
			return false;
		p += DTLS_RECORD_HDR + rlen;
		len -= DTLS_RECORD_HDR + rlen;
	}
	return true;
}

/* ------------------------------------------------------------------------ */
/* Endpoints                                                                 */

__attribute__((format(printf, 2, 3)))
static void ep_fail(struct dtls_endpoint *ep, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ep->err, sizeof(ep->err), fmt, ap);
	va_end(ap);
	ep->state = DTLS_FAILED;
	ERR_clear_error();
}

/* OpenSSL's reason for the last failure, e.g. "tlsv1 alert decode error". */
static const char *ssl_reason(void)
{
	const char *s = ERR_reason_error_string(ERR_peek_last_error());

	return s ? s : "transport error";
}

/* The peer sent close_notify: answer it (RFC 5246 7.2.1) and stop. */
static void ep_peer_closed(struct dtls_endpoint *ep)
{
	ep->state = DTLS_CLOSED;
	if (!SSL_in_init(ep->ssl))
		SSL_shutdown(ep->ssl);
	ERR_clear_error();
}

/* Act on a non-positive return of SSL_do_handshake / SSL_read. */
static void ep_ssl_result(struct dtls_endpoint *ep, int rc, const char *what)
{
	switch (SSL_get_error(ep->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return;
	case SSL_ERROR_ZERO_RETURN:
		ep_peer_closed(ep);
		return;
	default:
		ep_fail(ep, "%s: %s", what, ssl_reason());
	}
}

/* Our own verdict against a finished handshake: tell the peer with close_notify
 * (OpenSSL has no public call for a fatal alert after the handshake). */
static void ep_fail_close(struct dtls_endpoint *ep)
{
	SSL_shutdown(ep->ssl);
	ERR_clear_error();
}

/* RFC 5764 4.2: client key | server key | client salt | server salt. */
static int ep_export_keys(struct dtls_endpoint *ep, size_t salt_len)
{
	uint8_t km[2 * (DTLS_SRTP_KEY_LEN + DTLS_SRTP_SALT_CM)];
	size_t n = 2 * (DTLS_SRTP_KEY_LEN + salt_len);
	const uint8_t *ck = km, *sk = km + DTLS_SRTP_KEY_LEN;
	const uint8_t *cs = km + 2 * DTLS_SRTP_KEY_LEN, *ss = cs + salt_len;
	bool client = ep->role == DTLS_ROLE_CLIENT;

	if (SSL_export_keying_material(ep->ssl, km, n, DTLS_EXPORT_LABEL,
				       strlen(DTLS_EXPORT_LABEL), NULL, 0, 0) != 1)
		return -EPROTO;
	memset(ep->tx_key, 0, sizeof(ep->tx_key));
	memset(ep->rx_key, 0, sizeof(ep->rx_key));
	memcpy(ep->tx_key, client ? ck : sk, DTLS_SRTP_KEY_LEN);
	memcpy(ep->tx_key + DTLS_SRTP_KEY_LEN, client ? cs : ss, salt_len);
	memcpy(ep->rx_key, client ? sk : ck, DTLS_SRTP_KEY_LEN);
	memcpy(ep->rx_key + DTLS_SRTP_KEY_LEN, client ? ss : cs, salt_len);
	ep->key_len = DTLS_SRTP_KEY_LEN + salt_len;
	OPENSSL_cleanse(km, sizeof(km));
	return 0;
}

/* The handshake finished: check the fingerprint, then the profile, then keys. */
static void ep_handshake_done(struct dtls_endpoint *ep)
{
	X509 *peer = SSL_get0_peer_certificate(ep->ssl);
	const SRTP_PROTECTION_PROFILE *prof;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	size_t salt_len;

	if (peer == NULL || !X509_digest(peer, EVP_sha256(), md, &md_len) ||
	    md_len != DTLS_DIGEST_LEN) {
		ep_fail_close(ep);
		ep_fail(ep, "DTLS peer presented no usable certificate");
		return;
	}
	if (CRYPTO_memcmp(md, ep->remote_fp, DTLS_DIGEST_LEN) != 0) {
		char got[DTLS_FINGERPRINT_LEN], want[DTLS_FINGERPRINT_LEN];

		OPENSSL_buf2hexstr_ex(got, sizeof(got), NULL, md, DTLS_DIGEST_LEN, ':');
		OPENSSL_buf2hexstr_ex(want, sizeof(want), NULL, ep->remote_fp, DTLS_DIGEST_LEN, ':');
		ep_fail_close(ep);
		ep_fail(ep, "DTLS fingerprint mismatch: peer certificate is sha-256 %s, "
			    "signaling said %s", got, want);
		return;
	}
	prof = SSL_get_selected_srtp_profile(ep->ssl);
	if (prof == NULL) {
		ep_fail_close(ep);
		ep_fail(ep, "DTLS peer negotiated no SRTP profile (use_srtp, RFC 5764 4.1.2)");
		return;
	}
	if (prof->id == SRTP_AEAD_AES_128_GCM) {
		salt_len = DTLS_SRTP_SALT_GCM;
	} else if (prof->id == SRTP_AES128_CM_SHA1_80) {
		salt_len = DTLS_SRTP_SALT_CM;
	} else {
		ep_fail_close(ep);
		ep_fail(ep, "DTLS-SRTP profile 0x%04lx not supported", prof->id);
		return;
	}
	if (ep_export_keys(ep, salt_len) != 0) {
		ep_fail_close(ep);
		ep_fail(ep, "DTLS-SRTP key export failed");
		return;
	}
	ep->profile = (uint16_t)prof->id;
	ep->keys_ready = true;
	ep->state = DTLS_CONNECTED;
}

/*
 * Once connected, records are alerts (close_notify, fatal ones) and
 * retransmitted handshake flights OpenSSL answers itself.  Application data
 * has no consumer (no SCTP data channels) and is discarded.
 */
static void ep_read_records(struct dtls_endpoint *ep)
{
	uint8_t buf[2048];
	int rc;

	do
		rc = SSL_read(ep->ssl, buf, sizeof(buf));
	while (rc > 0);
	ep_ssl_result(ep, rc, "DTLS");
}

static void ep_drive(struct dtls_endpoint *ep)
{
	ERR_clear_error();
	if (ep->state == DTLS_CONNECTING) {
		int rc = SSL_do_handshake(ep->ssl);

		if (rc != 1) {
			ep_ssl_result(ep, rc, "DTLS handshake failed");
			return;
		}
		ep_handshake_done(ep);
	}
	/* Records that came in the same datagram as the last flight. */
	if (ep->state == DTLS_CONNECTED)
		ep_read_records(ep);
	ERR_clear_error();
}

struct dtls_endpoint *dtls_endpoint_new(const struct dtls_cert *cert, enum dtls_role role,
					 const char *remote_fp_alg, const char *remote_fp)
{
	struct dtls_endpoint *ep;
	BIO *wbio;

	if (cert == NULL || (role != DTLS_ROLE_CLIENT && role != DTLS_ROLE_SERVER) ||
	    remote_fp_alg == NULL || remote_fp == NULL || strcasecmp(remote_fp_alg, "sha-256") != 0)
		return NULL;
	if (pthread_once(&out_bio_once, out_bio_method_init) != 0 || out_bio_method == NULL)
		return NULL;
	ep = calloc(1, sizeof(*ep));
	if (ep == NULL)
		return NULL;
	ep->role = role;
	ep->state = DTLS_NEW;
	if (fingerprint_parse(remote_fp, ep->remote_fp) != 0)
		goto err;
	ep->ssl = SSL_new(dtls_cert_ssl_ctx(cert));
	if (ep->ssl == NULL)
		goto err;
	ep->rbio = BIO_new(BIO_s_mem());
	wbio = BIO_new(out_bio_method);
	if (ep->rbio == NULL || wbio == NULL) {
		BIO_free(ep->rbio);
		BIO_free(wbio);
		goto err;
	}
	BIO_set_mem_eof_return(ep->rbio, -1); /* empty means "wait", not EOF */
	BIO_set_data(wbio, &ep->out);
	SSL_set_bio(ep->ssl, ep->rbio, wbio);
	/* SSL_OP_NO_QUERY_MTU (from the context) keeps this across SSL_clear. */
	if (SSL_set_mtu(ep->ssl, DTLS_DGRAM_MTU) <= 0) /* returns the MTU set */
		goto err;
	if (role == DTLS_ROLE_CLIENT)
		SSL_set_connect_state(ep->ssl);
	else
		SSL_set_accept_state(ep->ssl);
	ERR_clear_error();
	return ep;
err:
	ERR_clear_error();
	dtls_endpoint_free(ep);
	return NULL;
}

void dtls_endpoint_free(struct dtls_endpoint *ep)
{
	if (ep == NULL)
		return;
	SSL_free(ep->ssl);
	out_queue_clear(&ep->out);
	OPENSSL_cleanse(ep->rx_key, sizeof(ep->rx_key));
	OPENSSL_cleanse(ep->tx_key, sizeof(ep->tx_key));
	free(ep);
}

/* Starting twice is harmless: dtls_input starts an endpoint that was not, as
 * a ClientHello may race the caller's own dtls_start. */
int dtls_start(struct dtls_endpoint *ep, uint64_t now_ms)
{
	if (ep == NULL)
		return -EINVAL;
	if (ep->state != DTLS_NEW)
		return ep->state == DTLS_FAILED ? -EPROTO : 0;
	ep->state = DTLS_CONNECTING;
	ep->deadline_ms = now_ms + DTLS_HANDSHAKE_TIMEOUT_MS;
	ep_drive(ep);
	return ep->state == DTLS_FAILED ? -EPROTO : 0;
}

int dtls_input(struct dtls_endpoint *ep, const uint8_t *data, size_t len, uint64_t now_ms)
{
	int rc;

	if (ep == NULL || (data == NULL && len != 0))
		return -EINVAL;
	if (ep->state == DTLS_FAILED)
		return -EPROTO;
	if (ep->state == DTLS_CLOSED || len == 0 || len > DTLS_MAX_DGRAM)
		return 0;
	if (!dgram_acceptable(ep, data, len))
		return 0;
	rc = dtls_start(ep, now_ms);
	if (rc != 0)
		return rc;
	/* One datagram at a time: OpenSSL drains the BIO before it asks for
	 * more, but nothing it might leave may prefix the next datagram. */
	(void)BIO_reset(ep->rbio);
	if (BIO_write(ep->rbio, data, (int)len) != (int)len) {
		ep_fail(ep, "DTLS: out of memory");
		return -EPROTO;
	}
	ep_drive(ep);
	return ep->state == DTLS_FAILED ? -EPROTO : 0;
}

size_t dtls_output(struct dtls_endpoint *ep, uint8_t *buf, size_t cap)
{
	struct dtls_out_queue *q;

	if (ep == NULL || buf == NULL)
		return 0;
	q = &ep->out;
	while (q->count) {
		struct dtls_dgram d = q->slot[q->head];
		size_t n = 0;

		q->head = (q->head + 1) % DTLS_OUT_SLOTS;
		q->count--;
		/* A datagram larger than the caller's buffer is dropped, as a
		 * link with a smaller MTU would; records never exceed 1200. */
		if (d.len <= cap) {
			memcpy(buf, d.data, d.len);
			n = d.len;
		}
		free(d.data);
		if (n)
			return n;
	}
	return 0;
}

int dtls_timeout_ms(struct dtls_endpoint *ep, uint64_t now_ms)
{
	struct timeval tv;
	long long ms = -1;

	if (ep == NULL || (ep->state != DTLS_CONNECTING && ep->state != DTLS_CONNECTED))
		return -1;
	if (DTLSv1_get_timeout(ep->ssl, &tv) > 0)
		ms = (long long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
	if (ep->state == DTLS_CONNECTING) {
		long long left = now_ms >= ep->deadline_ms ? 0 : (long long)(ep->deadline_ms - now_ms);

		if (ms < 0 || ms > left)
			ms = left;
	}
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

void dtls_on_timer(struct dtls_endpoint *ep, uint64_t now_ms)
{
	if (ep == NULL)
		return;
	if (ep->state == DTLS_CONNECTING && now_ms >= ep->deadline_ms) {
		ep_fail(ep, "DTLS handshake timed out after %d ms", DTLS_HANDSHAKE_TIMEOUT_MS);
		return;
	}
	if (ep->state != DTLS_CONNECTING && ep->state != DTLS_CONNECTED)
		return;
	/* 0: not due yet, 1: the last flight went out again, <0: gave up. */
	ERR_clear_error();
	if (DTLSv1_handle_timeout(ep->ssl) < 0)
		ep_fail(ep, "DTLS retransmission failed: %s", ssl_reason());
	ERR_clear_error();
}

enum dtls_state dtls_state(const struct dtls_endpoint *ep)
{
	return ep ? ep->state : DTLS_FAILED;
}

const char *dtls_error(const struct dtls_endpoint *ep)
{
	return ep ? ep->err : "";
}

/* Keys stay readable after a close: the data plane may still drain. */
int dtls_srtp_keys(const struct dtls_endpoint *ep, uint16_t *profile, uint8_t rx[32],
		   uint8_t tx[32], size_t *key_len)
{
	if (ep == NULL)
		return -EINVAL;
	if (!ep->keys_ready)
		return -EAGAIN;
	if (profile)
		*profile = ep->profile;
	if (rx)
		memcpy(rx, ep->rx_key, sizeof(ep->rx_key));
	if (tx)
		memcpy(tx, ep->tx_key, sizeof(ep->tx_key));
	if (key_len)
		*key_len = ep->key_len;
	return 0;
}

/* Our side ends the association: close_notify if the handshake is done
 * (OpenSSL cannot send one mid-handshake), then the endpoint is CLOSED. */
void dtls_close(struct dtls_endpoint *ep)
{
	if (ep == NULL || ep->state == DTLS_FAILED || ep->state == DTLS_CLOSED)
		return;
	if (ep->state == DTLS_CONNECTED) {
		ERR_clear_error();
		SSL_shutdown(ep->ssl);
		ERR_clear_error();
	}
	ep->state = DTLS_CLOSED;
}
