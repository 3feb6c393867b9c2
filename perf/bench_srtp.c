/*
 * bench_srtp.c — single-core SRTP throughput: our OpenSSL fast path
 * (dataplane/lib/sfu_srtp.c) against Debian's libsrtp2, both profiles.
 *
 *   bench_srtp [--seconds S] [--size N] [--count C]
 *
 * Each case protects (or unprotects) one RTP packet of N bytes (12-byte
 * header, default 1200) over and over with a rising sequence number, after a
 * short warm-up, for S seconds (default 1) or C packets, whichever comes
 * first; time from clock_gettime(CLOCK_MONOTONIC).  Unprotect cycles through
 * 512 packets protected beforehand, copying each into a work buffer first
 * (decryption is in place); the copy-only rate is printed so it can be
 * subtracted.  Prints a table, then one machine-readable line per case:
 *   srtp_protect impl=ours profile=gcm size=1200 pps=1234567 gbps=11.85
 *
 * Threading: one thread, pinned to the CPU it starts on.
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <srtp2/srtp.h>

#include "sfu_srtp.h"

#define HDR_LEN 12
#define MAX_SIZE 9000
#define RING 512          /* unprotect: pre-protected packets (~620 KB at 1200 B) */
#define CHECK_EVERY 256   /* iterations between clock reads */

struct bench_opts {
	double seconds;
	size_t size;
	unsigned long count;
};

struct bench_result {
	const char *op, *impl, *profile;
	double pps;
};

/* One case: run(arg, i) handles packet i and returns false on an error. */
struct bench_case {
	const char *op, *impl, *profile;
	bool (*run)(void *arg, unsigned long i);
	void *arg;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs for about `seconds` (or `count` packets); returns packets per second,
 * or -1 when the case reported an error. */
static double measure(const struct bench_case *bc, double seconds, unsigned long count,
		      unsigned long *first_i)
{
	unsigned long i = *first_i, n = 0;
	double t0, t;

	t0 = now_s();
	for (;;) {
		for (int k = 0; k < CHECK_EVERY; k++, i++, n++)
			if (!bc->run(bc->arg, i))
				return -1;
		t = now_s() - t0;
		if (t >= seconds || n >= count)
			break;
	}
	*first_i = i;
	return (double)n / t;
}

static void set_seq(uint8_t *pkt, unsigned long i)
{
	pkt[2] = (uint8_t)(i >> 8);
	pkt[3] = (uint8_t)i;
}

/* ---- ours ---- */

struct ours_arg {
	struct sfu_srtp_ctx *ctx;
	struct sfu_srtp_stream stream;
	size_t size;
	uint8_t *pkt;                 /* protect: the packet, protected in place */
	uint8_t (*ring)[MAX_SIZE + 64];  /* unprotect: packets protected beforehand */
	int ring_len[RING];
};

static bool ours_protect(void *arg, unsigned long i)
{
	struct ours_arg *a = arg;

	set_seq(a->pkt, i);
	return sfu_srtp_protect_rtp(a->ctx, &a->stream, a->pkt, HDR_LEN, a->pkt + HDR_LEN,
				    a->size - HDR_LEN) > 0;
}

static bool ours_unprotect(void *arg, unsigned long i)
{
	struct ours_arg *a = arg;
	unsigned int r = (unsigned int)(i % RING);
	size_t out_len;

	/* Each pass over the ring replays its indexes: start the stream afresh. */
	if (r == 0)
		sfu_srtp_stream_init(&a->stream);
	memcpy(a->pkt, a->ring[r], (size_t)a->ring_len[r]);
	return sfu_srtp_unprotect_rtp(a->ctx, &a->stream, a->pkt, (size_t)a->ring_len[r],
				      HDR_LEN, &out_len) == SFU_SRTP_OK;
}

static bool copy_only(void *arg, unsigned long i)
{
	struct ours_arg *a = arg;
	unsigned int r = (unsigned int)(i % RING);

	memcpy(a->pkt, a->ring[r], (size_t)a->ring_len[r]);
	__asm__ volatile("" : : "r"(a->pkt) : "memory");
	return true;
}

/* ---- libsrtp2 ---- */

struct lib_arg {
	srtp_t session;
	size_t size;
	uint8_t *pkt;
};

static bool lib_protect(void *arg, unsigned long i)
{
	struct lib_arg *a = arg;
	int len = (int)a->size;

	set_seq(a->pkt, i);
	return srtp_protect(a->session, a->pkt, &len) == srtp_err_status_ok;
}

static srtp_t lib_session(enum sfu_srtp_profile prof, const uint8_t *key, const uint8_t *salt,
			  uint32_t ssrc)
{
	uint8_t keysalt[SFU_SRTP_MAX_KEYING_LEN];
	srtp_policy_t pol;
	srtp_t s = NULL;

	memset(&pol, 0, sizeof(pol));
	memcpy(keysalt, key, SFU_SRTP_MASTER_KEY_LEN);
	memcpy(keysalt + SFU_SRTP_MASTER_KEY_LEN, salt, sfu_srtp_salt_len(prof));
	if (prof == SFU_SRTP_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
	} else {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
	}
	pol.ssrc.type = ssrc_specific;
	pol.ssrc.value = ssrc;
	pol.key = keysalt;
	pol.window_size = SFU_SRTP_REPLAY_WINDOW;
	if (srtp_create(&s, &pol) != srtp_err_status_ok)
		return NULL;
	return s;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--seconds S] [--size N] [--count C]\n"
		"  --seconds S  time per case (default 1)\n"
		"  --size N     RTP packet bytes, 12-byte header included (default 1200, %d..%d)\n"
		"  --count C    at most C packets per case (default 100000000)\n",
		prog, HDR_LEN, MAX_SIZE);
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
	o->seconds = 1.0;
	o->size = 1200;
	o->count = 100000000ul;
	for (int i = 1; i < argc; i++) {
		char *end;

		if (i + 1 >= argc) {
			usage(argv[0]);
			return -1;
		}
		errno = 0;
		if (strcmp(argv[i], "--seconds") == 0) {
			o->seconds = strtod(argv[++i], &end);
			if (*end || o->seconds <= 0 || o->seconds > 600)
				goto bad;
		} else if (strcmp(argv[i], "--size") == 0) {
			o->size = strtoul(argv[++i], &end, 10);
			if (*end || o->size < HDR_LEN || o->size > MAX_SIZE)
				goto bad;
		} else if (strcmp(argv[i], "--count") == 0) {
			o->count = strtoul(argv[++i], &end, 10);
			if (*end || o->count == 0)
				goto bad;
		} else {
			usage(argv[0]);
			return -1;
		}
		continue;
bad:
		fprintf(stderr, "%s: bad value for %s: %s\n", argv[0], argv[i - 1], argv[i]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const enum sfu_srtp_profile profs[2] = {
		SFU_SRTP_AES128_CM_SHA1_80, SFU_SRTP_AEAD_AES_128_GCM,
	};
	static const char *const prof_name[2] = { "cm", "gcm" };
	static uint8_t ring[2][RING][MAX_SIZE + 64];
	static uint8_t pkts[8][MAX_SIZE + 256];
	struct ours_arg ours_tx[2], ours_rx[2];
	struct lib_arg lib_tx[2];
	struct bench_case cases[8];
	struct bench_result res[8];
	struct bench_opts o;
	uint8_t key[16], salt[14];
	int n_cases = 0, cpu;
	cpu_set_t set;

	if (parse_opts(argc, argv, &o) != 0)
		return 2;
	cpu = sched_getcpu();
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			fprintf(stderr, "bench_srtp: cannot pin to cpu %d: %s\n", cpu, strerror(errno));
	}
	if (srtp_init() != srtp_err_status_ok) {
		fprintf(stderr, "bench_srtp: srtp_init failed\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 37 + 1);
	for (size_t i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)(i * 91 + 7);
	for (int p = 0; p < 8; p++) {
		memset(pkts[p], 0xab, sizeof(pkts[p]));
		pkts[p][0] = 0x80;
		pkts[p][1] = 96;
		memcpy(pkts[p] + 4, "\x00\x01\x02\x03\x12\x34\x56\x78", 8);   /* ts, SSRC */
	}

	for (int k = 0; k < 2; k++) {
		struct ours_arg *t = &ours_tx[k], *r = &ours_rx[k];
		struct sfu_srtp_ctx *gen;
		struct sfu_srtp_stream gs;

		memset(t, 0, sizeof(*t));
		memset(r, 0, sizeof(*r));
		t->ctx = sfu_srtp_ctx_create(profs[k], key, salt);
		r->ctx = sfu_srtp_ctx_create(profs[k], key, salt);
		gen = sfu_srtp_ctx_create(profs[k], key, salt);
		lib_tx[k].session = lib_session(profs[k], key, salt, 0x12345678);
		if (!t->ctx || !r->ctx || !gen || !lib_tx[k].session) {
			fprintf(stderr, "bench_srtp: cannot create %s contexts\n", prof_name[k]);
			return 1;
		}
		t->size = r->size = lib_tx[k].size = o.size;
		t->pkt = pkts[2 * k];
		r->pkt = pkts[2 * k + 1];
		lib_tx[k].pkt = pkts[4 + k];
		r->ring = ring[k];
		sfu_srtp_stream_init(&t->stream);
		sfu_srtp_stream_init(&r->stream);
		sfu_srtp_stream_init(&gs);
		for (int i = 0; i < RING; i++) {
			memcpy(ring[k][i], pkts[0], o.size);
			set_seq(ring[k][i], (unsigned long)i);
			r->ring_len[i] = sfu_srtp_protect_rtp(gen, &gs, ring[k][i], HDR_LEN,
							      ring[k][i] + HDR_LEN, o.size - HDR_LEN);
		}
		sfu_srtp_ctx_free(gen);

		cases[n_cases++] = (struct bench_case){ "protect", "ours", prof_name[k],
							ours_protect, t };
		cases[n_cases++] = (struct bench_case){ "protect", "libsrtp2", prof_name[k],
							lib_protect, &lib_tx[k] };
		cases[n_cases++] = (struct bench_case){ "unprotect", "ours", prof_name[k],
							ours_unprotect, r };
	}
	cases[n_cases++] = (struct bench_case){ "copy", "memcpy", "-", copy_only, &ours_rx[0] };

	for (int c = 0; c < n_cases; c++) {
		unsigned long i = 0;
		double warm = o.seconds / 10 < 0.2 ? o.seconds / 10 : 0.2;

		if (measure(&cases[c], warm, o.count / 10 + 1, &i) < 0) {
			fprintf(stderr, "bench_srtp: %s %s %s failed\n", cases[c].op,
				cases[c].impl, cases[c].profile);
			return 1;
		}
		res[c] = (struct bench_result){ cases[c].op, cases[c].impl, cases[c].profile,
						measure(&cases[c], o.seconds, o.count, &i) };
		if (res[c].pps < 0) {
			fprintf(stderr, "bench_srtp: %s %s %s failed\n", cases[c].op,
				cases[c].impl, cases[c].profile);
			return 1;
		}
	}

	printf("SRTP, one core (cpu %d), %zu-byte RTP packets (%zu-byte header), %.1f s per case\n",
	       cpu, o.size, (size_t)HDR_LEN, o.seconds);
	printf("%-10s %-9s %-7s %12s %9s %8s\n", "op", "impl", "profile", "pkt/s", "Gbit/s", "ns/pkt");
	for (int c = 0; c < n_cases; c++)
		printf("%-10s %-9s %-7s %12.0f %9.2f %8.1f\n", res[c].op, res[c].impl, res[c].profile,
		       res[c].pps, res[c].pps * (double)o.size * 8 / 1e9, 1e9 / res[c].pps);
	printf("(unprotect includes the per-packet copy shown as memcpy)\n");
	for (int c = 0; c < n_cases; c++)
		printf("srtp_%s impl=%s profile=%s size=%zu pps=%.0f gbps=%.2f\n", res[c].op,
		       res[c].impl, res[c].profile, o.size, res[c].pps,
		       res[c].pps * (double)o.size * 8 / 1e9);

	for (int k = 0; k < 2; k++) {
		sfu_srtp_ctx_free(ours_tx[k].ctx);
		sfu_srtp_ctx_free(ours_rx[k].ctx);
		srtp_dealloc(lib_tx[k].session);
	}
	return 0;
}
