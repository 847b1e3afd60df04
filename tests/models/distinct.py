#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""DISTINCT's model: the exact number of distinct values of a header field
in a pcap trace, over all packets and under each value of a per field,
counted in Python from the bytes (the field reading of top.py), and a check
of a `mapi run --json` line's estimates against it.

usage: distinct.py TRACE FID PROTOCOL FIELD [PER_PROTOCOL PER_FIELD X] < mapi-json

An estimate passes within SIGMAS (4) of its relative standard error of the
exact count, plus 1; packets and the number of per values are exact.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from top import frames, parse_value, value  # noqa: E402

SIGMAS = 4
TABLE = 16384


def near(est, exact, rel):
    return abs(est - exact) <= SIGMAS * rel * exact + 1


def main():
    trace, fid = sys.argv[1], int(sys.argv[2])
    proto, field = int(sys.argv[3]), int(sys.argv[4])
    per = len(sys.argv) > 5
    if per:
        pproto, pfield, x = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
    seen, under, packets, other = set(), {}, 0, 0
    for b, _ in frames(trace):
        v = value(b, proto, field, 32, 128)
        if v is None:
            continue
        if per:
            pv = value(b, pproto, pfield, 32, 128)
            if pv is None:
                continue
            if pv not in under and len(under) == TABLE:
                other += 1
            else:
                under.setdefault(pv, [set(), 0])
                under[pv][0].add(v)
                under[pv][1] += 1
        seen.add(v)
        packets += 1
    line = json.loads(sys.stdin.read().strip().splitlines()[-1])
    r = [r for r in line["results"] if r["fid"] == fid]
    assert len(r) == 1 and r[0]["function"] == "DISTINCT", f"function {fid} is a DISTINCT"
    r = r[0]
    bad = []
    if not near(r["distinct"], len(seen), r["error"]):
        bad.append(f"distinct {r['distinct']}, exact {len(seen)}")
    for k, want in (("packets", packets), ("other_packets", other),
                    ("per_values", len(under))):
        if r[k] != want:
            bad.append(f"{k}: mapi {r[k]}, model {want}")
    if per:
        if len(r["values"]) != min(x, len(under)):
            bad.append(f"{len(r['values'])} listed, model {min(x, len(under))}")
        ests = [e["distinct"] for e in r["values"]]
        if ests != sorted(ests, reverse=True):
            bad.append("not listed most first")
        for e in r["values"]:
            pv = parse_value(e["value"])
            if pv not in under:
                bad.append(f"{e['value']} is not a per value")
                continue
            exact, pk = len(under[pv][0]), under[pv][1]
            if pk != e["packets"]:
                bad.append(f"{e['value']}: {e['packets']} packets, model {pk}")
            if not near(e["distinct"], exact, r["per_error"]):
                bad.append(f"{e['value']}: {e['distinct']} distinct, exact {exact}")
        if ests:
            # a value far above the last listed cannot be missing
            last = ests[-1]
            listed = {parse_value(e["value"]) for e in r["values"]}
            for pv, (vals, _) in under.items():
                if pv not in listed and len(vals) > (last + 1) / (1 - SIGMAS * r["per_error"]):
                    bad.append(f"{pv} ({len(vals)} distinct) is missing, last listed {last}")
    if bad:
        print("\n".join(bad[:20]))
        sys.exit(1)


main()
