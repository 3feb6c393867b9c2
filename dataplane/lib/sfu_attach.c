/*
 * sfu_attach.c — secondary-process side of the ring protocol (sfu_attach.h).
 *
 * Threading: one thread per struct sfu_client.  Channels are claimed with an
 * OFD lock on a per-channel lock file in the EAL runtime directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "sfu_attach.h"

struct sfu_client {
	unsigned int channel;
	int lock_fd;          /* holds the OFD lock on the channel's lock file */
	enum sfu_role role;
	uint32_t next_req;
	struct sfu_shared *sh;
	struct rte_mempool *pool;
	struct rte_ring *req;
	struct rte_ring *evt;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int sfu_attach_eal(const char *prog, const char *file_prefix, unsigned int lcore_id)
{
	char prefix_arg[128], lcores_arg[64];
	cpu_set_t set;
	int cpu = 0;

	/* Float on the first CPU we are allowed on; the OS may move us. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (int i = 0; i < CPU_SETSIZE; i++) {
			if (CPU_ISSET(i, &set)) {
				cpu = i;
				break;
			}
		}
	}
	snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s", file_prefix);
	snprintf(lcores_arg, sizeof(lcores_arg), "--lcores=%u@%d", lcore_id, cpu);
	char *argv[] = {
		(char *)prog, "--proc-type=secondary", prefix_arg, lcores_arg,
		"--no-pci", "--no-telemetry", "--log-level=lib.eal:error", NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	if (rte_eal_init(argc, argv) < 0)
		return -(rte_errno ? rte_errno : ENOENT);
	return 0;
}

struct rte_ring *sfu_ring(const char *name)
{
	return rte_ring_lookup(name);
}

int sfu_channel_lock_path(unsigned int channel, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/sfu_client_%u.lock", rte_eal_get_runtime_dir(), channel);

	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

/*
 * Claim a channel: the owner holds an exclusive open-file-description lock
 * (F_OFD_SETLK) on the channel's lock file for as long as it lives.  The
 * kernel drops it when the process dies — even before a parent reaps it,
 * unlike a pid check — so a free or abandoned channel is exactly one whose
 * lock can be taken, and anyone can ask (F_OFD_GETLK) without taking it.
 */
static int ofd_lock(int fd, int cmd, struct flock *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = F_WRLCK;
	fl->l_whence = SEEK_SET; /* l_start 0, l_len 0: the whole file */
	return fcntl(fd, cmd, fl);
}

int sfu_channel_owned(unsigned int channel)
{
	char path[PATH_MAX];
	struct flock fl;
	int fd, ret;

	if (sfu_channel_lock_path(channel, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ret = ofd_lock(fd, F_OFD_GETLK, &fl);
	close(fd);
	if (ret < 0)
		return -errno;
	return fl.l_type != F_UNLCK;
}

static int claim_channel(struct sfu_client *c, enum sfu_role role)
{
	for (unsigned int i = 0; i < SFU_MAX_CLIENTS; i++) {
		char path[PATH_MAX];
		int fd;

		if (sfu_channel_lock_path(i, path, sizeof(path)) < 0)
			return -ENAMETOOLONG;
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		if (ofd_lock(fd, F_OFD_SETLK, &(struct flock){ 0 }) != 0) {
			close(fd);
			continue;
		}
		c->lock_fd = fd;
		__atomic_store_n(&c->sh->clients[i].role, (uint32_t)role, __ATOMIC_RELEASE);
		__atomic_store_n(&c->sh->clients[i].pid, (int32_t)getpid(), __ATOMIC_RELEASE);
		return (int)i;
	}
	return -EBUSY;
}

static void release_channel(struct sfu_client *c)
{
	__atomic_store_n(&c->sh->clients[c->channel].pid, 0, __ATOMIC_RELEASE);
	close(c->lock_fd); /* drops the lock */
	c->lock_fd = -1;
}

static void drain(struct rte_ring *r)
{
	void *m;

	while (rte_ring_dequeue(r, &m) == 0)
		rte_mempool_put(rte_mempool_from_obj(m), m);
}

struct sfu_client *sfu_client_open(enum sfu_role role, unsigned int timeout_ms)
{
	const struct rte_memzone *mz = rte_memzone_lookup(SFU_SHARED_MZ);
	char name[RTE_RING_NAMESIZE];
	struct sfu_msg_reply reply;
	struct sfu_client *c;
	struct sfu_msg *m;
	int ch, ret;

	if (mz == NULL) {
		errno = ENOENT;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->sh = mz->addr;
	c->role = role;
	if (c->sh->magic != SFU_SHARED_MAGIC || c->sh->version != SFU_MSG_VERSION) {
		errno = EPROTO;
		goto err;
	}
	c->pool = rte_mempool_lookup(SFU_MSG_POOL);
	if (c->pool == NULL) {
		errno = ENOENT;
		goto err;
	}
	c->lock_fd = -1;
	ch = claim_channel(c, role);
	if (ch < 0) {
		errno = -ch;
		goto err;
	}
	c->channel = (unsigned int)ch;
	snprintf(name, sizeof(name), SFU_RING_REQ_FMT, c->channel);
	c->req = rte_ring_lookup(name);
	snprintf(name, sizeof(name), SFU_RING_EVT_FMT, c->channel);
	c->evt = rte_ring_lookup(name);
	if (c->req == NULL || c->evt == NULL) {
		errno = ENOENT;
		goto err_release;
	}
	/* Whatever a dead predecessor left behind is not ours. */
	drain(c->evt);

	m = sfu_client_msg_alloc(c, SFU_MSG_HELLO);
	if (m == NULL) {
		errno = ENOMEM;
		goto err_release;
	}
	m->u.hello.version = SFU_MSG_VERSION;
	m->u.hello.role = (uint32_t)role;
	m->u.hello.pid = (int32_t)getpid();
	ret = sfu_client_call(c, m, &reply, timeout_ms, NULL, NULL);
	if (ret < 0) {
		errno = -ret;
		goto err_release;
	}
	return c;

err_release:
	release_channel(c);
err:
	free(c);
	return NULL;
}

void sfu_client_close(struct sfu_client *c)
{
	if (c == NULL)
		return;
	drain(c->evt);
	release_channel(c);
	free(c);
}

const struct sfu_shared *sfu_client_shared(const struct sfu_client *c)
{
	return c->sh;
}

unsigned int sfu_client_channel(const struct sfu_client *c)
{
	return c->channel;
}

struct sfu_msg *sfu_client_msg_alloc(struct sfu_client *c, enum sfu_msg_type type)
{
	void *obj;
	struct sfu_msg *m;

	if (rte_mempool_get(c->pool, &obj) != 0)
		return NULL;
	m = obj;
	memset(m, 0, sizeof(*m));
	m->type = (uint16_t)type;
	m->client = (uint16_t)c->channel;
	return m;
}

void sfu_msg_free(struct sfu_msg *m)
{
	if (m != NULL)
		rte_mempool_put(rte_mempool_from_obj(m), m);
}

static uint32_t assign_req_id(struct sfu_client *c, struct sfu_msg *m)
{
	if (m->req_id == 0) {
		c->next_req = (c->next_req + 1) & 0x7fffffff;
		if (c->next_req == 0)
			c->next_req = 1;
		m->req_id = c->next_req;
	}
	return m->req_id;
}

int sfu_client_send(struct sfu_client *c, struct sfu_msg *m)
{
	uint32_t req_id = assign_req_id(c, m);

	m->client = (uint16_t)c->channel;
	if (rte_ring_enqueue(c->req, m) != 0) {
		sfu_msg_free(m);
		return -ENOBUFS;
	}
	return (int)req_id;
}

struct sfu_msg *sfu_client_recv(struct sfu_client *c)
{
	void *m;

	if (rte_ring_dequeue(c->evt, &m) != 0)
		return NULL;
	return m;
}

int sfu_client_call(struct sfu_client *c, struct sfu_msg *m, struct sfu_msg_reply *reply,
		    unsigned int timeout_ms, void (*other)(struct sfu_msg *, void *),
		    void *arg)
{
	uint64_t deadline = now_ms() + timeout_ms;
	uint32_t req_id;
	int ret;

	req_id = assign_req_id(c, m);
	ret = sfu_client_send(c, m);
	if (ret < 0)
		return ret;
	for (;;) {
		struct sfu_msg *in = sfu_client_recv(c);

		if (in == NULL) {
			if (now_ms() >= deadline)
				return -ETIMEDOUT;
			usleep(200);
			continue;
		}
		if (in->type == SFU_MSG_REPLY && in->req_id == req_id) {
			ret = in->u.reply.status;
			if (reply != NULL)
				*reply = in->u.reply;
			sfu_msg_free(in);
			return ret;
		}
		if (other != NULL)
			other(in, arg);
		else
			sfu_msg_free(in);
	}
}
