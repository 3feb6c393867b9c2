/*
 * dp_neigh.c — neighbour cache (dp_neigh.h): single writer, seqlock readers.
 *
 * Threading: see the header.  Writes bracket an entry's fields with two
 * increments of its seq (release); readers sample seq before and after.
 */
#include <errno.h>
#include <string.h>

#include "dp_neigh.h"

#define READ_RETRIES 16

static uint32_t slot_of(uint32_t ip)
{
	/* Fibonacci hashing spreads the low-entropy host part of an address. */
	return (uint32_t)((ip * 2654435761u) >> 20) & (DP_NEIGH_SIZE - 1);
}

void dp_neigh_init(struct dp_neigh_table *t)
{
	memset(t, 0, sizeof(*t));
}

int dp_neigh_lookup(const struct dp_neigh_table *t, uint32_t ip, struct rte_ether_addr *mac)
{
	uint32_t i = slot_of(ip);

	for (uint32_t n = 0; n < DP_NEIGH_SIZE; n++, i = (i + 1) & (DP_NEIGH_SIZE - 1)) {
		const struct dp_neigh_entry *e = &t->e[i];

		for (int tries = 0; tries < READ_RETRIES; tries++) {
			uint32_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
			uint8_t state;
			uint32_t eip;
			struct rte_ether_addr m;

			if (s1 & 1)
				continue;
			state = e->state;
			eip = e->ip;
			m = e->mac;
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != s1)
				continue;
			if (state == DP_NEIGH_FREE)
				return -ENOENT;
			if (state == DP_NEIGH_VALID && eip == ip) {
				*mac = m;
				return 0;
			}
			break; /* a tombstone or another address: keep probing */
		}
	}
	return -ENOENT;
}

static void write_begin(struct dp_neigh_entry *e)
{
	__atomic_store_n(&e->seq, e->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void write_end(struct dp_neigh_table *t, struct dp_neigh_entry *e)
{
	__atomic_store_n(&e->seq, e->seq + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&t->version, t->version + 1, __ATOMIC_RELEASE);
}

/* Writer-side search: the entry for ip, or NULL with *free_slot the first
 * reusable slot on the chain (or NULL when the chain is full). */
static struct dp_neigh_entry *find(struct dp_neigh_table *t, uint32_t ip,
				   struct dp_neigh_entry **free_slot)
{
	uint32_t i = slot_of(ip);

	*free_slot = NULL;
	for (uint32_t n = 0; n < DP_NEIGH_SIZE; n++, i = (i + 1) & (DP_NEIGH_SIZE - 1)) {
		struct dp_neigh_entry *e = &t->e[i];

		if (e->state == DP_NEIGH_FREE) {
			if (*free_slot == NULL)
				*free_slot = e;
			return NULL;
		}
		if (e->state == DP_NEIGH_DEAD) {
			if (*free_slot == NULL)
				*free_slot = e;
			continue;
		}
		if (e->ip == ip)
			return e;
	}
	return NULL;
}

int dp_neigh_present(const struct dp_neigh_table *t, uint32_t ip)
{
	struct dp_neigh_entry *slot;

	return find((struct dp_neigh_table *)t, ip, &slot) != NULL;
}

int dp_neigh_update(struct dp_neigh_table *t, uint32_t ip, const struct rte_ether_addr *mac,
		    uint64_t now)
{
	struct dp_neigh_entry *slot, *e = find(t, ip, &slot);
	int changed;

	if (e != NULL) {
		if (e->is_static)
			return 0;
		changed = !rte_is_same_ether_addr(&e->mac, mac);
		if (changed) {
			write_begin(e);
			e->mac = *mac;
			write_end(t, e);
		}
		e->confirmed_tsc = now;
		e->probes = 0;
		return changed;
	}
	if (slot == NULL)
		return -ENOSPC;
	/* Keep a quarter free so probe chains stay short. */
	if (slot->state == DP_NEIGH_FREE && t->used >= DP_NEIGH_SIZE / 4 * 3)
		return -ENOSPC;
	if (slot->state == DP_NEIGH_FREE)
		t->used++;
	write_begin(slot);
	slot->ip = ip;
	slot->mac = *mac;
	slot->state = DP_NEIGH_VALID;
	write_end(t, slot);
	slot->confirmed_tsc = now;
	slot->probes = 0;
	slot->is_static = 0;
	t->valid++;
	return 1;
}

int dp_neigh_set_static(struct dp_neigh_table *t, uint32_t ip, const struct rte_ether_addr *mac)
{
	struct dp_neigh_entry *slot, *e = find(t, ip, &slot);
	int ret;

	if (e != NULL)
		dp_neigh_delete(t, ip);
	ret = dp_neigh_update(t, ip, mac, 0);
	if (ret < 0)
		return ret;
	find(t, ip, &slot)->is_static = 1;
	return 1;
}

int dp_neigh_delete(struct dp_neigh_table *t, uint32_t ip)
{
	struct dp_neigh_entry *slot, *e = find(t, ip, &slot);

	if (e == NULL)
		return -ENOENT;
	write_begin(e);
	e->state = DP_NEIGH_DEAD;
	write_end(t, e);
	t->valid--;
	return 0;
}

int dp_neigh_age(struct dp_neigh_table *t, uint64_t now, uint64_t stale, unsigned int max_probes,
		 void (*probe)(uint32_t ip, void *arg), void *arg)
{
	int deleted = 0;

	for (uint32_t i = 0; i < DP_NEIGH_SIZE; i++) {
		struct dp_neigh_entry *e = &t->e[i];

		if (e->state != DP_NEIGH_VALID || e->is_static || now - e->confirmed_tsc < stale)
			continue;
		if (e->probes >= max_probes) {
			dp_neigh_delete(t, e->ip);
			deleted++;
			continue;
		}
		e->probes++;
		if (probe != NULL)
			probe(e->ip, arg);
	}
	return deleted;
}
