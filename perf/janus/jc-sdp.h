/*
 * jc-sdp.h — the little SDP (RFC 8866) that sfu-janus-client exchanges with
 * Janus in JSEP (RFC 8829): a parser that pulls out what a WebRTC peer needs
 * from Janus's offer or answer, and writers for our publisher offer and our
 * subscriber answer.
 *
 * What is read, at session or media level (RFC 8839 ICE attributes, RFC 8122
 * fingerprint, RFC 4145/8842 setup, RFC 8843 BUNDLE): ice-ufrag, ice-pwd,
 * ice-lite, fingerprint (sha-256 only), setup, host candidates (UDP, IPv4,
 * component 1; the highest priority wins); per m-section its kind, port,
 * proto and format list (to echo a rejected section), mid, direction, the
 * payload type of Opus or VP8 (rtpmap), the first SSRC (a=ssrc, a FID group's
 * second SSRC as the retransmission SSRC) and the sdes:mid extension id.
 * Anything else is skipped; malformed values leave the field unset, and the
 * caller checks what it needs (jc_sdp_usable).
 *
 * Pure functions on caller buffers (static inline); any thread.
 */
#ifndef JC_SDP_H
#define JC_SDP_H

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JC_SDP_MAX_M 64
#define JC_TOKEN_MAX 256
#define JC_FP_MAX 128
#define JC_MID_URI "urn:ietf:params:rtp-hdrext:sdes:mid"

enum jc_dir { JC_DIR_SENDRECV = 0, JC_DIR_SENDONLY, JC_DIR_RECVONLY, JC_DIR_INACTIVE };

/* One m-section. */
struct jc_sdp_m {
	char kind[16];     /* "audio", "video", "application", ... */
	unsigned port;     /* 0: rejected / disabled */
	char proto[32];
	char fmts[64];     /* the format list as written, for echoing a rejection */
	char mid[32];
	enum jc_dir dir;
	int pt;            /* Opus (audio) or VP8 (video) payload type, -1 when absent */
	uint32_t ssrc;     /* first a=ssrc, 0 when none */
	uint32_t rtx_ssrc; /* second SSRC of an a=ssrc-group:FID, 0 when none */
	int mid_ext;       /* a=extmap id of sdes:mid, 0 when absent */
};

/* What a description says, session and media level merged. */
struct jc_sdp {
	char ufrag[JC_TOKEN_MAX], pwd[JC_TOKEN_MAX];
	char fp[JC_FP_MAX]; /* sha-256 fingerprint "AB:CD:..." */
	char setup[16];     /* "actpass", "active", "passive" */
	bool ice_lite;
	bool have_cand;
	char cand_ip[INET_ADDRSTRLEN];
	uint16_t cand_port;
	uint32_t cand_prio;
	int n_m;
	struct jc_sdp_m m[JC_SDP_MAX_M];
};

/* Copy at most cap-1 bytes of [s, s+n) as a NUL-terminated string; false when it did not fit. */
static inline bool jc_copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

/*
 * A candidate-attribute value (RFC 8839 5.1): "foundation component transport
 * priority address port typ type ...", with or without the "candidate:" prefix
 * (the trickle form).  Keeps the best UDP IPv4 candidate of component 1.
 */
static inline void jc_sdp_candidate(struct jc_sdp *s, const char *v)
{
	char found[33], transport[8], addr[64], typ[8], ctype[16];
	unsigned comp, port;
	unsigned long prio;
	struct in_addr ia;

	if (strncmp(v, "candidate:", 10) == 0)
		v += 10;
	if (sscanf(v, "%32s %u %7s %lu %63s %u %7s %15s", found, &comp, transport, &prio, addr,
		   &port, typ, ctype) != 8)
		return;
	if (comp != 1 || strcasecmp(transport, "udp") != 0 || strcmp(typ, "typ") != 0 ||
	    port == 0 || port > 65535 || prio > UINT32_MAX || inet_pton(AF_INET, addr, &ia) != 1)
		return;
	if (s->have_cand && (uint32_t)prio <= s->cand_prio)
		return;
	s->have_cand = true;
	s->cand_prio = (uint32_t)prio;
	s->cand_port = (uint16_t)port;
	inet_ntop(AF_INET, &ia, s->cand_ip, sizeof(s->cand_ip));
}

/* An a=rtpmap value "PT NAME/CLOCK[/CH]": note Opus/48000 or VP8/90000. */
static inline void jc_sdp_rtpmap(struct jc_sdp_m *m, const char *v)
{
	char name[32];
	unsigned pt, clock;

	if (sscanf(v, "%u %31[^/]/%u", &pt, name, &clock) != 3 || pt > 127 || m->pt >= 0)
		return;
	if ((strcmp(m->kind, "audio") == 0 && strcasecmp(name, "opus") == 0 && clock == 48000) ||
	    (strcmp(m->kind, "video") == 0 && strcasecmp(name, "VP8") == 0 && clock == 90000))
		m->pt = (int)pt;
}

/* One "a=" line's name and value (value may be empty). */
static inline void jc_sdp_attr(struct jc_sdp *s, struct jc_sdp_m *m, const char *name,
			       size_t nlen, const char *val, size_t vlen)
{
	char v[512];
	unsigned long a, b;

	if (!jc_copy(v, sizeof(v), val, vlen))
		return;
#define JC_IS(lit) (nlen == sizeof(lit) - 1 && memcmp(name, lit, nlen) == 0)
	if (JC_IS("ice-ufrag") && s->ufrag[0] == '\0')
		jc_copy(s->ufrag, sizeof(s->ufrag), v, vlen);
	else if (JC_IS("ice-pwd") && s->pwd[0] == '\0')
		jc_copy(s->pwd, sizeof(s->pwd), v, vlen);
	else if (JC_IS("ice-lite"))
		s->ice_lite = true;
	else if (JC_IS("fingerprint") && s->fp[0] == '\0' && strncasecmp(v, "sha-256 ", 8) == 0)
		jc_copy(s->fp, sizeof(s->fp), v + 8, strlen(v + 8));
	else if (JC_IS("setup") && s->setup[0] == '\0')
		jc_copy(s->setup, sizeof(s->setup), v, vlen);
	else if (JC_IS("candidate"))
		jc_sdp_candidate(s, v);
	else if (m == NULL)
		return;
	else if (JC_IS("mid"))
		jc_copy(m->mid, sizeof(m->mid), v, vlen);
	else if (JC_IS("sendonly"))
		m->dir = JC_DIR_SENDONLY;
	else if (JC_IS("recvonly"))
		m->dir = JC_DIR_RECVONLY;
	else if (JC_IS("inactive"))
		m->dir = JC_DIR_INACTIVE;
	else if (JC_IS("rtpmap"))
		jc_sdp_rtpmap(m, v);
	else if (JC_IS("ssrc") && m->ssrc == 0 && (a = strtoul(v, NULL, 10)) != 0 && a <= UINT32_MAX)
		m->ssrc = (uint32_t)a;
	else if (JC_IS("ssrc-group") && sscanf(v, "FID %lu %lu", &a, &b) == 2 && b <= UINT32_MAX)
		m->rtx_ssrc = (uint32_t)b;
	else if (JC_IS("extmap") && sscanf(v, "%lu", &a) == 1 && a >= 1 && a <= 14 &&
		 strstr(v, JC_MID_URI) != NULL)
		m->mid_ext = (int)a;
#undef JC_IS
}

/* An m= line "KIND PORT PROTO FMT...": a new section. @return it, or NULL when full/bad */
static inline struct jc_sdp_m *jc_sdp_mline(struct jc_sdp *s, const char *v, size_t vlen)
{
	char line[256];
	struct jc_sdp_m *m;
	int off = 0;

	if (s->n_m >= JC_SDP_MAX_M || !jc_copy(line, sizeof(line), v, vlen))
		return NULL;
	m = &s->m[s->n_m];
	memset(m, 0, sizeof(*m));
	m->pt = -1;
	if (sscanf(line, "%15s %u %31s %n", m->kind, &m->port, m->proto, &off) != 3 || off <= 0)
		return NULL;
	if (m->port > 65535)
		m->port = 0;
	jc_copy(m->fmts, sizeof(m->fmts), line + off, strnlen(line + off, sizeof(m->fmts) - 1));
	s->n_m++;
	return m;
}

/**
 * Parse a session description (CRLF or LF line ends).
 * @return 0, or -EBADMSG when it has no m-section
 */
static inline int jc_sdp_parse(const char *sdp, struct jc_sdp *s)
{
	struct jc_sdp_m *m = NULL;
	bool in_bad_m = false;
	const char *p = sdp;

	memset(s, 0, sizeof(*s));
	while (*p != '\0') {
		const char *eol = strchr(p, '\n'), *colon;
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len >= 2 && p[1] == '=') {
			if (p[0] == 'm') {
				m = jc_sdp_mline(s, p + 2, len - 2);
				in_bad_m = m == NULL;
			} else if (p[0] == 'a' && !in_bad_m) {
				colon = memchr(p + 2, ':', len - 2);
				if (colon != NULL)
					jc_sdp_attr(s, m, p + 2, (size_t)(colon - p - 2), colon + 1,
						    len - (size_t)(colon + 1 - p));
				else
					jc_sdp_attr(s, m, p + 2, len - 2, "", 0);
			}
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return s->n_m > 0 ? 0 : -EBADMSG;
}

/** Whether a remote description has what an ICE + DTLS transport to it needs. */
static inline const char *jc_sdp_missing(const struct jc_sdp *s)
{
	if (s->ufrag[0] == '\0' || s->pwd[0] == '\0')
		return "ice-ufrag/ice-pwd";
	if (s->fp[0] == '\0')
		return "a sha-256 fingerprint";
	if (!s->have_cand)
		return "a UDP IPv4 host candidate";
	return NULL;
}

/* Appending to a bounded buffer: the first overflow sticks. */
struct jc_buf {
	char *p;
	size_t cap, len;
	bool overflow;
};

static inline void __attribute__((format(printf, 2, 3))) jc_put(struct jc_buf *b, const char *fmt,
								 ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len)
		b->overflow = true;
	else
		b->len += (size_t)n;
}

/* Our side of a transport, written into every m-section we accept. */
struct jc_local {
	const char *ufrag, *pwd, *fp, *setup, *ip, *cname;
	uint16_t port;
};

/* ICE and DTLS lines of one m-section (bundled: the same in each, RFC 8843 7.1). */
static inline void jc_put_transport(struct jc_buf *b, const struct jc_local *l)
{
	jc_put(b, "c=IN IP4 %s\r\na=rtcp:%u IN IP4 %s\r\n", l->ip, l->port, l->ip);
	jc_put(b, "a=candidate:1 1 udp 2130706431 %s %u typ host\r\na=end-of-candidates\r\n",
	       l->ip, l->port);
	jc_put(b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", l->ufrag, l->pwd);
	jc_put(b, "a=fingerprint:sha-256 %s\r\na=setup:%s\r\na=rtcp-mux\r\n", l->fp, l->setup);
}

static inline void jc_put_session(struct jc_buf *b, uint64_t sess_id)
{
	jc_put(b, "v=0\r\no=- %llu 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
	       (unsigned long long)sess_id);
}

/* The publisher's media: what its offer carries per kind. */
struct jc_offer_media {
	const char *kind; /* "audio" / "video" */
	const char *mid;
	uint8_t pt;
	uint32_t ssrc;
	uint8_t mid_ext; /* offered sdes:mid extension id (0: none) */
};

/**
 * Our publisher offer: BUNDLE of n sendonly m-sections (Opus 48000/2 or
 * VP8/90000, with NACK/PLI/FIR feedback for video), one host candidate.
 * @return the length written (NUL-terminated), or -ENOSPC
 */
static inline int jc_sdp_write_offer(char *out, size_t cap, uint64_t sess_id,
				     const struct jc_local *l, const struct jc_offer_media *md,
				     int n)
{
	struct jc_buf b = {.p = out, .cap = cap};
	int i;

	jc_put_session(&b, sess_id);
	jc_put(&b, "a=group:BUNDLE");
	for (i = 0; i < n; i++)
		jc_put(&b, " %s", md[i].mid);
	jc_put(&b, "\r\na=msid-semantic: WMS %s\r\n", l->cname);
	for (i = 0; i < n; i++) {
		bool video = strcmp(md[i].kind, "video") == 0;

		jc_put(&b, "m=%s 9 UDP/TLS/RTP/SAVPF %u\r\n", md[i].kind, md[i].pt);
		jc_put_transport(&b, l);
		jc_put(&b, "a=mid:%s\r\n", md[i].mid);
		if (md[i].mid_ext != 0)
			jc_put(&b, "a=extmap:%u %s\r\n", md[i].mid_ext, JC_MID_URI);
		jc_put(&b, "a=sendonly\r\na=msid:%s %s-%s\r\n", l->cname, l->cname, md[i].kind);
		if (video)
			jc_put(&b, "a=rtpmap:%u VP8/90000\r\na=rtcp-fb:%u nack\r\n"
				   "a=rtcp-fb:%u nack pli\r\na=rtcp-fb:%u ccm fir\r\n",
			       md[i].pt, md[i].pt, md[i].pt, md[i].pt);
		else
			jc_put(&b, "a=rtpmap:%u opus/48000/2\r\na=fmtp:%u minptime=10;useinbandfec=1\r\n",
			       md[i].pt, md[i].pt);
		jc_put(&b, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:%s %s-%s\r\n", md[i].ssrc, l->cname,
		       md[i].ssrc, l->cname, l->cname, md[i].kind);
	}
	return b.overflow ? -ENOSPC : (int)b.len;
}

/** Whether we accept (receive) this offered m-section: audio/video, a port, our codec. */
static inline bool jc_sdp_accepts(const struct jc_sdp_m *m)
{
	return m->port != 0 && m->pt >= 0 && m->mid[0] != '\0' && m->dir != JC_DIR_RECVONLY &&
	       m->dir != JC_DIR_INACTIVE;
}

/**
 * Our subscriber answer to Janus's offer: each accepted m-section recvonly
 * with the offered Opus/VP8 payload type, the others rejected (port 0, RFC
 * 8829 5.3.1), BUNDLE of the accepted mids.
 * @return the length written, or -ENOSPC, or -ENOENT when nothing is acceptable
 */
static inline int jc_sdp_write_answer(char *out, size_t cap, uint64_t sess_id,
				      const struct jc_local *l, const struct jc_sdp *offer)
{
	struct jc_buf b = {.p = out, .cap = cap};
	int i, accepted = 0;

	jc_put_session(&b, sess_id);
	jc_put(&b, "a=group:BUNDLE");
	for (i = 0; i < offer->n_m; i++)
		if (jc_sdp_accepts(&offer->m[i])) {
			jc_put(&b, " %s", offer->m[i].mid);
			accepted++;
		}
	jc_put(&b, "\r\na=msid-semantic: WMS\r\n");
	for (i = 0; i < offer->n_m; i++) {
		const struct jc_sdp_m *m = &offer->m[i];

		if (!jc_sdp_accepts(m)) {
			jc_put(&b, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", m->kind, m->proto,
			       m->fmts[0] != '\0' ? m->fmts : "0");
			if (m->mid[0] != '\0')
				jc_put(&b, "a=mid:%s\r\n", m->mid);
			jc_put(&b, "a=inactive\r\n");
			continue;
		}
		jc_put(&b, "m=%s 9 %s %d\r\n", m->kind, m->proto, m->pt);
		jc_put_transport(&b, l);
		jc_put(&b, "a=mid:%s\r\na=recvonly\r\n", m->mid);
		if (strcmp(m->kind, "video") == 0)
			jc_put(&b, "a=rtpmap:%d VP8/90000\r\na=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\n",
			       m->pt, m->pt, m->pt);
		else
			jc_put(&b, "a=rtpmap:%d opus/48000/2\r\n", m->pt);
	}
	if (accepted == 0)
		return -ENOENT;
	return b.overflow ? -ENOSPC : (int)b.len;
}

#endif /* JC_SDP_H */
