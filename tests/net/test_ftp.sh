#!/usr/bin/env bash
# The seed's fourth application against real software: vsftpd serves files
# of known sizes on the monitored interface's side, curl downloads and
# uploads several of them in passive mode (EPSV, which curl tries first, and
# PASV), some at the same time, from the far side.  examples/ftp_track
# watches the control connection, creates a flow for each data connection
# while it runs, and reports it when it ends: packets and bytes must equal
# what tcpdump counts on that data connection (client port included) on the
# same interface.
#
# As on a server's uplink, the client is a network away: tests/delaylink
# holds its packets 50 ms (this kernel has no netem), so the tracker has a
# round trip to create each flow before the data connection opens.  Then
# the delay drops to nothing and the tracker must say when it may have been
# late: complete=yes transfers still equal tcpdump, complete=no ones never
# count more.
# Last, stopped by SIGTERM in the middle of a transfer, it reports that one
# as it stands (closed=no).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../ftp.sh"
need_root
ftp_need || skip "$FTP_WHY"
testbed_up
# MAPI_TEST_MAPID=1 (test_ftp_mapid.sh): ftp_track's flows run in mapid
if [ "${MAPI_TEST_MAPID:-0}" = 1 ]; then
	mapid_start
	export MAPI_BACKEND=mapid
fi
ftp_site_up 50 || { fail "$FTP_WHY"; finish; exit 1; }
head -c 700000 /dev/urandom >"$T/up1"
head -c 40000 /dev/urandom >"$T/up2"

far=8 near=4
bg "$NS_MON" "$T/track.out" "$BUILD/examples/ftp_track" -t 180 "$MON"
track_pid=$!
wait_until 20 grep -qs "watching" "$T/track.out" || { fail "ftp_track did not start"; finish; exit 1; }
tcpdump_start all tcp

url=$FTP_URL
get() { ftp_get "$@"; }
reports() { grep -c '^transfer' "$T/track.out"; }
reported() { [ "$(reports)" -ge "$1" ]; }

# one at a time, EPSV then PASV; then four at once; then uploads
get "$url/f2000" -o "$T/got1"
get --disable-epsv "$url/f150000" -o "$T/got2"
get "$url/f1000000" -o "$T/got3" &
c1=$!
get --disable-epsv "$url/f3000000" -o "$T/got4" &
c2=$!
get "$url/f150000" -o "$T/got5" &
c3=$!
get --disable-epsv "$url/f2000" -o "$T/got6" &
c4=$!
wait $c1 $c2 $c3 $c4
get -T "$T/up1" "$url/up/up1"
get --disable-epsv -T "$T/up2" "$url/up/up2"
intact=yes
for pair in got1:f2000 got2:f150000 got3:f1000000 got4:f3000000 got5:f150000 got6:f2000; do
	cmp -s "$T/${pair%%:*}" "$T/ftp/${pair#*:}" || intact="no: ${pair%%:*}"
done
{ cmp -s "$T/ftp/up/up1" "$T/up1" && cmp -s "$T/ftp/up/up2" "$T/up2"; } || intact="no: uploads"
check_eq "curl moved the files intact" "$intact" yes
wait_until 30 reported "$far" || fail "ftp_track reported $(reports) of $far transfers"

# the client next door: no delay
kill -USR1 "$FTP_RELAY_PID"
for i in $(seq "$near"); do get "$url/f150000" -o "$T/near$i"; done
wait_until 30 reported $((far + near)) ||
	fail "ftp_track reported $(reports) of $((far + near)) transfers"

# stopped in the middle of a transfer: it reports it, open.  The client
# writes into a pipe that is read once and then held: it stops reading, so
# the transfer cannot end (curl's --limit-rate averages over seconds and
# now and then lets a whole file through at once).
get "$url/f3000000" -o - 2>/dev/null | { head -c 1 >"$T/slow"; exec sleep 120; } &
slow_pid=$!
wait_until 20 test -s "$T/slow" || fail "the slow transfer did not start"
kill -TERM "$track_pid"
wait_until 10 sh -c "! kill -0 $track_pid 2>/dev/null" || fail "ftp_track did not stop on SIGTERM"
kill "$slow_pid" 2>/dev/null || true	# the reader goes, and curl with the pipe
pkill -f -- "$url/f3000000" || true
ftp_capture_flush all || fail "tcpdump did not write the last packets"
tcpdump_stop all
check_eq "transfers reported" "$(reports)" $((far + near + 1))
check_match "with what its control flow saw and dropped" "$(tail -n 1 "$T/track.out")" \
	"^ftp_track: $((far + near + 1)) transfers; [0-9]+ control packets, 0 dropped$"

n=0 late=0
while read -r report; do
	n=$((n + 1))
	packets=$(ftp_field packets "$report") bytes=$(ftp_field bytes "$report")
	complete=$(ftp_field complete "$report") closed=$(ftp_field closed "$report")
	want=$(ftp_connection_count all "$report")
	read -r wp wb <<<"$want"
	what="data connection $(ftp_field client "$report"):$(ftp_field client_port "$report") <->"
	what="$what $(ftp_field server "$report"):$(ftp_field port "$report")"
	if [ "$n" -le "$far" ]; then
		check_eq "$what, client 50 ms away" "$packets $bytes complete=$complete closed=$closed" \
			"$want complete=yes closed=yes"
	elif [ "$n" -gt $((far + near)) ]; then
		if [ "$closed" = no ] && [ "$packets" -gt 0 ] && [ "$packets" -le "$wp" ]; then
			pass "$what, open when ftp_track stopped: closed=no, $packets packets so far of $wp"
		else
			fail "$what, open when ftp_track stopped: closed=$closed, $packets of $wp packets"
		fi
	elif [ "$complete" = yes ]; then
		check_eq "$what, client next door, flow in time" "$packets $bytes closed=$closed" \
			"$want closed=yes"
	else
		late=$((late + 1))
		if [ "$packets" -le "$wp" ] && [ "$bytes" -le "$wb" ] && [ "$closed" = yes ]; then
			pass "$what, client next door, flow maybe late: counted $packets of $wp packets"
		else
			fail "$what: complete=no, yet counted $packets $bytes of $want"
		fi
	fi
done < <(grep '^transfer' "$T/track.out")
echo "  (the client next door may have beaten the tracker $late times in $near)"
[ "$FAILS" = 0 ] || sed 's/^/  ftp_track said: /' "$T/track.out"
if [ "${MAPI_TEST_MAPID:-0}" = 1 ]; then
	n=$(grep -c "^mapid: flow [0-9]* of pid $track_pid " "$T/mapid.log" || true)
	[ "$n" -gt "$((far + near))" ] && pass "ftp_track's $n flows ran in mapid" ||
		fail "mapid ran $n flows of ftp_track's"
fi
finish
