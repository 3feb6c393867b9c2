/*
 * fuzz_config.c — fuzz target for the shared configuration (sfu_config.h):
 * each input is written to a file under /tmp (named with this process's pid),
 * loaded with sfu_config_load, read through every typed getter for the keys
 * the processes use, changed with sfu_config_set / sfu_config_set_arg, freed
 * and unlinked.  Invariants checked by abort(): load returns 0 or a named
 * -errno with a message, getters return 0 or -EINVAL and keep values in their
 * bounds, a value set is the value read back, and an IPv4 address that
 * parses prints and parses back to itself.
 *
 * Threading: single-threaded; driven by driver.c or libFuzzer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sfu_config.h"

#define FUZZ_CHECK(cond)                 \
	do {                             \
		if (!(cond))             \
			abort();         \
	} while (0)

#define ERR_LEN 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The (section, key) pairs sfu-dataplane, ctrl and tap read. */
static const struct {
	const char *section, *key;
} keys[] = {
	{ "common", "file_prefix" },     { "dataplane", "port" },
	{ "dataplane", "ip" },           { "dataplane", "prefix_len" },
	{ "dataplane", "gateway" },      { "dataplane", "announced_ip" },
	{ "dataplane", "rtc_min_port" }, { "dataplane", "rtc_max_port" },
	{ "dataplane", "lcores" },       { "dataplane", "memory_mb" },
	{ "dataplane", "idle_sleep_us" }, { "dataplane", "udp_checksum" },
	{ "dataplane", "mac" },          { "ctrl", "port" },
	{ "tap", "enabled" },            { "tap", "stt_url" },
};

/* Folded into so reads of returned strings are not optimised away. */
static volatile size_t sink;

/* err must be a terminated string inside its buffer; non-empty when asked. */
static void check_err(const char *err, int must_say)
{
	const char *nul = memchr(err, '\0', ERR_LEN);

	FUZZ_CHECK(nul != NULL);
	if (must_say)
		FUZZ_CHECK(nul != err);
}

static void check_getters(struct sfu_config *cfg)
{
	char err[ERR_LEN];
	uint32_t v, ip;
	bool b;
	int rc;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *raw = sfu_config_get(cfg, keys[i].section, keys[i].key);
		const char *s = sfu_config_str(cfg, keys[i].section, keys[i].key, "def");

		FUZZ_CHECK(s != NULL && (raw == NULL ? strcmp(s, "def") == 0 : s == raw));
		sink += strlen(s);

		err[0] = '\0';
		v = 12345;
		rc = sfu_config_u32(cfg, keys[i].section, keys[i].key, 50, 10, 1000, &v, err,
				    sizeof(err));
		FUZZ_CHECK(rc == 0 || rc == -EINVAL);
		check_err(err, rc != 0);
		if (rc == 0)
			FUZZ_CHECK(raw == NULL ? v == 50 : (v >= 10 && v <= 1000));
		if (raw == NULL)
			FUZZ_CHECK(rc == 0);

		err[0] = '\0';
		rc = sfu_config_bool(cfg, keys[i].section, keys[i].key, true, &b, err, sizeof(err));
		FUZZ_CHECK(rc == 0 || rc == -EINVAL);
		check_err(err, rc != 0);
		if (raw == NULL)
			FUZZ_CHECK(rc == 0 && b);

		err[0] = '\0';
		rc = sfu_config_ipv4(cfg, keys[i].section, keys[i].key, 7, &ip, err, sizeof(err));
		FUZZ_CHECK(rc == 0 || rc == -EINVAL);
		check_err(err, rc != 0);
		if (rc == 0 && (raw == NULL || *raw == '\0'))
			FUZZ_CHECK(ip == 7);
	}
}

/* Treat the start of the input as a string for the small parsers. */
static void check_strings(struct sfu_config *cfg, const uint8_t *data, size_t size)
{
	char s[128], back[32], err[ERR_LEN];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	uint32_t ip, ip2;
	int rc;

	memcpy(s, data, n);
	s[n] = '\0';
	if (sfu_parse_ipv4(s, &ip) == 0) {
		snprintf(back, sizeof(back), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
			 (ip >> 8) & 255, ip & 255);
		FUZZ_CHECK(sfu_parse_ipv4(back, &ip2) == 0 && ip2 == ip);
	}
	err[0] = '\0';
	rc = sfu_config_set_arg(cfg, s, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	check_err(err, rc == -EINVAL);
	if (rc == 0) {
		/* "section.key=value": what was set reads back. */
		char *dot = strchr(s, '.'), *eq = strchr(s, '=');

		FUZZ_CHECK(dot != NULL && eq != NULL && dot < eq);
		*dot = '\0';
		*eq = '\0';
		FUZZ_CHECK(strcmp(sfu_config_str(cfg, s, dot + 1, ""), eq + 1) == 0);
	}
	/* A value replaced in place reads back, whatever was loaded. */
	FUZZ_CHECK(sfu_config_set(cfg, "dataplane", "ip", "198.18.0.1") == 0);
	FUZZ_CHECK(sfu_config_ipv4(cfg, "dataplane", "ip", 0, &ip, err, sizeof(err)) == 0 &&
		   ip == 0xC6120001);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	char err[ERR_LEN];
	struct sfu_config *cfg;
	FILE *f;
	int rc;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/sfu-fuzz-config-%d.ini", (int)getpid());
	f = fopen(path, "wb");
	if (f == NULL)
		abort(); /* /tmp not writable: this target cannot run */
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);

	cfg = sfu_config_new();
	FUZZ_CHECK(cfg != NULL);
	err[0] = '\0';
	rc = sfu_config_load(cfg, path, err, sizeof(err));
	/* Syntax errors are -EINVAL with "path:line: why"; nothing else may fail. */
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	check_err(err, rc != 0);
	if (rc == -EINVAL)
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0);
	/* Whatever loaded before an error stays readable. */
	check_getters(cfg);
	check_strings(cfg, data, size);
	sfu_config_free(cfg);
	unlink(path);
	return 0;
}
