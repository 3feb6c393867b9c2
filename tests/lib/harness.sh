# tests/lib/harness.sh — a small harness for integration tests, sourced by them.
#
#   . tests/lib/harness.sh
#   t_begin fwd                        # suite "fwd", logs in test-artifacts/fwd/
#   nt_create fw; t_on_exit nt_destroy fw
#   t_bg dp nt_exec fw dp build/sfu-dataplane ...   # output in $LOGDIR/dp.log
#   t_wait_for "data plane up" 10 grep -q ready "$LOGDIR/dp.log"
#   t_check "ping" nt_exec fw h1 ping -c1 -W1 198.18.0.10
#   t_expect_eq "payload intact" "$payload_ok" 200
#   t_check "data plane exits 0 on SIGTERM" t_stop dp
#   t_end
#
# Each check prints "ok   SUITE/description" or "FAIL SUITE/description" (then the
# tail of the command's output) and returns 0 or 1.  Under set -e the first failing
# check therefore ends the run; append "|| true" to go on after it.  However the run
# ends, the cleanups run (newest first, background processes included) and the last
# line is "SUITE: N passed, N failed"; the exit status is 1 if anything failed,
# including a run that ended before t_end.  Call these from the test's main shell,
# not from a subshell or $(...): the counters and pids live in its variables.
# t_begin sets the EXIT, INT, TERM and ERR traps (ERR only notes the failing line).

# t_begin SUITE: counters, a fresh log directory $LOGDIR, the exit trap.
t_begin() {
	[[ ${1-} =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] || {
		echo "t_begin: suite name '${1-}': want letters, digits, _ . -" >&2
		return 1
	}
	T_SUITE=$1
	T_PASSED=0
	T_FAILED=0
	LOGDIR=$(realpath -m -- "${T_ARTIFACTS:-test-artifacts}/$T_SUITE")
	rm -rf -- "$LOGDIR" && mkdir -p -- "$LOGDIR" || return 1
	_t_cleanups=()
	declare -gA _t_pids=()
	_t_ended=0
	_t_last_err=
	trap '_t_last_err="line $LINENO: $BASH_COMMAND"' ERR
	trap _t_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# Record one result: _t_result STATUS DESCRIPTION [DETAIL-FILE | -m MESSAGE].
_t_result() {
	if (($1 == 0)); then
		echo "ok   $T_SUITE/$2"
		T_PASSED=$((T_PASSED + 1))
		return 0
	fi
	echo "FAIL $T_SUITE/$2"
	T_FAILED=$((T_FAILED + 1))
	if [[ ${3-} == -m ]]; then
		echo "    ${4-}"
	elif [[ -n ${3-} ]]; then
		tail -n 15 -- "$3" | sed 's/^/    /'
	fi
	return 1
}

# Run cmd; its output goes to $LOGDIR/checks.log and, on failure, its tail to stdout.
t_check() {
	local desc=$1 out=$LOGDIR/.check.out rc=0
	shift
	"$@" >"$out" 2>&1 </dev/null || rc=$?
	{
		echo "== $desc: $* (exit $rc)"
		cat -- "$out"
	} >>"$LOGDIR/checks.log"
	_t_result "$rc" "$desc" "$out"
}

# t_expect_eq DESC ACTUAL EXPECTED (strings); t_expect_ge / t_expect_le DESC ACTUAL
# BOUND (integers; anything else fails).  The if keeps set -e out of the test.
t_expect_eq() {
	local rc=1
	if [[ $2 == "$3" ]]; then rc=0; fi
	_t_result "$rc" "$1" -m "got '$2', expected '$3'"
}

# _t_cmp_int DESC ge|le ACTUAL BOUND
_t_cmp_int() {
	local rc=1 int='^-?[0-9]+$' want="at least"
	[[ $2 == ge ]] || want="at most"
	if [[ $3 =~ $int && $4 =~ $int ]]; then
		case $2 in
		ge) (($3 >= $4)) && rc=0 ;;
		le) (($3 <= $4)) && rc=0 ;;
		esac
	fi
	_t_result "$rc" "$1" -m "got '$3', expected $want '$4'"
}

t_expect_ge() { _t_cmp_int "$1" ge "$2" "$3"; }
t_expect_le() { _t_cmp_int "$1" le "$2" "$3"; }

# t_wait_for DESC TIMEOUT_S cmd...: run cmd every 0.1 s until it succeeds, at most
# TIMEOUT_S seconds (tenths allowed: 2.5) and TIMEOUT_S * 10 + 1 tries.
t_wait_for() {
	local desc=$1 limit=$2 out=$LOGDIR/.check.out tries i now end
	shift 2
	[[ $limit =~ ^([0-9]+)(\.([0-9]))?$ ]] || {
		_t_result 1 "$desc" -m "t_wait_for: timeout '$limit' is not N or N.N seconds"
		return 1
	}
	tries=$((10#${BASH_REMATCH[1]} * 10 + ${BASH_REMATCH[3]:-0}))
	end=$((${EPOCHREALTIME//[!0-9]/} + tries * 100000))
	for ((i = 0; i <= tries; i++)); do
		if "$@" >"$out" 2>&1 </dev/null; then
			_t_result 0 "$desc"
			return 0
		fi
		now=${EPOCHREALTIME//[!0-9]/}
		((now < end)) || break
		sleep 0.1
	done
	_t_result 1 "$desc" -m "not true after $limit s: $*"
	tail -n 5 -- "$out" | sed 's/^/    /'
	return 1
}

# t_on_exit cmd...: run cmd when the test ends (newest first).
t_on_exit() {
	_t_cleanups+=("$(printf '%q ' "$@")")
}

# True if pid is a child of this shell that has not been reaped.
_t_is_child() {
	local stat fields
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	read -r -a fields <<<"${stat##*) }" # state ppid pgrp ...
	[[ ${fields[1]} == "$$" ]]
}

# t_bg NAME cmd...: start cmd (a program or a shell function such as nt_exec) in
# the background, in a process group of its own, output to $LOGDIR/NAME.log.
# The group is stopped at exit unless t_stop stopped it before.
t_bg() {
	local name=$1 pid had_m=0
	shift
	[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || {
		echo "t_bg: name '$name': want letters, digits, _ . -" >&2
		return 1
	}
	[[ -z ${_t_pids[$name]-} ]] || {
		echo "t_bg: '$name' is already running (pid ${_t_pids[$name]})" >&2
		return 1
	}
	[[ $- == *m* ]] && had_m=1
	# Job control gives the job its own process group, so t_stop reaches a
	# function's children too.  The subshell defers SIGINT/SIGTERM until its
	# command ends, so the status t_stop returns is the command's own.
	set -m
	(
		trap : INT TERM
		"$@"
	) >"$LOGDIR/$name.log" 2>&1 </dev/null &
	pid=$!
	((had_m)) || set +m
	_t_pids[$name]=$pid
	t_on_exit _t_reap "$name" "$pid"
}

t_pid() {
	[[ -n ${_t_pids[$1]-} ]] || return 1
	echo "${_t_pids[$1]}"
}

# t_stop NAME [SIG]: send SIG (default TERM) to NAME's process group, wait up to
# 10 s, then SIGKILL; returns the exit status of the command (128+N if signal N
# ended it).
t_stop() {
	local name=$1 sig=${2:-TERM} pid i rc=0
	pid=${_t_pids[$name]-}
	[[ -n $pid ]] || {
		echo "t_stop: no process '$name' running" >&2
		return 127
	}
	unset "_t_pids[$name]"
	if _t_is_child "$pid"; then
		kill -s "$sig" -- "-$pid" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			kill -0 -- "-$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 -- "-$pid" 2>/dev/null; then
			echo "t_stop: $name (pid $pid) still running 10 s after SIG$sig: SIGKILL" >&2
			kill -s KILL -- "-$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

# Cleanup entry made by t_bg: stop NAME if it is still that same process.
_t_reap() {
	[[ ${_t_pids[$1]-} == "$2" ]] || return 0
	t_stop "$1" || true
}

# t_end: finish; the exit trap runs the cleanups, then prints the summary.
t_end() {
	_t_ended=1
	exit 0
}

_t_exit() {
	local rc=$? i
	trap '' INT TERM
	trap - ERR
	set +e
	for ((i = ${#_t_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_t_cleanups[i]}" || echo "cleanup failed: ${_t_cleanups[i]}" >&2
	done
	rm -f -- "$LOGDIR/.check.out"
	if ((!_t_ended)); then
		echo "FAIL $T_SUITE/run ended before t_end (exit status $rc${_t_last_err:+, $_t_last_err})"
		T_FAILED=$((T_FAILED + 1))
	fi
	echo "$T_SUITE: $T_PASSED passed, $T_FAILED failed"
	((T_FAILED == 0)) || exit 1
	exit 0
}
