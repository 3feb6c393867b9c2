/*
 * sfu-client-report.h — what sfu-client prints on stdout for the tests to
 * grep: one key=value line per consumer and the summary line (keys listed in
 * usage_text, sfu-client-opts.h), and error lines.  User-supplied strings
 * (names, chat and caption text) are printed on one line, names without blanks.
 *
 * Part of sfu-client.c (static functions).  The lws service thread only.
 */
#ifndef SFU_CLIENT_REPORT_H
#define SFU_CLIENT_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sfu-client-signal.h"
#include "sfu-client-state.h"


static const char *peer_name(struct client *cl, const char *peer_id)
{
	const struct cl_peer *p = sig_peer(cl, peer_id);

	if (p != NULL)
		return p->name;
	return peer_id != NULL && strcmp(peer_id, cl->peer_id) == 0 ? cl->o.name : "?";
}

/* One line per created transport: what its socket saw, for diagnosing a failed run. */
static void print_transport(const struct cl_transport *t)
{
	static const char *const ice_name[] = {"idle", "checking", "connected", "failed"};

	if (!t->created)
		return;
	fputs("transport dir=", stdout);
	fputs(cl_dir_name[t->dir], stdout);
	fputs(" id=", stdout);
	pc_put_clean(t->id, true);
	printf(" ice=%s checks=%u stun_errors=%u stun_bad=%u dtls=%s profile=0x%04x"
	       " rx_stun=%llu rx_dtls=%llu rx_rtp=%llu rx_rtcp=%llu rx_other=%llu"
	       " rx_foreign=%llu unknown_ssrc=%llu rtcp_fail=%llu tx_fail=%llu closed=%d\n",
	       ice_name[t->pc.ice], t->pc.checks_sent, t->pc.stun_errors, t->pc.stun_bad,
	       t->pc.dtls_failed ? "failed" : t->pc.dtls_connected ? "connected" : "none",
	       t->pc.profile,
	       (unsigned long long)t->pc.rx_stun, (unsigned long long)t->pc.rx_dtls,
	       (unsigned long long)t->pc.rx_rtp, (unsigned long long)t->pc.rx_rtcp,
	       (unsigned long long)t->pc.rx_other, (unsigned long long)t->pc.rx_foreign,
	       (unsigned long long)t->pc.unknown_ssrc, (unsigned long long)t->pc.rtcp_fail,
	       (unsigned long long)t->pc.tx_fail, t->closed);
}

static void print_summary(struct client *cl, bool timeout)
{
	uint64_t ice = 0, connected = 0, dfail = 0, ifail = 0, mapped = 0, consent = 0, rtcp = 0;
	uint64_t produced = 0, consumers = 0, rx_ok = 0, pkts_ok = 0;
	int i;

	for (i = 0; i < cl->n_cons; i++) {
		const struct cl_consumer *c = &cl->cons[i];

		if (!c->ready)
			continue;
		consumers++;
		pkts_ok += c->rx.payload_ok;
		rx_ok += c->rx.payload_ok > 0 && c->rx.payload_ok == c->rx.decrypted;
		fputs("consumer kind=", stdout);
		pc_put_clean(c->kind, true);
		fputs(" producer_peer=", stdout);
		pc_put_clean(peer_name(cl, c->peer_id), true);
		fputs(" producer_id=", stdout);
		pc_put_clean(c->producer_id, true);
		fputs(" consumer_id=", stdout);
		pc_put_clean(c->id, true);
		printf(" ssrc=%u pt=%u packets=%llu decrypted=%llu payload_ok=%llu seq_gaps=%llu"
		       " auth_fail=%llu replay_fail=%llu bad_payload=%llu wrong_producer=%llu"
		       " pt_bad=%llu closed=%d\n",
		       c->ssrc, c->pt, (unsigned long long)c->rx.packets,
		       (unsigned long long)c->rx.decrypted, (unsigned long long)c->rx.payload_ok,
		       (unsigned long long)c->rx.seq_gaps, (unsigned long long)c->rx.auth_fail,
		       (unsigned long long)c->rx.replay_fail, (unsigned long long)c->rx.bad_payload,
		       (unsigned long long)c->rx.wrong_producer, (unsigned long long)c->rx.pt_bad,
		       c->closed);
	}
	for (i = 0; i < CL_NDIR; i++) {
		const struct cl_transport *t = &cl->tr[i];

		ice += t->pc.ice_done_ms != 0;
		ifail += t->pc.ice == PC_ICE_FAILED;
		connected += t->pc.dtls_connected && !t->pc.dtls_failed;
		dfail += t->pc.dtls_failed;
		mapped += t->pc.mapped_ok;
		consent += t->pc.consent_ok;
		rtcp += t->pc.rtcp_ok;
		print_transport(t);
	}
	for (i = 0; i < 2; i++)
		produced += cl->prod[i].ready;
	fputs("summary name=", stdout);
	pc_put_clean(cl->o.name, true);
	printf(" joined=%d ice_connected=%llu transports_connected=%llu dtls_failed=%llu"
	       " ice_failed=%llu mapped_ok=%llu produced=%llu sent_audio=%llu sent_video=%llu"
	       " consumers=%llu consume_errors=%llu received_ok=%llu packets_ok=%llu"
	       " peers_joined=%llu peers_left=%llu producers_closed=%llu consumers_closed=%llu"
	       " transports_closed=%llu chat_received=%llu captions_received=%llu"
	       " captions_changed=%llu other_notifications=%llu consent_ok=%llu"
	       " rtcp_received=%llu timeout=%d speakers_received=%llu",
	       cl->joined, (unsigned long long)ice, (unsigned long long)connected,
	       (unsigned long long)dfail, (unsigned long long)ifail, (unsigned long long)mapped,
	       (unsigned long long)produced, (unsigned long long)cl->prod[0].sent,
	       (unsigned long long)cl->prod[1].sent, (unsigned long long)consumers,
	       (unsigned long long)cl->consume_errors, (unsigned long long)rx_ok,
	       (unsigned long long)pkts_ok, (unsigned long long)cl->peers_joined,
	       (unsigned long long)cl->peers_left, (unsigned long long)cl->producers_closed,
	       (unsigned long long)cl->consumers_closed, (unsigned long long)cl->transports_closed,
	       (unsigned long long)cl->chat_rx, (unsigned long long)cl->caption_rx,
	       (unsigned long long)cl->captions_changed, (unsigned long long)cl->other_notes,
	       (unsigned long long)consent,
	       (unsigned long long)rtcp, timeout, (unsigned long long)cl->speaker_rx);
	if (cl->o.expect_producers >= 0)
		printf(" expect_producers=%d expect_ok=%d", cl->o.expect_producers,
		       consumers == (uint64_t)cl->o.expect_producers);
	putchar('\n');
	fflush(stdout);
}

static void print_error(const char *method, const char *code, const char *msg)
{
	printf("error method=%s code=%s message=", method, code);
	pc_put_clean(msg, false);
	putchar('\n');
}
#endif /* SFU_CLIENT_REPORT_H */
