#!/usr/bin/env bash
# DISTINCT against a Python model of exact distinct counts over the same
# frames (tests/models/distinct.py): offline over the traces, live over the
# same frames sent both ways through mapid's and the process's kernel
# programs.  HyperLogLog estimates pass within 4 standard errors; the
# packets counted and the number of per values are exact; live and offline
# leave the same registers, so they give the same estimates.
#
#  1. mapi run -r: over all packets and per value, several fields, over the
#     traffic mix and the filter corpus.
#  2. The port-scan job: a scanner among talkative hosts comes out first,
#     with about its number of destinations; live the same as offline.
#  3. Live, both directions, several DISTINCTs on one flow: the same
#     estimates as offline over the frames sent; through mapid too.
#  4. More per values than the table holds: the rest counted as other.
#  5. examples/scan_detect reports the scanner, and only it.
#  6. Bad arguments: 7000 + n, naming the argument.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

"$BUILD/tests/gen_traffic" mix 81 3000 "$T/in.pcap" all
"$BUILD/tests/gen_traffic" mix 82 2000 "$T/out.pcap" all
"$BUILD/tests/gen_traffic" corpus 83 2500 "$T/corpus.pcap"
{ cat "$T/in.pcap"; tail -c +25 "$T/out.pcap"; } >"$T/sent.pcap"
read -r sent _ <<<"$(traces_count in out --)"

# PROTOCOL FIELD [PER_PROTOCOL PER_FIELD X], by number as the model takes them
SPECS=("1 9" "1 8 1 9 1000" "2 11 1 8 20" "3 19 1 9 1000" "1 6 1 8 5" "2 10 2 11 1000")
model() { python3 tests/models/distinct.py "$@"; }
# same_results WHAT A B: the last JSON lines of files A and B give the same
# results (the time aside)
same_results() {
	local a b
	a=$(tail -n 1 "$2" | sed 's/^{"time":[0-9.]*,//')
	b=$(tail -n 1 "$3" | sed 's/^{"time":[0-9.]*,//')
	if [ "$a" = "$b" ]; then
		pass "$1"
	else
		fail "$1: $(diff <(tr '{' '\n' <<<"$a") <(tr '{' '\n' <<<"$b") | head -n 6 | tr '\n' ' ')"
	fi
}

echo "1. offline"
for trace in in corpus; do
	bad=0
	for spec in "${SPECS[@]}"; do
		"$BUILD/mapi" run -r "$T/$trace.pcap" --json "DISTINCT $spec" >"$T/off.json" 2>&1 &&
			model "$T/$trace.pcap" 1 $spec <"$T/off.json" >"$T/model.txt" ||
			{ bad=$((bad + 1)); echo "    DISTINCT $spec: $(head -c 600 "$T/model.txt" "$T/off.json")"; }
	done
	check_eq "${#SPECS[@]} DISTINCT functions over the $trace trace within the model's bounds" \
		"$bad" 0
done

# live_run OUT TRACE N FUNCTION...: mapi run on mon0 over TRACE's N frames
# sent in (and, for the mix, out)
live_run() {
	local out=$1 trace=$2 n=$3 send="traces_send $2 --"
	shift 3
	[ "$trace" = sent ] && send="traces_send in -- out"
	mapi_run_live "$out" "$n" "$send" "$@"
}

echo "2. the port scan"
python3 tests/models/gen_pcap.py scan 2000 50 3 "$T/scan.pcap"
read -r nscan _ <<<"$(traces_count scan --)"
scan='DISTINCT TOPX_IP TOPX_IP_DSTIP TOPX_IP TOPX_IP_SRCIP 3'
"$BUILD/mapi" run -r "$T/scan.pcap" --json "$scan" PKT_COUNTER >"$T/scan_off.json"
model "$T/scan.pcap" 1 1 9 1 8 3 <"$T/scan_off.json" >"$T/model.txt" &&
	pass "offline: within the model's bounds" || fail "offline scan: $(cat "$T/model.txt")"
check_match "offline: the scanner comes first" "$(cat "$T/scan_off.json")" \
	'"values":\[\{"value":"10.9.9.9","distinct":'
live_run "$T/scan_live.json" scan "$nscan" "$scan"
model "$T/scan.pcap" 1 1 9 1 8 3 <"$T/scan_live.json" >"$T/model.txt" &&
	pass "live: within the model's bounds" || fail "live scan: $(cat "$T/model.txt")"
same_results "live: the same estimates as offline" "$T/scan_live.json" "$T/scan_off.json"

echo "3. live, both directions"
fns=()
for spec in "${SPECS[@]}"; do fns+=("DISTINCT $spec"); done
"$BUILD/mapi" run -r "$T/sent.pcap" --json "${fns[@]}" PKT_COUNTER >"$T/sent_off.json"
live_run "$T/live.json" sent "$sent" "${fns[@]}"
bad=0
fid=1
for spec in "${SPECS[@]}"; do
	model "$T/sent.pcap" "$fid" $spec <"$T/live.json" >"$T/model.txt" ||
		{ bad=$((bad + 1)); echo "    DISTINCT $spec: $(head -c 600 "$T/model.txt")"; }
	fid=$((fid + 1))
done
check_eq "${#SPECS[@]} DISTINCT functions of one live flow within the model's bounds" "$bad" 0
same_results "the same estimates as offline over the frames sent" "$T/live.json" \
	"$T/sent_off.json"
mapid_start
MAPI_BACKEND=mapid live_run "$T/mapid.json" sent "$sent" "${fns[@]:1:2}"
check_match "mapid ran the flow" "$(cat "$T/mapid.log")" "on $MON: 3 functions"
"$BUILD/mapi" run -r "$T/sent.pcap" --json "${fns[@]:1:2}" PKT_COUNTER >"$T/sent_off2.json"
same_results "through mapid: the same estimates as offline" "$T/mapid.json" \
	"$T/sent_off2.json"
kill "$MAPID_PID"
wait "$MAPID_PID" 2>/dev/null || true

echo "4. more per values than the table holds"
python3 tests/models/gen_pcap.py sources 20000 0 "$T/many.pcap"
many='DISTINCT TOPX_IP TOPX_IP_DSTIP TOPX_IP TOPX_IP_SRCIP 5'
"$BUILD/mapi" run -r "$T/many.pcap" --json "$many" PKT_COUNTER >"$T/many_off.json"
model "$T/many.pcap" 1 1 9 1 8 5 <"$T/many_off.json" >"$T/model.txt" &&
	pass "offline: 16384 per values, the other 3616 packets counted as other" ||
	fail "offline: $(cat "$T/model.txt")"
live_run "$T/many_live.json" many 20000 "$many"
model "$T/many.pcap" 1 1 9 1 8 5 <"$T/many_live.json" >"$T/model.txt" &&
	pass "live: the same" || fail "live: $(cat "$T/model.txt")"

echo "5. examples/scan_detect"
wait_until 10 hooks_empty || fail "the hooks stay attached"
bg "$NS_MON" "$T/sd.out" "$BUILD/examples/scan_detect" "$MON" 2 100
sd=$!
wait_until 10 attached || fail "scan_detect did not attach: $(cat "$T/sd.out")"
traces_send scan --
wait "$sd" || fail "scan_detect failed: $(cat "$T/sd.out")"
check_match "it reports the scanner, and no other source" "$(grep talks "$T/sd.out" | tr '\n' '|')" \
	'^second [12]: 10.9.9.9 talks to about [0-9]+ destinations \(2000 packets\)\|$'

echo "6. bad arguments"
bad_arg() { refused_arg "$T/in.pcap" "DISTINCT $1" "$2" "$3"; }
bad_arg "9 TOPX_IP_SRCIP" 7001 "protocol 9: .*"
bad_arg "TOPX_UDP TOPX_IP_SRCIP" 7002 "TOPX_IP_SRCIP is not a field of TOPX_UDP"
bad_arg "TOPX_IP TOPX_IP_DSTIP 0 TOPX_IP_SRCIP" 7003 "protocol 0: .*"
bad_arg "TOPX_IP TOPX_IP_DSTIP TOPX_TCP TOPX_IP_SRCIP" 7004 "TOPX_IP_SRCIP is not a field of TOPX_TCP"
bad_arg "TOPX_IP TOPX_IP_DSTIP TOPX_IP TOPX_IP_SRCIP 0" 7005 "X 0: 1 to 1000 per values"
bad_arg "TOPX_IP" 7002 "DISTINCT takes \(PROTOCOL FIELD\) or \(PROTOCOL FIELD PER_PROTOCOL PER_FIELD \[X\]\), got 1 argument"
finish
