#!/usr/bin/env bash
# make fuzz: runs each libFuzzer target for SECONDS (root: the targets load
# what they translate into the kernel).  Seeds: the expressions of
# tests/data/filters.txt; small generated traces, pcap and pcapng, whole and
# cut; well-formed mapid requests; HTTP scrapes as Prometheus sends them, and
# one whose head is past mapid's limit.  A crash leaves its input in
# build/fuzz/crashes.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SECONDS_EACH=${2:-60}
[ "$(id -u)" -eq 0 ] || { echo "fuzz: needs root (it loads programs into the kernel)" >&2; exit 1; }
work=$(mktemp -d /tmp/mapi-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$BUILD/fuzz/crashes" "$work/filter" "$work/cbpf" "$work/trace"
"$BUILD/tests/gen_traffic" mix 1 12 "$work/trace/mix.pcap"
"$BUILD/tests/gen_traffic" corpus 2026 12 "$work/trace/corpus.pcap"
"$BUILD/tests/pcapconv" -n "$work/trace/mix.pcap" "$work/trace/mix.pcapng"
"$BUILD/tests/pcapconv" -s 40 "$work/trace/corpus.pcap" "$work/trace/cut.pcap"
# mapid's protocol: a well-formed connect request and a listing request
mkdir -p "$work/proto"
python3 - "$work/proto" <<'PY'
import struct, sys
def s32(t): b = t.encode(); return struct.pack("=I", len(b)) + b
def msg(t, body): return struct.pack("=IHHII", 0x4d415049, 2, t, 1, len(body)) + body
STR, INT = 1, 2
flow = (struct.pack("=i", 3) + s32("eth0") + struct.pack("=iiiI", 2, 3, 1, 3) +
        s32("BPF_FILTER") + struct.pack("=II", 1, STR) + s32("tcp port 80") +
        s32("STR_SEARCH") + struct.pack("=II", 3, STR) + s32("|00 00|E") +
        struct.pack("=IqIq", INT, 0, INT, 100) + s32("PKT_COUNTER") + struct.pack("=I", 0))
open(sys.argv[1] + "/connect", "wb").write(msg(2, flow))
open(sys.argv[1] + "/list", "wb").write(msg(4, struct.pack("=I", 0)))
PY
# mapid's HTTP endpoint (fuzz_http): a scrape, a HEAD, a head past 8 KiB
mkdir -p "$work/http"
accept='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;'
accept+='q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
nl=$'\r\n'
printf '%s' "GET /metrics HTTP/1.1${nl}Host: localhost:9100${nl}Accept: $accept${nl}" \
	"Authorization: Basic dXNlcjpwYXNz${nl}User-Agent: Prometheus/2.42.0${nl}${nl}" \
	>"$work/http/scrape"
printf 'HEAD /?x HTTP/1.0\n\n' >"$work/http/head"
{ printf 'GET /metrics HTTP/1.1\r\nHost: t\r\nX-Pad: '; head -c 8300 /dev/zero | tr '\0' a
  printf '\r\n\r\n'; } >"$work/http/long"
n=0
grep -v '^#' tests/data/filters.txt | grep . | while IFS= read -r e; do
	n=$((n + 1))
	printf '%s' "$e" >"$work/filter/seed$n"
done
status=0
for f in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=$work/${name#fuzz_}
	mkdir -p "$corpus"
	echo "=== $name, $SECONDS_EACH s"
	if ! "$f" -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=4096 \
		-artifact_prefix="$BUILD/fuzz/crashes/$name-" -print_final_stats=1 "$corpus" \
		2>"$work/$name.log"; then
		status=1
		tail -40 "$work/$name.log"
	fi
	grep -E "stat::number_of_executed_units|stat::new_units_added" "$work/$name.log" || true
	grep -E "^#[0-9]+.*DONE" "$work/$name.log" | tail -1 || true
done
exit $status
