# shellcheck shell=bash
# Shared by the shell tests: checks, waiting on conditions, a veth testbed in
# two network namespaces, tcpdump captures and a flowctl coprocess.  Every
# namespace, process and file a test makes is removed when it exits, however
# it exits.

set -euo pipefail

BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "/tmp/mapi-$TEST_NAME.XXXXXX")
FAILS=0
CHECKS=0
CLEANUP=()
BG_PIDS=()

at_exit() {
	local i
	for pid in "${BG_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
	for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do eval "${CLEANUP[i]}" >/dev/null 2>&1 || true; done
	# MAPI_TEST_KEEP=1 keeps the test's files (captures, logs) to look at
	if [ "${MAPI_TEST_KEEP:-0}" = 1 ]; then echo "$TEST_NAME: files kept in $T"; else rm -rf "$T"; fi
}
trap at_exit EXIT
trap 'exit 130' INT TERM

on_exit() { CLEANUP+=("$*"); }

pass() { CHECKS=$((CHECKS + 1)); echo "  ok    $*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "  FAIL  $*"; }

# check_eq WHAT GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then pass "$1 = $3"; else fail "$1: got '$2', want '$3'"; fi
}

# check_match WHAT TEXT REGEX
check_match() {
	if [[ $2 =~ $3 ]]; then pass "$1"; else fail "$1: '$2' does not match /$3/"; fi
}

# wait_until SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.05
	done
}

finish() {
	echo "$TEST_NAME: $CHECKS checks, $FAILS failed"
	[ "$FAILS" -eq 0 ]
}

skip() {
	echo "$TEST_NAME: SKIPPED: $*"
	exit 77
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, BPF)"
}

# --- testbed: mon0 (monitored, namespace $NS_MON) <-> peer0 ($NS_PEER) ------

MON=mon0
PEER=peer0
MON_MAC=02:00:00:00:00:01
PEER_MAC=02:00:00:00:00:02

testbed_up() {
	NS_MON=mapi-${TEST_NAME:0:12}-$$-m
	NS_PEER=mapi-${TEST_NAME:0:12}-$$-p
	ip netns add "$NS_MON"
	on_exit ip netns del "$NS_MON"
	ip netns add "$NS_PEER"
	on_exit ip netns del "$NS_PEER"
	# then, before the namespaces go, whatever still runs in them (a
	# server's children, say: killing the server leaves those)
	on_exit "ip netns pids $NS_MON | xargs -r kill -9; ip netns pids $NS_PEER | xargs -r kill -9"
	# A silent link: no IPv6 (no router or neighbour solicitations), no
	# addresses, so only the test's own frames cross it.
	for ns in "$NS_MON" "$NS_PEER"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
	testbed_link
}

# testbed_link: the veth pair mon0 <-> peer0, made (again, after a test
# deleted it) and up.
testbed_link() {
	ip link add "$MON" netns "$NS_MON" address "$MON_MAC" type veth \
		peer name "$PEER" netns "$NS_PEER" address "$PEER_MAC"
	ip -n "$NS_MON" link set "$MON" up
	ip -n "$NS_PEER" link set "$PEER" up
}

in_mon() { ip netns exec "$NS_MON" "$@"; }
in_peer() { ip netns exec "$NS_PEER" "$@"; }

# bg NS OUT COMMAND...: runs COMMAND in namespace NS in the background, its
# output in OUT; $! is the command itself, killed when the test ends.
bg() {
	local ns=$1 out=$2
	shift 2
	(exec ip netns exec "$ns" "$@" >"$out" 2>&1) &
	BG_PIDS+=($!)
}

# True when no XDP or tcx program is attached to mon0; when one is.
hooks_empty() { [ "$(in_mon "$BUILD/tests/hookstate" "$MON")" = "xdp=0 tcx_ingress=0 tcx_egress=0" ]; }
attached() { ! hooks_empty; }

# --- tcpdump ------------------------------------------------------------------

# tcpdump_start NAME FILTER...: captures everything on mon0 that matches
# into $T/NAME.pcap; returns once tcpdump listens.
tcpdump_start() {
	local name=$1
	shift
	# exec: $! must be tcpdump itself, to be signalled
	# -B: a 32 MiB buffer (2 MiB by default), so that bursts of full-size
	# frames do not overflow it: the truth must be complete
	(exec ip netns exec "$NS_MON" tcpdump -i "$MON" -n -U -B 32768 -w "$T/$name.pcap" "$@" \
		2>"$T/$name.tcpdump") &
	BG_PIDS+=($!)
	eval "TCPDUMP_PID_$name=$!"
	wait_until 10 grep -qs "listening on" "$T/$name.tcpdump" ||
		{ fail "tcpdump $name did not start: $(cat "$T/$name.tcpdump")"; return 1; }
}

# pcap_count FILE [EXPR...]: packets in a capture (that match EXPR).
pcap_count() { "$BUILD/tests/pcapstat" "$@" | cut -d' ' -f1; }

# tcpdump_wait NAME COUNT: waits (10 s at most) until the capture holds COUNT
# packets: tcpdump writes what it received some time after.
tcpdump_wait() {
	wait_until 10 bash -c "[ \$('$BUILD/tests/pcapstat' '$T/$1.pcap' | cut -d' ' -f1) -ge $2 ]" ||
		true
}

# tcpdump_stop NAME: stops it and checks that the kernel dropped nothing.
tcpdump_stop() {
	local name=$1 pid
	pid=$(eval echo "\$TCPDUMP_PID_$name")
	kill -TERM "$pid"
	wait "$pid" || true
	local dropped
	dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$T/$name.tcpdump")
	[ "${dropped:-0}" = 0 ] || fail "tcpdump $name: kernel dropped $dropped packets"
}

# --- flowctl coprocess ----------------------------------------------------------

# flowctl_start [NS-RUNNER]: starts flowctl in the monitor namespace.
flowctl_start() {
	coproc FLOWCTL { exec ip netns exec "$NS_MON" "$BUILD/tests/flowctl" 2>"$T/flowctl.err"; }
	BG_PIDS+=($FLOWCTL_PID)
	FLOWCTL_IN=${FLOWCTL[1]}
	FLOWCTL_OUT=${FLOWCTL[0]}
}

# fc COMMAND...: one command; the answer is left in $R ("ok ..." / "err ...").
fc() {
	echo "$*" >&"$FLOWCTL_IN"
	if ! read -r -t 30 R <&"$FLOWCTL_OUT"; then
		R="err none: flowctl gave no answer to '$*' ($(cat "$T/flowctl.err"))"
	fi
}

# fc_ok COMMAND...: as fc, but a test failure unless it answers ok; the
# value after "ok " is left in $V.
fc_ok() {
	fc "$@"
	if [[ $R == ok* ]]; then
		V=${R#ok}
		V=${V# }
		return 0
	fi
	fail "flowctl '$*': $R"
	V=""
	return 1
}

# fc_counter DEV [FILTER]: a connected flow on DEV (with BPF_FILTER FILTER)
# that counts packets and bytes: its descriptor in FC_FD, the counters'
# ids in FC_PKTS and FC_BYTES.
fc_counter() {
	fc_ok create "$1" || return 1
	FC_FD=$V
	if [ -n "${2:-}" ]; then fc_ok apply "$FC_FD" BPF_FILTER "\"$2\"" || return 1; fi
	fc_ok apply "$FC_FD" PKT_COUNTER || return 1
	FC_PKTS=$V
	fc_ok apply "$FC_FD" BYTE_COUNTER || return 1
	FC_BYTES=$V
	fc_ok connect "$FC_FD"
}

# --- traces of the test's own traffic ---------------------------------------------

# traces_send IN... -- OUT...: sends the traces IN ($T/IN.pcap) into mon0 from
# peer0, then the traces OUT out of mon0, one after the other.
traces_send() {
	local out=0 t
	for t in "$@"; do
		if [ "$t" = -- ]; then
			out=1
		elif [ $out = 0 ]; then
			in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/$t.pcap" >/dev/null || return 1
		else
			in_mon "$BUILD/tests/sendpcap" "$MON" "$T/$t.pcap" >/dev/null || return 1
		fi
	done
}

# traces_count TRACE... -- [EXPR...]: "packets bytes" of the frames of the
# traces ($T/TRACE.pcap) that match EXPR (libpcap's filter, as pcapstat)
traces_count() {
	local traces=() p=0 b=0 n m t
	while [ "$1" != -- ]; do
		traces+=("$1")
		shift
	done
	shift
	for t in "${traces[@]}"; do
		read -r n m < <("$BUILD/tests/pcapstat" "$T/$t.pcap" "$@")
		p=$((p + n)) b=$((b + m))
	done
	echo "$p $b"
}

# refused_arg TRACE FUNCTION CODE MESSAGE: `mapi run -r TRACE FUNCTION`
# refuses it with MAPI error CODE and a message matching MESSAGE (a regex).
refused_arg() {
	local out
	out=$("$BUILD/mapi" run -r "$1" "$2" 2>&1 || true)
	check_match "$2: $3" "$out" "$4 \(MAPI error $3\)$"
}

# mapi_run_live OUT N SEND FUNCTION...: `mapi run` on mon0 (JSON lines into
# OUT, every 0.2 s) with FUNCTION... and a PKT_COUNTER after them; once it
# reports, runs the command SEND (say, traces_send in -- out), waits until
# the counter holds the N frames sent, and stops it: its last line then
# holds the final results.
mapi_run_live() {
	local out=$1 n=$2 send=$3 pid
	shift 3
	bg "$NS_MON" "$out" "$BUILD/mapi" run -i "$MON" --json -I 0.2 "$@" PKT_COUNTER
	pid=$!
	wait_until 10 grep -qs results "$out" || { fail "mapi run did not start: $(cat "$out")"; return 1; }
	eval "$send" || fail "sending failed: $send"
	wait_until 20 grep -qs "\"PKT_COUNTER\",\"value\":$n}" "$out" ||
		fail "mapi run did not count the $n frames sent: $(tail -n 1 "$out" | tail -c 300)"
	kill -TERM "$pid"
	wait "$pid" || true
}

# --- mapid --------------------------------------------------------------------

# mapid_start [OPTION...]: mapid in the monitor namespace, listening at
# $MAPID_SOCK (exported as MAPI_SOCKET, for the test's clients), its log in
# $T/mapid.log; MAPID_PID is it.  Killed when the test ends.
MAPID_SOCK=$T/run/mapid.sock
mapid_start() {
	mkdir -p -m 755 "$T/run"
	export MAPI_SOCKET=$MAPID_SOCK
	: >"$T/mapid.log"
	bg "$NS_MON" "$T/mapid.log" "$BUILD/mapid" --foreground --socket "$MAPID_SOCK" "$@"
	MAPID_PID=$!
	# (a killed mapid leaves its socket file: wait for the new one's word)
	wait_until 10 grep -qs "^mapid: serving" "$T/mapid.log" ||
		fail "mapid did not start: $(cat "$T/mapid.log")"
}
