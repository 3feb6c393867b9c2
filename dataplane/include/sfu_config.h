/*
 * sfu_config.h — the one configuration file shared by every process.
 *
 * Format: INI.  "[section]" lines, "key = value" lines, comments from '#' or
 * ';' at the start of a line.  Sections: common, dataplane, ctrl, tap.
 * Precedence, lowest first: built-in defaults (the getters' def argument),
 * the file, the original deployment's environment names (see
 * sfu_config_apply_env), then command-line "section.key=value" overrides.
 *
 * Threading: built and read by one thread during start-up.
 */
#ifndef SFU_CONFIG_H
#define SFU_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sfu_config;

struct sfu_config *sfu_config_new(void);
void sfu_config_free(struct sfu_config *cfg);

/**
 * Read a config file.  @return 0, or -errno with a message naming the file
 * and line in err.
 */
int sfu_config_load(struct sfu_config *cfg, const char *path, char *err, size_t errlen);

/** Set (or replace) one value.  @return 0 or -ENOMEM. */
int sfu_config_set(struct sfu_config *cfg, const char *section, const char *key,
		   const char *value);

/** Apply one "section.key=value" override.  @return 0 or -EINVAL with err. */
int sfu_config_set_arg(struct sfu_config *cfg, const char *arg, char *err, size_t errlen);

/**
 * Apply the original environment names (ANNOUNCED_IP, RTC_MIN_PORT,
 * RTC_MAX_PORT, WORKER_COUNT, PORT, REDIS_HOST, REDIS_PASSWORD,
 * STT_SERVICE_URL, ENABLE_AUDIO_PROCESSING, AUDIO_SAMPLE_RATE,
 * AUDIO_CHANNELS, SFU_FILE_PREFIX) where set.  @return 0 or -ENOMEM.
 */
int sfu_config_apply_env(struct sfu_config *cfg);

/**
 * The whole command line of a process: "-c FILE" (or --config), then the
 * environment names, then every "-s section.key=value" (or --set), in that
 * order of precedence.  "-h" prints usage to stdout and exits 0; anything
 * else prints usage to stderr and fails.
 * @return the configuration, or NULL with a message in err
 */
struct sfu_config *sfu_config_from_args(int argc, char **argv, const char *usage, char *err,
					size_t errlen);

/** The raw value, or NULL when absent. */
const char *sfu_config_get(const struct sfu_config *cfg, const char *section, const char *key);

/** String with default (never NULL when def is not NULL). */
const char *sfu_config_str(const struct sfu_config *cfg, const char *section, const char *key,
			   const char *def);

/**
 * Unsigned integer in [min, max]; def when absent.
 * @return 0, or -EINVAL with "section.key: ..." in err
 */
int sfu_config_u32(const struct sfu_config *cfg, const char *section, const char *key,
		   uint32_t def, uint32_t min, uint32_t max, uint32_t *out,
		   char *err, size_t errlen);

/** Boolean (true/false/yes/no/on/off/1/0); def when absent.  @return 0 or -EINVAL. */
int sfu_config_bool(const struct sfu_config *cfg, const char *section, const char *key,
		    bool def, bool *out, char *err, size_t errlen);

/** Dotted IPv4 address to host order; def when absent.  @return 0 or -EINVAL. */
int sfu_config_ipv4(const struct sfu_config *cfg, const char *section, const char *key,
		    uint32_t def, uint32_t *out, char *err, size_t errlen);

/** Parse a dotted IPv4 address to host order.  @return 0 or -EINVAL. */
int sfu_parse_ipv4(const char *s, uint32_t *out);

#endif /* SFU_CONFIG_H */
