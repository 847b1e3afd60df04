#!/usr/bin/env bash
# Monitoring never changes what the interface can do: while flows run in
# native XDP on mon0, both ends' MTU can be raised to 9000 (a driver caps
# it at about a page while an XDP program without fragment support runs;
# veth caps its peer's), and jumbo frames are then counted and captured
# whole: lengths and bytes deep in the frame, past its first buffer, as
# libpcap says of the frames sent.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

# jumbo and ordinary UDP frames, some with "MAPI" at byte 8500
python3 - "$T/jumbo.pcap" "$MON_MAC" "$PEER_MAC" <<'EOF'
import struct, sys
path, dst, src = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', '')), bytes.fromhex(sys.argv[3].replace(':', ''))
out = open(path, 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
n = 0
for size in (9014, 8600, 5000, 3000, 1514, 60):
    for i in range(20):
        payload = bytearray((n * 7 + k) & 0xff for k in range(size - 42))
        if i % 2 and size > 8504:
            payload[8500 - 42:8504 - 42] = b'MAPI'
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, size - 14, n, 0, 64, 17, 0,
                         bytes([10, 9, 0, 2]), bytes([10, 9, 0, 1]))
        ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
        udp = struct.pack('!HHHH', 4000 + i, 5001, size - 34, 0)
        frame = dst + src + b'\x08\x00' + ip + udp + bytes(payload)
        out.write(struct.pack('<IIII', 1, n, len(frame), len(frame)) + frame)
        n += 1
EOF

FILTERS=(
	""
	"udp and greater 8000"
	"ether[8500:4] = 0x4d415049"
	"udp[4:2] > 4000"
)
flowctl_start
for i in "${!FILTERS[@]}"; do
	fc_counter "$MON" "${FILTERS[i]}"
	fd[i]=$FC_FD pkts[i]=$FC_PKTS bytes[i]=$FC_BYTES
done
fc_ok info "${fd[0]}"
check_match "received packets run in native XDP" "$V" "mode_in=native"

# what tcpdump's users do on a jumbo-frame LAN, with the monitor running
if in_peer ip link set "$PEER" mtu 9000 2>"$T/mtu.err"; then
	pass "the peer's MTU raised to 9000 while flows run"
else
	fail "the peer's MTU cannot be raised: $(cat "$T/mtu.err")"
fi
if in_mon ip link set "$MON" mtu 9000 2>"$T/mtu.err"; then
	pass "the monitored interface's MTU raised to 9000 while flows run"
else
	fail "the monitored interface's MTU cannot be raised: $(cat "$T/mtu.err")"
fi

bg "$NS_MON" "$T/capture.err" "$BUILD/mapi" capture -i "$MON" -w "$T/cap.pcap" -c 120
wait_until 10 grep -q "capturing" "$T/capture.err" || fail "capture did not start: $(cat "$T/capture.err")"
capture_pid=$!
traces_send jumbo
for i in "${!FILTERS[@]}"; do
	read -r want_p want_b < <(traces_count jumbo -- ${FILTERS[i]})
	fc_ok wait "${fd[i]}" "${pkts[i]}" "$want_p" 5000
	got_p=$V
	fc_ok read "${fd[i]}" "${bytes[i]}"
	check_eq "'${FILTERS[i]:-all}': packets bytes" "$got_p $V" "$want_p $want_b"
done
wait_until 10 bash -c "! kill -0 $capture_pid 2>/dev/null" || fail "capture did not end"
check_eq "captured jumbo frames, byte for byte" "$("$BUILD/tests/pcapcmp" "$T/jumbo.pcap" "$T/cap.pcap" | head -1)" "same 120"

# and back: the MTU can be lowered again as well
in_peer ip link set "$PEER" mtu 1500 && in_mon ip link set "$MON" mtu 1500 &&
	pass "the MTU lowered back to 1500" || fail "the MTU cannot be lowered back"
finish
