#!/usr/bin/env bash
# The admin API (POST /admin on sfu-ctrl): plain transports with SRTP keys
# given by the caller, a producer and a consumer on them; SRTP sent by a test
# host into one arrives at another re-encrypted with its key.  Requests from
# other hosts need the bearer token; bad requests get error replies.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/netns.sh
. tests/lib/sfu.sh
. tests/lib/ctrl.sh

P=ad
PEER=$BUILD/tests/sfu-peer
TOKEN=s3cret-token
KIN=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babb
KOUT=c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadb

t_begin admin
nt_create $P
t_on_exit nt_destroy $P
nt_add_host $P ctrl $SFU_CTRL_IP/24
nt_add_host $P tx 198.18.0.11/24
nt_add_host $P rx 198.18.0.21/24
nt_add_dp $P
sfu_dp_start $P
sfu_ctrl_start $P -s ctrl.admin_token=$TOKEN

b64() { echo -n "$1" | sed 's/../\\x&/g' | xargs -0 printf '%b' | base64 -w0; }
admin() { nt_exec $P ctrl curl -s --max-time 5 -X POST --data-binary "$1" http://127.0.0.1:8080/admin; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }

r=$(admin "{\"method\":\"createPlainTransport\",\"data\":{\"room\":\"ingest\",\"remoteIp\":\"198.18.0.11\",\"remotePort\":5000,\"srtp\":{\"profile\":\"AEAD_AES_128_GCM\",\"recvKey\":\"$(b64 $KIN)\",\"sendKey\":\"$(b64 $KIN)\"}}}")
echo "$r" >"$LOGDIR/t1.json"
t_check "plain transport created" sh -c "echo '$r' | grep -q '\"ok\":true'"
T1=$(echo "$r" | jget "['data']['transportId']")
t_expect_eq "it announces the data plane's address" "$(echo "$r" | jget "['data']['ip']")" 198.18.0.1
r=$(admin "{\"method\":\"createPlainTransport\",\"data\":{\"room\":\"ingest\",\"remoteIp\":\"198.18.0.21\",\"remotePort\":6000,\"srtp\":{\"profile\":\"AEAD_AES_128_GCM\",\"recvKey\":\"$(b64 $KOUT)\",\"sendKey\":\"$(b64 $KOUT)\"}}}")
T2=$(echo "$r" | jget "['data']['transportId']")
r=$(admin "{\"method\":\"produce\",\"data\":{\"transportId\":$T1,\"kind\":\"video\",\"ssrc\":1234,\"payloadType\":101}}")
PR=$(echo "$r" | jget "['data']['producerId']")
r=$(admin "{\"method\":\"consume\",\"data\":{\"transportId\":$T2,\"producerId\":$PR,\"ssrc\":5678,\"payloadType\":101}}")
t_check "consumer created" sh -c "echo '$r' | grep -q '\"consumerId\"'"

t_bg rx nt_exec $P rx "$PEER" recv --bind 198.18.0.21:6000 --profile gcm --key $KOUT --count 100 \
	--timeout-ms 8000 --seed 5
sleep 0.5
t_check "ingest sends 100 SRTP packets" nt_exec $P tx "$PEER" send --bind 198.18.0.11:5000 \
	--to 198.18.0.1:40000 --profile gcm --key $KIN --ssrc 1234 --pt 101 --count 100 --rate 1000 --seed 5
t_stop rx 0 || true
t_expect_eq "all arrive re-encrypted, byte-identical" "$(sfu_kv payload_ok "$LOGDIR/rx.log")" 100
t_expect_eq "with the consumer's SSRC" "$(sfu_kv ssrc "$LOGDIR/rx.log")" 5678

# errors
t_check "bad JSON: BAD_REQUEST" sh -c "$(declare -f admin nt_exec); P=$P; admin 'nope' | grep -q BAD_REQUEST"
t_check "unknown method" sh -c "$(declare -f admin nt_exec); P=$P; admin '{\"method\":\"x\",\"data\":{}}' | grep -q UNKNOWN_METHOD"
t_check "bad key length" sh -c "$(declare -f admin nt_exec b64); P=$P; admin '{\"method\":\"createPlainTransport\",\"data\":{\"remoteIp\":\"198.18.0.30\",\"remotePort\":1,\"srtp\":{\"profile\":\"AEAD_AES_128_GCM\",\"recvKey\":\"AAAA\",\"sendKey\":\"AAAA\"}}}' | grep -q 'wrong length'"
t_check "taken 5-tuple refused" sh -c "$(declare -f admin nt_exec b64); P=$P; admin '{\"method\":\"createPlainTransport\",\"data\":{\"remoteIp\":\"198.18.0.11\",\"remotePort\":5000,\"srtp\":{\"profile\":\"AEAD_AES_128_GCM\",\"recvKey\":\"$(b64 $KIN)\",\"sendKey\":\"$(b64 $KIN)\"}}}' | grep -q 'taken'"
t_check "unknown producer: NOT_FOUND" sh -c "$(declare -f admin nt_exec); P=$P; admin '{\"method\":\"consume\",\"data\":{\"transportId\":$T2,\"producerId\":7,\"ssrc\":1,\"payloadType\":1}}' | grep -q NOT_FOUND"
code=$(nt_exec $P tx curl -sk -o /dev/null -w '%{http_code}' -X POST --data '{}' https://$SFU_CTRL_IP:8443/admin)
t_expect_eq "from another host without the token: 403" "$code" 403
r=$(nt_exec $P tx curl -sk -X POST -H "Authorization: Bearer $TOKEN" \
	--data "{\"method\":\"closeTransport\",\"data\":{\"transportId\":$T1}}" https://$SFU_CTRL_IP:8443/admin)
t_check "with the token: allowed (transport closed)" sh -c "echo '$r' | grep -q '\"ok\":true'"
t_expect_eq "its producer and consumer went with it" \
	"$(sfu_stat $P producers)/$(sfu_stat $P consumers)/$(sfu_stat $P transports)" "0/0/1"
t_end
