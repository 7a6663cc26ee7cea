#!/usr/bin/env python3
"""Turns the raw results of bench/tls/run.sh into Markdown tables.

    python3 bench/tls/table.py --results bench/results/tls-<timestamp>

Reads results.tsv (figure, server, round, value), params.tsv, groups.tsv,
notes.txt and environment.txt from that directory. Each cell is the median
over the rounds with the min-max range; the ratio is http_server's median
divided by net/http's, compared with the issue's target.
"""
import argparse
import os
import statistics
import sys

# The shared helpers sit in bench/, one up; no __pycache__ in the tree.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True
from tablelib import bullets, cell, print_notes, rate, ratio, read_lines, read_results, times  # noqa: E402

OURS, PEER = "http_server", "nethttps"
LABELS = {OURS: "http_server", PEER: "net/http"}

# key, description, unit, higher is better, target (operator, ratio) or None
ROWS = [
    ("handshake", "1. Full TLS 1.3 handshakes + one `GET /ping`, {handshake_conns} dialers",
     "handshakes/s", True, None),
    ("handshake-cpu", "1. … per server CPU-second", "handshakes/CPU-s", True, (">=", 1.2)),
    ("keepalive", "2. Keep-alive `GET /ping`, {keepalive_conns} conns", "req/s", True, (">=", 2.0)),
    ("keepalive-cpu", "2. … per server CPU-second", "req/CPU-s", True, None),
    ("bulk", "3. Bulk download, {bulk_conns} conns × {file} file", "MiB/s", True, (">=", 0.95)),
    ("bulk-cpu", "3. … per server CPU-second", "MiB/CPU-s", True, None),
    ("idle", "4. RSS per idle TLS conn, {idle_conns} conns", "bytes, lower is better", False, ("<=", 0.35)),
]
BUSY = [
    ("handshake", "1. handshakes"),
    ("keepalive", "2. keep-alive"),
    ("bulk", "3. bulk"),
]


def fmt(v, unit):
    if unit.startswith("req"):
        return rate(v)
    if unit.startswith("MiB"):
        return f"{v:.0f}" if v >= 100 else f"{v:.1f}"
    if unit == "busy":
        return f"{v:.2f}"
    return f"{v:.0f}"


def size(n):
    n = int(n)
    for unit, s in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= s and n % s == 0:
            return f"{n // s} {unit}"
    return f"{n} B"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    d = ap.parse_args().results

    data = read_results(d)
    params = dict(l.split("\t", 1) for l in read_lines(os.path.join(d, "params.tsv")))
    params["file"] = size(params.get("file_size", "0"))
    for k in ("idle_conns",):
        if k in params:
            params[k] = f"{int(params[k]):,}"

    print("## HTTPS benchmark: http_server against net/http `ListenAndServeTLS`\n")
    bullets(read_lines(os.path.join(d, "environment.txt")))
    groups = {}
    for l in read_lines(os.path.join(d, "groups.tsv")):
        server, g = l.split("\t")
        groups.setdefault(server, set()).add(g)
    if groups:
        desc = "; ".join(f"{LABELS.get(s, s)} {', '.join(sorted(g))}" for s, g in sorted(groups.items()))
        print(f"- key exchange negotiated: {desc}")
    print()
    if not data:
        print("No results were recorded (see notes below).\n")

    head = ["figure", "unit", LABELS[OURS], LABELS[PEER], "ratio", "target", "met"]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for key, desc, unit, _higher, target in ROWS:
        a, b = data.get((key, OURS), []), data.get((key, PEER), [])
        if not a and not b:
            continue
        r = ratio(a, b)
        t = met = ""
        if target:
            op, val = target
            t = f"{'≥' if op == '>=' else '≤'} {val:.2f}x"
            if r is not None:
                met = "yes" if (r >= val if op == ">=" else r <= val) else "no"
        print(f"| {desc.format(**params)} | {unit} | {cell(a, unit, fmt)} | {cell(b, unit, fmt)} | "
              f"{times(r)} | {t} | {met} |")
    print()
    print("Cells: median over the rounds (min–max). Ratio: http_server's median / net/http's;")
    print("RSS per connection is lower-is-better, so its target is a ceiling.")
    print()

    auto = []
    if any(k[0].endswith("-busy") for k in data):
        print("### CPU use in the measured windows (CPU-seconds per second, median; 1.00 = one core)\n")
        print(f"| figure | {LABELS[OURS]} | {LABELS[PEER]} | client, against {LABELS[OURS]} | client, against {LABELS[PEER]} |")
        print("| --- | --- | --- | --- | --- |")
        for key, desc in BUSY:
            cells = [cell(data.get((f"{key}-server-busy", s), []), "busy", fmt) for s in (OURS, PEER)]
            cells += [cell(data.get((f"{key}-client-busy", s), []), "busy", fmt) for s in (OURS, PEER)]
            if all(c == "-" for c in cells):
                continue
            print(f"| {desc} | " + " | ".join(cells) + " |")
            for s in (OURS, PEER):
                cb = data.get((f"{key}-client-busy", s))
                sb = data.get((f"{key}-server-busy", s))
                if not cb or not sb:
                    continue
                mc, ms = statistics.median(cb), statistics.median(sb)
                if mc >= 0.95 and ms < 0.95:
                    auto.append(f"{desc} against {LABELS[s]}: the client's core was saturated and the "
                                f"server's was not (busy {ms:.2f}), so the per-second "
                                f"figure is the client's limit; the per-CPU-second row is the server's.")
                elif mc < 0.9 and ms < 0.9 and key != "bulk":
                    auto.append(f"{desc} against {LABELS[s]}: neither core was saturated (server {ms:.2f}, "
                                f"client {mc:.2f}): something else had the CPUs (see the CPU check above) "
                                f"or the two waited on each other; the per-CPU-second row holds better.")
        print()
    if len(groups) > 1 and len({frozenset(g) for g in groups.values()}) > 1:
        auto.append("the servers negotiated different key-exchange groups (see above); "
                    "handshake costs differ with the group")

    print_notes(read_lines(os.path.join(d, "notes.txt")) + auto)
    return 0


if __name__ == "__main__":
    sys.exit(main())
