#!/usr/bin/env bash
# Secondary processes and the ring protocol, against the real data plane in
# network namespaces: sfu-dpctl attaches, says HELLO and gets its reply; a
# batch of requests creates and removes objects, and a reused slot gets a new
# generation so the old id is refused without touching the new object; bad ids
# and invalid arguments get error replies (non-zero exit, errno named) and the
# data plane keeps its state and keeps working.  RFC 7983 demux: STUN and DTLS
# from the wire reach the ctrl listener as PACKET_IN with the sender's address,
# length and first byte, untagged until a transport is bound to the 5-tuple and
# tagged with its id after; with no ctrl (it exited or was killed) they are
# dropped as no_ctrl_attached.  PACKET_OUT puts exact bytes on the wire from
# port 40000.  Secondaries dying: eight channel holders are SIGKILLed and their
# channels are free at once (eight new holders fit, a ninth is refused, twelve
# clients in a row attach), a session set up before the kills keeps forwarding
# every SRTP packet, and a killed client that is still a zombie neither keeps
# its channel nor gets PACKET_IN.  A stopped ctrl flooded with STUN does not
# lock the other clients out.  Telemetry answers JSON.  SIGTERM with a
# secondary still attached: exit 0, hugepage files removed.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/netns.sh
. tests/lib/sfu.sh

P=sec
PEER=$BUILD/tests/sfu-peer
DPCTL="$BUILD/sfu-dpctl -p $(sfu_prefix $P)"
H1=198.18.0.11
RX=198.18.0.21
N=200

t_begin secondary
nt_create $P
t_on_exit nt_destroy $P
nt_add_host $P h1 $H1/24 # STUN/DTLS sender, PACKET_OUT receiver, SRTP publisher
nt_add_host $P rx $RX/24 # SRTP receiver
nt_add_dp $P
sfu_dp_start $P
# Their ARP requests make both hosts neighbours (PACKET_OUT needs the MAC).
t_check "hosts ping the data plane" sh -c \
	"ip netns exec $P-h1 ping -c 1 -W 1 $SFU_DP_IP && ip netns exec $P-rx ping -c 1 -W 1 $SFU_DP_IP"

# out NAME args...: run sfu-dpctl, stdout to $LOGDIR/NAME.out, stderr to NAME.err,
# exit status in $xrc; never fails (the checks look at the files and $xrc).
out() {
	local name=$1
	shift
	xrc=0
	sfu_dpctl $P "$@" >"$LOGDIR/$name.out" 2>"$LOGDIR/$name.err" || xrc=$?
}

# refused DESC ERRNO_TEXT args...: sfu-dpctl exits non-zero and its message
# names the errno (from the data plane's reply or from the attach).
refused() {
	local desc=$1
	shift
	out refused "${@:2}"
	t_check "$desc" said_no "$1" "${@:2}"
}
said_no() {
	echo "sfu-dpctl ${*:2}: exit $xrc"
	cat "$LOGDIR/refused.err"
	((xrc != 0)) && grep -q "^sfu-dpctl: .*$1" "$LOGDIR/refused.err"
}

# --- HELLO over the channel rings
out ping ping
t_expect_eq "ping: HELLO answered (channel and worker count)" \
	"$xrc $(cat "$LOGDIR/ping.out")" "0 ok channel=0 workers=1"

# --- a batch of requests over one attach; slot reuse bumps the generation
cat >"$LOGDIR/life.batch" <<'EOB'
t1 = transport-add room=1
t2 = transport-add room=1
transport-bind $t1 198.18.0.11:5100
p1 = producer-add $t1 ssrc=111 pt=96
c1 = consumer-add $t2 $p1 ssrc=222 pt=100
producer-pause $p1 1
consumer-pause $c1 1
consumer-remove $c1
producer-remove $p1
transport-remove $t2
t3 = transport-add room=1
EOB
xrc=0
sfu_dpctl $P batch - <"$LOGDIR/life.batch" >"$LOGDIR/life.out" 2>"$LOGDIR/life.err" || xrc=$?
t_expect_eq "batch: every request answered" "$xrc" 0
lid() { awk -v k="$1" '$1 == k && $2 == "=" { print $3 }' "$LOGDIR/life.out"; }
T1=$(lid t1) T2=$(lid t2) T3=$(lid t3) P1=$(lid p1) C1=$(lid c1)
t_check "batch: five ids assigned, none 0, transports distinct" \
	test -n "$T1" -a -n "$T2" -a -n "$T3" -a -n "$P1" -a -n "$C1" \
	-a "${T1:-0}" != 0 -a "${P1:-0}" != 0 -a "${C1:-0}" != 0 -a "${T1:-0}" != "${T2:-0}"
t_expect_eq "batch: consumer and producer removed, one transport removed" \
	"$(sfu_stat $P transports)/$(sfu_stat $P producers)/$(sfu_stat $P consumers)" "2/0/0"
t_expect_eq "re-added transport reuses the freed slot" \
	$((${T3:-0} & 0xfffff)) $((${T2:-1} & 0xfffff))
t_check "... under a new id (generation changed)" test "${T3:-0}" != "${T2:-0}"
refused "stale transport id refused by transport-remove" "No such file or directory" \
	transport-remove "$T2"
refused "stale transport id refused by transport-bind" "No such file or directory" \
	transport-bind "$T2" $H1:5101
refused "stale transport id refused by producer-add" "No such file or directory" \
	producer-add "$T2" ssrc=5 pt=96
refused "stale producer id refused" "No such file or directory" producer-pause "$P1" 0
refused "stale consumer id refused" "No such file or directory" consumer-remove "$C1"
t_expect_eq "the stale id left the slot's new transport alone" "$(sfu_stat $P transports)" 2
t_check "the new transport answers to its own id" sfu_dpctl $P transport-bind "$T3" $H1:5102

# --- error replies: bad ids, invalid arguments
refused "id 0 refused" "No such file or directory" transport-remove 0
refused "random id refused" "No such file or directory" transport-remove 3735928559
refused "live slot with a forged generation refused" "No such file or directory" \
	transport-remove $((T1 ^ 0x80000000))
out prod producer-add "$T1" ssrc=1000 pt=96 kind=video
PA=$(cat "$LOGDIR/prod.out")
t_expect_eq "a valid producer still accepted" "$xrc" 0
refused "producer ssrc=0 refused" "Invalid argument" producer-add "$T1" ssrc=0 pt=96
refused "producer payload type above 127 refused" "Invalid argument" \
	producer-add "$T1" ssrc=1001 pt=200
refused "producer rtx_ssrc equal to its ssrc refused" "Invalid argument" \
	producer-add "$T1" ssrc=1002 pt=96 rtx_ssrc=1002 rtx_pt=97
refused "producer ssrc already on the transport refused" "File exists" \
	producer-add "$T1" ssrc=1000 pt=96
out cons consumer-add "$T3" "$PA" ssrc=2000 pt=100
t_expect_eq "a valid consumer still accepted" "$xrc" 0
refused "consumer ssrc=0 refused" "Invalid argument" consumer-add "$T3" "$PA" ssrc=0 pt=100
refused "consumer ssrc already on the transport refused" "File exists" \
	consumer-add "$T3" "$PA" ssrc=2000 pt=100
refused "consumer of a removed producer refused" "No such file or directory" \
	consumer-add "$T3" "$P1" ssrc=2001 pt=100
refused "transport on a port outside rtc_min..max refused" "Numerical result out of range" \
	transport-add room=9 port=50000
refused "bind to 0.0.0.0 refused" "Invalid argument" transport-bind "$T1" 0.0.0.0:5000
refused "bind off-subnet with no gateway refused" "Network is unreachable" \
	transport-bind "$T1" 198.19.0.1:5000
refused "bind to a 5-tuple another transport holds refused" "Address already in use" \
	transport-bind "$T1" $H1:5102
t_expect_eq "refusals changed nothing (transports/producers/consumers)" \
	"$(sfu_stat $P transports)/$(sfu_stat $P producers)/$(sfu_stat $P consumers)" "2/1/1"
out ping2 ping
t_expect_eq "data plane answers HELLO after the refusals" "$xrc" 0
t_check "removing both transports cascades" sh -c \
	"$DPCTL transport-remove $T1 && $DPCTL transport-remove $T3"
t_expect_eq "nothing left" \
	"$(sfu_stat $P transports)/$(sfu_stat $P producers)/$(sfu_stat $P consumers)" "0/0/0"

# --- RFC 7983 demux: STUN and DTLS to the ctrl listener
# A STUN binding request header (RFC 5389 6: type 0x0001, length 0, magic
# cookie, transaction id), the same with one 8-byte attribute as a probe, and
# a DTLS 1.2 record header starting a handshake (content type 22).
printf '\x00\x01\x00\x00\x21\x12\xa4\x42txid-0123456' >"$LOGDIR/stun.bin"
printf '\x00\x01\x00\x08\x21\x12\xa4\x42txid-probe01\x80\x22\x00\x04test' >"$LOGDIR/probe.bin"
printf '\x16\xfe\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0cclienthello.' >"$LOGDIR/dtls.bin"
# send FILE SRC_PORT: one datagram from h1 to the data plane's port 40000.
send() { nt_exec $P h1 nc -u -n -q 0 -p "$2" $SFU_DP_IP 40000 <"$LOGDIR/$1"; }
# attached LOG: send a probe; true once the listener printed one.
attached() { send probe.bin 5001 && sleep 0.1 && grep -q 'len=28 first=0$' "$LOGDIR/$1"; }

t_bg ctl sfu_dpctl $P listen 20
t_wait_for "ctrl listener attached (a probe STUN reaches it)" 5 attached ctl.log
stun0=$(sfu_stat $P stun_in) dtls0=$(sfu_stat $P dtls_in) out0=$(sfu_stat $P ctrl_packets_out)
send stun.bin 5002
send dtls.bin 5002
t_wait_for "listener printed the STUN datagram: no transport, sender, len 20, first byte 0" 3 \
	grep -q "^packet_in transport=0 from=$H1:5002 local=40000 len=20 first=0$" "$LOGDIR/ctl.log"
DLEN=$(stat -c %s "$LOGDIR/dtls.bin")
t_wait_for "listener printed the DTLS datagram: len $DLEN, first byte 22" 3 \
	grep -q "^packet_in transport=0 from=$H1:5002 local=40000 len=$DLEN first=22$" "$LOGDIR/ctl.log"
t_expect_eq "stun_in counted one" $(($(sfu_stat $P stun_in) - stun0)) 1
t_expect_eq "dtls_in counted one" $(($(sfu_stat $P dtls_in) - dtls0)) 1
t_expect_eq "ctrl_packets_out counted both" $(($(sfu_stat $P ctrl_packets_out) - out0)) 2
out tb transport-add room=5 kind=webrtc
TB=$(cat "$LOGDIR/tb.out")
t_check "transport bound to the STUN sender's 5-tuple" sfu_dpctl $P transport-bind "$TB" $H1:5002
send stun.bin 5002
t_wait_for "next STUN from that 5-tuple tagged with transport $TB" 3 \
	grep -q "^packet_in transport=$TB from=$H1:5002 local=40000 len=20 first=0$" "$LOGDIR/ctl.log"
send stun.bin 5003
t_wait_for "STUN from another port still untagged" 3 \
	grep -q "^packet_in transport=0 from=$H1:5003 local=40000 len=20 first=0$" "$LOGDIR/ctl.log"
t_check "listener exits 0 on SIGTERM" t_stop ctl

# exited PID...: true when each process has exited: gone, or a zombie that
# its parent has not reaped yet (which holds no files, and no channel).
exited() {
	local pid state
	(($# > 0)) || return 1
	for pid in "$@"; do
		state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || continue
		[[ $state == Z ]] || return 1
	done
}
# dpctl_pids NAME: the sfu-dpctl processes of background command NAME.
dpctl_pids() { pgrep -g "$(t_pid "$1")" -x sfu-dpctl || true; }
# tstat NAME: a summed counter read through telemetry, which needs no channel
# (drop reasons without their drop_ prefix).
tstat() {
	sfu_dpctl $P telemetry /sfu/stats | grep -o "\"$1\":[0-9]*" | cut -d: -f2
}
# stun_dropped: one STUN (retried by t_wait_for) counted as dropped for no ctrl.
stun_dropped() {
	local before
	before=$(tstat no_ctrl_attached)
	send stun.bin 5004
	sleep 0.1
	(($(tstat no_ctrl_attached) > before))
}
t_wait_for "after the listener left, STUN is dropped as no_ctrl_attached within 2.5 s" 2.5 \
	stun_dropped
t_bg ctl2 sfu_dpctl $P listen 30
t_wait_for "a second listener attached" 5 attached ctl2.log
pids=$(dpctl_pids ctl2)
xrc=0
t_stop ctl2 KILL 2>/dev/null || xrc=$?
t_expect_eq "second listener killed by SIGKILL" $xrc 137
t_wait_for "killed listener exited" 3 exited $pids
t_wait_for "after the listener was killed, STUN is dropped as no_ctrl_attached within 2.5 s" 2.5 \
	stun_dropped

# --- PACKET_OUT: exact bytes on the wire, from the data plane's port 40000
# 300 bytes: 0x00..0xff, then 0x00..0x2b.
awk 'BEGIN { for (i = 0; i < 300; i++) printf "%02x", i % 256 }' >"$LOGDIR/po.hex"
awk 'BEGIN { for (i = 0; i < 300; i++) printf "%c", i % 256 }' >"$LOGDIR/po.expect"
t_bg nc nt_exec $P h1 bash -c \
	"exec timeout 5 nc -u -l -n -v -W 1 $H1 7000 >$LOGDIR/po.got 2>$LOGDIR/po.nc"
t_wait_for "receiver bound" 3 grep -q "^Bound on $H1 7000" "$LOGDIR/po.nc"
t_check "packet-out accepted" sfu_dpctl $P packet-out $H1:7000 "$(cat "$LOGDIR/po.hex")"
t_check "receiver got one datagram and exited" t_stop nc 0
t_check "the datagram's 300 bytes are exact" cmp "$LOGDIR/po.expect" "$LOGDIR/po.got"
t_check "it came from $SFU_DP_IP port 40000" \
	grep -q "^Connection received on $SFU_DP_IP 40000$" "$LOGDIR/po.nc"

# --- a forwarding session set up before secondaries die
K_PUB=c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadb
K_PUBO=000102030405060708090a0b0c0d0e0f000102030405060708090a0b
K_RXI=202122232425262728292a2b2c2d2e2f303132333435363738393a3b
K_RXO=404142434445464748494a4b4c4d4e4f505152535455565758595a5b
cat >"$LOGDIR/fwd.batch" <<EOB
pub = transport-add room=1
transport-bind \$pub $H1:5000 local=40000
transport-keys \$pub gcm $K_PUB $K_PUBO
prod = producer-add \$pub ssrc=1111 pt=96 kind=video
r1 = transport-add room=1
transport-bind \$r1 $RX:6000 local=40000
transport-keys \$r1 gcm $K_RXI $K_RXO
c1 = consumer-add \$r1 \$prod ssrc=2001 pt=100
EOB
t_check "forwarding session created" sh -c "$DPCTL batch - <$LOGDIR/fwd.batch"

# holders FIRST LAST: start holders hFIRST..hLAST; wait until each has a channel.
holders() {
	local i
	for ((i = $1; i <= $2; i++)); do
		t_bg "h$i" sfu_dpctl $P hold 30
	done
	t_wait_for "holders h$1..h$2 attached" 10 \
		sh -c "for i in \$(seq $1 $2); do grep -q holding $LOGDIR/h\$i.log || exit 1; done"
}
holders 1 8
refused "every channel taken: a ninth client is refused" "Device or resource busy" ping
# Kill all eight at once (by their pids), then collect each.  A killed
# sfu-dpctl is orphaned (its subshell dies with it) and may stay a zombie
# until init reaps it (~2 s in some containers): its channel must be free
# as soon as it has exited, zombie or not.
# (stderr off: the shell's "Killed" job notices.)
pids=()
killed=0
{
	for i in 1 2 3 4 5 6 7 8; do
		pids+=($(dpctl_pids h$i))
		kill -KILL -- "-$(t_pid h$i)"
	done
	for i in 1 2 3 4 5 6 7 8; do
		xrc=0
		t_stop "h$i" KILL || xrc=$?
		((xrc != 137)) || killed=$((killed + 1))
	done
} 2>/dev/null
t_expect_eq "eight holders died of SIGKILL" $killed 8
t_expect_eq "eight sfu-dpctl processes were killed" ${#pids[@]} 8
t_wait_for "killed holders exited" 3 exited "${pids[@]}"
t_check "data plane still answers ICMP ping" nt_exec $P h1 ping -c 1 -W 1 $SFU_DP_IP
out ping3 ping
t_expect_eq "sfu-dpctl ping works again" "$xrc" 0
holders 11 18
refused "all eight dead channels were reclaimed: full again" "Device or resource busy" ping
for i in 11 12 13 14 15 16 17 18; do t_stop "h$i" || true; done
ok=0
for i in $(seq 1 12); do
	out seq ping
	((xrc != 0)) || ok=$((ok + 1))
done
t_expect_eq "12 sequential clients after that all attach (no channel leaks)" $ok 12

t_bg srx nt_exec $P rx "$PEER" recv --bind $RX:6000 --profile gcm --key $K_RXO --count $N \
	--timeout-ms 10000 --seed 7
sleep 0.3
t_check "publisher sends $N SRTP packets" nt_exec $P h1 "$PEER" send --bind $H1:5000 \
	--to $SFU_DP_IP:40000 --profile gcm --key $K_PUB --ssrc 1111 --pt 96 --count $N \
	--rate 2000 --seed 7
t_check "receiver done" t_stop srx 0
f=$LOGDIR/srx.log
t_expect_eq "session set up before the kills: all decrypted" "$(sfu_kv decrypted "$f")" $N
t_expect_eq "... payload byte-identical" "$(sfu_kv payload_ok "$f")" $N
t_expect_eq "... under the consumer's SSRC" "$(sfu_kv ssrc "$f")" 2001
t_expect_eq "... sequence continuous" "$(sfu_kv seq_gaps "$f")" 0

# --- a killed client whose parent has not reaped it yet (a zombie) is dead:
# the data plane must stop sending it PACKET_IN, and its channel must be
# claimable.  Here the killed client is a listener whose parent is a sleep
# that never waits for it; seven holders take the other channels.
t_bg zp bash -c "$DPCTL listen 30 & echo \$! >$LOGDIR/z.pid; exec sleep 30"
t_wait_for "zombie-to-be listener attached" 5 attached zp.log
holders 21 27
zpid=$(cat "$LOGDIR/z.pid")
kill -KILL "$zpid"
t_wait_for "killed listener is a zombie" 3 \
	sh -c "awk '{ print \$3 }' /proc/$zpid/stat | grep -qx Z"
# (|| true on these two: the run goes on to the last checks if they fail.)
t_wait_for "STUN is dropped as no_ctrl_attached within 2.5 s of the kill" 2.5 \
	stun_dropped || true
out zping ping
t_expect_eq "a client gets the channel of a killed, not yet reaped client" "$xrc" 0 || true
for i in 21 22 23 24 25 26 27; do t_stop "h$i" || true; done
t_stop zp >/dev/null 2>&1 || true

# --- a stalled ctrl under a STUN flood must not lock the other clients out:
# PACKET_IN beyond what ctrl can hold is dropped and counted, and the shared
# message pool (msg_pool=2047 here, sfu.sh) keeps room for requests and replies.
t_bg ctl3 sfu_dpctl $P listen 30
t_wait_for "a third listener attached" 5 attached ctl3.log
spid=$(dpctl_pids ctl3)
kill -STOP $spid
t_on_exit sh -c "kill -CONT $spid 2>/dev/null; exit 0"
nt_exec $P h1 bash -c "for ((i = 0; i < 3000; i++)); do
	printf '\x00\x01\x00\x00\x21\x12\xa4\x42txid-0123456' >/dev/udp/$SFU_DP_IP/40000; done"
sleep 0.5
sfu_dpctl $P telemetry /sfu/stats >"$LOGDIR/flood.json" 2>&1 || true
out fping ping
# (|| true: the run goes on to the last checks if this one fails.)
t_expect_eq "while a stopped ctrl is flooded with 3000 STUN, another client still attaches" \
	"exit $xrc: $(cat "$LOGDIR/fping.err")" "exit 0: " || true
kill -CONT $spid
t_wait_for "once ctrl runs again, clients attach again" 3 sfu_dpctl $P ping
t_check "the listener exits 0 on SIGTERM" t_stop ctl3

# --- telemetry
sfu_dpctl $P telemetry /sfu/stats >"$LOGDIR/tel.json" 2>&1 || true
t_check "telemetry /sfu/stats is JSON with rx_packets > 0" python3 -c \
	'import json, sys; d = json.load(open(sys.argv[1]))["/sfu/stats"]; sys.exit(0 if d["rx_packets"] > 0 else 1)' \
	"$LOGDIR/tel.json"

# --- SIGTERM with a secondary still attached
t_bg last sfu_dpctl $P hold 30
t_wait_for "a holder attached" 10 grep -q holding "$LOGDIR/last.log"
t_check "data plane exits 0 on SIGTERM with a secondary attached" t_stop dp
t_check "its hugepage files are gone" \
	sh -c "! ls /dev/hugepages/ | grep -q '^$(sfu_prefix $P)map_'"
t_check "the orphaned holder still ends cleanly" t_stop last
t_end
