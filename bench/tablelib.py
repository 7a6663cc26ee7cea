"""Helpers shared by bench/table.py and bench/tls/table.py."""
import os
import statistics


def read_lines(path):
    try:
        with open(path) as f:
            return [l.rstrip("\n") for l in f if l.strip()]
    except FileNotFoundError:
        return []


def read_results(d):
    """results.tsv (key, server, round, value) as {(key, server): [values]}."""
    data = {}
    for line in read_lines(os.path.join(d, "results.tsv")):
        key, server, _round, value = line.split("\t")
        data.setdefault((key, server), []).append(float(value))
    return data


def rate(v):
    """A per-second count: 1.23M, 45.6k, 789."""
    if v >= 1e6:
        return f"{v / 1e6:.2f}M"
    if v >= 1e3:
        return f"{v / 1e3:.1f}k"
    return f"{v:.0f}"


def cell(vals, unit, fmt):
    """Median over the rounds with the min-max range, each as fmt(v, unit)."""
    if not vals:
        return "-"
    med = statistics.median(vals)
    if len(vals) == 1:
        return fmt(med, unit)
    return f"{fmt(med, unit)} ({fmt(min(vals), unit)}–{fmt(max(vals), unit)})"


def ratio(a, b):
    """median(a) / median(b), None where either is missing or b's is 0."""
    if not a or not b or statistics.median(b) == 0:
        return None
    return statistics.median(a) / statistics.median(b)


def times(r):
    return "-" if r is None else f"{r:.2f}x"


def bullets(lines):
    for l in lines:
        print(f"- {l}")


def print_notes(notes):
    if notes:
        print("### Notes\n")
        bullets(notes)
        print()
