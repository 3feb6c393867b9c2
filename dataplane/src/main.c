/*
 * main.c — sfu-dataplane: the DPDK primary process.
 *
 * Start-up: settings -> EAL -> shared objects (the state block, message
 * pool, rings, media tables, neighbour table) -> port -> worker lcores.
 * The main lcore then runs the control loop (client requests, ARP/ICMP,
 * timers) until SIGINT/SIGTERM, when every lcore stops, the port is closed
 * and the shared objects are released.
 *
 * Threading: dp_force_quit is written only by the signal handler; everything
 * else here runs on the main lcore before the workers start or after they
 * have stopped.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <mntent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_mempool.h>

#include "dp.h"

volatile bool dp_force_quit;
struct dp dp;

static void on_signal(int sig)
{
	(void)sig;
	dp_force_quit = true;
}

static struct rte_ring *ring(const char *name, uint32_t size, unsigned int flags)
{
	struct rte_ring *r = rte_ring_create(name, size, (int)rte_socket_id(), flags);

	if (r == NULL)
		rte_exit(EXIT_FAILURE, "ring %s: %s\n", name, rte_strerror(rte_errno));
	return r;
}

static void *zalloc(const char *what, size_t size)
{
	void *p = rte_zmalloc_socket(what, size, RTE_CACHE_LINE_SIZE, (int)rte_socket_id());

	if (p == NULL)
		rte_exit(EXIT_FAILURE, "%s: cannot allocate %zu bytes of hugepage memory\n",
			 what, size);
	return p;
}

static void add_static_neigh(uint32_t ip, const struct rte_ether_addr *mac, void *arg)
{
	if (dp_neigh_set_static(arg, ip, mac) < 0)
		rte_exit(EXIT_FAILURE, "static_neigh: neighbour table full\n");
}

/* Shared objects every process finds by name, and the private tables. */
static void create_objects(struct dp *d)
{
	char err[128];
	const struct rte_memzone *mz;
	char name[RTE_RING_NAMESIZE];
	struct timeval tv;

	mz = rte_memzone_reserve(SFU_SHARED_MZ, sizeof(struct sfu_shared), (int)rte_socket_id(),
				 RTE_MEMZONE_SIZE_HINT_ONLY);
	if (mz == NULL)
		rte_exit(EXIT_FAILURE, "memzone %s: %s\n", SFU_SHARED_MZ, rte_strerror(rte_errno));
	d->sh = mz->addr;
	memset(d->sh, 0, sizeof(*d->sh));
	d->sh->version = SFU_MSG_VERSION;
	d->sh->primary_pid = (int32_t)getpid();
	d->sh->n_workers = d->n_workers;
	d->sh->ip = d->conf.ip;
	d->sh->announced_ip = d->conf.announced_ip;
	d->sh->rtc_min_port = d->conf.rtc_min_port;
	d->sh->rtc_max_port = d->conf.rtc_max_port;
	d->sh->n_stat_lcores = d->n_workers + 1;
	d->sh->lcore_ids[0] = rte_get_main_lcore();
	d->sh->gauges.workers = d->n_workers;
	d->sh->gauges.tsc_hz = d->hz;
	gettimeofday(&tv, NULL);
	d->sh->gauges.started_unix_ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	d->main_st = &d->sh->lcore[0];

	d->pool = rte_pktmbuf_pool_create("dp_mbufs", d->conf.mbufs, 256, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (d->pool == NULL)
		rte_exit(EXIT_FAILURE, "mbuf pool: %s\n", rte_strerror(rte_errno));
	/* No per-lcore cache: secondaries' lcore ids must never share one. */
	d->msg_reserve = d->conf.msg_pool / 8;
	d->msg_share = d->conf.msg_pool / 4;
	d->msg_pool = rte_mempool_create(SFU_MSG_POOL, d->conf.msg_pool, sizeof(struct sfu_msg), 0,
					 0, NULL, NULL, NULL, NULL, (int)rte_socket_id(), 0);
	if (d->msg_pool == NULL)
		rte_exit(EXIT_FAILURE, "message pool: %s\n", rte_strerror(rte_errno));
	d->cmd_pool = rte_mempool_create("dp_cmds", 4095, sizeof(struct dp_cmd), 0, 0, NULL, NULL,
					 NULL, NULL, (int)rte_socket_id(), 0);
	if (d->cmd_pool == NULL)
		rte_exit(EXIT_FAILURE, "command pool: %s\n", rte_strerror(rte_errno));

	for (unsigned int i = 0; i < SFU_MAX_CLIENTS; i++) {
		snprintf(name, sizeof(name), SFU_RING_REQ_FMT, i);
		d->req[i] = ring(name, 1024, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), SFU_RING_EVT_FMT, i);
		d->evt[i] = ring(name, d->conf.ring_size, RING_F_SC_DEQ);
	}
	d->tap = ring(SFU_RING_TAP, d->conf.ring_size, RING_F_SC_DEQ);
	d->captions = ring(SFU_RING_CAPTIONS, 1024, RING_F_SP_ENQ | RING_F_SC_DEQ);
	d->slow = ring("dp_slow", 1024, RING_F_SC_DEQ);
	d->resolve = ring("dp_resolve", 1024, RING_F_SC_DEQ);

	d->neigh = zalloc("neighbours", sizeof(*d->neigh));
	dp_neigh_init(d->neigh);
	dp_static_neigh_each(d->conf.static_neigh, add_static_neigh, d->neigh, err, sizeof(err));
	d->transports = zalloc("transports", sizeof(*d->transports) * d->conf.max_transports);
	d->producers = zalloc("producers", sizeof(*d->producers) * d->conf.max_producers);
	d->consumers = zalloc("consumers", sizeof(*d->consumers) * d->conf.max_consumers);

	for (unsigned int i = 0; i < d->n_workers; i++) {
		struct dp_worker *w = &d->workers[i];
		struct rte_hash_parameters hp = {
			.entries = d->conf.max_transports * 2,
			.key_len = sizeof(struct sfu_5tuple),
			.hash_func = dp_tuple_hash,
			.socket_id = (int)rte_socket_id(),
		};

		w->index = i;
		w->pool = d->pool;
		w->st = &d->sh->lcore[i + 1];
		snprintf(name, sizeof(name), "dp_cmd_%u", i);
		w->cmd = ring(name, 4096, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "dp_rxh_%u", i);
		w->rx_hand = ring(name, d->conf.ring_size, RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "dp_txh_%u", i);
		w->tx_hand = ring(name, d->conf.ring_size, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "dp_routes_%u", i);
		hp.name = name;
		w->routes = rte_hash_create(&hp);
		w->level_slots = zalloc("level slots", sizeof(uint32_t) * d->conf.max_producers);
		if (w->routes == NULL)
			rte_exit(EXIT_FAILURE, "route table %u: %s\n", i, rte_strerror(rte_errno));
	}
}

static void release_objects(struct dp *d)
{
	/* Tell attached secondaries the primary is gone before memory goes. */
	if (d->sh != NULL)
		__atomic_store_n(&d->sh->magic, 0, __ATOMIC_RELEASE);
	dp_control_free(d);
	for (unsigned int i = 0; i < d->n_workers; i++)
		rte_hash_free(d->workers[i].routes);
}

/*
 * After a clean stop, remove this prefix's hugepage files and runtime
 * directory: the EAL leaves them for secondaries to attach to, and a stopped
 * data plane has none worth keeping (mappings already open stay valid).
 */
static void remove_runtime_files(const char *prefix)
{
	char path[PATH_MAX], pat[128];
	struct mntent *me;
	FILE *mounts;
	DIR *dir;
	struct dirent *de;
	size_t pl;

	snprintf(pat, sizeof(pat), "%smap_", prefix);
	pl = strlen(pat);
	mounts = setmntent("/proc/mounts", "r");
	while (mounts != NULL && (me = getmntent(mounts)) != NULL) {
		if (strcmp(me->mnt_type, "hugetlbfs") != 0 || (dir = opendir(me->mnt_dir)) == NULL)
			continue;
		while ((de = readdir(dir)) != NULL) {
			if (strncmp(de->d_name, pat, pl) == 0)
				unlinkat(dirfd(dir), de->d_name, 0);
		}
		closedir(dir);
	}
	if (mounts != NULL)
		endmntent(mounts);
	snprintf(path, sizeof(path), "/var/run/dpdk/%s", prefix);
	dir = opendir(path);
	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			unlinkat(dirfd(dir), de->d_name, 0);
	closedir(dir);
	rmdir(path);
}

static void main_loop(struct dp *d)
{
	uint64_t tick = rte_get_timer_cycles(), sec = d->hz;

	while (!dp_force_quit) {
		uint64_t now;

		dp_control_poll(d);
		dp_slow_poll(d);
		now = rte_get_timer_cycles();
		if (now - tick >= sec) {
			tick = now;
			dp_control_tick(d);
			dp_slow_tick(d);
		}
		/* The main lcore is not on the fast path: sleep between polls. */
		rte_delay_us_sleep(100);
	}
}

int main(int argc, char **argv)
{
	char err[256], store[2048];
	char *eal_argv[64];
	unsigned int lcore, i;
	int eal_argc, ret;

	ret = dp_conf_from_args(&dp.conf, argc, argv, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "sfu-dataplane: %s\n", err);
		return 2;
	}
	eal_argc = dp_conf_eal_args(&dp.conf, eal_argv, 64, store, sizeof(store));
	if (eal_argc < 0) {
		fprintf(stderr, "sfu-dataplane: EAL arguments too long\n");
		return 2;
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0)
		rte_exit(EXIT_FAILURE, "EAL init failed: %s\n", rte_strerror(rte_errno));
	dp.n_workers = rte_lcore_count() - 1;
	if (dp.n_workers < 1 || dp.n_workers > DP_MAX_WORKERS)
		rte_exit(EXIT_FAILURE, "lcores '%s': need the main lcore and 1..%d workers\n",
			 dp.conf.lcores, DP_MAX_WORKERS);
	dp.hz = rte_get_timer_hz();
	dp.ctrl_channel = -1;

	create_objects(&dp);
	if (dp_port_init(&dp) < 0)
		rte_exit(EXIT_FAILURE, "port '%s' failed to start\n", dp.conf.port);
	memcpy(dp.sh->mac, dp.iface.mac.addr_bytes, sizeof(dp.sh->mac));
	if (dp_control_init(&dp) < 0)
		rte_exit(EXIT_FAILURE, "control tables: out of memory\n");
	if (dp_telemetry_init() < 0)
		fprintf(stderr, "sfu-dataplane: telemetry commands not registered\n");

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		dp.workers[i].lcore_id = lcore;
		dp.sh->lcore_ids[i + 1] = lcore;
		rte_eal_remote_launch(dp_worker_main, &dp.workers[i], lcore);
		i++;
	}
	/* Ready: secondaries may attach from now on. */
	__atomic_store_n(&dp.sh->magic, SFU_SHARED_MAGIC, __ATOMIC_RELEASE);
	printf("sfu-dataplane: ready: %u worker(s), ip %u.%u.%u.%u, udp %u-%u, mac "
	       RTE_ETHER_ADDR_PRT_FMT ", file prefix %s\n",
	       dp.n_workers, dp.conf.ip >> 24, (dp.conf.ip >> 16) & 255, (dp.conf.ip >> 8) & 255,
	       dp.conf.ip & 255, dp.conf.rtc_min_port, dp.conf.rtc_max_port,
	       RTE_ETHER_ADDR_BYTES(&dp.iface.mac), dp.conf.file_prefix);
	fflush(stdout);

	main_loop(&dp);

	printf("sfu-dataplane: stopping\n");
	fflush(stdout);
	rte_eal_mp_wait_lcore();
	dp_port_close(&dp);
	release_objects(&dp);
	rte_eal_cleanup();
	remove_runtime_files(dp.conf.file_prefix);
	printf("sfu-dataplane: stopped\n");
	return 0;
}
