#!/usr/bin/env bash
# PKT_COUNTER and BYTE_COUNTER on a live interface, both directions, several
# flows with different filters at once.  Every count must equal (1) what
# libpcap's filter says of the frames the test sent and (2) what tcpdump
# captured on the same interface.
#
# Round 1 sends no 802.1Q frames and runs one tcpdump per filter.  Round 2
# sends 802.1Q frames too; there tcpdump captures everything and the capture
# is filtered afterwards, because live tcpdump on Linux filters received
# 802.1Q frames with their tag removed (the kernel takes it off before
# packet sockets see it), while mapi-bpf, like `tcpdump -r`, filters the
# frame as it was on the wire (docs/semantics.md).
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

FILTERS=(
	""
	"tcp and dst port 80"
	"udp"
	"icmp"
	"arp"
	"ip6"
	"vlan"
	"greater 1000"
	"tcp[tcpflags] & tcp-syn != 0"
	"not ip and not ip6"
	"host 10.1.0.80"
	"udp port 2002 or (ip[6:2] & 0x1fff != 0)"
)

flowctl_start

# round NAME TRAFFIC-CHOICE live|offline
round() {
	local name=$1 choice=$2 how=$3 i fd
	echo "round $name: traffic $choice, tcpdump filters $how"
	"$BUILD/tests/gen_traffic" mix 1 1500 "$T/in.pcap" "$choice"
	"$BUILD/tests/gen_traffic" mix 2 1000 "$T/out.pcap" "$choice"

	fds=()
	for i in "${!FILTERS[@]}"; do
		fc_ok create "$MON" || return 1
		fd=$V
		if [ -n "${FILTERS[i]}" ]; then
			fc_ok apply "$fd" BPF_FILTER "\"${FILTERS[i]}\"" || return 1
		fi
		fc_ok apply "$fd" PKT_COUNTER || return 1
		pkt_fid[i]=$V
		fc_ok apply "$fd" BYTE_COUNTER || return 1
		byte_fid[i]=$V
		fc_ok connect "$fd" || return 1
		fds[i]=$fd
	done
	fc_ok info "${fds[0]}"
	check_match "ingress runs in native XDP, egress in tcx" "$V" "mode_in=native mode_out=tcx"
	fc_ok ref "${fds[0]}" "${byte_fid[0]}"
	check_eq "MAPI_REF before traffic" "$V" 0

	if [ "$how" = live ]; then
		for i in "${!FILTERS[@]}"; do
			# shellcheck disable=SC2086
			tcpdump_start "$name$i" ${FILTERS[i]} || return 1
		done
	else
		tcpdump_start "$name" || return 1
	fi

	in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/in.pcap" >/dev/null &
	local sender_in=$!
	in_mon "$BUILD/tests/sendpcap" "$MON" "$T/out.pcap" >/dev/null &
	local sender_out=$!
	wait $sender_in $sender_out

	local n_in n_out total
	read -r n_in _ < <("$BUILD/tests/pcapstat" "$T/in.pcap")
	read -r n_out _ < <("$BUILD/tests/pcapstat" "$T/out.pcap")
	total=$((n_in + n_out))
	fc_ok wait "${fds[0]}" "${pkt_fid[0]}" "$total" 10000
	check_eq "packets seen on both directions" "$V" "$total"
	local all_bytes
	read -r _ all_bytes < <("$BUILD/tests/pcapstat" "$T/in.pcap")
	read -r _ b < <("$BUILD/tests/pcapstat" "$T/out.pcap")
	all_bytes=$((all_bytes + b))
	fc_ok refwait "${fds[0]}" "${byte_fid[0]}" "$all_bytes" 1000
	check_eq "the MAPI_REF value followed, with no further call" "$V" "$all_bytes"
	if [ "$how" = offline ]; then
		tcpdump_wait "$name" "$total"
		tcpdump_stop "$name"
	fi

	local p_in b_in p_out b_out want_p want_b td_p td_b got_p got_b label
	for i in "${!FILTERS[@]}"; do
		# shellcheck disable=SC2086
		read -r p_in b_in < <("$BUILD/tests/pcapstat" "$T/in.pcap" ${FILTERS[i]})
		# shellcheck disable=SC2086
		read -r p_out b_out < <("$BUILD/tests/pcapstat" "$T/out.pcap" ${FILTERS[i]})
		want_p=$((p_in + p_out))
		want_b=$((b_in + b_out))
		if [ "$how" = live ]; then
			tcpdump_wait "$name$i" "$want_p"
			tcpdump_stop "$name$i"
			read -r td_p td_b < <("$BUILD/tests/pcapstat" "$T/$name$i.pcap")
		else
			# shellcheck disable=SC2086
			read -r td_p td_b < <("$BUILD/tests/pcapstat" "$T/$name.pcap" ${FILTERS[i]})
		fi
		fc_ok read "${fds[i]}" "${pkt_fid[i]}"
		got_p=$V
		fc_ok read "${fds[i]}" "${byte_fid[i]}"
		got_b=$V
		label="'${FILTERS[i]:-(all)}'"
		check_eq "$label packets vs sent ($p_in in + $p_out out)" "$got_p" "$want_p"
		check_eq "$label bytes vs sent" "$got_b" "$want_b"
		check_eq "$label packets vs tcpdump" "$got_p" "$td_p"
		check_eq "$label bytes vs tcpdump" "$got_b" "$td_b"
		fc_ok info "${fds[i]}"
		check_match "$label saw every packet" "$V" "seen=$total "
	done
	for fd in "${fds[@]}"; do fc_ok close "$fd"; done
	# idle hooks stay attached for a second, then go
	if wait_until 5 hooks_empty; then
		pass "nothing attached once the last flow closed"
	else
		fail "still attached after the last close: $(in_mon "$BUILD/tests/hookstate" "$MON")"
	fi
}

round plain no-vlan live
round tagged all offline
finish
