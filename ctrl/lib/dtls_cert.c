/*
 * dtls_cert.c — certificates: the process's DTLS identity and the files of
 * the HTTPS server.
 *
 * DTLS: one ECDSA P-256 key and self-signed SHA-256 certificate per process.
 * It carries no trust (RFC 5763 5, RFC 8827 6.5): the peer checks its
 * SHA-256 fingerprint (RFC 8122 5), advertised in signaling, and so do we
 * with the peer's (dtls.c).  Each certificate owns the one DTLS context
 * (SSL_CTX) its endpoints are made from: DTLS 1.2 only, ECDHE, AEAD suites
 * first, use_srtp with AEAD_AES_128_GCM preferred (RFC 5764 4.1.2, RFC 7714).
 *
 * HTTPS: for local runs a self-signed certificate and key are written on the
 * first start, and never overwritten.
 *
 * Threading: a certificate is made once, then read-only; it may be shared by
 * the endpoints of one thread.  dtls_write_tls_cert_files runs at start-up.
 */
#include "dtls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DTLS_CERT_DAYS 365

/*
 * Our order of preference.  OpenSSL as a server walks its own list in order
 * and takes the first profile the client offered, so with us as the server
 * GCM wins whenever the client offers it, whatever the client's order.  As a
 * client we only offer: the peer's server order decides.
 */
#define DTLS_SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"

/*
 * ECDSA suites serve our certificate; the RSA ones let us be the client of a
 * peer with an RSA certificate.  AEAD only: every WebRTC stack has AES-GCM,
 * and OpenSSL 3.0 fails a DTLS association on any forged CBC record (it
 * negotiates encrypt-then-MAC, whose MAC failure is fatal: openssl#24972).
 */
#define DTLS_CIPHERS                                                           \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"         \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"           \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"

struct dtls_cert {
	EVP_PKEY *key;
	X509 *x509;
	SSL_CTX *ctx;  /* every endpoint of this certificate is an SSL of it */
	char fingerprint[DTLS_FINGERPRINT_LEN];
};

static int x509_add_ext(X509 *x509, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, x509, x509, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return -EINVAL;
	ok = X509_add_ext(x509, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -ENOMEM;
}

/*
 * A self-signed SHA-256 certificate for key, valid from a day ago (clock
 * skew) for DTLS_CERT_DAYS, with a random positive 63-bit serial.  The HTTPS
 * one names localhost in subjectAltName (browsers ignore the CN) and is an
 * end entity (Firefox refuses a CA certificate as a server's).
 */
static X509 *self_signed_new(EVP_PKEY *key, const char *cn, bool https)
{
	X509 *x509 = X509_new();
	X509_NAME *name;
	uint64_t serial;

	if (x509 == NULL)
		return NULL;
	if (RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
		goto err;
	serial = (serial >> 1) | 1;
	name = X509_get_subject_name(x509);
	if (!X509_set_version(x509, X509_VERSION_3) ||
	    !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x509), serial) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x509), -24L * 3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x509), DTLS_CERT_DAYS * 24L * 3600) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
					-1, -1, 0) ||
	    !X509_set_issuer_name(x509, name) || !X509_set_pubkey(x509, key))
		goto err;
	if (https && (x509_add_ext(x509, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1") ||
		      x509_add_ext(x509, NID_basic_constraints, "critical,CA:FALSE") ||
		      x509_add_ext(x509, NID_ext_key_usage, "serverAuth")))
		goto err;
	if (X509_sign(x509, key, EVP_sha256()) <= 0)
		goto err;
	return x509;
err:
	X509_free(x509);
	return NULL;
}

/* Identity is the fingerprint check after the handshake (dtls.c), not a
 * chain: any certificate passes here, but one is required of both roles. */
static int verify_any(int preverify_ok, X509_STORE_CTX *store)
{
	(void)preverify_ok;
	(void)store;
	return 1;
}

static SSL_CTX *dtls_ctx_new(EVP_PKEY *key, X509 *x509)
{
	SSL_CTX *ctx = SSL_CTX_new(DTLS_method());

	if (ctx == NULL)
		return NULL;
	/* No renegotiation, resumption or tickets: every handshake shows the
	 * certificate the fingerprint is checked against.  The MTU is set per
	 * endpoint and never probed (no socket behind the BIO). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_RENEGOTIATION |
				 SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_any);
	if (!SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, DTLS_CIPHERS) ||
	    !SSL_CTX_set1_groups_list(ctx, "X25519:P-256") ||
	    SSL_CTX_set_tlsext_use_srtp(ctx, DTLS_SRTP_PROFILES) != 0 || /* 0 is success */
	    SSL_CTX_use_certificate(ctx, x509) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct dtls_cert *dtls_cert_new(void)
{
	struct dtls_cert *cert = calloc(1, sizeof(*cert));
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (cert == NULL)
		return NULL;
	cert->key = EVP_EC_gen("P-256");
	if (cert->key == NULL)
		goto err;
	cert->x509 = self_signed_new(cert->key, "WebRTC", false);
	if (cert->x509 == NULL)
		goto err;
	/* RFC 8122 5: upper-case hex pairs joined by colons. */
	if (!X509_digest(cert->x509, EVP_sha256(), md, &md_len) || md_len != 32 ||
	    !OPENSSL_buf2hexstr_ex(cert->fingerprint, sizeof(cert->fingerprint), NULL, md,
				   md_len, ':'))
		goto err;
	cert->ctx = dtls_ctx_new(cert->key, cert->x509);
	if (cert->ctx == NULL)
		goto err;
	ERR_clear_error();
	return cert;
err:
	ERR_clear_error();
	dtls_cert_free(cert);
	return NULL;
}

void dtls_cert_free(struct dtls_cert *cert)
{
	if (cert == NULL)
		return;
	SSL_CTX_free(cert->ctx); /* endpoints still alive hold their own reference */
	X509_free(cert->x509);
	EVP_PKEY_free(cert->key);
	free(cert);
}

const char *dtls_cert_fingerprint(const struct dtls_cert *cert)
{
	return cert ? cert->fingerprint : "";
}

SSL_CTX *dtls_cert_ssl_ctx(const struct dtls_cert *cert)
{
	return cert ? cert->ctx : NULL;
}

/* Create path (it must not exist) with mode and write the PEM of key or x509. */
static int pem_file_write(const char *path, mode_t mode, EVP_PKEY *key, X509 *x509)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	FILE *f;
	int ok;

	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) != 0 || (f = fdopen(fd, "w")) == NULL) {
		int rc = -errno;

		close(fd);
		unlink(path);
		return rc;
	}
	ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
		 : PEM_write_X509(f, x509);
	if (fclose(f) != 0 || !ok) {
		unlink(path);
		return -EIO;
	}
	return 0;
}

static int file_exists(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

int dtls_write_tls_cert_files(const char *cert_path, const char *key_path, const char *cn)
{
	EVP_PKEY *key = NULL;
	X509 *x509 = NULL;
	int have_cert, have_key, rc;

	if (cert_path == NULL || key_path == NULL)
		return -EINVAL;
	have_cert = file_exists(cert_path);
	have_key = file_exists(key_path);
	if (have_cert < 0)
		return have_cert;
	if (have_key < 0)
		return have_key;
	if (have_cert && have_key)
		return 0;
	if (have_cert || have_key)
		return -EEXIST; /* half a pair is someone's mistake: do not guess */

	key = EVP_EC_gen("P-256");
	x509 = key ? self_signed_new(key, cn && *cn ? cn : "localhost", true) : NULL;
	if (x509 == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* The key first: a certificate on disk means its key is complete. */
	rc = pem_file_write(key_path, 0600, key, NULL);
	if (rc == 0) {
		rc = pem_file_write(cert_path, 0644, NULL, x509);
		if (rc != 0)
			unlink(key_path);
	}
out:
	ERR_clear_error();
	X509_free(x509);
	EVP_PKEY_free(key);
	return rc;
}
