#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes pcap traces of minimal IPv4 frames for the function library's
tests, whose truth is known by construction.

usage: gen_pcap.py sources N HEAVY FILE
           N UDP frames from N distinct sources (10.x.y.z), then HEAVY from
           one more (11.0.0.1): more values than TOP's table holds, with the
           heaviest coming last.
       gen_pcap.py convs N FILE REVERSED
           N TCP and UDP conversations over IPv4 and IPv6, a frame each
           way: FILE holds one direction, REVERSED the other.
       gen_pcap.py synflood SECONDS AT BURST FILE
           for SECONDS, a TCP SYN every 20 ms and an ACK every 5 ms, and at
           AT seconds a burst of BURST SYNs, 10 us apart: the DoS job of
           THRESHOLD, its times in the frames' timestamps (tcpreplay keeps them).
       gen_pcap.py distinct SEED FILE
           random traffic for DISTINCT's error over many seeds: 40 sources
           (10.0.0.x), each to its own number (1 to 3,000, log-uniform) of
           random destinations, 1 to 3 frames each, shuffled: 1 to 120,000
           distinct destinations in all.
       gen_pcap.py spill SEED FILE
           random traffic past TOP's table: 100,000 sources, a frame each
           (the table fills), then up to two more of each, among them 30
           heavy sources of 300 to 3,000 frames each, seeded: the heavy
           values spill.
       gen_pcap.py scan TARGETS HOSTS PEERS FILE
           a scanner (10.9.9.9) sends one TCP SYN to each of TARGETS
           destinations, while HOSTS sources (10.1.0.x) each talk to PEERS
           destinations, 10 frames each: the port-scan job of DISTINCT.
"""
import math
import random
import struct
import sys

frames = []


def frame(src, dst, proto=17, sport=1000, dport=2000, out=None, v6=False, at_us=None,
          flags=0x02):
    if proto == 17:
        l4 = struct.pack(">HHHH", sport, dport, 8, 0)
    else:
        l4 = struct.pack(">HHIIBBHHH", sport, dport, 1, 0, 0x50, flags, 1024, 0, 0)
    if v6:
        ip = struct.pack(">IHBB16s16s", 0x60000000, len(l4), proto, 64, src, dst)
        eth = bytes.fromhex("020000000001020000000002") + b"\x86\xdd"
    else:
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0,
                         struct.pack(">I", src), struct.pack(">I", dst))
        eth = bytes.fromhex("020000000001020000000002") + b"\x08\x00"
    f = eth + ip + l4
    f += bytes(max(0, 60 - len(f)))
    out = frames if out is None else out
    us = len(out) if at_us is None else at_us  # (a microsecond apart by default)
    out.append(struct.pack("<IIII", 1700000000 + us // 1000000, us % 1000000, len(f), len(f)) + f)


def write(path, fs):
    header = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
    open(path, "wb").write(header + b"".join(fs))


def main():
    mode = sys.argv[1]
    if mode == "sources":
        n, heavy, path = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        for i in range(n):
            frame(0x0a000000 + i, 0xc0a80001)
        for i in range(heavy):
            frame(0x0b000001, 0xc0a80001)
    elif mode == "convs":
        n, path, back = int(sys.argv[2]), sys.argv[3], []
        for i in range(n):
            proto, v6 = (6, 17)[i % 2], i % 3 == 0
            sport, dport = 1024 + (i * 7919) % 60000, (80, 53, 443, 5000 + i % 100)[i % 4]
            if v6:
                a = bytes.fromhex("fd000000000000000000000000%06x" % i)
                c = bytes.fromhex("fd00000000000000000000000100%04x" % (i % 65536))
            else:
                a, c = 0x0a000000 + i, 0xc0a80000 + i % 65536
            frame(a, c, proto, sport, dport, v6=v6)
            frame(c, a, proto, dport, sport, out=back, v6=v6)
        write(sys.argv[4], back)
    elif mode == "synflood":
        seconds, at, burst = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
        path = sys.argv[5]
        events = [(us, 0x02) for us in range(0, int(seconds * 1e6), 20000)]
        events += [(us + 7000, 0x10) for us in range(0, int(seconds * 1e6), 5000)]
        events += [(int(at * 1e6) + 10 * i, 0x02) for i in range(burst)]
        for i, (us, flags) in enumerate(sorted(events)):
            frame(0x0a000001 + i % 5000, 0xc0a80001, 6, 1024 + i % 60000, 80, at_us=us,
                  flags=flags)
    elif mode == "distinct":
        rnd, path, out = random.Random(int(sys.argv[2])), sys.argv[3], []
        for src in range(40):
            k = int(math.exp(rnd.uniform(0, math.log(3000))))
            for dst in rnd.sample(range(1 << 30), k):
                out += [(0x0a000000 + src, 0x40000000 + dst)] * rnd.randint(1, 3)
        rnd.shuffle(out)
        for src, dst in out:
            frame(src, dst)
    elif mode == "spill":
        rnd, path = random.Random(int(sys.argv[2])), sys.argv[3]
        light = [0x0a000000 + i for i in rnd.sample(range(1 << 24), 100000)]
        again = [a for a in light for _ in range(rnd.randint(0, 2))]
        heavy = [0x0b000000 + i for i in rnd.sample(range(1 << 24), 30)]
        # every light source once (the table fills), then the rest with
        # the heavy ones among them
        tail = again + [h for h in heavy for _ in range(rnd.randint(300, 3000))]
        rnd.shuffle(tail)
        for src in light + tail:
            frame(src, 0xc0a80001)
    elif mode == "scan":
        targets, hosts, peers = map(int, sys.argv[2:5])
        path = sys.argv[5]
        talk = hosts * peers * 10
        # interleaved, the scan among the hosts' traffic
        for i in range(max(targets, talk)):
            if i < targets:
                frame(0x0a090909, 0xac100000 + i, 6)
            if i < talk:
                h, p = i // (peers * 10), i % peers
                frame(0x0a010000 + 1 + h, 0xc0a80000 + 1 + h * 16 + p, 6)
    else:
        sys.exit(__doc__)
    write(path, frames)


main()
