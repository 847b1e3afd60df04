#!/usr/bin/env bash
# Flows over trace files against tcpdump -r, and against the same flows live.
#
#  1. For every expression of tests/data/filters.txt, `mapi count -r` on the
#     filter corpus (2,500 frames, 14 to 9,000 bytes) gives the packets and
#     summed lengths of what `tcpdump -r TRACE -w - EXPR` selects; the same
#     on the corpus cut at 64 bytes a packet (filters that look further decide
#     as libpcap does) and on the corpus as pcapng.
#  2. Live and offline agree: tcpreplay sends a trace into the testbed under
#     a live flow (a filter, counters, a search and TO_BUFFER); the same flow
#     over the trace gives the same counts and the same packets.
. "$(dirname "$0")/../lib.sh"

"$BUILD/tests/gen_traffic" corpus 2026 2500 "$T/corpus.pcap"
"$BUILD/tests/pcapconv" -s 64 "$T/corpus.pcap" "$T/cut.pcap"
"$BUILD/tests/pcapconv" -n "$T/corpus.pcap" "$T/corpus.pcapng"

# counts TRACE EXPR: "packets bytes" of mapi count -r
counts() {
	"$BUILD/mapi" count -r "$1" --json -- "$2" 2>"$T/mapi.err" |
		sed -n 's/.*"packets":\([0-9]*\),"bytes":\([0-9]*\).*/\1 \2/p'
}

echo "1. every filter of the differential set, against tcpdump -r"
checked=0 mismatched=0
for trace in corpus.pcap cut.pcap corpus.pcapng; do
	while IFS= read -r expr; do
		case $expr in '' | '#'*) continue ;; esac
		got=$(counts "$T/$trace" "$expr")
		[ -n "$got" ] || { fail "mapi count -r $trace '$expr': $(cat "$T/mapi.err")"; continue; }
		tcpdump -r "$T/$trace" -w "$T/sel.pcap" -- "$expr" 2>/dev/null ||
			{ fail "tcpdump -r $trace '$expr' failed"; continue; }
		want=$("$BUILD/tests/pcapstat" "$T/sel.pcap")
		checked=$((checked + 1))
		if [ "$got" != "$want" ]; then
			mismatched=$((mismatched + 1))
			fail "$trace '$expr': mapi $got, tcpdump $want"
		fi
	done <"$(dirname "$0")/../data/filters.txt"
done
echo "  $checked filter/trace pairs checked against tcpdump -r, $mismatched differ"
if [ "$checked" -ge 900 ] && [ "$mismatched" -eq 0 ]; then
	pass "counts and lengths equal tcpdump -r's for $checked pairs"
else
	fail "$mismatched of $checked pairs differ (or too few ran)"
fi

# a damaged trace: what was read is shown, the error said, exit status 1
head -c 100000 "$T/corpus.pcap" >"$T/damaged.pcap"
tcpdump -r "$T/damaged.pcap" -w "$T/sel.pcap" 2>/dev/null || true
rc=0
"$BUILD/mapi" count -r "$T/damaged.pcap" >"$T/damaged.out" 2>&1 || rc=$?
check_eq "mapi count -r on a damaged trace exits 1" "$rc" 1
check_match "and counts what tcpdump -r reads of it" "$(cat "$T/damaged.out")" \
	"^[0-9:.]+ +$(pcap_count "$T/sel.pcap") pkts .*truncated dump file"

if [ "$(id -u)" -ne 0 ]; then
	[ "$FAILS" -eq 0 ] || { finish; exit 1; }
	skip "part 2 (live against offline) needs root"
fi
echo "2. live and offline agree"
testbed_up
"$BUILD/tests/gen_traffic" mix 31 3000 "$T/replay.pcap"
FILTER="udp or (tcp and dst port 80)"
SEARCH='|00 00|'

read -r off_p off_b < <(counts "$T/replay.pcap" "$FILTER")
"$BUILD/mapi" capture -r "$T/replay.pcap" --search "$SEARCH,14,0" -w "$T/off.pcap" "$FILTER" \
	2>"$T/offcap.err"
n_search=$(sed -n 's/^\([0-9]*\) packets captured$/\1/p' "$T/offcap.err")
[ "${n_search:-0}" -gt 100 ] || fail "the search kept only ${n_search:-0} packets of the trace"

# one process, one XDP program: the counters and the packets in one flow,
# the counters before the search
coproc CAPBUF { exec ip netns exec "$NS_MON" "$BUILD/tests/capbuf" -C -S "$SEARCH" -o 14 -d 0 \
	-n "$n_search" "$MON" "$T/live.pcap" "$FILTER" 2>"$T/capbuf.err"; }
BG_PIDS+=($CAPBUF_PID)
read -r -t 20 line <&"${CAPBUF[0]}" || line=""
[ "$line" = ready ] || { fail "capbuf did not start: $(cat "$T/capbuf.err")"; finish; exit 1; }

in_peer tcpreplay -q --topspeed -i "$PEER" "$T/replay.pcap" >"$T/tcpreplay.out" 2>&1 ||
	fail "tcpreplay: $(cat "$T/tcpreplay.out")"
read -r -t 30 result <&"${CAPBUF[0]}" || result="no result: $(cat "$T/capbuf.err")"

check_match "live counters = offline ($off_p packets, $off_b bytes)" "$result" \
	" pkts=$off_p bytes=$off_b$"
check_match "live TO_BUFFER kept every matching packet" "$result" \
	"^matched=$n_search delivered=$n_search dropped=0 "
check_eq "live and offline TO_BUFFER packets are the same" \
	"$("$BUILD/tests/pcapcmp" "$T/live.pcap" "$T/off.pcap")" "same $n_search"
finish
