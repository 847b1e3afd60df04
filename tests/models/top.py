#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""TOP's model: the values of a header field in a pcap trace, counted in
Python from the bytes, independently of mapi-bpf's classic programs, and a
check of `mapi run --json` lines against it.

usage: top.py TRACE FID PROTOCOL FIELD SORT PREFIX PREFIX6 X [TABLE [INTERVAL_NS]]
              < mapi-json

With INTERVAL_NS, the result is the last interval's (intervals from the
first packet; after the last packet, the short one to it): every count
what it gained in that interval, the values without a packet in it left
out.  Which values the table holds is still the whole trace's.

PROTOCOL, FIELD, SORT are MAPI's numbers (mapi.h); TABLE the values the
table holds (MAPI_TOP_TABLE), the first that come (a value refused before
the table is full, its slots taken, docs/semantics.md, would show as a
difference: the tests' traces have none).  Past the table the model knows each value's
true count, and checks that a value listed as estimated lies within its
error; which of those values are kept beside the table (an LRU, approximate
in the kernel) it does not model, only how many.  Exits 0 when the TOP result of function FID
in the last line is what the model says, else prints the differences and
exits 1.
"""
import ipaddress
import json
import struct
import sys

# field number: (protocol, offset in IPv4, in IPv6 (None: not there), size)
FIELDS = {
    1: (1, 1, "tc", 1), 2: (1, 2, 4, 2), 3: (1, 4, None, 2), 4: (1, 6, None, 2),
    5: (1, 8, 7, 1), 6: (1, 9, 6, 1), 7: (1, 10, None, 2), 8: (1, 12, 8, "addr"),
    9: (1, 16, 24, "addr"),
    10: (2, 0, 0, 2), 11: (2, 2, 2, 2), 12: (2, 4, 4, 4), 13: (2, 8, 8, 4),
    14: (2, 13, 13, 1), 15: (2, 14, 14, 2), 16: (2, 16, 16, 2), 17: (2, 18, 18, 2),
    18: (3, 0, 0, 2), 19: (3, 2, 2, 2), 20: (3, 4, 4, 2), 21: (3, 6, 6, 2),
}
VLAN = (0x8100, 0x88a8, 0x9100)


def frames(path, with_time=False):
    data = open(path, "rb").read()
    magic, = struct.unpack_from("<I", data, 0)
    assert magic in (0xa1b2c3d4, 0xa1b23c4d), "a little-endian pcap file"
    nano = magic == 0xa1b23c4d
    at = 24
    while at + 16 <= len(data):
        sec, frac, cap, wire = struct.unpack_from("<IIII", data, at)
        frame = data[at + 16:at + 16 + cap], wire
        yield frame + (sec * 10**9 + frac * (1 if nano else 1000),) if with_time else frame
        at += 16 + cap


def num(b, off, size):
    if off + size > len(b):
        return None
    return int.from_bytes(b[off:off + size], "big")


def value(b, proto, field, p4, p6):
    """(kind, value) of the field in frame b, or None."""
    fproto, off4, off6, size = FIELDS[field]
    et, l2 = num(b, 12, 2), 14
    for _ in range(2):
        if et in VLAN:
            et, l2 = num(b, l2 + 2, 2), l2 + 4
    if et == 0x0800:
        v6, off = False, off4
    elif et == 0x86dd:
        v6, off = True, off6
    else:
        return None
    if off is None:
        return None
    base = l2
    if fproto != 1:
        want = 6 if fproto == 2 else 17
        if not v6:
            if num(b, l2 + 9, 1) != want:
                return None
            frag = num(b, l2 + 6, 2)
            if frag is None or frag & 0x1fff:
                return None
            ihl = num(b, l2, 1)
            if ihl is None:
                return None
            base = l2 + (ihl & 0xf) * 4
        else:
            if num(b, l2 + 6, 1) != want:
                return None
            base = l2 + 40
    if size == "addr":
        n = 16 if v6 else 4
        if base + off + n > len(b):
            return None
        a = int.from_bytes(b[base + off:base + off + n], "big")
        bits, prefix = n * 8, p6 if v6 else p4
        a &= ((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1)
        return (6 if v6 else 4, a)
    if off == "tc":
        v = num(b, base, 2)
        return None if v is None else (0, (v >> 4) & 0xff)
    v = num(b, base + off, size)
    if v is None:
        return None
    if field == 4:
        v &= 0x1fff
    if field == 2 and v6:
        v += 40
    return (0, v)


def parse_value(text):
    if "." not in text and ":" not in text:
        return (0, int(text))
    addr = ipaddress.ip_interface(text).ip
    return (addr.version, int(addr))


def main():
    trace = sys.argv[1]
    fid, proto, field, sort, p4, p6, x = map(int, sys.argv[2:9])
    table = int(sys.argv[9]) if len(sys.argv) > 9 else 65536
    interval = int(sys.argv[10]) if len(sys.argv) > 10 else 0
    spill = 4096
    counts, spilled, held = {}, {}, set()
    packets = nbytes = other_p = other_b = 0
    every = list(frames(trace, True))
    since = 0
    if interval:  # the start of the last interval
        since = every[0][2] + (every[-1][2] - every[0][2]) // interval * interval
    for b, wire, ts in every:
        v = value(b, proto, field, p4, p6)
        if v is None:
            continue
        if v not in held and len(held) < table:
            held.add(v)
        if ts < since:
            continue
        packets += 1
        nbytes += wire
        if v not in held:
            other_p += 1
            other_b += wire
            spilled.setdefault(v, [0, 0])
            spilled[v][0] += 1
            spilled[v][1] += wire
            continue
        counts.setdefault(v, [0, 0])
        counts[v][0] += 1
        counts[v][1] += wire
    line = json.loads(sys.stdin.read().strip().splitlines()[-1])
    res = [r for r in line["results"] if r["fid"] == fid]
    assert len(res) == 1 and res[0]["function"] == "TOP", f"function {fid} is a TOP"
    r = res[0]
    bad = []
    if interval and (r["interval"], r["end"], r["partial"]) != (interval, every[-1][2], True):
        bad.append(f"interval {r['interval']} end {r['end']} partial {r['partial']}: model "
                   f"{interval}, {every[-1][2]}, True")
    for k, want in (("packets", packets), ("bytes", nbytes), ("other_packets", other_p),
                    ("other_bytes", other_b), ("distinct", len(counts))):
        if r[k] != want:
            bad.append(f"{k}: mapi {r[k]}, model {want}")
    key = 1 if sort == 2 else 0
    listed, estimated = {}, False
    for e in r["values"]:
        v = parse_value(e["value"])
        listed[v] = (e["packets"], e["bytes"])
        got, err = (e["packets"], e["bytes"]), (e["error_packets"], e["error_bytes"])
        want = counts.get(v) or spilled.get(v, [0, 0])
        if err == (0, 0):
            if list(got) != want:
                bad.append(f"{e['value']}: mapi {got}, model {want}")
            continue
        # a value kept beside the table: its true count within the error
        estimated = True
        if v in counts:
            bad.append(f"{e['value']}: in the table, but listed as estimated")
        for i in (0, 1):
            if not got[i] - err[i] <= want[i] <= got[i]:
                bad.append(f"{e['value']}: mapi {got} - {err}, but it had {want}")
    # the kernel's LRU may hold fewer than it may
    if not (0 < r["spilled"] <= min(len(spilled), spill) if spilled else r["spilled"] == 0):
        bad.append(f"spilled: mapi {r['spilled']}, model at most {min(len(spilled), spill)}")
    known = len(counts) + r["spilled"]
    if len(listed) != min(x, known):
        bad.append(f"{len(listed)} values listed, model {min(x, known)}")
    ranks = [e["packets"] if key == 0 else e["bytes"] for e in r["values"]]
    if ranks != sorted(ranks, reverse=True):
        bad.append("values not listed most first")
    last = min(c[key] for c in listed.values()) if listed else 0
    for v, c in counts.items():
        if v not in listed and c[key] > last:
            bad.append(f"{v} ({c[key]}) is missing, above the last listed ({last})")
    exact = other_p == 0 or (len(listed) == x and not estimated and
                             last >= (other_b if key else other_p))
    if r["exact"] != exact:
        bad.append(f"exact: mapi {r['exact']}, model {exact}")
    if bad:
        print("\n".join(bad[:20]))
        sys.exit(1)


if __name__ == "__main__":
    main()
