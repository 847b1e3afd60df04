#!/usr/bin/env bash
# A monitored interface that goes away (deleted, or moved to another
# network namespace) is an error, not a frozen number: as tcpdump ("The
# interface disappeared"), the mapi tool ends with status 1 soon after,
# its last counts final and equal to what was sent; the API's reads and
# waits fail with MAPI_ERR_DEVICE_GONE while flow and function information
# still give the final counts; an interface of the same name made again is
# a new one, which a new flow monitors.  In-process and through mapid.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

GONE=10016	# MAPI_ERR_DEVICE_GONE
"$BUILD/tests/gen_traffic" mix 7 300 "$T/in.pcap" no-vlan
"$BUILD/tests/gen_traffic" mix 8 200 "$T/out.pcap" no-vlan
read -r want_pkts want_bytes < <(traces_count in out --)

# ended_within SECONDS PID: the process ends within SECONDS (its status in
# $RC), else it is killed and the test fails.
ended_within() {
	local deadline=$((SECONDS + $1)) pid=$2
	while kill -0 "$pid" 2>/dev/null; do
		if [ $SECONDS -ge "$deadline" ]; then
			kill -9 "$pid" 2>/dev/null || true
			RC=timeout
			return 1
		fi
		sleep 0.05
	done
	RC=0
	wait "$pid" || RC=$?
}

# start_tool NAME COMMAND ARG...: runs `mapi COMMAND -v ARG...` on mon0 in
# the background, its stdout in $T/NAME.out and stderr in $T/NAME.err;
# waits until its flow is connected (-v says where it runs, once it does).
start_tool() {
	local name=$1 cmd=$2
	shift 2
	(exec ip netns exec "$NS_MON" "$BUILD/mapi" "$cmd" -v "$@" >"$T/$name.out" 2>"$T/$name.err") &
	TOOL_PID=$!
	BG_PIDS+=($!)
	wait_until 10 grep -Eq "^mapi: (counting|capturing|running) on $MON:" "$T/$name.err" ||
		fail "$name: its flow did not connect: $(cat "$T/$name.err")"
}

# the_link_goes HOW: mon0 goes: deleted (peer0 with it), or moved to
# another namespace; then the pair is made again.
the_link_goes() {
	if [ "$1" = delete ]; then
		in_mon ip link del "$MON"
	else
		ip -n "$NS_MON" link set "$MON" netns "$NS_PEER"
		ip -n "$NS_PEER" link del "$MON"
	fi
}

# tool_case NAME HOW COMMAND...: the tool runs, the traffic is sent, and
# once a flow of flowctl's beside it has seen every frame (then so has the
# tool's, which sees them first or in the same engine) the interface goes;
# the tool must end with status 1 within 2 s and say so.
tool_case() {
	local name=$1 how=$2
	shift 2
	start_tool "$name" "$@"
	fc_counter "$MON"
	traces_send in -- out
	fc_ok wait "$FC_FD" "$FC_PKTS" "$want_pkts" 5000
	the_link_goes "$how"
	if ended_within 2 "$TOOL_PID"; then
		pass "$name: ended within 2 s of the interface going ($how)"
	else
		fail "$name: still running 2 s after the interface went ($how)"
	fi
	check_eq "$name: exit status" "$RC" 1
	check_match "$name: says the interface went away" "$(cat "$T/$name.err")" \
		"mon0: the interface went away"
	fc_ok close "$FC_FD"
	testbed_link
}

flowctl_start
echo "the tool, in-process"
tool_case count delete count -i "$MON" -I 60 --json
total=$(sed -n 's/^\([0-9]*\) packets (\([0-9]*\) bytes) counted on.*/\1 \2/p' "$T/count.err")
check_eq "count: final totals (packets bytes)" "$total" "$want_pkts $want_bytes"
last=$(tail -n 1 "$T/count.out" | sed -n 's/.*"total_packets":\([0-9]*\),"total_bytes":\([0-9]*\)}/\1 \2/p')
check_eq "count: the last line's totals" "$last" "$want_pkts $want_bytes"

tool_case capture delete capture -i "$MON" -w "$T/cap.pcap"
check_eq "capture: packets in the file" "$(pcap_count "$T/cap.pcap")" "$want_pkts"
check_eq "capture: the totals" "$(grep -c "^$want_pkts packets captured$" "$T/capture.err")" 1

tool_case run netns run -i "$MON" -I 60 PKT_COUNTER BYTE_COUNTER
check_match "run: the final results" "$(tail -n 1 "$T/run.out")" \
	"PKT_COUNTER\[1\]=$want_pkts  BYTE_COUNTER\[2\]=$want_bytes$"

tool_case run_buffer delete run -i "$MON" 'TO_BUFFER' PKT_COUNTER
check_match "run with TO_BUFFER: the final count" "$(tail -n 1 "$T/run_buffer.out")" \
	"PKT_COUNTER\[2\]=$want_pkts$"

echo "the API"
fc_counter "$MON"
fd=$FC_FD
fc_ok create "$MON"	# keeps every packet
bfd=$V
fc_ok apply "$bfd" TO_BUFFER
bfid=$V
fc_ok connect "$bfd"
fc_ok create "$MON"	# keeps none: its reader waits
wfd=$V
fc_ok apply "$wfd" BPF_FILTER '"udp port 9"'
fc_ok apply "$wfd" TO_BUFFER
wfid=$V
fc_ok connect "$wfd"
traces_send in -- out
fc_ok wait "$fd" "$FC_PKTS" "$want_pkts" 5000
check_eq "flow counts before" "$V" "$want_pkts"
# the interface goes while a reader waits for a packet that will not come
echo "pkt $wfd $wfid" >&"$FLOWCTL_IN"
echo "echo waiting" >&"$FLOWCTL_IN"	# answered after the pkt: it is what waits
R=""
read -r -t 1 R <&"$FLOWCTL_OUT" || true
check_eq "the reader is waiting" "$R" ""
in_mon ip link del "$MON"
R=""
read -r -t 2 R <&"$FLOWCTL_OUT" || true
check_match "the waiting reader wakes with MAPI_ERR_DEVICE_GONE" "$R" \
	"^err $GONE .*interface mon0 went away"
read -r -t 2 R <&"$FLOWCTL_OUT" || true
check_eq "(flowctl answers the next command)" "$R" waiting
# what a ring kept is still read, then the error
got=0
while fc pkt "$bfd" "$bfid" && [[ $R == ok* ]] && [ $got -le "$want_pkts" ]; do got=$((got + 1)); done
check_eq "packets the ring kept, read after the interface went" "$got" "$want_pkts"
check_match "then mapi_get_next_pkt fails with MAPI_ERR_DEVICE_GONE" "$R" "^err $GONE "
fc read "$fd" "$FC_PKTS"
check_match "mapi_read_results fails with MAPI_ERR_DEVICE_GONE" "$R" "^err $GONE "
fc_ok info "$fd"
check_match "flow information: MAPI_FLOW_STOPPED" "$V" "status=3"
fc_ok finfo "$fd" "$FC_PKTS"
check_match "function information: the final count" "$V" "value=$want_pkts$"
fc_ok finfo "$fd" "$FC_BYTES"
check_match "function information: the final bytes" "$V" "value=$want_bytes$"

# the same name again: another interface, which a new flow monitors
testbed_link
fc read "$fd" "$FC_PKTS"
check_match "the old flow still fails after the name is back" "$R" "^err $GONE "
fc_counter "$MON"
traces_send in
read -r in_pkts _ < <(traces_count in --)
fc_ok wait "$FC_FD" "$FC_PKTS" "$in_pkts" 5000
check_eq "a new flow on the new mon0 counts" "$V" "$in_pkts"
fc_ok close "$fd"
pass "closing a stopped flow succeeds"
fc_ok close "$bfd"
fc_ok close "$wfd"
fc_ok close "$FC_FD"
wait_until 5 hooks_empty && pass "nothing left attached" ||
	fail "left attached: $(in_mon "$BUILD/tests/hookstate" "$MON")"

# stopped FD: waits (2 s at most) until flow FD says it stopped
stopped() {
	local i
	for ((i = 0; i < 40; i++)); do
		fc_ok info "$1"
		[[ $V == *status=3* ]] && return 0
		sleep 0.05
	done
	return 1
}

echo "what is not going away"
# down and up again, out of a bridge, the bridge deleted: the flow stays.
# Then another watched interface goes: once its flow has stopped, every
# notification before it has been read.
in_mon ip link add aux0 type veth peer name aux1
fc_counter aux0
aux=$FC_FD
fc_counter "$MON"
fd=$FC_FD
in_mon ip link set "$MON" down
in_mon ip link set "$MON" up
in_mon ip link add br0 type bridge
in_mon ip link set "$MON" master br0
in_mon ip link set "$MON" nomaster
in_mon ip link set "$MON" master br0
in_mon ip link del br0
in_mon ip link set "$MON" up
in_mon ip link del aux0
stopped "$aux" && pass "(the other interface's flow stopped)" || fail "aux0's flow did not stop"
fc_ok info "$fd"
check_match "down and up, a bridge left and deleted: the flow still runs" "$V" "status=2"
fc_ok close "$aux"
traces_send in
fc_ok wait "$fd" "$FC_PKTS" "$in_pkts" 5000
check_eq "and counts" "$V" "$in_pkts"
fc_ok close "$fd"

echo "conversation flows (counted in the interface's table) when it goes"
# past 16 flows on a hook, such filters are table lookups: their counts
# must be kept when the interface goes, and the table let go
# (every other flow counts bytes only: its counter is the table's, past
# the flow's own slots)
convs=() cfilters=() bytes_fid=()
for p in $(seq 80 99); do
	cfilters+=("tcp and host 10.1.0.1 and host 10.1.0.80 and port $p")
	if ((p % 2)); then
		fc_ok create "$MON" && fd=$V
		fc_ok apply "$fd" BPF_FILTER "\"${cfilters[-1]}\""
		fc_ok apply "$fd" BYTE_COUNTER
		fc_ok connect "$fd"
		bytes_fid+=(2)
	else
		fc_counter "$MON" "${cfilters[-1]}"
		fd=$FC_FD
		bytes_fid+=(3)
	fi
	convs+=("$fd")
done
fc_ok info "${convs[19]}"
check_match "(the last ones are table lookups)" "$V" "lookup=1"
traces_send in
fc_ok wait "${convs[0]}" 2 "$(traces_count in -- "${cfilters[0]}" | cut -d' ' -f1)" 5000
fc_ok wait "${convs[19]}" "${bytes_fid[19]}" "$(traces_count in -- "${cfilters[19]}" | cut -d' ' -f2)" 5000
in_mon ip link del "$MON"
testbed_link
bad=0
for i in "${!convs[@]}"; do
	fd=${convs[i]}
	read -r wp wb < <(traces_count in -- "${cfilters[i]}")
	stopped "$fd" || bad=$((bad + 1))
	if [ "${bytes_fid[i]}" = 3 ]; then
		fc finfo "$fd" 2
		[[ $R == "ok "*" value=$wp" ]] || { bad=$((bad + 1)); echo "    flow $fd (want $wp packets): $R"; }
	fi
	fc finfo "$fd" "${bytes_fid[i]}"
	[[ $R == "ok "*" value=$wb" ]] || { bad=$((bad + 1)); echo "    flow $fd (want $wb bytes): $R"; }
	fc_ok close "$fd"
done
check_eq "20 conversation flows stopped, their counts kept, and closed" "$bad" 0

# remade_refused WHAT: a flow created on mon0, mon0 deleted and made again
# before its connect: the connect is refused (the index tells them apart)
remade_refused() {
	fc_ok create "$MON"
	local fd=$V
	in_mon ip link del "$MON"
	testbed_link
	fc_ok apply "$fd" PKT_COUNTER
	fc connect "$fd"
	check_match "$1" "$R" "^err 3200 .*disappeared after the flow was created"
	fc_ok close "$fd"
}

echo "made again between create and connect, moved away and back"
remade_refused "a flow whose interface was made again before its connect is refused"
# away to another namespace and back: the same index, another interface
fc_counter "$MON"
old=$FC_FD
idx=$(in_mon cat "/sys/class/net/$MON/ifindex")
in_mon ip link set "$MON" netns "$NS_PEER"
in_peer ip link set "$MON" netns "$NS_MON"
in_mon ip link set "$MON" up
check_eq "(back with the same index)" "$(in_mon cat "/sys/class/net/$MON/ifindex")" "$idx"
stopped "$old" && pass "the flow of before the move stopped" || fail "the flow of before the move runs on"
fc_ok finfo "$old" 1
final=$V
fc_counter "$MON"
traces_send in
fc_ok wait "$FC_FD" "$FC_PKTS" "$in_pkts" 5000
check_eq "a new flow on the interface moved back counts (it is attached anew)" "$V" "$in_pkts"
# the programs would have gone on counting on the moved interface: the
# stopped flow's were taken off, so its counts stay final
fc_ok finfo "$old" 1
check_eq "the stopped flow's count stays final" "$V" "$final"
fc_ok close "$FC_FD"
fc_ok close "$old"

echo "through mapid"
mapid_start
export MAPI_BACKEND=mapid
# flowctl again, as a client of mapid
echo "close $FC_FD" >&"$FLOWCTL_IN"
exec {FLOWCTL_IN}>&-
wait "$FLOWCTL_PID" 2>/dev/null || true
flowctl_start
fc_counter "$MON"
traces_send in -- out
fc_ok wait "$FC_FD" "$FC_PKTS" "$want_pkts" 5000
in_mon ip link del "$MON"
wait_until 2 bash -c "ip netns exec $NS_MON $BUILD/mapi flows 2>&1 | grep -q ' stopped '" &&
	pass "mapi flows says the flow stopped" ||
	fail "mapi flows: $(in_mon "$BUILD/mapi" flows 2>&1)"
fc read "$FC_FD" "$FC_PKTS"
check_match "a client's read fails with MAPI_ERR_DEVICE_GONE" "$R" "^err $GONE "
fc_ok finfo "$FC_FD" "$FC_PKTS"
check_match "a client's function information: the final count" "$V" "value=$want_pkts$"
fc_ok close "$FC_FD"
testbed_link
# made again between create and connect: mapid refuses it by its index
remade_refused "through mapid, an interface made again before the connect is refused"
tool_case mapid_count delete count -i "$MON" -I 60
total=$(sed -n 's/^\([0-9]*\) packets (\([0-9]*\) bytes) counted on.*/\1 \2/p' "$T/mapid_count.err")
check_eq "count through mapid: final totals" "$total" "$want_pkts $want_bytes"
tool_case mapid_capture netns capture -i "$MON" -w "$T/cap2.pcap"
check_eq "capture through mapid: packets in the file" "$(pcap_count "$T/cap2.pcap")" "$want_pkts"
# mapid stays up, and serves the new mon0
start_tool after count -i "$MON" -I 0.2 -c "$in_pkts"
traces_send in
ended_within 5 "$TOOL_PID" || true
check_eq "mapid serves the interface made again (count -c)" "$RC" 0
unset MAPI_BACKEND
finish
