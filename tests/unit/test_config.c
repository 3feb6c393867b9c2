/*
 * test_config.c — the shared config: file syntax, errors with file:line,
 * precedence (file < environment < command line), typed getters' bounds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sfu_config.h"
#include "unit.h"

static char path[64];

static struct sfu_config *load(const char *text, int *ret, char *err, size_t errlen)
{
	struct sfu_config *cfg = sfu_config_new();
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/sfu-test-config-%d.ini", (int)getpid());
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	*ret = sfu_config_load(cfg, path, err, errlen);
	unlink(path);
	return cfg;
}

UT_TEST(file_and_getters)
{
	char err[256] = "";
	int ret;
	struct sfu_config *cfg = load("# comment\n; other\nfile_prefix = top\n"
				      "[dataplane]\n  ip = 198.18.0.1  \nworkers=3\nudp_checksum = off\n"
				      "[ctrl]\nport = 8443\nempty =\n", &ret, err, sizeof(err));
	uint32_t v, ip;
	bool b;

	UT_EQ(ret, 0);
	UT_CHECK(strcmp(sfu_config_str(cfg, "common", "file_prefix", "x"), "top") == 0);
	UT_EQ(sfu_config_ipv4(cfg, "dataplane", "ip", 0, &ip, err, sizeof(err)), 0);
	UT_EQ(ip, 0xC6120001);
	UT_EQ(sfu_config_u32(cfg, "dataplane", "workers", 1, 1, 16, &v, err, sizeof(err)), 0);
	UT_EQ(v, 3);
	UT_EQ(sfu_config_u32(cfg, "dataplane", "workers", 1, 4, 16, &v, err, sizeof(err)), -EINVAL);
	UT_CHECK(strstr(err, "dataplane.workers") != NULL);
	UT_EQ(sfu_config_u32(cfg, "dataplane", "absent", 7, 1, 16, &v, err, sizeof(err)), 0);
	UT_EQ(v, 7);
	UT_EQ(sfu_config_bool(cfg, "dataplane", "udp_checksum", true, &b, err, sizeof(err)), 0);
	UT_EQ(b, false);
	UT_CHECK(strcmp(sfu_config_str(cfg, "ctrl", "empty", "d"), "") == 0);
	UT_CHECK(sfu_config_get(cfg, "tap", "port") == NULL);
	sfu_config_free(cfg);
}

UT_TEST(syntax_errors_name_the_line)
{
	char err[256];
	int ret;
	struct sfu_config *cfg;

	cfg = load("[dataplane]\nip 198.18.0.1\n", &ret, err, sizeof(err));
	UT_EQ(ret, -EINVAL);
	UT_CHECK(strstr(err, ":2:") != NULL);
	sfu_config_free(cfg);
	cfg = load("[data plane]\n", &ret, err, sizeof(err));
	UT_EQ(ret, -EINVAL);
	sfu_config_free(cfg);
	cfg = load("[dataplane\n", &ret, err, sizeof(err));
	UT_EQ(ret, -EINVAL);
	sfu_config_free(cfg);
	cfg = load("= value\n", &ret, err, sizeof(err));
	UT_EQ(ret, -EINVAL);
	sfu_config_free(cfg);
	cfg = sfu_config_new();
	UT_EQ(sfu_config_load(cfg, "/nonexistent/sfu.ini", err, sizeof(err)), -ENOENT);
	sfu_config_free(cfg);
}

UT_TEST(bad_values)
{
	char err[256];
	int ret;
	struct sfu_config *cfg = load("[d]\nn = 12x\nneg = -1\nbig = 99999999999\nip = 1.2.3\n"
				      "ip2 = 1.2.3.256\nb = maybe\n", &ret, err, sizeof(err));
	uint32_t v;
	bool b;

	UT_EQ(ret, 0);
	UT_EQ(sfu_config_u32(cfg, "d", "n", 0, 0, 100, &v, err, sizeof(err)), -EINVAL);
	UT_EQ(sfu_config_u32(cfg, "d", "neg", 0, 0, 100, &v, err, sizeof(err)), -EINVAL);
	UT_EQ(sfu_config_u32(cfg, "d", "big", 0, 0, UINT32_MAX, &v, err, sizeof(err)), -EINVAL);
	UT_EQ(sfu_config_ipv4(cfg, "d", "ip", 0, &v, err, sizeof(err)), -EINVAL);
	UT_EQ(sfu_config_ipv4(cfg, "d", "ip2", 0, &v, err, sizeof(err)), -EINVAL);
	UT_EQ(sfu_config_bool(cfg, "d", "b", false, &b, err, sizeof(err)), -EINVAL);
	sfu_config_free(cfg);
}

UT_TEST(precedence)
{
	char err[256];
	int ret;
	struct sfu_config *cfg = load("[dataplane]\nrtc_min_port = 1000\nannounced_ip = 1.1.1.1\n"
				      "[ctrl]\nport=1\n", &ret, err, sizeof(err));

	UT_EQ(ret, 0);
	setenv("RTC_MIN_PORT", "2000", 1);
	setenv("PORT", "3000", 1);
	setenv("ANNOUNCED_IP", "", 1); /* empty: ignored */
	UT_EQ(sfu_config_apply_env(cfg), 0);
	UT_CHECK(strcmp(sfu_config_get(cfg, "dataplane", "rtc_min_port"), "2000") == 0);
	UT_CHECK(strcmp(sfu_config_get(cfg, "ctrl", "port"), "3000") == 0);
	UT_CHECK(strcmp(sfu_config_get(cfg, "dataplane", "announced_ip"), "1.1.1.1") == 0);
	UT_EQ(sfu_config_set_arg(cfg, "dataplane.rtc_min_port=4000", err, sizeof(err)), 0);
	UT_CHECK(strcmp(sfu_config_get(cfg, "dataplane", "rtc_min_port"), "4000") == 0);
	UT_EQ(sfu_config_set_arg(cfg, "noseparator", err, sizeof(err)), -EINVAL);
	UT_EQ(sfu_config_set_arg(cfg, "a=b.c", err, sizeof(err)), -EINVAL);
	UT_EQ(sfu_config_set_arg(cfg, "tap.stt_url=http://127.0.0.1:8001/x=y", err, sizeof(err)), 0);
	UT_CHECK(strcmp(sfu_config_get(cfg, "tap", "stt_url"), "http://127.0.0.1:8001/x=y") == 0);
	unsetenv("RTC_MIN_PORT");
	unsetenv("PORT");
	unsetenv("ANNOUNCED_IP");
	sfu_config_free(cfg);
}

UT_MAIN("config", UT_CASE(file_and_getters), UT_CASE(syntax_errors_name_the_line),
	UT_CASE(bad_values), UT_CASE(precedence))
