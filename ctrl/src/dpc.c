/*
 * dpc.c — sfu-ctrl's client of the data plane, over the attach library.
 *
 * Requests are synchronous round trips: the data plane's main lcore answers
 * within a poll period (~0.1 ms), and a bounded timeout turns a stalled data
 * plane into a DATAPLANE error instead of a hang.  Events that arrive while
 * a request waits (PACKET_IN from the wire) are queued and handled by
 * dpc_poll() from the event loop, never re-entrantly.
 *
 * Threading: ctrl's event loop only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ring.h>

#include "ctrl.h"
#include "sfu_attach.h"

#define CALL_TIMEOUT_MS 1000
#define BACKLOG 4096
#define CTRL_LCORE_ID 100

static struct sfu_msg *backlog[BACKLOG];
static struct rte_ring *captions; /* sfu-tap -> ctrl */
static unsigned int bl_head, bl_tail;

static void queue_event(struct sfu_msg *m, void *arg)
{
	(void)arg;
	if (bl_tail - bl_head == BACKLOG) {
		sfu_msg_free(m); /* a ring's worth already waiting: drop the newest */
		return;
	}
	backlog[bl_tail++ % BACKLOG] = m;
}

int dpc_open(void)
{
	int ret = sfu_attach_eal("sfu-ctrl", ctrl.cfg.file_prefix, CTRL_LCORE_ID);

	if (ret < 0)
		return ret;
	ctrl.dp = sfu_client_open(SFU_ROLE_CTRL, 3000);
	if (ctrl.dp == NULL)
		return -errno;
	ctrl.sh = sfu_client_shared(ctrl.dp);
	captions = sfu_ring(SFU_RING_CAPTIONS);
	return 0;
}

void dpc_close(void)
{
	while (bl_head != bl_tail)
		sfu_msg_free(backlog[bl_head++ % BACKLOG]);
	sfu_client_close(ctrl.dp);
	ctrl.dp = NULL;
	rte_eal_cleanup();
}

struct sfu_msg *dpc_msg(enum sfu_msg_type type)
{
	return sfu_client_msg_alloc(ctrl.dp, type);
}

int dpc_call(struct sfu_msg *m, uint32_t *id)
{
	struct sfu_msg_reply r;
	int ret;

	if (m == NULL)
		return -ENOMEM;
	ret = sfu_client_call(ctrl.dp, m, &r, CALL_TIMEOUT_MS, queue_event, NULL);
	if (ret < 0) {
		ctrl.dp_errors++;
		return ret;
	}
	if (id != NULL)
		*id = r.id;
	return 0;
}

int dpc_remove(enum sfu_msg_type type, uint32_t id)
{
	struct sfu_msg *m = dpc_msg(type);

	if (m == NULL)
		return -ENOMEM;
	m->u.id.id = id;
	return dpc_call(m, NULL);
}

int dpc_flag(enum sfu_msg_type type, uint32_t id, bool on)
{
	struct sfu_msg *m = dpc_msg(type);

	if (m == NULL)
		return -ENOMEM;
	m->u.flag.id = id;
	m->u.flag.on = on;
	return dpc_call(m, NULL);
}

void dpc_packet_out(uint32_t transport_id, const struct sfu_5tuple *to, const uint8_t *data,
		    size_t len)
{
	struct sfu_msg *m;

	if (len == 0 || len > SFU_MSG_DATA_MAX)
		return;
	m = dpc_msg(SFU_MSG_PACKET_OUT);
	if (m == NULL) {
		ctrl.dp_errors++;
		return;
	}
	m->u.packet.transport = transport_id;
	if (to != NULL)
		m->u.packet.tuple = *to;
	m->u.packet.len = (uint16_t)len;
	memcpy(m->u.packet.data, data, len);
	if (sfu_client_send(ctrl.dp, m) < 0)
		ctrl.dp_errors++;
}

static void handle(struct sfu_msg *m)
{
	if (m->type == SFU_MSG_PACKET_IN)
		webrtc_on_packet(&m->u.packet);
	else if (m->type == SFU_MSG_AUDIO_LEVELS)
		levels_on_report(&m->u.audio_levels);
	/* Late replies (after a timeout) and unknown types are dropped. */
	sfu_msg_free(m);
}

void dpc_poll(void)
{
	struct sfu_msg *m;
	unsigned int n = 0;

	while (bl_head != bl_tail)
		handle(backlog[bl_head++ % BACKLOG]);
	/* Bounded per call so the loop stays responsive under a flood. */
	while (n++ < 256 && (m = sfu_client_recv(ctrl.dp)) != NULL)
		handle(m);
	for (n = 0; captions != NULL && n < 64; n++) {
		void *obj;

		if (rte_ring_dequeue(captions, &obj) != 0)
			break;
		m = obj;
		if (m->type == SFU_MSG_CAPTION)
			room_caption(&m->u.caption);
		sfu_msg_free(m);
	}
}
