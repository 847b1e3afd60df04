#!/usr/bin/env bash
# Conversation flows by the thousand on one interface, in one process:
#
#  - 1,000 flows with distinct 5-tuple filters at once; a trace of their
#    frames (a different number each) goes in and out of the interface while
#    a LIVE_FRAMES sender runs at full speed and other flows are created and
#    closed at 100 a second: every long-lived flow counts exactly its frames,
#    each once;
#  - closing them frees every map and program: none of those made since the
#    test began is left (ids only grow; objects of earlier tests may still
#    be on their way out, so counts would not do);
#  - past the largest number of flows (at least 10,000) the error is clear.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

# The mapi-bpf programs made since the test began (tests/tools/bpfids, which
# opens no map: see there why bpftool must not look at maps being freed),
# and, once those are gone, the maps (bpftool, by then safe).
new_progs() {
	"$BUILD/tests/bpfids" prog >"$T/progs" || { echo "bpfids failed"; return; }
	awk -v m="$prog0" '$1 > m && $2 ~ /^mapi_/' "$T/progs" | wc -l
}
new_maps() { bpftool map show | awk -F: -v m="$map0" '/^[0-9]+:/ && $1 > m && / name mapi_/' | wc -l; }
prog0=$("$BUILD/tests/bpfids" prog | awk '{ if ($1 > m) m = $1 } END { print m + 0 }')
map0=$("$BUILD/tests/bpfids" lastmap)

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
progs_gone() { [ "$(new_progs)" = 0 ]; }
maps_gone() { [ "$(new_maps)" = 0 ]; }
if ! wait_until 10 progs_gone; then
	fail "programs made by the test still loaded: $(new_progs)"
elif wait_until 10 maps_gone; then
	pass "no mapi program or map made since the test began is left"
else
	fail "maps made by the test still held:" \
		"$(bpftool map show | awk -F: -v m="$map0" '/^[0-9]+:/ && $1 > m && / name mapi_/' | tr -s ' \n' ' ')"
fi
finish
