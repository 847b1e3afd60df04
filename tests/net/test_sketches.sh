#!/usr/bin/env bash
# The sketches within their stated bounds over many seeds, against exact
# counts of the same traces (tests/models/sketches.py says the bounds):
#
#  1. DISTINCT's HyperLogLog, over all packets and per source, over 30
#     seeded traces of 40 sources with 1 to 3,000 destinations each: every
#     estimate within 4 standard errors, and their root mean square the
#     stated error (1.6 %, per value 6.5 %), not more than 1.5 times it.
#  2. TOP's Count-Min sketch past its table, over 10 seeded traces of
#     100,000 light sources and 30 heavy ones that come after the table is
#     full: the heavy ones found, each within its stated error, the
#     overestimate within e/4096 of "other" for 95 % of them (98 % stated).
# Offline: live and offline leave the same kernel state (test_top,
# test_distinct), so the bounds are the kernel's too.
. "$(dirname "$0")/../lib.sh"

# seeds KIND N MODE FUNCTION...: for seeds 1 to N, a trace of gen_pcap.py
# MODE, mapi run -r with FUNCTION..., the model's measurements of KIND;
# then their verdict
seeds() {
	local kind=$1 n=$2 mode=$3 seed out
	shift 3
	: >"$T/$kind.rows"
	for seed in $(seq 1 "$n"); do
		python3 tests/models/gen_pcap.py "$mode" "$seed" "$T/in.pcap"
		"$BUILD/mapi" run -r "$T/in.pcap" --json "$@" >"$T/out.json" ||
			fail "$kind, seed $seed: mapi run failed"
		python3 tests/models/sketches.py "$kind" "$T/in.pcap" <"$T/out.json" \
			>>"$T/$kind.rows" || fail "$kind, seed $seed: the model could not read the result"
	done
	out=$(python3 tests/models/sketches.py verdict "$kind" <"$T/$kind.rows") &&
		pass "$kind: $out" || fail "$kind: $out"
}

echo "1. DISTINCT over 30 seeds"
seeds distinct 30 distinct 'DISTINCT TOPX_IP TOPX_IP_DSTIP' \
	'DISTINCT TOPX_IP TOPX_IP_DSTIP TOPX_IP TOPX_IP_SRCIP 1000'

echo "2. TOP past its table over 10 seeds"
seeds top 10 spill 'TOP 10 TOPX_IP TOPX_IP_SRCIP'
finish
