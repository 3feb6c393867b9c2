/*
 * control.c — the main lcore's side of the message catalogue: requests from
 * clients (sfu-ctrl, tools) are validated against the control view, turned
 * into commands for the owning worker, and answered with SFU_MSG_REPLY.
 *
 * The control view (below) is the main lcore's own: which slots are in use,
 * their ids and generations, which worker owns each transport, and the
 * relations needed to validate and to cascade removals.  Workers never read
 * it; it never reads worker-owned slots.
 *
 * Threading: main lcore only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_random.h>

#include "dp.h"
#include "sfu_attach.h"

struct ctl_transport {
	uint32_t id;
	uint16_t gen;
	uint16_t worker;
	uint32_t room;
	uint16_t local_port;
	uint16_t n_producers, n_consumers;
	bool bound;
	struct sfu_5tuple tuple;
};

struct ctl_producer {
	uint32_t id;
	uint16_t gen;
	uint16_t n_consumers;
	uint32_t transport; /* slot */
	uint32_t ssrc, rtx_ssrc;
};

struct ctl_consumer {
	uint32_t id;
	uint16_t gen;
	uint32_t transport, producer; /* slots */
	uint32_t ssrc;
};

/* A fixed set of slots with a free stack. */
struct ctl_slots {
	uint32_t *free;
	uint32_t n_free, cap;
};

static struct {
	struct ctl_transport *t;
	struct ctl_producer *p;
	struct ctl_consumer *c;
	struct ctl_slots ts, ps, cs;
	uint32_t per_worker[DP_MAX_WORKERS];
	struct rte_hash *tuples; /* bound 5-tuples -> transport slot, for uniqueness */
} ctl;

static int slots_init(struct ctl_slots *s, uint32_t cap)
{
	s->free = malloc(sizeof(uint32_t) * cap);
	if (s->free == NULL)
		return -ENOMEM;
	s->cap = cap;
	s->n_free = cap;
	for (uint32_t i = 0; i < cap; i++)
		s->free[i] = cap - 1 - i; /* pop order 0, 1, 2, ... */
	return 0;
}

static int slot_get(struct ctl_slots *s)
{
	return s->n_free ? (int)s->free[--s->n_free] : -ENOSPC;
}

static void slot_put(struct ctl_slots *s, uint32_t slot)
{
	s->free[s->n_free++] = slot;
}

/* id = generation (12 bits, never 0) << 20 | slot. */
static uint32_t make_id(uint16_t *gen, uint32_t slot)
{
	*gen = (uint16_t)((*gen % 4095) + 1);
	return ((uint32_t)*gen << DP_SLOT_BITS) | slot;
}

int dp_control_init(struct dp *d)
{
	struct rte_hash_parameters hp = {
		.name = "dp_ctl_tuples",
		.entries = d->conf.max_transports * 2,
		.key_len = sizeof(struct sfu_5tuple),
		.hash_func = dp_tuple_hash,
		.socket_id = (int)rte_socket_id(),
	};

	ctl.t = calloc(d->conf.max_transports, sizeof(*ctl.t));
	ctl.p = calloc(d->conf.max_producers, sizeof(*ctl.p));
	ctl.c = calloc(d->conf.max_consumers, sizeof(*ctl.c));
	ctl.tuples = rte_hash_create(&hp);
	if (ctl.t == NULL || ctl.p == NULL || ctl.c == NULL || ctl.tuples == NULL ||
	    slots_init(&ctl.ts, d->conf.max_transports) < 0 ||
	    slots_init(&ctl.ps, d->conf.max_producers) < 0 ||
	    slots_init(&ctl.cs, d->conf.max_consumers) < 0)
		return -ENOMEM;
	return 0;
}

void dp_control_free(struct dp *d)
{
	/* Workers have stopped: free the SRTP contexts still installed. */
	for (uint32_t i = 0; i < d->conf.max_transports; i++) {
		sfu_srtp_ctx_free(d->transports[i].srtp_rx);
		sfu_srtp_ctx_free(d->transports[i].srtp_tx);
		d->transports[i].srtp_rx = d->transports[i].srtp_tx = NULL;
	}
	rte_hash_free(ctl.tuples);
	free(ctl.t);
	free(ctl.p);
	free(ctl.c);
	free(ctl.ts.free);
	free(ctl.ps.free);
	free(ctl.cs.free);
}

/* Lookups by id: the slot, or -ENOENT for a free slot or a stale id. */
static int transport_slot(const struct dp *d, uint32_t id)
{
	uint32_t s = dp_slot(id);

	return (id != 0 && s < d->conf.max_transports && ctl.t[s].id == id) ? (int)s : -ENOENT;
}

static int producer_slot(const struct dp *d, uint32_t id)
{
	uint32_t s = dp_slot(id);

	return (id != 0 && s < d->conf.max_producers && ctl.p[s].id == id) ? (int)s : -ENOENT;
}

static int consumer_slot(const struct dp *d, uint32_t id)
{
	uint32_t s = dp_slot(id);

	return (id != 0 && s < d->conf.max_consumers && ctl.c[s].id == id) ? (int)s : -ENOENT;
}

static struct dp_cmd *cmd_new(struct dp *d, enum dp_cmd_type type, uint32_t slot, uint32_t id)
{
	void *obj;
	struct dp_cmd *cmd;

	/* The pool is sized well above what one request can need; running
	 * dry means workers stopped consuming, which main cannot fix. */
	while (rte_mempool_get(d->cmd_pool, &obj) != 0)
		rte_pause();
	cmd = obj;
	memset(cmd, 0, sizeof(*cmd));
	cmd->type = (uint16_t)type;
	cmd->slot = slot;
	cmd->id = id;
	return cmd;
}

/* Commands must never be lost: wait for room (workers drain every poll). */
static void cmd_send(struct dp *d, unsigned int worker, struct dp_cmd *cmd)
{
	while (rte_ring_enqueue(d->workers[worker].cmd, cmd) != 0 && !dp_force_quit)
		rte_pause();
}

static void route_all(struct dp *d, enum dp_cmd_type type, const struct ctl_transport *t)
{
	for (unsigned int w = 0; w < d->n_workers; w++) {
		struct dp_cmd *cmd = cmd_new(d, type, dp_slot(t->id), t->id);

		cmd->worker = t->worker;
		cmd->u.bind.tuple = t->tuple;
		cmd_send(d, w, cmd);
	}
}

uint32_t dp_next_hop(const struct dp *d, uint32_t ip)
{
	uint32_t mask = d->conf.prefix_len >= 32 ? 0xffffffffu : ~(0xffffffffu >> d->conf.prefix_len);

	return ((ip & mask) == (d->conf.ip & mask)) ? ip : d->conf.gateway;
}

static int do_transport_add(struct dp *d, const struct sfu_msg_transport_add *a,
			    struct sfu_msg_reply *r)
{
	uint16_t port = a->local_port ? a->local_port : d->conf.rtc_min_port;
	unsigned int worker = 0;
	struct ctl_transport *t;
	struct dp_cmd *cmd;
	bool found = false;
	int slot;

	if (a->kind != SFU_TRANSPORT_WEBRTC && a->kind != SFU_TRANSPORT_PLAIN)
		return -EINVAL;
	if (port < d->conf.rtc_min_port || port > d->conf.rtc_max_port)
		return -ERANGE;
	/* A room lives on one worker: join its transports' worker, else the
	 * least loaded one. */
	for (uint32_t i = 0; i < d->conf.max_transports && !found; i++) {
		if (ctl.t[i].id != 0 && ctl.t[i].room == a->room) {
			worker = ctl.t[i].worker;
			found = true;
		}
	}
	for (unsigned int w = 1; !found && w < d->n_workers; w++)
		if (ctl.per_worker[w] < ctl.per_worker[worker])
			worker = w;
	slot = slot_get(&ctl.ts);
	if (slot < 0)
		return -ENOSPC;
	t = &ctl.t[slot];
	t->id = make_id(&t->gen, (uint32_t)slot);
	t->worker = (uint16_t)worker;
	t->room = a->room;
	t->local_port = port;
	t->n_producers = t->n_consumers = 0;
	t->bound = false;
	ctl.per_worker[worker]++;
	d->sh->gauges.transports++;

	cmd = cmd_new(d, DP_CMD_TRANSPORT_ADD, (uint32_t)slot, t->id);
	cmd->u.t_add.kind = (uint8_t)a->kind;
	cmd->u.t_add.rtcp_ssrc = (uint32_t)rte_rand() | 1;
	cmd_send(d, worker, cmd);
	r->id = t->id;
	r->worker = worker;
	return 0;
}

static int do_transport_bind(struct dp *d, const struct sfu_msg_transport_bind *b)
{
	int slot = transport_slot(d, b->id);
	struct sfu_5tuple tuple = b->tuple;
	struct ctl_transport *t;
	struct dp_cmd *cmd;
	uint32_t hop;
	void *data;

	if (slot < 0)
		return slot;
	t = &ctl.t[slot];
	if (tuple.local_port == 0)
		tuple.local_port = t->local_port;
	if (tuple.remote_ip == 0 || tuple.remote_port == 0 ||
	    tuple.local_port < d->conf.rtc_min_port || tuple.local_port > d->conf.rtc_max_port)
		return -EINVAL;
	hop = dp_next_hop(d, tuple.remote_ip);
	if (hop == 0)
		return -ENETUNREACH;
	if (rte_hash_lookup_data(ctl.tuples, &tuple, &data) >= 0)
		return (uint32_t)(uintptr_t)data == (uint32_t)slot ? 0 : -EADDRINUSE;
	if (t->bound) {
		route_all(d, DP_CMD_ROUTE_DEL, t);
		rte_hash_del_key(ctl.tuples, &t->tuple);
	}
	if (rte_hash_add_key_data(ctl.tuples, &tuple, (void *)(uintptr_t)slot) < 0)
		return -ENOSPC;
	t->tuple = tuple;
	t->bound = true;
	cmd = cmd_new(d, DP_CMD_TRANSPORT_BIND, (uint32_t)slot, t->id);
	cmd->u.bind.tuple = tuple;
	cmd->u.bind.next_hop = hop;
	cmd_send(d, t->worker, cmd);
	route_all(d, DP_CMD_ROUTE_ADD, t);
	/* Resolve now so the first media packet finds the MAC. */
	if (!dp_neigh_present(d->neigh, hop))
		dp_slow_arp_request(d, hop);
	return 0;
}

static int do_transport_keys(struct dp *d, const struct sfu_msg_transport_keys *k)
{
	int slot = transport_slot(d, k->id);
	enum sfu_srtp_profile prof = (enum sfu_srtp_profile)k->profile;
	size_t salt = sfu_srtp_salt_len(prof);
	struct sfu_srtp_ctx *rx, *tx;
	struct dp_cmd *cmd;

	if (slot < 0)
		return slot;
	if (salt == 0)
		return -EPROTONOSUPPORT;
	rx = sfu_srtp_ctx_create(prof, k->rx_key, k->rx_key + SFU_SRTP_MASTER_KEY_LEN);
	tx = sfu_srtp_ctx_create(prof, k->tx_key, k->tx_key + SFU_SRTP_MASTER_KEY_LEN);
	if (rx == NULL || tx == NULL) {
		sfu_srtp_ctx_free(rx);
		sfu_srtp_ctx_free(tx);
		return -EINVAL;
	}
	cmd = cmd_new(d, DP_CMD_TRANSPORT_KEYS, (uint32_t)slot, k->id);
	cmd->u.keys.rx = rx;
	cmd->u.keys.tx = tx;
	cmd_send(d, ctl.t[slot].worker, cmd);
	return 0;
}

static void remove_consumer(struct dp *d, uint32_t slot)
{
	struct ctl_consumer *c = &ctl.c[slot];

	cmd_send(d, ctl.t[c->transport].worker, cmd_new(d, DP_CMD_CONSUMER_REMOVE, slot, c->id));
	ctl.t[c->transport].n_consumers--;
	ctl.p[c->producer].n_consumers--;
	c->id = 0;
	slot_put(&ctl.cs, slot);
	d->sh->gauges.consumers--;
}

static void remove_producer(struct dp *d, uint32_t slot)
{
	struct ctl_producer *p = &ctl.p[slot];

	/* Its consumers first: a worker never sees a consumer of a dead producer. */
	for (uint32_t i = 0; i < d->conf.max_consumers && p->n_consumers > 0; i++)
		if (ctl.c[i].id != 0 && ctl.c[i].producer == slot)
			remove_consumer(d, i);
	cmd_send(d, ctl.t[p->transport].worker, cmd_new(d, DP_CMD_PRODUCER_REMOVE, slot, p->id));
	ctl.t[p->transport].n_producers--;
	p->id = 0;
	slot_put(&ctl.ps, slot);
	d->sh->gauges.producers--;
}

static int do_transport_remove(struct dp *d, uint32_t id)
{
	int slot = transport_slot(d, id);
	struct ctl_transport *t;

	if (slot < 0)
		return slot;
	t = &ctl.t[slot];
	for (uint32_t i = 0; i < d->conf.max_consumers && t->n_consumers > 0; i++)
		if (ctl.c[i].id != 0 && ctl.c[i].transport == (uint32_t)slot)
			remove_consumer(d, i);
	for (uint32_t i = 0; i < d->conf.max_producers && t->n_producers > 0; i++)
		if (ctl.p[i].id != 0 && ctl.p[i].transport == (uint32_t)slot)
			remove_producer(d, i);
	if (t->bound) {
		route_all(d, DP_CMD_ROUTE_DEL, t);
		rte_hash_del_key(ctl.tuples, &t->tuple);
	}
	cmd_send(d, t->worker, cmd_new(d, DP_CMD_TRANSPORT_REMOVE, (uint32_t)slot, id));
	ctl.per_worker[t->worker]--;
	t->id = 0;
	t->bound = false;
	slot_put(&ctl.ts, (uint32_t)slot);
	d->sh->gauges.transports--;
	return 0;
}

static bool ssrc_taken(const struct dp *d, uint32_t tslot, uint32_t ssrc)
{
	for (uint32_t i = 0; i < d->conf.max_producers; i++)
		if (ctl.p[i].id != 0 && ctl.p[i].transport == tslot &&
		    (ctl.p[i].ssrc == ssrc || ctl.p[i].rtx_ssrc == ssrc))
			return true;
	return false;
}

static int do_producer_add(struct dp *d, const struct sfu_msg_producer_add *a,
			   uint16_t channel, struct sfu_msg_reply *r)
{
	int ts = transport_slot(d, a->transport), slot;
	struct ctl_producer *p;
	struct dp_cmd *cmd;

	if (ts < 0)
		return ts;
	if ((a->kind != SFU_MEDIA_AUDIO && a->kind != SFU_MEDIA_VIDEO) || a->ssrc == 0 ||
	    a->ssrc == a->rtx_ssrc || a->pt > 127 || a->rtx_pt > 127 ||
	    (a->level_ext_id != 0 && a->kind != SFU_MEDIA_AUDIO))
		return -EINVAL;
	if (ctl.t[ts].n_producers >= DP_PRODUCERS_PER_TRANSPORT)
		return -ENOSPC;
	if (ssrc_taken(d, (uint32_t)ts, a->ssrc) ||
	    (a->rtx_ssrc != 0 && ssrc_taken(d, (uint32_t)ts, a->rtx_ssrc)))
		return -EEXIST;
	slot = slot_get(&ctl.ps);
	if (slot < 0)
		return -ENOSPC;
	p = &ctl.p[slot];
	p->id = make_id(&p->gen, (uint32_t)slot);
	p->transport = (uint32_t)ts;
	p->ssrc = a->ssrc;
	p->rtx_ssrc = a->rtx_ssrc;
	p->n_consumers = 0;
	ctl.t[ts].n_producers++;
	d->sh->gauges.producers++;
	cmd = cmd_new(d, DP_CMD_PRODUCER_ADD, (uint32_t)slot, p->id);
	cmd->u.p_add.a = *a;
	cmd->u.p_add.channel = channel;
	cmd_send(d, ctl.t[ts].worker, cmd);
	r->id = p->id;
	return 0;
}

static int do_consumer_add(struct dp *d, const struct sfu_msg_consumer_add *a,
			   struct sfu_msg_reply *r)
{
	int ts = transport_slot(d, a->transport), ps = producer_slot(d, a->producer), slot;
	struct ctl_consumer *c;
	struct dp_cmd *cmd;

	if (ts < 0 || ps < 0)
		return -ENOENT;
	if (a->ssrc == 0 || a->pt > 127 || a->rtx_pt > 127)
		return -EINVAL;
	/* Fan-out never crosses lcores: both ends must live on one worker. */
	if (ctl.t[ts].worker != ctl.t[ctl.p[ps].transport].worker)
		return -EXDEV;
	if (ctl.t[ts].n_consumers >= DP_CONSUMERS_PER_TRANSPORT ||
	    ctl.p[ps].n_consumers >= DP_MAX_FANOUT)
		return -ENOSPC;
	for (uint32_t i = 0; i < d->conf.max_consumers; i++)
		if (ctl.c[i].id != 0 && ctl.c[i].transport == (uint32_t)ts &&
		    ctl.c[i].ssrc == a->ssrc)
			return -EEXIST;
	slot = slot_get(&ctl.cs);
	if (slot < 0)
		return -ENOSPC;
	c = &ctl.c[slot];
	c->id = make_id(&c->gen, (uint32_t)slot);
	c->transport = (uint32_t)ts;
	c->producer = (uint32_t)ps;
	c->ssrc = a->ssrc;
	ctl.t[ts].n_consumers++;
	ctl.p[ps].n_consumers++;
	d->sh->gauges.consumers++;
	cmd = cmd_new(d, DP_CMD_CONSUMER_ADD, (uint32_t)slot, c->id);
	cmd->u.c_add.c = *a;
	cmd->u.c_add.producer_slot = (uint32_t)ps;
	cmd_send(d, ctl.t[ts].worker, cmd);
	r->id = c->id;
	return 0;
}

static int do_flag(struct dp *d, enum dp_cmd_type type, const struct sfu_msg_flag *f)
{
	bool consumer = type == DP_CMD_CONSUMER_PAUSE;
	int slot = consumer ? consumer_slot(d, f->id) : producer_slot(d, f->id);
	uint32_t ts;
	struct dp_cmd *cmd;

	if (slot < 0)
		return slot;
	ts = consumer ? ctl.c[slot].transport : ctl.p[slot].transport;
	cmd = cmd_new(d, type, (uint32_t)slot, f->id);
	cmd->u.on = f->on != 0;
	cmd_send(d, ctl.t[ts].worker, cmd);
	return 0;
}

/* PACKET_OUT: build the datagram and give it to a worker to send.
 * Fire-and-forget: no reply; failures are counted. */
static void do_packet_out(struct dp *d, const struct sfu_msg_packet *pk)
{
	struct sfu_5tuple tuple = pk->tuple;
	unsigned int worker = 0;
	struct dp_flow flow;
	struct rte_mbuf *m;
	int slot;

	if (pk->len == 0 || pk->len > SFU_MSG_DATA_MAX ||
	    pk->len > RTE_ETHER_MTU - 28) {
		dp_drop(d->main_st, SFU_DROP_TOO_BIG);
		return;
	}
	if (pk->transport != 0) {
		slot = transport_slot(d, pk->transport);
		if (slot < 0 || !ctl.t[slot].bound) {
			dp_drop(d->main_st, SFU_DROP_NO_TRANSPORT);
			return;
		}
		tuple = ctl.t[slot].tuple;
		worker = ctl.t[slot].worker;
	}
	if (tuple.local_port == 0)
		tuple.local_port = d->conf.rtc_min_port;
	flow.src_mac = d->iface.mac;
	flow.src_ip = d->conf.ip;
	flow.dst_ip = tuple.remote_ip;
	flow.src_port = tuple.local_port;
	flow.dst_port = tuple.remote_port;
	if (dp_neigh_lookup(d->neigh, dp_next_hop(d, tuple.remote_ip), &flow.dst_mac) < 0) {
		dp_slow_arp_request(d, dp_next_hop(d, tuple.remote_ip));
		dp_drop(d->main_st, SFU_DROP_NO_NEIGH);
		return;
	}
	m = rte_pktmbuf_alloc(d->pool);
	if (m == NULL) {
		dp_drop(d->main_st, SFU_DROP_MBUF_EXHAUSTED);
		return;
	}
	memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, DP_HDRS_LEN), pk->data, pk->len);
	dp_udp_build(rte_pktmbuf_mtod(m, uint8_t *), &flow, pk->len, true);
	m->data_len = (uint16_t)(DP_HDRS_LEN + pk->len);
	m->pkt_len = m->data_len;
	dp_main_send(d, worker, m);
}

static void reply(struct dp *d, const struct sfu_msg *req, int status,
		  const struct sfu_msg_reply *r)
{
	struct sfu_msg *m;
	void *obj;

	if (rte_mempool_get(d->msg_pool, &obj) != 0) {
		dp_drop(d->main_st, SFU_DROP_MSG_POOL_EMPTY);
		return;
	}
	m = obj;
	m->type = SFU_MSG_REPLY;
	m->client = req->client;
	m->req_id = req->req_id;
	m->u.reply = *r;
	m->u.reply.req_type = req->type;
	m->u.reply.status = status;
	if (rte_ring_enqueue(d->evt[req->client], m) != 0) {
		rte_mempool_put(d->msg_pool, m);
		dp_drop(d->main_st, SFU_DROP_CTRL_RING_FULL);
	}
}

static int do_hello(struct dp *d, const struct sfu_msg *m, struct sfu_msg_reply *r)
{
	if (m->u.hello.version != SFU_MSG_VERSION)
		return -EPROTO;
	__atomic_fetch_or(&d->channels_alive, 1u << m->client, __ATOMIC_RELEASE);
	if (m->u.hello.role == SFU_ROLE_CTRL)
		__atomic_store_n(&d->ctrl_channel, (int)m->client, __ATOMIC_RELEASE);
	else if (d->ctrl_channel == (int)m->client)
		__atomic_store_n(&d->ctrl_channel, -1, __ATOMIC_RELEASE);
	r->worker = d->n_workers;
	return 0;
}

static void handle(struct dp *d, struct sfu_msg *m)
{
	struct sfu_msg_reply r = { 0 };
	int status;

	switch (m->type) {
	case SFU_MSG_HELLO:
		status = do_hello(d, m, &r);
		break;
	case SFU_MSG_TRANSPORT_ADD:
		status = do_transport_add(d, &m->u.transport_add, &r);
		break;
	case SFU_MSG_TRANSPORT_BIND:
		status = do_transport_bind(d, &m->u.transport_bind);
		break;
	case SFU_MSG_TRANSPORT_KEYS:
		status = do_transport_keys(d, &m->u.transport_keys);
		break;
	case SFU_MSG_TRANSPORT_REMOVE:
		status = do_transport_remove(d, m->u.id.id);
		break;
	case SFU_MSG_PRODUCER_ADD:
		status = do_producer_add(d, &m->u.producer_add, m->client, &r);
		break;
	case SFU_MSG_PRODUCER_REMOVE:
		status = producer_slot(d, m->u.id.id);
		if (status >= 0) {
			remove_producer(d, (uint32_t)status);
			status = 0;
		}
		break;
	case SFU_MSG_PRODUCER_PAUSE:
		status = do_flag(d, DP_CMD_PRODUCER_PAUSE, &m->u.flag);
		break;
	case SFU_MSG_PRODUCER_TAP:
		status = do_flag(d, DP_CMD_PRODUCER_TAP, &m->u.flag);
		break;
	case SFU_MSG_CONSUMER_ADD:
		status = do_consumer_add(d, &m->u.consumer_add, &r);
		break;
	case SFU_MSG_CONSUMER_REMOVE:
		status = consumer_slot(d, m->u.id.id);
		if (status >= 0) {
			remove_consumer(d, (uint32_t)status);
			status = 0;
		}
		break;
	case SFU_MSG_CONSUMER_PAUSE:
		status = do_flag(d, DP_CMD_CONSUMER_PAUSE, &m->u.flag);
		break;
	case SFU_MSG_PACKET_OUT:
		do_packet_out(d, &m->u.packet);
		rte_mempool_put(d->msg_pool, m);
		return;
	default:
		status = -EOPNOTSUPP;
		break;
	}
	reply(d, m, status, &r);
	rte_mempool_put(d->msg_pool, m);
}

void dp_control_poll(struct dp *d)
{
	void *objs[DP_BURST];

	for (unsigned int ch = 0; ch < SFU_MAX_CLIENTS; ch++) {
		unsigned int n = rte_ring_dequeue_burst(d->req[ch], objs, DP_BURST, NULL);

		for (unsigned int i = 0; i < n; i++) {
			struct sfu_msg *m = objs[i];

			/* The channel is the ring it came on, whatever the message says. */
			m->client = (uint16_t)ch;
			handle(d, m);
		}
	}
}

/* The port's counters into the shared gauges (read by sfu-dpctl and /metrics). */
static void port_gauges(struct dp *d)
{
	struct rte_eth_stats st;
	struct sfu_gauges *g = &d->sh->gauges;

	if (rte_eth_stats_get(d->port_id, &st) != 0)
		return;
	g->port_ipackets = st.ipackets;
	g->port_opackets = st.opackets;
	g->port_imissed = st.imissed;
	g->port_ierrors = st.ierrors;
	g->port_oerrors = st.oerrors;
	g->port_rx_nombuf = st.rx_nombuf;
}

/* Once a second: forget a ctrl whose process is gone (PACKET_IN stops), and
 * which channels are held at all (level reports go only to those, so a dead
 * client's ring does not pin its share of the message pool); the port's
 * counters. */
void dp_control_tick(struct dp *d)
{
	int ch = d->ctrl_channel;
	uint32_t alive = 0;

	if (ch >= 0 && sfu_channel_owned((unsigned int)ch) == 0)
		__atomic_store_n(&d->ctrl_channel, -1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < SFU_MAX_CLIENTS; i++)
		if (sfu_channel_owned(i) > 0)
			alive |= 1u << i;
	__atomic_store_n(&d->channels_alive, alive, __ATOMIC_RELEASE);
	d->sh->gauges.neighbors = d->neigh->valid;
	port_gauges(d);
}
