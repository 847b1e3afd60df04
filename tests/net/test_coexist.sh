#!/usr/bin/env bash
# mapi-bpf on an interface it does not have to itself.
#
#  1. Someone else's XDP program runs first: a firewall that drops UDP to
#     port 9 (bpf/drop_udp9.bpf.c, attached with `ip link set dev X xdp
#     obj`).  Received packets are then taken at tc ingress (tcx), after it;
#     a flow counts exactly what it passes: the frames sent, less those it
#     drops, and tcpdump's count of the same traffic.  Demanding an XDP mode
#     fails with a message naming that program.
#  2. Three applications at once with no daemon: flowctl's flow takes XDP,
#     `mapi count` and the seed's packet_count take tc ingress beside it;
#     every count equals what was sent and what tcpdump saw.
#
# Nothing stays attached after either part but what the test attached.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

"$BUILD/tests/gen_traffic" mix 51 1200 "$T/in-mix.pcap" no-vlan
"$BUILD/tests/gen_traffic" worm-one 52 300 "$T/in-9.pcap" 9
"$BUILD/tests/gen_traffic" mix 53 700 "$T/out-mix.pcap" no-vlan
"$BUILD/tests/gen_traffic" worm-one 54 200 "$T/out-9.pcap" 9
send_all() { traces_send in-mix in-9 -- out-mix out-9; }

state() { in_mon "$BUILD/tests/hookstate" "$MON"; }

echo "1. after a foreign XDP program"
in_mon ip link set dev "$MON" xdp obj "$BUILD/bpf/drop_udp9.bpf.o" sec xdp
read -r foreign_state < <(state)
check_match "the firewall runs in XDP" "$foreign_state" "^xdp=[1-9][0-9]* tcx_ingress=0 tcx_egress=0$"
foreign_id=${foreign_state#xdp=}
foreign_id=${foreign_id%% *}

flowctl_start
fc_ok create "$MON"
fdn=$V
fc_ok apply "$fdn" PKT_COUNTER
fc_ok mode "$fdn" native require
fc connect "$fdn"
check_match "native XDP demanded: refused, naming the program" "$R" \
	"^err 10003 $MON already runs XDP program id $foreign_id, which this process did not attach.*native XDP cannot be demanded"
check_eq "and nothing of it attached" "$(state)" "$foreign_state"
fc_ok close "$fdn"
fc_counter "$MON"
fd=$FC_FD pkts=$FC_PKTS bytes=$FC_BYTES
fc_counter "$MON" "udp dst port 9"
fd9=$FC_FD pkts9=$FC_PKTS
fc_ok info "$fd"
check_match "received packets at tc ingress, sent at tc egress" "$V" "mode_in=tcx mode_out=tcx"
check_match "the fallback is logged with its reason" "$(cat "$T/flowctl.err")" \
	"XDP program id $foreign_id, not this process's.*tc ingress \\(tcx\\), after it"
check_eq "the firewall still runs, and mapi-bpf beside it" "$(state)" \
	"xdp=$foreign_id tcx_ingress=1 tcx_egress=1"

tcpdump_start all
send_all
# what the firewall passes: every frame sent but those it drops on receipt
# (not "traces_count ... -- not udp dst port 9": a frame too short for the filter's
# loads matches neither that nor its negation)
read -r want_p want_b < <(traces_count in-mix in-9 out-mix out-9 --)
read -r drop_p drop_b < <(traces_count in-mix in-9 -- udp dst port 9)
check_eq "the firewall had frames to drop" "$((drop_p > 0))" 1
want_p=$((want_p - drop_p)) want_b=$((want_b - drop_b))
fc_ok wait "$fd" "$pkts" "$want_p" 10000
got_p=$V
fc_ok read "$fd" "$bytes"
got_b=$V
tcpdump_wait all "$want_p"
tcpdump_stop all
read -r td_p td_b < <("$BUILD/tests/pcapstat" "$T/all.pcap")
check_eq "packets = sent less the firewall's drops" "$got_p" "$want_p"
check_eq "bytes = sent less the firewall's drops" "$got_b" "$want_b"
check_eq "packets = tcpdump's" "$got_p" "$td_p"
check_eq "bytes = tcpdump's" "$got_b" "$td_b"
fc_ok read "$fd9" "$pkts9"
check_eq "UDP to port 9: only the ones sent (none received got past it)" "$V" \
	"$(traces_count out-9 -- udp dst port 9 | cut -d' ' -f1)"
fc_ok close "$fd"
fc_ok close "$fd9"
if wait_until 5 bash -c "[ \"\$(ip netns exec $NS_MON $BUILD/tests/hookstate $MON)\" = 'xdp=$foreign_id tcx_ingress=0 tcx_egress=0' ]"; then
	pass "closed: the firewall alone is left"
else
	fail "closed: $(state)"
fi
in_mon ip link set dev "$MON" xdp off
wait_until 5 hooks_empty || fail "the firewall did not go: $(state)"

echo "2. three applications on one interface, no daemon"
fc_counter "$MON" tcp
fd=$FC_FD tcp_fid=$FC_PKTS
fc_ok info "$fd"
check_match "the first takes native XDP" "$V" "mode_in=native mode_out=tcx"
bg "$NS_MON" "$T/count.out" "$BUILD/mapi" count -i "$MON" -I 0.2 --json
count_pid=$!
wait_until 20 bash -c "ip netns exec $NS_MON $BUILD/tests/hookstate $MON | grep -q 'tcx_ingress=1 tcx_egress=2'" ||
	fail "mapi count did not attach: $(state) $(cat "$T/count.out")"
bg "$NS_MON" "$T/packet_count.out" "$BUILD/examples/packet_count" "$MON" 4 udp
pc_pid=$!
wait_until 20 bash -c "ip netns exec $NS_MON $BUILD/tests/hookstate $MON | grep -q 'tcx_ingress=2 tcx_egress=3'" ||
	fail "packet_count did not attach: $(state) $(cat "$T/packet_count.out")"
tcpdump_start all2
send_all
read -r all_p all_b < <(traces_count in-mix in-9 out-mix out-9 --)
read -r tcp_p _ < <(traces_count in-mix in-9 out-mix out-9 -- tcp)
read -r udp_p _ < <(traces_count in-mix in-9 out-mix out-9 -- udp)
tcpdump_wait all2 "$all_p"
tcpdump_stop all2
fc_ok wait "$fd" "$tcp_fid" "$tcp_p" 10000
check_eq "flowctl's tcp flow (XDP) = sent" "$V" "$tcp_p"
check_eq "= tcpdump's" "$V" "$("$BUILD/tests/pcapstat" "$T/all2.pcap" tcp | cut -d' ' -f1)"
wait "$pc_pid" || fail "packet_count failed: $(cat "$T/packet_count.out")"
check_eq "packet_count udp (tc ingress) = sent" "$(cat "$T/packet_count.out")" "pkts:$udp_p"
check_eq "= tcpdump's" "$udp_p" "$("$BUILD/tests/pcapstat" "$T/all2.pcap" udp | cut -d' ' -f1)"
wait_until 10 bash -c "tail -n 1 '$T/count.out' | grep -q '\"total_packets\":$all_p,'" || true
kill -INT "$count_pid"
wait "$count_pid" || fail "mapi count failed: $(cat "$T/count.out")"
check_match "mapi count (tc ingress) = sent, = tcpdump's" "$(cat "$T/count.out")" \
	"$all_p packets \\($all_b bytes\\) counted on $MON"
check_eq "tcpdump saw the same" "$("$BUILD/tests/pcapstat" "$T/all2.pcap")" "$all_p $all_b"
check_match "mapi count said why it is at tc ingress" "$(cat "$T/count.out")" "tc ingress \\(tcx\\)"
fc_ok close "$fd"
wait_until 5 hooks_empty || fail "still attached: $(state)"

echo "3. monitors started at the same moment"
# each must find its way (XDP for one, tc ingress after it for the
# others), never "attach refused: File exists"
bad=0
for round in 1 2 3 4 5; do
	pids=()
	for i in 1 2 3 4; do
		(exec ip netns exec "$NS_MON" "$BUILD/mapi" count -i "$MON" -I 0.2 \
			>"$T/together$i.out" 2>&1) &
		pids+=($!)
	done
	for i in 1 2 3 4; do
		wait_until 20 grep -qs "counting\|mapi: " "$T/together$i.out" || true
	done
	wait_until 20 bash -c "[ \$(grep -l 'counting all packets' $T/together*.out | wc -l) = 4 ]" || true
	kill -INT "${pids[@]}" 2>/dev/null
	for i in 1 2 3 4; do
		wait "${pids[i - 1]}" || { bad=$((bad + 1)); echo "  round $round, monitor $i: $(tail -n 1 "$T/together$i.out")"; }
	done
	wait_until 10 hooks_empty || true
done
check_eq "20 monitors started four at a time all ran" "$bad" 0
finish
