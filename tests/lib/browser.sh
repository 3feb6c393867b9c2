# tests/lib/browser.sh — what the browser suites share (sourced after
# harness.sh, netns.sh, sfu.sh and ctrl.sh): their prerequisites, the speech
# WAV, the SFU they call through, running a node driver from
# tests/browser/ inside the ctrl namespace, and turning its output into checks.
#
#   br_require_node_modules MODULE...   check node, node_modules, dist/
#   br_speech_wav SENTENCE              $LOGDIR/speech.wav (48 kHz mono PCM)
#   br_start_sfu P [-s section.key=value]...
#                                       data plane, sfu-ctrl serving the web
#                                       client, sfu-tap; ctrl serves the page
#   br_run LOG TIMEOUT_S [VAR=value]... script.mjs
#                                       node in ${P}-ctrl with a scratch HOME;
#                                       sets br_rc to its exit status
#   br_report LOG TAG                   one check per "ok/FAIL TAG/..." line of
#                                       LOG (with its detail line), "info"
#                                       lines printed, then the summary checked
#
# The browsers run inside the ctrl namespace, so they open
# http://127.0.0.1:8080/ (a secure context) and their UDP reaches the data
# plane's candidate 198.18.0.1:40000 over the test bridge.
BR_WEB=$PWD/ctrl/web

br_require_node_modules() {
	local m files=()
	t_check "node is installed (apt-get install nodejs)" command -v node
	for m in mediasoup-client "$@"; do
		files+=(-a -f "$BR_WEB/node_modules/$m/package.json")
	done
	t_check "the web client's node_modules are installed (cd ctrl/web && npm ci)" test "${files[@]:1}"
	t_check "the web client is built (cd ctrl/web && npm run build)" \
		test -f "$BR_WEB/dist/app.js" -a -f "$BR_WEB/dist/index.html" -a -f "$BR_WEB/dist/style.css"
}

# The sentence as the fake microphone plays it: 16-bit PCM, 48 kHz mono, with
# silence around it so the recognizer ends the utterance (the file loops).
br_speech_wav() {
	t_check "espeak-ng speaks the sentence" espeak-ng -v en-us -s 140 -w "$LOGDIR/sentence.wav" "$1"
	t_check "sox makes the fake microphone's WAV" \
		sox "$LOGDIR/sentence.wav" -r 48000 -c 1 -b 16 -e signed-integer "$LOGDIR/speech.wav" pad 0.5 2.5
}

br_start_sfu() {
	local p=$1
	shift
	BR_P=$p
	nt_create "$p"
	t_on_exit nt_destroy "$p"
	nt_add_host "$p" ctrl "$SFU_CTRL_IP/24"
	nt_add_dp "$p"
	sfu_dp_start "$p"
	sfu_ctrl_start "$p" -s ctrl.web_root="$BR_WEB/dist" "$@"
	t_bg tap nt_exec "$p" ctrl "$BUILD/sfu-tap" -s common.file_prefix="$(sfu_prefix "$p")"
	t_wait_for "sfu-tap ready" 20 grep -q "sfu-tap: ready" "$LOGDIR/tap.log"
	t_check "sfu-ctrl serves the web client" sh -c "ip netns exec $p-ctrl curl -sf http://127.0.0.1:8080/ | grep -q app.js"
}

# br_run LOG TIMEOUT_S [VAR=value]... script: the driver keeps to its own
# timeout (passed as E2E_TIMEOUT_S); the outer one is a backstop.  A scratch
# HOME holds the browsers' own files.
br_run() {
	local log=$1 limit=$2 home
	shift 2
	home=$(mktemp -d /tmp/sfu-br-home.XXXXXX)
	t_on_exit rm -rf -- "$home"
	br_rc=0
	env HOME="$home" TMPDIR="$home" E2E_URL=http://127.0.0.1:8080/ E2E_ARTIFACTS="$LOGDIR" E2E_TIMEOUT_S="$limit" "${@:1:$#-1}" \
		timeout --kill-after=10 $((limit + 30)) \
		ip netns exec "$BR_P-ctrl" node "${@: -1}" >"$log" 2>&1 || br_rc=$?
}

# One check here per check there; a failure carries the driver's detail line.
br_report() {
	local log=$1 tag=$2 line desc='' status='' detail=''
	_br_record() {
		[[ -n $desc ]] || return 0
		if [[ $status == ok ]]; then
			t_expect_eq "$desc" ok ok
		else
			t_expect_eq "$desc" "FAIL: ${detail:-see $(basename "$log")}" ok || true
		fi
		desc='' detail=''
	}
	while IFS= read -r line; do
		if [[ $line =~ ^(ok|FAIL)\ +$tag/(.*)$ ]]; then
			_br_record
			status=${BASH_REMATCH[1]} desc=${BASH_REMATCH[2]}
		elif [[ -n $desc && -z $detail && $line == "    "* ]]; then
			detail=${line#    }
		elif [[ $line == "info "* ]]; then
			echo "${line#info }"
		fi
	done <"$log"
	_br_record
	t_check "$(basename "$log" .log) ran to its summary line" grep -qE "^$tag: [0-9]+ passed, [0-9]+ failed\$" "$log" || true
	t_expect_eq "$(basename "$log" .log) exit status" "$br_rc" 0 || true
}
