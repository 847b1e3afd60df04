#!/usr/bin/env bash
# Named flows of mapid's configuration, served to a real Prometheus server.
#
#  1. mapid --check-config: a good file passes; bad ones are refused with
#     the line of the mistake.
#  2. mapid runs the named flows with no client: `mapi flows` lists them by
#     name; Debian's Prometheus scrapes mapid every second (OpenMetrics, as
#     Prometheus asks for it) and, after known traffic on the veth pair, its
#     API gives for each flow's counters what tcpdump counted of the same
#     traffic; increase() over the traffic gives the same; DIST's histogram
#     buckets, STATS's sum and TOP's series agree with libpcap's filter over
#     tcpdump's capture; `promtool check metrics` passes on a scrape; an
#     application attached to the named flows (mapi run -n) reads the same;
#     a scrape is answered while mapid's loop is busy compiling a client's
#     filter.
#  3. SIGHUP with a file that adds a flow and removes another: the third's
#     counter goes on (no reset, in Prometheus too), the new one counts from
#     its start, the removed one is gone.  A bad file on SIGHUP is refused
#     with its line, and the running configuration stays.
#  4. Basic authentication: a scrape without the password is refused (401),
#     with it answered; Prometheus with it scrapes.
#  5. Three sensors (three mapids in three namespaces) scraped by one
#     Prometheus: a PromQL sum over them equals the traffic of the three.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../prom.sh"
need_root
need_prometheus
testbed_up
in_mon ip link set lo up

CONF=$T/mapid.conf
PORT=9578	# mapid's default, in the monitor's own namespace
flows_conf() {
	cat <<EOF
# the test's named flows
metrics = 127.0.0.1

[flow all]
interface = $MON
label site = athens
label role = edge
label note = café "x" \\
function = PKT_COUNTER
function = BYTE_COUNTER

[flow web]
interface = $MON
direction = in
function = BPF_FILTER "tcp and port 80"
function = PKT_COUNTER
function = BYTE_COUNTER
EOF
}
sizes_conf() {
	cat <<EOF

[flow sizes]
interface = $MON
function = DIST PKT_SIZE 0 1600 100
function = STATS PKT_SIZE
function = BPF_FILTER "ip"
function = TOP 3 TOPX_IP TOPX_IP_SRCIP
EOF
}
udp_conf() {
	cat <<EOF

[flow udp]
interface = $MON
function = BPF_FILTER "udp"
function = PKT_COUNTER
EOF
}
{ flows_conf; sizes_conf; udp_conf; } >"$CONF"

echo "1. --check-config"
out=$("$BUILD/mapid" --check-config --config "$CONF" 2>&1) &&
	check_match "a good file passes" "$out" "good: 4 named flows, metrics at 127.0.0.1:$PORT" ||
	fail "a good file refused: $out"
# bad FILE-TAIL LINE MESSAGE: the test's file with TAIL appended is refused,
# naming LINE of it and matching MESSAGE
bad() {
	local line
	{ flows_conf; printf '%s\n' "$1"; } >"$T/bad.conf"
	line=$(($(flows_conf | wc -l) + $2))
	out=$("$BUILD/mapid" --check-config --config "$T/bad.conf" 2>&1) &&
		{ fail "refused: $1: it passed"; return; }
	check_match "refused at its line: $(tail -n 1 <<<"$1")" "$out" "bad.conf:$line: .*$3"
}
bad $'[flow x]\ninterface = mon0\nfunction = PKT_COUNTR' 3 'no function named "PKT_COUNTR"'
bad $'[flow x]\ninterface = mon0\nfunction = BPF_FILTER "tcp and port 99999"' 3 'port'
bad $'[flow x]\ninterface = mon0\nfunction = TO_BUFFER' 3 'TO_BUFFER cannot be in a named flow'
bad $'[flow x]\ninterface = mon0\nfunction = PKT_COUNTER\nfunction = BUCKET 0 1 "1s"' 4 'Prometheus samples'
bad $'[flow x]\ninterface = mon0\nlabel le = 1\nfunction = PKT_COUNTER' 3 'label name "le"'
bad $'[flow web]\ninterface = mon0\nfunction = PKT_COUNTER' 1 'flow "web" is named already'
bad $'[flow x]\nfunction = PKT_COUNTER' 1 'needs an interface'
bad $'[flow x]\ninterface = mon0\ndirection = sideways' 3 'direction "sideways"'
bad $'metrics_user = prom' 1 'a \[flow NAME\] section|unknown setting "metrics_user" of a flow'
bad $'[flow x]\ninterface = mon0\nlabel a = \xff\nfunction = PKT_COUNTER' 3 'must be UTF-8'
bad $'[flow x]\ninterface = mon0\nlabel a = tab\there\nfunction = PKT_COUNTER' 3 'without control'
# a metrics address is checked by the endpoint's own parser: what passes
# here is what mapid listens at
badaddr() {
	printf 'metrics = %s\n' "$1" >"$T/addr.conf"
	out=$("$BUILD/mapid" --check-config --config "$T/addr.conf" 2>&1) &&
		{ fail "metrics = $1: it passed"; return; }
	check_match "metrics = $1 refused" "$out" "addr.conf:1: .*$2"
}
badaddr ::1 'IPv6 address goes in brackets'
badaddr 127.0.0.1: 'port must be a number'
badaddr '[::1' 'give HOST:PORT'
badaddr '[zz]:9' 'zz is not an IPv6 address'
badaddr 127.1 'not an IPv4 address'
badaddr unix:run/m.sock 'must be absolute'
out=$("$BUILD/mapid" --check-config --metrics '[::1]' 2>&1) &&
	check_match "[::1] takes the default port" "$out" "metrics at \[::1\]:$PORT" ||
	fail "--metrics [::1]: $out"

echo "2. named flows, scraped"
mapid_start --config "$CONF"
wait_until 10 bash -c "[ \$(ip netns exec $NS_MON $BUILD/mapi flows 2>/dev/null | grep -c ' $MON ') = 4 ]" ||
	fail "mapid does not run the four: $(cat "$T/mapid.log")"
flows=$(in_mon "$BUILD/mapi" flows)
for n in all web sizes udp; do
	check_match "mapi flows lists \"$n\"" "$flows" " $n +$MON "
done
# a scrape, by hand, as Prometheus would take it
in_mon curl -sS --max-time 5 -o "$T/scrape.txt" "http://127.0.0.1:$PORT/metrics" ||
	fail "no scrape from mapid"
promtool_check_metrics "$T/scrape.txt" && pass "promtool check metrics passes" ||
	fail "promtool check metrics"
om=$(in_mon curl -sS --max-time 5 -D "$T/om.head" \
	-H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' \
	"http://127.0.0.1:$PORT/metrics")
check_match "OpenMetrics when asked for" "$(cat "$T/om.head")" "application/openmetrics-text; version=1.0.0"
check_eq "OpenMetrics ends with # EOF" "$(tail -n 1 <<<"$om")" "# EOF"

prom_start "$T/prom" "$NS_MON" "127.0.0.1:$PORT"
prom_targets_up 1 20 || fail "Prometheus does not scrape mapid: $(prom_targets)"

"$BUILD/tests/gen_traffic" mix 11 1500 "$T/in.pcap" no-vlan
"$BUILD/tests/gen_traffic" mix 12 1000 "$T/out.pcap" no-vlan
tcpdump_start cap
tcpdump_start capin -Q in
traces_send in -- out
tcpdump_wait cap 2500
tcpdump_wait capin 1500
tcpdump_stop cap
tcpdump_stop capin
# want METRIC-SELECTOR VALUE WHAT: Prometheus gets VALUE for it
want() { prom_wait "$1" "$2" 15 && pass "$3 = $2" || fail "$3: want $2"; }
read -r p b < <("$BUILD/tests/pcapstat" "$T/cap.pcap")
want 'mapi_flow_packets_total{flow="all"}' "$p" "all: packets (tcpdump)"
want 'mapi_flow_bytes_total{flow="all",site="athens",role="edge"}' "$b" "all: bytes, with its labels"
read -r p b < <("$BUILD/tests/pcapstat" "$T/capin.pcap" "tcp and port 80")
want 'mapi_flow_packets_total{flow="web",direction="in"}' "$p" "web (in): packets"
want 'mapi_flow_bytes_total{flow="web"}' "$b" "web (in): bytes"
want 'mapi_flow_packets_total{flow="udp"}' "$(pcap_count "$T/cap.pcap" udp)" "udp: packets"
want 'mapi_flow_seen_packets_total{flow="web"}' "$(pcap_count "$T/capin.pcap")" "web: packets seen"
want 'mapi_named_flow_up{flow="udp"}' 1 "udp: up"
want 'count(mapi_flow_packets_total{flow="all",note="café \"x\" \\"})' 1 \
	"a label value with UTF-8, quotes and a backslash, as written"
# increase() over the whole traffic, at the time of the last sample: its
# first sample (before the traffic) is 0, so Prometheus extrapolates nothing
t=$(prom_query 'timestamp(mapi_flow_packets_total{flow="all"})')
check_eq "increase() over the traffic" \
	"$(PROM_TIME=$t prom_query 'increase(mapi_flow_packets_total{flow="all"}[10m])' | sed 's/\.0*$//')" \
	"$(pcap_count "$T/cap.pcap")"
# DIST: each bucket [0, 100 k) holds the frames of at most 100 k - 1 bytes
for le in 99 199 599 1499; do
	want "mapi_flow_dist_bucket{flow=\"sizes\",le=\"$le\"}" "$(pcap_count "$T/cap.pcap" "len <= $le")" \
		"sizes: DIST bucket le=$le"
done
want 'mapi_flow_dist_bucket{flow="sizes",le="+Inf"}' "$(pcap_count "$T/cap.pcap")" "sizes: DIST +Inf"
want 'mapi_flow_stats_sum{flow="sizes"}' "$("$BUILD/tests/pcapstat" "$T/cap.pcap" | cut -d" " -f2)" "sizes: STATS sum"
want 'mapi_flow_stats_count{flow="sizes"}' "$(pcap_count "$T/cap.pcap")" "sizes: STATS count"
# (TOP counts the frames that hold the field: IPv4 of 30 bytes or more)
want 'sum(mapi_flow_top_packets{flow="sizes"})' "$(pcap_count "$T/cap.pcap" "ip and len >= 30")" \
	"sizes: TOP's values and other sum to the IPv4 packets with a source"
want 'count(mapi_flow_top_packets{flow="sizes"})' 4 "sizes: TOP 3 gives 3 series and other"

# an application reads named flows through mapid (mapi_attach_flow)
# attached NAME: "FUNCTION=VALUE ..." of the named flow's last result line
attached() {
	in_mon timeout -s INT 2 "$BUILD/mapi" run -n "$1" -I 0.5 --json >"$T/attach.json" \
		2>"$T/attach.err" || true
	python3 -c '
import json, sys
last = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
out = []
for r in last["results"]:
    v = r.get("value", r.get("count", r.get("packets")))
    out.append("%s=%s" % (r["function"], v))
print(" ".join(out))' "$T/attach.json" 2>&1 || cat "$T/attach.err"
}
read -r p b < <("$BUILD/tests/pcapstat" "$T/cap.pcap")
check_eq "mapi run -n all (attached)" "$(attached all)" "PKT_COUNTER=$p BYTE_COUNTER=$b"
check_eq "mapi run -n sizes (attached: DIST, STATS, TOP)" "$(attached sizes)" \
	"DIST=$p STATS=$p TOP=$(pcap_count "$T/cap.pcap" "ip and len >= 30")"
out=$(in_mon "$BUILD/mapi" run -n nosuch 2>&1 || true)
check_match "attaching to no such flow" "$out" 'names no flow "nosuch"'
# the library's calls on an attached flow: a copy, never a live reference
flowctl_start
fc attach all; afd=${R#ok }
check_match "mapi_attach_flow(\"all\")" "$R" '^ok [0-9]+$'
read -r p b < <("$BUILD/tests/pcapstat" "$T/cap.pcap")
fc read "$afd" 1; check_eq "MAPI_COPY of an attached flow" "$R" "ok $p"
fc ref "$afd" 1; check_match "MAPI_REF of an attached flow is refused" "$R" '^err .*MAPI_COPY'
fc info "$afd"
check_match "its information names the flow and mapid as its owner" "$R" \
	" name=all owner=0:$MAPID_PID$"
# one series a process, however many connections it holds
python3 - "$MAPID_SOCK" "$T/conns.done" <<'PY' &
import os, socket, sys, time
a, b = (socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(2))
a.connect(sys.argv[1]); b.connect(sys.argv[1])
open(sys.argv[2], "w").close()
time.sleep(30)
PY
conns_pid=$!
BG_PIDS+=($conns_pid)
wait_until 10 test -e "$T/conns.done" || fail "no two connections to mapid"
wait_until 10 bash -c "ip netns exec $NS_MON curl -s http://127.0.0.1:$PORT/metrics | grep -q '^mapid_clients 3'" ||
	fail "mapid does not count the three clients"
in_mon curl -sS --max-time 5 -o "$T/scrape2.txt" "http://127.0.0.1:$PORT/metrics"
check_eq "mapid_client_flows: a series a process" \
	"$(grep '^mapid_client_flows{' "$T/scrape2.txt" | sed 's/ [0-9]*$//' | sort | uniq -d)" ""
promtool_check_metrics "$T/scrape2.txt" && pass "promtool passes with two connections of a process" ||
	fail "promtool check metrics (two connections of a process)"
kill "$conns_pid"
fc close "$afd"
check_eq "mapi_close_flow lets go of it" "$R" "ok"

# A scrape does not wait for mapid's loop: while mapid compiles a client's
# filter that libpcap's optimizer takes seconds over (600 ORed hosts), a
# listing asked for then is answered only after it; a scrape asked for
# after the listing is answered before it.
slow=$(python3 -c 'print(" or ".join("host 10.%d.%d.1" % (i // 250, i % 250) for i in range(600)))')
(exec ip netns exec "$NS_MON" timeout 300 "$BUILD/mapi" count -i "$MON" -I 1000 "$slow" \
	>/dev/null 2>&1) &
slow_pid=$!
BG_PIDS+=($slow_pid)
busy() { ! in_mon timeout 0.5 "$BUILD/mapi" flows >/dev/null 2>&1; }
if wait_until 120 busy; then
	(exec ip netns exec "$NS_MON" "$BUILD/mapi" flows >/dev/null 2>&1) &
	list_pid=$!
	in_mon curl -sS --max-time 60 -o "$T/busy.txt" "http://127.0.0.1:$PORT/metrics" ||
		fail "no scrape while mapid compiles"
	kill -0 "$list_pid" 2>/dev/null && pass "a scrape is answered while mapid compiles a filter" ||
		fail "the scrape waited for mapid's loop (the listing was answered first)"
	grep -q '^mapi_flow_packets_total{flow="all"' "$T/busy.txt" &&
		pass "... with the named flows' numbers" || fail "the busy scrape lacks the flows"
	wait "$list_pid" || true
else
	fail "mapid never got busy with the slow filter"
fi
kill "$slow_pid" 2>/dev/null || true
wait "$slow_pid" 2>/dev/null || true

echo "3. SIGHUP"
web_before=$(prom_query 'mapi_flow_packets_total{flow="web"}')
{ flows_conf; sizes_conf; sed 's/^\[flow udp\]/[flow udp2]/' < <(udp_conf); } >"$CONF"
sed -i 's/^label site = athens/label site = sparta/' "$CONF"
kill -HUP "$MAPID_PID"
wait_until 10 bash -c "ip netns exec $NS_MON $BUILD/mapi flows | grep -q ' udp2 '" &&
	pass "the new flow runs" || fail "no udp2: $(in_mon "$BUILD/mapi" flows 2>&1)"
flows=$(in_mon "$BUILD/mapi" flows)
[[ $flows =~ " udp " ]] && fail "udp still runs" || pass "the removed flow is gone"
tcpdump_start cap2
tcpdump_start cap2in -Q in
traces_send in -- out
tcpdump_wait cap2 2500
tcpdump_wait cap2in 1500
tcpdump_stop cap2
tcpdump_stop cap2in
want 'mapi_flow_packets_total{flow="web"}' \
	"$((web_before + $(pcap_count "$T/cap2in.pcap" "tcp and port 80")))" "web went on over the reload"
check_eq "web's counter never reset in Prometheus" \
	"$(prom_query 'resets(mapi_flow_packets_total{flow="web"}[10m])')" 0
want 'mapi_flow_packets_total{flow="udp2"}' "$(pcap_count "$T/cap2.pcap" udp)" "udp2 counts from its start"
want 'count(mapi_flow_packets_total{flow="udp"})' "" "udp is no longer served"
want 'count(mapi_flow_packets_total{flow="all",site="sparta"})' 1 "a label changed in place"
{ flows_conf; printf '[flow broken]\ninterface = %s\nfunction = BPF_FILTER "tcp and"\n' "$MON"; } >"$CONF"
kill -HUP "$MAPID_PID"
line=$(($(flows_conf | wc -l) + 3))
wait_until 10 grep -q "SIGHUP: .*mapid.conf:$line: .*the configuration in use stays" "$T/mapid.log" &&
	pass "a bad file on SIGHUP is refused with its line" ||
	fail "bad SIGHUP: $(tail -n 3 "$T/mapid.log")"
check_eq "the running flows stay" "$(in_mon "$BUILD/mapi" flows | grep -c " $MON ")" 4

echo "4. basic authentication"
{ printf 'metrics = 127.0.0.1\nmetrics_user = prom\nmetrics_password = s3cret\n'; flows_conf | sed 1,2d; } >"$CONF"
kill -HUP "$MAPID_PID"
code() { in_mon curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$@" "http://127.0.0.1:$PORT/metrics"; }
wait_until 10 bash -c "[ \"\$(ip netns exec $NS_MON curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/metrics)\" = 401 ]" &&
	pass "no password: 401" || fail "no password: $(code)"
check_eq "a wrong password" "$(code -u prom:wrong)" 401
check_eq "the right password" "$(code -u prom:s3cret)" 200

echo "4b. the endpoint moves on SIGHUP, or stays"
PORT2=9579
# a listener on the port mapid is told to move to, in the monitor's namespace
(exec ip netns exec "$NS_MON" python3 - "$T/taken.done" <<'PY'
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 9579)); s.listen(1)
open(sys.argv[1], "w").close()
time.sleep(60)
PY
) &
taken_pid=$!
BG_PIDS+=($taken_pid)
wait_until 10 test -e "$T/taken.done" || fail "no listener on port $PORT2"
sed -i "s/^metrics = 127.0.0.1\$/metrics = 127.0.0.1:$PORT2/" "$CONF"
kill -HUP "$MAPID_PID"
wait_until 10 grep -q "SIGHUP: .*metrics stay 127.0.0.1:$PORT" "$T/mapid.log" &&
	pass "a taken address on SIGHUP: the endpoint in use stays" ||
	fail "taken address: $(tail -n 3 "$T/mapid.log")"
check_eq "... and answers" "$(code -u prom:s3cret)" 200
kill "$taken_pid"; wait "$taken_pid" 2>/dev/null || true
kill -HUP "$MAPID_PID"
wait_until 10 bash -c "[ \"\$(ip netns exec $NS_MON curl -s -u prom:s3cret -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT2/metrics)\" = 200 ]" &&
	pass "the next SIGHUP moves it to port $PORT2" || fail "not at port $PORT2"
check_eq "... and the old port is let go" "$(code -u prom:s3cret)" 000

echo "5. three sensors, one Prometheus"
NS_PROM=mapi-prom3-$$-q
ip netns add "$NS_PROM"
on_exit ip netns del "$NS_PROM"
targets=() total=0
for i in 1 2 3; do
	ns=mapi-prom3-$$-$i
	ip netns add "$ns"
	on_exit ip netns del "$ns"
	on_exit "ip netns pids $ns | xargs -r kill -9"
	ip -n "$ns" link set lo up
	# no IPv6 chatter: only the test's frames cross the sensor's link
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	# the link Prometheus scrapes over, and a pair for the traffic
	ip link add "s$i" netns "$NS_PROM" type veth peer name up0 netns "$ns"
	ip -n "$NS_PROM" addr add "10.77.$i.1/24" dev "s$i"
	ip -n "$NS_PROM" link set "s$i" up
	ip -n "$ns" addr add "10.77.$i.2/24" dev up0
	ip -n "$ns" link set up0 up
	ip link add m0 netns "$ns" type veth peer name p0 netns "$ns"
	ip -n "$ns" link set m0 up
	ip -n "$ns" link set p0 up
	printf 'metrics = 10.77.%d.2\n[flow traffic]\ninterface = m0\nlabel sensor_name = s%d\nfunction = PKT_COUNTER\n' \
		"$i" "$i" >"$T/s$i.conf"
	mkdir -p -m 755 "$T/run$i"
	bg "$ns" "$T/s$i.log" "$BUILD/mapid" --foreground --socket "$T/run$i/mapid.sock" \
		--config "$T/s$i.conf"
	wait_until 10 grep -qs "named flow \"traffic\" on m0 started" "$T/s$i.log" ||
		fail "sensor $i did not start: $(cat "$T/s$i.log")"
	targets+=("10.77.$i.2:$PORT=s$i")
done
kill -9 "$PROM_PID"
wait "$PROM_PID" 2>/dev/null || true
prom_start "$T/prom3" "$NS_PROM" "${targets[@]}"
prom_targets_up 3 20 || fail "Prometheus does not scrape the three: $(prom_targets)"
for i in 1 2 3; do
	"$BUILD/tests/gen_traffic" mix $((20 + i)) $((300 * i)) "$T/s$i.pcap" no-vlan
	ip netns exec "mapi-prom3-$$-$i" "$BUILD/tests/sendpcap" p0 "$T/s$i.pcap" >/dev/null
	total=$((total + $(pcap_count "$T/s$i.pcap")))
done
want 'sum(mapi_flow_packets_total{flow="traffic"})' "$total" "the sum over three sensors"
want 'count(mapi_flow_packets_total{flow="traffic"})' 3 "three sensors' series"
want 'mapi_flow_packets_total{sensor="s2"}' "$(pcap_count "$T/s2.pcap")" "sensor s2 alone"

finish
