#!/usr/bin/env bash
# Flows come and go while traffic runs; every other flow's counts stay exact.
#
# Phases A and B: a flow opened between them counts exactly phase B, one
# closed between them counted exactly phase A.  Phase C: while both
# directions carry traffic at full speed, flows are created, connected and
# closed in a loop; the long-lived flows must count every packet once.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

G=$BUILD/tests
"$G/gen_traffic" mix 11 800 "$T/a.pcap"
"$G/gen_traffic" mix 12 700 "$T/b.pcap"
"$G/gen_traffic" mix 13 2000 "$T/c_in.pcap"
"$G/gen_traffic" mix 14 2000 "$T/c_out.pcap"
REPEAT=60

flowctl_start

# new_flow FILTER: a connected flow with PKT_COUNTER (fid P) and BYTE_COUNTER
# (fid P+1); leaves the descriptor in $FD and the counter fid in $FID.
new_flow() {
	fc_ok create "$MON" || return 1
	FD=$V
	if [ -n "$1" ]; then fc_ok apply "$FD" BPF_FILTER "\"$1\"" || return 1; fi
	fc_ok apply "$FD" PKT_COUNTER || return 1
	FID=$V
	fc_ok apply "$FD" BYTE_COUNTER || return 1
	fc_ok connect "$FD"
}

# expect NAME FD FID PCAP-LIST FILTER: the flow's packets and bytes equal
# libpcap's count over the traces.
expect() {
	local name=$1 fd=$2 fid=$3 traces=$4 filter=$5 p b tp=0 tb=0 t
	for t in $traces; do
		# shellcheck disable=SC2086
		read -r p b < <("$G/pcapstat" "$T/$t" $filter)
		tp=$((tp + p))
		tb=$((tb + b))
	done
	fc_ok read "$fd" "$fid"
	check_eq "$name packets" "$V" "$tp"
	fc_ok read "$fd" $((fid + 1))
	check_eq "$name bytes" "$V" "$tb"
}

send_in() { in_peer "$G/sendpcap" "$PEER" "$T/$1" "${2:-1}" >/dev/null; }

new_flow "" && ALL=$FD ALL_FID=$FID
new_flow "udp" && UDP=$FD UDP_FID=$FID
new_flow "tcp and dst port 80" && WEB=$FD WEB_FID=$FID
new_flow "icmp" && Y=$FD Y_FID=$FID

# Phase A
send_in a.pcap
read -r n _ < <("$G/pcapstat" "$T/a.pcap")
fc_ok wait "$ALL" "$ALL_FID" "$n" 10000
expect "flow closed after phase A (icmp)" "$Y" "$Y_FID" a.pcap icmp
fc_ok close "$Y"
new_flow "udp" && X=$FD X_FID=$FID

# Phase B
send_in b.pcap
read -r m _ < <("$G/pcapstat" "$T/b.pcap")
fc_ok wait "$ALL" "$ALL_FID" $((n + m)) 10000
expect "flow opened before phase B (udp)" "$X" "$X_FID" b.pcap udp

# Phase C: churn during traffic in both directions
send_in c_in.pcap $REPEAT &
sender_in=$!
in_mon "$G/sendpcap" "$MON" "$T/c_out.pcap" $REPEAT >/dev/null &
sender_out=$!
churned=0
busy=0
while kill -0 $sender_in 2>/dev/null || kill -0 $sender_out 2>/dev/null; do
	new_flow "tcp" || break
	fc_ok read "$FD" "$FID"
	[ "${V:-0}" -gt 0 ] && busy=$((busy + 1))
	fc_ok close "$FD"
	churned=$((churned + 1))
done
wait $sender_in $sender_out
echo "  ($churned flows opened and closed during phase C, $busy of them saw traffic)"
[ $busy -ge 3 ] && pass "flows churned while traffic ran" ||
	fail "only $busy churned flows overlapped the traffic"

c_list=""
for _ in $(seq $REPEAT); do c_list="$c_list c_in.pcap c_out.pcap"; done
read -r ci _ < <("$G/pcapstat" "$T/c_in.pcap")
read -r co _ < <("$G/pcapstat" "$T/c_out.pcap")
fc_ok wait "$ALL" "$ALL_FID" $((n + m + REPEAT * (ci + co))) 20000
expect "long-lived flow (all)" "$ALL" "$ALL_FID" "a.pcap b.pcap $c_list" ""
expect "long-lived flow (udp)" "$UDP" "$UDP_FID" "a.pcap b.pcap $c_list" udp
expect "long-lived flow (tcp and dst port 80)" "$WEB" "$WEB_FID" "a.pcap b.pcap $c_list" \
	"tcp and dst port 80"
expect "flow opened before phase B, after phase C" "$X" "$X_FID" "b.pcap $c_list" udp
finish
