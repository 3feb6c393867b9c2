/*
 * config.c — sfu-dataplane's settings: config file + environment + command
 * line into struct dp_conf, and the EAL arguments derived from it.
 *
 * Threading: main thread, before the EAL starts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"
#include "sfu_config.h"

#define USAGE \
	"usage: sfu-dataplane [-c CONFIG] [-s section.key=value]...\n" \
	"  -c, --config FILE   the shared config file (sections [common] [dataplane])\n" \
	"  -s, --set K=V       override one setting, e.g. -s dataplane.ip=198.18.0.1\n" \
	"Environment: ANNOUNCED_IP RTC_MIN_PORT RTC_MAX_PORT WORKER_COUNT SFU_FILE_PREFIX\n" \
	"See README.md (Configuration) for every key.\n"

static int copy_str(char *dst, size_t cap, const char *src, const char *what, char *err,
		    size_t errlen)
{
	if (strlen(src) >= cap) {
		snprintf(err, errlen, "%s: value too long", what);
		return -EINVAL;
	}
	strcpy(dst, src);
	return 0;
}

/* "0@0,1@1" style lists: default main on CPU 0, workers on the next CPUs. */
static void default_lcores(char *buf, size_t cap, uint32_t workers)
{
	size_t off = (size_t)snprintf(buf, cap, "0@0");

	for (uint32_t i = 1; i <= workers && off < cap; i++)
		off += (size_t)snprintf(buf + off, cap - off, ",%u@%u", i, i);
}

/*
 * Count the lcores of an EAL --lcores list of "N", "N@CPU", "N-M" or
 * "N-M@CPU" items (CPU may be a parenthesised set).  @return count or -EINVAL
 */
static int count_lcores(const char *s)
{
	int n = 0;

	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b;

		if (end == s || a < 0)
			return -EINVAL;
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -EINVAL;
		}
		n += (int)(b - a + 1);
		s = end;
		if (*s == '@') {
			int depth = 0;

			for (s++; *s && (depth > 0 || *s != ','); s++)
				depth += (*s == '(') - (*s == ')');
		}
		if (*s == ',')
			s++;
		else if (*s != '\0')
			return -EINVAL;
	}
	return n;
}

int dp_parse_mac(const char *s, struct rte_ether_addr *mac)
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac->addr_bytes[i] = (uint8_t)b[i];
	return 0;
}

static int read_conf(struct dp_conf *c, const struct sfu_config *cfg, char *err, size_t errlen)
{
	const char *s;
	uint32_t workers, v;
	int ret = 0;

#define U32(key, def, lo, hi, dst)                                                        \
	do {                                                                              \
		if (ret == 0)                                                             \
			ret = sfu_config_u32(cfg, "dataplane", key, def, lo, hi, &v, err, errlen); \
		dst = v;                                                                  \
	} while (0)

	ret = copy_str(c->file_prefix, sizeof(c->file_prefix),
		       sfu_config_str(cfg, "common", "file_prefix", "sfu"), "common.file_prefix",
		       err, errlen);
	U32("workers", 1, 1, DP_MAX_WORKERS, workers);
	if (ret)
		return ret;
	s = sfu_config_get(cfg, "dataplane", "lcores");
	if (s != NULL) {
		int n = count_lcores(s);

		ret = copy_str(c->lcores, sizeof(c->lcores), s, "dataplane.lcores", err, errlen);
		if (ret == 0 && (n < 2 || n > DP_MAX_WORKERS + 1)) {
			snprintf(err, errlen, "dataplane.lcores: '%s': need the main lcore and "
				 "1..%d workers", s, DP_MAX_WORKERS);
			ret = -EINVAL;
		}
		workers = (uint32_t)(n - 1);
	} else {
		default_lcores(c->lcores, sizeof(c->lcores), workers);
	}
	if (ret)
		return ret;
	c->workers = workers;
	s = sfu_config_get(cfg, "dataplane", "port");
	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "dataplane.port: required (a vdev such as "
			 "net_af_packet0,iface=dp0 or a PCI address)");
		return -EINVAL;
	}
	ret = copy_str(c->port, sizeof(c->port), s, "dataplane.port", err, errlen);
	if (ret)
		return ret;
	c->port_is_pci = strncmp(s, "net_", 4) != 0;
	ret = copy_str(c->extra_eal, sizeof(c->extra_eal),
		       sfu_config_str(cfg, "dataplane", "eal_args", ""), "dataplane.eal_args",
		       err, errlen);
	if (ret)
		return ret;
	ret = copy_str(c->static_neigh, sizeof(c->static_neigh),
		       sfu_config_str(cfg, "dataplane", "static_neigh", ""),
		       "dataplane.static_neigh", err, errlen);
	if (ret)
		return ret;
	ret = copy_str(c->base_virtaddr, sizeof(c->base_virtaddr),
		       sfu_config_str(cfg, "dataplane", "base_virtaddr", "0x400000000000"),
		       "dataplane.base_virtaddr", err, errlen);
	if (ret)
		return ret;
	ret = copy_str(c->log_level, sizeof(c->log_level),
		       sfu_config_str(cfg, "dataplane", "log_level", "notice"),
		       "dataplane.log_level", err, errlen);
	if (ret)
		return ret;
	s = sfu_config_get(cfg, "dataplane", "mac");
	if (s != NULL && *s != '\0') {
		if (dp_parse_mac(s, &c->mac) < 0) {
			snprintf(err, errlen, "dataplane.mac: '%s' is not a MAC address", s);
			return -EINVAL;
		}
		c->mac_set = true;
	}
	ret = sfu_config_ipv4(cfg, "dataplane", "ip", 0, &c->ip, err, errlen);
	if (ret == 0 && c->ip == 0) {
		snprintf(err, errlen, "dataplane.ip: required");
		ret = -EINVAL;
	}
	if (ret == 0)
		ret = sfu_config_ipv4(cfg, "dataplane", "gateway", 0, &c->gateway, err, errlen);
	if (ret == 0)
		ret = sfu_config_ipv4(cfg, "dataplane", "announced_ip", c->ip, &c->announced_ip,
				      err, errlen);
	U32("prefix_len", 24, 1, 32, c->prefix_len);
	U32("rtc_min_port", 40000, 1, 65535, c->rtc_min_port);
	U32("rtc_max_port", 40100, 1, 65535, c->rtc_max_port);
	U32("memory_mb", 512, 64, 1 << 20, c->memory_mb);
	U32("rx_desc", 1024, 64, 16384, c->rx_desc);
	U32("tx_desc", 1024, 64, 16384, c->tx_desc);
	U32("mbufs", 32767, 1023, 1 << 22, c->mbufs);
	U32("msg_pool", 8191, 255, 1 << 20, c->msg_pool);
	U32("ring_size", 4096, 64, 1 << 20, c->ring_size);
	U32("max_transports", 4096, 1, DP_SLOT_MASK, c->max_transports);
	U32("max_producers", 8192, 1, DP_SLOT_MASK, c->max_producers);
	U32("max_consumers", 65536, 1, DP_SLOT_MASK, c->max_consumers);
	U32("idle_sleep_us", 0, 0, 100000, c->idle_sleep_us);
	U32("neigh_ttl_s", 300, 5, 86400, c->neigh_ttl_s);
	if (ret == 0)
		ret = sfu_config_bool(cfg, "dataplane", "udp_checksum", true, &c->udp_csum, err,
				      errlen);
#undef U32
	if (ret)
		return ret;
	if (c->rtc_min_port > c->rtc_max_port) {
		snprintf(err, errlen, "dataplane.rtc_min_port > rtc_max_port");
		return -EINVAL;
	}
	/* rte_ring sizes are powers of two. */
	if (c->ring_size & (c->ring_size - 1)) {
		snprintf(err, errlen, "dataplane.ring_size: %u is not a power of two",
			 c->ring_size);
		return -EINVAL;
	}
	return dp_static_neigh_each(c->static_neigh, NULL, NULL, err, errlen);
}

int dp_static_neigh_each(const char *list, void (*fn)(uint32_t ip, const struct rte_ether_addr *mac,
							void *arg),
			 void *arg, char *err, size_t errlen)
{
	char buf[sizeof(((struct dp_conf *)0)->static_neigh)], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		struct rte_ether_addr mac;
		uint32_t ip;

		if (eq == NULL) {
			snprintf(err, errlen, "dataplane.static_neigh: '%s': expected IP=MAC", tok);
			return -EINVAL;
		}
		*eq = '\0';
		if (sfu_parse_ipv4(tok, &ip) < 0 || dp_parse_mac(eq + 1, &mac) < 0) {
			snprintf(err, errlen, "dataplane.static_neigh: bad entry '%s=%s'", tok, eq + 1);
			return -EINVAL;
		}
		if (fn != NULL)
			fn(ip, &mac, arg);
	}
	return 0;
}

int dp_conf_from_args(struct dp_conf *c, int argc, char **argv, char *err, size_t errlen)
{
	struct sfu_config *cfg = sfu_config_from_args(argc, argv, USAGE, err, errlen);
	int ret;

	if (cfg == NULL)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	ret = read_conf(c, cfg, err, errlen);
	sfu_config_free(cfg);
	return ret;
}

/* Split extra EAL arguments on spaces into argv, storing copies in store. */
int dp_conf_eal_args(const struct dp_conf *c, char **argv, int max,
		     char *store, size_t store_len)
{
	size_t off = 0;
	int n = 0;

#define ADD(...)                                                                       \
	do {                                                                           \
		int w_ = snprintf(store + off, store_len - off, __VA_ARGS__);           \
		if (w_ < 0 || (size_t)w_ >= store_len - off || n >= max - 1)           \
			return -E2BIG;                                                 \
		argv[n++] = store + off;                                               \
		off += (size_t)w_ + 1;                                                 \
	} while (0)

	ADD("sfu-dataplane");
	ADD("--proc-type=primary");
	ADD("--file-prefix=%s", c->file_prefix);
	ADD("--lcores=%s", c->lcores);
	ADD("-m");
	ADD("%u", c->memory_mb);
	ADD("--log-level=%s", c->log_level);
	/* A fixed base address: secondaries must map the same range, and nothing
	 * the loader maps at random (libraries, PIE at 0x55..) nor ASan's
	 * allocator (0x6000'0000'0000) can be there. */
	ADD("--base-virtaddr=%s", c->base_virtaddr);
	if (c->port_is_pci) {
		ADD("-a");
		ADD("%s", c->port);
	} else {
		ADD("--no-pci");
		ADD("--vdev");
		/* af_packet: one queue pair per worker (PACKET_FANOUT spreads flows). */
		if (strncmp(c->port, "net_af_packet", 13) == 0 && strstr(c->port, "qpairs=") == NULL)
			ADD("%s,qpairs=%u", c->port, c->workers);
		else
			ADD("%s", c->port);
	}
	if (c->extra_eal[0] != '\0') {
		char tmp[sizeof(c->extra_eal)];
		char *save = NULL;

		strcpy(tmp, c->extra_eal);
		for (char *tok = strtok_r(tmp, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			ADD("%s", tok);
	}
#undef ADD
	argv[n] = NULL;
	return n;
}
