/*
 * sfu_stats.c — counter names (from the X-macro lists of sfu_stats.h),
 * cross-lcore sums, and message type names.
 *
 * Threading: read-only over shared memory; safe from any thread or process.
 */
#include "sfu_stats.h"

#define SFU_NAME_OF(e, n) n,
const char *const sfu_counter_names[SFU_CNT_N] = { SFU_FOREACH_COUNTER(SFU_NAME_OF) };
const char *const sfu_drop_names[SFU_DROP_N] = { SFU_FOREACH_DROP(SFU_NAME_OF) };
#undef SFU_NAME_OF

const unsigned int sfu_lat_bucket_ms[SFU_LAT_BUCKETS - 1] = { 50, 100, 200, 500, 1000,
								 2000, 5000, 10000 };

unsigned int sfu_lat_bucket(uint64_t us)
{
	for (unsigned int i = 0; i < SFU_LAT_BUCKETS - 1; i++)
		if (us <= (uint64_t)sfu_lat_bucket_ms[i] * 1000)
			return i;
	return SFU_LAT_BUCKETS - 1;
}

uint64_t sfu_stats_sum_counter(const struct sfu_shared *sh, enum sfu_counter c)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < sh->n_stat_lcores && i < SFU_MAX_STAT_LCORES; i++)
		sum += __atomic_load_n(&sh->lcore[i].cnt[c], __ATOMIC_RELAXED);
	return sum;
}

uint64_t sfu_stats_sum_drop(const struct sfu_shared *sh, enum sfu_drop d)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < sh->n_stat_lcores && i < SFU_MAX_STAT_LCORES; i++)
		sum += __atomic_load_n(&sh->lcore[i].drop[d], __ATOMIC_RELAXED);
	return sum;
}

const char *sfu_msg_type_name(unsigned int type)
{
	switch (type) {
	case SFU_MSG_HELLO: return "hello";
	case SFU_MSG_TRANSPORT_ADD: return "transport_add";
	case SFU_MSG_TRANSPORT_BIND: return "transport_bind";
	case SFU_MSG_TRANSPORT_KEYS: return "transport_keys";
	case SFU_MSG_TRANSPORT_REMOVE: return "transport_remove";
	case SFU_MSG_PRODUCER_ADD: return "producer_add";
	case SFU_MSG_PRODUCER_REMOVE: return "producer_remove";
	case SFU_MSG_PRODUCER_PAUSE: return "producer_pause";
	case SFU_MSG_PRODUCER_TAP: return "producer_tap";
	case SFU_MSG_CONSUMER_ADD: return "consumer_add";
	case SFU_MSG_CONSUMER_REMOVE: return "consumer_remove";
	case SFU_MSG_CONSUMER_PAUSE: return "consumer_pause";
	case SFU_MSG_PACKET_OUT: return "packet_out";
	case SFU_MSG_REPLY: return "reply";
	case SFU_MSG_PACKET_IN: return "packet_in";
	case SFU_MSG_TRANSPORT_CLOSED: return "transport_closed";
	case SFU_MSG_AUDIO_LEVELS: return "audio_levels";
	case SFU_MSG_TAP_RTP: return "tap_rtp";
	case SFU_MSG_CAPTION: return "caption";
	default: return "?";
	}
}
