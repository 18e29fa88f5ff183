"""CPU time against latency for the fast end of the ipc suite (issue 3): what spinning buys and what it costs.

One point per (transport, model, wait) among the shared-memory rings, mmap, eventfd and pipe: x is the MEAN
round trip of the smallest message each one ran, one pair; y is the CPU time of BOTH ends (the client thread and
the server thread or process, user + system) per round trip, from the results' cpu_ns_per_msg: the CPU of every
thread of the case's processes over the measured window only, per round trip measured (files before issue 15
counted the warm-up on both sides of the division). It is a mean, so it is set against the mean round trip (not the p50 of the other charts: a tail of
descheduled round trips would otherwise put two polling ends far above what they can burn). Two diagonals read
it: an end that polls is busy the whole round trip, so two polling ends sit on "CPU = 2 x latency"; ends that
sleep in the kernel sit below it by the time they slept.
"""
from matplotlib.ticker import LogLocator, NullFormatter

from . import common, style

TRANSPORTS = ("shm-spin", "shm", "shm-eventfd", "mmap", "eventfd", "pipe")
MODELS = ("thread", "process")  # the event loops serve many pairs from one thread: another chart's subject
WAIT_MARKERS = {"spin": "^", "adaptive": "D", "block": "o"}
WAIT_SYMBOLS = {"spin": "\u25b2", "adaptive": "\u25c6", "block": "\u25cf"}  # the markers, for the caption
WAIT_WORDS = {"spin": "polls", "adaptive": "polls 20 us, then sleeps", "block": "sleeps in the kernel"}
CPU_FIELD, RTT_FIELD = "cpu_ns_per_msg", "rtt_mean_ns"


def _wait(case):
    return str(case.ident.get("wait", "block"))


def _points(all_cases):
    """{model: [(case, rtt, cpu)]}: per (transport, model, wait) the one-pair latency case at its smallest size
    that has both figures, and the failed ones as (case, None, None)."""
    best = {}
    for c in common.select(all_cases, workload="latency", pairs=1):
        if c.ident.get("transport") not in TRANSPORTS or c.ident.get("model") not in MODELS:
            continue
        key = (c.ident["transport"], c.ident["model"], _wait(c))
        size = c.ident.get("msg_bytes") or 0
        if key not in best or size < (best[key].ident.get("msg_bytes") or 0):
            best[key] = c
    out = {}
    for (transport, model, wait), c in sorted(best.items(), key=lambda kv: (
            style.order_key(style.MODEL_STYLES, kv[0][1]), style.order_key(style.TRANSPORT_COLORS, kv[0][0]),
            kv[0][2])):
        rtt, cpu = c.value(RTT_FIELD), c.value(CPU_FIELD)
        if c.failed:
            out.setdefault(model, []).append((c, None, None))
        elif rtt and cpu and rtt > 0 and cpu > 0:
            out.setdefault(model, []).append((c, rtt, cpu))
    return out


def _spins(case):
    return _wait(case) in ("spin", "adaptive") or case.ident.get("transport") == "shm-spin"


def _interval_ns(measured):
    """The time from one round trip to the next: the pacing interval of an open-loop run (one --rate for all),
    else None (closed loop: the next round trip starts when the last ends, so the interval is the round trip)."""
    rates = {c.ident.get("rate") for c, _, _ in measured}
    rate = common.number(rates.pop()) if len(rates) == 1 else None
    return 1e9 / rate if rate else None


def _drawable(points):
    """Worth a chart: two measured points, at least one of which polls (else there is no trade-off to see)."""
    measured = [p for ps in points.values() for p in ps if p[1]]
    return len(measured) >= 2 and any(_spins(p[0]) for p in measured)


def _label(case, common_size, both_waits):
    """"pipe (spin)" where the transport ran both ways, else its name alone (the marker says how it waits)."""
    size = case.ident.get("msg_bytes")
    transport = case.ident["transport"]
    return transport + (f" ({_wait(case)})" if transport in both_waits else "") \
        + (f", {style.fmt_size(size)}" if size != common_size else "")


def _decades(axis):
    axis.set_major_locator(LogLocator(base=10, subs=(1.0,), numticks=30))
    axis.set_major_formatter(style.TIME)
    axis.set_minor_locator(LogLocator(base=10, subs="auto", numticks=30))
    axis.set_minor_formatter(NullFormatter())


def _place_labels(ax, placed, avoid=()):
    """Labels right of their points, moved down or up (in points) where they would overlap a label already placed
    or one of the artists in `avoid` (the diagonals' and the floor's texts, the pacing interval's line)."""
    fig = ax.figure
    fontsize = style.current()["small"]
    height = fontsize * 1.25
    renderer = fig.canvas.get_renderer()
    scale = 72 / fig.dpi
    boxes = []  # (x0, y0, x1, y1) in points
    for a in avoid:  # texts, and lines (a horizontal one: a box of no height across the axes)
        if not hasattr(a, "get_text") or a.get_text():
            e = a.get_window_extent(renderer)
            boxes.append((e.x0 * scale, e.y0 * scale, e.x1 * scale, e.y1 * scale))
    trans = ax.transData

    def free(box):
        return not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes)

    for x, y, text, color in sorted(placed, key=lambda p: -p[1]):
        px, py = trans.transform((x, y)) * scale
        width = max(len(line) for line in text.split("\n")) * fontsize * 0.55
        lines = text.count("\n") + 1
        shifts = [0.0] + [sign * k * height * 0.9 for k in range(1, 13) for sign in (1, -1)]

        def box(dy):
            return (px + 6, py - dy - lines * height / 2, px + 6 + width, py - dy + lines * height / 2)

        dy = next((d for d in shifts if free(box(d))), shifts[-2])
        boxes.append(box(dy))
        ax.annotate(text, (x, y), xytext=(6, -dy), textcoords="offset points", ha="left", va="center",
                    fontsize=fontsize, color=color, zorder=6,
                    arrowprops={"arrowstyle": "-", "color": color, "linewidth": 0.6} if dy else None)


def _reference_lines(ax, lo, hi, interval, floor_rtt):
    """The diagonals CPU = latency and CPU = 2 x latency, the paced interval's line and the hardware floor, with
    their labels (returned, for _place_labels to keep points' labels off them)."""
    texts = []
    # "2 x" above and left of its line near the top right; "1 x" below and right of its own near the bottom
    # left, where no point can be (nothing round-trips that fast on that little CPU).
    for factor, x_text, offset, align in ((2, hi / 5, (-4, 2), ("right", "bottom")),
                                          (1, lo * 3, (6, -2), ("left", "top"))):
        ax.plot([lo, hi], [factor * lo, factor * hi], color="#888888", linestyle=(0, (4, 3)),
                linewidth=style.current()["line"] * 0.7, zorder=1)
        # Paced, the horizontal line below says what "always busy" is; the upper diagonal is then left unnamed.
        text = ("" if interval else "CPU = 2 x latency\n(both ends always busy)") if factor == 2 \
            else ("diagonals: CPU = latency,\nCPU = 2 x latency" if interval else "CPU = latency")
        texts.append(ax.annotate(text, (x_text, factor * x_text), xytext=offset, textcoords="offset points",
                                 ha=align[0], va=align[1], fontsize=style.current()["small"], color="#666666",
                                 zorder=1))
    if interval and lo < 2 * interval < hi:
        texts.extend(common.reference_line(ax, 2 * interval, f"both ends always busy\n(2 x {style.fmt_time(interval)})"))
    # Its label goes where no point can be: far above the diagonals, at low latency.
    if floor_rtt and lo < floor_rtt < hi:
        ax.axvline(floor_rtt, color="#666666", linestyle=(0, (2, 2)), linewidth=style.current()["line"] * 0.8,
                   zorder=1)
        texts.append(ax.annotate(f"cache-line round trip\n(hardware floor):\n{style.fmt_time(floor_rtt)}",
                                 (floor_rtt, 0.75), xycoords=("data", "axes fraction"), xytext=(3, 0),
                                 textcoords="offset points", ha="left", va="center",
                                 fontsize=style.current()["small"], color="#444444", zorder=1))
    return texts


def cpu_vs_latency(all_cases, context):
    points = _points(all_cases)
    if not _drawable(points):
        return None
    models = [m for m in MODELS if m in points]
    fig, axes = common.figure(ncols=len(models), sharey=True)
    measured = [p for m in models for p in points[m] if p[1]]
    sizes = [p[0].ident.get("msg_bytes") for p in measured]
    common_size = max(set(sizes), key=sizes.count)
    xs = [p[1] for p in measured]
    ys = [p[2] for p in measured]
    floor_rtt, _ = common.latency_floor(context)
    interval = _interval_ns(measured)  # paced: polling ends burn the whole interval, not just the round trip
    lo = min(xs + ys + ([floor_rtt] if floor_rtt else [])) / 2
    hi = max(xs + ys + ([2 * interval] if interval else [])) * 3
    failed, hollow = [], False
    waits = {}
    for c, _, _ in measured:
        waits.setdefault(c.ident["transport"], set()).add(_wait(c))
    both_waits = {t for t, w in waits.items() if len(w) > 1}
    for ax, model in zip(axes, models):
        labels, texts = [], []
        for c, rtt, cpu in points[model]:
            if rtt is None:
                failed.append(c)
                continue
            color = style.transport_color(c.ident["transport"])
            over = c.oversubscribed
            hollow |= over
            ax.plot([rtt], [cpu], linestyle="none", marker=WAIT_MARKERS.get(_wait(c), "o"), color=color,
                    markerfacecolor="white" if over else color, markersize=style.current()["marker"] * 1.5,
                    zorder=4)
            labels.append((rtt, cpu, _label(c, common_size, both_waits), color))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        texts.extend(_reference_lines(ax, lo, hi, interval, floor_rtt))
        _decades(ax.xaxis)
        _decades(ax.yaxis)
        ax.set_title({"thread": "threads", "process": "processes"}[model] if len(models) > 1 else model, loc="left",
                     fontweight="bold")
        ax.set_xlabel("mean round trip time")
        ax.tick_params(labelleft=True)
        _place_labels(ax, labels, texts)
    axes[0].set_ylabel("CPU time per round trip, both ends")
    # The markers are explained in the caption: a legend beside the panels would squeeze them out of square.
    shown = {_wait(c) for c, _, _ in measured}
    markers = " ".join(f"{WAIT_SYMBOLS[w]} {WAIT_WORDS[w]}," for w in WAIT_MARKERS if w in shown).rstrip(",")
    if hollow:
        markers += ", hollow: oversubscribed"
    load = (f"paced at {style.fmt_rate(1e9 / interval)} round trips/s (open loop)" if interval
            else "back-to-back ping-pong (closed loop)")
    reps = {c.median.get("repetitions") for c, _, _ in measured if c.median}
    each = f"median of {reps.pop()} repetitions" if len(reps) == 1 and None not in reps else "median of the repetitions"
    notes = [f"failed: {common.case_label(c)}: {c.error}" for c in failed]
    common.finish(fig, "CPU time vs latency: what spinning buys and what it costs", context,
                  f"{style.fmt_size(common_size)} messages, one pair, {load} · the receiver {markers} · CPU = every "
                  f"thread of both ends' processes over the measured window, user + system, per round trip, against the mean round trip "
                  f"(CPU per round trip is a mean too) · each point: {each}", notes)
    return fig


def describe(all_cases, context):
    """Two or three sentences for the report, computed from the points the chart draws."""
    points = _points(all_cases)
    if not _drawable(points):
        return []
    measured = [p for ps in points.values() for p in ps if p[1]]

    def who(c):
        model = {"thread": "between threads", "process": "between processes"}.get(c.ident.get("model"), "")
        return f"{c.ident['transport']} {model} ({WAIT_WORDS.get(_wait(c), _wait(c))})"

    fast, fast_rtt, fast_cpu = min(measured, key=lambda p: p[1])
    interval = _interval_ns(measured)

    def busy(case, rtt, cpu):
        """CPUs busy on average: the row's own CPU over its measured window (cpus_busy), else (older files) CPU time
        over the time from one round trip to the next."""
        given = case.value("cpus_busy")
        return given if given is not None else cpu / (interval or rtt)

    dear, dear_rtt, dear_cpu = max(measured, key=lambda p: p[2])
    size = style.fmt_size(fast.ident.get("msg_bytes") or 0)
    said = [f"The fastest {size} round trip here (mean), {style.fmt_time(fast_rtt)} for {who(fast)}, cost "
            f"{style.fmt_time(fast_cpu)} of CPU on its two ends per round trip: {busy(fast, fast_rtt, fast_cpu):.2f} CPUs busy "
            f"on average while it ran (2 would be both ends busy all the time)."]
    if dear_cpu > fast_cpu:
        said.append(f"The most CPU per round trip, {style.fmt_time(dear_cpu)} ({style.fmt_factor(dear_cpu / fast_cpu)} "
                    f"that), went to {who(dear)}, whose round trip took {style.fmt_time(dear_rtt)}: "
                    f"{busy(dear, dear_rtt, dear_cpu):.2f} CPUs busy on average."
                    + (" Paced, a polling end holds its core between round trips too." if interval and _spins(dear)
                       else " While messages keep coming, going to sleep and being woken costs more CPU per message "
                       "than polling; what polling costs is the core it holds when nothing comes (a paced run, --rate, "
                       "shows that)." if not interval and not _spins(dear) else ""))
    by_key = {(c.ident["transport"], c.ident["model"], _wait(c)): (rtt, cpu) for c, rtt, cpu in measured}
    for (transport, model, wait), (rtt_s, cpu_s) in by_key.items():
        if wait == "spin" and (transport, model, "block") in by_key:
            rtt_b, cpu_b = by_key[(transport, model, "block")]
            said.append(f"Polling {transport} instead of sleeping on it ({model}s, --wait spin) took the round trip "
                        f"from {style.fmt_time(rtt_b)} to {style.fmt_time(rtt_s)} and the CPU per round trip from "
                        f"{style.fmt_time(cpu_b)} to {style.fmt_time(cpu_s)}.")
            break
    return said
