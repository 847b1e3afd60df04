#!/usr/bin/env bash
# Conversation flows by the thousand on one interface, in one process:
#
#  - 1,000 flows with distinct 5-tuple filters at once; a trace of their
#    frames (a different number each) goes in and out of the interface while
#    a LIVE_FRAMES sender runs at full speed and other flows are created and
#    closed at 100 a second: every long-lived flow counts exactly its frames,
#    each once;
#  - closing them frees every map and program: bpftool shows none of those
#    made since the test began (ids only grow; objects of earlier tests
#    may still be on their way out, so counts would not do);
#  - past the largest number of flows (at least 10,000) the error is clear.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

# ids of the mapi-bpf programs or maps the kernel holds (any process)
mapi_ids() { bpftool "$1" show | awk -F: '/^[0-9]+:/ && / name mapi_/ { print $1 }'; }
last_id() { bpftool "$1" show | awk -F: '/^[0-9]+:/ { if ($1 > m) m = $1 } END { print m + 0 }'; }
prog0=$(last_id prog) map0=$(last_id map)
# those made since the test began that still exist
objects_new() {
	echo "$(mapi_ids prog | awk -v m="$prog0" '$1 > m' | wc -l)" \
		"$(mapi_ids map | awk -v m="$map0" '$1 > m' | wc -l)"
}

coproc MANY { exec ip netns exec "$NS_MON" "$BUILD/tests/manyflows" "$MON" 1000 \
	"$T/convs.pcap" 2>"$T/many.err"; }
BG_PIDS+=($MANY_PID)
read -r -t 60 line <&"${MANY[0]}" || line=""
[ "$line" = ready ] || { fail "manyflows did not start: $line $(cat "$T/many.err")"; finish; exit 1; }
pass "1000 conversation flows connected"
frames=$(pcap_count "$T/convs.pcap")

# the sender at full speed the whole time (frames no flow here wants)
(exec ip netns exec "$NS_PEER" "$BUILD/tests/livesend" "$PEER" 3000000 tcp80 \
	>"$T/livesend.out" 2>&1) &
BG_PIDS+=($!)
echo "churn 3 100" >&"${MANY[1]}"
in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/convs.pcap" >/dev/null
in_mon "$BUILD/tests/sendpcap" "$MON" "$T/convs.pcap" >/dev/null
read -r -t 30 churned <&"${MANY[0]}" || churned="none"
check_match "flows created and closed at 100 a second meanwhile" "$churned" "^churned (2[89][0-9]|30[0-9])$"
wait_until 10 sh -c "grep -q sent '$T/livesend.out'" || true
check_match "the LIVE_FRAMES sender ran" "$(cat "$T/livesend.out")" "^sent [0-9]+"

echo "check 2" >&"${MANY[1]}"
read -r -t 30 result <&"${MANY[0]}" || result="no answer"
check_eq "each of 1000 flows counted its frames ($frames in the trace, sent both ways)" \
	"$result" "ok 1000"

echo "fill" >&"${MANY[1]}"
read -r -t 120 filled <&"${MANY[0]}" || filled="no answer"
if [[ $filled =~ ^filled\ ([0-9]+)\ ([0-9]+)\ (.*)$ ]]; then
	[ "${BASH_REMATCH[1]}" -ge 10000 ] && pass "${BASH_REMATCH[1]} conversation flows on one interface" ||
		fail "only ${BASH_REMATCH[1]} flows"
	check_eq "past the most, MAPI_ERR_LIMIT" "${BASH_REMATCH[2]}" 10007
	check_match "with a message that says so" "${BASH_REMATCH[3]}" "at most [0-9]+ conversation flows"
else
	fail "fill: $filled"
fi

echo "close" >&"${MANY[1]}"
read -r -t 60 closed <&"${MANY[0]}" || closed="no answer"
check_eq "every flow closed" "$closed" closed
wait_until 10 hooks_empty || fail "still attached: $(in_mon "$BUILD/tests/hookstate" "$MON")"
# programs first: opening a prog array by id while the kernel clears it
# (bpftool map show does) can leak it, so maps are listed only once every
# program that could hold one is gone
progs_gone() { [ "$(mapi_ids prog | awk -v m="$prog0" '$1 > m' | wc -l)" = 0 ]; }
objects_gone() { [ "$(objects_new)" = "0 0" ]; }
if wait_until 10 progs_gone && wait_until 10 objects_gone; then
	pass "bpftool shows no mapi program or map made since the test began"
else
	fail "programs and maps made by the test still held: $(objects_new)"
fi
finish
