/*
 * levels.c — the active speaker of each room, from the data plane's audio
 * level reports (SFU_MSG_AUDIO_LEVELS, sfu_msg.h).
 *
 * Every SFU_AUDIO_LEVEL_INTERVAL_MS each worker reports every producer that
 * negotiated the RFC 6464 ssrc-audio-level extension: mean -dBov and packet
 * count, also for producers that sent nothing (muted, paused).  The entries
 * are kept on the producers until the worker's last message of that interval
 * (more == 0); then each room touched takes one step of the selection in
 * ctrl/lib/speaker.h (threshold, hysteresis), a candidate being a peer at the
 * level of its loudest audio producer.  A change is announced to the whole
 * room as `activeSpeaker {peerId}`; when the speaker leaves or closes its
 * audio, `activeSpeaker {peerId: null}` until someone else speaks.
 *
 * A room's transports live on one worker, so a room's entries come from one
 * worker and are complete at that worker's interval end.
 *
 * Threading: ctrl's event loop.
 */
#include <stdlib.h>

#include "ctrl.h"

static struct ctrl_producer *producer_by_dp_id(uint32_t id)
{
	/* Rooms x peers x 4: a few thousand compares per report at most; a map
	 * would be the next step for thousands of peers per node. */
	for (struct ctrl_room *r = ctrl.rooms; r; r = r->next)
		for (struct ctrl_peer *p = r->peers; p; p = p->next)
			for (int i = 0; i < CTRL_MAX_PRODUCERS_PER_PEER; i++)
				if (p->producers[i] != NULL && p->producers[i]->dp_id == id)
					return p->producers[i];
	return NULL;
}

static void announce(struct ctrl_room *r, const struct ctrl_peer *except)
{
	cJSON *d = cJSON_CreateObject();

	if (r->speaker.current != 0)
		cJSON_AddStringToObject(d, "peerId", ((struct ctrl_peer *)r->speaker.current)->id);
	else
		cJSON_AddNullToObject(d, "peerId");
	ctrl.speaker_changes++;
	room_broadcast(r, except, "activeSpeaker", d);
}

/* One interval of room r: a candidate per peer with level producers. */
static void room_step(struct ctrl_room *r, unsigned int interval_ms)
{
	struct speaker_params prm = {
		.threshold_dbov = (uint8_t)ctrl.cfg.speaker_threshold_dbov,
		.switch_intervals = ctrl.cfg.speaker_switch_intervals,
		.silence_intervals = (ctrl.cfg.speaker_silence_ms + interval_ms - 1) / interval_ms,
	};
	struct speaker_obs *obs = calloc(r->n_peers ? r->n_peers : 1, sizeof(*obs));
	size_t n = 0;

	r->levels_pending = false;
	if (obs == NULL)
		return;
	for (struct ctrl_peer *p = r->peers; p && n < r->n_peers; p = p->next) {
		struct speaker_obs o = { .key = (uintptr_t)p, .dbov = SFU_AUDIO_LEVEL_SILENT };
		bool any = false;

		for (int i = 0; i < CTRL_MAX_PRODUCERS_PER_PEER; i++) {
			struct ctrl_producer *pr = p->producers[i];

			if (pr == NULL || pr->level_ext_id == 0)
				continue;
			any = true;
			if (pr->level_fresh && pr->level_packets > 0 && pr->level_dbov <= o.dbov) {
				o.dbov = pr->level_dbov;
				o.packets += pr->level_packets;
			}
			pr->level_fresh = false;
		}
		if (any)
			obs[n++] = o;
	}
	if (speaker_step(&r->speaker, &prm, obs, n))
		announce(r, NULL);
	free(obs);
}

void levels_on_report(const struct sfu_msg_audio_levels *al)
{
	uint32_t n = al->n < SFU_AUDIO_LEVELS_MAX ? al->n : SFU_AUDIO_LEVELS_MAX;
	unsigned int interval = al->interval_ms ? al->interval_ms : SFU_AUDIO_LEVEL_INTERVAL_MS;

	ctrl.level_reports++;
	if (!ctrl.cfg.speaker_enabled)
		return;
	for (uint32_t i = 0; i < n; i++) {
		const struct sfu_audio_level *e = &al->lv[i];
		struct ctrl_producer *pr = producer_by_dp_id(e->producer);
		struct ctrl_room *r;

		if (pr == NULL || pr->level_ext_id == 0 || pr->peer->room == NULL) {
			ctrl.level_orphaned++; /* closed meanwhile */
			continue;
		}
		pr->level_dbov = e->dbov;
		pr->level_packets = e->packets;
		pr->level_fresh = true;
		r = pr->peer->room;
		r->levels_pending = true;
		r->levels_worker = al->worker;
	}
	if (al->more)
		return;
	for (struct ctrl_room *r = ctrl.rooms; r; r = r->next)
		if (r->levels_pending && r->levels_worker == al->worker)
			room_step(r, interval);
}

void levels_peer_gone(struct ctrl_peer *p, bool leaving)
{
	struct ctrl_room *r = p->room;

	if (r == NULL)
		return;
	if (!leaving)
		for (int i = 0; i < CTRL_MAX_PRODUCERS_PER_PEER; i++)
			if (p->producers[i] != NULL && p->producers[i]->level_ext_id != 0)
				return; /* still has audio with levels */
	if (speaker_forget(&r->speaker, (uintptr_t)p))
		announce(r, leaving ? p : NULL);
}

void levels_greet(struct ctrl_peer *p)
{
	struct ctrl_room *r = p->room;
	cJSON *d;

	if (r == NULL || r->speaker.current == 0)
		return;
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "peerId", ((struct ctrl_peer *)r->speaker.current)->id);
	ws_notify(p, "activeSpeaker", d);
}
