#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""BUCKET's and THRESHOLD's model over a trace, as docs/semantics.md states
them: the watched number at time t is the selected packets before t; the
flow's clock starts at the trace's first packet.  Checks a `mapi run
--json` line's result of function FID against it, exactly.

STATS and DIST of another function's number summarize BUCKET's samples,
the last, short interval's left out.

usage: watch.py bucket TRACE FID SELECT INTERVAL_NS RESET < mapi-json
       watch.py stats TRACE FID SELECT INTERVAL_NS RESET < mapi-json
       watch.py dist TRACE FID SELECT INTERVAL_NS RESET MIN MAX STEP < mapi-json
       watch.py threshold TRACE FID SELECT TYPE BOUND BOUNDARY TIMEOUT_US DIVIDER COUNT
SELECT: all (every frame) or syn (TCP over IPv4 with SYN and not ACK).
"""
import bisect
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from top import frames, num  # noqa: E402

POLL = 10_000_000


def times(path, select):
    data = open(path, "rb").read()
    ts, out, at = [], [], 24
    while at + 16 <= len(data):
        sec, frac, cap = struct.unpack_from("<III", data, at)
        ts.append(sec * 10**9 + frac * 1000)
        at += 16 + cap
    for t, (b, _) in zip(ts, frames(path)):
        if select == "all" or (num(b, 12, 2) == 0x0800 and num(b, 23, 1) == 6 and
                               (num(b, 47, 1) or 0) & 0x12 == 0x02):
            out.append(t)
    return ts, out


def result(fid):
    line = json.loads(sys.stdin.read().strip().splitlines()[-1])
    r = [r for r in line["results"] if r["fid"] == fid]
    assert len(r) == 1, f"one function {fid}"
    return r[0]


def samples_of(path, select, interval, reset):
    """BUCKET's samples [end, value], the last one the short interval's."""
    every, sel = times(path, select)
    before = lambda t: bisect.bisect_left(sel, t)  # noqa: E731
    samples, b, base = [], every[0] + interval, 0
    while b <= every[-1]:
        v = before(b)
        samples.append([b, v - base if reset else v])
        base, b = v, b + interval
    # the last, short interval, to the last packet (included)
    v = len(sel)
    samples.append([every[-1], v - base if reset else v])
    return samples


def bucket(args):
    path, fid, select, interval, reset = args[0], int(args[1]), args[2], int(args[3]), int(args[4])
    samples = samples_of(path, select, interval, reset)
    r = result(fid)
    got = r["samples"]
    if got != samples[-len(got):] or r["total"] != len(samples):
        diff = [(g, w) for g, w in zip(got, samples[-len(got):]) if g != w][:5]
        print(f"{r['total']} samples, model {len(samples)}; first differences {diff}")
        sys.exit(1)


def stats(args):
    path, fid, select, interval, reset = args[0], int(args[1]), args[2], int(args[3]), int(args[4])
    v = [x for _, x in samples_of(path, select, interval, reset)[:-1]]
    n, total, total2 = len(v), sum(v), sum(x * x for x in v)
    want = {"count": n, "sum_hi": total >> 64, "sum_lo": total & (2**64 - 1),
            "sum2_hi": total2 >> 64, "sum2_lo": total2 & (2**64 - 1),
            "min": min(v) if v else 0, "max": max(v) if v else 0}
    r = result(fid)
    got = {k: r[k] for k in want}
    mean = total / n if n else 0
    if got != want or abs(r["mean"] - mean) > 1e-6 * max(1, mean):
        print(f"{got} mean {r['mean']}; model {want} mean {mean}")
        sys.exit(1)


def dist(args):
    path, fid, select, interval, reset = args[0], int(args[1]), args[2], int(args[3]), int(args[4])
    lo, hi, step = int(args[5]), int(args[6]), int(args[7])
    v = [x for _, x in samples_of(path, select, interval, reset)[:-1]]
    counts = [0] * ((hi - lo) // step)
    for x in v:
        if lo <= x < hi:
            counts[(x - lo) // step] += 1
    want = {"min": lo, "max": hi, "step": step, "count": len(v),
            "below": sum(x < lo for x in v), "above": sum(x >= hi for x in v), "counts": counts}
    r = result(fid)
    got = {k: r[k] for k in want}
    if got != want:
        print(f"{got}; model {want}")
        sys.exit(1)


def threshold(args):
    path, fid, select = args[0], int(args[1]), args[2]
    typ, bound, boundary, timeout, divider, count = map(int, args[3:9])
    every, sel = times(path, select)
    history, events, last = [], 0, None
    p = every[0]
    while p <= every[-1]:
        v = bisect.bisect_left(sel, p)
        history.append(v)
        x = None
        if typ == 0:
            x = v
        elif len(history) > divider:
            x = v - history[-1 - divider]
        if x is not None and (count == 0 or events < count):
            hit = x > bound if boundary == 1 else x == bound if boundary == 2 else x < bound
            if hit and (last is None or p >= last["ts"] + timeout * 1000):
                events += 1
                last = {"ts": p, "value": x, "number": events}
        p += POLL
    r = result(fid)
    want = last or {"ts": 0, "value": 0, "number": 0}
    if r["events"] != events or r["last"] != want:
        print(f"{r['events']} events, last {r['last']}; model {events}, {want}")
        sys.exit(1)


if __name__ == "__main__":
    {"bucket": bucket, "stats": stats, "dist": dist,
     "threshold": threshold}[sys.argv[1]](sys.argv[2:])
