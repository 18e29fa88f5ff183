"""The pairs sweep of a run whose servers did CPU work per message (--work), under a lock (--lock): where the
ways of serving many clients stop scaling.

Drawn in place of the plain "throughput vs pairs per transport" chart when the run has work or a lock (ipc.py
hands it over). One panel per (transport, lock), the panels of a row sharing their y axis; one line per model,
coloured by model. What a viewer compares each line with:
  - a dotted line in the model's colour: perfect scaling, the model's own 1-pair rate times the pairs;
  - dashed grey lines: the CPUs' capacity for the work alone (online CPUs x 1 / work) and, under a lock, one
    CPU's (one holder at a time: all a lock shared by the threads of one process can let through);
  - a vertical line at the number of online CPUs (a server per CPU).
The lock is one per server process (the README, --lock): the threads of the thread model share it, each forked
server has its own, and an event loop's single thread never waits for it.
"""
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from . import common, style

LOCK_ORDER = ("none", "mutex", "gil-old", "gil-new", "gil-priority")
LOCK_LABEL = {"none": "no lock", "mutex": "one mutex", "gil-old": "old GIL (Python 2)",
              "gil-new": "new GIL (Python 3.2+)", "gil-priority": "GIL with I/O priority"}
LOCK_SHORT = {"none": "no lock", "mutex": "mutex", "gil-old": "old GIL", "gil-new": "new GIL",
              "gil-priority": "GIL, I/O first"}  # panel titles when three panels share a row
# Colour per model in this chart only: each panel is one transport, so the transport colours would all be one.
MODEL_COLORS = {"thread": "#d62728", "process": "#1f77b4", "async": "#2ca02c", "async-uring": "#9467bd"}
REFERENCE = "#7a7a7a"


def lock_of(case):
    """The case's lock; results written before --lock existed have none."""
    return str(case.ident.get("lock") or "none")


def applies(chart):
    """True when the sweep's servers did work per message or ran it under a lock."""
    return any((c.ident.get("work_ns") or 0) > 0 or lock_of(c) != "none" for c in chart)


def _model_color(model):
    return MODEL_COLORS.get(model) or style.transport_color(model)


def _work_ns(chart):
    work = {c.ident.get("work_ns") or 0 for c in chart}
    return work.pop() if len(work) == 1 else None


def servers_on_one_cpu(chart):
    """The one CPU every thread or process server of the multi-pair cases was seen on (row field server_cpus,
    "1;1" for two pairs), or None. Then no model could scale: with placement cross on 2 CPUs the clients take
    one, the servers the other. (An event loop is one thread: its servers always share a CPU.)"""
    seen = set()
    for c in chart:
        if (c.ident.get("pairs") or 1) < 2 or str(c.ident.get("model")).startswith("async"):
            continue
        for row in c.ok_iterations:
            seen |= {cpu for pair in str(row.get("server_cpus") or "").split(";") for cpu in pair.split(",") if cpu}
    return seen.pop() if len(seen) == 1 else None


def _one_cpu_note(chart, context, short=False):
    """A footnote (short) or a sentence when every server shared one CPU."""
    cpu = servers_on_one_cpu(chart)
    if cpu is None:
        return []
    cross = context.get("placement") == "cross"
    if short:
        return [f"every server ran on CPU {cpu}: no model could scale" + (" (placement cross; try --placement same)"
                                                                          if cross else "")]
    why = (" (placement cross: the clients took the other CPUs; --placement same gives each pair a CPU of its own)"
           if cross else "")
    return [f"Every server of more than one pair ran on CPU {cpu}, so no model could scale here{why}."]


def _panels(chart):
    """[(transport, lock, cases)] in display order: transports as elsewhere, locks as on the command line."""
    transports = sorted({str(c.ident.get("transport")) for c in chart},
                        key=lambda t: style.order_key(style.TRANSPORT_COLORS, t))
    locks = sorted({lock_of(c) for c in chart}, key=lambda lk: style.order_key(dict.fromkeys(LOCK_ORDER), lk))
    return [(t, lk, [c for c in chart if str(c.ident.get("transport")) == t and lock_of(c) == lk])
            for t in transports for lk in locks], len(locks)


def _lines(cases):
    """{model: [(pairs, msgs/s, case)] sorted by pairs} of the measured cases, and the failed ones."""
    lines, failed = {}, []
    for c in cases:
        pairs, rate = c.ident.get("pairs"), c.value("msgs_per_s")
        if c.failed:
            failed.append(c)
        elif pairs and rate and rate > 0:
            lines.setdefault(c.ident.get("model"), []).append((pairs, rate, c))
    for points in lines.values():
        points.sort(key=lambda p: p[0])
    order = sorted(lines, key=lambda m: style.order_key(style.MODEL_STYLES, m))
    return {m: lines[m] for m in order}, failed


def _draw_panel(ax, cases, drawn):
    lines, failed = _lines(cases)
    bottom = blended_transform_factory(ax.transData, ax.transAxes)
    for model, points in lines.items():
        color, (ls, marker) = _model_color(model), style.model_style(model)
        xs = [p[0] for p in points]
        ax.plot(xs, [p[1] for p in points], color=color, linestyle=ls, zorder=3)
        for x, y, c in points:
            hollow = c.oversubscribed
            drawn["hollow"] |= hollow
            ax.plot([x], [y], linestyle="none", marker=marker, color=color, zorder=4,
                    markerfacecolor="white" if hollow else color)
            if c.unstable:
                drawn["unstable"] = True
                ax.annotate("?", (x, y), xytext=(0, 7), textcoords="offset points", ha="center", va="bottom",
                            color=color, fontweight="bold", zorder=6)
            if c.failed_repetitions:
                drawn["notes"].append(f"{common.case_label(c)}: {c.failed_repetitions} repetitions failed "
                                      f"({c.error}), value from the others")
        if points[0][0] == 1 and len(points) > 1:
            one = points[0][1]
            ax.plot(xs, [one * x for x in xs], color=color, linestyle=(0, (1, 2)), alpha=0.7,
                    linewidth=style.current()["line"] * 0.6, zorder=2)
            drawn["ideal"] = True
        drawn["models"].setdefault(model, None)
    for c in failed:
        pairs = c.ident.get("pairs")
        if pairs:
            ax.plot([pairs], [0.02], transform=bottom, marker="x", color=_model_color(c.ident.get("model")),
                    linestyle="none", clip_on=False, markersize=style.current()["marker"] * 1.8,
                    markeredgewidth=style.current()["line"], zorder=5)
        drawn["failed"].append(c)
        drawn["models"].setdefault(c.ident.get("model"), None)
    return bool(lines)


def _capacity_lines(ax, lock, work_ns, cpus, compact):
    """The CPUs' capacity for the work alone, and one CPU's under a lock, written on the lines."""
    if not work_ns:
        return
    refs = []
    if cpus:
        refs.append((cpus * 1e9 / work_ns, f"{cpus} CPUs" if compact else f"{cpus} CPUs, work alone"))
    if lock != "none":
        refs.append((1e9 / work_ns, "1 holder" if compact else "one holder at a time"))
    for y, label in refs:
        ax.axhline(y, color=REFERENCE, linestyle=(0, (2, 2)), linewidth=style.current()["line"] * 0.8, zorder=1)
        ax.annotate(f"{label}: {style.fmt_rate(y)}/s", (0.01, y), xycoords=("axes fraction", "data"), xytext=(0, 3),
                    textcoords="offset points", ha="left", va="bottom", color="#333333",
                    fontsize=style.current()["small"] * (0.85 if compact else 1.0), zorder=7,
                    bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.0})


def _cpus_in_sweep(cpus, pairs):
    """The sweep comes near as many pairs as online CPUs (within one doubling): worth a vertical line."""
    return bool(cpus and pairs and cpus <= 2 * max(pairs))


CPUS_LINE = {"color": "#c8c8c8", "linewidth": 6, "alpha": 0.8}


def _cpus_line(ax, cpus):
    """A broad pale vertical line at as many pairs as online CPUs (explained in the legend: no text on the data)."""
    ax.axvline(cpus, zorder=1, **CPUS_LINE)


def _legend(ax, drawn, cpus, inside=False):
    """Beside `ax` on the right, or, inside=True, filling `ax` (an empty slot of the grid)."""
    width = style.current()["line"]
    entries = [(Line2D([], [], color=_model_color(m), linestyle=style.model_style(m)[0],
                       marker=style.model_style(m)[1]), f"{m}") for m in drawn["models"]]
    if drawn["ideal"]:
        entries.append((Line2D([], [], color="#333333", linestyle=(0, (1, 2)), linewidth=width * 0.6),
                        "perfect scaling:\n1-pair rate x pairs"))
    if cpus:
        entries.append((Line2D([], [], **CPUS_LINE), f"{cpus} pairs: as many\nservers as CPUs"))
    if drawn["hollow"]:
        entries.append((Line2D([], [], linestyle="none", marker="o", color="#333333", markerfacecolor="white"),
                        "hollow: more busy threads\nthan CPUs"))
    if drawn["unstable"]:
        entries.append((Line2D([], [], linestyle="none", marker="$?$", color="#333333"),
                        common.UNSTABLE_LEGEND))
    if drawn["failed"]:
        entries.append((Line2D([], [], linestyle="none", marker="x", color="#333333", markeredgewidth=width),
                        "failed (see note below)"))
    ax.legend([e[0] for e in entries], [e[1] for e in entries], borderaxespad=0.0, frameon=False, handlelength=2.6,
              title="server model", **common.legend_place(inside))


def pairs_scaling(chart, size, note, reps_text, context):
    """The chart (a figure, or None when nothing was measured). `chart` is the throughput pairs sweep at one
    message size, as ipc._pairs_sweep() chose it."""
    panels, nlocks = _panels(chart)
    ncols = min(nlocks, 3) if nlocks > 1 else min(len(panels), 3)
    nrows = -(-len(panels) // ncols)
    fig, axes = common.figure(ncols=ncols, nrows=nrows, sharey=True)
    compact = ncols >= 3
    if nrows > 1:
        fig.set_size_inches(fig.get_size_inches()[0], fig.get_size_inches()[1] * (0.4 + 0.6 * nrows))
    drawn = {"models": {}, "failed": [], "notes": [], "hollow": False, "unstable": False, "ideal": False}
    work_ns, cpus = _work_ns(chart), context.get("cores_available")
    pairs = [c.ident.get("pairs") for c in chart if c.ident.get("pairs")]
    with_cpus = _cpus_in_sweep(cpus, pairs)
    any_data = False
    for ax, (transport, lock, cases) in zip(axes, panels):
        any_data |= _draw_panel(ax, cases, drawn)
        label = (LOCK_SHORT if compact else LOCK_LABEL).get(lock, lock)
        ax.set_title(f"{transport}: {label}", loc="left", fontweight="bold")
        ax.set_xlabel("concurrent pairs")
        ax.tick_params(labelleft=True)
    for ax in axes[len(panels):]:
        ax.axis("off")
    if not any_data:
        return common.discard(fig)
    for ax, (transport, lock, cases) in zip(axes, panels):
        ax.set_yscale("log")
        _capacity_lines(ax, lock, work_ns, cpus, compact)
        common.log2_axis(ax.xaxis, sorted(set(pairs) | ({cpus} if with_cpus else set())), lambda v: f"{v:g}")
        if with_cpus:
            _cpus_line(ax, cpus)
    # Room above the highest line for the labels written on the reference lines (the panels share the axis).
    axes[0].autoscale_view()
    low, high = axes[0].get_ylim()
    axes[0].set_ylim(low, high * 1.6)
    for ax in axes[:len(panels)]:
        common.log_axis(ax.yaxis, style.RATE)
    for row in range(nrows):
        axes[row * ncols].set_ylabel("messages/s, all pairs\n(higher is better)")
    spare = len(panels) < len(axes)
    _legend(axes[-1] if spare else axes[ncols - 1], drawn, cpus if with_cpus else None, inside=spare)

    work = f"{style.fmt_time(work_ns)} of work per message" if work_ns else "server work per message"
    title = f"Where servers stop scaling: {work}"
    cpus_text = "" if with_cpus or not cpus else f" · {cpus} CPUs online (beyond the sweep)"
    caption = (f"{style.fmt_size(size)} messages one way, each pair a client and a server; messages/s of all pairs, "
               f"timed at the receivers · one lock per server process: the threads of one process share it, "
               f"processes do not · {reps_text}{cpus_text}")
    notes = _one_cpu_note(chart, context, short=True) + [f"failed: {common.case_label(c)}: {c.error}" for c in drawn["failed"]] \
        + drawn["notes"]
    common.finish(fig, title, context, caption, list(dict.fromkeys(notes)) + ([note] if note else []))
    return fig


# ---- the words under the chart in the report -----------------------------------------------------------------

def _gain(points):
    """(rate at 1 pair, pairs at the end, rate at the end, the pairs up to which every doubling added at least
    25%) of a line that starts at 1 pair, or None."""
    if len(points) < 2 or points[0][0] != 1:
        return None
    scaled_to = 1
    for (p0, r0, _), (p1, r1, _) in zip(points, points[1:]):
        if p1 != 2 * p0 or r1 < 1.25 * r0:
            break
        scaled_to = p1
    return points[0][1], points[-1][0], points[-1][1], scaled_to


_SERVERS = {"thread": "the thread servers", "process": "the process servers", "async": "the Asio event loop",
            "async-uring": "the io_uring event loop"}


def _lock_sentence(transport, lock, lines):
    """How far each model's messages/s grew from 1 pair to the most pairs under one lock."""
    grown = [(model, g) for model, g in ((m, _gain(points)) for m, points in lines.items()) if g]
    if not grown:
        return None
    end = max(g[1] for _, g in grown)
    parts = [f"{style.fmt_factor(rn / r1)} for {_SERVERS.get(model, f'the {model} servers')}"
             + (f" ({style.fmt_rate(r1)} to {style.fmt_rate(rn)}/s)" if n == 0 else "")
             + ("" if last == end else f" (to {last} pairs)")
             for n, (model, (r1, last, rn, _)) in enumerate(grown)]
    return (f"On {transport} with {LOCK_LABEL.get(lock, lock)}, going from 1 to {end} pairs took messages/s to "
            + ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
            + f" (perfect scaling: {end}x).")


def _stop_sentence(locks):
    """Where the thread servers stopped scaling under each lock: the last doubling of the pairs that still added
    25% or more."""
    stops = [(lock, _gain(lines["thread"])) for lock, lines in locks.items() if _gain(lines.get("thread", []))]
    if not stops:
        return None
    words = [f"{'never scaled' if g[3] == 1 else f'stopped after {g[3]} pairs'} with {LOCK_LABEL.get(lock, lock)}"
             if g[3] < g[1] else f"still scaled at {g[1]} pairs with {LOCK_LABEL.get(lock, lock)}"
             for lock, g in stops]
    return ("Counting a doubling of the pairs that adds less than 25% as the end of scaling, the thread servers "
            + ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1] + ".")


def describe(chart, context):
    """At most four sentences, computed from the same cases the chart draws: how far each model scaled under
    each lock (the first two locks of the first transport), where the thread servers stopped scaling, and what
    the lock cost them at the most pairs."""
    panels, _ = _panels(chart)
    if not panels:
        return []
    if servers_on_one_cpu(chart) is not None:
        return _one_cpu_note(chart, context)
    transport = panels[0][0]
    locks = {lock: _lines(cases)[0] for t, lock, cases in panels if t == transport}
    said = [s for s in (_lock_sentence(transport, lock, lines) for lock, lines in locks.items()) if s][:2]
    stop = _stop_sentence(locks)
    if stop:
        said.append(stop)
    free, locked = locks.get("none", {}).get("thread"), [lk for lk in locks if lk != "none" and locks[lk].get("thread")]
    if free and locked and len(said) < 4:
        held = locks[locked[0]]["thread"]
        both = {p for p, _, _ in free} & {p for p, _, _ in held}
        if both:
            p = max(both)
            a = next(r for q, r, _ in free if q == p)
            b = next(r for q, r, _ in held if q == p)
            said.append(f"With {p} pairs the thread servers under {LOCK_LABEL.get(locked[0], locked[0])} delivered "
                        f"{style.fmt_factor(b / a)} their messages/s without a lock ({style.fmt_rate(b)}/s against "
                        f"{style.fmt_rate(a)}/s), in the same run.")
    work, cpus = _work_ns(chart), context.get("cores_available")
    if len(said) < 4 and work and cpus:
        said.append(f"{cpus} CPUs doing nothing but the {style.fmt_time(work)} of work per message could handle "
                    f"{style.fmt_rate(cpus * 1e9 / work)} messages/s, one CPU {style.fmt_rate(1e9 / work)}.")
    return said
