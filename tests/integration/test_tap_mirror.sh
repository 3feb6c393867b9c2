#!/usr/bin/env bash
# The tap mirror: decrypted audio RTP of producers with captions on is copied
# to the tap ring (read here with `sfu-dpctl tap-listen`, as sfu-tap reads
# it); producers with captions off and video producers are not mirrored; when
# nobody drains the ring it fills, the rest is dropped and counted as
# tap_ring_full, and forwarding is not slowed or stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/netns.sh
. tests/lib/sfu.sh

P=tm
PEER=$BUILD/tests/sfu-peer
KEY=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbd
KRX=606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d

t_begin tap_mirror
nt_create $P
t_on_exit nt_destroy $P
nt_add_host $P tx 198.18.0.11/24
nt_add_host $P rx 198.18.0.21/24
nt_add_dp $P
# A 64-slot tap ring, so "nobody reads" fills it quickly.
sfu_dp_start $P -s dataplane.ring_size=64

cat >"$LOGDIR/setup.batch" <<EOB
pub = transport-add room=7
transport-bind \$pub 198.18.0.11:5000
transport-keys \$pub cm $KEY $KEY
mic = producer-add \$pub ssrc=5555 pt=111 kind=audio
cam = producer-add \$pub ssrc=6666 pt=96 kind=video tap=1
sub = transport-add room=7
transport-bind \$sub 198.18.0.21:6000
transport-keys \$sub cm $KRX $KRX
c = consumer-add \$sub \$mic ssrc=7777 pt=111
EOB
t_check "plain transports and an audio producer created" \
	sh -c "$BUILD/sfu-dpctl -p $(sfu_prefix $P) batch - < $LOGDIR/setup.batch > $LOGDIR/ids.txt"
id() { awk -v k="$1" '$1 == k { print $3 }' "$LOGDIR/ids.txt"; }
t_wait_for "receiver resolved" 5 sfu_stat_cmp $P neighbors -ge 1

send() { # COUNT SEQ SSRC PT
	nt_exec $P tx "$PEER" send --bind 198.18.0.11:5000 --to $SFU_DP_IP:40000 --profile cm \
		--key $KEY --ssrc "$3" --pt "$4" --count "$1" --seq "$2" --size 100 --rate 1000 \
		--seed 3 >>"$LOGDIR/send.log" 2>&1
}

# Captions off: nothing mirrored.
t_bg tap1 sfu_dpctl $P tap-listen 2
send 50 100 5555 111
t_stop tap1 0 || true
t_expect_eq "captions off: nothing on the tap ring" "$(sfu_kv tap_received "$LOGDIR/tap1.log")" 0

# Captions on: every packet, decrypted, with the producer's own SSRC.
t_check "captions on for the audio producer" sfu_dpctl $P producer-tap "$(id mic)" 1
t_bg tap2 sfu_dpctl $P tap-listen 2
send 50 200 5555 111
send 20 300 6666 96
t_stop tap2 0 || true
t_expect_eq "every audio packet mirrored (video never)" "$(sfu_kv tap_received "$LOGDIR/tap2.log")" 50
t_expect_eq "mirrored packets carry the producer's SSRC" \
	"$(grep -c "ssrc=5555 " "$LOGDIR/tap2.log")" 50
t_check "mirrored payloads are the decrypted plaintext, in order" sh -c \
	"for i in \$(seq 0 49); do grep -q \"seq=\$((200 + i)) payload=\$(printf '%08x' \$i)\" $LOGDIR/tap2.log || exit 1; done"
t_check "mirrored packets name the producer" grep -q "producer=$(id mic) " "$LOGDIR/tap2.log"

# Nobody reads: the ring fills, the rest is counted, forwarding goes on.
t_bg rx nt_exec $P rx "$PEER" recv --bind 198.18.0.21:6000 --profile cm --key $KRX \
	--count 200 --timeout-ms 10000 --size 100 --seed 3
sleep 0.3
send 200 400 5555 111
t_stop rx 0 || true
t_expect_eq "receiver got all 200 while the tap ring was full" \
	"$(sfu_kv payload_ok "$LOGDIR/rx.log")" 200
t_expect_eq "receiver's sequence continuous" "$(sfu_kv seq_gaps "$LOGDIR/rx.log")" 0
t_expect_ge "overflow counted as tap_ring_full" "$(sfu_stat $P drop_tap_ring_full)" 130
t_bg tap3 sfu_dpctl $P tap-listen 1
t_stop tap3 0 || true
t_expect_ge "what fit in the ring is still there for the tap" \
	"$(sfu_kv tap_received "$LOGDIR/tap3.log")" 60
t_check "captions off again" sfu_dpctl $P producer-tap "$(id mic)" 0
t_expect_eq "the message pool got every mirrored message back" \
	"$(sfu_stat $P drop_msg_pool_empty)" 0
t_check "data plane stops cleanly" t_stop dp
t_end
