#!/usr/bin/env bash
# Server-side active speaker: the data plane reads the RFC 6464 audio level of
# every authenticated audio packet (ssrc-audio-level negotiated in produce),
# reports per producer every 300 ms to ctrl, and ctrl picks each room's
# dominant speaker (threshold -50 dBov, hysteresis) and tells the room.
# Three sfu-clients (wss, ICE, DTLS, SRTP) in one room, levels on a schedule
# (seconds after each client connects):
#   alice  20 dBov, silent (127) from 4 s            runs 11 s
#   bob    silent, 25 dBov from 4 s                  leaves after 6 s
#   carol  60 dBov (below the threshold), 30 from 8.5 s   runs 12 s
# Expected, on every client still there: alice, then bob (alice silent, bob
# louder for two intervals), then nobody (bob left while the others are
# quiet), then carol (the first to count takes the floor at once).  A late
# joiner is told the current speaker.  The data plane's level counters move,
# nothing malformed, no report dropped.
# Then an ingest on a plain transport (admin API, audioLevelExtId 1) with
# sfu-peer: valid levels are read; packets whose extension element runs past
# its block are counted as audio_level_malformed and still forwarded.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/netns.sh
. tests/lib/sfu.sh
. tests/lib/ctrl.sh

P=spk
CLIENT=$BUILD/tests/sfu-client
PEER=$BUILD/tests/sfu-peer
KEY=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babb

t_begin speaker
nt_create $P
t_on_exit nt_destroy $P
nt_add_host $P ctrl $SFU_CTRL_IP/24
nt_add_host $P alice 198.18.0.11/24
nt_add_host $P bob 198.18.0.12/24
nt_add_host $P carol 198.18.0.13/24
nt_add_host $P dave 198.18.0.14/24
nt_add_dp $P
sfu_dp_start $P
sfu_ctrl_start $P

client() { # NAME ARGS... (the host namespace has the client's name)
	local name=$1 ip
	shift
	ip=$(nt_exec $P "$name" ip -4 -o addr show | awk '/v-/{split($4,a,"/"); print a[1]}')
	t_bg "$name" nt_exec $P "$name" "$CLIENT" --url "$(sfu_ctrl_url $P)" --insecure \
		--bind-ip "$ip" --name "$name" --quiet --room talk --audio "$@"
}
field() { grep "^$2" "$LOGDIR/$1.log" | grep -o "\b$3=[^ ]*" | head -n 1 | cut -d= -f2; }
speakers() { grep '^speaker ' "$LOGDIR/$1.log" | grep -o '\bpeer=[^ ]*' | cut -d= -f2 | paste -sd, -; }
finished() { t_stop "$1" 0; }

client alice --audio-level 20 --audio-level-at 4:127 --duration 11
client bob --audio-level 127 --audio-level-at 4:25 --duration 6
client carol --audio-level 60 --audio-level-at 8.5:30 --duration 12
t_wait_for "alice is the active speaker (ctrl /stats)" 6 sh -c \
	"ip netns exec $P-ctrl curl -s http://127.0.0.1:8080/stats | grep -q '\"activeSpeaker\":\"p'"
# A late joiner, quiet: told who speaks right after joining.
sleep 0.5
client dave --audio-level 127 --duration 1
t_check "dave finished" finished dave
t_expect_eq "dave was told alice speaks when he joined" "$(speakers dave)" alice
t_check "bob finished" finished bob
t_check "alice finished" finished alice
t_check "carol finished" finished carol

t_expect_eq "alice: alice, bob, nobody, carol" "$(speakers alice)" "alice,bob,-,carol"
t_expect_eq "carol: alice, bob, nobody, carol" "$(speakers carol)" "alice,bob,-,carol"
t_expect_eq "bob: alice, then bob" "$(speakers bob)" "alice,bob"
for who in alice bob carol; do
	t_expect_eq "$who: the audio of the others verified" \
		"$(field $who summary received_ok)" "$(field $who summary consumers)"
done
t_expect_eq "alice counted the notifications" "$(field alice summary speakers_received)" 4
t_expect_ge "data plane: levels read" "$(sfu_stat $P audio_level_packets)" 500
t_expect_ge "data plane: level reports sent" "$(sfu_stat $P audio_level_reports)" 20
t_expect_eq "data plane: no malformed or missing levels, no report dropped" \
	"$(sfu_stat $P audio_level_malformed)/$(sfu_stat $P audio_level_missing)/$(sfu_stat $P drop_level_ring_full)" \
	"0/0/0"
t_check "ctrl counted the changes" sh -c "ip netns exec $P-ctrl curl -s http://127.0.0.1:8080/metrics | awk '\$1==\"sfu_active_speaker_changes_total\" && \$2>=4' | grep -q ."
t_wait_for "everyone left: no producers in the data plane" 5 sfu_stat_cmp $P producers -eq 0

# --- a malformed level extension on authenticated packets: counted, no crash
b64() { echo -n "$1" | sed 's/../\\x&/g' | xargs -0 printf '%b' | base64 -w0; }
admin() { nt_exec $P ctrl curl -s --max-time 5 -X POST --data-binary "$1" http://127.0.0.1:8080/admin; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }
r=$(admin "{\"method\":\"createPlainTransport\",\"data\":{\"room\":\"ingest\",\"remoteIp\":\"198.18.0.11\",\"remotePort\":5000,\"srtp\":{\"profile\":\"AEAD_AES_128_GCM\",\"recvKey\":\"$(b64 $KEY)\",\"sendKey\":\"$(b64 $KEY)\"}}}")
T1=$(echo "$r" | jget "['data']['transportId']")
r=$(admin "{\"method\":\"produce\",\"data\":{\"transportId\":$T1,\"kind\":\"video\",\"ssrc\":4321,\"payloadType\":101,\"audioLevelExtId\":1}}")
t_check "admin: a level extension id on video is refused" sh -c "echo '$r' | grep -q INVALID_PARAMS"
r=$(admin "{\"method\":\"produce\",\"data\":{\"transportId\":$T1,\"kind\":\"audio\",\"ssrc\":1234,\"payloadType\":100,\"audioLevelExtId\":1}}")
t_check "admin: audio producer with audioLevelExtId 1" sh -c "echo '$r' | grep -q producerId"
lv0=$(sfu_stat $P audio_level_packets)
bad0=$(sfu_stat $P audio_level_malformed)
rtp0=$(sfu_stat $P rtp_in)
t_check "ingest sends 50 packets with levels" nt_exec $P alice "$PEER" send --bind 198.18.0.11:5000 \
	--to 198.18.0.1:40000 --profile gcm --key $KEY --ssrc 1234 --pt 100 --count 50 --rate 500 \
	--size 100 --ext
t_check "and 30 with a malformed level extension" nt_exec $P alice "$PEER" send \
	--bind 198.18.0.11:5000 --to 198.18.0.1:40000 --profile gcm --key $KEY --ssrc 1234 \
	--pt 100 --count 30 --rate 500 --size 100 --seq 100 --bad ext
t_wait_for "the data plane read the 50 levels" 3 sfu_stat_cmp $P audio_level_packets -ge $((lv0 + 50))
t_expect_eq "and counted the 30 malformed" "$(sfu_stat $P audio_level_malformed)" $((bad0 + 30))
t_expect_eq "all 80 authenticated and accepted" "$(sfu_stat $P rtp_in)" $((rtp0 + 80))
t_check "the data plane is alive" sfu_dpctl $P ping

t_check "ctrl exits cleanly on SIGTERM" t_stop ctrl
t_end
