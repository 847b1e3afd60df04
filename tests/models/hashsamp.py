#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""HASHSAMP's model: which packets of a pcap trace it keeps, from the frames'
bytes and the hash as docs/semantics.md states it, and a check of a
`mapi run --json` line's counters (PKT_COUNTER, BYTE_COUNTER after it).

usage: hashsamp.py TRACE RANGE < mapi-json-line

Also checks that the hash is the same for both directions of every
conversation in the trace, and that the share of conversations kept is
RANGE/1024 within 5 standard deviations.
"""
import json
import math
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from top import VLAN, frames, num  # noqa: E402

K1, K2, K3, M = 0x9e3779b1, 0x85ebca6b, 0xc2b2ae35, 0xffffffff


def endpoint(words, port):
    a = words[0]
    for w in words[1:] + [port]:
        a = ((a * K1) & M) ^ w
    return (a * K2) & M


def conv_hash(proto, src, sport, dst, dport):
    h = (endpoint(src, sport) + endpoint(dst, dport)) & M
    return (((h ^ proto) * K3) & M) >> 22


def tuple_of(b):
    """(proto, src words, sport, dst words, dport) of a TCP/UDP packet, or None."""
    et, l2 = num(b, 12, 2), 14
    for _ in range(2):
        if et in VLAN:
            et, l2 = num(b, l2 + 2, 2), l2 + 4
    if et == 0x0800:
        proto, n, so, do = num(b, l2 + 9, 1), 1, 12, 16
        frag, ihl = num(b, l2 + 6, 2), num(b, l2, 1)
        if proto not in (6, 17) or frag is None or frag & 0x1fff or ihl is None:
            return None
        l4 = l2 + (ihl & 0xf) * 4
    elif et == 0x86dd:
        proto, n, so, do = num(b, l2 + 6, 1), 4, 8, 24
        if proto not in (6, 17):
            return None
        l4 = l2 + 40
    else:
        return None
    src = [num(b, l2 + so + 4 * i, 4) for i in range(n)]
    dst = [num(b, l2 + do + 4 * i, 4) for i in range(n)]
    ports = num(b, l4, 2), num(b, l4 + 2, 2)
    if None in src + dst + list(ports):
        return None
    return proto, src, ports[0], dst, ports[1]


def main():
    trace, rng = sys.argv[1], int(sys.argv[2])
    packets = nbytes = 0
    convs = {}
    bad = []
    for b, wire in frames(trace):
        t = tuple_of(b)
        if t is None:
            continue
        proto, src, sport, dst, dport = t
        h = conv_hash(*t)
        if h != conv_hash(proto, dst, dport, src, sport):
            bad.append(f"the hash of {t} is not the same both ways")
        convs[(proto,) + tuple(sorted([(tuple(src), sport), (tuple(dst), dport)]))] = h
        if h < rng:
            packets += 1
            nbytes += wire
    line = json.loads(sys.stdin.read().strip().splitlines()[-1])
    got = {r["function"]: r["value"] for r in line["results"] if "value" in r}
    if (got.get("PKT_COUNTER"), got.get("BYTE_COUNTER")) != (packets, nbytes):
        bad.append(f"mapi {got.get('PKT_COUNTER')} packets {got.get('BYTE_COUNTER')} bytes, "
                   f"model {packets} {nbytes}")
    n, kept = len(convs), sum(h < rng for h in convs.values())
    p = rng / 1024
    if abs(kept - n * p) > 5 * math.sqrt(n * p * (1 - p)) + 1:
        bad.append(f"{kept} of {n} conversations kept, not near {p:.3f} of them")
    if bad:
        print("\n".join(bad[:20]))
        sys.exit(1)


if __name__ == "__main__":
    main()
