#!/usr/bin/env bash
# HASHSAMP against a Python model of its hash as docs/semantics.md states
# it (tests/models/hashsamp.py), which reads the frames' bytes itself:
#
#  1. mapi run -r over the traffic mix and the filter corpus, RANGE 0 to
#     1024: the packets and bytes kept equal the model's, and the share of
#     conversations kept is RANGE/1024.
#  2. Whole conversations: 2,000 conversations, one frame each way, the
#     frames of one direction sent into mon0 and the others out of it:
#     HASHSAMP keeps the same conversations in both directions, the
#     model's, live (in-process and through mapid) as offline.
#  3. KEEP 1's records: one for each packet kept, with its addresses,
#     ports, TCP sequence number and flags, length (and over a trace its
#     time), none lost: offline, and live in-process and through mapid.
#  4. Bad arguments: 7000 + n, naming the argument.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

"$BUILD/tests/gen_traffic" mix 91 3000 "$T/in.pcap" all
"$BUILD/tests/gen_traffic" corpus 92 2500 "$T/corpus.pcap"
python3 tests/models/gen_pcap.py convs 2000 "$T/a.pcap" "$T/b.pcap"

echo "1. offline"
for trace in in corpus a; do
	bad=0
	for range in 0 1 100 512 1000 1024; do
		"$BUILD/mapi" run -r "$T/$trace.pcap" --json "HASHSAMP $range" PKT_COUNTER \
			BYTE_COUNTER >"$T/off.json" 2>&1 &&
			python3 tests/models/hashsamp.py "$T/$trace.pcap" "$range" <"$T/off.json" \
				>"$T/model.txt" ||
			{ bad=$((bad + 1)); echo "    HASHSAMP $range: $(head -c 400 "$T/model.txt" "$T/off.json")"; }
	done
	check_eq "HASHSAMP 0 to 1024 over the $trace trace equal the model" "$bad" 0
done

echo "2. whole conversations, live"
# conversations DIR OUT: mapi run -Q DIR with HASHSAMP 300 and counters,
# its JSON lines in OUT, while a.pcap goes in and b.pcap out
both_ways() {
	local tag=$1 n
	bg "$NS_MON" "$T/$tag.in.json" "$BUILD/mapi" run -i "$MON" -Q in --json -I 0.2 \
		"HASHSAMP 300" PKT_COUNTER BYTE_COUNTER
	local pin=$!
	bg "$NS_MON" "$T/$tag.out.json" "$BUILD/mapi" run -i "$MON" -Q out --json -I 0.2 \
		"HASHSAMP 300" PKT_COUNTER BYTE_COUNTER
	local pout=$!
	wait_until 10 grep -qs results "$T/$tag.in.json" || fail "mapi run -Q in did not start"
	wait_until 10 grep -qs results "$T/$tag.out.json" || fail "mapi run -Q out did not start"
	traces_send a -- b
	n=$(python3 -c "
import sys; sys.path.insert(0, 'tests/models')
from hashsamp import frames, tuple_of, conv_hash
print(sum(conv_hash(*tuple_of(b)) < 300 for b, _ in frames('$T/a.pcap')))")
	wait_until 10 grep -qs "\"PKT_COUNTER\",\"value\":$n}" "$T/$tag.in.json" ||
		fail "$tag, in: not the model's $n: $(tail -n 1 "$T/$tag.in.json")"
	wait_until 10 grep -qs "\"PKT_COUNTER\",\"value\":$n}" "$T/$tag.out.json" ||
		fail "$tag, out: not the model's $n: $(tail -n 1 "$T/$tag.out.json")"
	kill -TERM "$pin" "$pout"
	wait "$pin" "$pout" || true
	python3 tests/models/hashsamp.py "$T/a.pcap" 300 <"$T/$tag.in.json" >"$T/model.txt" &&
		pass "$tag: received, the model's conversations" ||
		fail "$tag, received: $(cat "$T/model.txt")"
	python3 tests/models/hashsamp.py "$T/b.pcap" 300 <"$T/$tag.out.json" >"$T/model.txt" &&
		pass "$tag: sent, the same conversations the other way" ||
		fail "$tag, sent: $(cat "$T/model.txt")"
}
both_ways in-process
mapid_start
MAPI_BACKEND=mapid both_ways mapid
check_match "mapid ran the flows" "$(cat "$T/mapid.log")" "on $MON: 3 functions"
kill "$MAPID_PID"
wait "$MAPID_PID" 2>/dev/null || true

echo "3. KEEP 1's records"
bad=0
for trace in in corpus a; do
	for range in 0 300 1024; do
		"$BUILD/mapi" run -r "$T/$trace.pcap" --json "HASHSAMP $range 1" >"$T/rec.json" 2>&1 &&
			python3 tests/models/hashsamp.py records "$T/$trace.pcap" "$range" trace \
				<"$T/rec.json" >"$T/model.txt" ||
			{ bad=$((bad + 1)); echo "    $trace, HASHSAMP $range 1: $(head -c 400 "$T/model.txt")"; }
	done
done
check_eq "offline: the records of 3 traces, RANGE 0, 300 and 1024, the model's" "$bad" 0
# records NAME TRACE: HASHSAMP 300 1 on mon0 while TRACE comes in
records_live() {
	bg "$NS_MON" "$T/rec.json" "$BUILD/mapi" run -i "$MON" -Q in --json -I 0.2 "HASHSAMP 300 1"
	local pid=$!
	wait_until 10 grep -qs results "$T/rec.json" || fail "$1: mapi run did not start"
	traces_send "$2" --
	# (until every record came; the verdict below says what did not)
	wait_until 10 python3 tests/models/hashsamp.py records "$T/$2.pcap" 300 live \
		<"$T/rec.json" >"$T/model.txt" || true
	kill -TERM "$pid"
	wait "$pid" || true
	python3 tests/models/hashsamp.py records "$T/$2.pcap" 300 live <"$T/rec.json" \
		>"$T/model.txt" && pass "$1, $2.pcap: a record of each packet kept, the model's" ||
		fail "$1, $2.pcap: the records: $(cat "$T/model.txt")"
}
# (the conversations, and the mix: VLAN tags, IP options, fragments, IPv6)
records_live in-process a
records_live in-process in
mapid_start
MAPI_BACKEND=mapid records_live mapid a
kill "$MAPID_PID"
wait "$MAPID_PID" 2>/dev/null || true

echo "4. bad arguments"
bad_arg() { refused_arg "$T/in.pcap" "HASHSAMP $1" "$2" "$3"; }
bad_arg "-1" 7001 "RANGE -1: 0 to 1024 .*"
bad_arg "1025" 7001 "RANGE 1025: 0 to 1024 .*"
bad_arg "512 2" 7002 "KEEP 2: 0, or 1 to record the packets kept"
bad_arg "512 -1" 7002 "KEEP -1: 0, or 1 to record the packets kept"
finish
