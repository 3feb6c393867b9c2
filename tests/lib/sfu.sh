# tests/lib/sfu.sh — starting the real data plane and reading its counters,
# for integration tests (sourced after harness.sh and netns.sh).
#
#   sfu_dp_start P [-s section.key=value]...  data plane in ${P}-dp on dp0,
#                                             198.18.0.1/24, file prefix sfut-P
#   sfu_dpctl P args...                        sfu-dpctl against it
#   sfu_stat P NAME                            one summed counter / gauge (0 if absent)
#   sfu_stat_cmp P NAME OP N                   [ counter OP N ] (OP: -eq -ge -gt ...)
#   sfu_kv KEY FILE                            KEY=value from the last line having it
#   sfu_dp_cleanup P                           remove hugepage/runtime files of P
BUILD=${BUILD:-build}
SFU_DP_IP=198.18.0.1

sfu_prefix() { echo "sfut-$1"; }

sfu_dp_cleanup() {
	local prefix
	prefix=$(sfu_prefix "$1")
	rm -f /dev/hugepages/"${prefix}"map_* 2>/dev/null
	rm -rf /var/run/dpdk/"${prefix}" 2>/dev/null
	return 0
}

sfu_dp_start() {
	local p=$1
	shift
	t_on_exit sfu_dp_cleanup "$p"
	t_bg dp nt_exec "$p" dp "$BUILD/sfu-dataplane" \
		-s common.file_prefix="$(sfu_prefix "$p")" \
		-s dataplane.port=net_af_packet0,iface=dp0 \
		-s dataplane.ip=$SFU_DP_IP -s dataplane.prefix_len=24 \
		-s dataplane.memory_mb=256 -s dataplane.mbufs=8191 -s dataplane.msg_pool=2047 \
		-s dataplane.max_transports=256 -s dataplane.max_producers=512 \
		-s dataplane.max_consumers=2048 \
		-s dataplane.idle_sleep_us=50 -s dataplane.lcores=0@0,1@1 "$@"
	t_wait_for "data plane ready" 20 grep -q "sfu-dataplane: ready" "$LOGDIR/dp.log"
}

sfu_dpctl() {
	local p=$1
	shift
	"$BUILD/sfu-dpctl" -p "$(sfu_prefix "$p")" "$@"
}

sfu_stat() {
	sfu_dpctl "$1" stats all | awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }'
}

sfu_stat_cmp() {
	[ "$(sfu_stat "$1" "$2")" "$3" "$4" ]
}

sfu_kv() {
	grep -o "\b$1=[0-9]*" "$2" | tail -n 1 | cut -d= -f2
}
