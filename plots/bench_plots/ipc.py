"""Charts of the ipc suite: latency and throughput against message size and against the number of pairs."""
from . import common, style

SIZE_LABEL = "message size (bytes on the wire, incl. 32-byte header)"
PAIRS_LABEL = "concurrent pairs (each: 1 client + 1 server)"


def _floor(context, key):
    return common.number((context.get("floor") or {}).get(key))


def _repetitions(chart_cases):
    reps = {c.median.get("repetitions") for c in chart_cases if c.median}
    return f"each point: median of {reps.pop()} repetitions" if len(reps) == 1 and None not in reps \
        else "each point: median of the repetitions"


def latency_vs_size(all_cases, context):
    chart = common.select(all_cases, workload="latency", pairs=1)
    fig, (ax,) = common.figure()
    drawn = common.draw_lines(ax, chart, "msg_bytes", "rtt_p50_ns", band_field="rtt_p99_ns")
    if not drawn.has_data:
        return common.discard(fig)
    c2c = _floor(context, "c2c_one_way_ns")
    if c2c:
        common.reference_line(ax, 2 * c2c, f"cache-line round trip (hardware floor): {style.fmt_time(2 * c2c)}")
    ax.set_yscale("log")
    common.log_axis(ax.yaxis, style.TIME)
    common.log2_axis(ax.xaxis, [c.ident.get("msg_bytes") for c in chart], style.fmt_size)
    ax.set_xlabel(SIZE_LABEL)
    ax.set_ylabel("round trip time\n(lower is better)")
    common.legend(ax, [drawn], band_label="shaded: p50 up to p99\n(1 in 100 is slower)")
    common.finish(fig, "Round-trip latency vs message size (p50, band to p99)", context,
                  f"one client/server pair, ping-pong · {_repetitions(chart)}", common.failure_notes([drawn]))
    return fig


def throughput_vs_size(all_cases, context):
    chart = common.select(all_cases, workload="throughput", pairs=1)
    fig, (ax,) = common.figure()
    drawn = common.draw_lines(ax, chart, "msg_bytes", "bytes_per_s")
    if not drawn.has_data:
        return common.discard(fig)
    for key, label in (("memcpy_gbps", "memcpy in cache"), ("xcore_gbps", "cross-core streaming (hardware floor)")):
        gbps = _floor(context, key)
        if gbps:
            common.reference_line(ax, gbps * 1e9, f"{label}: {style.fmt_bytes_rate(gbps * 1e9)}")
    ax.set_yscale("log")
    common.log_axis(ax.yaxis, style.BYTES_RATE)
    common.log2_axis(ax.xaxis, [c.ident.get("msg_bytes") for c in chart], style.fmt_size)
    ax.set_xlabel(SIZE_LABEL)
    ax.set_ylabel("bytes delivered per second\n(higher is better)")
    common.legend(ax, [drawn])
    common.finish(fig, "Throughput vs message size (timed at the receiver)", context,
                  f"one pair streaming one way, counted when the receiver has the message · {_repetitions(chart)}",
                  common.failure_notes([drawn]))
    return fig


def _pairs_sweep(all_cases, workload):
    """(cases, message size, note): the pairs sweep of a workload at one message size (the one swept most),
    with a note if other sizes were swept too; ([], None, None) when no more than one pairs value was run."""
    chart = common.select(all_cases, workload=workload)
    swept = {}
    for c in chart:
        if c.ident.get("pairs", 1) != 1:
            swept[c.ident.get("msg_bytes")] = swept.get(c.ident.get("msg_bytes"), 0) + 1
    if not swept:
        return [], None, None
    size = max(swept, key=lambda s: (swept[s], -(s or 0)))
    chart = [c for c in chart if c.ident.get("msg_bytes") == size]
    if len({c.ident.get("pairs") for c in chart}) < 2:
        return [], None, None
    others = sorted(s for s in swept if s != size and s is not None)
    note = f"pairs were also swept at {', '.join(style.fmt_size(s) for s in others)}: not shown" if others else None
    return chart, size, note


def pairs_throughput(all_cases, context):
    chart, size, note = _pairs_sweep(all_cases, "throughput")
    if not chart:
        return None
    fig, (ax,) = common.figure()
    drawn = common.draw_lines(ax, chart, "pairs", "msgs_per_s")
    if not drawn.has_data:
        return common.discard(fig)
    common.log2_axis(ax.xaxis, [c.ident.get("pairs") for c in chart], lambda v: f"{v:g}")
    _shade_oversubscribed(ax, chart)
    ax.set_yscale("log")
    common.log_axis(ax.yaxis, style.RATE)
    ax.set_xlabel(PAIRS_LABEL)
    ax.set_ylabel("messages per second, all pairs together\n(higher is better)")
    common.legend(ax, [drawn])
    common.finish(fig, "Aggregate throughput vs number of pairs", context,
                  f"{style.fmt_size(size)} messages · messages/s of all pairs added up, timed at the receivers · "
                  f"{_repetitions(chart)}", common.failure_notes([drawn]) + ([note] if note else []))
    return fig


def pairs_latency(all_cases, context):
    chart, size, note = _pairs_sweep(all_cases, "latency")
    if not chart:
        return None
    fig, axes = common.figure(ncols=2, sharey=True)
    drawn = []
    for ax, field, title in ((axes[0], "rtt_p50_ns", "p50 (median)"),
                             (axes[1], "rtt_p99_ns", "p99 (1 in 100 is slower)")):
        drawn.append(common.draw_lines(ax, chart, "pairs", field))
        common.log2_axis(ax.xaxis, [c.ident.get("pairs") for c in chart], lambda v: f"{v:g}")
        _shade_oversubscribed(ax, chart)
        ax.set_title(title, loc="left")
        ax.set_xlabel("concurrent pairs")  # the long label does not fit under half a figure
    if not any(d.has_data for d in drawn):
        return common.discard(fig)
    axes[0].set_yscale("log")
    for ax in axes:
        common.log_axis(ax.yaxis, style.TIME)
    axes[1].tick_params(labelleft=True)
    axes[0].set_ylabel("round trip time\n(lower is better)")
    common.legend(axes[1], drawn)
    common.finish(fig, "Round-trip latency vs number of pairs", context,
                  f"{style.fmt_size(size)} messages · all pairs ping-pong at the same time · {_repetitions(chart)}",
                  common.failure_notes(drawn) + ([note] if note else []))
    return fig


def _shade_oversubscribed(ax, chart):
    """Grey background from the smallest pairs count that ran oversubscribed, labelled at the top."""
    over = [c.ident["pairs"] for c in chart if c.oversubscribed and c.ident.get("pairs")]
    if not over:
        return
    ax.autoscale_view()
    left, right = ax.get_xlim()
    start = min(over) / 2 ** 0.5
    ax.axvspan(start, right, color="#bbbbbb", alpha=0.25, linewidth=0, zorder=0)
    ax.set_xlim(left, right)
    ax.annotate("oversubscribed", (start, 1.0), xycoords=("data", "axes fraction"), xytext=(4, -6),
                textcoords="offset points", ha="left", va="top", rotation=90, color="#444444",
                fontsize=style.current()["small"], fontstyle="italic", zorder=7,
                bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1.5})


CHARTS = {
    "latency_vs_size": latency_vs_size,
    "throughput_vs_size": throughput_vs_size,
    "pairs_throughput": pairs_throughput,
    "pairs_latency": pairs_latency,
}


def plot(doc, run_dir, formats):
    """Draws every ipc chart that has data; returns the written paths."""
    all_cases = [c for c in common.cases(doc) if c.ident.get("suite", "ipc") == "ipc"]
    paths = []
    for name, chart in CHARTS.items():
        fig = chart(all_cases, doc["context"])
        if fig is not None:
            paths += common.save(fig, run_dir, name, formats)
    return paths
