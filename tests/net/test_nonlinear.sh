#!/usr/bin/env bash
# Filters that read deep into packets the kernel keeps in pieces: TCP from
# the local stack leaves through tc as segmentation-offload super-packets
# (up to 64 KiB, payload in page fragments).  Each flow must count what
# tcpdump captured on the same interface, filtered by libpcap afterwards.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up
in_mon ip addr add 10.9.0.1/24 dev "$MON"
in_peer ip addr add 10.9.0.2/24 dev "$PEER"

FILTERS=(
	"tcp"
	"tcp and len > 1514"
	"tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x4d415049"
	"tcp[((tcp[12:1] & 0xf0) >> 2) + 4000:4] = 0x4d415049"
	"tcp and ip[1000:2] != 0"
	"ether[2000:4] != 0"
	"ether[60000] != 0"
	"not tcp"
)

bg "$NS_PEER" "$T/server.out" "$BUILD/tests/tcpblast" recv 5001
wait_until 10 grep -q ready "$T/server.out"

flowctl_start
for i in "${!FILTERS[@]}"; do
	fc_ok create "$MON" || exit 1
	fd[i]=$V
	fc_ok apply "${fd[i]}" BPF_FILTER "\"${FILTERS[i]}\"" || exit 1
	fc_ok apply "${fd[i]}" PKT_COUNTER || exit 1
	fc_ok apply "${fd[i]}" BYTE_COUNTER || exit 1
	fc_ok connect "${fd[i]}" || exit 1
done
tcpdump_start all -s 0 -B 262144

in_mon "$BUILD/tests/tcpblast" send 10.9.0.2 5001 3000000 >/dev/null
sleep 0.5	# the last ACKs
fc_ok read "${fd[0]}" 2
tcp_pkts=$V
wait_until 10 bash -c "[ \$('$BUILD/tests/pcapstat' '$T/all.pcap' tcp | cut -d' ' -f1) -ge $tcp_pkts ]" || true
tcpdump_stop all

read -r big _ < <("$BUILD/tests/pcapstat" "$T/all.pcap" "tcp and len > 1514")
[ "$big" -gt 0 ] && pass "tcpdump saw $big super-packets over 1514 bytes" ||
	fail "no super-packets: the test did not exercise non-linear skbs"
for i in "${!FILTERS[@]}"; do
	read -r p b < <("$BUILD/tests/pcapstat" "$T/all.pcap" ${FILTERS[i]})
	fc_ok read "${fd[i]}" 2
	check_eq "'${FILTERS[i]}' packets vs tcpdump" "$V" "$p"
	fc_ok read "${fd[i]}" 3
	check_eq "'${FILTERS[i]}' bytes vs tcpdump" "$V" "$b"
done
finish
