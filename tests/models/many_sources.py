#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes a pcap trace of N minimal UDP frames from N distinct IPv4 sources
(10.x.y.z), then HEAVY frames from one more source: more values than TOP's
table holds, with the heaviest coming last.

usage: many_sources.py N HEAVY FILE
"""
import struct
import sys

n, heavy, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]


def frame(src, t):
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0,
                     struct.pack(">I", src), bytes([192, 168, 0, 1]))
    udp = struct.pack(">HHHH", 1000, 2000, 8, 0)
    eth = bytes.fromhex("020000000001020000000002") + b"\x08\x00"
    f = eth + ip + udp + bytes(60 - 14 - 28)
    return struct.pack("<IIII", 1700000000 + t // 1000000, t % 1000000, len(f), len(f)) + f


for i in range(n):
    out.append(frame(0x0a000000 + i, i))
for i in range(heavy):
    out.append(frame(0x0b000001, n + i))
open(path, "wb").write(b"".join(out))
