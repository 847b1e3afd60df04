#!/usr/bin/env bash
# BUCKET, THRESHOLD and STATS and DIST of a result, the functions of
# another function's number, against a Python model of their semantics
# (tests/models/watch.py):
#
#  1. mapi run -r: BUCKETs (intervals, RESET 0 and 1), THRESHOLDs (the
#     value and its change, the three boundaries, TIMEOUT, COUNT), STATS
#     and DISTs (STEP given and chosen) over a SYN flood trace and the
#     traffic mix: every sample, event, sum and bin exactly the model's
#     (over a trace the clock is the packets' times).
#  2. Live: a BUCKET, a STATS and a DIST of a counter with RESET sampled
#     every 100 ms while tcpreplay plays the mix: samples 100 ms apart,
#     adding up to libpcap's count of the frames sent; in-process and
#     through mapid.
#  3. The DoS job: examples/syn_flood while tcpreplay plays the SYN flood:
#     one alert, for the burst, not for the background; through mapid too.
#  4. Bad arguments: 7000 + n, naming the argument.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up
command -v tcpreplay >/dev/null || { fail "tcpreplay is missing (scripts/install-deps.sh)"; finish; }

python3 tests/models/gen_pcap.py synflood 3 1.5 3000 "$T/syn.pcap"
"$BUILD/tests/gen_traffic" mix 121 3000 "$T/mix.pcap" all
SYN='BPF_FILTER "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn"'
nsyn=$(pcap_count "$T/syn.pcap" "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn")

echo "1. offline"
# each: the function given to mapi run | the model's arguments after FID SELECT
SYN_FNS=(
	'BUCKET 0 2 "500ms" 1|bucket 500000000 1' 'BUCKET 0 2 "70ms" 0|bucket 70000000 0'
	'BUCKET 0 2 "1s" 1|bucket 1000000000 1'
	'THRESHOLD THRESHOLD_CHANGE 0 2 500 BOUNDARY_ABOVE 1000000 10 0|threshold 1 500 1 1000000 10 0'
	'THRESHOLD THRESHOLD_CHANGE 0 2 500 BOUNDARY_ABOVE 0 10 0|threshold 1 500 1 0 10 0'
	'THRESHOLD THRESHOLD_VALUE 0 2 100 BOUNDARY_ABOVE 200000 1 5|threshold 0 100 1 200000 1 5'
	'THRESHOLD THRESHOLD_CHANGE 0 2 1 BOUNDARY_BELOW 500000 5 0|threshold 1 1 3 500000 5 0'
	'THRESHOLD THRESHOLD_VALUE 0 2 75 BOUNDARY_EQUAL 0 1 0|threshold 0 75 2 0 1 0'
	'STATS 0 2 "100ms" 1|stats 100000000 1' 'STATS 0 2 "250ms"|stats 250000000 0'
	'DIST 0 2 0 1000 "100ms" 50 1|dist 100000000 1 0 1000 50'
	'DIST 0 2 0 2050 "200ms"|dist 200000000 0 0 2052 3'
)
ALL_FNS=('BUCKET 0 1 "100ms" 0|bucket 100000000 0' 'BUCKET 0 1 "333ms" 1|bucket 333000000 1'
	'THRESHOLD THRESHOLD_CHANGE 0 1 20 BOUNDARY_ABOVE 100000 3 0|threshold 1 20 1 100000 3 0'
	'STATS 0 1 "333ms" 1|stats 333000000 1' 'DIST 0 1 0 200 "70ms" 10 1|dist 70000000 1 0 200 10')
# offline TRACE SELECT FIRST FN...: mapi run -r TRACE with FIRST then FN...
offline() {
	local trace=$1 select=$2 first=$3 fid spec bad=0 fns=() specs
	shift 3
	specs=("$@")
	for spec in "${specs[@]}"; do fns+=("${spec%|*}"); done
	eval "\"$BUILD/mapi\" run -r \"$T/$trace.pcap\" --json $first" '"${fns[@]}"' >"$T/off.json"
	fid=$([ "$select" = syn ] && echo 3 || echo 2)	# after the FIRST functions
	for spec in "${specs[@]}"; do
		# shellcheck disable=SC2086
		set -- ${spec#*|}
		python3 tests/models/watch.py "$1" "$T/$trace.pcap" "$fid" "$select" "${@:2}" \
			<"$T/off.json" >"$T/model.txt" ||
			{ bad=$((bad + 1)); echo "    ${spec%|*}: $(cat "$T/model.txt")"; }
		fid=$((fid + 1))
	done
	check_eq "${#specs[@]} functions over the $trace trace equal the model" "$bad" 0
}
offline syn syn "'$SYN' PKT_COUNTER" "${SYN_FNS[@]}"
offline mix all "PKT_COUNTER" "${ALL_FNS[@]}"

echo "2. BUCKET, STATS and DIST live"
read -r nmix _ <<<"$(traces_count mix --)"
# the samples add up to every frame once one is taken after the last
samples_sum() {
	tail -n 1 "$T/live.json" | python3 -c '
import json, sys
r = [x for x in json.loads(sys.stdin.read())["results"] if x["function"] == "BUCKET"][0]
print(sum(v for _, v in r["samples"]))'
}
stats_sum() {
	tail -n 1 "$T/live.json" | python3 -c '
import json, sys
r = [x for x in json.loads(sys.stdin.read())["results"] if x["function"] == "STATS"][0]
print(r["sum_lo"])'
}
samples_add_up() { [ "$(samples_sum)" = "$nmix" ] && [ "$(stats_sum)" = "$nmix" ]; }
# live NAME: the three of a counter of the mix replayed
live() {
	bg "$NS_MON" "$T/live.json" "$BUILD/mapi" run -i "$MON" -Q in --json -I 0.5 PKT_COUNTER \
		'BUCKET 0 1 "100ms" 1' 'STATS 0 1 "100ms" 1' 'DIST 0 1 0 100000 "100ms" 100 1'
	local pid=$!
	wait_until 10 grep -qs results "$T/live.json" || fail "mapi run did not start"
	in_peer tcpreplay -q -i "$PEER" "$T/mix.pcap" >/dev/null 2>&1 || fail "tcpreplay failed"
	wait_until 10 samples_add_up ||
		fail "the samples do not add up to the $nmix frames: BUCKET $(samples_sum), STATS $(stats_sum)"
	kill -TERM "$pid"
	wait "$pid" || true
	python3 - "$T/live.json" "$nmix" <<'PY' && pass "$1: samples 100 ms apart, adding up to the $nmix frames sent, as STATS's and DIST's" || fail "$1: the live samples: see above"
import json, sys
r = [x for x in json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["results"]
     if x["function"] == "BUCKET"][0]
s = r["samples"]
gaps = {b[0] - a[0] for a, b in zip(s, s[1:])}
ok = gaps == {100_000_000} and sum(v for _, v in s) == int(sys.argv[2]) and r["total"] == len(s)
if not ok:
    print("   ", gaps, sum(v for _, v in s), r["total"], len(s))
# STATS and DIST of the same gains: as many samples as BUCKET's whole
# intervals (give or take the one between their reads), every one binned
st = [x for x in json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["results"]
      if x["function"] in ("STATS", "DIST")]
for x in st:
    if abs(x["count"] - len(s)) > 1:
        ok = False
        print("   ", x["function"], x["count"], "samples; BUCKET", len(s))
d = st[1]
if d["below"] + d["above"] + sum(d["counts"]) != d["count"] or st[0]["max"] >= 100000:
    ok = False
    print("    DIST", d)
sys.exit(0 if ok else 1)
PY
}
live in-process

echo "3. the DoS job: examples/syn_flood"
flood() {
	bg "$NS_MON" "$T/$1.out" "$BUILD/examples/syn_flood" "$MON" 5 500
	local pid=$!
	wait_until 10 grep -qs watching "$T/$1.out" || fail "syn_flood did not start: $(cat "$T/$1.out")"
	in_peer tcpreplay -q -i "$PEER" "$T/syn.pcap" >/dev/null 2>&1 || fail "tcpreplay failed"
	wait "$pid" || fail "syn_flood failed: $(cat "$T/$1.out")"
	check_match "$1: one alert, for the burst, and every SYN counted" \
		"$(grep -v watching "$T/$1.out" | tr '\n' '|')" \
		"^alert 1: ([5-9][0-9][0-9]|[1-9][0-9]{3}) SYNs in 100 ms, at [0-9.]+\|syns $nsyn alerts 1\|$"
}
flood in-process
mapid_start
MAPI_BACKEND=mapid flood mapid
check_match "mapid ran the flow" "$(cat "$T/mapid.log")" "on $MON: 3 functions"
MAPI_BACKEND=mapid live mapid
kill "$MAPID_PID"
wait "$MAPID_PID" 2>/dev/null || true

echo "4. bad arguments"
bad_arg() {
	local out
	out=$(eval "\"$BUILD/mapi\" run -r \"$T/mix.pcap\" PKT_COUNTER $1" 2>&1 || true)
	check_match "$1: $2" "$out" "$3 \(MAPI error $2\)$"
}
bad_arg "'BUCKET 0 1 \"1 s\" 0'" 7003 'INTERVAL "1 s": a number and us, ms, s or m'
bad_arg "'BUCKET 0 1 \"1s\" 2'" 7004 "RESET 2: 0 or 1"
bad_arg "'BUCKET 99 1 \"1s\"'" 7001 "invalid flow descriptor 99: .*"
bad_arg "'BUCKET 0 5 \"1s\"'" 7002 ".*"
bad_arg "'BPF_FILTER \"tcp\"' 'BUCKET 0 2 \"1s\"'" 7002 "function 2 of flow 0 is BPF_FILTER, which has no number to watch"
bad_arg "'THRESHOLD 2 0 1 5 1 0 1 0'" 7001 "TYPE 2: .*"
bad_arg "'THRESHOLD 0 0 1 5 4 0 1 0'" 7005 "BOUNDARY 4: .*"
bad_arg "'THRESHOLD 0 0 1 5 1 0 0 0'" 7007 "DIVIDER 0: 1 to 60000 polls of 10 ms"
bad_arg "'THRESHOLD 0 0 1 5 1 0 1 -1'" 7008 "COUNT -1: .*"
bad_arg "'BUCKET 0 1 \"1s\"' 'BUCKET 0 2 \"1s\"'" 7002 "function 2 of flow 0 is BUCKET, which has no number to watch"
bad_arg "'STATS 0 1 \"1 s\"'" 7003 'STATS INTERVAL "1 s": a number and us, ms, s or m'
bad_arg "'STATS 0 1 \"1s\" 2'" 7004 "STATS RESET 2: 0 or 1"
bad_arg "'STATS 0 3 \"1s\"'" 7002 "STATS: function 3 of its own flow is not one applied before it"
bad_arg "'DIST 0 1 100 50 \"1s\"'" 7004 "DIST MAX 50: more than MIN \(100\)"
bad_arg "'DIST 0 1 0 100 \"1s\" 7'" 7006 "DIST STEP 7: .*"
bad_arg "'DIST 0 1 0 100 \"1s\" 10 3'" 7007 "DIST RESET 3: 0 or 1"
bad_arg "'DIST 0 1 0 100 \"1d\"'" 7005 'DIST INTERVAL "1d": a number and us, ms, s or m'
bad_arg "'DIST 0 1 0 100 \"1s\" 10 1 5'" 7008 "DIST takes .*, got 8 arguments"
finish
