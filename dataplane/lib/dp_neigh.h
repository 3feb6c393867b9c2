/*
 * dp_neigh.h — the IPv4 neighbour (ARP) cache: IP -> MAC with ageing.
 *
 * Threading: one writer (the data plane's main lcore: it alone handles ARP
 * and ages entries), lock-free readers on every worker.  Each entry carries a
 * sequence counter (odd while being written); readers retry a bounded number
 * of times.  The table's `version` moves on every change, so a worker can
 * cache a transport's next-hop MAC and revalidate it with one load.
 * Open addressing with linear probing and tombstones; fixed size, allocated
 * once (in hugepage memory by the data plane, on the heap by tests).
 */
#ifndef DP_NEIGH_H
#define DP_NEIGH_H

#include <stdint.h>

#include <rte_ether.h>

#define DP_NEIGH_SIZE 4096 /* power of two; at most 3/4 used */

enum dp_neigh_state {
	DP_NEIGH_FREE = 0,
	DP_NEIGH_VALID,
	DP_NEIGH_DEAD, /* tombstone: keeps probe chains intact */
};

struct dp_neigh_entry {
	uint32_t seq;
	uint32_t ip;             /* host order */
	struct rte_ether_addr mac;
	uint8_t state;
	uint8_t probes;          /* refresh requests sent without an answer */
	uint8_t is_static;       /* configured: never aged, never replaced by ARP */
	uint64_t confirmed_tsc;  /* last time the neighbour proved its MAC */
};

struct dp_neigh_table {
	uint32_t version;
	uint32_t used;           /* VALID + DEAD slots */
	uint32_t valid;
	struct dp_neigh_entry e[DP_NEIGH_SIZE];
};

void dp_neigh_init(struct dp_neigh_table *t);

/** Reader: the MAC of ip.  @return 0, or -ENOENT */
int dp_neigh_lookup(const struct dp_neigh_table *t, uint32_t ip, struct rte_ether_addr *mac);

/**
 * Writer: insert or refresh ip -> mac, confirmed now.
 * @return 1 when added or the MAC changed, 0 when refreshed, -ENOSPC when full
 */
int dp_neigh_update(struct dp_neigh_table *t, uint32_t ip, const struct rte_ether_addr *mac,
		    uint64_t now);

/**
 * Writer: a configured (static) entry, e.g. the gateway on a link without
 * ARP.  @return 1, or -ENOSPC when full
 */
int dp_neigh_set_static(struct dp_neigh_table *t, uint32_t ip, const struct rte_ether_addr *mac);

/** Writer: whether ip has an entry (no MAC copy). */
int dp_neigh_present(const struct dp_neigh_table *t, uint32_t ip);

/** Writer: remove ip.  @return 0 or -ENOENT */
int dp_neigh_delete(struct dp_neigh_table *t, uint32_t ip);

/**
 * Writer: age the table.  Entries not confirmed for `stale` cycles get a
 * refresh: probe(ip, arg) is called (the caller sends a unicast-able ARP
 * request) once per call up to max_probes times; then they are deleted.
 * Call it about once per second.  @return number of entries deleted
 */
int dp_neigh_age(struct dp_neigh_table *t, uint64_t now, uint64_t stale, unsigned int max_probes,
		 void (*probe)(uint32_t ip, void *arg), void *arg);

#endif /* DP_NEIGH_H */
