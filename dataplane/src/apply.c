/*
 * apply.c — a worker applies the main lcore's commands to the slots it owns.
 *
 * The main lcore has already validated every command against its control
 * view (ids exist, ownership, limits), so applying cannot fail except for the
 * route table being full, which is counted.  Old SRTP contexts are freed
 * here, by their owner, once nothing can use them any more.
 *
 * Threading: the owning worker lcore (ROUTE_ADD/DEL: every worker, each on
 * its own private table).
 */
#include <string.h>

#include <rte_hash.h>
#include <rte_mempool.h>

#include "dp.h"

static void list_remove(uint32_t *list, uint16_t *n, uint32_t slot)
{
	for (uint16_t i = 0; i < *n; i++) {
		if (list[i] == slot) {
			list[i] = list[--*n];
			return;
		}
	}
}

static void set_keys(struct dp_transport *t, struct sfu_srtp_ctx *rx, struct sfu_srtp_ctx *tx)
{
	sfu_srtp_ctx_free(t->srtp_rx);
	sfu_srtp_ctx_free(t->srtp_tx);
	t->srtp_rx = rx;
	t->srtp_tx = tx;
}

static void transport_add(struct dp_worker *w, const struct dp_cmd *cmd)
{
	struct dp_transport *t = &dp.transports[cmd->slot];

	memset(t, 0, sizeof(*t));
	t->id = cmd->id;
	t->worker = (uint16_t)w->index;
	t->kind = cmd->u.t_add.kind;
	t->rtcp_ssrc = cmd->u.t_add.rtcp_ssrc;
	sfu_srtp_stream_init(&t->rtcp_tx);
	t->flow.src_mac = dp.iface.mac;
	t->flow.src_ip = dp.iface.ip;
}

static void transport_bind(const struct dp_cmd *cmd)
{
	struct dp_transport *t = &dp.transports[cmd->slot];

	t->tuple = cmd->u.bind.tuple;
	t->bound = true;
	t->flow.dst_ip = t->tuple.remote_ip;
	t->flow.dst_port = t->tuple.remote_port;
	t->flow.src_port = t->tuple.local_port;
	t->next_hop = cmd->u.bind.next_hop;
	t->has_mac = false;
	t->resolve_tsc = 0;
	/* A new path starts new SRTCP replay state for what arrives on it. */
	memset(t->rtcp_rx, 0, sizeof(t->rtcp_rx));
}

static void producer_add(struct dp_worker *w, const struct dp_cmd *cmd)
{
	struct dp_producer *p = &dp.producers[cmd->slot];
	const struct sfu_msg_producer_add *a = &cmd->u.p_add.a;
	struct dp_transport *t = &dp.transports[dp_slot(a->transport)];

	memset(p, 0, offsetof(struct dp_producer, consumers));
	p->id = cmd->id;
	p->transport = dp_slot(a->transport);
	p->ssrc = a->ssrc;
	p->rtx_ssrc = a->rtx_ssrc;
	p->pt = a->pt;
	p->rtx_pt = a->rtx_pt;
	p->kind = (uint8_t)a->kind;
	p->paused = a->paused;
	p->tap = a->tap;
	p->clock_rate = a->clock_rate;
	sfu_srtp_stream_init(&p->rx);
	sfu_srtp_stream_init(&p->rx_rtx);
	t->producers[t->n_producers++] = cmd->slot;
	/* Levels only for audio: the per-packet check is then one byte. */
	if (a->kind == SFU_MEDIA_AUDIO && a->level_ext_id != 0) {
		p->level_ext_id = a->level_ext_id;
		p->level_channel = (uint8_t)cmd->u.p_add.channel;
		p->level_idx = w->n_levels;
		w->level_slots[w->n_levels++] = cmd->slot;
	}
}

static void producer_remove(struct dp_worker *w, const struct dp_cmd *cmd)
{
	struct dp_producer *p = &dp.producers[cmd->slot];
	struct dp_transport *t = &dp.transports[p->transport];

	list_remove(t->producers, &t->n_producers, cmd->slot);
	if (p->level_ext_id != 0) {
		/* Swap the last entry into its place. */
		uint32_t last = w->level_slots[--w->n_levels];

		w->level_slots[p->level_idx] = last;
		dp.producers[last].level_idx = p->level_idx;
		p->level_ext_id = 0;
	}
	p->id = 0;
}

static void consumer_add(const struct dp_cmd *cmd)
{
	struct dp_consumer *c = &dp.consumers[cmd->slot];
	const struct sfu_msg_consumer_add *a = &cmd->u.c_add.c;
	struct dp_producer *p = &dp.producers[cmd->u.c_add.producer_slot];
	struct dp_transport *t = &dp.transports[dp_slot(a->transport)];

	memset(c, 0, sizeof(*c));
	c->id = cmd->id;
	c->transport = dp_slot(a->transport);
	c->producer = cmd->u.c_add.producer_slot;
	c->ssrc = a->ssrc;
	c->rtx_ssrc = a->rtx_ssrc;
	c->pt = a->pt;
	c->rtx_pt = a->rtx_pt;
	c->paused = a->paused;
	sfu_srtp_stream_init(&c->tx);
	p->consumers[p->n_consumers++] = cmd->slot;
	t->consumers[t->n_consumers++] = cmd->slot;
}

static void consumer_remove(const struct dp_cmd *cmd)
{
	struct dp_consumer *c = &dp.consumers[cmd->slot];
	struct dp_producer *p = &dp.producers[c->producer];
	struct dp_transport *t = &dp.transports[c->transport];

	list_remove(p->consumers, &p->n_consumers, cmd->slot);
	list_remove(t->consumers, &t->n_consumers, cmd->slot);
	c->id = 0;
}

void dp_apply(struct dp_worker *w, struct dp_cmd *cmd)
{
	struct dp_transport *t = &dp.transports[cmd->slot];

	switch (cmd->type) {
	case DP_CMD_TRANSPORT_ADD:
		transport_add(w, cmd);
		break;
	case DP_CMD_TRANSPORT_BIND:
		transport_bind(cmd);
		break;
	case DP_CMD_ROUTE_ADD: {
		uint64_t v = ((uint64_t)cmd->worker << 32) | cmd->id;

		if (rte_hash_add_key_data(w->routes, &cmd->u.bind.tuple, (void *)(uintptr_t)v) < 0)
			dp_drop(w->st, SFU_DROP_NO_TRANSPORT);
		break;
	}
	case DP_CMD_ROUTE_DEL:
		rte_hash_del_key(w->routes, &cmd->u.bind.tuple);
		break;
	case DP_CMD_TRANSPORT_KEYS:
		set_keys(t, cmd->u.keys.rx, cmd->u.keys.tx);
		break;
	case DP_CMD_TRANSPORT_REMOVE:
		set_keys(t, NULL, NULL);
		t->id = 0;
		t->bound = false;
		break;
	case DP_CMD_PRODUCER_ADD:
		producer_add(w, cmd);
		break;
	case DP_CMD_PRODUCER_REMOVE:
		producer_remove(w, cmd);
		break;
	case DP_CMD_PRODUCER_PAUSE:
		if (dp.producers[cmd->slot].paused && !cmd->u.on)
			dp_media_request_keyframe(w, &dp.producers[cmd->slot]);
		dp.producers[cmd->slot].paused = cmd->u.on;
		break;
	case DP_CMD_PRODUCER_TAP:
		dp.producers[cmd->slot].tap = cmd->u.on;
		break;
	case DP_CMD_CONSUMER_ADD:
		consumer_add(cmd);
		if (!cmd->u.c_add.c.paused)
			dp_media_request_keyframe(w, &dp.producers[cmd->u.c_add.producer_slot]);
		break;
	case DP_CMD_CONSUMER_REMOVE:
		consumer_remove(cmd);
		break;
	case DP_CMD_CONSUMER_PAUSE: {
		struct dp_consumer *c = &dp.consumers[cmd->slot];

		if (c->paused && !cmd->u.on) {
			c->resync = true;
			/* The receiver decodes only from a keyframe. */
			dp_media_request_keyframe(w, &dp.producers[c->producer]);
		}
		c->paused = cmd->u.on;
		break;
	}
	default:
		break;
	}
	rte_mempool_put(dp.cmd_pool, cmd);
}
