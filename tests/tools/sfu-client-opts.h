/*
 * sfu-client-opts.h — sfu-client's command line: the usage text (which also
 * documents every output line and key) and the option parser.  Usage errors
 * exit 2 with the text.
 *
 * Part of sfu-client.c (static functions).  Start-up only, single-threaded.
 */
#ifndef SFU_CLIENT_OPTS_H
#define SFU_CLIENT_OPTS_H

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu-client-state.h"

static const char usage_text[] =
	"usage: sfu-client --url ws[s]://HOST:PORT/PATH [--insecure] --room R --name N\n"
	"                  [--audio] [--video] [--duration S] [--expect-producers K]\n"
	"                  [--bind-ip IP] [--wrong-fingerprint] [--vanish-after S]\n"
	"                  [--chat TEXT] [--captions] [--timing] [--quiet]\n"
	"                  [--audio-level DBOV] [--audio-level-at S:DBOV]...\n"
	"\n"
	"Joins room R as N, creates a send and a recv transport (ICE, DTLS client), once\n"
	"the send transport's DTLS is up publishes audio (--audio: Opus PT, 50 packets/s\n"
	"of ~100 bytes) and video (--video: VP8 PT, 30 frames/s of 3 packets of ~1000\n"
	"bytes), consumes every producer of the others and verifies every byte received.\n"
	"  --insecure          accept the server's self-signed certificate\n"
	"  --duration S        run S seconds after joining (default 5), then print the\n"
	"                      summary and leave; the whole run is bounded by S + 15 s\n"
	"  --expect-producers K  report expect_ok=1 when exactly K producers were consumed\n"
	"  --bind-ip IP        the transports' UDP sockets bind to IP (the test host)\n"
	"  --wrong-fingerprint the send transport advertises another certificate's\n"
	"                      fingerprint, so the server must fail its handshake; the run\n"
	"                      ends once that is known and recv is connected (or failed),\n"
	"                      at the latest 12 s (or S) after joining; no media is sent\n"
	"  --speech FILE       audio is real Opus of FILE (48 kHz mono s16le PCM), with\n"
	"                      silence around it, looped (implies --audio)\n"
	"  --stop-consent-after S  stop ICE consent checks S seconds after ICE succeeded\n"
	"                      (the WebSocket stays open): the server must close the\n"
	"                      transports once consent lapses (transports_closed=)\n"
	"  --vanish-after S    _exit(0) S seconds after connecting, leaving nothing behind\n"
	"                      (a crashed browser)\n"
	"  --chat TEXT         send a chat message after joining (with --expect-producers:\n"
	"                      once K producers are consumed, so the others are there)\n"
	"  --captions          turn captions on (setCaptions) after joining\n"
	"  --audio-level DBOV  the RFC 6464 ssrc-audio-level every audio packet carries\n"
	"                      (when the router offers the extension): 0 loudest .. 127\n"
	"                      silence, in -dBov; V (voice) set below 127; default 20\n"
	"  --audio-level-at S:DBOV  from S seconds after connecting send DBOV instead\n"
	"                      (repeatable, up to 8; the latest due applies)\n"
	"  --timing            print the send transport's set-up times; the run then also\n"
	"                      waits (within S + 15 s) for that transport's DTLS verdict\n"
	"  --quiet             no progress on stderr\n"
	"\n"
	"stdout, key=value lines (names print with blanks and control characters as '_'):\n"
	"  timing join_ms= ice_ms= dtls_ms= total_ms=\n"
	"      connect->join reply; send transport created->ICE success;\n"
	"      ClientHello->SRTP keys; connect->SRTP keys\n"
	"  chat from=NAME text=TEXT\n"
	"  speaker at_ms=T peer=NAME peer_id=ID   (an activeSpeaker notification; NAME\n"
	"      '-' and ID '-' when nobody is, NAME '?' for a peer we do not know)\n"
	"  caption from=NAME final=0|1 at_ms=T text=TEXT   (T: CLOCK_MONOTONIC ms)\n"
	"  speech_end at_ms=T                    (--speech: the utterance's last frame sent)\n"
	"  error method=M code=C message=TEXT     (an error reply, or a local failure)\n"
	"  consumer kind= producer_peer= producer_id= consumer_id= ssrc= pt= packets=\n"
	"      decrypted= payload_ok= seq_gaps= auth_fail= replay_fail= bad_payload=\n"
	"      wrong_producer= pt_bad= closed=0|1\n"
	"  transport dir=send|recv id= ice=idle|checking|connected|failed checks=\n"
	"      stun_errors= stun_bad= dtls=none|connected|failed profile= rx_stun= rx_dtls=\n"
	"      rx_rtp= rx_rtcp= rx_other= rx_foreign= unknown_ssrc= rtcp_fail= tx_fail=\n"
	"      closed=0|1\n"
	"  summary name= joined= ice_connected= transports_connected= dtls_failed=\n"
	"      ice_failed= mapped_ok= produced= sent_audio= sent_video= consumers=\n"
	"      consume_errors= received_ok= packets_ok= peers_joined= peers_left=\n"
	"      producers_closed= consumers_closed= transports_closed= chat_received=\n"
	"      captions_received= captions_changed= other_notifications= consent_ok=\n"
	"      rtcp_received= timeout=0|1 speakers_received=\n"
	"      [expect_producers= expect_ok=0|1]\n"
	"  vanish after_ms=N\n"
	"received_ok counts consumers whose every decrypted packet verified (and at least\n"
	"one did); packets_ok sums payload_ok.  Exit 0 after the summary, 1 on a set-up\n"
	"error (no connection, an error reply, a timeout; the summary is printed too),\n"
	"2 on a usage error.\n";

static void __attribute__((noreturn)) usage_error(const char *fmt, const char *arg)
{
	fputs("sfu-client: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n\n", stderr);
	fputs(usage_text, stderr);
	exit(2);
}

/* Seconds (fractions allowed) in 0..3600 as milliseconds; msg is the usage error. */
static uint32_t opt_ms(const char *msg, const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(v >= 0) || v > 3600)
		usage_error(msg, arg);
	return (uint32_t)llround(v * 1000.0);
}

/* An audio level in -dBov, 0..127; msg is the usage error. */
static uint8_t opt_dbov(const char *msg, const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < 0 || v > 127)
		usage_error(msg, arg);
	return (uint8_t)v;
}

static void parse_opts(struct cl_opts *o, int argc, char **argv)
{
	static const struct option lopts[] = {
		{"url", 1, NULL, 'u'}, {"insecure", 0, NULL, 'k'}, {"room", 1, NULL, 'r'},
		{"name", 1, NULL, 'n'}, {"audio", 0, NULL, 'a'}, {"video", 0, NULL, 'v'},
		{"duration", 1, NULL, 'd'}, {"expect-producers", 1, NULL, 'e'},
		{"bind-ip", 1, NULL, 'b'}, {"wrong-fingerprint", 0, NULL, 'w'},
		{"vanish-after", 1, NULL, 'x'}, {"chat", 1, NULL, 'c'}, {"captions", 0, NULL, 'C'},
		{"timing", 0, NULL, 't'}, {"quiet", 0, NULL, 'q'}, {"help", 0, NULL, 'h'},
		{"stop-consent-after", 1, NULL, 'S'}, {"speech", 1, NULL, 'P'},
		{"audio-level", 1, NULL, 'L'}, {"audio-level-at", 1, NULL, 'A'},
		{NULL, 0, NULL, 0},
	};
	struct in_addr ia;
	char *end;
	long k;
	int c;

	memset(o, 0, sizeof(*o));
	o->duration_ms = 5000;
	o->expect_producers = -1;
	o->audio_level = 20;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (strlen(optarg) >= sizeof(o->url) ||
			    (strncmp(optarg, "ws://", 5) != 0 && strncmp(optarg, "wss://", 6) != 0))
				usage_error("--url: '%s' is not ws://... or wss://...", optarg);
			strcpy(o->url, optarg);
			break;
		case 'k': o->insecure = true; break;
		case 'r': o->room = optarg; break;
		case 'n': o->name = optarg; break;
		case 'a': o->audio = true; break;
		case 'v': o->video = true; break;
		case 'd':
			o->duration_ms = opt_ms("--duration: '%s' is not 0..3600 seconds", optarg);
			break;
		case 'e':
			errno = 0;
			k = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || k < 0 || k > CL_MAX_CONSUMERS)
				usage_error("--expect-producers: '%s' is not 0..256", optarg);
			o->expect_producers = (int)k;
			break;
		case 'b':
			if (inet_pton(AF_INET, optarg, &ia) != 1)
				usage_error("--bind-ip: '%s' is not an IPv4 address", optarg);
			o->bind_ip = optarg;
			break;
		case 'w': o->wrong_fp = true; break;
		case 'x':
			o->vanish_ms = opt_ms("--vanish-after: '%s' is not 0..3600 seconds", optarg);
			o->vanish = true;
			break;
		case 'S':
			o->stop_consent_ms = opt_ms("--stop-consent-after: '%s' is not 0..3600 seconds", optarg);
			break;
		case 'P': o->speech = optarg; o->audio = true; break;
		case 'L':
			o->audio_level = opt_dbov("--audio-level: '%s' is not 0..127", optarg);
			break;
		case 'A': {
			char *colon = strchr(optarg, ':'), secs[32];

			if (colon == NULL || colon - optarg >= (long)sizeof(secs) ||
			    o->n_level_at == CL_MAX_LEVEL_CHANGES)
				usage_error("--audio-level-at: '%s' is not S:DBOV (at most 8)", optarg);
			memcpy(secs, optarg, (size_t)(colon - optarg));
			secs[colon - optarg] = '\0';
			o->level_at[o->n_level_at].ms =
				opt_ms("--audio-level-at: '%s' is not 0..3600 seconds", secs);
			o->level_at[o->n_level_at++].dbov =
				opt_dbov("--audio-level-at: '%s' is not 0..127", colon + 1);
			break;
		}
		case 'c': o->chat = optarg; break;
		case 'C': o->captions = true; break;
		case 't': o->timing = true; break;
		case 'q': o->quiet = true; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: usage_error("%s", "unknown option");
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (o->url[0] == '\0' || o->room == NULL || o->name == NULL)
		usage_error("%s", "--url, --room and --name are required");
}

#endif /* SFU_CLIENT_OPTS_H */
