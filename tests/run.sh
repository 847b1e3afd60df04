#!/usr/bin/env bash
# Runs every test, tier by tier:
#   unit  - no privileges: argument checks, error codes, the translator
#   bpf   - BPF_PROG_TEST_RUN and the API against the kernel (root)
#   net   - veth testbeds in network namespaces, real traffic (root)
#   bench - every benchmark case once, tiny (numbers, never timings, checked)
#   leaks - the API tests (errors, traces, kernel) again under valgrind
# A test that cannot run here says why and counts as skipped; with
# MAPI_TEST_STRICT=1 (CI, which has every privilege) a skip is a failure.
# MAPI_TEST_TIERS names the tiers to run (default: all five).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
export BUILD
STRICT=${MAPI_TEST_STRICT:-0}
TIERS=" ${MAPI_TEST_TIERS:-unit bpf net bench leaks} "
passed=() failed=() skipped=()

tier() {
	[[ $TIERS == *" $1 "* ]]
}

run() {
	local name=$1 start rc
	shift
	echo "=== $name"
	start=$SECONDS
	"$@"
	rc=$?
	case $rc in
	0) passed+=("$name") ;;
	77) skipped+=("$name") ;;
	*) failed+=("$name (exit $rc)") ;;
	esac
	echo "--- $name: exit $rc, $((SECONDS - start)) s"
}

# Data files some tests read.
args_for() {
	case $1 in
	test_filter_diff) echo tests/data/filters.txt ;;
	test_filter_refused) echo tests/data/filters-refused.txt ;;
	esac
}

root_or_skip() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIPPED: needs root"
		return 77
	fi
	"$@"
}

for t in tests/unit/*.c; do
	tier unit || break
	n=$(basename "$t" .c)
	# shellcheck disable=SC2046
	run "unit/$n" "$BUILD/tests/$n" $(args_for "$n")
done
for t in tests/bpf/*.c; do
	tier bpf || break
	n=$(basename "$t" .c)
	# shellcheck disable=SC2046
	run "bpf/$n" root_or_skip "$BUILD/tests/$n" $(args_for "$n")
done
for t in tests/net/*.sh; do
	tier net || break
	run "net/$(basename "$t" .sh)" "$t"
done

# every benchmark case once, tiny: that each still runs and gives a number
if tier bench; then
	run "bench/smoke" root_or_skip env BENCH_SMOKE=1 bench/run.sh "$BUILD"
fi

if ! tier leaks; then
	:
elif command -v valgrind >/dev/null; then
	# valgrind does not know the newer bpf(2) commands: it says so for
	# each call, which is noise here.
	vg() {
		valgrind -q --suppressions=tests/valgrind.supp --leak-check=full --child-silent-after-fork=yes \
			--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
			"$@" 2>&1 | grep -v 'WARNING: unhandled eBPF command'
		return "${PIPESTATUS[0]}"
	}
	run "leaks/test_api_errors" vg "$BUILD/tests/test_api_errors"
	run "leaks/test_offline" vg "$BUILD/tests/test_offline"
	run "leaks/test_mapi2_codes" vg "$BUILD/tests/test_mapi2_codes"
	run "leaks/test_api_kernel" root_or_skip vg "$BUILD/tests/test_api_kernel"
	run "leaks/test_http" vg "$BUILD/tests/test_http"
	run "leaks/test_mapid_config" vg "$BUILD/tests/test_mapid_config"
else
	echo "=== leaks: SKIPPED: valgrind is not installed"
	skipped+=("leaks (no valgrind)")
fi

echo
echo "passed: ${#passed[@]}  failed: ${#failed[@]}  skipped: ${#skipped[@]}"
for f in "${failed[@]}"; do echo "  FAILED  $f"; done
for s in "${skipped[@]}"; do echo "  SKIPPED $s"; done
[ ${#failed[@]} -eq 0 ] || exit 1
if [ ${#skipped[@]} -gt 0 ] && [ "$STRICT" = 1 ]; then
	echo "MAPI_TEST_STRICT=1: skipped tests count as failures here"
	exit 1
fi
exit 0
