/*
 * ice.c — the ICE-lite agent of one WebRTC transport (ice.h): answers
 * connectivity checks (RFC 8445 7.3), learns the nominated pair from
 * USE-CANDIDATE (RFC 8445 7.3.1.5, 8.2), keeps consent freshness (RFC 7675:
 * only authenticated checks on the selected pair refresh it), rate-limits
 * error responses, and restarts with new credentials (RFC 8445 9).
 *
 * Order of the checks on a request, as RFC 5389 7.3 and 10.1.2 lay it out:
 * basic framing (else silently dropped), FINGERPRINT (a wrong one means "not
 * STUN": dropped), short-term credentials (400 without USERNAME or
 * MESSAGE-INTEGRITY, 401 for an unknown ufrag or a failing HMAC — neither
 * carries MESSAGE-INTEGRITY), then, authenticated, unknown
 * comprehension-required attributes (420), the ICE attributes (400 without
 * PRIORITY, 487 when the peer also claims the controlled role) — these
 * responses do carry MESSAGE-INTEGRITY — and at last the success response.
 *
 * Threading: a struct ice_lite is owned by one thread (ctrl's event loop);
 * no locks, no allocation of our own; time comes in as now_ms.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ice.h"
#include "sfu_bytes.h"
#include "stun.h"

#define ERR_WINDOW_MS 1000
#define STUN_CLASS_MASK 0x0110        /* RFC 5389 6: C1 and C0 bits of the type */
#define STUN_CLASS_REQUEST 0x0000
#define STUN_METHOD_MASK 0x3EEF
#define STUN_METHOD_BINDING 0x0001

/* ice-char (RFC 8839 5.4): ALPHA / DIGIT / "+" / "/", 64 symbols. */
static const char ice_chars[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

_Static_assert(ICE_UFRAG_LEN >= 4 && ICE_PWD_LEN >= 22 && ICE_UFRAG_LEN <= ICE_PWD_LEN,
	       "RFC 8839 5.4 lengths; random_ice_string's buffer");

/* n random ice-chars and a NUL; 256 is a multiple of 64, so no bias. */
static int random_ice_string(char *out, size_t n)
{
	uint8_t rnd[ICE_PWD_LEN];

	if (n > sizeof(rnd) || RAND_bytes(rnd, (int)n) != 1)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		out[i] = ice_chars[rnd[i] & 63];
	out[n] = '\0';
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return 0;
}

/* New ufrag and pwd, written only once both are made. */
static int new_credentials(struct ice_lite *ice)
{
	char ufrag[ICE_UFRAG_LEN + 1], pwd[ICE_PWD_LEN + 1];

	do {
		if (random_ice_string(ufrag, ICE_UFRAG_LEN) < 0)
			return -EIO;
	} while (strcmp(ufrag, ice->ufrag) == 0);
	if (random_ice_string(pwd, ICE_PWD_LEN) < 0)
		return -EIO;
	memcpy(ice->ufrag, ufrag, sizeof(ufrag));
	memcpy(ice->pwd, pwd, sizeof(pwd));
	OPENSSL_cleanse(pwd, sizeof(pwd));
	return 0;
}

int ice_lite_init(struct ice_lite *ice)
{
	if (!ice)
		return -EINVAL;
	memset(ice, 0, sizeof(*ice));
	return new_credentials(ice);
}

int ice_lite_restart(struct ice_lite *ice)
{
	int rc;

	if (!ice)
		return -EINVAL;
	rc = new_credentials(ice);
	if (rc < 0)
		return rc;
	/* RFC 8445 9: checks start over; the data plane keeps nothing bound
	 * for this agent until the browser nominates again. */
	ice->nominated = false;
	memset(&ice->selected, 0, sizeof(ice->selected));
	ice->last_valid_ms = 0;
	return 0;
}

bool ice_lite_expired(const struct ice_lite *ice, uint64_t now_ms)
{
	/* RFC 7675 5.1: consent lapses consent_ms after the last valid check. */
	uint32_t lifetime = ice->consent_ms ? ice->consent_ms : ICE_CONSENT_MS;

	return ice->nominated && now_ms >= ice->last_valid_ms &&
	       now_ms - ice->last_valid_ms >= lifetime;
}

static bool same_tuple(const struct sfu_5tuple *a, const struct sfu_5tuple *b)
{
	return a->remote_ip == b->remote_ip && a->remote_port == b->remote_port &&
	       a->local_port == b->local_port;
}

/* At most ICE_ERRORS_PER_SEC error responses per one-second window. */
static bool error_allowed(struct ice_lite *ice, uint64_t now_ms)
{
	if (now_ms < ice->err_window_ms || now_ms - ice->err_window_ms >= ERR_WINDOW_MS) {
		ice->err_window_ms = now_ms;
		ice->err_in_window = 0;
	}
	if (ice->err_in_window >= ICE_ERRORS_PER_SEC)
		return false;
	ice->err_in_window++;
	return true;
}

/*
 * Answer a bad request with an error response (authenticated with our pwd
 * when the request was), unless the rate limit says drop.  unknown_attr
 * non-zero makes it a 420 listing that attribute.
 */
static enum ice_verdict reply_error(struct ice_lite *ice, const uint8_t tid[12], uint16_t code,
				    const char *reason, uint16_t unknown_attr, bool authenticated,
				    uint64_t now_ms, uint8_t *out, size_t cap, size_t *out_len)
{
	const uint8_t *key = authenticated ? (const uint8_t *)ice->pwd : NULL;
	size_t key_len = authenticated ? strlen(ice->pwd) : 0;
	size_t n;

	ice->bad_checks++;
	if (!error_allowed(ice, now_ms))
		return ICE_DROP;
	if (unknown_attr)
		n = stun_build_unknown(out, cap, tid, unknown_attr, key, key_len);
	else
		n = stun_build_error(out, cap, tid, code, reason, key, key_len);
	if (!n)
		return ICE_DROP;
	*out_len = n;
	return ICE_REPLY;
}

/* Framing a parse rejected but whose header is a Binding request's: worth a 400. */
static bool is_binding_request_header(const uint8_t *pkt, size_t len)
{
	return len >= STUN_HDR_LEN && rd16(pkt) == STUN_BINDING_REQUEST &&
	       rd32(pkt + 4) == STUN_MAGIC && (size_t)rd16(pkt + 2) + STUN_HDR_LEN == len;
}

/* RFC 8445 7.3 / RFC 5389 10.1.2: USERNAME starts with our ufrag and a colon. */
static bool username_is_ours(const struct ice_lite *ice, const struct stun_msg *m)
{
	const char *frag;
	int n = stun_username_local(m, &frag);
	size_t ulen = strlen(ice->ufrag);

	return n >= 0 && (size_t)n == ulen && memcmp(frag, ice->ufrag, ulen) == 0;
}

enum ice_verdict ice_lite_input(struct ice_lite *ice, const uint8_t *pkt, size_t len,
				const struct sfu_5tuple *from, uint64_t now_ms, uint8_t *out,
				size_t cap, size_t *out_len)
{
	const uint8_t *pwd = (const uint8_t *)ice->pwd;
	size_t pwd_len = strlen(ice->pwd);
	struct stun_msg m;
	size_t n;

	*out_len = 0;
	if (!pkt || stun_parse(pkt, len, &m) < 0) {
		/* RFC 5389 7.3: garbage is dropped; a Binding request whose
		 * attributes are malformed gets 400. */
		if (pkt && is_binding_request_header(pkt, len))
			return reply_error(ice, pkt + 8, 400, "Bad Request", 0, false, now_ms, out,
					   cap, out_len);
		ice->bad_checks++;
		return ICE_DROP;
	}
	/* Indications and responses need no answer from a lite agent; another
	 * method is not ICE (RFC 8445 7.3: only Binding). */
	if ((m.type & STUN_CLASS_MASK) != STUN_CLASS_REQUEST ||
	    (m.type & STUN_METHOD_MASK) != STUN_METHOD_BINDING) {
		ice->bad_checks++;
		return ICE_DROP;
	}
	/* RFC 5389 8: a FINGERPRINT that does not match means this is not STUN. */
	if (m.has_fingerprint && !stun_fingerprint_ok(pkt, len, &m)) {
		ice->bad_checks++;
		return ICE_DROP;
	}

	/* RFC 5389 10.1.2: short-term credential checks; no MI in these replies. */
	if (!m.username || !m.has_integrity)
		return reply_error(ice, m.tid, 400, "Bad Request", 0, false, now_ms, out, cap,
				   out_len);
	if (!username_is_ours(ice, &m) || !stun_integrity_ok(pkt, len, &m, pwd, pwd_len))
		return reply_error(ice, m.tid, 401, "Unauthorized", 0, false, now_ms, out, cap,
				   out_len);

	/* Authenticated from here: every response carries MI with our pwd. */
	if (m.unknown_required)
		return reply_error(ice, m.tid, 420, NULL, m.unknown_required, true, now_ms, out,
				   cap, out_len);
	/* RFC 8445 7.3 requires PRIORITY; RFC 8445 7 requires FINGERPRINT. */
	if (!m.has_priority || !m.has_fingerprint)
		return reply_error(ice, m.tid, 400, "Bad Request", 0, true, now_ms, out, cap,
				   out_len);
	/* RFC 8445 7.3.1.1: a lite agent is always controlled and cannot switch,
	 * so a peer claiming the controlled role is told to change (487). */
	if (m.ice_controlled && !m.ice_controlling)
		return reply_error(ice, m.tid, 487, "Role Conflict", 0, true, now_ms, out, cap,
				   out_len);

	n = stun_build_success(out, cap, m.tid, from->remote_ip, from->remote_port, pwd, pwd_len);
	if (!n) {
		ice->bad_checks++;
		return ICE_DROP;
	}
	*out_len = n;
	ice->checks++;

	/* RFC 8445 7.3.1.5, 8.2: USE-CANDIDATE nominates the pair it came on; a
	 * later nomination of another pair replaces it (the browser's choice). */
	if (m.use_candidate && (!ice->nominated || !same_tuple(&ice->selected, from))) {
		ice->nominated = true;
		ice->selected = *from;
		ice->last_valid_ms = now_ms;
		return ICE_REPLY_NOMINATED;
	}
	/* RFC 7675 5.1: consent is refreshed by checks on the selected pair only. */
	if (ice->nominated && same_tuple(&ice->selected, from))
		ice->last_valid_ms = now_ms;
	return ICE_REPLY;
}
