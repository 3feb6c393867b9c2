/*
 * ice.h — the ICE-lite agent of one WebRTC transport (RFC 8445 2.5, 7.3):
 * answers connectivity checks, learns the nominated candidate pair, keeps
 * consent (RFC 7675: a pair without a valid check for consent_ms is dead),
 * rate-limits error responses, and supports ICE restart (new credentials).
 *
 * Pure state machine: the caller owns the struct, gives it datagrams and the
 * time, and sends what it returns.  Single-threaded (ctrl's event loop).
 */
#ifndef CTRL_ICE_H
#define CTRL_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sfu_msg.h"

#define ICE_UFRAG_LEN 16      /* random ASCII (ice-char), >= 4 chars */
#define ICE_PWD_LEN 32        /* >= 22 chars */
#define ICE_CONSENT_MS 30000
#define ICE_ERRORS_PER_SEC 10

struct ice_lite {
	char ufrag[ICE_UFRAG_LEN + 1];
	char pwd[ICE_PWD_LEN + 1];
	bool nominated;             /* a pair has been nominated (USE-CANDIDATE) */
	struct sfu_5tuple selected; /* the nominated pair's remote side */
	uint64_t last_valid_ms;     /* last authenticated check on the selected pair */
	uint64_t err_window_ms;     /* error-response rate limit */
	unsigned int err_in_window;
	uint64_t checks, bad_checks; /* counters */
	uint32_t consent_ms;        /* consent lifetime; 0 = ICE_CONSENT_MS */
};

enum ice_verdict {
	ICE_DROP = 0,      /* not for us / not answerable: nothing to send (counted) */
	ICE_REPLY,         /* send *out_len bytes back to the sender */
	ICE_REPLY_NOMINATED, /* reply, and the sender's 5-tuple is now the selected pair */
};

/** Fresh agent with new random credentials (OpenSSL RAND_bytes). @return 0 or -EIO */
int ice_lite_init(struct ice_lite *ice);

/**
 * Handle one STUN datagram from `from` (remote ip/port, our local port).
 * Valid Binding request with the right USERNAME (our ufrag first) and
 * MESSAGE-INTEGRITY (our pwd): success response with XOR-MAPPED-ADDRESS;
 * with USE-CANDIDATE the pair becomes the selected one (a new pair replaces
 * the old: the verdict says so).  Bad requests get 400 (malformed, missing
 * attributes) or 401 (bad integrity / unknown username); authenticated
 * ones 420 (unknown comprehension-required attribute) or 487 (the peer
 * claims the controlled role: a lite agent cannot switch); at most
 * ICE_ERRORS_PER_SEC error responses per second; indications, responses,
 * other methods and a wrong FINGERPRINT are dropped.
 * @return the verdict; out/out_len hold the response to send
 */
enum ice_verdict ice_lite_input(struct ice_lite *ice, const uint8_t *pkt, size_t len,
				const struct sfu_5tuple *from, uint64_t now_ms, uint8_t *out,
				size_t cap, size_t *out_len);

/** Consent expired: nominated and no valid check on the pair for ICE_CONSENT_MS. */
bool ice_lite_expired(const struct ice_lite *ice, uint64_t now_ms);

/** ICE restart: new credentials, no selected pair until the next nomination. @return 0 or -EIO */
int ice_lite_restart(struct ice_lite *ice);

#endif /* CTRL_ICE_H */
