#!/usr/bin/env bash
# A process killed with SIGKILL while its flows run leaves nothing behind:
# its programs are attached through bpf_links only, which die with it.
. "$(dirname "$0")/../lib.sh"
need_root
testbed_up

flowctl_start
fc_ok create "$MON"
fd=$V
fc_ok apply "$fd" BPF_FILTER '"tcp"'
fc_ok apply "$fd" PKT_COUNTER
fc_ok create "$MON"
fd2=$V
fc_ok dir "$fd2" in
fc_ok apply "$fd2" BYTE_COUNTER
fc_ok connect "$fd"
fc_ok connect "$fd2"

read -r state < <(in_mon "$BUILD/tests/hookstate" "$MON")
check_match "programs attached while flows run" "$state" "^xdp=[1-9][0-9]* tcx_ingress=0 tcx_egress=1$"
mapfile -t ids < <(in_mon "$BUILD/tests/hookstate" "$MON" ids)
check_eq "attached programs" "${#ids[@]}" 2

kill -9 "$FLOWCTL_PID"
wait "$FLOWCTL_PID" 2>/dev/null || true

if wait_until 10 hooks_empty; then
	pass "nothing attached after kill -9"
else
	fail "still attached after kill -9: $(in_mon "$BUILD/tests/hookstate" "$MON")"
fi
programs_gone() {
	local id
	# bpfids, not bpftool, which opens the programs' maps (see bpfids.c)
	"$BUILD/tests/bpfids" prog >"$T/progs" || return 1
	for id in "${ids[@]}"; do grep -q "^$id " "$T/progs" && return 1; done
	return 0
}
if wait_until 10 programs_gone; then
	pass "the killed process's programs (ids ${ids[*]}) were freed"
else
	fail "programs still loaded after kill -9: ${ids[*]}"
fi
finish
