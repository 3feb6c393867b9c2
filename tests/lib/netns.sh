# tests/lib/netns.sh — the integration tests' network, sourced by test scripts.
#
# One "switch" namespace ${P}-sw holds a Linux bridge br0; every test host and
# every data plane gets its own namespace, joined to br0 by a veth pair:
#
#   ${P}-NAME  [v-NAME] ===veth=== [b-NAME] br0 (in ${P}-sw) [b-dp] ===veth=== [dp0]  ${P}-dp
#
# Interface names live inside the test's own namespaces, so tests running side by
# side never collide and the machine's own interfaces are never touched.  P is a
# short test prefix (<= 6 characters); NAME is <= 13 so "v-NAME" fits in 15.
#
# The network is IPv4 only (198.18.0.0/15, RFC 2544) and quiet: IPv6 is off on
# every test interface (no router solicitations, DAD or MLD reach the data plane);
# loopback keeps ::1.  Checksum and segmentation offloads are turned off on both
# ends of every veth: a veth otherwise hands over UDP packets whose checksum the
# sender left unfinished, which the kernel accepts but net_af_packet passes to
# DPDK as they are (that needs ethtool, Debian package "ethtool").
#
# Functions return 0, or 1 after a message on stderr; they do not change the
# caller's shell options and work with or without set -e.  nt_destroy removes only
# namespaces this shell created (listed in _nt_created).
#
#   nt_create P                    switch namespace with br0
#   nt_add_host P NAME IP/LEN [GW] host namespace ${P}-NAME, interface v-NAME
#   nt_add_dp P [NAME]             data plane namespace ${P}-NAME (default dp),
#                                  interface dp0 without an address
#   nt_exec P NAME cmd...          run cmd in ${P}-NAME
#   nt_steer P NAME CPUS           the kernel work for frames NAME sends (bridging,
#                                  delivery to the receivers' sockets) runs on CPUS
#                                  (a list like "0" or "0,2"; RPS on b-NAME), not
#                                  inline in NAME's send call: as a NIC hands the
#                                  wire to another machine.  For benchmarks.
#   nt_destroy P                   stop what runs in them, delete them (idempotent)

declare -p _nt_created >/dev/null 2>&1 || _nt_created=()
_nt_ethtool_warned=0

_nt_err() {
	echo "netns: $*" >&2
	return 1
}

_nt_check_prefix() {
	[[ $1 =~ ^[a-z0-9]{1,6}$ ]] ||
		_nt_err "prefix '$1': want 1-6 characters of a-z 0-9"
}

_nt_check_name() {
	[[ $1 =~ ^[a-z0-9]{1,13}$ && $1 != sw ]] ||
		_nt_err "name '$1': want 1-13 characters of a-z 0-9, not 'sw'"
}

# Add a namespace and remember it for nt_destroy.  New interfaces in it start
# with IPv6 off (net.ipv6.conf.default); lo keeps its ::1.
_nt_ns_add() {
	local ns=$1
	ip netns add "$ns" || return 1
	_nt_created+=("$ns")
	ip -n "$ns" link set lo up &&
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 >/dev/null
}

# Quiet one interface of a namespace: IPv6 off, offloads off.
_nt_if_quiet() {
	local ns=$1 ifname=$2
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifname.disable_ipv6=1" >/dev/null ||
		return 1
	if ! command -v ethtool >/dev/null 2>&1; then
		if ((!_nt_ethtool_warned)); then
			echo "netns: ethtool not installed (Debian package ethtool): veth offloads" \
				"stay on; a DPDK port on net_af_packet will see unfinished UDP checksums" >&2
			_nt_ethtool_warned=1
		fi
		return 0
	fi
	ip netns exec "$ns" ethtool -K "$ifname" tx off rx off tso off gso off gro off \
		>/dev/null 2>&1 || _nt_err "ethtool -K $ifname in $ns failed"
}

# Create a veth pair: bridge end b-NAME enslaved to br0 in ${P}-sw, other end
# IFNAME in namespace NS, both quiet; the bridge end is brought up.
_nt_link() {
	local p=$1 name=$2 ns=$3 ifname=$4 sw="$1-sw"
	ip -n "$sw" link add "b-$name" type veth peer name "$ifname" netns "$ns" || return 1
	_nt_if_quiet "$sw" "b-$name" && _nt_if_quiet "$ns" "$ifname" &&
		ip -n "$sw" link set "b-$name" master br0 up
}

_nt_need_switch() {
	[[ " ${_nt_created[*]} " == *" $1-sw "* ]] || _nt_err "no network '$1' (nt_create $1 first)"
}

nt_create() {
	local p=$1 sw="$1-sw" stale
	_nt_check_prefix "$p" || return 1
	stale=$(ip netns list | awk -v p="$p-" 'index($1, p) == 1 { print $1 }')
	[[ -z $stale ]] || _nt_err "namespaces already exist: ${stale//$'\n'/ }" \
		"(left by a run that was killed? remove them with: ip netns del NAME)" || return 1
	_nt_ns_add "$sw" || return 1
	# No STP: a test bridge forwards at once.
	ip -n "$sw" link add br0 type bridge stp_state 0 forward_delay 0 &&
		_nt_if_quiet "$sw" br0 && ip -n "$sw" link set br0 up
}

nt_add_host() {
	local p=$1 name=$2 cidr=$3 gw=${4-} ns="$1-$2"
	_nt_check_name "$name" && _nt_need_switch "$p" || return 1
	[[ $cidr =~ ^[0-9.]+/[0-9]+$ ]] || _nt_err "address '$cidr': want IP/LEN" || return 1
	_nt_ns_add "$ns" &&
		_nt_link "$p" "$name" "$ns" "v-$name" &&
		ip -n "$ns" addr add "$cidr" dev "v-$name" &&
		ip -n "$ns" link set "v-$name" up || return 1
	[[ -z $gw ]] || ip -n "$ns" route add default via "$gw"
}

nt_add_dp() {
	local p=$1 name=${2:-dp} ns="$1-${2:-dp}"
	_nt_check_name "$name" && _nt_need_switch "$p" || return 1
	_nt_ns_add "$ns" &&
		_nt_link "$p" "$name" "$ns" dp0 &&
		ip -n "$ns" link set dp0 up
}

nt_exec() {
	local ns="$1-$2"
	shift 2
	ip netns exec "$ns" "$@"
}

nt_steer() {
	local p=$1 name=$2 cpus=$3 mask=0 c
	_nt_need_switch "$p" || return 1
	for c in ${cpus//,/ }; do
		[[ $c =~ ^[0-9]+$ ]] && ((c < 64)) || _nt_err "nt_steer: CPU '$c'" || return 1
		mask=$((mask | (1 << c)))
	done
	ip netns exec "$p-sw" sh -c "printf '%x' $mask >/sys/class/net/b-$name/queues/rx-0/rps_cpus"
}

# Delete, newest first, the namespaces this shell created for P.  Processes still
# inside one (all started by this test) get SIGTERM, then SIGKILL after 2 s, by
# pid: a namespace with a live process would outlive its "ip netns del".
nt_destroy() {
	local p=$1 i ns pids=() left=() rc=0 try
	for ((i = ${#_nt_created[@]} - 1; i >= 0; i--)); do
		ns=${_nt_created[i]}
		if [[ $ns != "$p-"* ]]; then
			left=("$ns" "${left[@]}")
			continue
		fi
		mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
		if ((${#pids[@]} > 0)); then
			kill -TERM "${pids[@]}" 2>/dev/null
			for ((try = 0; try < 20; try++)); do
				mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
				((${#pids[@]} > 0)) || break
				sleep 0.1
			done
			((${#pids[@]} == 0)) || kill -KILL "${pids[@]}" 2>/dev/null
		fi
		if ip netns list | awk '{ print $1 }' | grep -qxF -- "$ns"; then
			ip netns del "$ns" || rc=1
		fi
	done
	_nt_created=("${left[@]}")
	return "$rc"
}
