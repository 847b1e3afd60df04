#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""TOP per INTERVAL, live: the sum of its intervals.  Reads `mapi run
--json` lines of one TOP with an INTERVAL (function 1), takes each
interval's result as last printed (by its end), and once an interval with
no packets has come after one with packets, writes one line holding their
sum, as a TOP since the start would give it (for top.py), and exits 0;
else exits 1.

usage: top_intervals.py MAPI-JSON OUT-JSON
"""
import json
import sys

by_end = {}
for line in open(sys.argv[1]):
    try:
        r = [x for x in json.loads(line)["results"] if x["fid"] == 1][0]
    except (ValueError, IndexError, KeyError):
        continue  # (a line cut short by the kill)
    if r["end"]:
        by_end[r["end"]] = r
ends = sorted(by_end)
busy = [e for e in ends if by_end[e]["packets"]]
if not busy or not any(not by_end[e]["packets"] for e in ends if e > busy[-1]):
    sys.exit(1)
total = {"fid": 1, "function": "TOP", "packets": 0, "bytes": 0, "other_packets": 0,
         "other_bytes": 0, "spilled": 0, "exact": True}
values = {}
for e in ends:
    r = by_end[e]
    for k in ("packets", "bytes", "other_packets", "other_bytes"):
        total[k] += r[k]
    total["exact"] &= r["exact"]
    for v in r["values"]:
        s = values.setdefault(v["value"], [0, 0])
        s[0] += v["packets"]
        s[1] += v["bytes"]
        assert not v["error_packets"], "a value of the table"
total["distinct"] = len(values)
total["values"] = [{"value": v, "packets": p, "bytes": b, "error_packets": 0, "error_bytes": 0}
                   for v, (p, b) in sorted(values.items(), key=lambda x: (-x[1][0], -x[1][1]))]
with open(sys.argv[2], "w") as out:
    print(json.dumps({"results": [total]}), file=out)
