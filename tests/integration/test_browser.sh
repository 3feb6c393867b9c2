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
# failure with the command that fixes it, never a silent skip.  The setup
# and the reading of the driver's output are shared with test_firefox.sh
# (tests/lib/browser.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/netns.sh
. tests/lib/sfu.sh
. tests/lib/ctrl.sh
. tests/lib/browser.sh

P=cb
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
SENTENCE=${SFU_TEST_SENTENCE:-"i would like to order a cup of coffee"}
E2E_TIMEOUT_S=${E2E_TIMEOUT_S:-120}

t_begin browser
t_check "chromium is installed (apt-get install chromium)" test -x "$CHROMIUM"
br_require_node_modules playwright-core
br_speech_wav "$SENTENCE"

# Two per room: a third browser page must be told the room is full.
br_start_sfu $P -s ctrl.max_peers_per_room=2

br_run "$LOGDIR/e2e.log" "$E2E_TIMEOUT_S" E2E_ROOM="e2e-$$" E2E_WAV="$LOGDIR/speech.wav" E2E_ROOM_LIMIT=2 \
	E2E_SENTENCE="$SENTENCE" CHROMIUM="$CHROMIUM" tests/browser/e2e.mjs
br_report "$LOGDIR/e2e.log" browser

# The server's side of the caption latency, for comparison with the browser's.
ip netns exec $P-ctrl curl -s http://127.0.0.1:8080/metrics | awk '
	$1 == "sfu_tap_caption_latency_seconds_sum" { s = $2 }
	$1 == "sfu_tap_caption_latency_seconds_count" { n = $2 }
	END { if (n > 0) printf "sfu-tap: tap-to-caption latency %d ms on average over %d captions\n", 1000 * s / n, n }' || true

t_check "ctrl counted captions" sh -c "ip netns exec $P-ctrl curl -s http://127.0.0.1:8080/metrics | grep -q '^sfu_captions_total [1-9]'" || true
t_check "sfu-tap stops cleanly" t_stop tap
t_check "sfu-ctrl stops cleanly" t_stop ctrl
t_end
