# tests/lib/ctrl.sh — starting sfu-ctrl next to the test data plane (sourced
# after sfu.sh).  sfu-ctrl runs in the host namespace ${P}-ctrl (198.18.0.2),
# a DPDK secondary of the data plane (same file prefix), its TLS files in the
# suite's log directory.
#   sfu_ctrl_start P [-s section.key=value]...
#   sfu_ctrl_url P            wss URL for clients in other namespaces
#   sfu_ctrl_get P PATH       HTTP GET on the ctrl's loopback port (PATH: /health ...)
SFU_CTRL_IP=198.18.0.2

sfu_ctrl_start() {
	local p=$1
	shift
	t_bg ctrl nt_exec "$p" ctrl "$BUILD/sfu-ctrl" -s common.file_prefix="$(sfu_prefix "$p")" \
		-s ctrl.tls_cert="$LOGDIR/tls-cert.pem" -s ctrl.tls_key="$LOGDIR/tls-key.pem" "$@"
	t_wait_for "sfu-ctrl ready" 15 grep -q "sfu-ctrl: ready" "$LOGDIR/ctrl.log"
}

sfu_ctrl_url() { echo "wss://$SFU_CTRL_IP:8443/ws"; }

sfu_ctrl_get() {
	nt_exec "$1" ctrl curl -s --max-time 5 "http://127.0.0.1:8080$2"
}
