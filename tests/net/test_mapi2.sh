#!/usr/bin/env bash
# A MAPI 2.0 program, built unchanged with -DMAPI_V2, against tcpdump -r.
#
# tests/mapi2/mapi2_trace.c reads one offline device with two flows: the
# first's packets through mapi_get_next_pkt (the frame at &pkt->pkt, a
# 32.32 timestamp), the second's through MAPI 2.0's TO_FILE(MFF_PCAP, PATH,
# 0) and mapi_loop; its counts come from the two-argument
# mapi_read_results.  Built in C11 and in C99 (where mapi_apply_function is
# the plain call, reading MAPI 2.0's argument forms), it must give what
# tcpdump -r gives of the same trace: the same packets with the same
# timestamps to the nanosecond, the same counts and lengths.
. "$(dirname "$0")/../lib.sh"

"$BUILD/tests/gen_traffic" mix 2002 900 "$T/ms.pcap"
# as a nanosecond pcap with times that use every digit: a 32.32 timestamp
# cut to microseconds, or rounded wrong, shows in tcpdump's times
python3 - "$T/ms.pcap" "$T/trace.pcap" <<'PY'
import struct, sys
src = open(sys.argv[1], "rb").read()
out = [struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 65535, 1)]
at, i = 24, 0
while at < len(src):
    sec, usec, cap, wire = struct.unpack_from("<IIII", src, at)
    out.append(struct.pack("<IIII", sec + i // 997, (i * 987654323) % 1000000000, cap, wire))
    out.append(src[at + 16:at + 16 + cap])
    at, i = at + 16 + cap, i + 1
open(sys.argv[2], "wb").write(b"".join(out))
PY
f1="tcp"
f2="udp or icmp or vlan"
tcpdump -r "$T/trace.pcap" -w "$T/td1.pcap" -- "$f1" 2>/dev/null
tcpdump -r "$T/trace.pcap" -w "$T/td2.pcap" -- "$f2" 2>/dev/null
read -r p1 b1 <<<"$("$BUILD/tests/pcapstat" "$T/td1.pcap")"
p2=$(pcap_count "$T/td2.pcap")
[ "$p1" -gt 100 ] && [ "$p2" -gt 100 ] || fail "the trace has too few packets for the test"

# tcpdump's reading of a capture (what EXPR selects of it): nanosecond
# times and decoded packets
decoded() { tcpdump -r "$1" -nn -tt --time-stamp-precision=nano -e -- "${@:2}" 2>/dev/null; }

for prog in mapi2_trace mapi2_trace_c99; do
	echo "$prog"
	rm -f "$T/out1.pcap" "$T/out2.pcap"
	if ! "$BUILD/tests/$prog" "$T/trace.pcap" "$f1" "$f2" "$T/out1.pcap" "$T/out2.pcap" \
		>"$T/$prog.out" 2>&1; then
		fail "$prog failed: $(cat "$T/$prog.out")"
		continue
	fi
	check_eq "flow 1's counters by mapi_read_results(fd, fid): tcpdump's" \
		"$(grep '^flow1 ' "$T/$prog.out")" "flow1 pkts=$p1 bytes=$b1 read=$p1"
	check_eq "flow 1's packets (&pkt->pkt, 32.32 times) read as tcpdump -r reads them" \
		"$(decoded "$T/out1.pcap" | md5sum)" "$(decoded "$T/trace.pcap" "$f1" | md5sum)"
	check_eq "flow 2's counter, mapi_loop and TO_FILE's result (no count: 1)" \
		"$(grep '^flow2 pkts' "$T/$prog.out")" "flow2 pkts=$p2 looped=$p2 tofile=1"
	check_eq "flow 2's TO_FILE(MFF_PCAP, PATH, 0) file: tcpdump's selection, with its times" \
		"$(decoded "$T/out2.pcap" | md5sum)" "$(decoded "$T/trace.pcap" "$f2" | md5sum)"
	check_eq "flow 2's information in MAPI 2.0's shape" \
		"$(grep '^flow2 status' "$T/$prog.out")" \
		"flow2 status=finished functions=4 buffer=TO_BUFFER pkts=$p2"
	check_eq "mapi_get_next_flow_info: its two flows" "$(grep '^flows' "$T/$prog.out")" "flows 2"
	check_eq "mapi_stats of the device: every packet of the trace, none dropped" \
		"$(grep '^stats' "$T/$prog.out")" "stats recv=$(pcap_count "$T/trace.pcap") drop=0"
	check_eq "mapi_get_next_device_info(0): the first interface, as ip link says" \
		"$(grep '^device' "$T/$prog.out")" "device $(ip -j link show | python3 -c '
import json, sys
first = min(json.load(sys.stdin), key=lambda l: l["ifindex"])
print(first["ifindex"], first["ifname"])')"
	check_eq "the library, as mapi functions lists it" "$(grep '^library' "$T/$prog.out")" \
		"library mapi-bpf $("$BUILD/mapi" functions | grep -c '^[A-Z]')"
	check_match "MAPI 2.0's argument letters, of its forms" "$(grep '^args' "$T/$prog.out")" \
		" BPF_FILTER=s .* TO_BUFFER=i TO_FILE=isi SAMPLE=ii"
done
finish
