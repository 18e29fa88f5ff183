"""Lesson 8, the convoy: an I/O thread's echo round trips beside a CPU-bound thread under the new GIL, at its
switch interval, against the same threads without a GIL (bench run contention, experiment gil-convoy)."""
from .. import common, style
from . import facts, slide

NAME = "convoy"
TITLE = "The convoy: I/O beside a CPU-bound thread"
NEEDS = "gil-convoy rows of the contention suite: policy new and none, beside one CPU-bound thread"
FLAGS = "bench run contention --filter experiment:gil-convoy --switch-interval 5ms"
PERCENTILES = (("rtt_p50_ns", "p50"), ("rtt_p90_ns", "p90"), ("rtt_p99_ns", "p99"), ("rtt_max_ns", "max"))
COLORS = {"none": "#4d4d4d", "new": "#1f77b4", "alone": "#2ca02c", "priority": "#ff7f0e", "cpython": "#d62728"}


def cpu_threads(case):
    """The CPU-bound threads beside the I/O thread."""
    return facts.field(case, "cpu_threads")


def _interval(cases, context):
    """The switch interval to show: the suite's default where the rows have it, else the longest they have."""
    have = sorted({c.ident.get("switch_interval_us") for c in cases if c.ident.get("policy") == "new"
                   and c.ident.get("switch_interval_us")})
    default = context.get("default_switch_interval_us")
    return default if default in have else (have[-1] if have else None)


def _real(case):
    """A row of the real interpreter (runtime cpython-X.Y) rather than bench's emulation."""
    return str(case.ident.get("runtime") or "cpp").startswith("cpython")


def select(cases, context):
    convoys = [c for c in cases if c.ident.get("experiment") == "gil-convoy"]
    pool = [c for c in convoys if not _real(c)]
    interval = _interval(pool, context)

    def one(policy, threads, timed):
        return next((c for c in pool if c.ident.get("policy") == policy and cpu_threads(c) == threads
                     and (not timed or c.ident.get("switch_interval_us") == interval)), None)

    new, free = one("new", 1, True), one("none", 1, False)
    if interval is None or new is None or free is None:
        return []
    # The real CPython beside the emulation, at the same interval with one CPU-bound thread, where the run has it.
    real = next((c for c in convoys if _real(c) and cpu_threads(c) == 1 and c.ident.get("switch_interval_us") == interval),
                None)
    return [c for c in (free, new, one("priority", 1, True), one("new", 0, True), real) if c]


def cannot_show(chosen, context):
    return None


def _label(case):
    policy, k = case.ident.get("policy"), cpu_threads(case)
    interval = style.fmt_time(case.ident["switch_interval_us"] * 1e3) if case.ident.get("switch_interval_us") else ""
    if _real(case):
        return f"real {_runtime(case)}, {interval}"
    if policy == "none":
        return "no GIL, beside a CPU-bound thread"
    if k == 0:
        return f"new GIL, {interval}, alone"
    return {"new": f"new GIL, {interval}", "priority": f"GIL with I/O priority, {interval}"}.get(policy, policy)


def _runtime(case):
    """"CPython 3.11" from the row's runtime "cpython-3.11"."""
    name, _, version = str(case.ident.get("runtime")).partition("-")
    return f"{'CPython' if name == 'cpython' else name} {version}".strip()


def _starved(case):
    return facts.measured(case, "rtt_p50_ns") is None


def headline(chosen, context):
    free, new = chosen[0], chosen[1]
    interval = style.fmt_time(new.ident["switch_interval_us"] * 1e3)
    if _starved(new):
        return (f"Beside a CPU-bound thread the new GIL ({interval} interval) starved the I/O thread: no round trip "
                f"completed, against {style.fmt_time(free.value('rtt_p50_ns'))} p50 without a GIL")
    r, noise = facts.ratio(new, free, "rtt_p50_ns")
    r99, noise99 = facts.ratio(new, free, "rtt_p99_ns")
    p99 = (f"; p99 {'within noise' if noise99 else facts.times(r99)}: {style.fmt_time(new.value('rtt_p99_ns'))} "
           f"against {style.fmt_time(free.value('rtt_p99_ns'))}") if r99 else ""
    real = next((c for c in chosen if _real(c) and not _starved(c)), None)
    beside = (f"; real {_runtime(real)}'s p99 {style.fmt_time(real.value('rtt_p99_ns'))}"
              if real and real.value("rtt_p99_ns") else "")
    if noise:
        return f"Beside a CPU-bound thread the new GIL's median round trip is within noise of no GIL{p99}{beside}"
    return (f"Beside a CPU-bound thread, the new GIL ({interval} interval) made the I/O thread's median round trip "
            f"{facts.times(r)} that without a GIL ({style.fmt_time(new.value('rtt_p50_ns'))} against "
            f"{style.fmt_time(free.value('rtt_p50_ns'))}){p99}{beside}")


def notes(chosen, context):
    return ("One thread echoes small messages over a socket and releases the GIL around every send and receive, "
            "as Python does; beside it a thread only computes. Under the new GIL the CPU-bound thread keeps the "
            "lock until the switch interval (sys.setswitchinterval, dashed) runs out and the waiting I/O thread "
            "asks for it, so every time the I/O thread needs the GIL back it may wait up to a whole interval. "
            "Each line is one round-trip distribution: its median, p90, p99 and the slowest, with the "
            "repetitions' range as whiskers. Point at how far the new GIL's tail climbs towards the interval while "
            "the no-GIL line stays flat. Where the run has it, the red line is Python itself (the same echo loop "
            "written in Python, sys.setswitchinterval at the same interval): what the emulation is a model of.")


def draw(sl, chosen, context):
    (ax,) = sl.axes()
    entries, starved = [], []
    for c in chosen:
        key = ("cpython" if _real(c) else "none" if c.ident.get("policy") == "none"
               else "alone" if cpu_threads(c) == 0 else c.ident.get("policy"))
        if _starved(c):
            starved.append(_label(c))
            continue
        pts = [(i, facts.measured(c, f), slide.reps_range(c, f)) for i, (f, _) in enumerate(PERCENTILES)]
        # Categorical x: whiskers, not a band between percentiles. The real interpreter's line is dashed with open
        # markers: where it agrees with the emulation it lies on top of it, and the emulated line must still show.
        real = key == "cpython"
        entries.append(slide.series(ax, [p for p in pts if p[1]], COLORS.get(key, "#7f7f7f"), _label(c),
                                     linestyle=(0, (6, 4)) if real else "-", marker="D" if real else "o", band=False))
        for i, v, span in pts:
            if v and span:
                ax.errorbar([i], [v], yerr=[[v - span[0]], [span[1] - v]], color=COLORS.get(key, "#7f7f7f"),
                            capsize=8, linewidth=2, zorder=4)
    interval = chosen[1].ident["switch_interval_us"] * 1e3
    slide.reference(ax, interval, f"switch interval: {style.fmt_time(interval)}")
    ax.set_xticks(range(len(PERCENTILES)), [name for _, name in PERCENTILES])
    ax.set_xlim(-0.3, len(PERCENTILES) - 0.7)
    slide.log_y(ax, style.TIME)
    slide.log_pad(ax, 2)
    common.log_axis(ax.yaxis, style.TIME)
    ax.set_xlabel("percentile of the I/O thread's echo round trips")
    ax.set_ylabel("round trip")
    if starved:
        ax.annotate("not drawn, starved (no round trip completed): " + "; ".join(starved), (0.01, 0.02),
                    xycoords="axes fraction", fontsize=slide.PT["reference"], color=slide.CAVEAT)
    slide.end_labels(ax, entries)
