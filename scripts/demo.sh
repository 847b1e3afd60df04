#!/usr/bin/env bash
# make demo: the four MAPI applications, and four jobs of the function
# library (top_talkers, scan_detect, syn_flood, traffic_mix), on a
# throwaway veth testbed.
#
# Two network namespaces joined by a veth pair (mon0 <-> peer0).  Known
# traffic crosses mon0 in both directions while the example programs
# monitor it; tcpdump captures the same traffic on the same interface, and
# libpcap computes what the programs should report from the frames sent.
# Last, an FTP server on the monitored side and a client 50 ms away
# (tests/ftp.sh) for the passive-FTP tracker.
# The testbed is removed at the end, however the demo ends.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
TEST_NAME=demo
. tests/lib.sh
. tests/ftp.sh
need_root

EX=$BUILD/examples
G=$BUILD/tests
FILTER="tcp and dst port 80"

testbed_up
echo "testbed: $MON (namespace $NS_MON) <-> $PEER (namespace $NS_PEER)"
"$G/gen_traffic" mix 101 2000 "$T/in.pcap" no-vlan
"$G/gen_traffic" mix 102 1000 "$T/out.pcap" no-vlan

# traffic ROUNDS: sends both traces ROUNDS times, a second apart
traffic() {
	local i
	for ((i = 0; i < $1; i++)); do
		in_peer "$G/sendpcap" "$PEER" "$T/in.pcap" >/dev/null
		in_mon "$G/sendpcap" "$MON" "$T/out.pcap" >/dev/null
		sleep 1
	done
}
# expected ROUNDS FILTER...: "packets bytes" libpcap finds in what was sent
expected() {
	local rounds=$1 p1 b1 p2 b2
	shift
	read -r p1 b1 < <("$G/pcapstat" "$T/in.pcap" "$@")
	read -r p2 b2 < <("$G/pcapstat" "$T/out.pcap" "$@")
	echo "$((rounds * (p1 + p2))) $((rounds * (b1 + b2)))"
}
tcpdump_total() { "$G/pcapstat" "$T/$1.pcap"; }

echo
echo "== packet_count: how many packets to the web server ($FILTER), 4 s"
# shellcheck disable=SC2086
tcpdump_start pc $FILTER
(exec ip netns exec "$NS_MON" "$EX/packet_count" "$MON" 4 "$FILTER" >"$T/pc.out") &
pc=$!
wait_until 10 attached
traffic 2
wait $pc
wait_until 10 bash -c "[ \$('$G/pcapstat' '$T/pc.pcap' | cut -d' ' -f1) -ge $(expected 2 $FILTER | cut -d' ' -f1) ]" || true
tcpdump_stop pc
read -r want_p _ < <(expected 2 $FILTER)
read -r td_p _ < <(tcpdump_total pc)
printf '   %-14s %s\n' "packet_count:" "$(cat "$T/pc.out")"
printf '   %-14s %s packets\n' "tcpdump:" "$td_p"
printf '   %-14s %s packets (libpcap, over the frames sent)\n' "sent:" "$want_p"

for mode in copy ref; do
	wait_until 5 hooks_empty || true
	echo
	echo "== link_util ($mode): link utilization every second, all traffic, 4 s"
	tcpdump_start lu$mode
	(exec ip netns exec "$NS_MON" "$EX/link_util" "$MON" 4 "$mode" >"$T/lu.out") &
	lu=$!
	wait_until 10 attached
	traffic 3
	wait $lu
	read -r want_p want_b < <(expected 3)
	wait_until 10 bash -c "[ \$('$G/pcapstat' '$T/lu$mode.pcap' | cut -d' ' -f1) -ge $want_p ]" || true
	tcpdump_stop lu$mode
	read -r td_p td_b < <(tcpdump_total lu$mode)
	sed 's/^/   link_util:     /' "$T/lu.out"
	printf '   %-14s %s bytes in %s packets\n' "tcpdump:" "$td_b" "$td_p"
	printf '   %-14s %s bytes in %s packets (libpcap, over the frames sent)\n' "sent:" "$want_b" "$want_p"
done
wait_until 5 hooks_empty || true
echo
echo "== slapper: UDP from port 2002 with the Slapper worm's signature in its first 100 bytes"
"$G/gen_traffic" worm 103 300 "$T/worm.pcap" >"$T/worm.count"
worms=$(sed -n 's/^worm //p' "$T/worm.count")
tcpdump_start sl udp and src port 2002
(exec ip netns exec "$NS_MON" "$EX/slapper" -c "$worms" -t 10 "$MON" >"$T/sl.out" 2>"$T/sl.err") &
sl=$!
wait_until 10 attached
in_peer "$G/sendpcap" "$PEER" "$T/worm.pcap" >/dev/null
wait $sl
tcpdump_wait sl "$(pcap_count "$T/worm.pcap" udp and src port 2002)"
tcpdump_stop sl
head -n 3 "$T/sl.out" | sed 's/^/   slapper:       /'
printf '   %-14s ... %s lines in all\n' "" "$(wc -l <"$T/sl.out")"
sed 's/^slapper: /   slapper:       /' "$T/sl.err" | tail -n 1
printf '   %-14s %s packets from UDP port 2002, worm or not\n' "tcpdump:" "$(pcap_count "$T/sl.pcap")"
printf '   %-14s %s worm packets among %s frames (made so by the generator)\n' "sent:" \
	"$worms" "$(pcap_count "$T/worm.pcap")"
wait_until 5 hooks_empty || true
echo
echo "== top_talkers: the /24s (/48s) sending most bytes, every second, by TOP in the kernel"
tcpdump_start tt
(exec ip netns exec "$NS_MON" "$EX/top_talkers" "$MON" 4 3 >"$T/tt.out") &
tt=$!
wait_until 10 attached
traffic 2
wait $tt
wait_until 10 bash -c "[ \$('$G/pcapstat' '$T/tt.pcap' | cut -d' ' -f1) -ge $(expected 2 | cut -d' ' -f1) ]" || true
tcpdump_stop tt
# (the seconds the traffic came in)
grep -v '^total' "$T/tt.out" | awk '/^second/ { busy = $3 != 0 } busy' | head -n 8 |
	sed 's/^/   top_talkers:   /'
grep '^total' "$T/tt.out" | while read -r _ net p _ b _; do
	# (libpcap's plain "src net" matches ARP's sender too)
	case $net in *:*) proto=ip6 ;; *) proto=ip ;; esac
	read -r tp tb < <("$G/pcapstat" "$T/tt.pcap" $proto src net "$net")
	printf '   %-14s %s: %s packets, %s bytes (top_talkers: %s, %s)\n' "tcpdump:" "$net" \
		"$tp" "$tb" "$p" "$b"
done
wait_until 5 hooks_empty || true
echo
echo "== scan_detect: sources talking to more than 100 distinct destinations, by DISTINCT"
python3 tests/models/gen_pcap.py scan 2000 50 3 "$T/scan.pcap"
tcpdump_start sd
(exec ip netns exec "$NS_MON" "$EX/scan_detect" "$MON" 3 100 >"$T/sd.out") &
sd=$!
wait_until 10 attached
in_peer "$G/sendpcap" "$PEER" "$T/scan.pcap" >/dev/null
wait $sd
tcpdump_wait sd "$(pcap_count "$T/scan.pcap")"
tcpdump_stop sd
sed 's/^/   scan_detect:   /' "$T/sd.out" | head -n 4
# tcpdump's own reading: the distinct destinations of the scanner
scanned=$(tcpdump -nr "$T/sd.pcap" src host 10.9.9.9 2>/dev/null |
	sed -n 's/.* > \([0-9.]*\)\.[0-9]*: .*/\1/p' | sort -u | wc -l)
printf '   %-14s 10.9.9.9 sent to %s distinct destinations\n' "tcpdump:" "$scanned"
wait_until 5 hooks_empty || true
echo
echo "== syn_flood: more than 500 SYNs in 100 ms, by THRESHOLD on a SYN counter (tcpreplay's timing)"
python3 tests/models/gen_pcap.py synflood 3 1.5 3000 "$T/syn.pcap"
syn="tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn"
tcpdump_start sf "$syn"
(exec ip netns exec "$NS_MON" "$EX/syn_flood" "$MON" 5 500 >"$T/sf.out") &
sf=$!
wait_until 10 grep -qs watching "$T/sf.out"
in_peer tcpreplay -q -i "$PEER" "$T/syn.pcap" >/dev/null 2>&1
wait $sf
tcpdump_wait sf "$(pcap_count "$T/syn.pcap" "$syn")"
tcpdump_stop sf
sed 's/^/   syn_flood:     /' "$T/sf.out"
printf '   %-14s %s SYNs: one every 20 ms for 3 s, and 3000 in 30 ms at 1.5 s\n' "tcpdump:" \
	"$(pcap_count "$T/sf.pcap")"
wait_until 5 hooks_empty || true
echo
echo "== traffic_mix: each kind's share of every second's bytes, by BUCKETs of byte counters"
tcpdump_start tm
(exec ip netns exec "$NS_MON" "$EX/traffic_mix" "$MON" 3 >"$T/tm.out") &
tm=$!
wait_until 10 attached
in_peer tcpreplay -q -i "$PEER" "$T/in.pcap" >/dev/null 2>&1	# 2000 frames, 1 ms apart
wait $tm
tcpdump_wait tm "$(pcap_count "$T/in.pcap")"
tcpdump_stop tm
sed 's/^/   traffic_mix:   /' "$T/tm.out"
printf '   %-14s web %s, dns %s, ssh %s bytes\n' "tcpdump:" \
	"$("$G/pcapstat" "$T/tm.pcap" tcp port 80 or tcp port 443 | cut -d' ' -f2)" \
	"$("$G/pcapstat" "$T/tm.pcap" udp port 53 | cut -d' ' -f2)" \
	"$("$G/pcapstat" "$T/tm.pcap" tcp port 22 | cut -d' ' -f2)"
wait_until 5 hooks_empty || true
echo
echo "== ftp_track: passive FTP data connections, found on the control connection"
if ! ftp_need; then
	echo "   skipped: $FTP_WHY"
elif ! ftp_site_up 50; then
	echo "   skipped: $FTP_WHY"
else
	tcpdump_start ftp tcp
	bg "$NS_MON" "$T/ftp.out" "$EX/ftp_track" -n 3 -t 60 "$MON"
	ftp=$!
	wait_until 20 grep -qs watching "$T/ftp.out"
	ftp_get "$FTP_URL/f1000000" -o /dev/null                  # EPSV
	ftp_get --disable-epsv "$FTP_URL/f150000" -o /dev/null    # PASV
	ftp_get -T "$T/ftp/f2000" "$FTP_URL/up/f2000"             # an upload
	wait_until 10 sh -c "! kill -0 $ftp 2>/dev/null" || true
	ftp_capture_flush ftp || true
	tcpdump_stop ftp
	grep '^transfer' "$T/ftp.out" | while read -r report; do
		printf '   %-14s %s\n' "ftp_track:" "${report#transfer }"
		read -r p b < <(ftp_connection_count ftp "$report")
		printf '   %-14s %s packets, %s bytes on that connection\n' "tcpdump:" "$p" "$b"
	done
fi
echo
echo "Bytes are frame lengths as tcpdump reports them, Ethernet header included."
echo "The testbed is removed now."
