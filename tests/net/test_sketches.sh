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

echo "1. DISTINCT over 30 seeds"
: >"$T/distinct.rows"
for seed in $(seq 1 30); do
	python3 tests/models/gen_pcap.py distinct "$seed" "$T/d.pcap"
	"$BUILD/mapi" run -r "$T/d.pcap" --json 'DISTINCT TOPX_IP TOPX_IP_DSTIP' \
		'DISTINCT TOPX_IP TOPX_IP_DSTIP TOPX_IP TOPX_IP_SRCIP 1000' >"$T/d.json" ||
		fail "seed $seed: mapi run failed"
	python3 tests/models/sketches.py distinct "$T/d.pcap" <"$T/d.json" >>"$T/distinct.rows" ||
		fail "seed $seed: the model could not read the result"
done
out=$(python3 tests/models/sketches.py verdict distinct <"$T/distinct.rows") &&
	pass "DISTINCT: $out" || fail "DISTINCT: $out"

echo "2. TOP past its table over 10 seeds"
: >"$T/top.rows"
for seed in $(seq 1 10); do
	python3 tests/models/gen_pcap.py spill "$seed" "$T/s.pcap"
	"$BUILD/mapi" run -r "$T/s.pcap" --json 'TOP 10 TOPX_IP TOPX_IP_SRCIP' >"$T/s.json" ||
		fail "seed $seed: mapi run failed"
	python3 tests/models/sketches.py top "$T/s.pcap" <"$T/s.json" >>"$T/top.rows" ||
		fail "seed $seed: the model could not read the result"
done
out=$(python3 tests/models/sketches.py verdict top <"$T/top.rows") &&
	pass "TOP: $out" || fail "TOP: $out"
finish
