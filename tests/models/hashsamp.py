#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""HASHSAMP's model: which packets of a pcap trace it keeps, from the frames'
bytes and the hash as docs/semantics.md states it, and a check of a
`mapi run --json` line's counters (PKT_COUNTER, BYTE_COUNTER after it).

usage: hashsamp.py TRACE RANGE < mapi-json-line
       hashsamp.py records TRACE RANGE live|trace < mapi-json-lines

Also checks that the hash is the same for both directions of every
conversation in the trace, and that the share of conversations kept is
RANGE/1024 within 5 standard deviations.  With records: that HASHSAMP
KEEP 1's records, those of every line (each holds the records taken since
the line before), are one for each packet kept, with its fields (and over
a trace its time), none lost or missed.
"""
import ipaddress
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


def record_of(b, wire, ts):
    """What HASHSAMP KEEP 1 records of frame b: (ts, wlen, proto, src, sport,
    dst, dport, seq, flags), addresses as integers; seq and flags 0 but for
    a TCP header whose bytes 4 to 15 the frame holds."""
    proto, src, sport, dst, dport = tuple_of(b)
    et, l2 = num(b, 12, 2), 14
    for _ in range(2):
        if et in VLAN:
            et, l2 = num(b, l2 + 2, 2), l2 + 4
    l4 = l2 + (num(b, l2, 1) & 0xf) * 4 if et == 0x0800 else l2 + 40
    seq = flags = 0
    if proto == 6 and l4 + 16 <= len(b):
        seq, flags = num(b, l4 + 4, 4), num(b, l4 + 13, 1)
    join = lambda words: sum(w << (32 * (len(words) - 1 - i)) for i, w in enumerate(words))  # noqa: E731
    return (ts, wire, proto, join(src), sport, join(dst), dport, seq, flags)


def endpoint_of(text):
    host, port = text.rsplit(":", 1)
    return int(ipaddress.ip_address(host.strip("[]"))), int(port)


def records(args):
    trace, rng, live = args[0], int(args[1]), args[2] == "live"
    want = []
    for b, wire, ts in frames(trace, True):
        t = tuple_of(b)
        if t is not None and conv_hash(*t) < rng:
            want.append(record_of(b, wire, ts))
    got, last = [], None
    for line in sys.stdin:
        try:
            r = [x for x in json.loads(line)["results"] if x["function"] == "HASHSAMP"][0]
        except (ValueError, IndexError, KeyError):
            continue  # (a line cut short by the kill)
        last = r
        for e in r["records"]:
            src, dst = endpoint_of(e["src"]), endpoint_of(e["dst"])
            got.append((e["ts"], e["wlen"], e["proto"], src[0], src[1], dst[0], dst[1],
                        e["seq"], e["flags"]))
    bad = []
    if last is None or (last["kept"], last["recorded"], last["lost"], last["missed"]) != \
            (len(want), len(want), 0, 0):
        bad.append(f"counts {last and {k: last[k] for k in ('kept', 'recorded', 'lost', 'missed')}}"
                   f", model {len(want)} kept and recorded")
    if live:  # the kernel's clock, not the trace's; CPUs may interleave
        got, want = sorted(g[1:] for g in got), sorted(w[1:] for w in want)
    if got != want:
        diff = [(g, w) for g, w in zip(got, want) if g != w][:3]
        bad.append(f"{len(got)} records, model {len(want)}; first differences {diff}")
    if bad:
        print("\n".join(bad))
        sys.exit(1)


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
    if sys.argv[1] == "records":
        records(sys.argv[2:])
    else:
        main()
