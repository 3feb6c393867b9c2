/*
 * test_neigh.c — the neighbour cache: insert, refresh, change, delete,
 * probe chains across tombstones, ageing with refresh probes, capacity.
 */
#include <stdlib.h>

#include "dp_neigh.h"
#include "unit.h"

static struct dp_neigh_table *table(void)
{
	struct dp_neigh_table *t = malloc(sizeof(*t));

	dp_neigh_init(t);
	return t;
}

static struct rte_ether_addr mac_of(uint32_t n)
{
	struct rte_ether_addr m = { { 0x02, 0, (uint8_t)(n >> 24), (uint8_t)(n >> 16),
				      (uint8_t)(n >> 8), (uint8_t)n } };
	return m;
}

UT_TEST(insert_lookup_change)
{
	struct dp_neigh_table *t = table();
	struct rte_ether_addr a = mac_of(1), b = mac_of(2), got;
	uint32_t v;

	UT_EQ(dp_neigh_lookup(t, 0xC6120005, &got), -ENOENT);
	UT_EQ(dp_neigh_update(t, 0xC6120005, &a, 10), 1);
	UT_EQ(dp_neigh_lookup(t, 0xC6120005, &got), 0);
	UT_MEMEQ(&got, &a, 6);
	v = t->version;
	UT_EQ(dp_neigh_update(t, 0xC6120005, &a, 20), 0); /* refresh: no version change */
	UT_EQ(t->version, v);
	UT_EQ(dp_neigh_update(t, 0xC6120005, &b, 30), 1); /* new MAC: version moves */
	UT_CHECK(t->version != v);
	UT_EQ(dp_neigh_lookup(t, 0xC6120005, &got), 0);
	UT_MEMEQ(&got, &b, 6);
	UT_EQ(t->valid, 1);
	UT_EQ(dp_neigh_delete(t, 0xC6120005), 0);
	UT_EQ(dp_neigh_delete(t, 0xC6120005), -ENOENT);
	UT_EQ(dp_neigh_lookup(t, 0xC6120005, &got), -ENOENT);
	UT_EQ(t->valid, 0);
	free(t);
}

UT_TEST(many_and_tombstones)
{
	struct dp_neigh_table *t = table();
	struct rte_ether_addr got, m;
	int ok = 1;

	for (uint32_t i = 0; i < 2000; i++) {
		m = mac_of(i);
		if (dp_neigh_update(t, 0x0A000000 + i, &m, i) != 1)
			ok = 0;
	}
	UT_CHECK(ok);
	/* Delete every other one; the rest stay reachable past the tombstones. */
	for (uint32_t i = 0; i < 2000; i += 2)
		UT_EQ(dp_neigh_delete(t, 0x0A000000 + i), 0);
	for (uint32_t i = 0; i < 2000; i++) {
		int r = dp_neigh_lookup(t, 0x0A000000 + i, &got);

		if (i % 2) {
			m = mac_of(i);
			if (r != 0 || memcmp(&got, &m, 6) != 0)
				ok = 0;
		} else if (r != -ENOENT) {
			ok = 0;
		}
	}
	UT_CHECK(ok);
	UT_EQ(t->valid, 1000);
	/* Re-inserting reuses tombstones. */
	for (uint32_t i = 0; i < 2000; i += 2) {
		m = mac_of(i);
		UT_EQ(dp_neigh_update(t, 0x0A000000 + i, &m, 5), 1);
	}
	UT_EQ(t->valid, 2000);
	free(t);
}

UT_TEST(capacity)
{
	struct dp_neigh_table *t = table();
	struct rte_ether_addr m = mac_of(7);
	uint32_t added = 0;
	int r = 0;

	for (uint32_t i = 0; i < DP_NEIGH_SIZE && r >= 0; i++) {
		r = dp_neigh_update(t, 0x0B000000 + i, &m, 1);
		if (r == 1)
			added++;
	}
	UT_EQ(r, -ENOSPC);
	UT_EQ(added, DP_NEIGH_SIZE / 4 * 3);
	free(t);
}

static uint32_t probed[16];
static unsigned int n_probed;

static void probe(uint32_t ip, void *arg)
{
	(void)arg;
	if (n_probed < 16)
		probed[n_probed++] = ip;
}

UT_TEST(ageing)
{
	struct dp_neigh_table *t = table();
	struct rte_ether_addr m = mac_of(3);
	struct rte_ether_addr got;

	dp_neigh_update(t, 1, &m, 100);
	dp_neigh_update(t, 2, &m, 1000);
	n_probed = 0;
	/* At 1050 with stale = 500: only ip 1 is stale; it is probed, not deleted. */
	UT_EQ(dp_neigh_age(t, 1050, 500, 2, probe, NULL), 0);
	UT_EQ(n_probed, 1);
	UT_EQ(probed[0], 1);
	UT_EQ(dp_neigh_age(t, 1051, 500, 2, probe, NULL), 0);
	UT_EQ(n_probed, 2);
	/* Third tick without an answer: deleted. */
	UT_EQ(dp_neigh_age(t, 1052, 500, 2, probe, NULL), 1);
	UT_EQ(dp_neigh_lookup(t, 1, &got), -ENOENT);
	UT_EQ(dp_neigh_lookup(t, 2, &got), 0);
	/* An answer resets the probes. */
	UT_EQ(dp_neigh_age(t, 1600, 500, 2, probe, NULL), 0);
	UT_EQ(dp_neigh_update(t, 2, &m, 1601), 0);
	UT_EQ(dp_neigh_age(t, 1700, 500, 2, probe, NULL), 0);
	UT_EQ(dp_neigh_lookup(t, 2, &got), 0);
	free(t);
}

UT_TEST(static_entries)
{
	struct dp_neigh_table *t = table();
	struct rte_ether_addr a = mac_of(1), b = mac_of(2), got;

	UT_EQ(dp_neigh_update(t, 9, &a, 1), 1);
	UT_EQ(dp_neigh_set_static(t, 9, &b), 1);
	UT_EQ(dp_neigh_update(t, 9, &a, 2), 0); /* ARP cannot replace it */
	UT_EQ(dp_neigh_lookup(t, 9, &got), 0);
	UT_MEMEQ(&got, &b, 6);
	UT_EQ(dp_neigh_age(t, 1000000, 10, 0, NULL, NULL), 0); /* never aged */
	UT_EQ(dp_neigh_lookup(t, 9, &got), 0);
	UT_EQ(t->valid, 1);
	free(t);
}

UT_MAIN("neigh", UT_CASE(static_entries), UT_CASE(insert_lookup_change), UT_CASE(many_and_tombstones), UT_CASE(capacity),
	UT_CASE(ageing))
