#!/usr/bin/env bash
# Transport and process lifecycle in sfu-ctrl:
#  - ICE consent (RFC 7675): a browser that stops its consent checks while its
#    WebSocket stays open has its transports closed (told transportClosed) and
#    removed from the data plane once consent lapses (ctrl.ice_consent_ms,
#    3 s here instead of 30);
#  - SIGTERM drains: peers in calls are told serverShutdown, a new join gets
#    DRAINING (retryable), and once the drain time is over everything is torn
#    down in the data plane and ctrl exits 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/netns.sh
. tests/lib/sfu.sh
. tests/lib/ctrl.sh

P=lc
CLIENT=$BUILD/tests/sfu-client

t_begin lifecycle
nt_create $P
t_on_exit nt_destroy $P
nt_add_host $P ctrl $SFU_CTRL_IP/24
nt_add_host $P a 198.18.0.11/24
nt_add_host $P b 198.18.0.12/24
nt_add_dp $P
sfu_dp_start $P
sfu_ctrl_start $P -s ctrl.ice_consent_ms=3000 -s ctrl.drain_ms=3000

dp_transports() { "$BUILD/sfu-dpctl" -p "$(sfu_prefix $P)" stats | awk '$1=="transports"{print $2}'; }
field() { grep "^$2" "$LOGDIR/$1.log" | grep -o "\b$3=[^ ]*" | head -n 1 | cut -d= -f2; }

# --- consent
t_bg frank nt_exec $P a "$CLIENT" --url "$(sfu_ctrl_url $P)" --insecure --bind-ip 198.18.0.11 \
	--room consent --name frank --audio --duration 9 --stop-consent-after 1 --quiet
t_wait_for "frank's transports are up" 5 sfu_stat_cmp $P transports -eq 2
t_wait_for "consent lapsed: his transports left the data plane (WebSocket still open)" 8 \
	sfu_stat_cmp $P transports -eq 0
t_check "frank is still in the room" sh -c \
	"ip netns exec $P-ctrl curl -s http://127.0.0.1:8080/stats | grep -q '\"peers\":1'"
t_check "frank finished" t_stop frank 0
t_expect_eq "frank was told both transports closed" "$(field frank summary transports_closed)" 2
t_check "ctrl counted the lapsed consent" sh -c \
	"ip netns exec $P-ctrl curl -s http://127.0.0.1:8080/metrics | awk '\$1==\"sfu_ice_consent_expired_total\" && \$2>=2' | grep -q ."

# --- drain
t_bg gina nt_exec $P b "$CLIENT" --url "$(sfu_ctrl_url $P)" --insecure --bind-ip 198.18.0.12 \
	--room drain --name gina --audio --video --duration 10 --quiet
t_wait_for "gina's call is up" 5 sfu_stat_cmp $P transports -eq 2
kill -TERM -- "-$(t_pid ctrl)"  # the ctrl job's process group, by pid
sleep 0.5
printf '%s\n' '{"id":1,"method":"join","data":{"roomId":"late","displayName":"late"}}' |
	nt_exec $P a "$BUILD/tests/sfu-wsprobe" --url "$(sfu_ctrl_url $P)" --insecure --idle-ms 500 \
	>"$LOGDIR/late.out" 2>&1 || true
t_check "a join while draining gets DRAINING" grep -q '"code":"DRAINING"' "$LOGDIR/late.out"
t_check "ctrl exits 0 after the drain" t_stop ctrl 0
t_stop gina 0 || true  # the client exits 1: the server closed its WebSocket
t_check "gina saw the server close her session" grep -q "code=CLOSED" "$LOGDIR/gina.log"
t_expect_ge "gina was told the server is shutting down" "$(field gina summary other_notifications)" 1
t_expect_eq "the data plane has nothing left" "$(dp_transports)" 0
t_end
