#!/usr/bin/env bash
# mapid: many applications on one interface through the daemon.
#
#  1. packet_count, link_util (MAPI_REF), slapper, mapi count, mapi capture -w
#     and flowctl (a counter, a TO_FILE) at once, beside tcpdump, without
#     mapid and then through it: every number equals tcpdump's and the bytes
#     sent; through mapid one XDP and one tcx program serve them all and
#     `mapi flows` lists them with their owners.
#  2. kill -9 of one client mid-traffic: its maps are gone within 100 ms;
#     every other client's totals stay exact.
#  3. Credentials: a user the test makes, in mapid's group, runs packet_count
#     exactly with no privilege; one outside is refused, with the group
#     named; payloads kept to another group; per-client limits.
#  4. A client sending garbage, cut or oversized messages, and one asking
#     for 10,000 flows at once, get errors while mapid serves the others.
#  5. kill -9 of mapid: nothing stays attached, its clients get
#     MAPI_ERR_DAEMON (a thread waiting for a packet too); a new mapid
#     serves new clients.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

chmod 711 "$T"	# the unprivileged users reach the socket and the traces
SOCK=$MAPID_SOCK
GROUP=mapit$$
mapid_start_here() { mapid_start --group "$GROUP" "$@"; }
# as USER CMD...: CMD as USER, with no privilege (root: as it is)
as() {
	local user=$1
	shift
	[ "$user" = root ] && { "$@"; return; }
	in_mon setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups --inh-caps=-all \
		--bounding-set=-all env MAPI_SOCKET="$SOCK" MAPI_BACKEND=mapid "$@"
}
# crowd USER N: N connections to mapid at once, as USER, held half a
# second: "N connections, M closed" (those mapid closed at once)
crowd() {
	as "$1" python3 - "$SOCK" "$2" <<'EOF'
import select, socket, sys, time
held = []
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    held.append(s)
time.sleep(0.5)
closed = sum(1 for s in held if select.select([s], [], [], 0)[0] and s.recv(10) == b"")
print("%d connections, %d closed" % (len(held), closed))
EOF
}

state() { in_mon "$BUILD/tests/hookstate" "$MON"; }

"$BUILD/tests/gen_traffic" worm 61 400 "$T/in-worm.pcap" >"$T/in.count"
"$BUILD/tests/gen_traffic" mix 62 800 "$T/in-mix.pcap" no-vlan
"$BUILD/tests/gen_traffic" mix 63 500 "$T/out-mix.pcap" no-vlan
"$BUILD/tests/gen_traffic" worm 64 300 "$T/out-worm.pcap" >"$T/out.count"
worms=$(($(sed -n 's/^worm //p' "$T/in.count") + $(sed -n 's/^worm //p' "$T/out.count")))
send_all() { traces_send in-worm in-mix -- out-mix out-worm; }
# sent [EXPR...]: "packets bytes" of all four traces that match EXPR
sent() { traces_count in-worm in-mix out-mix out-worm -- "$@"; }
read -r all_p all_b < <(sent)
read -r udp_p udp_b < <(sent udp)

# six_at_once BACKEND: packet_count, link_util, slapper, mapi count, mapi
# capture -w and flowctl (a counting flow and a TO_FILE flow) at once on
# mon0, beside tcpdump, run by BACKEND (MAPI_BACKEND): each number equals
# tcpdump's and what was sent.
six_at_once() {
	local be=$1 fd pkts bytes tfd td_p td_b pc_pid lu_pid sl_pid count_pid cap_pid
	export MAPI_BACKEND=$be
	echo "1. six applications at once, $be"
	flowctl_start
	fc_counter "$MON"
	fd=$FC_FD pkts=$FC_PKTS bytes=$FC_BYTES
	fc_ok info "$fd"
	check_match "flowctl's flow runs $be, native XDP" "$V" \
		"mode_in=native mode_out=tcx .*backend=$be "
	fc_ok ref "$fd" "$bytes"
	fc_ok create "$MON"
	tfd=$V
	fc_ok apply "$tfd" TO_FILE "\"$T/tofile-$be.pcap\""
	fc_ok connect "$tfd"
	bg "$NS_MON" "$T/packet_count.out" "$BUILD/examples/packet_count" "$MON" 8 udp
	pc_pid=$!
	bg "$NS_MON" "$T/link_util.out" "$BUILD/examples/link_util" "$MON" 8 ref
	lu_pid=$!
	bg "$NS_MON" "$T/slapper.out" "$BUILD/examples/slapper" -c "$worms" "$MON"
	sl_pid=$!
	bg "$NS_MON" "$T/count.out" "$BUILD/mapi" count -i "$MON" -I 0.2 --json
	count_pid=$!
	bg "$NS_MON" "$T/capture.out" "$BUILD/mapi" capture -i "$MON" -w "$T/cap.pcap" udp
	cap_pid=$!
	if [ "$be" = mapid ]; then
		wait_until 20 bash -c "[ \$(grep -c '^mapid: flow [0-9]* of pid' '$T/mapid.log') -ge 7 ]" ||
			fail "not every client connected: $(cat "$T/mapid.log")"
		check_match "one XDP program and one tcx program serve all seven flows" "$(state)" \
			"^xdp=[1-9][0-9]* tcx_ingress=0 tcx_egress=1$"
		in_mon "$BUILD/mapi" flows >"$T/flows.out" 2>&1
		check_eq "mapi flows lists the seven" "$(grep -c " $MON " "$T/flows.out")" 7
		check_match "with owners, modes and functions" "$(cat "$T/flows.out")" \
			"0 +$pc_pid +- +$MON +inout native,tcx +program .*BPF_FILTER,PKT_COUNTER"
		check_match "mapi info says flows run in mapid" "$(in_mon "$BUILD/mapi" info)" \
			"flows run   in mapid"
	else
		# the first process takes XDP; the five others tc ingress, after it
		wait_until 20 bash -c "ip netns exec $NS_MON $BUILD/tests/hookstate $MON | grep -q 'tcx_ingress=5 tcx_egress=6'" ||
			fail "not every application attached: $(state)"
		check_match "one process in XDP, five at tc ingress, six at tc egress" "$(state)" \
			"^xdp=[1-9][0-9]* tcx_ingress=5 tcx_egress=6$"
	fi
	tcpdump_start "all_${be/-/_}"
	send_all
	tcpdump_wait "all_${be/-/_}" "$all_p"
	tcpdump_stop "all_${be/-/_}"
	read -r td_p td_b < <("$BUILD/tests/pcapstat" "$T/all_${be/-/_}.pcap")
	check_eq "tcpdump saw what was sent" "$td_p $td_b" "$all_p $all_b"
	fc_ok wait "$fd" "$pkts" "$all_p" 10000
	check_eq "flowctl: packets = sent" "$V" "$all_p"
	fc_ok refwait "$fd" "$bytes" "$all_b" 1000
	check_eq "flowctl: MAPI_REF bytes followed, no call" "$V" "$all_b"
	wait "$pc_pid" || fail "packet_count failed: $(cat "$T/packet_count.out")"
	check_eq "packet_count udp = sent" "$(cat "$T/packet_count.out")" "pkts:$udp_p"
	wait "$lu_pid" || fail "link_util failed: $(cat "$T/link_util.out")"
	check_eq "link_util (MAPI_REF) bytes = sent" "$(tail -n 1 "$T/link_util.out")" "bytes:$all_b"
	if wait_until 20 bash -c "! kill -0 $sl_pid 2>/dev/null"; then
		check_eq "slapper reported every worm packet" "$(grep -c ' > ' "$T/slapper.out")" "$worms"
	else
		fail "slapper still waits: $(grep -c ' > ' "$T/slapper.out") of $worms"
	fi
	wait_until 10 bash -c "tail -n 1 '$T/count.out' | grep -q '\"total_packets\":$all_p,'" || true
	kill -INT "$count_pid" "$cap_pid"
	wait "$count_pid" || fail "mapi count failed: $(cat "$T/count.out")"
	wait "$cap_pid" || fail "mapi capture failed: $(cat "$T/capture.out")"
	check_match "mapi count = sent" "$(cat "$T/count.out")" \
		"$all_p packets \\($all_b bytes\\) counted on $MON"
	check_eq "mapi capture -w wrote tcpdump's UDP frames, byte for byte" \
		"$("$BUILD/tests/pcapcmp" "$T/all_${be/-/_}.pcap" "$T/cap.pcap" udp)" "same $udp_p"
	fc_ok close "$tfd"
	check_eq "TO_FILE, written by the client: tcpdump's frames, byte for byte" \
		"$("$BUILD/tests/pcapcmp" "$T/all_${be/-/_}.pcap" "$T/tofile-$be.pcap")" "same $all_p"
	fc_ok close "$fd"
	kill "$FLOWCTL_PID"
	wait "$FLOWCTL_PID" 2>/dev/null || true
	wait_until 10 hooks_empty || fail "still attached after the six: $(state)"
}

six_at_once in-process
mapid_start_here
six_at_once mapid
check_eq "mapid's list is empty once they ended" "$(in_mon "$BUILD/mapi" flows 2>&1)" "mapi: no flows"
export MAPI_BACKEND=mapid

echo "1b. 200 conversation flows of one client: mapid's lookup, read by the client"
coproc MANY { exec ip netns exec "$NS_MON" "$BUILD/tests/manyflows" "$MON" 200 \
	"$T/convs.pcap" 2>"$T/many.err"; }
BG_PIDS+=($MANY_PID)
read -r -t 60 line <&"${MANY[0]}" || line=""
check_eq "200 conversation flows connected through mapid" "$line" ready
check_eq "past 16 they are lookups in mapid's table" \
	"$(in_mon "$BUILD/mapi" flows | grep -c ' lookup ')" 184
in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/convs.pcap" >/dev/null
in_mon "$BUILD/tests/sendpcap" "$MON" "$T/convs.pcap" >/dev/null
echo "check 2" >&"${MANY[1]}"
read -r -t 30 result <&"${MANY[0]}" || result="no answer"
check_eq "each counted its frames, read from the table it maps" "$result" "ok 200"
echo "close" >&"${MANY[1]}"
read -r -t 60 closed <&"${MANY[0]}" || closed="no answer"
check_eq "every flow closed" "$closed" closed
kill "$MANY_PID" 2>/dev/null || true	# it waits for more commands
wait "$MANY_PID" 2>/dev/null || true
wait_until 10 hooks_empty || fail "still attached: $(state)"
flowctl_start

echo "2. kill -9 of one client mid-traffic"
fc_counter "$MON"
fd=$FC_FD pkts=$FC_PKTS
bg "$NS_MON" "$T/victim.out" "$BUILD/examples/packet_count" "$MON" 30 udp
victim=$!
wait_until 20 grep -q "^mapid: flow [0-9]* of pid $victim " "$T/mapid.log" ||
	fail "the victim did not connect"
# its maps, by id, from the descriptors it holds
vpid=$victim
mapfile -t vmaps < <(grep -h '^map_id:' /proc/"$vpid"/fdinfo/* 2>/dev/null | awk '{print $2}')
[ "${#vmaps[@]}" -gt 0 ] && pass "the victim holds ${#vmaps[@]} maps of its flow" ||
	fail "no maps found in the victim's descriptors"
fc_ok read "$fd" "$pkts"
before=$V
in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/in-mix.pcap" >/dev/null &
sender=$!
kill -9 "$vpid"
killed_at=$(date +%s%N)
gone() {
	local ids m
	ids=" $("$BUILD/tests/bpfids" maps | tr '\n' ' ') "
	for m in "${vmaps[@]}"; do [[ $ids == *" $m "* ]] && return 1; done
	return 0
}
wait_until 5 gone || fail "the victim's maps stay: ${vmaps[*]}"
ms=$((($(date +%s%N) - killed_at) / 1000000))
[ "$ms" -le 100 ] && pass "its maps were gone $ms ms after kill -9" ||
	fail "its maps took $ms ms to go (want 100 at most)"
wait "$sender"
read -r mix_p _ < <("$BUILD/tests/pcapstat" "$T/in-mix.pcap")
fc_ok wait "$fd" "$pkts" $((before + mix_p)) 10000
check_eq "flowctl's total still exact" "$V" $((before + mix_p))
check_match "mapid said the victim went" "$(cat "$T/mapid.log")" "pid $vpid went: its 1 flows closed"
fc_ok close "$fd"

echo "3. who may do what"
groupadd "$GROUP"
on_exit groupdel "$GROUP"
useradd -M -N -g "$GROUP" -s /usr/sbin/nologin "${GROUP}in"
on_exit userdel "${GROUP}in"
useradd -M -N -s /usr/sbin/nologin "${GROUP}out"
on_exit userdel "${GROUP}out"
kill -TERM "$MAPID_PID"
wait_until 5 hooks_empty || true
mapid_start_here --payload-group "${GROUP}pay" --max-flows 3 --max-ring-bytes 1M

as "${GROUP}in" "$BUILD/examples/packet_count" "$MON" 3 udp >"$T/pc-in.out" 2>&1 &
pin=$!
wait_until 20 bash -c "[ \$(grep -c '^mapid: flow [0-9]* of pid' '$T/mapid.log') -ge 1 ]" ||
	fail "the group member's packet_count did not connect: $(cat "$T/pc-in.out")"
in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/in-mix.pcap" >/dev/null
read -r mix_udp _ < <("$BUILD/tests/pcapstat" "$T/in-mix.pcap" udp)
wait "$pin" || fail "packet_count as a group member failed: $(cat "$T/pc-in.out")"
check_eq "a member of $GROUP, unprivileged, counts exactly" "$(cat "$T/pc-in.out")" "pkts:$mix_udp"
rc=0
as "${GROUP}out" "$BUILD/examples/packet_count" "$MON" 1 udp >"$T/pc-out.out" 2>&1 || rc=$?
check_match "a user outside it is refused, the group named" "$(cat "$T/pc-out.out")" \
	"mapi_connect: user [0-9]+ may not create flows: mapid lets root and the members of group \"$GROUP\" do that \\(MAPI error 10001\\)"
rc=0
as "${GROUP}in" "$BUILD/examples/slapper" -t 1 "$MON" >"$T/sl-in.out" 2>&1 || rc=$?
check_match "payloads kept to another group" "$(cat "$T/sl-in.out")" \
	"STR_SEARCH shows packet payloads, which mapid lets only root and the members of group \"${GROUP}pay\" read \\(MAPI error 10001\\)"
fc_ok create "$MON"
rfd=$V
fc_ok apply "$rfd" TO_BUFFER
fc connect "$rfd"
check_match "a 4 MiB ring past --max-ring-bytes 1M: MAPI_ERR_LIMIT" "$R" \
	"^err 10007 user 0's ring buffers would take 4194304 bytes, past mapid's limit of 1048576 a user"
crowd "${GROUP}out" 70 >"$T/conns.out" 2>&1 || fail "the connections: $(cat "$T/conns.out")"
check_eq "a user's 65th connection and after are closed" "$(cat "$T/conns.out")" "70 connections, 6 closed"
for i in 1 2 3; do
	fc_ok create "$MON"
	lim[i]=$V
	fc_ok apply "${lim[i]}" PKT_COUNTER
	fc_ok connect "${lim[i]}"
done
fc_ok create "$MON"
fc connect "$V"
check_match "a fourth flow past --max-flows 3: MAPI_ERR_LIMIT" "$R" \
	"^err 10007 user 0 already has 3 flows, mapid's limit a user"
for i in 1 2 3; do fc_ok close "${lim[i]}"; done
wait_until 5 hooks_empty || true

echo "4. garbage, and 10,000 flows at once"
fc_counter "$MON"
fd=$FC_FD pkts=$FC_PKTS
python3 - "$SOCK" "$MON" "$(in_mon cat "/sys/class/net/$MON/ifindex")" >"$T/garbage.out" 2>&1 <<'EOF' || fail "the hostile client: $(cat "$T/garbage.out")"
import os, random, socket, struct, sys
path, dev, IFX = sys.argv[1], sys.argv[2], int(sys.argv[3])
MAGIC, VERSION = 0x4d415049, 3

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.settimeout(10)
    return s

def msg(t, body, seq=1, magic=MAGIC, version=VERSION, length=None):
    return struct.pack("=IHHII", magic, version, t, seq, len(body) if length is None else length) + body

def status(reply):
    assert len(reply) >= 28, "reply too short: %r" % reply
    return struct.unpack("=ii", reply[16:24])

def s32(s):
    b = s.encode()
    return struct.pack("=I", len(b)) + b

random.seed(7)
s = conn()
# (an empty record reads as the end of the connection: not sent here)
bad = [
    b"x", os.urandom(15), os.urandom(16), os.urandom(2000),
    msg(2, b"", magic=0), msg(2, b"", version=9), msg(2, b"abc", length=99),
    msg(2, b"\xff" * 40), msg(99, b""), msg(3, b"\x01"),
    msg(2, struct.pack("=i", 1) + struct.pack("=I", 4000000000)),          # huge string
    msg(2, struct.pack("=i", 1) + s32(dev) + struct.pack("=iiiI", IFX, 3, 1, 100000)),  # too many functions
    msg(2, struct.pack("=i", 1) + s32(dev) + struct.pack("=iiiI", IFX, 3, 1, 1) + s32("BPF_FILTER") +
        struct.pack("=II", 1, 7)),                                         # bad arg type
    msg(2, struct.pack("=i", 1) + s32(dev) + struct.pack("=iiiI", IFX, 3, 1, 1) + s32("BPF_FILTER") +
        struct.pack("=II", 1, 1) + struct.pack("=I", 5) + b"ud\0p "),      # NUL inside
    msg(2, struct.pack("=i", 1) + s32("nonexistent0") + struct.pack("=iiiI", 0, 3, 1, 0)),
]
for i in range(300):
    bad.append(msg(random.choice([1, 2, 3, 4, 5, 6]), os.urandom(random.randint(0, 300))))
answered = 0
for m in bad:
    try:
        s.send(m)
    except OSError as e:
        print("send failed after %d answers: %s" % (answered, e)); sys.exit(1)
    r = s.recv(200000)
    st, code = status(r)
    assert st < 0 or len(m) >= 16, "garbage accepted: %r" % m[:40]
    answered += 1
# descriptors sent to mapid are refused unread, with the message
sent = len(bad)
for i in range(5):
    socket.send_fds(s, [msg(4, struct.pack("=I", 0))], [os.open("/dev/null", os.O_RDONLY)])
    st, code = status(s.recv(200000))
    assert st < 0, "a message with descriptors accepted"
    sent += 1
    answered += 1
print("garbage: %d messages, %d error replies" % (sent, answered))

# a message larger than mapid takes: the socket refuses it or mapid answers an error
try:
    s.send(msg(2, b"\0" * 200000))
    st, code = status(s.recv(200000))
    assert st < 0
except OSError:
    pass
s.close()

# 10,000 flows at once on one connection
s = conn()
flow = struct.pack("=i", 1) + s32(dev) + struct.pack("=iiiI", IFX, 3, 1, 1) + s32("PKT_COUNTER") + struct.pack("=I", 0)
ok = refused = 0
for i in range(10000):
    s.send(msg(2, flow, seq=i + 1))
    r = s.recv(200000)
    st, code = status(r)
    if st == 0:
        ok += 1
    else:
        assert code == 10007, "flow %d: code %d" % (i, code)
        refused += 1
print("flood: %d connected, %d refused with MAPI_ERR_LIMIT" % (ok, refused))
assert ok == 2 and refused == 9998, (ok, refused)   # the user has 3, one flowctl's
s.close()
EOF
check_match "garbage got error replies" "$(cat "$T/garbage.out")" "garbage: ([0-9]+) messages, \\1 error replies"
check_match "10,000 flows: up to the user's limit, then refused" "$(cat "$T/garbage.out")" \
	"flood: 2 connected, 9998 refused with MAPI_ERR_LIMIT"
kill -0 "$MAPID_PID" && pass "mapid still runs" || fail "mapid died: $(tail -5 "$T/mapid.log")"
in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/in-mix.pcap" >/dev/null
fc_ok wait "$fd" "$pkts" "$mix_p" 10000
check_eq "and the other client counts exactly" "$V" "$mix_p"
wait_until 5 bash -c "[ \$(ip netns exec $NS_MON $BUILD/mapi flows 2>/dev/null | grep -c ' $MON ') = 1 ]" &&
	pass "the flooder's flows closed when it went" || fail "flows left: $(in_mon "$BUILD/mapi" flows 2>&1)"

echo "4b. more clients than mapid has descriptors"
kill -TERM "$MAPID_PID"
wait_until 5 bash -c "! kill -0 $MAPID_PID 2>/dev/null" || true
: >"$T/mapid.log"
bg "$NS_MON" "$T/mapid.log" prlimit --nofile=48:48 "$BUILD/mapid" --foreground --socket "$SOCK" \
	--group "$GROUP" --max-ring-bytes 1M
MAPID_PID=$!
wait_until 10 grep -qs "^mapid: serving" "$T/mapid.log" || fail "mapid did not start: $(cat "$T/mapid.log")"
crowd root 100 >"$T/crowd.out" 2>&1 || fail "the crowd: $(cat "$T/crowd.out")"
check_match "past its descriptors mapid refuses clients" "$(cat "$T/crowd.out")" \
	"100 connections, [1-9][0-9]* closed"
refused=$(sed -n 's/.* \([0-9]*\) closed$/\1/p' "$T/crowd.out")
check_eq "and says so once each (it does not spin)" \
	"$(grep -c 'out of file descriptors: a client was refused' "$T/mapid.log")" "$refused"
fc_counter "$MON"
fd=$FC_FD pkts=$FC_PKTS
pass "then it serves again"

echo "4c. a client with no descriptor left for its flow's maps"
# (from 4 up, until the limit lets capture run: Ctrl-C then ends it)
bad=0 n=4 rc=1
while [ $n -le 64 ]; do
	rc=0
	in_mon env MAPI_SOCKET="$SOCK" MAPI_BACKEND=mapid timeout --preserve-status -s INT 2 \
		prlimit --nofile=$n:$n "$BUILD/mapi" capture -i "$MON" -B 512 -c 1 --search abc tcp \
		>/dev/null 2>"$T/limit.err" || rc=$?
	[ "$rc" = 0 ] && break
	if [ "$rc" != 1 ] || ! grep -q "no file descriptor left" "$T/limit.err"; then
		bad=$((bad + 1))
		echo "    ulimit -n $n: exit $rc: $(cat "$T/limit.err")"
	fi
	n=$((n + 1))
done
check_eq "through mapid, under ulimit -n 4..$n: each refusal says no descriptor was left" \
	"$bad $rc" "0 0"
[ $n -gt 4 ] && pass "(some were refused: the limit was reached)" || fail "no limit refused anything"
# a client that stays connected: the flow mapid made for a connect whose
# maps it could not take goes from mapid at once (mapi flows lists only
# flowctl's counter then)
undone=""
for k in $(seq 0 12); do
	fc_ok nofile "$k" || break
	fc create "$MON"	# it looks the interface up with a descriptor of its own
	if [[ $R == *"no file descriptor left"* ]]; then continue; fi
	[[ $R == ok* ]] || { fail "flowctl 'create $MON' under nofile $k: $R"; break; }
	cfd=${R#ok }
	fc_ok apply "$cfd" TO_BUFFER 0 524288
	fc connect "$cfd"
	if [[ $R == *"taking the flow's maps from mapid"* ]]; then
		undone=$(in_mon env MAPI_SOCKET="$SOCK" "$BUILD/mapi" flows 2>&1 | grep -c '^[0-9]' || true)
		fc_ok close "$cfd"
		break
	fi
	fc_ok close "$cfd"
done
fc_ok nofile 1000
check_eq "a connect refused for want of descriptors leaves no flow in mapid" "$undone" 1

echo "5. kill -9 of mapid"
fc_ok create "$MON"
bfd=$V
fc_ok apply "$bfd" TO_BUFFER 128 65536	# a ring within mapid's 1M a client
bfid=$V
fc_ok connect "$bfd"
echo "pkt $bfd $bfid" >&"$FLOWCTL_IN"	# a reader that waits
sleep 0.2
kill -9 "$MAPID_PID"
if read -r -t 10 R <&"$FLOWCTL_OUT"; then
	check_match "the waiting reader returns MAPI_ERR_DAEMON" "$R" "^err 10014 mapid.* went away"
else
	fail "the waiting reader did not return"
fi
wait_until 5 hooks_empty && pass "nothing attached once mapid died" || fail "still attached: $(state)"
fc read "$fd" "$pkts"
check_match "a later read: MAPI_ERR_DAEMON" "$R" "^err 10014 "
fc create "$MON"
check_match "a new flow without mapid: MAPI_ERR_DAEMON (MAPI_BACKEND=mapid)" "$R" "^err 10014 mapid is not running"
fc close "$fd"
check_match "closing a flow of the dead mapid frees it, and says so" "$R" "^err 10014 "
fc read "$fd" "$pkts"
check_match "it is gone" "$R" "^err 6145 "
mapid_start_here
rc=0
in_mon "$BUILD/examples/packet_count" "$MON" 1 udp >"$T/after.out" 2>&1 || rc=$?
check_eq "a restarted mapid serves a new client" "$rc $(cut -d: -f1 "$T/after.out")" "0 pkts"
fc_ok create "$MON"
nfd=$V
fc_ok apply "$nfd" PKT_COUNTER
fc connect "$nfd"
check_eq "and the old client's new flows" "$R" "ok"
kill -TERM "$MAPID_PID"
wait_until 5 bash -c "! kill -0 $MAPID_PID 2>/dev/null" && pass "mapid stops on SIGTERM" ||
	fail "mapid ignores SIGTERM"
wait_until 5 hooks_empty || fail "still attached: $(state)"
finish
