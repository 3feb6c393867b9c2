#!/usr/bin/env bash
# sfu-ctrl's signaling under bad input: malformed JSON, non-objects, missing
# id or method, unknown methods, missing and wrongly typed fields, out-of-range
# values, binary frames, oversized frames and floods each get the error reply
# PROTOCOL.md names; the server stays healthy and serves the next client; a
# session that joined and created a transport leaves nothing behind in ctrl or
# the data plane when its socket closes.  Also /health, /metrics, /stats.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/netns.sh
. tests/lib/sfu.sh
. tests/lib/ctrl.sh

P=sg
PROBE=$BUILD/tests/sfu-wsprobe

t_begin signaling
nt_create $P
t_on_exit nt_destroy $P
nt_add_host $P ctrl $SFU_CTRL_IP/24
nt_add_host $P c1 198.18.0.11/24
nt_add_dp $P
sfu_dp_start $P
sfu_ctrl_start $P -s ctrl.max_peers_per_room=2

probe() { # NAME [probe options] < frames
	local name=$1
	shift
	nt_exec $P c1 "$PROBE" --url "$(sfu_ctrl_url $P)" --insecure --idle-ms 500 "$@" \
		>"$LOGDIR/$name.out" 2>&1 || true
}
has() { grep -qF -- "$2" "$LOGDIR/$1.out"; }

cat >"$LOGDIR/bad.txt" <<'EOF2'
not json at all
[1,2,3]
"a string"
{"method":"join"}
{"id":-1,"method":"join"}
{"id":1.5,"method":"join"}
{"id":2}
{"id":3,"method":42}
{"id":4,"method":"noSuchMethod"}
{"id":5,"method":"join","data":[]}
{"id":6,"method":"createWebRtcTransport","data":{"direction":"send"}}
{"id":7,"method":"join","data":{}}
{"id":8,"method":"join","data":{"roomId":7,"displayName":"x"}}
{"id":9,"method":"join","data":{"roomId":"bad room","displayName":"x"}}
{"id":10,"method":"join","data":{"roomId":"r","displayName":""}}
{"id":11,"method":"join","data":{"roomId":"r","displayName":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}
{"id":12,"method":"join","data":{"roomId":"r","displayName":"x","rtpCapabilities":5}}
{"id":13,"method":"join","data":{"roomId":"r","displayName":"ok"}}
{"id":14,"method":"join","data":{"roomId":"r","displayName":"again"}}
{"id":15,"method":"createWebRtcTransport","data":{"direction":"sideways"}}
{"id":16,"method":"connectWebRtcTransport","data":{"transportId":"t999","dtlsParameters":{}}}
{"id":17,"method":"produce","data":{"transportId":"t999","kind":"audio","rtpParameters":{}}}
{"id":18,"method":"consume","data":{"transportId":"t999","producerId":"pr1"}}
{"id":19,"method":"resumeConsumer","data":{"consumerId":"c42"}}
{"id":20,"method":"closeProducer","data":{"producerId":"pr42"}}
{"id":21,"method":"chat","data":{"text":""}}
{"id":22,"method":"setCaptions","data":{"enabled":"yes"}}
{"id":23,"method":"createWebRtcTransport","data":{"direction":"send"}}
EOF2
probe bad <"$LOGDIR/bad.txt"
t_expect_eq "every frame answered" "$(grep -c '"ok"' "$LOGDIR/bad.out")" 28
t_check "not JSON: BAD_REQUEST" has bad '{"id":null,"ok":false,"error":{"code":"BAD_REQUEST","message":"not a JSON object"}}'
t_expect_ge "non-objects and bad ids: BAD_REQUEST" "$(grep -c BAD_REQUEST "$LOGDIR/bad.out")" 8
t_check "unknown method: UNKNOWN_METHOD" has bad '"id":4,"ok":false,"error":{"code":"UNKNOWN_METHOD"'
t_check "data not an object: INVALID_PARAMS" has bad '"id":5,"ok":false,"error":{"code":"INVALID_PARAMS"'
t_check "before join: NOT_JOINED" has bad '"id":6,"ok":false,"error":{"code":"NOT_JOINED"'
t_check "missing field named" has bad '"id":7,"ok":false,"error":{"code":"INVALID_PARAMS","message":"roomId: string required"'
t_check "wrong type named" has bad '"id":8,"ok":false,"error":{"code":"INVALID_PARAMS","message":"roomId: string required"'
t_check "bad room name" has bad '"id":9,"ok":false,"error":{"code":"INVALID_PARAMS"'
t_check "empty display name" has bad '"id":10,"ok":false,"error":{"code":"INVALID_PARAMS"'
t_check "display name too long" has bad '"id":11,"ok":false,"error":{"code":"INVALID_PARAMS","message":"displayName'
t_check "capabilities not an object" has bad '"id":12,"ok":false,"error":{"code":"INVALID_PARAMS","message":"rtpCapabilities'
t_check "a good join succeeds" has bad '"id":13,"ok":true'
t_check "second join: ALREADY_JOINED" has bad '"id":14,"ok":false,"error":{"code":"ALREADY_JOINED"'
t_check "bad direction" has bad '"id":15,"ok":false,"error":{"code":"INVALID_PARAMS"'
t_check "unknown transport: NOT_FOUND" has bad '"id":16,"ok":false,"error":{"code":"NOT_FOUND"'
t_check "produce on unknown transport: NOT_FOUND" has bad '"id":17,"ok":false,"error":{"code":"NOT_FOUND"'
t_check "consume on unknown transport: NOT_FOUND" has bad '"id":18,"ok":false,"error":{"code":"NOT_FOUND"'
t_check "unknown consumer: NOT_FOUND" has bad '"id":19,"ok":false,"error":{"code":"NOT_FOUND"'
t_check "someone else's producer: NOT_FOUND" has bad '"id":20,"ok":false,"error":{"code":"NOT_FOUND"'
t_check "empty chat refused" has bad '"id":21,"ok":false,"error":{"code":"INVALID_PARAMS"'
t_check "captions flag not boolean" has bad '"id":22,"ok":false,"error":{"code":"INVALID_PARAMS","message":"enabled'
t_check "a transport after all that" has bad '"id":23,"ok":true,"data":{"id":"t'
t_wait_for "the closed session left nothing in the data plane" 3 \
	sfu_stat_cmp $P transports -eq 0
t_check "and nothing in ctrl" sh -c "$(declare -f sfu_ctrl_get nt_exec); sfu_ctrl_get $P /stats | grep -q '\"peers\":0'"

probe big --big 70000 </dev/null
t_check "oversized frame: TOO_LARGE" has big '"code":"TOO_LARGE"'
t_check "then the server closes" has big closed
probe bin --binary </dev/null
t_check "binary frame: BAD_REQUEST" has bin '"code":"BAD_REQUEST","message":"binary frames'
probe flood --flood 400 </dev/null
t_expect_ge "flood: answered within the burst" "$(grep -c '"ok":true' "$LOGDIR/flood.out")" 90
t_expect_ge "flood: the rest RATE_LIMITED" "$(grep -c RATE_LIMITED "$LOGDIR/flood.out")" 250

# Room limit (configured to 2 here): the third peer is told ROOM_FULL.
printf '%s\n' '{"id":1,"method":"join","data":{"roomId":"full","displayName":"a"}}' >"$LOGDIR/j.txt"
hold_cmd="ip netns exec $P-c1 $PROBE --url $(sfu_ctrl_url $P) --insecure --idle-ms 4000 < $LOGDIR/j.txt"
t_bg hold1 sh -c "$hold_cmd"
t_bg hold2 sh -c "$hold_cmd"
sleep 1
probe third <"$LOGDIR/j.txt"
t_check "third peer in a room of 2: ROOM_FULL" has third '"code":"ROOM_FULL"'
t_stop hold1 || true
t_stop hold2 || true

h=$(sfu_ctrl_get $P /health)
echo "$h" >"$LOGDIR/health.json"
t_check "/health keeps the original shape" python3 -c "
import json,sys; h=json.load(open('$LOGDIR/health.json'))
assert h['status']=='healthy' and 'timestamp' in h and 'uptime' in h
assert h['workers']['totalWorkers']==1 and 'totalRooms' in h['rooms']
assert 'activeStreams' in h['audioStreaming']"
sfu_ctrl_get $P /metrics >"$LOGDIR/metrics.txt"
t_check "/metrics has the original names" sh -c "grep -q '^gateway_workers_total 1' $LOGDIR/metrics.txt && grep -q '^gateway_rooms_total' $LOGDIR/metrics.txt && grep -q '^gateway_audio_streams_total' $LOGDIR/metrics.txt"
t_check "/metrics counted the rate limiting" sh -c "awk '\$1==\"sfu_signaling_rate_limited_total\" && \$2>=250' $LOGDIR/metrics.txt | grep -q ."
t_check "/metrics has data plane counters" grep -q 'sfu_dataplane_packets_total{counter="rx_packets"}' "$LOGDIR/metrics.txt"
t_check "ctrl exits cleanly on SIGTERM" t_stop ctrl
t_end
