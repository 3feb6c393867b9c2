/*
 * fuzz_stun.c — fuzz target for stun.h and the ICE-lite agent of ice.h:
 * stun_parse, then stun_integrity_ok / stun_fingerprint_ok with a fixed key,
 * stun_username_local, and ice_lite_input on one long-lived agent with fixed
 * credentials, with the invariants they promise checked by abort(): offsets
 * and the username stay inside the message, MESSAGE-INTEGRITY comes before
 * FINGERPRINT and FINGERPRINT ends it, a verdict comes with a response that
 * parses, answers the same transaction, carries a right FINGERPRINT, and —
 * for a success — maps the sender and verifies with the agent's password; a
 * nomination selects the sender.
 *
 * Mutations almost always break MESSAGE-INTEGRITY first, so a message that
 * parses is run a second time with MESSAGE-INTEGRITY (fixed key) and
 * FINGERPRINT recomputed here: the agent's logic behind authentication gets
 * the mutated attributes too, and the library must then accept both.
 *
 * The corpus (tests/fuzz/corpus/stun/) holds the RFC 5769 vectors and
 * requests made with FUZZ_UFRAG / FUZZ_PWD below.
 *
 * Threading: single-threaded; driven by driver.c or libFuzzer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ice.h"
#include "stun.h"

#define FUZZ_CHECK(cond)                 \
	do {                             \
		if (!(cond))             \
			abort();         \
	} while (0)

#define FUZZ_UFRAG "fuzzUfrag+fuzz/1"
#define FUZZ_PWD "fuzzPassword0123456789abcdefghij"
#define FUZZ_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ice_lite agent;
static bool agent_ready;
static uint64_t now_ms;
static volatile uint8_t sink;

static const struct sfu_5tuple tuples[3] = {
	{ 0xC0A80102u, 50000, 40000 },
	{ 0xC0A80103u, 50001, 40000 },
	{ 0xC0A80102u, 50000, 40001 },
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	return ~c;
}

static void agent_reset(void)
{
	FUZZ_CHECK(ice_lite_init(&agent) == 0);
	memcpy(agent.ufrag, FUZZ_UFRAG, sizeof(FUZZ_UFRAG));
	memcpy(agent.pwd, FUZZ_PWD, sizeof(FUZZ_PWD));
	agent_ready = true;
}

static void check_parsed(const uint8_t *data, size_t size, const struct stun_msg *m)
{
	const char *frag = NULL;
	int n;

	FUZZ_CHECK(size >= STUN_HDR_LEN && (size_t)m->len + STUN_HDR_LEN == size);
	FUZZ_CHECK((m->len & 3) == 0 && m->type == get16(data) && (m->type & 0xC000) == 0);
	FUZZ_CHECK(memcmp(m->tid, data + 8, 12) == 0);
	if (m->username) {
		FUZZ_CHECK((const uint8_t *)m->username >= data + STUN_HDR_LEN + 4);
		FUZZ_CHECK((const uint8_t *)m->username + m->username_len <= data + size);
		FUZZ_CHECK(m->username_len <= STUN_USERNAME_MAX);
		for (size_t i = 0; i < m->username_len; i++)
			sink ^= (uint8_t)m->username[i];
	}
	if (m->has_integrity) {
		FUZZ_CHECK(m->integrity_off >= STUN_HDR_LEN && m->integrity_off + 24u <= size);
		FUZZ_CHECK(get16(data + m->integrity_off) == 0x0008);
	}
	if (m->has_fingerprint) {
		FUZZ_CHECK(m->fingerprint_off + 8u == size);
		FUZZ_CHECK(get16(data + m->fingerprint_off) == 0x8028);
		if (m->has_integrity)
			FUZZ_CHECK(m->integrity_off < m->fingerprint_off);
	}
	FUZZ_CHECK(m->unknown_required == 0 || m->unknown_required < 0x8000);
	FUZZ_CHECK(m->error_code == 0 || (m->error_code >= 300 && m->error_code <= 699));

	n = stun_username_local(m, &frag);
	FUZZ_CHECK(n == -EINVAL || (n >= 0 && m->username && frag == m->username &&
				    (size_t)n < m->username_len && frag[n] == ':'));
	if (!m->username)
		FUZZ_CHECK(n == -EINVAL);

	sink ^= (uint8_t)stun_integrity_ok(data, size, m, (const uint8_t *)FUZZ_PWD,
					   sizeof(FUZZ_PWD) - 1);
	sink ^= (uint8_t)stun_fingerprint_ok(data, size, m);
}

/* Feed the agent and check what it says against what it sent. */
static void check_agent(const uint8_t *data, size_t size, const struct stun_msg *req)
{
	uint8_t out[STUN_MSG_MAX];
	const struct sfu_5tuple *from = &tuples[size % 3];
	size_t out_len = 12345;
	enum ice_verdict v;
	struct stun_msg m;

	now_ms += 97;
	v = ice_lite_input(&agent, data, size, from, now_ms, out, sizeof(out), &out_len);
	FUZZ_CHECK(v == ICE_DROP || v == ICE_REPLY || v == ICE_REPLY_NOMINATED);
	if (v == ICE_DROP) {
		FUZZ_CHECK(out_len == 0);
	} else {
		FUZZ_CHECK(req != NULL || v == ICE_REPLY);
		FUZZ_CHECK(out_len >= STUN_HDR_LEN && out_len <= sizeof(out));
		FUZZ_CHECK(stun_parse(out, out_len, &m) == 0);
		FUZZ_CHECK(memcmp(m.tid, data + 8, 12) == 0);
		FUZZ_CHECK(stun_fingerprint_ok(out, out_len, &m));
		if (m.type == STUN_BINDING_SUCCESS) {
			FUZZ_CHECK(req && (req->type & 0x0110) == 0);
			FUZZ_CHECK(m.has_xor_mapped && m.mapped_ip == from->remote_ip &&
				   m.mapped_port == from->remote_port);
			FUZZ_CHECK(stun_integrity_ok(out, out_len, &m, (const uint8_t *)agent.pwd,
						     strlen(agent.pwd)));
			/* Only an authenticated request is answered with success. */
			FUZZ_CHECK(stun_integrity_ok(data, size, req, (const uint8_t *)agent.pwd,
						     strlen(agent.pwd)));
		} else {
			FUZZ_CHECK(m.type == STUN_BINDING_ERROR && v == ICE_REPLY);
			FUZZ_CHECK(m.error_code >= 400 && m.error_code < 500);
			if (m.has_integrity)
				FUZZ_CHECK(stun_integrity_ok(out, out_len, &m,
							     (const uint8_t *)agent.pwd,
							     strlen(agent.pwd)));
		}
	}
	if (v == ICE_REPLY_NOMINATED) {
		FUZZ_CHECK(req && req->use_candidate && agent.nominated);
		FUZZ_CHECK(agent.selected.remote_ip == from->remote_ip &&
			   agent.selected.remote_port == from->remote_port &&
			   agent.selected.local_port == from->local_port);
		FUZZ_CHECK(agent.last_valid_ms == now_ms && !ice_lite_expired(&agent, now_ms));
	}
	sink ^= (uint8_t)ice_lite_expired(&agent, now_ms + ICE_CONSENT_MS);
}

/* Recompute MESSAGE-INTEGRITY (FUZZ_PWD) and FINGERPRINT of a parsed copy. */
static void repair_and_check(const uint8_t *data, size_t size, const struct stun_msg *m)
{
	static uint8_t buf[FUZZ_MAX];
	struct stun_msg again;
	unsigned int mlen = 20;

	if (!m->has_integrity && !m->has_fingerprint)
		return;
	if (size > sizeof(buf))
		return;
	memcpy(buf, data, size);
	if (m->has_integrity) {
		size_t off = m->integrity_off;

		put16(buf + 2, off + 24 - STUN_HDR_LEN);
		HMAC(EVP_sha1(), FUZZ_PWD, (int)sizeof(FUZZ_PWD) - 1, buf, off, buf + off + 4, &mlen);
		put16(buf + 2, size - STUN_HDR_LEN);
	}
	if (m->has_fingerprint) {
		size_t off = m->fingerprint_off;
		uint32_t crc = crc32_bitwise(buf, off) ^ 0x5354554eu;

		buf[off + 4] = (uint8_t)(crc >> 24);
		buf[off + 5] = (uint8_t)(crc >> 16);
		buf[off + 6] = (uint8_t)(crc >> 8);
		buf[off + 7] = (uint8_t)crc;
	}
	FUZZ_CHECK(stun_parse(buf, size, &again) == 0);
	FUZZ_CHECK(again.integrity_off == m->integrity_off &&
		   again.fingerprint_off == m->fingerprint_off);
	if (m->has_integrity)
		FUZZ_CHECK(stun_integrity_ok(buf, size, &again, (const uint8_t *)FUZZ_PWD,
					     sizeof(FUZZ_PWD) - 1));
	if (m->has_fingerprint)
		FUZZ_CHECK(stun_fingerprint_ok(buf, size, &again));
	check_agent(buf, size, &again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg m;
	int rc;

	if (!agent_ready)
		agent_reset();
	/* Now and then a restart, then the fixed credentials again. */
	if (now_ms % 100000 < 97) {
		FUZZ_CHECK(ice_lite_restart(&agent) == 0 && !agent.nominated);
		memcpy(agent.ufrag, FUZZ_UFRAG, sizeof(FUZZ_UFRAG));
		memcpy(agent.pwd, FUZZ_PWD, sizeof(FUZZ_PWD));
	}

	memset(&m, 0xa5, sizeof(m));
	rc = stun_parse(data, size, &m);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc == 0)
		check_parsed(data, size, &m);
	check_agent(data, size, rc == 0 ? &m : NULL);
	if (rc == 0)
		repair_and_check(data, size, &m);
	return 0;
}
