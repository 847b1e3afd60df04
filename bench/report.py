#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""What bench/run.sh does with its results file.

  report.py check RESULTS.json   every case has a number (make bench-smoke)
  report.py plot RESULTS.json OUT.svg
                                 the end-to-end comparison as a bar chart

The plot is plain SVG written here: nothing to install beyond Python.
"""
import json
import math
import sys

# Each case family a run must produce, by the prefix of its name.
FAMILIES = ["cost.", "function.", "filter.", "search.", "connect.", "convs.", "live.", "capture.", "offline."]

# The end-to-end bars: (case, label, group).
BARS = [
    ("live.empty_xdp", "empty XDP program", "count at full speed"),
    ("live.mapi_flow", "mapi flow", "count at full speed"),
    ("live.libpcap", "libpcap program", "count at full speed"),
    ("capture.tcpdump", "tcpdump -w /dev/null", "every packet to user space"),
    ("capture.mapi", "mapi capture (TO_BUFFER)", "every packet to user space"),
    ("offline.tcpdump", "tcpdump -r", "a trace file"),
    ("offline.mapi", "mapi count -r", "a trace file"),
]


def load(path):
    with open(path) as f:
        return json.load(f)


def number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check(path):
    cases = load(path)["cases"]
    bad = [c.get("case", "?") for c in cases if not number(c.get("median"))]
    names = [c.get("case", "") for c in cases]
    missing = [f for f in FAMILIES if not any(n.startswith(f) for n in names)]
    for name in bad:
        print("bench: case %s produced no number" % name)
    for fam in missing:
        print("bench: no case %s* ran" % fam)
    print("bench: %d cases, %d without a number, %d families missing"
          % (len(cases), len(bad), len(missing)))
    return 1 if bad or missing else 0


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plot(path, out):
    res = load(path)
    by = {c["case"]: c for c in res["cases"]}
    bars = [(label, group, by[case]["median"]) for case, label, group in BARS
            if case in by and number(by[case].get("median"))]
    if "offline.mapi" in by:
        trace = "a trace file of {:,} packets".format(by["offline.mapi"].get("packets", 0))
        bars = [(l, trace if g == "a trace file" else g, v) for l, g, v in bars]
    if not bars:
        print("bench: nothing to plot")
        return 0  # the cases run have no chart: not an error
    left, top, row, width = 250, 60, 26, 420
    height = top + row * (len(bars) + len({g for _, g, _ in bars})) + 40
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (left + width + 140, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="22" font-size="15" font-weight="bold">mapi-bpf: packets per '
           'second, end to end (medians)</text>',
           '<text x="10" y="42" fill="#555">%s, Linux %s, %d CPUs, %d runs a case</text>'
           % (esc(res.get("date", "")), esc(res.get("kernel", "")), res.get("cpus", 0),
              res.get("runs", 0))]
    y = top
    group = None
    for label, g, v in bars:
        if g != group:
            group = g
            scale = max(b[2] for b in bars if b[1] == g)
            svg.append('<text x="10" y="%d" font-weight="bold">%s</text>' % (y + 16, esc(g)))
            y += row
        w = max(1, int(width * v / scale))
        color = "#2a6fdb" if label.startswith("mapi") else "#9aa5b1"
        svg.append('<text x="%d" y="%d" text-anchor="end">%s</text>' % (left - 8, y + 16, esc(label)))
        svg.append('<rect x="%d" y="%d" width="%d" height="18" fill="%s"/>' % (left, y + 3, w, color))
        svg.append('<text x="%d" y="%d">%s</text>' % (left + w + 6, y + 16, "{:,.0f}".format(v)))
        y += row
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")
    print("plot: %s" % out)
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "check":
        return check(argv[2])
    if len(argv) == 4 and argv[1] == "plot":
        return plot(argv[2], argv[3])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
