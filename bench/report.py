#!/usr/bin/env python3
"""Turns bench/run.sh's samples into the benchmark table (Markdown, on stdout).

    bench/report.py MACHINE.txt ROWS.tsv SAMPLES.tsv

SAMPLES.tsv: "label<TAB>round<TAB>ns<TAB>maxrss_kib" per run (bench/measure.c, bench/bench_apply.c).
ROWS.tsv: "fig<TAB>what<TAB>target<TAB>baseline<TAB>baseline what<TAB>unit<TAB>budget" per line of
the table. Budgets: "time:MS,rss:MB" (target median and peak RSS), "added:MS[,rss:MB]" (median
of the per-round differences target - baseline, and the target's peak RSS), "p99:US" (target
p99), "-" (none: shown for context).

Rows of figure "H" (the headline) and "Hb" (its breakdown) go to a table of their own, first:
per row the medians, the added median (median of the paired differences), the interquartile
range of those differences, and a 95% confidence interval of the added median (distribution
free: the order statistics the binomial distribution of the sign test gives, so no assumption
about runc's long-tailed times). A budget is met when the added median is under it; the table
says whether the whole interval is.

Percentiles are nearest-rank. "Added" pairs the target's and the baseline's runs of the same
round (they ran back to back, interleaved), so it is the median and p95 of those differences;
it is left out for in-process rows (there the ratio says it).
MB is 10^6 bytes (ru_maxrss is in KiB of 1024 bytes): the stricter reading of the budgets.
"""
import math
import sys
from collections import defaultdict


def pct(sorted_vals, p):
    n = len(sorted_vals)
    k = max(1, min(n, math.ceil(p / 100.0 * n - 1e-9)))
    return sorted_vals[k - 1]


def median(sorted_vals):
    n = len(sorted_vals)
    return sorted_vals[(n - 1) // 2] if n % 2 else (sorted_vals[n // 2 - 1] + sorted_vals[n // 2]) / 2


def median_ci(sorted_vals, level=0.95):
    """(low, high): order statistics d_(j), d_(n+1-j) with P(Bin(n, 1/2) < j) <= (1-level)/2."""
    n = len(sorted_vals)
    tail, cum, j = (1 - level) / 2, 0.0, 0
    while j < n and cum + math.comb(n, j) / 2.0 ** n <= tail:
        cum += math.comb(n, j) / 2.0 ** n
        j += 1
    if j == 0:  # too few rounds for that level: the range
        return sorted_vals[0], sorted_vals[-1]
    return sorted_vals[j - 1], sorted_vals[n - j]


def fmt_t(ns, unit):
    if unit == "us":
        v = ns / 1e3
        return f"{v:.1f} us" if abs(v) < 1000 else f"{v / 1e3:.2f} ms"
    v = ns / 1e6
    return f"{v:.3f} ms" if abs(v) < 10 else f"{v:.2f} ms"


def fmt_mb(kib):
    return f"{kib * 1024 / 1e6:.2f} MB"


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    machine_path, rows_path, samples_path = argv[1:]
    times = defaultdict(dict)  # label -> round -> ns
    rss = defaultdict(list)
    with open(samples_path) as f:
        for line in f:
            label, rnd, ns, kib = line.rstrip("\n").split("\t")
            times[label][int(rnd)] = int(ns)
            rss[label].append(int(kib))

    def stats(label):
        if label not in times:
            raise SystemExit(f"report: no samples for {label}")
        v = sorted(times[label].values())
        return {"n": len(v), "median": median(v), "p95": pct(v, 95), "p99": pct(v, 99),
                "max": v[-1], "rss": max(rss[label])}

    out = []
    with open(machine_path) as f:
        machine = [l.rstrip("\n") for l in f if l.strip()]
    out.append("Machine:")
    out.append("")
    for l in machine:
        out.append(f"- {l}")
    out.append("")
    rows = []
    with open(rows_path) as f:
        for line in f:
            rows.append(line.rstrip("\n").split("\t"))

    def diffs_of(tl, bl):
        rounds = sorted(set(times[tl]) & set(times[bl]))
        return sorted(times[tl][r] - times[bl][r] for r in rounds)

    verdicts = []
    head = [r for r in rows if r[0] in ("H", "Hb")]
    if head:
        out.append("Headline: what a GPU adds to `runc create` (paired, interleaved rounds):")
        out.append("")
        out.append("| | Measured | Rounds | Median | Baseline (same run, interleaved) | Base median "
                   "| **Added median** | IQR of paired differences | 95% CI of added median | Budget | Met |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for fig, what, tl, bl, bwhat, unit, budget in head:
            t, b = stats(tl), stats(bl)
            d = diffs_of(tl, bl)
            med, lo, hi = median(d), *median_ci(d)
            budget_txt, met = "-", ""
            if budget != "-":
                lim = float(dict(p.split(":") for p in budget.split(","))["added"]) * 1e6
                budget_txt = f"added < {lim / 1e6:g} ms"
                met = ("yes" if med < lim else "**no**") + (
                    " (whole CI below)" if hi < lim else " (CI above)" if lo >= lim else " (CI straddles)")
                verdicts.append((fig, what, met))
            out.append("| " + " | ".join([
                "**headline**" if fig == "H" else "breakdown", what, str(len(d)),
                fmt_t(t["median"], unit), bwhat, fmt_t(b["median"], unit),
                f"**{fmt_t(med, unit)}**", f"{fmt_t(pct(d, 25), unit)} .. {fmt_t(pct(d, 75), unit)}",
                f"{fmt_t(lo, unit)} .. {fmt_t(hi, unit)}", budget_txt, met]) + " |")
        out.append("")
        out.append("All figures:")
        out.append("")
    out.append("| Fig | Measured | n | Median | p95 | p99 | Max | Peak RSS | Baseline (same run, interleaved) "
               "| Base median | Base p95 | Base RSS | Ratio | Added median / p95 | Budget | Met |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for fig, what, tl, bl, bwhat, unit, budget in (r for r in rows if r[0] != "Hb"):
        t, b = stats(tl), stats(bl)
        diffs = diffs_of(tl, bl)
        added_med, added_p95 = median(diffs), pct(diffs, 95)
        ratio = t["median"] / b["median"] if b["median"] else float("inf")
        budget_txt, met = "-", ""
        if budget != "-":
            parts = dict(p.split(":") for p in budget.split(","))
            checks, texts = [], []
            if "time" in parts:
                texts.append(f"median < {parts['time']} ms")
                checks.append(("time", t["median"] < float(parts["time"]) * 1e6))
            if "added" in parts:
                texts.append(f"added < {parts['added']} ms")
                checks.append(("time", added_med < float(parts["added"]) * 1e6))
            if "p99" in parts:
                texts.append(f"p99 < {parts['p99']} us")
                checks.append(("time", t["p99"] < float(parts["p99"]) * 1e3))
            if "rss" in parts:
                texts.append(f"RSS < {parts['rss']} MB")
                checks.append(("RSS", t["rss"] < float(parts["rss"]) * 1e6 / 1024))
            budget_txt = ", ".join(texts)
            met = ", ".join(f"{k} {'yes' if ok else '**no**'}" for k, ok in checks)
            if fig not in ("H", "Hb"):  # counted once, in the headline table
                verdicts.append((fig, what, met))
        in_proc = unit == "us"
        out.append("| " + " | ".join([
            fig, what, str(t["n"]), fmt_t(t["median"], unit), fmt_t(t["p95"], unit),
            fmt_t(t["p99"], unit), fmt_t(t["max"], unit),
            fmt_mb(t["rss"]) + (" (process)" if in_proc else ""),
            bwhat, fmt_t(b["median"], unit), fmt_t(b["p95"], unit),
            fmt_mb(b["rss"]) + (" (process)" if in_proc else ""),
            f"{ratio:.2f}x",
            "-" if in_proc else f"{fmt_t(added_med, unit)} / {fmt_t(added_p95, unit)}",
            budget_txt, met]) + " |")
    out.append("")
    met_n = sum(1 for v in verdicts if "**no**" not in v[2])
    out.append(f"Budgets met in full: {met_n} of {len(verdicts)} rows with a budget.")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
