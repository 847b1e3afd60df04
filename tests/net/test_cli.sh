#!/usr/bin/env bash
# The mapi command on the testbed: each subcommand's numbers equal what was
# sent and what tcpdump saw; --json lines parse and carry their fields; the
# live display on a terminal updates in place and ends cleanly; bad input
# exits 1 with one line naming the problem and leaves nothing attached; every
# option of every --help is in the manual.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up
MAPI=$BUILD/mapi

"$BUILD/tests/gen_traffic" mix 41 800 "$T/in.pcap" no-vlan
"$BUILD/tests/gen_traffic" mix 42 500 "$T/out.pcap" no-vlan
send_both() {
	in_peer "$BUILD/tests/sendpcap" "$PEER" "$T/in.pcap" >/dev/null
	in_mon "$BUILD/tests/sendpcap" "$MON" "$T/out.pcap" >/dev/null
}
# sent EXPR: "packets bytes" of both traces that match EXPR
sent() {
	local p1 b1 p2 b2
	read -r p1 b1 < <("$BUILD/tests/pcapstat" "$T/in.pcap" "$@")
	read -r p2 b2 < <("$BUILD/tests/pcapstat" "$T/out.pcap" "$@")
	echo "$((p1 + p2)) $((b1 + b2))"
}
# json_ok FILE FIELD...: every line of FILE is a JSON object with the fields
json_ok() {
	python3 - "$@" <<'EOF'
import json, sys
path, fields = sys.argv[1], sys.argv[2:]
lines = [l for l in open(path) if l.strip()]
assert lines, "no lines"
for l in lines:
    o = json.loads(l)
    missing = [f for f in fields if f not in o]
    assert not missing, "missing %s in %s" % (missing, l)
EOF
}
# last_json FILE KEY: KEY's value in the last line
last_json() { tail -n 1 "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)$2)"; }
stopped() { ! kill -0 "$1" 2>/dev/null; }

echo "count --json"
read -r want_p want_b < <(sent udp)
bg "$NS_MON" "$T/count.json" "$MAPI" count -i "$MON" -I 0.2 --json udp
pid=$!
wait_until 20 attached || fail "mapi count did not attach: $(cat "$T/count.json")"
tcpdump_start cnt udp
send_both
tcpdump_wait cnt "$want_p"
tcpdump_stop cnt
wait_until 10 bash -c "[ \"\$(tail -n 1 '$T/count.json' | grep -o '\"total_packets\":[0-9]*')\" = '\"total_packets\":$want_p' ]" || true
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
check_eq "mapi count exits 0 on Ctrl-C" "$rc" 0
grep '^{' "$T/count.json" >"$T/count.lines"
json_ok "$T/count.lines" time interval packets bytes pps mbps total_packets total_bytes &&
	pass "every --json line parses, with its fields" || fail "--json lines: $(head -3 "$T/count.json")"
check_eq "mapi count's total = the UDP frames sent" \
	"$(last_json "$T/count.lines" "['total_packets']") $(last_json "$T/count.lines" "['total_bytes']")" \
	"$want_p $want_b"
check_eq "= tcpdump's count" "$(pcap_count "$T/cnt.pcap")" "$want_p"
check_match "the totals on stderr" "$(cat "$T/count.json")" "$want_p packets \\($want_b bytes\\) counted on $MON"
wait_until 10 hooks_empty || true

echo "count on a terminal"
# script(1) gives mapi a pseudo-terminal; timeout sends Ctrl-C's signal
in_mon script -qefc "timeout --preserve-status -s INT 1.5 $MAPI count -i $MON -I 0.2 udp" \
	"$T/tty.out" >/dev/null 2>&1 &
tpid=$!
wait_until 10 attached || true
send_both
rc=0
wait "$tpid" || rc=$?
check_eq "on a terminal it exits 0 on Ctrl-C" "$rc" 0
updates=$(grep -o $'\r\e\[K' "$T/tty.out" | wc -l)
[ "$updates" -ge 3 ] && pass "the line was rewritten in place $updates times" ||
	fail "the line was rewritten $updates times: $(od -c "$T/tty.out" | head -5)"
check_match "the last count is the UDP frames sent, then a newline" \
	"$(tr '\r' '\n' <"$T/tty.out" | grep -a 'pkts' | tail -n 1)" "pkts"
check_match "and the totals" "$(cat "$T/tty.out")" "$want_p packets \\($want_b bytes\\) counted"
wait_until 10 hooks_empty || true

echo "run"
read -r want_p want_b < <(sent tcp)
bg "$NS_MON" "$T/run.json" "$MAPI" run -i "$MON" -I 0.2 --json 'BPF_FILTER "tcp"' PKT_COUNTER BYTE_COUNTER
pid=$!
wait_until 10 attached || true
tcpdump_start run tcp
send_both
tcpdump_wait run "$want_p"
tcpdump_stop run
wait_until 10 bash -c "tail -n 1 '$T/run.json' | grep -q '\"value\":$want_p}'" || true
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check_eq "mapi run exits 0 on SIGTERM" "$rc" 0
grep '^{' "$T/run.json" >"$T/run.lines"
json_ok "$T/run.lines" time results && pass "mapi run --json lines parse" || fail "run --json"
check_eq "PKT_COUNTER and BYTE_COUNTER of mapi run = the TCP frames sent" \
	"$(last_json "$T/run.lines" "['results'][0]['value']") $(last_json "$T/run.lines" "['results'][1]['value']")" \
	"$want_p $want_b"
check_eq "= tcpdump's" "$("$BUILD/tests/pcapstat" "$T/run.pcap")" "$want_p $want_b"
wait_until 10 hooks_empty || true

echo "capture -w -"
read -r want_p _ < <(sent udp)
bg "$NS_MON" "$T/stdout.err" sh -c "$MAPI capture -i $MON -c $want_p -w - udp >$T/stdout.pcap"
pid=$!
wait_until 10 attached || true
send_both
wait_until 20 stopped "$pid" || fail "mapi capture -c did not stop"
check_eq "tcpdump -r reads mapi capture -w - packet for packet" \
	"$(tcpdump -r - -nn <"$T/stdout.pcap" 2>/dev/null | wc -l)" "$want_p"
{ cat "$T/in.pcap"; tail -c +25 "$T/out.pcap"; } >"$T/sent.pcap"
check_eq "the frames sent" "$("$BUILD/tests/pcapcmp" "$T/sent.pcap" "$T/stdout.pcap" udp)" "same $want_p"
wait_until 10 hooks_empty || true

echo "info"
info=$(in_mon "$MAPI" info)
check_match "mapi info shows the veth with native XDP" "$info" "$MON +yes +ethernet +1500 +veth +yes +yes +no +yes"
in_mon "$MAPI" info --json >"$T/info.json"
json_ok "$T/info.json" kernel btf cap_bpf cap_net_admin bpf_loop ringbuf xdp_frags tcx interfaces &&
	pass "mapi info --json parses" || fail "info --json: $(cat "$T/info.json")"
# the devices (mapi_get_next_device_info) as ip and ethtool see them: every
# interface, its index, MTU, state, driver, speed and alias
in_mon ip link set "$MON" alias 'uplink "A" \ sensor'
in_mon ip link set "$MON" mtu 1400
in_mon "$MAPI" info --json >"$T/info.json"
in_mon ip -j -d link show >"$T/ip.json"
in_mon ethtool -i "$MON" | sed -n 's/^driver: //p' >"$T/driver"
in_mon ethtool "$MON" 2>/dev/null | sed -n 's/^[[:space:]]*Speed: \([0-9]*\)Mb\/s$/\1/p' >"$T/speed"
python3 - "$T/info.json" "$T/ip.json" "$MON" "$(cat "$T/driver")" "$(cat "$T/speed")" <<'EOF2' &&
import json, sys
info, ip = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
mon, driver, speed = sys.argv[3], sys.argv[4], sys.argv[5]
ours = {d["name"]: d for d in info["interfaces"]}
theirs = {l["ifname"]: l for l in ip}
assert sorted(ours) == sorted(theirs), (sorted(ours), sorted(theirs))
for name, l in theirs.items():
    d = ours[name]
    assert d["ifindex"] == l["ifindex"] and d["mtu"] == l["mtu"], (d, l)
    assert d["up"] == ("UP" in l["flags"]), (d, l)
    assert d["alias"] == l.get("ifalias", ""), (d, l)
assert ours[mon]["driver"] == driver, (ours[mon], driver)
assert ours[mon]["speed_mbps"] == (int(speed) if speed else -1), (ours[mon], speed)
EOF2
	pass "the devices, as ip and ethtool see them (index, MTU, state, alias, driver, speed)" ||
	fail "mapi info's devices differ from ip's: $(cat "$T/info.json")"
in_mon ip link set "$MON" mtu 1500

echo "bad input: exit 1, one line, nothing attached"
# refused WHAT WORDS CMD...
refused() {
	local what=$1 words=$2 rc=0 out
	shift 2
	out=$(in_mon "$@" 2>&1 >/dev/null) || rc=$?
	if [ "$rc" = 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && [[ $out == *"$words"* ]]; then
		pass "$what: $out"
	else
		fail "$what: exit $rc, '$out' (want 1 line with '$words')"
	fi
	hooks_empty || fail "$what left something attached"
}
refused "a bad flag" "unknown option or missing value at '--bogus'" "$MAPI" count --bogus
refused "a flag without its value" "missing value at '-I'" "$MAPI" count -i "$MON" -I
refused "a bad filter" "syntax error" "$MAPI" count -i "$MON" "tcp and"
refused "a missing interface" "no network interface named \"nosuch0\"" "$MAPI" count -i nosuch0
refused "a missing trace" "No such file or directory" "$MAPI" count -r /nonexistent.pcap
refused "an unwritable output" "/nonexistent/x.pcap" "$MAPI" capture -i "$MON" -w /nonexistent/x.pcap
refused "a bad search" "not a hex digit" "$MAPI" capture -i "$MON" --search '|0g|'
refused "a function that does not exist" "no function named" "$MAPI" run -i "$MON" NOPE
refused "run without functions" "no FUNCTION" "$MAPI" run -i "$MON"
refused "TO_BUFFER with a lone number" "WAIT (0) or NOWAIT (1)" "$MAPI" run -i "$MON" 'TO_BUFFER 512'
# MAPI's constants bare: TO_BUFFER(NOWAIT) keeps every frame of a trace
out=$("$MAPI" run -r "$T/in.pcap" 'TO_BUFFER NOWAIT' PKT_COUNTER 2>&1 | tail -n 1)
check_match "run 'TO_BUFFER NOWAIT': every frame kept and counted" "$out" \
	"TO_BUFFER\[1\]=$(pcap_count "$T/in.pcap") packets, $(pcap_count "$T/in.pcap") delivered.*PKT_COUNTER\[2\]=$(pcap_count "$T/in.pcap")$"
# MAPI 2.0's TO_FILE(MFF_PCAP, PATH, COUNT): the first COUNT udp frames,
# as tcpdump -r -c picks them; the rest counted past the count
n_udp_in=$(pcap_count "$T/in.pcap" udp)
out=$("$MAPI" run -r "$T/in.pcap" 'BPF_FILTER "udp"' "TO_FILE MFF_PCAP \"$T/run5.pcap\" 5" 2>&1 |
	tail -n 1)
check_match "run 'TO_FILE MFF_PCAP PATH 5': 5 written, the rest past the count" "$out" \
	"TO_FILE\[2\]=$n_udp_in packets, 5 delivered, 0 dropped, $((n_udp_in - 5)) past the count$"
tcpdump -r "$T/in.pcap" -c 5 -w "$T/td5.pcap" udp 2>/dev/null
check_eq "and the file holds tcpdump's first 5" \
	"$("$BUILD/tests/pcapcmp" "$T/run5.pcap" "$T/td5.pcap")" "same 5"
refused "an unknown command" "unknown command" "$MAPI" bogus
refused "-r with -i" "do not go with" "$MAPI" capture -r x.pcap -i "$MON"
refused "a /proc file, not a trace" "unknown file format" "$MAPI" count -r /proc/self/maps
: >"$T/empty.pcap"
refused "an empty file" "the file is empty" "$MAPI" count -r "$T/empty.pcap"
in_mon ip link set lo up
in_mon timeout -s INT 1 "$MAPI" count -i lo -I 5 >/dev/null 2>"$T/lo.err" || true
check_eq "-i lo: no warning that loopback lacks native XDP" "$(grep -c warning "$T/lo.err")" 0

# no descriptor left, wherever it runs out: said as such (not as a lack of
# memory, a verifier's refusal or a missing interface), and libbpf's own
# messages do not reach the user's terminal
# (from 5 up, until the limit lets it run: then Ctrl-C ends it, status 0)
limited() {
	local n=$1
	shift
	in_mon timeout --preserve-status -s INT 2 bash -c "ulimit -n $n; exec \"\$0\" \"\$@\"" "$@" \
		>/dev/null 2>"$T/limit.err"
}
# fd_limits COMMAND ARG...: mapi COMMAND -i mon0 ARG...
fd_limits() {
	local bad=0 n=5 rc=1 cmd=$1
	shift
	while [ $n -le 64 ]; do
		rc=0
		limited $n "$MAPI" "$cmd" -i "$MON" "$@" || rc=$?
		[ "$rc" = 0 ] && break
		if [ "$rc" != 1 ] || [ "$(wc -l <"$T/limit.err")" != 1 ] ||
			! grep -q "no file descriptor left" "$T/limit.err"; then
			bad=$((bad + 1))
			echo "    ulimit -n $n: exit $rc: $(cat "$T/limit.err")"
		fi
		hooks_empty || { bad=$((bad + 1)); echo "    ulimit -n $n left something attached"; }
		n=$((n + 1))
	done
	check_eq "mapi $cmd under ulimit -n 5..$n: each refusal says no descriptor was left" "$bad $rc" "0 0"
	[ $n -gt 5 ] && pass "(mapi $cmd: some were refused)" || fail "mapi $cmd: no limit refused it"
}
fd_limits capture -c 1 --search abc tcp
fd_limits count
fd_limits run TO_BUFFER PKT_COUNTER

refused "a search offset past an int" "OFFSET \"99999999999\" is out of range" \
	"$MAPI" capture -r "$T/in.pcap" --search "abc,99999999999,10"
refused "a snap length past an int" "\"4294967297\" is too large (at most 2147483647)" \
	"$MAPI" capture -r "$T/in.pcap" -s 4294967297
refused "a snap length of 2^32" "\"4294967296\" is too large" "$MAPI" capture -r "$T/in.pcap" -s 4294967296
refused "a snap length of 2^31" "\"2147483648\" is too large" "$MAPI" capture -r "$T/in.pcap" -s 2147483648
# closed standard descriptors: nothing else takes their place
rc=0
out=$(timeout 10 "$MAPI" count -r - 2>&1 <&-) || rc=$?
check_eq "-r - with standard input closed: refused" "$rc $out" "1 mapi: -r -: standard input is closed"
rc=0
out=$( (timeout 10 "$MAPI" capture -r "$T/in.pcap" -w - >&-) 2>&1) || rc=$?
check_eq "-w - with standard output closed: refused" "$rc $out" "1 mapi: -w -: standard output is closed"

echo "-r from a pipe, a FIFO, a process substitution, pcap and pcapng"
"$BUILD/tests/pcapconv" -n "$T/in.pcap" "$T/in.pcapng"
want="$(pcap_count "$T/in.pcap") packets ($("$BUILD/tests/pcapstat" "$T/in.pcap" | cut -d' ' -f2) bytes)"
counted() { tail -n 1 | sed 's/ counted in .*//'; }
mkfifo "$T/fifo"
for f in pcap pcapng; do
	check_eq "$f: -r <(cat FILE)" "$("$MAPI" count -r <(cat "$T/in.$f") 2>&1 | counted)" "$want"
	check_eq "$f: -r /dev/stdin from a pipe" \
		"$(cat "$T/in.$f" | "$MAPI" count -r /dev/stdin 2>&1 | counted)" "$want"
	check_eq "$f: -r - from a pipe" "$(cat "$T/in.$f" | "$MAPI" count -r - 2>&1 | counted)" "$want"
	check_eq "$f: -r - from the file itself" "$("$MAPI" count -r - <"$T/in.$f" 2>&1 | counted)" "$want"
	cat "$T/in.$f" >"$T/fifo" &
	check_eq "$f: -r FIFO" "$(timeout 20 "$MAPI" count -r "$T/fifo" 2>&1 | counted)" "$want"
	wait
done

echo "a full disk: exit 1, saying so"
"$BUILD/tests/gen_traffic" mix 43 5000 "$T/big.pcap" no-vlan
mkdir "$T/small"
mount -t tmpfs -o size=64k tmpfs "$T/small"
on_exit umount "$T/small"
# full WHAT WORDS CMD...: CMD must exit 1 with WORDS on its last line
full() {
	local what=$1 words=$2 rc=0 out
	shift 2
	out=$(timeout 30 "$@" 2>&1 >/dev/null) || rc=$?
	out=$(tail -n 1 <<<"$out")
	[ "$rc" = 1 ] && [[ $out == *"$words"* ]] && pass "$what: $out" ||
		fail "$what: exit $rc, '$out' (want 1 and '$words')"
}
full "capture -w on a 64 KiB tmpfs" "No space left on device" \
	"$MAPI" capture -r "$T/big.pcap" -w "$T/small/cap.pcap"
rm -f "$T/small/cap.pcap"
full "capture -w /dev/full" "No space left on device" "$MAPI" capture -r "$T/big.pcap" -w /dev/full
rm -f "$T/small/cap.pcap"
full "run TO_FILE on a 64 KiB tmpfs, from a trace" \
	"writing failed: No space left on device; " \
	"$MAPI" run -r "$T/big.pcap" "TO_FILE \"$T/small/run.pcap\""
rm -f "$T/small/run.pcap"
# live: the file's failure ends the run while the traffic flows, and the
# packets it lost are counted as dropped
bg "$NS_MON" "$T/runlive.out" "$MAPI" run -i "$MON" -I 0.2 "TO_FILE \"$T/small/live.pcap\""
runpid=$!
wait_until 20 attached || fail "mapi run did not attach: $(cat "$T/runlive.out")"
send_both
rc=0
wait_until 10 bash -c "! kill -0 $runpid 2>/dev/null" || kill -INT "$runpid"
wait "$runpid" || rc=$?
check_match "live run TO_FILE on a full tmpfs: exit 1 at once, saying so" \
	"$rc $(grep '^mapi: ' "$T/runlive.out" | tail -n 1)" \
	"^1 mapi: .*writing failed: No space left on device; [1-9][0-9]* packets lost so far \(counted as dropped\) \(MAPI error 10015\)"
rm -f "$T/small/live.pcap"
wait_until 10 hooks_empty || true
full "capture's text to a full stdout" "writing standard output: No space left on device" \
	bash -c "exec '$MAPI' capture -r '$T/big.pcap' >/dev/full"
full "count's line to a full stdout" "writing standard output: No space left on device" \
	bash -c "exec '$MAPI' count -r '$T/big.pcap' >/dev/full"
full "run's lines to a full stdout" "writing standard output: No space left on device" \
	bash -c "exec '$MAPI' run -r '$T/big.pcap' PKT_COUNTER >/dev/full"

echo "stop signals end it at once, whatever it waits for"
# sigint_taken PID: PID is mapi, and no longer ignores SIGINT
sigint_taken() {
	local ign
	[ "$(cat /proc/"$1"/comm 2>/dev/null)" = mapi ] || return 1
	ign=$(awk '/^SigIgn:/ { print $2 }' /proc/"$1"/status 2>/dev/null)
	[ -n "$ign" ] && (( (16#$ign & 2) == 0 ))
}
# stops_at_once WHAT INPUT CMD...: CMD (itself, with standard input from
# INPUT), then SIGINT once it waits: within a second it must be gone, or
# have stopped and said its totals (a monitor's exit then waits for the
# kernel to detach its hooks: RCU grace periods, longer on a busy machine)
stops_at_once() {
	local what=$1 input=$2 pid
	shift 2
	(exec "$@" <"$input" >/dev/null 2>"$T/stop.err") &
	pid=$!
	# started in the background, it inherits SIGINT ignored: send it once
	# mapi has taken it back (then it works, whatever phase it is in)
	wait_until 10 sigint_taken "$pid" || fail "$what: never took SIGINT back"
	sleep 0.3	# into its wait: a compile, a silent pipe, a long interval
	kill -INT "$pid" 2>/dev/null
	if wait_until 1 bash -c "! kill -0 $pid 2>/dev/null || grep -q ' counted on ' '$T/stop.err'" &&
		wait_until 10 bash -c "! kill -0 $pid 2>/dev/null"; then
		pass "$what: stopped within a second of SIGINT"
	else
		fail "$what: still there a second after SIGINT ($(cat /proc/"$pid"/wchan 2>/dev/null))"
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null || true
}
ored=$(python3 -c "print(' or '.join('host 10.0.%d.%d' % (i // 250, i % 250 + 1) for i in range(1000)))")
stops_at_once "mapi count -r, 1,000 ORed hosts compiling" /dev/null \
	"$MAPI" count -r "$T/in.pcap" "$ored"
# a pipe nobody writes to: the test holds its write end open
mkfifo "$T/silent"
exec 9<>"$T/silent"
stops_at_once "mapi count -r -, a silent pipe" "$T/silent" "$MAPI" count -r -
stops_at_once "mapi run -r -, a silent pipe" "$T/silent" "$MAPI" run -r - PKT_COUNTER
exec 9>&-
stops_at_once "mapi count -I 1e19" /dev/null ip netns exec "$NS_MON" "$MAPI" count -i "$MON" -I 1e19
wait_until 10 hooks_empty || fail "still attached after the -I 1e19 count"

echo "--help and the manual"
man=$(dirname "$0")/../../docs/mapi.1
for cmd in count capture run info flows functions compile; do
	rc=0
	help=$("$MAPI" "$cmd" --help) || rc=$?
	check_eq "mapi $cmd --help exits 0" "$rc" 0
	# the command's part of the manual: from ".B cmd" to the end of its options
	section=$(awk -v c=".B $cmd" '$0 == ".SH COMMANDS" { on = 1; next }
		on && $0 == c { in_cmd = 1; next }
		in_cmd && ($0 == ".RE" || ($0 ~ /^\.B / && !opts)) { exit }
		in_cmd { if ($0 == ".RS") opts = 1; print }' "$man")
	[ -n "$section" ] || fail "mapi(1) has no section for $cmd"
	missing=""
	for opt in $(grep -oE '(^|[ [])--?[a-zA-Z][a-zA-Z-]*' <<<"$help" | tr -d ' [' | sort -u); do
		[ "$opt" = --help ] && continue
		grep -qF -- "\\fB$(sed 's/-/\\-/g' <<<"$opt")\\fR" <<<"$section" || missing="$missing $opt"
	done
	[ -z "$missing" ] && pass "every option of mapi $cmd --help is in its part of mapi(1)" ||
		fail "mapi $cmd: not in its part of mapi(1):$missing"
done
rc=0
help=$("$BUILD/mapid" --help) || rc=$?
check_eq "mapid --help exits 0" "$rc" 0
missing=""
for opt in $(grep -oE '(^|[ [,])--?[a-zA-Z][a-zA-Z-]*' <<<"$help" | tr -d ' [,' | sort -u); do
	grep -qF -- "\\fB$(sed 's/-/\\-/g' <<<"$opt")\\fR" "$(dirname "$0")/../../docs/mapid.8" ||
		missing="$missing $opt"
done
[ -z "$missing" ] && pass "every option of mapid --help is in mapid(8)" ||
	fail "mapid: not in mapid(8):$missing"
finish
