#!/usr/bin/env bash
# Janus side of the capacity comparison: Debian's Janus 1.1 (VideoRoom, started
# by perf/janus/janus-start with ice_lite) in its own namespace, and the C WebRTC
# participant perf/janus/sfu-janus-client speaking Janus's API.
#  - one publisher (audio + video, 1 Mbit/s) and two subscribers: ICE, DTLS and
#    SRTP up on every leg, and each subscriber decrypts and verifies every byte
#    of both streams, in the expected amounts;
#  - a room that does not exist, and a URL nobody serves, end with a clear
#    error line and exit status 1; a bad option exits 2.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/netns.sh

P=jn
JANUS_IP=198.18.0.3
ROOM=4242
CLIENT=$BUILD/perf/sfu-janus-client
URL=ws://$JANUS_IP:8188/

t_begin janus
if ! [ -x /usr/bin/janus ] || ! [ -x "$CLIENT" ]; then
	t_check "janus and $CLIENT are installed/built" false
fi
nt_create $P
t_on_exit nt_destroy $P
nt_add_host $P janus $JANUS_IP/24
nt_add_host $P pub 198.18.0.11/24
nt_add_host $P sub1 198.18.0.12/24
nt_add_host $P sub2 198.18.0.13/24

t_bg janus nt_exec $P janus perf/janus/janus-start "$LOGDIR/janus" $JANUS_IP $ROOM
t_wait_for "Janus listens on $URL" 15 sh -c "ip netns exec $P-janus ss -ltn | grep -q ':8188 '"

client() { # NAME HOST ARGS...
	local name=$1 host=$2
	shift 2
	t_bg "$name" nt_exec $P "$host" "$CLIENT" --url $URL --name "$name" --quiet \
		--bind-ip "$(nt_exec $P "$host" ip -4 -o addr show | awk '/v-/{split($4,a,"/"); print a[1]}')" "$@"
}
field() { grep "^$2" "$LOGDIR/$1.log" | grep -o "\b$3=[^ ]*" | head -n 1 | cut -d= -f2; }

# --- publisher -> two subscribers through the VideoRoom
client alice pub --room $ROOM --publish --video-kbps 1000 --duration 7
client bob sub1 --room $ROOM --subscribe --expect-publishers 1 --duration 5
client carol sub2 --room $ROOM --subscribe --expect-publishers 1 --duration 5
t_check "bob finished (exit 0)" t_stop bob 0
t_check "carol finished (exit 0)" t_stop carol 0
t_check "alice finished (exit 0)" t_stop alice 0
t_expect_eq "alice: ICE and DTLS up" "$(field alice summary legs_connected)" 1
t_expect_eq "alice: Janus reported webrtcup" "$(field alice 'leg role=publish' webrtcup)" 1
# 7 s of 120 packets/s less set-up, on a possibly loaded machine.
t_expect_ge "alice: sent video" "$(field alice summary sent_video)" 500
for who in bob carol; do
	t_expect_eq "$who: ICE and DTLS up" "$(field $who summary legs_connected)" 1
	t_expect_eq "$who: found the publisher" "$(field $who summary expect_ok)" 1
	t_expect_eq "$who: two streams (audio, video)" "$(field $who summary streams)" 2
	t_expect_eq "$who: both streams verified byte for byte" "$(field $who summary received_ok)" 2
	t_expect_eq "$who: no decrypt failures" "$(field $who summary decrypt_failures)" 0
	t_expect_eq "$who: no altered or foreign payload" "$(field $who summary bad_payload)" 0
	# 5 s: 50 audio packets/s, 1 Mbit/s of video = 30 frames of 4 packets; allow for set-up.
	t_expect_ge "$who: audio received" "$(field $who summary audio_packets)" 150
	t_expect_ge "$who: video received" "$(field $who summary video_packets)" 350
	t_expect_eq "$who: every packet verified" "$(field $who summary packets_ok)" \
		$(($(field $who summary audio_packets) + $(field $who summary video_packets)))
done

# --- clear errors
t_bg nosuch nt_exec $P sub1 "$CLIENT" --url $URL --name x --quiet --bind-ip 198.18.0.12 \
	--room 999 --subscribe --duration 2
rc=0; t_stop nosuch 0 || rc=$?
t_expect_eq "an unknown room exits 1" "$rc" 1
t_check "with an error line naming Janus's 'no such room' (426)" \
	grep -q '^error request=listparticipants code=426 message=.*[Nn]o such room' "$LOGDIR/nosuch.log"
t_bg nosuchpub nt_exec $P pub "$CLIENT" --url $URL --name y --quiet --bind-ip 198.18.0.11 \
	--room 999 --publish --duration 2
rc=0; t_stop nosuchpub 0 || rc=$?
t_expect_eq "publishing to an unknown room exits 1" "$rc" 1
t_check "with an error line (join, 426)" grep -q '^error request=join code=426' "$LOGDIR/nosuchpub.log"
t_bg noserver nt_exec $P pub "$CLIENT" --url ws://198.18.0.99:8188/ --name z --quiet \
	--bind-ip 198.18.0.11 --room $ROOM --publish --duration 2
rc=0; t_stop noserver 0 || rc=$?
t_expect_eq "no server exits 1" "$rc" 1
t_check "with a connect error line" grep -q '^error request=connect' "$LOGDIR/noserver.log"
rc=0; "$CLIENT" --url $URL --room abc --name q --bind-ip 198.18.0.11 --publish >/dev/null 2>&1 || rc=$?
t_expect_eq "a malformed room number is a usage error (exit 2)" "$rc" 2

t_check "Janus exits cleanly on SIGTERM" t_stop janus
t_end
