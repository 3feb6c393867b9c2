# perf/capacity-lib.sh — the pieces of perf/bench-capacity (sourced by it after
# the tests' libraries): starting the SFU with W workers, one scenario's
# search, the report (tables, JSON, plots, the planning table).
#
#   cap_start_sfu W                 data plane with W workers + sfu-ctrl (admin token)
#   cap_stop_sfu
#   cap_run_scenario W OVER NAME    sfu-pktgen --search; one line to results.jsonl
#   cap_report                      report.md, capacity.json, *.png

# Largest offered output rate a scenario's search may reach (packets/s); the
# room count bound follows from it (and from the admin set-up time it costs).
CAP_MAX_PPS=${CAP_MAX_PPS:-1200000}
CAP_MAX_TRANSPORTS=${CAP_MAX_TRANSPORTS:-1200}
CAP_MAX_CONSUMERS=${CAP_MAX_CONSUMERS:-24000}

# cap_scenario NAME -> "ARGS|PER_ROOM_TRANSPORTS|PER_ROOM_CONSUMERS|OUT_PPS_PER_ROOM"
# Video: ~1200-byte packets; pps = kbps * 1000 / 8 / 1200.  Audio: 50 pps.
cap_scenario() {
	local name=$1 s n kbps
	case $name in
	fanout-1x*)
		s=${name#fanout-1x} kbps=8000
		echo "--publishers 1 --subscribers $s --media video --video-kbps $kbps|$((1 + s))|$s|$(awk -v k=$kbps -v s="$s" 'BEGIN { printf "%d", k * 1000 / 8 / 1200 * s }')"
		;;
	room-*)
		n=${name#room-}
		case $n in 2) kbps=4000 ;; 10) kbps=1500 ;; *) kbps=500 ;; esac
		echo "--room-size $n --media av --video-kbps $kbps|$n|$((n * (n - 1) * 2))|$(awk -v k=$kbps -v n="$n" 'BEGIN { printf "%d", n * (n - 1) * (50 + k * 1000 / 8 / 1200) }')"
		;;
	*) return 1 ;;
	esac
}

# Worker lcores: main on CPU 0 (it idles), workers on CPUs 1.. round robin
# (CPU 0 too when there is only one other); the generator is pinned to CPU 0.
cap_lcores() {
	local w=$1 i l="0@0" ncpu
	ncpu=$(nproc)
	for ((i = 1; i <= w; i++)); do
		if [ "$ncpu" -gt 1 ]; then
			l="$l,$i@$((1 + (i - 1) % (ncpu - 1)))"
		else
			l="$l,$i@0"
		fi
	done
	echo "$l"
}

cap_start_sfu() {
	local w=$1
	local sleep_us=0
	# Production poll mode (no idle sleep), unless a worker shares the generator's CPU.
	[ "$w" -gt $(($(nproc) > 1 ? $(nproc) - 1 : 1)) ] && sleep_us=50
	echo "== data plane with $w worker(s) ($(cap_lcores "$w"), idle_sleep_us=$sleep_us)"
	# Each start writes fresh logs (dp.log, ctrl.log) for the worker count.
	sfu_dp_start $P -s dataplane.lcores="$(cap_lcores "$w")" \
		-s dataplane.port=net_af_packet0,iface=dp0,qpairs="$w" \
		-s dataplane.memory_mb=768 -s dataplane.mbufs=32767 -s dataplane.msg_pool=8191 \
		-s dataplane.max_transports=$((CAP_MAX_TRANSPORTS + 64)) \
		-s dataplane.max_producers=$((CAP_MAX_TRANSPORTS * 2 + 64)) \
		-s dataplane.max_consumers=$((CAP_MAX_CONSUMERS + 256)) \
		-s dataplane.idle_sleep_us=$sleep_us >/dev/null
	sfu_ctrl_start $P -s ctrl.admin_token="$TOKEN" >/dev/null
}

cap_stop_sfu() {
	t_stop ctrl >/dev/null 2>&1 || true
	t_stop dp >/dev/null 2>&1 || true
	sfu_dp_cleanup $P
}

# The data plane's pid (the dp job runs "ip netns exec", which execs it).
cap_dp_pid() {
	local pid
	pid=$(t_pid dp)
	cat /proc/"$pid"/task/*/children 2>/dev/null | awk '{ print $1; exit }' | grep . || echo "$pid"
}

# cap_pktgen LOG args...: sfu-pktgen in the generator namespace, pinned to CPU 0;
# its output in logs/LOG.txt; on failure, says so with the log's tail.
cap_pktgen() {
	local log=$OUT/logs/$1.txt
	shift
	if nt_exec $P gen "$PKTGEN" -l 0 --no-pci --file-prefix "$GEN_PREFIX" -m 256 \
		--vdev net_af_packet0,iface=v-gen -- \
		--admin "https://$SFU_CTRL_IP:8443/admin" --admin-token "$TOKEN" --insecure \
		--ip 198.18.0.11 --prefix-len 24 --sfu-ip "$SFU_DP_IP" --no-progress "$@" >"$log" 2>&1; then
		return 0
	fi
	echo "bench-capacity: sfu-pktgen failed (log: $log):"
	tail -n 5 "$log"
	return 1
}

cap_run_scenario() {
	local w=$1 over=$2 name=$3 spec args per_t per_c per_pps rmax json perf_pid=
	local c0 c1 o0 o1 i0 i1 d0 d1 m0 m1 hz cycles half
	spec=$(cap_scenario "$name") || { echo "bench-capacity: unknown scenario $name" >&2; return 1; }
	IFS='|' read -r args per_t per_c per_pps <<<"$spec"
	rmax=$(awk -v m="$CAP_MAX_PPS" -v p="$per_pps" -v t="$per_t" -v c="$per_c" \
		-v mt="$CAP_MAX_TRANSPORTS" -v mc="$CAP_MAX_CONSUMERS" 'BEGIN {
		r = int(m / p) + 1; if (r * t > mt) r = int(mt / t); if (r * c > mc) r = int(mc / c)
		if (r < 1) r = 1; print r }')
	json=$OUT/logs/$name-w$w.json
	echo "-- $name, $w worker(s): search 1..$rmax rooms ($per_pps pkt/s out per room)"
	o0=$(sfu_stat $P rtp_out)
	i0=$(sfu_stat $P rx_packets)
	c0=$(sfu_stat $P busy_cycles)
	d0=$(sfu_stat $P port_cycles)
	m0=$(sfu_stat $P port_imissed)
	if [ "$CYCLES_SRC" = perf ]; then
		perf stat -x, -e cycles -o "$OUT/logs/$name-w$w.perf" -p "$(cap_dp_pid)" &
		perf_pid=$!
	fi
	# shellcheck disable=SC2086
	if ! cap_pktgen "$name-w$w" --rooms "$rmax" $args --duration "$TRIAL_S" --warmup 1 \
		--auth-sample 16 --search --max-loss 0.001 --retries 1 --max-trials "$MAX_TRIALS" --json "$json"; then
		[ -z "$perf_pid" ] || kill -INT "$perf_pid" 2>/dev/null || true
		return 0
	fi
	o1=$(sfu_stat $P rtp_out)
	i1=$(sfu_stat $P rx_packets)
	c1=$(sfu_stat $P busy_cycles)
	d1=$(sfu_stat $P port_cycles)
	sleep 1.1 # the port's counters are refreshed once a second
	m1=$(sfu_stat $P port_imissed)
	hz=$(sfu_stat $P tsc_hz)
	if [ -n "$perf_pid" ]; then
		kill -INT "$perf_pid" 2>/dev/null || true
		wait "$perf_pid" 2>/dev/null || true
		cycles=$(awk -F, '$3 == "cycles" { print $1 }' "$OUT/logs/$name-w$w.perf")
	else
		cycles=$((c1 - c0))
	fi
	jq -c --arg name "$name" --argjson w "$w" --argjson over "$over" --arg src "$CYCLES_SRC" \
		--argjson cycles "${cycles:-0}" --argjson out "$((o1 - o0))" --argjson rx "$((i1 - i0))" --argjson busy "$((c1 - c0))" --argjson port "$((d1 - d0))" --argjson missed "$((m1 - m0))" --argjson hz "${hz:-0}" \
		--argjson rmax "$rmax" '{scenario: $name, workers: $w, oversubscribed: $over,
		  rooms_max: $rmax, cycles_source: $src, cycles: $cycles, rtp_out: $out, dp_rx_packets: $rx, tsc_hz: $hz,
		  cycles_per_packet: (if $out > 0 then ($cycles / $out) else null end),
		  busy_cycles: $busy, port_cycles: $port, port_imissed: $missed,
		  own_cycles_per_packet: (if $out > 0 then (($busy - $port) / $out) else null end),
		  best: .best, trials: (.trials | length)}' "$json" >>"$OUT/results.jsonl"
	# Latency at half the capacity found (the best trial sits at the knee).
	half=$(jq -r '.best.active_rooms // 0' "$json")
	half=$(((half + 1) / 2))
	if [ "$half" -gt 0 ] && cap_pktgen "$name-w$w-half" --rooms "$half" $args --duration "$TRIAL_S" \
		--warmup 1 --auth-sample 16 --json "$OUT/logs/$name-w$w-half.json"; then
		jq -c --slurpfile h "$OUT/logs/$name-w$w-half.json" '.half = ($h[0] | {active_rooms, rx_pps,
			loss_ratio, latency_us, histogram})' <<<"$(tail -n 1 "$OUT/results.jsonl")" >"$OUT/logs/last.json"
		sed -i '$d' "$OUT/results.jsonl"
		cat "$OUT/logs/last.json" >>"$OUT/results.jsonl"
	fi
	jq -r 'if .best then "   best: \(.best.active_rooms) rooms  \(.best.rx_pps | floor) pkt/s out  " +
		"\(.best.rx_gbps * 100 | round / 100) Gbps  loss \(.best.loss_ratio)  " +
		"p50 \(.best.latency_us.p50) us  p99 \(.best.latency_us.p99) us  " +
		"\(.cycles_per_packet // 0 | round) cycles/pkt (\(.own_cycles_per_packet // 0 | round) outside the port driver)" +
		(if .best.generator_limited then "  (generator-limited)" else "" end) +
		(if .half then "\n   half load (\(.half.active_rooms) rooms): p50 \(.half.latency_us.p50) us  p99 \(.half.latency_us.p99) us" else "" end)
		else "   no trial passed (\(.trials) trials)" end' <<<"$(tail -n 1 "$OUT/results.jsonl")"
}

# c2d-highcpu-8: 8 vCPUs (4 cores x 2 threads, AMD EPYC Milan, 3.05 GHz all-core
# turbo).  Layout: vCPU 0 main lcore + sfu-ctrl + Redis, vCPU 1 sfu-tap, 6 workers.
C2D_VCPUS=8
C2D_WORKERS=${CAP_C2D_WORKERS:-6}
C2D_HZ=${CAP_C2D_HZ:-3050000000}
C2D_GBPS=${CAP_C2D_GBPS:-16}   # the VM's egress bandwidth cap (Gbit/s)
C2D_NIC_CYCLES=${CAP_C2D_NIC_CYCLES:-200}   # a DPDK NIC driver's rx+tx per packet (assumed)

cap_report() {
	local md=$OUT/report.md res=$OUT/results.jsonl
	[ -s "$res" ] || { echo "bench-capacity: no results"; return 1; }
	jq -s --slurpfile janus <(cat "$OUT/janus.json" 2>/dev/null || echo null) \
		--arg cpus "$NCPU" '{cpus: ($cpus | tonumber), scenarios: ., janus: $janus[0]}' \
		"$res" >"$OUT/capacity.json"
	{
		echo "# Capacity report ($(date -u +%Y-%m-%dT%H:%MZ), $NCPU CPUs, $(lscpu | sed -n 's/^Model name: *//p'))"
		echo
		echo "Highest load with < 0.1% loss (sfu-pktgen --search --retries 1, trials of ${TRIAL_S} s); cycles per"
		echo "forwarded packet from $CYCLES_SRC; \"per worker\" = TSC Hz / cycles per packet."
		echo
		echo "| scenario | workers | rooms | out pkt/s | Gbps | loss | p50 / p99 µs | at half load: rooms, p50 / p99 µs | SFU port missed ¹ | cycles/pkt | in the port driver | per worker pkt/s |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
		jq -r '"| \(.scenario) | \(.workers)\(if .oversubscribed then " (oversubscribed)" else "" end) | " +
			(if .best then "\(.best.active_rooms)\(if .best.generator_limited then " (gen-limited)" else "" end) | \(.best.rx_pps | floor) | \(.best.rx_gbps * 1000 | round / 1000) | \(.best.loss_ratio * 1e5 | round / 1e3)% | \(.best.latency_us.p50) / \(.best.latency_us.p99)"
			 else "none passed | | | | " end) +
			" | \(if .half then "\(.half.active_rooms), \(.half.latency_us.p50) / \(.half.latency_us.p99)" else "" end) | \(.port_imissed // "")" +
			" | \(.cycles_per_packet // 0 | round) | \((.cycles_per_packet // 0) - (.own_cycles_per_packet // 0) | round) | \(if (.cycles_per_packet // 0) > 0 then (.tsc_hz / .cycles_per_packet | floor) else "" end) |"' "$res"
		echo
		echo "¹ frames the SFU's port dropped before a worker polled them (rte_eth_stats imissed);"
		echo "  always 0 on net_af_packet, whose DPDK 22.11 driver does not count its ring's drops."
		echo
		cap_janus_table
		echo
		cap_plan_table
	} >"$md"
	cap_plots
	echo
	cat "$md"
	echo
	echo "bench-capacity: report $md, JSON $OUT/capacity.json, plots $OUT/*.png"
}

cap_janus_table() {
	local j=$OUT/janus.json
	echo "## Side by side with Janus 1.1 (perf/janus/compare)"
	echo
	if ! jq -e '.results | length > 0' "$j" >/dev/null 2>&1; then
		echo "(no comparison: see logs/janus.txt)"
		return 0
	fi
	jq -r '"Same clients, same media (audio 50 pkt/s + \(.video_kbps) kbit/s video), \(.window_s) s windows; " +
		"load average \(.loadavg_start) at the start.  Ours: CPU as busy TSC cycles of the data plane " +
		"+ sfu-ctrl (busy), or /proc time (proc); Janus: /proc time of all its threads.\n\n" +
		"| scenario | SFU | packets forwarded | CPU-seconds busy | CPU-seconds /proc | packets per CPU-second | valid |\n" +
		"|---|---|---|---|---|---|---|"' "$j"
	jq -r '.results[] | "| \(.scenario) | \(.sfu) | \(.packets_forwarded) | \(.cpu_seconds.busy // "") | \(.cpu_seconds.proc) | " +
		"\(if .packets_per_cpu_second.busy then "\(.packets_per_cpu_second.busy) (busy), " else "" end)\(.packets_per_cpu_second.proc) (/proc) | \(.valid) |"' "$j"
	echo
	jq -r '.ratio_ours_over_janus[]? | "- \(.scenario): ours / Janus packets per CPU-second = **\(.busy)x** (busy cycles), \(.proc)x (/proc)"' "$j"
}

# Derived, not measured: the W=1 per-worker rate scaled to a c2d-highcpu-8
# (cycles per packet carry over; the clock and worker count change).
cap_plan_table() {
	echo "## Capacity planning: c2d-highcpu-8 ($C2D_VCPUS vCPUs: 1 main lcore + sfu-ctrl + Redis, 1 sfu-tap, $C2D_WORKERS workers)"
	echo
	echo "Derived from the 1-worker rows above; cycles per packet carry over, the clock"
	echo "($((C2D_HZ / 1000000)) MHz) and the worker count change.  Behind a DPDK NIC a worker spends its"
	echo "own cycles (measured: busy cycles outside the port driver) plus the NIC driver's,"
	echo "taken as $C2D_NIC_CYCLES cycles per packet (CAP_C2D_NIC_CYCLES); the conservative column"
	echo "keeps this machine's af_packet driver cost instead.  A node is bounded by the lower of"
	echo "its workers and the VM's $C2D_GBPS Gbit/s egress; a room's load is what its members receive."
	echo
	echo "| scenario | cycles/pkt | per worker pkt/s | node pkt/s | bound | workers to fill egress | out pkt/s per room | rooms per node | participants per node | conservative: participants |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	jq -r --argjson hz "$C2D_HZ" --argjson w "$C2D_WORKERS" --argjson gbps "$C2D_GBPS" --argjson nic "$C2D_NIC_CYCLES" \
		'select(.workers == 1 and (.cycles_per_packet // 0) > 0 and .best) |
		(.scenario | capture("(?<k>fanout-1x|room-)(?<n>[0-9]+)")) as $s |
		(.own_cycles_per_packet + $nic) as $cyc |
		(.best.rx_gbps * 1e9 / 8 / .best.rx_pps) as $bytes | ($gbps * 1e9 / 8 / ($bytes + 24)) as $egress |
		def node($c): ($hz / $c * $w) as $cpu | (if $cpu < $egress then $cpu else $egress end);
		(.best.rx_pps / .best.active_rooms) as $room |
		(if $s.k == "room-" then ($s.n | tonumber) else (($s.n | tonumber) + 1) end) as $people |
		node($cyc) as $node |
		"| \(.scenario) | \($cyc | round) | \($hz / $cyc | floor) | \($node | floor) | " +
		"\(if $hz / $cyc * $w < $egress then "CPU" else "egress" end) | \($egress / ($hz / $cyc) * 10 | ceil / 10) | \($room | floor) | " +
		"\($node / $room | floor) | \($node / $room * $people | floor) | " +
		"\(node(.cycles_per_packet) / $room * $people | floor) |"' \
		"$OUT/results.jsonl"
}

cap_plots() {
	local d=$OUT/logs/plot
	mkdir -p "$d"
	# throughput vs fan-out, one line per worker count
	jq -r 'select(.scenario | startswith("fanout-1x")) | select(.best) |
		"\(.workers) \(.scenario | ltrimstr("fanout-1x")) \(.best.rx_pps)"' "$OUT/results.jsonl" |
		sort -k1,1n -k2,2n >"$d/fanout.dat"
	# throughput vs workers, one line per scenario
	jq -r 'select(.best) | "\(.scenario) \(.workers) \(.best.rx_pps)"' "$OUT/results.jsonl" |
		sort -k1,1 -k2,2n >"$d/workers.dat"
	# latency CDF of each scenario at half its capacity, 1 worker
	: >"$d/cdf.dat"
	jq -r 'select(.workers == 1 and .half and .half.histogram) |
		.scenario as $s | (.half.histogram | map(.[1]) | add) as $n |
		[foreach .half.histogram[] as $b (0; . + $b[1]; "\($s) \($b[0]) \(. / $n)")] |
		.[]' "$OUT/results.jsonl" >"$d/cdf.dat" || true
	cap_plot "$d/fanout.dat" "$OUT/throughput-fanout.png" <<GP
set title "Forwarded packets/s at < 0.1% loss vs fan-out"
set xlabel "subscribers per publisher"
set ylabel "packets/s out"
set logscale x
set xtics (1, 10, 50)
plot for [w in "$(awk '{print $1}' "$d/fanout.dat" | sort -un | tr '\n' ' ')"] "$d/fanout.dat" \
	using (\$1 == real(w) ? \$2 : 1/0):3 with linespoints lw 2 title sprintf("%s worker(s)", w)
GP
	cap_plot "$d/workers.dat" "$OUT/throughput-workers.png" <<GP
set title "Forwarded packets/s at < 0.1% loss vs worker lcores"
set xlabel "worker lcores"
set ylabel "packets/s out"
set xtics 1
plot for [s in "$(awk '{print $1}' "$d/workers.dat" | sort -u | tr '\n' ' ')"] "$d/workers.dat" \
	using (strcol(1) eq s ? \$2 : 1/0):3 with linespoints lw 2 title s
GP
	cap_plot "$d/cdf.dat" "$OUT/latency-cdf.png" <<GP
set title "Forwarding latency CDF at half the capacity found (1 worker)"
set xlabel "latency (µs)"
set ylabel "fraction of packets"
set logscale x
set yrange [0:1]
set key right bottom
plot for [s in "$(awk '{print $1}' "$d/cdf.dat" | sort -u | tr '\n' ' ')"] "$d/cdf.dat" \
	using (strcol(1) eq s ? \$2 : 1/0):3 with steps lw 2 title s
GP
}

# cap_plot DATA PNG < gnuplot commands: one PNG, or a note when there is no data.
cap_plot() {
	local data=$1 png=$2
	if [ ! -s "$data" ]; then
		echo "bench-capacity: no data for $(basename "$png") (no scenario passed)"
		cat >/dev/null
		return 0
	fi
	{
		printf 'set terminal pngcairo size 900,560 noenhanced\nset grid\nset key left top\nset yrange [0:*]\nset output "%s"\n' "$png"
		cat
	} | gnuplot 2>>"$OUT/logs/plot/gnuplot.err" || echo "bench-capacity: gnuplot failed for $png (see $OUT/logs/plot/gnuplot.err)"
}
