#!/usr/bin/env python3
"""Turns the raw results of bench/compare.sh into Markdown tables.

    python3 bench/table.py --results bench/results/<timestamp>

Reads results.tsv (scenario, server, round, value), syscalls.tsv, notes.txt
and environment.txt from that directory. Each cell is the median over the
rounds with the min-max range; ratio columns divide this server's median by
the peer's median.
"""
import argparse
import os
import sys

# The shared helpers sit beside this script; no __pycache__ in the tree.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from tablelib import bullets, cell, print_notes, rate, ratio, read_lines, read_results, times  # noqa: E402

SCENARIOS = [
    # key, description, unit, higher is better
    ("S1", "S1 `/ping`, keep-alive, 64 conns", "req/s", True),
    ("S2", "S2 `/ping`, 16 pipelined, 64 conns", "req/s", True),
    ("S3", "S3 4 KiB file, 64 conns", "req/s", True),
    ("S4", "S4 1 MiB file, 16 conns", "GiB/s", True),
    ("S5", "S5 16 concurrent 1 GiB downloads (curl)", "GB/s", True),
    ("S5-RSS", "S5 peak RSS during the downloads", "MiB", False),
    ("S6", "S6 idle keep-alive conns, RSS per conn", "B/conn", False),
]
LABELS = {
    "http_server": "http_server",
    "http_server-w0": "http_server --workers 0",
    "nginx": "nginx",
    "fasthttp": "fasthttp",
    "gnet": "gnet v2",
    "nethttp": "net/http",
}
PEERS = ["nginx", "fasthttp", "gnet", "nethttp"]


def fmt(v, unit):
    if unit == "req/s":
        return rate(v)
    if unit in ("GiB/s", "GB/s"):
        return f"{v:.2f}"
    if unit == "MiB":
        return f"{v:.1f}"
    return f"{v:.0f}"


def table(data, rows, columns, ratios):
    """columns: server keys; ratios: (header, numerator key, denominator key)."""
    present = [c for c in columns if any(data.get((r[0], c)) for r in rows)]
    head = ["scenario", "unit"] + [LABELS[c] for c in present] + [h for h, _, _ in ratios]
    out = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for key, desc, unit, higher in rows:
        if not any(data.get((key, c)) for c in columns):
            continue
        u = unit if higher else f"{unit}, lower is better"
        line = [desc, u]
        line += [cell(data.get((key, c), []), unit, fmt) for c in present]
        line += [times(ratio(data.get((key, a), []), data.get((key, b), []))) for _, a, b in ratios]
        out.append("| " + " | ".join(line) + " |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    args = ap.parse_args()
    d = args.results

    data = read_results(d)

    print("## Benchmark comparison\n")
    bullets(read_lines(os.path.join(d, "environment.txt")))
    print()
    if not data:
        print("No results were recorded (see notes below).\n")

    have_gnet = any(k[1] == "gnet" for k in data)
    print("### Default configuration (reactor + pool)\n")
    ratios = [("vs nginx", "http_server", "nginx")]
    if have_gnet:
        ratios.append(("vs gnet", "http_server", "gnet"))
    print(table(data, SCENARIOS, ["http_server"] + PEERS, ratios))
    print()

    print("### `--workers 0` (handlers inline on the reactor)\n")
    ratios = [("inline vs nginx", "http_server-w0", "nginx")]
    if have_gnet:
        ratios.append(("inline vs gnet", "http_server-w0", "gnet"))
    ratios.append(("pool vs inline", "http_server", "http_server-w0"))
    print(table(data, SCENARIOS, ["http_server-w0", "http_server", "nginx", "gnet"], ratios))
    print()
    print("Cells: median over the rounds (min–max). Ratios: this server's median / the peer's median;")
    print("above 1.00x is better for throughput rows, below 1.00x for the rows marked lower is better.")
    print()

    sc = read_lines(os.path.join(d, "syscalls.tsv"))
    if sc:
        print("### Syscalls per request (S1-style `/ping`, 64 keep-alive conns, under `strace -c -f`)\n")
        print("| server | requests | syscalls | per request | most frequent, per request |")
        print("| --- | --- | --- | --- | --- |")
        for l in sc:
            f = l.split("\t")
            top = f[4] if len(f) > 4 else ""
            print(f"| {LABELS.get(f[0], f[0])} | {f[1]} | {f[2]} | {f[3]} | {top} |")
        print()

    print_notes(read_lines(os.path.join(d, "notes.txt")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
