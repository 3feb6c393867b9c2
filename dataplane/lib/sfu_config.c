/*
 * sfu_config.c — INI file, environment and command-line configuration
 * (sfu_config.h).  A flat list of (section, key, value) strings: the file is
 * small and read once, so linear search is the simplest correct thing.
 *
 * Threading: single-threaded, start-up only.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sfu_config.h"

struct sfu_config_entry {
	char *section;
	char *key;
	char *value;
};

struct sfu_config {
	struct sfu_config_entry *e;
	size_t n, cap;
};

struct sfu_config *sfu_config_new(void)
{
	return calloc(1, sizeof(struct sfu_config));
}

void sfu_config_free(struct sfu_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->n; i++) {
		free(cfg->e[i].section);
		free(cfg->e[i].key);
		free(cfg->e[i].value);
	}
	free(cfg->e);
	free(cfg);
}

static struct sfu_config_entry *find(const struct sfu_config *cfg, const char *section,
				     const char *key)
{
	for (size_t i = 0; i < cfg->n; i++)
		if (strcmp(cfg->e[i].section, section) == 0 && strcmp(cfg->e[i].key, key) == 0)
			return &cfg->e[i];
	return NULL;
}

int sfu_config_set(struct sfu_config *cfg, const char *section, const char *key,
		   const char *value)
{
	struct sfu_config_entry *e = find(cfg, section, key);
	char *v = strdup(value);

	if (v == NULL)
		return -ENOMEM;
	if (e != NULL) {
		free(e->value);
		e->value = v;
		return 0;
	}
	if (cfg->n == cfg->cap) {
		size_t cap = cfg->cap ? cfg->cap * 2 : 32;
		struct sfu_config_entry *ne = realloc(cfg->e, cap * sizeof(*ne));

		if (ne == NULL)
			goto err;
		cfg->e = ne;
		cfg->cap = cap;
	}
	e = &cfg->e[cfg->n];
	e->section = strdup(section);
	e->key = strdup(key);
	if (e->section == NULL || e->key == NULL) {
		free(e->section);
		free(e->key);
		goto err;
	}
	e->value = v;
	cfg->n++;
	return 0;
err:
	free(v);
	return -ENOMEM;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

int sfu_config_load(struct sfu_config *cfg, const char *path, char *err, size_t errlen)
{
	char section[64] = "common";
	char line[1024];
	unsigned int lineno = 0;
	FILE *f = fopen(path, "r");
	int ret = 0;

	if (f == NULL) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s, *eq, *key, *val;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			ret = -EINVAL;
			break;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');

			if (close == NULL || close[1] != '\0') {
				snprintf(err, errlen, "%s:%u: bad section header", path, lineno);
				ret = -EINVAL;
				break;
			}
			*close = '\0';
			s = trim(s + 1);
			if (!valid_name(s) || strlen(s) >= sizeof(section)) {
				snprintf(err, errlen, "%s:%u: bad section name", path, lineno);
				ret = -EINVAL;
				break;
			}
			strcpy(section, s);
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%u: expected key = value", path, lineno);
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if (!valid_name(key)) {
			snprintf(err, errlen, "%s:%u: bad key '%s'", path, lineno, key);
			ret = -EINVAL;
			break;
		}
		ret = sfu_config_set(cfg, section, key, val);
		if (ret < 0) {
			snprintf(err, errlen, "%s:%u: out of memory", path, lineno);
			break;
		}
	}
	fclose(f);
	return ret;
}

int sfu_config_set_arg(struct sfu_config *cfg, const char *arg, char *err, size_t errlen)
{
	char buf[512], *dot, *eq;

	if (strlen(arg) >= sizeof(buf)) {
		snprintf(err, errlen, "override too long");
		return -EINVAL;
	}
	strcpy(buf, arg);
	eq = strchr(buf, '=');
	dot = strchr(buf, '.');
	if (eq == NULL || dot == NULL || dot > eq) {
		snprintf(err, errlen, "'%s': expected section.key=value", arg);
		return -EINVAL;
	}
	*dot = '\0';
	*eq = '\0';
	if (!valid_name(buf) || !valid_name(dot + 1)) {
		snprintf(err, errlen, "'%s': bad section or key name", arg);
		return -EINVAL;
	}
	return sfu_config_set(cfg, buf, dot + 1, eq + 1);
}

/* The original gateway's environment names (design: "Configuration"). */
static const struct {
	const char *env, *section, *key;
} env_map[] = {
	{ "ANNOUNCED_IP", "dataplane", "announced_ip" },
	{ "RTC_MIN_PORT", "dataplane", "rtc_min_port" },
	{ "RTC_MAX_PORT", "dataplane", "rtc_max_port" },
	{ "WORKER_COUNT", "dataplane", "workers" },
	{ "SFU_FILE_PREFIX", "common", "file_prefix" },
	{ "PORT", "ctrl", "port" },
	{ "REDIS_HOST", "ctrl", "redis_host" },
	{ "REDIS_PASSWORD", "ctrl", "redis_password" },
	{ "STT_SERVICE_URL", "tap", "stt_url" },
	{ "ENABLE_AUDIO_PROCESSING", "tap", "enabled" },
	{ "AUDIO_SAMPLE_RATE", "tap", "sample_rate" },
	{ "AUDIO_CHANNELS", "tap", "channels" },
};

int sfu_config_apply_env(struct sfu_config *cfg)
{
	for (size_t i = 0; i < sizeof(env_map) / sizeof(env_map[0]); i++) {
		const char *v = getenv(env_map[i].env);

		if (v != NULL && *v != '\0') {
			int ret = sfu_config_set(cfg, env_map[i].section, env_map[i].key, v);

			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

struct sfu_config *sfu_config_from_args(int argc, char **argv, const char *usage, char *err,
					size_t errlen)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sfu_config *cfg = sfu_config_new();
	const char *path = NULL;
	int opt;

	if (cfg == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Pass 1 finds the file; pass 2 applies the overrides after it and env. */
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
		if (opt == 'c') {
			path = optarg;
		} else if (opt == 'h') {
			fputs(usage, stdout);
			exit(0);
		} else if (opt != 's') {
			fputs(usage, stderr);
			snprintf(err, errlen, "bad command line");
			goto err;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		goto err;
	}
	if (path != NULL && sfu_config_load(cfg, path, err, errlen) < 0)
		goto err;
	if (sfu_config_apply_env(cfg) < 0) {
		snprintf(err, errlen, "out of memory");
		goto err;
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1)
		if (opt == 's' && sfu_config_set_arg(cfg, optarg, err, errlen) < 0)
			goto err;
	return cfg;
err:
	sfu_config_free(cfg);
	return NULL;
}

const char *sfu_config_get(const struct sfu_config *cfg, const char *section, const char *key)
{
	const struct sfu_config_entry *e = find(cfg, section, key);

	return e ? e->value : NULL;
}

const char *sfu_config_str(const struct sfu_config *cfg, const char *section, const char *key,
			   const char *def)
{
	const char *v = sfu_config_get(cfg, section, key);

	return v ? v : def;
}

int sfu_config_u32(const struct sfu_config *cfg, const char *section, const char *key,
		   uint32_t def, uint32_t min, uint32_t max, uint32_t *out,
		   char *err, size_t errlen)
{
	const char *v = sfu_config_get(cfg, section, key);
	unsigned long long n;
	char *end;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	errno = 0;
	n = strtoull(v, &end, 0);
	if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || n < min || n > max) {
		snprintf(err, errlen, "%s.%s: '%s' is not a number in [%u, %u]", section, key,
			 v, min, max);
		return -EINVAL;
	}
	*out = (uint32_t)n;
	return 0;
}

int sfu_config_bool(const struct sfu_config *cfg, const char *section, const char *key,
		    bool def, bool *out, char *err, size_t errlen)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	const char *v = sfu_config_get(cfg, section, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	snprintf(err, errlen, "%s.%s: '%s' is not a boolean", section, key, v);
	return -EINVAL;
}

int sfu_parse_ipv4(const char *s, uint32_t *out)
{
	unsigned int b[4];
	char tail;

	if (sscanf(s, "%3u.%3u.%3u.%3u%c", &b[0], &b[1], &b[2], &b[3], &tail) != 4)
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		if (b[i] > 255)
			return -EINVAL;
	*out = (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
	return 0;
}

int sfu_config_ipv4(const struct sfu_config *cfg, const char *section, const char *key,
		    uint32_t def, uint32_t *out, char *err, size_t errlen)
{
	const char *v = sfu_config_get(cfg, section, key);

	if (v == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	if (sfu_parse_ipv4(v, out) < 0) {
		snprintf(err, errlen, "%s.%s: '%s' is not an IPv4 address", section, key, v);
		return -EINVAL;
	}
	return 0;
}
