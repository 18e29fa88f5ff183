#!/usr/bin/python3
"""Compares two bench runs case by case: how many times B's median is A's, and whether that is beyond the noise.

    /usr/bin/python3 plots/compare.py A B [--out DIR] [--formats png,svg,pdf] [--alpha 0.05] [--correction holm|bh]

A and B are run directories (results.json), possibly from different machines: a laptop against a server, before
against after a change. Cases are matched by run_name. Per case its primary metric is compared (the median row's
primary_metric: latency rows the p50 round trip, lower is better; throughput rows messages/s, higher is better;
the serialize suite cpu_time; contention ops/s, wall time or the p50 round trip; files without it: the same rule
from the row's fields): the ratio B/A of the medians over the repetitions, and a verdict:

- faster / slower: a two-sided Mann-Whitney U test of the repetitions is significant at alpha after correcting
  for the number of cases compared (Benjamini-Hochberg by default, Holm with --correction holm; see CORRECTIONS):
  the difference is larger than the noise either run saw;
- same within noise: the corrected test finds nothing;
- no verdict: a side has a single repetition, or too few for any test to reach alpha (3 against 3 cannot go
  below p = 0.1, before any correction), so nothing could be called either way; failed in A / B / both.

The raw and the corrected p-value are printed beside every verdict.

Prints the table on stdout; writes compare.json and ratios.<png|svg|...> (bars of B/A, log axis, coloured by
verdict) into DIR (default: B/compare-vs-<name of A>/) and prints their paths. Cases only in one run are listed.
Exit status 0, 2 on bad input (one line on stderr).
"""
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: Debian's matplotlibrc selects TkAgg, which needs a display

sys.path.insert(0, str(Path(__file__).resolve().parent))
import plot  # noqa: E402  (formats_arg: the same --formats as plot.py)
from bench_plots import common, style, utest  # noqa: E402

VERDICT_COLORS = {"slower": "#c62828", "faster": "#2e7d32", "same within noise": "#9e9e9e",
                  "no verdict": "#bdbdbd"}
METRIC_FORMAT = {"rtt_p50_ns": style.fmt_time, "real_time": style.fmt_time, "cpu_time": style.fmt_time,
                 "wall_ns": style.fmt_time, "bytes_per_s": style.fmt_bytes_rate,
                 "msgs_per_s": lambda v: f"{style.fmt_rate(v)}/s", "ops_per_s": lambda v: f"{style.fmt_rate(v)}/s"}
METRIC_LABELS = {"rtt_p50_ns": "p50 round trip", "msgs_per_s": "messages/s", "bytes_per_s": "bytes/s",
                 "ops_per_s": "operations/s", "wall_ns": "wall time", "cpu_time": "CPU time", "real_time": "time"}
# Why each correction, for the output and compare.json.
# Benjamini-Hochberg by default: a run compares hundreds of cases, and Holm over the 636 of a default run lets
# no case be called before 12 repetitions per side (its smallest p times 636 must be below alpha), where BH
# needs 4. When nothing changed (an A/A comparison) BH's bound is Holm's: at most alpha's chance of any call.
CORRECTIONS = {
    "bh": "Benjamini-Hochberg (false discovery rate): among the cases called changed, the expected share of "
          "unchanged ones stays below alpha, and when nothing changed the chance of any call does; it assumes "
          "the cases' tests are independent or positively dependent (cases share the rounds and the machine, "
          "which moves them alike)",
    "holm": "Holm's step-down (family-wise error rate): the chance of calling even one unchanged case changed "
            "stays below alpha whatever the dependence between cases; it needs more repetitions to call any",
}
MACHINE_KEYS = ("host_name", "cpu_model", "cores_available", "num_cpus")


class Run:
    def __init__(self, run_dir):
        self.dir = Path(run_dir)
        self.doc = common.load_results(run_dir)
        self.context = self.doc["context"]
        self.suite = common.suite_of(self.doc, run_dir)
        self.cases = {c.run_name: c for c in common.cases(self.doc)}


def machine(context):
    """"vm · Intel(R) Xeon(R) Processor · 2 CPUs · Linux 6.1" from a context."""
    cpus = context.get("cores_available", context.get("num_cpus"))
    parts = [context.get("host_name"), context.get("cpu_model"), f"{cpus} CPUs" if cpus is not None else None,
             context.get("kernel")]
    return " · ".join(str(p) for p in parts if p) or "unknown machine"


def machine_differences(a, b):
    """Names of the machine fields that differ between two contexts."""
    return [k for k in MACHINE_KEYS if a.get(k) != b.get(k)]


def metric_of(case):
    """(field, higher_is_better, label): the median row's primary_metric where the harness wrote one (schema 2),
    else the rule of common.primary_metric for older files."""
    median = case.median or {}
    field = median.get("primary_metric")
    if isinstance(field, str) and field:
        return field, bool(median.get("higher_is_better")), METRIC_LABELS.get(field, field)
    return common.primary_metric(case)


def adjusted_p_values(p_values, method):
    """Holm or Benjamini-Hochberg adjusted p-values, in the order given (each compared with alpha as is)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    if method == "holm":  # step-down: the k-th smallest is multiplied by m - k + 1, never below the one before
        running = 0.0
        for k, i in enumerate(order):
            running = max(running, min(1.0, (m - k) * p_values[i]))
            adjusted[i] = running
    else:  # step-up: the k-th smallest times m / k, never above the one after
        running = 1.0
        for k in range(m - 1, -1, -1):
            i = order[k]
            running = min(running, p_values[i] * m / (k + 1))
            adjusted[i] = min(1.0, running)
    return adjusted


def reachable(n_a, n_b, tested, alpha, method):
    """Whether a case with these repetitions could be significant at all: repetitions that do not overlap give
    the smallest p there is, and Holm multiplies the smallest p of the comparison by the number of cases tested."""
    best = utest.smallest_p(n_a, n_b) * (tested if method == "holm" else 1)
    return best < alpha


def judge(a_values, b_values, a_median, b_median, higher_is_better):
    """The U test of one case, before the correction: a dict for compare.json (verdict filled in by decide())."""
    out = {"ratio": None, "verdict": None, "basis": None, "p_value": None, "p_adjusted": None, "test": None,
           "n_a": len(a_values), "n_b": len(b_values), "significant": False}
    if a_median is None or b_median is None:
        out["verdict"] = "failed in both" if a_median is None and b_median is None else \
            "failed in A" if a_median is None else "failed in B"
        return out
    out["ratio"] = b_median / a_median if a_median else None
    out["b_is_better"] = (b_median > a_median) == higher_is_better
    if len(a_values) < 2 or len(b_values) < 2:
        out.update(verdict="no verdict", basis="a single repetition says nothing about the noise")
    else:
        test = utest.mann_whitney_u(a_values, b_values)
        out.update(p_value=test.p, test=test.method)
    return out


def decide(rows, alpha, method):
    """Corrects the tested cases' p-values for their number and gives each its verdict."""
    tested = [r for r in rows if r["p_value"] is not None]
    for r, adj in zip(tested, adjusted_p_values([r["p_value"] for r in tested], method)):
        r["p_adjusted"] = adj
        if not reachable(r["n_a"], r["n_b"], len(tested), alpha, method):
            smallest = utest.smallest_p(r["n_a"], r["n_b"])
            extra = f" x {len(tested)} cases (Holm)" if method == "holm" and smallest < alpha else ""
            r.update(verdict="no verdict", basis=f"too few repetitions: with {r['n_a']} and {r['n_b']} no test can "
                     f"reach alpha {alpha:g} (the smallest two-sided p is {smallest:.2g}{extra})")
        elif adj < alpha:
            r.update(verdict="faster" if r["b_is_better"] else "slower", significant=True,
                     basis=f"U test p = {r['p_value']:.2g}, corrected {adj:.2g} < {alpha:g}")
        else:
            r.update(verdict="same within noise", basis=f"U test p = {r['p_value']:.2g}, corrected {adj:.2g} "
                                                        f">= {alpha:g}")
    for r in rows:
        r.pop("b_is_better", None)
    return len(tested)


def significance(row):
    """"p=0.001, corrected 0.02 (n=9 per side)", or why there is no test."""
    n = f"n={row['n_a']} per side" if row["n_a"] == row["n_b"] else f"n={row['n_a']}/{row['n_b']}"
    if row["p_value"] is None:
        return ""
    if row["verdict"] == "no verdict":
        return f"too few repetitions ({n})"
    return f"p={row['p_value']:.2g}, corrected {row['p_adjusted']:.2g} ({n})"


def label(case):
    """"pipe/thread 64 B latency": what the case is, shorter than its run_name."""
    kind = case.ident.get("workload") or case.ident.get("experiment")
    text = common.case_label(case)
    return f"{text} {kind}" if kind else text


def varying_labels(cases):
    """{run_name: "unix process throughput 8 pairs 10us gil-new"}: the identity fields whose values differ among the
    cases, in IDENTITY's order, so that a chart's labels stay short; the run_names where even those repeat."""
    fields = [f for f in common.IDENTITY if f != "suite"
              and len({str(c.ident.get(f)) for c in cases.values()}) > 1]
    unit = {"pairs": " pairs", "threads": " threads"}

    def text(case):
        parts = []
        for f in fields:
            v = case.ident.get(f)
            if v is None or v in ("none", 0):
                continue
            if f == "msg_bytes":
                v = style.fmt_size(v)
            elif f == "work_ns":
                v = "work " + style.fmt_time(v)
            suffix = unit.get(f, "")
            parts.append(f"{v}{suffix[:-1] if suffix and v == 1 else suffix}")
        return " ".join(parts)

    labels = {n: text(c) for n, c in cases.items()}
    return labels if len(set(labels.values())) == len(labels) else {n: n for n in cases}


def compare(a, b, alpha, method="bh"):
    """The compare.json document."""
    common_names = [n for n in a.cases if n in b.cases]
    labels = {n: label(a.cases[n]) for n in common_names}
    if len(set(labels.values())) < len(labels):  # not telling cases apart: the fields in which they differ
        labels = varying_labels({n: a.cases[n] for n in common_names})
    rows = []
    for name in common_names:
        ca, cb = a.cases[name], b.cases[name]
        field, higher, what = metric_of(ca)
        row = {"run_name": name, "label": labels[name], "metric": field, "metric_label": what,
               "higher_is_better": higher, "a_median": ca.value(field), "b_median": cb.value(field),
               "a_values": common.iteration_values(ca, field), "b_values": common.iteration_values(cb, field)}
        row.update(judge(row["a_values"], row["b_values"], row["a_median"], row["b_median"], higher))
        rows.append(row)
    tested = decide(rows, alpha, method)
    differ = machine_differences(a.context, b.context)
    return {
        "a": {"dir": str(a.dir), "suite": a.suite, "machine": machine(a.context),
              **{k: a.context.get(k) for k in MACHINE_KEYS + ("date", "git_revision", "command_line")}},
        "b": {"dir": str(b.dir), "suite": b.suite, "machine": machine(b.context),
              **{k: b.context.get(k) for k in MACHINE_KEYS + ("date", "git_revision", "command_line")}},
        "machines_differ": differ,
        "alpha": alpha,
        "test": "Mann-Whitney U, two-sided (exact without ties when a side has <= 8 values, else normal "
                "approximation with tie and continuity corrections)",
        "correction": {"method": method, "cases_tested": tested, "why": CORRECTIONS[method]},
        "cases": rows,
        "only_in_a": [n for n in a.cases if n not in b.cases],
        "only_in_b": [n for n in b.cases if n not in a.cases],
    }


def fmt_value(field, v):
    return "-" if v is None else METRIC_FORMAT.get(field, lambda x: f"{x:.4g}")(v)


def table(result):
    """The text printed on stdout."""
    lines = [f"A: {result['a']['dir']}  ({result['a']['machine']})",
             f"B: {result['b']['dir']}  ({result['b']['machine']})"]
    if result["machines_differ"]:
        lines.append(f"   different machines ({', '.join(result['machines_differ'])} differ): the ratios compare "
                     "the machines as much as the software")
    rows = result["cases"]
    if rows:
        width = max(len("case"), *(len(r["label"]) for r in rows))
        figures = {id(r): f"{r['metric_label']} ({'higher' if r['higher_is_better'] else 'lower'} is better)"
                   for r in rows}
        fwidth = max(len(f) for f in figures.values())
        lines.append("")
        lines.append(f"{'case':<{width}}  {'figure':<{fwidth}}{'A':>11}{'B':>11}{'B/A':>8}  {'verdict':<18}  "
                     f"significance")
        for r in rows:
            ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
            lines.append(f"{r['label']:<{width}}  {figures[id(r)]:<{fwidth}}{fmt_value(r['metric'], r['a_median']):>11}"
                         f"{fmt_value(r['metric'], r['b_median']):>11}{ratio:>8}  {r['verdict']:<18}  "
                         f"{significance(r)}")
    else:
        lines.append("\nno case is in both runs")
    for side in ("a", "b"):
        only = result[f"only_in_{side}"]
        if only:
            lines.append(f"\nonly in {side.upper()} ({len(only)}), not compared:")
            lines += [f"  {n}" for n in only]
    counts = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    correction = result["correction"]
    if counts:
        lines.append("\n" + ", ".join(f"{n} {v}" for v, n in sorted(counts.items(), key=lambda kv: -kv[1]))
                     + f" (alpha {result['alpha']:g}; ratio = B/A of the medians over the repetitions)")
    if correction["cases_tested"]:
        lines.append(f"p-values corrected for the {correction['cases_tested']} cases tested: {correction['why']}")
    weak = sorted({(r["n_a"], r["n_b"]) for r in rows if r["basis"] and r["basis"].startswith("too few")})
    if weak:
        need = reps_needed(correction["cases_tested"], result["alpha"], correction["method"])
        lines.append(f"no verdict: with {' or '.join(f'{x}/{y}' for x, y in weak)} repetitions no test can reach "
                     f"alpha {result['alpha']:g} over {correction['cases_tested']} cases, so nothing is called "
                     f"faster or slower; run both sides with --reps {need} or more for a test that can")
    return "\n".join(lines)


def reps_needed(tested, alpha, method):
    """The fewest repetitions per side with which a case could be significant among `tested` cases."""
    n = 2
    while n < 100 and not reachable(n, n, tested, alpha, method):
        n += 1
    return n


def chart(result, out_dir, formats):
    """Bars of B/A per case on a log axis, from 1 to the ratio, coloured by verdict; failed cases as x."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.lines import Line2D

    rows = result["cases"]
    if not rows:
        return []
    style.apply("lecture")
    s = style.current()
    height = 3.2 + 0.34 * len(rows)
    fig, ax = plt.subplots(figsize=(s["figsize"][0], max(s["figsize"][1], height)))
    ratios = [r["ratio"] for r in rows if r["ratio"]]
    reach = max([1.25] + [max(x, 1 / x) for x in ratios]) ** 1.3  # room for the ratio written at each bar
    ax.set_xscale("log")
    ax.set_xlim(1 / reach, reach)
    for y, r in enumerate(rows):
        if not r["ratio"]:
            ax.plot([1], [y], marker="x", color="#333333", markersize=s["marker"] * 1.5, linestyle="none",
                    markeredgewidth=s["line"])
            continue
        color = VERDICT_COLORS.get(r["verdict"], "#bdbdbd")
        ax.barh(y, r["ratio"] - 1, left=1, height=0.7, color=color, edgecolor=color, linewidth=0)
        ax.plot([r["ratio"]], [y], marker="|", color=color, markersize=s["marker"] * 1.6, markeredgewidth=2)
        right = r["ratio"] >= 1
        ax.annotate(f"{r['ratio']:.2f}x", (r["ratio"], y), xytext=(6 if right else -6, 0), textcoords="offset points",
                    ha="left" if right else "right", va="center", fontsize=s["small"] * 0.9, color="#333333")
    ax.axvline(1, color="#222222", linewidth=s["line"] * 0.6)
    ax.set_yticks(range(len(rows)), [r["label"] for r in rows], fontsize=s["small"])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    common.log_axis(ax.xaxis, style.formatter(lambda v: f"{v:g}x"))
    ax.set_xlabel("B / A of the median of each case's primary metric (see compare.json)")
    method = {"holm": "Holm", "bh": "Benjamini-Hochberg"}[result["correction"]["method"]]
    handles = [(Patch(color=VERDICT_COLORS["slower"]), f"slower (U test significant,\n{method}-corrected)"),
               (Patch(color=VERDICT_COLORS["faster"]), f"faster (U test significant,\n{method}-corrected)"),
               (Patch(color=VERDICT_COLORS["same within noise"]), "same within noise"),
               (Patch(color=VERDICT_COLORS["no verdict"]), "no verdict (too few\nrepetitions for a test)"),
               (Line2D([], [], marker="x", color="#333333", linestyle="none"), "failed in a run")]
    ax.legend([h for h, _ in handles], [t for _, t in handles], loc="upper left", bbox_to_anchor=(1.02, 1.0),
              frameon=False, fontsize=s["small"])
    a, b = result["a"], result["b"]
    notes = [f"A: {a['dir']} ({a['machine']})", f"B: {b['dir']} ({b['machine']})"]
    if result["machines_differ"]:
        notes.append("different machines: the ratios compare the machines as much as the software")
    common.finish(fig, "Run B against run A, case by case",
                  {}, "right of 1x: B has the larger value (for latency and time that is slower, for "
                      "throughput faster); the colour gives the verdict", notes)
    return common.save(fig, out_dir, "ratios", formats)


def main(argv=None):
    parser = common.ArgumentParser(description="Compare two bench runs case by case.")
    parser.add_argument("a", metavar="A", help="the first run directory (the baseline)")
    parser.add_argument("b", metavar="B", help="the second run directory")
    parser.add_argument("--out", metavar="DIR", help="where compare.json and the chart go "
                                                     "(default: B/compare-vs-<name of A>)")
    parser.add_argument("--formats", type=plot.formats_arg, default=["png", "svg"],
                        help="comma-separated list of png, svg, pdf (default: png,svg)")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level of the U test (default 0.05)")
    parser.add_argument("--correction", choices=sorted(CORRECTIONS), default="bh",
                        help="for the number of cases compared: bh (default; Benjamini-Hochberg: at most a share "
                             "alpha of the cases called changed are unchanged) or holm (no unchanged case called "
                             "changed, with probability 1 - alpha)")
    args = parser.parse_args(argv)
    if not 0 < args.alpha < 1:
        print(f"compare.py: --alpha {args.alpha:g} must be between 0 and 1", file=sys.stderr)
        return 2
    try:
        a, b = Run(args.a), Run(args.b)
    except common.ResultsError as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else b.dir / f"compare-vs-{a.dir.resolve().name}"
    result = compare(a, b, args.alpha, args.correction)
    if result["machines_differ"]:
        print(f"warning: A and B come from different machines ({', '.join(result['machines_differ'])} differ)",
              file=sys.stderr)
    if a.suite != b.suite:
        print(f"warning: A is a {a.suite} run and B a {b.suite} run", file=sys.stderr)
    print(table(result), flush=True)
    try:
        out.mkdir(parents=True, exist_ok=True)
        path = out / "compare.json"
        path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        written = [str(path)] + chart(result, out, args.formats)
    except OSError as e:
        print(f"compare.py: cannot write into {out}: {e}", file=sys.stderr)
        return 2
    print("\nwritten:\n" + "\n".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(common.run_main(main))
