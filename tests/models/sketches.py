#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The sketches' stated bounds over many seeds (docs/semantics.md), from
`mapi run --json` results against exact counts over the same traces.

usage: sketches.py distinct TRACE < json   (one line: DISTINCT of the
           destination, then of the destination per source with X 1000)
       sketches.py top TRACE < json        (one line: TOP 10 of the source)
           each prints one line of measurements for `sketches.py verdict`
       sketches.py verdict distinct|top < the lines printed

distinct: every estimate within 4 of its stated relative standard error
(1.6 % over all, 6.5 % per value) of the exact count, plus 1, and over all
seeds the root mean square of (estimate - exact) / (exact * error) at most
1.5: the errors are those stated, not just within a loose bound.

top: every listed value's true count between packets - error_packets and
packets (always: the sketch never underestimates), the overestimate at most
e/4096 of "other" for 98 % of the estimated values (5 % allowed here), and
95 % of the values listed of the true top 10, and none listed whose count
and estimate are both below the true 10th's.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from top import frames, parse_value, value  # noqa: E402

ALL_ERROR, PER_ERROR, SIGMAS = 0.0163, 0.065, 4


def results():
    return json.loads(sys.stdin.read().strip().splitlines()[-1])["results"]


def distinct(trace):
    dsts, per = set(), {}
    for b, _ in frames(trace):
        d, s = value(b, 1, 9, 32, 128), value(b, 1, 8, 32, 128)
        if d is None:
            continue
        dsts.add(d)
        per.setdefault(s, set()).add(d)
    rows = []  # (estimate, exact, stated error)
    res = results()
    rows.append((res[0]["distinct"], len(dsts), ALL_ERROR))
    assert len(res[1]["values"]) == len(per), "every source listed"
    for v in res[1]["values"]:
        rows.append((v["distinct"], len(per[parse_value(v["value"])]), PER_ERROR))
    print(json.dumps(rows))


def top(trace):
    true = {}
    for b, _ in frames(trace):
        s = value(b, 1, 8, 32, 128)
        true[s] = true.get(s, 0) + 1
    r = results()[0]
    rows = []  # (packets, error, true, other, true 10th, true of the listed)
    tenth = sorted(true.values(), reverse=True)[9]
    for v in r["values"]:
        rows.append((v["packets"], v["error_packets"], true[parse_value(v["value"])],
                     r["other_packets"], tenth))
    print(json.dumps(rows))


def verdict(kind):
    bad, z2, n, over, estimated, found = [], 0.0, 0, 0, 0, 0
    for line in sys.stdin:
        for row in json.loads(line):
            if kind == "distinct":
                est, exact, err = row
                if abs(est - exact) > SIGMAS * err * exact + 1:
                    bad.append(f"estimate {est} of {exact}: past {SIGMAS} x {err}")
                z2 += ((est - exact) / (exact * err)) ** 2
                n += 1
            else:
                packets, error, truth, other, tenth = row
                if not packets - error <= truth <= packets:
                    bad.append(f"{packets} packets, error {error}, but it had {truth}")
                if error:
                    estimated += 1
                    over += packets - truth > math.e / 4096 * other
                if truth < tenth and packets < tenth:
                    bad.append(f"{truth} listed, below the true 10th ({tenth}), its estimate "
                               f"{packets} too")
                found += truth >= tenth
                n += 1
    if kind == "distinct":
        rms = math.sqrt(z2 / n) if n else float("inf")
        if rms > 1.5:
            bad.append(f"root mean square error {rms:.2f} of the stated, over {n}")
        print(f"{n} estimates, root mean square {rms:.2f} of the stated error")
    else:
        if estimated and over > 0.05 * estimated:
            bad.append(f"{over} of {estimated} estimates past e/4096 of other")
        if found < 0.95 * n:
            bad.append(f"{found} of {n} listed are of the true top 10")
        print(f"{n} values listed, {found} of the true top 10, {estimated} estimated, {over} "
              f"past e/4096 of other")
    if bad:
        print("\n".join(bad[:10]))
        sys.exit(1)


if __name__ == "__main__":
    {"distinct": lambda: distinct(sys.argv[2]), "top": lambda: top(sys.argv[2]),
     "verdict": lambda: verdict(sys.argv[2])}[sys.argv[1]]()
