#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""DIST's model: the histogram of the frames' wire length (PROTOCOL 0) or
of a header field, from a pcap trace's bytes (stats.py's values), and a
check of a `mapi run --json` line's DIST result against it, exactly.

usage: dist.py TRACE FID PROTOCOL FIELD MIN MAX STEP < mapi-json
(FIELD is ignored, and may be 0, for PROTOCOL 0)
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from stats import values  # noqa: E402


def main():
    trace, fid, proto, field, lo, hi, step = sys.argv[1], *map(int, sys.argv[2:8])
    vals = values(trace, proto, field)
    bins = (hi - lo) // step
    want = {"min": lo, "max": hi, "step": step, "count": len(vals),
            "below": sum(v < lo for v in vals), "above": sum(v >= hi for v in vals),
            "counts": [sum(lo + i * step <= v < lo + (i + 1) * step for v in vals)
                       for i in range(bins)]}
    line = json.loads(sys.stdin.read().strip().splitlines()[-1])
    r = [r for r in line["results"] if r["fid"] == fid]
    assert len(r) == 1 and r[0]["function"] == "DIST", f"function {fid} is a DIST"
    bad = [f"{k}: mapi {r[0][k]}, model {v}" for k, v in want.items() if r[0][k] != v]
    if bad:
        print("\n".join(b[:300] for b in bad))
        sys.exit(1)


main()
