/*
 * stun.h — STUN (RFC 5389) for ICE-lite (RFC 8445, RFC 5245 compatibility):
 * parsing and validation of Binding requests, MESSAGE-INTEGRITY (HMAC-SHA1
 * with the short-term credential = the ICE password), FINGERPRINT (CRC-32
 * xor 0x5354554e), and building success / error responses and requests.
 *
 * Pure functions on byte buffers: no allocation, no state; any thread.
 * Every parser bounds-checks and rejects malformed input with -EINVAL.
 */
#ifndef CTRL_STUN_H
#define CTRL_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STUN_HDR_LEN 20
#define STUN_MAGIC 0x2112A442u
#define STUN_BINDING_REQUEST 0x0001
#define STUN_BINDING_SUCCESS 0x0101
#define STUN_BINDING_ERROR 0x0111
#define STUN_BINDING_INDICATION 0x0011
#define STUN_USERNAME_MAX 513
#define STUN_MSG_MAX 1500

/* A parsed message: fields point into the caller's buffer. */
struct stun_msg {
	uint16_t type;
	uint16_t len;                /* attribute bytes after the header */
	uint8_t tid[12];
	const char *username;        /* not NUL-terminated */
	uint16_t username_len;
	bool has_priority;
	uint32_t priority;
	bool use_candidate;
	bool ice_controlling, ice_controlled;
	uint64_t tiebreaker;
	bool has_integrity;
	uint16_t integrity_off;      /* offset of the MESSAGE-INTEGRITY attribute header */
	bool has_fingerprint;
	uint16_t fingerprint_off;
	uint16_t error_code;         /* error responses: class * 100 + number, else 0 */
	bool has_xor_mapped;
	uint32_t mapped_ip;          /* host order, IPv4 only */
	uint16_t mapped_port;
	uint16_t unknown_required;   /* first comprehension-required attribute not understood, or 0 */
};

/**
 * Parse and structurally validate a STUN message (header, magic cookie,
 * length, attribute TLVs with padding, MESSAGE-INTEGRITY / FINGERPRINT
 * placement rules of RFC 5389 15.4 / 15.5).
 * @return 0 or -EINVAL
 */
int stun_parse(const uint8_t *p, size_t len, struct stun_msg *m);

/** Whether the FINGERPRINT attribute is present and correct. */
bool stun_fingerprint_ok(const uint8_t *p, size_t len, const struct stun_msg *m);

/** Whether MESSAGE-INTEGRITY is present and correct for key (the ICE password). */
bool stun_integrity_ok(const uint8_t *p, size_t len, const struct stun_msg *m,
		       const uint8_t *key, size_t key_len);

/**
 * The local part of an ICE USERNAME "LFRAG:RFRAG" (RFC 8445 7.2.2): the
 * fragment before the colon.  @return its length, or -EINVAL without a colon
 */
int stun_username_local(const struct stun_msg *m, const char **frag);

/**
 * Binding success response to tid, with XOR-MAPPED-ADDRESS (ip:port, host
 * order), MESSAGE-INTEGRITY (key) and FINGERPRINT.
 * @return bytes written, or 0 if cap is too small
 */
size_t stun_build_success(uint8_t *out, size_t cap, const uint8_t tid[12], uint32_t ip,
			  uint16_t port, const uint8_t *key, size_t key_len);

/**
 * Binding error response (400 Bad Request, 401 Unauthorized, 487 Role
 * Conflict...) with ERROR-CODE and reason, MESSAGE-INTEGRITY when key is not
 * NULL, and FINGERPRINT.  @return bytes written, or 0 if cap is too small
 */
size_t stun_build_error(uint8_t *out, size_t cap, const uint8_t tid[12], uint16_t code,
			const char *reason, const uint8_t *key, size_t key_len);

/**
 * Binding error response 420 Unknown Attribute (RFC 5389 7.3.1) listing
 * attr (a comprehension-required type the request carried, see
 * stun_msg.unknown_required) in UNKNOWN-ATTRIBUTES, with MESSAGE-INTEGRITY
 * when key is not NULL, and FINGERPRINT.
 * @return bytes written, or 0 if cap is too small
 */
size_t stun_build_unknown(uint8_t *out, size_t cap, const uint8_t tid[12], uint16_t attr,
			  const uint8_t *key, size_t key_len);

/**
 * Binding request as an ICE agent sends it (for tests and the test client):
 * USERNAME, PRIORITY, ICE-CONTROLLING (tiebreaker), USE-CANDIDATE when
 * nominate, MESSAGE-INTEGRITY (key), FINGERPRINT.
 * @return bytes written, or 0 if cap is too small
 */
size_t stun_build_request(uint8_t *out, size_t cap, const uint8_t tid[12], const char *username,
			  uint32_t priority, uint64_t tiebreaker, bool nominate,
			  const uint8_t *key, size_t key_len);

#endif /* CTRL_STUN_H */
