/*
 * test_dtls.c — unit tests of the DTLS-SRTP endpoints (ctrl/lib/dtls.c) and
 * certificates (ctrl/lib/dtls_cert.c).
 *
 * Two endpoints talk in memory, one datagram per dtls_input, and every
 * datagram is checked to be whole DTLS records within the 1200-byte MTU.
 * The key split is proven twice: by Debian's libsrtp2 protecting with one
 * side's tx key and unprotecting with the other's rx key, and against an
 * independent OpenSSL peer (its own SSL objects, its own RFC 5764 4.2 split),
 * which also shows whose SRTP profile order wins.  Then the failure paths:
 * fingerprint mismatch on either side, no use_srtp, handshake errors,
 * garbage, the handshake deadline, retransmission after a lost flight (the
 * one test that sleeps: OpenSSL's 1 s timer runs on the wall clock), close.
 *
 * Single-threaded.  Deterministic but for keys and the one sleep.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <srtp2/srtp.h>

#include "dtls.h"

#define MTU 1200
#define PROFILE_CM 0x0001
#define PROFILE_GCM 0x0007

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint32_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static void fp_of(const uint8_t md[32], char out[DTLS_FINGERPRINT_LEN])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 3 * i, 4, i == 31 ? "%02X" : "%02X:", md[i]);
}

static void fp_of_x509(X509 *x509, char out[DTLS_FINGERPRINT_LEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	X509_digest(x509, EVP_sha256(), md, &n);
	fp_of(md, out);
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'F')
			*s = (char)(*s - 'A' + 'a');
}

/* Whole DTLS records (RFC 6347 4.1), nothing else, within the MTU. */
static bool dgram_ok(const uint8_t *p, size_t len)
{
	size_t off = 0;

	if (len == 0 || len > MTU)
		return false;
	while (off < len) {
		size_t rl;

		if (len - off < 13 || p[off] < 20 || p[off] > 25 || p[off + 1] != 0xfe ||
		    (p[off + 2] != 0xfd && p[off + 2] != 0xff))
			return false;
		rl = (size_t)p[off + 11] << 8 | p[off + 12];
		if (rl > len - off - 13)
			return false;
		off += 13 + rl;
	}
	return true;
}

static int bad_dgrams;

/* Move every pending datagram of from to to.  @return how many */
static int pump(struct dtls_endpoint *from, struct dtls_endpoint *to, uint64_t now)
{
	uint8_t buf[2048];
	size_t len;
	int n = 0;

	while ((len = dtls_output(from, buf, sizeof(buf))) > 0) {
		if (!dgram_ok(buf, len))
			bad_dgrams++;
		dtls_input(to, buf, len, now);
		n++;
	}
	return n;
}

static void run(struct dtls_endpoint *a, struct dtls_endpoint *b, uint64_t now)
{
	for (int i = 0; i < 20; i++)
		if (pump(a, b, now) + pump(b, a, now) == 0)
			break;
}

struct pair {
	struct dtls_cert *cc, *sc;
	struct dtls_endpoint *c, *s;
};

/* A client and a server, each told the other's fingerprint (or a wrong one). */
static bool pair_new(struct pair *p, bool bad_fp_at_client, bool bad_fp_at_server)
{
	struct dtls_cert *other = dtls_cert_new();

	p->cc = dtls_cert_new();
	p->sc = dtls_cert_new();
	if (!other || !p->cc || !p->sc) {
		dtls_cert_free(other);
		return false;
	}
	p->c = dtls_endpoint_new(p->cc, DTLS_ROLE_CLIENT, "sha-256",
				 dtls_cert_fingerprint(bad_fp_at_client ? other : p->sc));
	p->s = dtls_endpoint_new(p->sc, DTLS_ROLE_SERVER, "sha-256",
				 dtls_cert_fingerprint(bad_fp_at_server ? other : p->cc));
	dtls_cert_free(other);
	return p->c && p->s;
}

static void pair_free(struct pair *p)
{
	dtls_endpoint_free(p->c);
	dtls_endpoint_free(p->s);
	dtls_cert_free(p->cc);
	dtls_cert_free(p->sc);
}

static bool pair_connect(struct pair *p)
{
	bad_dgrams = 0;
	if (dtls_start(p->s, 0) != 0 || dtls_start(p->c, 0) != 0)
		return false;
	run(p->c, p->s, 0);
	return bad_dgrams == 0 && dtls_state(p->c) == DTLS_CONNECTED &&
	       dtls_state(p->s) == DTLS_CONNECTED;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Protect an RTP packet with tx_key, unprotect it with rx_key (libsrtp2).
 * @return the unprotect status, or -1 if protect itself failed */
static int srtp_trip(uint16_t profile, const uint8_t *tx_key, const uint8_t *rx_key)
{
	static bool inited;
	srtp_policy_t pol[2];
	srtp_t tx = NULL, rx = NULL;
	uint8_t pkt[12 + 160 + SRTP_MAX_TRAILER_LEN], orig[12 + 160];
	int len = 12 + 160, rc = -1;

	if (!inited && srtp_init() != srtp_err_status_ok)
		return -1;
	inited = true;
	memset(pol, 0, sizeof(pol));
	for (int i = 0; i < 2; i++) {
		if (profile == PROFILE_GCM) {
			srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol[i].rtp);
			srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol[i].rtcp);
		} else {
			srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol[i].rtp);
			srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol[i].rtcp);
		}
		pol[i].window_size = 128;
	}
	pol[0].ssrc.type = ssrc_any_outbound;
	pol[0].key = (unsigned char *)tx_key;
	pol[1].ssrc.type = ssrc_any_inbound;
	pol[1].key = (unsigned char *)rx_key;

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x80;
	pkt[1] = 96;
	pkt[3] = 7;                                     /* seq 7 */
	pkt[7] = 0x40;                                  /* timestamp */
	memcpy(pkt + 8, "\x11\x22\x33\x44", 4);         /* SSRC */
	for (int i = 12; i < len; i++)
		pkt[i] = (uint8_t)rnd();
	memcpy(orig, pkt, sizeof(orig));

	if (srtp_create(&tx, &pol[0]) != srtp_err_status_ok ||
	    srtp_create(&rx, &pol[1]) != srtp_err_status_ok)
		goto out;
	if (srtp_protect(tx, pkt, &len) != srtp_err_status_ok ||
	    len != 12 + 160 + (profile == PROFILE_GCM ? 16 : 10) ||
	    memcmp(pkt + 12, orig + 12, 160) == 0)
		goto out;
	rc = srtp_unprotect(rx, pkt, &len);
	if (rc == srtp_err_status_ok && (len != 12 + 160 || memcmp(pkt, orig, sizeof(orig)) != 0))
		rc = -1;
out:
	if (tx)
		srtp_dealloc(tx);
	if (rx)
		srtp_dealloc(rx);
	return rc;
}

/* A temporary directory with the HTTPS certificate files in it. */
static char tmp_dir[64], tmp_cert[96], tmp_key[96];

static bool tmp_files_make(void)
{
	strcpy(tmp_dir, "/tmp/test_dtls.XXXXXX");
	if (mkdtemp(tmp_dir) == NULL)
		return false;
	snprintf(tmp_cert, sizeof(tmp_cert), "%s/cert.pem", tmp_dir);
	snprintf(tmp_key, sizeof(tmp_key), "%s/key.pem", tmp_dir);
	return true;
}

static void tmp_files_remove(void)
{
	unlink(tmp_cert);
	unlink(tmp_key);
	rmdir(tmp_dir);
}

/*
 * An independent DTLS peer made of plain OpenSSL calls: certificate from
 * dtls_write_tls_cert_files, memory BIOs (its datagrams reach us glued
 * together per flight, which DTLS record framing allows).
 */
struct raw_peer {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rbio, *wbio;
	char fp[DTLS_FINGERPRINT_LEN];
};

static int raw_verify(int ok, X509_STORE_CTX *store)
{
	(void)ok;
	(void)store;
	return 1;
}

static bool raw_peer_new(struct raw_peer *r, bool server, const char *profiles)
{
	bool ok;

	memset(r, 0, sizeof(*r));
	if (!tmp_files_make())
		return false;
	r->ctx = SSL_CTX_new(DTLS_method());
	ok = r->ctx && dtls_write_tls_cert_files(tmp_cert, tmp_key, "raw") == 0 &&
	     SSL_CTX_use_certificate_file(r->ctx, tmp_cert, SSL_FILETYPE_PEM) == 1 &&
	     SSL_CTX_use_PrivateKey_file(r->ctx, tmp_key, SSL_FILETYPE_PEM) == 1 &&
	     (!profiles || SSL_CTX_set_tlsext_use_srtp(r->ctx, profiles) == 0);
	tmp_files_remove();
	if (!ok)
		return false;
	SSL_CTX_set_verify(r->ctx, SSL_VERIFY_PEER, raw_verify);
	fp_of_x509(SSL_CTX_get0_certificate(r->ctx), r->fp);
	r->ssl = SSL_new(r->ctx);
	r->rbio = BIO_new(BIO_s_mem());
	r->wbio = BIO_new(BIO_s_mem());
	if (!r->ssl || !r->rbio || !r->wbio) {
		BIO_free(r->rbio);
		BIO_free(r->wbio);
		return false;
	}
	BIO_set_mem_eof_return(r->rbio, -1);
	SSL_set_bio(r->ssl, r->rbio, r->wbio);
	if (server)
		SSL_set_accept_state(r->ssl);
	else
		SSL_set_connect_state(r->ssl);
	return true;
}

static void raw_peer_free(struct raw_peer *r)
{
	SSL_free(r->ssl);
	SSL_CTX_free(r->ctx);
	ERR_clear_error();
}

static void raw_step(struct raw_peer *r)
{
	uint8_t buf[2048];

	if (!SSL_is_init_finished(r->ssl))
		SSL_do_handshake(r->ssl);
	else
		while (SSL_read(r->ssl, buf, sizeof(buf)) > 0)
			;
}

/* Shuttle between a raw peer and an endpoint until quiet. */
static void raw_run(struct raw_peer *r, struct dtls_endpoint *ep)
{
	for (int i = 0; i < 20; i++) {
		uint8_t buf[16384];
		int moved = 0, n;
		size_t len;

		raw_step(r);
		while ((n = BIO_read(r->wbio, buf, sizeof(buf))) > 0) {
			dtls_input(ep, buf, (size_t)n, 0);
			moved++;
		}
		while ((len = dtls_output(ep, buf, sizeof(buf))) > 0) {
			if (!dgram_ok(buf, len))
				bad_dgrams++;
			BIO_write(r->rbio, buf, (int)len);
			raw_step(r);
			moved++;
		}
		if (!moved)
			break;
	}
}

/* The raw peer's own RFC 5764 4.2 split.  @return key||salt length */
static size_t raw_keys(struct raw_peer *r, bool client, uint8_t tx[32], uint8_t rx[32])
{
	const SRTP_PROTECTION_PROFILE *prof = SSL_get_selected_srtp_profile(r->ssl);
	size_t salt = prof && prof->id == PROFILE_GCM ? 12 : 14;
	uint8_t km[60];

	if (prof == NULL ||
	    SSL_export_keying_material(r->ssl, km, 2 * (16 + salt), "EXTRACTOR-dtls_srtp", 19,
				       NULL, 0, 0) != 1)
		return 0;
	memset(tx, 0, 32);
	memset(rx, 0, 32);
	memcpy(client ? tx : rx, km, 16);
	memcpy(client ? rx : tx, km + 16, 16);
	memcpy((client ? tx : rx) + 16, km + 32, salt);
	memcpy((client ? rx : tx) + 16, km + 32 + salt, salt);
	return 16 + salt;
}

/* ------------------------------------------------------------------------ */
/* Certificates                                                              */

UT_TEST(cert_fingerprint_format)
{
	struct dtls_cert *a = dtls_cert_new(), *b = dtls_cert_new();
	const char *fp;

	UT_CHECK(a != NULL && b != NULL);
	if (!a || !b)
		goto out;
	fp = dtls_cert_fingerprint(a);
	UT_EQ(strlen(fp), 95);
	for (int i = 0; i < 95; i++) {
		bool hex = (fp[i] >= '0' && fp[i] <= '9') || (fp[i] >= 'A' && fp[i] <= 'F');

		if (i % 3 == 2 ? fp[i] != ':' : !hex) {
			UT_CHECK(!"fingerprint is AB:CD:... upper-case hex");
			break;
		}
	}
	UT_CHECK(strcmp(fp, dtls_cert_fingerprint(b)) != 0);
	UT_CHECK(strcmp(dtls_cert_fingerprint(NULL), "") == 0);
out:
	dtls_cert_free(a);
	dtls_cert_free(b);
}

UT_TEST(tls_cert_files_written_once)
{
	struct stat st1, st2, key_st;
	char pem1[8192] = "", pem2[8192] = "";
	SSL_CTX *ctx;
	X509 *x509;
	EVP_PKEY *key;
	FILE *f;
	int fd;

	UT_CHECK(tmp_files_make());
	UT_EQ(dtls_write_tls_cert_files(tmp_cert, tmp_key, "sfu.test"), 0);
	UT_EQ(stat(tmp_key, &key_st), 0);
	UT_EQ(key_st.st_mode & 0777, 0600);
	UT_EQ(stat(tmp_cert, &st1), 0);
	UT_EQ(st1.st_mode & 0777, 0644);
	f = fopen(tmp_cert, "r");
	UT_CHECK(f && fread(pem1, 1, sizeof(pem1) - 1, f) > 0);
	if (f)
		fclose(f);
	UT_CHECK(strstr(pem1, "-----BEGIN CERTIFICATE-----") != NULL);

	/* Second start: nothing changes. */
	UT_EQ(dtls_write_tls_cert_files(tmp_cert, tmp_key, "other"), 0);
	UT_EQ(stat(tmp_cert, &st2), 0);
	UT_EQ(st2.st_ino, st1.st_ino);
	UT_EQ(stat(tmp_key, &st2), 0);
	UT_EQ(st2.st_ino, key_st.st_ino);
	UT_EQ(st2.st_mtime, key_st.st_mtime);
	f = fopen(tmp_cert, "r");
	UT_CHECK(f && fread(pem2, 1, sizeof(pem2) - 1, f) > 0);
	if (f)
		fclose(f);
	UT_CHECK(strcmp(pem1, pem2) == 0);

	/* Usable by an HTTPS server: the pair loads and matches. */
	ctx = SSL_CTX_new(TLS_server_method());
	UT_CHECK(ctx != NULL);
	UT_EQ(SSL_CTX_use_certificate_file(ctx, tmp_cert, SSL_FILETYPE_PEM), 1);
	UT_EQ(SSL_CTX_use_PrivateKey_file(ctx, tmp_key, SSL_FILETYPE_PEM), 1);
	UT_EQ(SSL_CTX_check_private_key(ctx), 1);
	x509 = SSL_CTX_get0_certificate(ctx);
	key = SSL_CTX_get0_privatekey(ctx);
	UT_CHECK(x509 != NULL && key != NULL);
	if (x509 && key) {
		char cn[64] = "";

		X509_NAME_get_text_by_NID(X509_get_subject_name(x509), NID_commonName, cn,
					  sizeof(cn));
		UT_CHECK(strcmp(cn, "sfu.test") == 0);
		UT_EQ(X509_check_host(x509, "localhost", 0, 0, NULL), 1);
		UT_EQ(X509_check_ip_asc(x509, "127.0.0.1", 0), 1);
		UT_EQ(X509_check_ca(x509), 0);
		UT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
		UT_EQ(EVP_PKEY_get_bits(key), 256);
		UT_EQ(X509_get_signature_nid(x509), NID_ecdsa_with_SHA256);
		UT_EQ(X509_cmp_time(X509_get0_notAfter(x509), NULL), 1);
		UT_CHECK(X509_cmp_timeframe(NULL, X509_get0_notBefore(x509),
					    X509_get0_notAfter(x509)) == 0);
	}
	SSL_CTX_free(ctx);

	/* Half a pair is refused, not completed. */
	unlink(tmp_key);
	UT_EQ(dtls_write_tls_cert_files(tmp_cert, tmp_key, "x"), -EEXIST);
	UT_EQ(access(tmp_key, F_OK), -1);
	tmp_files_remove();
	UT_EQ(dtls_write_tls_cert_files("/nonexistent-dir/c.pem", "/nonexistent-dir/k.pem", "x"),
	      -ENOENT);
	UT_EQ(dtls_write_tls_cert_files(NULL, tmp_key, "x"), -EINVAL);

	/* A pre-existing file is never truncated. */
	UT_CHECK(tmp_files_make());
	fd = open(tmp_key, O_WRONLY | O_CREAT, 0600);
	UT_CHECK(fd >= 0 && write(fd, "mine", 4) == 4);
	if (fd >= 0)
		close(fd);
	UT_EQ(dtls_write_tls_cert_files(tmp_cert, tmp_key, "x"), -EEXIST);
	UT_EQ(stat(tmp_key, &st1), 0);
	UT_EQ(st1.st_size, 4);
	tmp_files_remove();
	ERR_clear_error();
}

/* ------------------------------------------------------------------------ */
/* Endpoints                                                                 */

UT_TEST(endpoint_new_checks_arguments)
{
	struct dtls_cert *cert = dtls_cert_new();
	char fp[DTLS_FINGERPRINT_LEN], bad[DTLS_FINGERPRINT_LEN + 8];
	struct dtls_endpoint *ep;

	UT_CHECK(cert != NULL);
	if (!cert)
		return;
	strcpy(fp, dtls_cert_fingerprint(cert));

	ep = dtls_endpoint_new(cert, DTLS_ROLE_CLIENT, "sha-256", fp);
	UT_CHECK(ep != NULL);
	UT_EQ(dtls_state(ep), DTLS_NEW);
	UT_CHECK(strcmp(dtls_error(ep), "") == 0);
	UT_EQ(dtls_timeout_ms(ep, 0), -1);
	dtls_endpoint_free(ep);
	ep = dtls_endpoint_new(cert, DTLS_ROLE_SERVER, "SHA-256", fp);
	UT_CHECK(ep != NULL);
	dtls_endpoint_free(ep);

	/* Only sha-256. */
	UT_CHECK(dtls_endpoint_new(cert, DTLS_ROLE_CLIENT, "sha-1", fp) == NULL);
	UT_CHECK(dtls_endpoint_new(cert, DTLS_ROLE_CLIENT, "sha-512", fp) == NULL);
	UT_CHECK(dtls_endpoint_new(cert, DTLS_ROLE_CLIENT, "sha-2566", fp) == NULL);
	UT_CHECK(dtls_endpoint_new(cert, DTLS_ROLE_CLIENT, "", fp) == NULL);
	UT_CHECK(dtls_endpoint_new(cert, DTLS_ROLE_CLIENT, NULL, fp) == NULL);

	/* Malformed fingerprints, roles and certificates. */
	UT_CHECK(dtls_endpoint_new(cert, DTLS_ROLE_CLIENT, "sha-256", NULL) == NULL);
	UT_CHECK(dtls_endpoint_new(cert, DTLS_ROLE_CLIENT, "sha-256", "") == NULL);
	UT_CHECK(dtls_endpoint_new(cert, DTLS_ROLE_CLIENT, "sha-256", fp + 3) == NULL);
	snprintf(bad, sizeof(bad), "%s:", fp);
	UT_CHECK(dtls_endpoint_new(cert, DTLS_ROLE_CLIENT, "sha-256", bad) == NULL);
	snprintf(bad, sizeof(bad), "%s:00", fp);
	UT_CHECK(dtls_endpoint_new(cert, DTLS_ROLE_CLIENT, "sha-256", bad) == NULL);
	strcpy(bad, fp);
	bad[2] = '-';
	UT_CHECK(dtls_endpoint_new(cert, DTLS_ROLE_CLIENT, "sha-256", bad) == NULL);
	strcpy(bad, fp);
	bad[4] = 'G';
	UT_CHECK(dtls_endpoint_new(cert, DTLS_ROLE_CLIENT, "sha-256", bad) == NULL);
	UT_CHECK(dtls_endpoint_new(cert, 0, "sha-256", fp) == NULL);
	UT_CHECK(dtls_endpoint_new(cert, 3, "sha-256", fp) == NULL);
	UT_CHECK(dtls_endpoint_new(NULL, DTLS_ROLE_CLIENT, "sha-256", fp) == NULL);
	dtls_cert_free(cert);
}

UT_TEST(handshake_gcm_and_key_split)
{
	struct pair p = { 0 };
	uint8_t crx[32], ctx[32], srx[32], stx[32];
	uint16_t cprof = 0, sprof = 0;
	size_t clen = 0, slen = 0;

	UT_CHECK(pair_new(&p, false, false));
	if (!p.c || !p.s)
		goto out;
	UT_EQ(dtls_srtp_keys(p.c, &cprof, crx, ctx, &clen), -EAGAIN);
	UT_CHECK(pair_connect(&p));
	UT_EQ(bad_dgrams, 0);
	UT_CHECK(strcmp(dtls_error(p.c), "") == 0 && strcmp(dtls_error(p.s), "") == 0);
	UT_EQ(dtls_srtp_keys(p.c, &cprof, crx, ctx, &clen), 0);
	UT_EQ(dtls_srtp_keys(p.s, &sprof, srx, stx, &slen), 0);

	/* Both offer both: GCM, with its 12-byte salt (RFC 7714 12). */
	UT_EQ(cprof, PROFILE_GCM);
	UT_EQ(sprof, PROFILE_GCM);
	UT_EQ(clen, 28);
	UT_EQ(slen, 28);
	UT_MEMEQ(ctx, srx, 32);
	UT_MEMEQ(crx, stx, 32);
	UT_CHECK(memcmp(ctx, crx, 28) != 0);
	UT_CHECK(!all_zero(ctx, 28) && !all_zero(crx, 28));
	UT_CHECK(all_zero(ctx + 28, 4) && all_zero(crx + 28, 4));

	/* No timer runs once connected; a second start changes nothing. */
	UT_EQ(dtls_timeout_ms(p.c, 0), -1);
	UT_EQ(dtls_timeout_ms(p.s, 0), -1);
	UT_EQ(dtls_start(p.c, 0), 0);
	UT_EQ(dtls_state(p.c), DTLS_CONNECTED);
out:
	pair_free(&p);
}

UT_TEST(srtp_round_trip_with_exported_keys)
{
	struct pair p = { 0 };
	uint8_t crx[32], ctx[32], srx[32], stx[32];
	uint16_t prof = 0;
	size_t len = 0;

	UT_CHECK(pair_new(&p, false, false) && pair_connect(&p));
	if (dtls_state(p.c) != DTLS_CONNECTED || dtls_state(p.s) != DTLS_CONNECTED)
		goto out;
	UT_EQ(dtls_srtp_keys(p.c, &prof, crx, ctx, &len), 0);
	UT_EQ(dtls_srtp_keys(p.s, NULL, srx, stx, NULL), 0);
	UT_EQ(srtp_trip(prof, ctx, srx), srtp_err_status_ok);
	UT_EQ(srtp_trip(prof, stx, crx), srtp_err_status_ok);
	/* The wrong direction's key does not authenticate. */
	UT_EQ(srtp_trip(prof, ctx, crx), srtp_err_status_auth_fail);
	UT_EQ(srtp_trip(prof, stx, srx), srtp_err_status_auth_fail);
out:
	pair_free(&p);
}

UT_TEST(lowercase_fingerprint_and_implicit_start)
{
	struct dtls_cert *cc = dtls_cert_new(), *sc = dtls_cert_new();
	struct dtls_endpoint *c = NULL, *s = NULL;
	char fp[DTLS_FINGERPRINT_LEN];

	UT_CHECK(cc && sc);
	if (!cc || !sc)
		goto out;
	strcpy(fp, dtls_cert_fingerprint(cc));
	lower(fp);
	c = dtls_endpoint_new(cc, DTLS_ROLE_CLIENT, "sha-256", dtls_cert_fingerprint(sc));
	s = dtls_endpoint_new(sc, DTLS_ROLE_SERVER, "sha-256", fp);
	UT_CHECK(c && s);
	if (!c || !s)
		goto out;
	/* The server is never started: the ClientHello starts it. */
	UT_EQ(dtls_start(c, 0), 0);
	run(c, s, 0);
	UT_EQ(dtls_state(c), DTLS_CONNECTED);
	UT_EQ(dtls_state(s), DTLS_CONNECTED);
out:
	dtls_endpoint_free(c);
	dtls_endpoint_free(s);
	dtls_cert_free(cc);
	dtls_cert_free(sc);
}

/* Our server against a client preferring CM: GCM all the same, because
 * OpenSSL's server walks its own list.  Keys agree with the peer's own split. */
UT_TEST(server_profile_order_wins)
{
	struct dtls_cert *sc = dtls_cert_new();
	struct dtls_endpoint *s = NULL;
	struct raw_peer r = { 0 };
	uint8_t rx[32], tx[32], rrx[32], rtx[32];
	char fp[DTLS_FINGERPRINT_LEN];
	uint16_t prof = 0;
	size_t len = 0;

	UT_CHECK(sc && raw_peer_new(&r, false, "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM"));
	if (!sc || !r.ssl)
		goto out;
	s = dtls_endpoint_new(sc, DTLS_ROLE_SERVER, "sha-256", r.fp);
	UT_CHECK(s != NULL && dtls_start(s, 0) == 0);
	bad_dgrams = 0;
	raw_run(&r, s);
	UT_EQ(bad_dgrams, 0);
	UT_EQ(dtls_state(s), DTLS_CONNECTED);
	UT_CHECK(SSL_is_init_finished(r.ssl));
	UT_EQ(dtls_srtp_keys(s, &prof, rx, tx, &len), 0);
	UT_EQ(prof, PROFILE_GCM);
	UT_EQ(raw_keys(&r, true, rtx, rrx), 28);
	UT_MEMEQ(rx, rtx, 32);
	UT_MEMEQ(tx, rrx, 32);
	/* What the peer hashes is what we advertise. */
	if (SSL_get0_peer_certificate(r.ssl)) {
		fp_of_x509(SSL_get0_peer_certificate(r.ssl), fp);
		UT_CHECK(strcmp(fp, dtls_cert_fingerprint(sc)) == 0);
	} else {
		UT_CHECK(!"the raw client saw no server certificate");
	}
out:
	dtls_endpoint_free(s);
	raw_peer_free(&r);
	dtls_cert_free(sc);
}

/* Our client against a server preferring CM: the server decides, CM it is,
 * with its 14-byte salt, and libsrtp2 agrees in both directions. */
UT_TEST(client_takes_server_profile_cm)
{
	struct dtls_cert *cc = dtls_cert_new();
	struct dtls_endpoint *c = NULL;
	struct raw_peer r = { 0 };
	uint8_t rx[32], tx[32], rrx[32], rtx[32];
	uint16_t prof = 0;
	size_t len = 0;

	UT_CHECK(cc && raw_peer_new(&r, true, "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM"));
	if (!cc || !r.ssl)
		goto out;
	c = dtls_endpoint_new(cc, DTLS_ROLE_CLIENT, "sha-256", r.fp);
	UT_CHECK(c != NULL && dtls_start(c, 0) == 0);
	bad_dgrams = 0;
	raw_run(&r, c);
	UT_EQ(bad_dgrams, 0);
	UT_EQ(dtls_state(c), DTLS_CONNECTED);
	UT_EQ(dtls_srtp_keys(c, &prof, rx, tx, &len), 0);
	UT_EQ(prof, PROFILE_CM);
	UT_EQ(len, 30);
	UT_EQ(raw_keys(&r, false, rtx, rrx), 30);
	UT_MEMEQ(rx, rtx, 32);
	UT_MEMEQ(tx, rrx, 32);
	UT_EQ(srtp_trip(prof, tx, rrx), srtp_err_status_ok);
	UT_EQ(srtp_trip(prof, rtx, rx), srtp_err_status_ok);
	UT_EQ(srtp_trip(prof, tx, rx), srtp_err_status_auth_fail);
out:
	dtls_endpoint_free(c);
	raw_peer_free(&r);
	dtls_cert_free(cc);
}

UT_TEST(peer_offering_cm_only_gets_cm)
{
	struct dtls_cert *sc = dtls_cert_new();
	struct dtls_endpoint *s = NULL;
	struct raw_peer r = { 0 };
	uint16_t prof = 0;
	size_t len = 0;
	uint8_t rx[32], tx[32];

	UT_CHECK(sc && raw_peer_new(&r, false, "SRTP_AES128_CM_SHA1_80"));
	if (!sc || !r.ssl)
		goto out;
	s = dtls_endpoint_new(sc, DTLS_ROLE_SERVER, "sha-256", r.fp);
	UT_CHECK(s != NULL && dtls_start(s, 0) == 0);
	raw_run(&r, s);
	UT_EQ(dtls_state(s), DTLS_CONNECTED);
	UT_EQ(dtls_srtp_keys(s, &prof, rx, tx, &len), 0);
	UT_EQ(prof, PROFILE_CM);
	UT_EQ(len, 30);
out:
	dtls_endpoint_free(s);
	raw_peer_free(&r);
	dtls_cert_free(sc);
}

/* ChaCha20-Poly1305 has less overhead than GCM: the peer's sealed
 * close_notify (18 bytes) must pass our filter of short records. */
UT_TEST(chacha_suite_and_its_short_records)
{
	struct dtls_cert *sc = dtls_cert_new();
	struct dtls_endpoint *s = NULL;
	struct raw_peer r = { 0 };
	uint8_t junk[64];

	UT_CHECK(sc && raw_peer_new(&r, false, "SRTP_AEAD_AES_128_GCM"));
	if (!sc || !r.ssl)
		goto out;
	UT_EQ(SSL_set_cipher_list(r.ssl, "ECDHE-ECDSA-CHACHA20-POLY1305"), 1);
	s = dtls_endpoint_new(sc, DTLS_ROLE_SERVER, "sha-256", r.fp);
	UT_CHECK(s != NULL && dtls_start(s, 0) == 0);
	raw_run(&r, s);
	UT_EQ(dtls_state(s), DTLS_CONNECTED);
	UT_CHECK(strcmp(SSL_CIPHER_get_name(SSL_get_current_cipher(r.ssl)),
			"ECDHE-ECDSA-CHACHA20-POLY1305") == 0);
	for (size_t rlen = 0; rlen < 40; rlen++) {
		for (size_t j = 0; j < sizeof(junk); j++)
			junk[j] = (uint8_t)rnd();
		memcpy(junk, "\x15\xfe\xfd\x00\x01", 5);
		junk[11] = 0;
		junk[12] = (uint8_t)rlen;
		UT_EQ(dtls_input(s, junk, 13 + rlen, 0), 0);
	}
	UT_EQ(dtls_state(s), DTLS_CONNECTED);
	SSL_shutdown(r.ssl);
	UT_EQ(BIO_pending(r.wbio), 13 + 18);
	raw_run(&r, s);
	UT_EQ(dtls_state(s), DTLS_CLOSED);
out:
	dtls_endpoint_free(s);
	raw_peer_free(&r);
	dtls_cert_free(sc);
}

UT_TEST(peer_without_use_srtp_fails)
{
	struct dtls_cert *sc = dtls_cert_new();
	struct dtls_endpoint *s = NULL;
	struct raw_peer r = { 0 };

	UT_CHECK(sc && raw_peer_new(&r, false, NULL));
	if (!sc || !r.ssl)
		goto out;
	s = dtls_endpoint_new(sc, DTLS_ROLE_SERVER, "sha-256", r.fp);
	UT_CHECK(s != NULL && dtls_start(s, 0) == 0);
	raw_run(&r, s);
	UT_EQ(dtls_state(s), DTLS_FAILED);
	UT_CHECK(strstr(dtls_error(s), "SRTP") != NULL);
	UT_EQ(dtls_srtp_keys(s, NULL, NULL, NULL, NULL), -EAGAIN);
out:
	dtls_endpoint_free(s);
	raw_peer_free(&r);
	dtls_cert_free(sc);
}

/* The client is told a wrong server fingerprint: it fails when its handshake
 * completes and closes; the server, whose check passed, sees the close. */
UT_TEST(fingerprint_mismatch_at_client)
{
	struct pair p = { 0 };
	uint8_t x = 23;

	UT_CHECK(pair_new(&p, true, false));
	if (!p.c || !p.s)
		goto out;
	pair_connect(&p);
	UT_EQ(dtls_state(p.c), DTLS_FAILED);
	UT_CHECK(strstr(dtls_error(p.c), "fingerprint mismatch") != NULL);
	UT_CHECK(strstr(dtls_error(p.c), dtls_cert_fingerprint(p.sc)) != NULL);
	UT_EQ(dtls_srtp_keys(p.c, NULL, NULL, NULL, NULL), -EAGAIN);
	UT_EQ(dtls_input(p.c, &x, 1, 0), -EPROTO);
	UT_EQ(dtls_timeout_ms(p.c, 0), -1);
	UT_EQ(dtls_state(p.s), DTLS_CLOSED);
	UT_CHECK(strcmp(dtls_error(p.s), "") == 0);
out:
	pair_free(&p);
}

UT_TEST(fingerprint_mismatch_at_server)
{
	struct pair p = { 0 };

	UT_CHECK(pair_new(&p, false, true));
	if (!p.c || !p.s)
		goto out;
	pair_connect(&p);
	UT_EQ(dtls_state(p.s), DTLS_FAILED);
	UT_CHECK(strstr(dtls_error(p.s), "fingerprint mismatch") != NULL);
	UT_CHECK(strstr(dtls_error(p.s), dtls_cert_fingerprint(p.cc)) != NULL);
	UT_EQ(dtls_srtp_keys(p.s, NULL, NULL, NULL, NULL), -EAGAIN);
	UT_EQ(dtls_state(p.c), DTLS_CLOSED);
out:
	pair_free(&p);
}

/* Two clients: the second gets a ClientHello, fails with a fatal alert, and
 * the alert fails the first. */
UT_TEST(handshake_error_fails_both)
{
	struct dtls_cert *a = dtls_cert_new(), *b = dtls_cert_new();
	struct dtls_endpoint *x = NULL, *y = NULL;

	UT_CHECK(a && b);
	if (!a || !b)
		goto out;
	x = dtls_endpoint_new(a, DTLS_ROLE_CLIENT, "sha-256", dtls_cert_fingerprint(b));
	y = dtls_endpoint_new(b, DTLS_ROLE_CLIENT, "sha-256", dtls_cert_fingerprint(a));
	UT_CHECK(x && y);
	if (!x || !y)
		goto out;
	UT_EQ(dtls_start(x, 0), 0);
	UT_EQ(dtls_start(y, 0), 0);
	run(x, y, 0);
	UT_EQ(dtls_state(x), DTLS_FAILED);
	UT_EQ(dtls_state(y), DTLS_FAILED);
	UT_CHECK(strncmp(dtls_error(x), "DTLS handshake failed: ", 23) == 0);
	UT_CHECK(strncmp(dtls_error(y), "DTLS handshake failed: ", 23) == 0);
out:
	dtls_endpoint_free(x);
	dtls_endpoint_free(y);
	dtls_cert_free(a);
	dtls_cert_free(b);
}

/* Feed one datagram; the result and the state must agree. */
static bool input_consistent(struct dtls_endpoint *ep, const uint8_t *d, size_t len)
{
	int rc = dtls_input(ep, d, len, 0);

	if (rc == -EPROTO)
		return dtls_state(ep) == DTLS_FAILED && dtls_error(ep)[0] != '\0';
	return rc == 0 && dtls_state(ep) != DTLS_FAILED;
}

UT_TEST(garbage_is_ignored_or_fails_cleanly)
{
	struct dtls_cert *cc = dtls_cert_new(), *sc = dtls_cert_new();
	struct pair p = { 0 };
	uint8_t junk[1500], *big;
	int failed = 0;

	UT_CHECK(cc && sc);
	if (!cc || !sc)
		goto out;

	/* Random records, handshake-looking or not, into fresh servers and
	 * clients: never a crash, and a failure always says why. */
	for (int i = 0; i < 600; i++) {
		struct dtls_endpoint *ep = dtls_endpoint_new(i & 1 ? sc : cc,
			i & 1 ? DTLS_ROLE_SERVER : DTLS_ROLE_CLIENT, "sha-256",
			dtls_cert_fingerprint(i & 1 ? cc : sc));
		size_t len = 13 + rnd() % 300;

		for (size_t j = 0; j < len; j++)
			junk[j] = (uint8_t)rnd();
		junk[0] = (uint8_t)(20 + rnd() % 6);
		junk[1] = 0xfe;
		junk[2] = rnd() & 1 ? 0xfd : 0xff;
		junk[3] = 0;
		junk[4] = rnd() % 4 ? 0 : 1;
		junk[11] = (uint8_t)((len - 13) >> 8);
		junk[12] = (uint8_t)(len - 13);
		if (junk[0] == 22 && len > 25) {
			/* a handshake header with consistent lengths */
			size_t body = len - 25;

			junk[13] = (uint8_t)(rnd() % 21);
			junk[14] = junk[22] = 0;
			junk[15] = junk[23] = (uint8_t)(body >> 8);
			junk[16] = junk[24] = (uint8_t)body;
			junk[19] = junk[20] = junk[21] = 0;
			if (rnd() & 1)
				junk[17] = junk[18] = 0; /* the message_seq expected */
		}
		UT_CHECK(ep != NULL);
		if (!ep)
			break;
		if (!input_consistent(ep, junk, len) || !input_consistent(ep, junk, rnd() % len))
			UT_CHECK(!"input result and state agree");
		failed += dtls_state(ep) == DTLS_FAILED;
		dtls_endpoint_free(ep);
	}
	printf("  garbage: %d of 600 fresh endpoints failed\n", failed);

	/* Records that are not DTLS 1.x, or lie about their length, are
	 * dropped (RFC 6347 4.1.2.7) and the handshake goes on. */
	UT_CHECK(pair_new(&p, false, false));
	if (!p.c || !p.s)
		goto out;
	UT_EQ(dtls_start(p.s, 0), 0);
	UT_EQ(dtls_start(p.c, 0), 0);
	for (int i = 0; i < 50; i++) {
		size_t len = 1 + rnd() % sizeof(junk);

		for (size_t j = 0; j < len; j++)
			junk[j] = (uint8_t)rnd();
		if (len > 2 && i % 2)
			junk[1] = 0x03; /* a TLS version: not DTLS */
		else if (len > 13)
			junk[0] = 22, junk[1] = 0xfe, junk[2] = 0xfd, junk[11] = 0xff; /* too long */
		UT_EQ(dtls_input(p.s, junk, len, 0), 0);
		UT_EQ(dtls_input(p.c, junk, len, 0), 0);
	}
	UT_EQ(dtls_input(p.s, NULL, 0, 0), 0);
	/* Plaintext records no correct peer sends: OpenSSL 3.0 would fail the
	 * handshake on each (RFC 6347 4.1.2.7 says drop). */
	{
		static const uint8_t bad[][20] = {
			/* CCS of 2 bytes, CCS of value 2 */
			{ 20, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 1, 1 },
			{ 20, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 2 },
			/* alert of 3 bytes, alert of level 3 */
			{ 21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 3, 2, 40, 0 },
			{ 21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 3, 40 },
			/* application data in the clear */
			{ 23, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4 },
			/* handshake fragment past its message, fragment short */
			{ 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 7, 1, 0, 0, 1 },
			/* heartbeat */
			{ 24, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 3, 1, 0, 0 },
		};
		static const uint8_t hs_over[25] = {
			22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 12,
			1, 0, 0, 4, 0, 0, 0, 0, 2, 0, 0, 4, /* 2 + 4 > 4 */
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			size_t len = 13 + bad[i][12];

			UT_EQ(dtls_input(p.s, bad[i], len, 0), 0);
			UT_EQ(dtls_input(p.c, bad[i], len, 0), 0);
		}
		UT_EQ(dtls_input(p.s, hs_over, sizeof(hs_over), 0), 0);
		UT_EQ(dtls_input(p.c, hs_over, sizeof(hs_over), 0), 0);
	}
	/* Larger than OpenSSL's read buffer, and larger than UDP allows. */
	big = calloc(1, 70000);
	UT_CHECK(big != NULL);
	if (big) {
		memcpy(big, "\x16\xfe\xfd\x00\x00\x00\x00\x00\x00\x00\x09\xff\xff", 13);
		memcpy(big + 20000, "\x16\xfe\xfd\x00\x00\x00\x00\x00\x00\x00\x09\x00\x10", 13);
		UT_EQ(dtls_input(p.s, big, 40000, 0), 0);
		UT_EQ(dtls_input(p.s, big, 70000, 0), 0); /* not a UDP datagram */
		free(big);
	}
	run(p.c, p.s, 0);
	UT_EQ(dtls_state(p.c), DTLS_CONNECTED);
	UT_EQ(dtls_state(p.s), DTLS_CONNECTED);

	/* Forged records under the negotiated epoch, of every type and of every
	 * length around the AEAD overhead (OpenSSL 3.0 alone would fail the
	 * association on the short ones), alone or behind a good-looking one:
	 * dropped, and the association stays up. */
	for (int type = 20; type <= 26; type++) {
		for (size_t rlen = 0; rlen <= 64; rlen++) {
			size_t len = 13 + rlen;

			for (size_t j = 0; j < len; j++)
				junk[j] = (uint8_t)rnd();
			junk[0] = (uint8_t)type;
			junk[1] = 0xfe;
			junk[2] = 0xfd;
			junk[3] = 0;
			junk[4] = 1;
			junk[11] = 0;
			junk[12] = (uint8_t)rlen;
			UT_EQ(dtls_input(p.c, junk, len, 0), 0);
			UT_EQ(dtls_input(p.s, junk, len, 0), 0);
			/* the same behind a 40-byte sealed application record */
			memmove(junk + 53, junk, len);
			memcpy(junk, "\x17\xfe\xfd\x00\x01\x00\x00\x00\x00\x00\x63\x00\x28", 13);
			UT_EQ(dtls_input(p.c, junk, len + 53, 0), 0);
			UT_EQ(dtls_input(p.s, junk, len + 53, 0), 0);
		}
	}
	UT_EQ(dtls_state(p.c), DTLS_CONNECTED);
	UT_EQ(dtls_state(p.s), DTLS_CONNECTED);
out:
	pair_free(&p);
	dtls_cert_free(cc);
	dtls_cert_free(sc);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * The ClientHello is lost: once the (wall-clock) timer is due it goes out
 * again, as its own datagram beside the first one still queued, and the copy
 * alone completes the handshake.
 */
UT_TEST(lost_flight_is_retransmitted)
{
	struct pair p = { 0 };
	uint8_t first[2048], again[2048];
	size_t n1, n2;
	int t;

	UT_CHECK(pair_new(&p, false, false));
	if (!p.c || !p.s)
		goto out;
	UT_EQ(dtls_start(p.s, 0), 0);
	UT_EQ(dtls_timeout_ms(p.s, 0), DTLS_HANDSHAKE_TIMEOUT_MS); /* deadline only */
	UT_EQ(dtls_start(p.c, 0), 0);
	t = dtls_timeout_ms(p.c, 0);
	UT_CHECK(t > 0 && t <= 1000);
	dtls_on_timer(p.c, 0);                         /* not due: nothing */
	sleep_ms(t + 20);
	UT_EQ(dtls_timeout_ms(p.c, t + 20), 0);
	dtls_on_timer(p.c, (uint64_t)t + 20);
	UT_EQ(dtls_state(p.c), DTLS_CONNECTING);
	t = dtls_timeout_ms(p.c, (uint64_t)t + 20);
	UT_CHECK(t > 1000 && t <= 2000);               /* doubled (RFC 6347 4.2.4.1) */

	n1 = dtls_output(p.c, first, sizeof(first));
	n2 = dtls_output(p.c, again, sizeof(again));
	UT_CHECK(n1 > 13 && dgram_ok(first, n1));
	UT_EQ(n2, n1);
	UT_EQ(dtls_output(p.c, again + n2, sizeof(again) - n2), 0);
	/* Same record header but its sequence number, same ClientHello. */
	UT_MEMEQ(first, again, 5);
	UT_CHECK(memcmp(first + 5, again + 5, 6) != 0);
	if (n1 == n2 && n1 > 13)
		UT_MEMEQ(first + 13, again + 13, n1 - 13);

	UT_EQ(dtls_input(p.s, again, n2, 1100), 0);
	run(p.c, p.s, 1100);
	UT_EQ(dtls_state(p.c), DTLS_CONNECTED);
	UT_EQ(dtls_state(p.s), DTLS_CONNECTED);
out:
	pair_free(&p);
}

UT_TEST(handshake_deadline)
{
	struct pair p = { 0 };
	const uint64_t t0 = 5000;

	UT_CHECK(pair_new(&p, false, false));
	if (!p.c || !p.s)
		goto out;
	UT_EQ(dtls_start(p.c, t0), 0);
	UT_EQ(dtls_start(p.s, t0), 0);
	UT_EQ(dtls_timeout_ms(p.s, t0 + DTLS_HANDSHAKE_TIMEOUT_MS - 10), 10);
	UT_EQ(dtls_timeout_ms(p.s, t0 + DTLS_HANDSHAKE_TIMEOUT_MS + 10), 0);
	dtls_on_timer(p.c, t0 + DTLS_HANDSHAKE_TIMEOUT_MS - 1);
	dtls_on_timer(p.s, t0 + DTLS_HANDSHAKE_TIMEOUT_MS - 1);
	UT_EQ(dtls_state(p.c), DTLS_CONNECTING);
	UT_EQ(dtls_state(p.s), DTLS_CONNECTING);
	dtls_on_timer(p.c, t0 + DTLS_HANDSHAKE_TIMEOUT_MS);
	dtls_on_timer(p.s, t0 + DTLS_HANDSHAKE_TIMEOUT_MS);
	UT_EQ(dtls_state(p.c), DTLS_FAILED);
	UT_EQ(dtls_state(p.s), DTLS_FAILED);
	UT_CHECK(strstr(dtls_error(p.c), "timed out") != NULL);
	UT_EQ(dtls_timeout_ms(p.c, t0 + DTLS_HANDSHAKE_TIMEOUT_MS), -1);
	/* Too late: the ClientHello no longer counts. */
	UT_EQ(pump(p.c, p.s, t0 + DTLS_HANDSHAKE_TIMEOUT_MS), 1);
	UT_EQ(dtls_state(p.s), DTLS_FAILED);
	UT_EQ(dtls_start(p.s, 0), -EPROTO);
out:
	pair_free(&p);
}

UT_TEST(close_notify_closes_peer)
{
	struct pair p = { 0 };
	uint8_t buf[2048];
	size_t n;

	UT_CHECK(pair_new(&p, false, false) && pair_connect(&p));
	if (dtls_state(p.s) != DTLS_CONNECTED)
		goto out;
	dtls_close(p.s);
	UT_EQ(dtls_state(p.s), DTLS_CLOSED);
	n = dtls_output(p.s, buf, sizeof(buf));
	UT_CHECK(n > 13 && dgram_ok(buf, n) && buf[0] == 21); /* one alert record */
	UT_EQ(dtls_output(p.s, buf + n, sizeof(buf) - n), 0);
	UT_EQ(dtls_input(p.c, buf, n, 0), 0);
	UT_EQ(dtls_state(p.c), DTLS_CLOSED);
	UT_CHECK(strcmp(dtls_error(p.c), "") == 0);
	/* The client answers with its own close_notify (RFC 5246 7.2.1). */
	n = dtls_output(p.c, buf, sizeof(buf));
	UT_CHECK(n > 13 && buf[0] == 21);
	UT_EQ(dtls_input(p.s, buf, n, 0), 0);
	UT_EQ(dtls_state(p.s), DTLS_CLOSED);
	/* Keys stay readable for the data plane; the endpoint is done. */
	UT_EQ(dtls_srtp_keys(p.c, NULL, NULL, NULL, NULL), 0);
	UT_EQ(dtls_timeout_ms(p.c, 0), -1);
	dtls_close(p.c);
	UT_EQ(dtls_output(p.c, buf, sizeof(buf)), 0);
out:
	pair_free(&p);
}

UT_MAIN("dtls",
	UT_CASE(cert_fingerprint_format),
	UT_CASE(tls_cert_files_written_once),
	UT_CASE(endpoint_new_checks_arguments),
	UT_CASE(handshake_gcm_and_key_split),
	UT_CASE(srtp_round_trip_with_exported_keys),
	UT_CASE(lowercase_fingerprint_and_implicit_start),
	UT_CASE(server_profile_order_wins),
	UT_CASE(client_takes_server_profile_cm),
	UT_CASE(peer_offering_cm_only_gets_cm),
	UT_CASE(chacha_suite_and_its_short_records),
	UT_CASE(peer_without_use_srtp_fails),
	UT_CASE(fingerprint_mismatch_at_client),
	UT_CASE(fingerprint_mismatch_at_server),
	UT_CASE(handshake_error_fails_both),
	UT_CASE(garbage_is_ignored_or_fails_cleanly),
	UT_CASE(lost_flight_is_retransmitted),
	UT_CASE(handshake_deadline),
	UT_CASE(close_notify_closes_peer))
