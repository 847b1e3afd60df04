#!/usr/bin/env bash
# TO_BUFFER and TO_FILE on live traffic, both directions.
#
#  1. Every frame a flow without a filter keeps is byte for byte the frame
#     the test sent and the frame tcpdump captured, in order; its timestamp
#     lies within the reader's own clock window; its direction and interface
#     are right.
#  2. A snap length cuts frames as tcpdump -s cuts them.
#  3. A reader that pauses overflows a small ring: delivered + dropped
#     equals the matching frames sent, exactly, and the drops show in the
#     function's and the flow's information, and in mapi_stats, whose
#     interface counters are ip -s link's.
#  4. TO_FILE writes what tcpdump -w writes, packet for packet, complete when
#     the flow is closed; tcpdump reads the file.  MAPI 2.0's TO_FILE(MFF_PCAP,
#     PATH, COUNT) beside it writes the first COUNT, complete then while the
#     flow runs; its result turns 0, the packets after are counted as past.
#  5. mapi capture writes the frames sent (-w), prints one line a packet,
#     stops at -c or on SIGTERM, and reports its drops.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

"$BUILD/tests/gen_traffic" mix 21 600 "$T/in.pcap" no-vlan
"$BUILD/tests/gen_traffic" mix 22 400 "$T/out.pcap" no-vlan
# what was sent, in the order sent: the frames of in.pcap, then out.pcap's
{ cat "$T/in.pcap"; tail -c +25 "$T/out.pcap"; } >"$T/sent.pcap"
n_in=$(pcap_count "$T/in.pcap")
n_out=$(pcap_count "$T/out.pcap")
total=$((n_in + n_out))

send_both() {
	in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/in.pcap" >/dev/null
	in_mon "$BUILD/tests/sendpcap" "$MON" "$T/out.pcap" >/dev/null
}

# capbuf_start NAME ARGS...: a TO_BUFFER reader, its results in $T/NAME.*
capbuf_start() {
	local name=$1
	shift
	coproc CAPBUF { exec ip netns exec "$NS_MON" "$BUILD/tests/capbuf" "$@" 2>"$T/$name.err"; }
	BG_PIDS+=($CAPBUF_PID)
	CAPBUF_IN=${CAPBUF[1]}
	CAPBUF_OUT=${CAPBUF[0]}
	CAPBUF_NAME=$name
	read -r -t 20 line <&"$CAPBUF_OUT" || line=""
	[ "$line" = ready ] || { fail "capbuf $name did not start: $(cat "$T/$name.err")"; return 1; }
}

# capbuf_result: the reader's last line, into $CAP.
capbuf_result() {
	local pid=$CAPBUF_PID
	read -r -t 30 CAP <&"$CAPBUF_OUT" || CAP="no result: $(cat "$T/$CAPBUF_NAME.err")"
	wait "$pid" 2>/dev/null || true
}

echo "1. byte-identical capture, both directions"
capbuf_start all -n "$total" "$MON" "$T/all.pcap" || finish
tcpdump_start td
send_both
capbuf_result
tcpdump_wait td "$total"
tcpdump_stop td
check_eq "the reader's accounting" "$CAP" \
	"matched=$total delivered=$total dropped=0 queued=0 in=$n_in out=$n_out ts_ok=1 ifindex_ok=1 flow_dropped=0"
check_eq "TO_BUFFER's frames are the frames sent" \
	"$("$BUILD/tests/pcapcmp" "$T/sent.pcap" "$T/all.pcap")" "same $total"
check_eq "TO_BUFFER's frames are tcpdump's" \
	"$("$BUILD/tests/pcapcmp" "$T/td.pcap" "$T/all.pcap")" "same $total"

echo "2. snap length and filter"
n_udp=$(pcap_count "$T/sent.pcap" udp)
capbuf_start snap -s 100 -n "$n_udp" "$MON" "$T/snap.pcap" udp || finish
tcpdump_start tdsnap -s 100 udp
send_both
capbuf_result
tcpdump_wait tdsnap "$n_udp"
tcpdump_stop tdsnap
check_match "the reader's accounting" "$CAP" \
	"^matched=$n_udp delivered=$n_udp dropped=0 queued=0 .* ts_ok=1 ifindex_ok=1 flow_dropped=0$"
check_eq "frames cut at 100 bytes as tcpdump -s 100 cuts them" \
	"$("$BUILD/tests/pcapcmp" "$T/tdsnap.pcap" "$T/snap.pcap")" "same $n_udp"

echo "3. a paused reader overflows its ring"
"$BUILD/tests/gen_traffic" mix 23 3000 "$T/burst.pcap" no-vlan
n_burst=$(pcap_count "$T/burst.pcap" udp or tcp)
capbuf_start burst -w -T -s 2048 -r 65536 -n "$n_burst" "$MON" "$T/burst-got.pcap" "udp or tcp" ||
	finish
tcpdump_start tdburst "udp or tcp"
in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/burst.pcap" >/dev/null
tcpdump_wait tdburst "$n_burst"
tcpdump_stop tdburst
check_eq "tcpdump saw the whole burst" "$(pcap_count "$T/tdburst.pcap")" "$n_burst"
echo go >&"$CAPBUF_IN"
capbuf_result
if [[ $CAP =~ ^matched=([0-9]+)\ delivered=([0-9]+)\ dropped=([0-9]+)\ queued=0 ]]; then
	m=${BASH_REMATCH[1]} d=${BASH_REMATCH[2]} x=${BASH_REMATCH[3]}
	check_eq "matched = the matching frames sent" "$m" "$n_burst"
	check_eq "delivered + dropped = matched" $((d + x)) "$n_burst"
	[ "$x" -gt 0 ] && pass "the 64 KiB ring overflowed: $x dropped, $d delivered" ||
		fail "nothing was dropped: the test did not overflow the ring"
	[ "$d" -gt 0 ] && pass "the ring delivered what it held" || fail "nothing delivered"
	check_match "the flow's information shows the drops" "$CAP" " flow_dropped=$x "
	# mapi_stats: the interface's counters as ip -s says them, the flows' drops
	ipstat=$(in_mon ip -s -s -j link show "$MON" | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]["stats64"]
print("recv=%d sent=%d ifdrop=%d" % (s["rx"]["packets"], s["tx"]["packets"],
      s["rx"]["dropped"] + s["rx"].get("missed_errors", 0)))')
	check_match "mapi_stats: the interface's counters, as ip -s link" "$CAP" \
		" stats $ipstat drop=$x$"
	[[ $ipstat =~ recv=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge "$n_burst" ] &&
		pass "(the interface received the burst: ${BASH_REMATCH[1]} packets)" ||
		fail "the interface's count is below the burst: $ipstat"
	check_eq "what was delivered is the first frames sent" \
		"$("$BUILD/tests/pcapcmp" "$T/burst-got.pcap" "$T/tdburst.pcap" | cut -d' ' -f1-4)" \
		"$T/burst-got.pcap ends after $d"
else
	fail "the reader's accounting: $CAP"
fi

echo "4. TO_FILE against tcpdump -w"
flowctl_start
fc_ok create "$MON"
fd=$V
fc_ok apply "$fd" BPF_FILTER '"tcp or icmp"'
fc_ok apply "$fd" TO_FILE "\"$T/file.pcap\""
fid=$V
fc_ok connect "$fd"
n_file=$(pcap_count "$T/sent.pcap" tcp or icmp)
k=$((n_file / 3))
fc_ok create "$MON"
cfd=$V
fc_ok apply "$cfd" BPF_FILTER '"tcp or icmp"'
fc_ok apply "$cfd" TO_FILE 0 "\"$T/count.pcap\"" "$k"	# MFF_PCAP is 0, as in MAPI 2.0
cfid=$V
fc_ok connect "$cfd"
fc_ok read "$cfd" "$cfid"
check_eq "MAPI 2.0's TO_FILE: 1 while it writes" "$V" 1
tcpdump_start tdfile tcp or icmp
send_both
tcpdump_wait tdfile "$n_file"
tcpdump_stop tdfile
fc_ok finfo "$fd" "$fid"
check_match "TO_FILE's accounting before the close" "$V" "^pkts=$n_file .*dropped=0 "
for _ in $(seq 100); do
	fc_ok read "$cfd" "$cfid"
	[ "$V" = 0 ] && break
	sleep 0.05
done
check_eq "MAPI 2.0's TO_FILE: 0 once COUNT were written" "$V" 0
fc_ok finfo "$cfd" "$cfid"
check_match "and the packets after COUNT counted, not written" "$V" \
	"^pkts=$n_file delivered=$k dropped=0 queued=0 past=$((n_file - k)) value=0$"
check_eq "its file is complete while the flow runs: tcpdump's first COUNT" \
	"$("$BUILD/tests/pcapcmp" "$T/count.pcap" "$T/tdfile.pcap" | cut -d' ' -f1-4)" \
	"$T/count.pcap ends after $k"
fc_ok close "$cfd"
fc_ok info "$fd"
check_match "the flow's information: nothing dropped" "$V" " dropped=0 lookup=0 backend=in-process "
fc_ok close "$fd"
check_eq "TO_FILE's file is tcpdump's capture" \
	"$("$BUILD/tests/pcapcmp" "$T/tdfile.pcap" "$T/file.pcap")" "same $n_file"
check_eq "tcpdump -r reads every packet of it" \
	"$(tcpdump -r "$T/file.pcap" -nn 2>/dev/null | wc -l)" "$n_file"
check_match "with nanosecond timestamps" "$(tcpdump -r "$T/file.pcap" -c 1 \
	--time-stamp-precision=nano -tt -nn 2>/dev/null)" '^[0-9]{10}\.[0-9]{9} '

echo "5. mapi capture"
# flowctl's hooks linger a second after its last flow; one XDP program
# serves an interface
wait_until 10 hooks_empty || true
bg "$NS_MON" "$T/cli.err" "$BUILD/mapi" capture -i "$MON" -c "$n_udp" -w "$T/cli.pcap" udp
cli_pid=$!
wait_until 20 grep -qs "capturing" "$T/cli.err" || fail "mapi capture did not start"
send_both
wait_until 20 sh -c "! kill -0 $cli_pid 2>/dev/null" || fail "mapi capture -c did not stop"
check_eq "mapi capture -w wrote the frames sent" \
	"$("$BUILD/tests/pcapcmp" "$T/sent.pcap" "$T/cli.pcap" udp)" "same $n_udp"
check_match "and says what it kept and dropped" "$(cat "$T/cli.err")" \
	"$n_udp packets captured.*0 packets dropped by the ring buffer"

bg "$NS_MON" "$T/lines.out" "$BUILD/mapi" capture -i "$MON" -Q in udp
cli_pid=$!
wait_until 20 grep -qs "capturing" "$T/lines.out" || fail "mapi capture did not start"
in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/in.pcap" >/dev/null
n_in_udp=$(pcap_count "$T/in.pcap" udp)
wait_until 20 bash -c "[ \$(grep -c ' In  IP' '$T/lines.out') -ge $n_in_udp ]" || true
kill -TERM "$cli_pid"
wait "$cli_pid"
check_eq "mapi capture exits 0 on SIGTERM" "$?" 0
check_eq "one line a received UDP packet" "$(grep -c '^[0-9:.]* In  IP6\? .*: UDP\( (fragment)\)\?, length [0-9]*$' "$T/lines.out")" "$n_in_udp"
check_match "its counts on stop" "$(cat "$T/lines.out")" \
	"$n_in_udp packets captured.$n_in_udp packets matched.0 packets dropped"

# stopped with packets still in its ring: the totals say so, and add up
wait_until 10 hooks_empty || true
bg "$NS_MON" "$T/left.err" "$BUILD/mapi" capture -i "$MON" -c 5 -Q in udp
cli_pid=$!
wait_until 20 grep -qs "capturing" "$T/left.err" || fail "mapi capture did not start"
kill -STOP "$cli_pid"	# the packets wait in its ring meanwhile
in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/in.pcap" >/dev/null
kill -CONT "$cli_pid"
wait_until 20 sh -c "! kill -0 $cli_pid 2>/dev/null" || fail "mapi capture -c 5 did not stop"
check_match "after -c 5: captured, matched, dropped, left in the ring" "$(cat "$T/left.err")" \
	"5 packets captured.$n_in_udp packets matched.0 packets dropped by the ring buffer.$((n_in_udp - 5)) packets left in the ring, not read"

wait_until 10 hooks_empty && pass "nothing attached at the end" ||
	fail "still attached: $(in_mon "$BUILD/tests/hookstate" "$MON")"
finish
