#!/usr/bin/env bash
# TOP against a Python model of its fields (tests/models/top.py), which
# reads the frames' bytes itself: offline over the traces, live over the
# same frames sent both ways through mon0, in-process and through mapid.
#
#  1. mapi run -r: every field of every protocol, with prefixes and both
#     sorts, over the traffic mix (VLAN tags, IPv6, fragments) and the
#     filter corpus (truncated frames, extension headers, QinQ, ...): the
#     totals, every value's packets and bytes, the order, "exact".
#  2. Live: the same functions on one flow (one program calling the same
#     routine for each), over the frames sent in and out of mon0.
#  3. Through mapid: the client reads the table mapid's program counts.
#  4. More values than the table holds: the table's values stay exact,
#     the others are counted as "other", and "exact" says whether the list
#     can be trusted.
#  5. Per INTERVAL: offline, the last interval's values exactly the
#     model's; live, while tcpreplay plays the mix, the intervals' values
#     add up to the model's of the whole trace (every interval's result
#     seen once: none lost, none counted twice); in-process and through
#     mapid.
#  6. examples/top_talkers: its subnets' totals equal libpcap's.
#  7. Bad arguments: MAPI 2.0's 7000 + n, naming the argument.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

"$BUILD/tests/gen_traffic" mix 71 3000 "$T/in.pcap" all
"$BUILD/tests/gen_traffic" mix 72 2000 "$T/out.pcap" all
"$BUILD/tests/gen_traffic" corpus 73 2500 "$T/corpus.pcap"
{ cat "$T/in.pcap"; tail -c +25 "$T/out.pcap"; } >"$T/sent.pcap"
read -r sent _ <<<"$(traces_count in out --)"

# What TOP is given (X PROTOCOL FIELD [SORT [PREFIX [PREFIX6]]]), by number
# as the model takes them; model_args turns one into the model's arguments.
SPECS=(
	"1000 1 8 1 24 48" "5 1 9 2" "1000 1 9 1 32 128" "1000 1 1" "1000 1 2 2" "1000 1 3"
	"1000 1 4" "1000 1 5" "1000 1 6" "1000 1 7" "1000 2 10" "7 2 11 2" "1000 2 12"
	"1000 2 13" "1000 2 14" "1000 2 15" "1000 2 16" "1000 2 17" "1000 3 18" "3 3 19"
	"1000 3 20" "1000 3 21" "10 1 8 1 16 32"
)
model_args() {
	local x=$1 p=$2 f=$3 s=${4:-1} p4=${5:-32} p6=${6:-128}
	echo "$p $f $s $p4 $p6 $x"
}
# model TRACE FID SPEC < JSON: the model's verdict on function FID
model() { python3 tests/models/top.py "$1" "$2" $(model_args $3); }

echo "1. offline"
for trace in in corpus; do
	bad=0
	for spec in "${SPECS[@]}"; do
		"$BUILD/mapi" run -r "$T/$trace.pcap" --json "TOP $spec" >"$T/off.json" 2>&1 &&
			model "$T/$trace.pcap" 1 "$spec" <"$T/off.json" >"$T/model.txt" ||
			{ bad=$((bad + 1)); echo "    TOP $spec: $(head -c 600 "$T/model.txt" "$T/off.json")"; }
	done
	check_eq "${#SPECS[@]} TOP functions over the $trace trace equal the model" "$bad" 0
done

echo "2. live, both directions"
# live_run OUT SPEC...: mapi run on mon0 with TOP SPEC... and a
# PKT_COUNTER, over the frames sent; its JSON lines in OUT
live_run() {
	local out=$1 fns=() spec
	shift
	for spec in "$@"; do fns+=("TOP $spec"); done
	mapi_run_live "$out" "$sent" "traces_send in -- out" "${fns[@]}"
}
live_check() {
	local out=$1 fid=1 bad=0 spec
	shift
	for spec in "$@"; do
		model "$T/sent.pcap" "$fid" "$spec" <"$out" >"$T/model.txt" ||
			{ bad=$((bad + 1)); echo "    TOP $spec: $(head -c 600 "$T/model.txt")"; }
		fid=$((fid + 1))
	done
	check_eq "$# TOP functions of one live flow equal the model over the $sent frames" "$bad" 0
}
LIVE=("${SPECS[@]:0:14}")
live_run "$T/live.json" "${LIVE[@]}"
live_check "$T/live.json" "${LIVE[@]}"
LIVE2=("${SPECS[@]:14}")
live_run "$T/live2.json" "${LIVE2[@]}"
live_check "$T/live2.json" "${LIVE2[@]}"

# live_intervals NAME: TOP per 500 ms of the sources (/24, /48) while
# tcpreplay plays the mix in; the results of the intervals, each as last
# printed, add up to the model's whole trace
live_intervals() {
	bg "$NS_MON" "$T/int.json" "$BUILD/mapi" run -i "$MON" -Q in --json -I 0.1 \
		'TOP 1000 TOPX_IP TOPX_IP_SRCIP "500ms" 1 24 48'
	local pid=$!
	wait_until 10 grep -qs results "$T/int.json" || fail "$1: mapi run did not start"
	in_peer tcpreplay -q -i "$PEER" "$T/in.pcap" >/dev/null 2>&1 || fail "tcpreplay failed"
	# (an interval with no packet after those with them: the traffic's last
	# interval ended and was printed)
	wait_until 10 python3 tests/models/top_intervals.py "$T/int.json" "$T/int-sum.json" ||
		fail "$1: no empty interval came after the traffic"
	kill -TERM "$pid"
	wait "$pid" || true
	model "$T/in.pcap" 1 "1000 1 8 1 24 48" <"$T/int-sum.json" >"$T/model.txt" &&
		pass "$1: the 500 ms intervals' values add up to the model's whole trace" ||
		fail "$1: the intervals' sum: $(head -c 600 "$T/model.txt")"
}

echo "3. through mapid"
mapid_start
MAPI_BACKEND=mapid live_run "$T/mapid.json" "${SPECS[0]}" "${SPECS[11]}"
check_match "mapid ran the flow" "$(cat "$T/mapid.log")" "on $MON: 3 functions"
live_check "$T/mapid.json" "${SPECS[0]}" "${SPECS[11]}"
echo "   (per interval, section 5, through mapid while it runs)"
MAPI_BACKEND=mapid live_intervals "through mapid"
kill "$MAPID_PID"
wait "$MAPID_PID" 2>/dev/null || true

echo "4. more values than the table holds"
# 70,000 sources of a packet each, then one of 5,000 packets: it comes after
# the table is full, and must still come out first, its count within its error
python3 tests/models/gen_pcap.py sources 70000 5000 "$T/many.pcap"
heavy='"value":"11.0.0.1","packets":(500[0-9]|50[1-9][0-9]),'
"$BUILD/mapi" run -r "$T/many.pcap" --json "TOP 10 1 8" >"$T/many.json"
model "$T/many.pcap" 1 "10 1 8" <"$T/many.json" >"$T/model.txt" &&
	pass "offline: the table's 65536 values exact, the others within their error" ||
	fail "offline, 70001 values: $(cat "$T/model.txt")"
check_match "offline: the heavy source that came last is first" "$(cat "$T/many.json")" \
	"\"values\":\[\{$heavy"
check_match "offline: the list is not said to be exact" "$(cat "$T/many.json")" '"exact":false'
sent=75000
bg "$NS_MON" "$T/manylive.json" "$BUILD/mapi" run -i "$MON" --json -I 0.5 "TOP 10 1 8" PKT_COUNTER
pid=$!
wait_until 10 grep -qs results "$T/manylive.json"
in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/many.pcap" >/dev/null
wait_until 20 grep -qs "\"PKT_COUNTER\",\"value\":$sent}" "$T/manylive.json" ||
	fail "the 75000 frames were not all counted: $(tail -n 1 "$T/manylive.json" | tail -c 200)"
kill -TERM "$pid"
wait "$pid" || true
model "$T/many.pcap" 1 "10 1 8" <"$T/manylive.json" >"$T/model.txt" &&
	pass "live: the table's values exact, the others within their error" ||
	fail "live, 70001 values: $(cat "$T/model.txt")"
check_match "live: the heavy source is first" "$(tail -n 1 "$T/manylive.json")" \
	"\"values\":\[\{$heavy"

echo "5. per interval"
# what TOP is given | the model's SPEC | the interval, ns
INTERVALS=('1000 1 8 "500ms" 1 24 48|1000 1 8 1 24 48|500000000' '7 2 11 "1s" 2|7 2 11 2|1000000000'
	'1000 1 6 "333ms"|1000 1 6|333000000' '3 3 19 "250ms"|3 3 19|250000000')
for trace in in corpus; do
	bad=0
	for spec in "${INTERVALS[@]}"; do
		IFS='|' read -r given mspec ns <<<"$spec"
		"$BUILD/mapi" run -r "$T/$trace.pcap" --json "TOP $given" >"$T/off.json" 2>&1 &&
			python3 tests/models/top.py "$T/$trace.pcap" 1 $(model_args $mspec) 65536 "$ns" \
				<"$T/off.json" >"$T/model.txt" ||
			{ bad=$((bad + 1)); echo "    TOP $given: $(head -c 600 "$T/model.txt" "$T/off.json")"; }
	done
	check_eq "${#INTERVALS[@]} TOPs per interval over the $trace trace equal the model" "$bad" 0
done
live_intervals in-process

echo "6. examples/top_talkers"
# (the hooks of the flows before go idle first: then attached means its flow)
wait_until 10 hooks_empty || fail "the hooks stay attached"
bg "$NS_MON" "$T/tt.out" "$BUILD/examples/top_talkers" "$MON" 2 3
tt=$!
wait_until 10 attached || fail "top_talkers did not attach: $(cat "$T/tt.out")"
traffic_ok=1
traces_send in -- || traffic_ok=0
wait "$tt" || fail "top_talkers failed: $(cat "$T/tt.out")"
bad=0
while read -r _ net p _ b _; do
	case $net in *:*) proto=ip6 ;; *) proto=ip ;; esac
	# (tagged or not: the trace has 802.1Q frames)
	read -r tp tb < <("$BUILD/tests/pcapstat" "$T/in.pcap" "$proto src net $net or" \
		"(vlan and $proto src net $net)")
	[ "$p $b" = "$tp $tb" ] || { bad=$((bad + 1)); echo "    $net: $p $b, libpcap $tp $tb"; }
done < <(grep '^total' "$T/tt.out")
check_eq "its subnets' totals equal libpcap's 'ip src net' over the frames sent" \
	"$traffic_ok $bad $(grep -c '^total' "$T/tt.out")" "1 0 3"

echo "7. bad arguments"
bad_arg() { refused_arg "$T/in.pcap" "TOP $1" "$2" "$3"; }
bad_arg "0 TOPX_IP TOPX_IP_SRCIP" 7001 "X 0: 1 to 1000 values"
bad_arg "1001 TOPX_IP TOPX_IP_SRCIP" 7001 "X 1001: 1 to 1000 values"
bad_arg "5 9 TOPX_IP_SRCIP" 7002 "protocol 9: .*"
bad_arg "5 TOPX_TCP TOPX_IP_SRCIP" 7003 "TOPX_IP_SRCIP is not a field of TOPX_TCP"
bad_arg "5 TOPX_ICMP TOPX_IP_TTL" 7003 "ICMP has no fields here.*"
bad_arg "5 TOPX_IP 22" 7003 "field 22: .*"
bad_arg "5 TOPX_IP TOPX_IP_TTL 3" 7004 "SORT 3: .*"
bad_arg "5 TOPX_IP TOPX_IP_TTL 1 8" 7005 "TOPX_IP_TTL is not an address"
bad_arg "5 TOPX_IP TOPX_IP_SRCIP 1 33" 7005 "PREFIX 33: 0 to 32 bits.*"
bad_arg "5 TOPX_IP TOPX_IP_SRCIP 1 24 129" 7006 "PREFIX6 129: 0 to 128 bits.*"
bad_arg "5 TOPX_IP TOPX_IP_SRCIP \"1 s\"" 7004 'TOP INTERVAL "1 s": a number and us, ms, s or m'
bad_arg "5 TOPX_IP TOPX_IP_TTL \"1s\" 3" 7005 "SORT 3: .*"
bad_arg "5 TOPX_IP TOPX_IP_TTL \"1s\" 1 8" 7006 "TOPX_IP_TTL is not an address"
bad_arg "5 TOPX_IP TOPX_IP_SRCIP \"1s\" 1 24 129" 7007 "PREFIX6 129: 0 to 128 bits.*"
finish
