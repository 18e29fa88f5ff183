"""Charts of the ipc suite: latency and throughput against message size and against the number of pairs."""
from . import common, ipc_cpu, ipc_scaling, ipc_serialize, style

SIZE_LABEL = "message size (bytes on the wire, incl. 32-byte header)"
PAIRS_LABEL = "concurrent pairs (each: 1 client + 1 server)"


def _floor(context, key):
    return common.number((context.get("floor") or {}).get(key))


def _repetitions(chart_cases):
    reps = {c.median.get("repetitions") for c in chart_cases if c.median}
    return f"each point: median of {reps.pop()} repetitions" if len(reps) == 1 and None not in reps \
        else "each point: median of the repetitions"


def _pattern(chart_cases):
    """How the client sent: back-to-back ping-pong, or paced at a rate (open loop, --rate)."""
    rates = {common.number(c.ident.get("rate")) or 0 for c in chart_cases}
    if rates == {0}:
        return "ping-pong"
    paced = sorted(r for r in rates if r)
    said = (f"paced at {style.fmt_rate(paced[0])} round trips/s" if len(paced) == 1 else "paced (rates in the legend)")
    return said + (" (open loop; latency from each intended send time)" if 0 not in rates
                   else " where the legend says so, else ping-pong")


MAX_LINES = 12
MAX_BANDS = 6
MODEL_PREFERENCE = ("process", "thread", "async", "async-uring")


def _readable(chart):
    """With more (transport, model) lines than a room can read, keep one model per transport (a forked process
    where the transport allows it, else a thread: the two are within noise of each other at one pair), and say
    so. The pairs charts are where the models are compared."""
    lines = {(c.ident.get("transport"), c.ident.get("model")) for c in chart}
    if len(lines) <= MAX_LINES:
        return chart, ""
    keep = {}
    for transport, model in lines:
        rank = MODEL_PREFERENCE.index(model) if model in MODEL_PREFERENCE else len(MODEL_PREFERENCE)
        if transport not in keep or rank < keep[transport][0]:
            keep[transport] = (rank, model)
    chart = [c for c in chart if keep[c.ident.get("transport")][1] == c.ident.get("model")]
    return chart, " · one model per transport (process where possible, else thread); all models in the results"


def latency_vs_size(all_cases, context):
    chart, trimmed = _readable(common.select(all_cases, workload="latency", pairs=1))
    # Bands of more than a handful of lines overlap into one grey cloud that hides the lines it explains.
    bands = len(common.line_keys(chart)) <= MAX_BANDS
    fig, (ax,) = common.figure()
    drawn = common.draw_lines(ax, chart, "msg_bytes", "rtt_p50_ns", band_field="rtt_p99_ns" if bands else None)
    if not drawn.has_data:
        return common.discard(fig)
    c2c, rounds = common.latency_floor(context)
    if c2c:
        common.reference_line(ax, c2c, f"cache-line round trip (hardware floor, {common.floor_source(rounds, 'lowest')}): "
                                       f"{style.fmt_time(c2c)}")
    ax.set_yscale("log")
    common.log_axis(ax.yaxis, style.TIME)
    common.log2_axis(ax.xaxis, [c.ident.get("msg_bytes") for c in chart], style.fmt_size)
    ax.set_xlabel(SIZE_LABEL)
    ax.set_ylabel("round trip time\n(lower is better)")
    common.legend(ax, [drawn], band_label="shaded: p50 up to p99\n(1 in 100 is slower)")
    common.finish(fig, "Round-trip latency vs message size (p50" + (", band to p99)" if bands else ")"), context,
                  f"one client/server pair, {_pattern(chart)} · {_repetitions(chart)}{trimmed}"
                  + ("" if bands else f" · p99 bands left out with more than {MAX_BANDS} lines: p99 is in results.csv"
                                      " and the report"), common.failure_notes([drawn]))
    return fig


def throughput_vs_size(all_cases, context):
    chart, trimmed = _readable(common.select(all_cases, workload="throughput", pairs=1))
    fig, (ax,) = common.figure()
    drawn = common.draw_lines(ax, chart, "msg_bytes", "bytes_per_s")
    if not drawn.has_data:
        return common.discard(fig)
    memcpy = _floor(context, "memcpy_gbps")
    if memcpy:
        common.reference_line(ax, memcpy * 1e9, f"memcpy in cache: {style.fmt_bytes_rate(memcpy * 1e9)}")
    xcore, rounds = common.streaming_ceiling(context)
    if xcore:
        common.reference_line(ax, xcore * 1e9, f"cross-core streaming (hardware ceiling, "
                                               f"{common.floor_source(rounds, 'highest')}): {style.fmt_bytes_rate(xcore * 1e9)}")
    ax.set_yscale("log")
    common.log_axis(ax.yaxis, style.BYTES_RATE)
    common.log2_axis(ax.xaxis, [c.ident.get("msg_bytes") for c in chart], style.fmt_size)
    ax.set_xlabel(SIZE_LABEL)
    ax.set_ylabel("bytes delivered per second\n(higher is better)")
    common.legend(ax, [drawn])
    common.finish(fig, "Throughput vs message size (timed at the receiver)", context,
                  f"one pair streaming one way, counted when the receiver has the message · {_repetitions(chart)}{trimmed}",
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
    chart, trimmed = _readable(chart)  # the models side by side: pairs_throughput_by_transport
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
                  f"{_repetitions(chart)}{trimmed}", common.failure_notes([drawn]) + ([note] if note else []))
    return fig


_MODEL_NOUNS = {"thread": "thread", "process": "process", "async": "event loop", "async-uring": "event loop"}


def _models_compared(chart):
    """'thread vs process vs event loop', naming only the models the run has (in the legend's order; both event
    loops are one word here, the legend tells them apart)."""
    models = sorted({str(c.ident.get("model")) for c in chart}, key=lambda m: style.order_key(style.MODEL_STYLES, m))
    return " vs ".join(dict.fromkeys(_MODEL_NOUNS.get(m, m) for m in models))


def pairs_throughput_by_transport(all_cases, context):
    """One panel per transport, one line per model: how each way of serving many clients (a thread or a process
    per client, one event loop) scales with the pairs on the same transport. Drawn when models were compared."""
    chart, size, note = _pairs_sweep(all_cases, "throughput")
    if chart and ipc_scaling.applies(chart):  # with --work or --lock: panels per lock, scaling references
        return ipc_scaling.pairs_scaling(chart, size, note, _repetitions(chart), context)
    if not chart or len({c.ident.get("model") for c in chart}) < 2:
        return None
    transports = sorted({str(c.ident.get("transport")) for c in chart},
                        key=lambda t: style.order_key(style.TRANSPORT_COLORS, t))
    # Up to 6 transports: 3 columns, the key beside them. More (15 in a default run): 3 rows, as many columns as
    # that takes with one slot to spare for the key, in a figure widened instead of heightened, so that it stays
    # a landscape slide (5 rows of 3 made a page three slides tall, unreadable when projected).
    many = len(transports) > 6
    ncols = -(-(len(transports) + 1) // 3) if many else min(3, len(transports))
    nrows = -(-(len(transports) + many) // ncols)
    fig, axes = common.figure(ncols=ncols, nrows=nrows, sharey=True)
    width, height = fig.get_size_inches()
    if many:
        fig.set_size_inches(width * ncols / 4, height * 1.45)  # 18 x 10 in for 15 transports
    elif nrows > 1:
        fig.set_size_inches(width, height * (0.4 + 0.6 * nrows))
    drawn = []
    for i, (ax, transport) in enumerate(zip(axes, transports)):
        panel = [c for c in chart if c.ident.get("transport") == transport]
        drawn.append(common.draw_lines(ax, panel, "pairs", "msgs_per_s"))
        common.log2_axis(ax.xaxis, [c.ident.get("pairs") for c in panel], lambda v: f"{v:g}")
        _shade_oversubscribed(ax, panel)
        ax.set_title(transport, loc="left", fontweight="bold")
        if i + ncols >= len(transports):  # the lowest panel of its column names the axis for all of it
            ax.set_xlabel("concurrent pairs")
        ax.tick_params(labelleft=True)
    for ax in axes[len(transports):]:
        ax.axis("off")  # an empty slot (the key goes into the last one when there are many panels)
    if not any(d.has_data for d in drawn):
        return common.discard(fig)
    axes[0].set_yscale("log")
    for ax in axes[:len(transports)]:
        common.log_axis(ax.yaxis, style.RATE)
    for row in range(nrows):
        axes[row * ncols].set_ylabel("messages/s, all pairs" if many else "messages/s, all pairs\n(higher is better)")
    common.legend(axes[-1] if many else axes[ncols - 1], drawn, panel_per_transport=True, inside=many)
    work = {c.ident.get("work_ns") for c in chart}
    work_note = f" · server work {style.fmt_time(work.pop())} per message" if len(work) == 1 and 0 not in work \
        and None not in work else ""
    common.finish(fig, "Throughput vs pairs per transport: " + _models_compared(chart), context,
                  f"{style.fmt_size(size)} messages{work_note} · messages/s of all pairs added up, timed at the "
                  f"receivers · {_repetitions(chart)}", common.failure_notes(drawn) + ([note] if note else []))
    return fig


def pairs_latency(all_cases, context):
    chart, size, note = _pairs_sweep(all_cases, "latency")
    if not chart:
        return None
    chart, trimmed = _readable(chart)
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
                  f"{style.fmt_size(size)} messages · all pairs at the same time, {_pattern(chart)} · {_repetitions(chart)}{trimmed}",
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
    "pairs_throughput_by_transport": pairs_throughput_by_transport,
    "pairs_latency": pairs_latency,
    "cpu_vs_latency": ipc_cpu.cpu_vs_latency,
}


def _ipc_cases(doc, serialized=False):
    """The ipc cases of raw bytes, or (serialized=True) those of --serializers, which have charts of their own."""
    cases = [c for c in common.cases(doc) if c.ident.get("suite", "ipc") == "ipc"]
    chosen = ipc_serialize.serialized_cases(cases)
    return chosen if serialized else [c for c in cases if c not in chosen]


def plot(doc, run_dir, formats):
    """Draws every ipc chart that has data; returns the written paths."""
    all_cases = _ipc_cases(doc)
    paths = []
    for name, chart in CHARTS.items():
        fig = chart(all_cases, doc["context"])
        if fig is not None:
            paths += common.save(fig, run_dir, name, formats)
    return paths + ipc_serialize.plot(_ipc_cases(doc, serialized=True), doc["context"], run_dir, formats)


# ---- the words under each chart in the report (plots/report.py) -----------------------------------------------
# Two or three sentences per chart, computed from the same cases the chart draws; no number is written here.

_MODEL_WORDS = {"thread": "between threads", "process": "between processes",
                "async": "served by one Asio event loop", "async-uring": "served by one io_uring event loop"}
_SERVER_WORDS = {"thread": "a server thread per pair", "process": "a server process per pair",
                 "async": "one Asio (epoll) event loop", "async-uring": "one io_uring event loop"}


def _who(case):
    """"pipe between threads", "tcp between processes"."""
    transport, model = case.ident.get("transport", "?"), case.ident.get("model")
    who = f"{transport} {_MODEL_WORDS.get(model, f'({model} model)')}" if model else str(transport)
    return who + (f" (lock {case.ident['lock']})" if case.ident.get("lock", "none") != "none" else "")


def _where(context):
    """", with the two ends on different cores, blocking in the kernel" (empty when the context does not say)."""
    place = {"cross": "the two ends on different cores", "same": "both ends on one core",
             "os": "the ends wherever the scheduler put them"}.get(context.get("placement"))
    wait = {"block": "blocking in the kernel", "spin": "polling without sleeping"}.get(context.get("wait"))
    return "".join(f", {w}" for w in ((f"with {place}" if place else None), wait) if w)


def _measured(chart, field):
    """(case, value) of every case with a positive value of field."""
    return [(c, c.value(field)) for c in chart if not c.failed and (c.value(field) or 0) > 0]


def _pairs(case):
    n = case.ident.get("pairs", 1)
    return f"{n} pair{'' if n == 1 else 's'}"


def _notes(chart, context, oversubscribed=True):
    """What a viewer must know that the numbers above do not say: failed and oversubscribed cases."""
    notes = []
    failed = [c for c in chart if c.failed]
    if failed:
        notes.append(f"Marked x: {len(failed)} case{'s' if len(failed) > 1 else ''} failed and "
                     f"{'have' if len(failed) > 1 else 'has'} no value: "
                     + "; ".join(f"{common.case_label(c)} ({c.error})" for c in failed) + ".")
    over = [c for c in chart if c.oversubscribed and not c.failed] if oversubscribed else []
    if over:
        notes.append(f"Hollow markers: {len(over)} case{'s' if len(over) > 1 else ''} ran oversubscribed, "
                     f"with more busy endpoints than the {context.get('cores_available', '?')} CPUs: they took "
                     f"turns on a CPU, so their figures include time spent waiting for one.")
    return notes


def _by_size(all_cases, workload, field):
    """(cases, {size: [(case, value)]}) of one workload's one-pair cases, as the charts against size draw them."""
    chart = common.select(all_cases, workload=workload, pairs=1)
    sizes = {}
    for c, v in _measured(chart, field):
        sizes.setdefault(c.ident["msg_bytes"], []).append((c, v))
    return chart, sizes


def _describe_latency_vs_size(all_cases, context):
    chart, sizes = _by_size(all_cases, "latency", "rtt_p50_ns")
    if not sizes:
        return []
    small, big = min(sizes), max(sizes)
    at_small = sizes[small]
    fast, fast_ns = min(at_small, key=lambda p: p[1])
    slow, slow_ns = max(at_small, key=lambda p: p[1])
    said = [f"A {style.fmt_size(small)} round trip took {style.fmt_time(fast_ns)} (p50) for {_who(fast)}"
            + (f" and {style.fmt_time(slow_ns)} for {_who(slow)}" if slow is not fast else "") + f"{_where(context)}."]
    c2c, _ = common.latency_floor(context)
    if c2c:
        said.append(f"The cache-line round trip between two cores, measured in the same run, was "
                    f"{style.fmt_time(c2c)}: {style.fmt_factor(fast_ns / c2c)} less than the fastest of them.")
    if big != small:
        best, best_ns = min(sizes[big], key=lambda p: p[1])
        said.append(f"At {style.fmt_size(big)} the fastest round trip, {_who(best)}, took {style.fmt_time(best_ns)}, "
                    f"{style.fmt_factor(best_ns / fast_ns)} the {style.fmt_size(small)} time.")
    p99 = fast.value("rtt_p99_ns")
    if len(said) < 3 and p99:
        said.append(f"The shaded band reaches p99: 1 in 100 {style.fmt_size(small)} round trips for {_who(fast)} took "
                    f"longer than {style.fmt_time(p99)}, {style.fmt_factor(p99 / fast_ns)} the median.")
    return said + _notes(chart, context)


def _describe_throughput_vs_size(all_cases, context):
    chart, sizes = _by_size(all_cases, "throughput", "bytes_per_s")
    if not sizes:
        return []
    small, big = min(sizes), max(sizes)
    best, best_bps = max(sizes[big], key=lambda p: p[1])
    worst, worst_bps = min(sizes[big], key=lambda p: p[1])
    xcore, _ = common.streaming_ceiling(context)
    said = [f"At {style.fmt_size(big)} per message, {_who(best)} streamed {style.fmt_bytes_rate(best_bps)}"
            + (f", {100 * best_bps / (xcore * 1e9):.0f}% of the cross-core streaming ceiling "
               f"({style.fmt_bytes_rate(xcore * 1e9)}) measured in the same run" if xcore else "") + "."]
    if worst is not best:
        said.append(f"The slowest at that size, {_who(worst)}, reached {style.fmt_bytes_rate(worst_bps)}, "
                    f"{style.fmt_factor(best_bps / worst_bps)} less.")
    if big != small:
        at_small = [(c, c.value("msgs_per_s")) for c, _ in sizes[small] if c.value("msgs_per_s")]
        if at_small:
            c, msgs = max(at_small, key=lambda p: p[1])
            said.append(f"At {style.fmt_size(small)} the cost per message rules: the best, {_who(c)}, delivered "
                        f"{style.fmt_rate(msgs)} messages/s, one every {style.fmt_time(1e9 / msgs)}, which is "
                        f"{style.fmt_bytes_rate(c.value('bytes_per_s'))}.")
    return said + _notes(chart, context)


def _sweep_lines(chart, field):
    """Per line (transport, model, lock): (first case, value at the fewest pairs, last case, value at the most
    pairs)."""
    lines = {}
    for c, v in _measured(chart, field):
        lines.setdefault((c.ident.get("transport"), c.ident.get("model"), c.ident.get("lock")), []).append(
            (c.ident.get("pairs", 1), c, v))
    out = []
    for points in lines.values():
        points.sort(key=lambda p: p[0])
        if len(points) > 1:
            out.append((points[0][1], points[0][2], points[-1][1], points[-1][2]))
    return out


def _oversubscribed_from(chart, context):
    over = sorted(c.ident["pairs"] for c in chart if c.oversubscribed and c.ident.get("pairs"))
    if not over:
        return []
    return [f"From {over[0]} pairs on (shaded) the endpoints outnumber the {context.get('cores_available', '?')} "
            f"CPUs: pairs take turns on a CPU instead of running side by side."]


def _describe_pairs_throughput(all_cases, context):
    chart, size, _ = _pairs_sweep(all_cases, "throughput")
    lines = _sweep_lines(chart, "msgs_per_s")
    if not lines:
        return []
    first, v1, last, vn = max(lines, key=lambda line: line[3])
    said = [f"With {last.ident['pairs']} pairs at once, {_who(last)} delivered {style.fmt_rate(vn)} "
            f"{style.fmt_size(size)} messages/s in all, {style.fmt_factor(vn / v1)} its rate with "
            f"{_pairs(first)} ({style.fmt_rate(v1)})."]
    first, v1, last, vn = min(lines, key=lambda line: line[3] / line[1])
    if len(lines) > 1:
        said.append(f"The {_who(last)} pairs gained least: from {style.fmt_rate(v1)} to {style.fmt_rate(vn)} "
                    f"messages/s ({style.fmt_factor(vn / v1)}).")
    return said + _oversubscribed_from(chart, context) + _notes(chart, context, oversubscribed=False)


def _describe_pairs_throughput_by_transport(all_cases, context):
    chart, size, _ = _pairs_sweep(all_cases, "throughput")
    if chart and ipc_scaling.applies(chart):
        return ipc_scaling.describe(chart, context) + _notes(chart, context)
    lines = _sweep_lines(chart, "msgs_per_s")
    said = []
    for transport in sorted({str(line[2].ident.get("transport")) for line in lines},
                            key=lambda t: style.order_key(style.TRANSPORT_COLORS, t)):
        panel = [line for line in lines if str(line[2].ident.get("transport")) == transport]
        if len(panel) < 2:
            continue
        best, worst = max(panel, key=lambda line: line[3]), min(panel, key=lambda line: line[3])
        serving = [_SERVER_WORDS.get(line[2].ident.get("model"), f"the {line[2].ident.get('model')} model")
                   for line in (best, worst)]
        said.append(f"On {transport} with {best[2].ident['pairs']} pairs, {serving[0]} delivered "
                    f"{style.fmt_rate(best[3])} {style.fmt_size(size)} messages/s in all, {serving[1]} "
                    f"{style.fmt_rate(worst[3])} ({style.fmt_factor(best[3] / worst[3])} less).")
    if not said:
        return []
    if len(said) == 1:
        first, v1, last, vn = max(lines, key=lambda line: line[3])
        said.append(f"That is {style.fmt_factor(vn / v1)} its rate with {_pairs(first)} ({style.fmt_rate(v1)}).")
    return said[:3] + _oversubscribed_from(chart, context) + _notes(chart, context, oversubscribed=False)


def _describe_pairs_latency(all_cases, context):
    chart, size, _ = _pairs_sweep(all_cases, "latency")
    lines = _sweep_lines(chart, "rtt_p50_ns")
    if not lines:
        return []
    first, v1, last, vn = min(lines, key=lambda line: line[1])
    said = [f"With {last.ident['pairs']} pairs ping-ponging {style.fmt_size(size)} messages at once, the median "
            f"round trip for {_who(first)} went from {style.fmt_time(v1)} with {_pairs(first)} to "
            f"{style.fmt_time(vn)} ({style.fmt_factor(vn / v1)})"
            + (f"; its p99 from {style.fmt_time(first.value('rtt_p99_ns'))} to "
               f"{style.fmt_time(last.value('rtt_p99_ns'))}" if first.value("rtt_p99_ns") and last.value("rtt_p99_ns")
               else "") + "."]
    worst = max(lines, key=lambda line: line[3] / line[1])
    if worst[0] is not first and worst[3] / worst[1] >= 1.1:
        said.append(f"The median grew most for {_who(worst[0])}: from {style.fmt_time(worst[1])} to "
                    f"{style.fmt_time(worst[3])} ({style.fmt_factor(worst[3] / worst[1])}).")
    return said + _oversubscribed_from(chart, context) + _notes(chart, context, oversubscribed=False)


DESCRIPTIONS = {
    "latency_vs_size": _describe_latency_vs_size,
    "throughput_vs_size": _describe_throughput_vs_size,
    "pairs_throughput": _describe_pairs_throughput,
    "pairs_throughput_by_transport": _describe_pairs_throughput_by_transport,
    "pairs_latency": _describe_pairs_latency,
    "cpu_vs_latency": ipc_cpu.describe,
}


def describe(chart_name, doc):
    """The sentences the report prints under chart `chart_name` (a key of CHARTS) of this run."""
    if chart_name in ipc_serialize.CHARTS:
        return ipc_serialize.describe(chart_name, _ipc_cases(doc, serialized=True), doc["context"])
    describe_chart = DESCRIPTIONS.get(chart_name)
    if describe_chart is None:
        return []
    return describe_chart(_ipc_cases(doc), doc["context"])
