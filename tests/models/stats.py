#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""STATS's model: count, sum, sum of squares, minimum and maximum of the
frames' wire length (PROTOCOL 0) or of a header field, from a pcap trace's
bytes (the field reading of top.py), and a check of a `mapi run --json`
line's STATS result against it: all exact, mean and deviation within
rounding.

usage: stats.py TRACE FID PROTOCOL [FIELD] < mapi-json
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from top import frames, value  # noqa: E402


def values(trace, proto, field):
    """The frames' wire lengths (proto 0), or the field's values."""
    vals = []
    for b, wire in frames(trace):
        if not proto:
            vals.append(wire)
            continue
        v = value(b, proto, field, 32, 128)
        if v is not None:
            vals.append(v[1])
    return vals


def main():
    trace, fid, proto = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    field = int(sys.argv[4]) if proto else 0
    vals = values(trace, proto, field)
    line = json.loads(sys.stdin.read().strip().splitlines()[-1])
    r = [r for r in line["results"] if r["fid"] == fid]
    assert len(r) == 1 and r[0]["function"] == "STATS", f"function {fid} is a STATS"
    r = r[0]
    sum2 = sum(v * v for v in vals)
    want = {"count": len(vals), "sum_hi": sum(vals) >> 64, "sum_lo": sum(vals) & (2**64 - 1),
            "sum2_hi": sum2 >> 64,
            "sum2_lo": sum2 & (2**64 - 1), "min": min(vals, default=0),
            "max": max(vals, default=0)}
    bad = [f"{k}: mapi {r[k]}, model {v}" for k, v in want.items() if r[k] != v]
    if vals:
        mean = sum(vals) / len(vals)
        # exactly, in integers: n sum2 - sum^2
        sd = math.sqrt(max(0, len(vals) * sum2 - sum(vals) ** 2)) / len(vals)
        if abs(r["mean"] - mean) > 1e-6 * max(1, mean) or abs(r["stddev"] - sd) > 1e-3 * max(1, sd):
            bad.append(f"mean {r['mean']} sd {r['stddev']}, model {mean} {sd}")
    if bad:
        print("\n".join(bad))
        sys.exit(1)


if __name__ == "__main__":
    main()
