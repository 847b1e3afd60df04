# shellcheck shell=bash
# A real Prometheus server for the shell tests, sourced after lib.sh: it
# scrapes what mapid serves, and the tests ask it, through its HTTP API, what
# it got.  A test that passes here has been read by Prometheus' own parser and
# query engine, not only by ours.  Debian 12's prometheus package (2.42)
# brings prometheus and promtool (scripts/install-deps.sh).
#
#   need_prometheus                  skips the test without them
#   prom_start DIR NETNS TARGET...   a server scraping TARGET... every second
#   prom_config DIR TARGET...        (re)writes DIR/prometheus.yml
#   prom_reload                      makes the server read it again
#   prom_query EXPR                  the value(s) of an instant query (now,
#                                    or at $PROM_TIME)
#   prom_wait EXPR WANT SECONDS      until EXPR gives WANT
#   prom_targets_up N SECONDS        until N targets are up
#   prom_targets                     each target's health and last error
#   promtool_check_metrics FILE      promtool's lint of an exposition

PROM_URL=
PROM_NS=
PROM_PID=

# the label that TARGET's shorthand HOST:PORT=VALUE gives the target
PROM_LABEL=${PROM_LABEL:-sensor}

# need_prometheus: skips the test where Prometheus is not installed.
need_prometheus() {
	command -v prometheus >/dev/null && command -v promtool >/dev/null && return 0
	skip "needs prometheus and promtool (scripts/install-deps.sh)"
}

# prom_in COMMAND...: runs COMMAND where the server is (its namespace).
prom_in() {
	if [ -n "$PROM_NS" ]; then ip netns exec "$PROM_NS" "$@"; else "$@"; fi
}

# curl towards the server: never through a proxy from the environment, and
# never hanging a test on a server that stopped answering.
prom_curl() { prom_in curl --noproxy '*' -sS --max-time 10 "$@"; }

# prom_config DIR TARGET...: DIR/prometheus.yml, one job "mapid" scraping
# each TARGET every second.  TARGET is HOST:PORT, HOST:PORT=VALUE (the label
# $PROM_LABEL, "sensor" by default, set to VALUE) or HOST:PORT,NAME=VALUE,...
# (any labels).  Each target is a group of its own, so that each has its own
# labels.  For a server already running, prom_reload after it.
prom_config() {
	local dir=$1 t addr rest l
	local -a labels
	shift
	{
		# a scrape must end before the next one starts: timeout < interval
		printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n'
		printf 'scrape_configs:\n  - job_name: mapid\n    static_configs:\n'
		for t in "$@"; do
			addr=${t%%[,=]*}
			rest=${t#"$addr"}
			labels=()
			case $rest in
			=*) labels=("$PROM_LABEL=${rest#=}") ;;
			,*) IFS=, read -ra labels <<<"${rest#,}" ;;
			esac
			printf "      - targets: ['%s']\n" "$addr"
			[ ${#labels[@]} -eq 0 ] && continue
			printf '        labels:\n'
			# (YAML's single quotes: a quote inside is written twice)
			for l in "${labels[@]}"; do
				l=${l//\'/\'\'}
				printf "          %s: '%s'\n" "${l%%=*}" "${l#*=}"
			done
		done
	} >"$dir/prometheus.yml"
}

# prom_start DIR NETNS TARGET...: a Prometheus server scraping TARGET... (see
# prom_config), in namespace NETNS (none when empty), its files in DIR (make
# it one under $T, as $T/prom: it goes with $T) and its log DIR/prometheus.log;
# returns once it is ready.  Sets PROM_URL, PROM_NS and PROM_PID; it is
# killed when the test ends, before the cleanups registered earlier (the
# namespaces, say) run.  A failure of the test if it does not come up.  Its
# first scrape comes 5 to 6 s after (prom_targets_up).
prom_start() {
	local dir=$1 port
	PROM_NS=$2
	shift 2
	mkdir -p "$dir"
	prom_config "$dir" "$@"
	# a new namespace's loopback is down; server and targets talk over it
	[ -z "$PROM_NS" ] || ip -n "$PROM_NS" link set lo up
	# a port the kernel has just found free there, left for Prometheus to take
	port=$(prom_in python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	PROM_URL=http://127.0.0.1:$port
	local cmd=(prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data"
		--web.listen-address="127.0.0.1:$port" --web.enable-lifecycle) # (for prom_reload)
	[ -z "$PROM_NS" ] || cmd=(ip netns exec "$PROM_NS" "${cmd[@]}")
	# exec (and ip netns exec's own exec): $! is prometheus itself
	(exec "${cmd[@]}" >"$dir/prometheus.log" 2>&1) &
	PROM_PID=$!
	# (wait: nothing may still write into $T when it is removed)
	on_exit "kill -9 $PROM_PID; wait $PROM_PID"
	# ready: TSDB opened, config loaded, web up; ~0.2 s here, so 30 s is
	# for a loaded machine
	if ! wait_until 30 prom_ready_or_gone || ! prom_ready; then
		fail "prometheus did not become ready at $PROM_URL$([ -z "$PROM_NS" ] || echo " in $PROM_NS")" \
			"$(kill -0 "$PROM_PID" 2>/dev/null || echo "(it exited)"); its log ends:"
		tail -n 20 "$dir/prometheus.log" | sed 's/^/        /'
		return 1
	fi
}

prom_ready() { prom_curl -fo /dev/null "$PROM_URL/-/ready" 2>/dev/null; }
# (a server that exited will never be ready: no point waiting 30 s for it)
prom_ready_or_gone() { prom_ready || ! kill -0 "$PROM_PID" 2>/dev/null; }

# prom_query EXPR: the result of the instant query EXPR, now: one series'
# value alone as Prometheus writes it ("12", "0.5", "NaN"); nothing for an
# empty result; for several series, a line "NAME{LABELS} VALUE" for each,
# sorted.  Evaluated at PROM_TIME (Unix seconds, as timestamp() gives) when
# that is set, to ask about a moment already scraped.  An error of the API (EXPR's syntax, say) or of the connection is
# written on stderr, and the status is 1: a test's $(prom_query ...) then
# stops it, under set -e, with the reason shown.
prom_query() {
	local out at=()
	[ -z "${PROM_TIME:-}" ] || at=(--data-urlencode "time=$PROM_TIME")
	out=$(prom_curl "$PROM_URL/api/v1/query" --data-urlencode "query=$1" "${at[@]}") ||
		{ echo "prom_query '$1': no answer from $PROM_URL" >&2; return 1; }
	# (on stdin: many series would not fit in an argument's 128 KiB)
	printf '%s' "$out" | python3 -c '
import json, sys
expr = sys.argv[1]
text = sys.stdin.read()
try:
    r = json.loads(text)
except ValueError:
    sys.exit("prom_query %r: not JSON: %r" % (expr, text[:200]))
if r.get("status") != "success":
    sys.exit("prom_query %r: %s: %s" % (expr, r.get("errorType"), r.get("error")))
d = r["data"]
if d["resultType"] in ("scalar", "string"):
    print(d["result"][1])
    sys.exit()
if d["resultType"] != "vector":
    sys.exit("prom_query %r: a %s: give an instant vector" % (expr, d["resultType"]))
res = d["result"]
if len(res) == 1:
    print(res[0]["value"][1])
    sys.exit()
def series(m):
    name = m.pop("__name__", "")
    return name + "{" + ",".join("%s=%s" % (k, json.dumps(v)) for k, v in sorted(m.items())) + "}"
for line in sorted(series(s["metric"]) + " " + s["value"][1] for s in res):
    print(line)
' "$1"
}

# prom_same GOT WANT: numbers compared as numbers ("12" is "12.0", "1e3" is
# "1000"), anything else (nothing, several lines, NaN) as text.
prom_same() {
	local num='^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$'
	if [[ $1 =~ $num && $2 =~ $num ]]; then
		awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 == b + 0) }'
	else
		[ "$1" = "$2" ]
	fi
}

# prom_wait EXPR WANT SECONDS: polls prom_query EXPR until it gives WANT
# (prom_same; WANT "" waits for an empty result).  On a timeout says what it
# last got, on stdout, and returns 1; a query error returns 1 at once (it will
# not mend).  A scrape comes every second: poll a little faster than that.
prom_wait() {
	local expr=$1 want=$2 deadline=$((SECONDS + $3)) got
	while :; do
		got=$(prom_query "$expr") || return 1
		prom_same "$got" "$want" && return 0
		[ $SECONDS -ge $deadline ] && break
		sleep 0.2
	done
	echo "  prom_wait: after $3 s, $expr gives '$got', not '$want'"
	return 1
}

# prom_targets: "INSTANCE HEALTH LASTERROR" for each target, to say why one
# is not up.
prom_targets() {
	prom_curl "$PROM_URL/api/v1/targets?state=active" | python3 -c '
import json, sys
for t in json.load(sys.stdin)["data"]["activeTargets"]:
    print(t["labels"].get("instance", t["scrapeUrl"]), t["health"], t["lastError"])
'
}

# prom_targets_up N SECONDS: waits until N targets of the job are up (their
# last scrape worked); on a timeout shows every target's state.  sum(up) has
# no value until the first scrape: WANT 0 waits for that too.  Give it 15 s
# or more: Prometheus 2.42 hands its targets to the scrapers only on a fixed
# 5 s tick, so a started server scrapes first 5 to 6 s after it is ready
# (and a reload's new targets, up to 6 s after it).
prom_targets_up() {
	prom_wait 'sum(up{job="mapid"})' "$1" "$2" && return 0
	prom_targets | sed 's/^/    /'
	return 1
}

# prom_reload: the server reads its prometheus.yml again (prom_config); the
# answer comes once it has, 200, or 500 with the reason if the file is bad
# (the old one then stays in force).  New or changed targets are scraped
# only after the next 5 s tick (see prom_targets_up).
prom_reload() {
	local out
	out=$(prom_curl -X POST -w '\n%{http_code}' "$PROM_URL/-/reload") || return 1
	[ "${out##*$'\n'}" = 200 ] && return 0
	echo "prom_reload: ${out%$'\n'*}" >&2
	return 1
}

# promtool_check_metrics FILE: promtool's checks of a text exposition (the
# Prometheus text format, 0.0.4), its status returned, what it said shown
# when not 0.  Promtool 2.42 (Debian 12) prints nothing on stdout, its
# findings on stderr, and exits with:
#   0  parsed, no lint problem (also for an empty file; "# EOF" is a comment)
#   1  "error while linting: text format parsing error in line N: ..." (bad
#      syntax, a bad value, a second HELP or TYPE for a name, no final newline)
#   3  parsed, but lint problems, a line "NAME PROBLEM" each: 'counter
#      metrics should have "_total" suffix', "no help text", base units,
#      snake_case...  A test that accepts those checks for 3 itself.
# It does not see a series given twice, and nor does Prometheus 2.42's
# scrape: up stays 1, the first value is kept, the second dropped without a
# word in the log or prometheus_target_scrapes_sample_duplicate_timestamp_total
# (scrape_samples_scraped counts both).  A test that cares looks for those.
# check metrics has no option to leave the lint out (check config and check
# rules have --lint and --lint-fatal; these do not apply to it).
promtool_check_metrics() {
	local out rc=0
	out=$(promtool check metrics <"$1" 2>&1) || rc=$?
	[ $rc -eq 0 ] || printf 'promtool check metrics %s: exit %d\n%s\n' "$1" $rc "$out"
	return $rc
}
