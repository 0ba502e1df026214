#!/usr/bin/env python3
"""report.py - the tables of bench/run.sh.

    report.py RUNS.TSV OUTDIR HEADER_LINE...

RUNS.TSV holds one line per system and round: SYSTEM ROUND and the figures
in FIGS order.  Writes OUTDIR/results.md (medians, ratios, the issue's
targets), OUTDIR/results.csv (medians, ratios and every run's values) and
OUTDIR/ratios.dat (the chart's data, for ratios.gp); prints the Markdown.
"""
import statistics
import sys

# key, column title, higher is better
FIGS = [
    ("req_s", "keep-alive req/s", True),
    ("conn_s", "new conn/s", True),
    ("up_gbit", "upload Gbit/s", True),
    ("down_gbit", "download Gbit/s", True),
    ("p99_ka_ms", "p99 keep-alive ms", False),
    ("p99_conn_ms", "p99 new-conn ms", False),
    ("bal_us_req", "balancer CPU µs/req", False),
    ("bal_us_conn", "balancer CPU µs/conn", False),
    ("bal_s_gb", "balancer CPU s/GB", False),
    ("mach_us_req", "machine CPU µs/req", False),
]
KEYS = [f[0] for f in FIGS]
VSR = ["dr", "nat", "nat6", "fullnat", "fullnat-pp", "tun", "nat-w2"]
# Ratio rows against each reference: vsrouted's modes, and the TAP floor.
# The floor's variants: other ways of steering replies into the TAP (run.sh).
FLOOR_VARIANTS = ["floor-rs", "floor-mark", "floor-fnat"]
ROWS = ["nft-xdp", "floor"] + FLOOR_VARIANTS + VSR
REFS = [("nft", "nftables DNAT"), ("haproxy", "HAProxy")]
# What the TAP floor (bench/tapfloor) is compared with: the modes that go
# back through the TAP, or did before issue 21.
FLOORED = FLOOR_VARIANTS + ["nat", "fullnat", "nat-w2"]


def fmt(v):
    if v is None:
        return "n/a"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def main():
    runs_file, outdir = sys.argv[1], sys.argv[2]
    header = sys.argv[3:]
    runs = {}
    order = []
    for line in open(runs_file):
        f = line.rstrip("\n").split("\t")
        if len(f) != 2 + len(KEYS):
            continue
        s, r = f[0], f[1]
        if s not in runs:
            runs[s] = []
            order.append(s)
        runs[s].append((r, [float(x) for x in f[2:]]))
    med = {s: [statistics.median(v[i] for _, v in runs[s]) for i in range(len(KEYS))]
           for s in order}

    def ratio(s, ref, i):
        if s not in med or ref not in med or med[ref][i] <= 0:
            return None
        return med[s][i] / med[ref][i]

    md = ["# vsrouted benchmark", ""]
    md += [f"* {h}" for h in header]
    md += ["* medians over the rounds; the ratios are vsrouted ÷ the reference: "
           "above 1 is better for the first four figures, below 1 for the others", ""]
    md.append("| system | " + " | ".join(t for _, t, _ in FIGS) + " |")
    md.append("|---|" + "---:|" * len(FIGS))
    for s in order:
        md.append(f"| {s} | " + " | ".join(fmt(v) for v in med[s]) + " |")
    def ratio_row(s, ref):
        return f"| {s} ÷ {ref} | " + " | ".join(
            (f"{x:.2f}×" if x is not None else "n/a")
            for x in (ratio(s, ref, i) for i in range(len(KEYS)))) + " |"

    for ref, name in REFS:
        if ref not in med:
            continue
        for s in ROWS:
            if s in med:
                md.append(ratio_row(s, ref))
    if "floor" in med:
        for s in FLOORED:
            if s in med:
                md.append(ratio_row(s, "floor"))

    # The targets of issue 21 (item 6).
    def want(s, ref, key, limit):
        i = KEYS.index(key)
        x = ratio(s, ref, i)
        hi = FIGS[i][2]
        if x is None:
            return None
        return (x >= limit) if hi else (x <= limit), x

    # nat and fullnat: >= 1.3x HAProxy on req_s and conn_s, >= 0.85x nft on
    # both, machine CPU per request <= 1.25x nft's, bulk >= 0.9x nft; dr
    # >= 0.95x nft on every figure (its machine CPU per request <= 1/0.95
    # of nft's); tun >= 0.6x nft on upload; every mode's p99 no worse than
    # nft's.
    checks = []
    for s in ("dr", "nat", "fullnat", "tun"):   # IPv4's modes; nat6 is held to nat below
        if s not in med:
            continue
        if s in ("nat", "fullnat", "fullnat-pp"):
            checks += [(s, "haproxy", k, 1.3) for k in ("req_s", "conn_s")]
            checks += [(s, "nft", k, 0.85) for k in ("req_s", "conn_s")]
            checks += [(s, "nft", "mach_us_req", 1.25)]
            checks += [(s, "nft", k, 0.9) for k in ("up_gbit", "down_gbit")]
        if s == "dr":
            checks += [(s, "nft", k, 0.95) for k in ("req_s", "conn_s", "up_gbit", "down_gbit")]
            checks += [(s, "nft", "mach_us_req", round(1 / 0.95, 3))]
        if s == "tun":
            checks += [(s, "nft", "up_gbit", 0.6)]
        checks += [(s, "nft", k, 1.0) for k in ("p99_ka_ms", "p99_conn_ms")]
    lines = []
    met = 0
    for s, ref, key, limit in checks:
        w = want(s, ref, key, limit)
        if w is None:
            continue
        ok, x = w
        met += ok
        hi = FIGS[KEYS.index(key)][2]
        op = "≥" if hi else "≤"
        lines.append(f"| {s} | {key} ÷ {ref} {op} {limit} | {x:.2f} | {'met' if ok else '**not met**'} |")
    # Issue 19: the PROXY v2 header and the sequence shift cost under 5 % of req/s.
    checks_pp = []
    if "fullnat" in med and "fullnat-pp" in med:
        md += ["", "The client's address behind fullnat (fullnat-pp ÷ fullnat; above 1 is better "
               "for the first four; its bulk figures carry no header):", "",
               "| " + " | ".join(t for _, t, _ in FIGS) + " |",
               "|" + "---:|" * len(FIGS),
               "| " + " | ".join(f"{x:.2f}×" if x is not None else "n/a"
                                 for x in (ratio("fullnat-pp", "fullnat", i)
                                           for i in range(len(KEYS)))) + " |"]
        for key in ("req_s", "conn_s"):
            x = ratio("fullnat-pp", "fullnat", KEYS.index(key))
            if x is not None:
                checks_pp.append((key, x))
    if "nat" in med and "nat-w2" in med:
        md += ["", "Two workers against one (nat-w2 ÷ nat; above 1 is better for the first four):", "",
               "| " + " | ".join(t for _, t, _ in FIGS) + " |",
               "|" + "---:|" * len(FIGS),
               "| " + " | ".join(f"{x:.2f}×" if x is not None else "n/a"
                                 for x in (ratio("nat-w2", "nat", i) for i in range(len(KEYS)))) + " |"]
    if lines:
        md += ["", f"Targets of issue 21: {met} of {len(lines)} met", "",
               "| mode | target | ratio | |", "|---|---|---:|---|"] + lines
    if checks_pp:
        md += ["", "Target of issue 19 (the header and the shift cost under 5 %):", "",
               "| target | ratio | |", "|---|---:|---|"]
        md += [f"| fullnat-pp {k} ÷ fullnat ≥ 0.95 | {x:.2f} | {'met' if x >= 0.95 else '**not met**'} |"
               for k, x in checks_pp]
    # Issue 13: the IPv6 row within 10 % of the IPv4 one, for the four rates.
    if "nat" in med and "nat6" in med:
        md += ["", "IPv6 against IPv4 (nat6 ÷ nat; above 1 is better for the first four):", "",
               "| " + " | ".join(t for _, t, _ in FIGS) + " |",
               "|" + "---:|" * len(FIGS),
               "| " + " | ".join(f"{x:.2f}×" if x is not None else "n/a"
                                 for x in (ratio("nat6", "nat", i) for i in range(len(KEYS)))) + " |"]
        v6 = []
        for key in ("req_s", "conn_s", "up_gbit", "down_gbit"):
            x = ratio("nat6", "nat", KEYS.index(key))
            if x is not None:
                v6.append(f"| nat6 | {key} ÷ nat ≥ 0.9 | {x:.2f} | {'met' if x >= 0.9 else '**not met**'} |")
        if v6:
            md += ["", f"Targets of issue 13: {sum('| met |' in l for l in v6)} of {len(v6)} met", "",
                   "| mode | target | ratio | |", "|---|---|---:|---|"] + v6

    with open(f"{outdir}/results.md", "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))

    with open(f"{outdir}/results.csv", "w") as f:
        f.write("kind,system,round," + ",".join(KEYS) + "\n")
        for s in order:
            f.write(f"median,{s},all," + ",".join(f"{v:.6g}" for v in med[s]) + "\n")
        for ref in [r for r, _ in REFS] + ["floor"]:
            for s in (ROWS if ref != "floor" else FLOORED):
                if s in med and ref in med:
                    f.write(f"ratio_vs_{ref},{s},all," + ",".join(
                        (f"{x:.4f}" if x is not None else "")
                        for x in (ratio(s, ref, i) for i in range(len(KEYS)))) + "\n")
        for s in order:
            for r, v in runs[s]:
                f.write(f"run,{s},{r}," + ",".join(f"{x:.6g}" for x in v) + "\n")

    # Chart data: one block per reference, one line per figure, one column
    # per vsrouted mode (0 where a ratio is missing).
    modes = [s for s in ROWS if s in med]
    blocks = []
    for ref, name in REFS:
        if ref not in med or not modes:
            continue
        b = [f"# vs {name}", "figure " + " ".join(modes)]
        for i, (k, _, hi) in enumerate(FIGS):
            b.append(f"{k}{'' if hi else '(lower)'} " + " ".join(
                f"{(ratio(s, ref, i) or 0):.4f}" for s in modes))
        blocks.append((name, b))
    with open(f"{outdir}/ratios.dat", "w") as f:
        f.write("\n\n\n".join("\n".join(b) for _, b in blocks) + "\n" if blocks else "")
    # The chart: one panel per reference, bars per figure and mode, the 1.0 line.
    gp = ["set terminal pngcairo size 1200,%d font ',10'" % (420 * max(1, len(blocks))),
          "set output 'ratios.png'",
          "set termoption noenhanced", "set style data histograms", "set style histogram clustered gap 1",
          "set style fill solid 0.8 border -1", "set boxwidth 0.9",
          "set ylabel 'ratio (vsrouted ÷ reference)'", "set yrange [0:*]",
          "set xtics rotate by -25 scale 0", "set key outside right top",
          "set grid ytics", f"set multiplot layout {max(1, len(blocks))},1"]
    for n, (name, _) in enumerate(blocks):
        cols = ", ".join(
            f"'ratios.dat' index {n} using {j + 2}{':xtic(1)' if j == 0 else ''} "
            f"title '{m}'" for j, m in enumerate(modes))
        gp += [f"set title 'vsrouted ÷ {name} (first four: higher is better; "
               f"(lower): lower is better)'",
               f"plot {cols}, 1 with lines lw 2 lc rgb 'black' dt 2 title '1.0'"]
    gp.append("unset multiplot")
    with open(f"{outdir}/ratios.gp", "w") as f:
        f.write("\n".join(gp) + "\n" if blocks else "")

if __name__ == "__main__":
    main()
