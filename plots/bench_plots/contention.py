"""Charts of the contention suite, one per experiment:

  locks          throughput and fairness of each lock against threads
  false_sharing  adjacent against cache-line-padded counters
  gil_cpu        wall and CPU time of a fixed amount of work split over threads (per GIL policy) or processes
  gil_convoy     the I/O thread's round trip (p50, p99) against the switch interval, per policy
  gil_placement  the same round trip with the CPU-bound thread and the echo peer on or off the I/O thread's core

Entry point plot(doc, run_dir, formats) -> paths, as the other suites (plots/plot.py dispatches on
context.suite). Reads only results.json; the values drawn are the aggregate medians of the repetitions.
"""
import math

from matplotlib.lines import Line2D

from . import common, style

POLICY_ORDER = ("none", "old", "new", "priority")
POLICY_LABEL = {"none": "none (free-threaded)", "old": "old (Python 2)", "new": "new (Python 3.2+)",
                "priority": "priority (I/O first)"}
REFERENCE = "#9a9a9a"  # diagonal and baseline references: light, dotted, unlike any policy's line
LOCK_ORDER = ("mutex", "tas", "ttas", "ticket", "adaptive", "shared-mutex", "atomic", "sharded")


def _v(case, field):
    return case.value(field)


def _rep_note(chart):
    reps = {c.median.get("repetitions") for c in chart if c.median}
    return f"each point: median of {reps.pop()} repetitions" if len(reps) == 1 and None not in reps \
        else "each point: median of the repetitions"


def _field(case, name):
    """An identity value that common.cases() does not collect (mix, layout, cpu_threads, echo_placement)."""
    for row in [case.median] + case.iterations:
        if row and row.get(name) is not None:
            return row[name]
    return case.ident.get(name)


def _range(case, field):
    """(min, max) of a field over the successful repetitions, or None with fewer than two."""
    vals = [v for v in (common.number(r.get(field)) for r in case.ok_iterations) if v is not None]
    return (min(vals), max(vals)) if len(vals) > 1 else None


def _threads_axis(ax, values):
    common.log2_axis(ax.xaxis, values, lambda v: f"{v:g}")


def _failed_notes(chart):
    return [f"failed: {common.ident_text(c)}: {c.error}" for c in chart if c.failed]


def _oversubscribed_note(chart):
    over = sorted({c.ident.get("threads") for c in chart if c.oversubscribed and c.ident.get("threads")})
    return [f"hollow markers: more threads than CPUs (oversubscribed) at {', '.join(str(t) for t in over)} threads"] \
        if over else []


def _mark(ax, x, y, color, marker, hollow):
    ax.plot([x], [y], linestyle="none", marker=marker, color=color,
            markerfacecolor="white" if hollow else color, zorder=4)


# ---- locks ---------------------------------------------------------------------------------------------------

def locks(all_cases, context):
    chart = [c for c in common.select(all_cases, experiment="locks") if not c.failed or c.iterations]
    if not chart:
        return None
    fig, (ax, axf) = common.figure(ncols=2)
    groups = {}
    for c in chart:
        groups.setdefault((c.ident.get("lock"), _field(c, "mix")), []).append(c)
    handles = []
    drawn = False
    for (lock, mix), cs in sorted(groups.items(), key=lambda kv: (style.order_key(dict.fromkeys(LOCK_ORDER), kv[0][0]),
                                                                str(kv[0][1]))):
        color = style.lock_color(lock)
        ls = "--" if mix == "write-heavy" else "-"
        label = lock + (f" ({mix})" if mix else "")
        pts = sorted((c.ident.get("threads"), _v(c, "ops_per_s"), _v(c, "fairness_spread_pct"), c) for c in cs
                     if _v(c, "ops_per_s"))
        if not pts:
            continue
        drawn = True
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color=color, linestyle=ls, zorder=3)
        axf.plot([p[0] for p in pts], [p[2] or 0 for p in pts], color=color, linestyle=ls, zorder=3)
        for t, ops, fair, c in pts:
            _mark(ax, t, ops, color, "o", c.oversubscribed)
            _mark(axf, t, fair or 0, color, "o", c.oversubscribed)
        handles.append(Line2D([], [], color=color, linestyle=ls, marker="o", label=label))
    if not drawn:
        return common.discard(fig)
    threads = [c.ident.get("threads") for c in chart]
    for a in (ax, axf):
        _threads_axis(a, threads)
        a.set_xlabel("threads")
    ax.set_yscale("log")
    common.log_axis(ax.yaxis, style.RATE)
    ax.set_ylabel("operations per second, all threads\n(higher is better)")
    ax.set_title("throughput", loc="left")
    axf.set_ylabel("spread of per-thread operations\n(max - min) / mean, 0% = fair")
    axf.yaxis.set_major_formatter(style.formatter(lambda v: f"{v:.0f}%"))
    axf.set_ylim(bottom=0)
    axf.set_title("fairness", loc="left")
    axf.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, title="lock")
    cs_ns = context.get("cs_ns")
    common.finish(fig, "Locks: throughput and fairness vs threads", context,
                  f"each operation: {style.fmt_time(cs_ns or 0)} of work under the lock, as much outside it; "
                  f"atomic and sharded do the same work without a lock · {_rep_note(chart)}",
                  _failed_notes(chart) + _oversubscribed_note(chart))
    return fig


# ---- false sharing -------------------------------------------------------------------------------------------

def false_sharing(all_cases, context):
    chart = common.select(all_cases, experiment="false-sharing")
    if not chart:
        return None
    threads = sorted({c.ident.get("threads") for c in chart if c.ident.get("threads")})
    layouts = ("adjacent", "padded")
    colors = {"adjacent": "#d62728", "padded": "#2ca02c"}
    fig, (ax,) = common.figure()
    width = 0.38
    drawn = False
    for i, layout in enumerate(layouts):
        for j, t in enumerate(threads):
            c = next((c for c in chart if _field(c, "layout") == layout and c.ident.get("threads") == t), None)
            v = _v(c, "ops_per_s") if c else None
            if not v:
                continue
            drawn = True
            x = j + (i - 0.5) * width
            ax.bar(x, v, width=width * 0.95, color=colors[layout], label=layout if j == 0 else None,
                   hatch="//" if c.oversubscribed else None, edgecolor="white")
            ax.annotate(style.fmt_rate(v), (x, v), xytext=(0, 3), textcoords="offset points", ha="center",
                        va="bottom", fontsize=style.current()["small"])
    if not drawn:
        return common.discard(fig)
    ax.set_xticks(range(len(threads)), [f"{t} thread{'s' if t != 1 else ''}" for t in threads])
    ax.yaxis.set_major_formatter(style.RATE)
    ax.set_ylabel("increments per second, all threads\n(higher is better)")
    ax.grid(axis="x", visible=False)
    ax.legend(title="counters", loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False,
              labels=["adjacent (one cache line)", "padded (one line each)"],
              handles=[Line2D([], [], color=colors[l], linewidth=10) for l in layouts])
    common.finish(fig, "False sharing: adjacent vs padded counters", context,
                  f"each thread increments its own counter; adjacent: 8-byte counters side by side in one cache "
                  f"line; padded: 128 bytes apart · {_rep_note(chart)}",
                  _failed_notes(chart) + (["hatched: more threads than CPUs"] if any(c.oversubscribed for c in chart)
                                          else []))
    return fig


CPYTHON_COLOR = "#d62728"


def _policy_key(case):
    """The policy a row is drawn under: the real interpreter's rows (runtime cpython-X.Y) as one of their own."""
    runtime = str(case.ident.get("runtime") or "cpp")
    return runtime if runtime.startswith("cpython") else case.ident.get("policy")


# The real interpreter's lines: hollow diamonds on a thinner line, drawn over the emulation's, so that where the two
# agree the emulated line and its markers still show through.
REAL_LOOK = {"marker": "D", "markerfacecolor": "none", "markersize": 12, "markeredgewidth": 2, "linewidth": 1.8}


def _runtime_label(key):
    """"real CPython 3.11" from the runtime "cpython-3.11"."""
    name, _, version = key.partition("-")
    return f"real {'CPython' if name == 'cpython' else name} {version}".strip()


def _gil_cpu_label(key, model):
    if key not in POLICY_ORDER:
        return f"{_runtime_label(key)}, {'threads' if model == 'thread' else 'processes'}"
    if model == "thread":
        return POLICY_LABEL.get(key, key) + ", threads"
    return f"processes (one GIL each, {key})"


def _gil_cpu_calibration(context):
    """What the real CPython's job was, from the context; empty where the run has none."""
    real = context.get("cpython_gil_cpu")
    if not isinstance(real, dict) or not real.get("countdown_iterations"):
        return ""
    work = style.fmt_time(context.get("gil_cpu_work_ns") or 0)
    return (f" · real CPython: a countdown of {real['countdown_iterations']:,} steps, {work} of CPU in one thread at "
            f"the {real['calibration_ns_per_iteration']:.0f} ns a step calibrated in this run")


# ---- gil-cpu -------------------------------------------------------------------------------------------------

def gil_cpu(all_cases, context):
    chart = common.select(all_cases, experiment="gil-cpu")
    if not chart:
        return None
    fig, (ax, axc) = common.figure(ncols=2, sharey=True)
    handles = []
    drawn = False
    real = sorted({_policy_key(c) for c in chart if _policy_key(c) not in POLICY_ORDER})
    # The emulated policies' threads, the emulated processes (drawn under whichever policy they ran), then the
    # real interpreter's threads and processes beside them.
    lines = [(p, "thread") for p in POLICY_ORDER] + [(None, "process")] + [(r, m) for r in real
                                                                           for m in ("thread", "process")]
    for policy, model in lines:
        cs = [c for c in chart if c.ident.get("model") == model and
              (_policy_key(c) == policy if policy is not None else _policy_key(c) in POLICY_ORDER)]
        pts = sorted((c.ident.get("threads"), _v(c, "wall_ns"), _v(c, "cpu_ns"), c) for c in cs if _v(c, "wall_ns"))
        if not pts:
            continue
        drawn = True
        is_real = policy in real
        color = CPYTHON_COLOR if is_real else "#000000" if model == "process" else style.lock_color(policy)
        ls, marker = style.model_style(model)
        marker = "D" if is_real else marker
        for a, idx in ((ax, 1), (axc, 2)):
            a.plot([p[0] for p in pts], [p[idx] for p in pts], color=color, linestyle=ls, zorder=3)
            for p in pts:
                _mark(a, p[0], p[idx], color, marker, p[3].oversubscribed)
                lo_hi = _range(p[3], "wall_ns" if idx == 1 else "cpu_ns")
                if lo_hi:
                    a.plot([p[0], p[0]], lo_hi, color=color, linewidth=1.2, alpha=0.6, zorder=2)
        label = _gil_cpu_label(policy or cs[0].ident.get("policy"), model)
        handles.append(Line2D([], [], color=color, linestyle=ls, marker=marker, label=label))
    if not drawn:
        return common.discard(fig)
    threads = [c.ident.get("threads") for c in chart]
    one = next((_v(c, "wall_ns") for c in chart if c.ident.get("threads") == 1 and c.ident.get("policy") == "none"
                and c.ident.get("model") == "thread"), None)
    for a in (ax, axc):
        _threads_axis(a, threads)
        a.set_xlabel("threads / processes")
        a.set_ylim(bottom=0)
        a.yaxis.set_major_formatter(style.TIME)
    if one:
        ax.axhline(one, color=REFERENCE, linestyle=(0, (1, 2)), linewidth=2, zorder=1)
        handles.append(Line2D([], [], color=REFERENCE, linestyle=(0, (1, 2)), linewidth=2,
                              label=f"none, 1 thread: {style.fmt_time(one)}"))
    handles.append(Line2D([], [], color="#555555", linewidth=1.2, alpha=0.6, label="whisker: min..max of reps"))
    ax.set_ylabel("time (lower is better)")
    ax.set_title("wall-clock time", loc="left")
    axc.set_title("CPU time, all threads", loc="left")
    axc.tick_params(labelleft=True)
    axc.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    work = context.get("gil_cpu_work_ns")
    common.finish(fig, "CPU-bound work: threads under each GIL vs processes", context,
                  f"the same {style.fmt_time(work or 0)} of CPU work ({style.fmt_time(context.get('tick_ns') or 0)} "
                  f"ticks) split evenly over the threads of one interpreter, or over processes with a GIL each"
                  f"{_gil_cpu_calibration(context)} · {_rep_note(chart)}",
                  _failed_notes(chart) + _oversubscribed_note(chart))
    return fig


# ---- gil-convoy ----------------------------------------------------------------------------------------------

def gil_convoy(all_cases, context):
    chart = [c for c in common.select(all_cases, experiment="gil-convoy")]
    if not chart:
        return None
    intervals = sorted({c.ident.get("switch_interval_us") for c in chart
                        if c.ident.get("switch_interval_us") and _field(c, "cpu_threads")})
    if not intervals:
        return None
    xs_ns = [i * 1e3 for i in intervals]
    fig, axes = common.figure(ncols=2, sharey=True)
    handles = []
    starved = []
    cpu_counts = sorted({_field(c, "cpu_threads") for c in chart if _field(c, "cpu_threads")})
    styles = {k: s for k, s in zip(cpu_counts, ("-", "--", ":", "-."))}
    real = sorted({_policy_key(c) for c in chart if _policy_key(c) not in POLICY_ORDER})
    for policy in list(POLICY_ORDER) + real:
        color = CPYTHON_COLOR if policy in real else style.lock_color(policy)
        for k in cpu_counts:
            cs = [c for c in chart if _policy_key(c) == policy and _field(c, "cpu_threads") == k]
            if not cs:
                continue
            # Starved in every repetition: no percentile to draw.
            starved += [c for c in cs if _v(c, "rtt_p50_ns") is None and not c.failed]
            for ax, field in zip(axes, ("rtt_p50_ns", "rtt_p99_ns")):
                if len(cs) == 1 and cs[0].ident.get("switch_interval_us") in (None, 0) or policy in ("none", "old"):
                    # No switch interval: a flat line across the sweep.
                    v = _v(cs[0], field)
                    if v:
                        ax.plot([xs_ns[0], xs_ns[-1]], [v, v], color=color, linestyle=styles[k], zorder=3)
                    continue
                pts = sorted((c.ident["switch_interval_us"] * 1e3, _v(c, field)) for c in cs if _v(c, field))
                look = dict(REAL_LOOK, zorder=4) if policy in real else {"marker": "o", "zorder": 3}
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], color=color, linestyle=styles[k], **look)
            look = REAL_LOOK if policy in real else {"marker": None if policy in ("none", "old") else "o"}
            handles.append(Line2D([], [], color=color, linestyle=styles[k],
                                  label=f"{_runtime_label(policy) + ' (new GIL)' if policy in real else policy}, "
                                        f"{k} CPU-bound thread{'s' if k != 1 else ''}", **look))
    alone = next((c for c in chart if _field(c, "cpu_threads") == 0 and c.ident.get("policy") == "none"), None)
    for ax, title in zip(axes, ("p50 (median)", "p99 (1 in 100 is slower)")):
        lo, hi = xs_ns[0], xs_ns[-1]
        ax.plot([lo, hi], [lo, hi], color=REFERENCE, linestyle=(0, (1, 2)), linewidth=2, zorder=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(xs_ns, [style.fmt_time(x) for x in xs_ns])
        ax.xaxis.set_minor_locator(common.NullLocator())
        ax.set_xlabel("switch interval")
        ax.set_title(title, loc="left")
    base = _v(alone, "rtt_p50_ns") if alone else None
    if base:
        axes[0].axhline(base, color="#222222", linestyle=(0, (1, 1)), linewidth=1.5, zorder=1)
    for ax in axes:
        common.log_axis(ax.yaxis, style.TIME)
    axes[1].tick_params(labelleft=True)
    axes[0].set_ylabel("I/O thread's echo round trip\n(lower is better)")
    handles.append(Line2D([], [], color=REFERENCE, linestyle=(0, (1, 2)), linewidth=2,
                          label="diagonal: round trip = interval"))
    if base:
        handles.append(Line2D([], [], color="#222222", linestyle=(0, (1, 1)), linewidth=1.5,
                              label=f"alone, no GIL: p50 {style.fmt_time(base)}"))
    axes[1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    notes = _failed_notes(chart)
    if starved:
        def where(c):
            sw = c.ident.get("switch_interval_us")
            return f"{c.ident.get('policy')}, {_field(c, 'cpu_threads')} CPU-bound" + \
                (f", {style.fmt_time(sw * 1e3)}" if sw and c.ident.get("policy") in ("new", "priority") else "")
        notes.append("not drawn, starved (no measured round trip while the CPU-bound threads ran): " +
                     "; ".join(where(c) for c in starved))
    common.finish(fig, "GIL convoy: I/O round trip vs switch interval", context,
                  "64-byte echo round trips over a socketpair, the GIL released for each send and recv, beside "
                  "CPU-bound threads · switch interval = sys.setswitchinterval; none and old have none (flat) · " +
                  _rep_note(chart), notes)
    return fig


# ---- gil-placement -------------------------------------------------------------------------------------------

def gil_placement(all_cases, context):
    chart = common.select(all_cases, experiment="gil-placement")
    if not chart:
        return None
    policies = [p for p in POLICY_ORDER if any(c.ident.get("policy") == p for c in chart)]
    combos = [("same", "same"), ("same", "cross"), ("cross", "same"), ("cross", "cross")]
    colors = {("same", "same"): "#4d4d4d", ("same", "cross"): "#9467bd", ("cross", "same"): "#17becf",
              ("cross", "cross"): "#ff7f0e"}
    labels = {("same", "same"): "same / same (all on one core)",
              ("same", "cross"): "same / other",
              ("cross", "same"): "other / same",
              ("cross", "cross"): "other / other (as gil-convoy)"}
    fig, (ax,) = common.figure()
    width = 0.8 / len(combos)
    drawn = False
    for i, p in enumerate(policies):
        for j, combo in enumerate(combos):
            c = next((c for c in chart if c.ident.get("policy") == p and c.ident.get("placement") == combo[0]
                      and _field(c, "echo_placement") == combo[1]), None)
            if c is None:
                continue
            p50, p99 = _v(c, "rtt_p50_ns"), _v(c, "rtt_p99_ns")
            x = i + (j - (len(combos) - 1) / 2) * width
            if not p50:
                ax.annotate("failed" if c.failed else "starved", (x, 0.02), xycoords=("data", "axes fraction"),
                            ha="center", rotation=90, fontsize=style.current()["small"])
                continue
            drawn = True
            ax.bar(x, p50, width=width * 0.92, color=colors[combo], label=labels[combo] if i == 0 else None)
            if p99:
                ax.plot([x, x], [p50, p99], color="#222222", linewidth=1.5, zorder=4)
                ax.plot([x], [p99], marker="_", color="#222222", markersize=12, markeredgewidth=2, zorder=4)
    if not drawn:
        return common.discard(fig)
    ax.set_yscale("log")
    common.log_axis(ax.yaxis, style.TIME)
    ax.set_xticks(range(len(policies)), policies)
    ax.set_xlabel("GIL policy")
    ax.grid(axis="x", visible=False)
    ax.set_ylabel("I/O thread's echo round trip\n(bar p50, whisker to p99; lower is better)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False,
              title="core of the CPU-bound thread /\nof the echo peer, relative\nto the I/O thread's (pinned)")
    sw = context.get("default_switch_interval_us")
    common.finish(fig, "GIL convoy by placement: same core vs other core", context,
                  f"one CPU-bound thread beside the I/O thread · switch interval {style.fmt_time((sw or 0) * 1e3)} "
                  f"(new, priority) · {_rep_note(chart)}", _failed_notes(chart))
    return fig


CHARTS = {
    "contention_locks": locks,
    "contention_false_sharing": false_sharing,
    "contention_gil_cpu": gil_cpu,
    "contention_gil_convoy": gil_convoy,
    "contention_gil_placement": gil_placement,
}


def plot(doc, run_dir, formats):
    """Draws every contention chart that has data; returns the written paths."""
    return common.draw_suite(doc, run_dir, formats, "contention", CHARTS)
