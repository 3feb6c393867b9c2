/*
 * sfu_attach.h — the attach library for DPDK secondary processes (sfu-ctrl,
 * sfu-tap, sfu-dpctl, tests, perf): join the data plane's shared memory,
 * claim a message channel and talk to the data plane over its rings.
 *
 * Threading: a struct sfu_client is used by one thread.  Secondaries never
 * allocate mbufs and never call the primary's function pointers; they only
 * exchange struct sfu_msg (sfu_msg.h) from the shared pool, which has no
 * per-lcore cache, so a secondary's lcore id cannot collide with a cache.
 */
#ifndef SFU_ATTACH_H
#define SFU_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "sfu_msg.h"
#include "sfu_stats.h"

struct rte_ring;
struct sfu_client;

/**
 * Start the EAL as a secondary of the data plane running with file_prefix.
 * @param prog        argv[0] for the EAL
 * @param file_prefix the data plane's --file-prefix
 * @param lcore_id    this process's EAL lcore id (distinct per process role)
 * @return 0, or -errno (the data plane is not running, or EAL refused)
 */
int sfu_attach_eal(const char *prog, const char *file_prefix, unsigned int lcore_id);

/**
 * Claim a free channel (or one whose owner died), drain what is left in it,
 * and say HELLO.  Waits up to timeout_ms for the data plane's reply.
 * @return a client, or NULL with errno set (ENOENT: no data plane objects,
 *         EBUSY: every channel taken, ETIMEDOUT: no reply, EPROTO: version)
 */
struct sfu_client *sfu_client_open(enum sfu_role role, unsigned int timeout_ms);

/** Release the channel (messages still queued for it are freed). */
void sfu_client_close(struct sfu_client *c);

/** The shared state block (counters, gauges, addresses). */
const struct sfu_shared *sfu_client_shared(const struct sfu_client *c);

/** Channel index of this client. */
unsigned int sfu_client_channel(const struct sfu_client *c);

/**
 * Take a zeroed message of the given type from the shared pool.
 * @return the message, or NULL when the pool is empty
 */
struct sfu_msg *sfu_client_msg_alloc(struct sfu_client *c, enum sfu_msg_type type);

/** Return a message to the shared pool. */
void sfu_msg_free(struct sfu_msg *m);

/**
 * Send a request.  Assigns the next req_id when m->req_id is 0.
 * The message is owned by the data plane afterwards, or freed on failure.
 * @return the req_id (> 0) or -ENOBUFS when the request ring is full
 */
int sfu_client_send(struct sfu_client *c, struct sfu_msg *m);

/** Take the next message from this client's event ring, or NULL. */
struct sfu_msg *sfu_client_recv(struct sfu_client *c);

/**
 * Send a request and wait up to timeout_ms for its reply.  Other messages
 * that arrive meanwhile are passed to `other` (which must free them) or
 * freed when `other` is NULL.
 * @return the reply's status (0 or -errno from the data plane), -ENOBUFS,
 *         or -ETIMEDOUT; *reply is filled when non-NULL and a reply came
 */
int sfu_client_call(struct sfu_client *c, struct sfu_msg *m, struct sfu_msg_reply *reply,
		    unsigned int timeout_ms, void (*other)(struct sfu_msg *, void *),
		    void *arg);

/**
 * Path of a channel's lock file (in the EAL runtime directory): its owner
 * holds an exclusive OFD lock on it while alive.  @return 0 or -ENAMETOOLONG
 */
int sfu_channel_lock_path(unsigned int channel, char *buf, size_t len);

/**
 * Whether a live process owns the channel (asks the kernel about the lock
 * without taking it).  @return 1, 0, or -errno when it cannot tell
 */
int sfu_channel_owned(unsigned int channel);

/** Look up one of the data plane's named rings (SFU_RING_TAP, ...), or NULL. */
struct rte_ring *sfu_ring(const char *name);

#endif /* SFU_ATTACH_H */
