#!/usr/bin/env bash
# Many flows on one interface at once, far more than one program can hold
# (a program names at most 64 maps; the engine chains groups of flows):
# every flow, first or last, counts exactly what libpcap says it should.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

FILTERS=(
	"" "tcp" "udp" "icmp" "arp" "ip6" "tcp and dst port 80" "udp port 53"
	"greater 1000" "host 10.1.0.80" "not ip" "tcp[tcpflags] & tcp-syn != 0"
)
COPIES=17	# 12 filters x 17 = 204 flows, in both directions

"$BUILD/tests/gen_traffic" mix 21 1500 "$T/in.pcap" no-vlan
"$BUILD/tests/gen_traffic" mix 22 1200 "$T/out.pcap" no-vlan

flowctl_start
declare -a fd_of filter_of
n=0
start=$SECONDS
for ((c = 0; c < COPIES; c++)); do
	for f in "${FILTERS[@]}"; do
		fc_ok create "$MON" || exit 1
		fd=$V
		[ -n "$f" ] && { fc_ok apply "$fd" BPF_FILTER "\"$f\"" || exit 1; }
		fc_ok apply "$fd" PKT_COUNTER || exit 1
		fc_ok connect "$fd" || exit 1
		fd_of[n]=$fd
		filter_of[n]=$f
		n=$((n + 1))
	done
done
echo "  ($n flows connected in $((SECONDS - start)) s)"
pkt_fid() { [ -n "${filter_of[$1]}" ] && echo 2 || echo 1; }

in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/in.pcap" >/dev/null &
s1=$!
in_mon "$BUILD/tests/sendpcap" "$MON" "$T/out.pcap" >/dev/null &
s2=$!
wait $s1 $s2
read -r total _ < <("$BUILD/tests/pcapstat" "$T/in.pcap")
read -r t_out _ < <("$BUILD/tests/pcapstat" "$T/out.pcap")
total=$((total + t_out))
fc_ok wait "${fd_of[0]}" 1 "$total" 10000

declare -A want
for f in "${FILTERS[@]}"; do
	# shellcheck disable=SC2086
	read -r a _ < <("$BUILD/tests/pcapstat" "$T/in.pcap" $f)
	# shellcheck disable=SC2086
	read -r b _ < <("$BUILD/tests/pcapstat" "$T/out.pcap" $f)
	want["k:$f"]=$((a + b))
done
bad=0
for ((i = 0; i < n; i++)); do
	fc_ok read "${fd_of[i]}" "$(pkt_fid "$i")"
	w=${want["k:${filter_of[i]}"]}
	if [ "$V" != "$w" ]; then
		fail "flow $i ('${filter_of[i]}'): $V packets, want $w"
		bad=$((bad + 1))
	fi
done
[ $bad -eq 0 ] && pass "all $n flows counted exactly ($total packets sent)"

# Close every other flow, send again: the rest still count exactly.
for ((i = 0; i < n; i += 2)); do fc_ok close "${fd_of[i]}"; done
in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/in.pcap" >/dev/null
read -r a _ < <("$BUILD/tests/pcapstat" "$T/in.pcap" ${filter_of[1]})
fc_ok wait "${fd_of[1]}" "$(pkt_fid 1)" $((${want["k:${filter_of[1]}"]} + a)) 10000
bad=0
for ((i = 1; i < n; i += 2)); do
	f=${filter_of[i]}
	# shellcheck disable=SC2086
	read -r a _ < <("$BUILD/tests/pcapstat" "$T/in.pcap" $f)
	fc_ok read "${fd_of[i]}" "$(pkt_fid "$i")"
	w=$((${want["k:$f"]} + a))
	[ "$V" = "$w" ] || { bad=$((bad + 1)); fail "flow $i ('$f') after closes: $V, want $w"; }
done
[ $bad -eq 0 ] && pass "the $((n / 2)) remaining flows stayed exact after the others closed"
finish
