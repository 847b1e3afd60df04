#!/usr/bin/env bash
# GAP and PKTINFO, the last packets that reached them:
#
#  1. mapi run -r over the SYN flood trace, behind a filter too: GAP is the
#     time between the last two packets, PKTINFO their last's time and
#     length, as the frames' own records say (a Python reading of them).
#  2. Live, tcpreplay playing the traffic mix into mon0 with its timing,
#     in-process and through mapid: PKTINFO's length is the last frame's,
#     its time within the replay, GAP the trace's last spacing or so.
#  3. Bad arguments.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up
command -v tcpreplay >/dev/null || { fail "tcpreplay is missing (scripts/install-deps.sh)"; finish; }

python3 tests/models/gen_pcap.py synflood 2 1 500 "$T/syn.pcap"
"$BUILD/tests/gen_traffic" mix 131 2000 "$T/mix.pcap" all
SYN='BPF_FILTER "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn"'
# last TRACE SELECT: the model's GAP, last time and last length
last() {
	python3 -c "
import sys; sys.path.insert(0, 'tests/models')
from watch import times
from top import frames
every, sel = times('$1', '$2')
sizes = [w for (b, w), t in zip(frames('$1'), every) if t in set(sel)]
print(sel[-1] - sel[-2], sel[-1], sizes[-1])"
}
json_value() { sed -n "s/.*\"fid\":$2,\"function\":\"[A-Z]*\",\"value\":\([0-9]*\).*/\1/p" "$1" | tail -n 1; }

echo "1. offline"
"$BUILD/mapi" run -r "$T/syn.pcap" --json GAP 'PKTINFO PKT_TS' 'PKTINFO PKT_SIZE' "$SYN" GAP \
	'PKTINFO MAPI_PKT_TS' >"$T/off.json"
read -r gap ts size < <(last "$T/syn.pcap" all)
check_eq "GAP, PKTINFO over every packet: the last two's" \
	"$(json_value "$T/off.json" 1) $(json_value "$T/off.json" 2) $(json_value "$T/off.json" 3)" \
	"$gap $ts $size"
read -r gap ts size < <(last "$T/syn.pcap" syn)
check_eq "behind a filter: the last two SYNs'" \
	"$(json_value "$T/off.json" 5) $(json_value "$T/off.json" 6)" "$gap $ts"

echo "2. live"
size=$(python3 -c "
import sys; sys.path.insert(0, 'tests/models')
from top import frames
print(list(frames('$T/mix.pcap'))[-1][1])")
read -r nmix _ <<<"$(traces_count mix --)"
live() {
	local out=$1 before after
	before=$(date +%s%N)
	mapi_run_live "$out" "$nmix" "in_peer tcpreplay -q -i $PEER $T/mix.pcap >/dev/null 2>&1" \
		GAP 'PKTINFO PKT_TS' 'PKTINFO PKT_SIZE'
	after=$(date +%s%N)
	check_eq "$2: PKTINFO's length is the last frame's" "$(json_value "$out" 3)" "$size"
	ts=$(json_value "$out" 2)
	[ "$ts" -gt "$before" ] && [ "$ts" -lt "$after" ] &&
		pass "$2: PKTINFO's time is within the replay" ||
		fail "$2: PKTINFO's time $ts is not within $before to $after"
	gap=$(json_value "$out" 1)
	[ "$gap" -gt 0 ] && [ "$gap" -lt 100000000 ] &&
		pass "$2: GAP $gap ns, for frames about 1 ms apart" ||
		fail "$2: GAP $gap ns, for frames about 1 ms apart"
}
live "$T/live.json" in-process
mapid_start
MAPI_BACKEND=mapid live "$T/mapid.json" mapid
check_match "mapid ran the flow" "$(cat "$T/mapid.log")" "on $MON: 4 functions"
kill "$MAPID_PID"
wait "$MAPID_PID" 2>/dev/null || true

echo "3. bad arguments"
out=$("$BUILD/mapi" run -r "$T/mix.pcap" "PKTINFO 3" 2>&1 || true)
check_match "PKTINFO 3: 7001" "$out" "MAPI_PKT_TS \(1\) or MAPI_PKT_SIZE \(2\) \(MAPI error 7001\)$"
out=$("$BUILD/mapi" run -r "$T/mix.pcap" "GAP 1" 2>&1 || true)
check_match "GAP 1: 7001" "$out" "GAP takes no arguments.*\(MAPI error 7001\)$"
finish
