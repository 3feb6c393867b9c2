/*
 * telemetry.c — the data plane's counters through DPDK telemetry
 * (/var/run/dpdk/<prefix>/dpdk_telemetry.v2; `sfu-dpctl telemetry CMD` or
 * dpdk-telemetry.py read it):
 *   /sfu/stats         counters and drops summed over lcores, plus gauges
 *   /sfu/lcore,<n>     one lcore's counters (0 = main, 1.. = workers)
 *
 * Threading: callbacks run on DPDK's telemetry thread and only read the
 * shared counters (see sfu_stats.h).
 */
#include <stdlib.h>

#include <rte_telemetry.h>

#include "dp.h"

static void add_lcore(struct rte_tel_data *d, const struct sfu_lcore_stats *st)
{
	for (int i = 0; i < SFU_CNT_N; i++)
		rte_tel_data_add_dict_u64(d, sfu_counter_names[i],
					  __atomic_load_n(&st->cnt[i], __ATOMIC_RELAXED));
	for (int i = 0; i < SFU_DROP_N; i++)
		rte_tel_data_add_dict_u64(d, sfu_drop_names[i],
					  __atomic_load_n(&st->drop[i], __ATOMIC_RELAXED));
}

static int cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct sfu_shared *sh = dp.sh;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (int i = 0; i < SFU_CNT_N; i++)
		rte_tel_data_add_dict_u64(d, sfu_counter_names[i],
					  sfu_stats_sum_counter(sh, (enum sfu_counter)i));
	for (int i = 0; i < SFU_DROP_N; i++)
		rte_tel_data_add_dict_u64(d, sfu_drop_names[i],
					  sfu_stats_sum_drop(sh, (enum sfu_drop)i));
	rte_tel_data_add_dict_u64(d, "transports", sh->gauges.transports);
	rte_tel_data_add_dict_u64(d, "producers", sh->gauges.producers);
	rte_tel_data_add_dict_u64(d, "consumers", sh->gauges.consumers);
	rte_tel_data_add_dict_u64(d, "neighbors", sh->gauges.neighbors);
	rte_tel_data_add_dict_u64(d, "workers", sh->gauges.workers);
	return 0;
}

static int cmd_lcore(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char *end;
	unsigned long n;

	(void)cmd;
	if (params == NULL || *params == '\0')
		return -1;
	n = strtoul(params, &end, 10);
	if (*end != '\0' || n >= dp.sh->n_stat_lcores)
		return -1;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "lcore_id", dp.sh->lcore_ids[n]);
	add_lcore(d, &dp.sh->lcore[n]);
	return 0;
}

int dp_telemetry_init(void)
{
	if (rte_telemetry_register_cmd("/sfu/stats", cmd_stats,
				       "SFU data plane counters, drops and gauges") < 0)
		return -1;
	return rte_telemetry_register_cmd("/sfu/lcore", cmd_lcore,
					  "One lcore's counters. Parameters: int index (0 = main)");
}
