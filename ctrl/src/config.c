/*
 * config.c — sfu-ctrl's settings from the shared config file ([common] and
 * [ctrl]), the original environment names (PORT, REDIS_HOST,
 * REDIS_PASSWORD, ANNOUNCED_IP, ENABLE_AUDIO_PROCESSING) and command-line
 * overrides (-s section.key=value).
 *
 * Threading: start-up only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctrl.h"
#include "sfu_config.h"

static int copy(char *dst, size_t cap, const char *v, const char *what, char *err, size_t errlen)
{
	if (strlen(v) >= cap) {
		snprintf(err, errlen, "%s: value too long", what);
		return -EINVAL;
	}
	strcpy(dst, v);
	return 0;
}

#define USAGE                                                                            \
	"usage: sfu-ctrl [-c CONFIG] [-s section.key=value]...\n"                       \
	"Keys: README.md and ctrl/README.md (Configuration).  Environment: PORT\n"       \
	"REDIS_HOST REDIS_PASSWORD ANNOUNCED_IP ENABLE_AUDIO_PROCESSING SFU_FILE_PREFIX\n"

static int read_cfg(struct ctrl_config *c, const struct sfu_config *cfg, char *err,
		    size_t errlen)
{
	uint32_t v;
	int ret = 0;

#define STR(dst, sec, key, def)                                                          \
	do {                                                                             \
		if (ret == 0)                                                            \
			ret = copy(dst, sizeof(dst), sfu_config_str(cfg, sec, key, def),  \
				   sec "." key, err, errlen);                            \
	} while (0)
#define U32(dst, key, def, lo, hi)                                                       \
	do {                                                                             \
		if (ret == 0)                                                            \
			ret = sfu_config_u32(cfg, "ctrl", key, def, lo, hi, &v, err, errlen); \
		dst = v;                                                                 \
	} while (0)

	STR(c->file_prefix, "common", "file_prefix", "sfu");
	U32(c->port, "port", 8443, 1, 65535);
	U32(c->http_port, "http_port", 8080, 0, 65535);
	STR(c->bind_addr, "ctrl", "bind", "");
	STR(c->tls_cert, "ctrl", "tls_cert", "/var/lib/sfu/tls-cert.pem");
	STR(c->tls_key, "ctrl", "tls_key", "/var/lib/sfu/tls-key.pem");
	STR(c->web_root, "ctrl", "web_root", "ctrl/web/dist");
	STR(c->redis_host, "ctrl", "redis_host", "");
	U32(c->redis_port, "redis_port", 6379, 1, 65535);
	U32(c->redis_retry_max_ms, "redis_retry_max_ms", 30000, 500, 600000);
	STR(c->redis_password, "ctrl", "redis_password", "");
	STR(c->admin_token, "ctrl", "admin_token", "");
	U32(c->max_peers_per_room, "max_peers_per_room", 50, 1, 10000);
	U32(c->max_msg_bytes, "max_message_bytes", 65536, 1024, 1 << 24);
	U32(c->msgs_per_sec, "messages_per_second", 50, 1, 100000);
	U32(c->drain_ms, "drain_ms", 5000, 0, 600000);
	U32(c->ice_consent_ms, "ice_consent_ms", 30000, 1000, 600000);
	if (ret == 0)
		ret = sfu_config_ipv4(cfg, "dataplane", "announced_ip", 0, &c->announced_ip, err,
				      errlen);
	if (ret == 0)
		ret = sfu_config_bool(cfg, "tap", "enabled", true, &c->captions_enabled, err,
				      errlen);
	if (ret == 0)
		ret = sfu_config_bool(cfg, "ctrl", "active_speaker", true, &c->speaker_enabled, err,
				      errlen);
	U32(c->speaker_threshold_dbov, "speaker_threshold_dbov", 50, 0, 127);
	U32(c->speaker_switch_intervals, "speaker_switch_intervals", 2, 1, 100);
	U32(c->speaker_silence_ms, "speaker_silence_ms", 1000, 300, 60000);
	if (ret == 0) {
		char host[64];

		gethostname(host, sizeof(host));
		host[sizeof(host) - 1] = '\0';
		STR(c->node_id, "ctrl", "node_id", host);
	}
#undef STR
#undef U32
	return ret;
}

int ctrl_config_load(struct ctrl_config *c, int argc, char **argv, char *err, size_t errlen)
{
	struct sfu_config *cfg = sfu_config_from_args(argc, argv, USAGE, err, errlen);
	int ret;

	if (cfg == NULL)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	ret = read_cfg(c, cfg, err, errlen);
	sfu_config_free(cfg);
	return ret;
}
