#!/usr/bin/env bash
# Live captions end to end: a client speaks (an espeak-ng sentence as real
# Opus) with captions on; the audio goes through the real data plane, is
# mirrored to sfu-tap, decoded and recognized, and the caption reaches the
# other participant's session (a `caption` notification) with at least 60% of
# the words.  Once with the embedded recognizer, once with the HTTP backend
# against sfu-sttd.  Faults: sfu-sttd killed mid-stream then restarted ->
# captions resume; sfu-tap killed and restarted -> the call goes on and
# tapping resumes.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/netns.sh
. tests/lib/sfu.sh
. tests/lib/ctrl.sh

P=cp
CLIENT=$BUILD/tests/sfu-client
SENTENCE=${SFU_TEST_SENTENCE:-"i would like to order a cup of coffee"}
STTD_PORT=18011

t_begin captions
nt_create $P
t_on_exit nt_destroy $P
nt_add_host $P ctrl $SFU_CTRL_IP/24
nt_add_host $P a 198.18.0.11/24
nt_add_host $P b 198.18.0.12/24
nt_add_dp $P
sfu_dp_start $P
sfu_ctrl_start $P

# The sentence as 48 kHz mono PCM (what a browser microphone would give Opus).
t_check "espeak-ng speaks the sentence" espeak-ng -v en-us -s 140 -w "$LOGDIR/s.wav" "$SENTENCE"
t_check "sox makes 48 kHz mono PCM" sox "$LOGDIR/s.wav" -r 48000 -c 1 -b 16 -e signed-integer "$LOGDIR/s.raw"

tap_start() { # NAME [-s ...]
	local name=$1
	shift
	t_bg "$name" nt_exec $P ctrl "$BUILD/sfu-tap" -s common.file_prefix="$(sfu_prefix $P)" "$@"
	t_wait_for "sfu-tap ready ($name)" 20 grep -q "sfu-tap: ready" "$LOGDIR/$name.log"
}

# words_ok LOG: the fraction (percent) of the sentence's words in the final captions
words_ok() {
	local got
	got=$(grep '^caption from=alice final=1' "$1" | sed 's/^.* text=//' | tr '_' ' ' | tr 'A-Z' 'a-z')
	python3 - "$SENTENCE" "$got" <<'PY'
import sys
want = sys.argv[1].lower().split()
got = set(sys.argv[2].split())
print(int(100 * sum(1 for w in want if w in got) / len(want)))
PY
}

call() { # TAG SECONDS: alice speaks with captions on, bob listens
	t_bg "alice_$1" nt_exec $P a "$CLIENT" --url "$(sfu_ctrl_url $P)" --insecure --bind-ip 198.18.0.11 \
		--room "cap$1" --name alice --speech "$LOGDIR/s.raw" --captions --duration "$2" --quiet
	t_bg "bob_$1" nt_exec $P b "$CLIENT" --url "$(sfu_ctrl_url $P)" --insecure --bind-ip 198.18.0.12 \
		--room "cap$1" --name bob --duration "$2" --quiet
}

# --- embedded recognizer
tap_start tap1
call emb 9
t_stop alice_emb 0 || true
t_stop bob_emb 0 || true
pct=$(words_ok "$LOGDIR/bob_emb.log")
t_expect_ge "embedded: bob's final captions have >= 60% of the words ($pct%)" "$pct" 60
t_check "embedded: partial captions came before the final" grep -q '^caption from=alice final=0' "$LOGDIR/bob_emb.log"
t_check "ctrl counted the audio stream" sh -c "ip netns exec $P-ctrl curl -s http://127.0.0.1:8080/metrics | grep -q '^sfu_captions_total [1-9]'"
t_check "sfu-tap stops cleanly" t_stop tap1

# --- HTTP backend against sfu-sttd
t_bg sttd nt_exec $P ctrl "$BUILD/sfu-sttd" --port $STTD_PORT --bind 127.0.0.1
t_wait_for "sfu-sttd up" 20 nt_exec $P ctrl curl -sf "http://127.0.0.1:$STTD_PORT/health"
tap_start tap2 -s tap.backend=http -s tap.stt_url=http://127.0.0.1:$STTD_PORT
call http 9
t_stop alice_http 0 || true
t_stop bob_http 0 || true
pct=$(words_ok "$LOGDIR/bob_http.log")
t_expect_ge "http: bob's final captions have >= 60% of the words ($pct%)" "$pct" 60

# --- faults: STT service killed mid-stream and restarted; tap restarted
call fault 22
sleep 3
t_stop sttd KILL || true
sleep 3
t_bg sttd2 nt_exec $P ctrl "$BUILD/sfu-sttd" --port $STTD_PORT --bind 127.0.0.1
t_wait_for "sfu-sttd back" 20 nt_exec $P ctrl curl -sf "http://127.0.0.1:$STTD_PORT/health"
sleep 8
t_stop tap2 KILL || true
tap_start tap3 -s tap.backend=http -s tap.stt_url=http://127.0.0.1:$STTD_PORT
t_stop alice_fault 0 || true
t_stop bob_fault 0 || true
finals=$(grep -c '^caption from=alice final=1' "$LOGDIR/bob_fault.log" || true)
t_expect_ge "captions resumed after the STT restart (finals seen)" "$finals" 1
t_expect_eq "the call went on through it all (bob's audio consumer intact)" \
	"$(grep '^consumer kind=audio' "$LOGDIR/bob_fault.log" | grep -o 'seq_gaps=[0-9]*')" "seq_gaps=0"
t_check "sfu-tap stops cleanly" t_stop tap3
t_end
