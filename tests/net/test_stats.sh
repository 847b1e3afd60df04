#!/usr/bin/env bash
# STATS and DIST against Python models of the same values from the frames'
# bytes (tests/models/stats.py, dist.py): count, sum and sum of squares
# (128 bits), minimum and maximum exact, mean and standard deviation from
# them; every bin of a histogram exact.
#
#  1. mapi run -r: the frames' length and several fields (8 to 32 bits),
#     over the traffic mix and the filter corpus.
#  2. Live, both directions, all of them on one flow; through mapid too.
#  3. Bad arguments: 7000 + n, naming the argument.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

"$BUILD/tests/gen_traffic" mix 111 3000 "$T/in.pcap" all
"$BUILD/tests/gen_traffic" mix 112 2000 "$T/out.pcap" all
"$BUILD/tests/gen_traffic" corpus 113 2500 "$T/corpus.pcap"
{ cat "$T/in.pcap"; tail -c +25 "$T/out.pcap"; } >"$T/sent.pcap"
read -r sent _ <<<"$(traces_count in out --)"

# what STATS is given, and the model's PROTOCOL [FIELD]
SPECS=("MAPI_PKT_SIZE|0" "1 5|1 5" "1 2|1 2" "2 12|2 12" "2 15|2 15" "3 20|3 20" "1 6|1 6")
# and DIST's, with the model's PROTOCOL FIELD MIN MAX STEP
DISTS=("MAPI_PKT_SIZE 0 1600 100|0 0 0 1600 100" "1 5 0 256 8|1 5 0 256 8"
	"1 2 60 1500 20|1 2 60 1500 20" "2 15 0 65536 1024|2 15 0 65536 1024" "3 20 8 520 1|3 20 8 520 1")
fns=()
for s in "${SPECS[@]}"; do fns+=("STATS ${s%|*}"); done
for s in "${DISTS[@]}"; do fns+=("DIST ${s%|*}"); done
# check FILE TRACE WHAT: every STATS and DIST of FILE's last line against
# the models
check_all() {
	local fid=1 bad=0 s
	for s in "${SPECS[@]}"; do
		# shellcheck disable=SC2086
		python3 tests/models/stats.py "$2" "$fid" ${s#*|} <"$1" >"$T/model.txt" ||
			{ bad=$((bad + 1)); echo "    STATS ${s%|*}: $(cat "$T/model.txt")"; }
		fid=$((fid + 1))
	done
	for s in "${DISTS[@]}"; do
		# shellcheck disable=SC2086
		python3 tests/models/dist.py "$2" "$fid" ${s#*|} <"$1" >"$T/model.txt" ||
			{ bad=$((bad + 1)); echo "    DIST ${s%|*}: $(cat "$T/model.txt")"; }
		fid=$((fid + 1))
	done
	check_eq "$3" "$bad" 0
}

echo "1. offline"
for trace in in corpus; do
	"$BUILD/mapi" run -r "$T/$trace.pcap" --json "${fns[@]}" >"$T/off.json"
	check_all "$T/off.json" "$T/$trace.pcap" "${#fns[@]} STATS and DIST over the $trace trace equal the models"
done

echo "2. live, both directions"
live_run() { mapi_run_live "$1" "$sent" "traces_send in -- out" "${fns[@]}"; }
live_run "$T/live.json"
check_all "$T/live.json" "$T/sent.pcap" "${#fns[@]} STATS and DIST of one live flow equal the models"
mapid_start
MAPI_BACKEND=mapid live_run "$T/mapid.json"
check_match "mapid ran the flow" "$(cat "$T/mapid.log")" "on $MON: $((${#fns[@]} + 1)) functions"
check_all "$T/mapid.json" "$T/sent.pcap" "through mapid: the same"
kill "$MAPID_PID"
wait "$MAPID_PID" 2>/dev/null || true

echo "3. bad arguments"
bad_arg() { refused_arg "$T/in.pcap" "STATS $1" "$2" "$3"; }
bad_arg "5" 7001 "STATS 5: MAPI_PKT_SIZE \(2\), or a PROTOCOL and a FIELD"
bad_arg "TOPX_IP TOPX_IP_SRCIP" 7002 "an address is not a number"
bad_arg "TOPX_UDP TOPX_TCP_SEQ" 7002 "TOPX_TCP_SEQ is not a field of TOPX_UDP"
bad_arg "1 2 3" 7003 "STATS argument 3 \(INTERVAL\) must be a string, not a signed integer"
bad_arg "1 2 \"1s\" 0 5" 7005 "STATS takes \(MAPI_PKT_SIZE\) or \(PROTOCOL FIELD\) or \(FD FID INTERVAL \[RESET\]\), got 5 arguments"
dist_arg() { refused_arg "$T/in.pcap" "DIST $1" "$2" "$3"; }
dist_arg "5 0 100 10" 7001 "DIST 5: MAPI_PKT_SIZE \(2\), or a PROTOCOL and a FIELD"
dist_arg "MAPI_PKT_SIZE 100 100 10" 7003 "MAX 100: more than MIN \(100\)"
dist_arg "MAPI_PKT_SIZE 0 100 7" 7004 "STEP 7: MAX - MIN \(100\) in whole steps, 1024 bins at most"
dist_arg "MAPI_PKT_SIZE 0 2000 1" 7004 "STEP 1: .*"
dist_arg "TOPX_IP TOPX_IP_DSTIP 0 10 1" 7002 "an address is not a number"
dist_arg "1 2 3 \"1s\" 5" 7004 "argument 4 \(MAX\) must be an integer, not a string"
finish
