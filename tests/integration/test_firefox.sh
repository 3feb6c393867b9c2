#!/usr/bin/env bash
# Firefox end to end: the web client in Debian's firefox-esr, driven over
# WebDriver BiDi by puppeteer-core (tests/browser/firefox.mjs), in a call with
# Debian's chromium (playwright-core) and then with a second Firefox, through
# the real data plane, sfu-ctrl and sfu-tap (tests/lib/browser.sh starts them
# as for test_browser.sh).
#
# Each of firefox.mjs's checks becomes one check here ("ok/FAIL
# firefox/..."); its timing lines are printed.  Screenshots and the
# browsers' console logs land in test-artifacts/browser/firefox/ (beside the
# Chromium suite's), the driver's output in test-artifacts/firefox/.
# Missing firefox-esr, chromium, node or node_modules is a failure with the
# command that fixes it, never a silent skip.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/netns.sh
. tests/lib/sfu.sh
. tests/lib/ctrl.sh
. tests/lib/browser.sh

P=cf
FIREFOX=${FIREFOX:-/usr/bin/firefox-esr}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
SENTENCE=${SFU_TEST_SENTENCE:-"i would like to order a cup of coffee"}
E2E_TIMEOUT_S=${E2E_TIMEOUT_S:-150}

t_begin firefox
t_check "firefox-esr is installed (apt-get install firefox-esr)" test -x "$FIREFOX"
t_check "chromium is installed (apt-get install chromium)" test -x "$CHROMIUM"
br_require_node_modules puppeteer-core playwright-core
br_speech_wav "$SENTENCE"
br_start_sfu $P
# Firefox gathers no ICE candidate at all on a host without a default route
# (not even for the test network it is on): give the ctrl namespace one, to
# the data plane.  Nothing leaves the test network.
t_check "default route in the browsers' namespace (Firefox needs one to gather candidates)" \
	nt_exec $P ctrl ip route add default via $SFU_DP_IP

SHOTS=$(dirname "$LOGDIR")/browser/firefox
rm -rf -- "$SHOTS" && mkdir -p -- "$SHOTS"
started=$(date +%s)
br_run "$LOGDIR/firefox.log" "$E2E_TIMEOUT_S" E2E_ROOM="ff-$$" E2E_WAV="$LOGDIR/speech.wav" E2E_ARTIFACTS="$SHOTS" \
	FIREFOX="$FIREFOX" CHROMIUM="$CHROMIUM" tests/browser/firefox.mjs
echo "firefox.mjs ran for $(($(date +%s) - started)) s; screenshots in $SHOTS"
br_report "$LOGDIR/firefox.log" firefox

t_check "sfu-tap stops cleanly" t_stop tap
t_check "sfu-ctrl stops cleanly" t_stop ctrl
t_end
