#!/usr/bin/env bash
# A call through the real processes: a Redis server started here, the data
# plane, sfu-ctrl, and C WebRTC clients (tests/tools/sfu-client.c: wss, ICE,
# DTLS, SRTP) in their own network namespaces.
#  - two clients publish audio and video and each receives and decrypts every
#    byte of the other's media;
#  - Redis killed mid-call: the call goes on; Redis restarted: ctrl writes its
#    state (node, room) back;
#  - a client that vanishes is cleaned up everywhere: the others are told, and
#    the data plane has no transports left once everyone is gone;
#  - a wrong DTLS fingerprint fails the handshake.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/netns.sh
. tests/lib/sfu.sh
. tests/lib/ctrl.sh

P=cl
CLIENT=$BUILD/tests/sfu-client
REDIS_PORT=6390

t_begin call
nt_create $P
t_on_exit nt_destroy $P
nt_add_host $P ctrl $SFU_CTRL_IP/24
nt_add_host $P alice 198.18.0.11/24
nt_add_host $P bob 198.18.0.12/24
nt_add_host $P carol 198.18.0.13/24
nt_add_host $P dave 198.18.0.14/24
nt_add_dp $P
sfu_dp_start $P

redis_start() {
	t_bg "$1" nt_exec $P ctrl redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" \
		--appendonly no --dir "$LOGDIR"
	t_wait_for "redis up ($1)" 5 nt_exec $P ctrl redis-cli -p $REDIS_PORT ping
}
rcli() { nt_exec $P ctrl redis-cli -p $REDIS_PORT "$@" 2>/dev/null; }
redis_start redis1
sfu_ctrl_start $P -s ctrl.redis_host=127.0.0.1:$REDIS_PORT -s ctrl.node_id=node-a \
	-s ctrl.redis_retry_max_ms=1000
t_wait_for "ctrl registered its node in Redis" 5 sh -c \
	"ip netns exec $P-ctrl redis-cli -p $REDIS_PORT exists sfu:node:node-a | grep -q 1"

client() { # NAME HOST-NS ARGS...
	local name=$1 host=$2 ip
	shift 2
	ip=$(nt_exec $P "$host" ip -4 -o addr show | awk '/v-/{split($4,a,"/"); print a[1]}')
	t_bg "$name" nt_exec $P "$host" "$CLIENT" --url "$(sfu_ctrl_url $P)" --insecure \
		--bind-ip "$ip" --name "$name" --quiet "$@"
}
summary() { grep '^summary' "$LOGDIR/$1.log"; }
field() { grep "^$2" "$LOGDIR/$1.log" | grep -o "\b$3=[^ ]*" | head -n 1 | cut -d= -f2; }
finished() { t_stop "$1" 0; }

# --- two clients in one room, media both ways, Redis killed and restarted
# What this node publishes for the others (bounded: 4 s).
t_bg sub nt_exec $P ctrl timeout 4 redis-cli -p $REDIS_PORT subscribe sfu:room:call:events
client alice alice --room call --audio --video --duration 9 --expect-producers 2 --chat hello-from-alice
client bob bob --room call --audio --video --duration 9 --expect-producers 2
t_wait_for "the room is registered in Redis" 6 sh -c \
	"ip netns exec $P-ctrl redis-cli -p $REDIS_PORT get sfu:room:call | grep -q node-a"
sleep 1
t_stop redis1 KILL || true
t_check "Redis killed mid-call" sh -c "! ip netns exec $P-ctrl redis-cli -p $REDIS_PORT ping"
sleep 2
t_check "the call goes on without Redis: ctrl healthy" sh -c \
	"ip netns exec $P-ctrl curl -s http://127.0.0.1:8080/health | grep -q '\"status\":\"healthy\"'"
redis_start redis2
t_check "the new Redis starts empty" sh -c "ip netns exec $P-ctrl redis-cli -p $REDIS_PORT dbsize | grep -qx '[0-9]*'"
t_wait_for "Redis restarted (empty): ctrl writes the room back" 4 sh -c \
	"ip netns exec $P-ctrl redis-cli -p $REDIS_PORT get sfu:room:call | grep -q node-a"
t_check "and its node" sh -c "ip netns exec $P-ctrl redis-cli -p $REDIS_PORT exists sfu:node:node-a | grep -q 1"
# Another node's peer chats in the room (published as node-b would): both
# of ours get it, which also shows ctrl subscribed again after the restart.
sleep 0.5
t_check "a chat from a peer on another node is published" sh -c "ip netns exec $P-ctrl redis-cli -p $REDIS_PORT publish sfu:room:call:events '{\"node\":\"node-b\",\"type\":\"chat\",\"data\":{\"peerId\":\"remote\",\"displayName\":\"zed\",\"text\":\"from-node-b\",\"ts\":1}}' | tee $LOGDIR/pub.out | grep -qx 1"
t_check "alice finished" finished alice
t_check "bob finished" finished bob
for who in alice bob; do
	t_expect_eq "$who: consumed the other's audio and video" "$(field $who summary expect_ok)" 1
	t_expect_eq "$who: both consumers verified every packet" "$(field $who summary received_ok)" 2
	t_expect_eq "$who: send and recv transports connected" "$(field $who summary transports_connected)" 2
	for kind in audio video; do
		line=$(grep "^consumer kind=$kind" "$LOGDIR/$who.log")
		pk=$(echo "$line" | grep -o '\bpackets=[0-9]*' | cut -d= -f2)
		ok=$(echo "$line" | grep -o '\bpayload_ok=[0-9]*' | cut -d= -f2)
		gaps=$(echo "$line" | grep -o '\bseq_gaps=[0-9]*' | cut -d= -f2)
		# 9 s of 50 audio packets/s or 90 video packets/s, through the Redis outage.
		t_expect_ge "$who: $kind kept flowing through the Redis outage" "$pk" \
			$([ $kind = audio ] && echo 250 || echo 450)
		t_expect_eq "$who: every $kind packet decrypted and byte-identical" "$ok" "$pk"
		t_expect_eq "$who: $kind sequence continuous" "$gaps" 0
	done
done
t_check "bob got alice's chat" grep -q "^chat from=alice text=hello-from-alice" "$LOGDIR/bob.log"
t_check "alice got the other node's chat" grep -q "^chat from=zed text=from-node-b" "$LOGDIR/alice.log"
t_check "bob got the other node's chat" grep -q "^chat from=zed text=from-node-b" "$LOGDIR/bob.log"
t_check "alice's chat went out on the room channel for other nodes" grep -q 'hello-from-alice' "$LOGDIR/sub.log"
t_wait_for "both left: no transports in the data plane" 5 sfu_stat_cmp $P transports -eq 0

# --- a client that vanishes (a crashed browser) is cleaned up everywhere
client dave dave --room crash --audio --duration 8 --expect-producers 1
client carol carol --room crash --audio --video --vanish-after 3 --duration 8
t_check "carol vanished" finished carol
t_check "dave finished" finished dave
t_expect_eq "dave was told carol left" "$(field dave summary peers_left)" 1
t_expect_ge "dave was told her producers closed" "$(field dave summary producers_closed)" 1
t_expect_ge "dave's consumers of her closed" "$(field dave summary consumers_closed)" 1
t_wait_for "nothing of either left in the data plane" 5 sh -c \
	"$BUILD/sfu-dpctl -p $(sfu_prefix $P) stats | awk '\$1~/^(transports|producers|consumers)\$/{s+=\$2} END{exit s!=0}'"
t_check "ctrl forgot the room" sh -c "ip netns exec $P-ctrl curl -s http://127.0.0.1:8080/stats | grep -q '\"rooms\":\\[\\]'"
t_wait_for "and Redis too" 3 sh -c "ip netns exec $P-ctrl redis-cli -p $REDIS_PORT exists sfu:room:crash | grep -q 0"

# --- a wrong fingerprint fails the handshake
client mallory alice --room fp --wrong-fingerprint --duration 8
t_check "mallory finished" finished mallory
t_expect_eq "the handshake with a wrong fingerprint failed" "$(field mallory summary dtls_failed)" 1
t_check "ctrl counted it" sh -c "ip netns exec $P-ctrl curl -s http://127.0.0.1:8080/metrics | awk '\$1==\"sfu_dtls_failures_total\" && \$2>=1' | grep -q ."
t_check "ctrl logged the mismatch" grep -qi "fingerprint" "$LOGDIR/ctrl.log"

t_check "ctrl exits cleanly on SIGTERM" t_stop ctrl
t_check "Redis no longer lists the node" sh -c "ip netns exec $P-ctrl redis-cli -p $REDIS_PORT exists sfu:node:node-a | grep -q 0"
t_end
