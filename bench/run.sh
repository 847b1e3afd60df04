#!/usr/bin/env bash
# make bench: what mapi-bpf costs, as ratios to baselines measured in the
# same run on the same machine (bench/README.md explains the method).
#
#   BENCH_RUNS   runs per case, the median is reported (default 7)
#   BENCH_PKTS   packets per live run (default 2000000)
#   BENCH_SMOKE  1: one tiny run per case, to prove every case still works
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RUNS=${BENCH_RUNS:-7}
PKTS=${BENCH_PKTS:-2000000}
if [ "${BENCH_SMOKE:-0}" = 1 ]; then
	RUNS=1
	PKTS=20000
fi
TEST_NAME=bench
. tests/lib.sh
need_root

B=$BUILD/bench
G=$BUILD/tests
FILTER="tcp and dst port 80"
RESULTS=bench/results
mkdir -p "$RESULTS"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
JSON=$RESULTS/bench-$STAMP.json
ROWS=()
CASES=()

median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
jget() { sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p"; }

# row NAME VALUE UNIT BASELINE RATIO GOAL
row() { ROWS+=("$(printf '%-46s %12s %-9s %12s %10s  %s' "$1" "$2" "$3" "$4" "$5" "$6")"); }
record() { CASES+=("$1"); }

echo "mapi-bpf bench: $RUNS runs per case, $(nproc) CPUs, $(uname -r)"

# --- 1. per-packet cost against an empty XDP program -------------------------
echo "cost: BPF_PROG_TEST_RUN, flow '$FILTER' + PKT_COUNTER + BYTE_COUNTER"
"$B/cost" cost "$RUNS" > "$T/cost.json"
while read -r line; do
	record "$line"
	name=$(sed -n 's/.*"case":"\([^"]*\)".*/\1/p' <<<"$line")
	row "$name" "$(jget median <<<"$line")" "ns/pkt" "$(jget baseline <<<"$line")" "-" \
		"median of (flow - empty) per run; goal <= 10 ns"
done < "$T/cost.json"

# --- 2. filters against libpcap's interpreter ------------------------------------
echo "filters: translated filters against pcap_offline_filter on the same frames"
taskset -c 1 "$B/filters" "$RUNS" > "$T/filters.json"
while read -r line; do
	record "$line"
	row "filter: $(sed -n 's/.*"filter":"\([^"]*\)".*/\1/p' <<<"$line" | cut -c1-38)" \
		"$(jget ebpf <<<"$line")" "ns/pkt" "$(jget libpcap <<<"$line")" \
		"$(jget median <<<"$line")" "eBPF minus empty, to libpcap; goal <= 0.5"
done < "$T/filters.json"

# --- 3. connect latency --------------------------------------------------------
testbed_up
for others in 0 100; do
	echo "connect: latency with $others other flows"
	line=$(in_mon "$B/cost" connect $((RUNS < 5 ? 5 : 20)) "$MON" "$others")
	record "$line"
	row "connect latency, $others other flows" "$(jget median <<<"$line")" ms "-" "-" \
		"goal <= 20 ms"
done

# --- 4. live traffic at full speed ----------------------------------------------
# The sender (BPF_PROG_TEST_RUN live frames, XDP_TX on peer0) runs on CPU 1,
# where veth also runs mon0's receive path; libpcap's reader gets CPU 0.
send() { in_peer taskset -c 1 "$G/livesend" "$PEER" "$PKTS" tcp80 | sed -n 's/^sent [0-9]* in \([0-9.]*\) s$/\1/p'; }

start_bg() { # NAME CMD...: runs CMD in the monitor namespace, output in $T/NAME
	local name=$1
	shift
	(exec ip netns exec "$NS_MON" "$@" >"$T/$name.out" 2>"$T/$name.err") &
	eval "PID_$name=$!"
	BG_PIDS+=($!)
}
stop_bg() {
	local pid
	pid=$(eval echo "\$PID_$1")
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
wait_ready() { wait_until 10 grep -q ready "$T/$1.out"; }
attached() { ! hooks_empty; }

: >"$T/rate_empty"; : >"$T/rate_mapi"; : >"$T/rate_pcap"; : >"$T/drop_pcap"
for ((r = 1; r <= RUNS; r++)); do
	echo "live: run $r of $RUNS ($PKTS packets each)"
	# a) only an empty XDP program that counts what arrives
	start_bg xdp "$G/xdpattach" "$MON" count
	wait_ready xdp
	t=$(send)
	stop_bg xdp
	seen=$(sed -n 's/^seen //p' "$T/xdp.out")
	echo "$seen $t" | awk '{print $1 / $2}' >>"$T/rate_empty"

	# b) a mapi flow: filter + packet and byte counters
	start_bg mapi "$BUILD/mapi" count -i "$MON" -I 3600 "$FILTER"
	wait_until 10 attached
	t=$(send)
	stop_bg mapi
	n=$(sed -n 's/^\([0-9]*\) packets.*counted.*/\1/p' "$T/mapi.err")
	echo "$n $t" | awk '{print $1 / $2}' >>"$T/rate_mapi"
	wait_until 5 hooks_empty || true

	# c) libpcap counting the same filter (veth delivers XDP_TX frames only
	#    to an interface with an XDP program: an empty one)
	start_bg pass "$G/xdpattach" "$MON" pass
	wait_ready pass
	start_bg pcap taskset -c 0 "$B/pcap_count" "$MON" "$FILTER"
	wait_ready pcap
	t=$(send)
	sleep 0.2	# let the reader drain its buffer
	stop_bg pcap
	stop_bg pass
	read -r _ counted _ received _ dropped < <(grep counted "$T/pcap.out")
	echo "$counted $t" | awk '{print $1 / $2}' >>"$T/rate_pcap"
	echo "$dropped $received" | awk '{print ($2 ? $1 / $2 : 0)}' >>"$T/drop_pcap"
done
empty=$(median <"$T/rate_empty")
mapi=$(median <"$T/rate_mapi")
pcap=$(median <"$T/rate_pcap")
drops=$(median <"$T/drop_pcap")
ratio=$(awk -v a="$mapi" -v b="$empty" 'BEGIN {printf "%.3f", a / b}')
pratio=$(awk -v a="$pcap" -v b="$empty" 'BEGIN {printf "%.3f", a / b}')
record "{\"case\":\"live.empty_xdp\",\"unit\":\"packets/s\",\"median\":$empty,\"runs\":[$(paste -sd, "$T/rate_empty")]}"
record "{\"case\":\"live.mapi_flow\",\"unit\":\"packets/s\",\"median\":$mapi,\"ratio_to_empty\":$ratio,\"runs\":[$(paste -sd, "$T/rate_mapi")]}"
record "{\"case\":\"live.libpcap\",\"unit\":\"packets/s\",\"median\":$pcap,\"ratio_to_empty\":$pratio,\"drop_fraction\":$drops,\"runs\":[$(paste -sd, "$T/rate_pcap")]}"
row "live: empty XDP program (pkt/s seen)" "$(printf %.0f "$empty")" pkt/s "-" "1" "the floor"
row "live: mapi flow (pkt/s counted)" "$(printf %.0f "$mapi")" pkt/s "$(printf %.0f "$empty")" "$ratio" "goal >= 0.9"
row "live: libpcap counting (pkt/s counted)" "$(printf %.0f "$pcap")" pkt/s "$(printf %.0f "$empty")" "$pratio" \
	"dropped $(awk -v d="$drops" 'BEGIN {printf "%.1f%%", 100 * d}') of what it received"

{
	echo "{\"date\":\"$STAMP\",\"kernel\":\"$(uname -r)\",\"cpus\":$(nproc),\"runs\":$RUNS,\"cases\":["
	for ((i = 0; i < ${#CASES[@]}; i++)); do
		echo "  ${CASES[i]}$([ $i -lt $((${#CASES[@]} - 1)) ] && echo ,)"
	done
	echo "]}"
} >"$JSON"

echo
printf '%-46s %12s %-9s %12s %10s  %s\n' case median unit baseline ratio notes
for r in "${ROWS[@]}"; do echo "$r"; done
echo
echo "results: $JSON"
