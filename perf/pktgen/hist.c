/*
 * hist.c — HDR-style log-linear latency histogram (nanoseconds).
 *
 * Bucket i < 16 holds the value i; above, each power of two [2^k, 2^(k+1))
 * is split into 16 equal sub-buckets, so a bucket is at most 1/16 of its
 * value wide.  Adding is a count-leading-zeros and an increment: cheap
 * enough for every received packet.
 *
 * Threading: a histogram belongs to one thread (the RX side).
 */
#include "pktgen.h"

static unsigned int bucket(uint64_t v)
{
	unsigned int msb, i;

	if (v < PG_HIST_SUB)
		return (unsigned int)v;
	msb = 63u - (unsigned int)__builtin_clzll(v);
	i = (msb - 3) * PG_HIST_SUB + (unsigned int)((v >> (msb - 4)) & (PG_HIST_SUB - 1));
	return i < PG_HIST_N ? i : PG_HIST_N - 1;
}

uint64_t pg_hist_upper(unsigned int i)
{
	unsigned int msb, sub;

	if (i < PG_HIST_SUB)
		return i + 1;
	msb = i / PG_HIST_SUB + 3;
	sub = i % PG_HIST_SUB;
	return ((uint64_t)(PG_HIST_SUB + sub + 1)) << (msb - 4);
}

void pg_hist_add(struct pg_hist *h, uint64_t ns)
{
	h->count[bucket(ns)]++;
	h->total++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

uint64_t pg_hist_quantile(const struct pg_hist *h, double q)
{
	uint64_t want, acc = 0;

	if (h->total == 0)
		return 0;
	want = (uint64_t)(q * (double)h->total + 0.5);
	if (want < 1)
		want = 1;
	for (unsigned int i = 0; i < PG_HIST_N; i++) {
		acc += h->count[i];
		if (acc >= want) {
			uint64_t up = pg_hist_upper(i);

			return up < h->max_ns ? up : h->max_ns;
		}
	}
	return h->max_ns;
}

void pg_hist_sub(struct pg_hist *out, const struct pg_hist *a, const struct pg_hist *b)
{
	for (unsigned int i = 0; i < PG_HIST_N; i++)
		out->count[i] = a->count[i] - b->count[i];
	out->total = a->total - b->total;
	out->sum_ns = a->sum_ns - b->sum_ns;
	/* The exact maximum of a's later part is unknown: bound it by the
	 * highest non-empty bucket. */
	out->max_ns = 0;
	for (unsigned int i = PG_HIST_N; i-- > 0;)
		if (out->count[i]) {
			uint64_t up = pg_hist_upper(i);

			out->max_ns = up < a->max_ns ? up : a->max_ns;
			break;
		}
}
