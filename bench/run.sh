#!/usr/bin/env bash
# make bench: what mapi-bpf costs, as ratios to baselines measured in the
# same run on the same machine (bench/README.md explains the method).
#
#   BENCH_RUNS   runs per case, the median is reported (default 5)
#   BENCH_PKTS   packets per live run (default 2000000)
#   BENCH_SMOKE  1: one tiny run per case, to prove every case still works
#   BENCH_CASES  the cases to run (default: cost functions filters search
#                connect convs live capture memory offline mapid named)
#   BENCH_TRACE_PKTS  packets in the offline case's trace (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RUNS=${BENCH_RUNS:-5}
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

# --- helpers for the cases on the testbed ------------------------------------
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
wait_ready() { wait_until 10 grep -qs ready "$T/$1.out"; }

# CPU time of the whole machine (both CPUs: sender, kernel, readers), ns.
# Divided by the packets sent it gives CPU time per packet; the sender's
# share is the same in every case, so the difference to the empty XDP
# program's figure is what the monitor costs.
TICK_NS=$((1000000000 / $(getconf CLK_TCK)))
cpu_busy() { awk -v t="$TICK_NS" '/^cpu / {printf "%.0f\n", ($2 + $3 + $4 + $7 + $8 + $9) * t}' /proc/stat; }
# cpu_note FILE SINCE: appends CPU ns per packet sent since cpu_busy gave SINCE
cpu_note() { echo "$2 $(cpu_busy) $PKTS" | awk '{printf "%.1f\n", ($2 - $1) / $3}' >>"$1"; }
cpu_median() { median <"$T/$1"; }

# --- 1. per-packet cost against an empty XDP program -------------------------
bench_cost() {
	echo "cost: BPF_PROG_TEST_RUN, flow '$FILTER' + PKT_COUNTER + BYTE_COUNTER"
	"$B/cost" cost "$RUNS" > "$T/cost.json"
	while read -r line; do
		record "$line"
		name=$(sed -n 's/.*"case":"\([^"]*\)".*/\1/p' <<<"$line")
		row "$name" "$(jget median <<<"$line")" "ns/pkt" "$(jget baseline <<<"$line")" "-" \
			"median of (flow - empty) per run; goal <= 10 ns"
	done < "$T/cost.json"
}

# --- 1b. the library's other functions, each over a counter alone ----------------
bench_functions() {
	echo "functions: BPF_PROG_TEST_RUN, each function before a PKT_COUNTER, over the counter alone"
	"$B/cost" functions "$RUNS" > "$T/functions.json"
	while read -r line; do
		record "$line"
		row "$(sed -n 's/.*"case":"\([^"]*\)".*/\1/p' <<<"$line")" "$(jget median <<<"$line")" \
			"ns/pkt" "$(jget counter <<<"$line")" "-" \
			"median of (with it - counter alone) per run; goal <= 15 ns (TOP: 40)"
	done < "$T/functions.json"
	# TOP and DISTINCT over 100,000 Zipf-distributed sources, streamed (one
	# test run of 400,000 repeats, each from the next source:
	# bpf/keyfeed.bpf.c); "cold": each packet a run of its own; "floor": one
	# line of a table of that size reached at each packet's first slot, over
	# the same work at a slot that stays in the cache (bpf/slottouch.bpf.c)
	"$B/cost" top-keys "$(( RUNS < 3 ? RUNS : 3 ))" > "$T/top.json"
	while read -r line; do
		record "$line"
		case $line in
		*_floor*) row "$(sed -n 's/.*"case":"\([^"]*\)".*/\1/p' <<<"$line")" "$(jget median <<<"$line")" \
			"ns/pkt" "-" "-" "$(jget kernel_bytes <<<"$line") bytes: a line of the table at the first slot, over a cached one"
			continue ;;
		*top_100k*) notes="top-10 recall $(jget recall_top10 <<<"$line"), max error $(jget max_relative_error <<<"$line"), a read $(jget read_ms <<<"$line") ms, cold $(jget cold <<<"$line") ns" ;;
		*distinct_per_100k*) notes="$(jget per_values <<<"$line") per values held of $(jget table <<<"$line") room, $(jget other_packets <<<"$line") packets other, $(jget listed_with_one <<<"$line") of $(jget listed <<<"$line") listed exact, cold $(jget cold <<<"$line") ns" ;;
		*) notes="error $(jget relative_error <<<"$line") (standard $(jget standard_error <<<"$line")), cold $(jget cold <<<"$line") ns" ;;
		esac
		row "$(sed -n 's/.*"case":"\([^"]*\)".*/\1/p' <<<"$line")" "$(jget median <<<"$line")" \
			"ns/pkt" "-" "-" "$(jget kernel_bytes <<<"$line") bytes of maps, $notes; goal <= 40 ns"
	done < "$T/top.json"
}

# --- 2. filters against libpcap's interpreter ------------------------------------
bench_filters() {
	echo "filters: translated filters against pcap_offline_filter on the same frames"
	taskset -c 1 "$B/filters" "$RUNS" > "$T/filters.json"
	while read -r line; do
		record "$line"
		row "filter: $(sed -n 's/.*"filter":"\([^"]*\)".*/\1/p' <<<"$line" | cut -c1-38)" \
			"$(jget ebpf <<<"$line")" "ns/pkt" "$(jget libpcap <<<"$line")" \
			"$(jget median <<<"$line")" "eBPF minus empty, to libpcap; goal <= 0.5"
	done < "$T/filters.json"
}

# --- 2b. STR_SEARCH against memmem -----------------------------------------------
bench_search() {
	echo "search: STR_SEARCH in the kernel against glibc memmem on the same frames"
	taskset -c 1 "$B/search" "$RUNS" > "$T/search.json"
	while read -r line; do
		record "$line"
		row "search: $(sed -n 's/.*"case":"search\.\([^"]*\)".*/\1/p' <<<"$line")" \
			"$(jget kernel <<<"$line")" "ns/pkt" "$(jget memmem <<<"$line")" \
			"$(jget median <<<"$line")" "kernel minus empty, to memmem"
	done < "$T/search.json"
}

# --- 3. connect latency --------------------------------------------------------
bench_connect() {
	for others in 0 100; do
		echo "connect: latency with $others other flows"
		line=$(in_mon "$B/cost" connect $((RUNS < 5 ? 5 : 20)) "$MON" "$others")
		record "$line"
		row "connect latency, $others other flows" "$(jget median <<<"$line")" ms "-" "-" \
			"goal <= 20 ms"
	done
}

# --- 3b. conversation flows by the thousand ---------------------------------------
bench_convs() {
	local line n=1000 c1 pid rss mem
	echo "convs: per-packet cost with 1, 10, 100, 1000 conversation flows"
	"$B/cost" convs "$RUNS" >"$T/convs.json"
	while read -r line; do
		record "$line"
		n=$(jget flows <<<"$line")
		[ "$n" = 1 ] && c1=$(jget median <<<"$line")
		row "conversation flows: $n, cost" "$(jget median <<<"$line")" "ns/pkt" \
			"$(jget baseline <<<"$line")" \
			"$(awk -v a="$(jget median <<<"$line")" -v b="$c1" 'BEGIN {printf "%.2f", a / b}')" \
			"to 1 flow; goal at 1000 <= 3"
	done <"$T/convs.json"

	echo "convs: 1000 conversation flows connected, then flow 1001"
	coproc CONVS { exec ip netns exec "$NS_MON" "$B/cost" convs-connect $((RUNS < 5 ? 5 : 20)) "$MON" 1000; }
	pid=$CONVS_PID
	BG_PIDS+=("$pid")
	read -r -t 120 line <&"${CONVS[0]}" || line=""
	[ "$line" = "ready 1000" ] || { echo "convs: $line" >&2; exit 1; }
	rss=$(awk '/^VmRSS/ {print $2 * 1024}' "/proc/$pid/status")
	# the interface's conversation tables: key maps, counter lines, config
	mem=$(bpftool map show | awk '
		/^[0-9]+: / { mine = $0 ~ / name (mapi_hkeys_in|mapi_hkeys_out|mapi_hstore|mapi_hcfg) / }
		mine && /memlock/ { for (i = 1; i <= NF; i++) if ($i == "memlock") { sub("B", "", $(i + 1)); sum += $(i + 1) } }
		END { print sum + 0 }')
	echo go >&"${CONVS[1]}"
	read -r -t 120 line <&"${CONVS[0]}" || line=""
	wait "$pid" || true
	record "$line"
	row "conversation flow 1001: create + connect" "$(jget median <<<"$line")" ms "-" "-" \
		"goal <= 20 ms"
	record "{\"case\":\"convs.kernel_memory_per_flow\",\"unit\":\"bytes\",\"median\":$((mem / n)),\"flows\":$n,\"total\":$mem}"
	row "conversation flows: kernel memory per flow" "$((mem / n))" bytes "-" "-" \
		"all tables (made for 16384) / 1000; goal <= 65536"
	record "{\"case\":\"convs.rss\",\"unit\":\"bytes\",\"median\":$rss,\"flows\":$n}"
	row "conversation flows: process RSS at 1000" "$rss" bytes "-" "-" "resident set of the process"
	wait_until 10 hooks_empty || true
}

# --- 4. live traffic at full speed ----------------------------------------------
bench_live() {
	: >"$T/rate_empty"; : >"$T/rate_mapi"; : >"$T/rate_pcap"; : >"$T/drop_pcap"
	: >"$T/cpu_empty"; : >"$T/cpu_mapi"; : >"$T/cpu_pcap"
	for ((r = 1; r <= RUNS; r++)); do
		echo "live: run $r of $RUNS ($PKTS packets each)"
		# a) only an empty XDP program that counts what arrives
		start_bg xdp "$G/xdpattach" "$MON" count
		wait_ready xdp
		b0=$(cpu_busy)
		t=$(send)
		cpu_note "$T/cpu_empty" "$b0"
		stop_bg xdp
		seen=$(sed -n 's/^seen //p' "$T/xdp.out")
		echo "$seen $t" | awk '{print $1 / $2}' >>"$T/rate_empty"

		# b) a mapi flow: filter + packet and byte counters
		start_bg mapi "$BUILD/mapi" count -i "$MON" -I 3600 "$FILTER"
		wait_until 10 attached
		b0=$(cpu_busy)
		t=$(send)
		cpu_note "$T/cpu_mapi" "$b0"
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
		b0=$(cpu_busy)
		t=$(send)
		sleep 0.2	# let the reader drain its buffer
		cpu_note "$T/cpu_pcap" "$b0"
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
	local ce cm cp
	ce=$(cpu_median cpu_empty) cm=$(cpu_median cpu_mapi) cp=$(cpu_median cpu_pcap)
	record "{\"case\":\"live.empty_xdp\",\"unit\":\"packets/s\",\"median\":$empty,\"cpu_ns_per_packet\":$ce,\"runs\":[$(paste -sd, "$T/rate_empty")]}"
	record "{\"case\":\"live.mapi_flow\",\"unit\":\"packets/s\",\"median\":$mapi,\"ratio_to_empty\":$ratio,\"cpu_ns_per_packet\":$cm,\"runs\":[$(paste -sd, "$T/rate_mapi")]}"
	record "{\"case\":\"live.libpcap\",\"unit\":\"packets/s\",\"median\":$pcap,\"ratio_to_empty\":$pratio,\"drop_fraction\":$drops,\"cpu_ns_per_packet\":$cp,\"runs\":[$(paste -sd, "$T/rate_pcap")]}"
	row "live: empty XDP program (pkt/s seen)" "$(printf %.0f "$empty")" pkt/s "-" "1" \
		"the floor; CPU $ce ns/pkt sent"
	row "live: mapi flow (pkt/s counted)" "$(printf %.0f "$mapi")" pkt/s "$(printf %.0f "$empty")" "$ratio" \
		"goal >= 0.9; CPU $cm ns/pkt sent"
	row "live: libpcap counting (pkt/s counted)" "$(printf %.0f "$pcap")" pkt/s "$(printf %.0f "$empty")" "$pratio" \
		"dropped $(awk -v d="$drops" 'BEGIN {printf "%.1f%%", 100 * d}') of what it received; CPU $cp ns/pkt sent"
}

# --- 5. packets to user space: TO_BUFFER against tcpdump -w /dev/null -------------
bench_capture() {
	# Every frame matches, so every frame crosses into user space: mapi capture
	# (TO_BUFFER, a ring buffer) against tcpdump (a packet socket's ring), both
	# writing to /dev/null, both on CPU 0 while the sender has CPU 1.
	: >"$T/rate_cap"; : >"$T/drop_cap"; : >"$T/rate_td"; : >"$T/drop_td"
	: >"$T/cpu_cap"; : >"$T/cpu_td"
	for ((r = 1; r <= RUNS; r++)); do
		echo "capture: run $r of $RUNS ($PKTS packets each)"
		start_bg cap taskset -c 0 "$BUILD/mapi" capture -i "$MON" -Q in -w /dev/null "$FILTER"
		wait_until 10 attached
		b0=$(cpu_busy)
		t=$(send)
		sleep 0.2	# let the reader drain the ring
		cpu_note "$T/cpu_cap" "$b0"
		stop_bg cap
		got=$(sed -n 's/^\([0-9]*\) packets captured$/\1/p' "$T/cap.err")
		lost=$(sed -n 's/^\([0-9]*\) packets dropped by the ring buffer$/\1/p' "$T/cap.err")
		echo "$got $t" | awk '{print $1 / $2}' >>"$T/rate_cap"
		echo "$lost $got" | awk '{print ($1 + $2 ? $1 / ($1 + $2) : 0)}' >>"$T/drop_cap"
		wait_until 5 hooks_empty || true

		start_bg pass "$G/xdpattach" "$MON" pass
		wait_ready pass
		start_bg td taskset -c 0 tcpdump -i "$MON" -Q in -n -w /dev/null "$FILTER"
		wait_until 10 grep -q "listening on" "$T/td.err"
		b0=$(cpu_busy)
		t=$(send)
		sleep 0.2
		cpu_note "$T/cpu_td" "$b0"
		stop_bg td
		stop_bg pass
		got=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$T/td.err")
		lost=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$T/td.err")
		echo "$got $t" | awk '{print $1 / $2}' >>"$T/rate_td"
		echo "$lost $got" | awk '{print ($1 + $2 ? $1 / ($1 + $2) : 0)}' >>"$T/drop_td"
	done
	cap=$(median <"$T/rate_cap")
	td=$(median <"$T/rate_td")
	cratio=$(awk -v a="$cap" -v b="$td" 'BEGIN {printf "%.3f", a / b}')
	cdrop=$(median <"$T/drop_cap")
	tdrop=$(median <"$T/drop_td")
	local cc ct
	cc=$(cpu_median cpu_cap) ct=$(cpu_median cpu_td)
	record "{\"case\":\"capture.mapi\",\"unit\":\"packets/s\",\"median\":$cap,\"ratio_to_tcpdump\":$cratio,\"drop_fraction\":$cdrop,\"cpu_ns_per_packet\":$cc,\"runs\":[$(paste -sd, "$T/rate_cap")]}"
	record "{\"case\":\"capture.tcpdump\",\"unit\":\"packets/s\",\"median\":$td,\"drop_fraction\":$tdrop,\"cpu_ns_per_packet\":$ct,\"runs\":[$(paste -sd, "$T/rate_td")]}"
	row "capture: tcpdump -w /dev/null (pkt/s)" "$(printf %.0f "$td")" pkt/s "-" "1" \
		"dropped $(awk -v d="$tdrop" 'BEGIN {printf "%.1f%%", 100 * d}'); CPU $ct ns/pkt sent"
	row "capture: TO_BUFFER, mapi capture (pkt/s)" "$(printf %.0f "$cap")" pkt/s "$(printf %.0f "$td")" "$cratio" \
		"dropped $(awk -v d="$cdrop" 'BEGIN {printf "%.1f%%", 100 * d}'); goal >= 1; CPU $cc ns/pkt sent"
}

# --- 6. kernel memory of a TO_BUFFER flow ---------------------------------------
bench_memory() {
	flowctl_start
	fc_ok create "$MON"
	fd=$V
	fc_ok apply "$fd" BPF_FILTER "\"$FILTER\""
	fc_ok apply "$fd" TO_BUFFER
	fc_ok connect "$fd"
	# the flow's maps: its result lines (mapi_f<fd>), its ring, record buffer
	# and reader flag
	mem=$(bpftool map show | awk '
		/^[0-9]+: / { mine = $0 ~ / name (mapi_ring|mapi_capbuf|mapi_rdsleep|mapi_f[0-9]+) / }
		mine && /memlock/ { for (i = 1; i <= NF; i++) if ($i == "memlock") { sub("B", "", $(i + 1)); sum += $(i + 1) } }
		END { print sum + 0 }')
	fc_ok close "$fd"
	record "{\"case\":\"capture.kernel_memory\",\"unit\":\"bytes\",\"median\":$mem}"
	row "TO_BUFFER flow: kernel memory (memlock)" "$mem" bytes "-" "-" \
		"4 MiB ring + a record buffer per CPU + result maps"
}

# --- 7. a trace file: mapi count -r against tcpdump -r ---------------------------
# The same filter, one trace of BENCH_TRACE_PKTS generated packets in the page
# cache; each reads the whole trace: packets per second over the wall time.
bench_offline() {
	local n=${BENCH_TRACE_PKTS:-1000000} t0 t1
	[ "${BENCH_SMOKE:-0}" = 1 ] && n=20000
	echo "offline: $n packets, mapi count -r against tcpdump -r -w /dev/null"
	"$G/gen_traffic" mix 7 "$n" "$T/trace.pcap"
	cat "$T/trace.pcap" >/dev/null	# into the page cache
	: >"$T/rate_off"; : >"$T/rate_tdr"
	for ((r = 1; r <= RUNS; r++)); do
		t0=$(date +%s%N)
		"$BUILD/mapi" count -r "$T/trace.pcap" "$FILTER" >/dev/null 2>&1
		t1=$(date +%s%N)
		echo "$n $t0 $t1" | awk '{print $1 / (($3 - $2) / 1e9)}' >>"$T/rate_off"
		t0=$(date +%s%N)
		tcpdump -r "$T/trace.pcap" -w /dev/null "$FILTER" 2>/dev/null
		t1=$(date +%s%N)
		echo "$n $t0 $t1" | awk '{print $1 / (($3 - $2) / 1e9)}' >>"$T/rate_tdr"
	done
	local off tdr oratio
	off=$(median <"$T/rate_off")
	tdr=$(median <"$T/rate_tdr")
	oratio=$(awk -v a="$off" -v b="$tdr" 'BEGIN {printf "%.3f", a / b}')
	record "{\"case\":\"offline.mapi\",\"unit\":\"packets/s\",\"median\":$off,\"ratio_to_tcpdump\":$oratio,\"packets\":$n,\"runs\":[$(paste -sd, "$T/rate_off")]}"
	record "{\"case\":\"offline.tcpdump\",\"unit\":\"packets/s\",\"median\":$tdr,\"packets\":$n,\"runs\":[$(paste -sd, "$T/rate_tdr")]}"
	row "offline: tcpdump -r -w /dev/null (pkt/s)" "$(printf %.0f "$tdr")" pkt/s "-" "1" \
		"$n packets, whole trace"
	row "offline: mapi count -r (pkt/s)" "$(printf %.0f "$off")" pkt/s "$(printf %.0f "$tdr")" \
		"$oratio" "filter + 2 counters; goal >= 0.5"
}

# --- 10. mapid against in process ----------------------------------------------
# Each figure twice, in process (MAPI_BACKEND=in-process) and through mapid,
# in the same run: connect latency, a MAPI_COPY read and the system calls it
# makes (counted by strace between two marks), and the per-packet cost of
# the attached program for 1 process x 100 flows and 10 clients x 10 flows.
bench_mapid() {
	local sock=$T/mapid.sock line be n i
	local -A conn readns calls pkt
	echo "mapid: connect, reads, per-packet cost: in process and through mapid"
	(exec ip netns exec "$NS_MON" "$BUILD/mapid" --foreground --socket "$sock" \
		>"$T/mapid.log" 2>&1) &
	local mpid=$!
	BG_PIDS+=($mpid)
	wait_until 10 test -S "$sock" || { echo "mapid did not start: $(cat "$T/mapid.log")"; exit 1; }
	n=$((RUNS < 5 ? 5 : 20))
	for be in in-process mapid; do
		line=$(in_mon env MAPI_BACKEND=$be MAPI_SOCKET="$sock" "$B/cost" connect "$n" "$MON" 0 |
			sed "s/\"connect.others_0\"/\"mapid.connect.$be\"/")
		record "$line"
		conn[$be]=$(jget median <<<"$line")
		line=$(in_mon env MAPI_BACKEND=$be MAPI_SOCKET="$sock" "$B/daemon" read "$RUNS" "$MON")
		record "$line"
		readns[$be]=$(jget median <<<"$line")
		in_mon env MAPI_BACKEND=$be MAPI_SOCKET="$sock" strace -f -qq -o "$T/strace.$be" \
			"$B/daemon" read 1 "$MON" >/dev/null
		# the calls of the reading thread between its two marks
		calls[$be]=$(awk '/getppid\(\)/ { if (on) exit; on = 1; tid = $1; next }
			on && $1 == tid { n++ } END { print n + 0 }' "$T/strace.$be")
		record "{\"case\":\"mapid.read_syscalls.$be\",\"unit\":\"calls/100000 reads\",\"median\":${calls[$be]}}"
		wait_until 5 hooks_empty || true
	done
	# 1 process x 100 flows, then 10 clients x 10 flows
	for be in in-process mapid; do
		local holders=()
		if [ $be = in-process ]; then
			start_bg hold0 env MAPI_BACKEND=$be "$B/daemon" flows 100 "$MON"
			holders=(hold0)
		else
			for i in $(seq 0 9); do
				start_bg "hold$i" env MAPI_BACKEND=$be MAPI_SOCKET="$sock" "$B/daemon" flows 10 "$MON"
				holders+=("hold$i")
			done
		fi
		for i in "${holders[@]}"; do
			wait_until 60 grep -qs "ready $be" "$T/$i.out" ||
				{ echo "mapid bench: $i did not connect: $(cat "$T/$i.err")"; exit 1; }
		done
		line=$(in_mon "$B/daemon" attached "$RUNS" "$MON" |
			sed "s/\"mapid.attached\"/\"mapid.per_packet_100_flows.$be\"/")
		record "$line"
		pkt[$be]=$(jget median <<<"$line")
		for i in "${holders[@]}"; do stop_bg "$i"; done
		wait_until 10 hooks_empty || true
	done
	kill -TERM "$mpid"
	wait "$mpid" 2>/dev/null || true
	row "mapid: mapi_connect (ms)" "${conn[mapid]}" ms "${conn[in-process]}" \
		"$(awk -v a="${conn[mapid]}" -v b="${conn[in-process]}" 'BEGIN { printf "%.2f", a / b }')" \
		"in process = baseline; goal <= 2x + 1 ms"
	row "mapid: MAPI_COPY read (ns)" "${readns[mapid]}" ns "${readns[in-process]}" \
		"$(awk -v a="${readns[mapid]}" -v b="${readns[in-process]}" 'BEGIN { printf "%.2f", a / b }')" \
		"syscalls per 100,000 reads: ${calls[mapid]} (in process ${calls[in-process]}); goal 0"
	row "mapid: 10 clients x 10 flows (ns/pkt)" "${pkt[mapid]}" ns/pkt "${pkt[in-process]}" \
		"$(awk -v a="${pkt[mapid]}" -v b="${pkt[in-process]}" 'BEGIN { printf "%.2f", a / b }')" \
		"baseline: 1 process x 100 flows; goal: equal"
}

# --- 11. named flows: scrapes, and what a packet pays -----------------------------
# mapid with N named conversation flows (filter + two counters each): the
# time a whole scrape of /metrics takes, as Prometheus would take it (curl,
# median of runs; mapid's own measure of its reading beside it).  Then 100
# named flows "tcp and dst port 2000+k" + PKT_COUNTER against the same 100
# flows made by an application through mapid: ns a packet of the attached
# program over the empty one.
named_start() { # CONF: mapid with it, its named flows running
	local conf=$1 last
	last=$(sed -n 's/^\[flow \(.*\)\]$/\1/p' "$conf" | tail -n 1)
	(exec ip netns exec "$NS_MON" "$BUILD/mapid" --foreground --socket "$T/named.sock" \
		--config "$conf" >"$T/named.log" 2>&1) &
	NAMED_PID=$!
	BG_PIDS+=($NAMED_PID)
	# (named flows start after mapid says it serves: wait for the last one)
	if [ -n "$last" ]; then
		wait_until 300 grep -qs "named flow \"$last\" .*started" "$T/named.log"
	else
		wait_until 10 grep -qs "^mapid: serving" "$T/named.log"
	fi || { echo "named bench: mapid did not start: $(tail -n 3 "$T/named.log")"; exit 1; }
}
named_stop() {
	kill -TERM "$NAMED_PID"
	wait "$NAMED_PID" 2>/dev/null || true
	wait_until 10 hooks_empty || true
}
bench_named() {
	local conf=$T/named.conf n k r line ms own scrape=() pkt_named pkt_app
	echo "named flows: scrape time at 10, 100, 1000; per-packet cost against an application's"
	in_mon ip link set lo up	# (the endpoint listens on the namespace's loopback)
	for n in 10 100 1000; do
		{
			echo "metrics = 127.0.0.1:19578"
			for ((k = 0; k < n; k++)); do
				printf '[flow c%d]\ninterface = %s\nfunction = BPF_FILTER "tcp and host 10.1.%d.%d and host 10.2.%d.%d and port 1000 and port 2000"\nfunction = PKT_COUNTER\nfunction = BYTE_COUNTER\n' \
					"$k" "$MON" $((k / 256)) $((k % 256)) $((k / 256)) $((k % 256))
			done
		} >"$conf"
		named_start "$conf"
		: >"$T/scrape_ms"
		: >"$T/scrape_own"
		for ((r = 0; r < RUNS * 4; r++)); do
			ms=$(in_mon curl -s --max-time 10 -o "$T/scrape.txt" -w '%{time_total}' \
				http://127.0.0.1:19578/metrics | awk '{printf "%.3f", $1 * 1000}')
			echo "$ms" >>"$T/scrape_ms"
			sed -n 's/^mapid_scrape_duration_seconds \(.*\)$/\1/p' "$T/scrape.txt" |
				awk '{printf "%.3f\n", $1 * 1000}' >>"$T/scrape_own"
		done
		[ "$(grep -c '^mapi_flow_packets_total{' "$T/scrape.txt")" = "$n" ] ||
			{ echo "named bench: a scrape of $n flows lacks some"; exit 1; }
		ms=$(median <"$T/scrape_ms")
		own=$(median <"$T/scrape_own")
		record "{\"case\":\"named.scrape_$n\",\"unit\":\"ms\",\"median\":$ms,\"reading_ms\":$own,\"bytes\":$(wc -c <"$T/scrape.txt"),\"runs\":[$(paste -sd, "$T/scrape_ms")]}"
		scrape+=("$n:$ms:$own")
		named_stop
	done
	for r in "${scrape[@]}"; do
		IFS=: read -r n ms own <<<"$r"
		row "named: scrape of $n named flows (ms)" "$ms" ms "-" "-" \
			"reading the maps ${own} ms; goal at 1000: <= 50 ms"
	done
	# the same 100 flows, named and an application's, both in mapid's engine
	{
		for ((k = 0; k < 100; k++)); do
			printf '[flow p%d]\ninterface = %s\nfunction = BPF_FILTER "tcp and dst port %d"\nfunction = PKT_COUNTER\n' \
				"$k" "$MON" $((2000 + k))
		done
	} >"$conf"
	named_start "$conf"
	line=$(in_mon "$B/daemon" attached "$RUNS" "$MON" |
		sed 's/"mapid.attached"/"named.per_packet_100.named"/')
	record "$line"
	pkt_named=$(jget median <<<"$line")
	named_stop
	: >"$conf"
	named_start "$conf"
	start_bg namedapp env MAPI_BACKEND=mapid MAPI_SOCKET="$T/named.sock" "$B/daemon" flows 100 "$MON"
	wait_until 60 grep -qs "ready mapid" "$T/namedapp.out" ||
		{ echo "named bench: the application did not connect: $(cat "$T/namedapp.err")"; exit 1; }
	line=$(in_mon "$B/daemon" attached "$RUNS" "$MON" |
		sed 's/"mapid.attached"/"named.per_packet_100.application"/')
	record "$line"
	pkt_app=$(jget median <<<"$line")
	stop_bg namedapp
	named_stop
	row "named: 100 named flows (ns/pkt)" "$pkt_named" ns/pkt "$pkt_app" \
		"$(awk -v a="$pkt_named" -v b="$pkt_app" 'BEGIN { printf "%.2f", a / b }')" \
		"baseline: the same 100 flows of an application, in mapid; goal: equal"
}

CASES_WANTED=${BENCH_CASES:-cost functions filters search connect convs live capture memory offline mapid named}
testbed_up
for c in $CASES_WANTED; do
	declare -F "bench_$c" >/dev/null || { echo "BENCH_CASES: no case \"$c\"" >&2; exit 2; }
	"bench_$c"
done

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
python3 bench/report.py plot "$JSON" "${JSON%.json}.svg"
# the smoke run proves every case still runs and gives a number; no timing
if [ "${BENCH_SMOKE:-0}" = 1 ]; then
	python3 bench/report.py check "$JSON"
fi
