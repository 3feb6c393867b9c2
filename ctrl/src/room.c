/*
 * room.c — rooms and the lifecycle of what peers own in them: joining,
 * leaving (also by disconnecting), producers and consumers closing, each
 * mirrored in the data plane and told to the others in the room.
 *
 * Threading: ctrl's event loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl.h"

uint32_t room_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

struct ctrl_room *room_get(const char *id, bool create)
{
	struct ctrl_room *r;

	for (r = ctrl.rooms; r; r = r->next)
		if (strcmp(r->id, id) == 0)
			return r;
	if (!create)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->dp_room = room_hash(id);
	r->next = ctrl.rooms;
	ctrl.rooms = r;
	ctrl.n_rooms++;
	redis_room_active(r);
	return r;
}

static void room_free_if_empty(struct ctrl_room *r)
{
	struct ctrl_room **pp;

	if (r->n_peers > 0)
		return;
	for (pp = &ctrl.rooms; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			ctrl.n_rooms--;
			redis_room_inactive(r);
			free(r);
			return;
		}
	}
}

void room_broadcast(struct ctrl_room *r, const struct ctrl_peer *except, const char *name,
		    cJSON *data)
{
	for (struct ctrl_peer *p = r->peers; p; p = p->next)
		if (p != except && p->wsi != NULL)
			ws_notify(p, name, cJSON_Duplicate(data, true));
	cJSON_Delete(data);
}

int room_join(struct ctrl_peer *p, const char *room_id, const char *name, cJSON *caps)
{
	struct ctrl_room *r = room_get(room_id, false);
	cJSON *d;

	if (r != NULL && r->n_peers >= ctrl.cfg.max_peers_per_room)
		return -ENOSPC;
	if (r == NULL && (r = room_get(room_id, true)) == NULL)
		return -ENOMEM;
	ctrl_make_id(p->id, "p");
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->room = r;
	p->rtp_caps = caps;
	p->joined = true;
	p->next = r->peers;
	r->peers = p;
	r->n_peers++;
	ctrl.n_peers++;
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "peerId", p->id);
	cJSON_AddStringToObject(d, "displayName", p->name);
	room_broadcast(r, p, "peerJoined", d);
	return 0;
}

struct ctrl_transport *peer_transport(struct ctrl_peer *p, const char *id)
{
	for (int i = 0; i < CTRL_MAX_TRANSPORTS_PER_PEER; i++)
		if (p->transports[i] != NULL && strcmp(p->transports[i]->id, id) == 0)
			return p->transports[i];
	return NULL;
}

struct ctrl_producer *room_producer(struct ctrl_room *r, const char *id)
{
	for (struct ctrl_peer *p = r->peers; p; p = p->next)
		for (int i = 0; i < CTRL_MAX_PRODUCERS_PER_PEER; i++)
			if (p->producers[i] != NULL && strcmp(p->producers[i]->id, id) == 0)
				return p->producers[i];
	return NULL;
}

struct ctrl_consumer *peer_consumer(struct ctrl_peer *p, const char *id)
{
	for (struct ctrl_consumer *c = p->consumers; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

void room_consumer_close(struct ctrl_consumer *c, bool notify)
{
	struct ctrl_peer *p = c->peer;
	struct ctrl_consumer **pp;

	dpc_remove(SFU_MSG_CONSUMER_REMOVE, c->dp_id);
	if (notify && p->wsi != NULL) {
		cJSON *d = cJSON_CreateObject();

		cJSON_AddStringToObject(d, "consumerId", c->id);
		cJSON_AddStringToObject(d, "producerId", c->producer->id);
		ws_notify(p, "consumerClosed", d);
	}
	for (pp = &p->consumers; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	free(c);
}

void room_producer_close(struct ctrl_producer *pr, bool notify_owner)
{
	struct ctrl_peer *owner = pr->peer;
	struct ctrl_room *r = owner->room;
	cJSON *d;

	/* Consumers of it, on every peer, first. */
	for (struct ctrl_peer *p = r->peers; p; p = p->next) {
		struct ctrl_consumer *c = p->consumers, *next;

		for (; c; c = next) {
			next = c->next;
			if (c->producer == pr)
				room_consumer_close(c, true);
		}
	}
	dpc_remove(SFU_MSG_PRODUCER_REMOVE, pr->dp_id);
	if (pr->level_ext_id != 0) {
		pr->level_ext_id = 0;
		levels_peer_gone(owner, false);
	}
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "producerId", pr->id);
	cJSON_AddStringToObject(d, "peerId", owner->id);
	room_broadcast(r, notify_owner ? NULL : owner, "producerClosed", d);
	for (int i = 0; i < CTRL_MAX_PRODUCERS_PER_PEER; i++)
		if (owner->producers[i] == pr)
			owner->producers[i] = NULL;
	cJSON_Delete(pr->codec);
	cJSON_Delete(pr->header_exts);
	cJSON_Delete(pr->app_data);
	free(pr);
}

/* A transport is closing: what was sent or received on it goes too. */
void room_transport_closed(struct ctrl_transport *t)
{
	struct ctrl_peer *p = t->peer;
	struct ctrl_consumer *c, *next;

	if (p == NULL || p->room == NULL)
		return;
	for (int i = 0; i < CTRL_MAX_PRODUCERS_PER_PEER; i++)
		if (p->producers[i] != NULL && p->producers[i]->transport == t)
			room_producer_close(p->producers[i], true);
	for (c = p->consumers; c; c = next) {
		next = c->next;
		if (c->transport == t)
			room_consumer_close(c, true);
	}
}

void room_leave(struct ctrl_peer *p)
{
	struct ctrl_room *r = p->room;
	struct ctrl_peer **pp;
	cJSON *d;

	if (!p->joined)
		return;
	/* First: the others hear the speaker is gone, not the one leaving. */
	levels_peer_gone(p, true);
	while (p->consumers != NULL)
		room_consumer_close(p->consumers, false);
	for (int i = 0; i < CTRL_MAX_PRODUCERS_PER_PEER; i++)
		if (p->producers[i] != NULL)
			room_producer_close(p->producers[i], false);
	for (int i = 0; i < CTRL_MAX_TRANSPORTS_PER_PEER; i++)
		if (p->transports[i] != NULL)
			webrtc_transport_close(p->transports[i], "left", false);
	for (pp = &r->peers; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	r->n_peers--;
	ctrl.n_peers--;
	p->joined = false;
	p->room = NULL;
	cJSON_Delete(p->rtp_caps);
	p->rtp_caps = NULL;
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "peerId", p->id);
	room_broadcast(r, NULL, "peerLeft", d);
	room_free_if_empty(r);
}

/* A caption from sfu-tap: to everyone in the speaker's room, and to the
 * room's peers on other nodes through Redis. */
void room_caption(const struct sfu_msg_caption *c)
{
	for (struct ctrl_room *r = ctrl.rooms; r; r = r->next) {
		for (struct ctrl_peer *p = r->peers; p; p = p->next) {
			for (int i = 0; i < CTRL_MAX_PRODUCERS_PER_PEER; i++) {
				struct ctrl_producer *pr = p->producers[i];
				cJSON *d;
				char text[SFU_CAPTION_TEXT_MAX];

				if (pr == NULL || pr->dp_id != c->producer)
					continue;
				snprintf(text, sizeof(text), "%.*s",
					 (int)(c->len < sizeof(text) ? c->len : sizeof(text) - 1), c->text);
				d = cJSON_CreateObject();
				cJSON_AddStringToObject(d, "peerId", p->id);
				cJSON_AddStringToObject(d, "displayName", p->name);
				cJSON_AddStringToObject(d, "text", text);
				cJSON_AddBoolToObject(d, "final", c->is_final != 0);
				cJSON_AddNumberToObject(d, "startMs", (double)c->start_ms);
				cJSON_AddNumberToObject(d, "endMs", (double)c->end_ms);
				ctrl.captions++;
				redis_publish(r, "caption", d);
				room_broadcast(r, NULL, "caption", d);
				return;
			}
		}
	}
	ctrl.captions_orphaned++; /* the speaker left meanwhile */
}
