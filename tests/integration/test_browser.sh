#!/usr/bin/env bash
# Browser end to end: two Chromium instances (Debian's chromium driven by
# playwright-core, tests/browser/e2e.mjs) use the real web client served by
# sfu-ctrl, through the real data plane and sfu-tap with the embedded
# recognizer.  The browsers run inside the ctrl namespace, so they open
# http://127.0.0.1:8080/ (a secure context) and their UDP reaches the data
# plane's candidate 198.18.0.1:40000 over the test bridge.
#
# Each of e2e.mjs's checks becomes one check here ("ok/FAIL browser/..."); its
# timing lines (join-to-first-frame, speech-to-caption) are printed as they
# are.  Screenshots and the browsers' console logs land in
# test-artifacts/browser/.  Missing Chromium, node or node_modules is a
# failure with the command that fixes it, never a silent skip.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/netns.sh
. tests/lib/sfu.sh
. tests/lib/ctrl.sh

P=cb
WEB=$PWD/ctrl/web
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
SENTENCE=${SFU_TEST_SENTENCE:-"i would like to order a cup of coffee"}
E2E_TIMEOUT_S=${E2E_TIMEOUT_S:-120}

t_begin browser
t_check "chromium is installed (apt-get install chromium)" test -x "$CHROMIUM"
t_check "node is installed (apt-get install nodejs)" command -v node
t_check "the web client's node_modules are installed (cd ctrl/web && npm ci)" \
	test -f "$WEB/node_modules/playwright-core/package.json" -a -f "$WEB/node_modules/mediasoup-client/package.json"
t_check "the web client is built (cd ctrl/web && npm run build)" \
	test -f "$WEB/dist/app.js" -a -f "$WEB/dist/index.html" -a -f "$WEB/dist/style.css"

# The sentence as Chromium's fake microphone plays it: 16-bit PCM, 48 kHz
# mono, with silence around it so the recognizer ends the utterance (the file
# loops).
t_check "espeak-ng speaks the sentence" espeak-ng -v en-us -s 140 -w "$LOGDIR/sentence.wav" "$SENTENCE"
t_check "sox makes the fake microphone's WAV" \
	sox "$LOGDIR/sentence.wav" -r 48000 -c 1 -b 16 -e signed-integer "$LOGDIR/speech.wav" pad 0.5 2.5

nt_create $P
t_on_exit nt_destroy $P
nt_add_host $P ctrl $SFU_CTRL_IP/24
nt_add_dp $P
sfu_dp_start $P
# Two per room: a third browser page must be told the room is full.
sfu_ctrl_start $P -s ctrl.web_root="$WEB/dist" -s ctrl.max_peers_per_room=2
t_bg tap nt_exec $P ctrl "$BUILD/sfu-tap" -s common.file_prefix="$(sfu_prefix $P)"
t_wait_for "sfu-tap ready" 20 grep -q "sfu-tap: ready" "$LOGDIR/tap.log"
t_check "sfu-ctrl serves the web client" sh -c "ip netns exec $P-ctrl curl -sf http://127.0.0.1:8080/ | grep -q app.js"

# The browsers.  A scratch HOME for Chromium's own files; e2e.mjs keeps to
# its timeout (the outer one is a backstop).
CHROME_HOME=$(mktemp -d /tmp/sfu-e2e-home.XXXXXX)
t_on_exit rm -rf -- "$CHROME_HOME"
rc=0
HOME=$CHROME_HOME E2E_URL=http://127.0.0.1:8080/ E2E_ROOM="e2e-$$" E2E_WAV="$LOGDIR/speech.wav" E2E_ROOM_LIMIT=2 \
	E2E_SENTENCE="$SENTENCE" E2E_ARTIFACTS="$LOGDIR" CHROMIUM="$CHROMIUM" E2E_TIMEOUT_S="$E2E_TIMEOUT_S" \
	timeout --kill-after=10 $((E2E_TIMEOUT_S + 30)) \
	ip netns exec $P-ctrl node tests/browser/e2e.mjs >"$LOGDIR/e2e.log" 2>&1 || rc=$?

# One check here per check there; a failure carries e2e.mjs's detail line.
desc='' status='' detail=''
record() {
	[[ -n $desc ]] || return 0
	if [[ $status == ok ]]; then
		t_expect_eq "$desc" ok ok
	else
		t_expect_eq "$desc" "FAIL: ${detail:-see e2e.log}" ok || true
	fi
	desc='' detail=''
}
while IFS= read -r line; do
	if [[ $line =~ ^(ok|FAIL)\ +browser/(.*)$ ]]; then
		record
		status=${BASH_REMATCH[1]} desc=${BASH_REMATCH[2]}
	elif [[ -n $desc && -z $detail && $line == "    "* ]]; then
		detail=${line#    }
	elif [[ $line == "info "* ]]; then
		echo "${line#info }"
	fi
done <"$LOGDIR/e2e.log"
record

# The server's side of the caption latency, for comparison with the browser's.
ip netns exec $P-ctrl curl -s http://127.0.0.1:8080/metrics | awk '
	$1 == "sfu_tap_caption_latency_seconds_sum" { s = $2 }
	$1 == "sfu_tap_caption_latency_seconds_count" { n = $2 }
	END { if (n > 0) printf "sfu-tap: tap-to-caption latency %d ms on average over %d captions\n", 1000 * s / n, n }' || true

t_check "e2e.mjs ran to its summary line" grep -qE '^browser: [0-9]+ passed, [0-9]+ failed$' "$LOGDIR/e2e.log"
t_expect_eq "e2e.mjs exit status" "$rc" 0 || true
t_check "ctrl counted captions" sh -c "ip netns exec $P-ctrl curl -s http://127.0.0.1:8080/metrics | grep -q '^sfu_captions_total [1-9]'" || true
t_check "sfu-tap stops cleanly" t_stop tap
t_check "sfu-ctrl stops cleanly" t_stop ctrl
t_end
