#!/usr/bin/env bash
# The mapi command against numbers a careless or hostile user gives: every
# numeric option of count, capture and run, and the numeric arguments of
# run's functions, with edge values (0, negative, past 32 and 64 bits,
# fractions, exponents, hex, text) and random ones (fixed seed), over a
# trace.  Each run must end by itself within its time, with 0, or 1 and a
# last line "mapi: ..." saying what is wrong: no crash, no hang, no other
# exit.  (The options are read before anything is attached: a trace shows
# what an interface would.)
. "$(dirname "$0")/../lib.sh"
MAPI=$BUILD/mapi
"$BUILD/tests/gen_traffic" mix 71 300 "$T/t.pcap" no-vlan

python3 - "$MAPI" "$T/t.pcap" >"$T/args.out" 2>&1 <<'EOF'
import random, subprocess, sys
mapi, trace = sys.argv[1:]
random.seed(2026)
edges = ["0", "1", "-1", "2", "7", "4096", "65535", "65536", "2147483647", "2147483648",
         "4294967295", "4294967296", "4294967297", "9223372036854775807",
         "9223372036854775808", "18446744073709551616", "-9223372036854775808", "1e19",
         "1e-9", "0.001", "1.5", "nan", "inf", "-inf", "0x10", "010", "1k", "", " ", "abc",
         "--", "3 4", "1e308", "99999999999999999999999"]
def value():
    return random.choice(edges) if random.random() < 0.7 else str(random.randint(-2**40, 2**40))
cases = []
for opt in ["-I", "-c"]:
    for v in edges:
        cases.append(["count", "-r", trace, opt, v])
for opt in ["-s", "-c", "-B"]:
    for v in edges:
        cases.append(["capture", "-r", trace, opt, v, "-w", "/dev/null"])
for v in edges:
    cases.append(["run", "-r", trace, "-I", v, "PKT_COUNTER"])
    cases.append(["capture", "-r", trace, "--search", "abc,%s,%s" % (value(), value()), "-w", "/dev/null"])
for fn in ["TO_BUFFER %s %s", "TO_FILE \"/dev/null\" %s", "STR_SEARCH \"x\" %s %s"]:
    for i in range(12):
        spec = fn % tuple(value() for _ in range(fn.count("%s")))
        cases.append(["run", "-r", trace, spec, "PKT_COUNTER"])
bad = 0
for argv in cases:
    try:
        p = subprocess.run([mapi] + argv, capture_output=True, text=True, timeout=20,
                           stdin=subprocess.DEVNULL)
        rc, err = p.returncode, p.stderr.strip().splitlines()
    except subprocess.TimeoutExpired:
        print("HANG: %r" % argv)
        bad += 1
        continue
    if rc not in (0, 1):
        print("EXIT %d: %r: %s" % (rc, argv, err[-1:] if err else ""))
        bad += 1
    elif rc == 1 and not (err and err[-1].startswith("mapi: ")):
        print("NO MESSAGE: %r: %r" % (argv, err[-1:]))
        bad += 1
print("args: %d runs, %d bad" % (len(cases), bad))
EOF
check_match "numeric arguments: each run ends, with 0, or 1 and a message" \
	"$(tail -n 1 "$T/args.out")" "^args: [0-9]+ runs, 0 bad$"
[ "$FAILS" = 0 ] || head -n 20 "$T/args.out"
finish
