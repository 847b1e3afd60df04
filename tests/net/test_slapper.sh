#!/usr/bin/env bash
# The seed's third application, examples/slapper, on live traffic: UDP with
# the Slapper worm's signature inside, at the edge of, across and past the
# first 100 bytes, from port 2002 and from another port, exact and almost,
# over IPv4 and IPv6, received and sent.  It must report exactly the frames
# the generator made to be reported (it says how many), and nothing else.
#
# Counting without sleeping: slapper is told to stop after N + 1 packets,
# where N is the expected count, and a last worm packet to port 7777 follows
# the traffic.  Slapper ends only if it reports that one as the N + 1st: a
# frame too many shows up before it, a frame too few leaves slapper waiting.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

"$BUILD/tests/gen_traffic" worm 11 400 "$T/in.pcap" >"$T/in.count"
"$BUILD/tests/gen_traffic" worm 12 300 "$T/out.pcap" >"$T/out.count"
"$BUILD/tests/gen_traffic" worm-one 13 1 "$T/last.pcap" 7777 >/dev/null
n_in=$(sed -n 's/^worm //p' "$T/in.count")
n_out=$(sed -n 's/^worm //p' "$T/out.count")
want=$((n_in + n_out))
[ "$want" -gt 50 ] || fail "the generated traffic has only $want worm packets"

bg "$NS_MON" "$T/slapper.out" "$BUILD/examples/slapper" -c $((want + 1)) "$MON"
slapper_pid=$!
wait_until 20 grep -qs "watching" "$T/slapper.out" ||
	{ fail "slapper did not start: $(cat "$T/slapper.out")"; finish; }
tcpdump_start all "udp"

in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/in.pcap" >/dev/null
in_mon "$BUILD/tests/sendpcap" "$MON" "$T/out.pcap" >/dev/null
in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/last.pcap" >/dev/null

if wait_until 20 sh -c "! kill -0 $slapper_pid 2>/dev/null"; then
	pass "slapper stopped after $((want + 1)) packets"
else
	fail "slapper still waits: it reported $(grep -c ' > ' "$T/slapper.out") of $((want + 1))"
fi
sent=$(( $(pcap_count "$T/in.pcap") + $(pcap_count "$T/out.pcap") + 1 ))
tcpdump_wait all "$sent"
tcpdump_stop all
reports=$(grep -c ' > ' "$T/slapper.out" || true)
check_eq "worm packets reported ($n_in received, $n_out sent, 1 last)" "$reports" $((want + 1))
last=$(grep ' > ' "$T/slapper.out" | tail -n 1)
check_match "the last report is the last packet sent" "$last" '\.2002 > 10\.1\.0\.80\.7777: '
check_match "reports show the signature's bytes" \
	"$(grep ' > ' "$T/slapper.out" | head -n 1)" ': length [0-9]+:( [0-9a-f]{2})+$'
check_match "slapper's summary" "$(cat "$T/slapper.out")" \
	"slapper: $((want + 1)) worm packets, $((want + 1)) delivered, 0 dropped"

# tcpdump saw every frame: the test's traffic was all there to see
check_eq "tcpdump saw every UDP frame sent" "$(pcap_count "$T/all.pcap")" "$sent"
wait_until 10 hooks_empty && pass "nothing attached after slapper ends" ||
	fail "still attached: $(in_mon "$BUILD/tests/hookstate" "$MON")"
finish
