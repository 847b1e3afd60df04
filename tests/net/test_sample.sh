#!/usr/bin/env bash
# SAMPLE on a live interface, both directions, against libpcap's count of
# the frames sent and against the same flow over the same frames offline.
#
#  1. SAMPLE(VALUE, PERIODIC) keeps exactly floor(N / VALUE) of the N frames
#     reaching it, whichever CPU and direction they come by: alone, behind a
#     filter, and a TO_BUFFER behind it gets the VALUE-th, 2 VALUE-th ...
#     frames of tcpdump's capture.
#  2. SAMPLE(VALUE, PROBABILISTIC) keeps VALUE % within five standard
#     deviations, for six flows of five values, each with generators of
#     its own; 0 keeps none, 100 every one.
#  3. mapi run -r over the frames sent gives the same PERIODIC counts.
#  4. Through mapid (its count kept in mapid's map), the same.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

"$BUILD/tests/gen_traffic" mix 61 3000 "$T/in.pcap" no-vlan
"$BUILD/tests/gen_traffic" mix 62 2000 "$T/out.pcap" no-vlan
{ cat "$T/in.pcap"; tail -c +25 "$T/out.pcap"; } >"$T/sent.pcap"
read -r all _ <<<"$(traces_count in out --)"
read -r tcp _ <<<"$(traces_count in out -- tcp)"

flowctl_start
# flow FILTER VALUE MODE: a connected flow, its counter's fid in CNT
flow() {
	fc_ok create "$MON" || return 1
	FD=$V
	if [ -n "$1" ]; then fc_ok apply "$FD" BPF_FILTER "\"$1\"" || return 1; fi
	fc_ok apply "$FD" SAMPLE "$2" "$3" || return 1
	fc_ok apply "$FD" PKT_COUNTER || return 1
	CNT=$V
}
flow "" 7 0 && p7=$FD c7=$CNT
flow "tcp" 5 0 && p5=$FD c5=$CNT
fc_ok apply "$p5" TO_BUFFER 0 $((16 << 20))
b5=$V
flow "" 1 0 && p1=$FD c1=$CNT
flow "" 30 1 && q30=$FD cq30=$CNT
flow "" 0 1 && q0=$FD cq0=$CNT
flow "" 100 1 && q100=$FD cq100=$CNT
# more PROBABILISTIC flows: each its own generators, seeded anew
QV=(1 10 50 50 90) QFD=() QCNT=()
for v in "${QV[@]}"; do flow "" "$v" 1 && QFD+=("$FD") QCNT+=("$CNT"); done
for fd in $p7 $p5 $p1 $q30 $q0 $q100 "${QFD[@]}"; do fc_ok connect "$fd"; done

tcpdump_start tdtcp tcp
traces_send in -- out
tcpdump_wait tdtcp "$tcp"
tcpdump_stop tdtcp

echo "1. PERIODIC"
fc_ok wait "$p1" "$c1" "$all" 5000
check_eq "SAMPLE(1, PERIODIC) keeps every frame sent" "$V" "$all"
fc_ok wait "$p7" "$c7" $((all / 7)) 5000
check_eq "SAMPLE(7, PERIODIC): exactly one of every 7 of the $all frames" "$V" $((all / 7))
fc_ok wait "$p5" "$c5" $((tcp / 5)) 5000
check_eq "behind 'tcp': one of every 5 of the $tcp tcp frames" "$V" $((tcp / 5))
# the caplen and wlen of tcpdump's 5th, 10th, ... tcp frames
python3 - "$T/tdtcp.pcap" >"$T/every5.txt" <<'PY'
import struct, sys
src = open(sys.argv[1], "rb").read()
at, i = 24, 0
while at < len(src):
    cap, wire = struct.unpack_from("<II", src, at + 8)
    i += 1
    if i % 5 == 0:
        print(cap, wire)
    at += 16 + cap
PY
: >"$T/kept.txt"
for _ in $(seq $((tcp / 5))); do
	fc pkt "$p5" "$b5"
	echo "${R#ok }" >>"$T/kept.txt"
done
check_eq "its TO_BUFFER got tcpdump's 5th, 10th, ... tcp frames (their lengths, in order)" \
	"$(md5sum <"$T/kept.txt")" "$(md5sum <"$T/every5.txt")"
[ "$(wc -l <"$T/every5.txt")" -eq $((tcp / 5)) ] || fail "tcpdump's capture is not the frames sent"

echo "2. PROBABILISTIC"
fc_ok read "$q30" "$cq30"
python3 -c "
import math, sys
n, k = $all, $V
mean, sd = n * 0.3, math.sqrt(n * 0.3 * 0.7)
sys.exit(0 if abs(k - mean) <= 5 * sd else 1)" &&
	pass "SAMPLE(30, PROBABILISTIC): $V of $all, within 5 sd of 30 %" ||
	fail "SAMPLE(30, PROBABILISTIC): $V of $all is not near 30 %"
near=0
for i in "${!QV[@]}"; do
	fc_ok read "${QFD[$i]}" "${QCNT[$i]}"
	python3 -c "
import math, sys
n, p, k = $all, ${QV[$i]} / 100, $V
sys.exit(0 if abs(k - n * p) <= 5 * math.sqrt(n * p * (1 - p)) else 1)" && near=$((near + 1)) ||
		echo "    SAMPLE(${QV[$i]}, PROBABILISTIC): $V of $all"
done
check_eq "SAMPLE(1, 10, 50, 50 and 90 %, PROBABILISTIC), each seeded anew: within 5 sd" "$near" "${#QV[@]}"
fc_ok read "$q0" "$cq0"
check_eq "SAMPLE(0, PROBABILISTIC) keeps none" "$V" 0
fc_ok read "$q100" "$cq100"
check_eq "SAMPLE(100, PROBABILISTIC) keeps every one" "$V" "$all"
for fd in $p7 $p5 $p1 $q30 $q0 $q100 "${QFD[@]}"; do fc_ok close "$fd"; done

echo "3. offline, over the frames sent"
out=$("$BUILD/mapi" run -r "$T/sent.pcap" 'SAMPLE 7 PERIODIC' PKT_COUNTER 2>&1 | tail -n 1)
check_match "mapi run -r 'SAMPLE 7 PERIODIC': the live count" "$out" "PKT_COUNTER\[2\]=$((all / 7))$"
out=$("$BUILD/mapi" run -r "$T/sent.pcap" 'BPF_FILTER "tcp"' 'SAMPLE 5 PERIODIC' PKT_COUNTER 2>&1 |
	tail -n 1)
check_match "behind 'tcp', 5: the live count" "$out" "PKT_COUNTER\[3\]=$((tcp / 5))$"

echo "4. through mapid"
mapid_start
export MAPI_BACKEND=mapid
# flowctl again, as a client of mapid
exec {FLOWCTL_IN}>&-
wait "$FLOWCTL_PID" 2>/dev/null || true
flowctl_start
flow "" 7 0 && fc_ok connect "$FD"
fc_ok info "$FD"
check_match "the flow runs in mapid" "$V" "backend=mapid "
traces_send in -- out
fc_ok wait "$FD" "$CNT" $((all / 7)) 5000
check_eq "SAMPLE(7, PERIODIC) through mapid: one of every 7" "$V" $((all / 7))
fc_ok close "$FD"
finish
