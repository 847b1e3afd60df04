# shellcheck shell=bash
# An FTP site on the testbed, for the passive-FTP tracker (sourced after
# lib.sh, once testbed_up has run): vsftpd on the monitored side at
# $FTP_SERVER, serving $T/ftp (files f2000, f150000, f1000000, f3000000;
# uploads into up/), and a client at $FTP_CLIENT on the far side, a tun
# device whose packets tests/delaylink puts on the link a given number of
# milliseconds late: a client a network away, as a server's uplink sees
# its clients (this kernel has no netem).  ftp_get runs curl there.

FTP_SERVER=10.9.0.1
FTP_CLIENT=10.9.0.2
FTP_URL=ftp://$FTP_SERVER

# ftp_need: whether the software the site needs is here; if not, why not
# in FTP_WHY.
ftp_need() {
	command -v vsftpd >/dev/null || PATH=$PATH:/usr/sbin
	FTP_WHY="vsftpd is not installed (scripts/install-deps.sh installs it)"
	command -v vsftpd >/dev/null || return 1
	FTP_WHY="curl is not installed (scripts/install-deps.sh installs it)"
	command -v curl >/dev/null || return 1
	FTP_WHY="no ftp user (the vsftpd package creates it)"
	id ftp >/dev/null 2>&1 || return 1
	FTP_WHY=
}

# ftp_site_up MS: the server, and the client MS ms away; sets FTP_RELAY_PID
# (SIGUSR1 to it drops the delay to nothing).  Returns 1 with the reason
# in FTP_WHY when a part does not start.
ftp_site_up() {
	in_mon ip addr add "$FTP_SERVER/24" dev "$MON"
	in_mon ip neigh replace "$FTP_CLIENT" lladdr "$PEER_MAC" dev "$MON" nud permanent
	in_mon ip link set lo up
	in_peer ip link set lo up
	bg "$NS_PEER" "$T/relay.out" "$BUILD/tests/delaylink" tun0 "$PEER" "$MON_MAC" "$1"
	FTP_RELAY_PID=$!
	wait_until 10 grep -qs ready "$T/relay.out" ||
		{ FTP_WHY="delaylink did not start: $(cat "$T/relay.out")"; return 1; }
	in_peer ip addr add "$FTP_CLIENT/24" dev tun0
	in_peer ip link set tun0 up
	# GRO would merge segments after XDP saw them: tcpdump would count fewer
	in_mon ethtool -K "$MON" gro off >/dev/null 2>&1 || true

	mkdir -p "$T/ftp/up" "$T/empty"
	chmod 755 "$T" "$T/ftp"
	chown ftp "$T/ftp/up"
	for s in 2000 150000 1000000 3000000; do head -c "$s" /dev/urandom >"$T/ftp/f$s"; done
	cat >"$T/vsftpd.conf" <<EOF
listen=YES
listen_address=$FTP_SERVER
background=NO
anonymous_enable=YES
anon_root=$T/ftp
no_anon_password=YES
local_enable=NO
write_enable=YES
anon_upload_enable=YES
anon_umask=022
pasv_enable=YES
pasv_address=$FTP_SERVER
pasv_min_port=20000
pasv_max_port=60000
seccomp_sandbox=NO
secure_chroot_dir=$T/empty
xferlog_enable=NO
dirmessage_enable=NO
EOF
	bg "$NS_MON" "$T/vsftpd.log" vsftpd "$T/vsftpd.conf"
	wait_until 10 sh -c "ip netns exec $NS_MON ss -ltn | grep -q '$FTP_SERVER:21'" ||
		{ FTP_WHY="vsftpd did not start: $(cat "$T/vsftpd.log")"; return 1; }
}

ftp_get() { in_peer curl -sS --connect-timeout 10 "$@"; }

# ftp_capture_flush NAME: a last connection to a closed port (SYN, then
# RST), waited for in capture NAME: once tcpdump has written it, it has
# written everything before it.
ftp_capture_flush() {
	in_peer bash -c "exec 3<>/dev/tcp/$FTP_SERVER/9" 2>/dev/null || true
	wait_until 10 sh -c "[ \$('$BUILD/tests/pcapstat' '$T/$1.pcap' 'tcp port 9' | cut -d' ' -f1) -ge 2 ]"
}

# ftp_field NAME REPORT: the value of NAME=... in an ftp_track line.
ftp_field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# ftp_connection_count NAME REPORT: "packets bytes" capture NAME holds of
# the data connection an ftp_track line names.
ftp_connection_count() {
	local hosts ports
	hosts="host $(ftp_field client "$2") and host $(ftp_field server "$2")"
	ports="port $(ftp_field port "$2") and port $(ftp_field client_port "$2")"
	"$BUILD/tests/pcapstat" "$T/$1.pcap" "tcp and $hosts and $ports"
}
